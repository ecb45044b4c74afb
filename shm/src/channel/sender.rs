//! [`Sender`]: the producing end.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::endpoint::{Address, Endpoint, Options, Side, Wait, wait};
use super::layout::*;
use super::raw::RingWrite;
use crate::error::{Error, ErrorKind, Result};
use crate::sysv::Id;
use linker_tools::sys::Pid;

/// The sending end of a channel: [`send`](Self::send) copies a message into the ring,
/// [`send_with`](Self::send_with) lets a closure write it in place.
///
/// Sends block (spin, then sleep on the futex) only while the ring is full. A receiver
/// that closed its end is reported at once ([`ErrorKind::PeerGone`]); one that died is
/// reported when the ring fills up and this side has to wait.
///
/// Dropping the sender closes the channel: the receiver gets every message sent so far,
/// then `PeerGone`.
#[must_use = "dropping a Sender closes the channel's sending end"]
pub struct Sender {
    ep: Endpoint,
    /// Where the next record goes (a stream position; only this side knows it).
    tail: u64,
    /// The receiver's position as last read from the header and validated.
    head: u64,
}

/// Making the sending end: the [`Options`] methods that return a [`Sender`].
impl Options {
    /// Creates a channel at `at` ([`Address::Key`], [`Address::Path`] or
    /// [`Address::Private`]) and returns its sending end; another process opens the
    /// receiving end with [`open_receiver`](Self::open_receiver).
    pub fn create_sender(&self, at: &Address) -> Result<Sender> {
        Ok(Sender::new(self.create(at, ROLE_SENDER)?))
    }

    /// Opens the sending end of the channel at `at` ([`Address::Key`],
    /// [`Address::Path`] or [`Address::Id`]), created by
    /// [`create_receiver`](Self::create_receiver).
    pub fn open_sender(&self, at: &Address) -> Result<Sender> {
        Ok(Sender::new(self.open(at, ROLE_SENDER)?))
    }
}

impl Side for Sender {
    const SLEEPING: usize = OFF_PRODUCER_SLEEPING;
    const FUTEX: usize = OFF_SPACE_FUTEX;
    fn endpoint(&mut self) -> &mut Endpoint {
        &mut self.ep
    }
}

impl Sender {
    pub(crate) fn new(ep: Endpoint) -> Sender {
        Sender {
            ep,
            tail: 0,
            head: 0,
        }
    }

    /// Creates a channel at `at` with default [`Options`] and returns its sending end.
    pub fn create(at: &Address) -> Result<Sender> {
        Options::new().create_sender(at)
    }

    /// Opens the sending end of the channel at `at` (created by
    /// [`Receiver::create`](super::Receiver::create)) with default [`Options`].
    pub fn open(at: &Address) -> Result<Sender> {
        Options::new().open_sender(at)
    }

    /// The segment's id: hand it to the other process to open [`Address::Id`].
    pub fn id(&self) -> Id {
        self.ep.id()
    }

    /// Tells a creator which process will open the other end (one it spawned, say),
    /// so that process's death is reported as [`ErrorKind::PeerGone`](crate::ErrorKind::PeerGone)
    /// even if it dies before connecting. No effect once the receiver has connected.
    pub fn expect_peer(&mut self, pid: Pid) {
        self.ep.expect_peer(pid);
    }

    /// Ring size in bytes.
    pub fn capacity(&self) -> usize {
        self.ep.cap()
    }

    /// The longest message the ring carries (a little under half the capacity).
    pub fn max_message(&self) -> usize {
        self.ep.max_message()
    }

    /// The receiver's process id as it declared it, once it has connected.
    pub fn peer_pid(&self) -> Option<Pid> {
        self.ep.peer_pid()
    }

    /// Sends `msg`, waiting while the ring is full.
    #[inline]
    pub fn send(&mut self, msg: &[u8]) -> Result<()> {
        self.send_copy(msg, Wait::Forever)
    }

    /// Sends `msg` if the ring has room now; otherwise [`ErrorKind::WouldBlock`].
    #[inline]
    pub fn try_send(&mut self, msg: &[u8]) -> Result<()> {
        self.send_copy(msg, Wait::No)
    }

    /// Sends `msg`, waiting at most `timeout` for room ([`ErrorKind::TimedOut`]).
    pub fn send_timeout(&mut self, msg: &[u8], timeout: Duration) -> Result<()> {
        self.send_copy(msg, Wait::timeout(timeout))
    }

    /// Reserves `len` bytes in the ring (waiting while it is full), lets `write` fill
    /// them in place, and commits the message — `len` bytes, or fewer if `write`
    /// called [`RingWrite::truncate`]. If `write` panics, nothing is sent.
    ///
    /// ```
    /// let (mut tx, mut rx) = shm::channel::pair(&shm::channel::Options::new())?;
    /// tx.send_with(12, |buf| {
    ///     buf.write_at(0, &7u32.to_le_bytes()).unwrap();
    ///     buf.write_at(4, &42u64.to_le_bytes()).unwrap();
    /// })?;
    /// let id = rx.recv_with(|m| u32::from_le_bytes(m.read_array(0).unwrap()))?;
    /// assert_eq!(id, 7);
    /// # Ok::<(), shm::Error>(())
    /// ```
    pub fn send_with<R>(
        &mut self,
        len: usize,
        write: impl FnOnce(&mut RingWrite<'_>) -> R,
    ) -> Result<R> {
        self.send_in_place(len, Wait::Forever, write)
    }

    /// [`send_with`](Self::send_with) if the ring has room now; otherwise
    /// [`ErrorKind::WouldBlock`] (and `write` is not called).
    pub fn try_send_with<R>(
        &mut self,
        len: usize,
        write: impl FnOnce(&mut RingWrite<'_>) -> R,
    ) -> Result<R> {
        self.send_in_place(len, Wait::No, write)
    }

    /// [`send_with`](Self::send_with), waiting at most `timeout` for room.
    pub fn send_with_timeout<R>(
        &mut self,
        len: usize,
        timeout: Duration,
        write: impl FnOnce(&mut RingWrite<'_>) -> R,
    ) -> Result<R> {
        self.send_in_place(len, Wait::timeout(timeout), write)
    }

    #[inline(always)]
    fn send_copy(&mut self, msg: &[u8], how: Wait) -> Result<()> {
        let off = self.reserve(msg.len(), how)?;
        self.prefetch_next(msg.len());
        if !self.ep.region.write_ring(off, msg) {
            return Err(internal(off, msg.len()));
        }
        self.commit(msg.len());
        Ok(())
    }

    #[inline(always)]
    fn send_in_place<R>(
        &mut self,
        len: usize,
        how: Wait,
        write: impl FnOnce(&mut RingWrite<'_>) -> R,
    ) -> Result<R> {
        let off = self.reserve(len, how)?;
        self.prefetch_next(len);
        let Some(mut view) = self.ep.region.view_mut(off, len) else {
            return Err(internal(off, len));
        };
        let r = write(&mut view);
        let n = view.len();
        self.commit(n);
        Ok(r)
    }

    /// Makes room for a `len`-byte message at `tail` (writing a padding record first if
    /// it would straddle the end of the ring); returns the payload's ring offset.
    #[inline(always)]
    fn reserve(&mut self, len: usize, how: Wait) -> Result<usize> {
        if len > self.ep.max_message() {
            return Err(self.too_large(len));
        }
        self.ep.poisoned()?;
        if let Some(e) = self.ep.known_gone() {
            return Err(e);
        }
        wait(self, how, "full", |s| s.try_reserve(len))?;
        Ok((self.tail as usize & (self.ep.cap() - 1)) + WORD)
    }

    #[cold]
    #[inline(never)]
    fn too_large(&self, len: usize) -> Error {
        Error::new(
            ErrorKind::MessageTooLarge,
            None,
            format!(
                "a {len}-byte message does not fit the channel's {}-byte ring (at most {} \
                 bytes per message); create it with a larger Options::capacity",
                self.ep.cap(),
                self.ep.max_message()
            ),
        )
    }

    /// Room for `len` bytes at `tail` now? The fast path needs no shared read: the
    /// cached receiver position says there is room, and the record does not wrap.
    #[inline(always)]
    fn try_reserve(&mut self, len: usize) -> Result<Option<()>> {
        let cap = self.ep.cap();
        let rec = record_size(len);
        let off = self.tail as usize & (cap - 1);
        let used = self.tail.wrapping_sub(self.head);
        if off + rec <= cap && used + (rec + WORD) as u64 <= cap as u64 {
            return Ok(Some(()));
        }
        self.try_reserve_slow(len)
    }

    /// [`try_reserve`](Self::try_reserve) when the ring looks full from here or the
    /// record needs padding first: reads the receiver's position.
    #[inline(never)]
    fn try_reserve_slow(&mut self, len: usize) -> Result<Option<()>> {
        let cap = self.ep.cap();
        let rec = record_size(len);
        let off = self.tail as usize & (cap - 1);
        let pad = if off + rec > cap { cap - off } else { 0 };
        let need = (pad + rec + WORD) as u64;
        let used = self.tail.wrapping_sub(self.head);
        if used + need > cap as u64 {
            // Read the receiver's position once and check it against what it can be:
            // word-aligned, no earlier than last time, no later than what we wrote.
            let h = self.ep.region.u64_at(OFF_HEAD).load(Ordering::Acquire);
            if h % WORD as u64 != 0 || h.wrapping_sub(self.head) > used {
                return Err(self.ep.poison(format!(
                    "the receiver's position {h} is impossible: the last one was {} and \
                     {} bytes were sent",
                    self.head, self.tail
                )));
            }
            self.head = h;
            if self.tail.wrapping_sub(h) + need > cap as u64 {
                return Ok(None);
            }
        }
        if pad > 0 {
            let next = self.tail + pad as u64;
            let region = &self.ep.region;
            region.ring_word(next).store(0, Ordering::Relaxed);
            region
                .ring_word(self.tail)
                .store(commit_word(self.tail, PAD), Ordering::Release);
            self.tail = next;
        }
        Ok(Some(()))
    }

    /// If the word after a `len`-byte record at `tail` (zeroed by [`commit`](Self::commit))
    /// starts a new cache line, start taking that line now, so the commit does not wait
    /// for it after the record's own line.
    #[inline(always)]
    fn prefetch_next(&self, len: usize) {
        let next = self.tail + record_size(len) as u64;
        if next % 64 == 0 {
            self.ep.region.prefetch_write(next);
        }
    }

    /// Publishes the reserved record with `len` bytes.
    #[inline(always)]
    fn commit(&mut self, len: usize) {
        let pos = self.tail;
        let rec = record_size(len) as u64;
        let region = &self.ep.region;
        // The next record's commit word must read "not yet" until it is written; the
        // Release store below orders this (and the payload) before the commit.
        region.ring_word(pos + rec).store(0, Ordering::Relaxed);
        region
            .ring_word(pos)
            .store(commit_word(pos, len as u32), Ordering::Release);
        self.tail = pos + rec;
        self.ep.wake_peer(OFF_CONSUMER_SLEEPING, OFF_DATA_FUTEX);
    }
}

#[cold]
#[inline(never)]
fn internal(off: usize, len: usize) -> Error {
    Error::new(
        ErrorKind::Other,
        None,
        format!(
            "internal error: ring bytes {off}..{} out of range",
            off + len
        ),
    )
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.ep.close();
    }
}

impl core::fmt::Debug for Sender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("id", &self.id())
            .field("capacity", &self.ep.cap())
            .field("sent_bytes", &self.tail)
            .field("peer_pid", &self.peer_pid())
            .finish()
    }
}
