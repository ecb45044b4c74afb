//! Resolve and call the fixture library's statics, IFUNC and TLS in this process.

use std::sync::{Arc, OnceLock};

use linker_tools::elf::{DebugSearch, ErrorKind};
use linker_tools::process::{self, Module};
use linker_tools::resolve::Resolver;
use linkname_fixtures as fx;

/// The fixture library, opened once for the whole test binary.
fn lib() -> &'static (libloading::Library, Module) {
    static LIB: OnceLock<(libloading::Library, Module)> = OnceLock::new();
    LIB.get_or_init(|| {
        // SAFETY: the fixture library has no constructors with side effects.
        let lib = unsafe { libloading::Library::new(fx::LIB) }.unwrap();
        let module = process::find(fx::LIB).unwrap();
        (lib, module)
    })
}

fn exported<T: Copy>(name: &[u8]) -> T {
    // SAFETY: the tests name the fixture's exported functions with their C types.
    unsafe { *lib().0.get::<T>(name).unwrap() }
}

#[test]
fn static_functions_are_callable() {
    let (_, m) = lib();
    let r = Resolver::new();
    // SAFETY: fx_private_add is `static int fx_private_add(int, int)` in fx_a.c.
    let add: extern "C" fn(i32, i32) -> i32 =
        unsafe { std::mem::transmute(r.function(m, "fx_private_add").unwrap() as usize) };
    assert_eq!(add(2, 3), 1005);
    // SAFETY: both helpers are `static int helper(int)`.
    let ha: extern "C" fn(i32) -> i32 =
        unsafe { std::mem::transmute(r.function(m, "fx_a.c::helper").unwrap() as usize) };
    // SAFETY: as above.
    let hb: extern "C" fn(i32) -> i32 =
        unsafe { std::mem::transmute(r.function(m, "fx_b.c::helper").unwrap() as usize) };
    assert_eq!((ha(10), hb(10)), (11, 20));
    // The hidden function.
    // SAFETY: `int fx_hidden_mul(int, int)`.
    let mul: extern "C" fn(i32, i32) -> i32 =
        unsafe { std::mem::transmute(r.function(m, "fx_hidden_mul").unwrap() as usize) };
    assert_eq!(mul(6, 7), 42);
    // An exported function resolves to what dlsym gives.
    let via_dlsym: extern "C" fn(i32) -> i32 = exported(b"fx_b_use\0");
    // SAFETY: plain function, no IFUNC: nothing is called.
    let ours = unsafe { r.function(m, "fx_b_use") }.unwrap();
    assert_eq!(ours, via_dlsym as usize as u64);
}

#[test]
fn static_variables_read_and_write() {
    let (_, m) = lib();
    let r = Resolver::new();
    let b_counter = r.object(m, "fx_b.c::counter").unwrap() as *mut i32;
    let a_counter = r.object(m, "fx_a.c::counter").unwrap() as *mut i32;
    let b_use: extern "C" fn(i32) -> i32 = exported(b"fx_b_use\0");
    // SAFETY: `static volatile int counter` of fx_b.c, 4 bytes, only this test writes it.
    unsafe {
        assert_eq!(b_counter.read_volatile(), 1000);
        assert_eq!(a_counter.read_volatile(), 41);
        // fx_b_use(x) = helper(x) + counter = 2x + counter.
        assert_eq!(b_use(1), 1002);
        b_counter.write_volatile(5000);
        assert_eq!(b_use(1), 5002);
        b_counter.write_volatile(1000);
    }
    let state = r.object(m, "fx_private_state").unwrap() as *const i64;
    // SAFETY: `static volatile long fx_private_state = 1234`.
    assert_eq!(unsafe { state.read_volatile() }, 1234);
}

#[test]
fn ifunc_resolves_to_its_implementation() {
    let (_, m) = lib();
    let r = Resolver::new();
    let located = r.locate(m, "fx_ifunc").unwrap();
    assert_eq!(located.kind, linker_tools::elf::Kind::Ifunc);
    // SAFETY: the fixture's IFUNC resolver takes no arguments and returns fx_impl_chosen.
    let imp = unsafe { r.function(m, "fx_ifunc") }.unwrap();
    assert_ne!(
        imp, located.address,
        "the resolver is not the implementation"
    );
    // SAFETY: plain static function.
    assert_eq!(imp, unsafe { r.function(m, "fx_impl_chosen") }.unwrap());
    // SAFETY: `static int fx_impl_chosen(void)`.
    let f: extern "C" fn() -> i32 = unsafe { std::mem::transmute(imp as usize) };
    assert_eq!(f(), 42);
    // dlsym gives the same implementation (the loader ran the resolver for it).
    let via_dlsym: extern "C" fn() -> i32 = exported(b"fx_ifunc\0");
    assert_eq!(via_dlsym as usize as u64, imp);
}

#[test]
fn tls_is_per_thread() {
    let (_, m) = lib();
    let r = Arc::new(Resolver::new());
    let get: extern "C" fn() -> i32 = exported(b"fx_tls_counter_get\0");
    let get_static: extern "C" fn() -> i64 = exported(b"fx_tls_static_get\0");
    let run = move |r: &Resolver, value: i32| {
        // SAFETY: the library stays loaded (static handle); fx_tls_counter is `__thread int`.
        let p = unsafe { r.tls(m, "fx_tls_counter") }.unwrap() as *mut i32;
        // SAFETY: `static __thread volatile long fx_tls_static`.
        let s = unsafe { r.tls(m, "fx_tls_static") }.unwrap() as *mut i64;
        // SAFETY: this thread's copies, valid for the thread's life.
        unsafe {
            assert_eq!(p.read_volatile(), 7, "initial value in a new thread");
            assert_eq!(s.read_volatile(), 11);
            p.write_volatile(value);
            s.write_volatile(i64::from(value) * 2);
        }
        assert_eq!(get(), value, "the library sees this thread's write");
        assert_eq!(get_static(), i64::from(value) * 2);
        p as usize
    };
    // All threads stay alive until every one has its address, so none can reuse
    // another's freed TLS block.
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let (r, barrier) = (r.clone(), barrier.clone());
            std::thread::spawn(move || {
                let a = run(&r, 100 + i);
                barrier.wait();
                a
            })
        })
        .collect();
    let mine = run(&r, 99);
    barrier.wait();
    let addrs: Vec<usize> = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .chain([mine])
        .collect();
    let distinct: std::collections::BTreeSet<_> = addrs.iter().collect();
    assert_eq!(distinct.len(), addrs.len(), "each thread has its own copy");
}

#[test]
fn refusals_are_typed_and_name_the_alternatives() {
    let (_, m) = lib();
    let r = Resolver::new();
    // SAFETY: refused before any call.
    let err = unsafe { r.function(m, "fx_a.c::counter") }.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KindMismatch);
    assert!(err.to_string().contains("Resolver::object"), "{err}");
    let err = r.object(m, "fx_private_add").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KindMismatch);
    let err = r.object(m, "counter").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ambiguous);
    assert!(
        err.to_string().contains("fx_a.c") && err.to_string().contains("fx_b.c"),
        "{err}"
    );
    assert_eq!(
        r.locate(m, "fx_nothing").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        r.locate(m, "__cxa_finalize").unwrap_err().kind(),
        ErrorKind::Undefined
    );
    assert_eq!(
        r.locate_in("libnothing.so", "x").unwrap_err().kind(),
        ErrorKind::UnknownModule
    );
}

#[test]
fn stale_file_is_refused_by_build_id() {
    let (_, m) = lib();
    let r = Resolver::new();
    // Pretend the loaded image had another build-id: the file on disk no longer matches.
    let mut stale = m.clone();
    stale.build_id = Some(vec![0xde, 0xad, 0xbe, 0xef]);
    let err = r.locate(&stale, "fx_private_add").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BuildIdMismatch);
    assert!(
        err.to_string().contains("deadbeef") && err.to_string().contains(fx::LIB_BUILD_ID),
        "{err}"
    );
}

#[test]
fn stripped_file_resolves_through_its_debug_file() {
    let (_, m) = lib();
    // The loaded image is LIB; a stripped copy with the same build-id plus the
    // build-id debug dir gives the same runtime addresses.
    let mut stripped = m.clone();
    stripped.path = fx::BUILD_ID_LIB.into();
    let r = Resolver::with_search(DebugSearch::new().with_dirs([fx::BUILD_ID_ROOT]));
    let full = Resolver::new();
    for q in ["fx_private_add", "fx_a.c::counter", "fx_hidden_mul"] {
        assert_eq!(
            r.locate(&stripped, q).unwrap().address,
            full.locate(m, q).unwrap().address,
            "{q}"
        );
    }
}

#[test]
fn resolver_is_shared_across_threads_and_caches() {
    let (_, m) = lib();
    let r = Arc::new(Resolver::new());
    let first = r.index(m).unwrap();
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            std::thread::spawn(move || {
                assert!(Arc::ptr_eq(&r.index(m).unwrap(), &r.index(m).unwrap()));
                r.object(m, "fx_a.c::counter").unwrap()
            })
        })
        .collect();
    let addrs: std::collections::BTreeSet<u64> =
        hs.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(addrs.len(), 1);
    assert!(Arc::ptr_eq(&first, &r.index(m).unwrap()));
}

#[test]
fn mangled_statics_are_callable_by_demangled_path() {
    let (_, m) = lib();
    let r = Resolver::new();
    for (path, add) in [
        ("fx::detail::helper", 7),
        ("fx_rust::inner::legacy_fn", 8),
        ("fx_rust::inner::private_fn", 9),
    ] {
        // SAFETY: each is `static int f(int)` in fx_mangled.c.
        let f: extern "C" fn(i32) -> i32 =
            unsafe { std::mem::transmute(r.function(m, path).unwrap() as usize) };
        assert_eq!(f(100), 100 + add, "{path}");
    }
}
