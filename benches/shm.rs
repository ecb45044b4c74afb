//! The System V shared-memory cycle through `shm` (our raw syscalls) against glibc's
//! `shmget`/`shmat`/`shmdt`/`shmctl`, in the same run.
//!
//! One iteration: create a private 64 KiB segment → attach it → write one byte per
//! page (16 page faults) → detach → remove. `shm` does one more system call than the
//! libc sequence: `SHM_STAT_ANY` after attaching, to learn the size it bounds-checks
//! against (see `shm::attach`).
//!
//! After criterion's report, prints the ratio of the median and mean times
//! (ours / libc), read back from criterion's `estimates.json` files, then a paired
//! measurement that alternates the two.
//!
//! ```text
//! cargo bench --bench shm
//! ```

use std::time::{Duration, SystemTime};

use criterion::Criterion;
use shm::Segment;

mod support;

use support::Statistic;

const SIZE: usize = 64 * 1024;
const PAGE: usize = 4096;
const GROUP: &str = "shm_cycle_64k";

fn cycle_shm() {
    let seg = Segment::create_private(SIZE)
        .expect("shmget")
        .remove_on_drop();
    let map = seg.attach().expect("shmat");
    for off in (0..SIZE).step_by(PAGE) {
        map.write_volatile(off, 1u8).expect("in bounds");
    }
    map.detach().expect("shmdt");
    // `seg` drops here: IPC_RMID.
}

fn cycle_libc() {
    // SAFETY: plain glibc calls; the mapping is used only within this function, for
    // SIZE bytes, and detached before the segment is removed.
    unsafe {
        let id = libc::shmget(libc::IPC_PRIVATE, SIZE, libc::IPC_CREAT | 0o600);
        assert!(id >= 0, "shmget failed");
        let p = libc::shmat(id, std::ptr::null(), 0);
        assert_ne!(p as isize, -1, "shmat failed");
        let base = p.cast::<u8>();
        for off in (0..SIZE).step_by(PAGE) {
            base.add(off).write_volatile(1);
        }
        assert_eq!(libc::shmdt(p), 0);
        assert_eq!(libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()), 0);
    }
}

fn main() {
    let since = support::run_start();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .sample_size(100)
        .configure_from_args();
    {
        let mut group = c.benchmark_group(GROUP);
        group.bench_function("shm", |b| b.iter(cycle_shm));
        group.bench_function("libc", |b| b.iter(cycle_libc));
        group.finish();
    }
    c.final_summary();
    // `cargo bench -- --test` and `cargo test --benches` run each benchmark once and
    // measure nothing worth a ratio.
    if support::measuring() {
        report_ratio(since);
        paired_ratio(60, 100);
    }
}

/// Criterion measures one benchmark after the other, so drift on a shared machine
/// (other builds, frequency changes) lands on one side. This alternates the two in
/// short rounds, swapping which goes first, and reports the median per-round ratio.
fn paired_ratio(rounds: usize, per_round: u32) {
    let time = |f: fn()| {
        let t = std::time::Instant::now();
        for _ in 0..per_round {
            f();
        }
        t.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|r| {
            let (ours, libc) = if r % 2 == 0 {
                let a = time(cycle_shm);
                (a, time(cycle_libc))
            } else {
                let b = time(cycle_libc);
                (time(cycle_shm), b)
            };
            ours / libc
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "  paired {rounds} rounds x {per_round} cycles, alternating: ratio (shm/libc) median {:.3}, quartiles {:.3}..{:.3}",
        ratios[rounds / 2],
        ratios[rounds / 4],
        ratios[3 * rounds / 4]
    );
}

/// Ours over libc, by median and by mean, from the estimates criterion just wrote.
fn report_ratio(since: SystemTime) {
    println!("\n{GROUP}: create -> attach -> touch 16 pages -> detach -> remove");
    for stat in [Statistic::Median, Statistic::Mean] {
        support::RatioTable::new(since)
            .statistic(stat)
            .row(GROUP, "shm", "libc")
            .print();
    }
}
