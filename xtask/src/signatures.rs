//! The typed syscall signature table: the kernel's prototypes
//! (`xtask/input/syscalls.h`, `xtask/input/syscalls-x86.h`) joined with the
//! hand-kept `xtask/input/signatures.txt`, for every row of `syscall_64.tbl`.
//!
//! # `signatures.txt`
//!
//! Line-based; `#` starts a comment. Top-level lines (no indentation):
//!
//! - `define NAME`, `define NAME = N`, `undef NAME`: a macro the headers'
//!   conditionals name, as x86_64 has it (every macro a condition names must be
//!   declared; see [`crate::header`]).
//! - `typedef NAME = C-TYPE`: a typedef the kinds need to see through
//!   (`cap_user_header_t` is a pointer).
//! - `struct-typedef NAME…`: typedefs that name a struct (`sigset_t`), so a pointer
//!   to one is a [`Kind::Struct`].
//! - `indirect NAME…`: struct tags (or struct typedefs) whose memory holds further
//!   user pointers the kernel follows (`iovec`, `user_msghdr`): a pointer to one is
//!   `Memory::Indirect`, whatever its `const`.
//! - `type C-TYPE… = KIND`: the default kind of a non-pointer argument of that C type
//!   (`type size_t = Size`).
//! - `name ARG… = KIND`: the default kind of a non-pointer argument of that name
//!   (`name fd epfd = Fd`); it wins over `type`.
//! - `call NAME -> RET`: one block per row of `syscall_64.tbl` (by the table's name),
//!   with its return kind. Indented lines below it:
//!   - `names: A B C`: the parameter names, replacing the prototype's (the header
//!     leaves some out and names others differently from the kernel's definition;
//!     the definition's names win, as tracefs shows them);
//!   - `proto: C-PARAMS`: the prototype, for an entry point the headers do not
//!     declare; with `since: X.Y` (added after the headers' 6.1), `arch: REASON`
//!     (x86-specific, declared in no header), or `changed: X.Y REASON` (the
//!     header's prototype is out of date: the row replaces it);
//!   - `ARG: KIND [mem=CLASS]`: the kind of one argument, and optionally its memory
//!     class when the derived one is wrong (`mem=Read` for a non-`const` pointer the
//!     kernel only reads; `mem=Indirect`).
//!
//! # How an argument is classified
//!
//! The kind is, first match wins: the `ARG:` line; for a non-pointer, the `name`
//! default, then the `type` default, then `Int`/`Uint` for a 32-bit-or-narrower
//! integer; for a pointer, `Ptr` to a pointer (`T **`), `Struct` to a struct, union
//! or `struct-typedef`, `Ptr` to anything else but `char` and `void`. A 64-bit
//! integer (`long`, `unsigned long`, `u64`…), a `char` or `void` pointer, and any
//! other type have no default: the row must say what they are, since they may carry
//! an address, a string or a buffer.
//!
//! The memory class follows from the kind and the type, unless `mem=` says
//! otherwise: `Path`/`Str` → `String`; `StrArray`, a pointer to a pointer and a
//! pointer to an `indirect` struct → `Indirect`; `Buf` → `Read`; `BufOut` → `Write`;
//! any other pointer → `Read` if it points to `const`, else `Write`; `Addr` →
//! `Address`; `Depends` → `Depends`; anything else → `None`.

use std::collections::{BTreeMap, BTreeSet};

use crate::header::{Macro, Macros, Param, Prototype, parse_params};
use crate::{Error, Syscall, is_identifier};

/// The kernel release of the committed `syscalls.h` (Debian's
/// `linux-headers-6.1.0-47-common`).
pub const HEADER_VERSION: (u32, u32) = (6, 1);

/// Bit-mask families: the variants of `linker_tools::sys::FlagFamily`.
pub const FLAG_FAMILIES: &[&str] = &[
    "Open",
    "At",
    "Access",
    "Prot",
    "Map",
    "Mremap",
    "Msync",
    "Mlock",
    "Mlockall",
    "Clone",
    "Wait",
    "SocketType",
    "SocketFlags",
    "Msg",
    "Ipc",
    "Shmat",
    "Flock",
    "Mount",
    "Umount",
    "Swap",
    "Xattr",
    "Rename",
    "Splice",
    "SyncFileRange",
    "Fallocate",
    "Rwf",
    "Epoll",
    "Eventfd",
    "Signalfd",
    "Timerfd",
    "TimerfdSettime",
    "TimerAbstime",
    "Inotify",
    "InotifyMask",
    "FanotifyInit",
    "FanotifyMark",
    "FanotifyMask",
    "Memfd",
    "Getrandom",
    "Seccomp",
    "Userfaultfd",
    "Membarrier",
    "Pidfd",
    "CloseRange",
    "Futex2",
    "IoUringEnter",
    "OpenTree",
    "MoveMount",
    "Fsopen",
    "Fsmount",
    "MountAttr",
    "Fspick",
    "Statx",
    "Pkey",
    "Mbind",
    "GetMempolicy",
    "Landlock",
    "Lsm",
    "Perf",
    "Listmount",
    "Rseq",
    "Kexec",
    "KexecFile",
    "ModuleInit",
    "ShadowStack",
];

/// Value sets: the variants of `linker_tools::sys::Choice`.
pub const CHOICES: &[&str] = &[
    "Whence",
    "Fadvise",
    "Madvise",
    "SigprocmaskHow",
    "Resource",
    "RusageWho",
    "Itimer",
    "AddressFamily",
    "Shutdown",
    "SockoptLevel",
    "Ioctl",
    "Fcntl",
    "Prctl",
    "ArchPrctl",
    "Ptrace",
    "Keyctl",
    "Bpf",
    "Futex",
    "Semctl",
    "Shmctl",
    "Msgctl",
    "Quotactl",
    "Seccomp",
    "IoUringRegister",
    "Fsconfig",
    "Reboot",
    "EpollCtl",
    "Membarrier",
    "Kcmp",
    "Syslog",
    "Sysfs",
    "Idtype",
    "PrioWhich",
    "IoprioWhich",
    "SchedPolicy",
    "ModifyLdt",
    "Personality",
    "MempolicyMode",
    "LandlockRule",
    "LsmAttr",
];

/// Argument kinds without a parameter: the unit variants of
/// `linker_tools::sys::ArgKind`.
const PLAIN_KINDS: &[&str] = &[
    "Fd",
    "DirFd",
    "Size",
    "Count",
    "Offset",
    "Mode",
    "Pid",
    "Uid",
    "Gid",
    "Signal",
    "ClockId",
    "Dev",
    "IpcKey",
    "IpcId",
    "KeySerial",
    "TimerId",
    "AioContext",
    "Int",
    "Uint",
    "Reserved",
];

/// Return kinds: the variants of `linker_tools::sys::Ret`.
pub const RETS: &[&str] = &[
    "Success",
    "Fd",
    "Size",
    "Count",
    "Pid",
    "Uid",
    "Gid",
    "Signal",
    "Addr",
    "Offset",
    "Int",
    "Mode",
    "IpcId",
    "KeySerial",
    "Time",
    "Depends",
    "NoReturn",
    "Restored",
    "NotImplemented",
];

/// Integer C types 64 bits wide: no default kind, since they can carry an address.
const WIDE_INTEGERS: &[&str] = &[
    "long",
    "long int",
    "unsigned long",
    "unsigned long int",
    "long long",
    "unsigned long long",
    "u64",
    "__u64",
    "s64",
    "__s64",
    "uint64_t",
    "int64_t",
];

/// Signed integer C types of 32 bits or fewer: `Int` by default.
const NARROW_SIGNED: &[&str] = &[
    "int",
    "signed",
    "signed int",
    "short",
    "s32",
    "__s32",
    "int32_t",
    "s16",
    "__s16",
];

/// Unsigned integer C types of 32 bits or fewer: `Uint` by default.
const NARROW_UNSIGNED: &[&str] = &[
    "unsigned",
    "unsigned int",
    "unsigned short",
    "u32",
    "__u32",
    "uint32_t",
    "u16",
    "__u16",
];

/// The memory class of an argument (mirrors `linker_tools::sys::Memory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Memory {
    /// A plain value.
    None,
    /// A pointer the kernel only reads through.
    Read,
    /// A pointer the kernel may write (and read) through.
    Write,
    /// A NUL-terminated string the kernel reads.
    String,
    /// A pointer to memory holding further pointers the kernel follows.
    Indirect,
    /// An integer the kernel treats as an address in the caller's memory.
    Address,
    /// An integer or a pointer, depending on another argument.
    Depends,
}

impl Memory {
    fn parse(s: &str) -> Option<Memory> {
        Some(match s {
            "None" => Memory::None,
            "Read" => Memory::Read,
            "Write" => Memory::Write,
            "String" => Memory::String,
            "Indirect" => Memory::Indirect,
            "Address" => Memory::Address,
            "Depends" => Memory::Depends,
            _ => return None,
        })
    }

    fn rust(self) -> &'static str {
        match self {
            Memory::None => "M::None",
            Memory::Read => "M::Read",
            Memory::Write => "M::Write",
            Memory::String => "M::String",
            Memory::Indirect => "M::Indirect",
            Memory::Address => "M::Address",
            Memory::Depends => "M::Depends",
        }
    }
}

/// An argument kind (mirrors `linker_tools::sys::ArgKind`), with argument
/// references resolved to indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A unit variant (`Fd`, `Size`, …).
    Plain(&'static str),
    /// A NUL-terminated path.
    Path,
    /// Another NUL-terminated string.
    Str,
    /// A NULL-terminated array of string pointers.
    StrArray,
    /// Bytes the kernel reads, their count in argument `len`.
    Buf(usize),
    /// Bytes the kernel writes, their capacity in argument `len`.
    BufOut(usize),
    /// A pointer to a struct or union, by tag.
    Struct(String),
    /// A pointer to elements of a C type, their count in argument `len`.
    Array(String, usize),
    /// A pointer to a value of another C type.
    Ptr(String),
    /// A bit mask of a family.
    Flags(&'static str),
    /// One value of a set.
    Choice(&'static str),
    /// An address in the caller's memory.
    Addr,
    /// An integer or a pointer, depending on argument `on`.
    Depends(usize),
}

impl Kind {
    fn rust(&self) -> String {
        match self {
            Kind::Plain(k) => format!("K::{k}"),
            Kind::Path => "K::Path".to_owned(),
            Kind::Str => "K::Str".to_owned(),
            Kind::StrArray => "K::StrArray".to_owned(),
            Kind::Buf(len) => format!("K::Buf {{ len: {len} }}"),
            Kind::BufOut(len) => format!("K::BufOut {{ len: {len} }}"),
            Kind::Struct(tag) => format!("K::Struct({tag:?})"),
            Kind::Array(elem, len) => format!("K::Array {{ elem: {elem:?}, len: {len} }}"),
            Kind::Ptr(to) => format!("K::Ptr({to:?})"),
            Kind::Flags(f) => format!("K::Flags(F::{f})"),
            Kind::Choice(c) => format!("K::Choice(C::{c})"),
            Kind::Addr => "K::Addr".to_owned(),
            Kind::Depends(on) => format!("K::Depends {{ on: {on} }}"),
        }
    }
}

/// One resolved argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgSig {
    /// The name.
    pub name: String,
    /// The C type as the prototype spells it (`const char __user *`).
    pub c_type: String,
    /// The kind.
    pub kind: Kind,
    /// The memory class.
    pub memory: Memory,
}

/// One resolved signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The call's name (`read`).
    pub name: String,
    /// The arguments.
    pub args: Vec<ArgSig>,
    /// The return kind.
    pub ret: &'static str,
    /// The kernel version that added the call, for a row the headers lack because
    /// it is newer than they are.
    pub since: Option<String>,
}

/// A kind as written, before argument names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KindText {
    Plain(&'static str),
    Path,
    Str,
    StrArray,
    Buf(String),
    BufOut(String),
    Struct(Option<String>),
    Array(String),
    Ptr,
    Flags(&'static str),
    Choice(&'static str),
    Addr,
    Depends(String),
}

#[derive(Debug, Clone)]
struct ArgLine {
    line: usize,
    kind: KindText,
    mem: Option<Memory>,
}

#[derive(Debug, Clone)]
enum Origin {
    Since(String),
    Arch,
    Changed,
}

#[derive(Debug, Clone)]
struct CallBlock {
    line: usize,
    ret: &'static str,
    names: Option<(usize, Vec<String>)>,
    proto: Option<(usize, Vec<Param>)>,
    origin: Option<(usize, Origin)>,
    args: BTreeMap<String, ArgLine>,
}

/// The parsed `signatures.txt`.
#[derive(Debug, Clone, Default)]
pub struct HandFile {
    path: String,
    /// The macros the headers' conditionals name.
    pub macros: Macros,
    typedefs: BTreeMap<String, String>,
    struct_typedefs: BTreeSet<String>,
    indirect: BTreeSet<String>,
    type_defaults: BTreeMap<String, (usize, KindText)>,
    name_defaults: BTreeMap<String, (usize, KindText)>,
    calls: BTreeMap<String, CallBlock>,
}

/// Parses `signatures.txt` (the syntax is in the module docs).
pub fn parse_hand_file(path: &str, text: &str) -> Result<HandFile, Error> {
    let mut hand = HandFile {
        path: path.to_owned(),
        ..HandFile::default()
    };
    let mut current: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |msg: String| Error::Parse {
            path: path.to_owned(),
            line,
            msg,
        };
        let content = raw.split('#').next().unwrap_or_default().trim_end();
        if content.trim().is_empty() {
            continue;
        }
        if content.starts_with(char::is_whitespace) {
            let Some(call) = &current else {
                return Err(err("an indented line outside a `call` block".to_owned()));
            };
            let block = hand.calls.get_mut(call).expect("current call exists");
            parse_call_line(block, line, content.trim()).map_err(err)?;
            continue;
        }
        current = None;
        let (word, rest) = content.split_once(' ').unwrap_or((content, ""));
        let rest = rest.trim();
        match word {
            "define" | "undef" => {
                let (name, value) = match rest.split_once('=') {
                    Some((n, v)) if word == "define" => {
                        let v = v.trim();
                        let v: i64 = v
                            .parse()
                            .map_err(|_| err(format!("bad macro value {v:?}")))?;
                        (n.trim(), Macro::Defined(v))
                    }
                    _ if word == "define" => (rest, Macro::Defined(1)),
                    _ => (rest, Macro::Undefined),
                };
                if !is_identifier(name) {
                    return Err(err(format!("bad macro name {name:?}")));
                }
                if hand.macros.insert(name.to_owned(), value).is_some() {
                    return Err(err(format!("macro `{name}` is declared twice")));
                }
            }
            "typedef" => {
                let (name, ty) = rest
                    .split_once('=')
                    .ok_or_else(|| err("expected `typedef NAME = C-TYPE`".to_owned()))?;
                let name = name.trim();
                let ty = parse_params(ty).map_err(&err)?;
                let [Param { c_type, name: None }] = ty.as_slice() else {
                    return Err(err("a typedef needs exactly one unnamed C type".to_owned()));
                };
                if !is_identifier(name) {
                    return Err(err(format!("bad typedef name {name:?}")));
                }
                if hand
                    .typedefs
                    .insert(name.to_owned(), c_type.clone())
                    .is_some()
                {
                    return Err(err(format!("typedef `{name}` is declared twice")));
                }
            }
            "struct-typedef" | "indirect" => {
                let set = if word == "indirect" {
                    &mut hand.indirect
                } else {
                    &mut hand.struct_typedefs
                };
                if rest.is_empty() {
                    return Err(err(format!("`{word}` needs at least one name")));
                }
                for name in rest.split_whitespace() {
                    if !is_identifier(name) || !set.insert(name.to_owned()) {
                        return Err(err(format!("bad or repeated name {name:?}")));
                    }
                }
            }
            "type" | "name" => {
                let (keys, kind) = rest
                    .split_once('=')
                    .ok_or_else(|| err(format!("expected `{word} … = KIND`")))?;
                let kind = parse_kind(kind.trim()).map_err(&err)?;
                if !matches!(
                    kind,
                    KindText::Plain(_) | KindText::Flags(_) | KindText::Choice(_)
                ) {
                    return Err(err(
                        "a default kind must be a plain kind, Flags or Choice".to_owned()
                    ));
                }
                let keys: Vec<String> = if word == "type" {
                    keys.split(',').map(|k| norm_spaces(k.trim())).collect()
                } else {
                    keys.split_whitespace().map(str::to_owned).collect()
                };
                for key in keys {
                    if key.is_empty() {
                        return Err(err("an empty name in a default".to_owned()));
                    }
                    let map = if word == "type" {
                        &mut hand.type_defaults
                    } else {
                        &mut hand.name_defaults
                    };
                    if map.insert(key.clone(), (line, kind.clone())).is_some() {
                        return Err(err(format!("`{key}` has two defaults")));
                    }
                }
            }
            "call" => {
                let (name, ret) = rest
                    .split_once("->")
                    .ok_or_else(|| err("expected `call NAME -> RET`".to_owned()))?;
                let (name, ret) = (name.trim(), ret.trim());
                if !is_identifier(name) {
                    return Err(err(format!("bad call name {name:?}")));
                }
                let ret = RETS.iter().find(|r| **r == ret).ok_or_else(|| {
                    err(format!(
                        "unknown return kind {ret:?} (one of {})",
                        RETS.join(", ")
                    ))
                })?;
                let block = CallBlock {
                    line,
                    ret,
                    names: None,
                    proto: None,
                    origin: None,
                    args: BTreeMap::new(),
                };
                if let Some(prev) = hand.calls.insert(name.to_owned(), block) {
                    return Err(err(format!(
                        "`{name}` has a second block (first at line {})",
                        prev.line
                    )));
                }
                current = Some(name.to_owned());
            }
            other => return Err(err(format!("unknown directive {other:?}"))),
        }
    }
    Ok(hand)
}

fn norm_spaces(s: &str) -> String {
    s.replace('*', " * ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_call_line(block: &mut CallBlock, line: usize, text: &str) -> Result<(), String> {
    let (key, value) = text
        .split_once(':')
        .ok_or_else(|| format!("expected `KEY: VALUE`, found {text:?}"))?;
    let (key, value) = (key.trim(), value.trim());
    match key {
        "names" => {
            let names: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
            if let Some(bad) = names.iter().find(|n| !is_identifier(n)) {
                return Err(format!("bad argument name {bad:?}"));
            }
            if block.names.replace((line, names)).is_some() {
                return Err("a second `names:` line".to_owned());
            }
        }
        "proto" => {
            let params = parse_params(value)?;
            if block.proto.replace((line, params)).is_some() {
                return Err("a second `proto:` line".to_owned());
            }
        }
        "since" | "arch" | "changed" => {
            let origin = match key {
                "since" => Origin::Since(parse_version(value)?),
                "arch" if !value.is_empty() => Origin::Arch,
                "changed" => {
                    let (v, why) = value.split_once(' ').unwrap_or((value, ""));
                    if why.trim().is_empty() {
                        return Err("`changed:` needs a version and a reason".to_owned());
                    }
                    parse_version(v)?;
                    Origin::Changed
                }
                _ => return Err("`arch:` needs a reason".to_owned()),
            };
            if block.origin.replace((line, origin)).is_some() {
                return Err("a second `since:`, `arch:` or `changed:` line".to_owned());
            }
        }
        arg if is_identifier(arg) => {
            let mut words = value.split_whitespace();
            let kind = parse_kind(words.next().unwrap_or_default())?;
            let mut mem = None;
            for w in words {
                let m = w
                    .strip_prefix("mem=")
                    .and_then(Memory::parse)
                    .ok_or_else(|| format!("expected `mem=CLASS` after the kind, found {w:?}"))?;
                if mem.replace(m).is_some() {
                    return Err("a second `mem=`".to_owned());
                }
            }
            let prev = block
                .args
                .insert(arg.to_owned(), ArgLine { line, kind, mem });
            if prev.is_some() {
                return Err(format!("argument `{arg}` is described twice"));
            }
        }
        other => return Err(format!("unknown key {other:?}")),
    }
    Ok(())
}

/// Parses `X.Y` into a normalised string, refusing versions not after the headers'.
fn parse_version(s: &str) -> Result<String, String> {
    let bad = || format!("bad kernel version {s:?} (expected X.Y)");
    let (major, minor) = s.split_once('.').ok_or_else(bad)?;
    let major: u32 = major.parse().map_err(|_| bad())?;
    let minor: u32 = minor.parse().map_err(|_| bad())?;
    let (hm, hn) = HEADER_VERSION;
    if (major, minor) <= HEADER_VERSION {
        return Err(format!(
            "version {s} is not after the headers' {hm}.{hn}: the header should have it"
        ));
    }
    let (km, kn) = crate::KERNEL_VERSION
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .expect("KERNEL_VERSION is X.Y");
    if (major, minor) > (km, kn) {
        return Err(format!(
            "version {s} is after the table's Linux {}",
            crate::KERNEL_VERSION
        ));
    }
    Ok(format!("{major}.{minor}"))
}

fn parse_kind(s: &str) -> Result<KindText, String> {
    let (head, arg) = match s.split_once('(') {
        Some((h, rest)) => {
            let arg = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("unclosed `(` in kind {s:?}"))?;
            if !is_identifier(arg) {
                return Err(format!("bad parameter {arg:?} in kind {s:?}"));
            }
            (h, Some(arg.to_owned()))
        }
        None => (s, None),
    };
    let need = |what: &str| format!("`{head}` takes {what}: `{head}(…)`");
    let family = |list: &'static [&'static str], arg: &Option<String>| {
        let a = arg.as_deref().ok_or_else(|| need("a family"))?;
        list.iter().copied().find(|f| *f == a).ok_or_else(|| {
            format!(
                "unknown {head} family {a:?} (add it to xtask and to linker_tools::sys, or use \
                 one of {})",
                list.join(", ")
            )
        })
    };
    let kind = match head {
        "Path" => KindText::Path,
        "Str" => KindText::Str,
        "StrArray" => KindText::StrArray,
        "Ptr" => KindText::Ptr,
        "Addr" => KindText::Addr,
        "Struct" => KindText::Struct(arg.clone()),
        "Buf" => KindText::Buf(arg.clone().ok_or_else(|| need("a length argument"))?),
        "BufOut" => KindText::BufOut(arg.clone().ok_or_else(|| need("a length argument"))?),
        "Array" => KindText::Array(arg.clone().ok_or_else(|| need("a count argument"))?),
        "Depends" => KindText::Depends(arg.clone().ok_or_else(|| need("an argument"))?),
        "Flags" => KindText::Flags(family(FLAG_FAMILIES, &arg)?),
        "Choice" => KindText::Choice(family(CHOICES, &arg)?),
        plain => {
            let k = PLAIN_KINDS
                .iter()
                .copied()
                .find(|k| *k == plain)
                .ok_or_else(|| format!("unknown kind {s:?}"))?;
            KindText::Plain(k)
        }
    };
    let takes_arg = matches!(
        kind,
        KindText::Struct(_)
            | KindText::Buf(_)
            | KindText::BufOut(_)
            | KindText::Array(_)
            | KindText::Depends(_)
            | KindText::Flags(_)
            | KindText::Choice(_)
    );
    if arg.is_some() && !takes_arg {
        return Err(format!("`{head}` takes no parameter"));
    }
    Ok(kind)
}

/// What a C type is, seen through the hand file's typedefs.
struct TypeShape {
    /// Pointer depth (`char **` is 2).
    depth: usize,
    /// The pointee (or the type itself) without `const`, `volatile`, `__user`:
    /// `struct iovec`, `char`, `unsigned long`.
    base: String,
    /// What the outermost pointer points to is `const`.
    const_pointee: bool,
}

impl HandFile {
    fn shape(&self, c_type: &str) -> TypeShape {
        let tokens: Vec<&str> = c_type.split(' ').collect();
        // A typedef used alone (with qualifiers) stands for its definition; a
        // `const` on the typedef qualifies the pointer itself, not the pointee.
        let named: Vec<&str> = tokens
            .iter()
            .copied()
            .filter(|t| !matches!(*t, "const" | "volatile" | "__user"))
            .collect();
        if let [one] = named.as_slice() {
            if let Some(def) = self.typedefs.get(*one) {
                return self.shape(def);
            }
        }
        let depth = tokens.iter().filter(|t| **t == "*").count();
        let last_star = tokens.iter().rposition(|t| *t == "*");
        let before = &tokens[..last_star.unwrap_or(tokens.len())];
        let innermost_star = before.iter().rposition(|t| *t == "*");
        let segment = &before[innermost_star.map_or(0, |p| p + 1)..];
        let const_pointee = depth > 0 && segment.contains(&"const");
        let base = tokens
            .iter()
            .copied()
            .filter(|t| !matches!(*t, "const" | "volatile" | "__user" | "*"))
            .collect::<Vec<_>>()
            .join(" ");
        TypeShape {
            depth,
            base,
            const_pointee,
        }
    }

    fn is_indirect(&self, base: &str) -> bool {
        let tag = base
            .strip_prefix("struct ")
            .or_else(|| base.strip_prefix("union "))
            .unwrap_or(base);
        self.indirect.contains(tag)
    }

    fn struct_tag(&self, base: &str) -> Option<String> {
        base.strip_prefix("struct ")
            .or_else(|| base.strip_prefix("union "))
            .map(str::to_owned)
            .or_else(|| self.struct_typedefs.contains(base).then(|| base.to_owned()))
    }
}

/// Joins the table, the prototypes and the hand file into one signature per call,
/// in the table's order.
pub fn resolve(
    calls: &[Syscall],
    headers: &[Prototype],
    hand: &HandFile,
) -> Result<Vec<Signature>, Error> {
    let path = hand.path.as_str();
    let at = |line: usize, msg: String| Error::Parse {
        path: path.to_owned(),
        line,
        msg,
    };
    let by_entry: BTreeMap<&str, &Prototype> =
        headers.iter().map(|p| (p.name.as_str(), p)).collect();
    let known: BTreeSet<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    if let Some((name, block)) = hand.calls.iter().find(|(n, _)| !known.contains(n.as_str())) {
        return Err(at(
            block.line,
            format!("`{name}` is not a row of the system call table"),
        ));
    }
    let lines = hand_lines(hand);
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        let entry = call.entry.as_deref().unwrap_or("sys_ni_syscall");
        let block = hand.calls.get(&call.name).ok_or_else(|| {
            at(
                lines,
                format!(
                    "no `call {} -> RET` block for table row {} (entry point `{entry}`)",
                    call.name, call.nr
                ),
            )
        })?;
        let err = |msg: String| at(block.line, format!("`{}`: {msg}", call.name));
        let header = by_entry.get(entry);
        let (params, since) = match (&block.proto, &block.origin, header) {
            (Some(_), None, _) => {
                return Err(err(
                    "a `proto:` row needs `since:`, `arch:` or `changed:`".to_owned()
                ));
            }
            (None, Some((line, _)), _) => {
                return Err(at(
                    *line,
                    "`since:`, `arch:` and `changed:` belong to a `proto:` row".to_owned(),
                ));
            }
            (Some((line, _)), Some((_, Origin::Since(_) | Origin::Arch)), Some(h)) => {
                return Err(at(
                    *line,
                    format!(
                        "{}:{} declares `{entry}`: drop this `proto:`, or mark it `changed:`",
                        h.path, h.line
                    ),
                ));
            }
            (Some((line, _)), Some((_, Origin::Changed)), None) => {
                return Err(at(
                    *line,
                    format!("no header declares `{entry}`: use `since:` or `arch:`"),
                ));
            }
            (Some((_, p)), Some((_, origin)), _) => {
                let since = match origin {
                    Origin::Since(v) => Some(v.clone()),
                    Origin::Arch | Origin::Changed => None,
                };
                (p.clone(), since)
            }
            (None, None, Some(h)) => (h.params.clone(), None),
            (None, None, None) => {
                return Err(err(format!(
                    "no header declares `{entry}`: give its `proto:` with `since:` or `arch:`"
                )));
            }
        };
        let ni = entry == "sys_ni_syscall";
        if ni != (block.ret == "NotImplemented") {
            return Err(err(format!(
                "entry point `{entry}`: the return kind must {}be NotImplemented",
                if ni { "" } else { "not " }
            )));
        }
        if call.noreturn != (block.ret == "NoReturn") {
            return Err(err(format!(
                "the table {} `noreturn`: the return kind must {}be NoReturn",
                if call.noreturn {
                    "marks it"
                } else {
                    "does not mark it"
                },
                if call.noreturn { "" } else { "not " }
            )));
        }
        if params.len() > 6 {
            return Err(err(format!(
                "{} parameters: x86_64 passes at most 6",
                params.len()
            )));
        }
        let names: Vec<String> = match &block.names {
            Some((line, names)) => {
                if names.len() != params.len() {
                    return Err(at(
                        *line,
                        format!(
                            "{} names for {} parameters of `{entry}`",
                            names.len(),
                            params.len()
                        ),
                    ));
                }
                names.clone()
            }
            None => params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    p.name.clone().ok_or_else(|| {
                        err(format!(
                            "parameter {} of `{entry}` has no name: give `names:`",
                            i + 1
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let mut unique = BTreeSet::new();
        if let Some(dup) = names.iter().find(|n| !unique.insert(n.as_str())) {
            return Err(err(format!("two arguments are named `{dup}`")));
        }
        if let Some((name, line)) = block
            .args
            .iter()
            .find(|(n, _)| !unique.contains(n.as_str()))
        {
            return Err(at(
                line.line,
                format!(
                    "`{}` has no argument `{name}` (its arguments: {})",
                    call.name,
                    names.join(", ")
                ),
            ));
        }
        let index = |line: usize, n: &str, me: usize| -> Result<usize, Error> {
            match names.iter().position(|x| x == n) {
                Some(i) if i != me => Ok(i),
                Some(_) => Err(at(line, format!("`{n}` refers to itself"))),
                None => Err(at(line, format!("`{}` has no argument `{n}`", call.name))),
            }
        };
        let mut args = Vec::with_capacity(params.len());
        for (i, (param, name)) in params.iter().zip(&names).enumerate() {
            let shape = hand.shape(&param.c_type);
            let pointer = shape.depth > 0;
            let explicit = block.args.get(name);
            let line = explicit.map_or(block.line, |a| a.line);
            let bad = |msg: String| {
                at(
                    line,
                    format!(
                        "`{}` argument `{name}` (`{}`): {msg}",
                        call.name, param.c_type
                    ),
                )
            };
            let text = match explicit {
                Some(a) => a.kind.clone(),
                None => default_kind(hand, name, &param.c_type, &shape).map_err(&bad)?,
            };
            let kind = match text {
                KindText::Plain(k) => Kind::Plain(k),
                KindText::Path => Kind::Path,
                KindText::Str => Kind::Str,
                KindText::StrArray => Kind::StrArray,
                KindText::Buf(n) => Kind::Buf(index(line, &n, i)?),
                KindText::BufOut(n) => Kind::BufOut(index(line, &n, i)?),
                KindText::Struct(Some(tag)) => Kind::Struct(tag),
                KindText::Struct(None) => Kind::Struct(
                    hand.struct_tag(&shape.base)
                        .filter(|_| shape.depth == 1)
                        .ok_or_else(|| {
                            bad("not a pointer to a struct: name it, `Struct(tag)`".to_owned())
                        })?,
                ),
                KindText::Array(n) => Kind::Array(pointee(&shape), index(line, &n, i)?),
                KindText::Ptr => Kind::Ptr(pointee(&shape)),
                KindText::Flags(f) => Kind::Flags(f),
                KindText::Choice(c) => Kind::Choice(c),
                KindText::Addr => Kind::Addr,
                KindText::Depends(n) => Kind::Depends(index(line, &n, i)?),
            };
            let needs_pointer = matches!(
                kind,
                Kind::Path
                    | Kind::Str
                    | Kind::StrArray
                    | Kind::Buf(_)
                    | Kind::BufOut(_)
                    | Kind::Struct(_)
                    | Kind::Array(..)
                    | Kind::Ptr(_)
            );
            if needs_pointer && !pointer {
                return Err(bad("this kind needs a pointer type".to_owned()));
            }
            let value_kind = matches!(kind, Kind::Plain(k) if k != "Reserved")
                || matches!(kind, Kind::Flags(_) | Kind::Choice(_));
            if value_kind && pointer {
                return Err(bad(
                    "a value kind on a pointer type: the kernel follows it".to_owned()
                ));
            }
            if matches!(kind, Kind::StrArray) && shape.depth != 2 {
                return Err(bad("StrArray needs a pointer to pointers".to_owned()));
            }
            if matches!(kind, Kind::Path | Kind::Str) && (shape.depth != 1 || shape.base != "char")
            {
                return Err(bad("a string needs a `char *` type".to_owned()));
            }
            let derived = match &kind {
                Kind::Path | Kind::Str => Memory::String,
                Kind::StrArray => Memory::Indirect,
                Kind::Addr => Memory::Address,
                Kind::Depends(_) => Memory::Depends,
                _ if !pointer => Memory::None,
                _ if shape.depth > 1 || hand.is_indirect(&shape.base) => Memory::Indirect,
                Kind::Struct(tag) if hand.is_indirect(tag) => Memory::Indirect,
                Kind::Buf(_) => Memory::Read,
                Kind::BufOut(_) => Memory::Write,
                _ if shape.const_pointee => Memory::Read,
                _ => Memory::Write,
            };
            let memory = match explicit.and_then(|a| a.mem) {
                None => derived,
                Some(m) => {
                    if !pointer || !matches!(m, Memory::Read | Memory::Write | Memory::Indirect) {
                        return Err(bad(
                            "`mem=` may only set Read, Write or Indirect on a pointer".to_owned(),
                        ));
                    }
                    if m == derived {
                        return Err(bad(format!("`mem={m:?}` is what it is anyway: drop it")));
                    }
                    if derived == Memory::Indirect || derived == Memory::String {
                        return Err(bad(format!(
                            "`mem={m:?}` would weaken the derived {derived:?}"
                        )));
                    }
                    m
                }
            };
            args.push(ArgSig {
                name: name.clone(),
                c_type: param.c_type.clone(),
                kind,
                memory,
            });
        }
        out.push(Signature {
            name: call.name.clone(),
            args,
            ret: block.ret,
            since,
        });
    }
    Ok(out)
}

fn hand_lines(hand: &HandFile) -> usize {
    hand.calls.values().map(|c| c.line).max().unwrap_or(0)
}

fn pointee(shape: &TypeShape) -> String {
    let mut s = shape.base.clone();
    for _ in 1..shape.depth {
        s.push_str(" *");
    }
    s
}

fn default_kind(
    hand: &HandFile,
    name: &str,
    c_type: &str,
    shape: &TypeShape,
) -> Result<KindText, String> {
    if shape.depth > 1 {
        return Ok(KindText::Ptr);
    }
    if shape.depth == 1 {
        if matches!(
            shape.base.as_str(),
            "char" | "unsigned char" | "signed char" | "void"
        ) {
            return Err(
                "a char or void pointer needs a kind (Path, Str, Buf(len), BufOut(len), Ptr, …)"
                    .to_owned(),
            );
        }
        if hand.struct_tag(&shape.base).is_some() {
            return Ok(KindText::Struct(None));
        }
        return Ok(KindText::Ptr);
    }
    if let Some((_, k)) = hand.name_defaults.get(name) {
        return Ok(k.clone());
    }
    let bare = c_type
        .split(' ')
        .filter(|t| !matches!(*t, "const" | "volatile"))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some((_, k)) = hand.type_defaults.get(&bare) {
        return Ok(k.clone());
    }
    if WIDE_INTEGERS.contains(&bare.as_str()) {
        return Err(
            "a 64-bit integer needs a kind: it may carry an address or a pointer".to_owned(),
        );
    }
    if NARROW_SIGNED.contains(&bare.as_str()) {
        return Ok(KindText::Plain("Int"));
    }
    if NARROW_UNSIGNED.contains(&bare.as_str()) {
        return Ok(KindText::Plain("Uint"));
    }
    Err(format!(
        "no default kind for `{bare}`: give one, or a `type {bare} = KIND` default"
    ))
}

/// Renders `linker-tools/src/sys/signatures.rs` (before rustfmt).
pub fn render(sigs: &[Signature], inputs: &[&str]) -> String {
    let v = crate::KERNEL_VERSION;
    let (hm, hn) = HEADER_VERSION;
    let count = sigs.len();
    let list = match inputs.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        _ => inputs.join(""),
    };
    let header = wrap_comment(&format!(
        "Code generated by `cargo xtask gen` from {list} (Linux {v}). DO NOT EDIT."
    ));
    let mut s = format!(
        "{header}

//! The data behind [`Sysno::signature`]: one [`Signature`] per x86_64 system call
//! ({count} calls, Linux {v}), in the order of [`Sysno::ALL`].
//!
//! Argument names and C types come from the kernel's prototypes
//! (`include/linux/syscalls.h` of Linux {hm}.{hn}); calls added later, x86-specific
//! entry points and every kind, memory class and return kind come from the
//! hand-kept `xtask/input/signatures.txt`.

use super::Sysno;
use super::signature::{{Arg, ArgKind as K, Choice as C, FlagFamily as F, Memory as M, Ret, Signature}};

const fn a(name: &'static str, c_type: &'static str, kind: K, memory: M) -> Arg {{
    Arg {{ name, c_type, kind, memory }}
}}

const fn s(name: &'static str, args: &'static [Arg], ret: Ret, since: Option<&'static str>) -> Signature {{
    Signature {{ name, args, ret, since }}
}}

/// Every signature, in the order of [`Sysno::ALL`].
pub(super) const TABLE: &[Signature; {count}] = &[
",
    );
    for sig in sigs {
        let since = sig
            .since
            .as_ref()
            .map_or_else(|| "None".to_owned(), |v| format!("Some({v:?})"));
        if sig.args.is_empty() {
            s += &format!("    s({:?}, &[], Ret::{}, {since}),\n", sig.name, sig.ret);
            continue;
        }
        s += &format!("    s({:?}, &[\n", sig.name);
        for a in &sig.args {
            s += &format!(
                "        a({:?}, {:?}, {}, {}),\n",
                a.name,
                a.c_type,
                a.kind.rust(),
                a.memory.rust()
            );
        }
        s += &format!("    ], Ret::{}, {since}),\n", sig.ret);
    }
    s += "];

/// The position of `nr` in [`TABLE`] (and [`Sysno::ALL`]).
pub(super) const fn index(nr: Sysno) -> usize {
    match nr {
";
    for (i, sig) in sigs.iter().enumerate() {
        s += &format!("        Sysno::{} => {i},\n", crate::rust_ident(&sig.name));
    }
    s += "    }
}
";
    s
}

/// `text` as `//` comment lines of at most 80 columns (a longer word stands alone).
fn wrap_comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("//");
    for word in text.split(' ') {
        if line.len() > 2 && line.len() + 1 + word.len() > 80 {
            out += &line;
            out.push('\n');
            line = String::from("//");
        }
        line.push(' ');
        line.push_str(word);
    }
    out + &line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Abi;

    fn call(nr: u32, name: &str, entry: Option<&str>) -> Syscall {
        Syscall {
            nr,
            abi: Abi::Common,
            name: name.to_owned(),
            entry: entry.map(str::to_owned),
            noreturn: false,
        }
    }

    fn proto(name: &str, params: &str) -> Prototype {
        Prototype {
            name: name.to_owned(),
            params: parse_params(params).unwrap(),
            path: "h".to_owned(),
            line: 1,
        }
    }

    fn run(calls: &[Syscall], protos: &[Prototype], hand: &str) -> Result<Vec<Signature>, Error> {
        resolve(calls, protos, &parse_hand_file("s", hand)?)
    }

    const DEFAULTS: &str = "type size_t = Size\nname fd = Fd\nindirect iovec\n";

    #[test]
    fn kinds_and_memory_are_derived() {
        let calls = [
            call(0, "read", Some("sys_read")),
            call(1, "readv", Some("sys_readv")),
            call(2, "mmap", Some("sys_mmap")),
        ];
        let protos = [
            proto(
                "sys_read",
                "unsigned int fd, char __user *buf, size_t count",
            ),
            proto(
                "sys_readv",
                "unsigned long fd, const struct iovec __user *vec, unsigned long vlen",
            ),
        ];
        let hand = format!(
            "{DEFAULTS}call read -> Size\n  buf: BufOut(count)\n\
             call readv -> Size\n  vec: Array(vlen)\n  vlen: Count\n\
             call mmap -> Addr\n  proto: unsigned long addr, unsigned long len\n  arch: x86\n\
             \x20 addr: Addr\n  len: Size\n"
        );
        let sigs = run(&calls, &protos, &hand).unwrap();
        let read = &sigs[0].args;
        assert_eq!(read[0].kind, Kind::Plain("Fd"));
        assert_eq!(read[1].kind, Kind::BufOut(2));
        assert_eq!(read[1].memory, Memory::Write);
        assert_eq!(read[2].kind, Kind::Plain("Size"));
        let readv = &sigs[1].args;
        assert_eq!(
            readv[0].kind,
            Kind::Plain("Fd"),
            "name default on a wide int"
        );
        assert_eq!(readv[1].kind, Kind::Array("struct iovec".to_owned(), 2));
        assert_eq!(
            readv[1].memory,
            Memory::Indirect,
            "const iovec is still indirect"
        );
        assert_eq!(sigs[2].args[0].memory, Memory::Address);
        assert_eq!(sigs[2].since, None);
    }

    #[test]
    fn hand_rows_obey_their_rules() {
        let calls = [call(0, "read", Some("sys_read"))];
        let protos = [proto(
            "sys_read",
            "unsigned int fd, char __user *buf, size_t count",
        )];
        let ok = format!("{DEFAULTS}call read -> Size\n  buf: BufOut(count)\n");
        assert!(run(&calls, &protos, &ok).is_ok());
        let cases = [
            // no block at all
            DEFAULTS.to_owned(),
            // a block for a call the table lacks
            format!("{ok}call nope -> Success\n"),
            // char pointer without a kind
            format!("{DEFAULTS}call read -> Size\n"),
            // unknown argument
            format!("{ok}  bogus: Int\n"),
            // length refers to a missing argument
            format!("{DEFAULTS}call read -> Size\n  buf: BufOut(len)\n"),
            // a value kind on a pointer
            format!("{DEFAULTS}call read -> Size\n  buf: Int\n"),
            // a pointer kind on a value
            format!("{DEFAULTS}call read -> Size\n  buf: BufOut(count)\n  count: Path\n"),
            // a proto for a call the header declares
            format!("{ok}  proto: int fd\n  since: 6.5\n"),
            // since without proto
            format!("{ok}  since: 6.5\n"),
            // a version not after the headers
            format!("{DEFAULTS}call read -> Size\n  proto: int fd\n  changed: 6.1 why\n"),
            // wrong number of names
            format!("{ok}  names: a b\n"),
            // NotImplemented on an implemented call
            format!("{DEFAULTS}call read -> NotImplemented\n  buf: BufOut(count)\n"),
            // mem= that changes nothing
            format!("{DEFAULTS}call read -> Size\n  buf: BufOut(count) mem=Write\n"),
            // unknown family
            format!("{DEFAULTS}call read -> Size\n  buf: BufOut(count)\n  fd: Flags(Nope)\n"),
        ];
        for (i, hand) in cases.iter().enumerate() {
            let e = run(&calls, &protos, hand).expect_err(&format!("case {i} must fail"));
            assert!(e.to_string().starts_with("s:"), "case {i}: {e}");
        }
    }

    #[test]
    fn wide_integers_need_a_kind() {
        let calls = [call(0, "brk", Some("sys_brk"))];
        let protos = [proto("sys_brk", "unsigned long brk")];
        let e = run(&calls, &protos, "call brk -> Addr\n").unwrap_err();
        assert!(e.to_string().contains("64-bit"), "{e}");
        let sigs = run(&calls, &protos, "call brk -> Addr\n  brk: Addr\n").unwrap();
        assert_eq!(sigs[0].args[0].memory, Memory::Address);
    }

    #[test]
    fn reserved_numbers_and_noreturn_are_checked() {
        let calls = [call(0, "uselib", None)];
        let protos = [proto("sys_ni_syscall", "void")];
        assert!(run(&calls, &protos, "call uselib -> NotImplemented\n").is_ok());
        assert!(run(&calls, &protos, "call uselib -> Success\n").is_err());
        let mut exit = call(0, "exit", Some("sys_exit"));
        exit.noreturn = true;
        let protos = [proto("sys_exit", "int error_code")];
        assert!(
            run(
                std::slice::from_ref(&exit),
                &protos,
                "call exit -> NoReturn\n"
            )
            .is_ok()
        );
        assert!(run(&[exit], &protos, "call exit -> Success\n").is_err());
    }

    #[test]
    fn pointer_typedefs_and_const_pointers() {
        let calls = [call(0, "capset", Some("sys_capset"))];
        let protos = [proto(
            "sys_capset",
            "cap_user_header_t header, const cap_user_data_t data",
        )];
        let hand = "typedef cap_user_header_t = struct hdr __user *\n\
                    typedef cap_user_data_t = struct data __user *\n\
                    call capset -> Success\n  data: Struct mem=Read\n";
        let sigs = run(&calls, &protos, hand).unwrap();
        assert_eq!(sigs[0].args[0].kind, Kind::Struct("hdr".to_owned()));
        assert_eq!(sigs[0].args[0].memory, Memory::Write);
        assert_eq!(sigs[0].args[1].memory, Memory::Read);
    }
}
