//! Real system files: glibc internals through libc6-dbg, checked against nm of the
//! debug file plus the load bias; the vDSO.

use std::path::PathBuf;

use linker_tools::elf::{DebugSearch, Kind, SymbolIndex, SymbolSource};
use linker_tools::process;
use linker_tools::resolve::Resolver;

use crate::{name_addr, nm_defined};

/// libc's debug file by build-id, if libc6-dbg is installed.
fn libc_debug_file() -> Option<(process::Module, PathBuf)> {
    let libc = process::find("libc.so.6").unwrap();
    let path = DebugSearch::new()
        .build_id_candidates(libc.build_id.as_deref()?)
        .into_iter()
        .find(|p| p.exists())?;
    Some((libc, path))
}

#[test]
fn glibc_internals_resolve_through_libc6_dbg() {
    let Some((libc, debug)) = libc_debug_file() else {
        // CI installs libc6-dbg; say loudly when it is missing rather than pass silently.
        panic!("libc6-dbg is not installed: no /usr/lib/debug/.build-id file for libc.so.6");
    };
    let r = Resolver::new();
    let index = r.index(&libc).unwrap();
    assert_eq!(index.source(), &SymbolSource::DebugFile(debug.clone()));
    let nm = nm_defined(&[], &debug);
    // Internal (local or hidden) functions that have one definition in glibc.
    let mut checked = 0;
    for name in [
        "__libc_malloc",
        "_int_malloc",
        "__libc_start_main_impl",
        "__GI___libc_write",
        "_IO_new_file_write",
        "__libc_alloca_cutoff",
    ] {
        let Some((_, _, addr)) = nm
            .iter()
            .find(|(n, t, _)| n == name && t.eq_ignore_ascii_case(&'t'))
        else {
            continue;
        };
        let located = r
            .locate(&libc, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(located.file_address, *addr, "{name}");
        assert_eq!(located.address, libc.bias + addr, "{name}");
        assert!(
            libc.contains(located.address),
            "{name} lies in libc's segments"
        );
        checked += 1;
    }
    assert!(
        checked >= 3,
        "only {checked} internal functions were in the debug file"
    );
    // `_int_malloc` is static in malloc.c: the index says so.
    let s = index.lookup("_int_malloc").unwrap();
    assert_eq!(s.kind(), Kind::Func);
    assert_eq!(s.file(), Some("malloc.c"));
    // Exported and internal aliases agree with the dynamic linker.
    assert_eq!(
        r.locate(&libc, "__libc_malloc").unwrap().address,
        libc::malloc as *const () as usize as u64
    );
}

#[test]
fn libc_debug_file_listing_matches_nm() {
    let Some((_, debug)) = libc_debug_file() else {
        panic!("libc6-dbg is not installed: no /usr/lib/debug/.build-id file for libc.so.6");
    };
    let index = SymbolIndex::open(&debug).unwrap();
    let ours = name_addr(
        index
            .symbols()
            .iter()
            .filter(|s| s.is_defined() && !matches!(s.kind(), Kind::Section | Kind::File))
            .map(|s| (s.name(), s.address())),
    );
    let nm = name_addr(
        nm_defined(&[], &debug)
            .iter()
            .map(|(n, _, a)| (n.as_str(), *a)),
    );
    assert_eq!(ours.len(), nm.len());
    assert_eq!(ours, nm);
}

#[test]
fn system_libraries_dynsym_matches_nm_d() {
    let libc = process::find("libc.so.6").unwrap();
    let mut libs = vec![libc.path.clone()];
    libs.extend(
        process::modules()
            .into_iter()
            .filter(|m| m.file_name().is_some_and(|n| n.starts_with("libgcc_s")))
            .map(|m| m.path),
    );
    for lib in libs {
        let index = SymbolIndex::open_with(&lib, &DebugSearch::disabled()).unwrap();
        let ours: std::collections::BTreeSet<(String, u64)> = index
            .symbols()
            .iter()
            .filter(|s| s.is_defined() && s.tables().dynsym)
            .map(|s| (s.versioned_name().into_owned(), s.address()))
            .collect();
        let nm: std::collections::BTreeSet<(String, u64)> = nm_defined(&["-D"], &lib)
            .into_iter()
            .map(|(n, _, a)| (n, a))
            .collect();
        assert_eq!(ours, nm, "{}", lib.display());
    }
}

#[test]
fn vdso_is_indexed() {
    let index = linker_tools::vdso::index().unwrap();
    let vdso = process::modules().into_iter().find(|m| m.is_vdso).unwrap();
    let r = Resolver::new();
    let located = r.locate(&vdso, "__vdso_clock_gettime").unwrap();
    assert_eq!(located.kind, Kind::Func);
    assert!(vdso.contains(located.address));
    assert!(index.lookup("clock_gettime@@LINUX_2.6").is_ok());
    // Call it: the vDSO's clock_gettime against the syscall's.
    type ClockGettime = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int;
    // SAFETY: __vdso_clock_gettime has clock_gettime's C signature.
    let f: ClockGettime = unsafe { std::mem::transmute(located.address as usize) };
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid clock id and out-pointer.
    assert_eq!(unsafe { f(libc::CLOCK_REALTIME, &mut ts) }, 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((ts.tv_sec - now).abs() <= 2);
}
