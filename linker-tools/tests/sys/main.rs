//! Differential tests for the raw syscall core, `linker_tools::sys`.
//!
//! Every case runs one operation three ways: through our wrapper, through the C
//! library's (`libc::read`, `libc::openat`, …, or `libc::syscall` where glibc has no
//! wrapper, like `futex`, or where its wrapper cannot report the error, like
//! `clock_gettime` through the vDSO on a bad pointer), and through rustix where it
//! covers the call. Outcomes are compared exactly: the same errno on failure, the same
//! shape on success (counts, bytes, flags, sizes; never descriptor numbers or
//! addresses, which differ by construction). Each case also states what it must
//! produce, so agreement on the wrong answer fails too.
//!
//! | module | calls |
//! |---|---|
//! | `ids` | `getpid`, `getppid`, `gettid`, `get[e]uid`, `get[e]gid`, `kill` |
//! | `fds` | `openat`, `close`, `read`, `write`, `pread64`, `pwrite64`, `lseek`, `pipe2` |
//! | `mm` | `mmap`, `munmap`, `mremap` |
//! | `futex` | `futex` (all six arguments) |
//! | `time` | `clock_gettime` (every clock id), `uname` |
//! | `shm` | `shmget`, `shmat`, `shmdt`, `shmctl` |
//! | `privileges` | `EACCES`/`EPERM` in a forked child running as uid/gid 65534 |
//! | `eintr` | `EINTR` from a signal handler installed without `SA_RESTART` |
//!
//! All cases run in one test, in order, so the table can be counted and printed at the
//! end (`cargo test --test sys -- --nocapture` shows it).

mod eintr;
mod fds;
mod futex;
mod ids;
mod mm;
mod privileges;
mod shm;
mod table;
mod time;
mod util;

use linker_tools::sys::Errno;

/// At least this many cases, each against libc and (where it can) rustix.
const MIN_CASES: usize = 100;

#[test]
fn differential_against_libc_and_rustix() {
    let mut t = table::Table::new();
    ids::cases(&mut t);
    fds::cases(&mut t);
    mm::cases(&mut t);
    futex::cases(&mut t);
    time::cases(&mut t);
    shm::cases(&mut t);
    privileges::cases(&mut t);
    eintr::cases(&mut t);
    t.finish(
        MIN_CASES,
        &[
            Errno::EBADF,
            Errno::EFAULT,
            Errno::ENOENT,
            Errno::ENOTDIR,
            Errno::EISDIR,
            Errno::EEXIST,
            Errno::EINVAL,
            Errno::ESPIPE,
            Errno::EPIPE,
            Errno::EAGAIN,
            Errno::ETIMEDOUT,
            Errno::ESRCH,
            Errno::EPERM,
            Errno::EACCES,
            Errno::EINTR,
        ],
    );
}
