//! The time calls of the core, routed through the vDSO, against the C library (which
//! also goes through the vDSO), rustix, and the plain system call, in one run.
//!
//! The target: `sys::clock_gettime(CLOCK_MONOTONIC)` within 5% of glibc's
//! `clock_gettime` (ratio ≤ 1.05).
//!
//! ```text
//! cargo bench --bench vdso
//! ```
//!
//! After criterion's own report, `main` prints a table of ratios (ours / libc) from the
//! estimates criterion just wrote.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use linker_tools::sys::{self, ClockId, TimeCall, TimeSource, Timespec};

mod support;

const CLOCK: &str = "clock_gettime_monotonic";
const GETTIMEOFDAY: &str = "gettimeofday";
const TIME: &str = "time";
const GETCPU: &str = "getcpu";

fn libc_timespec() -> libc::timespec {
    libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    }
}

fn bench_clock_gettime(c: &mut Criterion) {
    let mut g = c.benchmark_group(CLOCK);
    g.bench_function("core", |b| {
        b.iter(|| black_box(sys::clock_gettime(black_box(ClockId::MONOTONIC))))
    });
    g.bench_function("libc", |b| {
        b.iter(|| {
            let mut ts = libc_timespec();
            // SAFETY: `ts` is a valid, writable timespec.
            let r = unsafe { libc::clock_gettime(black_box(libc::CLOCK_MONOTONIC), &mut ts) };
            black_box((r, ts))
        })
    });
    g.bench_function("rustix", |b| {
        b.iter(|| {
            black_box(rustix::time::clock_gettime(black_box(
                rustix::time::ClockId::Monotonic,
            )))
        })
    });
    g.bench_function("syscall", |b| {
        b.iter(|| {
            let mut ts = Timespec::default();
            // SAFETY: `ts` is a valid, writable Timespec.
            let r =
                unsafe { sys::unchecked::clock_gettime(black_box(ClockId::MONOTONIC), &mut ts) };
            black_box((r, ts))
        })
    });
    g.finish();
}

fn bench_others(c: &mut Criterion) {
    let mut g = c.benchmark_group(GETTIMEOFDAY);
    g.bench_function("core", |b| b.iter(|| black_box(sys::gettimeofday())));
    g.bench_function("libc", |b| {
        b.iter(|| {
            let mut tv = libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            };
            // SAFETY: `tv` is a valid, writable timeval; the time zone is null.
            let r = unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) };
            black_box((r, tv))
        })
    });
    g.finish();

    let mut g = c.benchmark_group(TIME);
    g.bench_function("core", |b| b.iter(|| black_box(sys::time())));
    g.bench_function("libc", |b| {
        b.iter(|| {
            // SAFETY: a null argument asks only for the return value.
            black_box(unsafe { libc::time(std::ptr::null_mut()) })
        })
    });
    g.finish();

    let mut g = c.benchmark_group(GETCPU);
    g.bench_function("core", |b| b.iter(|| black_box(sys::getcpu())));
    g.bench_function("libc", |b| {
        b.iter(|| {
            // SAFETY: sched_getcpu has no preconditions.
            black_box(unsafe { libc::sched_getcpu() })
        })
    });
    g.finish();
}

fn report(since: SystemTime) {
    support::RatioTable::new(since)
        .note("target for clock_gettime: core/libc <= 1.05")
        .rows(CLOCK, &["core", "rustix", "syscall"], &["libc"])
        .row(GETTIMEOFDAY, "core", "libc")
        .row(TIME, "core", "libc")
        .row(GETCPU, "core", "libc")
        .print();
}

fn main() {
    let since = support::run_start();
    for call in TimeCall::ALL {
        let source = sys::time_source(call);
        println!("{call:?}: {source:?}");
        if source != TimeSource::Vdso {
            println!("note: {call:?} is not vDSO-routed in this process");
        }
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench_clock_gettime(&mut c);
    bench_others(&mut c);
    c.final_summary();
    report(since);
    report_paired();
}

/// Paired figures: alternating batches of ours and libc's calls, so that drift over
/// the run cancels out in each round's ratio.
fn report_paired() {
    if !support::measuring() {
        return;
    }
    const ROUNDS: usize = 200;
    const BATCH: u32 = 100_000;
    println!();
    println!(
        "paired, alternating batches of {BATCH} calls, {ROUNDS} rounds (per-round ratio ours/libc):"
    );
    let libc_clock = || {
        let mut ts = libc_timespec();
        // SAFETY: `ts` is a valid, writable timespec.
        black_box(unsafe { libc::clock_gettime(black_box(libc::CLOCK_MONOTONIC), &mut ts) });
        black_box(ts);
    };
    let core_clock = || {
        let _ = black_box(sys::clock_gettime(black_box(ClockId::MONOTONIC)));
    };
    support::paired(ROUNDS, BATCH, libc_clock, core_clock).print(
        "clock_gettime_monotonic",
        "core",
        "libc",
    );
    let libc_tod = || {
        let mut tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        // SAFETY: `tv` is a valid, writable timeval; no time zone.
        black_box(unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) });
        black_box(tv);
    };
    let core_tod = || {
        let _ = black_box(sys::gettimeofday());
    };
    support::paired(ROUNDS, BATCH, libc_tod, core_tod).print("gettimeofday", "core", "libc");
}
