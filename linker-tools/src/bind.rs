//! [`linkname!`](crate::linkname): Rust `fn`s and `static`s bound to symbols, the Rust
//! analogue of Go's `//go:linkname localname importpath.name`.
//!
//! A binding declares a Rust item, the module that holds the symbol, the symbol (any
//! query form the [resolver](crate::resolve) takes) and a strategy:
//!
//! | strategy | how the address is found | reaches | cost of a call |
//! |---|---|---|---|
//! | `link` | the static linker: `extern` + `#[link_name]` | exported symbols of linked libraries | a direct call |
//! | `dynamic` | `dlsym`/`dlvsym` through `libloading` | exported symbols of any library, loaded on demand | one atomic load + an indirect call |
//! | `private` | the ELF [`Resolver`]: `.symtab`, debug files, IFUNCs, TLS | everything: `static`, hidden, local, versioned, thread-local, Rust paths | one atomic load + an indirect call |
//!
//! | module | selects |
//! |---|---|
//! | `main` | the main executable ([`Selector::Main`]) |
//! | `any` | the first module that defines the symbol, in load order ([`Selector::Any`]) |
//! | `vdso` | the kernel's vDSO ([`Selector::Vdso`]) |
//! | `"libc.so.6"` | a library by file name, soname or path ([`Selector::Named`]) |
//! | `library(EXPR)` | the library a `&'static libloading::Library` opened ([`Selector::Library`]) |
//!
//! ```
//! use std::ffi::{c_char, c_int};
//!
//! linker_tools::linkname! {
//!     /// `strlen`, exported by libc, found by the ELF resolver (an IFUNC: the resolver
//!     /// runs it and binds the implementation it picks).
//!     pub unsafe extern "C" fn strlen_private(s: *const c_char) -> usize
//!         = private("libc.so.6", "strlen");
//!
//!     /// `abs`, through `dlsym`.
//!     unsafe extern "C" fn abs_dynamic(x: c_int) -> c_int = dynamic(any, "abs");
//!
//!     /// `abs`, through the static linker: a direct call.
//!     unsafe extern "C" fn abs_linked(x: c_int) -> c_int = link(any, "abs");
//! }
//!
//! // Fail early, with the resolver's error, instead of at the first call.
//! strlen_private::resolve()?;
//! // SAFETY: strlen takes a NUL-terminated string and returns its length.
//! assert_eq!(unsafe { strlen_private(c"linkname".as_ptr()) }, 8);
//! // SAFETY: abs is `int abs(int)`.
//! assert_eq!(unsafe { (abs_dynamic(-3), abs_linked(-4)) }, (3, 4));
//! // The `try_` path returns the resolver's error instead of panicking.
//! // SAFETY: as above.
//! assert_eq!(unsafe { abs_dynamic::try_call(-5) }?, 5);
//! # Ok::<(), linker_tools::elf::Error>(())
//! ```
//!
//! # What each declaration becomes
//!
//! - `unsafe extern "ABI" fn name(args) -> R = strategy(module, "symbol");` declares
//!   `unsafe fn name(args) -> R`, which calls the symbol, plus a companion type `name`
//!   (in the type namespace, so it does not clash with the function) with
//!   `name::resolve()`, `name::try_call(args)`, `name::get()`, `name::try_get()` and
//!   `name::binding()`. Resolution happens on the first call (panicking with the
//!   resolver's error if it fails) or on `resolve()`/`try_*` (returning it).
//! - `static NAME: T = strategy(module, "symbol");` declares a `static NAME:`
//!   [`Object<T>`]: [`Object::ptr`] is the object's address as `*mut T`.
//! - `thread_local static NAME: T = private(module, "symbol");` declares a `static NAME:`
//!   [`ThreadLocal<T>`]: [`ThreadLocal::ptr`] is the calling thread's copy.
//!
//! Doc comments, other attributes and visibility pass through to the declared items;
//! the macro appends a `# Safety` section to each function's documentation. Declare
//! bindings at module level, not inside a function body (the companion type's methods
//! name the argument types from the module).
//!
//! # Checks
//!
//! What can be checked is checked when the binding resolves, with typed errors
//! ([`ErrorKind`]): the module exists ([`ErrorKind::UnknownModule`]), the symbol exists
//! once ([`ErrorKind::NotFound`], [`ErrorKind::Ambiguous`]), it is a function for a `fn`,
//! an object for a `static`, a TLS variable for a `thread_local static`
//! ([`ErrorKind::KindMismatch`]), its size is not zero and equals `size_of::<T>()` for a
//! static ([`ErrorKind::SizeMismatch`]). The `dynamic` and `link` strategies check kind and
//! size when `dladdr1` finds the symbol's `.dynsym` entry at exactly that address; the
//! `link` strategy checks only when asked with `resolve()` (its calls never wait). What
//! cannot be checked is the signature: that is the caller's contract.
//!
//! A failed resolution is not cached: the next use tries again (the library may have been
//! loaded since). A successful one is final, made once even when many threads race to
//! first use it ([`Binding::attempts`] counts the resolver runs).
//!
//! # `extern "Rust"` and other ABIs
//!
//! Any ABI string Rust accepts for function pointers works (`"C"`, `"system"`,
//! `"sysv64"`, `"Rust"`, ...). `extern "Rust"` binds private Rust functions by their
//! demangled path (`my_crate::module::function`), with caveats: the Rust ABI is unstable,
//! so the function must come from the same compiler and build (in practice: the same
//! binary); the function must exist as a symbol (not inlined away: mark it
//! `#[inline(never)]` and keep it reachable, e.g. through a `#[used]` static holding its
//! address); generic functions have one symbol per instantiation, and
//! `#[track_caller]` functions take a hidden argument; and the binary must keep its
//! `.symtab` (not stripped).
//!
//! # Safety
//!
//! This module turns addresses into function pointers and typed pointers. The macro's
//! generated `unsafe fn`s and the `unsafe` accessors state their contracts: the declared
//! signature or type must match the symbol's, and the module must stay loaded. The
//! resolution code calls `dladdr1`, `dlopen`/`dlvsym` and `__tls_get_addr`, each with
//! the arguments its manual page requires.

use std::ffi::{CStr, CString, c_void};
use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

pub use libloading;

use crate::elf::{Error, ErrorKind, Kind, Query};
use crate::process::{self, Module};
use crate::resolve::{Located, Resolver};

/// How a binding finds its symbol's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The static linker (`extern` + `#[link_name]`): exported symbols only, zero cost.
    Link,
    /// `dlsym` (or `dlvsym` for `name@VER`) through `libloading`: exported symbols.
    Dynamic,
    /// The ELF [`Resolver`]: any symbol of `.symtab`, a debug file or `.dynsym`.
    Private,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::Link => "link",
            Strategy::Dynamic => "dynamic",
            Strategy::Private => "private",
        })
    }
}

/// The module a binding looks in.
#[derive(Clone, Copy)]
pub enum Selector {
    /// The main executable (for `dynamic`: the global scope, `dlopen(NULL)`).
    Main,
    /// The first loaded module that defines the symbol, in load order (for `dynamic`:
    /// the global scope, like `RTLD_DEFAULT`).
    Any,
    /// The vDSO the kernel maps into every process.
    Vdso,
    /// A library by file name, soname or path (see [`process::find`]); `"main"` is the
    /// main executable. The `dynamic` strategy `dlopen`s it if it is not loaded yet.
    Named(&'static str),
    /// The library a [`libloading::Library`] opened.
    Library(fn() -> &'static libloading::Library),
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Main => f.write_str("Main"),
            Selector::Any => f.write_str("Any"),
            Selector::Vdso => f.write_str("Vdso"),
            Selector::Named(n) => f.debug_tuple("Named").field(n).finish(),
            Selector::Library(_) => f.write_str("Library(..)"),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Main => f.write_str("the main executable"),
            Selector::Any => f.write_str("any loaded module"),
            Selector::Vdso => f.write_str("the vDSO"),
            Selector::Named(n) => write!(f, "`{n}`"),
            Selector::Library(_) => f.write_str("a libloading::Library"),
        }
    }
}

/// What a binding declares the symbol to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A function (`STT_FUNC`, an IFUNC, or untyped code).
    Function,
    /// A data object of `size` bytes (`size_of` of the declared type).
    Object {
        /// The declared type's size.
        size: usize,
    },
    /// A thread-local variable of `size` bytes.
    ThreadLocal {
        /// The declared type's size.
        size: usize,
    },
}

/// Everything a binding declares: built by [`linkname!`](crate::linkname), constant.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The Rust item's name.
    pub item: &'static str,
    /// The declared Rust type: the function pointer type or the static's type.
    pub ty: &'static str,
    /// The symbol query (`name`, `name@VER`, `file.c::name`, `crate::path::func`).
    pub symbol: &'static str,
    /// Where to look.
    pub module: Selector,
    /// How to look.
    pub strategy: Strategy,
    /// What the symbol must be.
    pub shape: Shape,
}

/// A resolved binding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolved {
    /// The runtime address bound: the function's code (an IFUNC's implementation), the
    /// object; for a thread-local variable, the address in the thread that resolved it.
    pub address: usize,
    /// The symbol found: name, kind, size, source file, module. `None` when the
    /// `dynamic` or `link` strategy could not see its `.dynsym` entry (then kind and size
    /// went unchecked).
    pub symbol: Option<Located>,
    /// For a thread-local variable: the module's TLS id and the variable's offset in it.
    pub tls: Option<(usize, usize)>,
}

impl Resolved {
    /// Whether the symbol's kind and size were checked.
    pub fn checked(&self) -> bool {
        self.symbol.is_some()
    }
}

/// One binding's state: its [`Spec`], and once resolved its address.
///
/// The address sits in an atomic word read with one `Acquire` load (a plain `mov` on
/// x86_64); the first use takes a mutex, runs the resolver, and publishes the address.
pub struct Binding {
    spec: Spec,
    link: Option<fn() -> usize>,
    address: AtomicUsize,
    resolved: OnceLock<Resolved>,
    lock: Mutex<()>,
    attempts: AtomicUsize,
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Binding")
            .field("spec", &self.spec)
            .field("resolved", &self.resolved.get())
            .field("attempts", &self.attempts())
            .finish()
    }
}

impl Binding {
    /// A binding resolved by the `dynamic` or `private` strategy of `spec`.
    pub const fn new(spec: Spec) -> Self {
        Binding {
            spec,
            link: None,
            address: AtomicUsize::new(0),
            resolved: OnceLock::new(),
            lock: Mutex::new(()),
            attempts: AtomicUsize::new(0),
        }
    }

    /// A binding whose address the static linker provides: `address` returns it (for
    /// example `|| extern_fn as usize`).
    pub const fn linked(spec: Spec, address: fn() -> usize) -> Self {
        let mut b = Binding::new(spec);
        b.link = Some(address);
        b
    }

    /// What was declared.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The resolution, if it has happened.
    pub fn resolved(&self) -> Option<&Resolved> {
        if self.address.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.resolved.get()
    }

    /// How many times the resolver ran for this binding (failures included).
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Resolves now if not yet done, returning the resolution or the resolver's error.
    pub fn resolve(&self) -> Result<&Resolved, Error> {
        self.try_address()?;
        self.resolved
            .get()
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "linkname: resolution vanished (bug)"))
    }

    /// The bound address, resolving on first use; the resolver's error if that fails.
    #[inline]
    pub fn try_address(&self) -> Result<usize, Error> {
        match self.address.load(Ordering::Acquire) {
            0 => self.resolve_slow(),
            a => Ok(a),
        }
    }

    /// The bound address, resolving on first use.
    ///
    /// # Panics
    ///
    /// If resolution fails, with the binding's spec and the resolver's error.
    #[inline(always)]
    pub fn address(&self) -> usize {
        match self.address.load(Ordering::Acquire) {
            0 => self.address_cold(),
            a => a,
        }
    }

    #[cold]
    #[inline(never)]
    fn address_cold(&self) -> usize {
        match self.resolve_slow() {
            Ok(a) => a,
            Err(e) => panic!("{}", self.describe_failure(&e)),
        }
    }

    fn describe_failure(&self, e: &Error) -> String {
        let s = &self.spec;
        format!(
            "linkname: cannot bind `{}` to `{}` in {} ({} strategy): {e}",
            s.item, s.symbol, s.module, s.strategy
        )
    }

    #[cold]
    fn resolve_slow(&self) -> Result<usize, Error> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let a = self.address.load(Ordering::Acquire);
        if a != 0 {
            return Ok(a);
        }
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let resolved = run(&self.spec, self.link)?;
        let address = resolved.address;
        if address == 0 {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("`{}` resolved to address 0", self.spec.symbol),
            ));
        }
        // Only this thread, holding the lock, ever sets it, and only once (the address
        // is published right after, so no other resolution starts).
        let _ = self.resolved.set(resolved);
        self.address.store(address, Ordering::Release);
        Ok(address)
    }
}

/// A `static` bound to a data object: a typed address, resolved once.
///
/// Declared by [`linkname!`](crate::linkname) as `static NAME: T = strategy(module,
/// "symbol");`. Getting the pointer is safe; using it is `unsafe` and follows the rules
/// of raw pointers, plus: `T` must describe the object (its size is checked), and other
/// code (the module's own) may read and write it concurrently.
pub struct Object<T> {
    binding: Binding,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Object<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Object").field(&self.binding).finish()
    }
}

impl<T> Object<T> {
    /// The handle of `binding`, whose shape must be [`Shape::Object`] of `size_of::<T>()`.
    pub const fn new(binding: Binding) -> Self {
        Object {
            binding,
            _type: PhantomData,
        }
    }

    /// The binding: spec, resolution, attempts.
    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    /// Resolves now, or returns the resolver's error.
    pub fn resolve(&self) -> Result<&Resolved, Error> {
        self.binding.resolve()
    }

    /// The object's address, resolving on first use.
    ///
    /// # Panics
    ///
    /// If resolution fails (see [`try_ptr`](Object::try_ptr)).
    #[inline(always)]
    pub fn ptr(&self) -> *mut T {
        self.binding.address() as *mut T
    }

    /// The object's address, or the resolver's error.
    #[inline]
    pub fn try_ptr(&self) -> Result<*mut T, Error> {
        self.binding.try_address().map(|a| a as *mut T)
    }

    /// Reads the object.
    ///
    /// # Safety
    ///
    /// `T` must be the object's type (any bit pattern the object holds must be a valid
    /// `T`), and no other thread may be writing it meanwhile.
    ///
    /// # Panics
    ///
    /// If resolution fails.
    pub unsafe fn read(&self) -> T {
        // SAFETY: the address is the object's (resolved, size-checked against T); the
        // caller guarantees its type and the absence of a concurrent write.
        unsafe { self.ptr().read() }
    }

    /// Overwrites the object with `value` (without dropping the old value).
    ///
    /// # Safety
    ///
    /// As for [`read`](Object::read), and the object must be writable (not in a
    /// read-only segment such as `.rodata` or `.data.rel.ro`).
    ///
    /// # Panics
    ///
    /// If resolution fails.
    pub unsafe fn write(&self, value: T) {
        // SAFETY: as in `read`; the caller guarantees the memory is writable.
        unsafe { self.ptr().write(value) }
    }

    /// A shared reference to the object for the rest of the program.
    ///
    /// # Safety
    ///
    /// As for [`read`](Object::read), and nothing may write the object while the
    /// reference is in use unless `T` permits it (atomics, `UnsafeCell`), and the module
    /// must never be unloaded.
    ///
    /// # Panics
    ///
    /// If resolution fails.
    pub unsafe fn as_ref(&self) -> &'static T {
        // SAFETY: the caller guarantees the type, the absence of writes and that the
        // module (and so the object) stays for the rest of the program.
        unsafe { &*self.ptr() }
    }
}

/// A `static` bound to a thread-local variable (`STT_TLS`): each thread gets its own copy.
///
/// Declared by [`linkname!`](crate::linkname) as `thread_local static NAME: T =
/// private(module, "symbol");`. The module's TLS id and the variable's offset are
/// resolved once; each [`ptr`](ThreadLocal::ptr) asks `__tls_get_addr` for the calling
/// thread's copy (which allocates it on the thread's first use, like the C code does).
pub struct ThreadLocal<T> {
    binding: Binding,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ThreadLocal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ThreadLocal").field(&self.binding).finish()
    }
}

/// `tls_index` of the x86_64 TLS ABI.
#[repr(C)]
struct TlsIndex {
    module: usize,
    offset: usize,
}

unsafe extern "C" {
    /// The dynamic linker's TLS accessor (x86_64 ELF TLS ABI).
    fn __tls_get_addr(ti: *const TlsIndex) -> *mut c_void;
}

impl<T> ThreadLocal<T> {
    /// The handle of `binding`, whose shape must be [`Shape::ThreadLocal`].
    pub const fn new(binding: Binding) -> Self {
        ThreadLocal {
            binding,
            _type: PhantomData,
        }
    }

    /// The binding: spec, resolution, attempts.
    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    /// Resolves now, or returns the resolver's error.
    pub fn resolve(&self) -> Result<&Resolved, Error> {
        self.binding.resolve()
    }

    /// The calling thread's copy of the variable, or the resolver's error.
    pub fn try_ptr(&self) -> Result<*mut T, Error> {
        let r = self.binding.resolve()?;
        let Some((module, offset)) = r.tls else {
            return Err(Error::new(
                ErrorKind::KindMismatch,
                format!(
                    "`{}` was not resolved as a thread-local variable",
                    self.binding.spec.symbol
                ),
            ));
        };
        let ti = TlsIndex { module, offset };
        // SAFETY: the module id and offset come from the module's TLS segment and
        // symbol table at resolution; the module is still loaded (the binding's
        // contract), so its TLS id is live.
        Ok(unsafe { __tls_get_addr(&ti) }.cast())
    }

    /// The calling thread's copy of the variable.
    ///
    /// # Panics
    ///
    /// If resolution fails.
    pub fn ptr(&self) -> *mut T {
        match self.try_ptr() {
            Ok(p) => p,
            Err(e) => panic!("{}", self.binding.describe_failure(&e)),
        }
    }

    /// Reads the calling thread's copy.
    ///
    /// # Safety
    ///
    /// `T` must be the variable's type.
    ///
    /// # Panics
    ///
    /// If resolution fails.
    pub unsafe fn read(&self) -> T {
        // SAFETY: this thread's copy, size-checked against T; only this thread writes
        // it (it is thread-local) and the caller guarantees the type.
        unsafe { self.ptr().read() }
    }

    /// Overwrites the calling thread's copy.
    ///
    /// # Safety
    ///
    /// `T` must be the variable's type.
    ///
    /// # Panics
    ///
    /// If resolution fails.
    pub unsafe fn write(&self, value: T) {
        // SAFETY: as in `read`; TLS blocks are writable.
        unsafe { self.ptr().write(value) }
    }
}

/// Refuses, at compile time, a symbol the `link` strategy cannot bind (`name@VER`,
/// `file.c::name`, demangled paths): used by [`linkname!`](crate::linkname).
#[doc(hidden)]
pub const fn assert_link_symbol(symbol: &str) {
    let b = symbol.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'@' || (b[i] == b':' && i + 1 < b.len() && b[i + 1] == b':') {
            panic!(
                "linkname!: the `link` strategy binds plain exported names only; \
                 `name@VER`, `file.c::name` and Rust paths need `dynamic` or `private`"
            );
        }
        i += 1;
    }
    if b.is_empty() {
        panic!("linkname!: empty symbol name");
    }
}

/// The resolver every `private` binding shares (one index per module file).
pub fn resolver() -> &'static Resolver {
    static RESOLVER: OnceLock<Resolver> = OnceLock::new();
    RESOLVER.get_or_init(Resolver::new)
}

fn run(spec: &Spec, link: Option<fn() -> usize>) -> Result<Resolved, Error> {
    match (spec.strategy, link) {
        (Strategy::Link, Some(address)) => {
            let address = address();
            let symbol = dl_symbol(address);
            if let Some(l) = &symbol {
                check(spec, l)?;
            }
            Ok(Resolved {
                address,
                symbol,
                tls: None,
            })
        }
        (Strategy::Link, None) => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "`{}`: a `link` binding needs its address from the static linker (Binding::linked)",
                spec.item
            ),
        )),
        (Strategy::Dynamic, _) => dynamic(spec),
        (Strategy::Private, _) => private(spec),
    }
}

/// Kind and size against the declaration.
fn check(spec: &Spec, l: &Located) -> Result<(), Error> {
    let what = |kind: Kind| {
        let text = kind.to_string();
        let article = if text.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{} ({article} {text}, {})", l.name, kind.elf_name())
    };
    let redeclare = match l.kind {
        Kind::Func | Kind::Ifunc => "declare it `unsafe extern \"C\" fn`",
        Kind::Tls => "declare it `thread_local static`",
        _ => "declare it `static`",
    };
    let (fits, declared, size) = match spec.shape {
        Shape::Function => (
            matches!(l.kind, Kind::Func | Kind::Ifunc | Kind::NoType),
            "a function",
            None,
        ),
        Shape::Object { size } => (
            matches!(l.kind, Kind::Object | Kind::Common | Kind::NoType),
            "a static",
            Some(size),
        ),
        Shape::ThreadLocal { size } => (l.kind == Kind::Tls, "a thread_local static", Some(size)),
    };
    if !fits {
        return Err(Error::new(
            ErrorKind::KindMismatch,
            format!(
                "{} in {}: `{}` is declared as {declared}; {redeclare}",
                what(l.kind),
                l.module.display(),
                spec.item
            ),
        ));
    }
    if l.size == 0 {
        return Err(Error::new(
            ErrorKind::SizeMismatch,
            format!(
                "{} in {} has size 0 (a label, or assembly without `.size`): \
                 nothing says it is what `{}` declares",
                what(l.kind),
                l.module.display(),
                spec.item
            ),
        ));
    }
    if let Some(size) = size {
        if l.size != size as u64 {
            return Err(Error::new(
                ErrorKind::SizeMismatch,
                format!(
                    "{} in {} is {} bytes, but `{}` is declared as `{}` ({size} bytes)",
                    what(l.kind),
                    l.module.display(),
                    l.size,
                    spec.item,
                    spec.ty
                ),
            ));
        }
    }
    Ok(())
}

// ---- the private strategy: the ELF resolver ---------------------------------------

fn private(spec: &Spec) -> Result<Resolved, Error> {
    let (module, located) = match spec.module {
        Selector::Any => locate_anywhere(spec.symbol)?,
        other => {
            let module = module_of(other)?;
            let located = resolver().locate(&module, spec.symbol)?;
            (module, located)
        }
    };
    check(spec, &located)?;
    let (address, tls) = match spec.shape {
        Shape::Function => {
            // SAFETY: `module` was listed by `dl_iterate_phdr` just now, so it is loaded
            // in this process; an IFUNC resolver of an x86_64 ELF module has glibc's
            // calling convention (`Resolver::function`'s contract).
            let code = unsafe { resolver().function(&module, spec.symbol) }?;
            (code as usize, None)
        }
        Shape::Object { .. } => (located.address as usize, None),
        Shape::ThreadLocal { .. } => {
            // SAFETY: as above, `module` is loaded in this process.
            let here = unsafe { resolver().tls(&module, spec.symbol) }?;
            (
                here as usize,
                Some((module.tls_module_id, located.file_address as usize)),
            )
        }
    };
    Ok(Resolved {
        address,
        symbol: Some(located),
        tls,
    })
}

/// The first module, in load order, that defines `symbol`.
fn locate_anywhere(symbol: &str) -> Result<(Module, Located), Error> {
    let modules = process::modules();
    for m in &modules {
        match resolver().locate(m, symbol) {
            Ok(l) => return Ok((m.clone(), l)),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::NotFound
                        | ErrorKind::Undefined
                        | ErrorKind::Io
                        | ErrorKind::Malformed
                        | ErrorKind::Unsupported
                        | ErrorKind::BuildIdMismatch
                        | ErrorKind::Decompress
                ) => {}
            Err(e) => return Err(e),
        }
    }
    let names: Vec<String> = modules
        .iter()
        .map(|m| m.path.display().to_string())
        .collect();
    Err(Error::new(
        ErrorKind::NotFound,
        format!(
            "no loaded module defines `{symbol}`; searched: {}",
            names.join(", ")
        ),
    ))
}

/// The loaded module `selector` names.
fn module_of(selector: Selector) -> Result<Module, Error> {
    match selector {
        Selector::Main => process::find("main"),
        Selector::Named(name) => process::find(name),
        Selector::Vdso => process::modules()
            .into_iter()
            .find(|m| m.is_vdso)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownModule,
                    "this process has no vDSO (AT_SYSINFO_EHDR is 0)",
                )
            }),
        Selector::Library(lib) => library_module(lib()).map(|(m, _)| m),
        Selector::Any => Err(Error::new(
            ErrorKind::UnknownModule,
            "`any` names no single module",
        )),
    }
}

/// The module (and a `dlopen` handle of it) that `lib` opened.
///
/// `libloading::Library` does not lend its handle, but prints it (`Library@0x…`). Each
/// loaded library is `dlopen`ed again with `RTLD_NOLOAD`, which returns the same handle
/// for the same library, and the handles are compared as numbers: the printed value is
/// never dereferenced.
fn library_module(lib: &libloading::Library) -> Result<(Module, usize), Error> {
    let printed = format!("{lib:?}");
    let handle = printed
        .rsplit_once("0x")
        .and_then(|(_, hex)| usize::from_str_radix(hex, 16).ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownModule,
                format!(
                    "cannot read the handle of a libloading::Library (it prints as `{printed}`)"
                ),
            )
        })?;
    let modules = process::modules();
    for m in &modules {
        if m.is_vdso {
            continue;
        }
        let h = if m.is_main {
            // SAFETY: dlopen(NULL) returns the main program's handle; no code runs.
            unsafe { libc::dlopen(std::ptr::null(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) }
        } else {
            noload(&m.path.to_string_lossy())
        };
        if h.is_null() {
            continue;
        }
        if h as usize == handle {
            return Ok((m.clone(), handle));
        }
        // SAFETY: `h` is a handle dlopen just returned; closing it drops the reference
        // RTLD_NOLOAD added (the library stays loaded: it was loaded before).
        unsafe { libc::dlclose(h) };
    }
    Err(Error::new(
        ErrorKind::UnknownModule,
        format!("the libloading::Library ({printed}) is none of the loaded modules"),
    ))
}

/// `dlopen(name, RTLD_LAZY | RTLD_NOLOAD)`: a handle of an already loaded library, or null.
fn noload(name: &str) -> *mut c_void {
    let Ok(c) = CString::new(name) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `c` is NUL-terminated; RTLD_NOLOAD loads nothing, so no initializer runs.
    unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) }
}

// ---- the dynamic strategy: dlsym --------------------------------------------------

fn dynamic(spec: &Spec) -> Result<Resolved, Error> {
    let (name, version) = match Query::parse(spec.symbol) {
        Query::Name(n) if !n.contains("::") => (n, None),
        Query::Versioned { name, version, .. } => (name, Some(version)),
        _ => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the dynamic strategy looks up exported names (`name`, `name@VER`) with dlsym; \
                     `{}` is a source-file or demangled query: use the private strategy",
                    spec.symbol
                ),
            ));
        }
    };
    let cname = CString::new(name)
        .map_err(|_| Error::new(ErrorKind::NotFound, format!("`{name}` contains a NUL byte")))?;
    let address = match version {
        None => {
            let lib = dl_library(spec.module)?;
            // SAFETY: the symbol is read as a plain address, never called here.
            let sym = unsafe { lib.get::<*mut c_void>(cname.as_bytes_with_nul()) };
            match sym {
                Ok(s) => *s as usize,
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!("dlsym found no `{name}` in {}: {e}", spec.module),
                    ));
                }
            }
        }
        Some(version) => {
            let handle = dl_handle(spec.module)?;
            let cversion = CString::new(version).map_err(|_| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("`{version}` contains a NUL byte"),
                )
            })?;
            // SAFETY: `handle` is a live dlopen handle (or RTLD_DEFAULT); both strings
            // are NUL-terminated.
            let p = unsafe { libc::dlvsym(handle, cname.as_ptr(), cversion.as_ptr()) };
            if p.is_null() {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "dlvsym found no `{name}` of version `{version}` in {}: {}",
                        spec.module,
                        dlerror()
                    ),
                ));
            }
            p as usize
        }
    };
    let symbol = dl_symbol(address);
    if let Some(l) = &symbol {
        check(spec, l)?;
    }
    Ok(Resolved {
        address,
        symbol,
        tls: None,
    })
}

fn dlerror() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated message owned by the loader.
    let p = unsafe { libc::dlerror() };
    if p.is_null() {
        return "no detail".to_owned();
    }
    // SAFETY: non-null, NUL-terminated (above).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The libraries `dynamic` bindings opened by name, kept open for the process lifetime.
fn dl_library(selector: Selector) -> Result<&'static libloading::Library, Error> {
    static OPENED: Mutex<Vec<(String, &'static libloading::Library)>> = Mutex::new(Vec::new());
    let key = match selector {
        Selector::Library(lib) => return Ok(lib()),
        Selector::Main | Selector::Any | Selector::Named("main") => String::new(),
        Selector::Vdso => "linux-vdso.so.1".to_owned(),
        Selector::Named(name) => name.to_owned(),
    };
    let mut opened = OPENED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, lib)) = opened.iter().find(|(k, _)| *k == key) {
        return Ok(lib);
    }
    let lib: libloading::Library = if key.is_empty() {
        libloading::os::unix::Library::this().into()
    } else if matches!(selector, Selector::Vdso) {
        // SAFETY: RTLD_NOLOAD loads nothing, so no initializer runs.
        unsafe {
            libloading::os::unix::Library::open(Some(&key), libc::RTLD_LAZY | libc::RTLD_NOLOAD)
        }
        .map_err(|e| {
            Error::new(
                ErrorKind::UnknownModule,
                format!("dlopen cannot reach the vDSO as `{key}`: {e}"),
            )
        })?
        .into()
    } else {
        // SAFETY: loading a library runs its initializers: that is what the dynamic
        // strategy means (documented on `Selector::Named`), as any dlopen does.
        unsafe { libloading::Library::new(&key) }.map_err(|e| {
            Error::new(
                ErrorKind::UnknownModule,
                format!("dlopen cannot open `{key}`: {e}"),
            )
        })?
    };
    let lib: &'static libloading::Library = Box::leak(Box::new(lib));
    opened.push((key, lib));
    Ok(lib)
}

/// A raw handle for `dlvsym`.
fn dl_handle(selector: Selector) -> Result<*mut c_void, Error> {
    match selector {
        Selector::Main | Selector::Any | Selector::Named("main") => Ok(libc::RTLD_DEFAULT),
        Selector::Library(lib) => library_module(lib()).map(|(_, h)| h as *mut c_void),
        Selector::Named(name) => {
            dl_library(selector)?;
            let h = noload(name);
            if h.is_null() {
                return Err(Error::new(
                    ErrorKind::UnknownModule,
                    format!("dlopen cannot reach `{name}`: {}", dlerror()),
                ));
            }
            Ok(h)
        }
        Selector::Vdso => {
            let h = noload("linux-vdso.so.1");
            if h.is_null() {
                return Err(Error::new(
                    ErrorKind::UnknownModule,
                    format!("dlopen cannot reach the vDSO: {}", dlerror()),
                ));
            }
            Ok(h)
        }
    }
}

/// `RTLD_DL_SYMENT` of `<dlfcn.h>`: `dladdr1` returns the `ElfW(Sym)`.
const RTLD_DL_SYMENT: libc::c_int = 1;

/// The `.dynsym` entry at exactly `address`, as a [`Located`], if `dladdr1` finds one.
fn dl_symbol(address: usize) -> Option<Located> {
    // SAFETY: Dl_info is plain old data; all-zero is a valid value to be overwritten.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let mut extra: *mut c_void = std::ptr::null_mut();
    // SAFETY: `info` and `extra` are valid for writes; dladdr1 only reads the loader's
    // tables for `address` (any value is allowed).
    let found = unsafe {
        libc::dladdr1(
            address as *const c_void,
            &mut info,
            &mut extra,
            RTLD_DL_SYMENT,
        )
    };
    if found == 0 || extra.is_null() || info.dli_sname.is_null() {
        return None;
    }
    if info.dli_saddr as usize != address {
        return None;
    }
    // SAFETY: with RTLD_DL_SYMENT and success, `extra` points at the symbol's Elf64_Sym
    // in the module's mapped dynamic symbol table.
    let sym = unsafe { &*(extra as *const libc::Elf64_Sym) };
    // The same classification as the index's (`SHN_COMMON` does not occur in a loaded
    // image's `.dynsym`).
    let kind = Kind::from_elf(object::elf::SymbolType(sym.st_info & 0xf), false);
    // SAFETY: dli_sname is non-null (checked) and NUL-terminated, owned by the loader.
    let name = unsafe { CStr::from_ptr(info.dli_sname) }
        .to_string_lossy()
        .into_owned();
    let module = if info.dli_fname.is_null() {
        PathBuf::new()
    } else {
        // SAFETY: a non-null dli_fname is NUL-terminated, owned by the loader.
        let f = unsafe { CStr::from_ptr(info.dli_fname) };
        PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(f.to_bytes()))
    };
    let module = if module.as_os_str().is_empty() {
        std::env::current_exe().unwrap_or(module)
    } else {
        module
    };
    Some(Located {
        address: address as u64,
        file_address: sym.st_value,
        size: sym.st_size,
        kind,
        name,
        file: None,
        module,
    })
}

// ---- the macro ---------------------------------------------------------------------

/// Declares Rust functions and statics bound to symbols: Go's `//go:linkname` for Rust.
///
/// ```text
/// linkname! {
///     /// docs and attributes pass through
///     pub unsafe extern "C" fn name(a: A, b: B) -> R = STRATEGY(MODULE, "SYMBOL");
///     pub static NAME: T = STRATEGY(MODULE, "SYMBOL");
///     pub thread_local static NAME: T = private(MODULE, "SYMBOL");
/// }
/// ```
///
/// - STRATEGY: `link`, `dynamic` or `private` (see the [module docs](crate::bind)).
/// - MODULE: `main`, `any`, `vdso`, `"libname.so"` (file name, soname or path) or
///   `library(EXPR)` with `EXPR: &'static libloading::Library`.
/// - SYMBOL: `name`, `name@VER`, `name@@VER`, `file.c::name` or a demangled path
///   `crate::module::function` (the last three need `private`; versions need `dynamic`
///   or `private`).
/// - The ABI is any string Rust accepts (`"C"`, `"system"`, `"Rust"`, ...).
///
/// A function `name` comes with a companion type `name` (same name, type namespace):
/// `name::resolve()`, `name::try_call(args)`, `name::get()`, `name::try_get()`,
/// `name::binding()`. A `static` is an [`Object<T>`](crate::bind::Object), a
/// `thread_local static` a [`ThreadLocal<T>`](crate::bind::ThreadLocal).
///
/// ```
/// use std::ffi::{c_char, c_int};
///
/// linker_tools::linkname! {
///     /// glibc's `program_invocation_short_name`: an exported object.
///     static SHORT_NAME: *const c_char = private("libc.so.6", "program_invocation_short_name");
///     /// `abs@GLIBC_2.2.5`, through dlvsym.
///     unsafe extern "C" fn abs_v(x: c_int) -> c_int = dynamic("libc.so.6", "abs@GLIBC_2.2.5");
/// }
///
/// // SAFETY: the variable is a `char *` that glibc sets once at startup.
/// assert!(!unsafe { SHORT_NAME.read() }.is_null());
/// // SAFETY: `int abs(int)`.
/// assert_eq!(unsafe { abs_v(-2) }, 2);
/// ```
///
/// The `link` strategy binds plain names only; anything else fails to compile:
///
/// ```compile_fail
/// linker_tools::linkname! {
///     unsafe extern "C" fn abs_v(x: i32) -> i32 = link(any, "abs@GLIBC_2.2.5");
/// }
/// ```
///
/// And thread-local variables need the `private` strategy:
///
/// ```compile_fail
/// linker_tools::linkname! {
///     thread_local static ERRNO: i32 = dynamic(any, "errno");
/// }
/// ```
#[macro_export]
macro_rules! linkname {
    () => {};
    (
        $(#[$attr:meta])*
        $vis:vis unsafe extern $abi:literal fn $name:ident ( $($arg:ident : $argty:ty),* $(,)? ) $(-> $ret:ty)?
            = $strategy:ident ( $module:tt $(( $($marg:tt)* ))? , $symbol:literal );
        $($rest:tt)*
    ) => {
        $crate::__linkname_fn! {
            $strategy; $abi;
            [$(#[$attr])*] $vis $name ( $($arg : $argty),* ) ($($ret)?)
            [$module $(( $($marg)* ))?] $symbol
        }
        $crate::linkname! { $($rest)* }
    };
    (
        $(#[$attr:meta])*
        $vis:vis static $name:ident : $ty:ty
            = $strategy:ident ( $module:tt $(( $($marg:tt)* ))? , $symbol:literal );
        $($rest:tt)*
    ) => {
        $crate::__linkname_static! {
            $strategy;
            [$(#[$attr])*] $vis $name $ty
            [$module $(( $($marg)* ))?] $symbol
        }
        $crate::linkname! { $($rest)* }
    };
    (
        $(#[$attr:meta])*
        $vis:vis thread_local static $name:ident : $ty:ty
            = $strategy:ident ( $module:tt $(( $($marg:tt)* ))? , $symbol:literal );
        $($rest:tt)*
    ) => {
        $crate::__linkname_tls! {
            $strategy;
            [$(#[$attr])*] $vis $name $ty
            [$module $(( $($marg)* ))?] $symbol
        }
        $crate::linkname! { $($rest)* }
    };
    ($($other:tt)+) => {
        ::core::compile_error!(
            "linkname!: expected `unsafe extern \"ABI\" fn name(args) -> R = strategy(module, \"symbol\");`, \
             `static NAME: T = strategy(module, \"symbol\");` or \
             `thread_local static NAME: T = private(module, \"symbol\");`"
        );
    };
}

/// The [`Selector`] a `linkname!` module spelling stands for.
#[doc(hidden)]
#[macro_export]
macro_rules! __linkname_selector {
    (main) => {
        $crate::bind::Selector::Main
    };
    (any) => {
        $crate::bind::Selector::Any
    };
    (vdso) => {
        $crate::bind::Selector::Vdso
    };
    (library ( $($lib:tt)* )) => {
        $crate::bind::Selector::Library(|| -> &'static $crate::bind::libloading::Library { $($lib)* })
    };
    ($name:literal) => {
        $crate::bind::Selector::Named($name)
    };
    ($($other:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "linkname!: unknown module `",
            ::core::stringify!($($other)*),
            "`: write main, any, vdso, \"libname.so\" or library(EXPR)"
        ))
    };
}

/// The [`Strategy`] of a resolved (`dynamic`/`private`) binding.
#[doc(hidden)]
#[macro_export]
macro_rules! __linkname_strategy {
    (dynamic) => {
        $crate::bind::Strategy::Dynamic
    };
    (private) => {
        $crate::bind::Strategy::Private
    };
    ($other:ident) => {
        ::core::compile_error!(::core::concat!(
            "linkname!: unknown strategy `",
            ::core::stringify!($other),
            "`: write link, dynamic or private"
        ))
    };
}

/// `R`, or `()` for a function without `-> R`.
#[doc(hidden)]
#[macro_export]
macro_rules! __linkname_ret {
    () => {
        ()
    };
    ($ret:ty) => {
        $ret
    };
}

/// The function items of `linkname!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __linkname_fn {
    // The companion type and its methods, shared by every strategy; `$get` is the body of
    // `get`, which returns the function pointer.
    (@companion $abi:literal; [$($attr:tt)*] $vis:vis $name:ident ( $($arg:ident : $argty:ty),* ) ($($ret:ty)?)
        [$($module:tt)*] $symbol:literal; $binding:expr; $get:expr; $try_get:expr) => {
        #[doc = ::core::concat!(
            "The binding behind [`", ::core::stringify!($name), "()`]: `",
            $symbol, "` (declared by `linkname!`). Resolve early with `",
            ::core::stringify!($name), "::resolve()`; call without panicking with `",
            ::core::stringify!($name), "::try_call(..)`."
        )]
        #[allow(non_camel_case_types, dead_code)]
        $vis struct $name {}

        #[allow(dead_code)]
        impl $name {
            /// The binding's state: what was declared, the resolution, the attempts.
            #[inline(always)]
            $vis fn binding() -> &'static $crate::bind::Binding {
                static BINDING: $crate::bind::Binding = $binding;
                &BINDING
            }

            /// Resolves the symbol now (if not yet done): the resolver's error, if any.
            $vis fn resolve() -> ::core::result::Result<&'static $crate::bind::Resolved, $crate::elf::Error> {
                Self::binding().resolve()
            }

            /// The function pointer, resolving on first use.
            ///
            /// # Panics
            ///
            /// If resolution fails, with the resolver's error.
            #[inline(always)]
            $vis fn get() -> unsafe extern $abi fn($($argty),*) -> $crate::__linkname_ret!($($ret)?) {
                $get
            }

            /// The function pointer, or the resolver's error.
            $vis fn try_get() -> ::core::result::Result<
                unsafe extern $abi fn($($argty),*) -> $crate::__linkname_ret!($($ret)?),
                $crate::elf::Error,
            > {
                $try_get
            }

            /// Calls the function, or returns the resolver's error without calling it.
            ///
            /// # Safety
            ///
            /// As for the function itself: the symbol's signature and ABI must match the
            /// declaration, and the arguments must satisfy the function's own contract.
            $vis unsafe fn try_call($($arg: $argty),*) -> ::core::result::Result<
                $crate::__linkname_ret!($($ret)?),
                $crate::elf::Error,
            > {
                let f = Self::try_get()?;
                // SAFETY: the caller upholds the declared signature and the function's
                // contract; `f` is the resolved address of the symbol.
                ::core::result::Result::Ok(unsafe { f($($arg),*) })
            }
        }
    };
    (link; $abi:literal; [$($attr:tt)*] $vis:vis $name:ident ( $($arg:ident : $argty:ty),* ) ($($ret:ty)?)
        [$($module:tt)*] $symbol:literal) => {
        $($attr)*
        ///
        /// # Safety
        ///
        #[doc = ::core::concat!(
            "Bound by `linkname!` (link strategy) to `", $symbol,
            "`: the symbol must be a function with exactly this signature and the `",
            $abi, "` ABI, and the arguments must satisfy its own contract."
        )]
        #[inline(always)]
        $vis unsafe fn $name($($arg: $argty),*) $(-> $ret)? {
            const _: () = $crate::bind::assert_link_symbol($symbol);
            unsafe extern $abi {
                #[link_name = $symbol]
                fn __linkname_item($($arg: $argty),*) $(-> $ret)?;
            }
            // SAFETY: the caller guarantees the declared signature matches the symbol's,
            // which the static linker bound.
            unsafe { __linkname_item($($arg),*) }
        }

        $crate::__linkname_fn! {
            @companion $abi; [$($attr)*] $vis $name ( $($arg : $argty),* ) ($($ret)?)
            [$($module)*] $symbol;
            $crate::bind::Binding::linked(
                $crate::bind::Spec {
                    item: ::core::stringify!($name),
                    ty: ::core::stringify!(unsafe extern $abi fn($($argty),*) $(-> $ret)?),
                    symbol: $symbol,
                    module: $crate::__linkname_selector!($($module)*),
                    strategy: $crate::bind::Strategy::Link,
                    shape: $crate::bind::Shape::Function,
                },
                || {
                    unsafe extern $abi {
                        #[link_name = $symbol]
                        fn __linkname_item($($arg: $argty),*) $(-> $ret)?;
                    }
                    __linkname_item as usize
                },
            );
            {
                unsafe extern $abi {
                    #[link_name = $symbol]
                    fn __linkname_item($($arg: $argty),*) $(-> $ret)?;
                }
                __linkname_item as unsafe extern $abi fn($($argty),*) $(-> $ret)?
            };
            {
                unsafe extern $abi {
                    #[link_name = $symbol]
                    fn __linkname_item($($arg: $argty),*) $(-> $ret)?;
                }
                ::core::result::Result::Ok(
                    __linkname_item as unsafe extern $abi fn($($argty),*) $(-> $ret)?,
                )
            }
        }
    };
    ($strategy:ident; $abi:literal; [$($attr:tt)*] $vis:vis $name:ident ( $($arg:ident : $argty:ty),* ) ($($ret:ty)?)
        [$($module:tt)*] $symbol:literal) => {
        $($attr)*
        ///
        /// # Safety
        ///
        #[doc = ::core::concat!(
            "Bound by `linkname!` (", ::core::stringify!($strategy), " strategy) to `", $symbol,
            "`: the symbol must be a function with exactly this signature and the `", $abi,
            "` ABI, its module must stay loaded, and the arguments must satisfy its own \
             contract. The first call resolves the symbol and panics if that fails (use `",
            ::core::stringify!($name), "::resolve()` or `", ::core::stringify!($name),
            "::try_call(..)` to get the error instead)."
        )]
        #[inline]
        $vis unsafe fn $name($($arg: $argty),*) $(-> $ret)? {
            let f = $name::get();
            // SAFETY: the caller guarantees the declared signature matches the symbol's;
            // `f` is its resolved address.
            unsafe { f($($arg),*) }
        }

        $crate::__linkname_fn! {
            @companion $abi; [$($attr)*] $vis $name ( $($arg : $argty),* ) ($($ret)?)
            [$($module)*] $symbol;
            $crate::bind::Binding::new($crate::bind::Spec {
                item: ::core::stringify!($name),
                ty: ::core::stringify!(unsafe extern $abi fn($($argty),*) $(-> $ret)?),
                symbol: $symbol,
                module: $crate::__linkname_selector!($($module)*),
                strategy: $crate::__linkname_strategy!($strategy),
                shape: $crate::bind::Shape::Function,
            });
            {
                let address = Self::binding().address();
                // SAFETY: the resolved, kind-checked, non-null address of a function; a
                // code address fits a fn pointer.
                unsafe {
                    ::core::mem::transmute::<usize, unsafe extern $abi fn($($argty),*) $(-> $ret)?>(address)
                }
            };
            {
                let address = Self::binding().try_address()?;
                // SAFETY: `address` is the non-null runtime address of the function the
                // binding resolved (kind-checked); a code address fits a fn pointer.
                ::core::result::Result::Ok(unsafe {
                    ::core::mem::transmute::<usize, unsafe extern $abi fn($($argty),*) $(-> $ret)?>(address)
                })
            }
        }

    };
}

/// The `static` items of `linkname!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __linkname_static {
    (link; [$($attr:tt)*] $vis:vis $name:ident $ty:ty [$($module:tt)*] $symbol:literal) => {
        $($attr)*
        #[doc = ::core::concat!(
            "\n\nBound by `linkname!` (link strategy) to the object `", $symbol, "`."
        )]
        $vis static $name: $crate::bind::Object<$ty> = {
            const _: () = $crate::bind::assert_link_symbol($symbol);
            $crate::bind::Object::new($crate::bind::Binding::linked(
                $crate::__linkname_static!(@spec $name $ty [$($module)*] $symbol; $crate::bind::Strategy::Link),
                || {
                    unsafe extern "C" {
                        #[link_name = $symbol]
                        static mut __linkname_item: $ty;
                    }
                    (&raw mut __linkname_item) as usize
                },
            ))
        };
    };
    ($strategy:ident; [$($attr:tt)*] $vis:vis $name:ident $ty:ty [$($module:tt)*] $symbol:literal) => {
        $($attr)*
        #[doc = ::core::concat!(
            "\n\nBound by `linkname!` (", ::core::stringify!($strategy),
            " strategy) to the object `", $symbol, "`."
        )]
        $vis static $name: $crate::bind::Object<$ty> = $crate::bind::Object::new(
            $crate::bind::Binding::new(
                $crate::__linkname_static!(@spec $name $ty [$($module)*] $symbol; $crate::__linkname_strategy!($strategy))
            ),
        );
    };
    (@spec $name:ident $ty:ty [$($module:tt)*] $symbol:literal; $strategy:expr) => {
        $crate::bind::Spec {
            item: ::core::stringify!($name),
            ty: ::core::stringify!($ty),
            symbol: $symbol,
            module: $crate::__linkname_selector!($($module)*),
            strategy: $strategy,
            shape: $crate::bind::Shape::Object { size: ::core::mem::size_of::<$ty>() },
        }
    };
}

/// The `thread_local static` items of `linkname!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __linkname_tls {
    (private; [$($attr:tt)*] $vis:vis $name:ident $ty:ty [$($module:tt)*] $symbol:literal) => {
        $($attr)*
        #[doc = ::core::concat!(
            "\n\nBound by `linkname!` (private strategy) to the thread-local variable `",
            $symbol, "`: `ptr()` is the calling thread's copy."
        )]
        $vis static $name: $crate::bind::ThreadLocal<$ty> = $crate::bind::ThreadLocal::new(
            $crate::bind::Binding::new($crate::bind::Spec {
                item: ::core::stringify!($name),
                ty: ::core::stringify!($ty),
                symbol: $symbol,
                module: $crate::__linkname_selector!($($module)*),
                strategy: $crate::bind::Strategy::Private,
                shape: $crate::bind::Shape::ThreadLocal { size: ::core::mem::size_of::<$ty>() },
            }),
        );
    };
    ($other:ident; $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "linkname!: a thread_local static binds through the private strategy (the ELF \
             resolver finds its TLS module and offset), not `",
            ::core::stringify!($other),
            "`"
        ));
    };
}
