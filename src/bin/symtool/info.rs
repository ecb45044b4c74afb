//! `symtool info`: header facts, debug-info source and symbol counts.

use std::fmt::Write as _;

use linker_tools::elf::{
    DebugSearch, FileInfo, FileType, MappedFile, SymbolCounts, SymbolIndex, SymbolSource,
};

use crate::args::InfoArgs;
use crate::out::{self, Sink, Style};
use crate::symbols::{binding_name, kind_label, visibility_name};
use crate::{Failure, Result};

fn file_type(info: &FileInfo) -> &'static str {
    match info.file_type {
        FileType::Executable => "executable",
        FileType::Shared if info.pie => "position-independent executable",
        FileType::Shared => "shared library",
        FileType::Relocatable => "relocatable object",
        _ => "other",
    }
}

fn source(index: &SymbolIndex) -> (String, Option<String>) {
    match index.source() {
        SymbolSource::Symtab => ("symtab".into(), None),
        SymbolSource::DebugFile(p) => ("debug-file".into(), Some(p.display().to_string())),
        SymbolSource::MiniDebugInfo => ("mini-debug-info".into(), None),
        SymbolSource::DynsymOnly => ("dynsym-only".into(), None),
        _ => ("other".into(), None),
    }
}

pub(crate) fn run(a: InfoArgs, color: bool) -> Result {
    let path = match a.file {
        Some(p) => p,
        None => crate::default_target()?,
    };
    let map = MappedFile::open(&path).map_err(|e| Failure::elf_at(&path, e))?;
    let info = FileInfo::parse(&map).map_err(|e| Failure::elf_at(&path, e))?;
    let index = SymbolIndex::from_mapped(map, &path, &DebugSearch::default())
        .map_err(|e| Failure::elf_at(&path, e))?;
    let counts = SymbolCounts::of(&index);
    let (src, debug_file) = source(&index);
    let mut sink = Sink::new();
    let b = sink.buf();
    if a.json {
        let mut s = String::from("{");
        let mut field = |k: &str, v: String| {
            if s.len() > 1 {
                s.push(',');
            }
            let mut kb = Vec::new();
            out::push_json_str(&mut kb, k);
            s.push_str(&String::from_utf8_lossy(&kb));
            s.push(':');
            s.push_str(&v);
        };
        let js = |v: &str| {
            let mut b = Vec::new();
            out::push_json_str(&mut b, v);
            String::from_utf8_lossy(&b).into_owned()
        };
        let jo = |v: Option<&str>| v.map_or_else(|| "null".to_owned(), js);
        field("file", js(&path.display().to_string()));
        field("type", js(file_type(&info)));
        field("class", info.class.to_string());
        field("endian", js(if info.big_endian { "big" } else { "little" }));
        field("machine", js(&info.machine_name()));
        field("entry", info.entry.to_string());
        field("build_id", jo(info.build_id_hex().as_deref()));
        field("interpreter", jo(info.interpreter.as_deref()));
        field("soname", jo(info.soname.as_deref()));
        field(
            "needed",
            format!(
                "[{}]",
                info.needed
                    .iter()
                    .map(|n| js(n))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        );
        field("runpath", jo(info.runpath.as_deref()));
        field("stripped", info.is_stripped().to_string());
        field("symtab_symbols", info.symtab_symbols.to_string());
        field("dynsym_symbols", info.dynsym_symbols.to_string());
        field(
            "debuglink",
            jo(info.debuglink.as_ref().map(|d| d.0.as_str())),
        );
        field("mini_debug_info", info.mini_debug_info.to_string());
        field("symbol_source", js(&src));
        field("debug_file", jo(debug_file.as_deref()));
        field("symbols", counts.total.to_string());
        field("defined", counts.defined.to_string());
        let obj = |v: Vec<(&str, usize)>| {
            format!(
                "{{{}}}",
                v.iter()
                    .map(|(k, n)| format!("{}:{n}", js(k)))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        field(
            "by_kind",
            obj(counts
                .by_kind
                .iter()
                .map(|(k, n)| (kind_label(*k), *n))
                .collect()),
        );
        field(
            "by_binding",
            obj(counts
                .by_binding
                .iter()
                .map(|(k, n)| (binding_name(*k), *n))
                .collect()),
        );
        field(
            "by_visibility",
            obj(counts
                .by_visibility
                .iter()
                .map(|(k, n)| (visibility_name(*k), *n))
                .collect()),
        );
        s.push_str("}\n");
        b.extend_from_slice(s.as_bytes());
        return Ok(sink.flush()?);
    }
    let st = Style::new(color);
    let mut s = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(s, "{} {v}", st.bold(&format!("{k:<14}")));
    };
    line("file", &path.display().to_string());
    line(
        "type",
        &format!(
            "ELF{} {}-endian {}, {}",
            info.class,
            if info.big_endian { "big" } else { "little" },
            file_type(&info),
            info.machine_name()
        ),
    );
    line("entry", &format!("{:#x}", info.entry));
    line("build-id", info.build_id_hex().as_deref().unwrap_or("none"));
    line("interpreter", info.interpreter.as_deref().unwrap_or("none"));
    if let Some(so) = &info.soname {
        line("soname", so);
    }
    line(
        "needed",
        &if info.needed.is_empty() {
            "none".to_owned()
        } else {
            info.needed.join(", ")
        },
    );
    if let Some(r) = &info.runpath {
        line("runpath", r);
    }
    line(
        "stripped",
        &if info.is_stripped() {
            "yes (no .symtab)".to_owned()
        } else {
            format!("no ({} .symtab symbols)", info.symtab_symbols)
        },
    );
    line("dynsym", &format!("{} symbols", info.dynsym_symbols));
    if let Some((name, crc)) = &info.debuglink {
        line("debuglink", &format!("{name} (CRC32 {crc:#010x})"));
    }
    if info.mini_debug_info {
        line("minidebuginfo", "yes (.gnu_debugdata)");
    }
    let how = match (src.as_str(), &debug_file) {
        ("symtab", _) => "own .symtab".to_owned(),
        ("debug-file", Some(p)) => format!("separate debug file {p}"),
        ("mini-debug-info", _) => "MiniDebugInfo (.gnu_debugdata)".to_owned(),
        _ => "only .dynsym (no debug symbols found)".to_owned(),
    };
    line("symbols from", &how);
    line(
        "symbols",
        &format!("{} ({} defined)", counts.total, counts.defined),
    );
    let list = |v: Vec<(&str, usize)>| {
        v.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    line(
        "  by kind",
        &list(
            counts
                .by_kind
                .iter()
                .map(|(k, n)| (kind_label(*k), *n))
                .collect(),
        ),
    );
    line(
        "  by binding",
        &list(
            counts
                .by_binding
                .iter()
                .map(|(k, n)| (binding_name(*k), *n))
                .collect(),
        ),
    );
    line(
        "  by visibility",
        &list(
            counts
                .by_visibility
                .iter()
                .map(|(k, n)| (visibility_name(*k), *n))
                .collect(),
        ),
    );
    b.extend_from_slice(s.as_bytes());
    Ok(sink.flush()?)
}
