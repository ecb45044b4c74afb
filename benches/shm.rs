//! The System V shared-memory cycle through `shm` (our raw syscalls) against glibc's
//! `shmget`/`shmat`/`shmdt`/`shmctl`, in the same run.
//!
//! One iteration: create a private 64 KiB segment → attach it → write one byte per
//! page (16 page faults) → detach → remove. `shm` does one more system call than the
//! libc sequence: `IPC_STAT` after attaching, to learn the size it bounds-checks
//! against (see `shm::attach`).
//!
//! After criterion's report, prints the ratio of the mean and median times
//! (ours / libc), read back from criterion's `estimates.json` files.
//!
//! ```text
//! cargo bench --bench shm
//! ```

use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;
use shm::Segment;

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
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once
    // (test mode) and measures nothing worth a ratio.
    if std::env::args().any(|a| a == "--bench") {
        report_ratio();
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

/// Where criterion writes its results: `$CRITERION_HOME`, `$CARGO_TARGET_DIR/criterion`,
/// the target directory `cargo metadata` reports, or `target/criterion` — the order
/// criterion itself uses.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    if let Ok(out) = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(dir) = json_string(&text, "target_directory") {
            return PathBuf::from(dir).join("criterion");
        }
    }
    PathBuf::from("target/criterion")
}

/// The string value of the first `"key":"…"` in `json` (no escapes expected).
fn json_string(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = json[start..].find('"')? + start;
    Some(json[start..end].to_string())
}

/// `point_estimate` of `stat` ("mean", "median") in an `estimates.json`.
fn estimate(json: &str, stat: &str) -> Option<f64> {
    let at = json.find(&format!("\"{stat}\""))?;
    let rest = &json[at..];
    let p = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let num: String = rest[p..]
        .chars()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        .collect();
    num.parse().ok()
}

fn report_ratio() {
    let dir = criterion_dir().join(GROUP);
    let read =
        |bench: &str| std::fs::read_to_string(dir.join(bench).join("new/estimates.json")).ok();
    let (Some(ours), Some(libc)) = (read("shm"), read("libc")) else {
        // `cargo test --benches` runs each benchmark once and writes no estimates.
        println!(
            "no estimates under {} (not a full benchmark run)",
            dir.display()
        );
        return;
    };
    println!("\n{GROUP}: create -> attach -> touch 16 pages -> detach -> remove");
    for stat in ["mean", "median"] {
        if let (Some(a), Some(b)) = (estimate(&ours, stat), estimate(&libc, stat)) {
            println!(
                "  {stat:<6} shm {:>9.2} µs   libc {:>9.2} µs   ratio (shm/libc) {:.3}",
                a / 1e3,
                b / 1e3,
                a / b
            );
        }
    }
}
