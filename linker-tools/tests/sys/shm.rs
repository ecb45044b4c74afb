//! The SysV shared-memory four: `shmget`, `shmat`, `shmdt`, `shmctl` (rustix has no
//! SysV IPC, so the C library is the only reference).

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

use linker_tools::sys::{Errno, unchecked};

use crate::table::{Expect, Outcome, Table};
use crate::util::{LOW_PTR, NoAccess, errno, lc};

/// A segment this test created: removed with `IPC_RMID` when dropped, whatever
/// happened in between (removing an already removed one fails harmlessly).
pub(crate) struct Segment(pub(crate) i32);

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: IPC_RMID takes no buffer.
        unsafe { libc::shmctl(self.0, libc::IPC_RMID, ptr::null_mut()) };
    }
}

/// Creates a segment through libc (setup, not under test).
pub(crate) fn create(key: i32, size: usize, mode: i32) -> Segment {
    // SAFETY: shmget takes plain integers.
    let id = unsafe { libc::shmget(key, size, libc::IPC_CREAT | libc::IPC_EXCL | mode) };
    assert!(id >= 0, "shmget: {}", std::io::Error::last_os_error());
    Segment(id)
}

/// A key no segment uses right now.
pub(crate) fn unused_key() -> i32 {
    static SEQ: AtomicI32 = AtomicI32::new(0);
    loop {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let key = 0x4c4e_0000_u32 as i32 ^ ((std::process::id() as i32 & 0xfff) << 4) ^ n;
        if key != libc::IPC_PRIVATE
            // SAFETY: shmget takes plain integers; without IPC_CREAT nothing is created.
            && unsafe { libc::shmget(key, 0, 0) } == -1
            && errno() == libc::ENOENT
        {
            return key;
        }
    }
}

/// (size, permission bits, attachments, creator pid) of a segment, or its errno.
fn stat(id: i32) -> Outcome<(usize, u32, u64, i32)> {
    // SAFETY: shmid_ds is plain old data; all zeroes is a valid value.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: `ds` is a valid, writable shmid_ds.
    lc(unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) }.into()).map(|_| {
        (
            ds.shm_segsz,
            u32::from(ds.shm_perm.mode) & 0o777,
            ds.shm_nattch,
            ds.shm_cpid,
        )
    })
}

fn ours_shmget(key: i32, size: usize, flags: i32) -> Result<i32, Errno> {
    linker_tools::sys::shmget(key, size, flags)
}

fn libc_shmget(key: i32, size: usize, flags: i32) -> Outcome<i32> {
    // SAFETY: shmget takes plain integers.
    lc(unsafe { libc::shmget(key, size, flags) }.into()).map(|id| id as i32)
}

pub(crate) fn cases(t: &mut Table) {
    shmget(t);
    attach(t);
    shmctl(t);
}

fn shmget(t: &mut Table) {
    use libc::{IPC_CREAT as CREAT, IPC_EXCL as EXCL, IPC_PRIVATE as PRIVATE};
    let new = |t: &mut Table, name: &str, key: &dyn Fn() -> i32, size: usize, flags: i32| {
        // Guard each segment the moment it exists.
        let ours = ours_shmget(key(), size, flags).map(Segment);
        let libc = libc_shmget(key(), size, flags).map(Segment);
        let shape = |s: Result<Segment, i32>| s.and_then(|s| stat(s.0));
        let ours = shape(ours.map_err(Errno::raw));
        let libc = shape(libc);
        t.record(name, Expect::Ok, ours, libc, None);
    };
    new(
        t,
        "shmget: IPC_PRIVATE, one page, mode 0600",
        &|| PRIVATE,
        4096,
        CREAT | 0o600,
    );
    new(
        t,
        "shmget: IPC_PRIVATE, 100 bytes, mode 0644",
        &|| PRIVATE,
        100,
        CREAT | 0o644,
    );
    new(
        t,
        "shmget: a new key, IPC_CREAT|IPC_EXCL",
        &unused_key,
        8192,
        CREAT | EXCL | 0o640,
    );

    let key = unused_key();
    let existing = create(key, 4096, 0o600);
    t.case(
        "shmget: an existing key returns its id",
        Expect::Ok,
        ours_shmget(key, 0, 0),
        libc_shmget(key, 0, 0),
        None,
    );
    assert_eq!(ours_shmget(key, 4096, 0o600), Ok(existing.0));
    let missing = unused_key();
    #[rustfmt::skip]
    let failures: [(&str, Errno, i32, usize, i32); 6] = [
        ("shmget: ENOENT a missing key without IPC_CREAT", Errno::ENOENT, missing, 4096, 0o600),
        ("shmget: EEXIST IPC_CREAT|IPC_EXCL on an existing key", Errno::EEXIST, key, 4096, CREAT | EXCL | 0o600),
        ("shmget: EINVAL size 0", Errno::EINVAL, PRIVATE, 0, CREAT | 0o600),
        ("shmget: EINVAL an existing key, larger size", Errno::EINVAL, key, 1 << 20, 0o600),
        ("shmget: EINVAL size beyond SHMMAX", Errno::EINVAL, PRIVATE, usize::MAX, CREAT | 0o600),
        ("shmget: EINVAL a size that overflows page rounding", Errno::EINVAL, PRIVATE, usize::MAX - 100, CREAT | 0o600),
    ];
    for (name, errno, key, size, flags) in failures {
        // A success would be a bug; guard it all the same.
        let ours = ours_shmget(key, size, flags).map(|id| Segment(id).0 != existing.0);
        let libc = libc_shmget(key, size, flags).map(|id| Segment(id).0 != existing.0);
        t.case(name, Expect::Err(errno), ours, libc, None);
    }
}

fn ours_shmat(id: i32, addr: usize, flags: i32) -> Result<*mut c_void, Errno> {
    // SAFETY: no case attaches over memory in use: addresses are null (the kernel
    // picks) or rejected; SHM_REMAP is only used with a null address, which fails.
    unsafe { unchecked::shmat(id, addr as *const c_void, flags) }
}

fn libc_shmat(id: i32, addr: usize, flags: i32) -> Outcome<*mut c_void> {
    // SAFETY: as for `ours_shmat`, through the C library.
    let p = unsafe { libc::shmat(id, addr as *const c_void, flags) };
    if p as isize == -1 {
        Err(errno())
    } else {
        Ok(p)
    }
}

fn attach(t: &mut Table) {
    let seg = create(libc::IPC_PRIVATE, 4096, 0o600);
    // Attach through ours, write; attach through libc, read the same byte back.
    let ours = ours_shmat(seg.0, 0, 0);
    if let Ok(p) = ours {
        // SAFETY: a fresh read-write attachment of a page-sized segment.
        unsafe { p.cast::<u8>().write(0x5a) };
    }
    let libc = libc_shmat(seg.0, 0, 0);
    let look = |p: &*mut c_void| {
        // SAFETY: a live attachment of a page-sized segment.
        (*p as usize % 4096 == 0, unsafe { p.cast::<u8>().read() })
    };
    t.record(
        "shmat: read-write, anywhere",
        Expect::Ok,
        ours.as_ref().map(look).map_err(|e| e.raw()),
        libc.as_ref().map(look).map_err(|e| *e),
        None,
    );
    assert_eq!(stat(seg.0).map(|s| s.2), Ok(2), "two attachments");
    let ro_ours = ours_shmat(seg.0, 0, libc::SHM_RDONLY);
    let ro_libc = libc_shmat(seg.0, 0, libc::SHM_RDONLY);
    t.record(
        "shmat: SHM_RDONLY sees the same bytes",
        Expect::Ok,
        ro_ours.as_ref().map(look).map_err(|e| e.raw()),
        ro_libc.as_ref().map(look).map_err(|e| *e),
        None,
    );
    for (name, ours, libc) in [
        ("shmdt: a read-write attachment", ours, libc),
        ("shmdt: a read-only attachment", ro_ours, ro_libc),
    ] {
        let (Ok(o), Ok(l)) = (ours, libc) else {
            panic!("{name}: attach failed")
        };
        // SAFETY: nothing uses the attachment afterwards.
        let ours = unsafe { unchecked::shmdt(o) };
        // SAFETY: as above.
        let libc = lc(unsafe { libc::shmdt(l) }.into()).map(drop);
        t.case(name, Expect::Ok, ours, libc, None);
    }
    assert_eq!(stat(seg.0).map(|s| s.2), Ok(0), "all detached");

    let removed = create(libc::IPC_PRIVATE, 4096, 0o600);
    let removed_id = removed.0;
    drop(removed);
    let no_access = NoAccess::new();
    #[rustfmt::skip]
    let failures: [(&str, i32, usize, i32); 5] = [
        ("shmat: EINVAL id -1", -1, 0, 0),
        ("shmat: EINVAL a removed segment", removed_id, 0, 0),
        ("shmat: EINVAL unaligned address without SHM_RND", seg.0, 0x7000_0000_1001, 0),
        ("shmat: EINVAL SHM_REMAP with a null address", seg.0, 0, libc::SHM_REMAP),
        ("shmat: EINVAL SHM_RND|SHM_REMAP below one SHMLBA", seg.0, 0x10, libc::SHM_RND | libc::SHM_REMAP),
    ];
    for (name, id, addr, flags) in failures {
        let ours = ours_shmat(id, addr, flags);
        let libc = libc_shmat(id, addr, flags);
        // A success would be a bug; detach it all the same.
        for p in [ours.ok(), libc.ok()].into_iter().flatten() {
            // SAFETY: an attachment nothing references.
            unsafe { libc::shmdt(p) };
        }
        t.record(
            name,
            Expect::Err(Errno::EINVAL),
            ours.map(drop).map_err(Errno::raw),
            libc.map(drop),
            None,
        );
    }
    for (what, addr) in [
        ("an address with no attachment", no_access.addr()),
        ("an unaligned address", no_access.addr() + 1),
        ("address 8", LOW_PTR),
    ] {
        // SAFETY: nothing is attached at `addr`: the kernel detaches nothing.
        let ours = unsafe { unchecked::shmdt(addr as *const c_void) };
        // SAFETY: as above.
        let libc = lc(unsafe { libc::shmdt(addr as *const c_void) }.into()).map(drop);
        t.case(
            &format!("shmdt: EINVAL {what}"),
            Expect::Err(Errno::EINVAL),
            ours,
            libc,
            None,
        );
    }
}

fn shmctl(t: &mut Table) {
    let seg = create(libc::IPC_PRIVATE, 12288, 0o640);
    let stat_of = |ds: &libc::shmid_ds| {
        (
            ds.shm_segsz,
            u32::from(ds.shm_perm.mode) & 0o777,
            ds.shm_nattch,
            ds.shm_cpid,
            ds.shm_perm.uid,
        )
    };
    // SAFETY: shmid_ds is plain old data; all zeroes is a valid value.
    let (mut a, mut b): (libc::shmid_ds, libc::shmid_ds) =
        unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    // SAFETY: `a` is a writable shmid_ds, the x86_64 kernel's `struct shmid64_ds`.
    let ours = unsafe { unchecked::shmctl(seg.0, libc::IPC_STAT, (&raw mut a).cast()) }
        .map(|_| stat_of(&a));
    // SAFETY: `b` is a writable shmid_ds.
    let libc =
        lc(unsafe { libc::shmctl(seg.0, libc::IPC_STAT, &mut b) }.into()).map(|_| stat_of(&b));
    assert_eq!(ours.map(|s| (s.0, s.1)), Ok((12288, 0o640)));
    t.case("shmctl: IPC_STAT", Expect::Ok, ours, libc, None);

    // IPC_SET on a copy of the stat with a new mode, each implementation on its own segment.
    let set = |id: i32, through_libc: bool| {
        // SAFETY: shmid_ds is plain old data; all zeroes is a valid value.
        let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
        // SAFETY: `ds` is a writable shmid_ds.
        assert_eq!(unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) }, 0);
        ds.shm_perm.mode = 0o604;
        let r = if through_libc {
            // SAFETY: `ds` is a valid shmid_ds for IPC_SET to read.
            lc(unsafe { libc::shmctl(id, libc::IPC_SET, &mut ds) }.into()).map(|_| 0)
        } else {
            // SAFETY: as above.
            unsafe { unchecked::shmctl(id, libc::IPC_SET, (&raw mut ds).cast()) }
                .map_err(Errno::raw)
        };
        r.and_then(|_| stat(id)).map(|s| s.1)
    };
    let (s1, s2) = (
        create(libc::IPC_PRIVATE, 4096, 0o600),
        create(libc::IPC_PRIVATE, 4096, 0o600),
    );
    t.record(
        "shmctl: IPC_SET a new mode",
        Expect::Ok,
        set(s1.0, false),
        set(s2.0, true),
        None,
    );

    // IPC_INFO fills a `struct shminfo64` (shmmax, shmmin, shmmni, shmseg, shmall, …);
    // its return value (the highest index in use) changes with other processes.
    let (mut ia, mut ib) = ([0u64; 16], [0u64; 16]);
    // SAFETY: a 128-byte buffer is larger than struct shminfo64.
    let ours = unsafe { unchecked::shmctl(0, libc::IPC_INFO, ia.as_mut_ptr().cast()) }
        .map(|_| ia[..5].to_vec());
    // SAFETY: as above.
    let libc = lc(unsafe { libc::shmctl(0, libc::IPC_INFO, ib.as_mut_ptr().cast()) }.into())
        .map(|_| ib[..5].to_vec());
    t.case("shmctl: IPC_INFO limits", Expect::Ok, ours, libc, None);

    let no_access = NoAccess::new();
    let removed = create(libc::IPC_PRIVATE, 4096, 0o600);
    let removed_id = removed.0;
    drop(removed);
    #[rustfmt::skip]
    let failures: [(&str, Errno, i32, i32, usize); 8] = [
        ("shmctl: EINVAL IPC_STAT of id -1", Errno::EINVAL, -1, libc::IPC_STAT, 0),
        ("shmctl: EINVAL IPC_STAT of a removed segment", Errno::EINVAL, removed_id, libc::IPC_STAT, 0),
        ("shmctl: EINVAL IPC_RMID of a removed segment", Errno::EINVAL, removed_id, libc::IPC_RMID, 0),
        ("shmctl: EINVAL unknown command 999", Errno::EINVAL, seg.0, 999, 0),
        ("shmctl: EINVAL negative command", Errno::EINVAL, seg.0, -1, 0),
        ("shmctl: EFAULT IPC_STAT into address 8", Errno::EFAULT, seg.0, libc::IPC_STAT, LOW_PTR),
        ("shmctl: EFAULT IPC_STAT into a PROT_NONE page", Errno::EFAULT, seg.0, libc::IPC_STAT, no_access.addr()),
        ("shmctl: EFAULT IPC_SET from address 8", Errno::EFAULT, seg.0, libc::IPC_SET, LOW_PTR),
    ];
    for (name, errno, id, cmd, buf) in failures {
        // SAFETY: `buf` is null or an address the kernel cannot access: nothing is
        // written; the commands fail before touching any segment.
        let ours = unsafe { unchecked::shmctl(id, cmd, buf as *mut c_void) };
        // SAFETY: as above, through the C library.
        let libc = lc(unsafe { libc::shmctl(id, cmd, buf as *mut libc::shmid_ds) }.into())
            .map(|r| r as i32);
        t.case(name, Expect::Err(errno), ours, libc, None);
    }

    // Removal, each implementation on its own segment (the guards then find them gone).
    let (r1, r2) = (
        create(libc::IPC_PRIVATE, 4096, 0o600),
        create(libc::IPC_PRIVATE, 4096, 0o600),
    );
    // SAFETY: IPC_RMID takes no buffer.
    let ours = unsafe { unchecked::shmctl(r1.0, libc::IPC_RMID, ptr::null_mut()) };
    // SAFETY: as above.
    let libc =
        lc(unsafe { libc::shmctl(r2.0, libc::IPC_RMID, ptr::null_mut()) }.into()).map(|r| r as i32);
    t.case("shmctl: IPC_RMID", Expect::Ok, ours, libc, None);
    assert_eq!(stat(r1.0), Err(libc::EINVAL), "removed");
}
