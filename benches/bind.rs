//! A call through a `linkname!` binding after resolution against a direct call of the
//! same function through a normal `extern "C"` declaration, in one run.
//!
//! The functions are libc's exported `strlen` on a short string (an IFUNC) and
//! `gnu_get_libc_version` (a plain function that returns a pointer; unlike `labs` or
//! `abs`, LLVM does not know it, so the direct call stays a call): bound once with each
//! strategy of `linkname!` — `private` (the ELF resolver
//! ran the IFUNC resolver and bound the implementation), `dynamic` (`dlsym`) and `link`
//! (`extern` + `#[link_name]`) — and declared once as a plain `extern "C" fn`, which
//! Rust calls through the GOT (an indirect call, like the bindings').
//!
//! ```text
//! cargo bench --bench bind
//! ```
//!
//! After criterion's report, `main` prints each binding's time over the direct call's,
//! from the `estimates.json` criterion just wrote (target: private ≤ 1.05×), then a
//! paired measurement that alternates batches of direct and private calls, so that a
//! busy machine slows both alike: the median of the per-round ratios.

use std::ffi::c_char;
use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use linkname::linkname;

mod support;

unsafe extern "C" {
    /// libc's `strlen`, declared the usual way.
    fn strlen(s: *const c_char) -> usize;
    /// glibc's `gnu_get_libc_version`, declared the usual way.
    fn gnu_get_libc_version() -> *const c_char;
}

linkname! {
    /// `strlen`, found by the ELF resolver in libc (an IFUNC: bound to its choice).
    unsafe extern "C" fn strlen_private(s: *const c_char) -> usize = private("libc.so.6", "strlen");
    /// `strlen` through `dlsym`.
    unsafe extern "C" fn strlen_dynamic(s: *const c_char) -> usize = dynamic("libc.so.6", "strlen");
    /// `strlen` through the static linker.
    unsafe extern "C" fn strlen_link(s: *const c_char) -> usize = link("libc.so.6", "strlen");

    /// `gnu_get_libc_version`, found by the ELF resolver.
    unsafe extern "C" fn version_private() -> *const c_char
        = private("libc.so.6", "gnu_get_libc_version");
    /// `gnu_get_libc_version` through `dlsym`.
    unsafe extern "C" fn version_dynamic() -> *const c_char
        = dynamic("libc.so.6", "gnu_get_libc_version");
    /// `gnu_get_libc_version` through the static linker.
    unsafe extern "C" fn version_link() -> *const c_char
        = link("libc.so.6", "gnu_get_libc_version");
}

const TEXT: &std::ffi::CStr = c"go:linkname";
const STRLEN: &str = "bind_strlen";
const VERSION: &str = "bind_gnu_get_libc_version";
const DIRECT: &str = "direct_extern";
const OURS: [&str; 3] = ["linkname_private", "linkname_dynamic", "linkname_link"];

fn bench_strlen(c: &mut Criterion) {
    strlen_private::resolve().expect("resolve strlen privately");
    strlen_dynamic::resolve().expect("resolve strlen through dlsym");
    let mut g = c.benchmark_group(STRLEN);
    g.bench_function(DIRECT, |b| {
        // SAFETY: `TEXT` is NUL-terminated; `strlen` reads up to its NUL.
        b.iter(|| black_box(unsafe { strlen(black_box(TEXT.as_ptr())) }))
    });
    g.bench_function(OURS[0], |b| {
        // SAFETY: as above.
        b.iter(|| black_box(unsafe { strlen_private(black_box(TEXT.as_ptr())) }))
    });
    g.bench_function(OURS[1], |b| {
        // SAFETY: as above.
        b.iter(|| black_box(unsafe { strlen_dynamic(black_box(TEXT.as_ptr())) }))
    });
    g.bench_function(OURS[2], |b| {
        // SAFETY: as above.
        b.iter(|| black_box(unsafe { strlen_link(black_box(TEXT.as_ptr())) }))
    });
    g.finish();
}

fn bench_version(c: &mut Criterion) {
    version_private::resolve().expect("resolve gnu_get_libc_version privately");
    version_dynamic::resolve().expect("resolve gnu_get_libc_version through dlsym");
    let mut g = c.benchmark_group(VERSION);
    g.bench_function(DIRECT, |b| {
        // SAFETY: `gnu_get_libc_version` has no preconditions.
        b.iter(|| black_box(unsafe { gnu_get_libc_version() }))
    });
    g.bench_function(OURS[0], |b| {
        // SAFETY: as above.
        b.iter(|| black_box(unsafe { version_private() }))
    });
    g.bench_function(OURS[1], |b| {
        // SAFETY: as above.
        b.iter(|| black_box(unsafe { version_dynamic() }))
    });
    g.bench_function(OURS[2], |b| {
        // SAFETY: as above.
        b.iter(|| black_box(unsafe { version_link() }))
    });
    g.finish();
}

fn report_paired() {
    if !support::measuring() {
        return;
    }
    println!();
    println!(
        "paired, alternating batches of 20000 calls (per-round ratio private/direct: median, quartiles):"
    );
    let support::Paired {
        peer_ns: d,
        ours_ns: p,
        ratio: r,
    } = support::paired(
        400,
        20_000,
        || {
            // SAFETY: `TEXT` is NUL-terminated.
            black_box(unsafe { strlen(black_box(TEXT.as_ptr())) });
        },
        || {
            // SAFETY: as above.
            black_box(unsafe { strlen_private(black_box(TEXT.as_ptr())) });
        },
    );
    println!(
        "{STRLEN}: direct_extern {d:.3} ns, linkname_private {p:.3} ns, ratio {:.4} (quartiles {:.4}..{:.4})",
        r[1], r[0], r[2]
    );
    // The noise floor: the `link` binding compiles to the same call as the direct one.
    let support::Paired {
        peer_ns: d,
        ours_ns: p,
        ratio: r,
    } = support::paired(
        400,
        20_000,
        || {
            // SAFETY: as above.
            black_box(unsafe { strlen(black_box(TEXT.as_ptr())) });
        },
        || {
            // SAFETY: as above.
            black_box(unsafe { strlen_link(black_box(TEXT.as_ptr())) });
        },
    );
    println!(
        "{STRLEN}: direct_extern {d:.3} ns, linkname_link {p:.3} ns, ratio {:.4} (quartiles {:.4}..{:.4}) \
         (same machine code: the noise floor)",
        r[1], r[0], r[2]
    );
    let support::Paired {
        peer_ns: d,
        ours_ns: p,
        ratio: r,
    } = support::paired(
        400,
        20_000,
        || {
            // SAFETY: no preconditions.
            black_box(unsafe { gnu_get_libc_version() });
        },
        || {
            // SAFETY: as above.
            black_box(unsafe { version_private() });
        },
    );
    println!(
        "{VERSION}: direct_extern {d:.3} ns, linkname_private {p:.3} ns, ratio {:.4} (quartiles {:.4}..{:.4})",
        r[1], r[0], r[2]
    );
}

fn main() {
    let since = support::run_start();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench_strlen(&mut c);
    bench_version(&mut c);
    c.final_summary();
    report(since);
    report_paired();
}

fn report(since: SystemTime) {
    support::RatioTable::new(since)
        .note("target for linkname_private: <= 1.05")
        .rows(STRLEN, &OURS, &[DIRECT])
        .rows(VERSION, &OURS, &[DIRECT])
        .print();
}
