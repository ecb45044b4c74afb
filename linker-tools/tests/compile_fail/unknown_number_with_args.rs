// A number outside the table: nothing says whether `a` is an address.
linker_tools::sys! {
    pub fn mine(a: usize) -> Result<usize> = 100000;
}

fn main() {}
