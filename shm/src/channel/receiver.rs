//! [`Receiver`]: the consuming end.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::endpoint::{Address, Endpoint, Options, Side, Wait, wait};
use super::layout::*;
use super::raw::RingRead;
use crate::error::Result;
use crate::sysv::Id;
use linker_tools::sys::Pid;

/// The receiving end of a channel: [`recv`](Self::recv) and
/// [`recv_into`](Self::recv_into) copy the next message out,
/// [`recv_with`](Self::recv_with) lets a closure read it in place.
///
/// When the sender is gone — closed, exited or killed — the receiver first gets every
/// message it had committed, then [`ErrorKind::PeerGone`](crate::ErrorKind::PeerGone).
/// Anything in the ring the protocol cannot produce is
/// [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt), and the channel stays that way.
#[must_use = "dropping a Receiver closes the channel's receiving end"]
pub struct Receiver {
    ep: Endpoint,
    /// The next record's position (only this side knows it; published as `head`).
    head: u64,
}

/// Making the receiving end: the [`Options`] methods that return a [`Receiver`].
impl Options {
    /// Creates a channel at `at` and returns its receiving end.
    pub fn create_receiver(&self, at: &Address) -> Result<Receiver> {
        Ok(Receiver::new(self.create(at, ROLE_RECEIVER)?))
    }

    /// Opens the receiving end of the channel at `at`.
    pub fn open_receiver(&self, at: &Address) -> Result<Receiver> {
        Ok(Receiver::new(self.open(at, ROLE_RECEIVER)?))
    }
}

impl Side for Receiver {
    const SLEEPING: usize = OFF_CONSUMER_SLEEPING;
    const FUTEX: usize = OFF_DATA_FUTEX;
    fn endpoint(&mut self) -> &mut Endpoint {
        &mut self.ep
    }
}

impl Receiver {
    pub(crate) fn new(ep: Endpoint) -> Receiver {
        Receiver { ep, head: 0 }
    }

    /// Creates a channel at `at` with default [`Options`] and returns its receiving end.
    pub fn create(at: &Address) -> Result<Receiver> {
        Options::new().create_receiver(at)
    }

    /// Opens the receiving end of the channel at `at` (created by
    /// [`Sender::create`](super::Sender::create)) with default [`Options`].
    pub fn open(at: &Address) -> Result<Receiver> {
        Options::new().open_receiver(at)
    }

    /// The segment's id: hand it to the other process to open [`Address::Id`].
    pub fn id(&self) -> Id {
        self.ep.id()
    }

    /// Tells a creator which process will open the other end (one it spawned, say),
    /// so that process's death is reported as [`ErrorKind::PeerGone`](crate::ErrorKind::PeerGone)
    /// even if it dies before connecting. No effect once the sender has connected.
    pub fn expect_peer(&mut self, pid: Pid) {
        self.ep.expect_peer(pid);
    }

    /// Ring size in bytes.
    pub fn capacity(&self) -> usize {
        self.ep.cap()
    }

    /// The longest message the ring carries.
    pub fn max_message(&self) -> usize {
        self.ep.max_message()
    }

    /// The sender's process id as it declared it, once it has connected.
    pub fn peer_pid(&self) -> Option<Pid> {
        self.ep.peer_pid()
    }

    /// The next message, waiting for one.
    pub fn recv(&mut self) -> Result<Vec<u8>> {
        self.recv_in_place(Wait::Forever, |m| m.to_vec())
    }

    /// The next message if there is one now; otherwise
    /// [`ErrorKind::WouldBlock`](crate::ErrorKind::WouldBlock).
    pub fn try_recv(&mut self) -> Result<Vec<u8>> {
        self.recv_in_place(Wait::No, |m| m.to_vec())
    }

    /// The next message, waiting at most `timeout`
    /// ([`ErrorKind::TimedOut`](crate::ErrorKind::TimedOut)).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Vec<u8>> {
        self.recv_in_place(Wait::timeout(timeout), |m| m.to_vec())
    }

    /// The next message into `buf` (cleared first; its allocation is reused); returns
    /// its length.
    #[inline]
    pub fn recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize> {
        self.recv_in_place(Wait::Forever, |m| {
            m.copy_into(buf);
            m.len()
        })
    }

    /// [`recv_into`](Self::recv_into) without waiting.
    #[inline]
    pub fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize> {
        self.recv_in_place(Wait::No, |m| {
            m.copy_into(buf);
            m.len()
        })
    }

    /// [`recv_into`](Self::recv_into), waiting at most `timeout`.
    pub fn recv_into_timeout(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> Result<usize> {
        self.recv_in_place(Wait::timeout(timeout), |m| {
            m.copy_into(buf);
            m.len()
        })
    }

    /// Waits for the next message and lets `read` look at it in the ring; the message
    /// is consumed when `read` returns (if `read` panics, it stays for the next call).
    #[inline]
    pub fn recv_with<R>(&mut self, read: impl FnOnce(&RingRead<'_>) -> R) -> Result<R> {
        self.recv_in_place(Wait::Forever, read)
    }

    /// [`recv_with`](Self::recv_with) without waiting.
    #[inline]
    pub fn try_recv_with<R>(&mut self, read: impl FnOnce(&RingRead<'_>) -> R) -> Result<R> {
        self.recv_in_place(Wait::No, read)
    }

    /// [`recv_with`](Self::recv_with), waiting at most `timeout`.
    pub fn recv_with_timeout<R>(
        &mut self,
        timeout: Duration,
        read: impl FnOnce(&RingRead<'_>) -> R,
    ) -> Result<R> {
        self.recv_in_place(Wait::timeout(timeout), read)
    }

    #[inline(always)]
    fn recv_in_place<R>(&mut self, how: Wait, read: impl FnOnce(&RingRead<'_>) -> R) -> Result<R> {
        self.ep.poisoned()?;
        let (off, len) = wait(self, how, "empty", Receiver::peek)?;
        let Some(view) = self.ep.region.view(off, len) else {
            // `peek` checked `off + len <= cap`; unreachable, but never a panic.
            return Err(self
                .ep
                .poison(format!("record at ring offset {off} out of range")));
        };
        let r = read(&view);
        self.consume(len);
        Ok(r)
    }

    /// The next committed record as (payload offset in the ring, length), after
    /// checking its commit word: read once, into locals, and validated against this
    /// side's own position and ring size.
    #[inline(always)]
    fn peek(&mut self) -> Result<Option<(usize, usize)>> {
        // The fast path: a commit word for a record that fits before the end of the
        // ring; anything else (nothing yet, padding, a bad word) goes the long way.
        let cap = self.ep.cap();
        let pos = self.head;
        let w = self.ep.region.ring_word(pos).load(Ordering::Acquire);
        let off = pos as usize & (cap - 1);
        let len = w as u32 as usize;
        if (w >> 32) as u32 == tag(pos)
            && len <= self.ep.max_message()
            && off + record_size(len) <= cap
        {
            return Ok(Some((off + WORD, len)));
        }
        if w == 0 {
            return Ok(None);
        }
        self.peek_slow(w)
    }

    /// [`peek`](Self::peek) past padding, or into the error; `first` is the commit
    /// word `peek` read at the current position (not read again).
    #[inline(never)]
    fn peek_slow(&mut self, first: u64) -> Result<Option<(usize, usize)>> {
        let cap = self.ep.cap();
        let mut skipped = false;
        let mut next = Some(first);
        loop {
            let pos = self.head;
            let w = match next.take() {
                Some(w) => w,
                None => self.ep.region.ring_word(pos).load(Ordering::Acquire),
            };
            if w == 0 {
                if skipped {
                    self.publish();
                }
                return Ok(None);
            }
            let off = pos as usize & (cap - 1);
            let (tag_found, len) = ((w >> 32) as u32, w as u32);
            if tag_found != tag(pos) {
                return Err(self.ep.poison(format!(
                    "the commit word at stream position {pos} is {w:#018x}, whose tag \
                     {tag_found:#010x} is not the position's ({:#010x})",
                    tag(pos)
                )));
            }
            if len == PAD {
                if off == 0 || skipped {
                    return Err(self.ep.poison(format!(
                        "a padding record at stream position {pos} (ring offset {off}) \
                         cannot be: padding never starts a lap or follows padding"
                    )));
                }
                self.head = pos + (cap - off) as u64;
                skipped = true;
                continue;
            }
            let len = len as usize;
            if len > self.ep.max_message() || off + record_size(len) > cap {
                return Err(self.ep.poison(format!(
                    "a {len}-byte record at ring offset {off} does not fit the {cap}-byte \
                     ring (messages are at most {} bytes and never wrap)",
                    self.ep.max_message()
                )));
            }
            return Ok(Some((off + WORD, len)));
        }
    }

    #[inline(always)]
    fn consume(&mut self, len: usize) {
        self.head += record_size(len) as u64;
        self.publish();
    }

    #[inline(always)]
    fn publish(&self) {
        self.ep
            .region
            .u64_at(OFF_HEAD)
            .store(self.head, Ordering::Release);
        self.ep.wake_peer(OFF_PRODUCER_SLEEPING, OFF_SPACE_FUTEX);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.ep.close();
    }
}

impl core::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("id", &self.id())
            .field("capacity", &self.ep.cap())
            .field("received_bytes", &self.head)
            .field("peer_pid", &self.peer_pid())
            .finish()
    }
}
