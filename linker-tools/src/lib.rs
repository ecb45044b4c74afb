//! `linker-tools`: reach the APIs a platform has but does not export.
//!
//! | module | purpose |
//! |---|---|
//! | [`sys`](mod@sys) | the raw syscall core: inline-asm `syscall0..6`, [`Errno`](sys::Errno) decoding, the generated [`Sysno`](sys::Sysno) and errno tables, one-line typed wrapper declarations ([`sys!`], [`sysnb!`]) with an observer hook |
//! | [`elf`] | the ELF symbol index over `.symtab` + `.dynsym` (versions, demangled names, source files of statics, address lookup) and separate debug files (build-id, `.gnu_debuglink`, MiniDebugInfo) |
//! | [`process`] | the modules loaded in this process (`dl_iterate_phdr`) or another (`/proc/PID/maps`): path, load bias, build-id, TLS module id |
//! | [`resolve`] | [`Resolver`](resolve::Resolver): module + symbol query → runtime address, for functions, objects, IFUNCs and TLS, with build-id checks and typed refusals |
//! | [`bind`] | [`linkname!`]: typed Rust `fn`s and `static`s bound to symbols (exported, hidden, local, thread-local) by link time, `dlsym` or the [`resolve`] resolver; lazy, once, checked |
//! | [`vdso`] | the vDSO image (`AT_SYSINFO_EHDR`) indexed with the same [`elf::SymbolIndex`], for inspection (the core's time calls use their own allocation-free [`sys::vdso`] lookup) |
//!
//! # Features
//!
//! Build only what you use. `sys` is always there and needs nothing but `bitflags`;
//! with `default-features = false` it is the whole crate (the `shm` crate uses it so).
//!
//! | feature | adds | on top of |
//! |---|---|---|
//! | `elf` | [`elf`] (`object`, `memmap2`, the demanglers, `lzma-rs`, `crc32fast`) | — |
//! | `vdso` | [`vdso`] | `elf` |
//! | `process` | [`process`] | `elf` |
//! | `resolve` | [`resolve`] | `process`, `vdso` |
//! | `bind` (default) | [`bind`], [`linkname!`] | `resolve` |
//!
//! The crate builds only for Linux on x86_64; on any other target it fails with a
//! `compile_error!` naming the supported platform.
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "linker-tools supports only Linux on x86_64 (target_os = \"linux\", target_arch = \"x86_64\"); \
     its syscall core is x86_64 inline assembly and its syscall table is the x86_64 one"
);

#[cfg(feature = "bind")]
pub mod bind;
#[cfg(feature = "elf")]
pub mod elf;
#[cfg(feature = "process")]
pub mod process;
#[cfg(feature = "resolve")]
pub mod resolve;
pub mod sys;
#[cfg(feature = "vdso")]
pub mod vdso;
