//! [`SymbolIndex`]: every symbol of an ELF file, built once, looked up by hash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use object::elf;
use object::read::elf::{ElfFile, FileHeader, Sym as _, SymbolTable};
use object::{Endianness, FileKind, Object as _, ObjectSection as _};

use super::debuglink::{self, DebugSearch};
use super::demangle;
use super::error::{Error, ErrorKind, Result};
use super::mapped::MappedFile;
use super::symbol::{Binding, Kind, Symbol, Tables, Visibility};

/// The bytes an index borrows its strings from.
enum Backing {
    Map(MappedFile),
    Owned(Box<[u8]>),
    Static(&'static [u8]),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Map(m) => m,
            Backing::Owned(b) => b,
            Backing::Static(s) => s,
        }
    }

    /// The bytes with their lifetime erased.
    ///
    /// # Safety
    ///
    /// The result must not be used after `self` is dropped. The bytes do not move when
    /// `self` moves (a mapping or a heap buffer), so moving `self` is fine.
    unsafe fn erase(&self) -> &'static [u8] {
        let b = self.bytes();
        // SAFETY: the slice points at a mapping or heap buffer owned by `self` that is
        // never mutated and never moves; the caller keeps `self` alive while using it.
        unsafe { std::slice::from_raw_parts(b.as_ptr(), b.len()) }
    }
}

/// A small, fast, non-cryptographic hasher (the rustc/Firefox "Fx" hash) for the name
/// table: symbol names are not attacker-chosen keys, and lookups dominate.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = BuildHasherDefault<FxHasher>;

fn fx_hash(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}
const NONE: u32 = u32::MAX;

/// Where an index's symbols came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SymbolSource {
    /// The file's own `.symtab` (plus `.dynsym`).
    Symtab,
    /// A separate debug file's `.symtab` (plus the file's `.dynsym`).
    DebugFile(PathBuf),
    /// The MiniDebugInfo in `.gnu_debugdata` (plus the file's `.dynsym`).
    MiniDebugInfo,
    /// Only `.dynsym`: the file is stripped and no debug companion was found.
    DynsymOnly,
}

/// The ELF file type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileType {
    /// `ET_EXEC`: a non-PIE executable (load bias 0).
    Executable,
    /// `ET_DYN`: a shared library or a PIE.
    Shared,
    /// `ET_REL`: a relocatable object.
    Relocatable,
    /// Anything else (core files, ...).
    Other,
}

/// A symbol query, parsed from the text forms the index understands.
///
/// | text | meaning |
/// |---|---|
/// | `name` | exact symbol name (any version; the default version wins) |
/// | `name@VER` / `name@@VER` | a given version (`@@`: the default one) |
/// | `file.c::name` | the symbol `name` defined in source file `file.c` |
/// | `crate::module::func` | a demangled path (Rust, with or without `::h…` hash; C++) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Query<'a> {
    /// An exact name; falls back to a demangled path when nothing has that name.
    Name(&'a str),
    /// A name with a version; `default: Some(true)` for `@@`, `None` for `@`.
    Versioned {
        /// The bare name.
        name: &'a str,
        /// The version name.
        version: &'a str,
        /// `Some(true)` only the default version, `None` any.
        default: Option<bool>,
    },
    /// A symbol in a given source file (as recorded by `STT_FILE`; the file name alone
    /// or a path suffix matches).
    InFile {
        /// The source file.
        file: &'a str,
        /// The symbol name.
        name: &'a str,
    },
    /// A demangled path.
    Demangled(&'a str),
}

impl<'a> Query<'a> {
    /// Parses the text forms in the table above.
    ///
    /// ```
    /// use linker_tools::elf::Query;
    /// assert_eq!(Query::parse("fx_a.c::counter"), Query::InFile { file: "fx_a.c", name: "counter" });
    /// assert_eq!(Query::parse("memcpy@@GLIBC_2.14"),
    ///            Query::Versioned { name: "memcpy", version: "GLIBC_2.14", default: Some(true) });
    /// assert_eq!(Query::parse("std::env::args"), Query::Name("std::env::args"));
    /// ```
    pub fn parse(text: &'a str) -> Query<'a> {
        // The common case, a plain symbol name, in two `memchr` scans.
        if !text.contains('@') && !text.contains(':') {
            return Query::Name(text);
        }
        if let Some((name, version)) = text.split_once("@@") {
            if !name.is_empty() {
                return Query::Versioned {
                    name,
                    version,
                    default: Some(true),
                };
            }
        }
        if let Some((name, version)) = text.split_once('@') {
            if !name.is_empty() {
                return Query::Versioned {
                    name,
                    version,
                    default: None,
                };
            }
        }
        if let Some((file, name)) = text.split_once("::") {
            // A source file has an extension; a Rust or C++ path segment has no '.'.
            if file.contains('.') && !name.is_empty() {
                return Query::InFile { file, name };
            }
        }
        Query::Name(text)
    }
}

impl<'a> From<&'a str> for Query<'a> {
    fn from(text: &'a str) -> Self {
        Query::parse(text)
    }
}

/// Every symbol of an ELF file (`.symtab` and `.dynsym` merged, or a debug companion's),
/// indexed by name, demangled name and address.
///
/// Built once; `Send + Sync`; strings borrow from the mapped file (zero-copy).
///
/// ```no_run
/// use linker_tools::elf::SymbolIndex;
/// let index = SymbolIndex::open("/lib/x86_64-linux-gnu/libc.so.6")?;
/// let sym = index.lookup("__libc_malloc")?; // a glibc-internal name, via libc6-dbg
/// println!("{sym}");
/// # Ok::<(), linker_tools::elf::Error>(())
/// ```
pub struct SymbolIndex {
    symbols: Vec<Symbol>,
    by_name: HashMap<&'static str, u32, FxBuild>,
    next_same_name: Vec<u32>,
    by_address: Vec<u32>,
    /// (hash of a demangled form, symbol id), sorted; built on first demangled query.
    demangled: OnceLock<Vec<(u64, u32)>>,
    path: Option<PathBuf>,
    build_id: Option<Vec<u8>>,
    soname: Option<&'static str>,
    file_type: FileType,
    source: SymbolSource,
    search_log: Vec<String>,
    // The strings above borrow from these; they are declared last and never mutated.
    _strings: Vec<Box<str>>,
    _backing: Vec<Backing>,
}

impl std::fmt::Debug for SymbolIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SymbolIndex")
            .field("path", &self.path)
            .field("symbols", &self.symbols.len())
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl SymbolIndex {
    /// Indexes the file at `path`, with the default [`DebugSearch`] for stripped files.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, &DebugSearch::default())
    }

    /// Indexes the file at `path`; when it has no `.symtab`, looks for its debug
    /// companion as `search` says.
    pub fn open_with(path: impl AsRef<Path>, search: &DebugSearch) -> Result<Self> {
        let path = path.as_ref();
        Self::from_mapped(MappedFile::open(path)?, path, search)
    }

    /// Indexes the file at `path` that `map` already maps (see [`MappedFile::open`]),
    /// without reading or mapping it again; when it has no `.symtab`, looks for its
    /// debug companion as `search` says.
    ///
    /// ```no_run
    /// use linker_tools::elf::{DebugSearch, FileInfo, MappedFile, SymbolIndex};
    /// let path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    /// let map = MappedFile::open(path)?;
    /// let info = FileInfo::parse(&map)?; // header facts from the same bytes
    /// let index = SymbolIndex::from_mapped(map, path, &DebugSearch::default())?;
    /// println!("{:?}: {} symbols", info.soname, index.symbols().len());
    /// # Ok::<(), linker_tools::elf::Error>(())
    /// ```
    pub fn from_mapped(
        map: MappedFile,
        path: impl AsRef<Path>,
        search: &DebugSearch,
    ) -> Result<Self> {
        let path = path.as_ref();
        Self::build(Backing::Map(map), Some(path), search).map_err(|e| e.with_path(path))
    }

    /// Indexes an ELF image held in memory (no debug search).
    pub fn from_bytes(bytes: impl Into<Box<[u8]>>) -> Result<Self> {
        Self::build(Backing::Owned(bytes.into()), None, &DebugSearch::disabled())
    }

    /// Indexes an ELF image that lives for the whole program (the vDSO).
    pub fn from_static(bytes: &'static [u8]) -> Result<Self> {
        Self::build(Backing::Static(bytes), None, &DebugSearch::disabled())
    }

    fn build(backing: Backing, path: Option<&Path>, search: &DebugSearch) -> Result<Self> {
        let mut b = Builder {
            path: path.map(Path::to_path_buf),
            ..Builder::default()
        };
        // SAFETY: `backing` is moved into `b.backing` right below and ends up in the
        // index, which owns every string borrowed from it.
        let data = unsafe { backing.erase() };
        b.backing.push(backing);
        if !data.starts_with(&elf::ELFMAG) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "not an ELF file (no \\x7fELF magic)",
            ));
        }
        match FileKind::parse(data).map_err(Error::malformed)? {
            FileKind::Elf32 => b.build_main::<elf::FileHeader32<Endianness>>(data, search)?,
            FileKind::Elf64 => b.build_main::<elf::FileHeader64<Endianness>>(data, search)?,
            other => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("not an ELF file (detected {other:?})"),
                ));
            }
        }
        Ok(b.finish())
    }

    /// The path the index was built from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The GNU build-id of the file (not of its debug companion).
    pub fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_deref()
    }

    /// `DT_SONAME`, for shared libraries that have one.
    pub fn soname(&self) -> Option<&str> {
        self.soname
    }

    /// The ELF file type.
    pub fn file_type(&self) -> FileType {
        self.file_type
    }

    /// Where the symbols came from.
    pub fn source(&self) -> &SymbolSource {
        &self.source
    }

    /// What the debug-file search tried and why candidates were rejected (for messages).
    pub fn search_log(&self) -> &[String] {
        &self.search_log
    }

    /// All symbols, in table order (`.symtab` first, then the `.dynsym` entries it lacks).
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// The number of symbols.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Whether the index holds no symbol.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The heap memory the index owns, in bytes: its symbol array, name table, address
    /// order, demangled table (once built), decompressed MiniDebugInfo and any names
    /// that had to be copied. Symbol names themselves borrow from the mapped file and
    /// are not counted; see [`mapped_bytes`](Self::mapped_bytes).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        // hashbrown: one control byte per bucket (plus a group's worth) and the entries;
        // `capacity()` is 7/8 of the buckets.
        let buckets = (self.by_name.capacity() * 8 / 7).next_power_of_two();
        let by_name = buckets * (size_of::<(&str, u32)>() + 1) + 16;
        let demangled = self
            .demangled
            .get()
            .map_or(0, |t| t.capacity() * size_of::<(u64, u32)>());
        let owned: usize = self
            ._backing
            .iter()
            .map(|b| match b {
                Backing::Owned(b) => b.len(),
                Backing::Map(_) | Backing::Static(_) => 0,
            })
            .sum();
        self.symbols.capacity() * size_of::<Symbol>()
            + by_name
            + self.next_same_name.capacity() * size_of::<u32>()
            + self.by_address.capacity() * size_of::<u32>()
            + demangled
            + owned
            + self._strings.iter().map(|s| s.len()).sum::<usize>()
            + self._strings.capacity() * size_of::<Box<str>>()
            + self.search_log.iter().map(String::capacity).sum::<usize>()
            + self.build_id.as_ref().map_or(0, Vec::capacity)
    }

    /// The bytes of mapped files the index reads names from (the file and its debug
    /// companion): address space, paged in only where touched.
    pub fn mapped_bytes(&self) -> usize {
        self._backing
            .iter()
            .map(|b| match b {
                Backing::Map(m) => m.len(),
                Backing::Owned(_) | Backing::Static(_) => 0,
            })
            .sum()
    }

    /// Every symbol named exactly `name` (without version), defined or not.
    pub fn by_name<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s Symbol> + 's {
        let mut at = self.by_name.get(name).copied().unwrap_or(NONE);
        std::iter::from_fn(move || {
            let sym = self.symbols.get(at as usize)?;
            at = self
                .next_same_name
                .get(at as usize)
                .copied()
                .unwrap_or(NONE);
            Some(sym)
        })
    }

    fn demangled_table(&self) -> &[(u64, u32)] {
        self.demangled.get_or_init(|| {
            let mut table = Vec::new();
            for (i, s) in self.symbols.iter().enumerate() {
                let Some(d) = demangle::demangle(s.name) else {
                    continue;
                };
                if let Some(p) = d.path {
                    table.push((fx_hash(&p), i as u32));
                }
                table.push((fx_hash(&d.full), i as u32));
            }
            table.sort_unstable();
            table.dedup();
            table
        })
    }

    /// Every symbol whose demangled name is `path` (Rust with or without the hash, C++
    /// with or without parameters). Builds the demangled table on first use: a sorted
    /// array of hashes (16 bytes per mangled symbol), candidates are re-demangled to
    /// confirm.
    pub fn by_demangled<'s>(&'s self, path: &str) -> impl Iterator<Item = &'s Symbol> + 's {
        let table = self.demangled_table();
        let h = fx_hash(path);
        let start = table.partition_point(|&(k, _)| k < h);
        let end = table.partition_point(|&(k, _)| k <= h);
        let path = path.to_owned();
        table[start..end].iter().filter_map(move |&(_, i)| {
            let s = self.symbols.get(i as usize)?;
            let d = demangle::demangle(s.name)?;
            (d.full == path || d.path.as_deref() == Some(path.as_str())).then_some(s)
        })
    }

    /// Every symbol matching `query`, defined or not, in no particular order.
    pub fn find<'s, 'q>(&'s self, query: impl Into<Query<'q>>) -> Vec<&'s Symbol> {
        match query.into() {
            Query::Name(name) => {
                let v: Vec<_> = self.by_name(name).collect();
                if v.is_empty() && name.contains("::") {
                    return self.by_demangled(name).collect();
                }
                v
            }
            Query::Versioned {
                name,
                version,
                default,
            } => self
                .by_name(name)
                .filter(|s| match s.version {
                    Some((v, d)) => v == version && default.is_none_or(|want| want == d),
                    None => false,
                })
                .collect(),
            Query::InFile { file, name } => self
                .by_name(name)
                .filter(|s| s.file.is_some_and(|f| file_matches(f, file)))
                .collect(),
            Query::Demangled(path) => self.by_demangled(path).collect(),
        }
    }

    /// The one defined symbol matching `query`.
    ///
    /// Aliases (several names-or-versions at one address) count as one. Among candidates
    /// that differ only in version, the default version (`@@`) wins, as with the dynamic
    /// linker. Otherwise several candidates are an [`ErrorKind::Ambiguous`] error that
    /// lists each with its source file and address; none is [`ErrorKind::NotFound`], or
    /// [`ErrorKind::Undefined`] when the name is only referenced.
    pub fn lookup<'s, 'q>(&'s self, query: impl Into<Query<'q>>) -> Result<&'s Symbol> {
        let query = query.into();
        // Fast path, no allocation: a plain name with one defined symbol (or aliases
        // already in preferred order).
        if let Query::Name(name) = query {
            let mut first: Option<&Symbol> = None;
            let mut simple = true;
            for s in self.by_name(name).filter(|s| s.defined) {
                match first {
                    None => first = Some(s),
                    Some(f) if f.address == s.address && rank(s) >= rank(f) => {}
                    Some(_) => {
                        simple = false;
                        break;
                    }
                }
            }
            if let (true, Some(f)) = (simple, first) {
                return Ok(f);
            }
        }
        let all = self.find(query);
        let mut defined: Vec<&Symbol> = all.iter().copied().filter(|s| s.defined).collect();
        if defined.is_empty() {
            return Err(if let Some(s) = all.first() {
                Error::new(
                    ErrorKind::Undefined,
                    format!(
                        "{} is only referenced here (undefined): it is defined in another module; \
                         resolve it there",
                        s.versioned_name(),
                    ),
                )
            } else {
                self.not_found(query)
            });
        }
        if matches!(query, Query::Name(_))
            && defined.iter().any(|s| matches!(s.version, Some((_, true))))
        {
            defined.retain(|s| !matches!(s.version, Some((_, false))));
        }
        // Prefer Func/Object over NoType and global over local among aliases.
        defined.sort_by_key(|s| (s.address, rank(s)));
        let first = defined[0];
        if defined.iter().all(|s| s.address == first.address) {
            return Ok(first);
        }
        Err(ambiguous(query, &defined))
    }

    fn not_found(&self, query: Query<'_>) -> Error {
        let what = describe(query);
        let mut msg = format!("no symbol {what}");
        match query {
            Query::InFile { file, name } => {
                let files: Vec<&str> = self.by_name(name).filter_map(|s| s.file).collect();
                if !files.is_empty() {
                    msg.push_str(&format!("; `{name}` is defined in: {}", files.join(", ")));
                } else if self.by_name(name).next().is_some() {
                    msg.push_str(&format!("; `{name}` exists but has no source file"));
                } else {
                    msg.push_str(&format!(
                        "; no symbol `{name}` at all (file `{file}` not consulted)"
                    ));
                }
            }
            Query::Versioned { name, .. } => {
                let vs: Vec<String> = self
                    .by_name(name)
                    .map(|s| s.versioned_name().into_owned())
                    .collect();
                if !vs.is_empty() {
                    msg.push_str(&format!("; available: {}", vs.join(", ")));
                }
            }
            _ => {}
        }
        if self.source == SymbolSource::DynsymOnly {
            msg.push_str(
                "; the file has only .dynsym (stripped) and no debug file was found: \
                 install its debug package (e.g. libc6-dbg) or add a debug directory",
            );
        }
        Error::new(ErrorKind::NotFound, msg)
    }

    /// The symbol containing file address `addr` (size-aware; a zero-sized symbol
    /// contains only its own address). Section and file symbols are not considered,
    /// nor TLS symbols, whose values are offsets.
    pub fn symbol_at(&self, addr: u64) -> Option<&Symbol> {
        let end = self
            .by_address
            .partition_point(|&i| self.symbols[i as usize].address <= addr);
        let mut best: Option<&Symbol> = None;
        for &i in self.by_address[..end].iter().rev().take(256) {
            let s = &self.symbols[i as usize];
            if let Some(b) = best {
                if s.address < b.address {
                    break;
                }
            }
            if s.contains(addr) && best.is_none_or(|b| rank(s) < rank(b)) {
                best = Some(s);
            }
        }
        best
    }
}

fn file_matches(recorded: &str, wanted: &str) -> bool {
    recorded == wanted
        || recorded
            .strip_suffix(wanted)
            .is_some_and(|p| p.ends_with('/'))
        || wanted
            .strip_suffix(recorded)
            .is_some_and(|p| p.ends_with('/'))
}

/// Lower is preferred: typed over untyped, global over weak over local.
fn rank(s: &Symbol) -> (u8, u8, u8) {
    let kind = match s.kind {
        Kind::Func | Kind::Object | Kind::Tls | Kind::Ifunc | Kind::Common => 0,
        _ => 1,
    };
    let bind = match s.binding {
        Binding::Global | Binding::Unique => 0,
        Binding::Weak => 1,
        Binding::Local => 2,
    };
    let version = match s.version {
        Some((_, true)) | None => 0,
        Some((_, false)) => 1,
    };
    (kind, bind, version)
}

fn describe(query: Query<'_>) -> String {
    match query {
        Query::Name(n) => format!("named `{n}`"),
        Query::Versioned {
            name,
            version,
            default: Some(true),
        } => format!("`{name}@@{version}`"),
        Query::Versioned { name, version, .. } => format!("`{name}@{version}`"),
        Query::InFile { file, name } => format!("`{name}` in source file `{file}`"),
        Query::Demangled(p) => format!("with demangled name `{p}`"),
    }
}

fn ambiguous(query: Query<'_>, candidates: &[&Symbol]) -> Error {
    let mut msg = format!(
        "{} matches {} distinct symbols:",
        describe(query),
        candidates.len()
    );
    let mut seen = std::collections::HashSet::new();
    for s in candidates {
        if !seen.insert(s.address) {
            continue;
        }
        msg.push_str(&format!(
            "\n  {} ({}, {:?}) in {} at {:#x}",
            s.versioned_name(),
            s.kind,
            s.binding,
            s.file.unwrap_or("<unknown file>"),
            s.address
        ));
    }
    let name = candidates.first().map(|s| s.name).unwrap_or("name");
    if let Some(f) = candidates.iter().find_map(|s| s.file) {
        msg.push_str(&format!(
            "\npick one with `<file>::{name}`, e.g. `{f}::{name}`"
        ));
    } else {
        msg.push_str("\npick one with a version (`name@VER`) or by address");
    }
    Error::new(ErrorKind::Ambiguous, msg)
}

#[derive(Default)]
struct Builder {
    symbols: Vec<Symbol>,
    by_name: HashMap<&'static str, u32, FxBuild>,
    next_same_name: Vec<u32>,
    strings: Vec<Box<str>>,
    backing: Vec<Backing>,
    path: Option<PathBuf>,
    build_id: Option<Vec<u8>>,
    soname: Option<&'static str>,
    file_type: Option<FileType>,
    source: Option<SymbolSource>,
    search_log: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Symtab,
    Dynsym,
}

impl Builder {
    fn str(&mut self, bytes: &'static [u8]) -> &'static str {
        match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => {
                let owned: Box<str> = String::from_utf8_lossy(bytes).into();
                // SAFETY: the box's heap buffer does not move when the box moves into
                // `self.strings`, which the index keeps for its whole life.
                let s: &'static str = unsafe { &*(&*owned as *const str) };
                self.strings.push(owned);
                s
            }
        }
    }

    fn build_main<Elf: FileHeader<Endian = Endianness>>(
        &mut self,
        data: &'static [u8],
        search: &DebugSearch,
    ) -> Result<()> {
        let file = ElfFile::<Elf>::parse(data).map_err(Error::malformed)?;
        let endian = file.endian();
        self.file_type = Some(match file.elf_header().e_type(endian) {
            elf::ET_EXEC => FileType::Executable,
            elf::ET_DYN => FileType::Shared,
            elf::ET_REL => FileType::Relocatable,
            _ => FileType::Other,
        });
        self.build_id = file
            .build_id()
            .map_err(Error::malformed)?
            .map(<[u8]>::to_vec);
        self.soname = soname(&file)?.map(|s| self.str(s));

        let has_symtab = !file.elf_symbol_table().is_empty();
        if has_symtab {
            self.add_table(&file, data, Table::Symtab)?;
            self.source = Some(SymbolSource::Symtab);
        } else if let Some(found) = self.find_debug_file(&file, search)? {
            let (debug_path, debug) = found;
            // SAFETY: `debug` is pushed into `self.backing` and lives as long as the index.
            let ddata = unsafe { debug.erase() };
            self.backing.push(debug);
            match FileKind::parse(ddata).map_err(Error::malformed)? {
                FileKind::Elf32 => self.add_debug::<elf::FileHeader32<Endianness>>(ddata)?,
                FileKind::Elf64 => self.add_debug::<elf::FileHeader64<Endianness>>(ddata)?,
                _ => return Err(Error::new(ErrorKind::Malformed, "debug file is not ELF")),
            }
            self.source = Some(match debug_path {
                Some(p) => SymbolSource::DebugFile(p),
                None => SymbolSource::MiniDebugInfo,
            });
        } else {
            self.source = Some(SymbolSource::DynsymOnly);
        }
        self.add_table(&file, data, Table::Dynsym)
    }

    fn add_debug<Elf: FileHeader<Endian = Endianness>>(
        &mut self,
        data: &'static [u8],
    ) -> Result<()> {
        let file = ElfFile::<Elf>::parse(data).map_err(Error::malformed)?;
        self.add_table(&file, data, Table::Symtab)
    }

    /// Build-id dirs, then debuglink, then MiniDebugInfo. `None` path = MiniDebugInfo.
    fn find_debug_file<Elf: FileHeader<Endian = Endianness>>(
        &mut self,
        file: &ElfFile<'static, Elf>,
        search: &DebugSearch,
    ) -> Result<Option<(Option<PathBuf>, Backing)>> {
        if search.uses_build_id() {
            if let Some(id) = self.build_id.clone() {
                for cand in search.build_id_candidates(&id) {
                    if !cand.exists() {
                        continue;
                    }
                    match MappedFile::open(&cand) {
                        Ok(map) => {
                            let got = object::File::parse(&*map)
                                .ok()
                                .and_then(|f| f.build_id().ok().flatten().map(<[u8]>::to_vec));
                            if got.as_deref() == Some(&id[..]) {
                                return Ok(Some((Some(cand), Backing::Map(map))));
                            }
                            self.search_log
                                .push(format!("{}: build-id differs, skipped", cand.display()));
                        }
                        Err(e) => self.search_log.push(e.to_string()),
                    }
                }
            }
        }
        if search.uses_debuglink() {
            if let (Some(path), Some((name, crc))) = (
                self.path.clone(),
                file.gnu_debuglink().map_err(Error::malformed)?,
            ) {
                let name = String::from_utf8_lossy(name).into_owned();
                let me = std::fs::canonicalize(&path).ok();
                for cand in search.debuglink_candidates(&path, &name) {
                    if !cand.is_file() || std::fs::canonicalize(&cand).ok() == me {
                        continue;
                    }
                    match MappedFile::open(&cand) {
                        Ok(map) => {
                            let got = debuglink::debuglink_crc32(&map);
                            if got == crc {
                                return Ok(Some((Some(cand), Backing::Map(map))));
                            }
                            self.search_log.push(format!(
                                "{}: CRC32 {got:#010x} does not match the .gnu_debuglink CRC {crc:#010x}, skipped",
                                cand.display()
                            ));
                        }
                        Err(e) => self.search_log.push(e.to_string()),
                    }
                }
            }
        }
        if search.uses_mini_debug_info() {
            if let Some(section) = file.section_by_name(".gnu_debugdata") {
                let xz = section.data().map_err(Error::malformed)?;
                let elf = debuglink::decompress_mini_debug_info(xz)?;
                return Ok(Some((None, Backing::Owned(elf.into_boxed_slice()))));
            }
        }
        Ok(None)
    }

    fn add_table<Elf: FileHeader<Endian = Endianness>>(
        &mut self,
        file: &ElfFile<'static, Elf>,
        data: &'static [u8],
        table: Table,
    ) -> Result<()> {
        let endian = file.endian();
        let sections = file.elf_section_table();
        let symtab: &SymbolTable<'static, Elf> = match table {
            Table::Symtab => file.elf_symbol_table(),
            Table::Dynsym => file.elf_dynamic_symbol_table(),
        };
        let versions = match table {
            Table::Dynsym => sections.versions(endian, data).map_err(Error::malformed)?,
            Table::Symtab => None,
        };
        let mut current_file: Option<&'static str> = None;
        for (index, sym) in symtab.enumerate() {
            if index.0 == 0 {
                continue;
            }
            let raw_name = symtab.symbol_name(endian, sym).map_err(Error::malformed)?;
            let full = self.str(raw_name);
            let kind = Kind::from_elf(sym.st_type(), sym.st_shndx(endian) == elf::SHN_COMMON);
            if kind == Kind::File {
                current_file = (!full.is_empty()).then_some(full);
            }
            let binding = Binding::from_elf(sym.st_bind());
            let shndx = sym.st_shndx(endian);
            let defined = shndx != elf::SHN_UNDEF;
            let section_index = symtab
                .symbol_section(endian, sym, index)
                .map_err(Error::malformed)?
                .map(|i| i.0 as u32);
            let section = section_index.and_then(|i| {
                let h = sections.section(object::SectionIndex(i as usize)).ok()?;
                let n = sections.section_name(endian, h).ok()?;
                std::str::from_utf8(n).ok()
            });
            let (name, mut version) = split_version(full);
            if let Some(vt) = &versions {
                let vi = vt.version_index(endian, index);
                if let Ok(Some(v)) = vt.version(vi.index()) {
                    let vname = self.str(v.name());
                    // The symbol that defines a version (`FX_1.0`, ABS) is not versioned.
                    if vname != name {
                        version = Some((vname, defined && !vi.is_hidden()));
                    }
                }
            }
            let file_of =
                (binding == Binding::Local && kind != Kind::File && kind != Kind::Section)
                    .then_some(current_file)
                    .flatten();
            let s = Symbol {
                name,
                version,
                address: sym.st_value(endian).into(),
                size: sym.st_size(endian).into(),
                kind,
                binding,
                visibility: Visibility::from_elf(sym.st_visibility()),
                defined,
                section_index,
                section,
                file: file_of,
                tables: Tables {
                    symtab: table == Table::Symtab,
                    dynsym: table == Table::Dynsym,
                },
            };
            if table == Table::Dynsym && self.merge(&s) {
                continue;
            }
            self.push(s);
        }
        Ok(())
    }

    /// Merges a `.dynsym` entry into the `.symtab` entry for the same symbol, if any.
    fn merge(&mut self, s: &Symbol) -> bool {
        let mut at = self.by_name.get(s.name).copied().unwrap_or(NONE);
        while let Some(e) = self.symbols.get_mut(at as usize) {
            let same_version = match (e.version, s.version) {
                (Some((a, _)), Some((b, _))) => a == b,
                _ => true,
            };
            if e.tables.symtab
                && !e.tables.dynsym
                && e.address == s.address
                && e.defined == s.defined
                && same_version
            {
                e.tables.dynsym = true;
                if e.version.is_none() {
                    e.version = s.version;
                }
                return true;
            }
            at = self
                .next_same_name
                .get(at as usize)
                .copied()
                .unwrap_or(NONE);
        }
        false
    }

    fn push(&mut self, s: Symbol) {
        let id = self.symbols.len() as u32;
        let head = self.by_name.insert(s.name, id).unwrap_or(NONE);
        self.next_same_name.push(head);
        self.symbols.push(s);
    }

    fn finish(self) -> SymbolIndex {
        let mut by_address: Vec<u32> = (0..self.symbols.len() as u32)
            .filter(|&i| {
                let s = &self.symbols[i as usize];
                s.section_index.is_some()
                    && !matches!(s.kind, Kind::Section | Kind::File | Kind::Tls)
            })
            .collect();
        by_address.sort_unstable_by_key(|&i| {
            let s = &self.symbols[i as usize];
            (s.address, std::cmp::Reverse(s.size), rank(s))
        });
        SymbolIndex {
            symbols: self.symbols,
            by_name: self.by_name,
            next_same_name: self.next_same_name,
            by_address,
            demangled: OnceLock::new(),
            path: self.path,
            build_id: self.build_id,
            soname: self.soname,
            file_type: self.file_type.unwrap_or(FileType::Other),
            source: self.source.unwrap_or(SymbolSource::DynsymOnly),
            search_log: self.search_log,
            _strings: self.strings,
            _backing: self.backing,
        }
    }
}

/// `name@@VER` → (`name`, (`VER`, default)); `name@VER` → (`name`, (`VER`, hidden)).
fn split_version(full: &'static str) -> (&'static str, Option<(&'static str, bool)>) {
    match full.split_once('@') {
        Some((name, rest)) if !name.is_empty() => match rest.strip_prefix('@') {
            Some(v) => (name, Some((v, true))),
            None => (name, Some((rest, false))),
        },
        _ => (full, None),
    }
}

/// `DT_SONAME` of the ELF file in `data`, from its section headers, without indexing
/// its symbols. `None` when it has none or cannot be parsed.
pub(crate) fn soname_of(data: &[u8]) -> Option<&[u8]> {
    match FileKind::parse(data).ok()? {
        FileKind::Elf64 => {
            soname(&ElfFile::<elf::FileHeader64<Endianness>>::parse(data).ok()?).ok()?
        }
        FileKind::Elf32 => {
            soname(&ElfFile::<elf::FileHeader32<Endianness>>::parse(data).ok()?).ok()?
        }
        _ => None,
    }
}

fn soname<'data, Elf: FileHeader<Endian = Endianness>>(
    file: &ElfFile<'data, Elf>,
) -> Result<Option<&'data [u8]>> {
    use object::read::elf::Dyn as _;
    let endian = file.endian();
    let sections = file.elf_section_table();
    let Some((dyns, link)) = sections
        .dynamic(endian, file.data())
        .map_err(Error::malformed)?
    else {
        return Ok(None);
    };
    let strings = sections
        .strings(endian, file.data(), link)
        .map_err(Error::malformed)?;
    for d in dyns {
        if d.tag(endian) == elf::DT_SONAME {
            return d
                .string(endian, strings)
                .map(Some)
                .map_err(Error::malformed);
        }
        if d.tag(endian) == elf::DT_NULL {
            break;
        }
    }
    Ok(None)
}

// The index is immutable after construction (the demangled table is a `OnceLock`), and
// its `'static` strings point into buffers it owns.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SymbolIndex>();
};
