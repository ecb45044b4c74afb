//! Trace every blocking system call made through the core, strace-style.
//!
//! Installs an [`Observer`] that prints each call's name, arguments, result and
//! duration to stderr, then does some real work through the declared wrappers: opens
//! and reads a file, seeks, writes to stdout, maps and unmaps memory, wakes a futex,
//! fails on purpose, and calls raw (`sysnb!`) wrappers, which the observer never sees.
//!
//! ```text
//! cargo run --example trace_syscalls
//! ```

use std::os::fd::AsFd;
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use linkname::sys::{
    self, CWD, Errno, FutexOp, MapFlags, Mode, OFlags, ProtFlags, Whence,
    hook::{self, Call, Observer},
};

/// Prints each call like strace: `openat(0xffffffffffffff9c, 0x…, 0x80000, 0) = 3 <4.1µs>`.
struct Tracer {
    calls: AtomicUsize,
}

impl Observer for Tracer {
    fn exit(&self, call: &Call<'_>, result: Result<usize, Errno>, took: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let args: Vec<String> = call.args.iter().map(|a| format!("{a:#x}")).collect();
        let result = match result {
            Ok(v) => format!("{v:#x}"),
            Err(e) => format!(
                "-1 {} ({})",
                e.name().unwrap_or("?"),
                e.message().unwrap_or("?")
            ),
        };
        eprintln!(
            "[tid {}] {}({}) = {} <{:?}>",
            sys::gettid(),
            call.nr,
            args.join(", "),
            result,
            took
        );
    }
}

static TRACER: Tracer = Tracer {
    calls: AtomicUsize::new(0),
};

fn main() -> Result<(), Errno> {
    hook::set_observer(&TRACER);

    // Open and read a file, then seek back and read again.
    let fd = sys::openat(CWD, c"/proc/self/stat", OFlags::CLOEXEC, Mode::empty())?;
    let mut buf = [0u8; 64];
    let n = sys::read(fd.as_fd(), &mut buf)?;
    sys::lseek(fd.as_fd(), 0, Whence::Set)?;
    let m = sys::read(fd.as_fd(), &mut buf[..n])?;
    assert_eq!(n, m);
    sys::close(fd)?;

    // Write to stdout.
    let stdout = std::io::stdout();
    let line = format!("read {n} bytes of /proc/self/stat through the raw core\n");
    sys::write(stdout.as_fd(), line.as_bytes())?;

    // Map, touch and unmap a page.
    // SAFETY: a fresh anonymous mapping replaces nothing; we unmap exactly it.
    unsafe {
        let p = sys::mmap(
            ptr::null_mut(),
            4096,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            None,
            0,
        )?;
        p.cast::<u8>().write(42);
        sys::munmap(p, 4096)?;
    }

    // Wake nobody on a private futex (six arguments).
    let word = AtomicU32::new(0);
    // SAFETY: `word` is a live, aligned u32; no timeout or second address is used.
    let woken = unsafe {
        sys::futex(
            word.as_ptr(),
            FutexOp::WAKE | FutexOp::PRIVATE,
            1,
            ptr::null(),
            ptr::null(),
            0,
        )?
    };
    assert_eq!(woken, 0);

    // A failing call is traced with its errno.
    let missing = sys::openat(
        CWD,
        c"/nonexistent/linkname",
        OFlags::empty(),
        Mode::empty(),
    );
    assert_eq!(missing.unwrap_err(), Errno::ENOENT);

    // Raw (sysnb!) calls are never observed.
    let before = TRACER.calls.load(Ordering::Relaxed);
    let (pid, tid) = (sys::getpid(), sys::gettid());
    let now = sys::clock_gettime(sys::ClockId::MONOTONIC)?;
    assert_eq!(TRACER.calls.load(Ordering::Relaxed), before);

    hook::clear_observer();
    println!(
        "pid {pid}, tid {tid}, monotonic {}.{:09}s: traced {} blocking calls; raw calls went unseen",
        now.tv_sec,
        now.tv_nsec,
        TRACER.calls.load(Ordering::Relaxed)
    );
    Ok(())
}
