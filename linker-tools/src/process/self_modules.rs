//! This process's modules via `dl_iterate_phdr(3)`.

use std::ffi::CStr;
use std::path::PathBuf;

use super::{Module, select};
use crate::elf::{self, Error};

/// Every module loaded in this process, in the dynamic linker's order (main first).
#[doc(alias = "dl_iterate_phdr")]
pub fn modules() -> Vec<Module> {
    let mut out: Vec<Module> = Vec::new();
    // SAFETY: the callback receives `&mut out` through `data` and only for the duration
    // of this call; `dl_iterate_phdr` passes valid `dl_phdr_info` pointers.
    unsafe { libc::dl_iterate_phdr(Some(callback), (&mut out as *mut Vec<Module>).cast()) };
    let vdso = vdso_base();
    let exe = std::env::current_exe().ok();
    for (i, m) in out.iter_mut().enumerate() {
        if vdso.is_some_and(|v| m.segments.iter().any(|&(s, e)| v >= s && v < e)) {
            m.is_vdso = true;
        } else if i == 0 && m.path.as_os_str().is_empty() {
            m.is_main = true;
            if let Some(exe) = &exe {
                m.path = exe.clone();
            }
        }
    }
    out
}

/// The module of this process that `selector` names: `"main"`, a path, a file name, or
/// a soname. [`ErrorKind::UnknownModule`](crate::elf::ErrorKind::UnknownModule) lists
/// the loaded modules otherwise.
pub fn find(selector: &str) -> Result<Module, Error> {
    select(modules(), selector, "this process")
}

/// The module of this process whose `PT_LOAD` segments contain `addr` (for example a
/// function pointer, or a symbol got from a library opened with `libloading`).
pub fn containing(addr: usize) -> Option<Module> {
    modules().into_iter().find(|m| m.contains(addr as u64))
}

fn vdso_base() -> Option<u64> {
    // SAFETY: getauxval has no preconditions.
    let v = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
    (v != 0).then_some(v)
}

unsafe extern "C" fn callback(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: `data` is the `&mut Vec<Module>` passed by `modules`, and `info` is valid
    // for this call (dl_iterate_phdr's contract).
    let (out, info) = unsafe { (&mut *(data as *mut Vec<Module>), &*info) };
    let name = if info.dlpi_name.is_null() {
        PathBuf::new()
    } else {
        // SAFETY: a non-null dlpi_name is a NUL-terminated string owned by the loader.
        let c = unsafe { CStr::from_ptr(info.dlpi_name) };
        PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(c.to_bytes()))
    };
    let phdrs: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
        &[]
    } else {
        // SAFETY: dlpi_phdr points at dlpi_phnum program headers of the loaded image.
        unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) }
    };
    let bias = info.dlpi_addr;
    let segments: Vec<(u64, u64)> = phdrs
        .iter()
        .filter(|p| p.p_type == libc::PT_LOAD)
        .map(|p| {
            let start = bias.wrapping_add(p.p_vaddr);
            (start, start.wrapping_add(p.p_memsz))
        })
        .collect();
    let mut build_id = None;
    let mut dynamic = None;
    for p in phdrs {
        let start = bias.wrapping_add(p.p_vaddr);
        match p.p_type {
            libc::PT_DYNAMIC => dynamic = Some((start, p.p_memsz)),
            libc::PT_NOTE
                if build_id.is_none() && p.p_memsz > 0 && within(&segments, start, p.p_memsz) =>
            {
                // SAFETY: `[start, start + p_memsz)` lies within one of the image's
                // PT_LOAD segments (checked just above), which the loader mapped readable.
                let notes =
                    unsafe { std::slice::from_raw_parts(start as *const u8, p.p_memsz as usize) };
                build_id = elf::build_id_from_notes(notes, p.p_align).map(<[u8]>::to_vec);
            }
            _ => {}
        }
    }
    // SAFETY: `dynamic` is this image's PT_DYNAMIC, mapped by the loader; every other
    // address `soname_in_memory` reads is first checked to lie in `segments`.
    let soname =
        dynamic.and_then(|(at, len)| unsafe { soname_in_memory(at, len, bias, &segments) });
    out.push(Module {
        path: name,
        bias,
        build_id,
        soname,
        tls_module_id: info.dlpi_tls_modid,
        segments,
        is_main: false,
        is_vdso: false,
        pid: None,
    });
    0
}

/// Whether `[a, a + n)` lies within one of `segments` (runtime `PT_LOAD` ranges).
fn within(segments: &[(u64, u64)], a: u64, n: u64) -> bool {
    segments
        .iter()
        .any(|&(s, e)| a >= s && a.checked_add(n).is_some_and(|end| end <= e))
}

/// `DT_SONAME` read from a loaded image's dynamic section: no file is opened.
///
/// `DT_STRTAB` holds a runtime address once the dynamic linker has relocated it (glibc
/// does so in place for writable dynamic sections) and a link-time one otherwise (the
/// vDSO's read-only one); whichever lies in the image's segments is used.
///
/// # Safety
///
/// `[dynamic, dynamic + len)` must be the image's `PT_DYNAMIC` segment, mapped readable,
/// and `segments` its mapped `PT_LOAD` ranges.
unsafe fn soname_in_memory(
    dynamic: u64,
    len: u64,
    bias: u64,
    segments: &[(u64, u64)],
) -> Option<String> {
    let within = |a: u64, n: u64| within(segments, a, n);
    if dynamic % 8 != 0 || !within(dynamic, len) {
        return None;
    }
    let count = (len / 16).min(1 << 16) as usize;
    // SAFETY: the caller guarantees the segment is mapped readable; it is an array of
    // (d_tag, d_val) pairs of 8 bytes each (Elf64_Dyn), and `dynamic` is aligned.
    let dyns = unsafe { std::slice::from_raw_parts(dynamic as *const [u64; 2], count) };
    let (mut strtab, mut strsz, mut soname) = (None, None, None);
    for &[tag, val] in dyns {
        match tag {
            0 => break,               // DT_NULL
            5 => strtab = Some(val),  // DT_STRTAB
            10 => strsz = Some(val),  // DT_STRSZ
            14 => soname = Some(val), // DT_SONAME
            _ => {}
        }
    }
    let (strtab, strsz, offset) = (strtab?, strsz?, soname?);
    let base = if within(strtab, strsz) {
        strtab
    } else {
        let relocated = bias.wrapping_add(strtab);
        within(relocated, strsz).then_some(relocated)?
    };
    if offset >= strsz {
        return None;
    }
    // SAFETY: `[base, base + strsz)` lies within one of the image's mapped segments
    // (checked above).
    let table = unsafe { std::slice::from_raw_parts(base as *const u8, strsz as usize) };
    let bytes = &table[offset as usize..];
    let end = bytes.iter().position(|&b| b == 0)?;
    std::str::from_utf8(&bytes[..end]).ok().map(str::to_owned)
}
