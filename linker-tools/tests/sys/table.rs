//! The table of differential cases: each row is one operation run through our wrapper,
//! the C library and (where it covers the call) rustix, with the outcomes compared.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use linker_tools::sys::Errno;

/// A result with the error as the raw positive errno, the common ground of all three
/// implementations.
pub(crate) type Outcome<T> = Result<T, i32>;

/// What every implementation must produce for a case, beyond agreeing with each other.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Expect {
    /// Success.
    Ok,
    /// Failure with exactly this errno.
    Err(Errno),
    /// Depends on the machine (an optional clock, a filesystem feature): only the
    /// agreement between implementations is checked.
    Either,
}

struct Row {
    name: String,
    outcome: String,
    references: &'static str,
}

/// Collects the cases, their outcomes and every disagreement.
pub(crate) struct Table {
    rows: Vec<Row>,
    names: BTreeSet<String>,
    failures: Vec<String>,
}

fn show<T: Debug>(o: &Outcome<T>) -> String {
    match o {
        Ok(v) => {
            let s = format!("Ok({v:?})");
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(60).collect::<String>())
            } else {
                s
            }
        }
        Err(e) => match Errno::from_raw(*e).and_then(Errno::name) {
            Some(name) => format!("Err({name})"),
            None => format!("Err({e})"),
        },
    }
}

impl Table {
    pub(crate) fn new() -> Self {
        Self {
            rows: Vec::new(),
            names: BTreeSet::new(),
            failures: Vec::new(),
        }
    }

    /// Records one case. `name` starts with the system call (`"read: …"`).
    pub(crate) fn case<T: PartialEq + Debug>(
        &mut self,
        name: &str,
        expect: Expect,
        ours: Result<T, Errno>,
        libc: Outcome<T>,
        rustix: Option<Result<T, rustix::io::Errno>>,
    ) {
        self.record(
            name,
            expect,
            ours.map_err(Errno::raw),
            libc,
            rustix.map(|r| r.map_err(|e| e.raw_os_error())),
        );
    }

    /// Records one case whose outcomes are already in the common form.
    pub(crate) fn record<T: PartialEq + Debug>(
        &mut self,
        name: &str,
        expect: Expect,
        ours: Outcome<T>,
        libc: Outcome<T>,
        rustix: Option<Outcome<T>>,
    ) {
        if !self.names.insert(name.to_owned()) {
            self.failures.push(format!("{name}: duplicate case name"));
        }
        if ours != libc {
            self.failures.push(format!(
                "{name}: ours {} != libc {}",
                show(&ours),
                show(&libc)
            ));
        }
        if let Some(rx) = rustix.as_ref().filter(|rx| **rx != ours) {
            self.failures.push(format!(
                "{name}: ours {} != rustix {}",
                show(&ours),
                show(rx)
            ));
        }
        match (expect, &ours) {
            (Expect::Ok, Ok(_)) | (Expect::Either, _) => {}
            (Expect::Err(e), Err(got)) if e.raw() == *got => {}
            (expect, _) => self
                .failures
                .push(format!("{name}: expected {expect:?}, got {}", show(&ours))),
        }
        let references = if rustix.is_some() {
            "libc+rustix"
        } else {
            "libc"
        };
        self.rows.push(Row {
            name: name.to_owned(),
            outcome: show(&ours),
            references,
        });
    }

    /// Prints the table, then fails on any disagreement, on fewer than `min` cases, or
    /// if an errno in `must_cover` never came up.
    pub(crate) fn finish(self, min: usize, must_cover: &[Errno]) {
        let width = self.rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
        let mut per_call: BTreeMap<&str, usize> = BTreeMap::new();
        let mut errnos: BTreeSet<String> = BTreeSet::new();
        for (i, row) in self.rows.iter().enumerate() {
            println!(
                "{:>4}  {:width$}  {:12} {}",
                i + 1,
                row.name,
                row.references,
                row.outcome
            );
            let call = row.name.split(':').next().unwrap_or(&row.name);
            *per_call.entry(call).or_default() += 1;
            if let Some(e) = row
                .outcome
                .strip_prefix("Err(")
                .and_then(|s| s.strip_suffix(')'))
            {
                errnos.insert(e.to_owned());
            }
        }
        let with_rustix = self
            .rows
            .iter()
            .filter(|r| r.references == "libc+rustix")
            .count();
        println!(
            "{} differential cases ({} also against rustix) across {} calls: {:?}",
            self.rows.len(),
            with_rustix,
            per_call.len(),
            per_call
        );
        println!("errnos covered: {errnos:?}");
        assert!(
            self.failures.is_empty(),
            "{} disagreements:\n{}",
            self.failures.len(),
            { self.failures.join("\n") }
        );
        let missing: Vec<&str> = must_cover
            .iter()
            .filter_map(|e| e.name())
            .filter(|n| !errnos.contains(*n))
            .collect();
        assert!(missing.is_empty(), "no case produced {missing:?}");
        assert!(
            self.rows.len() >= min,
            "only {} differential cases, want ≥ {min}",
            self.rows.len()
        );
    }
}
