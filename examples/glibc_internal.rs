//! Call functions glibc has but does not export, found through its separate debug file
//! (Debian's `libc6-dbg`, under `/usr/lib/debug/.build-id/xx/yyyy.debug`), and show that
//! `dlsym` cannot find them.
//!
//! ```text
//! cargo run --example glibc_internal
//! ```
//!
//! The functions are pure and harmless:
//! - `_itoa_word(value, buflim, base, upper)`, glibc's integer formatter (`printf`'s
//!   `%d`/`%x` use it): writes the digits backwards ending at `buflim`, returns the first;
//! - `__strlen_sse2`, the SSE2 implementation of `strlen` that the IFUNC can pick;
//! - `_itoa_lower_digits`, the digit table it reads: an object glibc exports only as
//!   `GLIBC_PRIVATE` (for its own libraries), so `dlsym` does find that one.

use std::ffi::{c_char, c_int, c_uint, c_ulong};

use linkname::linker_tools::elf::SymbolSource;
use linkname::linker_tools::{bind, process};
use linkname::linkname;

linkname! {
    /// `char *_itoa_word(unsigned long value, char *buflim, unsigned int base, int upper_case)`.
    unsafe extern "C" fn itoa_word(value: c_ulong, buflim: *mut c_char, base: c_uint, upper_case: c_int)
        -> *mut c_char = private("libc.so.6", "_itoa_word");

    /// `size_t __strlen_sse2(const char *)`.
    unsafe extern "C" fn strlen_sse2(s: *const c_char) -> usize = private("libc.so.6", "__strlen_sse2");

    /// `const char _itoa_lower_digits[36]`: "0123456789abcdefghijklmnopqrstuvwxyz".
    static ITOA_LOWER_DIGITS: [u8; 36] = private("libc.so.6", "_itoa_lower_digits");
}

fn itoa(value: u64, base: u32) -> Result<String, linkname::linker_tools::elf::Error> {
    let mut buf = [0 as c_char; 65];
    let end = buf.as_mut_ptr_range().end;
    // SAFETY: `_itoa_word` writes at most 64 digits (base 2 of a u64) backwards from
    // `end`, inside `buf`, and returns a pointer into it; base is in 2..=36.
    let start = unsafe { itoa_word::try_call(value, end, base, 0) }?;
    // SAFETY: `start..end` lies in `buf` (above) and holds ASCII digits.
    let digits =
        unsafe { std::slice::from_raw_parts(start.cast::<u8>(), end.offset_from(start) as usize) };
    Ok(String::from_utf8_lossy(digits).into_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let libc_module = process::find("libc.so.6")?;
    let index = bind::resolver().index(&libc_module)?;
    println!(
        "libc: {} (build-id {})",
        libc_module.path.display(),
        libc_module.build_id_hex()
    );
    match index.source() {
        SymbolSource::DebugFile(p) => println!("symbols from its debug file: {}", p.display()),
        other => println!("symbols from: {other:?} (install libc6-dbg for the internal names)"),
    }

    // dlsym only sees .dynsym: the two functions are not in it.
    // SAFETY: libc is already loaded; opening it again runs no initializer.
    let libc = unsafe { libloading::Library::new("libc.so.6") }?;
    for name in [
        "_itoa_word",
        "__strlen_sse2",
        "_itoa_lower_digits",
        "strlen",
    ] {
        // SAFETY: only the lookup's success is inspected; nothing is called or read.
        let found = unsafe { libc.get::<*const ()>(name.as_bytes()) };
        println!(
            "dlsym(libc, {name:?}): {}",
            if found.is_ok() { "found" } else { "not found" }
        );
    }

    for (item, r) in [
        ("itoa_word", itoa_word::resolve()?),
        ("strlen_sse2", strlen_sse2::resolve()?),
        ("ITOA_LOWER_DIGITS", ITOA_LOWER_DIGITS.resolve()?),
    ] {
        let s = r
            .symbol
            .as_ref()
            .expect("the private strategy reports the symbol");
        println!(
            "bound {item:<17} -> {} ({} {:?}, {} bytes) at {:#x} (file address {:#x})",
            s.name,
            s.kind.elf_name(),
            s.kind,
            s.size,
            r.address,
            s.file_address
        );
    }

    for (value, base) in [(1234567890u64, 10), (0xdead_beef, 16), (255, 2), (35, 36)] {
        let ours = itoa(value, base)?;
        let expected = match base {
            10 => format!("{value}"),
            16 => format!("{value:x}"),
            2 => format!("{value:b}"),
            _ => "z".to_owned(),
        };
        println!("_itoa_word({value}, base {base}) = {ours:?}");
        assert_eq!(ours, expected);
    }

    let text = c"the Rust analogue of go:linkname";
    // SAFETY: `text` is NUL-terminated; __strlen_sse2 needs only SSE2 (x86_64 baseline).
    let n = unsafe { strlen_sse2(text.as_ptr()) };
    println!("__strlen_sse2({text:?}) = {n}");
    assert_eq!(n, text.count_bytes());

    // SAFETY: a read-only table of 36 ASCII bytes; nothing writes it.
    let digits = unsafe { ITOA_LOWER_DIGITS.as_ref() };
    println!("_itoa_lower_digits = {:?}", std::str::from_utf8(digits)?);
    assert_eq!(digits, b"0123456789abcdefghijklmnopqrstuvwxyz");
    Ok(())
}
