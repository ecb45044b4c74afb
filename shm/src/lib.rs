//! `shm`: System V shared memory (`shmget`, `shmat`, `shmdt`, `shmctl`) built on the
//! raw syscall core of [`linker_tools::sys`], never on libc's wrappers.
//!
//! The typed segment API and the cross-process channel land with their own issues;
//! today the crate re-exports the kernel-shaped calls it builds on.
#![deny(missing_docs)]

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!("shm supports only Linux on x86_64, like the linker-tools syscall core it is built on");

pub use linker_tools::sys::unchecked::{shmat, shmctl, shmdt, shmget};
