//! The syscall core's own rules, each observed on the real kernel:
//!
//! - any number can be called (`Nr`), and the kernel answers exactly what libc's
//!   `syscall(2)` gets for it — `ENOSYS` for a number no kernel has, the x32 bit;
//! - a no-return call that returns anyway traps (`SIGILL`) instead of running on;
//! - the macros' compile-time refusals (`tests/compile_fail/`, run with `trybuild`);
//! - every `readonly` written in the workspace names a call of `READONLY_CALLS`.

use std::path::{Path, PathBuf};

use linker_tools::sys::{self, Errno, Memory, Nr, READONLY_CALLS, Sysno};

/// What libc's `syscall(2)` returns for `nr` with these arguments.
fn libc_syscall(nr: u32, a: [usize; 6]) -> Result<usize, Errno> {
    // SAFETY: only called with numbers the kernel refuses before it reads any
    // argument, or with calls whose arguments are plain integers.
    let r = unsafe { libc::syscall(libc::c_long::from(nr), a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r == -1 {
        let e = std::io::Error::last_os_error().raw_os_error().unwrap();
        Err(Errno::from_raw(e).unwrap())
    } else {
        Ok(r as usize)
    }
}

/// Numbers no x86_64 kernel implements, and x86_64 numbers with the x32 bit set.
fn probe_numbers() -> Vec<u32> {
    let mut v = vec![
        470, // just past the table
        500,
        1000,
        100_000,
        0x3fff_ffff,
        0x7fff_ffff,
        u32::MAX,
        u32::MAX - 1,
        0x8000_0000,
    ];
    for x in [
        Sysno::getpid,
        Sysno::getppid,
        Sysno::gettid,
        Sysno::sched_yield,
    ] {
        v.push(x.id() | Nr::X32_BIT);
    }
    // The x32 ABI's own numbers.
    v.extend([512, 520, 547].map(|n| n | Nr::X32_BIT));
    v
}

#[test]
fn any_number_gets_what_libc_syscall_gets() {
    let args = [1usize, 2, 3, 4, 5, 6];
    for nr in probe_numbers() {
        let want = libc_syscall(nr, args);
        let n = Nr::from_raw(nr);
        if n.sysno().is_none() && !n.is_x32() {
            assert_eq!(want, Err(Errno::ENOSYS), "libc: {nr:#x}");
        }
        // SAFETY: each number is refused by the kernel or takes no arguments.
        let ours = unsafe {
            [
                sys::syscall0(n),
                sys::syscall1(n, args[0]),
                sys::syscall2(n, args[0], args[1]),
                sys::syscall3(n, args[0], args[1], args[2]),
                sys::syscall4(n, args[0], args[1], args[2], args[3]),
                sys::syscall5(n, args[0], args[1], args[2], args[3], args[4]),
                sys::syscall6(n, args[0], args[1], args[2], args[3], args[4], args[5]),
            ]
        };
        for (arity, got) in ours.iter().enumerate() {
            if want.is_ok() {
                // A real call (an x32 getpid on a kernel built with x32): same kind of
                // answer, not necessarily the same value (getpid vs gettid of the
                // same thread agree; sched_yield returns 0).
                assert!(got.is_ok(), "{n} with {arity} args: {got:?}, libc {want:?}");
            } else {
                assert_eq!(*got, want, "{n} with {arity} args");
            }
        }
        // The readonly twins decode the same way.
        // SAFETY: as above.
        let ro = unsafe { sys::syscall0_readonly(n) };
        assert_eq!(ro.is_ok(), want.is_ok(), "{n} readonly");
    }
    // A Sysno and its Nr are the same call.
    // SAFETY: getppid takes no arguments.
    let (a, b) = unsafe {
        (
            sys::syscall0(Sysno::getppid),
            sys::syscall0(Nr::of(Sysno::getppid)),
        )
    };
    assert_eq!(a, b);
    // SAFETY: getppid cannot fail and touches no memory.
    assert_eq!(a, Ok(unsafe { libc::getppid() } as usize));
}

/// Forks; the child runs `f`, which must end the process; returns its wait status.
fn in_child(f: fn() -> !) -> i32 {
    // SAFETY: the child only makes raw system calls and ends by a signal or
    // exit_group, never returning into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        f();
    }
    let mut status = 0;
    // SAFETY: `status` is writable; `pid` is our child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    status
}

#[test]
fn a_no_return_call_that_returns_traps() {
    fn unknown() -> ! {
        // SAFETY: no kernel implements this number; if it returns, ud2 traps.
        unsafe { sys::syscall1_noreturn(Nr::from_raw(100_000), 0) }
    }
    let status = in_child(unknown);
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGILL,
        "the child must die of SIGILL, status {status:#x}"
    );
    fn exits() -> ! {
        sys::exit_group(42)
    }
    let status = in_child(exits);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 42);
}

/// The workspace root (this crate's parent).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Every `.rs` file of the workspace's own sources.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            // compile_fail/ holds the declarations the macros must refuse.
            if !name.starts_with('.') && !name.starts_with("target") && name != "compile_fail" {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// `(file, line, call, unsafe)` for every `= readonly CALL;` in a declaration.
fn readonly_declarations() -> Vec<(PathBuf, usize, String, bool)> {
    let mut files = Vec::new();
    rust_files(&workspace(), &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            // A declaration: `… fn name(…) -> T = readonly CALL;`.
            let Some(at) = code.find("= readonly ") else {
                continue;
            };
            if !code[..at].contains("->") || code[..at].contains('"') {
                continue;
            }
            let rest = &code[at + "= readonly ".len()..];
            let call: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((file.clone(), i + 1, call, code.contains("unsafe fn")));
        }
    }
    found
}

#[test]
fn every_readonly_declaration_is_on_the_committed_list() {
    let decls = readonly_declarations();
    assert!(
        decls.len() >= 10,
        "the scan must find the core's own readonly declarations: {decls:?}"
    );
    for (file, line, call, is_unsafe) in &decls {
        let sysno = match call.parse::<u32>() {
            Ok(n) => Nr::from_raw(n).sysno(),
            Err(_) => Sysno::from_name(call),
        };
        // A number outside the table may be readonly only in an `unsafe fn`.
        let on_list = match sysno {
            Some(s) => READONLY_CALLS.iter().any(|(r, _)| *r == s),
            None => call.parse::<u32>().is_ok() && *is_unsafe,
        };
        assert!(
            on_list,
            "{}:{line}: `readonly {call}` is not on sys::READONLY_CALLS",
            file.display()
        );
    }
    for (sysno, reason) in READONLY_CALLS {
        assert!(reason.len() > 10, "{sysno}: a reason of its own");
    }
    let mut seen = std::collections::BTreeSet::new();
    for (sysno, _) in READONLY_CALLS {
        assert!(seen.insert(*sysno), "{sysno} listed twice");
    }
    // Each listed call is, by the kernel's own prototype, one that can reach no
    // caller memory but to read it.
    for (sysno, _) in READONLY_CALLS {
        for (i, arg) in sysno.signature().args.iter().enumerate() {
            assert!(
                matches!(arg.memory, Memory::None | Memory::Read | Memory::String),
                "{sysno} is on READONLY_CALLS, yet argument {i} ({}) is {:?}",
                arg.name,
                arg.memory
            );
        }
    }
    // The calls that write memory, or run a handler before returning, are not there.
    for never in [
        Sysno::read,
        Sysno::pread64,
        Sysno::readv,
        Sysno::vmsplice,
        Sysno::kill,
        Sysno::tgkill,
        Sysno::rt_sigqueueinfo,
        Sysno::munmap,
        Sysno::mprotect,
        Sysno::madvise,
        Sysno::futex,
        Sysno::clock_gettime,
        Sysno::uname,
    ] {
        assert!(
            !READONLY_CALLS.iter().any(|(r, _)| *r == never),
            "{never} writes user memory (or runs a handler) yet is on the list"
        );
    }
}

/// The declarations the macros must refuse do not compile, with a message that names
/// the wrapper, the argument and the way out; the ones they allow compile and run.
#[test]
fn the_macros_refuse_unsound_declarations() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
    t.pass("tests/compile_pass/*.rs");
}
