//! Process and user ids (`getpid` … `getegid`) and `kill`.

use linker_tools::sys::{self, Errno, Pid, Signal};
use rustix::process as rp;

use crate::table::{Expect, Table};
use crate::util::lc;

pub(crate) fn cases(t: &mut Table) {
    ids(t);
    kill(t);
}

fn ids(t: &mut Table) {
    // SAFETY: the id getters take no arguments, touch no memory and cannot fail.
    let (pid, ppid, tid, uid, euid, gid, egid) = unsafe {
        (
            libc::getpid(),
            libc::getppid(),
            libc::gettid(),
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    t.case(
        "getpid: this process",
        Expect::Ok,
        Ok(sys::getpid().as_raw()),
        Ok(pid),
        Some(Ok(rp::getpid().as_raw_nonzero().get())),
    );
    t.case(
        "getppid: the parent",
        Expect::Ok,
        Ok(sys::getppid().as_raw()),
        Ok(ppid),
        Some(Ok(rp::Pid::as_raw(rp::getppid()))),
    );
    t.case(
        "gettid: the test thread",
        Expect::Ok,
        Ok(sys::gettid().as_raw()),
        Ok(tid),
        Some(Ok(rustix::thread::gettid().as_raw_nonzero().get())),
    );
    let main_tid = sys::gettid();
    let (ours, libc, rx) = std::thread::spawn(|| {
        (
            sys::gettid().as_raw(),
            // SAFETY: gettid takes no arguments and cannot fail.
            unsafe { libc::gettid() },
            rustix::thread::gettid().as_raw_nonzero().get(),
        )
    })
    .join()
    .unwrap();
    assert_ne!(ours, main_tid.as_raw(), "a new thread has its own id");
    t.case(
        "gettid: a spawned thread",
        Expect::Ok,
        Ok(ours),
        Ok(libc),
        Some(Ok(rx)),
    );
    t.case(
        "getuid: real user",
        Expect::Ok,
        Ok(sys::getuid()),
        Ok(uid),
        Some(Ok(rp::getuid().as_raw())),
    );
    t.case(
        "geteuid: effective user",
        Expect::Ok,
        Ok(sys::geteuid()),
        Ok(euid),
        Some(Ok(rp::geteuid().as_raw())),
    );
    t.case(
        "getgid: real group",
        Expect::Ok,
        Ok(sys::getgid()),
        Ok(gid),
        Some(Ok(rp::getgid().as_raw())),
    );
    t.case(
        "getegid: effective group",
        Expect::Ok,
        Ok(sys::getegid()),
        Ok(egid),
        Some(Ok(rp::getegid().as_raw())),
    );
}

/// A pid that existed a moment ago and has been reaped.
fn reaped_pid() -> i32 {
    // SAFETY: the child only calls exit_group, which is async-signal-safe.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        sys::exit_group(0);
    }
    let mut status = 0;
    // SAFETY: `status` is a valid out-parameter; `pid` is our child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    pid
}

fn kill(t: &mut Table) {
    let me = sys::getpid();
    let rx_me = rp::getpid();
    let libc_kill = |pid: i32, sig: i32| {
        // SAFETY: every signal sent here is 0 (a check only), ignored by default
        // (SIGCHLD), or rejected by the kernel.
        lc(unsafe { libc::kill(pid, sig) }.into()).map(drop)
    };

    t.case(
        "kill: signal 0 to this process",
        Expect::Ok,
        sys::kill(me, Signal::NONE),
        libc_kill(me.as_raw(), 0),
        Some(rp::test_kill_process(rx_me)),
    );
    t.case(
        "kill: SIGCHLD (ignored) to this process",
        Expect::Ok,
        sys::kill(me, Signal::CHLD),
        libc_kill(me.as_raw(), libc::SIGCHLD),
        Some(rp::kill_process(rx_me, rp::Signal::CHILD)),
    );
    t.case(
        "kill: signal 0 to this process group",
        Expect::Ok,
        sys::kill(Pid::from_raw(0), Signal::NONE),
        libc_kill(0, 0),
        Some(rp::test_kill_current_process_group()),
    );
    // Ok as long as some other process exists (the test runner does): ESRCH otherwise.
    t.case(
        "kill: signal 0 to every process (-1)",
        Expect::Either,
        sys::kill(Pid::from_raw(-1), Signal::NONE),
        libc_kill(-1, 0),
        None,
    );
    for sig in [-1, 65, 1000, i32::MIN] {
        t.case(
            &format!("kill: EINVAL signal {sig}"),
            Expect::Err(Errno::EINVAL),
            sys::kill(me, Signal::from_raw(sig)),
            libc_kill(me.as_raw(), sig),
            None,
        );
    }
    let gone = reaped_pid();
    t.case(
        "kill: ESRCH a reaped child",
        Expect::Err(Errno::ESRCH),
        sys::kill(Pid::from_raw(gone), Signal::NONE),
        libc_kill(gone, 0),
        Some(rp::test_kill_process(rp::Pid::from_raw(gone).unwrap())),
    );
    // No pid reaches i32::MAX (pid_max is at most 2^22), so even SIGTERM is safe.
    t.case(
        "kill: ESRCH SIGTERM to pid i32::MAX",
        Expect::Err(Errno::ESRCH),
        sys::kill(Pid::from_raw(i32::MAX), Signal::TERM),
        libc_kill(i32::MAX, libc::SIGTERM),
        Some(rp::kill_process(
            rp::Pid::from_raw(i32::MAX).unwrap(),
            rp::Signal::TERM,
        )),
    );
    t.case(
        "kill: ESRCH process group -i32::MAX",
        Expect::Err(Errno::ESRCH),
        sys::kill(Pid::from_raw(-i32::MAX), Signal::NONE),
        libc_kill(-i32::MAX, 0),
        Some(rp::test_kill_process_group(
            rp::Pid::from_raw(i32::MAX).unwrap(),
        )),
    );
    t.case(
        "kill: ESRCH pid i32::MIN",
        Expect::Err(Errno::ESRCH),
        sys::kill(Pid::from_raw(i32::MIN), Signal::NONE),
        libc_kill(i32::MIN, 0),
        None,
    );
}
