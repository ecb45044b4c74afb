//! Integration tests for `shm::channel`, with real processes.
//!
//! This binary has its own `main` (`harness = false`), Go's `TestMain` pattern, shared
//! with the `shm` tests in `../support/runner.rs`:
//!
//! - started with `SHM_CHANNEL_TEST_ROLE` set, it is a peer process (sender,
//!   receiver, scribbler) re-executed from this same binary ([`peer_main`]);
//! - otherwise it runs the cases one at a time, each under `catch_unwind`, with a
//!   watchdog that fails the run if a case hangs;
//! - and it ends with a leak check: no segment this process or any of its children
//!   created, or any id it tracked, may still exist.
//!
//! Children are spawned with `exec` (never a bare `fork`), so cases may use threads.
//! Arguments that do not start with `-` filter cases by substring; `--list` lists them.

mod adversary;
mod cases;
#[path = "../support/runner.rs"]
mod runner;
mod support;

use std::process::ExitCode;
use std::time::Duration;

pub(crate) use runner::Case;

fn main() -> ExitCode {
    runner::run(runner::TestMain {
        role_env: support::ROLE_ENV,
        child_main: peer_main,
        cases: cases::ALL.iter().chain(adversary::ALL).copied().collect(),
        case_timeout: Duration::from_secs(60),
        leak_check: support::leak_check,
        on_timeout: || {
            support::kill_children();
            let _ = support::leak_check();
        },
    })
}

/// The roles of a re-executed peer process.
fn peer_main(role: &str) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match role {
        "send" => cases::peer_send(&args),
        "recv" => cases::peer_recv(&args),
        "scribble" => adversary::peer_scribble(&args),
        other => {
            eprintln!("unknown peer role {other:?}");
            2
        }
    };
    ExitCode::from(code)
}
