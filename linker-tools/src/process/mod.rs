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
//! | [`Module::from_library`] | the module of a library opened with `libloading` (`dlinfo`) |
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

use crate::elf::{Error, ErrorKind};

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
    /// `DT_SONAME`: for this process read from the loaded image's dynamic section, for
    /// another process from the file.
    pub soname: Option<String>,
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
    /// canonicalisation), a file name, or its soname.
    pub fn matches(&self, selector: &str) -> bool {
        if selector == "main" {
            return self.is_main;
        }
        if selector.contains('/') {
            let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            return canon(Path::new(selector)) == canon(&self.path);
        }
        self.file_name() == Some(selector) || self.soname.as_deref() == Some(selector)
    }

    /// The module of a library opened with `libloading`, found through
    /// `dlinfo(RTLD_DI_LINKMAP)` on its handle.
    ///
    /// The library is borrowed mutably only to read its handle (libloading 0.8 hands
    /// the raw handle out by value); it is the same open library afterwards. The module
    /// stays valid while the library stays open.
    ///
    /// ```
    /// use linker_tools::process::Module;
    /// // SAFETY: libm's initialisers are safe to run.
    /// let mut lib = unsafe { libloading::Library::new("libm.so.6") }.unwrap();
    /// let module = Module::from_library(&mut lib)?;
    /// assert_eq!(module.soname.as_deref(), Some("libm.so.6"));
    /// # Ok::<(), linker_tools::elf::Error>(())
    /// ```
    pub fn from_library(lib: &mut libloading::Library) -> Result<Module, Error> {
        let placeholder = libloading::Library::from(libloading::os::unix::Library::this());
        let unix: libloading::os::unix::Library = std::mem::replace(lib, placeholder).into();
        let handle = unix.into_raw();
        // SAFETY: `handle` came from libloading's `dlopen` and is still open: we own it
        // until it is handed back below.
        let found = unsafe { Module::from_dl_handle(handle) };
        // SAFETY: `handle` is the live handle taken out of `lib` above; it goes back to
        // exactly one owner.
        *lib = unsafe { libloading::os::unix::Library::from_raw(handle) }.into();
        found
    }

    /// The module of a `dlopen(3)` handle, through `dlinfo(RTLD_DI_LINKMAP)`: the
    /// loaded object whose load bias is the link map's `l_addr` and whose segments hold
    /// its dynamic section (`l_ld`).
    ///
    /// # Safety
    ///
    /// `handle` must be a handle returned by `dlopen` and not yet closed.
    pub unsafe fn from_dl_handle(handle: *mut std::ffi::c_void) -> Result<Module, Error> {
        let mut map: *mut LinkMap = std::ptr::null_mut();
        // SAFETY: `handle` is an open dlopen handle (our contract); RTLD_DI_LINKMAP
        // stores one `struct link_map *` into `map`.
        let r = unsafe {
            dlinfo(
                handle,
                RTLD_DI_LINKMAP,
                (&mut map as *mut *mut LinkMap).cast(),
            )
        };
        if r != 0 || map.is_null() {
            return Err(Error::new(
                ErrorKind::UnknownModule,
                "dlinfo(RTLD_DI_LINKMAP) refused the handle: it is not an open dlopen handle",
            ));
        }
        // SAFETY: glibc returned a pointer to the handle's link map, which lives while
        // the handle is open; we read its first (ABI-stable, <link.h>) fields.
        let (addr, ld) = unsafe { ((*map).l_addr as u64, (*map).l_ld as u64) };
        let mods = modules();
        mods.iter()
            .find(|m| !m.is_vdso && m.bias == addr && m.contains(ld))
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownModule,
                    format!(
                        "no loaded module has load bias {addr:#x} and its dynamic section at {ld:#x}"
                    ),
                )
            })
    }
}

/// The head of glibc's `struct link_map` (`<link.h>`): the public, stable fields.
#[repr(C)]
struct LinkMap {
    l_addr: usize,
    l_name: *const std::ffi::c_char,
    l_ld: *const std::ffi::c_void,
    l_next: *mut LinkMap,
    l_prev: *mut LinkMap,
}

/// `RTLD_DI_LINKMAP` from `<dlfcn.h>`.
const RTLD_DI_LINKMAP: std::ffi::c_int = 2;

unsafe extern "C" {
    /// `dlinfo(3)` (glibc, `<dlfcn.h>`).
    fn dlinfo(
        handle: *mut std::ffi::c_void,
        request: std::ffi::c_int,
        info: *mut std::ffi::c_void,
    ) -> std::ffi::c_int;
}

pub(crate) fn hex(bytes: Option<&[u8]>) -> String {
    match bytes {
        Some(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        None => "none".to_owned(),
    }
}

/// Picks the module that `selector` names among `modules` (by path, file name, or the
/// soname each module already carries: no file is opened).
pub(crate) fn select(modules: Vec<Module>, selector: &str, where_: &str) -> Result<Module, Error> {
    if let Some(m) = modules.iter().find(|m| m.matches(selector)) {
        return Ok(m.clone());
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
