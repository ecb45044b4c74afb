// ioctl's third argument is a pointer for most requests.
linker_tools::sys! {
    pub fn ioctl(fd: i32, request: u64, arg: usize) -> Result<i32> = ioctl;
}

fn main() {}
