//! Conversions between typed wrapper arguments/results and the kernel's registers.
//!
//! The declaration macros ([`sys!`](crate::sys!), [`sysnb!`](crate::sysnb!)) pass every
//! argument through [`SysArg::into_arg`] and the successful result through
//! [`SysRet::from_ret`]; implement them for your own newtypes to use those types in
//! declarations.

use std::ffi::{CStr, c_void};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// What a [`SysArg`] type's register value is, as far as the caller's memory goes.
///
/// The declaration macros read it at compile time: a *safe* wrapper may pass a
/// [`Value`](ArgClass::Value) only where the kernel takes a plain value, a
/// [`CStr`](ArgClass::CStr) only where it reads a NUL-terminated string, and never a
/// [`Pointer`](ArgClass::Pointer).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ArgClass {
    /// A plain value (integer, flags, descriptor, id): not an address of the caller's
    /// memory, though it is an address if the kernel takes one in that register.
    Value,
    /// The address of a live NUL-terminated string the kernel may read up to its NUL
    /// (`&CStr`).
    CStr,
    /// A raw pointer: any address at all, valid or not.
    Pointer,
}

/// A value that can be passed in a system call argument register.
///
/// Signed integers are sign-extended (as C passes an `int` to a `long` parameter, and
/// as the kernel expects for values like `AT_FDCWD`); unsigned ones are zero-extended.
///
/// There is deliberately no implementation for references to plain data: `&T` would
/// pass a pointer where a reader might expect a value (`&OwnedFd` is not a
/// descriptor), and nothing tells the kernel how much memory lies behind it. Declare
/// pointer parameters as `*const T`/`*mut T` in an `unsafe fn`, and wrap that in a safe
/// function taking a slice or a `&mut` of the kernel's struct.
///
/// # Safety
///
/// [`CLASS`](SysArg::CLASS) must be true of every value [`into_arg`](SysArg::into_arg)
/// returns: `Value` only for types whose register is never the address of memory the
/// program owns, `CStr` only for the address of a live NUL-terminated string. Safe
/// wrappers declared with [`sys!`](crate::sys!) rely on it.
pub unsafe trait SysArg {
    /// What the register value is (see [`ArgClass`]).
    const CLASS: ArgClass;
    /// The register value.
    fn into_arg(self) -> usize;
}

macro_rules! arg_unsigned {
    ($($t:ty)*) => {$(
        // SAFETY: an integer is a plain value.
        unsafe impl SysArg for $t {
            const CLASS: ArgClass = ArgClass::Value;
            #[inline(always)]
            fn into_arg(self) -> usize { self as usize }
        }
    )*};
}
macro_rules! arg_signed {
    ($($t:ty)*) => {$(
        // SAFETY: an integer is a plain value.
        unsafe impl SysArg for $t {
            const CLASS: ArgClass = ArgClass::Value;
            #[inline(always)]
            fn into_arg(self) -> usize { self as isize as usize }
        }
    )*};
}
arg_unsigned!(u8 u16 u32 u64 usize);
arg_signed!(i8 i16 i32 i64 isize);

// SAFETY: a boolean is a plain value.
unsafe impl SysArg for bool {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self as usize
    }
}

// SAFETY: classed as the raw pointer it is.
unsafe impl<T: ?Sized> SysArg for *const T {
    const CLASS: ArgClass = ArgClass::Pointer;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.cast::<u8>() as usize
    }
}

// SAFETY: classed as the raw pointer it is.
unsafe impl<T: ?Sized> SysArg for *mut T {
    const CLASS: ArgClass = ArgClass::Pointer;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.cast::<u8>() as usize
    }
}

// SAFETY: a `&CStr` is the address of a NUL-terminated string that lives at least as long as the call.
unsafe impl SysArg for &CStr {
    const CLASS: ArgClass = ArgClass::CStr;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.as_ptr() as usize
    }
}

// SAFETY: a descriptor number is a plain value.
unsafe impl SysArg for BorrowedFd<'_> {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.as_raw_fd().into_arg()
    }
}

// SAFETY: a descriptor number is a plain value.
unsafe impl SysArg for OwnedFd {
    const CLASS: ArgClass = ArgClass::Value;
    /// Passing an `OwnedFd` by value hands it to the kernel: the wrapper (`close`)
    /// consumes it, so its destructor must not run and close it a second time.
    #[inline(always)]
    fn into_arg(self) -> usize {
        use std::os::fd::IntoRawFd;
        self.into_raw_fd().into_arg()
    }
}

// SAFETY: a descriptor number (or -1) is a plain value.
unsafe impl SysArg for Option<BorrowedFd<'_>> {
    const CLASS: ArgClass = ArgClass::Value;
    /// `None` is `-1`, the "no descriptor" value of `mmap` and friends.
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.map_or(-1, |fd| fd.as_raw_fd()).into_arg()
    }
}

// SAFETY: a system call number is a plain value.
unsafe impl SysArg for super::Sysno {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.id() as usize
    }
}

// SAFETY: a system call number is a plain value.
unsafe impl SysArg for super::Nr {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.raw() as usize
    }
}

/// A type the kernel's successful result (`0..=usize::MAX-4095`) converts into.
///
/// # Safety
///
/// Implementations may create values that carry ownership or validity invariants
/// (an [`OwnedFd`] owns the descriptor). A declaration that names such a type as its
/// return type promises that the kernel returns exactly such a value on success.
pub unsafe trait SysRet: Sized {
    /// Converts the raw successful result.
    ///
    /// # Safety
    ///
    /// `raw` must be what the kernel returned on success for a call whose
    /// documented result is this type.
    unsafe fn from_ret(raw: usize) -> Self;
}

// SAFETY: a plain integer has no invariants.
unsafe impl SysRet for usize {
    #[inline(always)]
    unsafe fn from_ret(raw: usize) -> Self {
        raw
    }
}

// SAFETY: a plain integer has no invariants; the kernel returns 64-bit values.
unsafe impl SysRet for u64 {
    #[inline(always)]
    unsafe fn from_ret(raw: usize) -> Self {
        raw as u64
    }
}

// SAFETY: a plain integer has no invariants; truncation is what C's `int` return does.
unsafe impl SysRet for i32 {
    #[inline(always)]
    unsafe fn from_ret(raw: usize) -> Self {
        raw as i32
    }
}

// SAFETY: a plain integer has no invariants; truncation is what C's `int` return does.
unsafe impl SysRet for u32 {
    #[inline(always)]
    unsafe fn from_ret(raw: usize) -> Self {
        raw as u32
    }
}

// SAFETY: the value is discarded.
unsafe impl SysRet for () {
    #[inline(always)]
    unsafe fn from_ret(_raw: usize) -> Self {}
}

// SAFETY: a raw pointer carries no validity invariant until dereferenced.
unsafe impl SysRet for *mut c_void {
    #[inline(always)]
    unsafe fn from_ret(raw: usize) -> Self {
        raw as *mut c_void
    }
}

// SAFETY: the caller of `from_ret` guarantees `raw` is a descriptor the kernel just
// created for us, which nobody else owns.
unsafe impl SysRet for OwnedFd {
    #[inline(always)]
    unsafe fn from_ret(raw: usize) -> Self {
        // SAFETY: see the impl's comment: a fresh, open, unowned descriptor.
        unsafe { OwnedFd::from_raw_fd(raw as RawFd) }
    }
}
