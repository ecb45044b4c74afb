//! The x86_64 `syscall` instruction and nothing else.
//!
//! Kernel ABI (see `arch/x86/entry/entry_64.S`): the number goes in `rax`, arguments
//! in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`; the result comes back in `rax`. The
//! instruction itself overwrites `rcx` (return address) and `r11` (saved `rflags`);
//! every other register, the flags and the stack are preserved, and the kernel never
//! touches the user stack, so `nostack` and `preserves_flags` hold.
//!
//! The `_readonly` variants add `readonly`: the compiler may assume the call writes no
//! memory the program can see. Use them only for calls that write no user memory.
//!
//! # Safety
//!
//! Every function here is a system call with arbitrary arguments: the caller must pass
//! arguments that are valid for system call `nr` as the kernel documents it (pointers
//! to memory of the right size and mutability, live file descriptors it may use, …) and
//! must uphold whatever that call requires of the process (for example, `munmap` of
//! memory Rust still references is undefined behaviour).

use core::arch::asm;

macro_rules! syscalls {
    ($( $name:ident $ro_name:ident ( $($arg:ident : $reg:tt),* ) ; )*) => {$(
        /// Issues system call `nr` with the given arguments and returns `rax` raw.
        ///
        /// # Safety
        ///
        /// See the module documentation: the arguments must be valid for `nr`.
        #[inline(always)]
        pub(crate) unsafe fn $name(nr: usize $(, $arg: usize)*) -> usize {
            let ret: usize;
            // SAFETY: the caller guarantees the arguments are valid for `nr`; the
            // register contract and clobbers below are exactly the kernel's.
            unsafe {
                asm!(
                    "syscall",
                    inlateout("rax") nr => ret,
                    $( in($reg) $arg, )*
                    lateout("rcx") _,
                    lateout("r11") _,
                    options(nostack, preserves_flags),
                );
            }
            ret
        }

        /// Like the plain variant, for calls that write no user memory.
        ///
        /// # Safety
        ///
        /// As for the plain variant, and the call must not write any memory the
        /// program can observe.
        #[inline(always)]
        #[allow(dead_code)]
        pub(crate) unsafe fn $ro_name(nr: usize $(, $arg: usize)*) -> usize {
            let ret: usize;
            // SAFETY: as above; the caller guarantees the call writes no user memory,
            // which is what `readonly` promises the compiler.
            unsafe {
                asm!(
                    "syscall",
                    inlateout("rax") nr => ret,
                    $( in($reg) $arg, )*
                    lateout("rcx") _,
                    lateout("r11") _,
                    options(nostack, preserves_flags, readonly),
                );
            }
            ret
        }
    )*};
}

syscalls! {
    syscall0 syscall0_readonly();
    syscall1 syscall1_readonly(a1: "rdi");
    syscall2 syscall2_readonly(a1: "rdi", a2: "rsi");
    syscall3 syscall3_readonly(a1: "rdi", a2: "rsi", a3: "rdx");
    syscall4 syscall4_readonly(a1: "rdi", a2: "rsi", a3: "rdx", a4: "r10");
    syscall5 syscall5_readonly(a1: "rdi", a2: "rsi", a3: "rdx", a4: "r10", a5: "r8");
    syscall6 syscall6_readonly(a1: "rdi", a2: "rsi", a3: "rdx", a4: "r10", a5: "r8", a6: "r9");
}

/// Issues a system call that does not return (`exit`, `exit_group`).
///
/// Should the kernel return after all (an unimplemented number, a seccomp filter that
/// answers with an errno), `ud2` traps at once: the compiler was told that control
/// never comes back, so running on would be undefined behaviour.
///
/// # Safety
///
/// `nr` must be a call that does not return on success; everything the process still
/// needs to do (flushing buffers, running destructors) is skipped.
#[inline(always)]
pub(crate) unsafe fn syscall1_noreturn(nr: usize, a1: usize) -> ! {
    // SAFETY: the caller asks for a call that ends the thread or process; if it
    // returns, `ud2` raises SIGILL before any code the compiler assumed unreachable
    // runs. `noreturn` holds either way, and no outputs or clobbers matter after it.
    unsafe {
        asm!(
            "syscall",
            "ud2",
            in("rax") nr,
            in("rdi") a1,
            options(nostack, noreturn)
        )
    }
}
