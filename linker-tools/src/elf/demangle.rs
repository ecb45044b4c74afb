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
