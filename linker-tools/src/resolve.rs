//! [`Resolver`]: a loaded module + a symbol query → a runtime address.
//!
//! The runtime address is the module's load bias plus the symbol's file address, for
//! functions and objects; an IFUNC's resolver is called to get the implementation; a
//! TLS variable's address is the calling thread's copy (`__tls_get_addr` with the
//! module's TLS id). Before any of that, the resolver checks that the file it indexes
//! is the image that is loaded (same build-id).
//!
//! It refuses, with an [`Error`] whose [`ErrorKind`] a caller can match and whose
//! message names the alternatives: a stale file ([`ErrorKind::BuildIdMismatch`]), an
//! ambiguous name ([`ErrorKind::Ambiguous`], listing each candidate's source file and
//! address), a kind mismatch ([`ErrorKind::KindMismatch`]), an undefined or absent symbol
//! ([`ErrorKind::Undefined`], [`ErrorKind::NotFound`]), an unknown module
//! ([`ErrorKind::UnknownModule`]).
//!
//! One index per module file is cached; the resolver is `Send + Sync`.
//!
//! ```
//! use linker_tools::{process, resolve::Resolver};
//!
//! let resolver = Resolver::new();
//! let libc = process::find("libc.so.6")?;
//! // A function exported by libc: the same address the dynamic linker gives.
//! let located = resolver.locate(&libc, "getpid")?;
//! assert_eq!(located.address, libc::getpid as usize as u64);
//! # Ok::<(), linker_tools::elf::Error>(())
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::elf::{DebugSearch, Error, ErrorKind, Kind, Query, Symbol, SymbolIndex};
use crate::process::{self, Module, hex};

pub use crate::elf::Result;

/// A symbol found in a module, with its runtime address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Located {
    /// The runtime address: bias + file address. For [`Kind::Ifunc`] this is the
    /// resolver's address; for [`Kind::Tls`] it is `0` (see [`Resolver::tls`]).
    pub address: u64,
    /// The file address (`st_value`); for TLS the offset in the module's TLS block.
    pub file_address: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Its kind.
    pub kind: Kind,
    /// `name`, `name@VER` or `name@@VER`.
    pub name: String,
    /// The source file of a local symbol.
    pub file: Option<String>,
    /// The module file it was found in.
    pub module: PathBuf,
}

/// Indexes by module file, then by the build-id of the loaded image (almost always
/// one entry). Looking up borrows the module's path and build-id: a cache hit takes a
/// shared lock and allocates nothing.
type Cache = HashMap<PathBuf, Vec<(Option<Vec<u8>>, Arc<SymbolIndex>)>>;

/// Turns module + query into runtime addresses; caches one [`SymbolIndex`] per module.
#[derive(Debug, Default)]
pub struct Resolver {
    search: DebugSearch,
    cache: RwLock<Cache>,
}

impl Resolver {
    /// A resolver with the default debug-file search (`/usr/lib/debug`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A resolver whose indexes look for debug files as `search` says.
    pub fn with_search(search: DebugSearch) -> Self {
        Resolver {
            search,
            cache: RwLock::default(),
        }
    }

    /// The index of `module`'s file, built on first use and cached.
    ///
    /// Fails with [`ErrorKind::BuildIdMismatch`] when the file on disk has another
    /// build-id than the loaded image (the file was replaced after it was loaded).
    pub fn index(&self, module: &Module) -> Result<Arc<SymbolIndex>> {
        if let Some(index) = self.cached(module) {
            return Ok(index);
        }
        let index = if module.is_vdso && module.pid.is_none() {
            crate::vdso::index()?
        } else {
            if module.is_vdso {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "another process's vDSO has no file to index; read it from /proc/PID/mem",
                ));
            }
            Arc::new(SymbolIndex::open_with(&module.path, &self.search)?)
        };
        if let Some(loaded) = &module.build_id {
            if index.build_id() != Some(loaded.as_slice()) {
                return Err(Error::new(
                    ErrorKind::BuildIdMismatch,
                    format!(
                        "{}: the file on disk (build-id {}) is not the image loaded at {:#x} (build-id {}); \
                         it was replaced after loading: restart the process or point at the original file",
                        module.path.display(),
                        hex(index.build_id()),
                        module.bias,
                        hex(Some(loaded)),
                    ),
                ));
            }
        }
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        let entries = cache.entry(module.path.clone()).or_default();
        // Another thread may have built the same index meanwhile: keep the first.
        if let Some((_, existing)) = entries.iter().find(|(b, _)| *b == module.build_id) {
            return Ok(existing.clone());
        }
        entries.push((module.build_id.clone(), index.clone()));
        Ok(index)
    }

    fn cached(&self, module: &Module) -> Option<Arc<SymbolIndex>> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        cache
            .get(module.path.as_path())?
            .iter()
            .find(|(b, _)| b.as_deref() == module.build_id.as_deref())
            .map(|(_, index)| index.clone())
    }

    /// Looks `query` up in `module`'s index and hands the symbol to `f`.
    fn with_symbol<'q, R>(
        &self,
        module: &Module,
        query: impl Into<Query<'q>>,
        f: impl FnOnce(&Symbol) -> Result<R>,
    ) -> Result<R> {
        let index = self.index(module)?;
        let sym = index.lookup(query).map_err(|e| e.with_path(&module.path))?;
        f(sym)
    }

    /// Finds `query` in `module` and computes its runtime address (bias + value) without
    /// running any code of the module.
    pub fn locate<'q>(&self, module: &Module, query: impl Into<Query<'q>>) -> Result<Located> {
        self.with_symbol(module, query, |sym| Ok(located(module, sym)))
    }

    /// The address of a data symbol (`STT_OBJECT`, common or untyped) in `module`.
    ///
    /// Refuses functions, IFUNCs and TLS variables with [`ErrorKind::KindMismatch`].
    pub fn object<'q>(&self, module: &Module, query: impl Into<Query<'q>>) -> Result<u64> {
        self.with_symbol(module, query, |sym| match sym.kind() {
            Kind::Object | Kind::Common | Kind::NoType => {
                Ok(module.bias.wrapping_add(sym.address()))
            }
            other => Err(mismatch(
                &located(module, sym),
                other,
                "a data object",
                hint(other),
            )),
        })
    }

    /// The address of the code of a function in `module`: for an IFUNC, the
    /// implementation its resolver picks.
    ///
    /// Refuses objects and TLS variables with [`ErrorKind::KindMismatch`].
    ///
    /// # Safety
    ///
    /// For an IFUNC this calls the module's resolver function, which is arbitrary code of
    /// that module: `module` must be loaded in this process (a fresh value from
    /// [`process::modules`], not unloaded since), and the resolver must be callable as
    /// `extern "C" fn(u64 hwcap, *const c_void) -> *const c_void`, as glibc calls them on
    /// x86_64.
    pub unsafe fn function<'q>(&self, module: &Module, query: impl Into<Query<'q>>) -> Result<u64> {
        // Plain functions are done without building a `Located`; the rest need its
        // name and module for the IFUNC call or the error message.
        enum Found {
            Plain(u64),
            Other(Located),
        }
        let found = self.with_symbol(module, query, |sym| {
            Ok(match sym.kind() {
                Kind::Func | Kind::NoType => Found::Plain(module.bias.wrapping_add(sym.address())),
                _ => Found::Other(located(module, sym)),
            })
        })?;
        let l = match found {
            Found::Plain(address) => return Ok(address),
            Found::Other(l) => l,
        };
        match l.kind {
            Kind::Ifunc => {
                this_process(module, &l, "call an IFUNC resolver")?;
                type IfuncResolver =
                    unsafe extern "C" fn(u64, *const core::ffi::c_void) -> *const core::ffi::c_void;
                // SAFETY: the caller guarantees `module` is loaded here and that the
                // symbol is an IFUNC resolver with this signature; the build-id check in
                // `index` proved the file describes the loaded image.
                let resolver: IfuncResolver = unsafe { std::mem::transmute(l.address as usize) };
                // SAFETY: getauxval has no preconditions.
                let hwcap = unsafe { libc::getauxval(libc::AT_HWCAP) };
                // SAFETY: as above; glibc passes hwcap and a null/ignored second argument.
                let imp = unsafe { resolver(hwcap, std::ptr::null()) };
                if imp.is_null() {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!("the IFUNC resolver of {} returned null", l.name),
                    ));
                }
                Ok(imp as usize as u64)
            }
            other => Err(mismatch(&l, other, "a function", hint(other))),
        }
    }

    /// The calling thread's address of a thread-local variable (`STT_TLS`) in `module`.
    ///
    /// Refuses other kinds with [`ErrorKind::KindMismatch`].
    ///
    /// # Safety
    ///
    /// `module` must be loaded in this process and not unloaded since it was listed: its
    /// TLS module id is passed to `__tls_get_addr`, which allocates the thread's block on
    /// first use.
    pub unsafe fn tls<'q>(&self, module: &Module, query: impl Into<Query<'q>>) -> Result<u64> {
        let l = self.locate(module, query)?;
        if l.kind != Kind::Tls {
            return Err(mismatch(
                &l,
                l.kind,
                "a thread-local variable",
                hint(l.kind),
            ));
        }
        this_process(module, &l, "compute a TLS address")?;
        if module.tls_module_id == 0 {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{}: the module has no TLS module id; is it loaded?",
                    module.path.display()
                ),
            ));
        }
        #[repr(C)]
        struct TlsIndex {
            module: usize,
            offset: usize,
        }
        unsafe extern "C" {
            fn __tls_get_addr(ti: *const TlsIndex) -> *mut core::ffi::c_void;
        }
        let ti = TlsIndex {
            module: module.tls_module_id,
            offset: l.file_address as usize,
        };
        // SAFETY: the caller guarantees the module id is live; the offset comes from the
        // module's own symbol table, whose file was checked against the loaded build-id.
        let p = unsafe { __tls_get_addr(&ti) };
        Ok(p as usize as u64)
    }

    /// Finds the module `selector` names in this process ([`process::find`]) and
    /// [`locate`](Resolver::locate)s `query` in it.
    pub fn locate_in<'q>(&self, selector: &str, query: impl Into<Query<'q>>) -> Result<Located> {
        let module = process::find(selector)?;
        self.locate(&module, query)
    }
}

fn this_process(module: &Module, l: &Located, what: &str) -> Result<()> {
    if let Some(pid) = module.pid {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "cannot {what} for {} in process {pid}: only in this process",
                l.name
            ),
        ));
    }
    Ok(())
}

fn hint(kind: Kind) -> &'static str {
    match kind {
        Kind::Func | Kind::Ifunc => "use Resolver::function",
        Kind::Object | Kind::Common | Kind::NoType => "use Resolver::object",
        Kind::Tls => "use Resolver::tls",
        Kind::Section | Kind::File => "it names no code or data",
    }
}

fn mismatch(l: &Located, got: Kind, wanted: &str, hint: &str) -> Error {
    Error::new(
        ErrorKind::KindMismatch,
        format!(
            "{} in {} is a {got} ({}), not {wanted}; {hint}",
            l.name,
            l.module.display(),
            got.elf_name()
        ),
    )
}

fn located(module: &Module, sym: &Symbol) -> Located {
    let address = match sym.kind() {
        Kind::Tls => 0,
        _ => module.bias.wrapping_add(sym.address()),
    };
    Located {
        address,
        file_address: sym.address(),
        size: sym.size(),
        kind: sym.kind(),
        name: sym.versioned_name().into_owned(),
        file: sym.file().map(str::to_owned),
        module: module.path.clone(),
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Resolver>();
};
