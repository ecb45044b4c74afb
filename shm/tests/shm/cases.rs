//! The cases: the semantics the Linux Test Project checks for `shmget`, `shmat`,
//! `shmdt` and `shmctl`, plus the safe layer's own promises.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::mem::{offset_of, size_of};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use linker_tools::sys::{self, Errno, MapFlags, ProtFlags};
use shm::sysv::{self, AtFlags, Command, GetFlags, HugePageSize, Shmid64Ds};
use shm::{Access, AttachOptions, ErrorKind, Id, Key, Mode, Segment};

use crate::support::{
    self, Exit, NOBODY, Pipe, drop_privileges, finish_helper, fork, fork_ok, fresh_key, guard,
    no_core_dumps, private, spawn_helper,
};
use crate::{Case, check};

pub(crate) const ALL: &[Case] = &[
    ("layout_matches_libc", layout_matches_libc),
    ("constants_match_linux", constants_match_linux),
    (
        "ipc_stat_agrees_with_libc_shmctl",
        ipc_stat_agrees_with_libc_shmctl,
    ),
    ("ftok_matches_glibc", ftok_matches_glibc),
    ("create_stat_open_attach", create_stat_open_attach),
    ("size_below_shmmin_is_einval", size_below_shmmin_is_einval),
    ("size_above_shmmax_is_einval", size_above_shmmax_is_einval),
    (
        "size_larger_than_existing_is_einval",
        size_larger_than_existing_is_einval,
    ),
    (
        "exclusive_create_of_existing_key_is_eexist",
        exclusive_create_of_existing_key_is_eexist,
    ),
    (
        "open_without_create_is_enoent",
        open_without_create_is_enoent,
    ),
    (
        "unprivileged_caller_gets_eacces",
        unprivileged_caller_gets_eacces,
    ),
    ("removed_segment_is_gone", removed_segment_is_gone),
    (
        "write_through_read_only_attach_faults",
        write_through_read_only_attach_faults,
    ),
    ("shm_rnd_rounds_to_shmlba", shm_rnd_rounds_to_shmlba),
    ("shm_remap_replaces_a_mapping", shm_remap_replaces_a_mapping),
    ("shm_exec_maps_executable", shm_exec_maps_executable),
    (
        "ipc_set_changes_mode_and_owner",
        ipc_set_changes_mode_and_owner,
    ),
    (
        "nattch_counts_attaches_across_processes",
        nattch_counts_attaches_across_processes,
    ),
    ("data_crosses_fork", data_crosses_fork),
    ("data_crosses_spawned_process", data_crosses_spawned_process),
    (
        "atomics_are_shared_across_fork",
        atomics_are_shared_across_fork,
    ),
    (
        "segment_over_4gib_with_noreserve",
        segment_over_4gib_with_noreserve,
    ),
    ("lock_and_unlock", lock_and_unlock),
    ("limits_match_procfs", limits_match_procfs),
    (
        "usage_and_listing_see_our_segment",
        usage_and_listing_see_our_segment,
    ),
    ("hugetlb_size_encoding", hugetlb_size_encoding),
    (
        "private_attached_segment_dies_with_a_crashed_process",
        private_attached_segment_dies_with_a_crashed_process,
    ),
    (
        "accessor_bounds_alignment_and_messages",
        accessor_bounds_alignment_and_messages,
    ),
    ("raw_layer_round_trip", raw_layer_round_trip),
];

const PAGE: usize = 4096;
const CHILD_TIMEOUT: Duration = Duration::from_secs(10);

// ---- layouts, constants, ftok: differential against glibc ---------------------------

fn layout_matches_libc() {
    assert_eq!(size_of::<Shmid64Ds>(), size_of::<libc::shmid_ds>());
    assert_eq!(size_of::<sysv::Ipc64Perm>(), size_of::<libc::ipc_perm>());
    macro_rules! same {
        ($ours:ty, $a:ident, $theirs:ty, $b:ident) => {
            assert_eq!(
                offset_of!($ours, $a),
                offset_of!($theirs, $b),
                stringify!($a)
            );
        };
    }
    same!(Shmid64Ds, shm_perm, libc::shmid_ds, shm_perm);
    same!(Shmid64Ds, shm_segsz, libc::shmid_ds, shm_segsz);
    same!(Shmid64Ds, shm_atime, libc::shmid_ds, shm_atime);
    same!(Shmid64Ds, shm_dtime, libc::shmid_ds, shm_dtime);
    same!(Shmid64Ds, shm_ctime, libc::shmid_ds, shm_ctime);
    same!(Shmid64Ds, shm_cpid, libc::shmid_ds, shm_cpid);
    same!(Shmid64Ds, shm_lpid, libc::shmid_ds, shm_lpid);
    same!(Shmid64Ds, shm_nattch, libc::shmid_ds, shm_nattch);
    same!(sysv::Ipc64Perm, key, libc::ipc_perm, __key);
    same!(sysv::Ipc64Perm, uid, libc::ipc_perm, uid);
    same!(sysv::Ipc64Perm, gid, libc::ipc_perm, gid);
    same!(sysv::Ipc64Perm, cuid, libc::ipc_perm, cuid);
    same!(sysv::Ipc64Perm, cgid, libc::ipc_perm, cgid);
    same!(sysv::Ipc64Perm, mode, libc::ipc_perm, mode);
    same!(sysv::Ipc64Perm, seq, libc::ipc_perm, __seq);
    assert_eq!(size_of::<usize>(), size_of::<libc::size_t>());
}

fn constants_match_linux() {
    assert_eq!(GetFlags::CREAT.bits() as i32, libc::IPC_CREAT);
    assert_eq!(GetFlags::EXCL.bits() as i32, libc::IPC_EXCL);
    assert_eq!(GetFlags::HUGETLB.bits() as i32, libc::SHM_HUGETLB);
    assert_eq!(GetFlags::NORESERVE.bits() as i32, libc::SHM_NORESERVE);
    assert_eq!(GetFlags::HUGE_2MB.bits(), 21 << 26);
    assert_eq!(GetFlags::HUGE_1GB.bits(), 30 << 26);
    assert_eq!(AtFlags::RDONLY.bits() as i32, libc::SHM_RDONLY);
    assert_eq!(AtFlags::RND.bits() as i32, libc::SHM_RND);
    assert_eq!(AtFlags::REMAP.bits() as i32, libc::SHM_REMAP);
    assert_eq!(AtFlags::EXEC.bits(), 0o100000);
    assert_eq!(Command::Rmid as i32, libc::IPC_RMID);
    assert_eq!(Command::Set as i32, libc::IPC_SET);
    assert_eq!(Command::Stat as i32, libc::IPC_STAT);
    assert_eq!(Command::IpcInfo as i32, libc::IPC_INFO);
    assert_eq!(Command::Lock as i32, libc::SHM_LOCK);
    assert_eq!(Command::Lock as i32, 11);
    assert_eq!(Command::Unlock as i32, libc::SHM_UNLOCK);
    assert_eq!(Command::ShmStat as i32, 13);
    assert_eq!(Command::ShmInfo as i32, 14);
    assert_eq!(Command::ShmStatAny as i32, 15);
    assert_eq!(Key::PRIVATE.as_raw(), libc::IPC_PRIVATE);
    assert_eq!(sysv::SHMLBA, 4096);
}

fn ipc_stat_agrees_with_libc_shmctl() {
    let seg = private(3 * PAGE + 5);
    let _map = seg.attach().unwrap();
    let ours = sysv::ipc_stat(seg.id()).unwrap();
    // SAFETY: shmid_ds is plain integers, for which all-zero bytes are valid.
    let mut theirs: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: IPC_STAT writes one shmid_ds into `theirs`.
    let rc = unsafe { libc::shmctl(seg.id().as_raw(), libc::IPC_STAT, &mut theirs) };
    assert_eq!(rc, 0);
    assert_eq!(ours.shm_segsz, theirs.shm_segsz);
    assert_eq!(ours.shm_segsz, 3 * PAGE + 5);
    assert_eq!(ours.shm_cpid, theirs.shm_cpid);
    assert_eq!(ours.shm_lpid, theirs.shm_lpid);
    assert_eq!(ours.shm_nattch, theirs.shm_nattch);
    assert_eq!(ours.shm_atime, theirs.shm_atime);
    assert_eq!(ours.shm_ctime, theirs.shm_ctime);
    assert_eq!(ours.shm_perm.uid, theirs.shm_perm.uid);
    assert_eq!(ours.shm_perm.cuid, theirs.shm_perm.cuid);
    assert_eq!(ours.shm_perm.mode & 0o7777, theirs.shm_perm.mode as u32);
    assert_eq!(ours.shm_perm.key.as_raw(), theirs.shm_perm.__key);
}

fn libc_ftok(path: &str, proj: i32) -> i32 {
    let c = std::ffi::CString::new(path).unwrap();
    // SAFETY: `c` is NUL-terminated.
    unsafe { libc::ftok(c.as_ptr(), proj) }
}

fn ftok_matches_glibc() {
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap().to_string();
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").to_string();
    let paths = [
        "/".to_string(),
        "/tmp".into(),
        "/dev/null".into(),
        "/proc/self".into(),
        exe,
        manifest,
    ];
    for path in &paths {
        for proj in [0u8, 1, b'A', 0x7f, 0x80, 0xff] {
            let ours = sysv::ftok(path, proj).unwrap();
            assert_eq!(ours.as_raw(), libc_ftok(path, proj as i32), "{path} {proj}");
            assert_eq!(Key::ftok(path, proj).unwrap(), ours);
        }
    }
    for proj in 0..=255u8 {
        assert_eq!(
            sysv::ftok("/", proj).unwrap().as_raw(),
            libc_ftok("/", proj as i32)
        );
    }
    // glibc keeps only the low 8 bits of proj_id: a u8 loses nothing.
    assert_eq!(libc_ftok("/", 0x141), libc_ftok("/", 0x41));
    // A missing file: glibc says -1, we say why.
    assert_eq!(libc_ftok("/nonexistent/shm-test", 1), -1);
    let err = sysv::ftok("/nonexistent/shm-test", 1).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

// ---- shmget --------------------------------------------------------------------------

fn create_stat_open_attach() {
    let key = fresh_key();
    let before = SystemTime::now() - Duration::from_secs(2);
    let seg = guard(Segment::create_exclusive(key, 10_000).unwrap());
    let info = seg.stat().unwrap();
    assert_eq!(info.id, seg.id());
    assert_eq!(info.key, key);
    assert_eq!(info.size, 10_000);
    assert_eq!(info.mode, Mode::from_bits_truncate(0o600));
    assert_eq!(info.uid, sys::geteuid());
    assert_eq!(info.gid, sys::getegid());
    assert_eq!(info.cuid, sys::geteuid());
    assert_eq!(info.cgid, sys::getegid());
    assert_eq!(info.cpid, sys::getpid());
    assert_eq!(info.lpid.as_raw(), 0);
    assert_eq!(info.nattch, 0);
    assert_eq!((info.atime, info.dtime), (None, None));
    assert!(info.ctime >= before);
    assert!(!info.is_removed() && !info.is_locked());

    // Opening by key finds the same segment, with or without IPC_CREAT.
    assert_eq!(Segment::open(key).unwrap().id(), seg.id());
    assert_eq!(Segment::create(key, 10_000).unwrap().id(), seg.id());
    assert_eq!(Segment::create(key, 1).unwrap().id(), seg.id());
    assert_eq!(seg.size().unwrap(), 10_000);

    let map = seg.attach().unwrap();
    assert_eq!(map.len(), 10_000);
    assert_eq!(map.addr() % sysv::SHMLBA, 0);
    let info = seg.stat().unwrap();
    assert_eq!(info.nattch, 1);
    assert_eq!(info.lpid, sys::getpid());
    assert!(info.atime.is_some());
    // New segments are zero-filled.
    let mut buf = vec![1u8; 10_000];
    map.read_at(0, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    map.detach().unwrap();
    let info = seg.stat().unwrap();
    assert_eq!(info.nattch, 0);
    assert!(info.dtime.is_some());
}

fn size_below_shmmin_is_einval() {
    let err = Segment::create_private(0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSize);
    assert_eq!(err.errno(), Some(Errno::EINVAL));
    assert_eq!(err.message(), "segment size 0 is below SHMMIN (1)");
    let key = fresh_key();
    let err = Segment::create(key, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSize, "{err}");
}

fn size_above_shmmax_is_einval() {
    let limits = shm::limits().unwrap();
    let mut sizes = vec![usize::MAX];
    if limits.shmmax < usize::MAX {
        sizes.push(limits.shmmax + 1);
    }
    for size in sizes {
        let err = Segment::create_private(size).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSize, "{err}");
        assert_eq!(err.errno(), Some(Errno::EINVAL));
        assert_eq!(
            err.message(),
            format!(
                "segment size {size} is above SHMMAX ({}); raise kernel.shmmax",
                limits.shmmax
            )
        );
    }
}

fn size_larger_than_existing_is_einval() {
    let key = fresh_key();
    let seg = guard(Segment::create_exclusive(key, PAGE).unwrap());
    for opts in [
        Segment::options().size(2 * PAGE),
        Segment::options().size(PAGE + 1).create(true),
    ] {
        let err = opts.open(key).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSize, "{err}");
        assert_eq!(err.errno(), Some(Errno::EINVAL));
        assert!(
            err.message().contains(&format!(
                "segment key {key} exists with size 4096, smaller than the requested"
            )),
            "{err}"
        );
    }
    // Equal or smaller sizes open it.
    assert_eq!(
        Segment::options().size(PAGE).open(key).unwrap().id(),
        seg.id()
    );
    assert_eq!(Segment::options().size(1).open(key).unwrap().id(), seg.id());
}

fn exclusive_create_of_existing_key_is_eexist() {
    let key = fresh_key();
    let seg = guard(Segment::create_exclusive(key, PAGE).unwrap());
    let err = Segment::create_exclusive(key, PAGE).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(err.errno(), Some(Errno::EEXIST));
    assert!(
        err.message().contains(&format!(
            "segment key {key} already exists (id {}",
            seg.id()
        )),
        "{err}"
    );
    // The raw layer says the same.
    assert_eq!(
        sysv::shmget(key, PAGE, GetFlags::CREAT | GetFlags::EXCL, Mode::RUSR),
        Err(Errno::EEXIST)
    );
    // Private keys never collide.
    let a = private(PAGE);
    let b = private(PAGE);
    assert_ne!(a.id(), b.id());
}

fn open_without_create_is_enoent() {
    let key = fresh_key();
    let err = Segment::open(key).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.errno(), Some(Errno::ENOENT));
    assert_eq!(
        err.to_string(),
        format!(
            "no segment has key {key}; create it with Segment::create or IPC_CREAT [No such file or directory (ENOENT)]"
        )
    );
    assert_eq!(
        sysv::shmget(key, PAGE, GetFlags::empty(), Mode::empty()),
        Err(Errno::ENOENT)
    );
}

fn unprivileged_caller_gets_eacces() {
    if sys::geteuid() != 0 {
        eprintln!("  (skipped: needs root to drop privileges)");
        return;
    }
    let key = fresh_key();
    let seg = guard(Segment::create_exclusive(key, PAGE).unwrap());
    let id = seg.id();
    fork_ok(move || {
        check!(10, drop_privileges().is_ok(), "drop privileges");
        check!(11, sys::geteuid() == NOBODY, "euid is nobody");
        // Opening asks for nothing, so it finds the segment; asking for access fails.
        let opened = Segment::open(key);
        check!(
            22,
            opened.as_ref().map(Segment::id) == Ok(id),
            "open: {opened:?}"
        );
        let err = Segment::options()
            .access(Access::READ | Access::WRITE)
            .open(key)
            .unwrap_err();
        check!(12, err.kind() == ErrorKind::PermissionDenied, "open: {err}");
        check!(13, err.errno() == Some(Errno::EACCES), "open errno: {err}");
        let expect = format!(
            "permission denied opening segment key {key} for read and write (id {id}, size 4096, mode 0600, owner uid 0 gid 0)"
        );
        check!(
            14,
            err.message() == expect,
            "message {:?} != {expect:?}",
            err.message()
        );
        let err = Segment::from_id(id).attach().unwrap_err();
        check!(15, err.errno() == Some(Errno::EACCES), "attach: {err}");
        check!(
            16,
            err.message().contains("(mode 0600, owner uid 0)"),
            "attach message: {err}"
        );
        let err = Segment::from_id(id).attach_read_only().unwrap_err();
        check!(17, err.errno() == Some(Errno::EACCES), "attach ro: {err}");
        let err = Segment::from_id(id).stat().unwrap_err();
        check!(18, err.errno() == Some(Errno::EACCES), "stat: {err}");
        let err = Segment::from_id(id).remove().unwrap_err();
        check!(19, err.errno() == Some(Errno::EPERM), "remove: {err}");
        check!(
            20,
            err.kind() == ErrorKind::PermissionDenied,
            "remove kind: {err}"
        );
        let err = Segment::from_id(id).set_mode(Mode::all()).unwrap_err();
        check!(
            21,
            err.kind() == ErrorKind::PermissionDenied,
            "set_mode: {err}"
        );
        // IPC_SET's own refusal (not the owner), not a failed read before it.
        check!(
            23,
            err.errno() == Some(Errno::EPERM),
            "set_mode errno: {err}"
        );
        0
    });
    // World-readable: read-only attach works, read-write still does not.
    seg.set_mode(Mode::from_bits_truncate(0o604)).unwrap();
    fork_ok(move || {
        check!(30, drop_privileges().is_ok(), "drop privileges");
        let ro = Segment::from_id(id).attach_read_only();
        check!(31, ro.is_ok(), "read-only attach: {:?}", ro.err());
        let rw = Segment::from_id(id).attach();
        check!(
            32,
            rw.as_ref().err().and_then(|e| e.errno()) == Some(Errno::EACCES),
            "rw attach: {rw:?}"
        );
        0
    });
    assert!(Segment::open(key).is_ok(), "root still opens it");
}

// ---- removal ----------------------------------------------------------------------------

fn removed_segment_is_gone() {
    let key = fresh_key();
    let seg = guard(Segment::create_exclusive(key, PAGE).unwrap());
    let id = seg.id();
    let map = seg.attach().unwrap();
    map.write_at(0, b"still here").unwrap();
    map.mark_removed().unwrap();

    // Attached, so it lives on, marked SHM_DEST, its key already free.
    let info = seg.stat().unwrap();
    assert!(info.is_removed());
    assert_eq!(info.key, Key::PRIVATE);
    assert_eq!(info.nattch, 1);
    assert_eq!(Segment::open(key).unwrap_err().kind(), ErrorKind::NotFound);
    let fresh = guard(Segment::create_exclusive(key, PAGE).unwrap());
    assert_ne!(fresh.id(), id);
    drop(fresh);
    // Linux still lets processes attach a removed segment by id while it lives.
    let again = Segment::from_id(id).attach().unwrap();
    let mut buf = [0u8; 10];
    again.read_at(0, &mut buf).unwrap();
    assert_eq!(&buf, b"still here");
    drop(again);
    drop(map);

    // Last detach destroyed it: every call on the id fails with EINVAL (or EIDRM).
    for err in [
        Segment::from_id(id).stat().unwrap_err(),
        Segment::from_id(id).attach().unwrap_err(),
        Segment::from_id(id).lock().unwrap_err(),
        Segment::from_id(id).remove().unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        assert!(
            matches!(err.errno(), Some(Errno::EINVAL | Errno::EIDRM)),
            "{err}"
        );
        assert!(
            err.message().contains(&format!(
                "segment id {id}: it does not exist or was removed"
            )),
            "{err}"
        );
    }
    assert!(matches!(
        sysv::ipc_stat(id),
        Err(Errno::EINVAL | Errno::EIDRM)
    ));

    // Removing an unattached segment destroys it at once.
    let seg = Segment::create_private(PAGE).unwrap();
    support::track(seg.id());
    let id = seg.id();
    seg.remove().unwrap();
    assert!(matches!(
        sysv::ipc_stat(id),
        Err(Errno::EINVAL | Errno::EIDRM)
    ));
}

fn private_attached_segment_dies_with_a_crashed_process() {
    let pipe = Pipe::new();
    let child = fork(|| {
        let map = match shm::Segment::create_private_attached(PAGE) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("create_private_attached: {e}");
                return 1;
            }
        };
        let _ = map.write_at(0, b"x");
        pipe.send_u64(map.id().as_raw() as u64);
        // Crash without detaching or removing anything.
        let _ = sys::kill(sys::getpid(), sys::Signal::KILL);
        2
    });
    let id = Id::from_raw(pipe.recv_u64() as i32);
    support::track(id);
    assert_eq!(child.wait(CHILD_TIMEOUT), Exit::Signal(9));
    assert!(
        matches!(sysv::ipc_stat(id), Err(Errno::EINVAL | Errno::EIDRM)),
        "segment {id} survived the crash"
    );
}

// ---- shmat ------------------------------------------------------------------------------

fn write_through_read_only_attach_faults() {
    let seg = private(PAGE);
    let ro = seg.attach_read_only().unwrap();
    assert!(ro.is_read_only());
    // The safe layer refuses rather than faulting.
    assert_eq!(
        ro.write_at(0, b"x").unwrap_err().kind(),
        ErrorKind::ReadOnly
    );
    assert_eq!(
        ro.write_volatile(0, 1u32).unwrap_err().kind(),
        ErrorKind::ReadOnly
    );
    assert_eq!(ro.atomic_u32(0).unwrap_err().kind(), ErrorKind::ReadOnly);
    assert_eq!(ro.read_volatile::<u32>(0).unwrap(), 0);
    drop(ro);
    // A raw write faults with SIGSEGV, in a child.
    let id = seg.id();
    let child = fork(move || {
        no_core_dumps();
        let ro = match Segment::from_id(id).attach_read_only() {
            Ok(m) => m,
            Err(_) => return 1,
        };
        // SAFETY: deliberately breaks the contract (writing through a read-only
        // attachment) to observe the kernel's SIGSEGV; nothing else uses the page.
        unsafe { ro.as_ptr().write_volatile(1) };
        3
    });
    assert_eq!(
        child.wait(CHILD_TIMEOUT),
        Exit::Signal(11),
        "expected SIGSEGV"
    );
    // The segment is untouched.
    let map = seg.attach().unwrap();
    assert_eq!(map.read_volatile::<u8>(0).unwrap(), 0);
}

/// A free, SHMLBA-aligned range of `pages` pages (mapped, then unmapped).
fn free_range(pages: usize) -> usize {
    // SAFETY: a fresh anonymous mapping replaces nothing.
    let p = unsafe {
        sys::mmap(
            core::ptr::null_mut(),
            pages * PAGE,
            ProtFlags::empty(),
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            None,
            0,
        )
    }
    .unwrap();
    // SAFETY: we just mapped it and nothing uses it.
    unsafe { sys::munmap(p, pages * PAGE) }.unwrap();
    p as usize
}

fn shm_rnd_rounds_to_shmlba() {
    let seg = private(PAGE);
    let base = free_range(4);
    let hint = (base + PAGE + 123) as *const c_void;
    // Unaligned without SHM_RND: EINVAL, explained.
    let err = seg.attach_with(&AttachOptions::new().at(hint)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidAddress, "{err}");
    assert_eq!(err.errno(), Some(Errno::EINVAL));
    assert!(
        err.message().contains("not a multiple of SHMLBA (4096)"),
        "{err}"
    );
    // With SHM_RND: rounded down to SHMLBA.
    let map = seg
        .attach_with(&AttachOptions::new().at(hint).round_down(true))
        .unwrap();
    assert_eq!(map.addr(), base + PAGE);
    // An aligned address is used as is, and an occupied one is refused.
    let err = seg
        .attach_with(&AttachOptions::new().at((base + PAGE) as *const c_void))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidAddress, "{err}");
    let other = seg
        .attach_with(&AttachOptions::new().at((base + 3 * PAGE) as *const c_void))
        .unwrap();
    assert_eq!(other.addr(), base + 3 * PAGE);
    map.write_at(0, b"rnd").unwrap();
    let mut b = [0u8; 3];
    other.read_at(0, &mut b).unwrap();
    assert_eq!(&b, b"rnd");
    // A hint below SHMLBA would round down to address 0 (which root may map): refused.
    let err = seg
        .attach_with(
            &AttachOptions::new()
                .at(100 as *const c_void)
                .round_down(true),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidAddress, "{err}");
    assert_eq!(err.errno(), None);
}

fn shm_remap_replaces_a_mapping() {
    let seg = private(PAGE);
    seg.attach().unwrap().write_at(0, b"remapped").unwrap();
    // SAFETY: a fresh anonymous mapping replaces nothing.
    let p = unsafe {
        sys::mmap(
            core::ptr::null_mut(),
            PAGE,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            None,
            0,
        )
    }
    .unwrap();
    let opts = AttachOptions::new().at(p);
    assert_eq!(
        seg.attach_with(&opts).unwrap_err().kind(),
        ErrorKind::InvalidAddress
    );
    // SAFETY: `p` is our own anonymous page, which nothing references.
    let map = unsafe { seg.attach_replacing(&opts) }.unwrap();
    assert_eq!(map.addr(), p as usize);
    let mut b = [0u8; 8];
    map.read_at(0, &mut b).unwrap();
    assert_eq!(&b, b"remapped");
}

fn shm_exec_maps_executable() {
    // SHM_EXEC needs execute permission (mode 0700 gives the owner it), unless the
    // caller has CAP_IPC_OWNER.
    let seg = guard(
        Segment::options()
            .size(PAGE)
            .mode(Mode::from_bits_truncate(0o700))
            .create_private()
            .unwrap(),
    );
    let map = seg.attach_with(&AttachOptions::new().exec(true)).unwrap();
    let plain = seg.attach_read_only().unwrap();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let perms = |addr: usize| {
        let prefix = format!("{addr:x}-");
        let line = maps
            .lines()
            .find(|l| l.starts_with(&prefix))
            .expect("mapping listed");
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    assert_eq!(perms(map.addr()), "rwxs");
    assert_eq!(perms(plain.addr()), "r--s");
}

// ---- shmctl -----------------------------------------------------------------------------

fn ipc_set_changes_mode_and_owner() {
    let seg = private(PAGE);
    seg.set_mode(Mode::from_bits_truncate(0o640)).unwrap();
    let info = seg.stat().unwrap();
    assert_eq!(info.mode.bits(), 0o640);
    assert_eq!(info.uid, sys::geteuid());
    // Extra bits are ignored.
    seg.set_mode(Mode::from_bits_truncate(0o4755)).unwrap();
    assert_eq!(seg.stat().unwrap().mode.bits(), 0o755);
    if sys::geteuid() == 0 {
        seg.set_owner(NOBODY, NOBODY).unwrap();
        let info = seg.stat().unwrap();
        assert_eq!((info.uid, info.gid), (NOBODY, NOBODY));
        assert_eq!((info.cuid, info.cgid), (0, 0), "the creator never changes");
        assert_eq!(info.mode.bits(), 0o755, "the mode is kept");
    }
    // The raw IPC_SET reads only uid, gid and mode.
    let mut ds = sysv::ipc_stat(seg.id()).unwrap();
    ds.shm_perm.mode = 0o600;
    ds.shm_segsz = 1;
    sysv::ipc_set(seg.id(), &ds).unwrap();
    let info = seg.stat().unwrap();
    assert_eq!((info.mode.bits(), info.size), (0o600, PAGE));
}

fn nattch_counts_attaches_across_processes() {
    let seg = private(PAGE);
    let id = seg.id();
    let map = seg.attach().unwrap();
    assert_eq!(seg.stat().unwrap().nattch, 1);
    let to_child = Pipe::new();
    let to_parent = Pipe::new();
    let child = fork(|| {
        // Inherited across fork: this process already holds one attachment.
        let a = Segment::from_id(id).attach();
        let b = Segment::from_id(id).attach_read_only();
        check!(1, a.is_ok() && b.is_ok(), "attach in child");
        to_parent.send(1);
        to_child.recv();
        drop(a);
        to_parent.send(2);
        to_child.recv();
        0
    });
    assert_eq!(to_parent.recv(), 1);
    let info = seg.stat().unwrap();
    assert_eq!(info.nattch, 4, "parent 1 + inherited 1 + child 2");
    assert_eq!(info.lpid, child.pid());
    to_child.send(0);
    assert_eq!(to_parent.recv(), 2);
    assert_eq!(seg.stat().unwrap().nattch, 3);
    to_child.send(0);
    assert_eq!(child.wait(CHILD_TIMEOUT), Exit::Code(0));
    // Exit detached everything the child held.
    assert_eq!(seg.stat().unwrap().nattch, 1);
    drop(map);
    assert_eq!(seg.stat().unwrap().nattch, 0);
}

fn data_crosses_fork() {
    let seg = private(64 * 1024);
    let id = seg.id();
    let map = seg.attach().unwrap();
    map.write_at(100, b"from parent").unwrap();
    fork_ok(move || {
        let m = match Segment::from_id(id).attach() {
            Ok(m) => m,
            Err(_) => return 1,
        };
        let mut buf = [0u8; 11];
        check!(2, m.read_at(100, &mut buf).is_ok(), "read");
        check!(3, &buf == b"from parent", "read {buf:?}");
        let pattern: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect();
        check!(4, m.write_at(4000, &pattern).is_ok(), "write");
        0
    });
    let mut back = vec![0u8; 60_000];
    map.read_at(4000, &mut back).unwrap();
    assert!(
        back.iter()
            .enumerate()
            .all(|(i, &b)| b == (i as u32 * 7 % 251) as u8)
    );
}

fn data_crosses_spawned_process() {
    let key = fresh_key();
    let seg = guard(Segment::create_exclusive(key, PAGE).unwrap());
    let map = seg.attach().unwrap();
    let msg = b"hello from the parent";
    map.write_volatile(0, msg.len() as u32).unwrap();
    map.write_at(4, msg).unwrap();
    let child = spawn_helper("echo", &[format!("{}", key.as_raw())]);
    let pid = child.id() as i32;
    let (status, out) = finish_helper(child, CHILD_TIMEOUT);
    assert!(status.success(), "helper failed: {status}; stdout: {out}");
    assert_eq!(out.trim(), "helper read 21 bytes: hello from the parent");
    let len = map.read_volatile::<u32>(2048).unwrap() as usize;
    let mut reply = vec![0u8; len];
    map.read_at(2052, &mut reply).unwrap();
    assert_eq!(reply, b"HELLO FROM THE PARENT");
    let info = seg.stat().unwrap();
    assert_eq!(info.lpid.as_raw(), pid, "the helper detached last");
    assert_eq!(info.nattch, 1);
}

/// The `echo` helper: opens the segment for the key in `args[0]`, reads a
/// length-prefixed message at 0 and writes it back upper-cased at 2048.
pub(crate) fn helper_echo(args: &[String]) -> u8 {
    let Some(key) = args.first().and_then(|k| k.parse::<i32>().ok()) else {
        eprintln!("usage: echo KEY");
        return 2;
    };
    let run = || -> shm::Result<()> {
        let map = Segment::open(Key::from_raw(key))?.attach()?;
        let len = map.read_volatile::<u32>(0)? as usize;
        if len > map.len() - 4 {
            eprintln!("bad length {len}");
            std::process::exit(3);
        }
        let mut buf = vec![0u8; len];
        map.read_at(4, &mut buf)?;
        println!("helper read {len} bytes: {}", String::from_utf8_lossy(&buf));
        buf.make_ascii_uppercase();
        map.write_at(2052, &buf)?;
        map.write_volatile(2048, len as u32)?;
        Ok(())
    };
    match run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("helper: {e}");
            1
        }
    }
}

fn atomics_are_shared_across_fork() {
    let seg = private(PAGE);
    let id = seg.id();
    let map = seg.attach().unwrap();
    let counter = map.atomic_u64(8).unwrap();
    const N: u64 = 20_000;
    let child = fork(move || {
        let m = match Segment::from_id(id).attach() {
            Ok(m) => m,
            Err(_) => return 1,
        };
        let c = m.atomic_u64(8).unwrap();
        for _ in 0..N {
            c.fetch_add(1, Ordering::Relaxed);
        }
        m.atomic_u32(0).unwrap().store(1, Ordering::Release);
        0
    });
    for _ in 0..N {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    assert_eq!(child.wait(CHILD_TIMEOUT), Exit::Code(0));
    assert_eq!(map.atomic_u32(0).unwrap().load(Ordering::Acquire), 1);
    assert_eq!(counter.load(Ordering::Relaxed), 2 * N);
}

fn segment_over_4gib_with_noreserve() {
    // More than 2^32 bytes: every size is usize end to end.
    let size: usize = (4usize << 30) + 3 * PAGE + 17;
    let limits = shm::limits().unwrap();
    if size > limits.shmmax {
        eprintln!("  (skipped: SHMMAX {} is below {size})", limits.shmmax);
        return;
    }
    let seg = guard(
        Segment::options()
            .size(size)
            .no_reserve(true)
            .create_private()
            .unwrap(),
    );
    assert_eq!(seg.stat().unwrap().size, size);
    let map = seg.attach().unwrap();
    assert_eq!(map.len(), size);
    // Touch only a couple of pages at each end.
    map.write_at(0, b"first").unwrap();
    map.write_volatile(PAGE, 0xfeed_u32).unwrap();
    map.write_at(size - 4, b"last").unwrap();
    let odd = (size - PAGE) | 1;
    assert_eq!(
        map.write_volatile(odd, 0xbeef_u16).unwrap_err().kind(),
        ErrorKind::Misaligned
    );
    map.write_volatile(odd - 1, 0xbeef_u16).unwrap();
    assert_eq!(map.read_volatile::<u16>(odd - 1).unwrap(), 0xbeef);
    let mut b = [0u8; 5];
    map.read_at(0, &mut b).unwrap();
    assert_eq!(&b, b"first");
    let mut b = [0u8; 4];
    map.read_at(size - 4, &mut b).unwrap();
    assert_eq!(&b, b"last");
    assert_eq!(map.read_volatile::<u32>(PAGE).unwrap(), 0xfeed);
    assert_eq!(
        map.read_at(size - 3, &mut b).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    // Only the touched pages are resident.
    let usage = shm::usage().unwrap();
    assert!(usage.total_pages as usize >= size / PAGE);
}

fn lock_and_unlock() {
    let seg = private(PAGE);
    seg.lock().unwrap();
    assert!(seg.stat().unwrap().is_locked());
    seg.unlock().unwrap();
    assert!(!seg.stat().unwrap().is_locked());
}

fn procfs(name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn limits_match_procfs() {
    let l = shm::limits().unwrap();
    assert_eq!(l.shmmax as u64, procfs("shmmax"));
    assert_eq!(l.shmall, procfs("shmall"));
    assert_eq!(l.shmmni, procfs("shmmni"));
    assert_eq!(l.shmmin, 1);
    assert!(l.shmseg >= 1);
    let (max_index, raw) = sysv::ipc_info().unwrap();
    assert_eq!(raw.shmmax, l.shmmax as u64);
    assert!(max_index >= -1);
}

fn usage_and_listing_see_our_segment() {
    let key = fresh_key();
    let seg = guard(Segment::create_exclusive(key, 3 * PAGE).unwrap());
    let _map = seg.attach().unwrap();
    let usage = shm::usage().unwrap();
    assert!(usage.segments >= 1);
    assert!(usage.total_pages >= 3);
    let all = shm::list_segments().unwrap();
    let ours = all
        .iter()
        .find(|s| s.id == seg.id())
        .expect("our segment is listed");
    assert_eq!(ours.key, key);
    assert_eq!(ours.size, 3 * PAGE);
    assert_eq!(ours.nattch, 1);
    assert_eq!(ours.cpid, sys::getpid());
    assert_eq!(*ours, seg.stat().unwrap());
    let line = ours.to_string();
    assert!(
        line.starts_with(&format!("{:#010x} {}", key.as_raw(), seg.id())),
        "{line}"
    );
    // /proc/sysvipc/shm lists it too, with the same numbers.
    let proc = std::fs::read_to_string("/proc/sysvipc/shm").unwrap();
    let row: Vec<&str> = proc
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(1) == Some(&seg.id().to_string().as_str()))
        .expect("listed in /proc/sysvipc/shm");
    assert_eq!(row[0].parse::<i32>().unwrap(), key.as_raw());
    assert_eq!(row[3].parse::<usize>().unwrap(), 3 * PAGE);
    // The raw table walk agrees with SHM_STAT (we are root or the owner).
    let (max, _) = sysv::shm_info().unwrap();
    let found = (0..=max)
        .filter_map(|i| sysv::shm_stat(i).ok())
        .any(|(id, _)| id == seg.id());
    assert!(found);
}

fn hugetlb_size_encoding() {
    assert_eq!(
        GetFlags::hugetlb(HugePageSize::SIZE_2MB),
        GetFlags::HUGETLB | GetFlags::HUGE_2MB
    );
    assert_eq!(
        GetFlags::hugetlb(HugePageSize::SIZE_1GB),
        GetFlags::HUGETLB | GetFlags::HUGE_1GB
    );
    assert_eq!(GetFlags::hugetlb(HugePageSize::DEFAULT), GetFlags::HUGETLB);
    assert_eq!(HugePageSize::from_bytes(64 << 10).unwrap().log2(), 16);
    assert_eq!(HugePageSize::from_log2(64), None);
    let opts = Segment::options()
        .size(2 << 20)
        .huge_pages(HugePageSize::SIZE_2MB);
    assert_eq!(opts.flags().bits(), (libc::SHM_HUGETLB as u32) | (21 << 26));
    // Whether huge pages are reserved depends on the machine; any outcome is explained.
    match opts.create_private() {
        Ok(seg) => {
            let seg = guard(seg);
            assert_eq!(seg.stat().unwrap().size, 2 << 20);
        }
        Err(e) => {
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::OutOfMemory
                        | ErrorKind::PermissionDenied
                        | ErrorKind::InvalidArgument
                ),
                "{e}"
            );
            assert!(!e.message().is_empty());
        }
    }
}

fn accessor_bounds_alignment_and_messages() {
    let seg = private(100);
    let map = seg.attach().unwrap();
    assert_eq!(map.len(), 100);
    // Bounds: the segment size, not the page-rounded mapping.
    let err = map.write_at(98, b"abc").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfBounds);
    assert_eq!(err.errno(), None);
    assert_eq!(
        err.to_string(),
        format!(
            "bytes 98..101 are outside the 100-byte segment id {}",
            seg.id()
        )
    );
    assert_eq!(
        map.read_at(usize::MAX, &mut [0u8; 2]).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        map.read_volatile::<u64>(96).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    map.write_at(97, b"abc").unwrap();
    map.write_at(100, b"").unwrap();
    // Alignment.
    let err = map.atomic_u32(2).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Misaligned);
    assert!(
        err.message().starts_with("offset 2 is not a multiple of 4"),
        "{err}"
    );
    assert_eq!(
        map.read_volatile::<u16>(1).unwrap_err().kind(),
        ErrorKind::Misaligned
    );
    // Volatile round trips of every width, unaligned copies of every length.
    map.write_volatile(8, 0x0102_0304_0506_0708u64).unwrap();
    assert_eq!(map.read_volatile::<u64>(8).unwrap(), 0x0102_0304_0506_0708);
    assert_eq!(map.read_volatile::<u8>(8).unwrap(), 0x08);
    map.write_volatile(16, -1.5f64).unwrap();
    assert_eq!(map.read_volatile::<f64>(16).unwrap(), -1.5);
    for start in 0..9 {
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 3 + start + 1) as u8).collect();
            map.write_at(start + 30, &data).unwrap();
            let mut back = vec![0u8; len];
            map.read_at(start + 30, &mut back).unwrap();
            assert_eq!(back, data);
        }
    }
    // Private and unshared here, so the unsafe slice view is allowed.
    let mut solo = Segment::create_private_attached(PAGE).unwrap();
    // SAFETY: no other process or thread knows this segment's id.
    unsafe { solo.as_mut_slice()[..3].copy_from_slice(b"abc") };
    // SAFETY: as above.
    assert_eq!(unsafe { &solo.as_slice()[..3] }, b"abc");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
}

fn raw_layer_round_trip() {
    let key = fresh_key();
    let id = sysv::shmget(
        key,
        2 * PAGE,
        GetFlags::CREAT | GetFlags::EXCL,
        Mode::from_bits_truncate(0o640),
    )
    .unwrap();
    support::track(id);
    let _g = Segment::from_id(id).remove_on_drop();
    // SAFETY: no address and no REMAP: a fresh mapping that replaces nothing.
    let p = unsafe { sysv::shmat(id, core::ptr::null(), AtFlags::empty()) }.unwrap();
    // SAFETY: 2 pages are mapped at `p`, used only here.
    unsafe { p.cast::<u8>().add(PAGE).write_volatile(9) };
    let ds = sysv::ipc_stat(id).unwrap();
    assert_eq!(
        (ds.shm_segsz, ds.shm_nattch, ds.shm_perm.mode & 0o777),
        (2 * PAGE, 1, 0o640)
    );
    let mut ds2 = Shmid64Ds::default();
    // SAFETY: IPC_STAT writes one Shmid64Ds.
    let rc = unsafe { sysv::shmctl(id.as_raw(), Command::Stat, (&raw mut ds2).cast()) };
    assert_eq!(rc, Ok(0));
    assert_eq!(ds, ds2);
    // SAFETY: `p` is the attachment made above; nothing uses it afterwards.
    unsafe { sysv::shmdt(p) }.unwrap();
    // SAFETY: as above; it is no longer attached.
    assert_eq!(unsafe { sysv::shmdt(p) }, Err(Errno::EINVAL));
    sysv::ipc_rmid(id).unwrap();
    assert!(matches!(
        sysv::ipc_rmid(id),
        Err(Errno::EINVAL | Errno::EIDRM)
    ));
}
