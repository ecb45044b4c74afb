//! `shm`: System V shared memory (`shmget`, `shmat`, `shmdt`, `shmctl`) built on the
//! raw syscall core of [`linker_tools::sys`](mod@linker_tools::sys) — never on libc's wrappers, never on
//! another shared-memory crate.
//!
//! | module | purpose |
//! |---|---|
//! | [`sysv`] | the raw layer: the four calls declared with [`linker_tools::sys!`], typed flags ([`GetFlags`](sysv::GetFlags), [`AtFlags`](sysv::AtFlags)) and commands ([`Command`](sysv::Command)), the x86_64 kernel structures with asserted layouts, [`Key`], [`Id`] and glibc's [`ftok`](sysv::ftok) |
//! | [`segment`] | [`Segment`]: create, open, inspect ([`SegmentInfo`]), change, lock and remove a segment; [`limits`], [`usage`] and [`list_segments`] (like `ipcs -m`) |
//! | [`attach`] | [`Attachment`]: a mapped segment with bounds-checked copy, volatile and atomic accessors, `unsafe` raw access, and RAII detach |
//! | [`channel`] | a cross-process message channel in a segment: SPSC ring of variable-length messages, spin-then-futex waiting, zero-copy closures, peer-death detection ([`ErrorKind::PeerGone`]) and validation of everything the peer writes ([`ErrorKind::Corrupt`]) |
//! | [`error`] | [`Error`]: a [`ErrorKind`] to match, the kernel's errno, and a message naming the size, limit, key or permission involved |
//!
//! # Leaking nothing
//!
//! Segments outlive processes. Three ways to make sure they go:
//! [`Segment::remove_on_drop`] (removed when a guard drops, unwinding included);
//! [`Segment::create_private_attached`] / [`Attachment::mark_removed`] (removed by the
//! kernel when the last attachment goes, even if every process using it crashes); or
//! an explicit [`Segment::remove`].
//!
//! # Example
//!
//! ```
//! use shm::{Key, Segment};
//!
//! // A keyed segment another process could open with `Segment::open(key)`.
//! let key = Key::from_raw(0x5348_0000 | (std::process::id() as i32 & 0xffff));
//! let seg = Segment::create_exclusive(key, 64 * 1024)?.remove_on_drop();
//! let map = seg.attach()?;
//! map.write_at(0, b"ping")?;
//!
//! let again = Segment::open(key)?.attach_read_only()?;
//! let mut buf = [0u8; 4];
//! again.read_at(0, &mut buf)?;
//! assert_eq!(&buf, b"ping");
//! assert_eq!(seg.stat()?.nattch, 2);
//! # Ok::<(), shm::Error>(())
//! ```
//!
//! The crate builds only for Linux on x86_64, like the syscall core under it.
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "shm supports only Linux on x86_64, like the linker-tools syscall core it is built on"
);

pub mod attach;
pub mod channel;
pub mod error;
pub mod segment;
pub mod sysv;
mod volatile;

pub use attach::{AttachOptions, Attachment, Scalar};
pub use error::{Error, ErrorKind, Result};
pub use linker_tools::sys::{Errno, Mode, Pid};
pub use segment::{
    DEFAULT_MODE, Limits, RemoveOnDrop, Segment, SegmentInfo, SegmentOptions, Usage, limits,
    list_segments, usage,
};
pub use sysv::{Id, Key};
