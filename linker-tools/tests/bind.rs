//! `linkname!`: each strategy, each error path with its exact error, and concurrent
//! first use resolving exactly once. The fixture library is opened once (`FIXTURE`);
//! bindings naming it by file name (`"libfixture.so"`) first make sure it is loaded.

use std::ffi::{c_char, c_int, c_long};
use std::sync::{Barrier, LazyLock};

use linker_tools::bind::{Selector, Shape, Strategy};
use linker_tools::elf::{ErrorKind, Kind, SymbolIndex};
use linker_tools::linkname;
use linkname_fixtures as fx;

static FIXTURE: LazyLock<libloading::Library> = LazyLock::new(|| {
    // SAFETY: the fixture library's initializers have no side effects.
    unsafe { libloading::Library::new(fx::LIB) }.expect("open the fixture library")
});

/// Loads the fixture library (for bindings that name it rather than `library(..)`).
fn load() {
    LazyLock::force(&FIXTURE);
}

linkname! {
    /// `static int fx_private_add(int, int)` in fx_a.c: `a + b + 1000`.
    unsafe extern "C" fn private_add(a: c_int, b: c_int) -> c_int
        = private(library(&FIXTURE), "fx_private_add");

    /// The same function, named by file name and source file.
    unsafe extern "C" fn private_add_by_name(a: c_int, b: c_int) -> c_int
        = private("libfixture.so", "fx_a.c::fx_private_add");

    /// `static int helper(int)` of fx_a.c (`x + 1`) and of fx_b.c (`x * 2`).
    unsafe extern "C" fn helper_a(x: c_int) -> c_int = private(library(&FIXTURE), "fx_a.c::helper");
    unsafe extern "C" fn helper_b(x: c_int) -> c_int = private(library(&FIXTURE), "fx_b.c::helper");

    /// A hidden global, `a * b`.
    pub(crate) unsafe extern "C" fn hidden_mul(a: c_int, b: c_int) -> c_int
        = private(library(&FIXTURE), "fx_hidden_mul");

    /// The IFUNC: the resolver picks `fx_impl_chosen`, which returns 42.
    unsafe extern "system" fn ifunc(x: c_int) -> c_int = private(library(&FIXTURE), "fx_ifunc");

    /// Each version of `fx_versioned`.
    unsafe extern "C" fn versioned_1() -> c_int = private(library(&FIXTURE), "fx_versioned@FX_1.0");
    unsafe extern "C" fn versioned_2() -> c_int = private(library(&FIXTURE), "fx_versioned@@FX_2.0");

    /// A Rust v0-mangled function by its demangled path (`x + 9`), and a legacy one (`x + 8`).
    unsafe extern "C" fn rust_v0(x: c_int) -> c_int
        = private(library(&FIXTURE), "fx_rust::inner::private_fn");
    unsafe extern "C" fn rust_legacy(x: c_int) -> c_int
        = private(library(&FIXTURE), "fx_rust::inner::legacy_fn");

    /// `static volatile long fx_private_state = 1234`.
    static PRIVATE_STATE: c_long = private(library(&FIXTURE), "fx_private_state");
    /// `static volatile int counter` of fx_a.c (41) and fx_b.c (1000).
    static COUNTER_A: c_int = private(library(&FIXTURE), "fx_a.c::counter");
    static COUNTER_B: c_int = private("libfixture.so", "fx_b.c::counter");
    /// `static volatile unsigned char fx_table[256] = {1, 2, 3}`.
    static TABLE: [u8; 256] = private(library(&FIXTURE), "fx_table");

    /// `__thread int fx_tls_counter = 7` and `static __thread long fx_tls_static = 11`.
    thread_local static TLS_COUNTER: c_int = private(library(&FIXTURE), "fx_tls_counter");
    thread_local static TLS_STATIC: c_long = private(library(&FIXTURE), "fx_tls.c::fx_tls_static");

    // The dynamic strategy: exported names, dlsym / dlvsym.
    unsafe extern "C" fn dyn_a_use(x: c_int) -> c_int = dynamic(library(&FIXTURE), "fx_a_use");
    unsafe extern "C" fn dyn_versioned_1() -> c_int = dynamic("libfixture.so", "fx_versioned@FX_1.0");
    unsafe extern "C" fn dyn_versioned_default() -> c_int = dynamic(library(&FIXTURE), "fx_versioned");
    unsafe extern "C" fn dyn_ifunc() -> c_int = dynamic(library(&FIXTURE), "fx_ifunc");
    unsafe extern "C" fn dyn_labs(x: c_long) -> c_long = dynamic("libc.so.6", "labs");
    unsafe extern "C" fn dyn_any_labs(x: c_long) -> c_long = dynamic(any, "labs");
    static DYN_ENVIRON: *const *const c_char = dynamic("libc.so.6", "environ");

    // The link strategy: the static linker.
    unsafe extern "C" fn link_labs(x: c_long) -> c_long = link(any, "labs");
    unsafe extern "C" fn link_strlen(s: *const c_char) -> usize = link("libc.so.6", "strlen");
    static LINK_ENVIRON: *const *const c_char = link(any, "environ");

    // `any` and `main` with the private strategy.
    unsafe extern "C" fn any_labs(x: c_long) -> c_long = private(any, "labs");
    unsafe extern "C" fn any_private_add(a: c_int, b: c_int) -> c_int = private(any, "fx_private_add");
    static MAIN_BINDING_STATE: u8 = private(main, "bind::MAIN_MARKER");
}

/// A private static of this test binary, found in its `.symtab` by its demangled path.
#[used]
static MAIN_MARKER: u8 = 0xa5;

#[test]
fn private_strategy_calls_static_functions() {
    // SAFETY: all of these are `int f(int, int)` / `int f(int)` in the fixture's C sources.
    unsafe {
        assert_eq!(private_add(2, 3), 1005);
        assert_eq!(helper_a(10), 11);
        assert_eq!(helper_b(10), 20);
        assert_eq!(hidden_mul(6, 7), 42);
        assert_eq!(rust_v0(1), 10);
        assert_eq!(rust_legacy(1), 9);
    }
    load();
    // SAFETY: as above.
    assert_eq!(unsafe { private_add_by_name(1, 1) }, 1002);
    // Both bindings name the same code.
    assert_eq!(
        private_add::binding().resolved().unwrap().address,
        private_add_by_name::binding().resolved().unwrap().address
    );
    let r = private_add::resolve().unwrap();
    let sym = r.symbol.as_ref().unwrap();
    assert_eq!(
        (sym.kind, sym.size, sym.name.as_str()),
        (Kind::Func, 8, "fx_private_add")
    );
    assert_eq!(sym.file.as_deref(), Some("fx_a.c"));
    assert_eq!(sym.module, std::path::Path::new(fx::LIB));
    assert!(r.checked());
}

#[test]
fn private_strategy_resolves_ifuncs_and_versions() {
    // SAFETY: `int fx_ifunc(void)`; the extra argument is ignored by the C callee
    // (x86_64 SysV: extra register arguments are harmless).
    assert_eq!(unsafe { ifunc(0) }, 42);
    let r = ifunc::resolve().unwrap();
    // The IFUNC's implementation was bound, not its resolver.
    assert_eq!(r.symbol.as_ref().unwrap().kind, Kind::Ifunc);
    assert_ne!(r.address as u64, r.symbol.as_ref().unwrap().address);
    // SAFETY: `int fx_versioned(void)`, both versions.
    assert_eq!(unsafe { (versioned_1(), versioned_2()) }, (1, 2));
}

#[test]
fn private_strategy_reads_and_writes_static_variables() {
    // SAFETY: `static volatile long fx_private_state`, `static volatile int counter`;
    // only this test touches them.
    unsafe {
        assert_eq!(PRIVATE_STATE.read(), 1234);
        PRIVATE_STATE.write(4321);
        assert_eq!(PRIVATE_STATE.read(), 4321);
        PRIVATE_STATE.write(1234);
        assert_eq!((COUNTER_A.read(), COUNTER_B.read()), (41, 1000));
        let table = TABLE.as_ref();
        assert_eq!(&table[..4], &[1, 2, 3, 0]);
    }
    let r = TABLE.resolve().unwrap();
    assert_eq!(r.symbol.as_ref().unwrap().size, 256);
    assert_eq!(TABLE.binding().spec().shape, Shape::Object { size: 256 });
}

#[test]
fn private_strategy_gives_each_thread_its_tls_copy() {
    // SAFETY: `__thread int fx_tls_counter = 7`, `static __thread long fx_tls_static = 11`.
    unsafe {
        assert_eq!((TLS_COUNTER.read(), TLS_STATIC.read()), (7, 11));
        TLS_COUNTER.write(100);
        assert_eq!(TLS_COUNTER.read(), 100);
    }
    let here = TLS_COUNTER.ptr() as usize;
    let (there, value) = std::thread::spawn(|| {
        // SAFETY: as above, in a fresh thread: its own copy, initialised to 7.
        (TLS_COUNTER.ptr() as usize, unsafe { TLS_COUNTER.read() })
    })
    .join()
    .unwrap();
    assert_ne!(here, there);
    assert_eq!(value, 7);
    // The C accessor sees this thread's copy through the same address.
    type Get = unsafe extern "C" fn() -> c_int;
    // SAFETY: `int fx_tls_counter_get(void)`.
    let get = unsafe { FIXTURE.get::<Get>(b"fx_tls_counter_get") }.unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { get() }, 100);
}

#[test]
fn private_strategy_with_any_and_main() {
    // SAFETY: `long labs(long)`.
    assert_eq!(unsafe { any_labs(-9) }, 9);
    assert!(
        any_labs::resolve()
            .unwrap()
            .symbol
            .as_ref()
            .unwrap()
            .module
            .to_string_lossy()
            .contains("libc.so.6")
    );
    load();
    // SAFETY: `static int fx_private_add(int, int)`.
    assert_eq!(unsafe { any_private_add(1, 2) }, 1003);
    // SAFETY: a `u8` static of this binary.
    assert_eq!(unsafe { MAIN_BINDING_STATE.read() }, 0xa5);
}

#[test]
fn dynamic_strategy_finds_exported_symbols() {
    // SAFETY: the fixture's `int f(int)` / `int f(void)`, libc's `long labs(long)`.
    unsafe {
        assert_eq!(dyn_a_use(0), 1 + 41 + 1234 + 1000 + 1);
        assert_eq!(dyn_versioned_1(), 1);
        assert_eq!(dyn_versioned_default(), 2);
        assert_eq!(dyn_ifunc(), 42);
        assert_eq!(dyn_labs(-5), 5);
        assert_eq!(dyn_any_labs(-6), 6);
        assert!(!DYN_ENVIRON.read().is_null());
    }
    // dladdr1 saw the .dynsym entries: kind and size were checked.
    let r = dyn_a_use::resolve().unwrap();
    assert!(r.checked());
    assert_eq!(r.symbol.as_ref().unwrap().kind, Kind::Func);
    assert_eq!(
        DYN_ENVIRON.resolve().unwrap().symbol.as_ref().unwrap().size,
        8
    );
    // An IFUNC: dlsym returns the implementation, which has no .dynsym entry.
    assert!(!dyn_ifunc::resolve().unwrap().checked());
    assert_eq!(dyn_a_use::binding().spec().strategy, Strategy::Dynamic);
}

#[test]
fn link_strategy_calls_directly() {
    // SAFETY: libc's `long labs(long)` and `size_t strlen(const char *)`.
    unsafe {
        assert_eq!(link_labs(-3), 3);
        assert_eq!(link_strlen(c"four".as_ptr()), 4);
        assert!(!LINK_ENVIRON.read().is_null());
        assert_eq!(LINK_ENVIRON.read(), DYN_ENVIRON.read());
    }
    // The call path never resolves; `resolve()` records the address and checks it.
    assert_eq!(link_labs::binding().attempts(), 0);
    let r = link_labs::resolve().unwrap();
    assert_eq!(r.address, link_labs::get() as usize);
    assert!(matches!(link_labs::binding().spec().module, Selector::Any));
    // SAFETY: as above.
    assert_eq!(unsafe { link_labs::try_call(-8) }.unwrap(), 8);
}

// ---- errors --------------------------------------------------------------------------

linkname! {
    unsafe extern "C" fn absent() = private(library(&FIXTURE), "fx_no_such_symbol");
    unsafe extern "C" fn absent_dynamic() = dynamic(library(&FIXTURE), "fx_private_add");
    unsafe extern "C" fn absent_version() = dynamic(library(&FIXTURE), "fx_versioned@FX_9.9");
    unsafe extern "C" fn ambiguous() -> c_int = private(library(&FIXTURE), "helper");
    static AMBIGUOUS_COUNTER: c_int = private(library(&FIXTURE), "counter");
    unsafe extern "C" fn wrong_kind() = private(library(&FIXTURE), "fx_private_state");
    static WRONG_KIND_FN: c_int = private(library(&FIXTURE), "fx_private_add");
    static WRONG_KIND_TLS: c_int = private(library(&FIXTURE), "fx_tls_counter");
    thread_local static WRONG_KIND_OBJECT: c_int = private(library(&FIXTURE), "fx_a.c::counter");
    static WRONG_SIZE: c_int = private(library(&FIXTURE), "fx_private_state");
    static WRONG_SIZE_DYNAMIC: u8 = dynamic("libc.so.6", "environ");
    unsafe extern "C" fn unknown_module() = private("libnope.so", "nope");
    unsafe extern "C" fn unknown_module_dynamic() = dynamic("libnope.so", "nope");
    unsafe extern "C" fn demangled_dynamic() = dynamic(library(&FIXTURE), "fx_a.c::helper");
    unsafe extern "C" fn never_resolves() = private(library(&FIXTURE), "fx_never");
}

fn index() -> SymbolIndex {
    SymbolIndex::open(fx::LIB).unwrap()
}

#[test]
fn absent_symbol_is_not_found() {
    let e = absent::resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        format!("{}: no symbol named `fx_no_such_symbol`", fx::LIB)
    );
    // SAFETY: never called: resolution fails first.
    let e = unsafe { absent::try_call() }.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    // dlsym cannot see a static function.
    let e = absent_dynamic::resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(
        e.to_string()
            .starts_with("dlsym found no `fx_private_add` in a libloading::Library: "),
        "{e}"
    );
    let e = absent_version::resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(
        e.to_string().starts_with(
            "dlvsym found no `fx_versioned` of version `FX_9.9` in a libloading::Library: "
        ),
        "{e}"
    );
}

#[test]
fn ambiguous_name_lists_candidates() {
    let idx = index();
    let at = |q: &str| idx.lookup(q).unwrap().address();
    let e = ambiguous::resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ambiguous);
    let (a, b) = (at("fx_a.c::helper"), at("fx_b.c::helper"));
    let (lo, hi) = if a < b {
        (("fx_a.c", a), ("fx_b.c", b))
    } else {
        (("fx_b.c", b), ("fx_a.c", a))
    };
    assert_eq!(
        e.to_string(),
        format!(
            "{}: named `helper` matches 2 distinct symbols:\n  helper (function, Local) in {} at {:#x}\n  \
             helper (function, Local) in {} at {:#x}\npick one with `<file>::helper`, e.g. `{}::helper`",
            fx::LIB,
            lo.0,
            lo.1,
            hi.0,
            hi.1,
            lo.0
        )
    );
    let e = AMBIGUOUS_COUNTER.resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ambiguous);
}

#[test]
fn wrong_kind_is_refused() {
    let e = wrong_kind::resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KindMismatch);
    assert_eq!(
        e.to_string(),
        format!(
            "fx_private_state (an object, STT_OBJECT) in {}: `wrong_kind` is declared as a function; \
             declare it `static`",
            fx::LIB
        )
    );
    let e = WRONG_KIND_FN.resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KindMismatch);
    assert_eq!(
        e.to_string(),
        format!(
            "fx_private_add (a function, STT_FUNC) in {}: `WRONG_KIND_FN` is declared as a static; \
             declare it `unsafe extern \"C\" fn`",
            fx::LIB
        )
    );
    let e = WRONG_KIND_TLS.resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KindMismatch);
    assert_eq!(
        e.to_string(),
        format!(
            "fx_tls_counter@@FX_1.0 (a thread-local variable, STT_TLS) in {}: `WRONG_KIND_TLS` is \
             declared as a static; declare it `thread_local static`",
            fx::LIB
        )
    );
    let e = WRONG_KIND_OBJECT.resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KindMismatch);
    assert_eq!(
        e.to_string(),
        format!(
            "counter (an object, STT_OBJECT) in {}: `WRONG_KIND_OBJECT` is declared as a \
             thread_local static; declare it `static`",
            fx::LIB
        )
    );
}

#[test]
fn wrong_size_is_refused() {
    let e = WRONG_SIZE.resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SizeMismatch);
    assert_eq!(
        e.to_string(),
        format!(
            "fx_private_state (an object, STT_OBJECT) in {} is 8 bytes, but `WRONG_SIZE` is \
             declared as `c_int` (4 bytes)",
            fx::LIB
        )
    );
    assert!(WRONG_SIZE.try_ptr().is_err());
    // The dynamic strategy checks the .dynsym entry's size too.
    let e = WRONG_SIZE_DYNAMIC.resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SizeMismatch);
    assert!(
        e.to_string()
            .ends_with("is 8 bytes, but `WRONG_SIZE_DYNAMIC` is declared as `u8` (1 bytes)"),
        "{e}"
    );
}

#[test]
fn unknown_module_is_refused() {
    let e = unknown_module::resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownModule);
    assert!(
        e.to_string().starts_with(
            "no module `libnope.so` is loaded in this process; select by path, file name, soname or \"main\" among: "
        ),
        "{e}"
    );
    let e = unknown_module_dynamic::resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownModule);
    assert!(
        e.to_string()
            .starts_with("dlopen cannot open `libnope.so`: "),
        "{e}"
    );
}

#[test]
fn dynamic_strategy_refuses_private_query_forms() {
    let e = demangled_dynamic::resolve().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.to_string(),
        "the dynamic strategy looks up exported names (`name`, `name@VER`) with dlsym; \
         `fx_a.c::helper` is a source-file or demangled query: use the private strategy"
    );
}

#[test]
fn failures_are_retried_and_panic_with_the_binding() {
    assert!(never_resolves::resolve().is_err());
    assert!(never_resolves::resolve().is_err());
    assert_eq!(never_resolves::binding().attempts(), 2);
    assert!(never_resolves::binding().resolved().is_none());
    // SAFETY: never called: resolution fails and panics first.
    let panic = std::panic::catch_unwind(|| unsafe { never_resolves() }).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert_eq!(
        *message,
        format!(
            "linkname: cannot bind `never_resolves` to `fx_never` in a libloading::Library \
             (private strategy): {}: no symbol named `fx_never`",
            fx::LIB
        )
    );
    assert_eq!(never_resolves::binding().attempts(), 3);
}

// ---- concurrency -----------------------------------------------------------------------

linkname! {
    /// Used only by the concurrency test.
    unsafe extern "C" fn raced_add(a: c_int, b: c_int) -> c_int = private(library(&FIXTURE), "fx_private_add");
    /// Used only by the concurrency test.
    static RACED_STATE: c_long = private(library(&FIXTURE), "fx_private_state");
}

#[test]
fn concurrent_first_use_resolves_once() {
    load();
    const THREADS: usize = 32;
    let barrier = Barrier::new(THREADS);
    assert_eq!(raced_add::binding().attempts(), 0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let i = i as c_int;
                    // SAFETY: `static int fx_private_add(int, int)`.
                    let sum = unsafe { raced_add(i, 1) };
                    (sum, RACED_STATE.ptr() as usize, i)
                })
            })
            .collect();
        for h in handles {
            let (sum, state, i) = h.join().unwrap();
            assert_eq!(sum, i + 1 + 1000);
            assert_eq!(state, RACED_STATE.binding().resolved().unwrap().address);
        }
    });
    assert_eq!(raced_add::binding().attempts(), 1);
    assert_eq!(RACED_STATE.binding().attempts(), 1);
}

linkname! {
    /// libc's `strlen` (an IFUNC), bound privately.
    unsafe extern "C" fn strlen_private(s: *const c_char) -> usize = private("libc.so.6", "strlen");
}

#[test]
fn private_ifunc_binding_picks_what_the_dynamic_linker_picked() {
    // SAFETY: the symbol is looked up, not called.
    let dl = unsafe {
        libloading::Library::new("libc.so.6")
            .unwrap()
            .get::<*const ()>(b"strlen")
            .map(|s| *s as usize)
    }
    .unwrap();
    assert_eq!(strlen_private::get() as usize, dl);
    // SAFETY: `size_t strlen(const char *)`.
    assert_eq!(unsafe { strlen_private(c"abc".as_ptr()) }, 3);
}
