//! Finding a file's separate debug symbols the way gdb does.
//!
//! In order:
//!
//! 1. by build-id: `<debug-dir>/.build-id/xx/yyyy.debug`, where `xxyyyy` is the hex
//!    build-id (the candidate's own build-id must match);
//! 2. by `.gnu_debuglink` (file name + CRC32 of the debug file, which must match):
//!    beside the file, in `.debug/` beside it, and under `<debug-dir>/<dir of the file>`;
//! 3. MiniDebugInfo: the `.gnu_debugdata` section, an xz-compressed ELF file holding a
//!    `.symtab` (decompressed with the pure-Rust `lzma-rs`).
//!
//! The debug directories default to `/usr/lib/debug`, where Debian's `*-dbg` packages
//! (libc6-dbg) install; [`DebugSearch`] makes the list configurable.
//!
//! Reference: gdb manual, "Debugging Information in Separate Files" and "MiniDebugInfo".

use std::path::{Path, PathBuf};

use super::error::{Error, ErrorKind, Result};

/// Where and how to look for separate debug files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugSearch {
    dirs: Vec<PathBuf>,
    build_id: bool,
    debuglink: bool,
    mini_debug_info: bool,
}

impl Default for DebugSearch {
    /// `/usr/lib/debug`, all three methods on.
    fn default() -> Self {
        DebugSearch {
            dirs: vec![PathBuf::from("/usr/lib/debug")],
            build_id: true,
            debuglink: true,
            mini_debug_info: true,
        }
    }
}

impl DebugSearch {
    /// The default search: `/usr/lib/debug`, by build-id, debuglink and MiniDebugInfo.
    pub fn new() -> Self {
        Self::default()
    }

    /// No separate debug files at all: only the file's own tables.
    pub fn disabled() -> Self {
        DebugSearch {
            dirs: Vec::new(),
            build_id: false,
            debuglink: false,
            mini_debug_info: false,
        }
    }

    /// Replaces the debug directories (the roots of `.build-id/` and of the
    /// `<dir>/<debuglink>` layout).
    #[must_use = "with_dirs returns the changed search; the original is consumed"]
    pub fn with_dirs<I, P>(mut self, dirs: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.dirs = dirs.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a debug directory, searched after the ones already listed.
    #[must_use = "a builder method returns the changed search"]
    pub fn add_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dirs.push(dir.into());
        self
    }

    /// Turns the build-id lookup on or off.
    #[must_use = "a builder method returns the changed search"]
    pub fn build_id(mut self, on: bool) -> Self {
        self.build_id = on;
        self
    }

    /// Turns the `.gnu_debuglink` lookup on or off.
    #[must_use = "a builder method returns the changed search"]
    pub fn debuglink(mut self, on: bool) -> Self {
        self.debuglink = on;
        self
    }

    /// Turns the use of `.gnu_debugdata` (MiniDebugInfo) on or off.
    #[must_use = "a builder method returns the changed search"]
    pub fn mini_debug_info(mut self, on: bool) -> Self {
        self.mini_debug_info = on;
        self
    }

    /// The debug directories, in search order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    pub(crate) fn uses_build_id(&self) -> bool {
        self.build_id
    }

    pub(crate) fn uses_debuglink(&self) -> bool {
        self.debuglink
    }

    pub(crate) fn uses_mini_debug_info(&self) -> bool {
        self.mini_debug_info
    }

    /// The build-id paths to try: `<dir>/.build-id/xx/yyyy.debug` for each directory.
    ///
    /// ```
    /// use linker_tools::elf::DebugSearch;
    /// let paths = DebugSearch::new().build_id_candidates(&[0x93, 0xac, 0x61]);
    /// assert_eq!(paths[0].to_str(), Some("/usr/lib/debug/.build-id/93/ac61.debug"));
    /// ```
    pub fn build_id_candidates(&self, build_id: &[u8]) -> Vec<PathBuf> {
        let Some((first, rest)) = build_id.split_first() else {
            return Vec::new();
        };
        let rest: String = rest.iter().map(|b| format!("{b:02x}")).collect();
        self.dirs
            .iter()
            .map(|d| {
                d.join(".build-id")
                    .join(format!("{first:02x}"))
                    .join(format!("{rest}.debug"))
            })
            .collect()
    }

    /// The `.gnu_debuglink` paths to try for `file` whose link names `link`: beside it,
    /// in `.debug/` beside it, then `<dir>/<file's directory>/link` for each directory.
    pub fn debuglink_candidates(&self, file: &Path, link: &str) -> Vec<PathBuf> {
        // A link is a bare file name; anything else cannot come from a sane linker.
        if link.is_empty() || link.contains('/') {
            return Vec::new();
        }
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        let mut out = vec![dir.join(link), dir.join(".debug").join(link)];
        let rel = dir.strip_prefix("/").unwrap_or(&dir);
        out.extend(self.dirs.iter().map(|d| d.join(rel).join(link)));
        out
    }
}

/// The CRC32 that `.gnu_debuglink` records (the IEEE CRC-32 of the whole debug file).
pub fn debuglink_crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Decompresses a `.gnu_debugdata` section (xz) into the embedded ELF file.
pub fn decompress_mini_debug_info(xz: &[u8]) -> Result<Vec<u8>> {
    /// Stops a hostile `.gnu_debugdata` (an "xz bomb") from exhausting memory: real
    /// MiniDebugInfo is a small `.symtab`-only ELF, far below this.
    const LIMIT: usize = 1 << 30;
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len() + buf.len() > LIMIT {
                return Err(std::io::Error::other(format!(
                    "it decompresses to more than {} MiB",
                    LIMIT >> 20
                )));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    lzma_rs::xz_decompress(&mut std::io::BufReader::new(xz), &mut out).map_err(|e| {
        Error::new(
            ErrorKind::Decompress,
            format!(".gnu_debugdata is not valid xz data: {e}"),
        )
    })?;
    Ok(out.0)
}
