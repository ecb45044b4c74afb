//! `shm`: System V shared memory (`shmget`, `shmat`, `shmdt`, `shmctl`) built on the
//! raw syscall core of [`linker_tools::sys`](mod@linker_tools::sys) — never on libc's wrappers, never on
//! another shared-memory crate.
//!
//! | module | purpose |
//! |---|---|
//! | [`sysv`] | the raw layer: the four calls declared with [`linker_tools::sys!`], typed flags ([`GetFlags`](sysv::GetFlags), [`AtFlags`](sysv::AtFlags)) and commands ([`Command`](sysv::Command), any other number through [`shmctl_raw`](sysv::shmctl_raw)), the x86_64 kernel structures with asserted layouts, [`Key`], [`Id`] and glibc's [`ftok`](sysv::ftok) |
//! | [`segment`] | [`Segment`]: create, open (asking for the [`Access`] you need, or none), inspect ([`SegmentInfo`]), change, lock and remove a segment; [`limits`], [`usage`] and [`list_segments`] (like `ipcs -m`) |
//! | [`attach`] | [`Attachment`]: a mapped segment with bounds-checked copy, volatile and atomic accessors, `unsafe` raw access, and RAII detach; the [`Segment::attach`] family that makes one |
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
//! The modules depend on each other one way: `error` and `sysv` at the bottom,
//! then `segment`, then `attach` (which adds the attaching methods to [`Segment`]),
//! then `channel`.
//!
//! # Asking no more than the kernel
//!
//! Each call of the safe layer succeeds exactly when the system call it makes would,
//! for the same caller: the integration tests check it call by call against libc's
//! wrappers, as the owner, as a member of the group, as another user with read,
//! write or no permission, and as root. In particular:
//!
//! - [`Segment::open`] asks for no access (`shmget(key, 0, 0)`), so a process that
//!   may only read a segment opens it and attaches it read-only; ask for more with
//!   [`SegmentOptions::access`]. A *create* sends its mode, which the kernel also
//!   checks against an existing segment.
//! - [`Segment::set_mode`] and [`Segment::set_owner`] need only what `IPC_SET` needs
//!   (ownership, or `CAP_SYS_ADMIN`), not read permission: an owner who set mode `0`
//!   can restore it. They read the other half of the record with `SHM_STAT_ANY`;
//!   [`Segment::set_permissions`] sets all three fields in one call.
//! - [`Segment::stat`] is `IPC_STAT` and needs read permission; [`Segment::stat_any`]
//!   and [`Segment::size`] need none (Linux 4.17 and later).
//!
//! The one refusal of the safe layer's own is an attach address that `SHM_RND` would
//! round down to 0 (see [`AttachOptions::round_down`]).
//!
//! # Where the `unsafe` is
//!
//! `#![deny(unsafe_code)]` holds for the crate but four modules, each with a
//! `# Safety` paragraph for its one story: [`sysv`] (what each call does to this
//! process's memory), [`attach`] (an attachment owns its mapping and its bounds),
//! `volatile` (copies between shared and private memory) and `channel::raw`
//! (pointers into a channel's header and ring, and its futex words).
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
    Access, DEFAULT_MODE, Limits, RemoveOnDrop, Segment, SegmentInfo, SegmentOptions, Usage,
    limits, list_segments, usage,
};
pub use sysv::{Id, Key};
