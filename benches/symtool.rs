//! `symtool symbols --format nm` against GNU nm and llvm-nm, whole commands, same run.
//!
//! Lists every symbol (`.symtab`) of the toolchain's `librustc_driver-*.so` and
//! `libLLVM.so*` (in `$(rustc --print sysroot)/lib`), with and without demangling (`-C`),
//! with each tool; each command runs `RUNS` times with its output read from a pipe into
//! memory, and the best wall time counts; the tools take turns within each round, so a
//! load that comes and goes hits them alike. symtool's bytes are checked against GNU nm's
//! (any differing lines are counted). llvm-nm's format differs from GNU nm's (it is
//! timed, not compared).
//!
//! ```text
//! cargo bench --bench symtool
//! ```
//!
//! Target: symtool at least 5x faster than GNU nm.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 7;

fn sysroot_lib() -> Option<PathBuf> {
    let o = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("lib"))
}

fn find(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                && std::fs::metadata(p).is_ok_and(|m| m.len() > 1 << 20)
        })
        .collect();
    v.sort();
    v.pop()
}

/// One run: wall time and output, `None` if the program is missing or fails.
fn run(program: &str, args: &[&str], file: &Path) -> Option<(Duration, Vec<u8>)> {
    let start = Instant::now();
    let o = Command::new(program)
        .args(args)
        .arg(file)
        .env("LC_ALL", "C")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let t = start.elapsed();
    o.status.success().then_some((t, o.stdout))
}

/// Keeps the best time of a series of runs and the output of the last.
fn best(acc: &mut Option<(Duration, Vec<u8>)>, r: Option<(Duration, Vec<u8>)>) {
    if let Some((t, out)) = r {
        let t = acc.as_ref().map_or(t, |(b, _)| t.min(*b));
        *acc = Some((t, out));
    }
}

fn differing_lines(a: &[u8], b: &[u8]) -> usize {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let n = a.lines().zip(b.lines()).filter(|(x, y)| x != y).count();
    n + a.lines().count().abs_diff(b.lines().count())
}

fn main() {
    let symtool = env!("CARGO_BIN_EXE_symtool");
    let Some(lib) = sysroot_lib() else {
        println!("symtool bench: no rustc sysroot; nothing measured");
        return;
    };
    let files: Vec<PathBuf> = ["librustc_driver-", "libLLVM.so"]
        .iter()
        .filter_map(|p| find(&lib, p))
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
    println!(
        "{:<44} {:>5} {:>10} {:>10} {:>10} {:>9} {:>9}  bytes vs GNU nm",
        "file",
        "flags",
        "symtool",
        "GNU nm",
        llvm_nm.unwrap_or("llvm-nm"),
        "nm/ours",
        "llvm/ours"
    );
    for file in &files {
        for flags in [&[][..], &["-C"][..]] {
            let mut ours_args = vec!["symbols", "--format", "nm"];
            ours_args.extend_from_slice(flags);
            // Rounds of one run per tool, so that a passing load hits all of them.
            let (mut ours, mut nm, mut llvm) = (None, None, None);
            for _ in 0..RUNS {
                best(&mut ours, run(symtool, &ours_args, file));
                best(&mut nm, run("nm", flags, file));
                if let Some(p) = llvm_nm {
                    best(&mut llvm, run(p, flags, file));
                }
            }
            let Some((t_ours, out_ours)) = ours else {
                println!("{}: symtool failed", file.display());
                continue;
            };
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
            let same = match &nm {
                Some((_, o)) if *o == out_ours => "identical".to_owned(),
                Some((_, o)) => format!(
                    "{} of {} lines differ",
                    differing_lines(o, &out_ours),
                    o.split(|&c| c == b'\n').count() - 1
                ),
                None => "GNU nm not installed".to_owned(),
            };
            let name = file.file_name().unwrap().to_string_lossy();
            println!(
                "{:<44} {:>5} {:>10} {:>10} {:>10} {:>9} {:>9}  {same}",
                name,
                flags.join(" "),
                ms(t_ours),
                nm.as_ref().map_or("-".into(), |n| ms(n.0)),
                llvm.as_ref().map_or("-".into(), |n| ms(n.0)),
                nm.as_ref().map_or("-".into(), |n| format!(
                    "{:.2}x",
                    n.0.as_secs_f64() / t_ours.as_secs_f64()
                )),
                llvm.as_ref().map_or("-".into(), |n| format!(
                    "{:.2}x",
                    n.0.as_secs_f64() / t_ours.as_secs_f64()
                )),
            );
        }
    }
}
