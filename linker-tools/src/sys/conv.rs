//! Conversions between typed wrapper arguments/results and the kernel's registers.
//!
//! The declaration macros ([`sys!`](crate::sys!), [`sysnb!`](crate::sysnb!)) pass every
//! argument through [`SysArg::into_arg`] and the successful result through
//! [`SysRet::from_ret`]; implement them for your own newtypes to use those types in
//! declarations.

use std::ffi::{CStr, c_void};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// A value that can be passed in a system call argument register.
///
/// Signed integers are sign-extended (as C passes an `int` to a `long` parameter, and
/// as the kernel expects for values like `AT_FDCWD`); unsigned ones are zero-extended.
///
/// There is deliberately no implementation for references: `&T` would pass a
/// pointer where a reader might expect a value (`&OwnedFd` is not a descriptor).
/// Declare pointer parameters as `*const T`/`*mut T`; references coerce to them at
/// the call site.
pub trait SysArg {
    /// The register value.
    fn into_arg(self) -> usize;
}

macro_rules! arg_unsigned {
    ($($t:ty)*) => {$(
        impl SysArg for $t {
            #[inline(always)]
            fn into_arg(self) -> usize { self as usize }
        }
    )*};
}
macro_rules! arg_signed {
    ($($t:ty)*) => {$(
        impl SysArg for $t {
            #[inline(always)]
            fn into_arg(self) -> usize { self as isize as usize }
        }
    )*};
}
arg_unsigned!(u8 u16 u32 u64 usize);
arg_signed!(i8 i16 i32 i64 isize);

impl SysArg for bool {
    #[inline(always)]
    fn into_arg(self) -> usize {
        self as usize
    }
}

impl<T: ?Sized> SysArg for *const T {
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.cast::<u8>() as usize
    }
}

impl<T: ?Sized> SysArg for *mut T {
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.cast::<u8>() as usize
    }
}

impl SysArg for &CStr {
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.as_ptr() as usize
    }
}

impl SysArg for BorrowedFd<'_> {
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.as_raw_fd().into_arg()
    }
}

impl SysArg for OwnedFd {
    /// Passing an `OwnedFd` by value hands it to the kernel: the wrapper (`close`)
    /// consumes it, so its destructor must not run and close it a second time.
    #[inline(always)]
    fn into_arg(self) -> usize {
        use std::os::fd::IntoRawFd;
        self.into_raw_fd().into_arg()
    }
}

impl SysArg for Option<BorrowedFd<'_>> {
    /// `None` is `-1`, the "no descriptor" value of `mmap` and friends.
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.map_or(-1, |fd| fd.as_raw_fd()).into_arg()
    }
}

impl SysArg for super::Sysno {
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.id() as usize
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
