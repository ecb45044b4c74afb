use std::os::fd::BorrowedFd;

// vmsplice on a read end writes through the iovecs: never `readonly`, even unsafe.
linker_tools::sys! {
    pub unsafe fn vms(fd: BorrowedFd<'_>, iov: *const u8, nr: usize, flags: u32) -> Result<usize> = readonly vmsplice;
}

fn main() {}
