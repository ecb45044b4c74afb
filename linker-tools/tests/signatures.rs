//! Tests of the generated signature table ([`Sysno::signature`]): its own rules, a
//! few known answers, and the running kernel as an independent oracle (the
//! syscall trace events of tracefs, whose formats the kernel generates from its
//! own `SYSCALL_DEFINE`s).

use std::collections::BTreeSet;
use std::ffi::CString;
use std::path::{Path, PathBuf};

use linker_tools::sys::{ArgKind, Memory, Ret, Sysno};

// The accessors are `const fn`: a declaration can be checked at compile time.
const _: () = assert!(matches!(Sysno::read.arg_memory(1), Some(Memory::Write)));
const _: () = assert!(matches!(Sysno::mmap.arg_memory(0), Some(Memory::Address)));
const _: () = assert!(Sysno::read.arg_memory(3).is_none());
const _: () = assert!(Sysno::getpid.arity() == 0);
const _: () = assert!(Sysno::mmap.signature().args.len() == 6);
const OPENAT_PATH: Memory = Sysno::openat.signature().args[1].memory;

/// Typedefs that are pointers (the table's C types use them without a `*`).
const POINTER_TYPEDEFS: [&str; 2] = ["cap_user_header_t", "cap_user_data_t"];

/// Arguments the kernel's prototype types as a pointer although the value is an
/// address or depends on another argument: `(call, argument, memory, why)`.
const POINTER_TYPED_VALUES: [(&str, &str, Memory, &str); 6] = [
    (
        "shmat",
        "shmaddr",
        Memory::Address,
        "the address to attach at, never dereferenced",
    ),
    (
        "shmdt",
        "shmaddr",
        Memory::Address,
        "the address of the attachment to unmap",
    ),
    (
        "futex",
        "utime",
        Memory::Depends,
        "a timeout pointer, or the integer val2 for FUTEX_REQUEUE, CMP_REQUEUE and WAKE_OP",
    ),
    (
        "quotactl",
        "addr",
        Memory::Depends,
        "a struct read or written, a path for Q_QUOTAON, or unused, by command",
    ),
    ("quotactl_fd", "addr", Memory::Depends, "as quotactl's addr"),
    (
        "fsconfig",
        "_value",
        Memory::Depends,
        "a string, a path, aux bytes, or unused, by command",
    ),
];

fn is_pointer(c_type: &str) -> bool {
    c_type.contains('*') || POINTER_TYPEDEFS.contains(&c_type.trim_start_matches("const "))
}

fn is_char_pointer(c_type: &str) -> bool {
    let t: Vec<&str> = c_type
        .split(' ')
        .filter(|t| *t != "const" && *t != "__user")
        .collect();
    t == ["char", "*"]
}

#[test]
fn every_sysno_has_a_signature_of_at_most_six_arguments() {
    for nr in Sysno::iter() {
        let sig = nr.signature();
        assert_eq!(sig.name, nr.name(), "{nr:?}");
        assert!(sig.args.len() <= 6, "{nr:?}: {} arguments", sig.args.len());
        assert_eq!(nr.arity(), sig.args.len());
        let mut names = BTreeSet::new();
        for (i, arg) in sig.args.iter().enumerate() {
            assert!(names.insert(arg.name), "{nr:?}: `{}` twice", arg.name);
            assert!(
                !arg.name.is_empty()
                    && arg
                        .name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "{nr:?}: argument name {:?}",
                arg.name
            );
            assert_eq!(
                arg.c_type,
                arg.c_type.split_whitespace().collect::<Vec<_>>().join(" "),
                "{nr:?}: C type spacing"
            );
            assert_eq!(nr.arg_memory(i), Some(arg.memory));
            assert_eq!(nr.arg(i), Some(arg));
        }
        assert_eq!(nr.arg_memory(sig.args.len()), None);
        assert_eq!(nr.arg(sig.args.len()), None);
    }
}

#[test]
fn memory_classes_agree_with_the_c_types() {
    let mut exceptions_seen = BTreeSet::new();
    for nr in Sysno::iter() {
        for arg in nr.signature().args {
            let at = format!("{}({}: {})", nr.name(), arg.name, arg.c_type);
            let pointer = is_pointer(arg.c_type);
            match arg.memory {
                Memory::Read | Memory::Write | Memory::Indirect => {
                    assert!(pointer, "{at}: {:?} on a non-pointer", arg.memory)
                }
                Memory::String => assert!(is_char_pointer(arg.c_type), "{at}: String"),
                Memory::Address | Memory::Depends if pointer => {
                    let known = POINTER_TYPED_VALUES
                        .iter()
                        .find(|(c, a, _, _)| *c == nr.name() && *a == arg.name);
                    assert!(
                        known.is_some_and(|(_, _, m, _)| *m == arg.memory),
                        "{at}: {:?} on a pointer type, and not a listed exception",
                        arg.memory
                    );
                    exceptions_seen.insert((nr.name(), arg.name));
                }
                Memory::Address | Memory::Depends => {}
                Memory::None => assert!(!pointer, "{at}: a pointer classified None"),
                other => panic!("{at}: unknown memory class {other:?}"),
            }
        }
    }
    let listed: BTreeSet<_> = POINTER_TYPED_VALUES
        .iter()
        .map(|(c, a, _, _)| (*c, *a))
        .collect();
    assert_eq!(
        exceptions_seen, listed,
        "every listed exception is still one"
    );
}

#[test]
fn kinds_agree_with_memory_classes() {
    for nr in Sysno::iter() {
        let args = nr.signature().args;
        for (i, arg) in args.iter().enumerate() {
            let at = format!("{}({})", nr.name(), arg.name);
            let refers = |j: usize| {
                assert!(j < args.len() && j != i, "{at}: refers to argument {j}");
            };
            match arg.kind {
                ArgKind::Path | ArgKind::Str => assert_eq!(arg.memory, Memory::String, "{at}"),
                ArgKind::StrArray => assert_eq!(arg.memory, Memory::Indirect, "{at}"),
                ArgKind::Addr => assert_eq!(arg.memory, Memory::Address, "{at}"),
                ArgKind::Depends { on } => {
                    refers(on);
                    assert_eq!(arg.memory, Memory::Depends, "{at}");
                    assert!(
                        matches!(args[on].kind, ArgKind::Choice(_)),
                        "{at}: decided by a command or option"
                    );
                }
                ArgKind::Buf { len } => {
                    refers(len);
                    assert_eq!(arg.memory, Memory::Read, "{at}");
                }
                ArgKind::BufOut { len } => {
                    refers(len);
                    assert_eq!(arg.memory, Memory::Write, "{at}");
                }
                ArgKind::Array { len, elem } => {
                    refers(len);
                    assert!(
                        !elem.is_empty() && !elem.contains("__user"),
                        "{at}: {elem:?}"
                    );
                }
                ArgKind::Struct(tag) => {
                    assert!(is_pointer(arg.c_type), "{at}");
                    assert!(
                        !tag.is_empty() && !tag.contains(' ') && !tag.contains('*'),
                        "{at}: a tag, {tag:?}"
                    );
                }
                ArgKind::Ptr(to) => {
                    assert!(is_pointer(arg.c_type), "{at}");
                    assert!(!to.is_empty() && !to.contains("__user"), "{at}: {to:?}");
                }
                ArgKind::Reserved => {}
                _ => assert_eq!(arg.memory, Memory::None, "{at}: a value kind"),
            }
        }
    }
}

#[test]
fn return_kinds_follow_the_table() {
    for nr in Sysno::iter() {
        let ret = nr.signature().ret;
        assert_eq!(
            ret == Ret::NotImplemented,
            nr.entry_point() == "sys_ni_syscall",
            "{nr:?}"
        );
        if ret == Ret::NotImplemented {
            assert_eq!(nr.arity(), 0, "{nr:?}");
        }
        assert_eq!(
            ret == Ret::NoReturn,
            matches!(nr, Sysno::exit | Sysno::exit_group),
            "{nr:?}"
        );
    }
    assert_eq!(Sysno::mmap.signature().ret, Ret::Addr);
    assert_eq!(Sysno::openat.signature().ret, Ret::Fd);
    assert_eq!(Sysno::read.signature().ret, Ret::Size);
    assert_eq!(Sysno::getpid.signature().ret, Ret::Pid);
    assert_eq!(Sysno::ioctl.signature().ret, Ret::Depends);
    assert_eq!(Sysno::lseek.signature().ret, Ret::Offset);
    assert_eq!(Sysno::close.signature().ret, Ret::Success);
}

#[test]
fn hand_rows_name_the_release_that_added_them() {
    // 6.1's table ends at 450; uretprobe (335) and uprobe (336) came later too.
    for nr in Sysno::iter() {
        let newer = nr.id() > 450 || matches!(nr, Sysno::uretprobe | Sysno::uprobe);
        let since = nr.signature().since;
        assert_eq!(since.is_some(), newer, "{nr:?}: since {since:?}");
        if let Some(v) = since {
            let (major, minor) = v.split_once('.').expect("X.Y");
            let v = (major.parse::<u32>().unwrap(), minor.parse::<u32>().unwrap());
            assert!(v > (6, 1) && v <= (6, 18), "{nr:?}: {v:?}");
        }
    }
    assert_eq!(Sysno::cachestat.signature().since, Some("6.5"));
    assert_eq!(Sysno::mseal.signature().since, Some("6.10"));
    assert_eq!(Sysno::file_setattr.signature().since, Some("6.17"));
}

#[test]
fn known_answers() {
    let arg = |nr: Sysno, name: &str| {
        *nr.signature()
            .args
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{nr:?} has no `{name}`"))
    };
    assert_eq!(arg(Sysno::read, "buf").memory, Memory::Write);
    assert_eq!(arg(Sysno::read, "buf").kind, ArgKind::BufOut { len: 2 });
    assert_eq!(arg(Sysno::write, "buf").memory, Memory::Read);
    assert_eq!(arg(Sysno::openat, "filename").memory, Memory::String);
    assert_eq!(OPENAT_PATH, Memory::String);
    assert_eq!(arg(Sysno::openat, "filename").kind, ArgKind::Path);
    assert_eq!(arg(Sysno::openat, "dfd").kind, ArgKind::DirFd);
    assert_eq!(arg(Sysno::vmsplice, "uiov").memory, Memory::Indirect);
    assert_eq!(
        arg(Sysno::vmsplice, "uiov").c_type,
        "const struct iovec __user *"
    );
    for (nr, iov) in [
        (Sysno::readv, "vec"),
        (Sysno::writev, "vec"),
        (Sysno::preadv, "vec"),
        (Sysno::preadv2, "vec"),
        (Sysno::process_vm_readv, "lvec"),
        (Sysno::process_vm_readv, "rvec"),
        (Sysno::process_vm_writev, "lvec"),
        (Sysno::process_madvise, "vec"),
        (Sysno::recvmsg, "msg"),
        (Sysno::sendmsg, "msg"),
        (Sysno::recvmmsg, "mmsg"),
        (Sysno::io_submit, "iocbpp"),
        (Sysno::io_uring_setup, "params"),
        (Sysno::io_uring_enter, "argp"),
        (Sysno::clone3, "uargs"),
        (Sysno::execve, "argv"),
        (Sysno::set_robust_list, "head"),
        (Sysno::rseq, "rseq"),
    ] {
        assert_eq!(arg(nr, iov).memory, Memory::Indirect, "{nr:?} {iov}");
    }
    assert_eq!(arg(Sysno::mmap, "addr").memory, Memory::Address);
    for (nr, addr) in [
        (Sysno::munmap, "addr"),
        (Sysno::mprotect, "start"),
        (Sysno::madvise, "start"),
        (Sysno::mremap, "addr"),
        (Sysno::mremap, "new_addr"),
        (Sysno::brk, "brk"),
        (Sysno::msync, "start"),
        (Sysno::mlock, "start"),
        (Sysno::mlock2, "start"),
        (Sysno::munlock, "start"),
        (Sysno::mbind, "start"),
        (Sysno::mincore, "start"),
        (Sysno::mseal, "start"),
        (Sysno::shmdt, "shmaddr"),
        (Sysno::pkey_mprotect, "start"),
    ] {
        assert_eq!(arg(nr, addr).memory, Memory::Address, "{nr:?} {addr}");
    }
    assert_eq!(arg(Sysno::ioctl, "arg").memory, Memory::Depends);
    assert_eq!(arg(Sysno::ioctl, "arg").kind, ArgKind::Depends { on: 1 });
    for (nr, dep) in [
        (Sysno::fcntl, "arg"),
        (Sysno::prctl, "arg2"),
        (Sysno::prctl, "arg5"),
        (Sysno::ptrace, "addr"),
        (Sysno::ptrace, "data"),
        (Sysno::keyctl, "arg2"),
        (Sysno::arch_prctl, "arg2"),
        (Sysno::semctl, "arg"),
    ] {
        assert_eq!(arg(nr, dep).memory, Memory::Depends, "{nr:?} {dep}");
    }
    assert_eq!(Sysno::getpid.arity(), 0);
    assert_eq!(Sysno::getpid.signature().args, &[]);
    assert_eq!(Sysno::mmap.arity(), 6);
    assert_eq!(arg(Sysno::mmap, "fd").kind, ArgKind::Fd);
    assert_eq!(arg(Sysno::kill, "sig").kind, ArgKind::Signal);
    assert_eq!(arg(Sysno::kill, "pid").kind, ArgKind::Pid);
    assert_eq!(
        arg(Sysno::clock_gettime, "which_clock").kind,
        ArgKind::ClockId
    );
    assert_eq!(arg(Sysno::fstat, "statbuf").kind, ArgKind::Struct("stat"));
    assert_eq!(arg(Sysno::fstat, "statbuf").memory, Memory::Write);
    assert_eq!(arg(Sysno::getdents64, "fd").memory, Memory::None);
    assert_eq!(arg(Sysno::sethostname, "name").memory, Memory::Read);
}

// ---------------------------------------------------------------------------
// The running kernel's syscall trace events.

const TRACEFS: &str = "/sys/kernel/tracing";

/// Calls without a `sys_enter_*` event, each with the reason.
const NO_EVENT: &[(&str, &str)] = &[
    // sys_ni_syscall: reserved numbers have no SYSCALL_DEFINE, so no event.
    ("uselib", "reserved (sys_ni_syscall)"),
    ("_sysctl", "reserved (sys_ni_syscall)"),
    ("create_module", "reserved (sys_ni_syscall)"),
    ("get_kernel_syms", "reserved (sys_ni_syscall)"),
    ("query_module", "reserved (sys_ni_syscall)"),
    ("nfsservctl", "reserved (sys_ni_syscall)"),
    ("getpmsg", "reserved (sys_ni_syscall)"),
    ("putpmsg", "reserved (sys_ni_syscall)"),
    ("afs_syscall", "reserved (sys_ni_syscall)"),
    ("tuxcall", "reserved (sys_ni_syscall)"),
    ("security", "reserved (sys_ni_syscall)"),
    ("set_thread_area", "reserved (sys_ni_syscall)"),
    ("get_thread_area", "reserved (sys_ni_syscall)"),
    ("lookup_dcookie", "reserved (sys_ni_syscall)"),
    ("epoll_ctl_old", "reserved (sys_ni_syscall)"),
    ("epoll_wait_old", "reserved (sys_ni_syscall)"),
    ("vserver", "reserved (sys_ni_syscall)"),
    // Compiled out of a kernel without the feature (the CI kernel lacks them):
    // compared like every other call where the event exists.
    ("init_module", "CONFIG_MODULES"),
    ("delete_module", "CONFIG_MODULES"),
    ("finit_module", "CONFIG_MODULES"),
    ("kexec_load", "CONFIG_KEXEC"),
    ("kexec_file_load", "CONFIG_KEXEC_FILE"),
    ("map_shadow_stack", "CONFIG_X86_USER_SHADOW_STACK"),
];

/// Arguments whose C type in the table differs from the event's on purpose:
/// `(call, argument, table type, event type, why)`, both types normalised.
const TYPE_EXCEPTIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "sigaltstack",
        "uss",
        "const struct sigaltstack *",
        "const stack_t *",
        "the prototype names the struct, the definition its typedef (`typedef struct sigaltstack stack_t`)",
    ),
    (
        "sigaltstack",
        "uoss",
        "struct sigaltstack *",
        "stack_t *",
        "as uss",
    ),
    (
        "rseq",
        "rseq_len",
        "uint32_t",
        "u32",
        "the prototype spells the 32-bit unsigned type uint32_t, the definition u32",
    ),
    ("rseq", "sig", "uint32_t", "u32", "as rseq_len"),
    (
        "fanotify_mark",
        "mask",
        "u64",
        "__u64",
        "the prototype spells it u64, the definition __u64 (the kernel's `typedef __u64 u64`)",
    ),
];

/// Normalises a C type for comparison with tracefs, which prints the types of the
/// kernel's `SYSCALL_DEFINE` after preprocessing and with its own spacing:
///
/// 1. `__user` is dropped: it is a sparse annotation that expands to nothing, so
///    tracefs never shows it;
/// 2. spacing: tokens are split on whitespace and `*`;
/// 3. a lone `unsigned` is `unsigned int` (the same type; prototypes use both);
/// 4. a top-level `const` (on the parameter itself, `const clockid_t`,
///    `const void *const`) is dropped: it constrains the kernel function's body,
///    not what the caller passes. A `const` on a pointee is kept.
fn normalise(c_type: &str) -> String {
    let spaced = c_type.replace('*', " * ");
    let mut tokens: Vec<&str> = spaced
        .split_whitespace()
        .filter(|t| *t != "__user")
        .collect();
    let mut i = 0;
    while i < tokens.len() {
        let next = tokens.get(i + 1).copied();
        if tokens[i] == "unsigned" && !matches!(next, Some("int" | "long" | "char" | "short")) {
            tokens.insert(i + 1, "int");
        }
        i += 1;
    }
    match tokens.iter().rposition(|t| *t == "*") {
        None => tokens.retain(|t| *t != "const"),
        Some(last) => {
            let tail: Vec<&str> = tokens.split_off(last + 1);
            tokens.extend(tail.into_iter().filter(|t| *t != "const"));
        }
    }
    tokens.join(" ")
}

/// The `(type, name)` fields of an event's `format` file, after the common ones.
fn event_fields(format: &str) -> Vec<(String, String)> {
    format
        .lines()
        .filter_map(|l| l.trim().strip_prefix("field:"))
        .filter_map(|f| f.split(';').next())
        .filter_map(|decl| {
            let decl = decl.trim();
            let (ty, name) = decl.rsplit_once(' ')?;
            Some((ty.trim().to_owned(), name.to_owned()))
        })
        .filter(|(_, name)| !name.starts_with("common_") && name != "__syscall_nr")
        .collect()
}

/// Mounts tracefs if it is not mounted; unmounts it on drop if this mounted it.
struct Tracefs {
    events: PathBuf,
    mounted_here: bool,
}

impl Tracefs {
    fn open() -> Tracefs {
        let events = Path::new(TRACEFS).join("events/syscalls");
        let mut mounted_here = false;
        if !events.is_dir() {
            let target = CString::new(TRACEFS).unwrap();
            let fstype = CString::new("tracefs").unwrap();
            let source = CString::new("nodev").unwrap();
            // SAFETY: the strings are valid NUL-terminated C strings that outlive the
            // call; a null `data` is allowed for tracefs.
            let rc = unsafe {
                libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    fstype.as_ptr(),
                    0,
                    std::ptr::null(),
                )
            };
            assert!(
                rc == 0,
                "the signature oracle needs tracefs: `mount -t tracefs nodev {TRACEFS}` failed \
                 ({}). Run the tests as root (CI does) on a kernel with CONFIG_FTRACE_SYSCALLS.",
                std::io::Error::last_os_error()
            );
            mounted_here = true;
        }
        let tracefs = Tracefs {
            events,
            mounted_here,
        };
        assert!(
            tracefs.events.is_dir(),
            "{} is missing: the kernel has no syscall trace events (CONFIG_FTRACE_SYSCALLS), \
             so the signature oracle is unavailable",
            tracefs.events.display()
        );
        tracefs
    }

    fn format(&self, event: &str) -> Option<String> {
        std::fs::read_to_string(self.events.join(event).join("format")).ok()
    }
}

impl Drop for Tracefs {
    fn drop(&mut self) {
        if self.mounted_here {
            let target = CString::new(TRACEFS).unwrap();
            // SAFETY: a valid NUL-terminated path; unmounting what this test mounted.
            unsafe { libc::umount2(target.as_ptr(), 0) };
        }
    }
}

#[test]
fn signatures_match_the_running_kernels_trace_events() {
    let tracefs = Tracefs::open();
    let mut problems = Vec::new();
    let mut compared = 0;
    let mut exceptions_used = BTreeSet::new();
    let mut entries = BTreeSet::new();
    for nr in Sysno::iter() {
        let sig = nr.signature();
        // Events are named after the entry point (`stat` is `sys_newstat`).
        let entry = nr.entry_point().strip_prefix("sys_").unwrap();
        entries.insert(entry);
        let listed = NO_EVENT.iter().find(|(n, _)| *n == nr.name());
        let Some(enter) = tracefs.format(&format!("sys_enter_{entry}")) else {
            if listed.is_none() {
                problems.push(format!(
                    "{}: no event sys_enter_{entry}, and not listed in NO_EVENT",
                    nr.name()
                ));
            }
            continue;
        };
        if listed.is_some_and(|(_, why)| why.starts_with("reserved")) {
            problems.push(format!(
                "{}: listed as reserved, yet has an event",
                nr.name()
            ));
        }
        compared += 1;
        let fields = event_fields(&enter);
        if fields.len() != sig.args.len() {
            problems.push(format!(
                "{}: {} arguments in the table, {} in the event: {fields:?}",
                nr.name(),
                sig.args.len(),
                fields.len()
            ));
            continue;
        }
        for (arg, (ty, name)) in sig.args.iter().zip(&fields) {
            if arg.name != name {
                problems.push(format!(
                    "{}: argument `{}` is `{name}` in the event",
                    nr.name(),
                    arg.name
                ));
            }
            let (ours, theirs) = (normalise(arg.c_type), normalise(ty));
            if ours == theirs {
                continue;
            }
            let excepted = TYPE_EXCEPTIONS.iter().any(|(c, a, o, t, _)| {
                *c == nr.name() && *a == arg.name && *o == ours && *t == theirs
            });
            if excepted {
                exceptions_used.insert((nr.name(), arg.name));
            } else {
                problems.push(format!(
                    "{}({}): type `{}` (normalised `{ours}`), the event has `{ty}` (`{theirs}`)",
                    nr.name(),
                    arg.name,
                    arg.c_type
                ));
            }
        }
        match tracefs.format(&format!("sys_exit_{entry}")) {
            None => problems.push(format!("{}: no event sys_exit_{entry}", nr.name())),
            Some(exit) => {
                let fields = event_fields(&exit);
                if fields != [("long".to_owned(), "ret".to_owned())] {
                    problems.push(format!(
                        "{}: sys_exit_{entry} has {fields:?}, not `long ret`",
                        nr.name()
                    ));
                }
            }
        }
    }
    let listed: BTreeSet<_> = TYPE_EXCEPTIONS.iter().map(|(c, a, ..)| (*c, *a)).collect();
    if exceptions_used != listed {
        problems.push(format!(
            "type exceptions no longer needed: {:?}",
            listed.difference(&exceptions_used).collect::<Vec<_>>()
        ));
    }
    // On the table's own release, every syscall event the kernel has is in the table.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    if release.starts_with("6.18.") || release.trim() == "6.18" {
        for dir in std::fs::read_dir(&tracefs.events).unwrap() {
            let name = dir.unwrap().file_name().into_string().unwrap();
            if let Some(entry) = name.strip_prefix("sys_enter_") {
                if !entries.contains(entry) {
                    problems.push(format!("the kernel has sys_enter_{entry}, the table not"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) against {TRACEFS} ({compared} calls compared):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(compared > 300, "only {compared} calls had events");
}

#[test]
fn normalisation_is_what_the_doc_says() {
    assert_eq!(normalise("const char __user *"), "const char *");
    assert_eq!(
        normalise("const char __user *const __user *"),
        "const char * const *"
    );
    assert_eq!(normalise("const char *const *"), "const char * const *");
    assert_eq!(normalise("unsigned"), "unsigned int");
    assert_eq!(normalise("unsigned __user *"), "unsigned int *");
    assert_eq!(normalise("unsigned long"), "unsigned long");
    assert_eq!(normalise("const clockid_t"), "clockid_t");
    assert_eq!(normalise("const void *const"), "const void *");
    assert_eq!(
        normalise("struct iocb __user * __user *"),
        "struct iocb * *"
    );
    assert_ne!(normalise("const int *"), normalise("int *"));
    let fields = event_fields(
        "name: sys_enter_read\nformat:\n\tfield:unsigned short common_type;\toffset:0;\n\n\
         \tfield:int __syscall_nr;\toffset:8;\n\tfield:unsigned int fd;\toffset:16;\n\
         \tfield:char * buf;\toffset:24;\n",
    );
    assert_eq!(
        fields,
        [
            ("unsigned int".to_owned(), "fd".to_owned()),
            ("char *".to_owned(), "buf".to_owned())
        ]
    );
}
