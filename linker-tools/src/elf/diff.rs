//! [`SymbolDiff`]: what changed between two builds of a file, symbol by symbol.
//!
//! Names are matched across builds after [`normalize_name`] removes what changes on every
//! build without changing the symbol: Rust's `::h<16 hex>` hash (legacy mangling) and
//! crate disambiguators (v0, by demangling), and the compiler's `.llvm.<n>`, `.cold`,
//! `.cold.<n>`, `.part.<n>`, `.isra.<n>`, `.constprop.<n>` and `.lto_priv.<n>` suffixes.

use std::borrow::Cow;
use std::collections::HashMap;

use super::index::SymbolIndex;
use super::symbol::{Binding, Kind, Symbol, Visibility};

/// `name` with build-specific parts removed (see the module docs).
///
/// ```
/// use linker_tools::elf::normalize_name;
/// assert_eq!(normalize_name("_ZN4core3fmt5write17h0123456789abcdefE"), "core::fmt::write");
/// assert_eq!(normalize_name("foo.part.0"), "foo");
/// assert_eq!(normalize_name("bar.cold"), "bar");
/// assert_eq!(normalize_name("baz.llvm.123456789"), "baz");
/// assert_eq!(normalize_name("main"), "main");
/// ```
pub fn normalize_name(name: &str) -> Cow<'_, str> {
    let mut base = name;
    // Compiler suffixes, possibly stacked (`foo.part.0.cold`).
    loop {
        let before = base;
        for suffix in [
            ".llvm.",
            ".part.",
            ".isra.",
            ".constprop.",
            ".lto_priv.",
            ".cold.",
        ] {
            if let Some(at) = base.rfind(suffix) {
                let digits = &base[at + suffix.len()..];
                if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
                    base = &base[..at];
                }
            }
        }
        if let Some(b) = base.strip_suffix(".cold") {
            base = b;
        }
        if base == before {
            break;
        }
    }
    if base.starts_with("_ZN") || base.starts_with("_R") {
        if let Ok(d) = rustc_demangle::try_demangle(base) {
            return Cow::Owned(format!("{d:#}"));
        }
    }
    Cow::Borrowed(base)
}

/// One symbol's side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffSide {
    /// The name as stored (with its hash and suffixes).
    pub name: String,
    /// The version, with `@@` (`true`) or `@` (`false`).
    pub version: Option<(String, bool)>,
    /// File address.
    pub address: u64,
    /// Size in bytes.
    pub size: u64,
    /// Kind.
    pub kind: Kind,
    /// Binding.
    pub binding: Binding,
    /// Visibility.
    pub visibility: Visibility,
    /// Defined (not an undefined reference).
    pub defined: bool,
}

impl DiffSide {
    fn of(s: &Symbol) -> DiffSide {
        DiffSide {
            name: s.name().to_owned(),
            version: s.version().map(|v| (v.name.to_owned(), v.default)),
            address: s.address(),
            size: s.size(),
            kind: s.kind(),
            binding: s.binding(),
            visibility: s.visibility(),
            defined: s.is_defined(),
        }
    }
}

/// How one symbol changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only in the new build.
    Added(DiffSide),
    /// Only in the old build.
    Removed(DiffSide),
    /// In both, with different size, kind, binding, visibility, version or definedness.
    Changed {
        /// The old build's symbol.
        old: DiffSide,
        /// The new build's symbol.
        new: DiffSide,
    },
}

/// One entry of a [`SymbolDiff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffEntry {
    /// The normalised name both builds are matched on.
    pub key: String,
    /// The source file, for local symbols.
    pub source_file: Option<String>,
    /// What changed.
    pub change: Change,
}

impl DiffEntry {
    /// New size minus old size (an added symbol counts its size, a removed one minus it).
    pub fn size_delta(&self) -> i128 {
        match &self.change {
            Change::Added(n) => i128::from(n.size),
            Change::Removed(o) => -i128::from(o.size),
            Change::Changed { old, new } => i128::from(new.size) - i128::from(old.size),
        }
    }

    /// The names of the attributes that differ, for [`Change::Changed`]: any of `size`,
    /// `kind`, `binding`, `visibility`, `version`, `defined`.
    pub fn changed_fields(&self) -> Vec<&'static str> {
        let Change::Changed { old, new } = &self.change else {
            return Vec::new();
        };
        let mut v = Vec::new();
        if old.size != new.size {
            v.push("size");
        }
        if old.kind != new.kind {
            v.push("kind");
        }
        if old.binding != new.binding {
            v.push("binding");
        }
        if old.visibility != new.visibility {
            v.push("visibility");
        }
        if old.version != new.version {
            v.push("version");
        }
        if old.defined != new.defined {
            v.push("defined");
        }
        v
    }
}

/// Symbols added, removed and changed between two indexes, section and file symbols left
/// out. Addresses alone do not make a change (everything moves between builds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolDiff {
    /// The entries, sorted by decreasing absolute size delta, then by key.
    pub entries: Vec<DiffEntry>,
    /// Symbols matched in both builds with no change.
    pub unchanged: usize,
}

impl SymbolDiff {
    /// Compares `old` with `new`.
    pub fn between(old: &SymbolIndex, new: &SymbolIndex) -> SymbolDiff {
        type Key<'s> = (Cow<'s, str>, Option<&'s str>, Option<&'s str>);
        fn group(index: &SymbolIndex) -> HashMap<Key<'_>, Vec<&Symbol>> {
            let mut map: HashMap<Key<'_>, Vec<&Symbol>> = HashMap::new();
            for s in index.symbols() {
                if matches!(s.kind(), Kind::Section | Kind::File) || s.name().is_empty() {
                    continue;
                }
                let key = (
                    normalize_name(s.name()),
                    s.version().map(|v| v.name),
                    s.file(),
                );
                map.entry(key).or_default().push(s);
            }
            for v in map.values_mut() {
                v.sort_by_key(|s| (s.address(), s.size()));
            }
            map
        }
        let a = group(old);
        let mut b = group(new);
        let mut diff = SymbolDiff::default();
        for (key, olds) in a {
            let news = b.remove(&key).unwrap_or_default();
            let file = key.2.map(str::to_owned);
            let k = key.0.into_owned();
            for i in 0..olds.len().max(news.len()) {
                let change = match (olds.get(i), news.get(i)) {
                    (Some(o), Some(n)) => {
                        let (o, n) = (DiffSide::of(o), DiffSide::of(n));
                        let same = o.size == n.size
                            && o.kind == n.kind
                            && o.binding == n.binding
                            && o.visibility == n.visibility
                            && o.version == n.version
                            && o.defined == n.defined;
                        if same {
                            diff.unchanged += 1;
                            continue;
                        }
                        Change::Changed { old: o, new: n }
                    }
                    (Some(o), None) => Change::Removed(DiffSide::of(o)),
                    (None, Some(n)) => Change::Added(DiffSide::of(n)),
                    (None, None) => continue,
                };
                diff.entries.push(DiffEntry {
                    key: k.clone(),
                    source_file: file.clone(),
                    change,
                });
            }
        }
        for (key, news) in b {
            for n in news {
                diff.entries.push(DiffEntry {
                    key: key.0.clone().into_owned(),
                    source_file: key.2.map(str::to_owned),
                    change: Change::Added(DiffSide::of(n)),
                });
            }
        }
        diff.entries.sort_by(|x, y| {
            y.size_delta()
                .abs()
                .cmp(&x.size_delta().abs())
                .then_with(|| x.key.cmp(&y.key))
                .then_with(|| x.source_file.cmp(&y.source_file))
        });
        diff
    }

    /// Whether the builds differ.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_suffixes_and_hashes() {
        assert_eq!(normalize_name("foo.part.0.cold"), "foo");
        assert_eq!(normalize_name("foo.isra.0"), "foo");
        assert_eq!(normalize_name("foo.constprop.12"), "foo");
        assert_eq!(normalize_name("foo.cold.3"), "foo");
        // Not a compiler suffix.
        assert_eq!(normalize_name("foo.part.x"), "foo.part.x");
        assert_eq!(
            normalize_name("_ZN3std2rt10lang_start17h1111111111111111E.llvm.42"),
            "std::rt::lang_start"
        );
    }

    #[test]
    fn a_file_against_itself_is_unchanged() {
        let exe = std::env::current_exe().unwrap();
        let i = SymbolIndex::open_with(&exe, &super::super::DebugSearch::disabled()).unwrap();
        let d = SymbolDiff::between(&i, &i);
        assert!(d.is_empty(), "{:?}", d.entries.first());
        assert!(d.unchanged > 0);
    }
}
