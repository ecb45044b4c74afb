//! The shared `main` of the shm crate's integration-test binaries (`harness = false`),
//! Go's `TestMain` pattern:
//!
//! - started with the binary's role variable set, the process is a child re-executed
//!   from the same binary for one role (a peer, a helper), not a test run;
//! - otherwise it runs the cases one at a time, each under `catch_unwind`, with a
//!   watchdog that fails the run if a case hangs;
//! - and it ends with a leak check, reported as one more test,
//!   `no_segment_left_behind`, whatever the filter.
//!
//! Arguments that do not start with `-` filter cases by substring, like libtest;
//! `--list` lists them. The output follows libtest's (`test NAME ... ok`, `test
//! result: ...`), so `cargo test` reads the totals.
//!
//! Included by each binary with `#[path = "../support/runner.rs"] mod runner;`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A case: a name and a function that panics on failure.
pub(crate) type Case = (&'static str, fn());

/// What a test binary plugs into [`run`].
pub(crate) struct TestMain {
    /// The environment variable that, when set, makes this process a re-executed
    /// child; its value is the role.
    pub(crate) role_env: &'static str,
    /// The child's `main`, given its role (the arguments are the process's own).
    pub(crate) child_main: fn(&str) -> ExitCode,
    /// Every case of the binary, in the order they run.
    pub(crate) cases: Vec<Case>,
    /// No case may take longer than this.
    pub(crate) case_timeout: Duration,
    /// Segments this run left behind, described; removes them too, so a failing run
    /// leaks nothing either.
    pub(crate) leak_check: fn() -> Vec<String>,
    /// Cleans up after a case that hung (on the watchdog thread, before the process
    /// exits with status 2): kill the children, remove their segments.
    pub(crate) on_timeout: fn(),
}

/// Milliseconds since the runner started when the current case began (0: none).
static CASE_STARTED: AtomicU64 = AtomicU64::new(0);

/// The binary's `main`: a child's role, `--list`, or a test run.
pub(crate) fn run(t: TestMain) -> ExitCode {
    if let Ok(role) = std::env::var(t.role_env) {
        return (t.child_main)(&role);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let cases: Vec<Case> = t
        .cases
        .into_iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &cases {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }

    let origin = Instant::now();
    start_watchdog(origin, t.case_timeout, t.on_timeout);
    println!("\nrunning {} tests", cases.len());
    let mut failed = Vec::new();
    for (name, case) in &cases {
        CASE_STARTED.store(millis_since(origin), Ordering::SeqCst);
        let started = Instant::now();
        let ok = catch_unwind(AssertUnwindSafe(case)).is_ok();
        CASE_STARTED.store(0, Ordering::SeqCst);
        println!(
            "test {name} ... {} ({:.0?})",
            if ok { "ok" } else { "FAILED" },
            started.elapsed()
        );
        if !ok {
            failed.push(*name);
        }
    }

    // The leak check runs after every case, whatever the filter.
    let leaks = (t.leak_check)();
    if leaks.is_empty() {
        println!("test no_segment_left_behind ... ok");
    } else {
        println!("test no_segment_left_behind ... FAILED");
        for l in &leaks {
            println!("  leaked: {l}");
        }
        failed.push("no_segment_left_behind");
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

/// Milliseconds since `origin`, plus one (0 stands for "no case running").
fn millis_since(origin: Instant) -> u64 {
    origin.elapsed().as_millis() as u64 + 1
}

/// Fails the whole run if one case takes longer than `timeout`. The thread only sleeps
/// and reads an atomic until then (so forking from the main thread stays safe).
fn start_watchdog(origin: Instant, timeout: Duration, on_timeout: fn()) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let started = CASE_STARTED.load(Ordering::SeqCst);
            if started != 0
                && millis_since(origin).saturating_sub(started) > timeout.as_millis() as u64
            {
                eprintln!("a test case exceeded {timeout:?}; cleaning up");
                on_timeout();
                std::process::exit(2);
            }
        }
    });
}
