//! A message channel between two processes over a SysV segment: single producer,
//! single consumer, variable-length messages in a bounded ring, futex wake-ups, peer
//! death detection, and a peer that is never trusted.
//!
//! | piece | what it does |
//! |---|---|
//! | [`Options`], [`Address`] | create a channel (by [`Key`](crate::Key), by a path through `ftok`, or private) or open one (by key, path or [`Id`](crate::Id)) |
//! | [`Sender`] | [`send`](Sender::send), [`try_send`](Sender::try_send), [`send_timeout`](Sender::send_timeout), and in place: [`send_with`](Sender::send_with) + [`RingWrite`] |
//! | [`Receiver`] | [`recv`](Receiver::recv), [`recv_into`](Receiver::recv_into), `try_`/`_timeout` forms, and in place: [`recv_with`](Receiver::recv_with) + [`RingRead`] |
//! | [`pair`] | both ends in this process (tests, threads) |
//!
//! ```
//! use shm::channel::{Address, Options};
//!
//! // Process A creates a private channel and passes its id to process B (here: us).
//! let mut tx = Options::new().create_sender(&Address::Private)?;
//! let id = tx.id();
//! let mut rx = Options::new().open_receiver(&Address::Id(id))?;
//! tx.send(b"ping")?;
//! assert_eq!(rx.recv()?, b"ping");
//! drop(tx);
//! assert_eq!(rx.recv().unwrap_err().kind(), shm::ErrorKind::PeerGone);
//! # Ok::<(), shm::Error>(())
//! ```
//!
//! # Protocol
//!
//! The segment is one page of header (magic, layout version, sizes, both pids, the
//! receiver's position, two futex words with "I am sleeping" flags, two closed flags;
//! fields written by different sides are two cache lines apart) and a ring of
//! `2^k` bytes. A record is a 64-bit commit word — a tag derived from its stream
//! position, and the length — and the payload padded to 8 bytes; a record that would
//! straddle the end of the ring is preceded by a padding record. The sender writes the
//! payload, zeroes the word where the *next* record will go, and publishes the commit
//! word with a release store; the receiver polls the commit word at its own position
//! (one cache line carries both the signal and a small message) and publishes its
//! position after copying the message out. The sender reads that position only when
//! its cached copy says the ring is full.
//!
//! # What a message costs
//!
//! The hot path of a small message moves one cache line between the two cores: the
//! ring line with the commit word and the payload (a record of up to 56 bytes fits one
//! line with its commit word). Everything else it touches stays put in both caches:
//! the receiver's position (stored after each message into a line only the receiver
//! writes; the sender reads it only when its cached copy says the ring is full), the
//! peer's sleeping flag and closed flag (loaded on every call, written only when a side
//! sleeps or closes). With `membarrier(2)` the fast path has no fence instruction (see
//! *Waiting*). When the next record's commit word starts a new line, the sender asks
//! for that line (`prefetchw`) before writing the current one, so the commit does not
//! wait for two transfers in a row. The checks and copies of the fast path are inlined
//! into `send`/`recv`; error paths and the wait loop are out of line.
//!
//! # Waiting
//!
//! A blocked call spins for [`Options::spin`], then announces it is sleeping (a flag
//! next to its futex word), re-checks, and sleeps in `FUTEX_WAIT` on the shared
//! (not `FUTEX_PRIVATE`) futex word. The other side wakes it only if the flag is set
//! (one `FUTEX_WAKE` per sleep, not per message); SeqCst fences on both sides make the
//! check-then-sleep race-free. Sleeps are bounded by [`Options::liveness_interval`]
//! so a sleeping side notices a dead peer.
//!
//! # Connecting and leaking nothing
//!
//! The creator writes the header, magic last. The opener waits for the magic, checks
//! magic, version, header size, ring size (against the kernel's segment size, not
//! the header's word for it), the maximum message and the creator's role, claims the
//! opener slot with a compare-exchange (a third process is refused), and marks the
//! segment removed (`IPC_RMID`): from then on the kernel destroys it when the last of
//! the two detaches, whichever way they end. The creator does the same when it first
//! sees the opener, and any end does it when dropped.
//!
//! # Peer death
//!
//! The other side is gone when its closed flag is set, its process has exited (a
//! pidfd, or `kill(pid, 0)` before Linux 5.3), or the kernel's attach count drops below
//! two (the kernel detaches the segment from a process that dies). The receiver
//! checks the ring once more after deciding the sender is gone, so it first gets every
//! message the sender had committed — nothing committed is lost, duplicated or
//! reordered — then [`ErrorKind::PeerGone`](crate::ErrorKind::PeerGone).
//!
//! # An untrusted peer
//!
//! The other process may write anything into the segment at any time. This side:
//! keeps its own position and the ring geometry in private memory and never reads
//! them back; reads each shared word once into a local, validates it (the commit tag
//! against the position, the length against the ring, the receiver's position against
//! the range it can be in) and uses only the local; copies message bytes with volatile
//! loads, never through a `&[u8]` over shared memory; and computes every address from
//! its own validated locals, masked to the ring. An impossible value is
//! [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt), and the endpoint stays poisoned.
//! A hostile peer can still send wrong *data* or stall the channel (timeouts bound
//! that), but never make this side touch memory outside the segment, panic or hang
//! past its timeout.

mod endpoint;
mod layout;
mod peer;
mod raw;
mod receiver;
mod sender;

pub use endpoint::{Address, DEFAULT_CAPACITY, Options};
pub use raw::{RingRead, RingWrite};
pub use receiver::Receiver;
pub use sender::Sender;

use crate::error::Result;

/// Both ends of a new private channel, in this process (for threads and tests).
///
/// ```
/// let (mut tx, mut rx) = shm::channel::pair(&shm::channel::Options::new())?;
/// tx.try_send(b"a")?;
/// assert_eq!(rx.try_recv()?, b"a");
/// assert_eq!(rx.try_recv().unwrap_err().kind(), shm::ErrorKind::WouldBlock);
/// # Ok::<(), shm::Error>(())
/// ```
pub fn pair(options: &Options) -> Result<(Sender, Receiver)> {
    let tx = options.create_sender(&Address::Private)?;
    let rx = options.open_receiver(&Address::Id(tx.id()))?;
    Ok((tx, rx))
}
