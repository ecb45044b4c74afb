// A number outside the table: nothing says it writes no memory.
linker_tools::sysnb! {
    pub fn mine() -> Result<usize> = readonly 100000;
}

fn main() {}
