//! `futex`, the six-argument call: glibc has no wrapper, so the C reference is
//! `libc::syscall(SYS_futex, …)`.

use std::num::NonZeroU32;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use linker_tools::sys::{self, Errno, FutexOp, Timespec};
use rustix::thread::futex as rf;

use crate::table::{Expect, Outcome, Table};
use crate::util::{LOW_PTR, NoAccess, lc};

const WAIT: u32 = 0;
const WAKE: u32 = 1;
const REQUEUE: u32 = 3;
const CMP_REQUEUE: u32 = 4;
const WAIT_BITSET: u32 = 9;
const WAKE_BITSET: u32 = 10;
const PRIVATE: u32 = 128;
const CLOCK_REALTIME: u32 = 256;

/// The futex through `libc::syscall`.
///
/// # Safety
///
/// As for `sys::futex`: live aligned words (or addresses the kernel rejects) and a null
/// or valid timeout.
unsafe fn libc_futex(
    uaddr: *const u32,
    op: u32,
    val: u32,
    timeout: *const Timespec,
    uaddr2: *const u32,
    val3: u32,
) -> Outcome<usize> {
    // Every variadic argument is passed as a full register-sized value.
    // SAFETY: forwarded from this function's contract.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            uaddr as libc::c_long,
            op as libc::c_long,
            val as libc::c_long,
            timeout as libc::c_long,
            uaddr2 as libc::c_long,
            val3 as libc::c_long,
        )
    };
    lc(r).map(|n| n as usize)
}

fn rts(ts: &Timespec) -> rf::Timespec {
    rf::Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    }
}

pub(crate) fn cases(t: &mut Table) {
    let word = AtomicU32::new(0);
    let other = AtomicU32::new(0);
    let w = word.as_ptr().cast_const();
    let w2 = other.as_ptr().cast_const();
    let no_access = NoAccess::new();
    let unaligned = (w as usize + 1) as *const u32;
    let low = LOW_PTR as *const u32;
    let guard = no_access.addr() as *const u32;
    let ms = Timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000,
    };
    let past = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let bad_nsec = Timespec {
        tv_sec: 0,
        tv_nsec: 2_000_000_000,
    };
    let negative = Timespec {
        tv_sec: -1,
        tv_nsec: 0,
    };
    let (null, none) = (ptr::null::<Timespec>(), ptr::null::<u32>());
    let ones = NonZeroU32::MAX;
    let p = rf::Flags::PRIVATE;
    let shared = rf::Flags::empty();
    let err = Expect::Err;

    type Rx<'a> = Option<Box<dyn Fn() -> rustix::io::Result<usize> + 'a>>;
    let unit = |r: rustix::io::Result<()>| r.map(|()| 0);
    #[rustfmt::skip]
    /// (name, expectation, uaddr, op, val, timeout, uaddr2, val3, the rustix call)
    type Case<'a> = (&'a str, Expect, *const u32, u32, u32, *const Timespec, *const u32, u32, Rx<'a>);
    let cases: Vec<Case<'_>> = vec![
        (
            "futex: WAKE|PRIVATE, no waiters",
            Expect::Ok,
            w,
            WAKE | PRIVATE,
            1,
            null,
            none,
            0,
            Some(Box::new(|| rf::wake(&word, p, 1))),
        ),
        (
            "futex: WAKE shared, no waiters",
            Expect::Ok,
            w,
            WAKE,
            1,
            null,
            none,
            0,
            Some(Box::new(|| rf::wake(&word, shared, 1))),
        ),
        (
            "futex: WAKE zero waiters",
            Expect::Ok,
            w,
            WAKE | PRIVATE,
            0,
            null,
            none,
            0,
            Some(Box::new(|| rf::wake(&word, p, 0))),
        ),
        (
            "futex: WAKE i32::MAX waiters",
            Expect::Ok,
            w,
            WAKE | PRIVATE,
            i32::MAX as u32,
            null,
            none,
            0,
            Some(Box::new(|| rf::wake(&word, p, i32::MAX as u32))),
        ),
        (
            "futex: EAGAIN WAIT shared, value differs",
            err(Errno::EAGAIN),
            w,
            WAIT,
            1,
            null,
            none,
            0,
            Some(Box::new(|| unit(rf::wait(&word, shared, 1, None)))),
        ),
        (
            "futex: EAGAIN WAIT|PRIVATE, value differs",
            err(Errno::EAGAIN),
            w,
            WAIT | PRIVATE,
            1,
            null,
            none,
            0,
            Some(Box::new(|| unit(rf::wait(&word, p, 1, None)))),
        ),
        (
            "futex: ETIMEDOUT WAIT, 1 ms relative timeout",
            err(Errno::ETIMEDOUT),
            w,
            WAIT | PRIVATE,
            0,
            &ms,
            none,
            0,
            Some(Box::new(|| unit(rf::wait(&word, p, 0, Some(&rts(&ms)))))),
        ),
        (
            "futex: ETIMEDOUT WAIT_BITSET, absolute time 0",
            err(Errno::ETIMEDOUT),
            w,
            WAIT_BITSET | PRIVATE,
            0,
            &past,
            none,
            !0,
            Some(Box::new(|| {
                unit(rf::wait_bitset(&word, p, 0, Some(&rts(&past)), ones))
            })),
        ),
        (
            "futex: ETIMEDOUT WAIT_BITSET|CLOCK_REALTIME, absolute time 0",
            err(Errno::ETIMEDOUT),
            w,
            WAIT_BITSET | PRIVATE | CLOCK_REALTIME,
            0,
            &past,
            none,
            !0,
            Some(Box::new(|| {
                unit(rf::wait_bitset(
                    &word,
                    p | rf::Flags::CLOCK_REALTIME,
                    0,
                    Some(&rts(&past)),
                    ones,
                ))
            })),
        ),
        (
            "futex: EINVAL timeout of 2e9 ns",
            err(Errno::EINVAL),
            w,
            WAIT | PRIVATE,
            0,
            &bad_nsec,
            none,
            0,
            Some(Box::new(|| {
                unit(rf::wait(&word, p, 0, Some(&rts(&bad_nsec))))
            })),
        ),
        (
            "futex: EINVAL negative timeout",
            err(Errno::EINVAL),
            w,
            WAIT | PRIVATE,
            0,
            &negative,
            none,
            0,
            Some(Box::new(|| {
                unit(rf::wait(&word, p, 0, Some(&rts(&negative))))
            })),
        ),
        (
            "futex: EINVAL WAIT_BITSET with bitset 0",
            err(Errno::EINVAL),
            w,
            WAIT_BITSET | PRIVATE,
            0,
            &ms,
            none,
            0,
            None,
        ),
        (
            "futex: EINVAL WAKE_BITSET with bitset 0",
            err(Errno::EINVAL),
            w,
            WAKE_BITSET | PRIVATE,
            1,
            null,
            none,
            0,
            None,
        ),
        (
            "futex: WAKE_BITSET, no waiters",
            Expect::Ok,
            w,
            WAKE_BITSET | PRIVATE,
            1,
            null,
            none,
            !0,
            Some(Box::new(|| rf::wake_bitset(&word, p, 1, ones))),
        ),
        (
            "futex: EINVAL unaligned address",
            err(Errno::EINVAL),
            unaligned,
            WAKE | PRIVATE,
            1,
            null,
            none,
            0,
            None,
        ),
        (
            "futex: EFAULT WAIT on address 8",
            err(Errno::EFAULT),
            low,
            WAIT | PRIVATE,
            0,
            &ms,
            none,
            0,
            None,
        ),
        (
            "futex: EFAULT WAIT on a PROT_NONE page",
            err(Errno::EFAULT),
            guard,
            WAIT | PRIVATE,
            0,
            &ms,
            none,
            0,
            None,
        ),
        (
            "futex: EFAULT shared WAKE on address 8",
            err(Errno::EFAULT),
            low,
            WAKE,
            1,
            null,
            none,
            0,
            None,
        ),
        (
            "futex: EFAULT timeout at address 8",
            err(Errno::EFAULT),
            w,
            WAIT | PRIVATE,
            0,
            ptr::without_provenance(LOW_PTR),
            none,
            0,
            None,
        ),
        (
            "futex: ENOSYS unknown operation 99",
            err(Errno::ENOSYS),
            w,
            99,
            1,
            null,
            none,
            0,
            None,
        ),
        (
            "futex: ENOSYS WAKE|CLOCK_REALTIME",
            err(Errno::ENOSYS),
            w,
            WAKE | CLOCK_REALTIME,
            1,
            null,
            none,
            0,
            None,
        ),
        // CMP_REQUEUE and REQUEUE pass their requeue count in the timeout register.
        (
            "futex: EAGAIN CMP_REQUEUE, value differs",
            err(Errno::EAGAIN),
            w,
            CMP_REQUEUE | PRIVATE,
            1,
            ptr::without_provenance(1),
            w2,
            5,
            Some(Box::new(|| rf::cmp_requeue(&word, p, 1, 1, &other, 5))),
        ),
        (
            "futex: CMP_REQUEUE, no waiters",
            Expect::Ok,
            w,
            CMP_REQUEUE | PRIVATE,
            1,
            ptr::without_provenance(1),
            w2,
            0,
            Some(Box::new(|| rf::cmp_requeue(&word, p, 1, 1, &other, 0))),
        ),
        (
            "futex: REQUEUE, no waiters",
            Expect::Ok,
            w,
            REQUEUE | PRIVATE,
            1,
            ptr::without_provenance(1),
            w2,
            0,
            Some(Box::new(|| rf::requeue(&word, p, 1, 1, &other))),
        ),
        (
            "futex: EINVAL CMP_REQUEUE with a negative count",
            err(Errno::EINVAL),
            w,
            CMP_REQUEUE | PRIVATE,
            1,
            ptr::without_provenance(usize::MAX),
            w2,
            0,
            None,
        ),
    ];
    for (name, expect, uaddr, op, val, timeout, uaddr2, val3, rustix) in cases {
        // SAFETY: the words are live aligned atomics that outlive the call, or addresses
        // (unaligned, page 0, PROT_NONE) the kernel rejects without writing; timeouts
        // are null, live `Timespec`s, bad pointers the kernel rejects, or counts for
        // the requeue operations.
        let ours = unsafe { sys::futex(uaddr, FutexOp::from_raw(op), val, timeout, uaddr2, val3) };
        // SAFETY: as above, through the C library.
        let libc = unsafe { libc_futex(uaddr, op, val, timeout, uaddr2, val3) };
        t.case(name, expect, ours, libc, rustix.map(|f| f()));
    }
    assert_eq!(
        (word.load(Ordering::Relaxed), other.load(Ordering::Relaxed)),
        (0, 0)
    );
    wait_and_wake(t);
}

/// Runs `wait` on a new thread and `wake` on this one until it wakes that thread;
/// returns (what the wait returned, what the successful wake returned).
fn woken(
    wait: &(dyn Fn(&AtomicU32) -> Outcome<usize> + Sync),
    wake: &dyn Fn(&AtomicU32) -> Outcome<usize>,
) -> (Outcome<usize>, Outcome<usize>) {
    let word = AtomicU32::new(0);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| wait(&word));
        let deadline = Instant::now() + Duration::from_secs(10);
        let woke = loop {
            let r = wake(&word);
            if r != Ok(0) || waiter.is_finished() {
                break r;
            }
            if Instant::now() > deadline {
                word.store(1, Ordering::Relaxed);
                let _ = wake(&word);
                panic!("the waiter never blocked on the futex");
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        (waiter.join().unwrap(), woke)
    })
}

fn wait_and_wake(t: &mut Table) {
    // The waiter's timeout bounds the test if a wake were ever lost.
    let limit = Timespec {
        tv_sec: 10,
        tv_nsec: 0,
    };
    let op = |o: FutexOp| o | FutexOp::PRIVATE;
    let ours = woken(
        &|w| {
            // SAFETY: `w` is a live atomic; `limit` is a valid timeout.
            unsafe { sys::futex(w.as_ptr(), op(FutexOp::WAIT), 0, &limit, ptr::null(), 0) }
                .map_err(Errno::raw)
        },
        &|w| {
            // SAFETY: `w` is a live atomic.
            unsafe {
                sys::futex(
                    w.as_ptr(),
                    op(FutexOp::WAKE),
                    1,
                    ptr::null(),
                    ptr::null(),
                    0,
                )
            }
            .map_err(Errno::raw)
        },
    );
    let libc = woken(
        // SAFETY: as above, through the C library.
        &|w| unsafe { libc_futex(w.as_ptr(), WAIT | PRIVATE, 0, &limit, ptr::null(), 0) },
        // SAFETY: as above, through the C library.
        &|w| unsafe { libc_futex(w.as_ptr(), WAKE | PRIVATE, 1, ptr::null(), ptr::null(), 0) },
    );
    let rustix = woken(
        &|w| {
            rf::wait(w, rf::Flags::PRIVATE, 0, Some(&rts(&limit)))
                .map(|()| 0)
                .map_err(|e| e.raw_os_error())
        },
        &|w| rf::wake(w, rf::Flags::PRIVATE, 1).map_err(|e| e.raw_os_error()),
    );
    t.record(
        "futex: WAIT returns 0 when woken",
        Expect::Ok,
        ours.0,
        libc.0,
        Some(rustix.0),
    );
    t.record(
        "futex: WAKE wakes one waiter",
        Expect::Ok,
        ours.1,
        libc.1,
        Some(rustix.1),
    );
    assert_eq!(
        ours.1,
        Ok(1),
        "the wake that ends the wait reports one waiter"
    );
}
