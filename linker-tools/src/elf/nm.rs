//! One ELF symbol table as GNU `nm` sees it: raw entries, nm's type letters, its
//! filters and its sort orders.
//!
//! [`SymbolIndex`](super::SymbolIndex) merges `.symtab`, `.dynsym` and debug files into one
//! view for lookups; `nm` shows exactly one table (`.symtab`, or `.dynsym` with `-D`),
//! entry by entry, in an order and with letters defined by BFD. This module reproduces
//! that view so that a listing built from it is byte-for-byte GNU nm's (binutils 2.40,
//! `LC_COLLATE=C`):
//!
//! * [`NmTable::read`] reads one table of an ELF image (32- or 64-bit, any endianness);
//! * [`NmSymbol::type_char`] is nm's letter (BFD's `bfd_decode_symclass`): `U`/`w`/`v`
//!   for undefined, `C` common, `i` IFUNC, `W`/`V` weak, `u` unique, `A`/`T`/`D`/`R`/`B`/
//!   `N`/`n` from the section's flags, lowercase for local symbols, `?` when BFD cannot
//!   classify;
//! * [`NmTable::version`] is the `@VER`/`@@VER` suffix nm appends to dynamic symbols;
//! * [`NmTable::list`] filters and sorts as `nm`'s `-u`, `--defined-only`, `-g`, `-a`,
//!   `-n`, `-p`, `-r` and `--size-sort` do, including the tie-breaks (a stable sort on the
//!   bare name, table order last).
//!
//! Names are bytes, borrowed from the image: ELF does not promise UTF-8 and nm prints
//! them as they are.

use object::elf;
use object::read::elf::{FileHeader, SectionHeader as _, SectionTable, Sym as _};
use object::{Endianness, FileKind};

use super::error::{Error, ErrorKind, Result};

/// Which symbol table to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// `.symtab` (`SHT_SYMTAB`): every symbol the linker kept, `nm`'s default.
    Symtab,
    /// `.dynsym` (`SHT_DYNSYM`): the dynamic symbols, `nm -D`.
    Dynsym,
}

/// Where a symbol lives, in BFD's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// `SHN_UNDEF`: a reference to a symbol defined elsewhere.
    Undefined,
    /// `SHN_ABS`, or a section BFD does not model (string/symbol tables, out of range).
    Absolute,
    /// `SHN_COMMON` (and `SHN_X86_64_LCOMMON` on x86-64): a common block.
    Common,
    /// A section, by its ELF index.
    Section(u32),
}

/// One section header, as much of it as nm's letters and size sort need.
#[derive(Debug, Clone, Copy)]
pub struct NmSection<'a> {
    /// The section's name.
    pub name: &'a [u8],
    /// `sh_addr`.
    pub address: u64,
    /// `sh_size`.
    pub size: u64,
    /// The lowercase letter nm derives from this section (`t`, `d`, `r`, `b`, `n`, `N`,
    /// `?`, or a PE-style `i`/`e`/`p` for `.idata`/`.edata`/`.pdata` names).
    pub letter: u8,
    /// Whether BFD makes a section of it; symbols in sections it does not are absolute.
    pub modelled: bool,
}

/// A symbol of one table, with what nm prints about it.
#[derive(Debug, Clone, Copy)]
pub struct NmSymbol<'a> {
    // 48 bytes: big tables hold hundreds of thousands (versions live in the table).
    name: &'a [u8],
    value: u64,
    size: u64,
    index: u32,
    placement: Placement,
    st_info: u8,
    st_other: u8,
    type_char: u8,
}

impl<'a> NmSymbol<'a> {
    /// The name as stored (for a section symbol with an empty name, its section's name,
    /// as nm shows it). Static names of linked files may carry `@VER` themselves.
    pub fn name(&self) -> &'a [u8] {
        self.name
    }

    /// nm's value: `st_value`, or the size for a common symbol (ELF keeps the alignment
    /// in `st_value`).
    pub fn value(&self) -> u64 {
        self.value
    }

    /// `st_size`.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The index of the entry in its table.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Where the symbol lives.
    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// `st_info`: binding in the high nibble, type in the low one.
    pub fn st_info(&self) -> u8 {
        self.st_info
    }

    /// `st_other`: the visibility in the low two bits.
    pub fn st_other(&self) -> u8 {
        self.st_other
    }

    /// nm's type letter (see the module docs).
    pub fn type_char(&self) -> u8 {
        self.type_char
    }

    /// Whether nm leaves the value column blank: `U`, `w` and `v`.
    pub fn is_undefined_class(&self) -> bool {
        matches!(self.type_char, b'U' | b'w' | b'v')
    }

    /// An `STT_SECTION` symbol (BFD: a section symbol, shown only with `-a`).
    pub fn is_section_symbol(&self) -> bool {
        self.st_info & 0xf == elf::STT_SECTION.0
    }

    /// An `STT_FILE` symbol (shown only with `-a`).
    pub fn is_file_symbol(&self) -> bool {
        self.st_info & 0xf == elf::STT_FILE.0
    }

    /// What nm calls a debugging symbol (section and file symbols), hidden without `-a`.
    pub fn is_debugging(&self) -> bool {
        self.is_section_symbol() || self.is_file_symbol()
    }

    fn binding(&self) -> u8 {
        self.st_info >> 4
    }

    /// What `nm -g` keeps: global (defined), weak and unique symbols, undefined and common ones.
    pub fn is_external(&self) -> bool {
        let b = self.binding();
        matches!(self.placement, Placement::Undefined | Placement::Common)
            || b == elf::STB_GLOBAL.0
            || b == elf::STB_WEAK.0
            || b == elf::STB_GNU_UNIQUE.0
    }
}

/// How [`NmTable::list`] orders symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NmSort {
    /// By name, bytewise (nm's default, with `LC_COLLATE=C`).
    #[default]
    Name,
    /// By address, undefined symbols first, then by name (`-n`).
    Address,
    /// By size, dropping absolute, undefined and zero-sized symbols (`--size-sort`).
    Size,
    /// Table order (`-p`).
    None,
}

/// Which symbols [`NmTable::list`] keeps and how it orders them: nm's flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NmOptions {
    /// `-u`: only undefined symbols.
    pub undefined_only: bool,
    /// `--defined-only`.
    pub defined_only: bool,
    /// `-g`: only external symbols.
    pub external_only: bool,
    /// `-a`: keep section and file symbols too.
    pub debug_syms: bool,
    /// The order.
    pub sort: NmSort,
    /// `-r`: reverse it.
    pub reverse: bool,
}

impl NmOptions {
    /// Whether a listing with these options shows `s`.
    fn keeps(&self, s: &NmSymbol<'_>) -> bool {
        let undefined = s.placement == Placement::Undefined;
        let mut keep = if self.undefined_only {
            undefined
        } else if self.external_only {
            s.is_external()
        } else {
            true
        };
        keep &= self.debug_syms || !s.is_debugging();
        if self.sort == NmSort::Size {
            keep &= !matches!(s.placement, Placement::Undefined | Placement::Absolute);
        }
        keep &= !(self.defined_only && undefined);
        keep
    }
}

/// An entry of a listing: a symbol and the size nm associates with it (its `st_size`,
/// or for a section symbol in a size sort, the distance to the next symbol).
#[derive(Debug, Clone, Copy)]
pub struct NmEntry<'t, 'a> {
    /// The symbol.
    pub symbol: &'t NmSymbol<'a>,
    /// The size nm sorts by and prints (see above).
    pub size: u64,
}

/// One symbol table of an ELF image, with its sections, ready to list as nm does.
#[derive(Debug)]
pub struct NmTable<'a> {
    /// A name sort prepared while reading (see [`NmTable::read_for`]), for the first
    /// [`NmTable::list`] with the same options.
    dealt: std::sync::Mutex<Option<Dealt>>,
    symbols: Vec<NmSymbol<'a>>,
    /// Each symbol's version (`.dynsym` only; empty for `.symtab`).
    versions: Vec<Option<(&'a [u8], bool)>>,
    sections: Vec<NmSection<'a>>,
    width: u8,
    relocatable: bool,
}

impl Clone for NmTable<'_> {
    fn clone(&self) -> Self {
        NmTable {
            dealt: std::sync::Mutex::new(None),
            symbols: self.symbols.clone(),
            versions: self.versions.clone(),
            sections: self.sections.clone(),
            width: self.width,
            relocatable: self.relocatable,
        }
    }
}

/// The symbols a name-sorted listing keeps, dealt into key ranges while the table was
/// read: what [`name_order`] does first, done in the same pass.
#[derive(Debug)]
struct Dealt {
    options: NmOptions,
    /// Per half of the table, per range, in position order.
    lists: [Vec<Vec<Item>>; 2],
}

impl<'a> NmTable<'a> {
    /// Reads `table` of the ELF image `data`. `Ok(None)` when the image has no such table
    /// or it holds no symbol (nm's "no symbols").
    ///
    /// ```no_run
    /// use linker_tools::elf::{NmOptions, NmTable, Table};
    /// let data = std::fs::read("/usr/lib/x86_64-linux-gnu/libc.so.6")?;
    /// let table = NmTable::read(&data, Table::Dynsym)?.expect("libc exports symbols");
    /// for e in table.list(&NmOptions::default()).iter().take(3) {
    ///     println!("{} {}", e.symbol.type_char() as char, String::from_utf8_lossy(e.symbol.name()));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(data: &'a [u8], table: Table) -> Result<Option<Self>> {
        Self::read_prepared(data, table, None)
    }

    /// [`NmTable::read`], preparing the listing [`NmTable::list`] gives for `options`
    /// as the table is read (for a name sort of a big table, the first half of the sort
    /// is done in the same pass). Any listing can still be asked for afterwards.
    pub fn read_for(data: &'a [u8], table: Table, options: &NmOptions) -> Result<Option<Self>> {
        Self::read_prepared(data, table, Some(options))
    }

    fn read_prepared(
        data: &'a [u8],
        table: Table,
        options: Option<&NmOptions>,
    ) -> Result<Option<Self>> {
        if !data.starts_with(&elf::ELFMAG) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "not an ELF file (no \\x7fELF magic)",
            ));
        }
        match FileKind::parse(data).map_err(Error::malformed)? {
            FileKind::Elf32 => read_table::<elf::FileHeader32<Endianness>>(data, table, 8, options),
            FileKind::Elf64 => {
                read_table::<elf::FileHeader64<Endianness>>(data, table, 16, options)
            }
            other => Err(Error::new(
                ErrorKind::Unsupported,
                format!("not an ELF file (detected {other:?})"),
            )),
        }
    }

    /// The symbols, in table order (entry 0 left out).
    pub fn symbols(&self) -> &[NmSymbol<'a>] {
        &self.symbols
    }

    /// The version nm appends to `s`, a dynamic symbol of this table: (`VER`, `true`)
    /// prints `name@@VER`, (`VER`, `false`) prints `name@VER`. `None` for local,
    /// base-version and unversioned symbols and for every `.symtab` entry. (Asked about a
    /// symbol of another table, it answers for the entry at the same index.)
    pub fn version(&self, s: &NmSymbol<'_>) -> Option<(&'a [u8], bool)> {
        let at = (s.index as usize).checked_sub(1)?;
        self.versions.get(at).copied().flatten()
    }

    /// The section headers, by ELF index.
    pub fn sections(&self) -> &[NmSection<'a>] {
        &self.sections
    }

    /// The hex digits nm pads values to: 16 for ELF64, 8 for ELF32.
    pub fn address_width(&self) -> usize {
        self.width as usize
    }

    fn section_vma(&self, s: &NmSymbol<'_>) -> u64 {
        match s.placement {
            Placement::Section(i) => self.sections.get(i as usize).map_or(0, |s| s.address),
            _ => 0,
        }
    }

    /// BFD's `valueof`: section VMA + section-relative value (= `st_value` in linked
    /// files; in relocatable ones sections normally sit at 0).
    fn valueof(&self, s: &NmSymbol<'_>) -> u64 {
        if self.relocatable {
            self.section_vma(s).wrapping_add(s.value)
        } else {
            s.value
        }
    }

    /// The ranges dealt while reading, if they were dealt for `options` and not used yet.
    fn take_dealt(&self, options: &NmOptions) -> Option<Dealt> {
        self.dealt
            .lock()
            .ok()
            .and_then(|mut d| d.take())
            .filter(|d| d.options == *options)
    }

    /// The listing [`NmTable::list`] gives for `options`, handed to `part` in consecutive
    /// parts: `part(k, entries)` once for each `k` from 0 up, from up to two threads at
    /// once and in any order; the listing is the parts in the order of `k`.
    ///
    /// For a big table read by [`NmTable::read_for`] with the same options and sorted by
    /// name (not reversed), no whole list is built: each part is sorted just before it is
    /// handed over, so `part` finds its symbols and names still in cache, and the first
    /// parts are ready while later ones are being sorted.
    ///
    /// ```no_run
    /// use linker_tools::elf::{NmOptions, NmTable, Table};
    /// use std::sync::Mutex;
    /// let data = std::fs::read("/usr/lib/x86_64-linux-gnu/libc.so.6")?;
    /// let options = NmOptions::default();
    /// let table = NmTable::read_for(&data, Table::Dynsym, &options)?.expect("symbols");
    /// let parts = Mutex::new(std::collections::BTreeMap::new());
    /// table.list_parts(&options, |k, entries| {
    ///     let names: Vec<Vec<u8>> = entries.iter().map(|e| e.symbol.name().to_vec()).collect();
    ///     parts.lock().unwrap().insert(k, names);
    /// });
    /// let listing: Vec<Vec<u8>> = parts.into_inner()?.into_values().flatten().collect();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn list_parts<F>(&self, options: &NmOptions, part: F)
    where
        F: Fn(usize, &[NmEntry<'_, 'a>]) + Sync,
    {
        if options.sort == NmSort::Name && !options.reverse {
            if let Some(Dealt { lists: [a, b], .. }) = self.take_dealt(options) {
                let syms = &self.symbols;
                sort_ranges(
                    syms,
                    |s| s.name,
                    &a,
                    &b,
                    |r, items| {
                        let entries: Vec<NmEntry<'_, 'a>> = items
                            .iter()
                            .map(|it| {
                                let s = &syms[it.id()];
                                NmEntry {
                                    symbol: s,
                                    size: s.size,
                                }
                            })
                            .collect();
                        part(r, &entries);
                    },
                );
                return;
            }
        }
        let all = self.list(options);
        let chunks: Vec<&[NmEntry<'_, 'a>]> = all.chunks(PART).collect();
        share_out(chunks.len(), |k| part(k, chunks[k]));
    }

    /// The symbols nm prints for `options`, in its order.
    pub fn list(&self, options: &NmOptions) -> Vec<NmEntry<'_, 'a>> {
        let keep = |s: &NmSymbol<'_>| options.keeps(s);
        if options.sort == NmSort::Name {
            // A stable sort on the bytes of the name, as glibc's merge-sort `qsort` with
            // `strcmp` gives nm.
            let make = |s| NmEntry {
                symbol: s,
                size: s.size,
            };
            let mut out = match self.take_dealt(options) {
                Some(Dealt { lists: [a, b], .. }) => {
                    sort_dealt(&self.symbols, |s| s.name, make, &a, &b)
                }
                None => name_order(&self.symbols, keep, |s| s.name, make),
            };
            if options.reverse {
                // Reversing a stable ascending sort reverses ties too; nm keeps them in
                // table order: reverse each run of equal names back.
                out.reverse();
                let mut i = 0;
                while i < out.len() {
                    let mut j = i + 1;
                    while j < out.len() && out[j].symbol.name == out[i].symbol.name {
                        j += 1;
                    }
                    out[i..j].reverse();
                    i = j;
                }
            }
            return out;
        }
        let mut out: Vec<NmEntry<'_, 'a>> = self
            .symbols
            .iter()
            .filter(|s| keep(s))
            .map(|s| NmEntry {
                symbol: s,
                size: s.size,
            })
            .collect();
        let by_name = |a: &NmEntry<'_, '_>, b: &NmEntry<'_, '_>| a.symbol.name.cmp(b.symbol.name);
        match options.sort {
            NmSort::None | NmSort::Name => {}
            NmSort::Address => {
                let key = |e: &NmEntry<'_, '_>| {
                    let s = e.symbol;
                    (s.placement != Placement::Undefined, self.valueof(s))
                };
                let cmp = |a: &NmEntry<'_, '_>, b: &NmEntry<'_, '_>| {
                    let (ka, kb) = (key(a), key(b));
                    if !ka.0 && !kb.0 {
                        return by_name(a, b);
                    }
                    ka.cmp(&kb).then_with(|| by_name(a, b))
                };
                if options.reverse {
                    out.sort_by(|a, b| cmp(b, a));
                } else {
                    out.sort_by(cmp);
                }
            }
            NmSort::Size => out = self.size_sort(out, options.reverse),
        }
        out
    }

    fn size_sort<'t>(&'t self, mut v: Vec<NmEntry<'t, 'a>>, reverse: bool) -> Vec<NmEntry<'t, 'a>> {
        // nm's `size_forward1`: address, section address, then "compiled" markers and
        // file names first, then name.
        let compiled = |n: &[u8]| contains(n, b"gnu_compiled") || contains(n, b"gcc2_compiled");
        let filey = |s: &NmSymbol<'_>| {
            let n = s.name;
            s.is_file_symbol()
                || (n.len() > 2 && n[n.len() - 2] == b'.' && matches!(n[n.len() - 1], b'o' | b'a'))
        };
        v.sort_by(|a, b| {
            let (x, y) = (a.symbol, b.symbol);
            self.valueof(x)
                .cmp(&self.valueof(y))
                .then_with(|| self.section_vma(x).cmp(&self.section_vma(y)))
                .then_with(|| compiled(y.name).cmp(&compiled(x.name)))
                .then_with(|| filey(y).cmp(&filey(x)))
                .then_with(|| x.name.cmp(y.name))
        });
        let n = v.len();
        let mut sized = Vec::with_capacity(n);
        for i in 0..n {
            let s = v[i].symbol;
            let size = if !s.is_section_symbol() {
                s.size
            } else if i + 1 < n && v[i + 1].symbol.placement == s.placement {
                self.valueof(v[i + 1].symbol).wrapping_sub(self.valueof(s))
            } else {
                let end = match s.placement {
                    Placement::Section(k) => self
                        .sections
                        .get(k as usize)
                        .map_or(0, |sec| sec.address.wrapping_add(sec.size)),
                    _ => 0,
                };
                end.wrapping_sub(self.valueof(s))
            };
            if size != 0 {
                sized.push(NmEntry { symbol: s, size });
            }
        }
        if reverse {
            sized.sort_by(|a, b| {
                b.size
                    .cmp(&a.size)
                    .then_with(|| b.symbol.name.cmp(a.symbol.name))
            });
        } else {
            sized.sort_by(|a, b| {
                a.size
                    .cmp(&b.size)
                    .then_with(|| a.symbol.name.cmp(b.symbol.name))
            });
        }
        sized
    }
}

/// The elements of `elems` that `keep` accepts, stably sorted by the bytes of their
/// `name` (shorter before longer on a common prefix, as `strcmp`; names hold no NUL byte,
/// as C strings), each turned into `make(element)`.
///
/// Each element becomes an [`Item`]: the first 20 bytes of its name and its position, one
/// 24-byte number; the items are sorted; then each run of equal name bytes is re-sorted on
/// the next 20 bytes, and so on. Names share long prefixes (C++ namespaces, Rust crate
/// paths): this reads each name once per 20 bytes of common prefix instead of once per
/// comparison, and runs that get small are finished with a comparison sort on the rest of
/// the names (then in cache). The position in the low bits breaks ties, so the order is
/// stable without a stable sort.
///
/// Big inputs go to both cores without a merge: names drawn from a sample cut the key
/// space into [`BUCKETS`] ranges ([`Cuts`]; equal names always share a range, so ranges
/// never interleave); each half of the elements deals its items into per-range lists on
/// its own thread; then threads take ranges one at a time, sort each (small enough to stay in
/// cache) and write its part of the output, which is the ranges one after another.
fn name_order<'e, E, T, K, N, M>(elems: &'e [E], keep: K, name: N, make: M) -> Vec<T>
where
    E: Sync,
    T: Send,
    K: Fn(&'e E) -> bool + Sync,
    N: Fn(&'e E) -> &'e [u8] + Sync,
    M: Fn(&'e E) -> T + Sync,
{
    let Ok(n) = u32::try_from(elems.len()) else {
        // Positions do not fit an item (a table of over 4G symbols): a plain stable sort.
        let mut kept: Vec<&'e E> = elems.iter().filter(|e| keep(e)).collect();
        kept.sort_by(|a, b| name(a).cmp(name(b)));
        return kept.into_iter().map(make).collect();
    };
    let item = |i: u32| Item::new(name(&elems[i as usize]), 0, i);
    let sort = |items: &mut [Item]| {
        items.sort_unstable();
        refine(items, elems, &name, CHUNK);
    };
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    if (n as usize) < PARALLEL_MIN || threads < 2 {
        let mut items: Vec<Item> = (0..n)
            .filter(|&i| keep(&elems[i as usize]))
            .map(item)
            .collect();
        sort(&mut items);
        return items.iter().map(|it| make(&elems[it.id()])).collect();
    }
    let step = (n / SAMPLES).max(1);
    let cuts = Cuts::new(
        (0..n)
            .step_by(step as usize)
            .map(|i| name(&elems[i as usize]))
            .collect(),
    );
    // Each half of the elements deals its items into per-range lists, in position order.
    let deal = |h: usize| {
        let ids = if h == 0 { 0..n / 2 } else { n / 2..n };
        let mut lists = range_lists(ids.len());
        for i in ids.filter(|&i| keep(&elems[i as usize])) {
            let n = name(&elems[i as usize]);
            let it = Item::new(n, 0, i);
            lists[cuts.range_of(&it, n)].push(it);
        }
        lists
    };
    let [a, b] = both(deal);
    sort_dealt(elems, name, make, &a, &b)
}

/// The second half of [`name_order`] (or of a table read by [`NmTable::read_for`]): `a`
/// and `b` hold the items of the first and second half of `elems` (positions ascending
/// within each list) dealt into the same ascending key ranges.
fn sort_dealt<'e, E, T, N, M>(
    elems: &'e [E],
    name: N,
    make: M,
    a: &[Vec<Item>],
    b: &[Vec<Item>],
) -> Vec<T>
where
    E: Sync,
    T: Send,
    N: Fn(&'e E) -> &'e [u8] + Sync,
    M: Fn(&'e E) -> T + Sync,
{
    let total: usize = a.iter().chain(b).map(Vec::len).sum();
    let mut out: Vec<T> = Vec::with_capacity(total);
    // Each range's part of the output, taken by the thread that sorts the range.
    let mut parts = Vec::with_capacity(BUCKETS);
    let mut rest = &mut out.spare_capacity_mut()[..total];
    for (la, lb) in a.iter().zip(b) {
        let (part, tail) = rest.split_at_mut(la.len() + lb.len());
        rest = tail;
        parts.push(Some(part));
    }
    let parts = std::sync::Mutex::new(parts);
    sort_ranges(elems, name, a, b, |r, items| {
        let part = parts
            .lock()
            .ok()
            .and_then(|mut p| p.get_mut(r).and_then(Option::take));
        for (slot, it) in part.into_iter().flatten().zip(items) {
            slot.write(make(&elems[it.id()]));
        }
    });
    // SAFETY: `sort_ranges` hands each range over exactly once, with as many items as
    // its two lists hold, which is the length of its part; so every part, and with them
    // `out[..total]`, was written in full. A panic would have unwound past this.
    unsafe { out.set_len(total) };
    out
}

/// Sorts each range of items (the range's list from `a`, then its list from `b`) and
/// hands it to `emit(range, items)`, on two threads that take the ranges in turn.
fn sort_ranges<'e, E, N>(
    elems: &'e [E],
    name: N,
    a: &[Vec<Item>],
    b: &[Vec<Item>],
    emit: impl Fn(usize, &[Item]) + Sync,
) where
    E: Sync,
    N: Fn(&'e E) -> &'e [u8] + Sync,
{
    share_out(a.len().min(b.len()), |r| {
        thread_local! {
            static ITEMS: std::cell::RefCell<Vec<Item>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        ITEMS.with(|items| {
            let mut items = items.borrow_mut();
            items.clear();
            items.extend_from_slice(&a[r]);
            items.extend_from_slice(&b[r]);
            items.sort_unstable();
            refine(&mut items, elems, &name, CHUNK);
            emit(r, &items);
        });
    });
}

/// Runs `f(k)` once for each `k` in `0..n`, on this thread and a second one (when there
/// is more than one `k` and a second core), which take the `k`s in increasing order.
fn share_out(n: usize, f: impl Fn(usize) + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    if n < 2 || threads < 2 {
        (0..n).for_each(f);
        return;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if k >= n {
                return;
            }
            f(k);
        }
    };
    std::thread::scope(|s| {
        s.spawn(work);
        work();
    });
}

/// Entries per part of [`NmTable::list_parts`] when the whole list is built first.
const PART: usize = 2048;

/// Runs `f(0)` here and `f(1)` on a second thread.
fn both<R: Send>(f: impl Fn(usize) -> R + Sync) -> [R; 2] {
    std::thread::scope(|s| {
        let b = s.spawn(|| f(1));
        let a = f(0);
        [a, b.join().unwrap_or_else(|e| std::panic::resume_unwind(e))]
    })
}

/// Below this many symbols [`name_order`] stays on one thread.
const PARALLEL_MIN: usize = 50_000;

/// The key ranges [`name_order`] cuts big inputs into.
const BUCKETS: usize = 64;

/// Empty per-range lists for dealing about `n` items.
fn range_lists(n: usize) -> Vec<Vec<Item>> {
    let expect = n / BUCKETS + n / (4 * BUCKETS) + 16;
    (0..BUCKETS).map(|_| Vec::with_capacity(expect)).collect()
}

/// How many names [`Cuts::new`] wants to see.
const SAMPLES: u32 = 64 * BUCKETS as u32;

/// `BUCKETS - 1` ascending names (some may repeat) that cut the key space into ranges of
/// about equal size, as they cut a sample of the names.
///
/// The cuts are whole names, not prefixes: names share long prefixes (a tenth of a Rust
/// compiler's symbols start with the same 16 bytes), and ranges cut on prefixes would put
/// them all in one range. A name is placed by its [`Item::head`] first and only compared
/// in full with a cut whose head is the same.
struct Cuts<'n>(Vec<(u128, &'n [u8])>);

impl<'n> Cuts<'n> {
    fn new(mut sample: Vec<&'n [u8]>) -> Self {
        sample.sort_unstable();
        let names: Vec<&'n [u8]> = match sample.len() {
            0 => vec![&[][..]; BUCKETS - 1],
            len => (1..BUCKETS)
                .map(|r| sample[(r * len / BUCKETS).min(len - 1)])
                .collect(),
        };
        Cuts(
            names
                .into_iter()
                .map(|n| (Item::new(n, 0, 0).head(), n))
                .collect(),
        )
    }

    /// The range `name` (whose item is `it`) belongs in: how many cuts are at or below it.
    #[inline]
    fn range_of(&self, it: &Item, name: &[u8]) -> usize {
        let k = it.head();
        self.0
            .partition_point(|&(h, cut)| h < k || (h == k && cut <= name))
    }
}

/// What [`name_order`] sorts: [`CHUNK`] bytes of a name from some depth, zero-padded,
/// big-endian in the first 160 bits, then the element's position in the low 32 bits. The
/// order (the words in turn) is the bytes' order, then the position's: ties keep their
/// order without a stable sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Item([u64; 3]);

impl Ord for Item {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // One 128-bit comparison, then the last word (derived array comparison is a
        // word-by-word loop with a branch per word).
        (self.head(), self.0[2]).cmp(&(other.head(), other.0[2]))
    }
}

impl PartialOrd for Item {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Item {
    /// The item for position `id`, with the bytes of `name` from `depth`.
    #[inline]
    fn new(name: &[u8], depth: usize, id: u32) -> Item {
        let mut it = Item([0, 0, u64::from(id)]);
        it.load(name, depth);
        it
    }

    /// Replaces the name bytes with those of `name` from `depth`.
    #[inline]
    fn load(&mut self, name: &[u8], depth: usize) {
        let mut padded = [0u8; CHUNK];
        let b: &[u8; CHUNK] = match name
            .get(depth..depth + CHUNK)
            .and_then(|b| b.try_into().ok())
        {
            Some(b) => b,
            None => {
                for (d, s) in padded.iter_mut().zip(name.get(depth..).unwrap_or(&[])) {
                    *d = *s;
                }
                &padded
            }
        };
        let w0 = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        let w1 = u64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
        let tail = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
        self.0 = [w0, w1, (u64::from(tail) << 32) | (self.0[2] & 0xffff_ffff)];
    }

    /// Whether the two hold the same name bytes.
    #[inline]
    fn same_bytes(&self, other: &Item) -> bool {
        self.head() == other.head() && (self.0[2] >> 32) == (other.0[2] >> 32)
    }

    /// The position.
    #[inline]
    fn id(&self) -> usize {
        (self.0[2] & 0xffff_ffff) as usize
    }

    /// The first 16 name bytes, as one number (what ranges are cut on).
    #[inline]
    fn head(&self) -> u128 {
        (u128::from(self.0[0]) << 64) | u128::from(self.0[1])
    }

    /// Whether the name ends within these bytes (its last byte is padding), so that equal
    /// bytes mean equal names.
    #[inline]
    fn ends(&self) -> bool {
        (self.0[2] >> 32) & 0xff == 0
    }
}

/// The bytes of a name an [`Item`] holds.
const CHUNK: usize = 20;

/// Runs up to this long are finished by comparing the rest of the names.
const SMALL_RUN: usize = 32;

/// Sorts each run of `items` with equal name bytes, whose names go on past `depth`, by
/// the next bytes of their names, and so on.
fn refine<'e, E>(
    items: &mut [Item],
    elems: &'e [E],
    name: &impl Fn(&'e E) -> &'e [u8],
    depth: usize,
) {
    let mut i = 0;
    while i < items.len() {
        let k = items[i];
        let mut j = i + 1;
        while j < items.len() && items[j].same_bytes(&k) {
            j += 1;
        }
        if j - i > 1 && !items[i].ends() {
            let run = &mut items[i..j];
            if run.len() <= SMALL_RUN {
                // Equal up to `depth`: the rest of the name, then the position.
                run.sort_unstable_by(|x, y| {
                    let (a, b) = (name(&elems[x.id()]), name(&elems[y.id()]));
                    a.get(depth..)
                        .unwrap_or(&[])
                        .cmp(b.get(depth..).unwrap_or(&[]))
                        .then(x.id().cmp(&y.id()))
                });
            } else {
                // The elements and names are scattered: ask for them ahead, the element
                // first, its name once the element is (likely) in cache.
                for t in 0..run.len() {
                    if let Some(x) = run.get(t + 2 * AHEAD) {
                        prefetch(std::ptr::from_ref(&elems[x.id()]).cast());
                    }
                    if let Some(x) = run.get(t + AHEAD) {
                        prefetch(name(&elems[x.id()]).as_ptr().wrapping_add(depth));
                    }
                    let it = &mut run[t];
                    it.load(name(&elems[it.id()]), depth);
                }
                run.sort_unstable();
                refine(run, elems, name, depth + CHUNK);
            }
        }
        i = j;
    }
}

/// How many items ahead [`refine`] asks for a name.
const AHEAD: usize = 8;

/// Asks the CPU to start loading the cache line at `p`.
#[inline]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86-64 baseline, and a prefetch is only a hint: it never
    // faults, whatever `p` is, nor reads or writes memory as far as the program can tell.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// BFD's flags for a section header (`_bfd_elf_make_section_from_shdr`), reduced to the
/// letter `decode_section_type` derives from them.
fn section_letter(name: &[u8], sh_type: u32, sh_flags: u64) -> u8 {
    // `coff_section_type`: PE names, matched even in ELF files.
    for (prefix, letter) in [
        (&b".drectve"[..], b'i'),
        (b".edata", b'e'),
        (b".idata", b'i'),
        (b".pdata", b'p'),
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            if rest.first().is_none_or(|c| b".$0123456789".contains(c)) {
                return letter;
            }
        }
    }
    let has_contents = sh_type != elf::SHT_NOBITS.0;
    let alloc = sh_flags & elf::SHF_ALLOC.0 != 0;
    let load = alloc && has_contents;
    let readonly = sh_flags & elf::SHF_WRITE.0 == 0;
    let code = sh_flags & elf::SHF_EXECINSTR.0 != 0;
    let data = !code && load;
    let debugging = !alloc
        && (name.starts_with(b".debug")
            || name.starts_with(b".gnu.debuglto_.debug_")
            || name.starts_with(b".gnu.linkonce.wi.")
            || name.starts_with(b".zdebug")
            || name.starts_with(b".line")
            || name.starts_with(b".stab")
            || name == b".gdb_index");
    if code {
        b't'
    } else if data {
        if readonly { b'r' } else { b'd' }
    } else if !has_contents {
        b'b'
    } else if debugging {
        b'N'
    } else if readonly {
        b'n'
    } else {
        b'?'
    }
}

/// Whether BFD makes a section of this header (`bfd_section_from_shdr`): not for the
/// static symbol and string tables, nor for relocations against other sections.
fn modelled(sh_type: u32, sh_flags: u64, is_dynstr: bool) -> bool {
    let alloc = sh_flags & elf::SHF_ALLOC.0 != 0;
    match elf::SectionType(sh_type) {
        elf::SHT_NULL | elf::SHT_SYMTAB | elf::SHT_SYMTAB_SHNDX => false,
        elf::SHT_STRTAB => is_dynstr || alloc,
        elf::SHT_REL | elf::SHT_RELA => alloc,
        _ => true,
    }
}

/// Version names by index, as `_bfd_elf_get_symbol_version_string` resolves them.
struct Versions<'a> {
    /// `verdef[ndx - 1]` = (name, is the base definition).
    defs: Vec<Option<(&'a [u8], bool)>>,
    /// (vna_other, name) of every `Vernaux`.
    needs: Vec<(u16, &'a [u8])>,
    versym: &'a [elf::Versym<Endianness>],
    endian: Endianness,
}

impl<'a> Versions<'a> {
    fn read<Elf: FileHeader<Endian = Endianness>>(
        endian: Endianness,
        data: &'a [u8],
        sections: &SectionTable<'a, Elf, &'a [u8]>,
        symbol_count: usize,
    ) -> Option<Versions<'a>> {
        let (versym, _) = sections.gnu_versym(endian, data).ok()??;
        if versym.len() != symbol_count {
            return None;
        }
        let mut defs: Vec<Option<(&'a [u8], bool)>> = Vec::new();
        if let Ok(Some((mut it, link))) = sections.gnu_verdef(endian, data) {
            let strings = sections.strings(endian, data, link).ok()?;
            while let Ok(Some((d, mut aux))) = it.next() {
                let ndx = usize::from(d.vd_ndx.get(endian).0 & 0x7fff);
                let name = aux
                    .next()
                    .ok()
                    .flatten()
                    .and_then(|a| a.name(endian, strings).ok())
                    .unwrap_or(b"");
                if ndx == 0 {
                    continue;
                }
                if defs.len() < ndx {
                    defs.resize(ndx, None);
                }
                defs[ndx - 1] = Some((name, d.vd_flags.get(endian).0 & 1 != 0));
            }
        }
        let mut needs = Vec::new();
        if let Ok(Some((mut it, link))) = sections.gnu_verneed(endian, data) {
            let strings = sections.strings(endian, data, link).ok()?;
            while let Ok(Some((_, mut aux))) = it.next() {
                while let Ok(Some(a)) = aux.next() {
                    let name = a.name(endian, strings).unwrap_or(b"");
                    needs.push((a.vna_other.get(endian).0, name));
                }
            }
        }
        if defs.is_empty() && needs.is_empty() {
            return None;
        }
        Some(Versions {
            defs,
            needs,
            versym,
            endian,
        })
    }

    /// (version, `@@`) for symbol `index` named `name`, undefined or not.
    fn of(&self, index: usize, name: &[u8], undefined: bool) -> Option<(&'a [u8], bool)> {
        let raw = self.versym.get(index)?.0.get(self.endian).0;
        let mut hidden = raw & 0x8000 != 0;
        let vernum = usize::from(raw & 0x7fff);
        let cverdefs = self.defs.len();
        let base = vernum == 1 && (vernum > cverdefs || self.defs[0].is_some_and(|d| d.1));
        let name_of = if vernum == 0 || base {
            return None;
        } else if vernum <= cverdefs {
            let node = self.defs[vernum - 1].map(|d| d.0);
            match node {
                Some(n) if n == name => return None,
                Some(n) => n,
                None => return None,
            }
        } else {
            match self.needs.iter().find(|n| usize::from(n.0) == vernum) {
                Some(n) => {
                    hidden = true;
                    n.1
                }
                None => b"<corrupt>",
            }
        };
        if name_of.is_empty() {
            return None;
        }
        Some((name_of, !(hidden || undefined)))
    }
}

fn read_table<'a, Elf: FileHeader<Endian = Endianness>>(
    data: &'a [u8],
    which: Table,
    width: u8,
    prepare: Option<&NmOptions>,
) -> Result<Option<NmTable<'a>>>
where
    Elf::Sym: Sync,
    Elf::SectionHeader: Sync,
{
    let header = Elf::parse(data).map_err(Error::malformed)?;
    let endian = header.endian().map_err(Error::malformed)?;
    let sections = header.sections(endian, data).map_err(Error::malformed)?;
    let machine = header.e_machine(endian);
    let relocatable = header.e_type(endian) == elf::ET_REL;
    let sh_type = match which {
        Table::Symtab => elf::SHT_SYMTAB,
        Table::Dynsym => elf::SHT_DYNSYM,
    };
    let symtab = sections
        .symbols(endian, data, sh_type)
        .map_err(Error::malformed)?;
    if symtab.len() <= 1 {
        return Ok(None);
    }
    let dynstr = sections
        .iter()
        .find(|s| s.sh_type(endian) == elf::SHT_DYNSYM)
        .map(|s| s.sh_link(endian) as usize);
    let nm_sections: Vec<NmSection<'a>> = sections
        .enumerate()
        .map(|(i, s)| {
            let name = sections.section_name(endian, s).unwrap_or(b"");
            let t = s.sh_type(endian).0;
            let flags: u64 = s.sh_flags(endian).0;
            NmSection {
                name,
                address: s.sh_addr(endian).into(),
                size: s.sh_size(endian).into(),
                letter: section_letter(name, t, flags),
                modelled: i.0 != 0 && modelled(t, flags, dynstr == Some(i.0)),
            }
        })
        .collect();
    let versions = match which {
        Table::Dynsym => Versions::read(endian, data, &sections, symtab.len()),
        Table::Symtab => None,
    };
    let strings = symtab.strings();
    let raw = symtab.symbols();
    let one = |i: usize, sym: &Elf::Sym| -> Result<NmSymbol<'a>> {
        let index = object::SymbolIndex(i);
        let shndx = sym.st_shndx(endian);
        let st_info = sym.st_info().0;
        let st_type = st_info & 0xf;
        let bind = st_info >> 4;
        let placement = if shndx == elf::SHN_UNDEF {
            Placement::Undefined
        } else if shndx == elf::SHN_ABS {
            Placement::Absolute
        } else if shndx == elf::SHN_COMMON || (machine == elf::EM_X86_64 && shndx.0 == 0xff02) {
            Placement::Common
        } else {
            let real = match symtab.symbol_section(endian, sym, index) {
                Ok(Some(i)) => Some(i.0),
                _ => None,
            };
            match real {
                Some(i) if nm_sections.get(i).is_some_and(|s| s.modelled) => {
                    Placement::Section(i as u32)
                }
                _ => Placement::Absolute,
            }
        };
        let mut name = strings.get(sym.st_name(endian)).map_err(|()| {
            Error::new(
                ErrorKind::Malformed,
                "malformed ELF: symbol name out of range",
            )
        })?;
        if name.is_empty() && st_type == elf::STT_SECTION.0 {
            name = match placement {
                Placement::Section(i) => nm_sections[i as usize].name,
                Placement::Absolute => b"*ABS*",
                Placement::Undefined => b"*UND*",
                Placement::Common => b"*COM*",
            };
        }
        let st_value: u64 = sym.st_value(endian).into();
        let size: u64 = sym.st_size(endian).into();
        let value = if placement == Placement::Common {
            size
        } else {
            st_value
        };
        // BFD's symbol flags.
        let global = bind == elf::STB_GLOBAL.0
            && !matches!(placement, Placement::Undefined | Placement::Common);
        let local = bind == elf::STB_LOCAL.0;
        let weak = bind == elf::STB_WEAK.0;
        let unique = bind == elf::STB_GNU_UNIQUE.0;
        let object = st_type == elf::STT_OBJECT.0 || st_type == elf::STT_COMMON.0;
        let ifunc = st_type == elf::STT_GNU_IFUNC.0;
        let type_char = match placement {
            Placement::Common => b'C',
            Placement::Undefined if weak => {
                if object {
                    b'v'
                } else {
                    b'w'
                }
            }
            Placement::Undefined => b'U',
            _ if ifunc => b'i',
            _ if weak => {
                if object {
                    b'V'
                } else {
                    b'W'
                }
            }
            _ if unique => b'u',
            _ if !(global || local) => b'?',
            p => {
                let c = match p {
                    Placement::Section(i) => nm_sections[i as usize].letter,
                    _ => b'a',
                };
                if global { c.to_ascii_uppercase() } else { c }
            }
        };
        Ok(NmSymbol {
            name,
            value,
            size,
            index: index.0 as u32,
            placement,
            st_info,
            st_other: sym.st_other().0,
            type_char,
        })
    };
    let n = raw.len();
    let parallel =
        n >= PARALLEL_MIN && std::thread::available_parallelism().map_or(1, |p| p.get()) >= 2;
    // A name sort of a big table starts here: the symbols it keeps are dealt into key
    // ranges (cut from a sample of the names) as they are read.
    let deal = prepare
        .filter(|o| parallel && o.sort == NmSort::Name && u32::try_from(n).is_ok())
        .map(|o| {
            let step = ((n - 1) / SAMPLES as usize).max(1);
            let sample = (1..n)
                .step_by(step)
                .filter_map(|i| one(i, &raw[i]).ok())
                .map(|s| s.name)
                .collect();
            (*o, Cuts::new(sample))
        });
    // Fills `out` with the symbols from index `lo` on; with `deal`, also returns the
    // kept ones dealt into ranges (positions in the vector: index - 1).
    let fill = |lo: usize,
                out: &mut [std::mem::MaybeUninit<NmSymbol<'a>>]|
     -> Result<Option<Vec<Vec<Item>>>> {
        match &deal {
            None => {
                for (i, (slot, sym)) in out.iter_mut().zip(&raw[lo..]).enumerate() {
                    slot.write(one(lo + i, sym)?);
                }
                Ok(None)
            }
            Some((options, cuts)) => {
                let mut lists = range_lists(out.len());
                for (i, (slot, sym)) in out.iter_mut().zip(&raw[lo..]).enumerate() {
                    let s = one(lo + i, sym)?;
                    if options.keeps(&s) {
                        let it = Item::new(s.name, 0, (lo + i - 1) as u32);
                        lists[cuts.range_of(&it, s.name)].push(it);
                    }
                    slot.write(s);
                }
                Ok(Some(lists))
            }
        }
    };
    // Big tables are read on two threads (each symbol is independent), straight into
    // their halves of one vector.
    let mut symbols: Vec<NmSymbol<'a>> = Vec::with_capacity(n - 1);
    let slots = &mut symbols.spare_capacity_mut()[..n - 1];
    let mut dealt = None;
    if !parallel {
        fill(1, slots)?;
    } else {
        let mid = n / 2;
        let (lo, hi) = slots.split_at_mut(mid - 1);
        let (lo, hi) = std::thread::scope(|s| {
            let fill = &fill;
            let hi = s.spawn(move || fill(mid, hi));
            (fill(1, lo), hi.join())
        });
        let lo = lo?;
        let hi = hi.map_err(|_| Error::new(ErrorKind::Malformed, "symbol reader failed"))??;
        if let (Some((options, _)), Some(a), Some(b)) = (deal, lo, hi) {
            dealt = Some(Dealt {
                options,
                lists: [a, b],
            });
        }
    }
    // SAFETY: `fill` wrote every one of the first `n - 1` slots (`raw` has `n` entries and
    // each call returned `Ok`), and `NmSymbol` is `Copy`, so nothing needs dropping.
    unsafe { symbols.set_len(n - 1) };
    Ok(Some(NmTable {
        dealt: std::sync::Mutex::new(dealt),
        versions: match &versions {
            Some(v) => symbols
                .iter()
                .map(|s| {
                    if s.is_section_symbol() {
                        None
                    } else {
                        v.of(
                            s.index as usize,
                            s.name,
                            s.placement == Placement::Undefined,
                        )
                    }
                })
                .collect(),
            None => Vec::new(),
        },
        symbols,
        sections: nm_sections,
        width,
        relocatable,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_letters_follow_bfd() {
        let x = (elf::SHF_ALLOC | elf::SHF_EXECINSTR).0;
        let w = (elf::SHF_ALLOC | elf::SHF_WRITE).0;
        let a = elf::SHF_ALLOC.0;
        let (progbits, nobits) = (elf::SHT_PROGBITS.0, elf::SHT_NOBITS.0);
        assert_eq!(section_letter(b".text", progbits, x), b't');
        assert_eq!(section_letter(b".data", progbits, w), b'd');
        assert_eq!(section_letter(b".rodata", progbits, a), b'r');
        assert_eq!(section_letter(b".bss", nobits, w), b'b');
        assert_eq!(section_letter(b".tbss", nobits, w | elf::SHF_TLS.0), b'b');
        assert_eq!(section_letter(b".comment", progbits, 0), b'n');
        assert_eq!(section_letter(b".debug_info", progbits, 0), b'N');
        assert_eq!(section_letter(b".weird", progbits, elf::SHF_WRITE.0), b'?');
        assert_eq!(section_letter(b".idata$2", progbits, w), b'i');
        assert_eq!(section_letter(b".idatax", progbits, w), b'd');
    }

    #[test]
    fn name_order_is_a_stable_bytewise_sort() {
        let mut words: Vec<(&[u8], usize)> = Vec::new();
        let base: [&[u8]; 10] = [
            b"b",
            b"a",
            b"ab",
            b"",
            b"abc",
            b"a",
            b"\xff",
            b"abd",
            b"_ZN4core3ptr13drop_in_place17h0",
            b"_ZN4core3ptr13drop_in_place17",
        ];
        // Big enough for the threaded path.
        for i in 0..80_000 {
            words.push((base[i % base.len()], i));
        }
        let mut expected = words.clone();
        expected.sort_by(|x, y| x.0.cmp(y.0));
        assert_eq!(sorted(&words), expected);
    }

    /// `words` sorted by [`name_order`].
    fn sorted<'w>(words: &[(&'w [u8], usize)]) -> Vec<(&'w [u8], usize)> {
        name_order(words, |_| true, |w| w.0, |w| *w)
    }

    #[test]
    fn cuts_split_names_that_share_their_first_bytes() {
        // Most names share their first 35 bytes (one crate's paths): cuts on prefixes would
        // put them all in one range; cuts on whole names spread them evenly, in order.
        let names: Vec<Vec<u8>> = (0..40_000u32)
            .map(|i| {
                let mut n = if i % 10 == 0 {
                    b"_ZN3std2io".to_vec()
                } else {
                    b"_ZN12rustc_middle2ty7context6TyCtxt".to_vec()
                };
                n.extend_from_slice(format!("{}h{:x}E", (i * 7919) % 40_009, i).as_bytes());
                n
            })
            .collect();
        let sample: Vec<&[u8]> = names.iter().step_by(7).map(|n| &n[..]).collect();
        let cuts = Cuts::new(sample);
        let mut sorted: Vec<&[u8]> = names.iter().map(|n| &n[..]).collect();
        sorted.sort_unstable();
        let ranges: Vec<usize> = sorted
            .iter()
            .map(|n| cuts.range_of(&Item::new(n, 0, 0), n))
            .collect();
        assert!(
            ranges.windows(2).all(|w| w[0] <= w[1]),
            "ranges out of order"
        );
        let mut counts = vec![0usize; BUCKETS];
        for r in ranges {
            counts[r] += 1;
        }
        let even = names.len() / BUCKETS;
        let most = counts.iter().copied().max().unwrap_or(0);
        assert!(
            most < 2 * even,
            "a range holds {most} names, even share {even}"
        );
    }

    #[test]
    fn name_order_handles_long_shared_prefixes() {
        // Runs big and small at several depths, ties, prefixes of one another.
        let names: Vec<Vec<u8>> = (0..60_000u32)
            .map(|i| {
                let mut n = b"_ZN4core3ptr85drop_in_place$LT$alloc..vec..Vec$LT$".to_vec();
                n.extend_from_slice(format!("{}", (i * 7919) % 1201).as_bytes());
                n.extend(std::iter::repeat_n(b'x', (i % 40) as usize));
                n.extend_from_slice(format!("17h{:x}E", (i * 31) % 5003).as_bytes());
                n
            })
            .collect();
        let words: Vec<(&[u8], usize)> =
            names.iter().enumerate().map(|(i, n)| (&n[..], i)).collect();
        let mut expected = words.clone();
        expected.sort_by(|x, y| x.0.cmp(y.0));
        assert_eq!(sorted(&words), expected);
        // Sorted input; a small one (one thread); a filtered one.
        assert_eq!(sorted(&expected), expected);
        assert_eq!(sorted(&words[..1000]), expected_of(&words[..1000]));
        let odd: Vec<_> = name_order(&words, |w| w.1 % 2 == 1, |w| w.0, |w| *w);
        let kept: Vec<_> = words.iter().copied().filter(|w| w.1 % 2 == 1).collect();
        assert_eq!(odd, expected_of(&kept));
    }

    fn expected_of<'w>(words: &[(&'w [u8], usize)]) -> Vec<(&'w [u8], usize)> {
        let mut v = words.to_vec();
        v.sort_by(|x, y| x.0.cmp(y.0));
        v
    }

    #[test]
    fn symbols_stay_small() {
        assert!(std::mem::size_of::<NmSymbol<'_>>() <= 48);
    }

    #[test]
    fn not_elf_is_an_error() {
        let e = NmTable::read(b"hello", Table::Symtab).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }
}
