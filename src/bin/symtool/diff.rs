//! `symtool diff`: symbols added, removed and changed between two builds.

use linker_tools::elf::{Change, DiffSide, SymbolDiff, SymbolIndex};

use crate::args::{DiffArgs, DiffSort};
use crate::out::{self, Sink, Style};
use crate::symbols::{binding_name, kind_label, visibility_name};
use crate::{Failure, Result};

fn side_json(b: &mut Vec<u8>, key: &str, s: Option<&DiffSide>) {
    out::push_json_str(b, key);
    b.push(b':');
    let Some(s) = s else {
        b.extend_from_slice(b"null");
        return;
    };
    b.push(b'{');
    out::push_json_opt(b, "name", Some(&s.name));
    b.push(b',');
    out::push_json_opt(b, "version", s.version.as_ref().map(|v| v.0.as_str()));
    b.extend_from_slice(
        format!(
            ",\"address\":{},\"size\":{},\"kind\":\"{}\",\"binding\":\"{}\",\"visibility\":\"{}\",\"defined\":{}}}",
            s.address,
            s.size,
            kind_label(s.kind),
            binding_name(s.binding),
            visibility_name(s.visibility),
            s.defined
        )
        .as_bytes(),
    );
}

fn summary(s: &DiffSide) -> String {
    format!(
        "{} bytes, {} {} {}",
        s.size,
        binding_name(s.binding),
        visibility_name(s.visibility),
        kind_label(s.kind)
    )
}

pub(crate) fn run(a: DiffArgs, color: bool) -> Result {
    let old = SymbolIndex::open(&a.old).map_err(|e| Failure::elf_at(&a.old, e))?;
    let new = SymbolIndex::open(&a.new).map_err(|e| Failure::elf_at(&a.new, e))?;
    let mut d = SymbolDiff::between(&old, &new);
    if a.sort == DiffSort::Name {
        d.entries.sort_by(|x, y| {
            x.key
                .cmp(&y.key)
                .then_with(|| x.source_file.cmp(&y.source_file))
        });
    }
    let st = Style::new(color);
    let mut sink = Sink::new();
    let (mut added, mut removed, mut changed, mut delta) = (0usize, 0usize, 0usize, 0i128);
    for e in &d.entries {
        delta += e.size_delta();
        match &e.change {
            Change::Added(_) => added += 1,
            Change::Removed(_) => removed += 1,
            Change::Changed { .. } => changed += 1,
        }
        if a.quiet {
            continue;
        }
        let b = sink.buf();
        if a.json {
            let (what, o, n) = match &e.change {
                Change::Added(n) => ("added", None, Some(n)),
                Change::Removed(o) => ("removed", Some(o), None),
                Change::Changed { old, new } => ("changed", Some(old), Some(new)),
            };
            b.push(b'{');
            out::push_json_opt(b, "change", Some(what));
            b.push(b',');
            out::push_json_opt(b, "key", Some(&e.key));
            b.push(b',');
            out::push_json_opt(b, "source_file", e.source_file.as_deref());
            b.extend_from_slice(
                format!(",\"size_delta\":{},\"fields\":[", e.size_delta()).as_bytes(),
            );
            let fields: Vec<String> = e
                .changed_fields()
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect();
            b.extend_from_slice(fields.join(",").as_bytes());
            b.extend_from_slice(b"],");
            side_json(b, "old", o);
            b.push(b',');
            side_json(b, "new", n);
            b.extend_from_slice(b"}\n");
        } else {
            let file = e
                .source_file
                .as_deref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default();
            let line = match &e.change {
                Change::Added(n) => format!(
                    "{} {:>+9} {}{file}  ({})",
                    st.green("+"),
                    e.size_delta(),
                    e.key,
                    summary(n)
                ),
                Change::Removed(o) => format!(
                    "{} {:>+9} {}{file}  ({})",
                    st.red("-"),
                    e.size_delta(),
                    e.key,
                    summary(o)
                ),
                Change::Changed { old, new } => format!(
                    "{} {:>+9} {}{file}  ({}: {} -> {})",
                    st.yellow("~"),
                    e.size_delta(),
                    e.key,
                    e.changed_fields().join(", "),
                    summary(old),
                    summary(new)
                ),
            };
            b.extend_from_slice(line.as_bytes());
            b.push(b'\n');
        }
        sink.maybe_flush()?;
    }
    if !a.json {
        sink.buf().extend_from_slice(
            format!(
                "{added} added, {removed} removed, {changed} changed, {} unchanged; size {delta:+} bytes\n",
                d.unchanged
            )
            .as_bytes(),
        );
    }
    sink.flush()?;
    if d.is_empty() {
        Ok(())
    } else {
        Err(Failure::negative())
    }
}
