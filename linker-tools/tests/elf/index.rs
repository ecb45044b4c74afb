//! The index of the fixture files against nm, readelf and goblin.

use std::collections::{BTreeMap, BTreeSet};

use goblin::elf::sym;
use linker_tools::elf::{
    Binding, ErrorKind, FileType, Kind, Query, SymbolIndex, SymbolSource, Visibility,
};
use linkname_fixtures as fx;

use crate::{bare, name_addr, nm_defined, tool};

fn lib() -> SymbolIndex {
    SymbolIndex::open(fx::LIB).expect("index the fixture library")
}

#[test]
fn defined_symbols_match_nm() {
    for file in [fx::LIB, fx::PIE, fx::NOPIE] {
        let index = SymbolIndex::open(file).unwrap();
        assert_eq!(index.source(), &SymbolSource::Symtab);
        let ours = name_addr(
            index
                .symbols()
                .iter()
                .filter(|s| s.is_defined() && s.tables().symtab)
                .filter(|s| !matches!(s.kind(), Kind::Section | Kind::File))
                .map(|s| (s.name(), s.address())),
        );
        let nm = name_addr(
            nm_defined(&[], file)
                .iter()
                .map(|(n, _, a)| (n.as_str(), *a)),
        );
        assert_eq!(ours, nm, "{file}");
    }
}

#[test]
fn dynamic_symbols_and_versions_match_nm_d() {
    let index = lib();
    let ours: BTreeSet<(String, u64)> = index
        .symbols()
        .iter()
        .filter(|s| s.is_defined() && s.tables().dynsym)
        .map(|s| (s.versioned_name().into_owned(), s.address()))
        .collect();
    let nm: BTreeSet<(String, u64)> = nm_defined(&["-D"], fx::LIB)
        .into_iter()
        .map(|(n, _, a)| (n, a))
        .collect();
    assert_eq!(ours, nm);
}

#[test]
fn every_table_entry_matches_readelf() {
    let index = lib();
    let text = tool("readelf", &["-sW"], fx::LIB);
    let mut checked = 0;
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // Num: Value Size Type Bind Vis Ndx Name
        if cols.len() < 8 || !cols[0].ends_with(':') || cols[0] == "0:" || cols[0] == "Num:" {
            continue;
        }
        let addr = u64::from_str_radix(cols[1], 16).unwrap();
        let size: u64 = cols[2].parse().unwrap();
        let kind = match cols[3] {
            "FUNC" => Kind::Func,
            "OBJECT" => Kind::Object,
            "TLS" => Kind::Tls,
            "IFUNC" => Kind::Ifunc,
            "SECTION" => Kind::Section,
            "FILE" => Kind::File,
            "NOTYPE" => Kind::NoType,
            "COMMON" => Kind::Common,
            other => panic!("unknown type {other}"),
        };
        let binding = match cols[4] {
            "LOCAL" => Binding::Local,
            "GLOBAL" => Binding::Global,
            "WEAK" => Binding::Weak,
            "UNIQUE" => Binding::Unique,
            other => panic!("unknown binding {other}"),
        };
        let vis = match cols[5] {
            "DEFAULT" => Visibility::Default,
            "HIDDEN" => Visibility::Hidden,
            "PROTECTED" => Visibility::Protected,
            "INTERNAL" => Visibility::Internal,
            other => panic!("unknown visibility {other}"),
        };
        // readelf appends " (2)" version indices after dynsym names.
        let name = cols[7];
        let found = index.by_name(bare(name)).any(|s| {
            s.address() == addr
                && s.size() == size
                && s.kind() == kind
                && s.binding() == binding
                && s.visibility() == vis
                && s.is_defined() == (cols[6] != "UND")
        });
        assert!(
            found || name.is_empty() && kind == Kind::Section,
            "readelf row not in the index: {line}"
        );
        checked += 1;
    }
    assert!(checked > 60, "parsed only {checked} readelf rows");
}

#[test]
fn every_symbol_matches_goblin() {
    let data = std::fs::read(fx::LIB).unwrap();
    let elf = goblin::elf::Elf::parse(&data).unwrap();
    let index = lib();
    let tables = [(&elf.syms, &elf.strtab), (&elf.dynsyms, &elf.dynstrtab)];
    let mut n = 0;
    for (syms, strtab) in tables {
        for s in syms.iter().skip(1) {
            let name = strtab.get_at(s.st_name).unwrap_or("");
            if s.st_type() == sym::STT_SECTION {
                continue;
            }
            let kind = match s.st_type() {
                sym::STT_FUNC => Kind::Func,
                sym::STT_OBJECT => Kind::Object,
                sym::STT_TLS => Kind::Tls,
                sym::STT_GNU_IFUNC => Kind::Ifunc,
                sym::STT_FILE => Kind::File,
                _ => Kind::NoType,
            };
            let ok = index
                .by_name(bare(name))
                .any(|o| o.address() == s.st_value && o.size() == s.st_size && o.kind() == kind);
            assert!(
                ok,
                "goblin symbol {name} at {:#x} not in the index",
                s.st_value
            );
            n += 1;
        }
    }
    // .symtab and .dynsym overlap: the index holds each symbol once.
    let symtab_len = elf.syms.len() - 1;
    assert_eq!(
        index.symbols().iter().filter(|s| s.tables().symtab).count(),
        symtab_len
    );
    assert!(
        index.len() <= symtab_len + elf.dynsyms.len(),
        "duplicates were not merged"
    );
    assert!(n > 60);
}

#[test]
fn statics_carry_their_source_file() {
    let index = lib();
    let counters: BTreeMap<&str, u64> = index
        .by_name("counter")
        .map(|s| (s.file().unwrap(), s.address()))
        .collect();
    assert_eq!(
        counters.keys().copied().collect::<Vec<_>>(),
        ["fx_a.c", "fx_b.c"]
    );

    let a = index.lookup("fx_a.c::counter").unwrap();
    assert_eq!(a.kind(), Kind::Object);
    assert_eq!(a.binding(), Binding::Local);
    assert_eq!(a.size(), 4);
    assert_eq!(a.section(), Some(".data"));
    assert_eq!(Some(&a.address()), counters.get("fx_a.c"));

    let err = index.lookup("counter").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ambiguous);
    let msg = err.to_string();
    for (file, addr) in &counters {
        assert!(
            msg.contains(file) && msg.contains(&format!("{addr:#x}")),
            "{msg}"
        );
    }
    assert!(
        msg.contains("fx_a.c::counter"),
        "the message says how to pick one: {msg}"
    );

    assert_eq!(index.lookup("fx_b.c::helper").unwrap().kind(), Kind::Func);
    let err = index.lookup("fx_c.c::helper").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("fx_a.c"), "{err}");
}

#[test]
fn kinds_bindings_visibility() {
    let index = lib();
    let one = |q: &str| index.lookup(q).unwrap();
    assert_eq!(one("fx_private_add").kind(), Kind::Func);
    assert_eq!(one("fx_private_add").binding(), Binding::Local);
    // The version script's `local: *` made the hidden global a plain local in the
    // library; the PIE keeps it global with STV_HIDDEN.
    assert_eq!(one("fx_hidden_mul").binding(), Binding::Local);
    let pie = SymbolIndex::open(fx::PIE).unwrap();
    assert_eq!(
        pie.lookup("fx_hidden_mul").unwrap().visibility(),
        Visibility::Hidden
    );
    assert_eq!(
        pie.lookup("fx_hidden_mul").unwrap().binding(),
        Binding::Global
    );
    assert_eq!(one("fx_tls_counter").kind(), Kind::Tls);
    assert_eq!(one("fx_tls_static").kind(), Kind::Tls);
    assert_eq!(one("fx_tls_static").file(), Some("fx_tls.c"));
    assert_eq!(one("fx_ifunc").kind(), Kind::Ifunc);
    assert_eq!(one("fx_a_use").binding(), Binding::Global);
    assert_eq!(index.soname(), Some("libfixture.so"));
    assert_eq!(index.file_type(), FileType::Shared);
    assert_eq!(
        SymbolIndex::open(fx::NOPIE).unwrap().file_type(),
        FileType::Executable
    );
    assert_eq!(
        SymbolIndex::open(fx::PIE).unwrap().file_type(),
        FileType::Shared
    );

    let obj = SymbolIndex::open(fx::COMMON_OBJECT).unwrap();
    assert_eq!(obj.file_type(), FileType::Relocatable);
    assert_eq!(obj.lookup("fx_common_var").unwrap().kind(), Kind::Common);
    assert!(obj.by_name("fx_common_use").any(|s| s.kind() == Kind::Func));
    let files: Vec<_> = obj
        .symbols()
        .iter()
        .filter(|s| s.kind() == Kind::File)
        .map(|s| s.name())
        .collect();
    assert_eq!(files, ["fx_common.c"]);
}

#[test]
fn versions() {
    let index = lib();
    let v1 = index.lookup("fx_versioned@FX_1.0").unwrap();
    let v2 = index.lookup("fx_versioned@@FX_2.0").unwrap();
    assert_ne!(v1.address(), v2.address());
    assert_eq!(v1.version().unwrap().name, "FX_1.0");
    assert!(!v1.version().unwrap().default);
    assert!(v2.version().unwrap().default);
    assert_eq!(v2.versioned_name(), "fx_versioned@@FX_2.0");
    // The bare name gives the default version, as the dynamic linker does.
    assert_eq!(
        index.lookup("fx_versioned").unwrap().address(),
        v2.address()
    );
    // `@` accepts the default version too; `@@` does not accept a hidden one.
    assert_eq!(
        index.lookup("fx_versioned@FX_2.0").unwrap().address(),
        v2.address()
    );
    assert_eq!(
        index.lookup("fx_versioned@@FX_1.0").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let err = index.lookup("fx_versioned@FX_9").unwrap_err();
    assert!(err.to_string().contains("fx_versioned@FX_1.0"), "{err}");
    // The implementations behind the versions are the same addresses.
    assert_eq!(
        index.lookup("impl_versioned_v1").unwrap().address(),
        v1.address()
    );
    // Required (undefined) versions come from .gnu.version_r.
    let tga = index
        .by_name("__tls_get_addr")
        .find(|s| !s.is_defined())
        .unwrap();
    assert_eq!(tga.version().unwrap().name, "GLIBC_2.3");
    assert_eq!(
        index.lookup("__tls_get_addr").unwrap_err().kind(),
        ErrorKind::Undefined
    );
}

#[test]
fn address_lookup_is_size_aware() {
    let index = lib();
    let table = index.lookup("fx_table").unwrap();
    assert_eq!(table.size(), 256);
    for off in [0, 1, 128, 255] {
        assert_eq!(
            index.symbol_at(table.address() + off).unwrap().name(),
            "fx_table",
            "+{off}"
        );
    }
    if let Some(after) = index.symbol_at(table.address() + 256) {
        assert_ne!(after.name(), "fx_table");
    }
    let add = index.lookup("fx_private_add").unwrap();
    assert_eq!(
        index
            .symbol_at(add.address() + add.size() - 1)
            .unwrap()
            .name(),
        "fx_private_add"
    );
    // Every function nm lists is found at its own address and in its last byte.
    for s in index
        .symbols()
        .iter()
        .filter(|s| s.kind() == Kind::Func && s.size() > 0)
    {
        let got = index.symbol_at(s.address()).unwrap();
        assert_eq!(got.address(), s.address(), "{s}");
        assert!(
            index
                .symbol_at(s.address() + s.size() - 1)
                .unwrap()
                .contains(s.address() + s.size() - 1)
        );
    }
    assert!(index.symbol_at(0).is_none());
    assert!(index.symbol_at(u64::MAX).is_none());
}

#[test]
fn queries_parse() {
    assert_eq!(
        Query::parse("a@@V"),
        Query::Versioned {
            name: "a",
            version: "V",
            default: Some(true)
        }
    );
    assert_eq!(
        Query::parse("a@V"),
        Query::Versioned {
            name: "a",
            version: "V",
            default: None
        }
    );
    assert_eq!(
        Query::parse("dir/f.c::x"),
        Query::InFile {
            file: "dir/f.c",
            name: "x"
        }
    );
    assert_eq!(
        Query::parse("core::ptr::read"),
        Query::Name("core::ptr::read")
    );
    assert_eq!(Query::parse("@x"), Query::Name("@x"));
    let index = lib();
    assert_eq!(
        index.lookup("no_such_symbol").unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn index_is_send_and_sync_and_shared() {
    let index = std::sync::Arc::new(lib());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let index = index.clone();
            std::thread::spawn(move || index.lookup("fx_a.c::helper").unwrap().address())
        })
        .collect();
    let addrs: BTreeSet<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(addrs.len(), 1);
}

#[test]
fn in_memory_image_gives_the_same_index() {
    let bytes = std::fs::read(fx::LIB).unwrap();
    let mem = SymbolIndex::from_bytes(bytes).unwrap();
    let file = lib();
    assert_eq!(mem.len(), file.len());
    assert_eq!(mem.build_id(), file.build_id());
    assert_eq!(
        mem.lookup("fx_a.c::counter").unwrap().address(),
        file.lookup("fx_a.c::counter").unwrap().address()
    );
}

#[test]
fn demangled_names_and_paths() {
    let index = lib();
    let cxx = index.lookup("fx::detail::helper").unwrap();
    assert_eq!(cxx.name(), "_ZN2fx6detail6helperEi");
    assert_eq!(cxx.demangled().as_deref(), Some("fx::detail::helper(int)"));
    assert_eq!(
        index
            .lookup(Query::Demangled("fx::detail::helper(int)"))
            .unwrap()
            .address(),
        cxx.address()
    );

    let legacy = index.lookup("fx_rust::inner::legacy_fn").unwrap();
    assert_eq!(
        legacy.demangled().as_deref(),
        Some("fx_rust::inner::legacy_fn::h0123456789abcdef")
    );
    assert_eq!(
        index
            .lookup("fx_rust::inner::legacy_fn::h0123456789abcdef")
            .unwrap()
            .address(),
        legacy.address()
    );
    assert!(
        index
            .lookup("fx_rust::inner::legacy_fn::h0000000000000000")
            .is_err()
    );

    let v0 = index.lookup("fx_rust::inner::private_fn").unwrap();
    assert_eq!(v0.name(), "_RNvNtCs1234_7fx_rust5inner10private_fn");
    assert!(
        v0.demangled().unwrap().starts_with("fx_rust["),
        "v0 keeps the crate hash: {:?}",
        v0.demangled()
    );

    // The oracle: nm -C prints the same paths at the same addresses.
    let nm = tool("nm", &["-C", "--defined-only"], fx::LIB);
    for (path, sym) in [
        ("fx::detail::helper(int)", cxx),
        ("fx_rust::inner::legacy_fn", legacy),
        ("fx_rust::inner::private_fn", v0),
    ] {
        let line = nm
            .lines()
            .find(|l| l.ends_with(path))
            .unwrap_or_else(|| panic!("nm -C lacks {path}"));
        assert_eq!(
            u64::from_str_radix(&line[..16], 16).unwrap(),
            sym.address(),
            "{path}"
        );
    }
    // Unmangled names have no demangled form.
    assert_eq!(index.lookup("fx_a_use").unwrap().demangled(), None);
}

/// A function of this test binary, private to it.
#[inline(never)]
fn private_marker(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_mul(31)
}

#[test]
fn rust_legacy_paths_in_this_test_binary() {
    assert_eq!(private_marker(1), 31);
    let exe = std::env::current_exe().unwrap();
    let index = SymbolIndex::open(&exe).unwrap();
    let main = linker_tools::process::find("main").unwrap();
    let sym = index.lookup("elf::index::private_marker").unwrap();
    assert_eq!(sym.kind(), Kind::Func);
    assert_eq!(
        main.bias + sym.address(),
        private_marker as fn(u64) -> u64 as usize as u64
    );
    let with_hash = sym.demangled().unwrap();
    assert!(
        with_hash.starts_with("elf::index::private_marker::h"),
        "{with_hash}"
    );
    assert_eq!(
        index.lookup(with_hash.as_str()).unwrap().address(),
        sym.address()
    );
}
