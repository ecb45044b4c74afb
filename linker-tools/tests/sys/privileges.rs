//! `EACCES` and `EPERM` with privileges dropped: a forked child becomes uid/gid 65534
//! (through the raw core), runs each call three ways on root-owned files, a root-owned
//! segment and the root-owned parent, and reports the outcomes through a pipe.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use linker_tools::sys::{self, CWD, Errno, Mode, OFlags, Pid, Signal, Sysno, unchecked};

use crate::shm::{create, unused_key};
use crate::table::{Expect, Outcome, Table};
use crate::util::{self, TempDir, errno, lc, lc_fd};

const NOBODY: usize = 65534;
/// No reference implementation covers this call.
const NA: i64 = i64::MIN;
/// Number of cases, plus the status row.
const ROWS: usize = 19;

/// What the child needs, prepared before `fork` so the child allocates nothing.
struct Plan {
    secret: CString,
    public: CString,
    new_file: CString,
    shm_key: i32,
    shm_id: i32,
    parent: i32,
}

/// Encodes an outcome in one integer: a value `>= 0`, or `-errno`.
fn enc<T>(r: Outcome<T>, value: impl FnOnce(T) -> i64) -> i64 {
    match r {
        Ok(v) => value(v),
        Err(e) => -i64::from(e),
    }
}

fn dec(v: i64) -> Option<Outcome<i64>> {
    match v {
        NA => None,
        v if v < 0 => Some(Err(-v as i32)),
        v => Some(Ok(v)),
    }
}

fn ours<T>(r: Result<T, Errno>, value: impl FnOnce(T) -> i64) -> i64 {
    enc(r.map_err(Errno::raw), value)
}

fn rx<T>(r: rustix::io::Result<T>, value: impl FnOnce(T) -> i64) -> i64 {
    enc(r.map_err(|e| e.raw_os_error()), value)
}

/// Runs in the forked child: only system calls, no allocation, no panics.
fn child(plan: &Plan, out_fd: RawFd) -> ! {
    let mut out = [[NA; 3]; ROWS];
    // SAFETY: setgroups/setresgid/setresuid take plain integers (a null list for
    // setgroups with size 0); the child is single-threaded, so changing the calling
    // thread's credentials changes the whole process's.
    let dropped = unsafe {
        sys::syscall2(Sysno::setgroups, 0, 0)
            .and_then(|_| sys::syscall3(Sysno::setresgid, NOBODY, NOBODY, NOBODY))
            .and_then(|_| sys::syscall3(Sysno::setresuid, NOBODY, NOBODY, NOBODY))
    };
    out[0] = [ours(dropped, |_| 0), 0, 0];
    if dropped.is_ok() {
        run(plan, &mut out[1..]);
    }
    // SAFETY: `out` is plain integers; viewing them as bytes is always valid.
    let bytes = unsafe { std::slice::from_raw_parts(out.as_ptr().cast::<u8>(), size_of_val(&out)) };
    let mut done = 0;
    while done < bytes.len() {
        // SAFETY: `out_fd` is the pipe's write end, open in the child.
        match unsafe { util::write_raw(out_fd, bytes[done..].as_ptr(), bytes.len() - done) } {
            Ok(n) => done += n,
            Err(Errno::EINTR) => {}
            Err(_) => sys::exit_group(3),
        }
    }
    sys::exit_group(0)
}

fn run(p: &Plan, out: &mut [[i64; 3]]) {
    use rustix::fs as rf;
    use rustix::process as rp;
    let fd = |fd: OwnedFd| i64::from(fd.as_raw_fd() >= 0);
    let ofl = |f: i32| {
        (
            OFlags::from_bits_retain(f as u32),
            rf::OFlags::from_bits_retain(f as u32),
        )
    };
    let mut i = 0;
    let mut put = |row: [i64; 3]| {
        out[i] = row;
        i += 1;
    };
    // SAFETY: the id getters take no arguments and cannot fail.
    let ids = unsafe {
        [
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        ]
    };
    put([
        sys::getuid().into(),
        ids[0].into(),
        rp::getuid().as_raw().into(),
    ]);
    put([
        sys::geteuid().into(),
        ids[1].into(),
        rp::geteuid().as_raw().into(),
    ]);
    put([
        sys::getgid().into(),
        ids[2].into(),
        rp::getgid().as_raw().into(),
    ]);
    put([
        sys::getegid().into(),
        ids[3].into(),
        rp::getegid().as_raw().into(),
    ]);

    for (path, flags) in [
        (&p.secret, libc::O_RDONLY),
        (&p.secret, libc::O_WRONLY),
        (&p.new_file, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL),
        (&p.public, libc::O_RDONLY | libc::O_NOATIME),
        (&p.public, libc::O_RDONLY),
    ] {
        let (o, r) = ofl(flags | libc::O_CLOEXEC);
        let a = ours(sys::openat(CWD, path, o, Mode::from_bits_retain(0o600)), fd);
        // SAFETY: `path` is NUL-terminated.
        let b = enc(
            lc_fd(unsafe {
                libc::openat(
                    libc::AT_FDCWD,
                    path.as_ptr(),
                    flags | libc::O_CLOEXEC,
                    0o600,
                )
            }),
            fd,
        );
        let c = rx(
            rf::openat(
                rf::CWD,
                path.as_c_str(),
                r,
                rf::Mode::from_bits_retain(0o600),
            ),
            fd,
        );
        put([a, b, c]);
    }

    for flags in [0o400, libc::IPC_CREAT | 0o600] {
        let a = ours(sys::shmget(p.shm_key, 4096, flags), i64::from);
        // SAFETY: as above.
        let b = enc(
            lc(unsafe { libc::shmget(p.shm_key, 4096, flags) }.into()),
            |v| v,
        );
        put([a, b, NA]);
    }
    for flags in [0, libc::SHM_RDONLY] {
        // SAFETY: a null address lets the kernel choose; it refuses anyway.
        let a = ours(
            unsafe { unchecked::shmat(p.shm_id, std::ptr::null(), flags) },
            |_| 0,
        );
        // SAFETY: as above.
        let r = unsafe { libc::shmat(p.shm_id, std::ptr::null(), flags) };
        let b = if r as isize == -1 {
            -i64::from(errno())
        } else {
            0
        };
        put([a, b, NA]);
    }
    for cmd in [libc::IPC_STAT, libc::IPC_RMID, libc::IPC_SET] {
        // SAFETY: shmid_ds is plain old data; all zeroes is a valid value.
        let (mut da, mut db): (libc::shmid_ds, libc::shmid_ds) =
            unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
        // SAFETY: `da` is a valid, writable shmid_ds for every command here.
        let a = ours(
            unsafe { unchecked::shmctl(p.shm_id, cmd, (&raw mut da).cast()) },
            i64::from,
        );
        // SAFETY: as above.
        let b = enc(
            lc(unsafe { libc::shmctl(p.shm_id, cmd, &mut db) }.into()),
            |v| v,
        );
        put([a, b, NA]);
    }
    let parent = rp::Pid::from_raw(p.parent);
    let parent_pid = Pid::from_raw(p.parent);
    // SAFETY: kill takes plain integers; the kernel refuses to signal the parent.
    let b = enc(lc(unsafe { libc::kill(p.parent, 0) }.into()), |v| v);
    let c = parent.map_or(NA, |pp| rx(rp::test_kill_process(pp), |()| 0));
    put([ours(sys::kill(parent_pid, Signal::NONE), |()| 0), b, c]);
    // SAFETY: as above.
    let b = enc(
        lc(unsafe { libc::kill(p.parent, libc::SIGCHLD) }.into()),
        |v| v,
    );
    let c = parent.map_or(NA, |pp| rx(rp::kill_process(pp, rp::Signal::CHILD), |()| 0));
    put([ours(sys::kill(parent_pid, Signal::CHLD), |()| 0), b, c]);
}

/// Reads exactly `buf.len()` bytes from `fd` within `deadline`.
fn read_exact(fd: &OwnedFd, buf: &mut [u8], deadline: Instant) -> Result<(), String> {
    let mut got = 0;
    while got < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("timed out after {got} of {} bytes", buf.len()));
        }
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(1000) as i32) };
        if r <= 0 {
            continue;
        }
        match sys::read(fd.as_fd(), &mut buf[got..]) {
            Ok(0) => return Err(format!("child closed the pipe after {got} bytes")),
            Ok(n) => got += n,
            Err(Errno::EINTR | Errno::EAGAIN) => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(())
}

/// Waits for `pid` within `deadline`, killing it if it overstays; returns its status.
fn reap(pid: i32, deadline: Instant) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-parameter; `pid` is our child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return status;
        }
        if Instant::now() > deadline {
            // SAFETY: `pid` is our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: as above.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            panic!("the unprivileged child did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub(crate) fn cases(t: &mut Table) {
    assert_eq!(
        sys::geteuid(),
        0,
        "the privilege tests drop root privileges: run as root"
    );
    let dir = TempDir::new("sys-priv");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, mode) in [("secret", 0o600), ("public", 0o644)] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"root's").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let shm_key = unused_key();
    let segment = create(shm_key, 4096, 0o600);
    let plan = Plan {
        secret: dir.c("secret"),
        public: dir.c("public"),
        new_file: dir.c("new"),
        shm_key,
        shm_id: segment.0,
        parent: sys::getpid().as_raw(),
    };
    let (r, w) = util::pipe(0);
    // SAFETY: the child runs only `child`, which makes system calls and never returns.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        child(&plan, w.as_raw_fd());
    }
    drop(w);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = [[0i64; 3]; ROWS];
    // SAFETY: `out` is plain integers; any bytes are a valid value.
    let bytes =
        unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u8>(), size_of_val(&out)) };
    let read = read_exact(&r, bytes, deadline);
    let status = reap(pid, deadline);
    read.unwrap_or_else(|e| panic!("reading the child's results: {e} (status {status:#x})"));
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child status {status:#x}"
    );
    assert_eq!(
        out[0][0], 0,
        "dropping privileges failed: errno {}",
        -out[0][0]
    );
    assert_eq!(
        std::fs::read(dir.path().join("secret")).unwrap(),
        b"root's",
        "the parent still reads the secret"
    );

    let nobody = Expect::Ok;
    let (eacces, eperm) = (Expect::Err(Errno::EACCES), Expect::Err(Errno::EPERM));
    let names: [(&str, Expect); ROWS - 1] = [
        ("getuid: 65534 after setresuid", nobody),
        ("geteuid: 65534 after setresuid", nobody),
        ("getgid: 65534 after setresgid", nobody),
        ("getegid: 65534 after setresgid", nobody),
        (
            "openat: EACCES unprivileged O_RDONLY of a 0600 root file",
            eacces,
        ),
        (
            "openat: EACCES unprivileged O_WRONLY of a 0600 root file",
            eacces,
        ),
        (
            "openat: EACCES unprivileged O_CREAT in a 0755 root directory",
            eacces,
        ),
        (
            "openat: EPERM unprivileged O_NOATIME on another user's file",
            eperm,
        ),
        (
            "openat: unprivileged O_RDONLY of a 0644 root file",
            Expect::Ok,
        ),
        (
            "shmget: EACCES unprivileged read of a 0600 root segment",
            eacces,
        ),
        (
            "shmget: EACCES unprivileged IPC_CREAT of an existing 0600 root segment",
            eacces,
        ),
        ("shmat: EACCES unprivileged read-write", eacces),
        ("shmat: EACCES unprivileged SHM_RDONLY", eacces),
        ("shmctl: EACCES unprivileged IPC_STAT", eacces),
        ("shmctl: EPERM unprivileged IPC_RMID", eperm),
        ("shmctl: EPERM unprivileged IPC_SET", eperm),
        ("kill: EPERM unprivileged signal 0 to a root process", eperm),
        ("kill: EPERM unprivileged SIGCHLD to a root process", eperm),
    ];
    for ((name, expect), row) in names.into_iter().zip(&out[1..]) {
        let [a, b, c] = row.map(dec);
        let (Some(a), Some(b)) = (a, b) else {
            panic!("{name}: the child skipped this case")
        };
        t.record(name, expect, a, b, c);
    }
    for row in &out[1..5] {
        assert_eq!(row[0], NOBODY as i64, "the child really runs as nobody");
    }
    drop(segment);
}
