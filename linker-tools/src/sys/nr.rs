//! [`Nr`]: any system call number, as the kernel takes it in `rax`.
//!
//! [`Sysno`] names the calls of the table we generated; `Nr` is what Go's
//! `Syscall(trap, …)` takes: any number at all, so that a call added to your own
//! kernel, one newer than our table, or a probe the kernel must refuse can still be
//! made. Every `Sysno` converts into an `Nr` for free.

use core::fmt;

use super::Sysno;

/// A system call number: any 32-bit value the kernel may be asked for in `rax`.
///
/// The kernel reads the number as a 32-bit `int` (`do_syscall_64`), so 32 bits hold
/// every call it can tell apart. Numbers the running kernel does not implement fail
/// with [`ENOSYS`](super::Errno::ENOSYS), as with libc's `syscall(2)`. Numbers with
/// [`X32_BIT`](Nr::X32_BIT) set select the x32 ABI's table, which kernels built
/// without `CONFIG_X86_X32_ABI` refuse with `ENOSYS` too.
///
/// ```
/// use linker_tools::sys::{self, Errno, Nr, Sysno};
///
/// assert_eq!(Nr::from(Sysno::getpid), Nr::from_raw(39));
/// assert_eq!(Nr::from_raw(39).sysno(), Some(Sysno::getpid));
/// assert_eq!(Nr::from_raw(100_000).sysno(), None);
/// assert_eq!(Nr::from_raw(100_000).to_string(), "syscall_0x186a0"); // as strace names it
/// // SAFETY: no kernel implements call 100000; it touches nothing.
/// assert_eq!(unsafe { sys::syscall0(Nr::from_raw(100_000)) }, Err(Errno::ENOSYS));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
#[doc(alias = "trap")]
pub struct Nr(u32);

impl Nr {
    /// `__X32_SYSCALL_BIT`: set in `rax`, it selects the x32 ABI's system call table.
    pub const X32_BIT: u32 = 0x4000_0000;

    /// The number `nr`, whether or not any kernel implements it.
    #[inline(always)]
    pub const fn from_raw(nr: u32) -> Nr {
        Nr(nr)
    }

    /// The number of a call of our table (the `const` form of `From<Sysno>`).
    #[inline(always)]
    pub const fn of(sysno: Sysno) -> Nr {
        Nr(sysno.id())
    }

    /// The number as the kernel receives it.
    #[inline(always)]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The x86_64 call of our table with this number, if there is one (`None` for a
    /// number outside the table, x32 numbers included).
    #[inline]
    pub const fn sysno(self) -> Option<Sysno> {
        Sysno::new(self.0)
    }

    /// Whether [`X32_BIT`](Nr::X32_BIT) is set.
    #[inline(always)]
    pub const fn is_x32(self) -> bool {
        self.0 & Self::X32_BIT != 0
    }
}

impl From<Sysno> for Nr {
    #[inline(always)]
    fn from(sysno: Sysno) -> Nr {
        Nr::of(sysno)
    }
}

impl From<Nr> for u32 {
    #[inline(always)]
    fn from(nr: Nr) -> u32 {
        nr.0
    }
}

impl PartialEq<Sysno> for Nr {
    fn eq(&self, other: &Sysno) -> bool {
        self.0 == other.id()
    }
}

impl PartialEq<Nr> for Sysno {
    fn eq(&self, other: &Nr) -> bool {
        self.id() == other.0
    }
}

/// The call's name when our table has it (`read`), otherwise `syscall_0x…` in hex,
/// the way strace names a number it does not know.
impl fmt::Display for Nr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sysno() {
            Some(sysno) => fmt::Display::fmt(&sysno, f),
            None => write!(f, "syscall_{:#x}", self.0),
        }
    }
}

impl fmt::Debug for Nr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sysno() {
            Some(sysno) => write!(f, "Nr({sysno})"),
            None => write!(f, "Nr({:#x})", self.0),
        }
    }
}
