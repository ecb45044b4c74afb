// munmap takes an address of the caller's memory as an integer.
linker_tools::sys! {
    pub fn unmap(addr: usize, len: usize) -> Result<()> = munmap;
}

fn main() {}
