//! Resolving a private symbol of libLLVM (the Rust toolchain's, 200 MB, ~258k symbols)
//! against `dlsym` of an exported one, in one run.
//!
//! - `resolve_libllvm_cold/index_build_and_lookup`: map the file, build the whole
//!   index (`.symtab` + `.dynsym`, versions, source files), look the private symbol up.
//! - `resolve_libllvm_warm/*`: with the index built, the private symbol's runtime
//!   address (`index_lookup`: hash lookup + load bias), the same through the full
//!   [`Resolver::locate`] API (module cache, build-id check, an owned `Located`), our
//!   lookup of the exported symbol, and the peers: `dlsym` through `libloading` and
//!   through libc directly. Target: `index_lookup` ≤ `dlsym_libloading`.
//!
//! libLLVM is looked up in `$(rustc --print sysroot)/lib`; without it the benchmark
//! prints a note and measures nothing.
//!
//! ```text
//! cargo bench --bench resolve
//! ```
//!
//! After criterion's own report, `main` prints the index's memory and a table of
//! ratios (ours / dlsym) from the estimates criterion just wrote.

use std::ffi::c_void;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, SamplingMode};
use linker_tools::elf::{Binding, DebugSearch, Kind, SymbolIndex};
use linker_tools::process::Module;
use linker_tools::resolve::Resolver;

mod support;

const COLD: &str = "resolve_libllvm_cold";
const WARM: &str = "resolve_libllvm_warm";

/// A `static` C++ function in an anonymous namespace: only in `.symtab`.
const PRIVATE: &str = "_ZN12_GLOBAL__N_110BlockChain5mergeEPN4llvm17MachineBasicBlockEPS0_";
/// An exported function of LLVM's C API.
const EXPORTED: &str = "LLVMContextCreate";

/// The toolchain's libLLVM: the largest ELF file named `libLLVM*.so*` in the sysroot's
/// `lib` (one of the names is a linker script).
fn find_libllvm() -> Option<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(sysroot.join("lib")).ok()? {
        let path = entry.ok()?.path();
        let name = path.file_name()?.to_string_lossy().into_owned();
        if !name.starts_with("libLLVM") || !name.contains(".so") {
            continue;
        }
        let mut magic = [0u8; 4];
        let is_elf = std::fs::File::open(&path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
            .is_ok()
            && magic == *b"\x7fELF";
        let len = std::fs::metadata(&path).map_or(0, |m| m.len());
        if is_elf && best.as_ref().is_none_or(|(l, _)| len > *l) {
            best = Some((len, path));
        }
    }
    best.map(|(_, p)| p)
}

/// `PRIVATE` if this libLLVM has it, else some other local function of unique name.
fn private_symbol(index: &SymbolIndex) -> Option<String> {
    if index.lookup(PRIVATE).is_ok() {
        return Some(PRIVATE.to_owned());
    }
    let locals: Vec<&str> = index
        .symbols()
        .iter()
        .filter(|s| s.binding() == Binding::Local && s.kind() == Kind::Func && s.is_defined())
        .map(|s| s.name())
        .filter(|n| n.starts_with("_ZN12_GLOBAL__N_1") && index.by_name(n).count() == 1)
        .collect();
    locals.get(locals.len() / 2).map(|s| (*s).to_owned())
}

/// Resident set size of this process, in bytes (`/proc/self/statm`).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

struct Setup {
    path: PathBuf,
    index: SymbolIndex,
    private: String,
    build_time: Duration,
    library: Option<(libloading::Library, Module)>,
}

fn setup(path: &Path) -> Option<Setup> {
    let (before, t) = (rss(), Instant::now());
    let index = match SymbolIndex::open_with(path, &DebugSearch::disabled()) {
        Ok(i) => i,
        Err(e) => {
            println!("note: cannot index {}: {e}", path.display());
            return None;
        }
    };
    let build_time = t.elapsed();
    let grown = rss().saturating_sub(before);
    let private = private_symbol(&index)?;
    println!(
        "libLLVM index: {} ({:.1} MiB mapped): {} symbols, built in {:.0} ms; \
         heap {:.1} MiB ({:.1} bytes/symbol); RSS grew {:.1} MiB while building \
         (heap + the pages of the file it read)",
        path.display(),
        mib(index.mapped_bytes() as u64),
        index.len(),
        build_time.as_secs_f64() * 1e3,
        mib(index.heap_bytes() as u64),
        index.heap_bytes() as f64 / index.len() as f64,
        mib(grown),
    );
    // SAFETY: libLLVM's initialisers only register LLVM's own passes and options.
    let library = match unsafe { libloading::Library::new(path) } {
        Ok(mut lib) => match Module::from_library(&mut lib) {
            Ok(module) => Some((lib, module)),
            Err(e) => {
                println!("note: libLLVM loaded but not found among the modules: {e}");
                None
            }
        },
        Err(e) => {
            println!("note: cannot dlopen libLLVM ({e}); only file lookups are measured");
            None
        }
    };
    Some(Setup {
        path: path.to_owned(),
        index,
        private,
        build_time,
        library,
    })
}

fn bench_cold(c: &mut Criterion, s: &Setup) {
    let mut g = c.benchmark_group(COLD);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time((s.build_time * 12).max(Duration::from_secs(1)));
    g.bench_function("index_build_and_lookup", |b| {
        b.iter(|| {
            let index = SymbolIndex::open_with(&s.path, &DebugSearch::disabled()).unwrap();
            black_box(index.lookup(s.private.as_str()).unwrap().address());
        })
    });
    g.finish();
}

fn bench_warm(c: &mut Criterion, s: &Setup) {
    let mut g = c.benchmark_group(WARM);
    let bias = s.library.as_ref().map_or(0, |(_, m)| m.bias);
    g.bench_function("index_lookup", |b| {
        b.iter(|| {
            let sym = s.index.lookup(black_box(s.private.as_str())).unwrap();
            black_box(bias.wrapping_add(sym.address()))
        })
    });
    g.bench_function("index_lookup_exported", |b| {
        b.iter(|| {
            let sym = s.index.lookup(black_box(EXPORTED)).unwrap();
            black_box(bias.wrapping_add(sym.address()))
        })
    });
    if let Some((lib, module)) = &s.library {
        let resolver = Resolver::new();
        // Build (and cache) the resolver's own index outside the measurement.
        resolver.locate(module, s.private.as_str()).unwrap();
        g.bench_function("resolver_locate", |b| {
            b.iter(|| {
                black_box(
                    resolver
                        .locate(module, black_box(s.private.as_str()))
                        .unwrap(),
                )
            })
        });
        let name = format!("{EXPORTED}\0");
        g.bench_function("dlsym_libloading", |b| {
            b.iter(|| {
                // SAFETY: LLVMContextCreate is a function; the symbol is only read.
                let f = unsafe {
                    lib.get::<unsafe extern "C" fn() -> *mut c_void>(black_box(name.as_bytes()))
                };
                black_box(f.map(|f| *f as usize).unwrap())
            })
        });
        let p = std::ffi::CString::new(s.path.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: the path is NUL-terminated; RTLD_NOLOAD only finds the loaded object
        // (a second reference to it, never closed: the benchmark process ends soon).
        let handle = unsafe { libc::dlopen(p.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
        if !handle.is_null() {
            g.bench_function("dlsym_libc", |b| {
                b.iter(|| {
                    // SAFETY: `handle` is open (the Library above keeps it loaded) and
                    // the name is NUL-terminated.
                    black_box(unsafe { libc::dlsym(handle, black_box(name.as_ptr().cast())) })
                })
            });
        }
        // The runtime address we compute is where dlsym says the function is, for an
        // exported symbol; for the private one, it lies in libLLVM's text.
        let ours = module.bias + s.index.lookup(EXPORTED).unwrap().address();
        // SAFETY: as for the benchmark above.
        let theirs = unsafe { lib.get::<unsafe extern "C" fn()>(name.as_bytes()) }
            .map(|f| *f as usize as u64)
            .unwrap();
        assert_eq!(ours, theirs, "our address of {EXPORTED} is dlsym's");
        assert!(
            module.contains(module.bias + s.index.lookup(s.private.as_str()).unwrap().address())
        );
    }
    g.finish();
}

fn report(since: SystemTime, s: &Setup) {
    // The cold build has no dlsym counterpart: the library is loaded already.
    support::RatioTable::new(since)
        .note("target: index_lookup / dlsym_libloading <= 1.00")
        .alone(COLD, "index_build_and_lookup")
        .rows(
            WARM,
            &["index_lookup", "index_lookup_exported", "resolver_locate"],
            &["dlsym_libloading", "dlsym_libc"],
        )
        .print();
    println!(
        "libLLVM index memory: heap {:.1} MiB for {} symbols ({:.1} bytes/symbol), \
         names borrowed from {:.1} MiB of mapped file",
        mib(s.index.heap_bytes() as u64),
        s.index.len(),
        s.index.heap_bytes() as f64 / s.index.len() as f64,
        mib(s.index.mapped_bytes() as u64),
    );
}

fn main() {
    let since = support::run_start();
    let Some(path) = find_libllvm() else {
        println!(
            "note: no libLLVM.so* in `rustc --print sysroot`/lib: the resolve benchmark is skipped"
        );
        return;
    };
    let Some(setup) = setup(&path) else {
        println!(
            "note: no private symbol to look up in {}: skipped",
            path.display()
        );
        return;
    };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench_cold(&mut c, &setup);
    bench_warm(&mut c, &setup);
    c.final_summary();
    report(since, &setup);
}
