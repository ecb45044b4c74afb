//! Shared helpers: libc result decoding, temporary directories, inaccessible memory,
//! and wrappers declared on raw descriptor numbers.

use std::ffi::{CString, c_void};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::table::Outcome;

/// The calling thread's `errno`, read right after a libc call returned `-1`.
pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Decodes a libc return value: `-1` is `Err(errno)`, anything else `Ok`.
pub(crate) fn lc(r: i64) -> Outcome<i64> {
    if r == -1 { Err(errno()) } else { Ok(r) }
}

/// Decodes a libc call that returns a new descriptor.
pub(crate) fn lc_fd(r: i32) -> Outcome<OwnedFd> {
    // SAFETY: on success the C library returned a fresh descriptor nobody owns.
    lc(r.into()).map(|fd| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// A pointer into page zero, which is never mapped (`vm.mmap_min_addr`).
pub(crate) const LOW_PTR: usize = 8;
/// A pointer into the kernel half of the address space.
pub(crate) const KERNEL_PTR: usize = 0xffff_8000_0000_1000;
/// A descriptor number beyond any open descriptor (and beyond the usual limits).
pub(crate) const HUGE_FD: i32 = 1 << 20;
/// A descriptor number that [`closed_fd`] makes sure is closed.
pub(crate) const CLOSED_FD: i32 = 987;

/// [`CLOSED_FD`], after making sure it was open once and is closed now. Other threads
/// get the lowest free numbers, so nobody reuses it while the test runs.
pub(crate) fn closed_fd() -> i32 {
    use std::os::fd::AsRawFd;
    let null = open(c"/dev/null", libc::O_RDONLY);
    // SAFETY: dup2 onto a number this test reserves, then close that number; no other
    // owner uses descriptor CLOSED_FD.
    unsafe {
        assert_eq!(libc::dup2(null.as_raw_fd(), CLOSED_FD), CLOSED_FD);
        assert_eq!(libc::close(CLOSED_FD), 0);
    }
    CLOSED_FD
}

/// A `PROT_NONE` mapping: addresses that exist but that the kernel cannot copy to or
/// from (`EFAULT`), and that no other thread can map over while it lives.
pub(crate) struct NoAccess {
    addr: *mut c_void,
    len: usize,
}

impl NoAccess {
    pub(crate) fn new() -> Self {
        let len = 2 * 4096;
        // SAFETY: a fresh anonymous mapping replaces nothing.
        let addr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(
            addr,
            libc::MAP_FAILED,
            "mmap PROT_NONE: {}",
            std::io::Error::last_os_error()
        );
        Self { addr, len }
    }

    pub(crate) fn addr(&self) -> usize {
        self.addr as usize
    }
}

impl Drop for NoAccess {
    fn drop(&mut self) {
        // SAFETY: exactly the mapping `new` made; nothing references it.
        unsafe { libc::munmap(self.addr, self.len) };
    }
}

/// A directory under `std::env::temp_dir()` with a unique name, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "linkname-{tag}-{}-{nanos}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// The absolute path of `name` inside the directory, as a C string.
    pub(crate) fn c(&self, name: &str) -> CString {
        use std::os::unix::ffi::OsStrExt;
        CString::new(self.0.join(name).as_os_str().as_bytes()).expect("no NUL in temp path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens `path` with libc (setup only, never under test); panics on failure.
pub(crate) fn open(path: &std::ffi::CStr, flags: i32) -> OwnedFd {
    // SAFETY: `path` is NUL-terminated; the mode is read only with O_CREAT.
    let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, 0o644) };
    assert!(
        fd >= 0,
        "open {path:?}: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: a fresh descriptor nobody owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A pipe made with libc (setup only): (read end, write end).
pub(crate) fn pipe(flags: i32) -> (OwnedFd, OwnedFd) {
    let mut fds = [-1; 2];
    assert_eq!(
        // SAFETY: `fds` has room for two descriptors.
        unsafe { libc::pipe2(fds.as_mut_ptr(), flags | libc::O_CLOEXEC) },
        0
    );
    // SAFETY: two fresh descriptors nobody owns.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Fills a non-blocking pipe's buffer until a write would block.
pub(crate) fn fill(w: std::os::fd::BorrowedFd<'_>) {
    let chunk = [0u8; 4096];
    loop {
        match linker_tools::sys::write(w, &chunk) {
            Ok(_) => continue,
            Err(linker_tools::sys::Errno::EAGAIN) => break,
            Err(e) => panic!("filling pipe: {e}"),
        }
    }
    // The last page may have taken a partial chunk; top it up byte by byte.
    while linker_tools::sys::write(w, &chunk[..1]).is_ok() {}
}

linker_tools::sys! {
    /// `read(2)` on a descriptor number `BorrowedFd` cannot hold (`-1`, closed, huge).
    pub(crate) unsafe fn read_raw(fd: i32, buf: *mut u8, len: usize) -> Result<usize> = read;
    /// `write(2)` on a raw descriptor number.
    pub(crate) unsafe fn write_raw(fd: i32, buf: *const u8, len: usize) -> Result<usize> = readonly write;
    /// `pread64(2)` on a raw descriptor number.
    pub(crate) unsafe fn pread_raw(fd: i32, buf: *mut u8, len: usize, off: i64) -> Result<usize> = pread64;
    /// `pwrite64(2)` on a raw descriptor number.
    pub(crate) unsafe fn pwrite_raw(fd: i32, buf: *const u8, len: usize, off: i64) -> Result<usize> = readonly pwrite64;
    /// `close(2)` on a raw descriptor number.
    pub(crate) unsafe fn close_raw(fd: i32) -> Result<()> = close;
    /// `lseek(2)` with a raw descriptor and a raw `whence`, which `Whence` cannot hold.
    pub(crate) unsafe fn lseek_raw(fd: i32, offset: i64, whence: u32) -> Result<u64> = lseek;
    /// `openat(2)` with a raw directory descriptor.
    pub(crate) unsafe fn openat_raw(dirfd: i32, path: *const u8, flags: u32, mode: u32) -> Result<OwnedFd> = openat;
}
