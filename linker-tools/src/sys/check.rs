//! The compile-time rules of [`sys!`](crate::sys!) and [`sysnb!`](crate::sysnb!).
//!
//! Every declaration expands to `const` items that call these functions, so a
//! declaration that breaks a rule does not compile (`cargo check` included). The
//! macros turn each [`Verdict`] into a message naming the wrapper and the argument.
//! Hidden from the docs: only the macros call them.

use super::{ArgClass, Memory, Nr};

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
    let Some(sysno) = nr.sysno() else {
        return Arity::Ok;
    };
    let kernel = sysno.arity();
    if declared < kernel {
        Arity::Fewer
    } else if declared > kernel {
        Arity::More
    } else {
        Arity::Ok
    }
}

/// The rule for argument `index` of a **safe** declaration of call `nr`, whose type is
/// of class `class`.
///
/// The kernel's prototype (the generated [`Signature`](super::Signature) table) says
/// what the register is: a plain value takes a [`Value`](ArgClass::Value), a string
/// the kernel reads takes a [`CStr`](ArgClass::CStr), and every other memory class
/// (a buffer, a struct, an address, a pointer-or-value) takes nothing a safe wrapper
/// can pass. Positions past the kernel's arity are left to [`safe_arity`].
pub const fn safe_arg(nr: Nr, index: usize, class: ArgClass) -> Verdict {
    if matches!(class, ArgClass::Pointer) {
        return Verdict::RawPointer;
    }
    let Some(sysno) = nr.sysno() else {
        return Verdict::UnknownCall;
    };
    let Some(memory) = sysno.arg_memory(index) else {
        return Verdict::Ok;
    };
    match (memory, class) {
        (Memory::None, ArgClass::Value) | (Memory::String, ArgClass::CStr) => Verdict::Ok,
        (_, ArgClass::CStr) => Verdict::NotAString,
        _ => Verdict::RawAddress,
    }
}

/// What the rules say about `readonly` on a declaration.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Readonly {
    /// Allowed.
    Ok,
    /// A call of the table that is not on [`READONLY_CALLS`](super::READONLY_CALLS).
    NotListed,
    /// A number outside the table in a safe declaration.
    UnknownInSafe,
}

/// Whether `nr` may be declared `readonly`: a call of the table only if it is on
/// [`READONLY_CALLS`](super::READONLY_CALLS); a number outside the table only in an
/// `unsafe fn`, whose author vouches for it in its `# Safety` contract.
pub const fn readonly(nr: Nr, unsafe_decl: bool) -> Readonly {
    match nr.sysno() {
        Some(sysno) if super::readonly::allows_readonly(sysno) => Readonly::Ok,
        Some(_) => Readonly::NotListed,
        None if unsafe_decl => Readonly::Ok,
        None => Readonly::UnknownInSafe,
    }
}
