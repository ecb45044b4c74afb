//! The wrappers declared with [`sys!`](crate::sys!) and [`sysnb!`](crate::sysnb!),
//! and safe conveniences over them.
//!
//! Like Go's `syscall_linux.go`, each declaration is one line; blocking calls use
//! `sys!`, calls that cannot block use `sysnb!`. Declarations that take raw pointers
//! live in [`unchecked`], shaped exactly as the kernel takes them; the safe functions
//! here take slices and owned types.

use std::ffi::{CStr, c_void};
use std::os::fd::{BorrowedFd, OwnedFd};

use super::Errno;
use super::types::{
    ClockId, FutexOp, MapFlags, Mode, MremapFlags, OFlags, Pid, PollFd, ProtFlags, Signal,
    Timespec, Timeval, UtsName, Whence,
};

/// `AT_FDCWD`: the current working directory, for the `dirfd` of `*at` calls.
pub const CWD: BorrowedFd<'static> = {
    // SAFETY: AT_FDCWD (-100) is not a descriptor the kernel closes or reuses; it is
    // a sentinel every `*at` call accepts, and BorrowedFd only forbids -1.
    unsafe { BorrowedFd::borrow_raw(-100) }
};

crate::sysnb! {
    /// `getpid(2)`: the calling process's id. Cannot fail.
    pub fn getpid() -> Pid = readonly getpid;
    /// `getppid(2)`: the parent process's id. Cannot fail.
    pub fn getppid() -> Pid = readonly getppid;
    /// `gettid(2)`: the calling thread's id. Cannot fail.
    pub fn gettid() -> Pid = readonly gettid;
    /// `getuid(2)`: the real user id. Cannot fail.
    pub fn getuid() -> u32 = readonly getuid;
    /// `geteuid(2)`: the effective user id. Cannot fail.
    pub fn geteuid() -> u32 = readonly geteuid;
    /// `getgid(2)`: the real group id. Cannot fail.
    pub fn getgid() -> u32 = readonly getgid;
    /// `getegid(2)`: the effective group id. Cannot fail.
    pub fn getegid() -> u32 = readonly getegid;
    /// `kill(2)`: sends `sig` to a process (`pid > 0`), this process group (`0`),
    /// every process it may signal (`-1`) or process group `-pid`.
    ///
    /// Errors: `EINVAL` (bad signal), `EPERM` (not allowed), `ESRCH` (no such process).
    pub fn kill(pid: Pid, sig: Signal) -> Result<()> = kill;
}

crate::sys! {
    /// `close(2)`: closes a descriptor, consuming it.
    ///
    /// The descriptor is released even when an error (`EINTR`, `EIO`) is reported:
    /// never retry a failed `close` on Linux.
    pub fn close(fd: OwnedFd) -> Result<()> = close;
    /// `lseek(2)`: moves the file offset; returns the new offset from the start.
    pub fn lseek(fd: BorrowedFd<'_>, offset: i64, whence: Whence) -> Result<u64> = lseek;
}

/// Kernel-shaped declarations whose pointer arguments the caller vouches for.
///
/// Each takes exactly the arguments the kernel takes; the safe functions in
/// [`sys`](super) wrap the common ones.
pub mod unchecked {
    use super::*;

    crate::sys! {
        /// `read(2)`: reads up to `len` bytes into `buf`.
        ///
        /// # Safety
        ///
        /// `buf` must be valid for writes of `len` bytes, or the call fails with
        /// `EFAULT` only if the kernel can tell (an unmapped page); writing over memory
        /// Rust owns by another name is undefined behaviour.
        pub unsafe fn read(fd: BorrowedFd<'_>, buf: *mut u8, len: usize) -> Result<usize> = read;
        /// `write(2)`: writes up to `len` bytes from `buf`.
        ///
        /// # Safety
        ///
        /// `buf` must be valid for reads of `len` bytes.
        pub unsafe fn write(fd: BorrowedFd<'_>, buf: *const u8, len: usize) -> Result<usize> = readonly write;
        /// `pread64(2)`: reads at `offset` without moving the file offset.
        ///
        /// # Safety
        ///
        /// As for [`read()`].
        pub unsafe fn pread64(fd: BorrowedFd<'_>, buf: *mut u8, len: usize, offset: i64) -> Result<usize> = pread64;
        /// `pwrite64(2)`: writes at `offset` without moving the file offset.
        ///
        /// # Safety
        ///
        /// As for [`write()`].
        pub unsafe fn pwrite64(fd: BorrowedFd<'_>, buf: *const u8, len: usize, offset: i64) -> Result<usize> = readonly pwrite64;
        /// `openat(2)`: opens `path` relative to `dirfd` and returns the new descriptor.
        ///
        /// # Safety
        ///
        /// `path` must point to a NUL-terminated string.
        pub unsafe fn openat(dirfd: BorrowedFd<'_>, path: *const u8, flags: OFlags, mode: Mode) -> Result<OwnedFd> = openat;
        /// `pipe2(2)`: writes the two new descriptors (read end, write end) to `fds`.
        ///
        /// # Safety
        ///
        /// `fds` must be valid for writes of two `i32`s; the caller owns the results.
        pub unsafe fn pipe2(fds: *mut i32, flags: OFlags) -> Result<()> = pipe2;
        /// `poll(2)`: waits up to `timeout_ms` (`-1`: forever) for events on `nfds`
        /// descriptors; returns how many have events.
        ///
        /// # Safety
        ///
        /// `fds` must be valid for reads and writes of `nfds` [`PollFd`]s.
        pub unsafe fn poll(fds: *mut PollFd<'_>, nfds: u64, timeout_ms: i32) -> Result<usize> = poll;
        /// `fcntl(2)`: command `cmd` on `fd` with its third argument as a machine word.
        ///
        /// The safe [`pipe_size`](super::pipe_size) and
        /// [`set_pipe_size`](super::set_pipe_size) wrap the pipe commands.
        ///
        /// # Safety
        ///
        /// For commands that take a pointer (`F_GETLK`, `F_SETOWN_EX`, …), `arg` must be
        /// valid for what `cmd` reads or writes; commands that take an integer have no
        /// requirement beyond the kernel's checks.
        pub unsafe fn fcntl(fd: BorrowedFd<'_>, cmd: i32, arg: usize) -> Result<usize> = fcntl;
        /// `vmsplice(2)`: on the write end of the pipe `fd`, hands it the user pages of
        /// `nr` iovecs (without `SPLICE_F_GIFT` the pipe references the pages; it does
        /// not copy them); on the read end, copies bytes out of the pipe into the iovecs.
        /// Returns the number of bytes moved.
        ///
        /// # Safety
        ///
        /// `iov` must point to `nr` valid `iovec`s (an [`IoSlice`](std::io::IoSlice) is
        /// one, as is an [`IoSliceMut`](std::io::IoSliceMut)). On a write end each must
        /// be valid for reads of its length, and the pipe keeps referring to those pages
        /// after the call returns, until the reader has consumed them: the bytes must
        /// not change (and the memory must not be reused) until then, or the reader sees
        /// the new contents; unmapping is fine, the pipe holds its own reference. On a
        /// read end each must be valid for writes of its length, like the buffer of
        /// [`read`].
        pub unsafe fn vmsplice(fd: BorrowedFd<'_>, iov: *const std::io::IoSlice<'_>, nr: usize, flags: u32) -> Result<usize> = vmsplice;
        /// `shmat(2)`: attaches segment `id` at `addr` (or anywhere, if null).
        ///
        /// # Safety
        ///
        /// With `SHM_REMAP` or a fixed `addr`, the mapping replaces whatever was there:
        /// the range must not hold memory Rust still uses.
        pub unsafe fn shmat(id: i32, addr: *const c_void, flags: i32) -> Result<*mut c_void> = shmat;
        /// `shmdt(2)`: detaches the segment attached at `addr`.
        ///
        /// # Safety
        ///
        /// No reference into the attachment may be used afterwards.
        pub unsafe fn shmdt(addr: *const c_void) -> Result<()> = shmdt;
        /// `shmctl(2)`: control command `cmd` on segment `id` (or the system, for
        /// `IPC_INFO`/`SHM_INFO`), reading or writing `buf`.
        ///
        /// # Safety
        ///
        /// `buf` must be null or valid for the structure `cmd` reads or writes
        /// (`struct shmid64_ds`, `struct shminfo64`, `struct shm_info`).
        pub unsafe fn shmctl(id: i32, cmd: i32, buf: *mut c_void) -> Result<i32> = shmctl;
    }

    crate::sysnb! {
        /// `clock_gettime(2)` into `ts`.
        ///
        /// # Safety
        ///
        /// `ts` must be valid for writing one [`Timespec`].
        pub unsafe fn clock_gettime(clock: ClockId, ts: *mut Timespec) -> Result<()> = clock_gettime;
        /// `gettimeofday(2)` into `tv`; `tz` (obsolete) is null or a `struct timezone`.
        ///
        /// The safe [`sys::gettimeofday`](super::super::gettimeofday) goes through the
        /// vDSO; this is always the system call.
        ///
        /// # Safety
        ///
        /// `tv` must be null or valid for writing one [`Timeval`]; `tz` null or valid for
        /// writing a `struct timezone` (two `i32`s).
        pub unsafe fn gettimeofday(tv: *mut Timeval, tz: *mut c_void) -> Result<()> = gettimeofday;
        /// `time(2)`: seconds since the Epoch (the bits of a signed `time_t`), also
        /// stored at `t` unless it is null. Always the system call (see
        /// [`sys::time`](super::super::time()) for the vDSO one).
        ///
        /// # Safety
        ///
        /// `t` must be null or valid for writing one `i64`.
        pub unsafe fn time(t: *mut i64) -> Result<u64> = time;
        /// `getcpu(2)`: the current CPU and NUMA node into `cpu` and `node`; `cache` is
        /// unused since Linux 2.6.24. Always the system call (see
        /// [`sys::getcpu`](super::super::getcpu) for the vDSO one).
        ///
        /// # Safety
        ///
        /// `cpu` and `node` must each be null or valid for writing one `u32`.
        pub unsafe fn getcpu(cpu: *mut u32, node: *mut u32, cache: *mut c_void) -> Result<()> = getcpu;
        /// `uname(2)` into `buf`.
        ///
        /// # Safety
        ///
        /// `buf` must be valid for writing one [`UtsName`].
        pub unsafe fn uname(buf: *mut UtsName) -> Result<()> = uname;
    }
}

crate::sys! {
    /// `mmap(2)`: maps `len` bytes; returns the address of the mapping.
    ///
    /// # Safety
    ///
    /// With `MapFlags::FIXED`, the new mapping silently replaces whatever was mapped at
    /// `addr`: that range must hold no memory Rust still uses.
    pub unsafe fn mmap(addr: *mut c_void, len: usize, prot: ProtFlags, flags: MapFlags, fd: Option<BorrowedFd<'_>>, offset: u64) -> Result<*mut c_void> = mmap;
    /// `munmap(2)`: unmaps `[addr, addr + len)`.
    ///
    /// # Safety
    ///
    /// No reference into the range may be used afterwards.
    pub unsafe fn munmap(addr: *mut c_void, len: usize) -> Result<()> = munmap;
    /// `mremap(2)`: grows, shrinks or moves a mapping; returns its new address.
    ///
    /// # Safety
    ///
    /// As for [`munmap`] for the old range when the mapping moves or shrinks, and as for
    /// [`mmap`] with `FIXED` for `new_addr` with `MremapFlags::FIXED`.
    pub unsafe fn mremap(old: *mut c_void, old_len: usize, new_len: usize, flags: MremapFlags, new_addr: *mut c_void) -> Result<*mut c_void> = mremap;
    /// `futex(2)`: the six-argument fast-userspace-mutex call.
    ///
    /// Returns the number of woken waiters for wake operations, `0` after a wait.
    ///
    /// # Safety
    ///
    /// `uaddr` (and `uaddr2`, for requeue operations) must point to aligned `u32`s
    /// (atomics) that stay valid for the call, `timeout` must be null or point to a
    /// [`Timespec`]; for shared futexes (no `PRIVATE`), other processes may be woken.
    pub unsafe fn futex(uaddr: *const u32, op: FutexOp, val: u32, timeout: *const Timespec, uaddr2: *const u32, val3: u32) -> Result<usize> = futex;
}

crate::sys! {
    /// `shmget(2)`: the id of the System V segment for `key`, created with `flags`
    /// (`IPC_CREAT`, `IPC_EXCL`, permission bits; kernel-shaped: see the `shm` crate
    /// for the typed API). Values only: it touches no memory of the caller.
    pub fn shmget(key: i32, size: usize, flags: i32) -> Result<i32> = shmget;
}

/// `read(2)` into a slice: returns how many bytes were read (`0` at end of file).
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: a `&mut [u8]` is valid for writes of its length.
    unsafe { unchecked::read(fd, buf.as_mut_ptr(), buf.len()) }
}

/// `write(2)` from a slice: returns how many bytes were written.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: a `&[u8]` is valid for reads of its length.
    unsafe { unchecked::write(fd, buf.as_ptr(), buf.len()) }
}

/// `pread64(2)` into a slice, at `offset`.
#[doc(alias = "pread64")]
pub fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], offset: i64) -> Result<usize, Errno> {
    // SAFETY: a `&mut [u8]` is valid for writes of its length.
    unsafe { unchecked::pread64(fd, buf.as_mut_ptr(), buf.len(), offset) }
}

/// `pwrite64(2)` from a slice, at `offset`.
#[doc(alias = "pwrite64")]
pub fn pwrite(fd: BorrowedFd<'_>, buf: &[u8], offset: i64) -> Result<usize, Errno> {
    // SAFETY: a `&[u8]` is valid for reads of its length.
    unsafe { unchecked::pwrite64(fd, buf.as_ptr(), buf.len(), offset) }
}

/// `openat(2)`: opens `path` relative to `dirfd` ([`CWD`] for the working directory).
pub fn openat(
    dirfd: BorrowedFd<'_>,
    path: &CStr,
    flags: OFlags,
    mode: Mode,
) -> Result<OwnedFd, Errno> {
    // SAFETY: a `&CStr` is NUL-terminated.
    unsafe { unchecked::openat(dirfd, path.as_ptr().cast(), flags, mode) }
}

/// `pipe2(2)`: a new pipe as (read end, write end).
pub fn pipe2(flags: OFlags) -> Result<(OwnedFd, OwnedFd), Errno> {
    use std::os::fd::FromRawFd;
    let mut fds = [-1i32; 2];
    // SAFETY: `fds` is valid for writes of two i32s.
    unsafe { unchecked::pipe2(fds.as_mut_ptr(), flags)? };
    // SAFETY: on success the kernel stored two new descriptors that nobody owns yet.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// `poll(2)` on a slice of [`PollFd`]s: waits up to `timeout_ms` milliseconds (`0`:
/// never blocks, `-1`: forever) and returns how many have events; each one's
/// [`revents`](PollFd::revents) says which.
///
/// Errors: `EINTR` (a signal arrived), `EINVAL` (more descriptors than
/// `RLIMIT_NOFILE`), `ENOMEM`.
pub fn poll(fds: &mut [PollFd<'_>], timeout_ms: i32) -> Result<usize, Errno> {
    // SAFETY: a `&mut [PollFd]` is valid for reads and writes of its length.
    unsafe { unchecked::poll(fds.as_mut_ptr(), fds.len() as u64, timeout_ms) }
}

/// `F_GETPIPE_SZ`.
const F_GETPIPE_SZ: i32 = 1032;
/// `F_SETPIPE_SZ`.
const F_SETPIPE_SZ: i32 = 1031;

/// `fcntl(fd, F_GETPIPE_SZ)`: the capacity of the pipe `fd`, in bytes.
///
/// Errors: `EBADF` when `fd` is not a pipe (the kernel's answer for any other file).
pub fn pipe_size(fd: BorrowedFd<'_>) -> Result<usize, Errno> {
    // SAFETY: F_GETPIPE_SZ takes no argument and reads or writes no memory.
    unsafe { unchecked::fcntl(fd, F_GETPIPE_SZ, 0) }
}

/// `fcntl(fd, F_SETPIPE_SZ, size)`: sets the capacity of the pipe `fd` to at least
/// `size` bytes (the kernel rounds up to a power-of-two number of pages) and returns
/// the capacity it set.
///
/// Errors: `EBADF` (not a pipe), `EBUSY` (`size` below the bytes the pipe holds),
/// `EPERM` (above `/proc/sys/fs/pipe-max-size` without `CAP_SYS_RESOURCE`), `EINVAL`
/// (too large to represent).
pub fn set_pipe_size(fd: BorrowedFd<'_>, size: usize) -> Result<usize, Errno> {
    // SAFETY: F_SETPIPE_SZ takes an integer and reads or writes no memory.
    unsafe { unchecked::fcntl(fd, F_SETPIPE_SZ, size) }
}

/// `uname(2)`: the kernel's name, release, version and machine.
pub fn uname() -> Result<UtsName, Errno> {
    let mut buf = UtsName::default();
    // SAFETY: `buf` is a valid, writable UtsName.
    unsafe { unchecked::uname(&mut buf)? };
    Ok(buf)
}
