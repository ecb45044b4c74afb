//! The shared-memory channel against the other ways two processes on one machine talk,
//! in one run, with the floors beside them:
//!
//! ```text
//! cargo run --release --example channel_bench
//! cargo run --release --example channel_bench -- --round-trip-only   # floor vs channel
//! cargo run --release --example channel_bench -- --throughput-only   # channel vs copy floor
//! cargo run --release --example channel_bench --features bench-peers   # + ipc-channel
//! ```
//!
//! - round trip (ping-pong of 8-byte messages between two processes) through the
//!   channel, a pipe pair, a Unix socket pair — and the floor: two processes bouncing a
//!   counter through one cache line of shared memory, spinning;
//! - throughput of 64-byte and 64-KiB messages one way, each message received (copied
//!   out into private memory) by the other process — and three copy figures:
//!   - *memcpy, in cache*: 64 KiB blocks within one core's cache, one process — the
//!     copy engine's peak; no transfer between two cores comes near it, so it is shown
//!     for reference, not as a target;
//!   - *memcpy, 128 MiB buffers*: buffers four times the last-level cache, one process
//!     — memory bandwidth, the "memcpy bandwidth" the target is judged against;
//!   - *copy floor (2 processes, 2 copies)*: the same-size blocks copied (32-byte AVX
//!     loads and stores; glibc's `memcpy` measured slower here) into a shared buffer
//!     of the channel's ring size by one process and out of it into private memory by
//!     the other, with one counter each way and nothing else — the channel's work
//!     minus the channel. A reference rather than a strict bound: see
//!     [`shared_copy_bandwidth`].
//!
//! The throughput runs use a 4 MiB ring (`CHANNEL_BENCH_RING` overrides it): on the
//! 2-core EPYC VM this was tuned on (1 MiB L2 per core, 32 MiB L3), 64 KiB messages
//! went about 2-4x faster through 2-4 MiB rings than through 256 KiB-1 MiB ones
//! (lines the receiver reads come from the shared L3 rather than out of the other
//! core's L2) and slower again at 16 MiB.
//!
//! Placement: the floors and the channel spin, so they need a core each; they always
//! run with this process pinned to one CPU and its forked peer to another
//! (`sched_setaffinity`), the floors exactly like the channel. Pipes and sockets
//! block, and are often fastest when the scheduler may run the woken reader on the
//! writer's CPU: they are measured both pinned and unpinned and keep their best (the
//! table says which). A floor and the channel run in alternating batches so both see
//! the same moments of a busy machine. Peers are `fork`ed (the benchmark is
//! single-threaded). Numbers on a busy machine — or a VM whose vCPUs move between host
//! cores — are noisy, so each figure is the best of several runs, and the median of
//! the paired ratios is printed too. `benches/channel.rs` runs the round trips under
//! criterion.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use shm::channel::{Address, Options};

/// A forked peer process.
pub(crate) struct Peer(i32);

/// Where a measurement's two processes run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Placement {
    /// This process pinned to the first CPU of [`cpu_pair`], its peer to the second
    /// (`sched_setaffinity`): what spinning needs, and how the floors, the channel
    /// and the copy floor always run.
    Split,
    /// Both free to run on any allowed CPU (the scheduler's choice): blocking
    /// transports (pipes, sockets) are often fastest this way — the woken reader runs
    /// on the writer's CPU — so they are measured both ways and keep their best.
    Free,
}

/// The allowed CPUs when the benchmark started.
fn allowed_cpus() -> &'static [usize] {
    static CPUS: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    CPUS.get_or_init(|| {
        // SAFETY: a zeroed cpu_set_t is the empty set; the kernel writes at most
        // `size_of` bytes of it; pid 0 is this process.
        let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::sched_getaffinity(0, core::mem::size_of_val(&set), &mut set) } != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below CPU_SETSIZE, inside the set.
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect()
    })
}

/// The two CPUs of [`Placement::Split`]: `None` (nobody pinned) if this process may
/// run on fewer than two.
fn cpu_pair() -> Option<(usize, usize)> {
    match allowed_cpus() {
        [a, b, ..] => Some((*a, *b)),
        _ => None,
    }
}

/// Restricts the calling process to `cpus` (nothing happens for an empty list).
fn pin(cpus: &[usize]) {
    if cpus.is_empty() {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is the empty set; every cpu < CPU_SETSIZE (they came
    // from `sched_getaffinity`); pid 0 is this process.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(0, core::mem::size_of_val(&set), &set);
    }
}

/// Forks with [`Placement::Split`]: see [`fork_peer_on`].
pub(crate) fn fork_peer(f: impl FnOnce()) -> Peer {
    fork_peer_on(Placement::Split, f)
}

/// Forks; the child runs `f` and leaves with `_exit` (no destructors: the parent's
/// objects it inherited are not its to close). Both processes are placed as `place`
/// says (the caller stays placed so until the next fork).
pub(crate) fn fork_peer_on(place: Placement, f: impl FnOnce()) -> Peer {
    let pair = match place {
        Placement::Split => cpu_pair(),
        Placement::Free => None,
    };
    match pair {
        Some((me, _)) => pin(&[me]),
        None => pin(allowed_cpus()),
    }
    // SAFETY: the benchmark is single-threaded when it forks; the child only runs `f`
    // and then `_exit`s without returning into the parent's code.
    match unsafe { libc::fork() } {
        0 => {
            if let Some((_, peer)) = pair {
                pin(&[peer]);
            }
            f();
            // SAFETY: ends the child at once, as intended.
            unsafe { libc::_exit(0) }
        }
        -1 => panic!("fork failed: {}", std::io::Error::last_os_error()),
        pid => Peer(pid),
    }
}

impl Peer {
    /// Waits for the peer to exit.
    pub(crate) fn wait(self) {
        let mut status = 0;
        // SAFETY: waits for our own child; `status` is writable.
        unsafe { libc::waitpid(self.0, &mut status, 0) };
        std::mem::forget(self);
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // SAFETY: kill + reap our own child (only reached if `wait` was not called).
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
            libc::waitpid(self.0, core::ptr::null_mut(), 0);
        }
    }
}

fn pipe() -> (std::fs::File, std::fs::File) {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is writable for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: two fresh descriptors nobody else owns.
    unsafe {
        (
            std::fs::File::from(OwnedFd::from_raw_fd(fds[0])),
            std::fs::File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    }
}

/// The ring of the throughput runs: 4 MiB, or `CHANNEL_BENCH_RING` bytes.
fn ring_size() -> usize {
    std::env::var("CHANNEL_BENCH_RING")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4 << 20)
}

/// Options for the benchmarked channels: spinning long enough to cover a round trip.
fn opts(capacity: usize) -> Options {
    Options::new()
        .capacity(capacity)
        .spin(Duration::from_micros(200))
}

/// Untimed round trips first, so the peer's start-up is not measured.
const WARM: u64 = 1000;

/// The floor: two processes bounce a counter through shared memory, spinning.
/// Returns the time per round trip.
pub(crate) fn floor_round_trip(iters: u64) -> Duration {
    let map = shm::Segment::create_private_attached(4096).expect("segment");
    let id = map.id();
    let peer = fork_peer(move || {
        let map = shm::Segment::from_id(id).attach().unwrap();
        let (ping, pong) = (map.atomic_u64(0).unwrap(), map.atomic_u64(128).unwrap());
        for i in 1..=iters + WARM {
            while ping.load(Ordering::Acquire) != i {
                core::hint::spin_loop();
            }
            pong.store(i, Ordering::Release);
        }
    });
    let (ping, pong) = (map.atomic_u64(0).unwrap(), map.atomic_u64(128).unwrap());
    let mut start = Instant::now();
    for i in 1..=iters + WARM {
        if i == WARM + 1 {
            start = Instant::now();
        }
        ping.store(i, Ordering::Release);
        while pong.load(Ordering::Acquire) != i {
            core::hint::spin_loop();
        }
    }
    let t = start.elapsed();
    peer.wait();
    t / iters as u32
}

/// `memcpy` of 64 KiB blocks out of a 1 MiB buffer into one 64 KiB buffer, one
/// process: both stay in this core's cache, so this is the copy engine's peak, not a
/// floor any transfer between two cores can reach. Bytes copied per second.
pub(crate) fn memcpy_in_cache() -> f64 {
    let src = vec![0x5au8; 1 << 20];
    let mut dst = vec![0u8; 64 * 1024];
    let start = Instant::now();
    let mut bytes = 0u64;
    while start.elapsed() < Duration::from_millis(300) {
        for block in src.chunks(dst.len()) {
            dst.copy_from_slice(std::hint::black_box(block));
            bytes += block.len() as u64;
        }
        std::hint::black_box(&mut dst);
    }
    bytes as f64 / start.elapsed().as_secs_f64()
}

/// Bytes of each buffer of [`memcpy_memory`]: four times this machine's usual
/// last-level cache (32 MiB here), so every copy goes to memory and back.
const BIG: usize = 128 << 20;

/// `memcpy` of 64 KiB blocks from one 128 MiB buffer to another, one process: both
/// buffers are far larger than the last-level cache, so this is memory bandwidth —
/// the classic "memcpy bandwidth". Bytes copied per second.
pub(crate) fn memcpy_memory() -> f64 {
    let src = vec![0x5au8; BIG];
    let mut dst = vec![0u8; BIG];
    // One untimed pass maps every page.
    dst.copy_from_slice(&src);
    let start = Instant::now();
    let mut bytes = 0u64;
    while start.elapsed() < Duration::from_millis(300) {
        for (d, s) in dst.chunks_mut(64 * 1024).zip(src.chunks(64 * 1024)) {
            d.copy_from_slice(std::hint::black_box(s));
            bytes += s.len() as u64;
        }
        std::hint::black_box(&mut dst);
    }
    bytes as f64 / start.elapsed().as_secs_f64()
}

/// Copies `n` bytes from `src` to `dst` with plain 32-byte AVX loads and stores when
/// the CPU has AVX (`memcpy` otherwise).
///
/// # Safety
///
/// As for `ptr::copy_nonoverlapping`.
unsafe fn copy(src: *const u8, dst: *mut u8, n: usize) {
    static MEMCPY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let memcpy = *MEMCPY.get_or_init(|| std::env::var_os("FLOOR_MEMCPY").is_some());
    if !memcpy && std::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is there; the caller's ranges.
        unsafe { copy_avx(src, dst, n) }
    } else {
        // SAFETY: the caller's ranges.
        unsafe { core::ptr::copy_nonoverlapping(src, dst, n) }
    }
}

/// [`copy`] with AVX.
///
/// # Safety
///
/// As for [`copy`], and the CPU has AVX.
#[target_feature(enable = "avx")]
unsafe fn copy_avx(src: *const u8, dst: *mut u8, n: usize) {
    use core::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_storeu_si256};
    let mut i = 0;
    while n - i >= 128 {
        // SAFETY: `i + 128 <= n`: inside both ranges.
        unsafe {
            let s = src.add(i).cast::<__m256i>();
            let d = dst.add(i).cast::<__m256i>();
            let (a, b) = (_mm256_loadu_si256(s), _mm256_loadu_si256(s.add(1)));
            let (c, e) = (_mm256_loadu_si256(s.add(2)), _mm256_loadu_si256(s.add(3)));
            _mm256_storeu_si256(d, a);
            _mm256_storeu_si256(d.add(1), b);
            _mm256_storeu_si256(d.add(2), c);
            _mm256_storeu_si256(d.add(3), e);
        }
        i += 128;
    }
    // SAFETY: the rest of both ranges.
    unsafe { core::ptr::copy_nonoverlapping(src.add(i), dst.add(i), n - i) };
}

/// The cross-process copy floor: what moving `size`-byte blocks between two processes
/// costs with nothing but the copies. A shared buffer of the channel's ring size is cut
/// into `size`-byte slots; the parent `memcpy`s each block into the next free slot and
/// bumps a counter, the forked peer spins on the counter, `memcpy`s the slot out into
/// private memory and bumps its own counter. Same two copies as the channel, same
/// ring size and pinning, no validation, no records, no waking. Bytes per second.
///
/// A reference, not a strict bound: its two counters are shared lines both sides
/// touch for every block, which the channel avoids (its commit word travels in the
/// record's own line), so the channel can come out ahead, at 64 B especially.
pub(crate) fn shared_copy_bandwidth(size: usize, count: u64) -> f64 {
    let ring = ring_size().max(2 * size);
    let slots = (ring / size) as u64;
    let map = shm::Segment::create_private_attached(4096 + ring).expect("segment");
    let id = map.id();
    let (mut done_r, mut done_w) = pipe();
    let peer = fork_peer(move || {
        let map = shm::Segment::from_id(id).attach().unwrap();
        let (made, taken) = (map.atomic_u64(0).unwrap(), map.atomic_u64(128).unwrap());
        let mut buf = vec![0u8; size];
        for i in 0..count {
            while made.load(Ordering::Acquire) <= i {
                core::hint::spin_loop();
            }
            let off = 4096 + (i % slots) as usize * size;
            // SAFETY: the slot lies inside the attachment (`4096 + ring` bytes) and
            // `buf` is private; the producer does not touch the slot until `taken`
            // says so.
            unsafe { copy(map.as_ptr().add(off), buf.as_mut_ptr(), size) };
            std::hint::black_box(&mut buf);
            taken.store(i + 1, Ordering::Release);
        }
        done_w.write_all(&[1]).unwrap();
    });
    let (made, taken) = (map.atomic_u64(0).unwrap(), map.atomic_u64(128).unwrap());
    let msg = vec![0x42u8; size];
    let start = Instant::now();
    for i in 0..count {
        while i - taken.load(Ordering::Acquire) >= slots {
            core::hint::spin_loop();
        }
        let off = 4096 + (i % slots) as usize * size;
        // SAFETY: inside the attachment; the slot is free (the consumer took it).
        unsafe { copy(msg.as_ptr(), map.as_ptr().add(off), size) };
        made.store(i + 1, Ordering::Release);
    }
    done_r.read_exact(&mut [0]).unwrap();
    let t = start.elapsed();
    peer.wait();
    (size as u64 * count) as f64 / t.as_secs_f64()
}

/// Round trip of an 8-byte message through two channels (one each way).
pub(crate) fn channel_round_trip(iters: u64) -> Duration {
    let o = opts(64 * 1024);
    let mut ping = o.create_sender(&Address::Private).unwrap();
    let mut pong = o.create_receiver(&Address::Private).unwrap();
    let (ping_id, pong_id) = (ping.id(), pong.id());
    let peer = fork_peer(move || {
        let o = opts(64 * 1024);
        let mut rx = o.open_receiver(&Address::Id(ping_id)).unwrap();
        let mut tx = o.open_sender(&Address::Id(pong_id)).unwrap();
        let mut buf = [0u8; 8];
        for _ in 0..iters + WARM {
            rx.recv_with(|m| m.read_at(0, &mut buf)).unwrap().unwrap();
            tx.send(&buf).unwrap();
        }
    });
    let mut buf = [0u8; 8];
    let mut start = Instant::now();
    for i in 0..iters + WARM {
        if i == WARM {
            start = Instant::now();
        }
        ping.send(&i.to_le_bytes()).unwrap();
        pong.recv_with(|m| m.read_at(0, &mut buf)).unwrap().unwrap();
    }
    let t = start.elapsed();
    peer.wait();
    t / iters as u32
}

fn stream_round_trip<S: Read + Write>(
    place: Placement,
    mut a: S,
    mut b: S,
    iters: u64,
) -> Duration {
    let peer = fork_peer_on(place, move || {
        let mut buf = [0u8; 8];
        for _ in 0..iters + WARM {
            b.read_exact(&mut buf).unwrap();
            b.write_all(&buf).unwrap();
        }
    });
    let mut buf = [0u8; 8];
    let mut start = Instant::now();
    for i in 0..iters + WARM {
        if i == WARM {
            start = Instant::now();
        }
        a.write_all(&i.to_le_bytes()).unwrap();
        a.read_exact(&mut buf).unwrap();
    }
    let t = start.elapsed();
    peer.wait();
    t / iters as u32
}

/// Two pipes as one duplex stream.
struct Duplex(std::fs::File, std::fs::File);

impl Read for Duplex {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Duplex {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Round trip of 8 bytes through a pair of pipes, both processes free to run anywhere
/// (what `benches/channel.rs` measures).
#[allow(dead_code)] // used by benches/channel.rs
pub(crate) fn pipe_round_trip(iters: u64) -> Duration {
    pipe_round_trip_on(Placement::Free, iters)
}

/// Round trip of 8 bytes through a pair of pipes, placed as `place` says.
pub(crate) fn pipe_round_trip_on(place: Placement, iters: u64) -> Duration {
    let (r1, w1) = pipe();
    let (r2, w2) = pipe();
    stream_round_trip(place, Duplex(r2, w1), Duplex(r1, w2), iters)
}

/// Round trip of 8 bytes through a Unix socket pair, both processes free to run
/// anywhere (what `benches/channel.rs` measures).
#[allow(dead_code)] // used by benches/channel.rs
pub(crate) fn socket_round_trip(iters: u64) -> Duration {
    socket_round_trip_on(Placement::Free, iters)
}

/// Round trip of 8 bytes through a Unix socket pair, placed as `place` says.
pub(crate) fn socket_round_trip_on(place: Placement, iters: u64) -> Duration {
    let (a, b) = UnixStream::pair().unwrap();
    stream_round_trip(place, a, b, iters)
}

/// One-way throughput of `count` messages of `size` bytes through a channel, each
/// copied out by the receiver; bytes per second.
pub(crate) fn channel_throughput(size: usize, count: u64) -> f64 {
    let ring = ring_size();
    let o = opts(ring);
    let mut tx = o.create_sender(&Address::Private).unwrap();
    let id = tx.id();
    let (mut done_r, mut done_w) = pipe();
    let peer = fork_peer(move || {
        let mut rx = opts(ring).open_receiver(&Address::Id(id)).unwrap();
        let mut buf = Vec::with_capacity(size);
        for _ in 0..count {
            rx.recv_into(&mut buf).unwrap();
        }
        done_w.write_all(&[1]).unwrap();
    });
    let msg = vec![0x42u8; size];
    let start = Instant::now();
    for _ in 0..count {
        tx.send(&msg).unwrap();
    }
    done_r.read_exact(&mut [0]).unwrap();
    let t = start.elapsed();
    peer.wait();
    (size as u64 * count) as f64 / t.as_secs_f64()
}

fn stream_throughput<S: Read + Write>(
    place: Placement,
    mut a: S,
    mut b: S,
    size: usize,
    count: u64,
) -> f64 {
    let (mut done_r, mut done_w) = pipe();
    let total = size as u64 * count;
    let peer = fork_peer_on(place, move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0u64;
        while got < total {
            let n = b.read(&mut buf).unwrap();
            assert!(n > 0);
            got += n as u64;
        }
        done_w.write_all(&[1]).unwrap();
    });
    let msg = vec![0x42u8; size];
    let start = Instant::now();
    for _ in 0..count {
        a.write_all(&msg).unwrap();
    }
    done_r.read_exact(&mut [0]).unwrap();
    let t = start.elapsed();
    peer.wait();
    total as f64 / t.as_secs_f64()
}

/// One-way throughput through a pipe (one `write` per message; the reader drains up
/// to 64 KiB per `read`, the pipe's best case), placed as `place` says.
pub(crate) fn pipe_throughput(place: Placement, size: usize, count: u64) -> f64 {
    let (r, w) = pipe();
    let (r2, w2) = pipe();
    stream_throughput(place, Duplex(r2, w), Duplex(r, w2), size, count)
}

/// One-way throughput through a Unix socket pair (as for the pipe).
pub(crate) fn socket_throughput(place: Placement, size: usize, count: u64) -> f64 {
    let (a, b) = UnixStream::pair().unwrap();
    stream_throughput(place, a, b, size, count)
}

#[cfg(feature = "bench-peers")]
mod peers {
    //! ipc-channel (Servo's IPC over Unix sockets), built with `--features bench-peers`.
    use super::*;

    pub(crate) fn ipc_round_trip(iters: u64) -> Duration {
        let (ping_tx, ping_rx) = ipc_channel::ipc::bytes_channel().unwrap();
        let (pong_tx, pong_rx) = ipc_channel::ipc::bytes_channel().unwrap();
        let peer = fork_peer(move || {
            for _ in 0..iters {
                let m = ping_rx.recv().unwrap();
                pong_tx.send(&m).unwrap();
            }
        });
        let start = Instant::now();
        for i in 0..iters {
            ping_tx.send(&i.to_le_bytes()).unwrap();
            let _ = pong_rx.recv().unwrap();
        }
        let t = start.elapsed();
        peer.wait();
        t / iters as u32
    }

    pub(crate) fn ipc_throughput(size: usize, count: u64) -> f64 {
        let (tx, rx) = ipc_channel::ipc::bytes_channel().unwrap();
        let (mut done_r, mut done_w) = pipe();
        let peer = fork_peer(move || {
            for _ in 0..count {
                let _ = rx.recv().unwrap();
            }
            done_w.write_all(&[1]).unwrap();
        });
        let msg = vec![0x42u8; size];
        let start = Instant::now();
        for _ in 0..count {
            tx.send(&msg).unwrap();
        }
        done_r.read_exact(&mut [0]).unwrap();
        let t = start.elapsed();
        peer.wait();
        (size as u64 * count) as f64 / t.as_secs_f64()
    }
}

#[cfg(feature = "bench-peers")]
fn best_time(runs: u32, f: impl Fn() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap()
}

fn best_rate(runs: u32, f: impl Fn() -> f64) -> f64 {
    (0..runs).map(|_| f()).fold(0.0, f64::max)
}

/// The best time of `runs` runs in each placement (alternating), and the placement
/// it came from.
fn best_time_placed(runs: u32, f: impl Fn(Placement) -> Duration) -> (Duration, Placement) {
    (0..runs)
        .flat_map(|_| [Placement::Split, Placement::Free])
        .map(|p| (f(p), p))
        .min_by_key(|&(t, _)| t)
        .unwrap()
}

/// The best rate of `runs` runs in each placement (alternating), and its placement.
fn best_rate_placed(runs: u32, f: impl Fn(Placement) -> f64) -> (f64, Placement) {
    (0..runs)
        .flat_map(|_| [Placement::Split, Placement::Free])
        .map(|p| (f(p), p))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap()
}

fn placed(name: &str, p: Placement) -> String {
    match p {
        Placement::Split => format!("{name} (pinned)"),
        Placement::Free => format!("{name} (unpinned)"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn gbs(x: f64) -> String {
    format!("{:.2} GB/s", x / 1e9)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn main() {
    // Many short batches, best one kept: on a loaded 2-core machine a spinning peer is
    // often descheduled, and the best batch is the one that ran undisturbed. A floor
    // and what is compared with it run in alternating batches, so both see the same
    // moments of the machine (a VM's vCPUs move between host cores), and the median
    // of the per-batch ratios is printed beside the ratio of the bests.
    if std::env::args().any(|a| a == "--throughput-only") {
        for size in [64, 64 * 1024] {
            let count = if size == 64 { 2_000_000 } else { 20_000 };
            println!(
                "channel {size} B: {}   copy floor: {}",
                gbs(best_rate(3, || channel_throughput(size, count))),
                gbs(best_rate(3, || shared_copy_bandwidth(size, count)))
            );
        }
        return;
    }
    let rt_iters = 20_000;
    let batches = 10;
    if std::env::args().any(|a| a == "--round-trip-only") {
        for _ in 0..batches {
            let f = floor_round_trip(rt_iters);
            let c = channel_round_trip(rt_iters);
            println!(
                "floor {f:>6.0?}  channel {c:>6.0?}  {:.2}x",
                c.as_secs_f64() / f.as_secs_f64()
            );
        }
        return;
    }
    println!(
        "channel_bench: {} CPUs online, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        match cpu_pair() {
            Some((a, b)) => format!(
                "floors and channel pinned: this process on CPU {a}, its peer on CPU {b}; \
                 pipes and sockets keep the better of pinned and unpinned"
            ),
            None => "not pinned (fewer than two CPUs allowed)".to_string(),
        }
    );
    println!("\nround trip, 8-byte messages, two processes (best of {batches} x {rt_iters}):");
    let (mut floors, mut chans, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..batches {
        let f = floor_round_trip(rt_iters);
        let c = channel_round_trip(rt_iters);
        ratios.push(c.as_secs_f64() / f.as_secs_f64());
        floors.push(f);
        chans.push(c);
    }
    let floor = floors.into_iter().min().unwrap();
    let chan = chans.into_iter().min().unwrap();
    let r_floor_median = median(ratios);
    let (pipe_rt, pipe_at) = best_time_placed(batches / 2, |p| pipe_round_trip_on(p, rt_iters / 4));
    let (sock, sock_at) = best_time_placed(batches / 2, |p| socket_round_trip_on(p, rt_iters / 4));
    println!("  {:<28} {:>10.0?}", "floor (spin on shared line)", floor);
    println!(
        "  {:<28} {:>10.0?}  {:.2}x floor (median of paired batches {r_floor_median:.2}x)",
        "shm channel",
        chan,
        chan.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "  {:<28} {:>10.0?}  {:.1}x channel",
        placed("pipe pair", pipe_at),
        pipe_rt,
        pipe_rt.as_secs_f64() / chan.as_secs_f64()
    );
    println!(
        "  {:<28} {:>10.0?}  {:.1}x channel",
        placed("unix socket pair", sock_at),
        sock,
        sock.as_secs_f64() / chan.as_secs_f64()
    );
    #[cfg(feature = "bench-peers")]
    {
        let ipc = best_time(batches, || peers::ipc_round_trip(rt_iters / 4));
        println!(
            "  {:<28} {:>10.0?}  {:.1}x channel",
            "ipc-channel",
            ipc,
            ipc.as_secs_f64() / chan.as_secs_f64()
        );
    }

    let runs = 5;
    println!(
        "\nthroughput, one way, every message copied out by the receiver (best of {runs}; \
         ring {} KiB):",
        ring_size() / 1024
    );
    let small = 2_000_000;
    let big = 20_000;
    let c64 = best_rate(runs, || channel_throughput(64, small));
    let (p64, p64_at) = best_rate_placed(runs / 2 + 1, |p| pipe_throughput(p, 64, small / 4));
    let (s64, s64_at) = best_rate_placed(runs / 2 + 1, |p| socket_throughput(p, 64, small / 4));
    let x64 = best_rate(runs, || shared_copy_bandwidth(64, small));
    let (mut c64ks, mut x64ks, mut xratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let c = channel_throughput(64 * 1024, big);
        let x = shared_copy_bandwidth(64 * 1024, big);
        xratios.push(c / x);
        c64ks.push(c);
        x64ks.push(x);
    }
    let c64k = c64ks.into_iter().fold(0.0, f64::max);
    let x64k = x64ks.into_iter().fold(0.0, f64::max);
    let (p64k, p64k_at) = best_rate_placed(runs / 2 + 1, |p| pipe_throughput(p, 64 * 1024, big));
    let (s64k, s64k_at) = best_rate_placed(runs / 2 + 1, |p| socket_throughput(p, 64 * 1024, big));
    let at = |a: Placement, b: Placement| match (a, b) {
        (Placement::Split, Placement::Split) => "pinned",
        (Placement::Free, Placement::Free) => "unpinned",
        (Placement::Split, Placement::Free) => "pinned / unpinned",
        (Placement::Free, Placement::Split) => "unpinned / pinned",
    };
    let mem = best_rate(3, memcpy_memory);
    let hot = best_rate(3, memcpy_in_cache);
    println!("  {:<34} {:>12} {:>12}", "", "64 B", "64 KiB");
    println!(
        "  {:<34} {:>12} {:>12}",
        "memcpy, in cache (1 process)",
        "",
        gbs(hot)
    );
    println!(
        "  {:<34} {:>12} {:>12}",
        format!("memcpy, {} MiB buffers (1 process)", BIG >> 20),
        "",
        gbs(mem)
    );
    println!(
        "  {:<34} {:>12} {:>12}",
        "copy floor (2 processes, 2 copies)",
        gbs(x64),
        gbs(x64k)
    );
    println!("  {:<34} {:>12} {:>12}", "shm channel", gbs(c64), gbs(c64k));
    println!(
        "  {:<34} {:>12} {:>12}",
        format!("pipe ({})", at(p64_at, p64k_at)),
        gbs(p64),
        gbs(p64k)
    );
    println!(
        "  {:<34} {:>12} {:>12}",
        format!("unix socket pair ({})", at(s64_at, s64k_at)),
        gbs(s64),
        gbs(s64k)
    );
    #[cfg(feature = "bench-peers")]
    {
        let i64 = best_rate(3, || peers::ipc_throughput(64, small / 8));
        let i64k = best_rate(3, || peers::ipc_throughput(64 * 1024, big / 2));
        println!("  {:<34} {:>12} {:>12}", "ipc-channel", gbs(i64), gbs(i64k));
    }
    println!(
        "  (64 B: channel {:.1} M msg/s, pipe {:.1} M msg/s, socket {:.1} M msg/s)",
        c64 / 64.0 / 1e6,
        p64 / 64.0 / 1e6,
        s64 / 64.0 / 1e6
    );
    println!(
        "  64 KiB channel / copy floor: {:.2} (median of paired runs {:.2}); / in-cache memcpy: {:.2}",
        c64k / x64k,
        median(xratios),
        c64k / hot
    );

    let r_floor = chan.as_secs_f64() / floor.as_secs_f64();
    let r_sock = sock.as_secs_f64() / chan.as_secs_f64();
    let r_mem = c64k / mem;
    let r_pipe = c64k / p64k;
    println!("\ntargets:");
    println!(
        "  round trip within 1.5x of the floor:        {r_floor:.2}x  {}",
        verdict(r_floor <= 1.5)
    );
    println!(
        "  round trip >= 5x better than the socket:    {r_sock:.1}x  {}",
        verdict(r_sock >= 5.0)
    );
    println!(
        "  64 KiB throughput >= 1/2 of memcpy (memory): {r_mem:.2}  {}",
        verdict(r_mem >= 0.5)
    );
    println!(
        "  64 KiB throughput >= 2x the pipe:           {r_pipe:.1}x  {}",
        verdict(r_pipe >= 2.0)
    );
}
