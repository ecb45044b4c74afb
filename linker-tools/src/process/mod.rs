//! Loaded modules: in this process (`dl_iterate_phdr`) or another (`/proc/PID/maps`).
//!
//! A [`Module`] is one loaded ELF image: its file, its load bias (runtime address minus
//! file address), its build-id as read from the *loaded* image, and for this process its
//! TLS module id. The resolver turns a symbol's file address into a runtime one with it.
//!
//! | function | what it returns |
//! |---|---|
//! | [`modules`] | every module of this process: main executable, libraries, the vDSO |
//! | [`find`] | one module of this process by path, file name, soname or `"main"` |
//! | [`containing`] | the module of this process whose segments hold an address |
//! | [`remote_modules`], [`find_remote`] | the same for another process, from `/proc/PID/maps` |
//!
//! # Safety
//!
//! Reading a module's program headers and notes from memory dereferences pointers the
//! dynamic linker hands to `dl_iterate_phdr`: they are valid while the callback runs,
//! and everything is copied out before it returns.

mod maps;
mod self_modules;

use std::path::{Path, PathBuf};

pub use maps::{find_remote, remote_modules};
pub use self_modules::{containing, find, modules};

use crate::elf::{Error, ErrorKind, SymbolIndex};

/// One loaded ELF image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Module {
    /// The file it was loaded from (`/proc/self/exe` resolved for the main executable);
    /// for the vDSO, its name `linux-vdso.so.1` (there is no file).
    pub path: PathBuf,
    /// Load bias: runtime address = bias + file address (`st_value`).
    pub bias: u64,
    /// The GNU build-id read from the loaded image's `PT_NOTE` segments.
    pub build_id: Option<Vec<u8>>,
    /// The TLS module id (`dlpi_tls_modid`), 0 when it has no TLS or is in another process.
    pub tls_module_id: usize,
    /// The runtime address ranges of its `PT_LOAD` segments (start, end).
    pub segments: Vec<(u64, u64)>,
    /// This is the main executable.
    pub is_main: bool,
    /// This is the vDSO (no file on disk).
    pub is_vdso: bool,
    /// The process it is loaded in; `None` for this process.
    pub pid: Option<u32>,
}

impl Module {
    /// The file name of [`path`](Module::path).
    pub fn file_name(&self) -> Option<&str> {
        self.path.file_name().and_then(|n| n.to_str())
    }

    /// Whether `addr` (a runtime address) lies in one of its segments.
    pub fn contains(&self, addr: u64) -> bool {
        self.segments.iter().any(|&(s, e)| addr >= s && addr < e)
    }

    /// The module's build-id as lowercase hex, or `"none"`.
    pub fn build_id_hex(&self) -> String {
        hex(self.build_id.as_deref())
    }

    /// Whether `selector` names this module: `"main"`, a path (same file after
    /// canonicalisation), or a file name. Sonames need the file: see [`find`].
    pub fn matches(&self, selector: &str) -> bool {
        if selector == "main" {
            return self.is_main;
        }
        if selector.contains('/') {
            let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            return canon(Path::new(selector)) == canon(&self.path);
        }
        self.file_name() == Some(selector)
    }
}

pub(crate) fn hex(bytes: Option<&[u8]>) -> String {
    match bytes {
        Some(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        None => "none".to_owned(),
    }
}

/// Picks the module that `selector` names among `modules`; sonames are read from the files.
pub(crate) fn select(modules: Vec<Module>, selector: &str, where_: &str) -> Result<Module, Error> {
    if let Some(m) = modules.iter().find(|m| m.matches(selector)) {
        return Ok(m.clone());
    }
    if !selector.contains('/') && selector != "main" {
        for m in &modules {
            if m.is_vdso {
                continue;
            }
            let soname = SymbolIndex::open_with(&m.path, &crate::elf::DebugSearch::disabled())
                .ok()
                .and_then(|i| i.soname().map(str::to_owned));
            if soname.as_deref() == Some(selector) {
                return Ok(m.clone());
            }
        }
    }
    let names: Vec<String> = modules
        .iter()
        .map(|m| m.path.display().to_string())
        .collect();
    Err(Error::new(
        ErrorKind::UnknownModule,
        format!(
            "no module `{selector}` is loaded in {where_}; select by path, file name, soname or \"main\" \
             among: {}",
            names.join(", ")
        ),
    ))
}
