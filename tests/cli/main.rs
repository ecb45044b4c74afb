//! `symtool` end to end: GNU nm byte-for-byte on a fixed sample of real files, every
//! command on the fixtures, every error path with its exit code, JSON against the table.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SYMTOOL: &str = env!("CARGO_BIN_EXE_symtool");

fn symtool(args: &[&str]) -> Output {
    Command::new(SYMTOOL)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run symtool")
}

fn nm(args: &[&str]) -> Option<Output> {
    Command::new("nm")
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .ok()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The nm flag sets compared, each as nm takes them (symtool takes the same).
const FLAG_SETS: &[&[&str]] = &[
    &[],
    &["-D"],
    &["-u"],
    &["--defined-only"],
    &["-g"],
    &["-n"],
    &["-S"],
    &["--size-sort"],
    &["-a"],
    &["-r"],
    &["-p"],
    &["-D", "-u"],
    &["-D", "--defined-only", "-S"],
    &["-g", "-n", "-S"],
    &["-a", "-n"],
    &["-a", "--size-sort", "-S"],
    &["-D", "--size-sort"],
    &["-D", "-g", "-r"],
];

/// Flag sets with demangling (C++ through nm's own libiberty, see the README).
const DEMANGLE_SETS: &[&[&str]] = &[&["-C"], &["-C", "-n", "-S"], &["-D", "-C"]];

fn compare(file: &Path, flags: &[&str], failures: &mut Vec<String>) {
    let f = file.to_str().unwrap();
    let mut nm_args = flags.to_vec();
    nm_args.push(f);
    let Some(expected) = nm(&nm_args) else {
        return;
    };
    let mut ours = vec!["symbols", "--format", "nm"];
    ours.extend_from_slice(flags);
    ours.push(f);
    let got = symtool(&ours);
    if expected.stdout != got.stdout {
        let e = stdout(&expected);
        let g = stdout(&got);
        let line = e
            .lines()
            .zip(g.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| e.lines().count().min(g.lines().count()));
        failures.push(format!(
            "{f} {flags:?}: first difference at line {}:\n  nm:      {:?}\n  symtool: {:?}",
            line + 1,
            e.lines().nth(line),
            g.lines().nth(line)
        ));
    }
    // "no symbols" goes to stderr in both, with exit code 0.
    let nm_none = stderr(&expected).contains("no symbols");
    let our_none = stderr(&got).contains("no symbols");
    if nm_none != our_none || code(&got) != 0 && code(&expected) == 0 {
        failures.push(format!(
            "{f} {flags:?}: nm stderr {:?} / symtool stderr {:?} exit {}",
            stderr(&expected),
            stderr(&got),
            code(&got)
        ));
    }
}

fn have_nm() -> bool {
    nm(&["--version"]).is_some_and(|o| o.status.success())
}

fn fixtures() -> Vec<PathBuf> {
    [
        linkname_fixtures::LIB,
        linkname_fixtures::PIE,
        linkname_fixtures::NOPIE,
        linkname_fixtures::COMMON_OBJECT,
        linkname_fixtures::DEBUGLINK_LIB,
        linkname_fixtures::MINIDEBUG_LIB,
        linkname_fixtures::LIB_DEBUG,
    ]
    .iter()
    .map(PathBuf::from)
    .collect()
}

/// Real files from the system: a stripped executable, C libraries (versioned symbols,
/// IFUNCs), a C++ library (non-demangled only), crt objects.
fn system_sample() -> Vec<PathBuf> {
    [
        "/usr/bin/ls",
        "/usr/bin/bash",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/x86_64-linux-gnu/crt1.o",
        "/usr/lib/x86_64-linux-gnu/Scrt1.o",
        "/usr/lib/x86_64-linux-gnu/libc_nonshared.a",
    ]
    .iter()
    .map(PathBuf::from)
    .filter(|p| p.is_file())
    .filter(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(b"\x7fELF")))
    .collect()
}

#[test]
fn nm_format_is_gnu_nm_byte_for_byte() {
    if !have_nm() {
        eprintln!("GNU nm not installed; skipped");
        return;
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut files = fixtures();
    files.extend(system_sample());
    for f in &files {
        for flags in FLAG_SETS {
            compare(f, flags, &mut failures);
            compared += 1;
        }
    }
    // Demangling: the fixtures (C++, Rust legacy and v0 names) and the system files,
    // libstdc++ included.
    let mut demangle_files = fixtures();
    demangle_files.extend(system_sample());
    for f in &demangle_files {
        for flags in DEMANGLE_SETS {
            compare(f, flags, &mut failures);
            compared += 1;
        }
    }
    assert!(compared > 100);
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The toolchain's `librustc_driver-*.so`, if there is one.
fn rustc_driver() -> Option<PathBuf> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let lib = PathBuf::from(stdout(&sysroot).trim()).join("lib");
    std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("librustc_driver-"))
        })
}

#[test]
fn nm_format_on_the_toolchain_library() {
    // rustc's driver library: 20k Rust v0 and C++ symbols in the dynamic table, 165k
    // in the static one.
    let Some(driver) = rustc_driver() else {
        return;
    };
    if !have_nm() {
        return;
    }
    let mut failures = Vec::new();
    for flags in [
        &["-D"][..],
        &["-D", "-n", "-S"],
        &["-D", "--size-sort"],
        &["-D", "-C"],
        // The whole table, 165k symbols: the two-thread name sort, dealt while reading.
        &[],
        &["-g", "-r"],
        &["-C"],
    ] {
        compare(&driver, flags, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Regression: C++ names `cpp_demangle` printed unlike libiberty (`> >`, `2u`, function
/// types, `decltype(nullptr)`, abi tags) in libstdc++ and abseil.
#[test]
fn nm_cxx_demangling_is_gnu_nms() {
    if !have_nm() {
        return;
    }
    let mut failures = Vec::new();
    for f in [
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/x86_64-linux-gnu/libabsl_str_format_internal.so.20220623",
    ] {
        let f = Path::new(f);
        if f.is_file() {
            for flags in [&["-C"][..], &["-D", "-C"]] {
                compare(f, flags, &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn nm_rust_demangling_matches_on_the_fixture_names() {
    let o = symtool(&["symbols", "--format", "nm", "-C", linkname_fixtures::LIB]);
    let s = stdout(&o);
    assert!(s.contains("fx::detail::helper(int)"), "{s}");
    assert!(s.contains("fx_rust::inner::legacy_fn"), "{s}");
    assert!(s.contains("fx_rust::inner::private_fn"), "{s}");
}

#[test]
fn no_symbols_goes_to_stderr_with_success() {
    let o = symtool(&[
        "symbols",
        "--format",
        "nm",
        linkname_fixtures::DEBUGLINK_LIB,
    ]);
    assert_eq!(code(&o), 0);
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("no symbols"), "{}", stderr(&o));
}

#[test]
fn several_files_get_nm_headers() {
    let o = symtool(&[
        "symbols",
        "--format",
        "nm",
        "-D",
        linkname_fixtures::LIB,
        linkname_fixtures::PIE,
    ]);
    let e = nm(&["-D", linkname_fixtures::LIB, linkname_fixtures::PIE]);
    if let Some(e) = e {
        assert_eq!(stdout(&o), stdout(&e));
    }
}

#[test]
fn default_target_is_symtool_itself() {
    let o = symtool(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("symtool"));
    assert!(stdout(&o).contains("x86-64"));
    let o = symtool(&["symbols", "--format", "nm", "-D"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains(" U "));
}

#[test]
fn table_lists_statics_with_source_files() {
    let o = symtool(&[
        "symbols",
        linkname_fixtures::LIB,
        "--binding",
        "local",
        "--kind",
        "object",
        "--name",
        "count*",
    ]);
    assert_eq!(code(&o), 0);
    let s = stdout(&o);
    assert!(s.contains("[fx_a.c]") && s.contains("[fx_b.c]"), "{s}");
    assert_eq!(s.lines().count(), 3, "header + two counters:\n{s}");
}

#[test]
fn table_finds_debug_symbols_of_stripped_files() {
    for lib in [
        linkname_fixtures::DEBUGLINK_LIB,
        linkname_fixtures::MINIDEBUG_LIB,
    ] {
        let o = symtool(&["symbols", lib, "--name", "fx_private_add"]);
        assert!(
            stdout(&o).contains("fx_private_add"),
            "{lib}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn json_parses_and_matches_the_table() {
    let json = symtool(&["symbols", "--json", linkname_fixtures::LIB]);
    let table = symtool(&["symbols", linkname_fixtures::LIB]);
    assert_eq!(code(&json), 0);
    let objects: Vec<serde_json::Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    let rows: Vec<String> = stdout(&table).lines().skip(1).map(str::to_owned).collect();
    assert_eq!(objects.len(), rows.len());
    for (o, row) in objects.iter().zip(&rows) {
        assert!(row.contains(o["name"].as_str().unwrap()), "{row} vs {o}");
        assert!(row.contains(o["kind"].as_str().unwrap()));
        assert!(row.contains(o["binding"].as_str().unwrap()));
        assert!(row.contains(&o["size"].as_u64().unwrap().to_string()));
        if o["defined"].as_bool().unwrap() {
            assert!(row.contains(&format!("{:016x}", o["address"].as_u64().unwrap())));
        }
        for key in [
            "version",
            "demangled",
            "source_file",
            "section",
            "tables",
            "visibility",
            "file",
        ] {
            assert!(o.get(key).is_some(), "missing {key}");
        }
    }
    let versioned = objects
        .iter()
        .find(|o| o["name"] == "fx_versioned" && o["default_version"] == true)
        .expect("fx_versioned@@FX_2.0");
    assert_eq!(versioned["version"], "FX_2.0");
    let mangled = objects.iter().find(|o| {
        o["demangled"]
            .as_str()
            .is_some_and(|d| d.contains("fx::detail::helper"))
    });
    assert!(mangled.is_some());
}

#[test]
fn info_reports_headers_and_debug_sources() {
    let o = symtool(&["info", linkname_fixtures::PIE]);
    let s = stdout(&o);
    assert!(s.contains("position-independent executable"), "{s}");
    assert!(
        s.contains("interpreter    /lib64/ld-linux-x86-64.so.2"),
        "{s}"
    );
    assert!(
        s.contains("libfixture.so") || s.contains("libc.so.6"),
        "{s}"
    );
    let o = symtool(&["info", "--json", linkname_fixtures::DEBUGLINK_LIB]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stripped"], true);
    assert_eq!(v["symbol_source"], "debug-file");
    assert_eq!(v["build_id"], linkname_fixtures::LIB_BUILD_ID);
    let o = symtool(&["info", "--json", linkname_fixtures::MINIDEBUG_LIB]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["symbol_source"], "mini-debug-info");
    let o = symtool(&["info", "--json", linkname_fixtures::COMMON_OBJECT]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["type"], "relocatable object");
}

#[test]
fn lookup_every_query_form() {
    let o = symtool(&[
        "lookup",
        linkname_fixtures::LIB,
        "fx_a.c::counter",
        "fx_versioned@FX_1.0",
        "fx_versioned@@FX_2.0",
        "fx::detail::helper",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("file fx_a.c"), "{s}");
    assert!(s.contains("fx_versioned@FX_1.0"), "{s}");
    assert!(s.contains("fx_versioned@@FX_2.0"), "{s}");
    assert!(s.contains("_ZN2fx6detail6helperEi"), "{s}");
    let o = symtool(&["lookup", linkname_fixtures::LIB, "no_such_symbol"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no symbol"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
}

#[test]
fn addr_finds_the_containing_symbol() {
    let o = symtool(&[
        "symbols",
        "--json",
        linkname_fixtures::LIB,
        "--name",
        "fx_private_add",
    ]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let at = v["address"].as_u64().unwrap();
    let o = symtool(&["addr", linkname_fixtures::LIB, &format!("{:#x}", at + 1)]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("fx_private_add+0x1"), "{}", stdout(&o));
    let o = symtool(&["addr", linkname_fixtures::LIB, "0xffffffffff"]);
    assert_eq!(code(&o), 1);
    let o = symtool(&["addr", linkname_fixtures::LIB, "not-an-address"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn proc_lists_modules_and_resolves_symbols() {
    let mut child = Command::new(linkname_fixtures::PIE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start fixture");
    // Wait for it to be loaded: it prints `ready`.
    let mut out = child.stdout.take().unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&buf).contains("ready") {
        use std::io::Read as _;
        if out.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        buf.push(byte[0]);
    }
    let pid = child.id().to_string();
    let o = symtool(&["proc", &pid]);
    let s = stdout(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(s.contains("(main)") && s.contains("libc.so.6"), "{s}");
    let o = symtool(&["proc", &pid, "getpid", "main:main", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for line in stdout(&o).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["address"].as_u64().unwrap() > 0x1000);
    }
    let o = symtool(&["proc", &pid, "definitely_not_a_symbol"]);
    assert_eq!(code(&o), 1);
    drop(child.stdin.take());
    let _ = child.wait();
}

#[test]
fn diff_normalises_and_signals_differences() {
    let same = symtool(&["diff", linkname_fixtures::LIB, linkname_fixtures::LIB]);
    assert_eq!(code(&same), 0, "{}", stdout(&same));
    assert!(stdout(&same).contains("0 added, 0 removed, 0 changed"));
    let o = symtool(&[
        "diff",
        linkname_fixtures::PIE,
        linkname_fixtures::NOPIE,
        "--json",
    ]);
    // The PIE and non-PIE builds differ at least in their start files.
    assert_eq!(code(&o), 1, "PIE and non-PIE builds must differ");
    let out = stdout(&o);
    assert!(!out.is_empty(), "a difference must be listed");
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(["added", "removed", "changed"].contains(&v["change"].as_str().unwrap()));
    }
    let o = symtool(&["diff", linkname_fixtures::LIB, linkname_fixtures::PIE, "-q"]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o).lines().count(), 1);
}

#[test]
fn error_paths_have_one_line_and_their_exit_code() {
    let dir = std::env::temp_dir().join(format!("symtool-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("text.txt");
    std::fs::write(&text, "not an elf\n").unwrap();
    let truncated = dir.join("truncated.so");
    let lib = std::fs::read(linkname_fixtures::LIB).unwrap();
    std::fs::write(&truncated, &lib[..200]).unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["symbols", "/no/such/file"], 3),
        (vec!["symbols", "--format", "nm", "/no/such/file"], 3),
        (vec!["info", "/"], 3),
        (vec!["symbols", text.to_str().unwrap()], 4),
        (
            vec!["symbols", "--format", "nm", truncated.to_str().unwrap()],
            4,
        ),
        (vec!["info", truncated.to_str().unwrap()], 4),
        (vec!["lookup", "/no/such/file", "x"], 3),
        (vec!["proc", "4194303"], 5),
        (vec!["proc", "not-a-pid"], 2),
        (vec!["symbols", "--no-such-flag"], 2),
        (vec!["frobnicate"], 2),
    ];
    for (args, want) in cases {
        let o = symtool(&args);
        assert_eq!(code(&o), want, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        if want != 2 {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(err.starts_with("symtool: "), "{err}");
        }
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn closed_pipe_exits_quietly() {
    let mut child = Command::new(SYMTOOL)
        .args([
            "symbols",
            "--format",
            "nm",
            "-D",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head` exiting at once
    let o = child.wait_with_output().unwrap();
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    assert_eq!(code(&o), 0);
}

#[test]
fn closed_pipe_mid_listing_exits_quietly_after_the_right_prefix() {
    // A big table: parts sorted and written by two threads when the reader goes away.
    use std::io::Read as _;
    let Some(driver) = rustc_driver() else {
        return;
    };
    let mut child = Command::new(SYMTOOL)
        .args(["symbols", "--format", "nm"])
        .arg(&driver)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = vec![0u8; 1 << 20];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    drop(child.stdout.take()); // like `| head -c 1M`
    let o = child.wait_with_output().unwrap();
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    assert_eq!(code(&o), 0);
    if let Some(full) = nm(&[driver.to_str().unwrap()]) {
        assert!(
            full.stdout.starts_with(&head),
            "the first MiB differs from nm's"
        );
    }
}

#[test]
fn help_has_examples_and_completions_generate() {
    let o = symtool(&["--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("Examples:") && stdout(&o).contains("Exit codes:"));
    for shell in ["bash", "zsh", "fish"] {
        let o = symtool(&["completions", shell]);
        assert_eq!(code(&o), 0);
        assert!(stdout(&o).contains("symbols"), "{shell}");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let o = symtool(&["symbols", linkname_fixtures::LIB]);
    assert!(!o.stdout.contains(&0x1b), "no escapes into a pipe");
    let o = symtool(&["--color", "always", "symbols", linkname_fixtures::LIB]);
    assert!(o.stdout.contains(&0x1b));
}
