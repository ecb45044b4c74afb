//! `symtool symbols --format nm` against GNU nm and llvm-nm, whole commands, same run.
//!
//! Lists every symbol (`.symtab`) of the toolchain's `librustc_driver-*.so` and
//! `libLLVM.so*` (in `$(rustc --print sysroot)/lib`), with and without demangling (`-C`),
//! with each tool. First each tool's whole output is captured once and symtool's bytes are
//! compared with GNU nm's (any differing lines are counted); llvm-nm's format differs from
//! GNU nm's, so it is timed, not compared. Then each command runs `RUNS` times, the tools
//! taking turns within each round (a load that comes and goes hits them alike), in two
//! settings:
//!
//! * **null**: stdout is `/dev/null`, as `hyperfine` runs commands by default: the time
//!   is the tool's own work (every byte is still formatted and written);
//! * **pipe**: stdout is a pipe that this process drains into one reused 1 MiB buffer,
//!   as `symtool … | grep` would: the time includes handing the bytes over (and the run
//!   counts only if the byte count matches the captured output).
//!
//! The best wall time of each series counts.
//!
//! ```text
//! cargo bench --bench symtool
//! ```
//!
//! Target: symtool at least 5x faster than GNU nm.

mod support;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 9;

fn command(program: &str, args: &[&str], file: &Path) -> Command {
    let mut c = Command::new(program);
    c.args(args)
        .arg(file)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// The whole output, `None` if the program is missing or fails.
fn capture(program: &str, args: &[&str], file: &Path) -> Option<Vec<u8>> {
    let o = command(program, args, file).output().ok()?;
    o.status.success().then_some(o.stdout)
}

/// One run with stdout on `/dev/null`.
fn run_null(program: &str, args: &[&str], file: &Path) -> Option<Duration> {
    let start = Instant::now();
    let status = command(program, args, file)
        .stdout(Stdio::null())
        .status()
        .ok()?;
    let t = start.elapsed();
    status.success().then_some(t)
}

/// One run with stdout on a pipe drained here; `None` unless it succeeds with `bytes`
/// bytes of output.
fn run_pipe(program: &str, args: &[&str], file: &Path, bytes: usize) -> Option<Duration> {
    let mut buf = vec![0u8; 1 << 20];
    let start = Instant::now();
    let mut child = command(program, args, file)
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut out = child.stdout.take()?;
    let mut seen = 0;
    loop {
        match out.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    let status = child.wait().ok()?;
    let t = start.elapsed();
    (status.success() && seen == bytes).then_some(t)
}

/// Keeps the best of a series.
fn best(acc: &mut Option<Duration>, t: Option<Duration>) {
    if let Some(t) = t {
        *acc = Some(acc.map_or(t, |b| b.min(t)));
    }
}

fn differing_lines(a: &[u8], b: &[u8]) -> usize {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let n = a.lines().zip(b.lines()).filter(|(x, y)| x != y).count();
    n + a.lines().count().abs_diff(b.lines().count())
}

/// One tool's best times (null, pipe).
#[derive(Default)]
struct Times {
    null: Option<Duration>,
    pipe: Option<Duration>,
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("-".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
}

fn ratio(peer: Option<Duration>, ours: Option<Duration>) -> String {
    match (peer, ours) {
        (Some(p), Some(o)) => format!("{:.2}x", p.as_secs_f64() / o.as_secs_f64()),
        _ => "-".into(),
    }
}

fn main() {
    let symtool = env!("CARGO_BIN_EXE_symtool");
    let Some(lib) = support::toolchain_lib() else {
        println!("symtool bench: no rustc sysroot; nothing measured");
        return;
    };
    let files: Vec<PathBuf> = ["librustc_driver-", "libLLVM.so"]
        .iter()
        .filter_map(|p| support::find_big(&lib, p))
        .collect();
    if files.is_empty() {
        println!(
            "symtool bench: no librustc_driver/libLLVM in {}; nothing measured",
            lib.display()
        );
        return;
    }
    let llvm_nm = ["llvm-nm", "llvm-nm-19", "llvm-nm-15", "llvm-nm-14"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let llvm_name = llvm_nm.unwrap_or("llvm-nm");
    println!(
        "{:<40} {:>5} {:>6} {:>10} {:>10} {:>10} {:>9} {:>9}  bytes vs GNU nm",
        "file", "flags", "stdout", "symtool", "GNU nm", llvm_name, "nm/ours", "llvm/ours"
    );
    for file in &files {
        for flags in [&[][..], &["-C"][..]] {
            let mut ours_args = vec!["symbols", "--format", "nm"];
            ours_args.extend_from_slice(flags);
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            let Some(reference) = capture(symtool, &ours_args, file) else {
                println!("{name}: symtool failed");
                continue;
            };
            let nm_out = capture("nm", flags, file);
            let llvm_len = llvm_nm
                .and_then(|p| capture(p, flags, file))
                .map(|o| o.len());
            let same = match &nm_out {
                Some(o) if *o == reference => "identical".to_owned(),
                Some(o) => format!(
                    "{} of {} lines differ",
                    differing_lines(o, &reference),
                    o.split(|&c| c == b'\n').count() - 1
                ),
                None => "GNU nm not installed".to_owned(),
            };
            let (mut ours, mut nm, mut llvm) =
                (Times::default(), Times::default(), Times::default());
            for _ in 0..RUNS {
                best(&mut ours.null, run_null(symtool, &ours_args, file));
                best(
                    &mut ours.pipe,
                    run_pipe(symtool, &ours_args, file, reference.len()),
                );
                if let Some(o) = &nm_out {
                    best(&mut nm.null, run_null("nm", flags, file));
                    best(&mut nm.pipe, run_pipe("nm", flags, file, o.len()));
                }
                if let (Some(p), Some(len)) = (llvm_nm, llvm_len) {
                    best(&mut llvm.null, run_null(p, flags, file));
                    best(&mut llvm.pipe, run_pipe(p, flags, file, len));
                }
            }
            for (mode, o, n, l) in [
                ("null", ours.null, nm.null, llvm.null),
                ("pipe", ours.pipe, nm.pipe, llvm.pipe),
            ] {
                println!(
                    "{:<40} {:>5} {:>6} {:>10} {:>10} {:>10} {:>9} {:>9}  {same}",
                    name,
                    flags.join(" "),
                    mode,
                    ms(o),
                    ms(n),
                    ms(l),
                    ratio(n, o),
                    ratio(l, o),
                );
            }
        }
    }
}
