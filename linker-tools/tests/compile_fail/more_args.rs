// getpid takes none.
linker_tools::sysnb! {
    pub fn pid(extra: i32) -> i32 = getpid;
}

fn main() {}
