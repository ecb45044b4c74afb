//! `cargo xtask gen [--check]`: regenerates the committed syscall-number, errno and
//! signature tables.

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask gen [--check]

  gen          regenerate the committed tables from xtask/input/
  gen --check  exit non-zero if the committed tables are stale";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = xtask::workspace_root();
    let result = match args.as_slice() {
        ["gen"] => xtask::write(&root).map(|written| {
            for out in &written {
                println!("generated {}", out.path.display());
            }
            ExitCode::SUCCESS
        }),
        ["gen", "--check"] => xtask::check(&root).map(|stale| {
            if stale.is_empty() {
                println!("generated tables are up to date");
                ExitCode::SUCCESS
            } else {
                for s in &stale {
                    eprintln!("{s}");
                }
                eprintln!(
                    "{} generated file(s) are stale: run `cargo xtask gen`",
                    stale.len()
                );
                ExitCode::FAILURE
            }
        }),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("{USAGE}");
            Ok(ExitCode::from(2))
        }
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::FAILURE
    })
}
