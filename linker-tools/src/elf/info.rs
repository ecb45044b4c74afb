//! [`FileInfo`]: what an ELF file's headers say about it, and [`SymbolCounts`].

use object::elf;
use object::read::elf::{Dyn as _, FileHeader, ProgramHeader as _};
use object::{Endianness, FileKind};

use super::error::{Error, ErrorKind, Result};
use super::index::{FileType, SymbolIndex};
use super::symbol::{Binding, Kind, Visibility};

/// The facts `readelf -h -l -d` and `file` would report, read from the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileInfo {
    /// 32 or 64.
    pub class: u8,
    /// `true` for big-endian.
    pub big_endian: bool,
    /// `e_machine`.
    pub machine: u16,
    /// The ELF file type.
    pub file_type: FileType,
    /// `true` for a position-independent executable (`ET_DYN` with `PT_INTERP`, or
    /// `DF_1_PIE`).
    pub pie: bool,
    /// `e_entry`.
    pub entry: u64,
    /// The program interpreter (`PT_INTERP`), e.g. `/lib64/ld-linux-x86-64.so.2`.
    pub interpreter: Option<String>,
    /// `DT_SONAME`.
    pub soname: Option<String>,
    /// `DT_NEEDED`, in order.
    pub needed: Vec<String>,
    /// `DT_RUNPATH`, or `DT_RPATH` when there is no runpath.
    pub runpath: Option<String>,
    /// The GNU build-id.
    pub build_id: Option<Vec<u8>>,
    /// Entries in `.symtab` (0 when there is none: the file is stripped).
    pub symtab_symbols: usize,
    /// Entries in `.dynsym`.
    pub dynsym_symbols: usize,
    /// `.gnu_debuglink`: the debug file's name and CRC32.
    pub debuglink: Option<(String, u32)>,
    /// The file carries MiniDebugInfo (`.gnu_debugdata`).
    pub mini_debug_info: bool,
    /// Section headers.
    pub sections: usize,
    /// Program headers.
    pub segments: usize,
}

impl FileInfo {
    /// Reads the headers of the ELF image `data`.
    ///
    /// ```no_run
    /// let data = std::fs::read("/bin/ls")?;
    /// let info = linker_tools::elf::FileInfo::parse(&data)?;
    /// assert_eq!(info.machine_name(), "x86-64");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(data: &[u8]) -> Result<FileInfo> {
        if !data.starts_with(&elf::ELFMAG) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "not an ELF file (no \\x7fELF magic)",
            ));
        }
        match FileKind::parse(data).map_err(Error::malformed)? {
            FileKind::Elf32 => parse::<elf::FileHeader32<Endianness>>(data, 32),
            FileKind::Elf64 => parse::<elf::FileHeader64<Endianness>>(data, 64),
            other => Err(Error::new(
                ErrorKind::Unsupported,
                format!("not an ELF file (detected {other:?})"),
            )),
        }
    }

    /// Whether the file has no `.symtab` of its own.
    pub fn is_stripped(&self) -> bool {
        self.symtab_symbols == 0
    }

    /// The machine's common name (`x86-64`, `AArch64`, ...), or `EM_<n>`.
    pub fn machine_name(&self) -> String {
        let name = match elf::Machine(self.machine) {
            elf::EM_386 => "i386",
            elf::EM_X86_64 => "x86-64",
            elf::EM_AARCH64 => "AArch64",
            elf::EM_ARM => "ARM",
            elf::EM_RISCV => "RISC-V",
            elf::EM_PPC64 => "PowerPC64",
            elf::EM_PPC => "PowerPC",
            elf::EM_S390 => "IBM S/390",
            elf::EM_MIPS => "MIPS",
            elf::EM_BPF => "BPF",
            elf::EM_LOONGARCH => "LoongArch",
            elf::EM_NONE => "none",
            n => return format!("EM_{}", n.0),
        };
        name.to_owned()
    }

    /// The build-id as lowercase hex.
    pub fn build_id_hex(&self) -> Option<String> {
        self.build_id
            .as_ref()
            .map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn parse<Elf: FileHeader<Endian = Endianness>>(data: &[u8], class: u8) -> Result<FileInfo> {
    let header = Elf::parse(data).map_err(Error::malformed)?;
    let endian = header.endian().map_err(Error::malformed)?;
    let sections = header.sections(endian, data).map_err(Error::malformed)?;
    let phdrs = header
        .program_headers(endian, data)
        .map_err(Error::malformed)?;
    let file_type = match header.e_type(endian) {
        elf::ET_EXEC => FileType::Executable,
        elf::ET_DYN => FileType::Shared,
        elf::ET_REL => FileType::Relocatable,
        _ => FileType::Other,
    };
    let interpreter = phdrs
        .iter()
        .find(|p| p.p_type(endian) == elf::PT_INTERP)
        .and_then(|p| p.data(endian, data).ok())
        .map(|b| text(b.split(|&c| c == 0).next().unwrap_or(b)));
    let mut needed = Vec::new();
    let mut soname = None;
    let (mut rpath, mut runpath) = (None, None);
    let mut pie_flag = false;
    if let Some((dyns, link)) = sections.dynamic(endian, data).map_err(Error::malformed)? {
        let strings = sections
            .strings(endian, data, link)
            .map_err(Error::malformed)?;
        for d in dyns {
            let string = || d.string(endian, strings).ok().map(text);
            match d.tag(endian) {
                elf::DT_NULL => break,
                elf::DT_NEEDED => needed.extend(string()),
                elf::DT_SONAME => soname = string(),
                elf::DT_RPATH => rpath = string(),
                elf::DT_RUNPATH => runpath = string(),
                elf::DT_FLAGS_1 => pie_flag = d.val(endian) & elf::DF_1_PIE.0 != 0,
                _ => {}
            }
        }
    }
    let file = object::read::elf::ElfFile::<Elf>::parse(data).map_err(Error::malformed)?;
    let build_id = object::Object::build_id(&file)
        .ok()
        .flatten()
        .map(<[u8]>::to_vec);
    let debuglink = object::Object::gnu_debuglink(&file)
        .ok()
        .flatten()
        .map(|(n, crc)| (text(n), crc));
    let count = |t| {
        sections
            .symbols(endian, data, t)
            .map(|s| s.len().saturating_sub(1))
            .unwrap_or(0)
    };
    Ok(FileInfo {
        class,
        big_endian: endian == Endianness::Big,
        machine: header.e_machine(endian).0,
        file_type,
        pie: file_type == FileType::Shared && (pie_flag || interpreter.is_some()),
        entry: header.e_entry(endian).into(),
        interpreter,
        soname,
        needed,
        runpath: runpath.or(rpath),
        build_id,
        symtab_symbols: count(elf::SHT_SYMTAB),
        dynsym_symbols: count(elf::SHT_DYNSYM),
        debuglink,
        mini_debug_info: sections
            .section_by_name(endian, b".gnu_debugdata")
            .is_some(),
        sections: sections.len(),
        segments: phdrs.len(),
    })
}

/// How many symbols of an index fall in each kind, binding and visibility, and how many
/// are defined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SymbolCounts {
    /// All symbols.
    pub total: usize,
    /// Defined ones (the rest are undefined references).
    pub defined: usize,
    /// By kind, in the order first met.
    pub by_kind: Vec<(Kind, usize)>,
    /// By binding.
    pub by_binding: Vec<(Binding, usize)>,
    /// By visibility.
    pub by_visibility: Vec<(Visibility, usize)>,
}

fn bump<T: PartialEq>(v: &mut Vec<(T, usize)>, key: T) {
    match v.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => v.push((key, 1)),
    }
}

impl SymbolCounts {
    /// Counts the symbols of `index`.
    pub fn of(index: &SymbolIndex) -> SymbolCounts {
        let mut c = SymbolCounts::default();
        for s in index.symbols() {
            c.total += 1;
            c.defined += usize::from(s.is_defined());
            bump(&mut c.by_kind, s.kind());
            bump(&mut c.by_binding, s.binding());
            bump(&mut c.by_visibility, s.visibility());
        }
        c.by_kind.sort_by_key(|e| std::cmp::Reverse(e.1));
        c.by_binding.sort_by_key(|e| std::cmp::Reverse(e.1));
        c.by_visibility.sort_by_key(|e| std::cmp::Reverse(e.1));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_executable() {
        let exe = std::env::current_exe().unwrap();
        let data = std::fs::read(exe).unwrap();
        let info = FileInfo::parse(&data).unwrap();
        assert_eq!(info.class, 64);
        assert_eq!(info.machine_name(), "x86-64");
        assert!(info.needed.iter().any(|n| n.starts_with("libc.so")));
        assert!(info.interpreter.is_some());
    }

    #[test]
    fn garbage_is_unsupported() {
        assert_eq!(
            FileInfo::parse(b"#!/bin/sh\n").unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }
}
