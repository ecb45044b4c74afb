//! Integration tests of `elf`, `process` and `resolve`: one binary, one module per area.
//!
//! Oracles: `nm` and `readelf` from binutils, and `goblin` as an independent parser.
//! Fixtures: the `linkname-fixtures` crate (C sources built by its `build.rs`).

mod debug;
mod index;
mod malformed;
mod process;
mod resolve;
mod system;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Runs a tool and returns its stdout; panics with the tool's stderr on failure.
pub fn tool(cmd: &str, args: &[&str], file: impl AsRef<Path>) -> String {
    let out = Command::new(cmd)
        .args(args)
        .arg(file.as_ref())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd} (binutils is needed): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `nm --format=posix` lines of defined symbols: (name, type letter, address).
pub fn nm_defined(extra: &[&str], file: impl AsRef<Path>) -> Vec<(String, char, u64)> {
    let mut args = vec!["--format=posix", "--defined-only"];
    args.extend_from_slice(extra);
    tool("nm", &args, file)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next()?.to_owned();
            let ty = it.next()?.chars().next()?;
            let addr = u64::from_str_radix(it.next()?, 16).ok()?;
            Some((name, ty, addr))
        })
        .collect()
}

/// The bare name of a possibly versioned name.
pub fn bare(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// Sets of (bare name, address) for comparisons.
pub fn name_addr<'a>(it: impl IntoIterator<Item = (&'a str, u64)>) -> BTreeSet<(String, u64)> {
    it.into_iter()
        .map(|(n, a)| (bare(n).to_owned(), a))
        .collect()
}
