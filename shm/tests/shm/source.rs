//! Rules about the crate's own source, checked on the source: its modules depend on
//! each other one way, `unsafe` lives only in the modules that declare it with a
//! `# Safety` paragraph, and every `sys!` declaration is as safe as its arguments
//! let it be.
//!
//! The source is read as text with comments and literals blanked out, `use` trees
//! expanded and paths resolved through the re-exports of the module they name
//! (`crate::Segment` is `segment`, `super::Options` in the channel is `endpoint`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::Case;

pub(crate) const ALL: &[Case] = &[
    ("module_imports_are_one_way", module_imports_are_one_way),
    (
        "unsafe_lives_in_the_declared_modules",
        unsafe_lives_in_the_declared_modules,
    ),
    (
        "sys_declarations_are_unsafe_where_memory_is_reached",
        sys_declarations_are_unsafe_where_memory_is_reached,
    ),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// One source file, as a module.
struct Module {
    /// `["channel", "raw"]`; empty for the crate root.
    path: Vec<String>,
    /// The file relative to `src/`.
    file: String,
    /// The text as written.
    text: String,
    /// The text with comments and string/char literals blanked (same offsets).
    code: String,
}

fn name(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_string()
    } else {
        path.join("::")
    }
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn load(root: &Path) -> Vec<Module> {
    let mut files = Vec::new();
    rs_files(root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
            let mut path: Vec<String> = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(str::to_string)
                .collect();
            if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
                path.pop();
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let code = blank(&text);
            Module {
                path,
                file: rel,
                text,
                code,
            }
        })
        .collect()
}

/// `text` with comments and the insides of string and char literals replaced by
/// spaces (newlines kept), so that only code remains at the same offsets.
fn blank(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = b.clone();
    let mut i = 0;
    let clear = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = (i..b.len()).find(|&j| b[j] == '\n').unwrap_or(b.len());
            clear(&mut out, i, end);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (0, i);
            while j < b.len() {
                if b[j] == '/' && b.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == '*' && b.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            clear(&mut out, i, j);
            i = j;
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !is_ident(b[i - 1]))
        {
            // r"..." or r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                i += 1;
                continue;
            }
            let start = j + 1;
            let mut k = start;
            'raw: while k < b.len() {
                if b[k] == '"' && (0..hashes).all(|h| b.get(k + 1 + h) == Some(&'#')) {
                    break 'raw;
                }
                k += 1;
            }
            clear(&mut out, start, k);
            i = k + 1 + hashes;
        } else if c == '"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                j += if b[j] == '\\' { 2 } else { 1 };
            }
            clear(&mut out, i + 1, j);
            i = j + 1;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\''), or a lifetime ('a).
            if next == Some('\\') {
                // Skip the escaped character, then find the closing quote.
                let mut j = i + 3;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                clear(&mut out, i + 1, j);
                i = j + 1;
            } else if b.get(i + 2) == Some(&'\'') {
                clear(&mut out, i + 1, i + 2);
                i += 3;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The byte ranges of inline `mod name { … }` bodies in `code`.
fn inline_modules(code: &str) -> Vec<(usize, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("mod ") {
        let start = from + at;
        from = start + 4;
        if start > 0 && is_ident(b[start - 1] as char) {
            continue;
        }
        let rest = &code[from..];
        let ident_len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        let after = rest[ident_len..].trim_start();
        if ident_len == 0 || !after.starts_with('{') {
            continue;
        }
        let open = code.len() - after.len();
        let mut depth = 0;
        for (j, &ch) in b.iter().enumerate().skip(open) {
            match ch {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push((open, j));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// A path a `use` names, and the name it is known by in the module.
type UsePath = (Vec<String>, String);

/// Splits a `use` tree (`a::{b, c::{self, d as e}}`) into full paths; an alias keeps
/// the path it names, paired with the name it is known by.
fn expand_use(tree: &str) -> Vec<UsePath> {
    let tokens: Vec<String> = {
        let mut t = Vec::new();
        let mut cur = String::new();
        for ch in tree.chars() {
            if is_ident(ch) {
                cur.push(ch);
                continue;
            }
            if !cur.is_empty() {
                t.push(std::mem::take(&mut cur));
            }
            if matches!(ch, '{' | '}' | ',' | '*') {
                t.push(ch.to_string());
            }
        }
        if !cur.is_empty() {
            t.push(cur);
        }
        t
    };
    fn walk(t: &[String], i: &mut usize, prefix: Vec<String>, out: &mut Vec<UsePath>) {
        let mut path = prefix;
        while *i < t.len() {
            match t[*i].as_str() {
                "{" => {
                    // A group ends this path: each member extends it.
                    *i += 1;
                    loop {
                        match t.get(*i).map(String::as_str) {
                            None => return,
                            Some("}") => {
                                *i += 1;
                                return;
                            }
                            Some(",") => *i += 1,
                            Some(_) => walk(t, i, path.clone(), out),
                        }
                    }
                }
                "," | "}" => break,
                "as" => {
                    *i += 1;
                    let alias = t.get(*i).cloned().unwrap_or_default();
                    *i += 1;
                    out.push((path, alias));
                    return;
                }
                seg => {
                    path.push(seg.to_string());
                    *i += 1;
                }
            }
        }
        let known_as = path.last().cloned().unwrap_or_default();
        if !path.is_empty() {
            out.push((path, known_as));
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    walk(&tokens, &mut i, Vec::new(), &mut out);
    out
}

/// Every `use` statement of a module: (offset, is it a re-export, paths).
fn uses(code: &str) -> Vec<(usize, bool, Vec<UsePath>)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("use ") {
        let start = from + at;
        from = start + 4;
        if start > 0 && is_ident(b[start - 1] as char) {
            continue;
        }
        let Some(end) = code[from..].find(';') else {
            break;
        };
        let tree = &code[from..from + end];
        let line_start = code[..start].rfind('\n').map_or(0, |n| n + 1);
        let reexport = code[line_start..start].trim_start().starts_with("pub");
        out.push((start, reexport, expand_use(tree)));
    }
    out
}

/// Paths written in code outside `use` (`crate::x::y`, `super::z`).
fn inline_paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    for head in ["crate", "super"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(head) {
            let start = from + at;
            from = start + head.len();
            if start > 0 && (is_ident(b[start - 1] as char) || matches!(b[start - 1], b':' | b'$'))
            {
                continue;
            }
            let mut path = vec![head.to_string()];
            let mut j = from;
            while code[j..].starts_with("::") {
                j += 2;
                let len = code[j..]
                    .find(|c: char| !is_ident(c))
                    .unwrap_or(code.len() - j);
                if len == 0 {
                    break;
                }
                path.push(code[j..j + len].to_string());
                j += len;
            }
            if path.len() > 1 {
                out.push((start, path));
            }
        }
    }
    out
}

struct Crate {
    modules: BTreeSet<Vec<String>>,
    /// module -> name it re-exports -> the path it names.
    reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
}

impl Crate {
    /// The module a path written in module `from` (inside `inline` inline modules)
    /// lands in, or `None` outside the crate.
    fn resolve(
        &self,
        from: &[String],
        path: &[String],
        inline: usize,
        hops: u32,
    ) -> Option<Vec<String>> {
        let mut cur: Vec<String>;
        let mut i = 0;
        match path.first()?.as_str() {
            "crate" => {
                cur = Vec::new();
                i = 1;
            }
            "self" => {
                cur = from.to_vec();
                i = 1;
            }
            "super" => {
                cur = from.to_vec();
                let mut inline = inline;
                while path.get(i).map(String::as_str) == Some("super") {
                    if inline > 0 {
                        inline -= 1;
                    } else {
                        cur.pop()?;
                    }
                    i += 1;
                }
            }
            first => {
                let mut child = from.to_vec();
                child.push(first.to_string());
                if !self.modules.contains(&child) {
                    return None; // another crate: std, core, linker_tools, bitflags
                }
                cur = from.to_vec();
            }
        }
        while let Some(seg) = path.get(i) {
            let mut child = cur.clone();
            child.push(seg.clone());
            if self.modules.contains(&child) {
                cur = child;
                i += 1;
            } else {
                break;
            }
        }
        match path.get(i).map(String::as_str) {
            None | Some("*" | "self") => Some(cur),
            Some(item) => match self.reexports.get(&cur).and_then(|m| m.get(item)) {
                Some(target) if hops < 8 => self.resolve(&cur, target, 0, hops + 1),
                Some(_) => Some(cur),
                None => Some(cur),
            },
        }
    }
}

/// `module -> the modules it uses`, for the crate under `root`.
fn dependency_graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let modules = load(root);
    let mut krate = Crate {
        modules: modules.iter().map(|m| m.path.clone()).collect(),
        reexports: BTreeMap::new(),
    };
    for m in &modules {
        for (_, reexport, paths) in uses(&m.code) {
            if reexport {
                for (path, known_as) in paths {
                    krate
                        .reexports
                        .entry(m.path.clone())
                        .or_default()
                        .insert(known_as, path);
                }
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &modules {
        let inline = inline_modules(&m.code);
        let depth = |at: usize| inline.iter().filter(|(s, e)| *s < at && at < *e).count();
        let mut paths: Vec<(usize, Vec<String>)> = Vec::new();
        for (at, _, ps) in uses(&m.code) {
            paths.extend(ps.into_iter().map(|(p, _)| (at, p)));
        }
        paths.extend(inline_paths(&m.code));
        let deps = graph.entry(name(&m.path)).or_default();
        for (at, path) in paths {
            if let Some(target) = krate.resolve(&m.path, &path, depth(at), 0) {
                if target != m.path {
                    deps.insert(name(&target));
                }
            }
        }
    }
    graph
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for d in graph.get(n).into_iter().flatten() {
            match state.get(d.as_str()).copied().unwrap_or(0) {
                0 => {
                    if let Some(c) = visit(d, graph, state, stack) {
                        return Some(c);
                    }
                }
                1 => {
                    let from = stack.iter().position(|s| s == d).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(d.clone());
                    return Some(cycle);
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn module_imports_are_one_way() {
    let graph = dependency_graph(&src_dir());
    let has = |from: &str, to: &str| graph.get(from).is_some_and(|d| d.contains(to));
    // The reader sees what it must (else the check below proves nothing).
    for (from, to) in [
        ("attach", "segment"),
        ("attach", "sysv"),
        ("attach", "volatile"),
        ("segment", "sysv"),
        ("segment", "error"),
        ("crate", "attach"),
        ("channel", "channel::endpoint"),
        ("channel::sender", "channel::endpoint"),
        ("channel::receiver", "channel::raw"),
        ("channel::endpoint", "segment"),
        ("channel::endpoint", "channel::peer"),
        ("channel::raw", "attach"),
        ("channel::peer", "channel::raw"),
    ] {
        assert!(
            has(from, to),
            "{from} should use {to}; the graph: {graph:#?}"
        );
    }
    for (from, to) in [
        ("segment", "attach"),
        ("channel::endpoint", "channel::sender"),
        ("channel::endpoint", "channel::receiver"),
        ("channel::layout", "channel"),
    ] {
        assert!(!has(from, to), "{from} must not use {to}");
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
    // And the check finds a cycle where there is one.
    let mut with_cycle = graph.clone();
    with_cycle
        .entry("segment".into())
        .or_default()
        .insert("attach".into());
    assert!(find_cycle(&with_cycle).is_some());
}

/// The modules that may use `unsafe`, each for the one story its `# Safety` tells.
const UNSAFE_MODULES: [&str; 4] = ["sysv.rs", "attach.rs", "volatile.rs", "channel/raw.rs"];

fn unsafe_lives_in_the_declared_modules() {
    let modules = load(&src_dir());
    let root = modules.iter().find(|m| m.path.is_empty()).unwrap();
    assert!(root.code.contains("#![deny(unsafe_code)]"));
    let mut allowing = Vec::new();
    for m in &modules {
        let module_level = m.code.contains("#![allow(unsafe_code)]");
        let item_level = m.code.contains("#[allow(unsafe_code)]");
        assert!(
            !item_level,
            "{}: allow unsafe for the module, with its story",
            m.file
        );
        if module_level {
            allowing.push(m.file.as_str());
            assert!(
                m.text.lines().any(|l| l.trim() == "//! # Safety"),
                "{} allows unsafe code without a module-level # Safety paragraph",
                m.file
            );
        } else {
            // Nothing unsafe outside (the deny would refuse it; say where it went).
            let words: Vec<&str> = m.code.split(|c: char| !is_ident(c)).collect();
            assert!(
                !words.contains(&"unsafe"),
                "{} uses unsafe but is not one of {UNSAFE_MODULES:?}",
                m.file
            );
        }
    }
    allowing.sort();
    let mut expected = UNSAFE_MODULES.to_vec();
    expected.sort();
    assert_eq!(allowing, expected, "the modules allowing unsafe code");
}

/// Every `sys!`/`sysnb!` declaration in `text`: (its doc lines, its signature).
fn declarations(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let rest = &text[from..];
        let Some(at) = [rest.find("sys! {"), rest.find("sysnb! {")]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        let open = from + at + rest[at..].find('{').unwrap();
        let close = open + text[open..].find("\n}").expect("a declaration block ends");
        let mut doc = String::new();
        let mut sig = String::new();
        for line in text[open + 1..close].lines() {
            let line = line.trim();
            if let Some(d) = line.strip_prefix("///") {
                doc.push_str(d);
                doc.push('\n');
            } else if !line.is_empty() && !line.starts_with('#') && !line.starts_with("//") {
                sig.push_str(line);
                sig.push(' ');
                if line.ends_with(';') {
                    out.push((std::mem::take(&mut doc), std::mem::take(&mut sig)));
                }
            }
        }
        from = close;
    }
    out
}

fn sys_declarations_are_unsafe_where_memory_is_reached() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rs_files(&manifest.join("src"), &mut files);
    rs_files(&manifest.join("tests"), &mut files);
    let mut seen = 0;
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if file.ends_with("tests/shm/source.rs") {
            continue; // this file names the macros in its own strings
        }
        for (doc, sig) in declarations(&text) {
            seen += 1;
            let at = format!("{}: {}", file.display(), sig.trim());
            let params = sig
                .split_once('(')
                .and_then(|(_, rest)| rest.rsplit_once(')'))
                .map_or("", |(p, _)| p);
            if sig.contains("unsafe fn") {
                if !doc.contains("# Safety") {
                    problems.push(format!("{at}: an unsafe declaration without # Safety"));
                }
            } else {
                if params.contains("*const") || params.contains("*mut") {
                    problems.push(format!("{at}: a raw pointer in a safe declaration"));
                }
                for p in params.split(',') {
                    let Some((name, ty)) = p.split_once(':') else {
                        continue;
                    };
                    let (name, ty) = (name.trim(), ty.trim());
                    let address = ["addr", "ptr", "buf", "address"]
                        .iter()
                        .any(|w| name.contains(w));
                    if address && matches!(ty, "usize" | "u64" | "isize" | "i64") {
                        problems.push(format!("{at}: `{name}: {ty}` looks like a raw address"));
                    }
                }
            }
            if sig.contains("= readonly") {
                problems.push(format!(
                    "{at}: readonly (no shm declaration has a reason to be: list it here with one)"
                ));
            }
        }
    }
    assert!(
        seen >= 10,
        "only {seen} declarations found: the reader is broken"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
