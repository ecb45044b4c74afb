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
//! ours / libc) from the estimates criterion just wrote.

use std::hint::black_box;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use linker_tools::sys::{self, FutexOp, Pid, Sysno};

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

/// Where criterion writes its estimates: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion` (the bench runs in the
/// package root, which is the workspace root).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("criterion")
}

/// The point estimate of `stat` (`"mean"`, `"median"`) in criterion's `estimates.json`.
fn point_estimate(json: &str, stat: &str) -> Option<f64> {
    let rest = &json[json.find(&format!("\"{stat}\":"))?..];
    let key = "\"point_estimate\":";
    let rest = &rest[rest.find(key)? + key.len()..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

/// (median, mean) in nanoseconds of one benchmark, if this run measured it.
fn estimate(group: &str, bench: &str, since: SystemTime) -> Option<(f64, f64)> {
    let path = criterion_dir()
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let json = std::fs::read_to_string(&path).ok()?;
    Some((
        point_estimate(&json, "median")?,
        point_estimate(&json, "mean")?,
    ))
}

fn report(since: SystemTime) {
    println!();
    println!(
        "ratios from {} (median point estimates; < 1.00 means ours is faster)",
        criterion_dir().display()
    );
    println!(
        "{:18} {:18} {:>11} {:>11} {:>12} {:>10}",
        "group", "ours", "median", "mean", "ours/rustix", "ours/libc"
    );
    for (group, ours) in [(GETPPID, &GETPPID_OURS[..]), (FUTEX, &FUTEX_OURS[..])] {
        let libc = estimate(group, "libc", since);
        let rustix = estimate(group, "rustix", since);
        for bench in ours {
            let Some((median, mean)) = estimate(group, bench, since) else {
                println!("{group:18} {bench:18} not measured in this run");
                continue;
            };
            let ratio = |peer: Option<(f64, f64)>| {
                peer.map_or("n/a".to_owned(), |(m, _)| format!("{:.3}", median / m))
            };
            println!(
                "{group:18} {bench:18} {:>8.2} ns {:>8.2} ns {:>12} {:>10}",
                median,
                mean,
                ratio(rustix),
                ratio(libc)
            );
        }
        for (peer, est) in [("libc", libc), ("rustix", rustix)] {
            if let Some((median, mean)) = est {
                println!(
                    "{group:18} {:18} {median:>8.2} ns {mean:>8.2} ns",
                    format!("({peer})")
                );
            }
        }
    }
}

fn main() {
    let since = SystemTime::now() - Duration::from_secs(1);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench_getppid(&mut c);
    bench_futex(&mut c);
    c.final_summary();
    report(since);
}
