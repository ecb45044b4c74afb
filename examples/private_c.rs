//! Call a `static` C function and read a `static` C variable of a shared library: the
//! fixture library (`fixtures/c/fx_a.c`), opened with `libloading`.
//!
//! ```text
//! cargo run --example private_c
//! ```
//!
//! `dlsym` cannot reach either symbol (they are `STB_LOCAL`, in `.symtab` only); the
//! `private` strategy of `linkname!` finds them with the ELF resolver, and picks
//! `counter` of `fx_a.c` among the two files that define one.

use std::ffi::{c_int, c_long};
use std::sync::LazyLock;

use linkname::linkname;

static FIXTURE: LazyLock<libloading::Library> = LazyLock::new(|| {
    // SAFETY: the fixture library's initializers have no side effects.
    unsafe { libloading::Library::new(linkname_fixtures::LIB) }.expect("open the fixture library")
});

linkname! {
    /// `static int fx_private_add(int a, int b)`: `a + b + 1000`.
    unsafe extern "C" fn fx_private_add(a: c_int, b: c_int) -> c_int
        = private(library(&FIXTURE), "fx_private_add");

    /// `static int helper(int)` — both fx_a.c (`x + 1`) and fx_b.c (`x * 2`) define one.
    unsafe extern "C" fn helper_b(x: c_int) -> c_int = private(library(&FIXTURE), "fx_b.c::helper");

    /// `static volatile long fx_private_state = 1234`.
    static FX_PRIVATE_STATE: c_long = private(library(&FIXTURE), "fx_private_state");

    /// `static volatile int counter = 41` of fx_a.c (fx_b.c has another, 1000).
    static COUNTER_A: c_int = private(library(&FIXTURE), "fx_a.c::counter");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("library: {}", linkname_fixtures::LIB);

    // What dlsym says: the symbols are not exported.
    for name in ["fx_private_add", "fx_private_state"] {
        // SAFETY: only the lookup's success is inspected; nothing is called or read.
        let found = unsafe { FIXTURE.get::<*const ()>(name.as_bytes()) };
        println!(
            "dlsym({name:?}): {}",
            match found {
                Ok(_) => "found".to_owned(),
                Err(e) => format!("not found ({e})"),
            }
        );
    }

    // Resolve early, to show what was bound and fail with a typed error otherwise.
    for (item, r) in [
        ("fx_private_add", fx_private_add::resolve()?),
        ("helper_b", helper_b::resolve()?),
        ("FX_PRIVATE_STATE", FX_PRIVATE_STATE.resolve()?),
        ("COUNTER_A", COUNTER_A.resolve()?),
    ] {
        let s = r
            .symbol
            .as_ref()
            .expect("the private strategy reports the symbol");
        println!(
            "bound {item:<16} -> {} ({}, {} bytes, {:?} {}, {}) at {:#x}",
            s.name,
            s.kind,
            s.size,
            s.file.as_deref().unwrap_or("?"),
            s.kind.elf_name(),
            s.module.display(),
            r.address
        );
    }

    // SAFETY: the C signature is `static int fx_private_add(int, int)`.
    let sum = unsafe { fx_private_add(2, 3) };
    println!("fx_private_add(2, 3) = {sum}");
    assert_eq!(sum, 1005);
    // SAFETY: `static int helper(int)` of fx_b.c.
    let doubled = unsafe { helper_b(21) };
    println!("fx_b.c::helper(21) = {doubled}");
    assert_eq!(doubled, 42);

    // SAFETY: `static volatile long fx_private_state`; nothing else runs the library's
    // code meanwhile.
    let state = unsafe { FX_PRIVATE_STATE.read() };
    println!("fx_private_state = {state}");
    assert_eq!(state, 1234);
    // SAFETY: as above; `.data` is writable.
    unsafe { FX_PRIVATE_STATE.write(state + 1) };
    // The library's own code sees the write: fx_a_use adds fx_private_state.
    type Use = unsafe extern "C" fn(c_int) -> c_int;
    // SAFETY: `int fx_a_use(int)`, exported.
    let fx_a_use = unsafe { FIXTURE.get::<Use>(b"fx_a_use") }?;
    // SAFETY: as above.
    let used = unsafe { fx_a_use(0) };
    println!(
        "after writing {}: fx_a_use(0) = {used} (it adds fx_private_state)",
        state + 1
    );
    assert_eq!(used, 1 + 41 + 1235 + 1000 + 1);

    // SAFETY: `static volatile int counter` of fx_a.c.
    let counter = unsafe { COUNTER_A.read() };
    println!("fx_a.c::counter = {counter}");
    assert_eq!(counter, 41);
    Ok(())
}
