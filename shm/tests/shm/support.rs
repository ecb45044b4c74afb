//! Test plumbing: unique keys, segment tracking for the leak check, forked children
//! (raw `fork`, safe here because the runner is single-threaded apart from a
//! watchdog that never allocates), spawned helpers and pipes.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use linker_tools::sys::{self, Errno, OFlags, Pid, Signal};
use shm::{Id, Key, RemoveOnDrop, Segment};

linker_tools::sys! {
    /// `fork(2)`.
    ///
    /// # Safety
    ///
    /// The child gets a copy of every thread's memory but only the calling thread:
    /// the process must have no other thread that could hold a lock the child needs,
    /// and the child must not return into code that assumes the parent's state.
    unsafe fn raw_fork() -> Result<i32> = fork;
    /// `wait4(2)`.
    ///
    /// # Safety
    ///
    /// `status` must be null or valid for writing an `i32`, and `rusage` null or
    /// valid for writing a `struct rusage`.
    unsafe fn raw_wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut c_void) -> Result<i32> = wait4;
    /// `setresuid(2)`: integers only, touches no memory.
    pub(crate) fn setresuid(r: u32, e: u32, s: u32) -> Result<()> = setresuid;
    /// `setresgid(2)`: integers only, touches no memory.
    pub(crate) fn setresgid(r: u32, e: u32, s: u32) -> Result<()> = setresgid;
    /// `setgroups(2)`.
    ///
    /// # Safety
    ///
    /// `list` must be valid for reading `size` `gid_t`s (or null with `size` 0).
    unsafe fn raw_setgroups(size: usize, list: *const u32) -> Result<()> = setgroups;
    /// `setrlimit(2)`.
    ///
    /// # Safety
    ///
    /// `limit` must be valid for reading a `struct rlimit` (two `u64`s).
    unsafe fn raw_setrlimit(resource: u32, limit: *const [u64; 2]) -> Result<()> = setrlimit;
}

/// The environment variable that selects a helper role when the test binary is
/// re-executed (Go's `TestMain` pattern).
pub(crate) const CHILD_ENV: &str = "SHM_TEST_CHILD_ROLE";

/// The uid/gid of `nobody`, for privilege-dropping children.
pub(crate) const NOBODY: u32 = 65534;

static IDS: Mutex<Vec<Id>> = Mutex::new(Vec::new());
static KEYS: Mutex<Vec<Key>> = Mutex::new(Vec::new());
static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static NEXT_KEY: AtomicU32 = AtomicU32::new(0);

/// A key no other process uses: `0x4…` plus this process's pid and a counter.
pub(crate) fn fresh_key() -> Key {
    let n = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    assert!(n < 256, "out of per-process test keys");
    let pid = std::process::id() & 0x3f_ffff;
    let key = Key::from_raw((0x4000_0000 | (pid << 8) | n) as i32);
    KEYS.lock().unwrap().push(key);
    key
}

/// Records a segment for the final leak check and removes it when the guard drops.
pub(crate) fn guard(seg: Segment) -> RemoveOnDrop {
    track(seg.id());
    seg.remove_on_drop()
}

/// Records an id for the final leak check.
pub(crate) fn track(id: Id) {
    IDS.lock().unwrap().push(id);
}

/// A private segment of `size` bytes, tracked and guarded.
pub(crate) fn private(size: usize) -> RemoveOnDrop {
    guard(Segment::create_private(size).expect("create a private segment"))
}

/// What the leak check looks for.
pub(crate) fn tracked() -> (Vec<Id>, Vec<Key>, Vec<i32>) {
    (
        IDS.lock().unwrap().clone(),
        KEYS.lock().unwrap().clone(),
        CHILDREN.lock().unwrap().clone(),
    )
}

/// How a child ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Exit {
    /// `exit(code)`.
    Code(i32),
    /// Killed by a signal.
    Signal(i32),
}

/// A forked child process.
pub(crate) struct Forked {
    pid: i32,
    reaped: bool,
}

impl Forked {
    /// The child's pid.
    pub(crate) fn pid(&self) -> Pid {
        Pid::from_raw(self.pid)
    }

    /// Waits (at most `timeout`, then kills it) for the child to end.
    pub(crate) fn wait(mut self, timeout: Duration) -> Exit {
        let deadline = Instant::now() + timeout;
        loop {
            let mut status = 0i32;
            // SAFETY: `status` is a writable i32; no rusage is requested.
            let r = unsafe {
                raw_wait4(
                    self.pid,
                    &mut status,
                    1, /* WNOHANG */
                    core::ptr::null_mut(),
                )
            };
            match r {
                Ok(0) => {}
                Ok(_) => {
                    self.reaped = true;
                    return if status & 0x7f == 0 {
                        Exit::Code((status >> 8) & 0xff)
                    } else {
                        Exit::Signal(status & 0x7f)
                    };
                }
                Err(Errno::EINTR) => {}
                Err(e) => panic!("wait4({}) failed: {e}", self.pid),
            }
            if Instant::now() > deadline {
                let _ = sys::kill(self.pid(), Signal::KILL);
                panic!("child {} did not finish within {timeout:?}", self.pid);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Forked {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = sys::kill(self.pid(), Signal::KILL);
            let mut status = 0i32;
            // SAFETY: as in `wait`, blocking this time (the child was just killed).
            let _ = unsafe { raw_wait4(self.pid, &mut status, 0, core::ptr::null_mut()) };
        }
    }
}

/// Forks; the child runs `child` and exits with its result (101 if it panics),
/// skipping destructors, `atexit` handlers and the parent's test runner.
pub(crate) fn fork(child: impl FnOnce() -> i32) -> Forked {
    // SAFETY: the runner is single-threaded apart from a watchdog thread that only
    // sleeps and reads atomics, so the child inherits no lock held mid-update; the
    // child never returns into the runner (exit_group below).
    match unsafe { raw_fork() } {
        Ok(0) => {
            let code = catch_unwind(AssertUnwindSafe(child)).unwrap_or(101);
            sys::exit_group(code)
        }
        Ok(pid) => {
            CHILDREN.lock().unwrap().push(pid);
            Forked { pid, reaped: false }
        }
        Err(e) => panic!("fork failed: {e}"),
    }
}

/// Forks a child that runs `child` and asserts it exits with 0.
pub(crate) fn fork_ok(child: impl FnOnce() -> i32) {
    let exit = fork(child).wait(Duration::from_secs(10));
    assert_eq!(
        exit,
        Exit::Code(0),
        "forked child failed (its stderr says why)"
    );
}

/// Drops to `nobody`: no supplementary groups (root's would still grant group
/// access), then gid, then uid, all three ids each.
pub(crate) fn drop_privileges() -> Result<(), Errno> {
    // SAFETY: an empty list, read nowhere.
    unsafe { raw_setgroups(0, core::ptr::null()) }?;
    setresgid(NOBODY, NOBODY, NOBODY)?;
    setresuid(NOBODY, NOBODY, NOBODY)
}

/// Disables core dumps (`RLIMIT_CORE` = 0) so an expected crash is quick.
pub(crate) fn no_core_dumps() {
    let lim = [0u64, 0u64];
    // SAFETY: `lim` is a valid `struct rlimit` (two u64s); RLIMIT_CORE is 4.
    unsafe { raw_setrlimit(4, &lim) }.expect("setrlimit(RLIMIT_CORE)");
}

/// A pipe for one-byte handshakes between parent and child.
pub(crate) struct Pipe {
    pub(crate) read: OwnedFd,
    pub(crate) write: OwnedFd,
}

impl Pipe {
    /// A new pipe, close-on-exec.
    pub(crate) fn new() -> Pipe {
        let (read, write) = sys::pipe2(OFlags::CLOEXEC).expect("pipe2");
        Pipe { read, write }
    }

    /// Sends one byte.
    pub(crate) fn send(&self, b: u8) {
        assert_eq!(sys::write(self.write.as_fd(), &[b]), Ok(1));
    }

    /// Sends a u64 (native-endian).
    pub(crate) fn send_u64(&self, v: u64) {
        assert_eq!(sys::write(self.write.as_fd(), &v.to_ne_bytes()), Ok(8));
    }

    /// Receives one byte (blocks; the watchdog bounds it).
    pub(crate) fn recv(&self) -> u8 {
        let mut b = [0u8];
        assert_eq!(
            sys::read(self.read.as_fd(), &mut b),
            Ok(1),
            "peer closed the pipe"
        );
        b[0]
    }

    /// Receives a u64.
    pub(crate) fn recv_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        assert_eq!(
            sys::read(self.read.as_fd(), &mut b),
            Ok(8),
            "peer closed the pipe"
        );
        u64::from_ne_bytes(b)
    }
}

/// Re-executes this test binary in `role` with `args`, stdout captured.
pub(crate) fn spawn_helper(role: &str, args: &[String]) -> Child {
    let exe = std::env::current_exe().expect("current_exe");
    let child = Command::new(exe)
        .env(CHILD_ENV, role)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the helper");
    CHILDREN.lock().unwrap().push(child.id() as i32);
    child
}

/// Waits (bounded) for a spawned helper and returns its exit status and stdout.
pub(crate) fn finish_helper(
    mut child: Child,
    timeout: Duration,
) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let mut out = String::new();
            use std::io::Read;
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return (status, out);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("helper did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// In a child: evaluates a check and exits with `code` (after printing why) if it
/// fails. Children report through exit codes, never by panicking into the runner.
#[macro_export]
macro_rules! check {
    ($code:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            eprintln!("child check {} failed: {}", $code, format_args!($($msg)+));
            return $code;
        }
    };
}
