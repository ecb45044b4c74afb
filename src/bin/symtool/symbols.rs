//! `symtool symbols`: nm's exact format from [`NmTable`], or a table / JSON lines from
//! the merged [`SymbolIndex`].

use std::os::fd::{AsFd as _, BorrowedFd};
use std::path::Path;

use linker_tools::elf::{
    Binding, DebugSearch, Kind, MappedFile, NmEntry, NmOptions, NmSort, NmTable, Placement, Symbol,
    SymbolIndex, Table, Visibility, demangle_like_nm,
};

use crate::args::{BindingArg, Format, KindArg, SortKey, SymbolsArgs, VisibilityArg};
use crate::out::{self, Sink, Style};
use crate::{Failure, Result};
use linker_tools::sys;

pub(crate) fn run(mut a: SymbolsArgs, color: bool) -> Result {
    if a.files.is_empty() {
        a.files.push(crate::default_target()?);
    }
    let format = if a.json { Format::Json } else { a.format };
    let mut sink = Sink::new();
    let mut first_failure: Option<Failure> = None;
    let many = a.files.len() > 1;
    for path in &a.files {
        let r = match format {
            Format::Nm => nm_file(&a, path, many, &mut sink),
            Format::Table | Format::Json => index_file(&a, format, path, many, color, &mut sink),
        };
        if let Err(f) = r {
            if f.message.is_none() {
                return Err(f); // closed pipe
            }
            sink.flush()?;
            if let Some(m) = &f.message {
                eprintln!("symtool: {m}");
            }
            first_failure.get_or_insert(Failure {
                code: f.code,
                message: None,
            });
        }
    }
    sink.flush()?;
    match first_failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

fn sort_key(a: &SymbolsArgs) -> SortKey {
    if a.numeric_sort {
        SortKey::Address
    } else if a.no_sort {
        SortKey::None
    } else if a.size_sort {
        SortKey::Size
    } else {
        a.sort.unwrap_or(SortKey::Name)
    }
}

fn kind_of(k: Kind) -> KindArg {
    match k {
        Kind::Func => KindArg::Func,
        Kind::Object => KindArg::Object,
        Kind::Tls => KindArg::Tls,
        Kind::Ifunc => KindArg::Ifunc,
        Kind::Section => KindArg::Section,
        Kind::File => KindArg::File,
        Kind::Common => KindArg::Common,
        Kind::NoType => KindArg::Notype,
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Func => "func",
        Kind::Object => "object",
        Kind::Tls => "tls",
        Kind::Ifunc => "ifunc",
        Kind::Section => "section",
        Kind::File => "file",
        Kind::Common => "common",
        Kind::NoType => "notype",
    }
}

pub(crate) fn binding_name(b: Binding) -> &'static str {
    match b {
        Binding::Local => "local",
        Binding::Global => "global",
        Binding::Weak => "weak",
        Binding::Unique => "unique",
    }
}

pub(crate) fn visibility_name(v: Visibility) -> &'static str {
    match v {
        Visibility::Default => "default",
        Visibility::Hidden => "hidden",
        Visibility::Protected => "protected",
        Visibility::Internal => "internal",
    }
}

pub(crate) fn kind_label(k: Kind) -> &'static str {
    kind_name(k)
}

/// The --binding/--visibility/--kind filters on raw ELF fields.
struct Extra<'p> {
    binding: Vec<BindingArg>,
    visibility: Vec<VisibilityArg>,
    kind: Vec<KindArg>,
    name: Option<&'p [u8]>,
    demangle: bool,
}

impl Extra<'_> {
    fn is_empty(&self) -> bool {
        self.binding.is_empty()
            && self.visibility.is_empty()
            && self.kind.is_empty()
            && self.name.is_none()
    }

    fn keep(&self, binding: Binding, vis: Visibility, kind: Kind, name: &[u8]) -> bool {
        let b = match binding {
            Binding::Local => BindingArg::Local,
            Binding::Global => BindingArg::Global,
            Binding::Weak => BindingArg::Weak,
            Binding::Unique => BindingArg::Unique,
        };
        let v = match vis {
            Visibility::Default => VisibilityArg::Default,
            Visibility::Hidden => VisibilityArg::Hidden,
            Visibility::Protected => VisibilityArg::Protected,
            Visibility::Internal => VisibilityArg::Internal,
        };
        if !self.binding.is_empty() && !self.binding.contains(&b) {
            return false;
        }
        if !self.visibility.is_empty() && !self.visibility.contains(&v) {
            return false;
        }
        if !self.kind.is_empty() && !self.kind.contains(&kind_of(kind)) {
            return false;
        }
        if let Some(p) = self.name {
            if out::glob_match(p, name) {
                return true;
            }
            if self.demangle {
                let mut d = Vec::new();
                return demangle_like_nm(name, &mut d) && out::glob_match(p, &d);
            }
            return false;
        }
        true
    }
}

fn extra(a: &SymbolsArgs) -> Extra<'_> {
    Extra {
        binding: a.binding.clone(),
        visibility: a.visibility.clone(),
        kind: a.kind.clone(),
        name: a.name.as_deref().map(str::as_bytes),
        demangle: a.demangle,
    }
}

fn raw_attrs(e: &NmEntry<'_, '_>) -> (Binding, Visibility, Kind) {
    let s = e.symbol;
    let binding = match s.st_info() >> 4 {
        0 => Binding::Local,
        2 => Binding::Weak,
        10 => Binding::Unique,
        _ => Binding::Global,
    };
    let vis = match s.st_other() & 3 {
        1 => Visibility::Internal,
        2 => Visibility::Hidden,
        3 => Visibility::Protected,
        _ => Visibility::Default,
    };
    let kind = if s.placement() == Placement::Common {
        Kind::Common
    } else {
        match s.st_info() & 0xf {
            1 => Kind::Object,
            2 => Kind::Func,
            3 => Kind::Section,
            4 => Kind::File,
            5 => Kind::Common,
            6 => Kind::Tls,
            10 => Kind::Ifunc,
            _ => Kind::NoType,
        }
    };
    (binding, vis, kind)
}

fn open(path: &Path) -> Result<MappedFile> {
    MappedFile::open(path).map_err(|e| Failure::elf_at(path, e))
}

/// `--format nm`: GNU nm's BSD output for the same flags.
fn nm_file(a: &SymbolsArgs, path: &Path, many: bool, sink: &mut Sink) -> Result {
    let map = open(path)?;
    let table = if a.dynamic {
        Table::Dynsym
    } else {
        Table::Symtab
    };
    let sort = match sort_key(a) {
        SortKey::Name => NmSort::Name,
        SortKey::Address => NmSort::Address,
        SortKey::Size => NmSort::Size,
        SortKey::None => NmSort::None,
    };
    let options = NmOptions {
        undefined_only: a.undefined_only,
        defined_only: a.defined_only,
        external_only: a.extern_only,
        debug_syms: a.debug_syms,
        sort,
        reverse: a.reverse_sort,
    };
    let parsed = NmTable::read_for(&map, table, &options).map_err(|e| Failure::elf_at(path, e))?;
    if many {
        let b = sink.buf();
        b.extend_from_slice(b"\n");
        b.extend_from_slice(path.as_os_str().as_encoded_bytes());
        b.extend_from_slice(b":\n");
    }
    let Some(t) = parsed else {
        sink.flush()?;
        eprintln!("symtool: {}: no symbols", path.display());
        return Ok(());
    };
    let ex = extra(a);
    let fmt = NmLine {
        table: &t,
        width: t.address_width(),
        size_sort: sort == NmSort::Size,
        print_size: a.print_size,
        demangle: a.demangle,
    };
    // The library hands the listing over in parts from two threads (for a big name sort,
    // each part just sorted, its names still in cache); each part is formatted (and
    // demangled) where it arrives, and the parts are written in order.
    sink.flush()?;
    let stdout = std::io::stdout();
    let out = Ordered::new(stdout.as_fd());
    t.list_parts(&options, |k, entries| {
        if out.failed() {
            return;
        }
        let mut b = out.buffer();
        for (i, e) in entries.iter().enumerate() {
            // The symbols of a sorted listing are scattered, and their names more so: ask
            // for each symbol well ahead, and for its name once the symbol is in cache.
            if let Some(ahead) = entries.get(i + 2 * PREFETCH) {
                prefetch(std::ptr::from_ref(ahead.symbol).cast());
            }
            if let Some(ahead) = entries.get(i + PREFETCH) {
                prefetch(ahead.symbol.name().as_ptr());
            }
            if !ex.is_empty() {
                let (bind, vis, kind) = raw_attrs(e);
                if !ex.keep(bind, vis, kind, e.symbol.name()) {
                    continue;
                }
            }
            fmt.line(e, &mut b);
        }
        out.put(k, b);
    });
    out.finish().map_err(Failure::from)
}

/// Parts of the output, formatted on several threads, written to a descriptor in order
/// by whichever thread completes the next one due; buffers are recycled, so the memory
/// in flight stays a few parts.
struct Ordered<'fd> {
    fd: BorrowedFd<'fd>,
    state: std::sync::Mutex<OrderedState>,
}

#[derive(Default)]
struct OrderedState {
    /// The part due next.
    next: usize,
    /// Parts formatted ahead of it.
    early: std::collections::BTreeMap<usize, Vec<u8>>,
    /// Buffers written out, for reuse.
    spare: Vec<Vec<u8>>,
    /// The first write error; nothing more is written after it.
    error: Option<std::io::Error>,
}

impl<'fd> Ordered<'fd> {
    fn new(fd: BorrowedFd<'fd>) -> Self {
        Ordered {
            fd,
            state: std::sync::Mutex::new(OrderedState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OrderedState> {
        // The state stays consistent even if a thread panicked holding the lock.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether writing failed (a closed pipe): the rest need not be formatted.
    fn failed(&self) -> bool {
        self.lock().error.is_some()
    }

    /// An empty buffer to format a part into.
    fn buffer(&self) -> Vec<u8> {
        let mut b = self.lock().spare.pop().unwrap_or_default();
        b.clear();
        b
    }

    /// Part `k`, formatted; writes it and the parts after it that are ready if it is due.
    fn put(&self, k: usize, part: Vec<u8>) {
        let mut st = self.lock();
        st.early.insert(k, part);
        loop {
            let due = st.next;
            let Some(b) = st.early.remove(&due) else {
                return;
            };
            if st.error.is_none() {
                if let Err(e) = write_all(self.fd, &b) {
                    st.error = Some(e);
                }
            }
            st.spare.push(b);
            st.next += 1;
        }
    }

    /// The first write error, if any.
    fn finish(self) -> std::io::Result<()> {
        match self.lock().error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// `write(2)` until all of `b` is written (through the `linker-tools` core).
fn write_all(fd: BorrowedFd<'_>, mut b: &[u8]) -> std::io::Result<()> {
    while !b.is_empty() {
        match sys::write(fd, b) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => b = &b[n..],
            Err(sys::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// How many lines ahead the formatter asks for a name's bytes.
const PREFETCH: usize = 8;

/// Asks the CPU to start loading the two cache lines from `p`.
#[inline]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let p = p.cast::<i8>();
        // SAFETY: SSE is part of the x86-64 baseline, and a prefetch is only a hint: it
        // never faults, whatever the address, nor reads or writes memory as far as the
        // program can tell.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(p);
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

struct NmLine<'t, 'a> {
    table: &'t NmTable<'a>,
    width: usize,
    size_sort: bool,
    print_size: bool,
    demangle: bool,
}

impl NmLine<'_, '_> {
    #[inline]
    fn line(&self, e: &NmEntry<'_, '_>, b: &mut Vec<u8>) {
        let s = e.symbol;
        // nm's SYM_SIZE: st_size, but for section symbols only the size a size sort computed.
        let sym_size = if s.is_section_symbol() && !self.size_sort {
            0
        } else {
            e.size
        };
        if s.is_undefined_class() {
            b.extend_from_slice(&b"                "[..self.width]);
        } else {
            let v = if self.size_sort && !self.print_size {
                sym_size
            } else {
                s.value()
            };
            out::push_hex(b, v, self.width);
            if self.print_size && sym_size != 0 {
                b.push(b' ');
                out::push_hex(b, sym_size, self.width);
            }
        }
        b.push(b' ');
        b.push(s.type_char());
        b.push(b' ');
        if !(self.demangle && !s.name().is_empty() && demangle_like_nm(s.name(), b)) {
            b.extend_from_slice(s.name());
        }
        if let Some((v, default)) = self.table.version(s) {
            b.extend_from_slice(if default { b"@@" } else { b"@" });
            b.extend_from_slice(v);
        }
        b.push(b'\n');
    }
}

fn keep_indexed(a: &SymbolsArgs, s: &Symbol) -> bool {
    if a.dynamic && !s.tables().dynsym {
        return false;
    }
    if !a.debug_syms && matches!(s.kind(), Kind::Section | Kind::File) {
        return false;
    }
    if a.undefined_only && s.is_defined() {
        return false;
    }
    if a.defined_only && !s.is_defined() {
        return false;
    }
    if a.extern_only && s.binding() == Binding::Local && s.is_defined() && s.kind() != Kind::Common
    {
        return false;
    }
    true
}

/// The table and JSON formats, from the merged index (with debug files).
fn index_file(
    a: &SymbolsArgs,
    format: Format,
    path: &Path,
    many: bool,
    color: bool,
    sink: &mut Sink,
) -> Result {
    let search = if a.no_debug_file {
        DebugSearch::disabled()
    } else {
        DebugSearch::default()
    };
    let index = SymbolIndex::open_with(path, &search).map_err(|e| Failure::elf_at(path, e))?;
    let ex = extra(a);
    let mut syms: Vec<&Symbol> = index
        .symbols()
        .iter()
        .filter(|s| keep_indexed(a, s))
        .filter(|s| ex.keep(s.binding(), s.visibility(), s.kind(), s.name().as_bytes()))
        .collect();
    match sort_key(a) {
        SortKey::Name => syms.sort_by(|x, y| x.name().cmp(y.name())),
        SortKey::Address => syms.sort_by(|x, y| {
            (x.is_defined(), x.address())
                .cmp(&(y.is_defined(), y.address()))
                .then_with(|| x.name().cmp(y.name()))
        }),
        SortKey::Size => {
            syms.sort_by(|x, y| x.size().cmp(&y.size()).then_with(|| x.name().cmp(y.name())))
        }
        SortKey::None => {}
    }
    if a.reverse_sort {
        syms.reverse();
    }
    let file = path.display().to_string();
    if format == Format::Json {
        for s in syms {
            json_symbol(sink.buf(), &file, s);
            sink.maybe_flush()?;
        }
        return Ok(());
    }
    let st = Style::new(color);
    let b = sink.buf();
    if many {
        b.extend_from_slice(format!("\n{}:\n", st.bold(&file)).as_bytes());
    }
    b.extend_from_slice(
        st.bold(&format!(
            "{:>16} {:>8} {:<7} {:<6} {:<9} NAME",
            "ADDRESS", "SIZE", "KIND", "BIND", "VISIBILITY"
        ))
        .as_bytes(),
    );
    b.push(b'\n');
    for s in syms {
        let addr = if s.is_defined() {
            format!("{:016x}", s.address())
        } else {
            String::new()
        };
        let name = if a.demangle {
            s.demangled().unwrap_or_else(|| s.name().to_owned())
        } else {
            s.name().to_owned()
        };
        let mut name = match s.binding() {
            Binding::Local => name,
            _ => st.bold(&name),
        };
        if let Some(v) = s.version() {
            name.push_str(&st.dim(&format!("{}{}", if v.default { "@@" } else { "@" }, v.name)));
        }
        let kind = match s.kind() {
            Kind::Func | Kind::Ifunc => st.green(&format!("{:<7}", kind_name(s.kind()))),
            Kind::Object | Kind::Tls | Kind::Common => {
                st.cyan(&format!("{:<7}", kind_name(s.kind())))
            }
            k => format!("{:<7}", kind_name(k)),
        };
        let undefined = if s.is_defined() {
            String::new()
        } else {
            st.yellow(" (undefined)")
        };
        let file = s
            .file()
            .map(|f| st.dim(&format!("  [{f}]")))
            .unwrap_or_default();
        let b = sink.buf();
        b.extend_from_slice(
            format!(
                "{addr:>16} {:>8} {kind} {:<6} {:<9} {name}{undefined}{file}\n",
                s.size(),
                binding_name(s.binding()),
                visibility_name(s.visibility()),
            )
            .as_bytes(),
        );
        sink.maybe_flush()?;
    }
    Ok(())
}

/// One symbol as a JSON object (schema `symtool.symbol/1`, see the README), one line.
pub(crate) fn json_symbol(b: &mut Vec<u8>, file: &str, s: &Symbol) {
    b.push(b'{');
    out::push_json_opt(b, "file", Some(file));
    b.push(b',');
    out::push_json_opt(b, "name", Some(s.name()));
    b.push(b',');
    out::push_json_opt(b, "version", s.version().map(|v| v.name));
    b.extend_from_slice(b",\"default_version\":");
    b.extend_from_slice(match s.version() {
        Some(v) if v.default => b"true",
        Some(_) => b"false",
        None => b"null",
    });
    b.push(b',');
    out::push_json_opt(b, "demangled", s.demangled().as_deref());
    b.extend_from_slice(
        format!(
            ",\"address\":{},\"size\":{},\"kind\":\"{}\",\"binding\":\"{}\",\"visibility\":\"{}\",\"defined\":{},",
            s.address(),
            s.size(),
            kind_name(s.kind()),
            binding_name(s.binding()),
            visibility_name(s.visibility()),
            s.is_defined()
        )
        .as_bytes(),
    );
    out::push_json_opt(b, "section", s.section());
    b.push(b',');
    out::push_json_opt(b, "source_file", s.file());
    b.extend_from_slice(b",\"tables\":[");
    let t = s.tables();
    match (t.symtab, t.dynsym) {
        (true, true) => b.extend_from_slice(b"\"symtab\",\"dynsym\""),
        (true, false) => b.extend_from_slice(b"\"symtab\""),
        (false, true) => b.extend_from_slice(b"\"dynsym\""),
        (false, false) => {}
    }
    b.extend_from_slice(b"]}\n");
}
