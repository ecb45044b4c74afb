//! Read the clock through the vDSO, with the symbols our own ELF code finds in the image
//! the kernel maps into every process (`AT_SYSINFO_EHDR`), and compare with libc's
//! `clock_gettime`.
//!
//! ```text
//! cargo run --example vdso
//! ```
//!
//! The vDSO has no file on disk: `linker_tools::vdso` parses the mapped image with the
//! same `SymbolIndex` as any library, and the `private` strategy of `linkname!` binds its
//! versioned functions (`__vdso_clock_gettime@LINUX_2.6`, ...). No system call is made to
//! read the clock: the functions read the kernel's shared data page.

use std::ffi::c_int;
use std::time::Instant;

use linkname::linker_tools::vdso;
use linkname::linkname;

linkname! {
    /// `int __vdso_clock_gettime(clockid_t, struct timespec *)`.
    unsafe extern "C" fn vdso_clock_gettime(clock: libc::clockid_t, ts: *mut libc::timespec) -> c_int
        = private(vdso, "__vdso_clock_gettime@LINUX_2.6");

    /// `int __vdso_gettimeofday(struct timeval *, struct timezone *)`.
    unsafe extern "C" fn vdso_gettimeofday(tv: *mut libc::timeval, tz: *mut libc::c_void) -> c_int
        = private(vdso, "__vdso_gettimeofday");

    /// `time_t __vdso_time(time_t *)`.
    unsafe extern "C" fn vdso_time(t: *mut libc::time_t) -> libc::time_t = private(vdso, "__vdso_time");
}

fn ours(clock: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write; the clock ids are valid.
    let rc = unsafe { vdso_clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "__vdso_clock_gettime({clock})");
    ts
}

fn libc_clock(clock: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::clock_gettime(clock, &mut ts) }, 0);
    ts
}

fn nanos(ts: libc::timespec) -> i128 {
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = vdso::base().ok_or("this process has no vDSO")?;
    let index = vdso::index()?;
    println!(
        "vDSO at {base:#x}: {} symbols, soname {:?}",
        index.len(),
        index.soname()
    );
    for (item, r) in [
        ("vdso_clock_gettime", vdso_clock_gettime::resolve()?),
        ("vdso_gettimeofday", vdso_gettimeofday::resolve()?),
        ("vdso_time", vdso_time::resolve()?),
    ] {
        let s = r
            .symbol
            .as_ref()
            .expect("the private strategy reports the symbol");
        println!(
            "bound {item:<18} -> {} ({}, {} bytes) at {:#x} = vDSO + {:#x}",
            s.name,
            s.kind.elf_name(),
            s.size,
            r.address,
            r.address - base
        );
    }

    for (name, clock) in [
        ("CLOCK_REALTIME", libc::CLOCK_REALTIME),
        ("CLOCK_MONOTONIC", libc::CLOCK_MONOTONIC),
        ("CLOCK_BOOTTIME", libc::CLOCK_BOOTTIME),
    ] {
        let before = ours(clock);
        let theirs = libc_clock(clock);
        let after = ours(clock);
        println!(
            "{name:<16} vDSO {}.{:09}  libc {}.{:09}  vDSO again {}.{:09}",
            before.tv_sec,
            before.tv_nsec,
            theirs.tv_sec,
            theirs.tv_nsec,
            after.tv_sec,
            after.tv_nsec
        );
        assert!(nanos(before) <= nanos(theirs) && nanos(theirs) <= nanos(after));
    }

    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: `tv` is writable; a null timezone is allowed.
    let rc = unsafe { vdso_gettimeofday(&mut tv, std::ptr::null_mut()) };
    assert_eq!(rc, 0);
    // SAFETY: a null argument is allowed.
    let t = unsafe { vdso_time(std::ptr::null_mut()) };
    println!("gettimeofday = {}.{:06}, time = {t}", tv.tv_sec, tv.tv_usec);
    assert!((t - tv.tv_sec).abs() <= 1);

    // How long a read takes, each way (a rough figure; benches/vdso.rs measures it).
    const N: u32 = 1_000_000;
    let start = Instant::now();
    for _ in 0..N {
        std::hint::black_box(ours(libc::CLOCK_MONOTONIC));
    }
    let vdso_ns = start.elapsed().as_nanos() as f64 / f64::from(N);
    let start = Instant::now();
    for _ in 0..N {
        std::hint::black_box(libc_clock(libc::CLOCK_MONOTONIC));
    }
    let libc_ns = start.elapsed().as_nanos() as f64 / f64::from(N);
    println!(
        "clock_gettime(CLOCK_MONOTONIC): {vdso_ns:.1} ns through the binding, {libc_ns:.1} ns through libc"
    );
    Ok(())
}
