//! `EINTR`: a blocking call interrupted by a signal whose handler was installed without
//! `SA_RESTART`, sent to the blocked thread with `tgkill` or `pthread_kill` from this
//! thread, again and again until the call returns (no sleeps to guess when it blocks).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use linker_tools::sys::{self, Errno, FutexOp, Timespec};
use rustix::thread::futex as rf;

use crate::table::{Expect, Outcome, Table};
use crate::util::{self, lc};

extern "C" fn on_signal(_: libc::c_int) {}

/// Installs a no-op `SIGUSR1` handler without `SA_RESTART`; restores the old one on drop.
struct Handler(libc::sigaction);

impl Handler {
    fn install() -> Self {
        // SAFETY: sigaction is plain old data; all zeroes is a valid value.
        let (mut new, mut old): (libc::sigaction, libc::sigaction) =
            unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
        new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        new.sa_flags = 0; // no SA_RESTART: interrupted calls fail with EINTR
        // SAFETY: `new` and `old` are valid sigaction structs; the handler does nothing.
        unsafe {
            libc::sigemptyset(&mut new.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGUSR1, &new, &mut old), 0);
        }
        Self(old)
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        // SAFETY: restores the action saved by `install`.
        unsafe { libc::sigaction(libc::SIGUSR1, &self.0, ptr::null_mut()) };
    }
}

/// Runs `blocking` on a new thread and signals that thread until the call returns.
/// `unblock` ends the call the ordinary way if the signal never gets through in time.
fn interrupt<T: Send>(blocking: &(dyn Fn() -> T + Sync), unblock: &dyn Fn()) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(move || {
            // SAFETY: pthread_self cannot fail.
            let me = (sys::gettid().as_raw(), unsafe { libc::pthread_self() });
            tx.send(Err(me)).unwrap();
            tx.send(Ok(blocking())).unwrap();
        });
        let Ok(Err((tid, thread))) = rx.recv_timeout(Duration::from_secs(10)) else {
            panic!("the blocking thread did not start")
        };
        let pid = sys::getpid().as_raw();
        let deadline = Instant::now() + Duration::from_secs(10);
        for round in 0u32.. {
            // Alternate the two ways to signal one thread. Between sending its result and
            // being received, the thread may have exited: ESRCH is then expected.
            let r = if round % 2 == 0 {
                // SAFETY: tgkill takes plain integers; `tid` is a thread of ours, running
                // or just exited (then the kernel reports ESRCH).
                let r = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGUSR1) };
                if r == 0 { 0 } else { crate::util::errno() }
            } else {
                // SAFETY: `thread` is a thread of this process, not yet joined (the scope
                // joins it later), so its handle is valid.
                unsafe { libc::pthread_kill(thread, libc::SIGUSR1) }
            };
            assert!(
                r == 0 || r == libc::ESRCH,
                "signalling the blocked thread: errno {r}"
            );
            let wait = Duration::from_millis(u64::from(round.min(10)) + 1);
            match rx.recv_timeout(wait) {
                Ok(Ok(result)) => return result,
                Ok(Err(_)) => unreachable!("the thread id is sent once"),
                Err(_) if Instant::now() < deadline => {}
                Err(_) => {
                    unblock();
                    panic!("the blocked call was never interrupted");
                }
            }
        }
        unreachable!()
    })
}

fn errno_of<T>(r: Result<T, Errno>) -> Outcome<()> {
    r.map(drop).map_err(Errno::raw)
}

fn rx_of<T>(r: rustix::io::Result<T>) -> Outcome<()> {
    r.map(drop).map_err(|e| e.raw_os_error())
}

pub(crate) fn cases(t: &mut Table) {
    // SAFETY: ignoring SIGPIPE is what Rust's runtime already does; EPIPE cases rely on it.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let _handler = Handler::install();
    let eintr = Expect::Err(Errno::EINTR);

    // A read from an empty pipe whose writer stays open blocks until interrupted.
    let (r, w) = util::pipe(0);
    let (rfd, wfd) = (r.as_raw_fd(), w.as_fd());
    let unblock = || {
        let _ = sys::write(wfd, b"x");
    };
    // SAFETY: `r` outlives every thread started here.
    let fd = || unsafe { BorrowedFd::borrow_raw(rfd) };
    let ours = interrupt(&|| errno_of(sys::read(fd(), &mut [0u8; 8])), &unblock);
    let libc = interrupt(
        // SAFETY: the buffer is valid for 8 bytes.
        &|| lc(unsafe { libc::read(rfd, [0u8; 8].as_mut_ptr().cast(), 8) } as i64).map(drop),
        &unblock,
    );
    let rustix = interrupt(&|| rx_of(rustix::io::read(fd(), &mut [0u8; 8])), &unblock);
    t.record(
        "read: EINTR blocking read of an empty pipe",
        eintr,
        ours,
        libc,
        Some(rustix),
    );

    // A write to a full pipe blocks until interrupted (nothing was written, so EINTR).
    let (r2, w2) = util::pipe(libc::O_NONBLOCK);
    util::fill(w2.as_fd());
    // SAFETY: F_SETFL on our own descriptor; clears O_NONBLOCK so the next write blocks.
    assert_eq!(unsafe { libc::fcntl(w2.as_raw_fd(), libc::F_SETFL, 0) }, 0);
    let (wfd2, rfd2) = (w2.as_raw_fd(), r2.as_fd());
    let drain = || {
        let mut buf = [0u8; 65536];
        let _ = sys::read(rfd2, &mut buf);
    };
    // SAFETY: `w2` outlives every thread started here.
    let wfd2b = || unsafe { BorrowedFd::borrow_raw(wfd2) };
    let ours = interrupt(&|| errno_of(sys::write(wfd2b(), b"y")), &drain);
    // SAFETY: the one-byte buffer is readable.
    let libc = interrupt(
        &|| lc(unsafe { libc::write(wfd2, b"y".as_ptr().cast(), 1) } as i64).map(drop),
        &drain,
    );
    let rustix = interrupt(&|| rx_of(rustix::io::write(wfd2b(), b"y")), &drain);
    t.record(
        "write: EINTR blocking write to a full pipe",
        eintr,
        ours,
        libc,
        Some(rustix),
    );

    // FUTEX_WAIT on a word nobody changes: blocks until interrupted.
    let word = AtomicU32::new(0);
    let wake = || {
        word.store(1, Ordering::Relaxed);
        // SAFETY: `word` is a live atomic.
        let _ = unsafe {
            sys::futex(
                word.as_ptr(),
                FutexOp::WAKE | FutexOp::PRIVATE,
                i32::MAX as u32,
                ptr::null(),
                ptr::null(),
                0,
            )
        };
    };
    let limit = Timespec {
        tv_sec: 30,
        tv_nsec: 0,
    };
    let rlimit = rf::Timespec {
        tv_sec: 30,
        tv_nsec: 0,
    };
    let wait = FutexOp::WAIT | FutexOp::PRIVATE;
    for (what, ts, rtimeout) in [
        ("no timeout", None, None),
        ("a 30 s timeout", Some(&limit), Some(&rlimit)),
    ] {
        let timeout = || ts.map_or(ptr::null(), |ts| ts as *const Timespec);
        // SAFETY: `word` is a live atomic; `timeout` is null or a live Timespec.
        let ours = interrupt(
            &|| errno_of(unsafe { sys::futex(word.as_ptr(), wait, 0, timeout(), ptr::null(), 0) }),
            &wake,
        );
        let libc = interrupt(
            &|| libc_futex_wait(&word, libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, ts, 0),
            &wake,
        );
        let rustix = interrupt(
            &|| rx_of(rf::wait(&word, rf::Flags::PRIVATE, 0, rtimeout)),
            &wake,
        );
        t.record(
            &format!("futex: EINTR WAIT with {what}"),
            eintr,
            ours,
            libc,
            Some(rustix),
        );
    }
    // WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline 30 s away.
    let now = sys::clock_gettime(sys::ClockId::MONOTONIC).unwrap();
    let until = Timespec {
        tv_sec: now.tv_sec + 30,
        tv_nsec: now.tv_nsec,
    };
    let runtil = rf::Timespec {
        tv_sec: until.tv_sec,
        tv_nsec: until.tv_nsec,
    };
    let op = FutexOp::WAIT_BITSET | FutexOp::PRIVATE;
    // SAFETY: `word` is a live atomic; `until` is a live Timespec.
    let ours = interrupt(
        &|| errno_of(unsafe { sys::futex(word.as_ptr(), op, 0, &until, ptr::null(), !0) }),
        &wake,
    );
    let libc = interrupt(
        &|| libc_futex_wait(&word, op.as_raw() as libc::c_int, Some(&until), !0),
        &wake,
    );
    let rustix = interrupt(
        &|| {
            rx_of(rf::wait_bitset(
                &word,
                rf::Flags::PRIVATE,
                0,
                Some(&runtil),
                std::num::NonZeroU32::MAX,
            ))
        },
        &wake,
    );
    t.record(
        "futex: EINTR WAIT_BITSET with an absolute deadline",
        eintr,
        ours,
        libc,
        Some(rustix),
    );
    assert_eq!(
        word.load(Ordering::Relaxed),
        0,
        "no case needed the fallback wake"
    );
}

/// `futex(2)` through the C library's `syscall(3)`: the wait operation `op` on `word`
/// while it holds 0, with `timeout` (`None`: none) and `val3` (the bitset of
/// `FUTEX_WAIT_BITSET`).
fn libc_futex_wait(
    word: &AtomicU32,
    op: libc::c_int,
    timeout: Option<&Timespec>,
    val3: u32,
) -> Outcome<()> {
    let timeout = timeout.map_or(ptr::null(), |ts| ts as *const Timespec);
    // SAFETY: `word` is a live atomic; `timeout` is null or a live Timespec (the
    // kernel's layout); `uaddr2` is unused by the wait operations.
    lc(unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            op as libc::c_long,
            0 as libc::c_long,
            timeout,
            0 as libc::c_long,
            libc::c_long::from(val3),
        )
    })
    .map(drop)
}
