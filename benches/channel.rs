//! Round trip of an 8-byte message between two processes, in one criterion run: the
//! shm channel, a pipe pair, a Unix socket pair, and the floor (a counter bounced
//! through one shared cache line). The measurements live in
//! `examples/channel_bench.rs`, which also prints throughput and the targets.
//!
//! `cargo bench --bench channel`
//!
//! After criterion's own report, `main` prints a table of ratios (the shm channel over
//! each peer, and over the floor) from the estimates criterion just wrote.

use std::time::Duration;

use criterion::Criterion;

mod support;

#[path = "../examples/channel_bench.rs"]
#[allow(dead_code)]
mod channel_bench;

const GROUP: &str = "round_trip_8B";

fn round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group(GROUP);
    g.measurement_time(Duration::from_secs(3));
    g.sample_size(20);
    // Each sample forks a peer and times only the ping-pong loop inside it.
    g.bench_function("floor_shared_line", |b| {
        b.iter_custom(|iters| channel_bench::floor_round_trip(iters) * iters as u32)
    });
    g.bench_function("shm_channel", |b| {
        b.iter_custom(|iters| channel_bench::channel_round_trip(iters) * iters as u32)
    });
    g.bench_function("pipe", |b| {
        b.iter_custom(|iters| channel_bench::pipe_round_trip(iters) * iters as u32)
    });
    g.bench_function("unix_socketpair", |b| {
        b.iter_custom(|iters| channel_bench::socket_round_trip(iters) * iters as u32)
    });
    g.finish();
}

fn main() {
    let since = support::run_start();
    let mut c = Criterion::default().configure_from_args();
    round_trip(&mut c);
    c.final_summary();
    support::RatioTable::new(since)
        .rows(GROUP, &["shm_channel"], &["pipe", "unix_socketpair"])
        .row(GROUP, "shm_channel", "floor_shared_line")
        .print();
}
