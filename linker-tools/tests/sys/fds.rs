//! Descriptor calls: `openat`, `close`, `read`, `write`, `pread64`, `pwrite64`,
//! `lseek`, `pipe2`, on real files in a temporary directory, pipes and devices.

use std::cell::Cell;
use std::ffi::{CString, c_void};
use std::fmt::Debug;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;

use linker_tools::sys::{self, CWD, Errno, Mode, OFlags, Whence, unchecked};
use rustix::fs as rf;

use crate::table::{Expect, Outcome, Table};
use crate::util::{
    self, CLOSED_FD, HUGE_FD, KERNEL_PTR, LOW_PTR, NoAccess, TempDir, closed_fd, lc, lc_fd,
};

const DATA: &[u8] = b"hello, differential world\n";

/// The files every case works on.
struct Fixture {
    dir: TempDir,
    dirfd: OwnedFd,
    data: CString,
    sub: CString,
    seq: Cell<u32>,
}

impl Fixture {
    fn new() -> Self {
        let dir = TempDir::new("sys-fds");
        std::fs::write(dir.path().join("data"), DATA).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("data", dir.path().join("link")).unwrap();
        let dirfd = util::open(&dir.c("."), libc::O_RDONLY | libc::O_DIRECTORY);
        let data = dir.c("data");
        let sub = dir.c("sub");
        Self {
            dir,
            dirfd,
            data,
            sub,
            seq: Cell::new(0),
        }
    }

    /// A fresh descriptor on the data file, at offset 0.
    fn data(&self, flags: i32) -> Prepared {
        (util::open(&self.data, flags), Vec::new())
    }

    /// A new, empty, read-write file with a name no other case uses.
    fn scratch(&self, flags: i32) -> Prepared {
        let n = self.seq.get();
        self.seq.set(n + 1);
        let path = self.dir.c(&format!("scratch-{n}"));
        (
            util::open(&path, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | flags),
            Vec::new(),
        )
    }
}

/// A descriptor to run the call on, and descriptors to keep open meanwhile (the other
/// end of a pipe).
type Prepared = (OwnedFd, Vec<OwnedFd>);
/// Makes the descriptor a case runs on.
type Prep<'a> = dyn Fn() -> Prepared + 'a;

fn pipe_read_end(data: &[u8], keep_writer: bool, flags: i32) -> Prepared {
    let (r, w) = util::pipe(flags);
    if !data.is_empty() {
        assert_eq!(sys::write(w.as_fd(), data), Ok(data.len()));
    }
    (r, if keep_writer { vec![w] } else { Vec::new() })
}

fn pipe_write_end(keep_reader: bool, full: bool) -> Prepared {
    let (r, w) = util::pipe(libc::O_NONBLOCK);
    if full {
        util::fill(w.as_fd());
    }
    (w, if keep_reader { vec![r] } else { Vec::new() })
}

fn dev(path: &std::ffi::CStr, flags: i32) -> Prepared {
    (util::open(path, flags), Vec::new())
}

fn eventfd() -> Prepared {
    // SAFETY: eventfd takes plain integers and returns a new descriptor or -1.
    let fd = lc_fd(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) });
    (fd.expect("eventfd"), Vec::new())
}

/// Everything in the file behind `fd`, read without moving its offset.
fn contents(fd: BorrowedFd<'_>) -> Vec<u8> {
    let file = std::fs::File::from(fd.try_clone_to_owned().unwrap());
    let mut out = vec![0u8; 4096];
    let n = file.read_at(&mut out, 0).unwrap();
    out.truncate(n);
    out
}

/// Runs one case on three freshly prepared descriptors, one per implementation.
fn fd_case<T: PartialEq + Debug>(
    t: &mut Table,
    name: &str,
    expect: Expect,
    prep: &dyn Fn() -> Prepared,
    ours: impl FnOnce(BorrowedFd<'_>) -> Result<T, Errno>,
    libc: impl FnOnce(RawFd) -> Outcome<T>,
    rustix: impl FnOnce(BorrowedFd<'_>) -> Option<rustix::io::Result<T>>,
) {
    let (fd, _keep) = prep();
    let ours = ours(fd.as_fd());
    let (fd, _keep) = prep();
    let libc = libc(fd.as_raw_fd());
    let (fd, _keep) = prep();
    let rustix = rustix(fd.as_fd());
    t.case(name, expect, ours, libc, rustix);
}

pub(crate) fn cases(t: &mut Table) {
    let fx = Fixture::new();
    openat(t, &fx);
    close(t);
    read(t, &fx);
    write(t, &fx);
    pread_pwrite(t, &fx);
    lseek(t, &fx);
    pipe2(t);
    pipe_sizes(t, &fx);
    vmsplice(t, &fx);
    poll(t);
    bad_descriptors(t, &fx);
}

/// What an open descriptor looks like: status flags and descriptor flags.
fn shape(fd: BorrowedFd<'_>) -> (i32, i32) {
    // SAFETY: F_GETFL/F_GETFD only read the descriptor's flags.
    unsafe {
        (
            libc::fcntl(fd.as_raw_fd(), libc::F_GETFL),
            libc::fcntl(fd.as_raw_fd(), libc::F_GETFD),
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn openat_case(
    t: &mut Table,
    name: &str,
    expect: Expect,
    dirfd: BorrowedFd<'_>,
    path: &dyn Fn(usize) -> CString,
    flags: i32,
    mode: u32,
) {
    let p = path(0);
    let ours = sys::openat(
        dirfd,
        &p,
        OFlags::from_bits_retain(flags as u32),
        Mode::from_bits_retain(mode),
    )
    .map(|fd| shape(fd.as_fd()));
    let p = path(1);
    // SAFETY: `p` is NUL-terminated.
    let libc = lc_fd(unsafe { libc::openat(dirfd.as_raw_fd(), p.as_ptr(), flags, mode) })
        .map(|fd| shape(fd.as_fd()));
    let p = path(2);
    let rustix = rf::openat(
        dirfd,
        p.as_c_str(),
        rf::OFlags::from_bits_retain(flags as u32),
        rf::Mode::from_bits_retain(mode),
    )
    .map(|fd| shape(fd.as_fd()));
    t.case(name, expect, ours, libc, Some(rustix));
}

fn openat(t: &mut Table, fx: &Fixture) {
    use libc::{
        O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY, O_RDWR,
        O_TMPFILE, O_WRONLY,
    };
    use linker_tools::sys::Errno as E;
    let dir = fx.dirfd.as_fd();
    let abs = |name: &'static str| move |_| fx.dir.c(name);
    let rel = |name: &'static str| move |_| CString::new(name).unwrap();
    let ok = Expect::Ok;
    let err = Expect::Err;
    let either = Expect::Either;
    let long = "x".repeat(300);
    // Relative to the fixture's directory.
    #[rustfmt::skip]
    let relative: &[(&str, Expect, &str, i32, u32)] = &[
        ("relative to a directory fd",                ok,              "data",    O_RDONLY,                    0),
        ("O_RDWR",                                    ok,              "data",    O_RDWR,                      0),
        ("O_WRONLY|O_APPEND",                         ok,              "data",    O_WRONLY | O_APPEND,         0),
        ("O_PATH",                                    ok,              "data",    O_PATH | O_CLOEXEC,          0),
        ("O_DIRECTORY on a directory",                ok,              "sub",     O_DIRECTORY,                 0),
        ("following a symlink",                       ok,              "link",    O_RDONLY,                    0),
        ("ENOENT missing file",                       err(E::ENOENT),  "missing", O_RDONLY,                    0),
        ("ENOENT missing parent",                     err(E::ENOENT),  "nodir/x", O_RDONLY,                    0),
        ("ENOENT empty path",                         err(E::ENOENT),  "",        O_RDONLY,                    0),
        ("ENOENT O_CREAT under a missing dir",        err(E::ENOENT),  "nodir/x", O_CREAT | O_WRONLY,          0o600),
        ("ENOTDIR file as a path component",          err(E::ENOTDIR), "data/x",  O_RDONLY,                    0),
        ("ENOTDIR O_DIRECTORY on a file",             err(E::ENOTDIR), "data",    O_DIRECTORY,                 0),
        ("EISDIR directory O_WRONLY",                 err(E::EISDIR),  "sub",     O_WRONLY,                    0),
        ("EISDIR O_CREAT on a directory",             err(E::EISDIR),  "sub",     O_CREAT | O_RDONLY,          0o600),
        ("EEXIST O_CREAT|O_EXCL on an existing file", err(E::EEXIST),  "data",    O_CREAT | O_EXCL | O_WRONLY, 0o600),
        ("EEXIST O_CREAT|O_EXCL on a symlink",        err(E::EEXIST),  "link",    O_CREAT | O_EXCL | O_WRONLY, 0o600),
        ("ELOOP O_NOFOLLOW on a symlink",             err(E::ELOOP),   "link",    O_RDONLY | O_NOFOLLOW,       0),
        ("EINVAL O_TMPFILE without write access",     err(E::EINVAL),  "sub",     O_TMPFILE | O_RDONLY,        0o600),
        ("O_TMPFILE|O_RDWR (filesystem-dependent)",   either,          "sub",     O_TMPFILE | O_RDWR,          0o600),
    ];
    for &(name, expect, path, flags, mode) in relative {
        openat_case(
            t,
            &format!("openat: {name}"),
            expect,
            dir,
            &rel(path),
            flags,
            mode,
        );
    }
    // Other directories, and paths that differ per implementation.
    openat_case(
        t,
        "openat: absolute path, O_RDONLY|O_CLOEXEC",
        ok,
        CWD,
        &abs("data"),
        O_RDONLY | O_CLOEXEC,
        0,
    );
    openat_case(
        t,
        "openat: O_CREAT|O_EXCL of a new file",
        ok,
        dir,
        &|i| CString::new(format!("created-{i}")).unwrap(),
        O_WRONLY | O_CREAT | O_EXCL,
        0o640,
    );
    openat_case(
        t,
        "openat: EISDIR directory O_RDWR",
        err(Errno::EISDIR),
        CWD,
        &|_| fx.sub.clone(),
        O_RDWR,
        0,
    );
    openat_case(
        t,
        "openat: ENAMETOOLONG 300-byte name",
        err(Errno::ENAMETOOLONG),
        dir,
        &|_| CString::new(long.clone()).unwrap(),
        O_RDONLY,
        0,
    );

    // A regular file as the directory descriptor of a relative path.
    let file = util::open(&fx.data, O_RDONLY);
    openat_case(
        t,
        "openat: ENOTDIR dirfd is a file",
        err(Errno::ENOTDIR),
        file.as_fd(),
        &rel("x"),
        O_RDONLY,
        0,
    );

    // Unreadable path pointers: rustix cannot express them.
    let no_access = NoAccess::new();
    for (what, ptr) in [
        ("address 8", LOW_PTR),
        ("PROT_NONE page", no_access.addr()),
        ("kernel address", KERNEL_PTR),
    ] {
        // SAFETY: the kernel reads the path and fails with EFAULT; no memory is written.
        let ours =
            unsafe { unchecked::openat(CWD, ptr as *const u8, OFlags::empty(), Mode::empty()) };
        // SAFETY: as above, through the C library.
        let libc =
            lc_fd(unsafe { libc::openat(libc::AT_FDCWD, ptr as *const libc::c_char, O_RDONLY) });
        t.case(
            &format!("openat: EFAULT path at {what}"),
            err(Errno::EFAULT),
            ours.map(drop),
            libc.map(drop),
            None,
        );
    }
}

fn close(t: &mut Table) {
    let (ours, l, r) = (util::pipe(0), util::pipe(0), util::pipe(0));
    let l_raw = l.0.as_raw_fd();
    std::mem::forget(l.0);
    let r_raw = r.0.as_raw_fd();
    std::mem::forget(r.0);
    // SAFETY: `l_raw` was released from its OwnedFd above; nobody else uses it.
    let libc = lc(unsafe { libc::close(l_raw) }.into()).map(drop);
    // SAFETY: `r_raw` was released from its OwnedFd above; nobody else uses it.
    let rustix = unsafe { rustix::io::try_close(r_raw) };
    t.case(
        "close: an open pipe end",
        Expect::Ok,
        sys::close(ours.0),
        libc,
        Some(rustix),
    );
}

fn read(t: &mut Table, fx: &Fixture) {
    use libc::{O_NONBLOCK, O_PATH, O_RDONLY, O_WRONLY};
    let read_case =
        |t: &mut Table, name: &str, expect: Expect, prep: &dyn Fn() -> Prepared, len: usize| {
            fd_case(
                t,
                name,
                expect,
                prep,
                |fd| {
                    let mut b = vec![0u8; len];
                    sys::read(fd, &mut b).map(|n| b[..n].to_vec())
                },
                |fd| {
                    let mut b = vec![0u8; len];
                    // SAFETY: `b` is writable for `len` bytes.
                    lc(unsafe { libc::read(fd, b.as_mut_ptr().cast(), len) } as i64)
                        .map(|n| b[..n as usize].to_vec())
                },
                |fd| {
                    let mut b = vec![0u8; len];
                    Some(rustix::io::read(fd, &mut b[..]).map(|n| b[..n].to_vec()))
                },
            );
        };
    let at_end = || {
        let fd = util::open(&fx.data, O_RDONLY);
        rustix::fs::seek(&fd, rustix::fs::SeekFrom::End(0)).unwrap();
        (fd, Vec::new())
    };
    read_case(
        t,
        "read: a whole file",
        Expect::Ok,
        &|| fx.data(O_RDONLY),
        64,
    );
    read_case(
        t,
        "read: the first 5 bytes",
        Expect::Ok,
        &|| fx.data(O_RDONLY),
        5,
    );
    read_case(t, "read: zero bytes", Expect::Ok, &|| fx.data(O_RDONLY), 0);
    read_case(t, "read: at end of file", Expect::Ok, &at_end, 16);
    read_case(
        t,
        "read: EBADF write-only descriptor",
        Expect::Err(Errno::EBADF),
        &|| fx.data(O_WRONLY),
        16,
    );
    read_case(
        t,
        "read: EBADF O_PATH descriptor",
        Expect::Err(Errno::EBADF),
        &|| fx.data(O_PATH),
        16,
    );
    read_case(
        t,
        "read: EISDIR directory",
        Expect::Err(Errno::EISDIR),
        &|| (util::open(&fx.sub, O_RDONLY), Vec::new()),
        16,
    );
    read_case(
        t,
        "read: a pipe holding data",
        Expect::Ok,
        &|| pipe_read_end(b"abc", true, 0),
        16,
    );
    read_case(
        t,
        "read: a pipe whose writer closed",
        Expect::Ok,
        &|| pipe_read_end(b"", false, 0),
        16,
    );
    read_case(
        t,
        "read: EAGAIN empty non-blocking pipe",
        Expect::Err(Errno::EAGAIN),
        &|| pipe_read_end(b"", true, O_NONBLOCK),
        16,
    );
    read_case(
        t,
        "read: /dev/null",
        Expect::Ok,
        &|| dev(c"/dev/null", O_RDONLY),
        16,
    );
    read_case(
        t,
        "read: /dev/zero",
        Expect::Ok,
        &|| dev(c"/dev/zero", O_RDONLY),
        8,
    );
    read_case(
        t,
        "read: EAGAIN empty non-blocking eventfd",
        Expect::Err(Errno::EAGAIN),
        &eventfd,
        8,
    );
    read_case(
        t,
        "read: EINVAL eventfd with a 4-byte buffer",
        Expect::Err(Errno::EINVAL),
        &eventfd,
        4,
    );

    let no_access = NoAccess::new();
    for (what, ptr) in [
        ("address 8", LOW_PTR),
        ("PROT_NONE page", no_access.addr()),
        ("kernel address", KERNEL_PTR),
    ] {
        fd_case(
            t,
            &format!("read: EFAULT buffer at {what}"),
            Expect::Err(Errno::EFAULT),
            &|| fx.data(O_RDONLY),
            // SAFETY: the kernel cannot write to `ptr` and fails with EFAULT.
            |fd| unsafe { unchecked::read(fd, ptr as *mut u8, 16) },
            // SAFETY: as above, through the C library.
            |fd| lc(unsafe { libc::read(fd, ptr as *mut c_void, 16) } as i64).map(|n| n as usize),
            |_| None,
        );
    }
}

fn write(t: &mut Table, fx: &Fixture) {
    use libc::{O_APPEND, O_PATH, O_RDONLY};
    let write_case = |t: &mut Table,
                      name: &str,
                      expect: Expect,
                      prep: &dyn Fn() -> Prepared,
                      buf: &[u8],
                      check: bool| {
        let after =
            move |fd: BorrowedFd<'_>, n: usize| (n, if check { contents(fd) } else { Vec::new() });
        fd_case(
            t,
            name,
            expect,
            prep,
            |fd| sys::write(fd, buf).map(|n| after(fd, n)),
            |fd| {
                // SAFETY: `buf` is readable for its length.
                let r = lc(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) } as i64);
                // SAFETY: `fd` is open for the duration of this closure.
                r.map(|n| after(unsafe { BorrowedFd::borrow_raw(fd) }, n as usize))
            },
            |fd| Some(rustix::io::write(fd, buf).map(|n| after(fd, n))),
        );
    };
    let appending = || {
        let (fd, keep) = fx.scratch(O_APPEND);
        assert_eq!(sys::write(fd.as_fd(), b"first;"), Ok(6));
        (fd, keep)
    };
    let new_file = || fx.scratch(0);
    let read_only = || fx.data(O_RDONLY);
    let o_path = || fx.data(O_PATH);
    let directory = || (util::open(&fx.sub, O_RDONLY), Vec::new());
    let pipe = || pipe_write_end(true, false);
    let no_reader = || pipe_write_end(false, false);
    let full_pipe = || pipe_write_end(true, true);
    let null = || dev(c"/dev/null", libc::O_WRONLY);
    let full = || dev(c"/dev/full", libc::O_WRONLY);
    let (ok, err) = (Expect::Ok, Expect::Err);
    let (one, max) = (1u64.to_ne_bytes(), u64::MAX.to_ne_bytes());
    // (name, expected, descriptor, bytes, whether to compare the file's contents after)
    #[rustfmt::skip]
    let cases: &[(&str, Expect, &Prep<'_>, &[u8], bool)] = &[
        ("a new file",                         ok,                     &new_file,   b"written through three paths", true),
        ("zero bytes",                         ok,                     &new_file,   b"",                            true),
        ("O_APPEND",                           ok,                     &appending,  b"second",                      true),
        ("EBADF read-only descriptor",         err(Errno::EBADF),      &read_only,  b"x",                           false),
        ("EBADF O_PATH descriptor",            err(Errno::EBADF),      &o_path,     b"x",                           false),
        ("EBADF directory",                    err(Errno::EBADF),      &directory,  b"x",                           false),
        ("a pipe",                             ok,                     &pipe,       b"abc",                         false),
        ("EPIPE pipe without a reader",        err(Errno::EPIPE),      &no_reader,  b"x",                           false),
        ("EAGAIN full non-blocking pipe",      err(Errno::EAGAIN),     &full_pipe,  b"x",                           false),
        ("/dev/null",                          ok,                     &null,       b"discarded",                   false),
        ("ENOSPC /dev/full",                   err(Errno::ENOSPC),     &full,       b"x",                           false),
        ("an eventfd counter",                 ok,                     &eventfd,    &one,                           false),
        ("EINVAL eventfd with 4 bytes",        err(Errno::EINVAL),     &eventfd,    &[1, 0, 0, 0],                  false),
        ("EINVAL eventfd with u64::MAX",       err(Errno::EINVAL),     &eventfd,    &max,                           false),
    ];
    for &(name, expect, prep, buf, check) in cases {
        write_case(t, &format!("write: {name}"), expect, prep, buf, check);
    }

    let no_access = NoAccess::new();
    for (what, ptr) in [
        ("address 8", LOW_PTR),
        ("PROT_NONE page", no_access.addr()),
        ("kernel address", KERNEL_PTR),
    ] {
        fd_case(
            t,
            &format!("write: EFAULT buffer at {what}"),
            Expect::Err(Errno::EFAULT),
            &|| fx.scratch(0),
            // SAFETY: the kernel cannot read `ptr` and fails with EFAULT.
            |fd| unsafe { unchecked::write(fd, ptr as *const u8, 16) },
            |fd| {
                // SAFETY: as above, through the C library.
                lc(unsafe { libc::write(fd, ptr as *const c_void, 16) } as i64).map(|n| n as usize)
            },
            |_| None,
        );
    }
}

fn pread_pwrite(t: &mut Table, fx: &Fixture) {
    use libc::{O_APPEND, O_RDONLY, O_WRONLY};
    let pread_case = |t: &mut Table,
                      name: &str,
                      expect: Expect,
                      prep: &dyn Fn() -> Prepared,
                      len: usize,
                      off: i64| {
        fd_case(
            t,
            name,
            expect,
            prep,
            |fd| {
                let mut b = vec![0u8; len];
                sys::pread(fd, &mut b, off).map(|n| b[..n].to_vec())
            },
            |fd| {
                let mut b = vec![0u8; len];
                // SAFETY: `b` is writable for `len` bytes.
                lc(unsafe { libc::pread64(fd, b.as_mut_ptr().cast(), len, off) } as i64)
                    .map(|n| b[..n as usize].to_vec())
            },
            |fd| {
                let mut b = vec![0u8; len];
                // rustix takes a u64 offset; a negative one reaches the kernel unchanged.
                Some(rustix::io::pread(fd, &mut b[..], off as u64).map(|n| b[..n].to_vec()))
            },
        );
    };
    pread_case(
        t,
        "pread64: 12 bytes at offset 7",
        Expect::Ok,
        &|| fx.data(O_RDONLY),
        12,
        7,
    );
    pread_case(
        t,
        "pread64: zero bytes",
        Expect::Ok,
        &|| fx.data(O_RDONLY),
        0,
        3,
    );
    pread_case(
        t,
        "pread64: past end of file",
        Expect::Ok,
        &|| fx.data(O_RDONLY),
        8,
        1000,
    );
    pread_case(
        t,
        "pread64: EINVAL negative offset",
        Expect::Err(Errno::EINVAL),
        &|| fx.data(O_RDONLY),
        8,
        -1,
    );
    pread_case(
        t,
        "pread64: ESPIPE on a pipe",
        Expect::Err(Errno::ESPIPE),
        &|| pipe_read_end(b"abc", true, 0),
        8,
        0,
    );
    pread_case(
        t,
        "pread64: EBADF write-only descriptor",
        Expect::Err(Errno::EBADF),
        &|| fx.data(O_WRONLY),
        8,
        0,
    );
    pread_case(
        t,
        "pread64: EISDIR directory",
        Expect::Err(Errno::EISDIR),
        &|| (util::open(&fx.sub, O_RDONLY), Vec::new()),
        8,
        0,
    );

    let pwrite_case = |t: &mut Table,
                       name: &str,
                       expect: Expect,
                       prep: &dyn Fn() -> Prepared,
                       buf: &[u8],
                       off: i64| {
        let after = |fd: BorrowedFd<'_>, n: usize| (n, contents(fd));
        fd_case(
            t,
            name,
            expect,
            prep,
            |fd| sys::pwrite(fd, buf, off).map(|n| after(fd, n)),
            |fd| {
                // SAFETY: `buf` is readable for its length.
                let r =
                    lc(unsafe { libc::pwrite64(fd, buf.as_ptr().cast(), buf.len(), off) } as i64);
                // SAFETY: `fd` is open for the duration of this closure.
                r.map(|n| after(unsafe { BorrowedFd::borrow_raw(fd) }, n as usize))
            },
            |fd| Some(rustix::io::pwrite(fd, buf, off as u64).map(|n| after(fd, n))),
        );
    };
    let appending = || {
        let (fd, keep) = fx.scratch(O_APPEND);
        assert_eq!(sys::write(fd.as_fd(), b"0123456789"), Ok(10));
        (fd, keep)
    };
    pwrite_case(
        t,
        "pwrite64: at offset 100 (a hole before)",
        Expect::Ok,
        &|| fx.scratch(0),
        b"tail",
        100,
    );
    pwrite_case(
        t,
        "pwrite64: O_APPEND ignores the offset",
        Expect::Ok,
        &appending,
        b"end",
        2,
    );
    pwrite_case(
        t,
        "pwrite64: EINVAL negative offset",
        Expect::Err(Errno::EINVAL),
        &|| fx.scratch(0),
        b"x",
        -5,
    );
    pwrite_case(
        t,
        "pwrite64: EBADF read-only descriptor",
        Expect::Err(Errno::EBADF),
        &|| fx.data(O_RDONLY),
        b"x",
        0,
    );
    fd_case(
        t,
        "pwrite64: ESPIPE on a pipe",
        Expect::Err(Errno::ESPIPE),
        &|| pipe_write_end(true, false),
        |fd| sys::pwrite(fd, b"x", 0),
        |fd| {
            // SAFETY: the one-byte buffer is readable.
            lc(unsafe { libc::pwrite64(fd, b"x".as_ptr().cast(), 1, 0) } as i64).map(|n| n as usize)
        },
        |fd| Some(rustix::io::pwrite(fd, b"x", 0)),
    );

    let no_access = NoAccess::new();
    for (what, ptr) in [("address 8", LOW_PTR), ("PROT_NONE page", no_access.addr())] {
        fd_case(
            t,
            &format!("pread64: EFAULT buffer at {what}"),
            Expect::Err(Errno::EFAULT),
            &|| fx.data(O_RDONLY),
            // SAFETY: the kernel cannot write to `ptr` and fails with EFAULT.
            |fd| unsafe { unchecked::pread64(fd, ptr as *mut u8, 16, 0) },
            |fd| {
                // SAFETY: as above, through the C library.
                lc(unsafe { libc::pread64(fd, ptr as *mut c_void, 16, 0) } as i64)
                    .map(|n| n as usize)
            },
            |_| None,
        );
        fd_case(
            t,
            &format!("pwrite64: EFAULT buffer at {what}"),
            Expect::Err(Errno::EFAULT),
            &|| fx.scratch(0),
            // SAFETY: the kernel cannot read `ptr` and fails with EFAULT.
            |fd| unsafe { unchecked::pwrite64(fd, ptr as *const u8, 16, 0) },
            |fd| {
                // SAFETY: as above, through the C library.
                lc(unsafe { libc::pwrite64(fd, ptr as *const c_void, 16, 0) } as i64)
                    .map(|n| n as usize)
            },
            |_| None,
        );
    }
}

fn lseek(t: &mut Table, fx: &Fixture) {
    use rustix::fs::SeekFrom;
    let len = DATA.len() as i64;
    let file = || fx.data(libc::O_RDONLY);
    let dir = || (util::open(&fx.sub, libc::O_RDONLY), Vec::new());
    let pipe = || pipe_read_end(b"abc", true, 0);
    type Case<'a> = (
        &'a str,
        Expect,
        &'a dyn Fn() -> Prepared,
        i64,
        Whence,
        Option<SeekFrom>,
    );
    let err = Expect::Err;
    let cases: [Case<'_>; 14] = [
        (
            "lseek: SEEK_SET 0",
            Expect::Ok,
            &file,
            0,
            Whence::Set,
            Some(SeekFrom::Start(0)),
        ),
        (
            "lseek: SEEK_SET 10",
            Expect::Ok,
            &file,
            10,
            Whence::Set,
            Some(SeekFrom::Start(10)),
        ),
        (
            "lseek: SEEK_SET past the end",
            Expect::Ok,
            &file,
            1000,
            Whence::Set,
            Some(SeekFrom::Start(1000)),
        ),
        (
            "lseek: SEEK_CUR +3",
            Expect::Ok,
            &file,
            3,
            Whence::Cur,
            Some(SeekFrom::Current(3)),
        ),
        (
            "lseek: SEEK_END 0",
            Expect::Ok,
            &file,
            0,
            Whence::End,
            Some(SeekFrom::End(0)),
        ),
        (
            "lseek: SEEK_END -6",
            Expect::Ok,
            &file,
            -6,
            Whence::End,
            Some(SeekFrom::End(-6)),
        ),
        (
            "lseek: SEEK_DATA 0",
            Expect::Ok,
            &file,
            0,
            Whence::Data,
            Some(SeekFrom::Data(0)),
        ),
        (
            "lseek: SEEK_HOLE 0",
            Expect::Ok,
            &file,
            0,
            Whence::Hole,
            Some(SeekFrom::Hole(0)),
        ),
        (
            "lseek: ENXIO SEEK_DATA at the end",
            err(Errno::ENXIO),
            &file,
            len,
            Whence::Data,
            Some(SeekFrom::Data(len as u64)),
        ),
        (
            "lseek: EINVAL SEEK_SET -1",
            err(Errno::EINVAL),
            &file,
            -1,
            Whence::Set,
            None,
        ),
        (
            "lseek: EINVAL SEEK_CUR -1 at offset 0",
            err(Errno::EINVAL),
            &file,
            -1,
            Whence::Cur,
            Some(SeekFrom::Current(-1)),
        ),
        (
            "lseek: EINVAL SEEK_END before the start",
            err(Errno::EINVAL),
            &file,
            -len - 1,
            Whence::End,
            Some(SeekFrom::End(-len - 1)),
        ),
        (
            "lseek: ESPIPE on a pipe",
            err(Errno::ESPIPE),
            &pipe,
            0,
            Whence::Set,
            Some(SeekFrom::Start(0)),
        ),
        (
            "lseek: a directory",
            Expect::Ok,
            &dir,
            0,
            Whence::Set,
            Some(SeekFrom::Start(0)),
        ),
    ];
    for (name, expect, prep, off, whence, rx) in cases {
        fd_case(
            t,
            name,
            expect,
            prep,
            |fd| sys::lseek(fd, off, whence),
            // SAFETY: lseek only moves the offset of our own descriptor.
            |fd| lc(unsafe { libc::lseek(fd, off, whence as i32) }).map(|n| n as u64),
            |fd| rx.map(|pos| rustix::fs::seek(fd, pos)),
        );
    }
    // A `whence` the `Whence` enum cannot hold, through a wrapper declared on a raw u32.
    for whence in [5u32, 1000, u32::MAX] {
        fd_case(
            t,
            &format!("lseek: EINVAL whence {whence}"),
            Expect::Err(Errno::EINVAL),
            &file,
            // SAFETY: lseek on our own descriptor; the kernel rejects the whence.
            |fd| unsafe { util::lseek_raw(fd.as_raw_fd(), 0, whence) },
            // SAFETY: as above, through the C library.
            |fd| lc(unsafe { libc::lseek(fd, 0, whence as i32) }).map(|n| n as u64),
            |_| None,
        );
    }
}

fn pipe2(t: &mut Table) {
    use rustix::pipe::PipeFlags;
    /// Flags of both ends, and a byte carried from the write end to the read end.
    fn shape_of(fds: (OwnedFd, OwnedFd)) -> ((i32, i32), (i32, i32), Vec<u8>) {
        let (r, w) = fds;
        assert_eq!(sys::write(w.as_fd(), b"p"), Ok(1));
        let mut b = [0u8; 4];
        let n = sys::read(r.as_fd(), &mut b).unwrap();
        (shape(r.as_fd()), shape(w.as_fd()), b[..n].to_vec())
    }
    for (name, flags, expect) in [
        ("pipe2: no flags", 0, Expect::Ok),
        ("pipe2: O_CLOEXEC", libc::O_CLOEXEC, Expect::Ok),
        ("pipe2: O_NONBLOCK", libc::O_NONBLOCK, Expect::Ok),
        (
            "pipe2: O_CLOEXEC|O_NONBLOCK",
            libc::O_CLOEXEC | libc::O_NONBLOCK,
            Expect::Ok,
        ),
        ("pipe2: O_DIRECT (packet mode)", libc::O_DIRECT, Expect::Ok),
        (
            "pipe2: EINVAL O_WRONLY",
            libc::O_WRONLY,
            Expect::Err(Errno::EINVAL),
        ),
        (
            "pipe2: EINVAL O_APPEND",
            libc::O_APPEND,
            Expect::Err(Errno::EINVAL),
        ),
        ("pipe2: EINVAL all bits", -1, Expect::Err(Errno::EINVAL)),
    ] {
        let ours = sys::pipe2(OFlags::from_bits_retain(flags as u32)).map(shape_of);
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for two descriptors.
        let libc = lc(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) }.into()).map(|_| {
            use std::os::fd::FromRawFd;
            // SAFETY: two fresh descriptors nobody owns.
            shape_of(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
        });
        let rustix =
            rustix::pipe::pipe_with(PipeFlags::from_bits_retain(flags as u32)).map(shape_of);
        t.case(name, expect, ours, libc, Some(rustix));
    }
    let no_access = NoAccess::new();
    for (what, ptr) in [("address 8", LOW_PTR), ("PROT_NONE page", no_access.addr())] {
        // SAFETY: the kernel cannot store the descriptors and fails with EFAULT (closing
        // the ones it made).
        let ours = unsafe { unchecked::pipe2(ptr as *mut i32, OFlags::CLOEXEC) };
        // SAFETY: as above, through the C library.
        let libc = lc(unsafe { libc::pipe2(ptr as *mut i32, libc::O_CLOEXEC) }.into()).map(drop);
        t.case(
            &format!("pipe2: EFAULT array at {what}"),
            Expect::Err(Errno::EFAULT),
            ours,
            libc,
            None,
        );
    }
}

/// A fresh pipe (read end, write end), blocking.
fn new_pipe() -> (OwnedFd, OwnedFd) {
    sys::pipe2(OFlags::CLOEXEC).unwrap()
}

fn pipe_sizes(t: &mut Table, fx: &Fixture) {
    // Prepared pipes: the end to resize (`.0`) and whatever must stay open with it.
    type Prep = Box<dyn Fn() -> (OwnedFd, Vec<OwnedFd>)>;
    let write_end: Prep = Box::new(|| {
        let (r, w) = new_pipe();
        (w, vec![r])
    });
    let read_end: Prep = Box::new(|| {
        let (r, w) = new_pipe();
        (r, vec![w])
    });
    let full: Prep = Box::new(|| {
        // 8 KiB waiting in the pipe: it cannot shrink below that.
        let (r, w) = new_pipe();
        assert_eq!(sys::write(w.as_fd(), &[7u8; 8192]), Ok(8192));
        (w, vec![r])
    });
    let data = fx.data.clone();
    let dirfd = fx.dirfd.as_raw_fd();
    let file: Prep = Box::new(move || {
        // SAFETY: `data` is NUL-terminated; the result is a fresh descriptor.
        let fd = lc_fd(unsafe { libc::openat(dirfd, data.as_ptr(), libc::O_RDONLY) }).unwrap();
        (fd, Vec::new())
    });
    let get = |t: &mut Table, name: &str, expect: Expect, prep: &Prep| {
        let (fd, _keep) = prep();
        let ours = sys::pipe_size(fd.as_fd());
        let (fd, _keep) = prep();
        // SAFETY: F_GETPIPE_SZ takes no argument.
        let libc = lc(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) }.into())
            .map(|n| n as usize);
        let (fd, _keep) = prep();
        let rustix = rustix::pipe::fcntl_getpipe_size(&fd);
        t.case(name, expect, ours, libc, Some(rustix));
    };
    get(t, "pipe_size: fresh pipe", Expect::Ok, &write_end);
    get(t, "pipe_size: read end", Expect::Ok, &read_end);
    get(
        t,
        "pipe_size: EBADF regular file",
        Expect::Err(Errno::EBADF),
        &file,
    );
    let set = |t: &mut Table, name: &str, expect: Expect, prep: &Prep, size: usize| {
        // The capacity set, and the capacity read back.
        let (fd, _keep) = prep();
        let ours =
            sys::set_pipe_size(fd.as_fd(), size).map(|n| (n, sys::pipe_size(fd.as_fd()).unwrap()));
        let (fd, _keep) = prep();
        let raw = fd.as_raw_fd();
        // SAFETY: F_GETPIPE_SZ takes no argument.
        let now = || unsafe { libc::fcntl(raw, libc::F_GETPIPE_SZ) } as usize;
        // SAFETY: F_SETPIPE_SZ takes an int.
        let libc = lc(unsafe { libc::fcntl(raw, libc::F_SETPIPE_SZ, size as libc::c_int) }.into())
            .map(|n| (n as usize, now()));
        let (fd, _keep) = prep();
        let rustix = rustix::pipe::fcntl_setpipe_size(&fd, size)
            .map(|n| (n, rustix::pipe::fcntl_getpipe_size(&fd).unwrap()));
        t.case(name, expect, ours, libc, Some(rustix));
    };
    set(t, "set_pipe_size: 1 MiB", Expect::Ok, &write_end, 1 << 20);
    set(
        t,
        "set_pipe_size: 4097 rounds up to 8 KiB",
        Expect::Ok,
        &write_end,
        4097,
    );
    set(
        t,
        "set_pipe_size: 0 gives one page",
        Expect::Ok,
        &read_end,
        0,
    );
    set(
        t,
        "set_pipe_size: EBUSY below the bytes held",
        Expect::Err(Errno::EBUSY),
        &full,
        4096,
    );
    set(
        t,
        "set_pipe_size: EBADF regular file",
        Expect::Err(Errno::EBADF),
        &file,
        1 << 16,
    );
    assert_eq!(
        sys::set_pipe_size(write_end().0.as_fd(), 1 << 20),
        Ok(1 << 20)
    );
    assert_eq!(sys::set_pipe_size(write_end().0.as_fd(), 4097), Ok(8192));
}

fn vmsplice(t: &mut Table, fx: &Fixture) {
    /// Splices `data` into `w` (as one or two iovecs), then reads the pipe dry.
    fn through(r: &OwnedFd, spliced: Result<usize, Errno>) -> Result<(usize, Vec<u8>), Errno> {
        let n = spliced?;
        let mut out = vec![0u8; n];
        let got = sys::read(r.as_fd(), &mut out).unwrap();
        out.truncate(got);
        Ok((n, out))
    }
    let parts: [&[u8]; 2] = [b"hello, ", b"pipe"];
    let iov = [
        std::io::IoSlice::new(parts[0]),
        std::io::IoSlice::new(parts[1]),
    ];
    let libc_iov = parts.map(|p| libc::iovec {
        iov_base: p.as_ptr() as *mut c_void,
        iov_len: p.len(),
    });
    for (name, nr, expect) in [
        ("vmsplice: one iovec", 1, Expect::Ok),
        ("vmsplice: two iovecs", 2, Expect::Ok),
        ("vmsplice: no iovec", 0, Expect::Ok),
    ] {
        let (r, w) = new_pipe();
        // SAFETY: `iov` holds `nr` valid iovecs over `parts`, which outlive the pipe's
        // reading below (the pipe is read dry before `parts` goes away).
        let ours = through(&r, unsafe {
            unchecked::vmsplice(w.as_fd(), iov.as_ptr(), nr, 0)
        });
        let (r, w) = new_pipe();
        // SAFETY: as above, through the C library.
        let libc = lc(unsafe { libc::vmsplice(w.as_raw_fd(), libc_iov.as_ptr(), nr, 0) } as i64)
            .map(|n| n as usize);
        let libc = libc.and_then(|n| through(&r, Ok(n)).map_err(Errno::raw));
        t.case(name, expect, ours, libc, None);
    }
    // On the read end it copies out of the pipe into the iovecs instead.
    let waiting = || {
        let (r, w) = new_pipe();
        assert_eq!(sys::write(w.as_fd(), b"from the pipe"), Ok(13));
        r
    };
    let (r, mut buf) = (waiting(), [0u8; 16]);
    let ours = {
        let out = [std::io::IoSliceMut::new(&mut buf)];
        // SAFETY: one iovec (an `IoSliceMut` has the layout of an `IoSlice`: both are
        // `iovec`) over `buf`, writable for its 16 bytes; 13 bytes wait in the pipe, so
        // the call returns at once.
        unsafe { unchecked::vmsplice(r.as_fd(), out.as_ptr().cast(), 1, 0) }
    };
    let ours = ours.map(|n| buf[..n].to_vec());
    let (r, mut buf) = (waiting(), [0u8; 16]);
    let into = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above, through the C library.
    let libc = lc(unsafe { libc::vmsplice(r.as_raw_fd(), &into, 1, 0) } as i64)
        .map(|n| buf[..n as usize].to_vec());
    t.case(
        "vmsplice: read end copies out of the pipe",
        Expect::Ok,
        ours,
        libc,
        None,
    );
    // Not a pipe: refused.
    // SAFETY: `data` is NUL-terminated; the result is a fresh descriptor.
    let file =
        lc_fd(unsafe { libc::openat(fx.dirfd.as_raw_fd(), fx.data.as_ptr(), libc::O_RDONLY) })
            .unwrap();
    // SAFETY: as above.
    let ours = unsafe { unchecked::vmsplice(file.as_fd(), iov.as_ptr(), 1, 0) };
    // SAFETY: as above.
    let libc = lc(unsafe { libc::vmsplice(file.as_raw_fd(), libc_iov.as_ptr(), 1, 0) } as i64)
        .map(|n| n as usize);
    t.case(
        "vmsplice: EBADF regular file",
        Expect::Err(Errno::EBADF),
        ours,
        libc,
        None,
    );
    // An iovec array the kernel cannot read.
    let (_r, w) = new_pipe();
    // SAFETY: the kernel fails with EFAULT reading the array at page zero.
    let ours =
        unsafe { unchecked::vmsplice(w.as_fd(), LOW_PTR as *const std::io::IoSlice<'_>, 1, 0) };
    // SAFETY: as above.
    let libc =
        lc(unsafe { libc::vmsplice(w.as_raw_fd(), LOW_PTR as *const libc::iovec, 1, 0) } as i64)
            .map(|n| n as usize);
    t.case(
        "vmsplice: EFAULT iovec array at address 8",
        Expect::Err(Errno::EFAULT),
        ours,
        libc,
        None,
    );
}

/// Descriptor numbers a `BorrowedFd` cannot hold or that are not open, through
/// wrappers declared with `sys!` on raw `i32` descriptors.
fn bad_descriptors(t: &mut Table, fx: &Fixture) {
    let closed = closed_fd();
    assert_eq!(closed, CLOSED_FD);
    let ebadf = Expect::Err(Errno::EBADF);
    for (what, fd) in [
        ("-1", -1),
        ("a closed descriptor", closed),
        ("descriptor 2^20", HUGE_FD),
        ("i32::MAX", i32::MAX),
    ] {
        let mut b = [0u8; 8];
        let p = b.as_mut_ptr();
        // Each pair below runs our wrapper, then the C library's, on a descriptor that
        // is not open: nothing is read, written or closed, and `b` is valid anyway. `lc`
        // reads the C library's errno right after its call.
        // SAFETY: see above.
        let transfers = unsafe {
            [
                (
                    "read",
                    util::read_raw(fd, p, 8),
                    lc(libc::read(fd, p.cast(), 8) as i64),
                ),
                (
                    "write",
                    util::write_raw(fd, p, 8),
                    lc(libc::write(fd, p.cast(), 8) as i64),
                ),
                (
                    "pread64",
                    util::pread_raw(fd, p, 8, 0),
                    lc(libc::pread64(fd, p.cast(), 8, 0) as i64),
                ),
                (
                    "pwrite64",
                    util::pwrite_raw(fd, p, 8, 0),
                    lc(libc::pwrite64(fd, p.cast(), 8, 0) as i64),
                ),
            ]
        };
        for (call, ours, libc) in transfers {
            t.case(
                &format!("{call}: EBADF {what}"),
                ebadf,
                ours,
                libc.map(|n| n as usize),
                None,
            );
        }
        // SAFETY: see above.
        let (ours, libc) = unsafe { (util::lseek_raw(fd, 0, 0), lc(libc::lseek(fd, 0, 0))) };
        t.case(
            &format!("lseek: EBADF {what}"),
            ebadf,
            ours,
            libc.map(|n| n as u64),
            None,
        );
        // SAFETY: see above.
        // (rustix asserts that a raw descriptor is not negative.)
        let (ours, libc, rx) = unsafe {
            (
                util::close_raw(fd),
                lc(libc::close(fd).into()),
                (fd >= 0).then(|| rustix::io::try_close(fd)),
            )
        };
        t.case(
            &format!("close: EBADF {what}"),
            ebadf,
            ours,
            libc.map(drop),
            rx,
        );
        // SAFETY: see above; the path is a NUL-terminated literal.
        let (ours, libc) = unsafe {
            (
                util::openat_raw(fd, c"data".as_ptr().cast(), 0, 0).map(drop),
                lc_fd(libc::openat(fd, c"data".as_ptr(), 0)).map(drop),
            )
        };
        t.case(
            &format!("openat: EBADF directory {what}"),
            ebadf,
            ours,
            libc,
            None,
        );
    }
    // An absolute path ignores the directory descriptor entirely, even -1.
    let path = fx.data.clone();
    // SAFETY: `path` is NUL-terminated; -1 is never used for an absolute path.
    let ours = unsafe { util::openat_raw(-1, path.as_ptr().cast(), 0, 0) }.map(drop);
    // SAFETY: as above.
    let libc = lc_fd(unsafe { libc::openat(-1, path.as_ptr(), 0) }).map(drop);
    t.case(
        "openat: absolute path with dirfd -1",
        Expect::Ok,
        ours,
        libc,
        None,
    );
}

/// `poll` on pipe ends, empty and full, read and write, closed peer: the count and
/// every `revents` agree with libc's and rustix's.
fn poll(t: &mut Table) {
    use sys::{PollFd, PollFlags};
    // (name, write a byte first, close the writer, events asked of the read end)
    let cases: [(&str, bool, bool, i16); 5] = [
        ("poll: empty pipe, POLLIN", false, false, libc::POLLIN),
        ("poll: a byte waiting, POLLIN", true, false, libc::POLLIN),
        ("poll: writer closed, POLLIN", false, true, libc::POLLIN),
        (
            "poll: a byte, POLLIN|POLLPRI|POLLRDHUP",
            true,
            false,
            libc::POLLIN | libc::POLLPRI | libc::POLLRDHUP,
        ),
        ("poll: nothing asked", true, false, 0),
    ];
    for (name, byte, close_w, events) in cases {
        let prep = || {
            let (r, w) = util::pipe(libc::O_CLOEXEC);
            if byte {
                assert_eq!(sys::write(w.as_fd(), b"x"), Ok(1));
            }
            (r, (!close_w).then_some(w))
        };
        let (r, _w) = prep();
        let mut fds = [PollFd::new(r.as_fd(), PollFlags::from_bits_retain(events))];
        let ours = sys::poll(&mut fds, 0).map(|n| (n, fds[0].revents().bits()));
        let (r, _w) = prep();
        let mut p = libc::pollfd {
            fd: r.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let libc =
            lc(i64::from(unsafe { libc::poll(&mut p, 1, 0) })).map(|n| (n as usize, p.revents));
        let (r, _w) = prep();
        let mut rfds = [rustix::event::PollFd::from_borrowed_fd(
            r.as_fd(),
            rustix::event::PollFlags::from_bits_retain(events as u16),
        )];
        let zero = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let rustix = rustix::event::poll(&mut rfds, Some(&zero))
            .map(|n| (n, rfds[0].revents().bits() as i16));
        t.case(name, Expect::Ok, ours, libc, Some(rustix));
    }
    // Writing end: POLLOUT when there is room.
    let (r, w) = util::pipe(libc::O_CLOEXEC);
    let mut fds = [PollFd::new(w.as_fd(), PollFlags::OUT)];
    let ours = sys::poll(&mut fds, 0).map(|n| (n, fds[0].revents().bits()));
    let mut p = libc::pollfd {
        fd: w.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let libc = lc(i64::from(unsafe { libc::poll(&mut p, 1, 0) })).map(|n| (n as usize, p.revents));
    t.case(
        "poll: write end with room, POLLOUT",
        Expect::Ok,
        ours,
        libc,
        None,
    );
    drop(r);
}
