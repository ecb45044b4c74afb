//! The raw syscall core: Linux system calls by number, owned by us.
//!
//! This is the Rust counterpart of Go's `syscall` machinery:
//!
//! | here | Go | what it is |
//! |---|---|---|
//! | [`syscall0`] … [`syscall6`] | `RawSyscall`, `RawSyscall6` | a call by number, no hooks, result decoded to `Result<usize, Errno>` |
//! | [`syscall0_readonly`] … | — | the same for calls that write no user memory (lets the compiler keep values in registers) |
//! | [`exit_group`], [`syscall1_noreturn`] | `exit` | calls that never return |
//! | [`hook::observe`] | `Syscall` (`entersyscall`/`exitsyscall`) | runs the installed [`Observer`](hook::Observer) around a call |
//! | [`sys!`](crate::sys!) / [`sysnb!`](crate::sysnb!) | `//sys` / `//sysnb` + mksyscall | one-line typed wrapper declarations, blocking (observed) and raw |
//! | [`Sysno`], [`Errno`] | `zsysnum_linux_amd64.go`, `zerrors_linux_amd64.go` | tables generated from the kernel by `cargo xtask gen` |
//! | the functions re-exported from `calls` | `zsyscall_linux_amd64.go` | the wrappers declared with the macros |
//! | [`clock_gettime`], [`gettimeofday`], [`time()`], [`getcpu`] | `runtime/vdso_linux_amd64.go`, `vgettimeofday` | time calls through the vDSO (found by the core's own [`vdso`] lookup), falling back to the system call; [`time_source`] says which |
//!
//! The inline assembly lives in one small file per architecture (`arch/x86_64.rs`);
//! everything above it is plain Rust.
//!
//! # Errors
//!
//! The kernel returns `-errno` in the window `-4095..=-1`; every other value is a
//! success. [`decode`] does exactly that, so `Ok` carries the full `usize` result
//! (addresses from `mmap` above `isize::MAX` included).
//!
//! # Example
//!
//! ```
//! use linker_tools::sys::{self, Sysno};
//!
//! // A typed wrapper declared with `sysnb!`:
//! let pid = sys::getpid();
//! // The same call by number, undeclared:
//! // SAFETY: getpid takes no arguments and touches no memory.
//! let raw = unsafe { sys::syscall0_readonly(Sysno::getpid) }.unwrap();
//! assert_eq!(pid.as_raw() as usize, raw);
//! ```

mod arch;
mod calls;
mod check;
mod conv;
mod errno;
pub mod hook;
mod macros;
mod nr;
mod readonly;
mod signature;
mod signatures;
mod sysno;
mod time;
mod types;
pub mod vdso;

pub use calls::*;
pub use conv::{ArgClass, SysArg, SysRet};
pub use errno::{Errno, InvalidErrno};
pub use nr::Nr;
pub use readonly::READONLY_CALLS;

/// The compile-time rules the declaration macros expand to; not a public API.
#[doc(hidden)]
pub mod __check {
    pub use super::check::{Arity, Readonly, Verdict, readonly, safe_arg, safe_arity};
}
pub use signature::{Arg, ArgKind, Choice, FlagFamily, Memory, Ret, Signature};
pub use sysno::{Sysno, UnknownSysno};
pub use time::{
    CpuNode, TimeCall, TimeSource, VdsoResolver, VdsoRouting, clock_gettime, getcpu, gettimeofday,
    set_vdso_routing, time, time_source,
};
pub use types::{
    ClockId, FutexOp, MapFlags, Mode, MremapFlags, OFlags, Pid, PollFd, PollFlags, ProtFlags,
    Signal, Timespec, Timeval, UtsName, Whence,
};

/// Decodes a raw kernel return value: `-4095..=-1` is `Err(errno)`, anything else `Ok`.
///
/// ```
/// use linker_tools::sys::{decode, Errno};
/// assert_eq!(decode(3), Ok(3));
/// assert_eq!(decode(-2isize as usize), Err(Errno::ENOENT));
/// assert_eq!(decode(usize::MAX - 4095), Ok(usize::MAX - 4095));
/// ```
#[inline(always)]
pub const fn decode(raw: usize) -> Result<usize, Errno> {
    if raw > (-4096isize) as usize {
        Err(Errno::from_kernel(raw))
    } else {
        Ok(raw)
    }
}

macro_rules! public_syscalls {
    ($( $name:ident $ro_name:ident ( $($arg:ident),* ) ; )*) => {$(
        /// Issues a system call by number, with no hooks (Go's `RawSyscall`), and
        /// decodes the result.
        ///
        /// `nr` is a [`Sysno`] of our table or any [`Nr`]: a number the running kernel
        /// does not implement fails with `ENOSYS`.
        ///
        /// # Safety
        ///
        /// The arguments must be valid for system call `nr` as the kernel documents
        /// it: pointers to live memory of the size and mutability the call uses, file
        /// descriptors the caller may use, and no effect that breaks Rust's guarantees
        /// (unmapping or overwriting memory Rust still references, closing a
        /// descriptor another owner still uses, …).
        #[inline(always)]
        pub unsafe fn $name(nr: impl Into<Nr> $(, $arg: usize)*) -> Result<usize, Errno> {
            let nr: Nr = nr.into();
            // SAFETY: forwarded from this function's contract.
            decode(unsafe { arch::$name(nr.raw() as usize $(, $arg)*) })
        }

        /// Like the plain variant, for calls that write no user memory: the compiler
        /// may assume memory is unchanged across the call.
        ///
        /// # Safety
        ///
        /// As for the plain variant, and the call must write no memory the program
        /// can observe.
        #[inline(always)]
        pub unsafe fn $ro_name(nr: impl Into<Nr> $(, $arg: usize)*) -> Result<usize, Errno> {
            let nr: Nr = nr.into();
            // SAFETY: forwarded from this function's contract.
            decode(unsafe { arch::$ro_name(nr.raw() as usize $(, $arg)*) })
        }
    )*};
}

public_syscalls! {
    syscall0 syscall0_readonly();
    syscall1 syscall1_readonly(a1);
    syscall2 syscall2_readonly(a1, a2);
    syscall3 syscall3_readonly(a1, a2, a3);
    syscall4 syscall4_readonly(a1, a2, a3, a4);
    syscall5 syscall5_readonly(a1, a2, a3, a4, a5);
    syscall6 syscall6_readonly(a1, a2, a3, a4, a5, a6);
}

/// Issues a one-argument system call that never returns.
///
/// If the kernel returns anyway (a number it does not implement, a call that failed,
/// a seccomp filter answering with an errno), the process traps at once (`ud2`,
/// `SIGILL`) rather than run past a point the compiler assumed unreachable.
///
/// # Safety
///
/// `nr` must be a call that does not return on success (`exit`, `exit_group`);
/// destructors, buffered output and `atexit` handlers are all skipped.
#[inline(always)]
pub unsafe fn syscall1_noreturn(nr: impl Into<Nr>, a1: usize) -> ! {
    let nr: Nr = nr.into();
    // SAFETY: forwarded from this function's contract.
    unsafe { arch::syscall1_noreturn(nr.raw() as usize, a1) }
}

/// Ends every thread of the process at once with `status` (`exit_group(2)`).
///
/// Nothing runs afterwards: no destructors, no `atexit` handlers, no flushing of
/// `std`'s buffered output. This is what a forked child should call instead of
/// returning into the parent's state.
#[doc(alias = "_exit")]
pub fn exit_group(status: i32) -> ! {
    // SAFETY: exit_group never returns and takes a plain integer; ending the process
    // without running destructors is safe (leaking is not undefined behaviour).
    unsafe { syscall1_noreturn(Sysno::exit_group, status as usize) }
}
