//! `clock_gettime` (every clock id, valid and not) and `uname`.

use std::os::fd::{AsFd, AsRawFd};

use linker_tools::sys::{self, ClockId, Errno, Timespec, UtsName, unchecked};
use rustix::time::{self as rt, DynamicClockId};

use crate::table::{Expect, Outcome, Table};
use crate::util::{self, KERNEL_PTR, LOW_PTR, NoAccess, lc};

/// glibc's `clock_gettime` goes through the vDSO, which writes the result itself and
/// would fault on a bad pointer instead of returning `EFAULT`; bad-pointer cases call
/// the system call through `libc::syscall` instead.
fn libc_clock_syscall(clock: i32, ts: usize) -> Outcome<()> {
    // SAFETY: `ts` is an address the kernel rejects with EFAULT (or the clock with
    // EINVAL); nothing is written.
    lc(unsafe {
        libc::syscall(
            libc::SYS_clock_gettime,
            clock as libc::c_long,
            ts as libc::c_long,
        )
    })
    .map(drop)
}

fn valid(ts: &Timespec) -> bool {
    ts.tv_sec >= 0 && (0..1_000_000_000).contains(&ts.tv_nsec)
}

/// Per-thread and per-process CPU clocks, as glibc's `MAKE_PROCESS_CPUCLOCK` builds them.
fn cpu_clock(pid: i32, thread: bool) -> i32 {
    const CPUCLOCK_SCHED: i32 = 2;
    const PERTHREAD: i32 = 4;
    ((!pid) << 3) | CPUCLOCK_SCHED | if thread { PERTHREAD } else { 0 }
}

pub(crate) fn cases(t: &mut Table) {
    clocks(t);
    uname(t);
}

fn clocks(t: &mut Table) {
    let (_r, pipe_w) = util::pipe(0);
    // SAFETY: getpid cannot fail.
    let pid = unsafe { libc::getpid() };
    #[rustfmt::skip]
    let cases: Vec<(String, i32, Expect, Option<DynamicClockId<'_>>)> = vec![
        ("CLOCK_REALTIME".into(), 0, Expect::Ok, Some(DynamicClockId::Known(rt::ClockId::Realtime))),
        ("CLOCK_MONOTONIC".into(), 1, Expect::Ok, Some(DynamicClockId::Known(rt::ClockId::Monotonic))),
        ("CLOCK_PROCESS_CPUTIME_ID".into(), 2, Expect::Ok, Some(DynamicClockId::Known(rt::ClockId::ProcessCPUTime))),
        ("CLOCK_THREAD_CPUTIME_ID".into(), 3, Expect::Ok, Some(DynamicClockId::Known(rt::ClockId::ThreadCPUTime))),
        ("CLOCK_MONOTONIC_RAW".into(), 4, Expect::Ok, Some(DynamicClockId::Known(rt::ClockId::MonotonicRaw))),
        ("CLOCK_REALTIME_COARSE".into(), 5, Expect::Ok, Some(DynamicClockId::Known(rt::ClockId::RealtimeCoarse))),
        ("CLOCK_MONOTONIC_COARSE".into(), 6, Expect::Ok, Some(DynamicClockId::Known(rt::ClockId::MonotonicCoarse))),
        ("CLOCK_BOOTTIME".into(), 7, Expect::Ok, Some(DynamicClockId::Boottime)),
        // The alarm clocks need an RTC device: EINVAL without one.
        ("CLOCK_REALTIME_ALARM".into(), 8, Expect::Either, Some(DynamicClockId::RealtimeAlarm)),
        ("CLOCK_BOOTTIME_ALARM".into(), 9, Expect::Either, Some(DynamicClockId::BoottimeAlarm)),
        ("EINVAL clock 10 (CLOCK_SGI_CYCLE, removed)".into(), 10, Expect::Err(Errno::EINVAL), None),
        ("CLOCK_TAI".into(), 11, Expect::Ok, Some(DynamicClockId::Tai)),
        ("EINVAL clock 12".into(), 12, Expect::Err(Errno::EINVAL), None),
        ("EINVAL clock 16 (MAX_CLOCKS)".into(), 16, Expect::Err(Errno::EINVAL), None),
        ("EINVAL clock 100".into(), 100, Expect::Err(Errno::EINVAL), None),
        ("EINVAL clock i32::MAX".into(), i32::MAX, Expect::Err(Errno::EINVAL), None),
        ("this process's CPU clock (pid 0)".into(), cpu_clock(0, false), Expect::Ok, None),
        ("this thread's CPU clock (tid 0)".into(), cpu_clock(0, true), Expect::Ok, None),
        ("this process's CPU clock by pid".into(), cpu_clock(pid, false), Expect::Ok, None),
        ("EINVAL CPU clock of a pid beyond pid_max".into(), cpu_clock(1 << 23, false), Expect::Err(Errno::EINVAL), None),
        ("EINVAL CPU clock type 3 (-1)".into(), -1, Expect::Err(Errno::EINVAL), None),
        ("EINVAL i32::MIN".into(), i32::MIN, Expect::Err(Errno::EINVAL), None),
        (
            "EINVAL dynamic clock of a pipe".into(),
            ((!pipe_w.as_raw_fd()) << 3) | 3,
            Expect::Err(Errno::EINVAL),
            Some(DynamicClockId::Dynamic(pipe_w.as_fd())),
        ),
    ];
    for (what, id, expect, rustix_id) in cases {
        let ours = sys::clock_gettime(ClockId::from_raw(id));
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        let libc = lc(unsafe { libc::clock_gettime(id, &mut ts) }.into()).map(|_| Timespec {
            tv_sec: ts.tv_sec,
            tv_nsec: ts.tv_nsec,
        });
        let rustix = rustix_id.map(|c| {
            rt::clock_gettime_dynamic(c).map(|ts| Timespec {
                tv_sec: ts.tv_sec,
                tv_nsec: ts.tv_nsec,
            })
        });
        // Times differ between the calls: compare that each succeeded with a valid
        // time, and that monotonic clocks did not go backwards from one to the next.
        if let (true, Ok(a), Ok(b), Some(Ok(c))) = (matches!(id, 1 | 4 | 7), &ours, &libc, &rustix)
        {
            assert!(
                a <= b && b <= c,
                "{what}: monotonic clock went backwards: {a:?} {b:?} {c:?}"
            );
        }
        let ours = ours.map(|ts| valid(&ts));
        let libc = libc.map(|ts| valid(&ts));
        let rustix = rustix.map(|r| r.map(|ts| valid(&ts)));
        t.case(
            &format!("clock_gettime: {what}"),
            expect,
            ours,
            libc,
            rustix,
        );
    }

    let no_access = NoAccess::new();
    for (what, clock, ptr, expect) in [
        (
            "EFAULT CLOCK_REALTIME into address 8",
            0,
            LOW_PTR,
            Errno::EFAULT,
        ),
        (
            "EFAULT CLOCK_MONOTONIC into a PROT_NONE page",
            1,
            no_access.addr(),
            Errno::EFAULT,
        ),
        (
            "EFAULT CLOCK_BOOTTIME into a kernel address",
            7,
            KERNEL_PTR,
            Errno::EFAULT,
        ),
        (
            "EINVAL a bad clock is reported before a bad pointer",
            12,
            LOW_PTR,
            Errno::EINVAL,
        ),
    ] {
        // SAFETY: the kernel cannot write to `ptr` and fails; nothing is written.
        let ours =
            unsafe { unchecked::clock_gettime(ClockId::from_raw(clock), ptr as *mut Timespec) };
        let libc = libc_clock_syscall(clock, ptr);
        t.case(
            &format!("clock_gettime: {what}"),
            Expect::Err(expect),
            ours,
            libc,
            None,
        );
    }
}

/// The six fields of a `uname` result, as bytes: ours (`UtsName`) and rustix's `Uname`
/// name their accessors alike.
macro_rules! fields {
    ($u:expr) => {{
        let u = $u;
        [
            u.sysname(),
            u.nodename(),
            u.release(),
            u.version(),
            u.machine(),
            u.domainname(),
        ]
        .iter()
        .map(|f| f.to_bytes().to_vec())
        .collect::<Vec<Vec<u8>>>()
    }};
}

fn uname(t: &mut Table) {
    let ours = sys::uname().map(|u| fields!(&u));
    // SAFETY: utsname is plain old data; all zeroes is a valid value.
    let mut buf: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `buf` is a valid, writable utsname.
    let libc = lc(unsafe { libc::uname(&mut buf) }.into()).map(|_| {
        [
            &buf.sysname,
            &buf.nodename,
            &buf.release,
            &buf.version,
            &buf.machine,
            &buf.domainname,
        ]
        .iter()
        .map(|f| {
            // SAFETY: the kernel NUL-terminates each field within its array.
            unsafe { std::ffi::CStr::from_ptr(f.as_ptr()) }
                .to_bytes()
                .to_vec()
        })
        .collect::<Vec<_>>()
    });
    let rustix = fields!(&rustix::system::uname());
    assert_eq!(ours.as_ref().map(|f| &f[0][..]), Ok(&b"Linux"[..]));
    assert_eq!(ours.as_ref().map(|f| &f[4][..]), Ok(&b"x86_64"[..]));
    t.case(
        "uname: every field",
        Expect::Ok,
        ours,
        libc,
        Some(Ok(rustix)),
    );

    let no_access = NoAccess::new();
    for (what, ptr) in [
        ("address 8", LOW_PTR),
        ("PROT_NONE page", no_access.addr()),
        ("kernel address", KERNEL_PTR),
    ] {
        // SAFETY: the kernel cannot write to `ptr` and fails with EFAULT.
        let ours = unsafe { unchecked::uname(ptr as *mut UtsName) };
        // SAFETY: glibc's uname is the plain system call: EFAULT, nothing written.
        let libc = lc(unsafe { libc::uname(ptr as *mut libc::utsname) }.into()).map(drop);
        t.case(
            &format!("uname: EFAULT buffer at {what}"),
            Expect::Err(Errno::EFAULT),
            ours,
            libc,
            None,
        );
    }
}
