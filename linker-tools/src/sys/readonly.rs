//! The calls that may be declared `readonly`: the committed list, each with its reason.
//!
//! `readonly` (the `_readonly` asm variants) promises the compiler that the call writes
//! no memory the program can observe, so it may keep values in registers across it. A
//! call belongs here only if, whatever its arguments:
//!
//! - it writes none of the caller's memory: no output buffer or struct, nothing
//!   through pointers stored in memory it reads (iovecs, `msghdr`), no change to what
//!   is mapped (`munmap`, `mprotect`, `madvise(MADV_DONTNEED)` zero or remove memory);
//! - it runs no signal handler of the caller before it returns as part of what it does
//!   (`kill`, `tgkill` and `rt_sigqueueinfo` to oneself deliver the signal before the
//!   call returns, and the handler may write memory; a signal that merely arrives during
//!   a call is asynchronous, as it is between any two instructions).
//!
//! [`sys!`](crate::sys!) refuses `readonly` on any call of the table that is not here,
//! at compile time; `linker-tools/tests/readonly.rs` checks every `readonly` written in
//! the workspace against this list and each entry against the kernel's prototypes.

use super::Sysno;

/// Every call that may be declared `readonly`, with the one-line reason it writes no
/// user memory. A call belongs here only if, whatever its arguments, it writes none
/// of the caller's memory (no output buffer, nothing through pointers it reads, no
/// change to what is mapped) and runs no signal handler of the caller before it
/// returns (`kill` to oneself does).
pub const READONLY_CALLS: &[(Sysno, &str)] = &[
    (Sysno::getpid, "no arguments; the id comes back in rax"),
    (Sysno::getppid, "no arguments; the id comes back in rax"),
    (Sysno::gettid, "no arguments; the id comes back in rax"),
    (Sysno::getuid, "no arguments; the id comes back in rax"),
    (Sysno::geteuid, "no arguments; the id comes back in rax"),
    (Sysno::getgid, "no arguments; the id comes back in rax"),
    (Sysno::getegid, "no arguments; the id comes back in rax"),
    (Sysno::getpgrp, "no arguments; the id comes back in rax"),
    (
        Sysno::getpgid,
        "takes a pid by value; the id comes back in rax",
    ),
    (
        Sysno::getsid,
        "takes a pid by value; the id comes back in rax",
    ),
    (Sysno::sched_yield, "no arguments, no result beyond rax"),
    (
        Sysno::getpriority,
        "takes values; the priority comes back in rax",
    ),
    (
        Sysno::umask,
        "takes a mode by value; the old mask comes back in rax",
    ),
    (
        Sysno::write,
        "reads `len` bytes of `buf`; writes no caller memory",
    ),
    (
        Sysno::pwrite64,
        "reads `len` bytes of `buf`; writes no caller memory",
    ),
    (Sysno::lseek, "values in, the new offset back in rax"),
    (Sysno::fsync, "a descriptor in, status back in rax"),
    (Sysno::fdatasync, "a descriptor in, status back in rax"),
    (Sysno::syncfs, "a descriptor in, status back in rax"),
    (Sysno::sync, "no arguments, no result"),
];

/// Whether `sysno` is on [`READONLY_CALLS`].
pub(crate) const fn allows_readonly(sysno: Sysno) -> bool {
    let mut i = 0;
    while i < READONLY_CALLS.len() {
        if READONLY_CALLS[i].0.id() == sysno.id() {
            return true;
        }
        i += 1;
    }
    false
}
