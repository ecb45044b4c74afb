// What the rules allow: values in safe wrappers, pointers in unsafe ones, numbers.
use std::os::fd::BorrowedFd;

linker_tools::sys! {
    /// Values only.
    pub fn fsync(fd: BorrowedFd<'_>) -> Result<()> = fsync;
    /// A pointer: unsafe.
    pub unsafe fn read(fd: BorrowedFd<'_>, buf: *mut u8, len: usize) -> Result<usize> = read;
    /// A string the kernel reads: `&CStr` is sound there.
    pub fn chdir(path: &std::ffi::CStr) -> Result<()> = chdir;
    /// By number, no arguments.
    pub fn unknown() -> Result<usize> = 100000;
    /// By number with arguments: unsafe.
    pub unsafe fn unknown3(a: usize, b: usize, c: usize) -> Result<usize> = 100001;
    /// By number, readonly, unsafe: the author vouches.
    pub unsafe fn unknown_ro() -> Result<usize> = readonly 100002;
}
linker_tools::sysnb! {
    /// On the list.
    pub fn pid() -> i32 = readonly getpid;
    /// On the list, reads its buffer only.
    pub unsafe fn write(fd: BorrowedFd<'_>, buf: *const u8, len: usize) -> Result<usize> = readonly write;
}

fn main() {
    assert_eq!(unknown(), Err(linker_tools::sys::Errno::ENOSYS));
    assert!(pid() > 0);
    assert_eq!(chdir(c"/nonexistent/linkname"), Err(linker_tools::sys::Errno::ENOENT));
}
