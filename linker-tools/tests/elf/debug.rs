//! Separate debug files: build-id dirs, .gnu_debuglink (+ CRC), MiniDebugInfo.

use std::path::PathBuf;

use linker_tools::elf::{DebugSearch, ErrorKind, Kind, SymbolIndex, SymbolSource};
use linkname_fixtures as fx;

/// A search that cannot see the machine's /usr/lib/debug.
fn search_in(dir: &str) -> DebugSearch {
    DebugSearch::new().with_dirs([dir])
}

fn nowhere() -> DebugSearch {
    search_in("/nonexistent-debug-dir")
}

/// The statics the stripped copies lose and a debug file restores.
fn assert_has_statics(index: &SymbolIndex) {
    let full = SymbolIndex::open(fx::LIB).unwrap();
    for q in [
        "fx_a.c::counter",
        "fx_b.c::counter",
        "fx_private_add",
        "fx_tls_static",
        "fx_a.c::helper",
    ] {
        let got = index.lookup(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let want = full.lookup(q).unwrap();
        assert_eq!(
            (got.address(), got.size(), got.kind()),
            (want.address(), want.size(), want.kind()),
            "{q}"
        );
    }
    // The versions still come from the stripped file's own .dynsym.
    assert!(index.lookup("fx_versioned@FX_1.0").is_ok());
    assert_eq!(index.build_id(), full.build_id());
}

#[test]
fn stripped_copies_lack_statics_without_a_debug_file() {
    for lib in [fx::BUILD_ID_LIB, fx::DEBUGLINK_LIB, fx::MINIDEBUG_LIB] {
        let index = SymbolIndex::open_with(lib, &DebugSearch::disabled()).unwrap();
        assert_eq!(index.source(), &SymbolSource::DynsymOnly);
        assert!(index.lookup("fx_a_use").is_ok());
        let err = index.lookup("fx_private_add").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.to_string().contains("debug"),
            "the message points at debug files: {err}"
        );
    }
}

#[test]
fn build_id_directory() {
    let id = fx::LIB_BUILD_ID;
    let index = SymbolIndex::open_with(fx::BUILD_ID_LIB, &search_in(fx::BUILD_ID_ROOT)).unwrap();
    let want: PathBuf = [
        fx::BUILD_ID_ROOT,
        ".build-id",
        &id[..2],
        &format!("{}.debug", &id[2..]),
    ]
    .iter()
    .collect();
    assert_eq!(index.source(), &SymbolSource::DebugFile(want));
    assert_has_statics(&index);
    let hex: String = index
        .build_id()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, id);
}

#[test]
fn debuglink_beside_the_file() {
    let index = SymbolIndex::open_with(fx::DEBUGLINK_LIB, &nowhere()).unwrap();
    let SymbolSource::DebugFile(p) = index.source() else {
        panic!("{:?}", index.source())
    };
    assert!(
        p.ends_with("debuglink/libfixture.so.debug"),
        "{}",
        p.display()
    );
    assert_has_statics(&index);
}

#[test]
fn debuglink_in_dot_debug() {
    let index = SymbolIndex::open_with(fx::DEBUGLINK_SUBDIR_LIB, &nowhere()).unwrap();
    let SymbolSource::DebugFile(p) = index.source() else {
        panic!("{:?}", index.source())
    };
    assert!(
        p.ends_with("debuglink-sub/.debug/libfixture.so.debug"),
        "{}",
        p.display()
    );
    assert_has_statics(&index);
}

#[test]
fn debuglink_under_a_debug_dir() {
    // <debug-dir>/<directory of the file>/<link>: build such a tree in a temp dir.
    let root = std::env::temp_dir().join(format!("linkname-debugdir-{}", std::process::id()));
    let lib_dir =
        std::fs::canonicalize(PathBuf::from(fx::DEBUGLINK_BADCRC_LIB).parent().unwrap()).unwrap();
    let target = root.join(lib_dir.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&target).unwrap();
    std::fs::copy(fx::LIB_DEBUG, target.join("libfixture.so.debug")).unwrap();
    let index =
        SymbolIndex::open_with(fx::DEBUGLINK_BADCRC_LIB, &search_in(root.to_str().unwrap()));
    std::fs::remove_dir_all(&root).unwrap();
    let index = index.unwrap();
    // The wrong-CRC file beside it was tried first and rejected.
    assert!(
        index.search_log().iter().any(|l| l.contains("CRC32")),
        "{:?}",
        index.search_log()
    );
    let SymbolSource::DebugFile(p) = index.source() else {
        panic!("{:?}", index.source())
    };
    assert!(p.starts_with(&root), "{}", p.display());
    assert_has_statics(&index);
}

#[test]
fn debuglink_with_wrong_crc_is_rejected() {
    let index = SymbolIndex::open_with(fx::DEBUGLINK_BADCRC_LIB, &nowhere().mini_debug_info(false))
        .unwrap();
    assert_eq!(index.source(), &SymbolSource::DynsymOnly);
    let log = index.search_log().join("\n");
    assert!(
        log.contains("does not match the .gnu_debuglink CRC"),
        "{log}"
    );
    assert!(index.lookup("fx_private_add").is_err());
}

#[test]
fn mini_debug_info() {
    let index = SymbolIndex::open_with(fx::MINIDEBUG_LIB, &nowhere()).unwrap();
    assert_eq!(index.source(), &SymbolSource::MiniDebugInfo);
    // MiniDebugInfo keeps function and data symbols not in .dynsym (gdb's recipe).
    let full = SymbolIndex::open(fx::LIB).unwrap();
    for q in ["fx_private_add", "fx_impl_chosen", "fx_hidden_mul"] {
        let got = index.lookup(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(got.address(), full.lookup(q).unwrap().address(), "{q}");
        assert_eq!(got.kind(), Kind::Func);
    }
    assert!(index.lookup("fx_a_use").is_ok());
    // No STT_FILE symbols survive the recipe: both `helper`s are there, unattributed.
    let helpers: Vec<u64> = index.by_name("helper").map(|s| s.address()).collect();
    assert_eq!(helpers.len(), 2);
    assert_eq!(
        index.lookup("helper").unwrap_err().kind(),
        ErrorKind::Ambiguous
    );
}

#[test]
fn build_id_wins_over_debuglink() {
    // The debuglink copy has a debug file beside it; with the build-id dir configured
    // too, the build-id file is used (gdb's order).
    let index = SymbolIndex::open_with(fx::DEBUGLINK_LIB, &search_in(fx::BUILD_ID_ROOT)).unwrap();
    let SymbolSource::DebugFile(p) = index.source() else {
        panic!("{:?}", index.source())
    };
    assert!(p.to_string_lossy().contains(".build-id"), "{}", p.display());
}

#[test]
fn corrupt_mini_debug_info_is_a_typed_error() {
    let err =
        linker_tools::elf::debuglink::decompress_mini_debug_info(b"\xfd7zXZ\0garbage").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decompress);
}

#[test]
fn crc_matches_what_objcopy_recorded() {
    let debug = std::fs::read(fx::LIB_DEBUG).unwrap();
    let stripped = std::fs::read(fx::DEBUGLINK_LIB).unwrap();
    let crc = linker_tools::elf::debuglink::debuglink_crc32(&debug);
    // .gnu_debuglink ends with the CRC, little-endian, after the padded name.
    assert!(
        stripped.windows(4).any(|w| w == crc.to_le_bytes()),
        "CRC {crc:#x} not found in the stripped file"
    );
}
