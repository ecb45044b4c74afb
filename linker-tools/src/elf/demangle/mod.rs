//! Demangling: Rust (legacy and v0) with `rustc-demangle`, C++ with `cpp_demangle`; for
//! nm's output, libiberty's own demangler as binutils' libbfd (or libstdc++) exports it.
//!
//! # Safety
//!
//! [`demangle_like_nm`] calls libiberty's C++ demangler in binutils' `libbfd` (or
//! libstdc++'s `__cxa_demangle`), opened at run time so that library users link neither:
//! C functions with the signatures `<demangle.h>` and `<cxxabi.h>` declare, given a
//! NUL-terminated copy of the name; their output is copied out during the call (libbfd's
//! callback) or read once and freed (`__cxa_demangle`'s `malloc`ed string).

mod itanium;
mod rust;

/// A demangled name in the forms the index answers to.
pub(crate) struct Demangled {
    /// The full demangled name (with the Rust `::h…` hash, with C++ parameters).
    pub(crate) full: String,
    /// The bare path: Rust without the hash, C++ without parameters; `None` when equal
    /// to `full`.
    pub(crate) path: Option<String>,
}

/// Demangles `name`; `None` if it is not a mangled name.
pub(crate) fn demangle(name: &str) -> Option<Demangled> {
    if !(name.starts_with("_Z") || name.starts_with("_R") || name.starts_with("__Z")) {
        return None;
    }
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        let full = d.to_string();
        let path = format!("{d:#}");
        return Some(Demangled {
            path: (path != full).then_some(path),
            full,
        });
    }
    let sym = cpp_demangle::Symbol::new(name.as_bytes()).ok()?;
    let full = sym.demangle().ok()?;
    let path = sym
        .demangle_with_options(
            &cpp_demangle::DemangleOptions::new()
                .no_params()
                .no_return_type(),
        )
        .ok()
        .filter(|p| *p != full);
    Some(Demangled { full, path })
}

/// Demangles `name` the way GNU nm `-C` prints it (binutils' `bfd_demangle` over
/// libiberty's `cplus_demangle` with `DMGL_PARAMS | DMGL_ANSI`), appending the result to
/// `out`; `false` (and `out` untouched) when nm would print the name as it is.
///
/// The conventions reproduced: leading `.`/`$` and a trailing `@…` are kept around the
/// demangled name; Rust legacy names lose their `::h…` hash and any `.suffix`, with
/// libiberty's escapes (`$LT$`, `..`, a lone `.` as `-`); Rust v0 names stop at the first
/// `.`; C++ names print with parameters, and `_GLOBAL__I_`/`_GLOBAL__D_` as "global
/// constructors/destructors keyed to".
///
/// ```
/// let mut out = Vec::new();
/// assert!(linker_tools::elf::demangle_like_nm(b"_ZN4core3fmt5write17h0123456789abcdefE", &mut out));
/// assert_eq!(out, b"core::fmt::write");
/// out.clear();
/// assert!(linker_tools::elf::demangle_like_nm(b"_Z3fooi@GLIBCXX_3.4", &mut out));
/// assert_eq!(out, b"foo(int)@GLIBCXX_3.4");
/// assert!(!linker_tools::elf::demangle_like_nm(b"main", &mut out));
/// ```
pub fn demangle_like_nm(name: &[u8], out: &mut Vec<u8>) -> bool {
    let dots = name.iter().take_while(|&&c| c == b'.' || c == b'$').count();
    let (pre, rest) = name.split_at(dots);
    if !(rest.starts_with(b"_Z") || rest.starts_with(b"_R") || rest.starts_with(b"_GLOBAL_")) {
        return false; // the common case: not mangled, nothing to do
    }
    let (core, suf) = match memchr::memchr(b'@', rest) {
        Some(at) => rest.split_at(at),
        None => (rest, &b""[..]),
    };
    let start = out.len();
    out.extend_from_slice(pre);
    if cplus_demangle(core, out) {
        out.extend_from_slice(suf);
        true
    } else {
        out.truncate(start);
        false
    }
}

fn cplus_demangle(name: &[u8], out: &mut Vec<u8>) -> bool {
    if !(name.starts_with(b"_Z") || name.starts_with(b"_R") || name.starts_with(b"_GLOBAL_")) {
        return false; // the common case: not mangled
    }
    // Our own printers first: each prints exactly what libiberty would for the names it
    // accepts, and hands every other name on. libiberty's `cplus_demangle` tries Rust
    // (legacy `_ZN…17h…E`, v0 `_R…`) before C++; so do we.
    let maybe_rust = if name.starts_with(b"_R") {
        if rust::v0(name, out) {
            return true;
        }
        true
    } else if name.starts_with(b"_ZN") {
        match rust::legacy(name, out) {
            Some(true) => return true,
            Some(false) => false,
            None => true,
        }
    } else {
        false
    };
    if !maybe_rust && itanium::demangle(name, out) {
        return true;
    }
    if let Some(done) = libiberty::demangle(name, out, maybe_rust) {
        return done;
    }
    if let Some(rest) = name.strip_prefix(b"_ZN") {
        if rust::legacy_without_libiberty(rest, out) {
            return true;
        }
    } else if let Some(rest) = name.strip_prefix(b"_R") {
        if rust::v0_with_rustc_demangle(name, rest, out) {
            return true;
        }
    }
    cpp_v3(name, out)
}

fn cpp_v3(name: &[u8], out: &mut Vec<u8>) -> bool {
    let global = name.len() > 11
        && name.starts_with(b"_GLOBAL_")
        && matches!(name[8], b'.' | b'_' | b'$')
        && matches!(name[9], b'D' | b'I')
        && name[10] == b'_';
    if !(name.starts_with(b"_Z") || global) {
        return false; // cplus_demangle_v3 without DMGL_TYPES: not a mangled name
    }
    match libiberty::demangle_cxx(name, out) {
        Some(done) => done,
        None => cpp_v3_fallback(name, out),
    }
}

/// libiberty's C++ demangler (`cp-demangle.c`), found at run time so that library users
/// link neither libbfd nor libstdc++:
///
/// 1. GNU nm's own: `cplus_demangle_v3_callback(name, DMGL_PARAMS | DMGL_ANSI, …)` from the
///    `libbfd-*.so` that the `nm` on `PATH` links (binutils' copy of libiberty, so the very
///    code nm runs, and it writes through a callback without allocating);
/// 2. libstdc++'s `__cxa_demangle`, which is `d_demangle(name, DMGL_PARAMS | DMGL_TYPES)`:
///    for names that start with `_Z` or `_GLOBAL_` the same computation (`DMGL_TYPES` only
///    admits bare types, `DMGL_ANSI` changes nothing in the v3 printer), but from GCC's
///    copy of libiberty, whose version may differ from binutils' (gcc 12's prints
///    `!std::is_same_v<…>` where binutils 2.40's prints `!(std::is_same_v<…>)`).
mod libiberty {
    use std::ffi::{CStr, c_char, c_int, c_void};
    use std::sync::OnceLock;

    /// `abi::__cxa_demangle` (`<cxxabi.h>`).
    type CxaDemangle =
        unsafe extern "C" fn(*const c_char, *mut c_char, *mut usize, *mut c_int) -> *mut c_char;
    /// `demangle_callbackref` (`<demangle.h>`).
    type Callback = unsafe extern "C" fn(*const c_char, usize, *mut c_void);
    /// `cplus_demangle_v3_callback` (`<demangle.h>`).
    type V3Callback = unsafe extern "C" fn(*const c_char, c_int, Callback, *mut c_void) -> c_int;

    const DMGL_PARAMS: c_int = 1;
    const DMGL_ANSI: c_int = 2;

    enum Demangler {
        /// `rust_demangle_callback`, `cplus_demangle_v3_callback`: what `cplus_demangle`
        /// tries, in its order.
        Bfd(V3Callback, V3Callback),
        Cxa(CxaDemangle),
    }

    struct Loaded {
        _lib: libloading::Library,
        demangler: Demangler,
    }

    /// The `libbfd*` that the `nm` on `PATH` needs.
    fn nm_libbfd() -> Option<String> {
        let path = std::env::var_os("PATH")?;
        let nm = std::env::split_paths(&path)
            .map(|d| d.join("nm"))
            .find(|p| p.is_file())?;
        let map = super::super::MappedFile::open(nm).ok()?;
        let info = super::super::FileInfo::parse(&map).ok()?;
        info.needed.into_iter().find(|n| n.starts_with("libbfd"))
    }

    fn load() -> Option<Loaded> {
        load_bfd().or_else(load_cxa)
    }

    fn load_bfd() -> Option<Loaded> {
        if let Some(bfd) = nm_libbfd() {
            // SAFETY: opening binutils' libbfd runs its initialisers, as in every `nm`
            // process; they touch nothing of ours.
            if let Ok(lib) = unsafe { libloading::Library::new(&bfd) } {
                // SAFETY: these are the signatures `<demangle.h>` declares.
                let get = |name: &[u8]| unsafe { lib.get::<V3Callback>(name) }.ok().map(|f| *f);
                let rust = get(b"rust_demangle_callback\0");
                let v3 = get(b"cplus_demangle_v3_callback\0");
                if let (Some(rust), Some(v3)) = (rust, v3) {
                    return Some(Loaded {
                        _lib: lib,
                        demangler: Demangler::Bfd(rust, v3),
                    });
                }
            }
        }
        None
    }

    fn load_cxa() -> Option<Loaded> {
        // SAFETY: opening libstdc++ runs its initialisers, as in every C++ program; they
        // touch nothing of ours. It is already loaded in a process that uses it.
        let lib = unsafe { libloading::Library::new("libstdc++.so.6") }.ok()?;
        // SAFETY: `__cxa_demangle` has this signature in every libstdc++ (C++ ABI).
        let f = unsafe { lib.get::<CxaDemangle>(b"__cxa_demangle\0") }
            .ok()
            .map(|f| *f)?;
        Some(Loaded {
            _lib: lib,
            demangler: Demangler::Cxa(f),
        })
    }

    fn loaded() -> Option<&'static Loaded> {
        static LOADED: OnceLock<Option<Loaded>> = OnceLock::new();
        LOADED.get_or_init(load).as_ref()
    }

    /// Appends each piece the printer hands over to the `Vec<u8>` behind `opaque`.
    unsafe extern "C" fn append(s: *const c_char, len: usize, opaque: *mut c_void) {
        if len == 0 || s.is_null() {
            return; // an empty piece (libiberty passes a null pointer for some)
        }
        // SAFETY: `opaque` is the `&mut Vec<u8>` `demangle` passed, alive and unaliased for
        // the call; `s` is not null and points to `len` bytes the printer owns for this
        // call.
        unsafe {
            let out = &mut *opaque.cast::<Vec<u8>>();
            out.extend_from_slice(std::slice::from_raw_parts(s.cast::<u8>(), len));
        }
    }

    /// Runs `f` on `name` NUL-terminated (`None` if `name` holds a NUL).
    fn with_c_str<R>(name: &[u8], f: impl FnOnce(*const c_char) -> R) -> Option<R> {
        if name.contains(&0) {
            return None;
        }
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUF.with(|b| {
            let mut b = b.borrow_mut();
            b.clear();
            b.extend_from_slice(name);
            b.push(0);
            Some(f(b.as_ptr().cast()))
        })
    }

    /// One libiberty `*_callback` demangler on the NUL-terminated `z`, appending to `out`.
    fn run(f: V3Callback, z: *const c_char, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        // SAFETY: `z` is NUL-terminated; `append` matches `demangle_callbackref` and gets
        // `out` back as its opaque pointer, only during this call.
        let ok = unsafe {
            f(
                z,
                DMGL_PARAMS | DMGL_ANSI,
                append,
                std::ptr::from_mut(out).cast(),
            )
        };
        if ok == 0 {
            out.truncate(start); // the printer may have failed half-way
        }
        ok != 0
    }

    /// `cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI)` for a name starting with `_Z`, `_R`
    /// or `_GLOBAL_` (Rust first, then C++). `Some(true)`: demangled into `out`;
    /// `Some(false)`: not a valid name (`out` untouched); `None`: no libbfd in this system.
    /// `try_rust: false` skips the Rust demangler for a name it is known to refuse.
    pub(super) fn demangle(name: &[u8], out: &mut Vec<u8>, try_rust: bool) -> Option<bool> {
        let Demangler::Bfd(rust, v3) = loaded()?.demangler else {
            return None;
        };
        with_c_str(name, |z| {
            try_rust && (name.starts_with(b"_ZN") || name.starts_with(b"_R")) && run(rust, z, out)
                || run(v3, z, out)
        })
        .or(Some(false))
    }

    /// libstdc++'s `__cxa_demangle` for a name starting with `_Z` or `_GLOBAL_`: `None`
    /// when libstdc++ is missing, or libbfd is there (then [`demangle`] answers).
    pub(super) fn demangle_cxx(name: &[u8], out: &mut Vec<u8>) -> Option<bool> {
        cxa(&loaded()?.demangler, name, out)
    }

    /// libstdc++'s `__cxa_demangle` even where libbfd is installed (`None` without
    /// libstdc++).
    #[cfg(test)]
    pub(super) fn demangle_with_libstdcxx(name: &[u8], out: &mut Vec<u8>) -> Option<bool> {
        cxa(&load_cxa()?.demangler, name, out)
    }

    fn cxa(d: &Demangler, name: &[u8], out: &mut Vec<u8>) -> Option<bool> {
        let Demangler::Cxa(f) = *d else {
            return None;
        };
        with_c_str(name, |z| {
            let mut status: c_int = 0;
            // SAFETY: `z` is NUL-terminated; with no buffer and no length
            // `__cxa_demangle` returns a new `malloc`ed string or null, and writes only
            // `status`.
            let p = unsafe { f(z, std::ptr::null_mut(), std::ptr::null_mut(), &mut status) };
            if p.is_null() {
                return false;
            }
            // SAFETY: `p` is the NUL-terminated string `__cxa_demangle` just returned.
            out.extend_from_slice(unsafe { CStr::from_ptr(p) }.to_bytes());
            // SAFETY: `p` came from `malloc` and nothing refers to it any more.
            unsafe { libc::free(p.cast()) };
            true
        })
        .or(Some(false))
    }
}

/// Without libstdc++: `cpp_demangle`, adjusted where its spellings are known to differ.
fn cpp_v3_fallback(name: &[u8], out: &mut Vec<u8>) -> bool {
    if name.starts_with(b"_Z") {
        let Ok(sym) = cpp_demangle::Symbol::new(name) else {
            return false;
        };
        return match sym.demangle() {
            Ok(s) => {
                // cpp_demangle's spellings where libiberty's differ.
                let s = match s
                    .strip_prefix("{vtable(")
                    .and_then(|r| r.strip_suffix(")}"))
                {
                    Some(inner) => format!("vtable for {inner}"),
                    None => s,
                };
                out.extend_from_slice(s.replace("std::nullptr_t", "decltype(nullptr)").as_bytes());
                true
            }
            Err(_) => false,
        };
    }
    if name.len() > 11
        && name.starts_with(b"_GLOBAL_")
        && matches!(name[8], b'.' | b'_' | b'$')
        && matches!(name[9], b'D' | b'I')
        && name[10] == b'_'
    {
        out.extend_from_slice(if name[9] == b'I' {
            b"global constructors keyed to "
        } else {
            b"global destructors keyed to "
        });
        let rest = &name[11..];
        if rest.starts_with(b"_Z") {
            return cpp_v3_fallback(rest, out);
        }
        out.extend_from_slice(rest);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nm(name: &str) -> String {
        let mut out = Vec::new();
        assert!(demangle_like_nm(name.as_bytes(), &mut out), "{name}");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cxx_names_print_as_libiberty_does() {
        // Each of these differs in `cpp_demangle` (spacing, literals, function types).
        assert_eq!(
            nm("_ZNSt6vectorIS_IiSaIiEESaIS1_EE9push_backERKS1_"),
            "std::vector<std::vector<int, std::allocator<int> >, std::allocator<std::vector<int, \
             std::allocator<int> > > >::push_back(std::vector<int, std::allocator<int> > const&)"
        );
        assert_eq!(nm("_Z1fILj2EEvv"), "void f<2u>()");
        assert_eq!(nm("_Z1fPFviE"), "f(void (*)(int))");
        assert_eq!(nm("_ZTV3Foo@@V1"), "vtable for Foo@@V1");
        assert_eq!(nm("_GLOBAL__I_abc"), "global constructors keyed to abc");
        let mut out = Vec::new();
        assert!(!demangle_like_nm(b"_Z", &mut out) && out.is_empty());
        assert!(!demangle_like_nm(b"i", &mut out) && out.is_empty()); // types are not names
    }

    #[test]
    fn libstdcxx_agrees_on_common_names() {
        for name in [
            "_ZNSt6vectorIS_IiSaIiEESaIS1_EE9push_backERKS1_",
            "_Z1fILj2EEvv",
            "_Z1fPFviE",
            "_ZNKSt5ctypeIcE8do_widenEc",
        ] {
            let mut ours = Vec::new();
            if libiberty::demangle_with_libstdcxx(name.as_bytes(), &mut ours).is_none() {
                return; // no libstdc++ here
            }
            assert_eq!(String::from_utf8(ours).unwrap(), nm(name));
        }
    }

    #[test]
    fn rust_names_match_without_libbfd_too() {
        for (name, want) in [
            ("_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write"),
            ("_RNvCs1234_7mycrate3foo", "mycrate::foo"),
        ] {
            assert_eq!(nm(name), want);
            let mut out = Vec::new();
            let rest = &name.as_bytes()[2..];
            let ok = if name.starts_with("_R") {
                rust::v0_with_rustc_demangle(name.as_bytes(), rest, &mut out)
            } else {
                rust::legacy_without_libiberty(&rest[1..], &mut out)
            };
            assert!(ok);
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
