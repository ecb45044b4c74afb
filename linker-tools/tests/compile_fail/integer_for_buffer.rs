// A plain integer where read(2) takes the buffer it writes: a raw address.
linker_tools::sys! {
    pub fn read_to(fd: i32, buf: usize, len: usize) -> Result<usize> = read;
}

fn main() {}
