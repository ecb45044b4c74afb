//! ELF symbols: the index over `.symtab` + `.dynsym`, and separate debug files.
//!
//! | item | what it is |
//! |---|---|
//! | [`SymbolIndex`] | every symbol of a file or in-memory image, by name, version, demangled path, source file and address |
//! | [`Symbol`], [`Kind`], [`Binding`], [`Visibility`], [`Version`] | one symbol and its ELF attributes |
//! | [`Query`] | `name`, `name@VER`, `name@@VER`, `file.c::name`, `crate::path::func` |
//! | [`NmTable`], [`NmSymbol`], [`NmOptions`] | one raw table (`.symtab` or `.dynsym`) as GNU nm lists it: type letters, versions, filters, sort orders |
//! | [`FileInfo`], [`SymbolCounts`] | header facts (class, machine, entry, interpreter, needed libraries, debug links) and symbol counts |
//! | [`MappedFile`] | a file mapped read-only, for the readers above that borrow from bytes |
//! | [`SymbolDiff`], [`normalize_name`] | symbols added, removed or changed between two builds, matched on names without build hashes and compiler suffixes |
//! | [`demangle_like_nm`] | demangling with GNU nm's (libiberty's) output conventions |
//! | [`DebugSearch`] | how stripped files find their debug companion (build-id, debuglink + CRC, MiniDebugInfo) |
//! | [`Error`], [`ErrorKind`] | the typed error shared with `process` and `resolve` |
//!
//! Parsing is done by the `object` crate; files are mapped with `memmap2` and symbol
//! names borrow from the mapping. Malformed input gives [`ErrorKind::Malformed`], never
//! a panic.

pub mod debuglink;
mod demangle;
mod diff;
mod error;
mod index;
mod info;
mod mapped;
mod nm;
mod symbol;

pub use debuglink::DebugSearch;
pub use demangle::demangle_like_nm;
pub use diff::{Change, DiffEntry, DiffSide, SymbolDiff, normalize_name};
pub use error::{Error, ErrorKind, Result};
pub(crate) use index::soname_of;
pub use index::{FileType, Query, SymbolIndex, SymbolSource};
pub use info::{FileInfo, SymbolCounts};
pub use mapped::MappedFile;
pub use nm::{NmEntry, NmOptions, NmSection, NmSort, NmSymbol, NmTable, Placement, Table};
pub use symbol::{Binding, Kind, Symbol, Tables, Version, Visibility};

/// Reads the GNU build-id from the notes of a `PT_NOTE` segment (or `SHT_NOTE` section)
/// whose contents are `notes` and alignment `align`. `None` if there is none or the notes
/// are malformed.
pub fn build_id_from_notes(notes: &[u8], align: u64) -> Option<&[u8]> {
    type Elf = object::elf::FileHeader64<object::NativeEndian>;
    let mut it =
        object::read::elf::NoteIterator::<Elf>::new(object::NativeEndian, align, notes).ok()?;
    while let Ok(Some(note)) = it.next() {
        if note.name() == object::elf::ELF_NOTE_GNU
            && note.n_type(object::NativeEndian) == object::elf::NT_GNU_BUILD_ID
        {
            return Some(note.desc());
        }
    }
    None
}

/// The GNU build-id of the ELF file in `data` (from its note sections or segments).
pub fn build_id(data: &[u8]) -> Result<Option<&[u8]>> {
    use object::Object as _;
    let file = object::File::parse(data).map_err(Error::malformed)?;
    file.build_id().map_err(Error::malformed)
}

/// A loadable or note segment of an ELF file, from its program headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// `PT_LOAD`, `PT_NOTE`, `PT_TLS`, ... (the raw `p_type`).
    pub p_type: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
    /// `p_flags` (`PF_X` = 1, `PF_W` = 2, `PF_R` = 4).
    pub flags: u32,
}

/// The program headers of an ELF file held in `data` (64- or 32-bit).
pub fn program_headers(data: &[u8]) -> Result<Vec<Segment>> {
    use object::read::elf::{FileHeader, ProgramHeader};
    fn collect<Elf: FileHeader<Endian = object::Endianness>>(data: &[u8]) -> Result<Vec<Segment>> {
        let header = Elf::parse(data).map_err(Error::malformed)?;
        let endian = header.endian().map_err(Error::malformed)?;
        let phdrs = header
            .program_headers(endian, data)
            .map_err(Error::malformed)?;
        Ok(phdrs
            .iter()
            .map(|p| Segment {
                p_type: p.p_type(endian).0,
                offset: p.p_offset(endian).into(),
                vaddr: p.p_vaddr(endian).into(),
                filesz: p.p_filesz(endian).into(),
                memsz: p.p_memsz(endian).into(),
                align: p.p_align(endian).into(),
                flags: p.p_flags(endian).0,
            })
            .collect())
    }
    match object::FileKind::parse(data).map_err(Error::malformed)? {
        object::FileKind::Elf64 => collect::<object::elf::FileHeader64<object::Endianness>>(data),
        object::FileKind::Elf32 => collect::<object::elf::FileHeader32<object::Endianness>>(data),
        other => Err(Error::new(
            ErrorKind::Unsupported,
            format!("not an ELF file (detected {other:?})"),
        )),
    }
}
