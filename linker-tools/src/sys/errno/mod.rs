//! [`Errno`]: a Linux error number, decoded from the kernel's `-4095..=-1` window.

use core::fmt;
use std::io;

mod table;

/// A Linux error number (`1..=4095`), as the kernel returns it negated.
///
/// `Copy`, one `u16` wide, free to pass around. Every number Linux defines has a
/// constant (`Errno::ENOENT`), a symbolic [`name`](Errno::name) and a
/// strerror-style [`message`](Errno::message); numbers outside the table are still
/// representable and print as `Unknown error N`.
///
/// Converts losslessly to [`std::io::Error`] (the raw OS error is kept) and back with
/// [`Errno::from_io_error`] or `TryFrom<io::Error>`.
///
/// ```
/// use linker_tools::sys::Errno;
/// let e = Errno::ENOENT;
/// assert_eq!(e.raw(), 2);
/// assert_eq!(e.name(), Some("ENOENT"));
/// assert_eq!(e.to_string(), "No such file or directory (ENOENT)");
/// let io: std::io::Error = e.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
/// assert_eq!(Errno::from_io_error(&io), Some(e));
/// assert_eq!(Errno::from_name("EAGAIN"), Some(Errno::EWOULDBLOCK));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Errno(u16);

impl Errno {
    /// The largest value the kernel can return as an error (`MAX_ERRNO`).
    pub const MAX: i32 = 4095;

    /// Builds an `Errno` from a positive error number; `None` unless `1..=4095`.
    #[inline]
    pub const fn from_raw(raw: i32) -> Option<Self> {
        if raw >= 1 && raw <= Self::MAX {
            Some(Self(raw as u16))
        } else {
            None
        }
    }

    /// Decodes a raw return register already known to lie in `-4095..=-1`.
    #[inline(always)]
    pub(crate) const fn from_kernel(raw: usize) -> Self {
        Self((raw as isize).wrapping_neg() as u16)
    }

    /// The positive error number, as C's `errno` holds it.
    #[inline]
    pub const fn raw(self) -> i32 {
        self.0 as i32
    }

    /// The symbolic name (`"ENOENT"`), or `None` for a number Linux does not define.
    /// Aliases resolve to the canonical name (`EWOULDBLOCK` is `"EAGAIN"`).
    pub fn name(self) -> Option<&'static str> {
        table::name(self.0)
    }

    /// The strerror-style message (`"No such file or directory"`), or `None` for a
    /// number Linux does not define.
    pub fn message(self) -> Option<&'static str> {
        table::message(self.0)
    }

    /// Looks up a symbolic name, aliases included (`"EWOULDBLOCK"`, `"EDEADLOCK"`,
    /// `"ENOTSUP"`).
    pub fn from_name(name: &str) -> Option<Self> {
        table::from_name(name).map(Self)
    }

    /// Every error number Linux defines, in ascending order, each once.
    pub fn iter() -> impl ExactSizeIterator<Item = Errno> + Clone {
        table::ALL.iter().map(|&n| Self(n))
    }

    /// The error number carried by an [`io::Error`], if it carries one in range.
    pub fn from_io_error(err: &io::Error) -> Option<Self> {
        err.raw_os_error().and_then(Self::from_raw)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.message(), self.name()) {
            (Some(msg), Some(name)) => write!(f, "{msg} ({name})"),
            _ => write!(f, "Unknown error {}", self.0),
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Errno::{name}"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl std::error::Error for Errno {}

impl From<Errno> for io::Error {
    #[inline]
    fn from(e: Errno) -> Self {
        io::Error::from_raw_os_error(e.raw())
    }
}

impl TryFrom<io::Error> for Errno {
    /// The original error, returned unchanged when it carries no OS error number.
    type Error = io::Error;

    fn try_from(err: io::Error) -> Result<Self, io::Error> {
        Self::from_io_error(&err).ok_or(err)
    }
}

impl TryFrom<i32> for Errno {
    type Error = InvalidErrno;

    fn try_from(raw: i32) -> Result<Self, InvalidErrno> {
        Self::from_raw(raw).ok_or(InvalidErrno(raw))
    }
}

/// The error from `Errno::try_from(i32)`: the number is outside `1..=4095`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidErrno(pub i32);

impl fmt::Display for InvalidErrno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not an error number (Linux uses 1..=4095)", self.0)
    }
}

impl std::error::Error for InvalidErrno {}
