//! Test plumbing: spawned peers, segment tracking for the leak check, the message
//! format (sequence number + checksum) both sides agree on, and a small PRNG.

use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shm::{Id, Key, Segment};

/// The environment variable that selects a peer role when the binary re-executes.
pub(crate) const ROLE_ENV: &str = "SHM_CHANNEL_TEST_ROLE";

static IDS: Mutex<Vec<Id>> = Mutex::new(Vec::new());
static KEYS: Mutex<Vec<Key>> = Mutex::new(Vec::new());
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Records a segment id for the leak check.
pub(crate) fn track(id: Id) {
    IDS.lock().unwrap().push(id);
}

/// A key no other process uses, recorded for the leak check.
pub(crate) fn fresh_key() -> Key {
    static NEXT: Mutex<u32> = Mutex::new(0);
    let mut n = NEXT.lock().unwrap();
    *n += 1;
    let key = Key::from_raw((0x3000_0000 | ((std::process::id() & 0xf_ffff) << 8) | *n) as i32);
    KEYS.lock().unwrap().push(key);
    key
}

/// Re-executes this binary as peer `role` with `args`.
pub(crate) fn spawn(role: &str, args: &[String]) -> Child {
    let exe = std::env::current_exe().expect("current_exe");
    let child = Command::new(exe)
        .env(ROLE_ENV, role)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn a peer");
    CHILDREN.lock().unwrap().push(child.id());
    child
}

/// Waits at most `timeout` for `child`; kills it and panics past that.
pub(crate) fn wait(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("peer {} did not finish within {timeout:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// SIGKILLs every child still around (the watchdog's last resort).
pub(crate) fn kill_children() {
    for &pid in CHILDREN.lock().unwrap().iter() {
        // SAFETY: kill(2) with a pid we spawned; no memory is involved.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
}

/// Segments created by this process or its children, or tracked, that still exist
/// (and removes them, so a failing run leaks nothing either).
pub(crate) fn leak_check() -> Vec<String> {
    let ids = IDS.lock().unwrap().clone();
    let keys = KEYS.lock().unwrap().clone();
    let children = CHILDREN.lock().unwrap().clone();
    let me = std::process::id() as i32;
    let mut leaks = Vec::new();
    for s in shm::list_segments().expect("list segments") {
        let cpid = s.cpid.as_raw();
        if cpid == me
            || children.contains(&(cpid as u32))
            || ids.contains(&s.id)
            || keys.contains(&s.key)
        {
            leaks.push(format!("{s} (cpid {cpid})"));
            let _ = Segment::from_id(s.id).remove();
        }
    }
    leaks
}

/// xorshift64*: fast, seedable, good enough to pick sizes and timings.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(mix(seed) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// A seed from the clock, printed by callers so a failure can be replayed.
pub(crate) fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

/// splitmix64's finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Message `seq` of a stream: its length depends on `seq` (mostly small, some
/// medium, a few up to `max`), it starts with `seq` and a checksum of the rest.
pub(crate) fn message_len(seq: u64, stream_seed: u64, max: usize) -> usize {
    let r = mix(seq ^ stream_seed);
    let pick = r % 1000;
    let span = if pick == 0 {
        max.min(32 * 1024) - 16
    } else if pick < 50 {
        1024
    } else {
        48
    } as u64;
    16 + ((r >> 10) % (span + 1)) as usize
}

/// Fills `buf` with message `seq`: `[seq][checksum][body]`, all little-endian.
pub(crate) fn make_message(seq: u64, stream_seed: u64, max: usize, buf: &mut Vec<u8>) {
    let len = message_len(seq, stream_seed, max);
    buf.clear();
    buf.resize(len, 0);
    buf[..8].copy_from_slice(&seq.to_le_bytes());
    let mut x = mix(seq.wrapping_add(stream_seed)) | 1;
    for chunk in buf[16..].chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
    let sum = checksum(seq, &buf[16..]);
    buf[8..16].copy_from_slice(&sum.to_le_bytes());
}

/// A 64-bit checksum of `body`, keyed by `seq`.
pub(crate) fn checksum(seq: u64, body: &[u8]) -> u64 {
    let mut h = mix(seq) ^ body.len() as u64;
    let mut chunks = body.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap());
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// Checks that `data` is message `expected` of the stream.
pub(crate) fn verify(
    expected: u64,
    stream_seed: u64,
    max: usize,
    data: &[u8],
) -> Result<(), String> {
    if data.len() < 16 {
        return Err(format!("message {expected}: only {} bytes", data.len()));
    }
    let seq = u64::from_le_bytes(data[..8].try_into().unwrap());
    if seq != expected {
        return Err(format!(
            "expected message {expected}, got {seq} (lost, duplicated or reordered)"
        ));
    }
    let want_len = message_len(seq, stream_seed, max);
    if data.len() != want_len {
        return Err(format!(
            "message {seq}: {} bytes, expected {want_len}",
            data.len()
        ));
    }
    let sum = u64::from_le_bytes(data[8..16].try_into().unwrap());
    if sum != checksum(seq, &data[16..]) {
        return Err(format!("message {seq}: checksum mismatch (corrupted)"));
    }
    Ok(())
}
