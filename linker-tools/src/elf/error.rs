//! The one error type of `elf`, `process` and `resolve`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong, for a caller to match on.
///
/// New kinds may be added; match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading a file or process memory failed (see [`Error::io_error`]).
    Io,
    /// The input is not a well-formed ELF file or image.
    Malformed,
    /// The ELF file is of a class or kind this crate does not handle.
    Unsupported,
    /// No symbol of that name (or version, or source file) exists.
    NotFound,
    /// The symbol exists only as an undefined reference: it is defined elsewhere.
    Undefined,
    /// Several distinct symbols match; the message lists them.
    Ambiguous,
    /// The symbol has another kind than asked (an object asked as a function, ...).
    KindMismatch,
    /// No loaded module matches the selector.
    UnknownModule,
    /// The file on disk is not the image that is loaded (their build-ids differ).
    BuildIdMismatch,
    /// The symbol's size contradicts its declared Rust type (a `linkname!` static of
    /// another size, or a symbol of size 0).
    SizeMismatch,
    /// A compressed section (MiniDebugInfo) could not be decompressed.
    Decompress,
}

/// An error from indexing ELF files, finding modules or resolving symbols.
///
/// [`kind`](Error::kind) is for code; [`Display`](fmt::Display) is a sentence that names
/// the file and says what to do.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    path: Option<PathBuf>,
    source: Option<io::Error>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            path: None,
            source: None,
        }
    }

    pub(crate) fn io(path: &Path, what: &str, err: io::Error) -> Self {
        Error {
            kind: ErrorKind::Io,
            message: format!("cannot {what} {}: {err}", path.display()),
            path: Some(path.to_owned()),
            source: Some(err),
        }
    }

    pub(crate) fn malformed(err: object::Error) -> Self {
        Error::new(ErrorKind::Malformed, format!("malformed ELF: {err}"))
    }

    pub(crate) fn with_path(mut self, path: &Path) -> Self {
        if self.path.is_none() {
            self.path = Some(path.to_owned());
            if self.kind != ErrorKind::Io {
                self.message = format!("{}: {}", path.display(), self.message);
            }
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The underlying I/O error, for [`ErrorKind::Io`].
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
