//! Call private Rust functions of this binary, named by their demangled paths, and read a
//! private Rust static: Rust's own `//go:linkname`.
//!
//! ```text
//! cargo run --example rust_private
//! ```
//!
//! `secret` keeps its items private (no `pub`): the rest of the crate cannot name them.
//! They still exist in the executable's `.symtab` under mangled names
//! (`_ZN12rust_private6secret3mix17h…E`), and the `private` strategy finds them by
//! their demangled path `rust_private::secret::mix`. They are `extern "Rust"`: same
//! compiler, same build, so the (unstable) Rust ABI matches. Each is `#[inline(never)]`
//! and kept by a `#[used]` static holding its address, so it is not inlined away; the
//! example's binary is not stripped (Cargo's default for examples).

use linkname::linkname;

mod secret {
    /// A private function: a 64-bit mix (splitmix64's finaliser) of `a` and `b`.
    #[inline(never)]
    fn mix(a: u64, b: u64) -> u64 {
        let mut z = a ^ b.rotate_left(17);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A private function with Rust types in its signature.
    #[inline(never)]
    fn greet(name: &str, times: usize) -> String {
        format!("hello, {name}{}", "!".repeat(times))
    }

    /// A private static.
    #[used]
    static SECRET_SEED: u64 = 0x5eed_1234_abcd_0042;

    /// Keeps the functions' symbols: their addresses are stored in the binary.
    #[used]
    static KEEP: (Mix, Greet) = (mix, greet);
    type Mix = fn(u64, u64) -> u64;
    type Greet = fn(&str, usize) -> String;

    /// What a caller allowed to name them gets (to compare with the bindings).
    pub(crate) fn expected() -> (u64, String) {
        (mix(1, 2), greet("linkname", 3))
    }
}

linkname! {
    /// `rust_private::secret::mix`, private to `secret`.
    unsafe extern "Rust" fn mix(a: u64, b: u64) -> u64 = private(main, "rust_private::secret::mix");

    /// `rust_private::secret::greet`, private to `secret`.
    unsafe extern "Rust" fn greet(name: &str, times: usize) -> String
        = private(main, "rust_private::secret::greet");

    /// `rust_private::secret::SECRET_SEED`, private to `secret`.
    static SECRET_SEED: u64 = private(main, "rust_private::secret::SECRET_SEED");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("executable: {}", std::env::current_exe()?.display());
    for binding in [mix::binding(), greet::binding(), SECRET_SEED.binding()] {
        let r = binding.resolve()?;
        let s = r
            .symbol
            .as_ref()
            .expect("the private strategy reports the symbol");
        println!(
            "bound {:<11} -> {} = {} ({}, {} bytes) at {:#x}",
            binding.spec().item,
            binding.spec().symbol,
            s.name,
            s.kind.elf_name(),
            s.size,
            r.address
        );
    }

    // SAFETY: `fn mix(u64, u64) -> u64` and `fn greet(&str, usize) -> String` of this
    // very binary, built by the same compiler: the Rust ABI matches.
    let (mixed, greeting) = unsafe { (mix(1, 2), greet("linkname", 3)) };
    println!("secret::mix(1, 2) = {mixed:#018x}");
    println!("secret::greet(\"linkname\", 3) = {greeting:?}");
    let (expected_mix, expected_greeting) = secret::expected();
    assert_eq!((mixed, greeting), (expected_mix, expected_greeting));

    // SAFETY: a `u64` static; nothing writes it.
    let seed = unsafe { SECRET_SEED.read() };
    println!("secret::SECRET_SEED = {seed:#x}");
    assert_eq!(seed, 0x5eed_1234_abcd_0042);
    Ok(())
}
