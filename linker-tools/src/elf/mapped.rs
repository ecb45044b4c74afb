//! [`MappedFile`]: a file mapped read-only, for the readers that borrow from its bytes.

use std::fs::File;
use std::path::Path;

use super::error::{Error, Result};

/// A whole file mapped read-only (`mmap(2)`, private). Empty files are held as an empty
/// slice (they cannot be mapped).
#[derive(Debug)]
pub struct MappedFile {
    map: Option<memmap2::Mmap>,
}

impl MappedFile {
    /// Maps the file at `path`. Errors are [`ErrorKind::Io`](super::ErrorKind::Io) and
    /// name the path (missing file, permission, a directory, ...).
    pub fn open(path: impl AsRef<Path>) -> Result<MappedFile> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, "stat", e))?;
        if meta.is_dir() {
            return Err(Error::io(
                path,
                "read",
                std::io::Error::from(std::io::ErrorKind::IsADirectory),
            ));
        }
        if meta.len() == 0 {
            return Ok(MappedFile { map: None });
        }
        // SAFETY: a private read-only mapping. Another process truncating or rewriting
        // the file while it is mapped is outside our control (as for every reader of
        // mapped files); ELF files in use are replaced, not rewritten, by package
        // managers and linkers.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, "map", e))?;
        Ok(MappedFile { map: Some(map) })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

impl std::ops::Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}
