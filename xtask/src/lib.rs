//! The generator behind `cargo xtask gen`: the committed syscall-number, errno and
//! signature tables of `linker-tools` (the role of Go's `mkall.sh`, `mksysnum`,
//! `mkerrors.sh` and `mksyscall`'s prototypes).
//!
//! | input (`xtask/input/`) | output | what it holds |
//! |---|---|---|
//! | `syscall_64.tbl` | `linker-tools/src/sys/sysno.rs` | `Sysno`, one variant per x86_64 system call |
//! | `errno-base.h`, `errno.h` | `linker-tools/src/sys/errno/table.rs` | the `Errno` constants, names and messages |
//! | `syscall_64.tbl`, `syscalls.h`, `syscalls-x86.h`, `signatures.txt` | `linker-tools/src/sys/signatures.rs` | one `Signature` per call: argument names, C types, kinds, memory classes, return kind |
//!
//! The inputs are committed, so generation is deterministic and needs no kernel
//! tree: [`generate()`] reads them and returns the outputs in memory, [`write()`]
//! stores them, [`check()`] compares them with what is committed. Errno messages are
//! the C library's `strerror` text, read at generation time (as `mkerrors.sh`
//! does). Every output goes through `rustfmt` before it is compared or written.
//!
//! `syscalls.h` is the kernel's `include/linux/syscalls.h` and `syscalls-x86.h` its
//! `arch/x86/include/asm/syscalls.h`, both copied unchanged from Debian's
//! `linux-headers-6.1.0-47-common` (Linux 6.1); the syscall entry column of
//! `syscall_64.tbl` says which `sys_*` prototype each number uses. What those
//! headers lack (calls added after 6.1, x86-only entry points) and everything a C
//! type cannot tell (which `int` is a descriptor, which `unsigned long` an address,
//! which `char *` a path) is in the hand-kept `signatures.txt`; its format and the
//! classification rules are in [`signatures`], the header reading in [`header`].

pub mod header;
pub mod signatures;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CStr;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The kernel release the committed `syscall_64.tbl` reflects.
pub const KERNEL_VERSION: &str = "6.18";

/// The system call table, relative to the workspace root.
pub const SYSCALL_TBL: &str = "xtask/input/syscall_64.tbl";
/// The generic errno headers, relative to the workspace root (numbers 1..=34 first).
pub const ERRNO_HEADERS: [&str; 2] = ["xtask/input/errno-base.h", "xtask/input/errno.h"];
/// The generated `Sysno` module, relative to the workspace root.
pub const SYSNO_OUT: &str = "linker-tools/src/sys/sysno.rs";
/// The generated errno table, relative to the workspace root.
pub const ERRNO_OUT: &str = "linker-tools/src/sys/errno/table.rs";
/// The kernel's generic syscall prototypes, relative to the workspace root.
pub const SYSCALLS_H: &str = "xtask/input/syscalls.h";
/// The kernel's x86 syscall prototypes, relative to the workspace root.
pub const SYSCALLS_X86_H: &str = "xtask/input/syscalls-x86.h";
/// The hand-kept signature rows and argument kinds, relative to the workspace root.
pub const SIGNATURES_TXT: &str = "xtask/input/signatures.txt";
/// The generated signature table, relative to the workspace root.
pub const SIGNATURES_OUT: &str = "linker-tools/src/sys/signatures.rs";

/// Aliases the C library adds on top of the kernel headers: `(alias, target)`.
///
/// glibc defines `ENOTSUP` as `EOPNOTSUPP`; the kernel headers do not.
const LIBC_ALIASES: [(&str, &str); 1] = [("ENOTSUP", "EOPNOTSUPP")];

/// What can go wrong while generating.
#[derive(Debug)]
pub enum Error {
    /// An input or output file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An input file is malformed.
    Parse {
        /// The input file.
        path: String,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        msg: String,
    },
    /// `rustfmt` could not be run or rejected the generated code.
    Rustfmt(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Parse { path, line, msg } => write!(f, "{path}:{line}: {msg}"),
            Error::Rustfmt(msg) => write!(f, "rustfmt: {msg}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// One generated file: where it goes (relative to the workspace root) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The path relative to the workspace root.
    pub path: PathBuf,
    /// The complete, rustfmt-formatted contents.
    pub contents: String,
}

/// A generated file whose committed contents differ from what the generator makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The path relative to the workspace root.
    pub path: PathBuf,
    /// A short description of the difference.
    pub summary: String,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.summary)
    }
}

/// Generates every output in memory from the committed inputs under `root`.
pub fn generate(root: &Path) -> Result<Vec<Output>, Error> {
    let tbl = read(root, SYSCALL_TBL)?;
    let syscalls = parse_syscall_tbl(SYSCALL_TBL, &tbl)?;
    let mut defs = Vec::new();
    for header in ERRNO_HEADERS {
        defs.extend(parse_errno_header(header, &read(root, header)?)?);
    }
    let errnos = resolve_errnos(&defs)?;
    let hand = signatures::parse_hand_file(SIGNATURES_TXT, &read(root, SIGNATURES_TXT)?)?;
    let mut protos = Vec::new();
    for header in [SYSCALLS_H, SYSCALLS_X86_H] {
        protos.extend(header::parse_header(
            header,
            &read(root, header)?,
            &hand.macros,
        )?);
    }
    let sigs = signatures::resolve(&syscalls, &protos, &hand)?;
    let inputs = [SYSCALL_TBL, SYSCALLS_H, SYSCALLS_X86_H, SIGNATURES_TXT];
    Ok(vec![
        Output {
            path: SYSNO_OUT.into(),
            contents: rustfmt(&render_sysno(&syscalls))?,
        },
        Output {
            path: ERRNO_OUT.into(),
            contents: rustfmt(&render_errno(&errnos))?,
        },
        Output {
            path: SIGNATURES_OUT.into(),
            contents: rustfmt(&signatures::render(&sigs, &inputs))?,
        },
    ])
}

/// Generates every output and writes those that changed; returns all outputs.
pub fn write(root: &Path) -> Result<Vec<Output>, Error> {
    let outputs = generate(root)?;
    for out in &outputs {
        let path = root.join(&out.path);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(out.contents.as_str()) {
            std::fs::write(&path, &out.contents).map_err(|source| Error::Io { path, source })?;
        }
    }
    Ok(outputs)
}

/// Generates every output and compares it with the committed file; returns the
/// stale ones (empty when everything is up to date).
pub fn check(root: &Path) -> Result<Vec<Stale>, Error> {
    let mut stale = Vec::new();
    for out in generate(root)? {
        let path = root.join(&out.path);
        let summary = match std::fs::read_to_string(&path) {
            Ok(committed) if committed == out.contents => continue,
            Ok(committed) => diff_summary(&committed, &out.contents),
            Err(err) => format!("cannot read the committed file ({err})"),
        };
        stale.push(Stale {
            path: out.path,
            summary,
        });
    }
    Ok(stale)
}

/// Describes how `committed` differs from `generated`: the number of differing
/// lines and the first difference.
pub fn diff_summary(committed: &str, generated: &str) -> String {
    let old: Vec<&str> = committed.lines().collect();
    let new: Vec<&str> = generated.lines().collect();
    let len = old.len().max(new.len());
    let differing = (0..len)
        .filter(|&i| old.get(i) != new.get(i))
        .collect::<Vec<_>>();
    let Some(&first) = differing.first() else {
        return "differs only in line endings or a trailing newline".to_owned();
    };
    let show =
        |l: Option<&&str>| l.map_or_else(|| "<end of file>".to_owned(), |l| format!("{l:?}"));
    format!(
        "{} line(s) differ ({} committed, {} generated); first at line {}:\n  committed: {}\n  generated: {}",
        differing.len(),
        old.len(),
        new.len(),
        first + 1,
        show(old.get(first)),
        show(new.get(first)),
    )
}

fn read(root: &Path, rel: &str) -> Result<String, Error> {
    let path = root.join(rel);
    std::fs::read_to_string(&path).map_err(|source| Error::Io { path, source })
}

/// Formats Rust source with `rustfmt --edition 2024`, as `cargo fmt` would.
pub fn rustfmt(src: &str) -> Result<String, Error> {
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut child = Command::new(&rustfmt)
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .current_dir(workspace_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Rustfmt(format!("cannot run `{}`: {e}", rustfmt.to_string_lossy())))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Write from another thread so a large output cannot deadlock on a full pipe.
    let src = src.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(src.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Rustfmt(e.to_string()))?;
    writer
        .join()
        .expect("writer thread does not panic")
        .map_err(|e| Error::Rustfmt(format!("writing to rustfmt: {e}")))?;
    if !out.status.success() {
        return Err(Error::Rustfmt(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    String::from_utf8(out.stdout).map_err(|e| Error::Rustfmt(e.to_string()))
}

// ---------------------------------------------------------------------------
// syscall_64.tbl

/// The ABI column of a `syscall_64.tbl` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    /// `common`: shared by x86_64 and x32.
    Common,
    /// `64`: x86_64 only.
    X64,
    /// `x32`: the x32 ABI's own number (skipped by the generator).
    X32,
}

/// One x86_64 system call (a `common` or `64` row of the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syscall {
    /// The number (`rax`).
    pub nr: u32,
    /// The ABI column.
    pub abi: Abi,
    /// The name (`read`).
    pub name: String,
    /// The kernel entry point (`sys_read`), `None` for a reserved, unimplemented
    /// number.
    pub entry: Option<String>,
    /// The table marks the call `noreturn` (`exit`, `exit_group`).
    pub noreturn: bool,
}

/// Parses a table in the kernel's `syscall_64.tbl` format and returns the x86_64
/// rows (`common` and `64`) sorted by number; `x32` rows are skipped.
///
/// Rejects unknown ABIs, malformed numbers and names, and duplicate numbers or
/// names among the returned rows.
pub fn parse_syscall_tbl(path: &str, text: &str) -> Result<Vec<Syscall>, Error> {
    let mut out: BTreeMap<u32, Syscall> = BTreeMap::new();
    let mut names = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let err = |msg: String| Error::Parse {
            path: path.to_owned(),
            line: i + 1,
            msg,
        };
        let line = line.split('#').next().unwrap_or_default();
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [nr, abi, name, rest @ ..] = fields.as_slice() else {
            return Err(err(format!(
                "expected `<number> <abi> <name> [<entry point>]`, found {line:?}"
            )));
        };
        let nr: u32 = nr
            .parse()
            .map_err(|_| err(format!("bad system call number {nr:?}")))?;
        let abi = match *abi {
            "common" => Abi::Common,
            "64" => Abi::X64,
            "x32" => Abi::X32,
            other => {
                return Err(err(format!(
                    "unknown abi {other:?} (expected common, 64 or x32)"
                )));
            }
        };
        if !is_identifier(name) {
            return Err(err(format!("bad system call name {name:?}")));
        }
        let entry = match rest.first() {
            Some(e) if is_identifier(e) => Some((*e).to_owned()),
            Some(e) => return Err(err(format!("bad entry point {e:?}"))),
            None => None,
        };
        let noreturn = match rest {
            [] | [_] | [_, _] => false,
            [_, _, "noreturn"] => true,
            [_, _, extra @ ..] => {
                return Err(err(format!(
                    "unexpected {:?} after the compat entry point (only `noreturn` may follow)",
                    extra.join(" ")
                )));
            }
        };
        if abi == Abi::X32 {
            continue;
        }
        if !names.insert((*name).to_owned()) {
            return Err(err(format!("duplicate system call name {name:?}")));
        }
        let call = Syscall {
            nr,
            abi,
            name: (*name).to_owned(),
            entry,
            noreturn,
        };
        if let Some(prev) = out.insert(nr, call) {
            return Err(err(format!("number {nr} is already `{}`", prev.name)));
        }
    }
    if out.is_empty() {
        return Err(Error::Parse {
            path: path.to_owned(),
            line: 0,
            msg: "no x86_64 system calls found".to_owned(),
        });
    }
    Ok(out.into_values().collect())
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Rust keywords (strict and reserved, edition 2024) that need a raw identifier.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe",
    "unsized", "use", "virtual", "where", "while", "yield",
];

/// The Rust identifier for a system call name: `r#name` if it is a keyword.
///
/// # Panics
///
/// On `self`, `Self`, `crate`, `super` and `_`, which cannot be raw identifiers
/// (no Linux system call has such a name).
pub fn rust_ident(name: &str) -> String {
    assert!(
        !matches!(name, "self" | "Self" | "crate" | "super" | "_"),
        "`{name}` cannot be a Rust identifier"
    );
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}

/// Renders `linker-tools/src/sys/sysno.rs` (before rustfmt).
pub fn render_sysno(calls: &[Syscall]) -> String {
    let mut s = String::new();
    let count = calls.len();
    let max = calls.last().map_or(0, |c| c.nr);
    let v = KERNEL_VERSION;
    s += &format!(
        "// Code generated by `cargo xtask gen` from {SYSCALL_TBL} (Linux {v}). DO NOT EDIT.

//! [`Sysno`]: the Linux x86_64 system call numbers, generated from the kernel's
//! `syscall_64.tbl` (Linux {v}; the role of Go's `zsysnum_linux_amd64.go`).

use core::fmt;
use core::str::FromStr;

/// A Linux x86_64 system call number: one variant per `common` and `64` row of the
/// kernel's `arch/x86/entry/syscalls/syscall_64.tbl` ({count} calls, numbers
/// `0..={max}`, Linux {v}).
///
/// Generated by `cargo xtask gen` from `{SYSCALL_TBL}`. Variants are named as the
/// kernel names the call; the discriminant is the number passed in `rax`. Newer
/// kernels add calls, so the enum is `#[non_exhaustive]`; the x32 ABI's own
/// numbers (`512..=547`) are not x86_64 calls and are absent.
///
/// ```
/// use linker_tools::sys::Sysno;
/// assert_eq!(Sysno::getpid.id(), 39);
/// assert_eq!(Sysno::new(39), Some(Sysno::getpid));
/// assert_eq!(Sysno::from_name(\"getpid\"), Some(Sysno::getpid));
/// assert_eq!(Sysno::getpid.to_string(), \"getpid\");
/// assert_eq!(format!(\"{{:?}}\", Sysno::getpid), \"Sysno::getpid\");
/// assert_eq!(\"getpid\".parse::<Sysno>(), Ok(Sysno::getpid));
/// assert_eq!(Sysno::getpid.entry_point(), \"sys_getpid\");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
#[non_exhaustive]
#[allow(non_camel_case_types)]
pub enum Sysno {{
"
    );
    for c in calls {
        let what = match &c.entry {
            Some(entry) => format!("entry point `{entry}`"),
            None => "reserved: the kernel implements no entry point (`ENOSYS`)".to_owned(),
        };
        s += &format!(
            "    /// `{}` ({}): {what}.\n    {} = {},\n",
            c.name,
            c.nr,
            rust_ident(&c.name),
            c.nr
        );
    }
    s += "}\n\nimpl Sysno {\n";
    s += "    /// Every system call, ascending by number.
    pub const ALL: &'static [Sysno] = &[\n";
    for c in calls {
        s += &format!("        Sysno::{},\n", rust_ident(&c.name));
    }
    s += "    ];\n\n";
    s += &format!(
        "    /// The number of system calls in the table ({count}).
    pub const COUNT: usize = {count};

    /// The number the kernel knows the call by (the value passed in `rax`).
    #[inline(always)]
    pub const fn id(self) -> u32 {{
        self as u32
    }}

    /// The kernel's name for the call (`\"read\"`).
    pub const fn name(self) -> &'static str {{
        match self {{
"
    );
    for c in calls {
        s += &format!(
            "            Sysno::{} => {:?},\n",
            rust_ident(&c.name),
            c.name
        );
    }
    s += "        }
    }

    /// The call with number `nr`, or `None` if x86_64 has no call with that number.
    pub const fn new(nr: u32) -> Option<Sysno> {
        match nr {
";
    for c in calls {
        s += &format!(
            "            {} => Some(Sysno::{}),\n",
            c.nr,
            rust_ident(&c.name)
        );
    }
    s += "            _ => None,
        }
    }

    /// The call named `name` (the kernel's name, `\"read\"`), or `None`.
    pub fn from_name(name: &str) -> Option<Sysno> {
        match name {
";
    for c in calls {
        s += &format!(
            "            {:?} => Some(Sysno::{}),\n",
            c.name,
            rust_ident(&c.name)
        );
    }
    s += "            _ => None,
        }
    }

    /// Every system call, ascending by number (the items of [`Sysno::ALL`]).
    pub fn iter() -> impl ExactSizeIterator<Item = Sysno> + Clone {
        Self::ALL.iter().copied()
    }

    /// The kernel function the table routes the call to (`\"sys_read\"`), from the
    /// table's entry-point column; `\"sys_ni_syscall\"` for a reserved number the
    /// kernel does not implement (it returns `ENOSYS`).
    pub const fn entry_point(self) -> &'static str {
        match self {
";
    for c in calls {
        s += &format!(
            "            Sysno::{} => {:?},\n",
            rust_ident(&c.name),
            c.entry.as_deref().unwrap_or("sys_ni_syscall")
        );
    }
    s += "        }
    }
}

impl fmt::Display for Sysno {
    /// The kernel's name for the call (`read`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Sysno {
    /// The variant path (`Sysno::read`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, \"Sysno::{}\", self.name())
    }
}

impl FromStr for Sysno {
    type Err = UnknownSysno;

    /// Looks up the kernel's name for a call (`\"read\"`), as [`Sysno::from_name`].
    fn from_str(name: &str) -> Result<Self, UnknownSysno> {
        Self::from_name(name).ok_or_else(|| UnknownSysno(Unknown::Name(name.into())))
    }
}

impl From<Sysno> for u32 {
    #[inline(always)]
    fn from(nr: Sysno) -> u32 {
        nr.id()
    }
}

impl From<Sysno> for usize {
    #[inline(always)]
    fn from(nr: Sysno) -> usize {
        nr.id() as usize
    }
}

impl TryFrom<u32> for Sysno {
    type Error = UnknownSysno;

    /// The call with that number, as [`Sysno::new`].
    fn try_from(nr: u32) -> Result<Self, UnknownSysno> {
        Self::new(nr).ok_or(UnknownSysno(Unknown::Number(nr)))
    }
}

/// The error from `str::parse::<Sysno>()` and `Sysno::try_from(u32)`: no x86_64
/// system call has that name or number.
///
/// ```
/// use linker_tools::sys::Sysno;
/// let err = \"foo\".parse::<Sysno>().unwrap_err();
/// assert_eq!(err.to_string(), \"no x86_64 system call named `foo`\");
/// let err = Sysno::try_from(100_000).unwrap_err();
/// assert_eq!(err.to_string(), \"no x86_64 system call numbered 100000\");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSysno(Unknown);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Unknown {
    Name(Box<str>),
    Number(u32),
}

impl UnknownSysno {
    /// The name that was looked up, if the lookup was by name.
    pub fn name(&self) -> Option<&str> {
        match &self.0 {
            Unknown::Name(name) => Some(name),
            Unknown::Number(_) => None,
        }
    }

    /// The number that was looked up, if the lookup was by number.
    pub fn number(&self) -> Option<u32> {
        match self.0 {
            Unknown::Number(nr) => Some(nr),
            Unknown::Name(_) => None,
        }
    }
}

impl fmt::Display for UnknownSysno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Unknown::Name(name) => write!(f, \"no x86_64 system call named `{name}`\"),
            Unknown::Number(nr) => write!(f, \"no x86_64 system call numbered {nr}\"),
        }
    }
}

impl std::error::Error for UnknownSysno {}
";
    s
}

// ---------------------------------------------------------------------------
// errno headers

/// One `#define` line of an errno header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrnoDef {
    /// `#define EPERM 1`.
    Number {
        /// The name.
        name: String,
        /// The value.
        value: u16,
    },
    /// `#define EWOULDBLOCK EAGAIN`.
    Alias {
        /// The alias.
        name: String,
        /// The name it stands for.
        target: String,
    },
}

/// Parses the `#define EXXX N` and `#define EALIAS ETARGET` lines of an errno
/// header; every other line (include guards, `#include`, comments) is skipped.
pub fn parse_errno_header(path: &str, text: &str) -> Result<Vec<ErrnoDef>, Error> {
    let mut defs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [def, name, value, ..] = fields.as_slice() else {
            continue;
        };
        if *def != "#define" || !name.starts_with('E') || !is_identifier(name) {
            continue;
        }
        let err = |msg: String| Error::Parse {
            path: path.to_owned(),
            line: i + 1,
            msg,
        };
        if value.starts_with('E') && is_identifier(value) {
            defs.push(ErrnoDef::Alias {
                name: (*name).to_owned(),
                target: (*value).to_owned(),
            });
        } else {
            let value: u16 = value
                .parse()
                .ok()
                .filter(|v| (1..=4095).contains(v))
                .ok_or_else(|| err(format!("`{name}` has value {value:?}, not 1..=4095")))?;
            defs.push(ErrnoDef::Number {
                name: (*name).to_owned(),
                value,
            });
        }
    }
    Ok(defs)
}

/// One error number with its canonical name, message and aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrnoEntry {
    /// The number.
    pub value: u16,
    /// The canonical name (the header's first name for the number).
    pub name: String,
    /// The C library's `strerror` message.
    pub message: String,
    /// Other names for the same number (`EWOULDBLOCK` for `EAGAIN`).
    pub aliases: Vec<String>,
}

/// Joins parsed header lines and the C library's extra aliases (`ENOTSUP`) into
/// one entry per number, ascending, with messages from the C library's `strerror`.
pub fn resolve_errnos(defs: &[ErrnoDef]) -> Result<Vec<ErrnoEntry>, Error> {
    let mut by_value: BTreeMap<u16, ErrnoEntry> = BTreeMap::new();
    let mut by_name: BTreeMap<String, u16> = BTreeMap::new();
    let bad = |msg: String| Error::Parse {
        path: ERRNO_HEADERS.join(" + "),
        line: 0,
        msg,
    };
    for def in defs {
        if let ErrnoDef::Number { name, value } = def {
            if by_name.insert(name.clone(), *value).is_some() {
                return Err(bad(format!("`{name}` is defined twice")));
            }
            if let Some(prev) = by_value.get(value) {
                return Err(bad(format!(
                    "`{name}` and `{}` are both {value}: write the second as an alias",
                    prev.name
                )));
            }
            by_value.insert(
                *value,
                ErrnoEntry {
                    value: *value,
                    name: name.clone(),
                    message: strerror(*value),
                    aliases: Vec::new(),
                },
            );
        }
    }
    let header_aliases = defs.iter().filter_map(|d| match d {
        ErrnoDef::Alias { name, target } => Some((name.as_str(), target.as_str())),
        ErrnoDef::Number { .. } => None,
    });
    for (name, target) in header_aliases.chain(LIBC_ALIASES) {
        let Some(&value) = by_name.get(target) else {
            return Err(bad(format!("alias `{name}` names unknown `{target}`")));
        };
        if by_name.insert(name.to_owned(), value).is_some() {
            return Err(bad(format!("`{name}` is defined twice")));
        }
        by_value
            .get_mut(&value)
            .expect("every name maps to an entry")
            .aliases
            .push(name.to_owned());
    }
    Ok(by_value.into_values().collect())
}

/// The C library's message for `errnum` (`strerror_r`, C locale).
pub fn strerror(errnum: u16) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; the XSI
    // `strerror_r` (which `libc::strerror_r` binds on Linux) writes at most that
    // many bytes, NUL-terminated.
    let rc = unsafe { libc::strerror_r(i32::from(errnum), buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {errnum}");
    }
    CStr::from_bytes_until_nul(&buf)
        .expect("strerror_r NUL-terminates its output")
        .to_string_lossy()
        .into_owned()
}

/// Renders `linker-tools/src/sys/errno/table.rs` (before rustfmt).
pub fn render_errno(errnos: &[ErrnoEntry]) -> String {
    let [base, generic] = ERRNO_HEADERS;
    let mut s = format!(
        "// Code generated by `cargo xtask gen` from {base} and {generic}
// (Linux UAPI asm-generic errno headers, unchanged through Linux {KERNEL_VERSION}); messages from
// the C library's strerror. DO NOT EDIT.

//! The table behind [`Errno`]: one constant per Linux error number and alias,
//! names, and strerror messages (the role of Go's `zerrors_linux_amd64.go`).

use super::Errno;

impl Errno {{
"
    );
    let by_name: BTreeMap<&str, &ErrnoEntry> =
        errnos.iter().map(|e| (e.name.as_str(), e)).collect();
    for e in errnos {
        s += &format!(
            "    /// {} (`{}`, {}).\n    pub const {}: Errno = Errno({});\n",
            e.message, e.name, e.value, e.name, e.value
        );
        for alias in &e.aliases {
            let canonical = by_name[e.name.as_str()];
            s += &format!(
                "    /// {} (`{alias}`, {}): another name for [`Errno::{}`].\n    pub const {alias}: Errno = Errno({});\n",
                canonical.message, e.value, e.name, e.value
            );
        }
    }
    s += "}\n\n/// Every canonical error number, ascending, each once (aliases excluded).\n";
    s += "pub(super) const ALL: &[u16] = &[\n";
    for e in errnos {
        s += &format!("    {}, // {}\n", e.value, e.name);
    }
    s += "];

/// The canonical name of error number `n`.
pub(super) fn name(n: u16) -> Option<&'static str> {
    Some(match n {
";
    for e in errnos {
        s += &format!("        {} => {:?},\n", e.value, e.name);
    }
    s += "        _ => return None,
    })
}

/// The strerror-style message of error number `n`.
pub(super) fn message(n: u16) -> Option<&'static str> {
    Some(match n {
";
    for e in errnos {
        s += &format!("        {} => {:?},\n", e.value, e.message);
    }
    s += "        _ => return None,
    })
}

/// The error number named `s`, canonical names and aliases alike.
pub(super) fn from_name(s: &str) -> Option<u16> {
    Some(match s {
";
    for e in errnos {
        s += &format!("        {:?} => {},\n", e.name, e.value);
        for alias in &e.aliases {
            s += &format!("        {alias:?} => {},\n", e.value);
        }
    }
    s += "        _ => return None,
    })
}
";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tbl_rows_parse_and_x32_is_skipped() {
        let text = "# comment\n0\tcommon\tread\tsys_read\n\n60 common exit sys_exit - noreturn\n\
                    134\t64\tuselib\n512\tx32\trt_sigaction\tcompat_sys_rt_sigaction\n";
        let calls = parse_syscall_tbl("t", text).unwrap();
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[1].entry.as_deref(), Some("sys_exit"));
        assert!(calls[1].noreturn);
        assert!(!calls[0].noreturn);
        assert_eq!(calls[2].abi, Abi::X64);
        assert_eq!(calls[2].entry, None);
    }

    #[test]
    fn tbl_rejects_duplicates_and_garbage() {
        assert!(
            parse_syscall_tbl("t", "0 common read sys_read\n0 common write sys_write\n").is_err()
        );
        assert!(parse_syscall_tbl("t", "0 common read\n1 common read\n").is_err());
        assert!(parse_syscall_tbl("t", "0 i386 read\n").is_err());
        assert!(parse_syscall_tbl("t", "x common read\n").is_err());
        assert!(parse_syscall_tbl("t", "0 common\n").is_err());
        assert!(parse_syscall_tbl("t", "# nothing\n").is_err());
        assert!(parse_syscall_tbl("t", "60 common exit sys_exit - noreturm\n").is_err());
        assert!(parse_syscall_tbl("t", "60 common exit sys_exit - noreturn x\n").is_err());
    }

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(rust_ident("read"), "read");
        assert_eq!(rust_ident("yield"), "r#yield");
        assert_eq!(rust_ident("gen"), "r#gen");
        let calls = parse_syscall_tbl("t", "0 common type sys_type\n").unwrap();
        let src = rustfmt(&render_sysno(&calls)).unwrap();
        assert!(src.contains("r#type = 0,"));
        assert!(src.contains("Sysno::r#type => \"type\""));
    }

    #[test]
    fn errno_lines_parse() {
        let text = "#ifndef _X\n#define _X\n#include <y>\n#define\tEPERM\t\t 1\t/* x */\n\
                    #define EAGAIN 11\n#define\tEWOULDBLOCK\tEAGAIN\t/* y */\n\
                    #define EOPNOTSUPP 95\n#endif\n";
        let defs = parse_errno_header("h", text).unwrap();
        assert_eq!(defs.len(), 4);
        let entries = resolve_errnos(&defs).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1].aliases, ["EWOULDBLOCK"]);
        assert_eq!(entries[2].aliases, ["ENOTSUP"]);
        assert_eq!(entries[0].message, "Operation not permitted");
    }

    #[test]
    fn errno_rejects_bad_values_and_dangling_aliases() {
        assert!(parse_errno_header("h", "#define EX 0\n").is_err());
        assert!(parse_errno_header("h", "#define EX 5000\n").is_err());
        let defs = parse_errno_header("h", "#define EX EY\n#define EOPNOTSUPP 95\n").unwrap();
        assert!(resolve_errnos(&defs).is_err());
    }

    #[test]
    fn diff_summary_names_the_first_difference() {
        let s = diff_summary("a\nb\nc\n", "a\nB\nc\nd\n");
        assert!(s.starts_with("2 line(s) differ"), "{s}");
        assert!(s.contains("line 2"), "{s}");
    }
}
