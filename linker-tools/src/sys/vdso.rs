//! The core's own vDSO lookup: a symbol of the kernel's vDSO image by name and
//! version, found without allocating, locking or making a system call.
//!
//! The time calls ([`clock_gettime`](super::clock_gettime) and co.) find their vDSO
//! functions here, so the first call of each is as async-signal-safe as every later
//! one: a signal handler may be the first caller. The walk is the dynamic loader's,
//! over the image the kernel mapped at `getauxval(AT_SYSINFO_EHDR)`: the ELF header,
//! the program headers (`PT_LOAD` for the load bias, `PT_DYNAMIC`), the dynamic
//! section, then `DT_GNU_HASH` (or `DT_HASH`), `DT_SYMTAB`/`DT_STRTAB`, and
//! `DT_VERSYM`/`DT_VERDEF` for the version. `linker_tools::vdso` (feature `vdso`) indexes the same image
//! with the general ELF code for inspection; a test checks that the two agree on
//! every symbol.
//!
//! Every read is bounds-checked against the image (the `PT_LOAD` segment that maps
//! the ELF header): a malformed image gives `None`, never a read outside it.
//!
//! ```
//! use linker_tools::sys::vdso;
//! let f = vdso::function("__vdso_clock_gettime", "LINUX_2.6").expect("an x86_64 vDSO");
//! assert!(vdso::function("__vdso_clock_gettime", "LINUX_9.9").is_none());
//! assert!(vdso::symbol("no_such_symbol", "LINUX_2.6").is_none());
//! # let _ = f;
//! ```
//!
//! # Safety
//!
//! One `unsafe` story: the kernel maps the vDSO for the life of the process, readable,
//! at `AT_SYSINFO_EHDR`. The first page holds the ELF and program headers; the
//! `PT_LOAD` segment at file offset 0 then says how far the image goes. Everything
//! past those two raw reads is safe code over the resulting `&'static [u8]`.

use core::ffi::c_void;
use core::ptr::NonNull;

/// `AT_SYSINFO_EHDR`: the auxiliary-vector entry holding the vDSO's address.
const AT_SYSINFO_EHDR: u64 = 33;

unsafe extern "C" {
    /// The C library's `getauxval(3)`: a read of the auxiliary vector the kernel
    /// passed at exec, saved by the C runtime before `main`; no lock, no allocation.
    fn getauxval(kind: u64) -> u64;
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: u64 = 0;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_STRSZ: u64 = 10;
const DT_SYMENT: u64 = 11;
const DT_GNU_HASH: u64 = 0x6fff_fef5;
const DT_VERSYM: u64 = 0x6fff_fff0;
const DT_VERDEF: u64 = 0x6fff_fffc;
const DT_VERDEFNUM: u64 = 0x6fff_fffd;
const STT_OBJECT: u8 = 1;
const STT_FUNC: u8 = 2;
const STB_GLOBAL: u8 = 1;
const STB_WEAK: u8 = 2;
const SHN_UNDEF: u16 = 0;
/// Size of an `Elf64_Sym`.
const SYM_SIZE: usize = 24;
/// The most the kernel's vDSO images take (a few pages); anything larger is refused.
const MAX_IMAGE: usize = 1 << 20;

/// The address of the vDSO's ELF header in this process, if the kernel mapped one.
#[doc(alias = "AT_SYSINFO_EHDR")]
pub fn base() -> Option<NonNull<u8>> {
    // SAFETY: getauxval takes an integer and reads the saved auxiliary vector only.
    NonNull::new(unsafe { getauxval(AT_SYSINFO_EHDR) } as usize as *mut u8)
}

/// A defined symbol of the vDSO, at its runtime address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct Symbol {
    /// The runtime address: the load bias plus `st_value`.
    pub address: usize,
    /// `st_size`.
    pub size: u64,
    /// `STT_*` from `st_info` (`2` for a function).
    pub kind: u8,
}

/// The defined global or weak symbol `name` with version `version` (`"LINUX_2.6"`
/// on x86_64), of any kind. An unversioned symbol also matches (a vDSO built without
/// versions); a hidden or local one never does.
pub fn symbol(name: &str, version: &str) -> Option<Symbol> {
    Image::this_process()?.find(name.as_bytes(), version.as_bytes())
}

/// The runtime address of the vDSO function (`STT_FUNC`) `name` with version
/// `version`, inside the mapped image, or `None` if this process's vDSO lacks it.
pub fn function(name: &str, version: &str) -> Option<NonNull<c_void>> {
    let sym = symbol(name, version).filter(|s| s.kind == STT_FUNC)?;
    NonNull::new(sym.address as *mut c_void)
}

/// The vDSO as the dynamic loader sees it: the mapped bytes and the tables in them.
struct Image {
    bytes: &'static [u8],
    /// Runtime address minus link-time address.
    bias: usize,
    /// Link-time address of the `PT_LOAD` segment that starts at file offset 0.
    load_vaddr: u64,
    symtab: usize,
    strtab: usize,
    strsz: usize,
    hash: Option<usize>,
    gnu_hash: Option<usize>,
    versym: Option<usize>,
    verdef: Option<(usize, usize)>,
}

impl Image {
    fn this_process() -> Option<Image> {
        let base = base()?;
        // The ELF header and the program headers: the vDSO's lie in its first page
        // (the kernel maps at least one), which is all that is read before PT_LOAD says
        // how long the image is.
        // SAFETY: AT_SYSINFO_EHDR points at the start of the mapped vDSO, whose first
        // 4096 bytes are readable for the life of the process (module `# Safety`).
        let page: &'static [u8] = unsafe { core::slice::from_raw_parts(base.as_ptr(), 4096) };
        let head = Bytes(page);
        if head.slice(0, 4)? != b"\x7fELF" || head.u8(4)? != 2 || head.u8(5)? != 1 {
            return None; // not ELFCLASS64 little-endian
        }
        let phoff = usize::try_from(head.u64(0x20)?).ok()?;
        let phentsize = usize::from(head.u16(0x36)?);
        let phnum = usize::from(head.u16(0x38)?);
        if phentsize != 56 {
            return None;
        }
        let mut load = None;
        let mut dynamic = None;
        for i in 0..phnum {
            let ph = Bytes(head.slice(phoff.checked_add(i.checked_mul(56)?)?, 56)?);
            let (kind, offset, vaddr) = (ph.u32(0)?, ph.u64(8)?, ph.u64(16)?);
            let (filesz, memsz) = (ph.u64(32)?, ph.u64(40)?);
            if kind == PT_LOAD && offset == 0 && load.is_none() {
                load = Some((vaddr, filesz));
            } else if kind == PT_DYNAMIC {
                dynamic = Some((vaddr, memsz.min(filesz)));
            }
        }
        let (load_vaddr, filesz) = load?;
        let len = usize::try_from(filesz).ok()?;
        if !(64..=MAX_IMAGE).contains(&len) {
            return None;
        }
        // SAFETY: the PT_LOAD segment at file offset 0 maps the image's first `filesz`
        // bytes from its ELF header on, readable for the life of the process (module
        // `# Safety`); `len` is that size, bounded above.
        let bytes: &'static [u8] = unsafe { core::slice::from_raw_parts(base.as_ptr(), len) };
        let bias = (base.as_ptr() as usize).wrapping_sub(load_vaddr as usize);
        let mut image = Image {
            bytes,
            bias,
            load_vaddr,
            symtab: 0,
            strtab: 0,
            strsz: 0,
            hash: None,
            gnu_hash: None,
            versym: None,
            verdef: None,
        };
        let (dyn_vaddr, dyn_size) = dynamic?;
        let dyn_off = image.offset(dyn_vaddr)?;
        let dyn_len = usize::try_from(dyn_size).ok()?;
        let dynamic = Bytes(Bytes(bytes).slice(dyn_off, dyn_len)?);
        let (mut symtab, mut strtab, mut strsz, mut syment) = (None, None, None, SYM_SIZE as u64);
        let mut verdefnum = 0;
        let mut verdef = None;
        for i in 0..dyn_len / 16 {
            let tag = dynamic.u64(i * 16)?;
            let val = dynamic.u64(i * 16 + 8)?;
            match tag {
                DT_NULL => break,
                DT_HASH => image.hash = Some(image.offset(val)?),
                DT_GNU_HASH => image.gnu_hash = Some(image.offset(val)?),
                DT_SYMTAB => symtab = Some(image.offset(val)?),
                DT_STRTAB => strtab = Some(image.offset(val)?),
                DT_STRSZ => strsz = Some(usize::try_from(val).ok()?),
                DT_SYMENT => syment = val,
                DT_VERSYM => image.versym = Some(image.offset(val)?),
                DT_VERDEF => verdef = Some(image.offset(val)?),
                DT_VERDEFNUM => verdefnum = usize::try_from(val).ok()?,
                _ => {}
            }
        }
        if syment != SYM_SIZE as u64 {
            return None;
        }
        image.symtab = symtab?;
        image.strtab = strtab?;
        image.strsz = strsz?;
        image.verdef = verdef.map(|v| (v, verdefnum));
        Some(image)
    }

    /// The offset in the image of link-time address `vaddr`.
    fn offset(&self, vaddr: u64) -> Option<usize> {
        let off = usize::try_from(vaddr.checked_sub(self.load_vaddr)?).ok()?;
        (off < self.bytes.len()).then_some(off)
    }

    fn bytes(&self) -> Bytes<'static> {
        Bytes(self.bytes)
    }

    /// The NUL-terminated name at `off` in the string table.
    fn name(&self, off: u32) -> Option<&'static [u8]> {
        let off = usize::try_from(off).ok()?;
        if off >= self.strsz {
            return None;
        }
        let table = self.bytes().slice(self.strtab, self.strsz)?;
        let rest = &table[off..];
        let end = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..end])
    }

    fn find(&self, name: &[u8], version: &[u8]) -> Option<Symbol> {
        if let Some(at) = self.gnu_hash {
            self.find_gnu(at, name, version)
        } else {
            self.find_sysv(self.hash?, name, version)
        }
    }

    /// `DT_GNU_HASH`: bloom filter, then the bucket's chain of equal-bucket symbols.
    fn find_gnu(&self, at: usize, name: &[u8], version: &[u8]) -> Option<Symbol> {
        let t = self.bytes();
        let nbuckets = usize::try_from(t.u32(at)?).ok()?;
        let symoffset = t.u32(at + 4)?;
        let bloom_size = usize::try_from(t.u32(at + 8)?).ok()?;
        let bloom_shift = t.u32(at + 12)?;
        if nbuckets == 0 || bloom_size == 0 || bloom_shift >= 64 {
            return None;
        }
        let h = gnu_hash(name);
        let bloom = at + 16;
        let word = t.u64(bloom.checked_add((h as usize / 64 % bloom_size).checked_mul(8)?)?)?;
        let mask = (1u64 << (h % 64)) | (1u64 << ((h >> bloom_shift) % 64));
        if word & mask != mask {
            return None;
        }
        let buckets = bloom.checked_add(bloom_size.checked_mul(8)?)?;
        let chains = buckets.checked_add(nbuckets.checked_mul(4)?)?;
        let mut index = t.u32(buckets + (h as usize % nbuckets) * 4)?;
        if index < symoffset {
            return None;
        }
        // Each symbol is visited once: the chain only moves forward, and ends at the
        // table's end at the latest (a read past it fails).
        loop {
            let chain = t.u32(
                chains.checked_add(usize::try_from(index - symoffset).ok()?.checked_mul(4)?)?,
            )?;
            if chain | 1 == h | 1 {
                if let Some(sym) = self.matches(index, name, version) {
                    return Some(sym);
                }
            }
            if chain & 1 == 1 {
                return None;
            }
            index = index.checked_add(1)?;
        }
    }

    /// `DT_HASH`: the SysV bucket and chain arrays.
    fn find_sysv(&self, at: usize, name: &[u8], version: &[u8]) -> Option<Symbol> {
        let t = self.bytes();
        let nbucket = usize::try_from(t.u32(at)?).ok()?;
        let nchain = usize::try_from(t.u32(at + 4)?).ok()?;
        if nbucket == 0 {
            return None;
        }
        let buckets = at + 8;
        let chains = buckets.checked_add(nbucket.checked_mul(4)?)?;
        let mut index =
            usize::try_from(t.u32(buckets + (sysv_hash(name) as usize % nbucket) * 4)?).ok()?;
        // A chain longer than the table is a loop: stop after `nchain` steps.
        for _ in 0..nchain {
            if index == 0 {
                return None;
            }
            if let Some(sym) = self.matches(u32::try_from(index).ok()?, name, version) {
                return Some(sym);
            }
            index = usize::try_from(t.u32(chains.checked_add(index.checked_mul(4)?)?)?).ok()?;
        }
        None
    }

    /// Symbol `index` if it is the defined, visible `name` of version `version`.
    fn matches(&self, index: u32, name: &[u8], version: &[u8]) -> Option<Symbol> {
        let index = usize::try_from(index).ok()?;
        let sym = Bytes(self.bytes().slice(
            self.symtab.checked_add(index.checked_mul(SYM_SIZE)?)?,
            SYM_SIZE,
        )?);
        let (st_name, info, other, shndx) = (sym.u32(0)?, sym.u8(4)?, sym.u8(5)?, sym.u16(6)?);
        let (value, size) = (sym.u64(8)?, sym.u64(16)?);
        let (kind, binding, visibility) = (info & 0xf, info >> 4, other & 3);
        if shndx == SHN_UNDEF
            || !matches!(binding, STB_GLOBAL | STB_WEAK)
            || !matches!(visibility, 0 | 3) // default or protected
            || !matches!(kind, STT_FUNC | STT_OBJECT | 0)
            || self.name(st_name)? != name
            || !self.has_version(index, version)?
        {
            return None;
        }
        let address = self.bias.wrapping_add(usize::try_from(value).ok()?);
        let start = self.bytes.as_ptr() as usize;
        if kind == STT_FUNC && !(start..start + self.bytes.len()).contains(&address) {
            return None; // a function outside the image: not one we can call
        }
        Some(Symbol {
            address,
            size,
            kind,
        })
    }

    /// Whether symbol `index` has version `version` (`DT_VERSYM` + `DT_VERDEF`); an
    /// image without versions matches any version, `Some(false)` is a mismatch.
    fn has_version(&self, index: usize, version: &[u8]) -> Option<bool> {
        let (Some(versym), Some((verdef, count))) = (self.versym, self.verdef) else {
            return Some(true);
        };
        let t = self.bytes();
        let ndx = t.u16(versym.checked_add(index.checked_mul(2)?)?)? & 0x7fff;
        if ndx <= 1 {
            return Some(ndx == 1); // VER_NDX_GLOBAL: unversioned, base definition
        }
        let mut at = verdef;
        for _ in 0..count {
            let (vd_ndx, vd_aux, vd_next) = (t.u16(at + 4)?, t.u32(at + 12)?, t.u32(at + 16)?);
            if vd_ndx == ndx {
                let aux = at.checked_add(usize::try_from(vd_aux).ok()?)?;
                return Some(self.name(t.u32(aux)?)? == version);
            }
            if vd_next == 0 {
                break;
            }
            at = at.checked_add(usize::try_from(vd_next).ok()?)?;
        }
        Some(false)
    }
}

/// Little-endian reads that fail instead of going out of bounds.
#[derive(Clone, Copy)]
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn slice(self, at: usize, len: usize) -> Option<&'a [u8]> {
        self.0.get(at..at.checked_add(len)?)
    }
    fn array<const N: usize>(self, at: usize) -> Option<[u8; N]> {
        self.slice(at, N)?.try_into().ok()
    }
    fn u8(self, at: usize) -> Option<u8> {
        self.0.get(at).copied()
    }
    fn u16(self, at: usize) -> Option<u16> {
        self.array(at).map(u16::from_le_bytes)
    }
    fn u32(self, at: usize) -> Option<u32> {
        self.array(at).map(u32::from_le_bytes)
    }
    fn u64(self, at: usize) -> Option<u64> {
        self.array(at).map(u64::from_le_bytes)
    }
}

/// The GNU hash of a symbol name (`h = h * 33 + c`, from 5381).
fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

/// The SysV ELF hash of a symbol name.
fn sysv_hash(name: &[u8]) -> u32 {
    name.iter().fold(0u32, |h, &c| {
        let h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        (h ^ (g >> 24)) & !g
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_the_elf_specifications_examples() {
        // Values from the System V ABI and the GNU hash write-ups.
        assert_eq!(sysv_hash(b""), 0);
        assert_eq!(sysv_hash(b"printf"), 0x077905a6);
        assert_eq!(sysv_hash(b"exit"), 0x0006cf04);
        assert_eq!(gnu_hash(b""), 0x0000_1505);
        assert_eq!(gnu_hash(b"printf"), 0x156b_2bb8);
        assert_eq!(gnu_hash(b"exit"), 0x7c96_7e3f);
    }
}
