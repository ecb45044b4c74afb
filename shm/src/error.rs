//! [`Error`]: what went wrong, as a kind to match, the kernel's errno, and a sentence
//! a person can act on.

use std::fmt;
use std::io;

use linker_tools::sys::Errno;

/// The result type of the safe API.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What kind of failure an [`Error`] is; match on it rather than on the message.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No segment has the key (`ENOENT`), or the id does not exist / was removed
    /// (`EINVAL`, `EIDRM` for an id).
    NotFound,
    /// An exclusive create found the key taken (`EEXIST`).
    AlreadyExists,
    /// The caller lacks the permission or privilege (`EACCES`, `EPERM`).
    PermissionDenied,
    /// The size is below `SHMMIN`, above `SHMMAX`, or larger than the existing
    /// segment (`EINVAL` from `shmget`).
    InvalidSize,
    /// An attach address is not a multiple of `SHMLBA` or overlaps a mapping.
    InvalidAddress,
    /// A system-wide limit is reached: `SHMMNI` segments or `SHMALL` pages (`ENOSPC`).
    LimitReached,
    /// The kernel has no memory or address space for it (`ENOMEM`).
    OutOfMemory,
    /// An offset and length reach past the end of the attachment.
    OutOfBounds,
    /// An offset is not aligned for the type accessed there.
    Misaligned,
    /// A write through an attachment mapped read-only.
    ReadOnly,
    /// The kernel rejected the arguments for another reason (`EINVAL`).
    InvalidArgument,
    /// Anything else; see [`Error::errno`].
    Other,
    /// [`channel`](crate::channel): the other side is gone — it closed its end, exited
    /// or was killed — and every message it had committed has been received.
    PeerGone,
    /// [`channel`](crate::channel): the shared header or ring holds values the
    /// protocol cannot produce (a misbehaving or compromised peer, or a stray write);
    /// nothing outside the segment was touched.
    Corrupt,
    /// [`channel`](crate::channel): a `*_timeout` call ran out of time.
    TimedOut,
    /// [`channel`](crate::channel): a `try_*` call found the ring empty (receive) or
    /// full (send).
    WouldBlock,
    /// [`channel`](crate::channel): the message is longer than the ring can carry
    /// ([`Sender::max_message`](crate::channel::Sender::max_message)).
    MessageTooLarge,
    /// [`channel`](crate::channel): the segment is not a channel this version can
    /// open — wrong magic, layout version, sizes or role.
    Incompatible,
}

/// An error of the safe API: a [`kind`](Error::kind) to match, the
/// [`errno`](Error::errno) the kernel returned (if the kernel was involved), and a
/// message naming the segment, the limit or the permission involved.
///
/// ```
/// use shm::{ErrorKind, Key, Segment};
/// let err = Segment::open(Key::from_raw(0x7fff_fff1)).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert!(err.to_string().starts_with("no segment has key 0x7ffffff1"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    errno: Option<Errno>,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, errno: Option<Errno>, message: String) -> Self {
        Self {
            kind,
            errno,
            message,
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The kernel's error number, or `None` for errors this crate detected itself
    /// (bounds, alignment, read-only).
    pub fn errno(&self) -> Option<Errno> {
        self.errno
    }

    /// The explanation, without the errno suffix that `Display` adds.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(e) = self.errno {
            write!(f, " [{e}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("errno", &self.errno)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errno.as_ref().map(|e| e as _)
    }
}

impl From<Error> for io::Error {
    /// Keeps the message; the [`io::ErrorKind`] follows the [`ErrorKind`].
    fn from(e: Error) -> Self {
        let kind = match e.kind {
            ErrorKind::NotFound => io::ErrorKind::NotFound,
            ErrorKind::AlreadyExists => io::ErrorKind::AlreadyExists,
            ErrorKind::PermissionDenied | ErrorKind::ReadOnly => io::ErrorKind::PermissionDenied,
            ErrorKind::OutOfMemory => io::ErrorKind::OutOfMemory,
            ErrorKind::LimitReached => io::ErrorKind::Other,
            ErrorKind::InvalidSize
            | ErrorKind::InvalidAddress
            | ErrorKind::OutOfBounds
            | ErrorKind::Misaligned
            | ErrorKind::InvalidArgument => io::ErrorKind::InvalidInput,
            ErrorKind::Other | ErrorKind::Incompatible => io::ErrorKind::Other,
            ErrorKind::PeerGone => io::ErrorKind::BrokenPipe,
            ErrorKind::Corrupt => io::ErrorKind::InvalidData,
            ErrorKind::TimedOut => io::ErrorKind::TimedOut,
            ErrorKind::WouldBlock => io::ErrorKind::WouldBlock,
            ErrorKind::MessageTooLarge => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}
