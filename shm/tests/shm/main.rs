//! Integration tests for `shm`, with real processes.
//!
//! This binary has its own `main` (`harness = false`), Go's `TestMain` pattern, shared
//! with the channel tests in `../support/runner.rs`:
//!
//! - started with `SHM_TEST_CHILD_ROLE` set, it is a spawned helper process
//!   ([`helper_main`]), not a test run;
//! - otherwise it runs the cases one at a time (so forked children start from a
//!   single-threaded parent), each under `catch_unwind`, with a watchdog that fails the
//!   run if a case hangs;
//! - and it ends with a leak check: no segment this process or any of its children
//!   created, and none of its keys or ids, may still exist — every segment is held
//!   by a guard that removes it even when an assertion fails.
//!
//! Arguments that do not start with `-` filter cases by substring, like libtest;
//! `--list` lists them.

mod cases;
mod parity;
#[path = "../support/runner.rs"]
mod runner;
mod source;
mod support;

use std::process::ExitCode;
use std::time::Duration;

pub(crate) use runner::Case;

fn main() -> ExitCode {
    runner::run(runner::TestMain {
        role_env: support::CHILD_ENV,
        child_main: helper_main,
        cases: cases::ALL
            .iter()
            .chain(parity::ALL)
            .chain(source::ALL)
            .copied()
            .collect(),
        case_timeout: Duration::from_secs(20),
        leak_check,
        on_timeout: || {
            let _ = leak_check();
        },
    })
}

/// Segments created by this process or its children, or carrying one of its keys or
/// ids, that still exist. Removes them too, so a failing run leaks nothing either.
fn leak_check() -> Vec<String> {
    let (ids, keys, children) = support::tracked();
    let me = std::process::id() as i32;
    let all = shm::list_segments().expect("list segments");
    let mut leaks = Vec::new();
    for s in all {
        let cpid = s.cpid.as_raw();
        if cpid == me || children.contains(&cpid) || ids.contains(&s.id) || keys.contains(&s.key) {
            leaks.push(format!("{s} (cpid {cpid})"));
            let _ = shm::Segment::from_id(s.id).remove();
        }
    }
    leaks
}

/// The roles of a re-executed helper process.
fn helper_main(role: &str) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match role {
        "echo" => cases::helper_echo(&args),
        other => {
            eprintln!("unknown helper role {other:?}");
            2
        }
    };
    ExitCode::from(code)
}
