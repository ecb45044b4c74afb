//! The observer hook (`sys::hook`): it sees exactly the blocking (`sys!`) calls, with
//! their numbers, names, arguments and results, and never a raw (`sysnb!`) one, from
//! several threads at once.
//!
//! The observer is process-global, so this binary holds one test that runs every
//! phase in order.

use std::ffi::c_void;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Duration;

use linker_tools::sys::{
    self, CWD, ClockId, Errno, FutexOp, MapFlags, Mode, Nr, OFlags, Pid, ProtFlags, Signal, Sysno,
    Timespec, Whence,
    hook::{self, Call, Observer},
};

// Every arity, 0 to 6, declared here with both macros. The blocking ones are observed;
// the raw twins, identical but for the macro, must never be.
linker_tools::sys! {
    /// 0 arguments: `getpid`.
    fn obs0() -> Pid = readonly getpid;
    /// 1 argument: `close` on a raw number (`-1` here: `EBADF`).
    unsafe fn obs1(fd: i32) -> Result<()> = close;
    /// 2 arguments: `kill`.
    fn obs2(pid: Pid, sig: Signal) -> Result<()> = kill;
    /// 3 arguments: `read` on a raw number.
    unsafe fn obs3(fd: i32, buf: *mut u8, len: usize) -> Result<usize> = read;
    /// 4 arguments: `pread64` on a raw number.
    unsafe fn obs4(fd: i32, buf: *mut u8, len: usize, off: i64) -> Result<usize> = pread64;
    /// 5 arguments: `mremap`.
    unsafe fn obs5(old: *mut c_void, old_len: usize, new_len: usize, flags: u32, new: *mut c_void) -> Result<usize> = mremap;
    /// By number: a call no kernel has (`ENOSYS`).
    fn obs_unknown() -> Result<usize> = 100000;
    /// By number, with arguments (the table cannot vouch for them: `unsafe`).
    unsafe fn obs_unknown3(a: usize, b: usize, c: usize) -> Result<usize> = 0x7fff_0001;
    /// By number: `getpid` with the x32 bit set.
    fn obs_x32_getpid() -> Result<usize> = 0x4000_0027;
    /// 6 arguments: `futex`.
    unsafe fn obs6(uaddr: *const u32, op: u32, val: u32, timeout: usize, uaddr2: usize, val3: u32) -> Result<usize> = futex;
}

linker_tools::sysnb! {
    fn raw0() -> Pid = readonly getpid;
    unsafe fn raw1(fd: i32) -> Result<()> = close;
    fn raw2(pid: Pid, sig: Signal) -> Result<()> = kill;
    unsafe fn raw3(fd: i32, buf: *mut u8, len: usize) -> Result<usize> = read;
    unsafe fn raw4(fd: i32, buf: *mut u8, len: usize, off: i64) -> Result<usize> = pread64;
    unsafe fn raw5(old: *mut c_void, old_len: usize, new_len: usize, flags: u32, new: *mut c_void) -> Result<usize> = mremap;
    unsafe fn raw6(uaddr: *const u32, op: u32, val: u32, timeout: usize, uaddr2: usize, val3: u32) -> Result<usize> = futex;
}

/// One observed call, as `exit` saw it.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    tid: i32,
    nr: Nr,
    args: Vec<usize>,
    result: Result<usize, Errno>,
}

/// One call a thread expects to be observed.
#[derive(Clone, Debug)]
struct Want {
    name: &'static str,
    number: libc::c_long,
    args: Vec<usize>,
    result: Result<usize, Errno>,
    /// The call waits this long at least (a futex timeout).
    at_least: Duration,
}

fn want(
    name: &'static str,
    number: libc::c_long,
    args: &[usize],
    result: Result<usize, Errno>,
) -> Want {
    Want {
        name,
        number,
        args: args.to_vec(),
        result,
        at_least: Duration::ZERO,
    }
}

/// Records every enter and exit.
struct Recorder {
    enters: Mutex<Vec<(i32, Nr, Vec<usize>)>>,
    exits: Mutex<Vec<(Seen, Duration)>>,
}

impl Observer for Recorder {
    fn enter(&self, call: &Call<'_>) {
        let tid = sys::gettid().as_raw();
        self.enters
            .lock()
            .unwrap()
            .push((tid, call.nr, call.args.to_vec()));
    }

    fn exit(&self, call: &Call<'_>, result: Result<usize, Errno>, took: Duration) {
        let seen = Seen {
            tid: sys::gettid().as_raw(),
            nr: call.nr,
            args: call.args.to_vec(),
            result,
        };
        self.exits.lock().unwrap().push((seen, took));
    }
}

static RECORDER: Recorder = Recorder {
    enters: Mutex::new(Vec::new()),
    exits: Mutex::new(Vec::new()),
};

/// Makes a blocking call through the core from inside its own hooks.
struct Reentrant {
    enters: AtomicUsize,
    exits: AtomicUsize,
    inner_ebadf: AtomicUsize,
}

impl Reentrant {
    fn call_inside(&self) {
        // SAFETY: closing -1 closes nothing; the kernel reports EBADF.
        if unsafe { obs1(-1) } == Err(Errno::EBADF) {
            self.inner_ebadf.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Observer for Reentrant {
    fn enter(&self, _call: &Call<'_>) {
        self.enters.fetch_add(1, Ordering::Relaxed);
        self.call_inside();
    }

    fn exit(&self, _call: &Call<'_>, _result: Result<usize, Errno>, _took: Duration) {
        self.exits.fetch_add(1, Ordering::Relaxed);
        self.call_inside();
    }
}

static REENTRANT: Reentrant = Reentrant {
    enters: AtomicUsize::new(0),
    exits: AtomicUsize::new(0),
    inner_ebadf: AtomicUsize::new(0),
};

const THREADS: usize = 6;
const ROUNDS: usize = 60;

/// Raw calls: none of these may ever reach an observer.
fn raw_calls(word: &AtomicU32) {
    let me = sys::getpid();
    let _ = (
        sys::gettid(),
        sys::getppid(),
        sys::getuid(),
        sys::geteuid(),
        sys::getgid(),
        sys::getegid(),
    );
    assert_eq!(sys::kill(me, Signal::NONE), Ok(()));
    assert!(sys::clock_gettime(ClockId::MONOTONIC).is_ok());
    assert!(sys::uname().is_ok());
    let mut b = [0u8; 4];
    assert_eq!(raw0(), me);
    // SAFETY: -1 is no descriptor: nothing is closed, read or written.
    unsafe {
        assert_eq!(raw1(-1), Err(Errno::EBADF));
        assert_eq!(raw3(-1, b.as_mut_ptr(), 4), Err(Errno::EBADF));
        assert_eq!(raw4(-1, b.as_mut_ptr(), 4, 0), Err(Errno::EBADF));
    }
    assert_eq!(raw2(me, Signal::NONE), Ok(()));
    // SAFETY: an unaligned address is rejected before anything is remapped.
    let res = unsafe {
        raw5(
            ptr::without_provenance_mut(1),
            4096,
            4096,
            0,
            ptr::null_mut(),
        )
    };
    assert_eq!(res, Err(Errno::EINVAL));
    // SAFETY: `word` is a live atomic; FUTEX_WAKE|PRIVATE wakes nobody.
    assert_eq!(unsafe { raw6(word.as_ptr(), 129, 1, 0, 0, 0) }, Ok(0));
}

/// Blocking calls, each with what the observer must report for it.
fn blocking_calls(word: &AtomicU32, round: usize, out: &mut Vec<Want>) {
    let mut fds = [-1i32; 2];
    // SAFETY: `fds` has room for two descriptors.
    let res = unsafe { sys::unchecked::pipe2(fds.as_mut_ptr(), OFlags::CLOEXEC) };
    assert_eq!(res, Ok(()));
    out.push(want(
        "pipe2",
        libc::SYS_pipe2,
        &[fds.as_mut_ptr() as usize, libc::O_CLOEXEC as usize],
        Ok(0),
    ));
    // SAFETY: two fresh descriptors nobody owns.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let (r, w) = (rd.as_raw_fd() as usize, wr.as_raw_fd() as usize);

    let msg = b"abc";
    assert_eq!(sys::write(wr.as_fd(), msg), Ok(3));
    out.push(want(
        "write",
        libc::SYS_write,
        &[w, msg.as_ptr() as usize, 3],
        Ok(3),
    ));
    let mut buf = [0u8; 8];
    assert_eq!(sys::read(rd.as_fd(), &mut buf), Ok(3));
    out.push(want(
        "read",
        libc::SYS_read,
        &[r, buf.as_ptr() as usize, 8],
        Ok(3),
    ));
    assert_eq!(sys::lseek(rd.as_fd(), 0, Whence::Set), Err(Errno::ESPIPE));
    out.push(want(
        "lseek",
        libc::SYS_lseek,
        &[r, 0, 0],
        Err(Errno::ESPIPE),
    ));

    let path = c"/nonexistent/linkname-observer";
    let missing = sys::openat(CWD, path, OFlags::CLOEXEC, Mode::empty());
    assert_eq!(missing.err(), Some(Errno::ENOENT));
    let at_fdcwd = libc::AT_FDCWD as isize as usize;
    out.push(want(
        "openat",
        libc::SYS_openat,
        &[
            at_fdcwd,
            path.as_ptr() as usize,
            libc::O_CLOEXEC as usize,
            0,
        ],
        Err(Errno::ENOENT),
    ));

    // SAFETY: a fresh anonymous mapping, unmapped right after; nothing else uses it.
    let p = unsafe {
        sys::mmap(
            ptr::null_mut(),
            4096,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            None,
            0,
        )
    }
    .unwrap();
    out.push(want(
        "mmap",
        libc::SYS_mmap,
        &[0, 4096, 3, 0x22, usize::MAX, 0],
        Ok(p as usize),
    ));
    // SAFETY: exactly the mapping made above, no longer used.
    assert_eq!(unsafe { sys::munmap(p, 4096) }, Ok(()));
    out.push(want("munmap", libc::SYS_munmap, &[p as usize, 4096], Ok(0)));

    let wake = FutexOp::WAKE | FutexOp::PRIVATE;
    // SAFETY: `word` is a live atomic; no timeout, no second word.
    let res = unsafe { sys::futex(word.as_ptr(), wake, 1, ptr::null(), ptr::null(), 0) };
    assert_eq!(res, Ok(0));
    out.push(want(
        "futex",
        libc::SYS_futex,
        &[word.as_ptr() as usize, 129, 1, 0, 0, 0],
        Ok(0),
    ));

    assert_eq!(sys::close(rd), Ok(()));
    out.push(want("close", libc::SYS_close, &[r], Ok(0)));
    assert_eq!(sys::close(wr), Ok(()));
    out.push(want("close", libc::SYS_close, &[w], Ok(0)));

    // The locally declared blocking wrappers, every arity.
    let me = sys::getpid();
    assert_eq!(obs0(), me);
    out.push(want(
        "getpid",
        libc::SYS_getpid,
        &[],
        Ok(me.as_raw() as usize),
    ));
    // SAFETY: -1 is no descriptor: nothing is closed.
    assert_eq!(unsafe { obs1(-1) }, Err(Errno::EBADF));
    out.push(want(
        "close",
        libc::SYS_close,
        &[usize::MAX],
        Err(Errno::EBADF),
    ));
    assert_eq!(obs2(me, Signal::NONE), Ok(()));
    out.push(want(
        "kill",
        libc::SYS_kill,
        &[me.as_raw() as usize, 0],
        Ok(0),
    ));
    let bp = buf.as_mut_ptr();
    // SAFETY: -1 is no descriptor: nothing is read.
    assert_eq!(unsafe { obs3(-1, bp, 4) }, Err(Errno::EBADF));
    out.push(want(
        "read",
        libc::SYS_read,
        &[usize::MAX, bp as usize, 4],
        Err(Errno::EBADF),
    ));
    // A negative offset is rejected before the descriptor is looked at.
    // SAFETY: as above.
    assert_eq!(unsafe { obs4(-1, bp, 4, -7) }, Err(Errno::EINVAL));
    out.push(want(
        "pread64",
        libc::SYS_pread64,
        &[usize::MAX, bp as usize, 4, -7isize as usize],
        Err(Errno::EINVAL),
    ));
    // SAFETY: an unaligned address is rejected before anything is remapped.
    let res = unsafe {
        obs5(
            ptr::without_provenance_mut(1),
            4096,
            8192,
            0,
            ptr::null_mut(),
        )
    };
    assert_eq!(res, Err(Errno::EINVAL));
    out.push(want(
        "mremap",
        libc::SYS_mremap,
        &[1, 4096, 8192, 0, 0],
        Err(Errno::EINVAL),
    ));
    // SAFETY: `word` is a live atomic; FUTEX_WAKE|PRIVATE with the other slots unused.
    assert_eq!(unsafe { obs6(word.as_ptr(), 129, 7, 0, 0, 0xabc) }, Ok(0));
    out.push(want(
        "futex",
        libc::SYS_futex,
        &[word.as_ptr() as usize, 129, 7, 0, 0, 0xabc],
        Ok(0),
    ));

    // Declared by number: the observer reports the number, the kernel says what
    // libc's syscall(2) gets for the same numbers.
    // SAFETY: syscall(2) with numbers the kernel looks up and refuses, or runs getpid.
    let libc_unknown = unsafe { libc::syscall(100000) };
    let libc_errno = std::io::Error::last_os_error().raw_os_error().unwrap();
    assert_eq!((libc_unknown, libc_errno), (-1, libc::ENOSYS));
    assert_eq!(obs_unknown(), Err(Errno::ENOSYS));
    out.push(want("syscall_0x186a0", 100000, &[], Err(Errno::ENOSYS)));
    // SAFETY: the kernel refuses the number before it looks at the arguments.
    assert_eq!(unsafe { obs_unknown3(1, 2, 3) }, Err(Errno::ENOSYS));
    out.push(want(
        "syscall_0x7fff0001",
        0x7fff_0001,
        &[1, 2, 3],
        Err(Errno::ENOSYS),
    ));
    // SAFETY: as above; x32 getpid takes no arguments either way.
    let libc_x32 = unsafe { libc::syscall(0x4000_0027) };
    let expected = if libc_x32 == -1 {
        Err(Errno::from_raw(std::io::Error::last_os_error().raw_os_error().unwrap()).unwrap())
    } else {
        Ok(libc_x32 as usize)
    };
    assert_eq!(
        obs_x32_getpid(),
        expected,
        "x32 getpid, as libc's syscall(2) gets it"
    );
    out.push(want("syscall_0x40000027", 0x4000_0027, &[], expected));

    // Now and then, a call that really blocks: a 1 ms futex wait that times out.
    if round % 20 == 0 {
        let ms = Timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000,
        };
        let wait = FutexOp::WAIT | FutexOp::PRIVATE;
        // SAFETY: `word` is a live atomic holding 0; `ms` is a valid timeout.
        let res = unsafe { sys::futex(word.as_ptr(), wait, 0, &ms, ptr::null(), 0) };
        assert_eq!(res, Err(Errno::ETIMEDOUT));
        let args = [word.as_ptr() as usize, 128, 0, &raw const ms as usize, 0, 0];
        out.push(Want {
            at_least: Duration::from_millis(1),
            ..want("futex", libc::SYS_futex, &args, Err(Errno::ETIMEDOUT))
        });
    }
}

/// Runs the mixed workload on `THREADS` threads at once; returns each thread's id
/// and the calls it expects to be observed.
fn workload() -> Vec<(i32, Vec<Want>)> {
    let start = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    let word = AtomicU32::new(0);
                    let mut wants = Vec::new();
                    start.wait();
                    for round in 0..ROUNDS {
                        raw_calls(&word);
                        blocking_calls(&word, round, &mut wants);
                    }
                    (sys::gettid().as_raw(), wants)
                })
            })
            .collect();
        workers.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn same(a: Option<&'static dyn Observer>, b: &'static dyn Observer) -> bool {
    a.is_some_and(|a| ptr::addr_eq(a as *const dyn Observer, b as *const dyn Observer))
}

#[test]
fn observer_sees_exactly_the_blocking_calls() {
    // 1. Nothing installed: nothing observed, nothing returned.
    assert!(hook::observer().is_none());
    assert!(hook::clear_observer().is_none());

    // 2. The recorder, from several threads at once.
    assert!(
        hook::set_observer(&RECORDER).is_none(),
        "nothing was installed before"
    );
    assert!(same(hook::observer(), &RECORDER));
    let threads = workload();
    let exits = std::mem::take(&mut *RECORDER.exits.lock().unwrap());
    let enters = std::mem::take(&mut *RECORDER.enters.lock().unwrap());

    let tids: Vec<i32> = threads.iter().map(|t| t.0).collect();
    let strays: Vec<&Seen> = exits
        .iter()
        .map(|e| &e.0)
        .filter(|s| !tids.contains(&s.tid))
        .collect();
    assert!(
        strays.is_empty(),
        "calls from threads that made none through the core: {strays:?}"
    );
    let mut total = 0;
    for (tid, wants) in &threads {
        let seen: Vec<&(Seen, Duration)> = exits.iter().filter(|e| e.0.tid == *tid).collect();
        assert_eq!(
            seen.len(),
            wants.len(),
            "thread {tid}: observed {} calls, made {} blocking ones",
            seen.len(),
            wants.len()
        );
        for (i, ((s, took), w)) in seen.iter().copied().zip(wants).enumerate() {
            let at = format!("thread {tid}, call {i} ({})", w.name);
            assert_eq!(s.nr.to_string(), w.name, "{at}: name");
            assert_eq!(libc::c_long::from(s.nr.raw()), w.number, "{at}: number");
            if let Some(sysno) = Sysno::from_name(w.name) {
                assert_eq!(s.nr, sysno, "{at}: from_name");
            } else {
                assert_eq!(s.nr.sysno(), None, "{at}: a number outside the table");
            }
            assert_eq!(s.args, w.args, "{at}: arguments");
            assert_eq!(s.result, w.result, "{at}: result");
            assert!(*took > Duration::ZERO, "{at}: a zero duration");
            assert!(
                *took >= w.at_least,
                "{at}: took {took:?}, blocked for at least {:?}",
                w.at_least
            );
        }
        // Every exit had its enter, on the same thread, in the same order.
        let entered: Vec<(Nr, &[usize])> = enters
            .iter()
            .filter(|e| e.0 == *tid)
            .map(|e| (e.1, &e.2[..]))
            .collect();
        let exited: Vec<(Nr, &[usize])> = seen.iter().map(|e| (e.0.nr, &e.0.args[..])).collect();
        assert_eq!(
            entered, exited,
            "thread {tid}: enter and exit hooks do not pair up"
        );
        total += wants.len();
    }
    assert_eq!(exits.len(), total);
    assert!(
        total >= THREADS * ROUNDS * 20,
        "every thread made its blocking calls"
    );
    // Every arity 0-6 was seen.
    let arities: std::collections::BTreeSet<usize> = exits.iter().map(|e| e.0.args.len()).collect();
    assert_eq!(arities, (0..=6).collect(), "arities observed");

    // 3. Replacing returns the previous observer; an observer that calls a blocking
    //    wrapper from its own hooks does not observe (or recurse into) that call.
    let previous = hook::set_observer(&REENTRANT);
    assert!(
        same(previous, &RECORDER),
        "set_observer returns the observer it replaced"
    );
    assert!(same(hook::observer(), &REENTRANT));
    let word = AtomicU32::new(0);
    let calls_per_thread = 50;
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..calls_per_thread {
                    // SAFETY: `word` is a live atomic; FUTEX_WAKE|PRIVATE wakes nobody.
                    assert_eq!(unsafe { obs6(word.as_ptr(), 129, 1, 0, 0, 0) }, Ok(0));
                    raw_calls(&word);
                }
            });
        }
    });
    let n = 2 * calls_per_thread;
    assert_eq!(
        REENTRANT.enters.load(Ordering::Relaxed),
        n,
        "enter ran once per outer call"
    );
    assert_eq!(
        REENTRANT.exits.load(Ordering::Relaxed),
        n,
        "exit ran once per outer call"
    );
    assert_eq!(
        REENTRANT.inner_ebadf.load(Ordering::Relaxed),
        2 * n,
        "the inner calls ran, unobserved"
    );
    assert!(
        RECORDER.exits.lock().unwrap().is_empty(),
        "the replaced observer saw nothing"
    );

    // 4. Clearing stops observation and returns what was installed.
    let cleared = hook::clear_observer();
    assert!(
        same(cleared, &REENTRANT),
        "clear_observer returns the removed observer"
    );
    assert!(hook::observer().is_none());
    let mut wants = Vec::new();
    blocking_calls(&word, 0, &mut wants);
    raw_calls(&word);
    assert_eq!(
        REENTRANT.enters.load(Ordering::Relaxed),
        n,
        "nothing observed after clear_observer"
    );
    assert!(
        RECORDER.enters.lock().unwrap().is_empty() && RECORDER.exits.lock().unwrap().is_empty()
    );
    assert!(hook::clear_observer().is_none());
}
