//! The raw syscall core against its peers, in one run: `getppid` (no arguments) and a
//! six-argument `futex(FUTEX_WAKE|FUTEX_PRIVATE_FLAG)` on a word nobody waits on,
//! through `linker_tools::sys`, through the C library and through rustix.
//!
//! `getppid` goes through every flavour of the core: the declared `sys::getppid` (a raw
//! `sysnb!` wrapper), one declared here with `sysnb!`, one declared here with `sys!`
//! (the blocking flavour, whose observer hook is compiled in; no observer is installed,
//! so it costs one relaxed atomic load), and the undeclared `syscall0_readonly`.
//!
//! ```text
//! cargo bench --bench syscall
//! ```
//!
//! After criterion's own report, `main` prints a table of ratios (ours / rustix,
//! ours / libc) from the estimates criterion just wrote (`support::RatioTable`).

use std::hint::black_box;
use std::ptr;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use linker_tools::sys::{self, FutexOp, Pid, Sysno};

mod support;

linker_tools::sys! {
    /// `getppid` through the blocking flavour: the hook's cost with no observer.
    fn getppid_observed() -> Pid = readonly getppid;
}

linker_tools::sysnb! {
    /// `getppid` through the raw flavour, declared here.
    fn getppid_raw() -> Pid = readonly getppid;
}

const GETPPID: &str = "getppid";
const FUTEX: &str = "futex_wake_6args";

/// Ours (the benchmark ids of the core's flavours), then the peers.
const GETPPID_OURS: [&str; 4] = [
    "core",
    "core_sysnb_local",
    "core_sys_hooked",
    "core_syscall0",
];
const FUTEX_OURS: [&str; 1] = ["core"];

fn bench_getppid(c: &mut Criterion) {
    let mut g = c.benchmark_group(GETPPID);
    g.bench_function("core", |b| b.iter(|| black_box(sys::getppid())));
    g.bench_function("core_sysnb_local", |b| b.iter(|| black_box(getppid_raw())));
    g.bench_function("core_sys_hooked", |b| {
        b.iter(|| black_box(getppid_observed()))
    });
    g.bench_function("core_syscall0", |b| {
        // SAFETY: getppid takes no arguments and touches no memory.
        b.iter(|| black_box(unsafe { sys::syscall0_readonly(black_box(Sysno::getppid)) }))
    });
    // SAFETY: getppid takes no arguments and cannot fail.
    g.bench_function("libc", |b| b.iter(|| black_box(unsafe { libc::getppid() })));
    g.bench_function("rustix", |b| {
        b.iter(|| black_box(rustix::process::getppid()))
    });
    g.finish();
}

fn bench_futex(c: &mut Criterion) {
    let word = AtomicU32::new(0);
    let mut g = c.benchmark_group(FUTEX);
    g.bench_function("core", |b| {
        b.iter(|| {
            // SAFETY: `word` is a live, aligned atomic; no timeout or second word.
            let r = unsafe {
                sys::futex(
                    black_box(word.as_ptr()),
                    black_box(FutexOp::WAKE | FutexOp::PRIVATE),
                    black_box(1),
                    ptr::null(),
                    ptr::null(),
                    0,
                )
            };
            black_box(r)
        })
    });
    g.bench_function("libc", |b| {
        b.iter(|| {
            // SAFETY: as above, through `syscall(3)`; every argument is register-sized.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    black_box(word.as_ptr()),
                    black_box((libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as libc::c_long),
                    black_box(1 as libc::c_long),
                    ptr::null::<libc::timespec>(),
                    ptr::null::<u32>(),
                    0 as libc::c_long,
                )
            };
            black_box(r)
        })
    });
    g.bench_function("rustix", |b| {
        b.iter(|| {
            black_box(rustix::thread::futex::wake(
                black_box(&word),
                black_box(rustix::thread::futex::Flags::PRIVATE),
                black_box(1),
            ))
        })
    });
    g.finish();
}

fn report(since: SystemTime) {
    support::RatioTable::new(since)
        .rows(GETPPID, &GETPPID_OURS, &["rustix", "libc"])
        .rows(FUTEX, &FUTEX_OURS, &["rustix", "libc"])
        .print();
}

fn main() {
    let since = support::run_start();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench_getppid(&mut c);
    bench_futex(&mut c);
    c.final_summary();
    report(since);
    report_paired();
}

/// A system call's cost drifts by ±10 % over a run on a VM, more than the differences
/// measured here; the paired figures alternate batches of ours and the peer's calls,
/// so the drift cancels out in each round's ratio.
fn report_paired() {
    if !support::measuring() {
        return;
    }
    const ROUNDS: usize = 200;
    const BATCH: u32 = 20_000;
    println!();
    println!(
        "paired, alternating batches of {BATCH} calls, {ROUNDS} rounds (per-round ratio ours/peer):"
    );
    let rustix_getppid = || {
        black_box(rustix::process::getppid());
    };
    let libc_getppid = || {
        // SAFETY: getppid takes no arguments and cannot fail.
        black_box(unsafe { libc::getppid() });
    };
    let core = || {
        black_box(sys::getppid());
    };
    let hooked = || {
        black_box(getppid_observed());
    };
    support::paired(ROUNDS, BATCH, rustix_getppid, core).print(GETPPID, "core", "rustix");
    support::paired(ROUNDS, BATCH, libc_getppid, core).print(GETPPID, "core", "libc");
    support::paired(ROUNDS, BATCH, rustix_getppid, hooked).print(
        GETPPID,
        "core_sys_hooked",
        "rustix",
    );
    let word = AtomicU32::new(0);
    let rustix_futex = || {
        let _ = black_box(rustix::thread::futex::wake(
            black_box(&word),
            black_box(rustix::thread::futex::Flags::PRIVATE),
            black_box(1),
        ));
    };
    let core_futex = || {
        // SAFETY: `word` is a live, aligned atomic; no timeout or second word.
        let _ = black_box(unsafe {
            sys::futex(
                black_box(word.as_ptr()),
                black_box(FutexOp::WAKE | FutexOp::PRIVATE),
                black_box(1),
                ptr::null(),
                ptr::null(),
                0,
            )
        });
    };
    support::paired(ROUNDS, BATCH, rustix_futex, core_futex).print(FUTEX, "core", "rustix");
}
