//! `demangle_like_nm` against libiberty itself, name by name, same run.
//!
//! Takes the mangled names (`_Z…`, `_R…`, `_GLOBAL_…`) of the `.symtab` of the
//! toolchain's `librustc_driver-*.so` and `libLLVM.so*` (in `$(rustc --print sysroot)/lib`)
//! and demangles each of them two ways:
//!
//! * ours: [`linker_tools::elf::demangle_like_nm`] (the Rust and C++ fast paths, and
//!   libiberty for the names they hand on);
//! * libiberty: what GNU nm does, `rust_demangle_callback` then
//!   `cplus_demangle_v3_callback` (`DMGL_PARAMS | DMGL_ANSI`) from the `libbfd` that the
//!   `nm` on `PATH` links, with nm's handling of leading `.`/`$` and a trailing `@…`.
//!
//! Each way runs over all the names `RUNS` times, the two taking turns within each
//! round; the best time counts. Both must produce identical bytes for every name (the
//! bench fails otherwise).
//!
//! ```text
//! cargo bench --bench demangle
//! ```
//!
//! This is the per-name cost behind `symtool symbols --format nm -C` (whose own target,
//! 5x GNU nm end to end, `benches/symtool.rs` measures).

mod support;

use std::ffi::{CString, c_char, c_int, c_void};
use std::path::Path;
use std::time::{Duration, Instant};

use linker_tools::elf::{FileInfo, MappedFile, NmTable, Table, demangle_like_nm};

const RUNS: usize = 7;

/// `demangle_callbackref` (`<demangle.h>`).
type Callback = unsafe extern "C" fn(*const c_char, usize, *mut c_void);
/// `rust_demangle_callback` and `cplus_demangle_v3_callback` (`<demangle.h>`).
type Demangler = unsafe extern "C" fn(*const c_char, c_int, Callback, *mut c_void) -> c_int;

const DMGL_PARAMS: c_int = 1;
const DMGL_ANSI: c_int = 2;

/// libiberty's two demanglers, as GNU nm calls them.
struct Libiberty {
    _lib: libloading::Library,
    rust: Demangler,
    v3: Demangler,
}

/// Appends what the printer hands over to the `Vec<u8>` behind `opaque`.
unsafe extern "C" fn append(s: *const c_char, len: usize, opaque: *mut c_void) {
    // SAFETY: `opaque` is the `&mut Vec<u8>` `Libiberty::run` passed, alive and unaliased
    // during the call; `s` points to `len` bytes the printer owns for this call.
    unsafe {
        let out = &mut *opaque.cast::<Vec<u8>>();
        out.extend_from_slice(std::slice::from_raw_parts(s.cast::<u8>(), len));
    }
}

impl Libiberty {
    /// The `libbfd*` that the `nm` on `PATH` needs, opened.
    fn load() -> Option<Libiberty> {
        let path = std::env::var_os("PATH")?;
        let nm = std::env::split_paths(&path)
            .map(|d| d.join("nm"))
            .find(|p| p.is_file())?;
        let map = MappedFile::open(nm).ok()?;
        let info = FileInfo::parse(&map).ok()?;
        let bfd = info.needed.into_iter().find(|n| n.starts_with("libbfd"))?;
        // SAFETY: opening binutils' libbfd runs its initialisers, as in every `nm`
        // process; they touch nothing of ours.
        let lib = unsafe { libloading::Library::new(&bfd) }.ok()?;
        // SAFETY: both functions have the signature `<demangle.h>` declares.
        let rust = unsafe { lib.get::<Demangler>(b"rust_demangle_callback\0") }.ok()?;
        // SAFETY: as above.
        let v3 = unsafe { lib.get::<Demangler>(b"cplus_demangle_v3_callback\0") }.ok()?;
        let (rust, v3) = (*rust, *v3);
        Some(Libiberty {
            _lib: lib,
            rust,
            v3,
        })
    }

    fn run(f: Demangler, z: &CString, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        // SAFETY: `z` is NUL-terminated; `append` matches `demangle_callbackref` and gets
        // `out` back as its opaque pointer, only during this call.
        let ok = unsafe {
            f(
                z.as_ptr(),
                DMGL_PARAMS | DMGL_ANSI,
                append,
                std::ptr::from_mut(out).cast(),
            )
        } != 0;
        if !ok {
            out.truncate(start);
        }
        ok
    }

    /// GNU nm's `bfd_demangle` on one name (split beforehand), appending to `out`.
    fn demangle(&self, name: &Name, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        out.extend_from_slice(&name.raw[..name.dots]);
        let ok = Self::run(self.rust, &name.core, out) || Self::run(self.v3, &name.core, out);
        if ok {
            out.extend_from_slice(&name.raw[name.suffix..]);
        } else {
            out.truncate(start);
        }
        ok
    }
}

/// A symbol name, and its core as nm hands it to libiberty (no leading `.`/`$`, no
/// trailing `@…`), NUL-terminated.
struct Name {
    raw: Vec<u8>,
    dots: usize,
    suffix: usize,
    core: CString,
}

/// The mangled names of `file`'s `.symtab`.
fn names(file: &Path) -> Vec<Name> {
    let Ok(data) = std::fs::read(file) else {
        return Vec::new();
    };
    let Ok(Some(table)) = NmTable::read(&data, Table::Symtab) else {
        return Vec::new();
    };
    table
        .symbols()
        .iter()
        .filter_map(|s| {
            let raw = s.name();
            let dots = raw.iter().take_while(|&&c| c == b'.' || c == b'$').count();
            let rest = &raw[dots..];
            if !(rest.starts_with(b"_Z")
                || rest.starts_with(b"_R")
                || rest.starts_with(b"_GLOBAL_"))
            {
                return None;
            }
            let suffix = dots + rest.iter().position(|&c| c == b'@').unwrap_or(rest.len());
            let core = CString::new(&raw[dots..suffix]).ok()?;
            Some(Name {
                raw: raw.to_vec(),
                dots,
                suffix,
                core,
            })
        })
        .collect()
}

/// All names through `f` into `out` (cleared first; reused from run to run so that the
/// kernel's zeroing of fresh pages is not timed), each result followed by a NUL (a name
/// left as it is: just the NUL), and the time it took.
fn pass(
    names: &[Name],
    out: &mut Vec<u8>,
    mut f: impl FnMut(&Name, &mut Vec<u8>) -> bool,
) -> Duration {
    out.clear();
    let start = Instant::now();
    for n in names {
        f(n, out);
        out.push(0);
    }
    start.elapsed()
}

fn main() {
    let Some(lib) = support::toolchain_lib() else {
        println!("demangle bench: no rustc sysroot; nothing measured");
        return;
    };
    let Some(iberty) = Libiberty::load() else {
        println!("demangle bench: no libbfd (GNU nm) here; nothing measured");
        return;
    };
    let runs = if support::measuring() { RUNS } else { 1 };
    println!(
        "{:<44} {:>8} {:>12} {:>12} {:>9}  bytes",
        "file (.symtab mangled names)", "names", "ours", "libiberty", "lib/ours"
    );
    let mut failed = false;
    for prefix in ["librustc_driver-", "libLLVM.so"] {
        let Some(file) = support::find_big(&lib, prefix) else {
            println!("{prefix}*: not in {}", lib.display());
            continue;
        };
        let names = names(&file);
        if names.is_empty() {
            continue;
        }
        let (mut best_ours, mut best_lib) = (Duration::MAX, Duration::MAX);
        let (mut out_ours, mut out_lib) = (Vec::new(), Vec::new());
        // A first round untimed: it maps the output buffers and loads libbfd.
        pass(&names, &mut out_ours, |n, out| {
            demangle_like_nm(&n.raw, out)
        });
        pass(&names, &mut out_lib, |n, out| iberty.demangle(n, out));
        for _ in 0..runs {
            let t = pass(&names, &mut out_ours, |n, out| {
                demangle_like_nm(&n.raw, out)
            });
            best_ours = best_ours.min(t);
            let t = pass(&names, &mut out_lib, |n, out| iberty.demangle(n, out));
            best_lib = best_lib.min(t);
        }
        let per = |d: Duration| d.as_secs_f64() * 1e9 / names.len() as f64;
        let differing = out_ours
            .split(|&c| c == 0)
            .zip(out_lib.split(|&c| c == 0))
            .filter(|(a, b)| a != b)
            .count();
        let same = if out_ours == out_lib {
            "identical".to_owned()
        } else {
            failed = true;
            format!("{differing} names differ")
        };
        println!(
            "{:<44} {:>8} {:>9.1} ns {:>9.1} ns {:>8.2}x  {same}",
            file.file_name().unwrap().to_string_lossy(),
            names.len(),
            per(best_ours),
            per(best_lib),
            best_lib.as_secs_f64() / best_ours.as_secs_f64(),
        );
    }
    println!(
        "(ns per name, best of {runs}, one thread; what `symtool --format nm -C` spends per name)"
    );
    assert!(!failed, "demangle_like_nm differs from libiberty");
}
