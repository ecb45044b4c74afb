//! `linkname`: reach the APIs a platform has but does not export.
//!
//! The Rust analogue of Go's `//go:linkname` and `syscall` machinery. This facade
//! re-exports the workspace crates:
//!
//! | path | crate | what |
//! |---|---|---|
//! | [`sys`](mod@sys) | `linker-tools` | the raw syscall core: `syscall0..6`, [`sys::Errno`], [`sys::Sysno`], `sys!`/`sysnb!` declarations, the observer hook |
//! | [`shm`] | `shm` | System V shared memory on that core |
//!
//! ```
//! let uts = linkname::sys::uname().unwrap();
//! assert_eq!(uts.sysname().to_str(), Ok("Linux"));
//! ```
#![deny(missing_docs)]

pub use linker_tools::{self, sys, sysnb};
pub use linker_tools::{bind, linkname};
pub use shm;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
