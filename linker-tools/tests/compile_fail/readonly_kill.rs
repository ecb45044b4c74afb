// kill(getpid(), sig) runs the handler before it returns: not readonly.
linker_tools::sysnb! {
    pub fn kill(pid: i32, sig: i32) -> Result<()> = readonly kill;
}

fn main() {}
