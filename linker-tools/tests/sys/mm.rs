//! Memory mappings: `mmap`, `munmap`, `mremap`.

use std::ffi::c_void;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::ptr;

use linker_tools::sys::{self, Errno, MapFlags, MremapFlags, ProtFlags};
use rustix::mm as rm;

use crate::table::{Expect, Outcome, Table};
use crate::util::{self, KERNEL_PTR, NoAccess, TempDir, errno};

const PAGE: usize = 4096;
const DATA: &[u8] = b"mapped file contents";

/// A fresh anonymous read-write mapping made with libc (setup), its first byte 7.
fn map(len: usize) -> usize {
    // SAFETY: a fresh anonymous mapping replaces nothing.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(
        p,
        libc::MAP_FAILED,
        "mmap: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: the mapping is writable and at least one byte long.
    unsafe { p.cast::<u8>().write(7) };
    p as usize
}

/// Unmaps a range this test mapped.
fn unmap(addr: usize, len: usize) {
    // SAFETY: callers pass only ranges they mapped and no longer use.
    assert_eq!(unsafe { libc::munmap(addr as *mut c_void, len) }, 0);
}

/// What a new mapping looks like (page-aligned; its first bytes, after writing 42 to
/// the first if it is writable); then unmaps it.
fn inspect(p: *mut c_void, len: usize, prot: i32) -> (bool, Vec<u8>) {
    let aligned = p as usize % PAGE == 0;
    let mut head = Vec::new();
    if prot & libc::PROT_WRITE != 0 {
        // SAFETY: the mapping was just made writable, at least one byte long, and is
        // referenced by nothing else.
        unsafe { p.cast::<u8>().write(42) };
    }
    if prot & libc::PROT_READ != 0 {
        // SAFETY: the mapping is readable and at least one page long.
        head = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), 8) }.to_vec();
    }
    unmap(p as usize, len);
    (aligned, head)
}

fn libc_map(p: *mut c_void) -> Outcome<*mut c_void> {
    if p == libc::MAP_FAILED {
        Err(errno())
    } else {
        Ok(p)
    }
}

pub(crate) fn cases(t: &mut Table) {
    mmap(t);
    munmap(t);
    mremap(t);
}

#[allow(clippy::too_many_arguments)]
fn mmap_case(
    t: &mut Table,
    name: &str,
    expect: Expect,
    addr: usize,
    len: usize,
    prot: i32,
    flags: i32,
    fd: Option<BorrowedFd<'_>>,
    offset: u64,
) {
    let a = addr as *mut c_void;
    // SAFETY: no case maps with MAP_FIXED over memory in use: fixed addresses here are
    // either rejected (unaligned, NOREPLACE over an existing mapping) or absent.
    let ours = unsafe {
        sys::mmap(
            a,
            len,
            ProtFlags::from_bits_retain(prot as u32),
            MapFlags::from_bits_retain(flags as u32),
            fd,
            offset,
        )
    };
    let ours = ours.map(|p| inspect(p, len, prot));
    let raw_fd = fd.map_or(-1, |fd| fd.as_raw_fd());
    // SAFETY: as above, through the C library.
    let libc = libc_map(unsafe { libc::mmap(a, len, prot, flags, raw_fd, offset as i64) })
        .map(|p| inspect(p, len, prot));
    let rprot = rm::ProtFlags::from_bits_retain(prot as u32);
    let rflags = rm::MapFlags::from_bits_retain(flags as u32 & !(libc::MAP_ANONYMOUS as u32));
    let rustix = if flags & libc::MAP_ANONYMOUS != 0 {
        // SAFETY: as above, through rustix.
        Some(unsafe { rm::mmap_anonymous(a, len, rprot, rflags) })
    } else {
        // SAFETY: as above, through rustix.
        fd.map(|fd| unsafe { rm::mmap(a, len, rprot, rflags, fd, offset) })
    };
    let rustix = rustix.map(|r| r.map(|p| inspect(p, len, prot)));
    t.case(name, expect, ours, libc, rustix);
}

fn mmap(t: &mut Table) {
    use libc::{
        MAP_ANONYMOUS as ANON, MAP_PRIVATE as PRIV, MAP_SHARED as SHARED, PROT_READ as R,
        PROT_WRITE as W,
    };
    let dir = TempDir::new("sys-mm");
    std::fs::write(dir.path().join("data"), DATA).unwrap();
    let rdonly = util::open(&dir.c("data"), libc::O_RDONLY);
    let wronly = util::open(&dir.c("data"), libc::O_WRONLY);
    let dirfd = util::open(&dir.c("."), libc::O_RDONLY | libc::O_DIRECTORY);
    let (pipe_r, _pipe_w) = util::pipe(0);
    let taken = NoAccess::new();
    let (f, wo, d, p) = (
        Some(rdonly.as_fd()),
        Some(wronly.as_fd()),
        Some(dirfd.as_fd()),
        Some(pipe_r.as_fd()),
    );
    let err = Expect::Err;
    #[rustfmt::skip]
    /// (name, expectation, addr, len, prot, flags, fd, offset)
    type Case<'a> = (&'a str, Expect, usize, usize, i32, i32, Option<BorrowedFd<'a>>, u64);
    let cases: [Case<'_>; 17] = [
        (
            "mmap: anonymous private read-write",
            Expect::Ok,
            0,
            PAGE,
            R | W,
            PRIV | ANON,
            None,
            0,
        ),
        (
            "mmap: anonymous shared read-write",
            Expect::Ok,
            0,
            4 * PAGE,
            R | W,
            SHARED | ANON,
            None,
            0,
        ),
        (
            "mmap: anonymous PROT_NONE",
            Expect::Ok,
            0,
            PAGE,
            0,
            PRIV | ANON,
            None,
            0,
        ),
        (
            "mmap: a file, private read-only",
            Expect::Ok,
            0,
            PAGE,
            R,
            PRIV,
            f,
            0,
        ),
        (
            "mmap: a file, private copy-on-write",
            Expect::Ok,
            0,
            PAGE,
            R | W,
            PRIV,
            f,
            0,
        ),
        (
            "mmap: a file, PROT_NONE at an offset past its end",
            Expect::Ok,
            0,
            PAGE,
            0,
            PRIV,
            f,
            PAGE as u64,
        ),
        (
            "mmap: EINVAL length 0",
            err(Errno::EINVAL),
            0,
            0,
            R,
            PRIV | ANON,
            None,
            0,
        ),
        (
            "mmap: EINVAL neither shared nor private",
            err(Errno::EINVAL),
            0,
            PAGE,
            R,
            ANON,
            None,
            0,
        ),
        (
            "mmap: EINVAL unaligned MAP_FIXED address",
            err(Errno::EINVAL),
            taken.addr() + 1,
            PAGE,
            R,
            PRIV | ANON | libc::MAP_FIXED,
            None,
            0,
        ),
        (
            "mmap: EINVAL unaligned file offset",
            err(Errno::EINVAL),
            0,
            PAGE,
            R,
            PRIV,
            f,
            100,
        ),
        (
            "mmap: EBADF file mapping without a descriptor",
            err(Errno::EBADF),
            0,
            PAGE,
            R,
            PRIV,
            None,
            0,
        ),
        (
            "mmap: EACCES shared writable map of a read-only fd",
            err(Errno::EACCES),
            0,
            PAGE,
            R | W,
            SHARED,
            f,
            0,
        ),
        (
            "mmap: EACCES map of a write-only fd",
            err(Errno::EACCES),
            0,
            PAGE,
            R,
            PRIV,
            wo,
            0,
        ),
        (
            "mmap: ENODEV a pipe",
            err(Errno::ENODEV),
            0,
            PAGE,
            R,
            PRIV,
            p,
            0,
        ),
        (
            "mmap: ENODEV a directory",
            err(Errno::ENODEV),
            0,
            PAGE,
            R,
            PRIV,
            d,
            0,
        ),
        (
            "mmap: EEXIST MAP_FIXED_NOREPLACE over a mapping",
            err(Errno::EEXIST),
            taken.addr(),
            PAGE,
            R,
            PRIV | ANON | libc::MAP_FIXED_NOREPLACE,
            None,
            0,
        ),
        (
            "mmap: ENOMEM 2^62 bytes",
            err(Errno::ENOMEM),
            0,
            1 << 62,
            R,
            PRIV | ANON,
            None,
            0,
        ),
    ];
    for (name, expect, addr, len, prot, flags, fd, offset) in cases {
        mmap_case(t, name, expect, addr, len, prot, flags, fd, offset);
    }
}

fn munmap(t: &mut Table) {
    // (name, expect, pages to map, offset of the range, its length)
    let cases: [(&str, Expect, usize, usize, usize); 5] = [
        ("munmap: a whole mapping", Expect::Ok, 2, 0, 2 * PAGE),
        (
            "munmap: the second page of a mapping",
            Expect::Ok,
            2,
            PAGE,
            PAGE,
        ),
        (
            "munmap: EINVAL unaligned address",
            Expect::Err(Errno::EINVAL),
            1,
            1,
            PAGE,
        ),
        (
            "munmap: EINVAL length 0",
            Expect::Err(Errno::EINVAL),
            1,
            0,
            0,
        ),
        ("munmap: length not page-rounded", Expect::Ok, 1, 0, 100),
    ];
    for (name, expect, pages, off, len) in cases {
        let run = |f: &dyn Fn(*mut c_void) -> Outcome<()>| {
            let base = map(pages * PAGE);
            let r = f((base + off) as *mut c_void);
            // Unmap what is left: everything after a failure, the rest after success.
            match r {
                Err(_) => unmap(base, pages * PAGE),
                Ok(()) if off > 0 => unmap(base, off),
                Ok(()) => {
                    let rest = (len.div_ceil(PAGE)) * PAGE;
                    if rest < pages * PAGE {
                        unmap(base + rest, pages * PAGE - rest);
                    }
                }
            }
            r
        };
        // SAFETY: each range lies in a mapping made just now for this call alone.
        let ours = run(&|p| unsafe { sys::munmap(p, len) }.map_err(Errno::raw));
        // SAFETY: as above.
        let libc = run(&|p| crate::util::lc(unsafe { libc::munmap(p, len) }.into()).map(drop));
        // SAFETY: as above.
        let rustix = run(&|p| unsafe { rm::munmap(p, len) }.map_err(|e| e.raw_os_error()));
        t.record(name, expect, ours, libc, Some(rustix));
    }
    // Ranges reaching into the kernel's half are rejected before anything is unmapped.
    // SAFETY: the kernel rejects the range; nothing is unmapped.
    let ours = unsafe { sys::munmap(KERNEL_PTR as *mut c_void, PAGE) };
    // SAFETY: as above.
    let libc =
        crate::util::lc(unsafe { libc::munmap(KERNEL_PTR as *mut c_void, PAGE) }.into()).map(drop);
    // SAFETY: as above.
    let rustix = unsafe { rm::munmap(KERNEL_PTR as *mut c_void, PAGE) };
    t.case(
        "munmap: EINVAL kernel address",
        Expect::Err(Errno::EINVAL),
        ours,
        libc,
        Some(rustix),
    );
}

fn mremap(t: &mut Table) {
    // (name, expect, pages to map, address offset, old_len, new_len, flags)
    #[rustfmt::skip]
    let cases: [(&str, Expect, usize, usize, usize, usize, u32); 8] = [
        ("mremap: grow with MREMAP_MAYMOVE", Expect::Ok, 1, 0, PAGE, 3 * PAGE, 1),
        ("mremap: shrink in place", Expect::Ok, 2, 0, 2 * PAGE, PAGE, 0),
        ("mremap: same size", Expect::Ok, 1, 0, PAGE, PAGE, 0),
        ("mremap: EINVAL unaligned address", Expect::Err(Errno::EINVAL), 1, 1, PAGE, 2 * PAGE, 1),
        ("mremap: EINVAL new length 0", Expect::Err(Errno::EINVAL), 1, 0, PAGE, 0, 1),
        ("mremap: EINVAL MREMAP_FIXED without MREMAP_MAYMOVE", Expect::Err(Errno::EINVAL), 1, 0, PAGE, PAGE, 2),
        ("mremap: EINVAL unknown flag", Expect::Err(Errno::EINVAL), 1, 0, PAGE, 2 * PAGE, 8),
        ("mremap: ENOMEM grow in place into the rest of its mapping", Expect::Err(Errno::ENOMEM), 2, 0, PAGE, 2 * PAGE, 0),
    ];
    for (name, expect, pages, off, old_len, new_len, flags) in cases {
        let run = |f: &dyn Fn(*mut c_void) -> Outcome<*mut c_void>| {
            let base = map(pages * PAGE);
            let r = f((base + off) as *mut c_void);
            match r {
                // Every success case remaps the whole mapping: only the new one is left.
                Ok(p) => {
                    // SAFETY: the first byte was moved along with the mapping.
                    let first = unsafe { p.cast::<u8>().read() };
                    unmap(p as usize, new_len);
                    // Whether a MAYMOVE growth moves depends on the neighbours: only
                    // calls that may not move report where the mapping ended up.
                    let in_place = (flags & 1 == 0).then_some(p as usize == base);
                    Ok((in_place, first))
                }
                Err(e) => {
                    unmap(base, pages * PAGE);
                    Err(e)
                }
            }
        };
        // Each call remaps only a mapping made just now for it alone, and no reference
        // into the old range is used afterwards.
        let ours = run(&|p| {
            // SAFETY: see above; MREMAP_FIXED is never combined with MAYMOVE here, so
            // `new_addr` is never used.
            unsafe {
                sys::mremap(
                    p,
                    old_len,
                    new_len,
                    MremapFlags::from_bits_retain(flags),
                    ptr::null_mut(),
                )
            }
            .map_err(Errno::raw)
        });
        let libc = run(&|p| {
            // SAFETY: as above, through the C library.
            libc_map(unsafe {
                libc::mremap(p, old_len, new_len, flags as i32, ptr::null_mut::<c_void>())
            })
        });
        let rustix = run(&|p| {
            // SAFETY: as above, through rustix.
            unsafe {
                rm::mremap(
                    p,
                    old_len,
                    new_len,
                    rm::MremapFlags::from_bits_retain(flags),
                )
            }
            .map_err(|e| e.raw_os_error())
        });
        t.record(name, expect, ours, libc, Some(rustix));
    }
    // Nothing is mapped at 0x1000 (the lowest pages are never handed out by mmap).
    let a = 0x1000 as *mut c_void;
    // SAFETY: there is no mapping at `a`; the kernel fails with EFAULT.
    let ours = unsafe { sys::mremap(a, PAGE, 2 * PAGE, MremapFlags::empty(), ptr::null_mut()) };
    // SAFETY: as above.
    let libc = libc_map(unsafe { libc::mremap(a, PAGE, 2 * PAGE, 0) });
    // SAFETY: as above.
    let rustix = unsafe { rm::mremap(a, PAGE, 2 * PAGE, rm::MremapFlags::empty()) };
    t.case(
        "mremap: EFAULT nothing mapped there",
        Expect::Err(Errno::EFAULT),
        ours.map(drop),
        libc.map(drop),
        Some(rustix.map(drop)),
    );
}
