//! `sys!` and `sysnb!`: one-line typed wrapper declarations (Go's `//sys` and `//sysnb`).

/// Declares typed wrappers for **blocking** system calls (Go's `//sys` → `Syscall`).
///
/// Each line declares one function: its attributes and doc comment, visibility,
/// optional `unsafe`, name, typed arguments, result type, and the call it makes — a
/// [`Sysno`] name of the table or a raw number (a call of your own kernel, or one
/// newer than the table):
///
/// ```text
/// [attrs] VIS [unsafe] fn NAME(ARG: TYPE, …) -> Result<T> = [readonly] SYSNO;
/// [attrs] VIS [unsafe] fn NAME(ARG: TYPE, …) -> T         = [readonly] SYSNO;
/// [attrs] VIS [unsafe] fn NAME(ARG: TYPE, …) -> Result<T> = [readonly] 470;
/// ```
///
/// - Every argument goes through [`SysArg`](crate::sys::SysArg) into its register, in
///   order, so the arity (0–6) picks the right `syscallN`.
/// - `-> Result<T>` decodes the kernel's error window into
///   `Result<T, `[`Errno`](crate::sys::Errno)`>`; `T` comes from the successful value
///   through [`SysRet`](crate::sys::SysRet). `-> T` (no `Result`) is for calls that
///   cannot fail, like `getpid`: the raw value is converted as it is.
/// - `readonly` marks a call that writes no user memory (see
///   [`syscall0_readonly`](crate::sys::syscall0_readonly)).
/// - Blocking wrappers run the installed [`Observer`](crate::sys::hook::Observer)'s
///   hooks around the call ([`hook::observe`](crate::sys::hook::observe)), which sees
///   the call's [`Nr`](crate::sys::Nr); use [`sysnb!`](crate::sysnb!) for calls that
///   must never touch the hook.
///
/// # What the macros refuse, at compile time
///
/// A wrapper declared without `unsafe` must not let the kernel reach the caller's
/// memory through anything but a type that makes it sound. Checked against the
/// kernel's own prototype ([`Sysno::signature`](crate::sys::Sysno::signature)), a safe
/// declaration is refused (a `const` evaluation error naming the wrapper and the
/// argument) when:
///
/// - an argument is a raw pointer ([`ArgClass::Pointer`](crate::sys::ArgClass));
/// - an argument is a plain value where the kernel takes a user pointer, an address
///   of the caller's memory, or a value-or-pointer (`ioctl`'s `arg`);
/// - an argument is a `&CStr` where the kernel does not read a NUL-terminated string;
/// - it passes fewer arguments than the kernel reads (the others would be whatever
///   the registers hold) or more than it takes;
/// - it calls a number outside the table with any argument at all.
///
/// In every declaration, `readonly` is refused for a call that is not on
/// [`READONLY_CALLS`](crate::sys::READONLY_CALLS) (a number outside the table may be
/// `readonly` only in an `unsafe fn`, whose `# Safety` vouches for it).
///
/// What the macros cannot see stays the author's promise: a safe wrapper must not
/// let its caller close or replace a descriptor someone else owns, or otherwise break
/// what Rust code relies on. Declare those `unsafe` too, and document their
/// `# Safety` contract.
///
/// [`Sysno`]: crate::sys::Sysno
///
/// # Example
///
/// ```
/// use linker_tools::sys::{self, Errno};
/// use std::os::fd::{AsFd, BorrowedFd};
///
/// linker_tools::sys! {
///     /// `fsync(2)`: flushes a file to disk.
///     pub fn fsync(fd: BorrowedFd<'_>) -> Result<()> = fsync;
///     /// `pread64(2)` into raw memory.
///     pub unsafe fn pread(fd: BorrowedFd<'_>, buf: *mut u8, len: usize, off: i64) -> Result<usize> = pread64;
/// }
///
/// let f = std::fs::File::open("/proc/self/status").unwrap();
/// let mut buf = [0u8; 4];
/// // SAFETY: `buf` is writable for `buf.len()` bytes.
/// let n = unsafe { pread(f.as_fd(), buf.as_mut_ptr(), buf.len(), 0) }.unwrap();
/// assert_eq!(&buf[..n], b"Name");
/// assert_eq!(fsync(f.as_fd()), Err(Errno::EINVAL)); // procfs cannot be synced
/// ```
#[macro_export]
macro_rules! sys {
    ($($decls:tt)*) => { $crate::__sys_decls! { [observe] $($decls)* } };
}

/// Declares typed wrappers for **raw** system calls (Go's `//sysnb` → `RawSyscall`).
///
/// The same syntax as [`sys!`](crate::sys!); the wrappers never look at the observer
/// hook, not even its atomic. Use it for calls that do not block and must stay
/// invisible or as cheap as possible (`getpid`, `gettid`, `clock_gettime`).
///
/// ```
/// linker_tools::sysnb! {
///     /// `getuid(2)`.
///     pub fn getuid() -> u32 = readonly getuid;
/// }
/// assert_eq!(getuid(), unsafe { libc_getuid() });
/// # unsafe extern "C" { #[link_name = "getuid"] fn libc_getuid() -> u32; }
/// ```
#[macro_export]
macro_rules! sysnb {
    ($($decls:tt)*) => { $crate::__sys_decls! { [raw] $($decls)* } };
}

/// Splits declarations one at a time: attributes, visibility, `unsafe`, name, args.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_decls {
    ([$flavor:ident]) => {};
    (
        [$flavor:ident]
        $(#[$m:meta])* $vis:vis unsafe fn $name:ident ($($a:ident : $t:ty),* $(,)?) -> $($rest:tt)*
    ) => {
        $crate::__sys_ret! { [$flavor] [$(#[$m])*] [$vis] [unsafe] $name [$($a : $t),*] $($rest)* }
    };
    (
        [$flavor:ident]
        $(#[$m:meta])* $vis:vis fn $name:ident ($($a:ident : $t:ty),* $(,)?) -> $($rest:tt)*
    ) => {
        $crate::__sys_ret! { [$flavor] [$(#[$m])*] [$vis] [] $name [$($a : $t),*] $($rest)* }
    };
}

/// Parses the result type: `Result<T>` (the error window decoded) or a plain `T`.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_ret {
    ($fl:tt $m:tt $v:tt $u:tt $name:ident $args:tt Result<$ret:ty> = $($rest:tt)*) => {
        $crate::__sys_nr! { $fl $m $v $u $name $args [fallible] [$ret] $($rest)* }
    };
    ($fl:tt $m:tt $v:tt $u:tt $name:ident $args:tt $ret:ty = $($rest:tt)*) => {
        $crate::__sys_nr! { $fl $m $v $u $name $args [infallible] [$ret] $($rest)* }
    };
}

/// Parses `[readonly] NR;` (a `Sysno` name or a raw number), emits the item, recurses.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_nr {
    ($fl:tt $m:tt $v:tt $u:tt $name:ident $args:tt $kind:tt $ret:tt readonly $nr:ident ; $($rest:tt)*) => {
        $crate::__sys_item! { $fl $m $v $u $name $args $kind $ret [readonly]
            [$crate::sys::Nr::of($crate::sys::Sysno::$nr)] [$nr] }
        $crate::__sys_decls! { $fl $($rest)* }
    };
    ($fl:tt $m:tt $v:tt $u:tt $name:ident $args:tt $kind:tt $ret:tt readonly $nr:literal ; $($rest:tt)*) => {
        $crate::__sys_item! { $fl $m $v $u $name $args $kind $ret [readonly]
            [$crate::sys::Nr::from_raw($nr)] [$nr] }
        $crate::__sys_decls! { $fl $($rest)* }
    };
    ($fl:tt $m:tt $v:tt $u:tt $name:ident $args:tt $kind:tt $ret:tt $nr:ident ; $($rest:tt)*) => {
        $crate::__sys_item! { $fl $m $v $u $name $args $kind $ret [plain]
            [$crate::sys::Nr::of($crate::sys::Sysno::$nr)] [$nr] }
        $crate::__sys_decls! { $fl $($rest)* }
    };
    ($fl:tt $m:tt $v:tt $u:tt $name:ident $args:tt $kind:tt $ret:tt $nr:literal ; $($rest:tt)*) => {
        $crate::__sys_item! { $fl $m $v $u $name $args $kind $ret [plain]
            [$crate::sys::Nr::from_raw($nr)] [$nr] }
        $crate::__sys_decls! { $fl $($rest)* }
    };
}

/// Emits the compile-time checks and one wrapper function.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_item {
    (
        [$flavor:ident] [$(#[$m:meta])*] [$vis:vis] [$($u:tt)?] $name:ident [$($a:ident : $t:ty),*]
        [fallible] [$ret:ty] [$mode:ident] [$nr:expr] [$nrname:tt]
    ) => {
        $crate::__sys_checks! { [$($u)?] [$mode] $name [$nr] [$nrname] [$($a : $t),*] }
        $(#[$m])*
        #[inline]
        $vis $($u)? fn $name($($a : $t),*) -> ::core::result::Result<$ret, $crate::sys::Errno> {
            $( let $a: usize = $crate::sys::SysArg::into_arg($a); )*
            let result = $crate::__sys_flavor!([$flavor] [$mode] $nr; $($a),*);
            // SAFETY: `raw` is the kernel's successful result for this call, whose
            // documented result type the declaration names.
            result.map(|raw| unsafe { <$ret as $crate::sys::SysRet>::from_ret(raw) })
        }
    };
    (
        [$flavor:ident] [$(#[$m:meta])*] [$vis:vis] [$($u:tt)?] $name:ident [$($a:ident : $t:ty),*]
        [infallible] [$ret:ty] [$mode:ident] [$nr:expr] [$nrname:tt]
    ) => {
        $crate::__sys_checks! { [$($u)?] [$mode] $name [$nr] [$nrname] [$($a : $t),*] }
        $(#[$m])*
        #[inline]
        $vis $($u)? fn $name($($a : $t),*) -> $ret {
            $( let $a: usize = $crate::sys::SysArg::into_arg($a); )*
            let raw = match $crate::__sys_flavor!([$flavor] [$mode] $nr; $($a),*) {
                ::core::result::Result::Ok(v) => v,
                // The call is declared infallible: hand back the register as it was.
                ::core::result::Result::Err(e) => (e.raw() as isize).wrapping_neg() as usize,
            };
            // SAFETY: `raw` is what the kernel returned for this call, which the
            // declaration states cannot fail and returns this type.
            unsafe { <$ret as $crate::sys::SysRet>::from_ret(raw) }
        }
    };
}

/// The compile-time rules (see `sys::check`): `readonly` only for calls on the
/// committed list; in a safe declaration, no raw pointer, no integer where the kernel
/// takes memory, and exactly the kernel's number of arguments.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_checks {
    ([$($u:tt)?] [readonly] $name:ident [$nr:expr] [$nrname:tt] $args:tt) => {
        const _: () = match $crate::sys::__check::readonly($nr, $crate::__sys_is_unsafe!($($u)?)) {
            $crate::sys::__check::Readonly::Ok => {}
            $crate::sys::__check::Readonly::NotListed => ::core::panic!(::core::concat!(
                "`", ::core::stringify!($name), "` is declared `readonly`, but `",
                ::core::stringify!($nrname), "` is not on the list of calls that write no ",
                "user memory (linker_tools::sys::READONLY_CALLS): drop `readonly`"
            )),
            $crate::sys::__check::Readonly::UnknownInSafe => ::core::panic!(::core::concat!(
                "`", ::core::stringify!($name), "` is declared `readonly` by a number outside ",
                "the table (`", ::core::stringify!($nrname), "`): nothing says the call writes ",
                "no memory; drop `readonly`, or declare it `unsafe fn` and vouch for it in its ",
                "`# Safety` section"
            )),
        };
        $crate::__sys_checks! { [$($u)?] [plain] $name [$nr] [$nrname] $args }
    };
    ([unsafe] [plain] $name:ident [$nr:expr] [$nrname:tt] $args:tt) => {};
    ([] [plain] $name:ident [$nr:expr] [$nrname:tt] [$($a:ident : $t:ty),*]) => {
        const _: () = match $crate::sys::__check::safe_arity($nr, <[&str]>::len(&[$(::core::stringify!($a)),*])) {
            $crate::sys::__check::Arity::Ok => {}
            $crate::sys::__check::Arity::Fewer => ::core::panic!(::core::concat!(
                "safe wrapper `", ::core::stringify!($name), "` passes fewer arguments than `",
                ::core::stringify!($nrname), "` takes: the kernel would read whatever the ",
                "other registers hold; declare every argument, or declare it `unsafe fn`"
            )),
            $crate::sys::__check::Arity::More => ::core::panic!(::core::concat!(
                "safe wrapper `", ::core::stringify!($name), "` passes more arguments than `",
                ::core::stringify!($nrname), "` takes (linker_tools::sys::Sysno::signature)"
            )),
        };
        $crate::__sys_arg_checks! { $name [$nr] [$nrname] [0 1 2 3 4 5 6 7 8 9] [$($a : $t),*] }
    };
}

/// Whether a declaration was `unsafe fn`, as a `bool` expression.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_is_unsafe {
    (unsafe) => {
        true
    };
    () => {
        false
    };
}

/// One check per argument of a safe declaration, with its position.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_arg_checks {
    ($name:ident [$nr:expr] [$nrname:tt] [$($i:tt)*] []) => {};
    ($name:ident [$nr:expr] [$nrname:tt] [$i:tt $($is:tt)*] [$a:ident : $t:ty $(, $ra:ident : $rt:ty)*]) => {
        const _: () = match $crate::sys::__check::safe_arg($nr, $i, <$t as $crate::sys::SysArg>::CLASS) {
            $crate::sys::__check::Verdict::Ok => {}
            $crate::sys::__check::Verdict::RawPointer => ::core::panic!(::core::concat!(
                "safe wrapper `", ::core::stringify!($name), "`: argument `", ::core::stringify!($a),
                "` is a raw pointer, which lets the kernel read or write any memory; declare ",
                "the wrapper `unsafe fn` with a `# Safety` section, or wrap an unsafe ",
                "declaration in a safe fn taking a slice or reference"
            )),
            $crate::sys::__check::Verdict::RawAddress => ::core::panic!(::core::concat!(
                "safe wrapper `", ::core::stringify!($name), "`: argument `", ::core::stringify!($a),
                "` is a plain value where `", ::core::stringify!($nrname), "` takes, or may take, ",
                "memory of the caller (a user pointer, an address, or a pointer-or-value in the ",
                "kernel's prototype: linker_tools::sys::Sysno::signature); declare the wrapper ",
                "`unsafe fn` with a `# Safety` section"
            )),
            $crate::sys::__check::Verdict::NotAString => ::core::panic!(::core::concat!(
                "safe wrapper `", ::core::stringify!($name), "`: argument `", ::core::stringify!($a),
                "` is a `&CStr`, but `", ::core::stringify!($nrname), "` does not take a ",
                "NUL-terminated string there; declare the wrapper `unsafe fn`"
            )),
            $crate::sys::__check::Verdict::UnknownCall => ::core::panic!(::core::concat!(
                "safe wrapper `", ::core::stringify!($name), "`: call `", ::core::stringify!($nrname),
                "` is not in our table, so nothing says whether argument `", ::core::stringify!($a),
                "` is an address; declare the wrapper `unsafe fn` with a `# Safety` section"
            )),
        };
        $crate::__sys_arg_checks! { $name [$nr] [$nrname] [$($is)*] [$($ra : $rt),*] }
    };
}

/// Blocking calls go through the observer hook; raw calls do not.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_flavor {
    ([observe] [$mode:ident] $nr:expr; $($a:ident),*) => {
        // One relaxed load on the fast path; the argument array and the closure exist
        // only on the cold, observed path.
        match $crate::sys::hook::installed() {
            ::core::option::Option::None => $crate::__sys_call!([$mode] $nr; $($a),*),
            ::core::option::Option::Some(observer) => $crate::sys::hook::observe_with(
                observer,
                $nr,
                &[$($a),*],
                move || $crate::__sys_call!([$mode] $nr; $($a),*),
            ),
        }
    };
    ([raw] [$mode:ident] $nr:expr; $($a:ident),*) => {
        $crate::__sys_call!([$mode] $nr; $($a),*)
    };
}

/// Picks `syscallN` (or its `_readonly` twin) by arity.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_call {
    ([plain] $nr:expr; ) => {
        $crate::__sys_unsafe!(syscall0($nr))
    };
    ([plain] $nr:expr; $a1:ident) => {
        $crate::__sys_unsafe!(syscall1($nr, $a1))
    };
    ([plain] $nr:expr; $a1:ident, $a2:ident) => {
        $crate::__sys_unsafe!(syscall2($nr, $a1, $a2))
    };
    ([plain] $nr:expr; $a1:ident, $a2:ident, $a3:ident) => {
        $crate::__sys_unsafe!(syscall3($nr, $a1, $a2, $a3))
    };
    ([plain] $nr:expr; $a1:ident, $a2:ident, $a3:ident, $a4:ident) => {
        $crate::__sys_unsafe!(syscall4($nr, $a1, $a2, $a3, $a4))
    };
    ([plain] $nr:expr; $a1:ident, $a2:ident, $a3:ident, $a4:ident, $a5:ident) => {
        $crate::__sys_unsafe!(syscall5($nr, $a1, $a2, $a3, $a4, $a5))
    };
    ([plain] $nr:expr; $a1:ident, $a2:ident, $a3:ident, $a4:ident, $a5:ident, $a6:ident) => {
        $crate::__sys_unsafe!(syscall6($nr, $a1, $a2, $a3, $a4, $a5, $a6))
    };
    ([readonly] $nr:expr; ) => {
        $crate::__sys_unsafe!(syscall0_readonly($nr))
    };
    ([readonly] $nr:expr; $a1:ident) => {
        $crate::__sys_unsafe!(syscall1_readonly($nr, $a1))
    };
    ([readonly] $nr:expr; $a1:ident, $a2:ident) => {
        $crate::__sys_unsafe!(syscall2_readonly($nr, $a1, $a2))
    };
    ([readonly] $nr:expr; $a1:ident, $a2:ident, $a3:ident) => {
        $crate::__sys_unsafe!(syscall3_readonly($nr, $a1, $a2, $a3))
    };
    ([readonly] $nr:expr; $a1:ident, $a2:ident, $a3:ident, $a4:ident) => {
        $crate::__sys_unsafe!(syscall4_readonly($nr, $a1, $a2, $a3, $a4))
    };
    ([readonly] $nr:expr; $a1:ident, $a2:ident, $a3:ident, $a4:ident, $a5:ident) => {
        $crate::__sys_unsafe!(syscall5_readonly($nr, $a1, $a2, $a3, $a4, $a5))
    };
    ([readonly] $nr:expr; $a1:ident, $a2:ident, $a3:ident, $a4:ident, $a5:ident, $a6:ident) => {
        $crate::__sys_unsafe!(syscall6_readonly($nr, $a1, $a2, $a3, $a4, $a5, $a6))
    };
}

/// The one `unsafe` block every declared wrapper expands to.
#[doc(hidden)]
#[macro_export]
macro_rules! __sys_unsafe {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: the declaration (`sys!`/`sysnb!`) states that these argument types
        // are valid for this system call; an `unsafe fn` declaration passes the rest
        // of the contract on to its caller.
        unsafe { $crate::sys::$f($($arg),*) }
    };
}
