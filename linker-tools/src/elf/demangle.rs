//! Demangling: Rust (legacy and v0) with `rustc-demangle`, C++ with `cpp_demangle`.

/// A demangled name in the forms the index answers to.
pub(crate) struct Demangled {
    /// The full demangled name (with the Rust `::h…` hash, with C++ parameters).
    pub(crate) full: String,
    /// The bare path: Rust without the hash, C++ without parameters; `None` when equal
    /// to `full`.
    pub(crate) path: Option<String>,
}

/// Demangles `name`; `None` if it is not a mangled name.
pub(crate) fn demangle(name: &str) -> Option<Demangled> {
    if !(name.starts_with("_Z") || name.starts_with("_R") || name.starts_with("__Z")) {
        return None;
    }
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        let full = d.to_string();
        let path = format!("{d:#}");
        return Some(Demangled {
            path: (path != full).then_some(path),
            full,
        });
    }
    let sym = cpp_demangle::Symbol::new(name.as_bytes()).ok()?;
    let full = sym.demangle().ok()?;
    let path = sym
        .demangle_with_options(
            &cpp_demangle::DemangleOptions::new()
                .no_params()
                .no_return_type(),
        )
        .ok()
        .filter(|p| *p != full);
    Some(Demangled { full, path })
}

/// Demangles `name` the way GNU nm `-C` prints it (binutils' `bfd_demangle` over
/// libiberty's `cplus_demangle` with `DMGL_PARAMS | DMGL_ANSI`), appending the result to
/// `out`; `false` (and `out` untouched) when nm would print the name as it is.
///
/// The conventions reproduced: leading `.`/`$` and a trailing `@…` are kept around the
/// demangled name; Rust legacy names lose their `::h…` hash and any `.suffix`, with
/// libiberty's escapes (`$LT$`, `..`, a lone `.` as `-`); Rust v0 names stop at the first
/// `.`; C++ names print with parameters, and `_GLOBAL__I_`/`_GLOBAL__D_` as "global
/// constructors/destructors keyed to".
///
/// ```
/// let mut out = Vec::new();
/// assert!(linker_tools::elf::demangle_like_nm(b"_ZN4core3fmt5write17h0123456789abcdefE", &mut out));
/// assert_eq!(out, b"core::fmt::write");
/// out.clear();
/// assert!(linker_tools::elf::demangle_like_nm(b"_Z3fooi@GLIBCXX_3.4", &mut out));
/// assert_eq!(out, b"foo(int)@GLIBCXX_3.4");
/// assert!(!linker_tools::elf::demangle_like_nm(b"main", &mut out));
/// ```
pub fn demangle_like_nm(name: &[u8], out: &mut Vec<u8>) -> bool {
    let dots = name.iter().take_while(|&&c| c == b'.' || c == b'$').count();
    let (pre, rest) = name.split_at(dots);
    let (core, suf) = match rest.iter().position(|&c| c == b'@') {
        Some(at) => rest.split_at(at),
        None => (rest, &b""[..]),
    };
    let start = out.len();
    out.extend_from_slice(pre);
    if cplus_demangle(core, out) {
        out.extend_from_slice(suf);
        true
    } else {
        out.truncate(start);
        false
    }
}

fn cplus_demangle(name: &[u8], out: &mut Vec<u8>) -> bool {
    if let Some(rest) = name.strip_prefix(b"_ZN") {
        if rust_legacy(rest, out) {
            return true;
        }
    } else if let Some(rest) = name.strip_prefix(b"_R") {
        if rust_v0(name, rest, out) {
            return true;
        }
    }
    cpp_v3(name, out)
}

fn rust_v0(name: &[u8], rest: &[u8], out: &mut Vec<u8>) -> bool {
    if !rest.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    let end = rest.iter().position(|&c| c == b'.').unwrap_or(rest.len());
    if !rest[..end]
        .iter()
        .all(|&c| c == b'_' || c.is_ascii_alphanumeric())
    {
        return false;
    }
    let Ok(sym) = std::str::from_utf8(&name[..2 + end]) else {
        return false;
    };
    let Ok(d) = rustc_demangle::try_demangle(sym) else {
        return false;
    };
    use std::io::Write as _;
    let start = out.len();
    if write!(out, "{d:#}").is_err() {
        return false;
    }
    wide_constants_like_libiberty(out, start);
    true
}

/// libiberty prints a v0 integer constant wider than 64 bits as `0x` and its hex digits
/// shifted by one (the first digit dropped, the `_` terminator printed); nm shows that,
/// so we do too. `rustc-demangle` prints `0x` and the digits.
fn wide_constants_like_libiberty(out: &mut Vec<u8>, start: usize) {
    if !out[start..].windows(2).any(|w| w == b"0x") {
        return;
    }
    let mut i = start;
    while i + 2 < out.len() {
        let boundary = i == start || !(out[i - 1].is_ascii_alphanumeric() || out[i - 1] == b'_');
        if boundary && out[i] == b'0' && out[i + 1] == b'x' {
            let digits = out[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if digits > 16 {
                let d0 = i + 2;
                out.remove(d0);
                out.insert(d0 + digits - 1, b'_');
            }
            i += 2 + digits;
        } else {
            i += 1;
        }
    }
}

/// libiberty's legacy Rust demangler (`rust-demangle.c`), non-verbose.
fn rust_legacy(sym: &[u8], out: &mut Vec<u8>) -> bool {
    if !sym
        .iter()
        .all(|&c| c == b'_' || c.is_ascii_alphanumeric() || matches!(c, b'$' | b'.' | b':' | b'@'))
    {
        return false;
    }
    // Ends in `E`, possibly followed by a `.suffix`.
    let mut len = sym.len();
    let mut dot_suffix = true;
    while len > 0 && !(dot_suffix && sym[len - 1] == b'E') {
        dot_suffix = sym[len - 1] == b'.';
        len -= 1;
    }
    if !(len > 0 && sym[len - 1] == b'E') {
        return false;
    }
    len -= 1;
    let sym = &sym[..len];
    if !(len > 19 && &sym[len - 19..len - 16] == b"17h") {
        return false;
    }
    let mut idents = Vec::new();
    let mut at = 0;
    while at < len {
        match legacy_ident(sym, &mut at) {
            Some(id) if !id.is_empty() => idents.push(id),
            _ => return false,
        }
    }
    let Some(hash) = idents.pop() else {
        return false;
    };
    if !is_legacy_hash(hash) {
        return false;
    }
    for (i, id) in idents.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b"::");
        }
        print_legacy_ident(id, out);
    }
    true
}

fn legacy_ident<'s>(sym: &'s [u8], at: &mut usize) -> Option<&'s [u8]> {
    let c = *sym.get(*at)?;
    *at += 1;
    if !c.is_ascii_digit() {
        return None;
    }
    let mut n = usize::from(c - b'0');
    if c != b'0' {
        while let Some(&d) = sym.get(*at).filter(|d| d.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(usize::from(d - b'0'))?;
            *at += 1;
        }
    }
    let start = *at;
    let end = start.checked_add(n)?;
    if end > sym.len() {
        return None;
    }
    *at = end;
    Some(&sym[start..end])
}

fn is_legacy_hash(id: &[u8]) -> bool {
    if id.len() != 17 || id[0] != b'h' {
        return false;
    }
    let mut seen = 0u16;
    for &c in &id[1..] {
        let nibble = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return false,
        };
        seen |= 1 << nibble;
    }
    seen.count_ones() >= 5
}

fn print_legacy_ident(mut id: &[u8], out: &mut Vec<u8>) {
    if id.len() >= 2 && id[0] == b'_' && id[1] == b'$' {
        id = &id[1..];
    }
    while !id.is_empty() {
        let len;
        if id[0] == b'$' {
            match legacy_escape(id) {
                Some((c, n)) => {
                    out.push(c);
                    len = n;
                }
                None => {
                    out.extend_from_slice(id);
                    return;
                }
            }
        } else if id[0] == b'.' {
            if id.get(1) == Some(&b'.') {
                out.extend_from_slice(b"::");
                len = 2;
            } else {
                out.push(b'-');
                len = 1;
            }
        } else {
            len = id
                .iter()
                .position(|&c| c == b'$' || c == b'.')
                .unwrap_or(id.len());
            out.extend_from_slice(&id[..len]);
        }
        id = &id[len..];
    }
}

fn legacy_escape(e: &[u8]) -> Option<(u8, usize)> {
    if e.len() < 3 || e[0] != b'$' {
        return None;
    }
    let e = &e[1..];
    let len = e.len();
    let hex = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let (c, escape_len) = if e[0] == b'C' {
        (b',', 1)
    } else if len > 2 {
        match &e[..2] {
            b"SP" => (b'@', 2),
            b"BP" => (b'*', 2),
            b"RF" => (b'&', 2),
            b"LT" => (b'<', 2),
            b"GT" => (b'>', 2),
            b"LP" => (b'(', 2),
            b"RP" => (b')', 2),
            [b'u', _] if len > 3 => {
                let hi = hex(e[1])?;
                let lo = hex(e[2])?;
                if hi > 7 {
                    return None;
                }
                let c = (hi << 4) | lo;
                if c < 0x20 {
                    return None;
                }
                (c, 3)
            }
            _ => (0, 2),
        }
    } else {
        (0, 0)
    };
    if c == 0 || len <= escape_len || e[escape_len] != b'$' {
        return None;
    }
    Some((c, 2 + escape_len))
}

fn cpp_v3(name: &[u8], out: &mut Vec<u8>) -> bool {
    if name.starts_with(b"_Z") {
        let Ok(sym) = cpp_demangle::Symbol::new(name) else {
            return false;
        };
        return match sym.demangle() {
            Ok(s) => {
                // cpp_demangle's spellings where libiberty's differ.
                let s = match s
                    .strip_prefix("{vtable(")
                    .and_then(|r| r.strip_suffix(")}"))
                {
                    Some(inner) => format!("vtable for {inner}"),
                    None => s,
                };
                out.extend_from_slice(s.replace("std::nullptr_t", "decltype(nullptr)").as_bytes());
                true
            }
            Err(_) => false,
        };
    }
    if name.len() > 11
        && name.starts_with(b"_GLOBAL_")
        && matches!(name[8], b'.' | b'_' | b'$')
        && matches!(name[9], b'D' | b'I')
        && name[10] == b'_'
    {
        out.extend_from_slice(if name[9] == b'I' {
            b"global constructors keyed to "
        } else {
            b"global destructors keyed to "
        });
        let rest = &name[11..];
        if rest.starts_with(b"_Z") {
            return cpp_v3(rest, out);
        }
        out.extend_from_slice(rest);
        return true;
    }
    false
}
