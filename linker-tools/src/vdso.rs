//! The vDSO: located through `getauxval(AT_SYSINFO_EHDR)` and indexed with
//! [`SymbolIndex`] like any other ELF image.
//!
//! This is the vDSO for inspection, through the general ELF code (every symbol, its
//! kind, size and version, as for any library). The syscall core does not use it: its
//! time calls find their functions with [`sys::vdso`](crate::sys::vdso), a small
//! allocation-free walk of the same image, and a test checks that the two agree on
//! every symbol.
//!
//! ```
//! let index = linker_tools::vdso::index()?;
//! let sym = index.lookup("__vdso_clock_gettime")?;
//! let base = linker_tools::vdso::base().unwrap();
//! assert!(sym.address() < linker_tools::vdso::image().unwrap().len() as u64 + base as u64);
//! # Ok::<(), linker_tools::elf::Error>(())
//! ```

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

use crate::elf::{Error, ErrorKind, Kind, SymbolIndex};

/// The address of the vDSO's ELF header in this process, if the kernel mapped one.
#[doc(alias = "AT_SYSINFO_EHDR")]
pub fn base() -> Option<usize> {
    // SAFETY: getauxval has no preconditions.
    let v = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
    (v != 0).then_some(v as usize)
}

/// The vDSO image: from its ELF header to the end of its section headers (or its
/// `PT_LOAD` segments), which the kernel maps readable for the whole process lifetime.
pub fn image() -> Option<&'static [u8]> {
    let base = base()?;
    // The ELF header: 64 bytes.
    // SAFETY: AT_SYSINFO_EHDR points at the mapped vDSO, whose first page holds the
    // ELF header; it stays mapped until the process exits.
    let header = unsafe { std::slice::from_raw_parts(base as *const u8, 64) };
    let u = |at: usize, n: usize| -> u64 {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&header[at..at + n]);
        u64::from_le_bytes(b)
    };
    if !header.starts_with(&object::elf::ELFMAG) || header[4] != object::elf::ELFCLASS64.0 {
        return None;
    }
    let phoff = u(0x20, 8);
    let shoff = u(0x28, 8);
    let phnum = u(0x38, 2);
    let shentsize = u(0x3a, 2);
    let shnum = u(0x3c, 2);
    let mut len = shoff.checked_add(shentsize.checked_mul(shnum)?)?;
    // The program headers must lie in the first page (4 KiB at least), the one known
    // to be mapped; the vDSO's always do (right after the ELF header).
    let ph_len = phnum * 56;
    if phoff.checked_add(ph_len)? > 4096 {
        return None;
    }
    // SAFETY: `[base + phoff, base + phoff + ph_len)` lies in the image's first page
    // (checked above), which is mapped readable for the life of the process.
    let ph =
        unsafe { std::slice::from_raw_parts((base as u64 + phoff) as *const u8, ph_len as usize) };
    for p in ph.chunks_exact(56) {
        let field = |at: usize| u64::from_le_bytes(p[at..at + 8].try_into().unwrap_or_default());
        if u32::from_le_bytes(p[..4].try_into().unwrap_or_default()) == object::elf::PT_LOAD.0 {
            len = len.max(field(8).saturating_add(field(32)));
        }
    }
    if len == 0 || len > 1 << 24 {
        return None;
    }
    // SAFETY: the vDSO maps its whole file image (PT_LOAD covers offset 0 to the end of
    // the section headers in every Linux vDSO), readable, for the life of the process.
    Some(unsafe { std::slice::from_raw_parts(base as *const u8, len as usize) })
}

/// The vDSO's symbol index, built once.
pub fn index() -> Result<Arc<SymbolIndex>, Error> {
    static INDEX: OnceLock<Result<Arc<SymbolIndex>, String>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let image = image()
                .ok_or_else(|| "this process has no vDSO (AT_SYSINFO_EHDR is 0)".to_owned())?;
            SymbolIndex::from_static(image)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|m| Error::new(ErrorKind::NotFound, format!("vDSO: {m}")))
}

/// The vDSO's load bias: its runtime address minus its link-time address (the
/// `p_vaddr` of the `PT_LOAD` segment that maps the ELF header).
pub fn bias() -> Option<usize> {
    let base = base()?;
    let phdrs = crate::elf::program_headers(image()?).ok()?;
    let load = phdrs
        .iter()
        .find(|p| p.p_type == object::elf::PT_LOAD.0 && p.offset == 0)?;
    Some(base.wrapping_sub(load.vaddr as usize))
}

/// The runtime address of the vDSO function `name` with symbol version `version`
/// (`"LINUX_2.6"` on x86_64), or `None` if this process's vDSO does not define it.
///
/// An unversioned symbol of that name also matches (a vDSO built without versions).
///
/// ```
/// use linker_tools::vdso;
/// let f = vdso::function("__vdso_clock_gettime", "LINUX_2.6").expect("x86_64 vDSO");
/// let base = vdso::base().unwrap();
/// assert!((f.as_ptr() as usize) > base);
/// assert!(vdso::function("__vdso_clock_gettime", "LINUX_9.9").is_none());
/// ```
pub fn function(name: &str, version: &str) -> Option<NonNull<c_void>> {
    let index = index().ok()?;
    let sym = index.by_name(name).find(|s| {
        s.is_defined() && s.kind() == Kind::Func && s.version().is_none_or(|v| v.name == version)
    })?;
    let addr = bias()?.wrapping_add(sym.address() as usize);
    // The address must lie inside the mapped image.
    let (start, len) = (base()?, image()?.len());
    if addr < start || addr >= start + len {
        return None;
    }
    NonNull::new(addr as *mut c_void)
}
