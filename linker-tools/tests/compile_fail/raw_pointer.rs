// A safe wrapper whose argument lets the kernel write anywhere.
linker_tools::sys! {
    pub fn read_anywhere(fd: i32, buf: *mut u8, len: usize) -> Result<usize> = read;
}

fn main() {}
