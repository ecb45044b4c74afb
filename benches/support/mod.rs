//! What the criterion benchmarks share: reading back the estimates criterion just
//! wrote and printing ours-over-peer ratios from them.
//!
//! Each bench includes it with `mod support;` (cargo takes `benches/*.rs` and
//! `benches/*/main.rs` as targets, not `benches/support/mod.rs`):
//!
//! ```ignore
//! let since = support::run_start();
//! // ... criterion runs the groups ...
//! c.final_summary();
//! support::RatioTable::new(since)
//!     .note("target: core/libc <= 1.05")
//!     .row("clock_gettime_monotonic", "core", "libc")
//!     .print();
//! ```
//!
//! Only estimates written during this run count ([`estimate`]'s `since`): a
//! `--test` run or a filtered one measures nothing else, and stale files from an
//! earlier run would make the table lie.

// Each bench uses a part of this module only.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// Where criterion writes its results, found the way criterion finds it:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the target directory
/// `cargo metadata` reports, joined with `criterion`, else `target/criterion` (a bench
/// runs in its package root, here the workspace root).
pub(crate) fn criterion_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(home) = std::env::var_os("CRITERION_HOME") {
            return home.into();
        }
        if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
            return PathBuf::from(target).join("criterion");
        }
        cargo_target_dir().map_or_else(
            || PathBuf::from("target/criterion"),
            |t| t.join("criterion"),
        )
    })
}

/// The target directory `cargo metadata` reports (cargo sets `$CARGO` for a bench).
fn cargo_target_dir() -> Option<PathBuf> {
    let out = std::process::Command::new(std::env::var_os("CARGO")?)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .ok()?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(meta.get("target_directory")?.as_str()?.into())
}

/// The time to pass as `since` to [`estimate`] and [`RatioTable::new`], taken before
/// criterion starts: now, less a second for file systems with coarse timestamps.
pub(crate) fn run_start() -> SystemTime {
    SystemTime::now() - Duration::from_secs(1)
}

/// Whether criterion measures in this run, as criterion decides it: `cargo bench`
/// passes `--bench`; `cargo bench -- --test` and `cargo test --benches` (no `--bench`)
/// run each benchmark once and write no estimates, and `--list` / `--profile-time`
/// write none either. A bench's extra measurements run only when this holds.
pub(crate) fn measuring() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| {
        args.iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    has("--bench") && !has("--test") && !has("--list") && !has("--profile-time")
}

/// Point estimates of one benchmark's time per iteration, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Estimate {
    pub(crate) median_ns: f64,
    pub(crate) mean_ns: f64,
}

/// Which of an [`Estimate`]'s statistics a [`RatioTable`] compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Statistic {
    /// The median: robust to the outliers a busy machine adds. The default.
    #[default]
    Median,
    /// The mean.
    Mean,
}

impl Statistic {
    fn name(self) -> &'static str {
        match self {
            Statistic::Median => "median",
            Statistic::Mean => "mean",
        }
    }

    fn of(self, e: Estimate) -> f64 {
        match self {
            Statistic::Median => e.median_ns,
            Statistic::Mean => e.mean_ns,
        }
    }
}

/// The estimates of benchmark `bench` in group `group`, read from
/// `<criterion_dir>/<group>/<bench>/new/estimates.json` if that file was written at
/// or after `since` (so: by this run); `None` if it was not, or cannot be read.
pub(crate) fn estimate(group: &str, bench: &str, since: SystemTime) -> Option<Estimate> {
    let path = criterion_dir()
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let point = |stat: &str| json.get(stat)?.get("point_estimate")?.as_f64();
    Some(Estimate {
        median_ns: point("median")?,
        mean_ns: point("mean")?,
    })
}

/// A duration in nanoseconds, in the unit that suits it (`12.34 ns`, `5.67 µs`,
/// `8.9 ms`).
pub(crate) fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.2} ns")
    }
}

/// One row: our benchmark, and the peer it is compared with (if any).
struct Row {
    group: String,
    ours: String,
    peer: Option<String>,
}

/// A table of ours / peer ratios from this run's estimates, one row per comparison:
///
/// ```text
/// group | ours | median | peer | peer median | ratio
/// ```
///
/// The header names the statistic and the criterion directory; a ratio below 1.00
/// means ours is faster. A row whose benchmarks this run did not measure says so.
#[must_use = "a table prints nothing until `print`"]
pub(crate) struct RatioTable {
    since: SystemTime,
    statistic: Statistic,
    note: Option<String>,
    rows: Vec<Row>,
}

impl RatioTable {
    /// An empty table of the estimates written since `since` (see [`run_start`]),
    /// comparing medians.
    pub(crate) fn new(since: SystemTime) -> RatioTable {
        RatioTable {
            since,
            statistic: Statistic::Median,
            note: None,
            rows: Vec::new(),
        }
    }

    /// Compares `statistic` instead of the median.
    pub(crate) fn statistic(mut self, statistic: Statistic) -> RatioTable {
        self.statistic = statistic;
        self
    }

    /// A note for the header, such as the bench's target (`"target: x/y <= 1.05"`).
    pub(crate) fn note(mut self, note: impl Into<String>) -> RatioTable {
        self.note = Some(note.into());
        self
    }

    /// A row comparing `ours` with `peer`, both benchmarks of `group`.
    pub(crate) fn row(mut self, group: &str, ours: &str, peer: &str) -> RatioTable {
        self.rows.push(Row {
            group: group.to_owned(),
            ours: ours.to_owned(),
            peer: Some(peer.to_owned()),
        });
        self
    }

    /// A row for `ours` alone: its time, with no peer to compare with.
    pub(crate) fn alone(mut self, group: &str, ours: &str) -> RatioTable {
        self.rows.push(Row {
            group: group.to_owned(),
            ours: ours.to_owned(),
            peer: None,
        });
        self
    }

    /// A row for each of `ours` against each of `peers`, all in `group`.
    pub(crate) fn rows(mut self, group: &str, ours: &[&str], peers: &[&str]) -> RatioTable {
        for o in ours {
            for p in peers {
                self = self.row(group, o, p);
            }
        }
        self
    }

    /// Prints the table to stdout (after a blank line). If this run measured none of
    /// its benchmarks (test mode, a filter), prints one line saying so instead.
    pub(crate) fn print(&self) {
        let stat = self.statistic;
        let get = |group: &str, bench: &str| estimate(group, bench, self.since).map(|e| stat.of(e));
        let measured: Vec<(Option<f64>, Option<f64>)> = self
            .rows
            .iter()
            .map(|r| {
                let peer = r.peer.as_deref().and_then(|p| get(&r.group, p));
                (get(&r.group, &r.ours), peer)
            })
            .collect();
        println!();
        if measured.iter().all(|(o, p)| o.is_none() && p.is_none()) {
            println!(
                "no fresh estimates under {} (not a full benchmark run): no ratios",
                criterion_dir().display()
            );
            return;
        }
        let name = stat.name();
        let mut header = format!(
            "ours / peer, {name} point estimates from {}; < 1.00 means ours is faster",
            criterion_dir().display()
        );
        if let Some(note) = &self.note {
            header.push_str("; ");
            header.push_str(note);
        }
        println!("{header}");
        let w_group = width(self.rows.iter().map(|r| r.group.as_str()), "group");
        let w_ours = width(self.rows.iter().map(|r| r.ours.as_str()), "ours");
        let w_peer = width(self.rows.iter().filter_map(|r| r.peer.as_deref()), "peer");
        let peer_stat = format!("peer {name}");
        println!(
            "{:w_group$}  {:w_ours$}  {name:>10}  {:w_peer$}  {peer_stat:>11}  {:>6}",
            "group", "ours", "peer", "ratio"
        );
        let time = |t: Option<f64>| t.map_or_else(|| "-".to_owned(), human);
        for (row, (ours, peer)) in self.rows.iter().zip(measured) {
            let ratio = match (ours, peer) {
                (Some(o), Some(p)) => format!("{:.3}", o / p),
                _ => "n/a".to_owned(),
            };
            println!(
                "{:w_group$}  {:w_ours$}  {:>10}  {:w_peer$}  {:>11}  {ratio:>6}",
                row.group,
                row.ours,
                time(ours),
                row.peer.as_deref().unwrap_or("-"),
                time(peer),
            );
        }
    }
}

/// The widest of `cells` and `title`, in characters.
fn width<'a>(cells: impl Iterator<Item = &'a str>, title: &'a str) -> usize {
    cells
        .chain([title])
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
}

/// `$(rustc --print sysroot)/lib`: where the toolchain's big libraries are.
pub(crate) fn toolchain_lib() -> Option<PathBuf> {
    let o = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("lib"))
}

/// The last by name of the files in `dir` named `prefix…` and over 1 MiB (so a linker
/// script named like a library does not count).
pub(crate) fn find_big(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                && std::fs::metadata(p).is_ok_and(|m| m.len() > 1 << 20)
        })
        .collect();
    v.sort();
    v.pop()
}

/// Nanoseconds per call of `f` over `n` calls.
pub(crate) fn per_call(n: u32, mut f: impl FnMut()) -> f64 {
    let start = std::time::Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// A paired measurement: `rounds` rounds, each timing one batch of `peer` calls and
/// one of `ours`, in alternating order, so a machine that slows down slows both alike.
pub(crate) struct Paired {
    /// Mean ns per call of the peer over all rounds.
    pub peer_ns: f64,
    /// Mean ns per call of ours.
    pub ours_ns: f64,
    /// Quartiles (25 %, median, 75 %) of the per-round ratio ours / peer.
    pub ratio: [f64; 3],
}

/// Runs a [`Paired`] measurement with batches of `batch` calls.
pub(crate) fn paired(rounds: usize, batch: u32, peer: impl Fn(), ours: impl Fn()) -> Paired {
    let mut ratios = Vec::with_capacity(rounds);
    let (mut sum_peer, mut sum_ours) = (0.0, 0.0);
    for round in 0..rounds {
        let (p, o) = if round % 2 == 0 {
            let p = per_call(batch, &peer);
            (p, per_call(batch, &ours))
        } else {
            let o = per_call(batch, &ours);
            (per_call(batch, &peer), o)
        };
        sum_peer += p;
        sum_ours += o;
        ratios.push(o / p);
    }
    ratios.sort_by(f64::total_cmp);
    let n = rounds as f64;
    Paired {
        peer_ns: sum_peer / n,
        ours_ns: sum_ours / n,
        ratio: [
            ratios[rounds / 4],
            ratios[rounds / 2],
            ratios[rounds * 3 / 4],
        ],
    }
}

impl Paired {
    /// One line: `label: ours X ns, peer Y ns, ratio M (quartiles A..B)`.
    pub(crate) fn print(&self, label: &str, ours: &str, peer: &str) {
        println!(
            "{label}: {ours} {:.2} ns, {peer} {:.2} ns, {ours}/{peer} {:.3} (quartiles {:.3}..{:.3})",
            self.ours_ns, self.peer_ns, self.ratio[1], self.ratio[0], self.ratio[2]
        );
    }
}
