//! What both ends share: creating and opening the segment, checking the header, the
//! spin-then-futex wait loop and peer-death bookkeeping.

use std::path::PathBuf;
use std::sync::atomic::{Ordering, compiler_fence, fence};
use std::time::{Duration, Instant};

use linker_tools::sys::{self, Errno};

use super::layout::*;
use super::peer::{Liveness, Watch};
use super::raw::Region;
use crate::Mode;
use crate::error::{Error, ErrorKind, Result};
use crate::segment::{DEFAULT_MODE, Segment};
use crate::sysv::{Id, Key};

/// Where a channel's segment is, for creating ([`Key`](Address::Key),
/// [`Path`](Address::Path), [`Private`](Address::Private)) or opening
/// ([`Key`](Address::Key), [`Path`](Address::Path), [`Id`](Address::Id)).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Address {
    /// A SysV key both processes know.
    Key(Key),
    /// The key `ftok(path, proj_id)` gives: both processes name the same file.
    Path(PathBuf, u8),
    /// A new private segment (create only): pass the creator's
    /// [`id`](super::Sender::id) to the other process (an argument, an environment
    /// variable, a pipe), which opens [`Address::Id`].
    Private,
    /// A segment by id (open only).
    Id(Id),
}

/// How a channel is created and how its ends wait; build with [`Options::new`].
///
/// ```
/// use shm::channel::{Address, Options};
/// use std::time::Duration;
///
/// let opts = Options::new().capacity(64 * 1024).spin(Duration::from_micros(20));
/// let tx = opts.create_sender(&Address::Private)?;
/// let mut rx = opts.open_receiver(&Address::Id(tx.id()))?;
/// let mut tx = tx;
/// tx.send(b"hello")?;
/// assert_eq!(rx.recv()?, b"hello");
/// # Ok::<(), shm::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[must_use = "options do nothing until a create_*/open_* call; each setter returns the changed options"]
pub struct Options {
    capacity: usize,
    mode: Mode,
    spin: Duration,
    liveness_interval: Duration,
    connect_timeout: Duration,
}

/// The ring size of [`Options::new`]: 256 KiB.
pub const DEFAULT_CAPACITY: usize = 256 * 1024;

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl Options {
    /// A [`DEFAULT_CAPACITY`] ring, mode `0600`, 50 µs of spinning before sleeping,
    /// a liveness check at least every 20 ms while asleep, and 2 s for an opener to
    /// wait for a creator that is still writing the header.
    pub fn new() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            mode: DEFAULT_MODE,
            spin: Duration::from_micros(50),
            liveness_interval: Duration::from_millis(20),
            connect_timeout: Duration::from_secs(2),
        }
    }

    /// Ring size in bytes (created channels): a power of two from 4 KiB to 2 GiB. The
    /// largest message is a little under half of it.
    ///
    /// For streams of large messages, give the ring room for dozens of them: with
    /// 64 KiB messages, a 4 MiB ring measured 2-4x the throughput of 256 KiB-1 MiB
    /// rings on a machine with 1 MiB of L2 per core (`examples/channel_bench.rs`).
    pub fn capacity(mut self, bytes: usize) -> Self {
        self.capacity = bytes;
        self
    }

    /// Permissions of a created segment (low nine bits).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How long a blocked call spins (burning CPU, reacting in nanoseconds) before it
    /// sleeps on the futex (no CPU, reacting in microseconds). Zero: sleep at once.
    pub fn spin(mut self, spin: Duration) -> Self {
        self.spin = spin;
        self
    }

    /// How often a sleeping call wakes to check that the peer is alive; a dead peer
    /// is reported within about this long. Clamped to 1 ms ..= 1 s.
    pub fn liveness_interval(mut self, every: Duration) -> Self {
        self.liveness_interval = every.clamp(Duration::from_millis(1), Duration::from_secs(1));
        self
    }

    /// How long an opener waits for a creator that has made the segment but not yet
    /// written its header.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Creates the segment and writes the header for an endpoint in `role`.
    pub(crate) fn create(&self, at: &Address, role: u32) -> Result<Endpoint> {
        let cap = self.capacity;
        if !cap.is_power_of_two() || !(MIN_CAPACITY..=MAX_CAPACITY).contains(&cap) {
            return Err(Error::new(
                ErrorKind::InvalidSize,
                None,
                format!(
                    "channel capacity {cap} is not a power of two from {MIN_CAPACITY} to \
                     {MAX_CAPACITY}"
                ),
            ));
        }
        let size = HEADER_SIZE + cap;
        let options = Segment::options().size(size).mode(self.mode);
        let seg = match at {
            Address::Key(key) => options.exclusive(true).open(*key)?,
            Address::Path(path, proj) => options.exclusive(true).open(ftok(path, *proj)?)?,
            Address::Private => options.create_private()?,
            Address::Id(id) => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    None,
                    format!(
                        "cannot create a channel at segment id {id}: ids name existing \
                         segments; create at a key, a path or Address::Private"
                    ),
                ));
            }
        };
        // Removed again if anything below fails.
        let guard = seg.remove_on_drop();
        let region = Region::new(guard.attach()?, cap)?;
        region.u32_at(OFF_VERSION).store(VERSION, Ordering::Relaxed);
        region
            .u32_at(OFF_HEADER_SIZE)
            .store(HEADER_SIZE as u32, Ordering::Relaxed);
        region
            .u64_at(OFF_CAPACITY)
            .store(cap as u64, Ordering::Relaxed);
        region
            .u64_at(OFF_MAX_MESSAGE)
            .store(max_message(cap) as u64, Ordering::Relaxed);
        region
            .u32_at(OFF_CREATOR_ROLE)
            .store(role, Ordering::Relaxed);
        region
            .u32_at(OFF_CREATOR_PID)
            .store(sys::getpid().as_raw() as u32, Ordering::Relaxed);
        // The magic goes last: an opener that sees it sees everything above.
        region.u64_at(OFF_MAGIC).store(MAGIC, Ordering::Release);
        let _ = guard.into_inner();
        Ok(Endpoint::new(
            region,
            self,
            role == ROLE_SENDER,
            Watch::for_creator(role == ROLE_SENDER),
        ))
    }

    /// Opens the segment at `at` and checks its header for an endpoint in `role`.
    pub(crate) fn open(&self, at: &Address, role: u32) -> Result<Endpoint> {
        let seg = match at {
            Address::Key(key) => Segment::open(*key)?,
            Address::Path(path, proj) => Segment::open(ftok(path, *proj)?)?,
            Address::Id(id) => Segment::from_id(*id),
            Address::Private => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    None,
                    "cannot open Address::Private: open the creator's Address::Id".to_string(),
                ));
            }
        };
        let map = seg.attach()?;
        let id = map.id();
        let incompatible = |what: String| {
            Error::new(
                ErrorKind::Incompatible,
                None,
                format!("segment id {id} is not a channel this side can open: {what}"),
            )
        };
        // Every field is read once, into a local, and checked; the locals are what
        // the endpoint uses from now on. A creator may still be writing: wait for
        // the magic (written last) a little.
        let start = Instant::now();
        let magic = loop {
            let m = map.atomic_u64(OFF_MAGIC)?.load(Ordering::Acquire);
            if m != 0 || start.elapsed() >= self.connect_timeout {
                break m;
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        if magic != MAGIC {
            return Err(incompatible(format!(
                "magic {magic:#018x}, expected {MAGIC:#018x} (\"LNKCHAN\\x01\")"
            )));
        }
        let version = map.atomic_u32(OFF_VERSION)?.load(Ordering::Relaxed);
        if version != VERSION {
            return Err(incompatible(format!(
                "layout version {version}, this side speaks {VERSION}"
            )));
        }
        let header = map.atomic_u32(OFF_HEADER_SIZE)?.load(Ordering::Relaxed);
        if header as usize != HEADER_SIZE {
            return Err(incompatible(format!(
                "header size {header}, expected {HEADER_SIZE}"
            )));
        }
        let cap = map.atomic_u64(OFF_CAPACITY)?.load(Ordering::Relaxed);
        let cap = usize::try_from(cap).unwrap_or(usize::MAX);
        let max = map.atomic_u64(OFF_MAX_MESSAGE)?.load(Ordering::Relaxed);
        let creator_role = map.atomic_u32(OFF_CREATOR_ROLE)?.load(Ordering::Relaxed);
        let creator_pid = map.atomic_u32(OFF_CREATOR_PID)?.load(Ordering::Relaxed);
        let want = if role == ROLE_SENDER {
            ROLE_RECEIVER
        } else {
            ROLE_SENDER
        };
        if creator_role != want {
            return Err(incompatible(format!(
                "its creator holds the {} end (role code {creator_role})",
                if creator_role == ROLE_SENDER {
                    "sending"
                } else if creator_role == ROLE_RECEIVER {
                    "receiving"
                } else {
                    "unknown"
                }
            )));
        }
        let region = Region::new(map, cap)?; // checks cap against the kernel's size
        if max != max_message(cap) as u64 {
            return Err(incompatible(format!(
                "max message {max} for a {cap}-byte ring, expected {}",
                max_message(cap)
            )));
        }
        let me = sys::getpid().as_raw() as u32;
        if let Err(other) = region.u32_at(OFF_OPENER_PID).compare_exchange(
            0,
            me,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                None,
                format!(
                    "channel segment id {id} already has both ends (opened by pid {other}); \
                     a channel connects exactly two endpoints"
                ),
            ));
        }
        // Both ends are attached (the creator unless it already died, which the
        // liveness check reports): let the kernel destroy the segment with the last
        // attachment, crash or not. A failure (not the owner) leaves it to the
        // creator, which does the same when it sees us.
        let _ = region.attachment().mark_removed();
        let producer = role == ROLE_SENDER;
        Ok(Endpoint::new(
            region,
            self,
            producer,
            Watch::for_opener(producer, creator_pid as i32),
        ))
    }
}

fn ftok(path: &std::path::Path, proj: u8) -> Result<Key> {
    Key::ftok(path, proj).map_err(|e| {
        Error::new(
            ErrorKind::NotFound,
            Errno::from_io_error(&e),
            format!("cannot derive a key from {} (ftok): {e}", path.display()),
        )
    })
}

/// How long a call may wait.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// Not at all (`try_*`).
    No,
    /// Until it can proceed or the peer is gone.
    Forever,
    /// Until this instant.
    Until(Instant),
}

impl Wait {
    pub(crate) fn timeout(t: Duration) -> Wait {
        match Instant::now().checked_add(t) {
            Some(at) => Wait::Until(at),
            None => Wait::Forever,
        }
    }
}

/// One end: the region, timing, the peer watch, and the sticky "gone" verdict.
pub(crate) struct Endpoint {
    pub(crate) region: Region,
    producer: bool,
    spin: Duration,
    interval: Duration,
    watch: Watch,
    last_check: Option<Instant>,
    gone: Option<String>,
    corrupt: Option<String>,
    light_fences: bool,
}

impl Endpoint {
    fn new(region: Region, opts: &Options, producer: bool, watch: Watch) -> Endpoint {
        Endpoint {
            region,
            producer,
            spin: opts.spin,
            interval: opts.liveness_interval,
            watch,
            last_check: None,
            gone: None,
            corrupt: None,
            light_fences: super::peer::light_fences(),
        }
    }

    /// Ring capacity in bytes (a power of two), fixed when the region was checked.
    #[inline(always)]
    pub(crate) fn cap(&self) -> usize {
        self.region.cap()
    }

    /// The longest message the ring carries.
    #[inline(always)]
    pub(crate) fn max_message(&self) -> usize {
        max_message(self.region.cap())
    }

    fn corrupt_error(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::Corrupt,
            None,
            format!("channel segment id {} is corrupt: {why}", self.id()),
        )
    }

    /// Records that the shared state is impossible; every later call fails the same.
    #[cold]
    #[inline(never)]
    pub(crate) fn poison(&mut self, why: String) -> Error {
        let e = self.corrupt_error(&why);
        self.corrupt = Some(why);
        e
    }

    /// `Err(Corrupt)` once [`poison`](Self::poison)ed.
    #[inline(always)]
    pub(crate) fn poisoned(&self) -> Result<()> {
        match &self.corrupt {
            None => Ok(()),
            Some(why) => Err(self.poisoned_error(why)),
        }
    }

    #[cold]
    #[inline(never)]
    fn poisoned_error(&self, why: &str) -> Error {
        self.corrupt_error(why)
    }

    pub(crate) fn id(&self) -> Id {
        self.region.attachment().id()
    }

    pub(crate) fn expect_peer(&mut self, pid: linker_tools::sys::Pid) {
        self.watch.expect(pid);
    }

    pub(crate) fn peer_pid(&self) -> Option<linker_tools::sys::Pid> {
        self.watch.pid()
    }

    /// The error for a gone peer.
    pub(crate) fn gone_error(why: &str) -> Error {
        Error::new(ErrorKind::PeerGone, None, why.to_string())
    }

    /// Cheap: has the peer said it closed, or was it found gone before?
    #[inline(always)]
    pub(crate) fn known_gone(&mut self) -> Option<Error> {
        if self.gone.is_some() || self.watch.closed(&self.region) {
            return self.known_gone_slow();
        }
        None
    }

    #[cold]
    #[inline(never)]
    fn known_gone_slow(&mut self) -> Option<Error> {
        if let Some(g) = &self.gone {
            return Some(Self::gone_error(g));
        }
        self.check_now()
    }

    /// The full liveness check, now.
    #[cold]
    #[inline(never)]
    fn check_now(&mut self) -> Option<Error> {
        self.last_check = Some(Instant::now());
        match self.watch.check(&self.region) {
            Liveness::Gone(why) => {
                let e = Self::gone_error(&why);
                self.gone = Some(why);
                Some(e)
            }
            Liveness::Alive | Liveness::NotConnected => None,
        }
    }

    /// The full check if the last one is `interval` old (or `force`).
    fn check_due(&mut self, force: bool) -> Option<Error> {
        let due = force
            || match self.last_check {
                None => true,
                Some(t) => t.elapsed() >= self.interval,
            };
        if due {
            self.check_now()
        } else {
            self.gone.as_deref().map(Self::gone_error)
        }
    }

    /// Marks this end closed and wakes the peer if it sleeps.
    pub(crate) fn close(&self) {
        let (mine, peer_futex) = if self.producer {
            (OFF_PRODUCER_CLOSED, OFF_DATA_FUTEX)
        } else {
            (OFF_CONSUMER_CLOSED, OFF_SPACE_FUTEX)
        };
        self.region.u32_at(mine).store(1, Ordering::SeqCst);
        self.region
            .u32_at(peer_futex)
            .fetch_add(1, Ordering::SeqCst);
        self.region.futex_wake(peer_futex);
        // If no one ever opened the other end, nothing else will remove the segment.
        let _ = self.region.attachment().mark_removed();
    }

    /// Wakes the peer if it announced it is going to sleep (`sleeping_off`), by
    /// bumping the futex word at `futex_off`. The caller published its progress with
    /// a store before this.
    ///
    /// Store-then-load needs a full fence on both sides (Dekker). The fast path avoids
    /// its cost — a full fence waits for the store to reach the other core's cache,
    /// one more cache-line round trip per message — with asymmetric fences: when this
    /// process is registered with `membarrier(2)`, the sleeper in [`wait`] forces a
    /// full barrier onto this CPU, so a compiler fence suffices here.
    #[inline(always)]
    pub(crate) fn wake_peer(&self, sleeping_off: usize, futex_off: usize) {
        if self.light_fences {
            compiler_fence(Ordering::SeqCst);
        } else {
            fence(Ordering::SeqCst);
        }
        if self.region.u32_at(sleeping_off).load(Ordering::Relaxed) != 0 {
            self.wake_slow(sleeping_off, futex_off);
        }
    }

    #[cold]
    #[inline(never)]
    fn wake_slow(&self, sleeping_off: usize, futex_off: usize) {
        if self.region.u32_at(sleeping_off).swap(0, Ordering::AcqRel) != 0 {
            self.region
                .u32_at(futex_off)
                .fetch_add(1, Ordering::Release);
            self.region.futex_wake(futex_off);
        }
    }
}

/// The side-specific parts of [`wait`].
pub(crate) trait Side {
    /// This side's "I am going to sleep" flag.
    const SLEEPING: usize;
    /// The futex word this side sleeps on (the peer bumps it).
    const FUTEX: usize;
    /// The endpoint.
    fn endpoint(&mut self) -> &mut Endpoint;
}

/// Calls `ready` until it yields a value: at once, then spinning for the configured
/// time, then sleeping on the shared futex (announced through the sleeping flag so
/// the peer wakes us, and bounded by the liveness interval so a dead peer is
/// noticed). Ends with `WouldBlock` (for [`Wait::No`]), `TimedOut`, `PeerGone` (after
/// one last `ready`, so everything the peer committed before dying is seen first), or
/// whatever error `ready` returns (`Corrupt`).
///
/// The first `ready` is inlined into the caller (the hot path of every send and
/// receive); everything after it is out of line.
#[inline(always)]
pub(crate) fn wait<S: Side, T>(
    s: &mut S,
    how: Wait,
    what: &str,
    mut ready: impl FnMut(&mut S) -> Result<Option<T>>,
) -> Result<T> {
    if let Some(t) = ready(s)? {
        return Ok(t);
    }
    wait_slow(s, how, what, ready)
}

/// [`wait`] once the first `ready` said "not yet".
#[inline(never)]
fn wait_slow<S: Side, T>(
    s: &mut S,
    how: Wait,
    what: &str,
    mut ready: impl FnMut(&mut S) -> Result<Option<T>>,
) -> Result<T> {
    let deadline = match how {
        Wait::No => {
            let gone = {
                let e = s.endpoint();
                e.known_gone().or_else(|| e.check_due(false))
            };
            if let Some(err) = gone {
                return match ready(s)? {
                    Some(t) => Ok(t),
                    None => Err(err),
                };
            }
            return Err(Error::new(
                ErrorKind::WouldBlock,
                None,
                format!("the channel is {what}"),
            ));
        }
        Wait::Forever => None,
        Wait::Until(t) => Some(t),
    };
    if let Some(err) = s.endpoint().known_gone() {
        return match ready(s)? {
            Some(t) => Ok(t),
            None => Err(err),
        };
    }
    let spin = s.endpoint().spin;
    if !spin.is_zero() {
        // Polls with `pause` between them (back-to-back polls measured slower: they
        // keep pulling the line the peer is about to write), and the clock read only
        // after a first round of polls: a message that arrives within a few hundred
        // nanoseconds costs no clock read at all.
        let mut until: Option<Instant> = None;
        loop {
            for _ in 0..64 {
                core::hint::spin_loop();
                if let Some(t) = ready(s)? {
                    return Ok(t);
                }
            }
            let now = Instant::now();
            match until {
                None => {
                    until = Some(match deadline {
                        Some(d) => d.min(now + spin),
                        None => now + spin,
                    })
                }
                Some(u) if now >= u => break,
                Some(_) => {}
            }
        }
    }
    loop {
        let e = s.endpoint();
        let seq = e.region.u32_at(S::FUTEX).load(Ordering::Acquire);
        e.region.u32_at(S::SLEEPING).store(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        // The heavy half of the asymmetric fence (see `Endpoint::wake_peer`).
        super::peer::heavy_fence();
        let got = ready(s);
        let e = s.endpoint();
        match got {
            Ok(Some(t)) => {
                e.region.u32_at(S::SLEEPING).store(0, Ordering::Relaxed);
                return Ok(t);
            }
            Err(err) => {
                e.region.u32_at(S::SLEEPING).store(0, Ordering::Relaxed);
                return Err(err);
            }
            Ok(None) => {}
        }
        if let Some(err) = e.check_due(false) {
            e.region.u32_at(S::SLEEPING).store(0, Ordering::Relaxed);
            return match ready(s)? {
                Some(t) => Ok(t),
                None => Err(err),
            };
        }
        let mut nap = e.interval;
        if let Some(d) = deadline {
            let now = Instant::now();
            if now >= d {
                e.region.u32_at(S::SLEEPING).store(0, Ordering::Relaxed);
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    Some(Errno::ETIMEDOUT),
                    format!("timed out: the channel stayed {what}"),
                ));
            }
            nap = nap.min(d - now);
        }
        e.region.futex_wait(S::FUTEX, seq, nap);
    }
}
