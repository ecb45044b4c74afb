//! One ELF symbol, as the index holds it.

use std::borrow::Cow;
use std::fmt;

use object::elf;

/// What a symbol names (`STT_*`, with `SHN_COMMON` folded in as [`Kind::Common`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Code (`STT_FUNC`).
    Func,
    /// Data (`STT_OBJECT`).
    Object,
    /// A thread-local variable (`STT_TLS`): its value is an offset in the module's TLS block.
    Tls,
    /// An indirect function (`STT_GNU_IFUNC`): its value is the resolver, which returns
    /// the implementation.
    Ifunc,
    /// A section (`STT_SECTION`).
    Section,
    /// A source file name (`STT_FILE`).
    File,
    /// A common block (`STT_COMMON` or `SHN_COMMON`), found in relocatable objects.
    Common,
    /// No type (`STT_NOTYPE`): labels, linker-defined symbols.
    NoType,
}

impl Kind {
    pub(crate) fn from_elf(st_type: elf::SymbolType, shndx_common: bool) -> Kind {
        if shndx_common {
            return Kind::Common;
        }
        match st_type {
            elf::STT_FUNC => Kind::Func,
            elf::STT_OBJECT => Kind::Object,
            elf::STT_TLS => Kind::Tls,
            elf::STT_GNU_IFUNC => Kind::Ifunc,
            elf::STT_SECTION => Kind::Section,
            elf::STT_FILE => Kind::File,
            elf::STT_COMMON => Kind::Common,
            _ => Kind::NoType,
        }
    }

    /// The ELF name of the kind (`STT_FUNC`, ...).
    pub fn elf_name(self) -> &'static str {
        match self {
            Kind::Func => "STT_FUNC",
            Kind::Object => "STT_OBJECT",
            Kind::Tls => "STT_TLS",
            Kind::Ifunc => "STT_GNU_IFUNC",
            Kind::Section => "STT_SECTION",
            Kind::File => "STT_FILE",
            Kind::Common => "STT_COMMON",
            Kind::NoType => "STT_NOTYPE",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Func => "function",
            Kind::Object => "object",
            Kind::Tls => "thread-local variable",
            Kind::Ifunc => "indirect function (IFUNC)",
            Kind::Section => "section",
            Kind::File => "file",
            Kind::Common => "common block",
            Kind::NoType => "untyped symbol",
        })
    }
}

/// Linkage (`STB_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binding {
    /// `STB_LOCAL`: `static` in C, and hidden globals after the link.
    Local,
    /// `STB_GLOBAL`.
    Global,
    /// `STB_WEAK`.
    Weak,
    /// `STB_GNU_UNIQUE`: one definition per process.
    Unique,
}

impl Binding {
    pub(crate) fn from_elf(st_bind: elf::SymbolBind) -> Binding {
        match st_bind {
            elf::STB_LOCAL => Binding::Local,
            elf::STB_WEAK => Binding::Weak,
            elf::STB_GNU_UNIQUE => Binding::Unique,
            _ => Binding::Global,
        }
    }
}

/// Visibility (`STV_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// `STV_DEFAULT`.
    Default,
    /// `STV_INTERNAL`.
    Internal,
    /// `STV_HIDDEN`: not exported, whatever the binding.
    Hidden,
    /// `STV_PROTECTED`.
    Protected,
}

impl Visibility {
    pub(crate) fn from_elf(st_visibility: elf::SymbolVisibility) -> Visibility {
        match st_visibility {
            elf::STV_INTERNAL => Visibility::Internal,
            elf::STV_HIDDEN => Visibility::Hidden,
            elf::STV_PROTECTED => Visibility::Protected,
            _ => Visibility::Default,
        }
    }
}

/// The symbol version of a versioned symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version<'a> {
    /// The version name (`GLIBC_2.2.5`).
    pub name: &'a str,
    /// `true` for the default version (`name@@VER`), `false` for a hidden or required
    /// one (`name@VER`).
    pub default: bool,
}

/// Which symbol tables a symbol came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tables {
    /// Present in `.symtab` (of the file or its debug companion).
    pub symtab: bool,
    /// Present in `.dynsym`.
    pub dynsym: bool,
}

/// A symbol of a [`SymbolIndex`](super::SymbolIndex).
///
/// Borrowed from its index (the strings point into the mapped file), so it lives no
/// longer than the index. Addresses are *file* addresses (`st_value`); a runtime address
/// is the module's load bias plus this (see `resolve`).
#[derive(Debug)]
pub struct Symbol {
    // The `'static` strings below really borrow from the owning index's backing buffers;
    // the accessors shorten them to `&self`'s lifetime, and `Symbol` is neither `Clone`
    // nor constructible outside this crate, so none escapes the index.
    pub(crate) name: &'static str,
    pub(crate) version: Option<(&'static str, bool)>,
    pub(crate) address: u64,
    pub(crate) size: u64,
    pub(crate) kind: Kind,
    pub(crate) binding: Binding,
    pub(crate) visibility: Visibility,
    pub(crate) defined: bool,
    pub(crate) section_index: Option<u32>,
    pub(crate) section: Option<&'static str>,
    pub(crate) file: Option<&'static str>,
    pub(crate) tables: Tables,
}

impl Symbol {
    /// The name without any `@VER` suffix.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The name with its version: `name@@VER`, `name@VER`, or just `name`.
    pub fn versioned_name(&self) -> Cow<'_, str> {
        match self.version {
            Some((v, true)) => Cow::Owned(format!("{}@@{v}", self.name)),
            Some((v, false)) => Cow::Owned(format!("{}@{v}", self.name)),
            None => Cow::Borrowed(self.name),
        }
    }

    /// The symbol version, for versioned symbols (defined or required).
    pub fn version(&self) -> Option<Version<'_>> {
        self.version
            .map(|(name, default)| Version { name, default })
    }

    /// The demangled name (Rust legacy and v0, C++ Itanium), with the Rust hash; `None`
    /// if the name is not mangled.
    pub fn demangled(&self) -> Option<String> {
        super::demangle::demangle(self.name).map(|d| d.full)
    }

    /// The file address (`st_value`); for [`Kind::Tls`] the offset in the TLS block.
    pub fn address(&self) -> u64 {
        self.address
    }

    /// The size in bytes (`st_size`).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// What the symbol names.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Its linkage.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// Its visibility.
    pub fn visibility(&self) -> Visibility {
        self.visibility
    }

    /// `true` unless the symbol is an undefined reference (`SHN_UNDEF`).
    pub fn is_defined(&self) -> bool {
        self.defined
    }

    /// The index of the section that defines it; `None` when undefined or absolute.
    pub fn section_index(&self) -> Option<u32> {
        self.section_index
    }

    /// The name of the section that defines it (`.text`, `.data`, `.tbss`, ...).
    pub fn section(&self) -> Option<&str> {
        self.section
    }

    /// The source file of a local symbol, from the `STT_FILE` symbol that precedes it.
    pub fn file(&self) -> Option<&str> {
        self.file
    }

    /// The tables the symbol was found in.
    pub fn tables(&self) -> Tables {
        self.tables
    }

    /// Whether `addr` (a file address) lies in `[address, address + size)`, or equals
    /// `address` for a zero-sized symbol.
    pub fn contains(&self, addr: u64) -> bool {
        if self.size == 0 {
            addr == self.address
        } else {
            addr >= self.address && addr - self.address < self.size
        }
    }
}

impl fmt::Display for Symbol {
    /// `name@@VER (function, fx_a.c) at 0x1109, 4 bytes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}", self.versioned_name(), self.kind)?;
        if let Some(file) = self.file {
            write!(f, ", {file}")?;
        }
        write!(f, ") at {:#x}, {} bytes", self.address, self.size)
    }
}
