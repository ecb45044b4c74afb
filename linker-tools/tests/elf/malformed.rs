//! A corpus of malformed ELF files: each gives a typed error or a (partial) index, never
//! a panic.

use linker_tools::elf::{self, DebugSearch, ErrorKind, SymbolIndex};
use linkname_fixtures as fx;

fn check(bytes: Vec<u8>, what: &str) {
    let copy = bytes.clone();
    let result = std::panic::catch_unwind(move || {
        let r = SymbolIndex::from_bytes(bytes);
        if let Ok(index) = &r {
            // Whatever was indexed must be queryable without panics.
            let _ = index.lookup("fx_a.c::counter");
            let _ = index.lookup("fx_versioned@FX_1.0");
            let _ = index.symbol_at(0x1110);
            let _ = index.find("std::mem::swap");
        }
        r.map(|_| ()).map_err(|e| e.kind())
    });
    let _ = elf::program_headers(&copy);
    match result {
        Ok(Ok(())) => {}
        Ok(Err(kind)) => assert!(
            matches!(
                kind,
                ErrorKind::Malformed | ErrorKind::Unsupported | ErrorKind::Decompress
            ),
            "{what}: unexpected error kind {kind:?}"
        ),
        Err(_) => panic!("{what}: panicked"),
    }
}

#[test]
fn truncated_at_many_offsets() {
    let full = std::fs::read(fx::LIB).unwrap();
    let mut errors = 0;
    let mut offsets: Vec<usize> = (0..256).collect();
    offsets.extend((256..full.len()).step_by(97));
    for &len in &offsets {
        let bytes = full[..len].to_vec();
        if SymbolIndex::from_bytes(bytes.clone()).is_err() {
            errors += 1;
        }
        check(bytes, &format!("truncated at {len}"));
    }
    // Everything shorter than the ELF header, at least, is an error.
    assert!(errors >= 64, "only {errors} truncations were errors");
    assert_eq!(
        SymbolIndex::from_bytes(Vec::new()).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
}

#[test]
fn corrupted_headers_and_tables() {
    let full = std::fs::read(fx::LIB).unwrap();
    let field = |bytes: &[u8], at: usize, n: usize| -> u64 {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&bytes[at..at + n]);
        u64::from_le_bytes(b)
    };
    let shoff = field(&full, 0x28, 8) as usize;
    let shnum = field(&full, 0x3c, 2) as usize;
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    // ELF header fields: class, data, version, e_type, phoff, shoff, sizes, counts, shstrndx.
    for (at, n) in [
        (4, 1),
        (5, 1),
        (6, 1),
        (0x10, 2),
        (0x20, 8),
        (0x28, 8),
        (0x36, 2),
        (0x3a, 2),
        (0x3c, 2),
        (0x3e, 2),
    ] {
        for v in [0u64, 1, 0xff, u64::MAX] {
            let mut b = full.clone();
            b[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
            cases.push((format!("header {at:#x}={v:#x}"), b));
        }
    }
    // Every section header: type, offset, size, link, entsize set to bad values.
    for i in 0..shnum {
        let sh = shoff + i * 64;
        for (off, n) in [(4, 4), (0x18, 8), (0x20, 8), (0x28, 4), (0x38, 8)] {
            for v in [0u64, 0xffff_fff0, u64::MAX] {
                let mut b = full.clone();
                b[sh + off..sh + off + n].copy_from_slice(&v.to_le_bytes()[..n]);
                cases.push((format!("section {i} field {off:#x}={v:#x}"), b));
            }
        }
    }
    // Garbage in the symbol tables and string tables: flip every byte of a stride.
    for stride in [7usize, 13] {
        let mut b = full.clone();
        for x in b.iter_mut().skip(0x40).step_by(stride) {
            *x ^= 0xa5;
        }
        cases.push((format!("xor every {stride}th byte"), b));
    }
    let n = cases.len();
    for (what, bytes) in cases {
        check(bytes, &what);
    }
    assert!(n > 500);
}

#[test]
fn not_elf_is_unsupported() {
    let err = SymbolIndex::from_bytes(b"#!/bin/sh\necho hi\n".to_vec()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("not an ELF file"), "{err}");
}

#[test]
fn missing_file_is_io_with_path() {
    let err =
        SymbolIndex::open_with("/nonexistent/libnothing.so", &DebugSearch::disabled()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        err.to_string().contains("/nonexistent/libnothing.so"),
        "{err}"
    );
    assert_eq!(err.io_error().unwrap().kind(), std::io::ErrorKind::NotFound);
}
