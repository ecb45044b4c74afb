//! Modules of this process (dl_iterate_phdr) and of another (/proc/PID/maps).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use linker_tools::elf::{ErrorKind, SymbolIndex};
use linker_tools::process::{self, Module};
use linker_tools::resolve::Resolver;
use linkname_fixtures as fx;

#[test]
fn this_process_has_main_libc_and_vdso() {
    let mods = process::modules();
    let main = mods.iter().find(|m| m.is_main).expect("main module");
    assert_eq!(main.path, std::env::current_exe().unwrap());
    assert!(mods.iter().any(|m| m.is_vdso));
    let libc = process::find("libc.so.6").unwrap();
    // The build-id read from memory is the one of the file on disk.
    let index = SymbolIndex::open(&libc.path).unwrap();
    assert_eq!(libc.build_id.as_deref(), index.build_id());
    assert!(libc.tls_module_id > 0, "libc has TLS (errno)");
    // Select by path, file name, soname, "main".
    assert_eq!(process::find(libc.path.to_str().unwrap()).unwrap(), libc);
    assert!(process::find("main").unwrap().is_main);
    let err = process::find("libnot-loaded.so.9").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownModule);
    assert!(
        err.to_string().contains("libc.so.6"),
        "lists the loaded modules: {err}"
    );
    // The module containing a libc function is libc.
    assert_eq!(
        process::containing(libc::getpid as *const () as usize)
            .unwrap()
            .path,
        libc.path
    );
}

#[test]
fn load_bias_matches_the_dynamic_linker() {
    let libc = process::find("libc.so.6").unwrap();
    let index = SymbolIndex::open(&libc.path).unwrap();
    let getpid = index.lookup("getpid").unwrap();
    assert_eq!(
        libc.bias + getpid.address(),
        libc::getpid as *const () as usize as u64
    );
}

/// The fixture executable, running until its stdin closes.
struct Child {
    child: std::process::Child,
    printed: Vec<(String, u64)>,
}

impl Child {
    fn spawn(path: &str) -> Child {
        let mut child = Command::new(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut printed = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "fixture exited early"
            );
            if line.trim() == "ready" {
                break;
            }
            if let Some((k, v)) = line.trim().split_once("=0x") {
                printed.push((k.to_owned(), u64::from_str_radix(v, 16).unwrap()));
            }
        }
        Child { child, printed }
    }

    fn printed(&self, key: &str) -> u64 {
        self.printed.iter().find(|(k, _)| k == key).unwrap().1
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[test]
fn other_process_statics_resolve_to_the_addresses_it_prints() {
    for exe in [fx::PIE, fx::NOPIE] {
        let child = Child::spawn(exe);
        let pid = child.child.id();
        let main = process::find_remote(pid, "main").unwrap();
        assert!(main.is_main);
        assert_eq!(main.path, std::fs::canonicalize(exe).unwrap());
        if exe == fx::NOPIE {
            assert_eq!(main.bias, 0, "non-PIE executables are not relocated");
        }
        let resolver = Resolver::new();
        let f = resolver.locate(&main, "fx_main_static").unwrap();
        assert_eq!(f.address, child.printed("fx_main_static"), "{exe}");
        let d = resolver.object(&main, "fx_main_data").unwrap();
        assert_eq!(d, child.printed("fx_main_data"), "{exe}");
        // Read the static through /proc/PID/mem: 0x5eed.
        let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
        let mut buf = [0u8; 8];
        std::os::unix::fs::FileExt::read_exact_at(&mem, &mut buf, d).unwrap();
        assert_eq!(i64::from_le_bytes(buf), 0x5eed);
        let counter = resolver.object(&main, "fx_b.c::counter").unwrap();
        std::os::unix::fs::FileExt::read_exact_at(&mem, &mut buf[..4], counter).unwrap();
        assert_eq!(i32::from_le_bytes(buf[..4].try_into().unwrap()), 1000);
        // Its libc is found and resolves getpid to an address inside libc's segments.
        let libc = process::find_remote(pid, "libc.so.6").unwrap();
        assert!(libc.contains(resolver.locate(&libc, "getpid").unwrap().address));
        // TLS and IFUNCs need this process.
        // SAFETY: refused before __tls_get_addr is reached (another process's module).
        let err = unsafe { resolver.tls(&main, "fx_tls_counter") }.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    }
}

#[test]
fn remote_modules_agree_with_dl_iterate_phdr_for_ourselves() {
    let ours = process::modules();
    let remote = process::remote_modules(std::process::id()).unwrap();
    for m in ours.iter().filter(|m| !m.is_vdso && m.path.is_absolute()) {
        let canon = std::fs::canonicalize(&m.path).unwrap();
        let r = remote
            .iter()
            .find(|r| r.path == canon)
            .unwrap_or_else(|| panic!("{} not in maps", m.path.display()));
        assert_eq!(r.bias, m.bias, "{}", m.path.display());
        assert_eq!(r.build_id, m.build_id, "{}", m.path.display());
        // Read from the file there, from the loaded dynamic section here.
        assert_eq!(r.soname, m.soname, "{}", m.path.display());
    }
    let _ = std::io::stdout().flush();
}

#[test]
fn unknown_process_is_an_io_error() {
    let err = process::remote_modules(u32::MAX - 7).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
}

/// A copy of the fixture library whose file name is not its soname (`libsoprobe.so`,
/// patched into `.dynstr` in place of `libfixture.so`, same length), loaded once and
/// kept loaded: other tests compare module lists.
fn renamed_library() -> &'static (libloading::Library, std::path::PathBuf) {
    static LIB: std::sync::OnceLock<(libloading::Library, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    LIB.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("soname-probe");
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = std::fs::read(fx::LIB).unwrap();
        let (from, to) = (b"libfixture.so\0", b"libsoprobe.so\0");
        let mut patched = 0;
        while let Some(at) = bytes.windows(from.len()).position(|w| w == from) {
            bytes[at..at + to.len()].copy_from_slice(to);
            patched += 1;
        }
        assert!(patched > 0, "the fixture's soname is libfixture.so");
        // Written aside and renamed: a test process still running from an earlier
        // build keeps its own inode.
        let path = dir.join("renamed-probe.so");
        let tmp = dir.join(format!("renamed-probe.so.{}", std::process::id()));
        std::fs::write(&tmp, &bytes).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        // SAFETY: the fixture library has no constructors with side effects.
        let lib = unsafe { libloading::Library::new(&path) }.unwrap();
        (lib, path)
    })
}

#[test]
fn soname_is_read_from_the_loaded_image() {
    let (_, path) = renamed_library();
    let m = process::find("libsoprobe.so").unwrap();
    assert_eq!(m.path, *path);
    assert_eq!(m.soname.as_deref(), Some("libsoprobe.so"));
    assert_eq!(m.file_name(), Some("renamed-probe.so"));
    // Every module's soname is its file's DT_SONAME.
    for m in process::modules().iter().filter(|m| !m.is_vdso) {
        let file =
            SymbolIndex::open_with(&m.path, &linker_tools::elf::DebugSearch::disabled()).unwrap();
        assert_eq!(m.soname.as_deref(), file.soname(), "{}", m.path.display());
    }
    // The vDSO has no file: its soname can only come from memory.
    let vdso = process::modules().into_iter().find(|m| m.is_vdso).unwrap();
    assert_eq!(vdso.soname.as_deref(), Some("linux-vdso.so.1"));
    assert!(process::find("linux-vdso.so.1").unwrap().is_vdso);
    // Selection by soname no longer opens each file: it is as cheap as listing.
    let t = std::time::Instant::now();
    for _ in 0..20 {
        process::find("libsoprobe.so").unwrap();
    }
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "20 selections by soname took {:?}",
        t.elapsed()
    );
}

#[test]
fn a_libloading_library_turns_into_its_module() {
    // SAFETY: the fixture library has no constructors with side effects.
    let mut lib = unsafe { libloading::Library::new(fx::LIB) }.unwrap();
    let m = Module::from_library(&mut lib).unwrap();
    assert_eq!(m, process::find(fx::LIB).unwrap());
    assert_eq!(m.soname.as_deref(), Some("libfixture.so"));
    // The library is still open and usable afterwards.
    // SAFETY: fx_versioned is `int fx_versioned(void)`.
    let f = unsafe { lib.get::<unsafe extern "C" fn() -> i32>(b"fx_versioned\0") }.unwrap();
    assert!(m.contains(*f as usize as u64));
    // The same library under another file name and soname is another module.
    let (_, path) = renamed_library();
    // SAFETY: as above; a second reference to an already loaded library.
    let mut again = unsafe { libloading::Library::new(path) }.unwrap();
    let renamed = Module::from_library(&mut again).unwrap();
    assert_eq!(renamed.path, *path);
    assert_ne!(renamed.bias, m.bias);
    // A handle of the main program (dlopen(NULL)) is the main executable.
    let mut this: libloading::Library = libloading::os::unix::Library::this().into();
    assert!(Module::from_library(&mut this).unwrap().is_main);
}
