//! `symtool lookup`: every symbol matching each query, with all details.

use linker_tools::elf::{Query, Symbol, SymbolIndex};

use crate::args::LookupArgs;
use crate::out::{Sink, Style};
use crate::symbols::{binding_name, json_symbol, kind_label, visibility_name};
use crate::{Failure, Result};

/// One symbol, every detail, one line.
pub(crate) fn describe(s: &Symbol, demangle: bool, st: Style) -> String {
    let name = if demangle {
        s.demangled().unwrap_or_else(|| s.name().to_owned())
    } else {
        s.name().to_owned()
    };
    let mut line = st.bold(&name);
    if let Some(v) = s.version() {
        line.push_str(&format!("{}{}", if v.default { "@@" } else { "@" }, v.name));
    }
    if s.is_defined() {
        line.push_str(&format!(" at {:#x}, {} bytes", s.address(), s.size()));
    } else {
        line.push_str(&st.yellow(" undefined"));
    }
    line.push_str(&format!(
        ", {} {} {}",
        binding_name(s.binding()),
        visibility_name(s.visibility()),
        kind_label(s.kind())
    ));
    if let Some(sec) = s.section() {
        line.push_str(&format!(", section {sec}"));
    }
    if let Some(f) = s.file() {
        line.push_str(&format!(", file {f}"));
    }
    let t = s.tables();
    let tables = match (t.symtab, t.dynsym) {
        (true, true) => "symtab+dynsym",
        (true, false) => "symtab",
        (false, true) => "dynsym",
        (false, false) => "none",
    };
    line.push_str(&st.dim(&format!(" [{tables}]")));
    line
}

pub(crate) fn run(a: LookupArgs, color: bool) -> Result {
    let index = SymbolIndex::open(&a.file).map_err(|e| Failure::elf_at(&a.file, e))?;
    let st = Style::new(color);
    let file = a.file.display().to_string();
    let mut sink = Sink::new();
    let mut missing = false;
    for q in &a.names {
        let query = Query::parse(q);
        let mut found = index.find(query);
        found.sort_by_key(|s| (!s.is_defined(), s.address()));
        // The one the resolver would pick, when there is one (or why there is none).
        let picked = index.lookup(query);
        if found.is_empty() {
            missing = true;
            sink.flush()?;
            eprintln!(
                "symtool: {file}: {}",
                picked
                    .err()
                    .map_or_else(|| format!("no symbol `{q}`"), |e| e.to_string())
            );
            continue;
        }
        let chosen = picked.ok().map(|s| s as *const Symbol);
        if a.json {
            for s in found {
                json_symbol(sink.buf(), &file, s);
            }
        } else {
            sink.buf()
                .extend_from_slice(format!("{}\n", st.cyan(&format!("{q}:"))).as_bytes());
            for s in found {
                let mark = if chosen == Some(s as *const Symbol) {
                    "* "
                } else {
                    "  "
                };
                sink.buf().extend_from_slice(
                    format!("{mark}{}\n", describe(s, a.demangle, st)).as_bytes(),
                );
            }
        }
        sink.maybe_flush()?;
    }
    sink.flush()?;
    if missing {
        Err(Failure::negative())
    } else {
        Ok(())
    }
}
