//! Integration tests for `shm`, with real processes.
//!
//! This binary has its own `main` (`harness = false`), Go's `TestMain` pattern:
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
mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::CHILD_ENV;

/// A case: a name and a function that panics on failure.
pub(crate) type Case = (&'static str, fn());

/// Milliseconds since the runner started when the current case began (0: none).
static CASE_STARTED: AtomicU64 = AtomicU64::new(0);
/// No case may take longer than this.
const CASE_TIMEOUT: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    if let Ok(role) = std::env::var(CHILD_ENV) {
        return helper_main(&role);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let cases: Vec<Case> = cases::ALL
        .iter()
        .copied()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &cases {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }

    let origin = Instant::now();
    start_watchdog(origin);
    println!("\nrunning {} tests", cases.len());
    let mut failed = Vec::new();
    for (name, case) in &cases {
        CASE_STARTED.store(origin.elapsed().as_millis() as u64 + 1, Ordering::SeqCst);
        let t = Instant::now();
        let ok = catch_unwind(AssertUnwindSafe(case)).is_ok();
        CASE_STARTED.store(0, Ordering::SeqCst);
        println!(
            "test {name} ... {} ({:.0?})",
            if ok { "ok" } else { "FAILED" },
            t.elapsed()
        );
        if !ok {
            failed.push(*name);
        }
    }

    // The leak check runs after every case, whatever the filter.
    let leaks = leak_check();
    if !leaks.is_empty() {
        println!("test no_segment_left_behind ... FAILED");
        for l in &leaks {
            println!("  leaked: {l}");
        }
        failed.push("no_segment_left_behind");
    } else {
        println!("test no_segment_left_behind ... ok");
    }

    println!(
        "\ntest result: {}. {} passed; {} failed; finished in {:.2?}\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        cases.len() + 1 - failed.len(),
        failed.len(),
        origin.elapsed()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failures:\n    {}", failed.join("\n    "));
        ExitCode::FAILURE
    }
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

/// Fails the whole run if one case takes longer than [`CASE_TIMEOUT`]. The thread only
/// sleeps and reads an atomic until then (so forking stays safe).
fn start_watchdog(origin: Instant) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let started = CASE_STARTED.load(Ordering::SeqCst);
            if started != 0 {
                let now = origin.elapsed().as_millis() as u64 + 1;
                if now.saturating_sub(started) > CASE_TIMEOUT.as_millis() as u64 {
                    eprintln!("a test case exceeded {CASE_TIMEOUT:?}; removing tracked segments");
                    let _ = leak_check();
                    std::process::exit(2);
                }
            }
        }
    });
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
