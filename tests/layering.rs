//! Cross-crate layering: the `shm` crate makes its system calls through the
//! `linker-tools` core (so the core's observer sees every one of them), never through
//! libc's `shmget`/`shmat`/`shmdt`/`shmctl`.
//!
//! The observer is process-global, so this binary holds a single test and filters by
//! thread.

use std::sync::Mutex;
use std::time::Duration;

use linkname::shm::Segment;
use linkname::sys::{
    self, Errno, Nr, Sysno,
    hook::{self, Call, Observer},
};

/// One observed call: number, argument registers, result.
type Seen = (Nr, Vec<usize>, Result<usize, Errno>);

struct Recorder {
    tid: i32,
    seen: Mutex<Vec<Seen>>,
}

impl Observer for Recorder {
    fn exit(&self, call: &Call<'_>, result: Result<usize, Errno>, _took: Duration) {
        if sys::gettid().as_raw() == self.tid {
            self.seen
                .lock()
                .unwrap()
                .push((call.nr, call.args.to_vec(), result));
        }
    }
}

#[test]
fn shm_segment_lifecycle_goes_through_the_core() {
    let recorder: &'static Recorder = Box::leak(Box::new(Recorder {
        tid: sys::gettid().as_raw(),
        seen: Mutex::new(Vec::new()),
    }));
    hook::set_observer(recorder);

    let segment = Segment::create_private(8192).expect("create a private segment");
    let id = segment.id();
    let attachment = segment.attach().expect("attach");
    attachment.write_at(100, b"layered").expect("write");
    let mut back = [0u8; 7];
    attachment.read_at(100, &mut back).expect("read");
    attachment.detach().expect("detach");
    segment.remove().expect("remove");

    hook::clear_observer();
    assert_eq!(&back, b"layered");

    let seen = recorder.seen.lock().unwrap();
    let names: Vec<Sysno> = seen.iter().filter_map(|(nr, _, _)| nr.sysno()).collect();
    for expected in [Sysno::shmget, Sysno::shmat, Sysno::shmdt, Sysno::shmctl] {
        assert!(
            names.contains(&expected),
            "the observer never saw {expected}: shm bypassed the core? saw {names:?}"
        );
    }
    // shmget(IPC_PRIVATE, 8192, …) returned the segment's id.
    let (_, args, result) = seen.iter().find(|(nr, _, _)| *nr == Sysno::shmget).unwrap();
    assert_eq!(args[0], 0, "IPC_PRIVATE key");
    assert_eq!(args[1], 8192, "size passed through as usize");
    assert_eq!(*result, Ok(id.as_raw() as usize));
    // The last call removed it: shmctl(id, IPC_RMID = 0, NULL).
    let (nr, args, result) = seen.last().unwrap();
    assert_eq!(*nr, Sysno::shmctl);
    assert_eq!((args[0], args[1], args[2]), (id.as_raw() as usize, 0, 0));
    assert_eq!(*result, Ok(0));
}

/// A crate that needs only the core or `shm` compiles none of the ELF stack: the
/// normal dependencies of `shm`, and of `linker-tools` without default features, are
/// the core's (`bitflags`) and nothing else of what `elf` pulls in.
#[test]
fn shm_and_the_bare_core_compile_none_of_the_elf_stack() {
    const ELF_STACK: [&str; 9] = [
        "object",
        "memmap2",
        "lzma-rs",
        "crc32fast",
        "rustc-demangle",
        "cpp_demangle",
        "libloading",
        "memchr",
        "libc",
    ];
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for args in [
        &["tree", "-p", "shm", "-e", "normal", "--prefix", "none"][..],
        &[
            "tree",
            "-p",
            "linker-tools",
            "--no-default-features",
            "-e",
            "normal",
            "--prefix",
            "none",
        ][..],
    ] {
        let out = std::process::Command::new(&cargo)
            .args(args)
            .args(["--offline", "--locked"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo tree");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "cargo {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let crates: Vec<&str> = text.lines().filter_map(|l| l.split(' ').next()).collect();
        assert!(
            crates.contains(&"bitflags"),
            "cargo {args:?} lists the core's one dependency:\n{text}"
        );
        for name in ELF_STACK {
            assert!(
                !crates.contains(&name),
                "cargo {args:?} pulls in {name}:\n{text}"
            );
        }
    }
}
