// read takes three arguments: the two missing registers would be garbage.
linker_tools::sys! {
    pub fn read_one(fd: i32) -> Result<usize> = read;
}

fn main() {}
