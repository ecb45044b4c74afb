// write reads `len` bytes of `buf`, not up to a NUL.
use std::ffi::CStr;

linker_tools::sys! {
    pub fn write_str(fd: i32, buf: &CStr, len: usize) -> Result<usize> = write;
}

fn main() {}
