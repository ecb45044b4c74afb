//! The safe layer asks no more than the kernel: each safe call, made by a child as the
//! segment's owner, as a member of its group, as another user with read, write or no
//! permission, and as root, succeeds exactly when the system call it stands for
//! succeeds, and fails with the same errno. The oracle is libc's wrapper for that
//! system call, made in the same child (so with the same credentials) just before the
//! safe call, on the same segment, or on an identical twin when the call changes it.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::time::Duration;

use linker_tools::sys::{self, Errno, OFlags};
use shm::sysv::{self, Command, Shmid64Ds};
use shm::{Access, AttachOptions, ErrorKind, Id, Key, Mode, RemoveOnDrop, Segment};

use crate::Case;
use crate::support::{self, Exit, NOBODY, drop_privileges, fork, fresh_key, guard, private};

pub(crate) const ALL: &[Case] = &[
    (
        "safe_layer_succeeds_exactly_when_the_kernel_does",
        safe_layer_succeeds_exactly_when_the_kernel_does,
    ),
    (
        "reader_opens_by_key_and_attaches_read_only",
        reader_opens_by_key_and_attaches_read_only,
    ),
    ("owner_restores_mode_zero", owner_restores_mode_zero),
    (
        "shmctl_raw_unknown_commands_are_einval_like_libc",
        shmctl_raw_unknown_commands_are_einval_like_libc,
    ),
    (
        "stat_any_never_answers_for_a_reused_slot",
        stat_any_never_answers_for_a_reused_slot,
    ),
];

const PAGE: usize = 4096;
const CHILD_TIMEOUT: Duration = Duration::from_secs(10);

/// A group no process of the test is in (so that only the owner and other classes
/// apply to segments with it).
const OTHER_GID: u32 = 12345;

/// `SHM_EXEC`, which the libc crate does not name for glibc.
const SHM_EXEC: i32 = 0o100000;

/// `SHM_STAT_ANY` (Linux 4.17).
const SHM_STAT_ANY: i32 = 15;

/// Who makes the calls.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Caller {
    Root,
    Nobody,
}

/// One row of the matrix: the segment's owner and mode, and who calls.
#[derive(Clone, Debug)]
struct Scenario {
    name: String,
    caller: Caller,
    uid: u32,
    gid: u32,
    mode: u32,
}

fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let mut add = |class: &str, caller, uid, gid, mode: u32| {
        out.push(Scenario {
            name: format!("{class} {mode:03o}"),
            caller,
            uid,
            gid,
            mode,
        });
    };
    add("root/own", Caller::Root, 0, 0, 0o000);
    add("root/nobody's", Caller::Root, NOBODY, OTHER_GID, 0o000);
    for mode in [0o000, 0o400, 0o200, 0o600, 0o700, 0o066] {
        add("owner", Caller::Nobody, NOBODY, OTHER_GID, mode);
    }
    for mode in [0o040, 0o020, 0o060, 0o070, 0o606] {
        add("group", Caller::Nobody, 0, NOBODY, mode);
    }
    for mode in [0o004, 0o002, 0o006, 0o007, 0o660, 0o000] {
        add("other", Caller::Nobody, 0, OTHER_GID, mode);
    }
    out
}

/// A call's outcome: its value (an id, a size, or 0), or the errno (0: an error
/// without one).
type Outcome = Result<i64, i32>;

fn show(o: &Outcome) -> String {
    match o {
        Ok(v) => format!("ok({v})"),
        Err(e) => match Errno::from_raw(*e).and_then(Errno::name) {
            Some(name) => name.to_string(),
            None => format!("errno {e}"),
        },
    }
}

fn safe<T>(r: shm::Result<T>, value: impl FnOnce(T) -> i64) -> Outcome {
    r.map(value).map_err(|e| e.errno().map_or(0, Errno::raw))
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// libc's `shmget`.
fn c_shmget(key: Key, size: usize, flags: i32) -> Outcome {
    // SAFETY: shmget touches no memory of this process.
    let id = unsafe { libc::shmget(key.as_raw(), size, flags) };
    if id < 0 {
        Err(last_errno())
    } else {
        Ok(id.into())
    }
}

/// libc's `shmat` then `shmdt`.
fn c_attach(id: Id, flags: i32) -> Outcome {
    // SAFETY: no address and no SHM_REMAP: a new mapping that replaces nothing.
    let p = unsafe { libc::shmat(id.as_raw(), core::ptr::null(), flags) };
    if p as isize == -1 {
        return Err(last_errno());
    }
    // SAFETY: `p` was just attached and nothing refers to it.
    if unsafe { libc::shmdt(p) } != 0 {
        return Err(last_errno());
    }
    Ok(0)
}

/// libc's `shmctl` with a `shmid_ds` (`IPC_SET` reads it: uid, gid, mode).
fn c_shmctl(id: i32, cmd: i32, set: Option<(u32, u32, u32)>) -> Result<(i32, libc::shmid_ds), i32> {
    // SAFETY: shmid_ds is plain integers; all-zero bytes are a valid value.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    if let Some((uid, gid, mode)) = set {
        ds.shm_perm.uid = uid;
        ds.shm_perm.gid = gid;
        ds.shm_perm.mode = mode as _;
    }
    // SAFETY: every command used here reads or writes at most one shmid_ds.
    let rc = unsafe { libc::shmctl(id, cmd, &mut ds) };
    if rc < 0 {
        Err(last_errno())
    } else {
        Ok((rc, ds))
    }
}

/// libc's `shmctl(slot of id, SHM_STAT_ANY)`, as an answer for `id`: the slot must
/// hold `id` itself. Returns the segment size.
fn c_stat_any(id: Id) -> Outcome {
    match c_shmctl(id.as_raw() & 0x7fff, SHM_STAT_ANY, None) {
        Ok((found, ds)) if found == id.as_raw() => Ok(ds.shm_segsz as i64),
        Ok(_) => Err(libc::EINVAL),
        Err(e) => Err(e),
    }
}

/// The segments of one scenario: `keyed` for the calls that leave it as it is, and
/// a raw/safe twin pair for each call that changes its segment.
struct Fixture {
    key: Key,
    keyed: RemoveOnDrop,
    twins: Vec<(&'static str, RemoveOnDrop, RemoveOnDrop)>,
}

/// The calls that change a segment, each made on its own twin pair.
const CHANGING: [&str; 4] = ["set_mode", "set_owner", "set_permissions", "remove"];

/// The new values those calls set.
const NEW_MODE: u32 = 0o640;
const NEW_OWNER: (u32, u32) = (NOBODY, NOBODY);
const NEW_PERMISSIONS: (u32, u32, u32) = (NOBODY, 0, 0o604);

fn fixture(sc: &Scenario) -> Fixture {
    let shaped = |seg: Segment| {
        let seg = guard(seg);
        seg.set_permissions(sc.uid, sc.gid, Mode::from_bits_truncate(sc.mode))
            .expect("set the scenario's owner and mode (as root)");
        seg
    };
    let key = fresh_key();
    let keyed = shaped(Segment::create_exclusive(key, PAGE).expect("create the keyed segment"));
    let twins = CHANGING
        .iter()
        .map(|&op| {
            let make = || shaped(Segment::create_private(PAGE).expect("create a twin"));
            (op, make(), make())
        })
        .collect();
    Fixture { key, keyed, twins }
}

/// Runs every call twice — raw (libc) and safe (shm) — as the scenario's caller, and
/// returns `(call, raw, safe)` for each.
fn run_calls(sc: &Scenario, f: &Fixture) -> Vec<(&'static str, Outcome, Outcome)> {
    let key = f.key;
    let id = f.keyed.id();
    let seg = Segment::from_id(id);
    let idv = |s: Segment| i64::from(s.id().as_raw());
    let mut out: Vec<(&'static str, Outcome, Outcome)> = Vec::new();
    let mut push = |name, raw, safe| out.push((name, raw, safe));

    // shmget on an existing key: the access asked for, the size, create flags.
    for (name, access) in [
        ("open", Access::empty()),
        ("open_read", Access::READ),
        ("open_write", Access::WRITE),
        ("open_read_write", Access::READ | Access::WRITE),
    ] {
        let raw = c_shmget(key, 0, access.bits() as i32);
        let safe = safe(Segment::options().access(access).open(key), idv);
        push(name, raw, safe);
    }
    push(
        "open_too_big",
        c_shmget(key, 2 * PAGE, 0),
        safe(Segment::options().size(2 * PAGE).open(key), idv),
    );
    push(
        "create_existing",
        c_shmget(key, PAGE, libc::IPC_CREAT | 0o600),
        safe(Segment::create(key, PAGE), idv),
    );
    push(
        "create_existing_mode_400",
        c_shmget(key, PAGE, libc::IPC_CREAT | 0o400),
        safe(
            Segment::options()
                .size(PAGE)
                .create(true)
                .mode(Mode::from_bits_truncate(0o400))
                .open(key),
            idv,
        ),
    );
    push(
        "create_exclusive_existing",
        c_shmget(key, PAGE, libc::IPC_CREAT | libc::IPC_EXCL | 0o600),
        safe(Segment::create_exclusive(key, PAGE), idv),
    );

    // shmat in each mode.
    for (name, flags, options) in [
        ("attach", 0, AttachOptions::new()),
        (
            "attach_read_only",
            libc::SHM_RDONLY,
            AttachOptions::new().read_only(true),
        ),
        ("attach_exec", SHM_EXEC, AttachOptions::new().exec(true)),
        (
            "attach_read_only_exec",
            libc::SHM_RDONLY | SHM_EXEC,
            AttachOptions::new().read_only(true).exec(true),
        ),
    ] {
        let raw = c_attach(id, flags);
        let safe = safe(seg.attach_with(&options), |_| 0);
        push(name, raw, safe);
    }

    // What is read about a segment.
    push(
        "stat",
        c_shmctl(id.as_raw(), libc::IPC_STAT, None).map(|(_, ds)| ds.shm_segsz as i64),
        safe(seg.stat(), |i| i.size as i64),
    );
    push(
        "stat_any",
        c_stat_any(id),
        safe(seg.stat_any(), |i| i.size as i64),
    );
    push("size", c_stat_any(id), safe(seg.size(), |s| s as i64));

    // Locking (the state changes, but both calls are idempotent).
    push(
        "lock",
        c_shmctl(id.as_raw(), libc::SHM_LOCK, None).map(|_| 0),
        safe(seg.lock(), |_| 0),
    );
    push(
        "unlock",
        c_shmctl(id.as_raw(), libc::SHM_UNLOCK, None).map(|_| 0),
        safe(seg.unlock(), |_| 0),
    );

    // The calls that change their segment: raw on one twin, safe on the other.
    for (op, raw_twin, safe_twin) in &f.twins {
        let (a, b) = (raw_twin.id(), Segment::from_id(safe_twin.id()));
        let (raw, safe) = match *op {
            "set_mode" => (
                c_shmctl(a.as_raw(), libc::IPC_SET, Some((sc.uid, sc.gid, NEW_MODE))).map(|_| 0),
                safe(b.set_mode(Mode::from_bits_truncate(NEW_MODE)), |_| 0),
            ),
            "set_owner" => (
                c_shmctl(
                    a.as_raw(),
                    libc::IPC_SET,
                    Some((NEW_OWNER.0, NEW_OWNER.1, sc.mode)),
                )
                .map(|_| 0),
                safe(b.set_owner(NEW_OWNER.0, NEW_OWNER.1), |_| 0),
            ),
            "set_permissions" => {
                let (uid, gid, mode) = NEW_PERMISSIONS;
                (
                    c_shmctl(a.as_raw(), libc::IPC_SET, Some((uid, gid, mode))).map(|_| 0),
                    safe(
                        b.set_permissions(uid, gid, Mode::from_bits_truncate(mode)),
                        |_| 0,
                    ),
                )
            }
            "remove" => (
                c_shmctl(a.as_raw(), libc::IPC_RMID, None).map(|_| 0),
                safe(b.remove(), |_| 0),
            ),
            other => unreachable!("no call {other}"),
        };
        push(op, raw, safe);
    }
    out
}

/// The owner, group and mode of `id` as root sees them, or "gone".
fn perm_of(id: Id) -> String {
    match sysv::ipc_stat(id) {
        Ok(ds) => format!(
            "uid {} gid {} mode {:03o}",
            ds.shm_perm.uid,
            ds.shm_perm.gid,
            ds.shm_perm.mode & 0o777
        ),
        Err(_) => "gone".to_string(),
    }
}

/// Runs the scenario in a child with its credentials; returns `(call, raw, safe)`.
fn run_scenario(sc: &Scenario, f: &Fixture) -> Vec<(String, String, String)> {
    let (read, write) = sys::pipe2(OFlags::CLOEXEC).expect("pipe2");
    let child = fork(|| {
        if sc.caller == Caller::Nobody {
            crate::check!(10, drop_privileges().is_ok(), "drop privileges");
            crate::check!(11, sys::geteuid() == NOBODY, "euid is nobody");
        }
        let mut report = String::new();
        for (name, raw, safe) in run_calls(sc, f) {
            report.push_str(&format!("{name}|{}|{}\n", show(&raw), show(&safe)));
        }
        let bytes = report.as_bytes();
        let mut done = 0;
        while done < bytes.len() {
            match sys::write(write.as_fd(), &bytes[done..]) {
                Ok(n) => done += n,
                Err(e) => {
                    eprintln!("child: writing the report: {e}");
                    return 12;
                }
            }
        }
        0
    });
    drop(write);
    let mut report = String::new();
    File::from(read)
        .read_to_string(&mut report)
        .expect("read the child's report");
    assert_eq!(
        child.wait(CHILD_TIMEOUT),
        Exit::Code(0),
        "scenario {}: the child failed",
        sc.name
    );
    report
        .lines()
        .map(|l| {
            let mut it = l.split('|').map(str::to_string);
            let (a, b, c) = (it.next(), it.next(), it.next());
            (a.unwrap(), b.unwrap_or_default(), c.unwrap_or_default())
        })
        .collect()
}

fn safe_layer_succeeds_exactly_when_the_kernel_does() {
    assert_eq!(
        sys::geteuid(),
        0,
        "the matrix needs root, to create segments for nobody"
    );
    let mut table: Vec<(String, String, String, String)> = Vec::new();
    let mut mismatches = Vec::new();
    for sc in scenarios() {
        let f = fixture(&sc);
        let rows = run_scenario(&sc, &f);
        assert_eq!(rows.len(), 21, "scenario {}: every call reported", sc.name);
        for (call, raw, safe) in rows {
            if raw != safe {
                mismatches.push(format!(
                    "{:<18} {call:<26} raw {raw:<10} safe {safe}",
                    sc.name
                ));
            }
            table.push((sc.name.clone(), call, raw, safe));
        }
        // The changing calls did the same thing to both twins.
        for (op, raw_twin, safe_twin) in &f.twins {
            let (a, b) = (perm_of(raw_twin.id()), perm_of(safe_twin.id()));
            if a != b {
                mismatches.push(format!(
                    "{:<18} {op:<26} raw twin ends {a}, safe twin ends {b}",
                    sc.name
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "the safe layer and the kernel disagree:\n  {}",
        mismatches.join("\n  ")
    );

    // The kernel's rules, as the raw calls saw them: the matrix exercises both
    // outcomes, and the cases the issue names come out the kernel's way.
    let raw = |scenario: &str, call: &str| -> String {
        table
            .iter()
            .find(|(s, c, _, _)| s == scenario && c == call)
            .unwrap_or_else(|| panic!("no row {scenario} / {call}"))
            .2
            .clone()
    };
    let ok = |scenario: &str, call: &str| raw(scenario, call).starts_with("ok");
    for (scenario, call, expect_ok) in [
        // A reader opens by key and attaches read-only, nothing more.
        ("other 004", "open", true),
        ("other 004", "open_read", true),
        ("other 004", "open_read_write", false),
        ("other 004", "create_existing", false),
        ("other 004", "attach_read_only", true),
        ("other 004", "attach", false),
        ("other 004", "stat", true),
        ("other 004", "set_mode", false),
        // A writer without read permission attaches nothing.
        ("other 002", "open_write", true),
        ("other 002", "attach", false),
        ("other 000", "open", true),
        ("other 000", "stat", false),
        ("other 000", "stat_any", true),
        // An owner with mode 0 still changes and removes the segment, and locks it.
        ("owner 000", "set_mode", true),
        ("owner 000", "set_owner", true),
        ("owner 000", "set_permissions", true),
        ("owner 000", "remove", true),
        ("owner 000", "stat", false),
        ("owner 000", "stat_any", true),
        ("owner 000", "attach_read_only", false),
        // Only the owner's class counts for the owner.
        ("owner 066", "attach", false),
        ("group 060", "attach", true),
        ("group 606", "attach_read_only", false),
        ("other 660", "attach_read_only", false),
        ("owner 700", "attach_exec", true),
        ("owner 600", "attach_exec", false),
        // Root on a segment it created for nobody: the permission bits yield to
        // CAP_IPC_OWNER (a container may lack it); changing and removing need only
        // the creator's uid.
        ("root/nobody's 000", "attach_exec", has_cap(CAP_IPC_OWNER)),
        ("root/nobody's 000", "stat", has_cap(CAP_IPC_OWNER)),
        ("root/nobody's 000", "set_owner", true),
        ("root/nobody's 000", "remove", true),
    ] {
        assert_eq!(
            ok(scenario, call),
            expect_ok,
            "{scenario} / {call}: the kernel said {}",
            raw(scenario, call)
        );
    }
    if has_cap(CAP_IPC_LOCK) {
        assert!(
            ok("root/nobody's 000", "lock"),
            "CAP_IPC_LOCK locks any segment"
        );
    }
    for scenario in ["root/own 000", "owner 600", "other 006"] {
        assert_eq!(raw(scenario, "create_exclusive_existing"), "EEXIST");
        assert_eq!(raw(scenario, "open_too_big"), "EINVAL");
    }
    let failures = table.iter().filter(|r| !r.2.starts_with("ok")).count();
    assert!(
        failures > 40 && failures < table.len() - 40,
        "{failures} of {} raw calls failed: the matrix should exercise both outcomes",
        table.len()
    );
}

const CAP_IPC_LOCK: u32 = 14;
const CAP_IPC_OWNER: u32 = 15;

/// Whether this process has capability `bit` in its effective set.
fn has_cap(bit: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .expect("CapEff in /proc/self/status")
        .trim();
    u64::from_str_radix(hex, 16).expect("CapEff is hexadecimal") >> bit & 1 == 1
}

fn reader_opens_by_key_and_attaches_read_only() {
    // Mode 0644, owned by root: nobody may read, not write.
    let key = fresh_key();
    let seg = guard(
        Segment::options()
            .size(PAGE)
            .mode(Mode::from_bits_truncate(0o644))
            .exclusive(true)
            .open(key)
            .unwrap(),
    );
    seg.attach().unwrap().write_at(0, b"for readers").unwrap();
    let id = seg.id();
    support::fork_ok(move || {
        crate::check!(1, drop_privileges().is_ok(), "drop privileges");
        let opened = match Segment::open(key) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("open: {e}");
                return 2;
            }
        };
        crate::check!(3, opened.id() == id, "opened {:?}", opened.id());
        let ro = Segment::options().access(Access::READ).open(key);
        crate::check!(4, ro.is_ok(), "open for reading: {:?}", ro.err());
        let map = match opened.attach_read_only() {
            Ok(m) => m,
            Err(e) => {
                eprintln!("attach read-only: {e}");
                return 5;
            }
        };
        let mut buf = [0u8; 11];
        crate::check!(6, map.read_at(0, &mut buf).is_ok(), "read");
        crate::check!(7, &buf == b"for readers", "read {buf:?}");
        let err = Segment::options()
            .access(Access::READ | Access::WRITE)
            .open(key)
            .unwrap_err();
        crate::check!(
            8,
            err.kind() == ErrorKind::PermissionDenied && err.errno() == Some(Errno::EACCES),
            "open for writing: {err}"
        );
        let err = opened.attach().unwrap_err();
        crate::check!(9, err.errno() == Some(Errno::EACCES), "rw attach: {err}");
        0
    });
}

fn owner_restores_mode_zero() {
    let seg = private(PAGE);
    seg.set_permissions(NOBODY, OTHER_GID, Mode::from_bits_truncate(0o600))
        .unwrap();
    let id = seg.id();
    support::fork_ok(move || {
        crate::check!(1, drop_privileges().is_ok(), "drop privileges");
        let seg = Segment::from_id(id);
        crate::check!(2, seg.set_mode(Mode::empty()).is_ok(), "set mode 0");
        let err = seg.stat().unwrap_err();
        crate::check!(
            3,
            err.errno() == Some(Errno::EACCES),
            "stat with mode 0: {err}"
        );
        let info = seg.stat_any();
        crate::check!(
            4,
            info.as_ref()
                .is_ok_and(|i| i.mode.is_empty() && i.uid == NOBODY),
            "stat_any: {info:?}"
        );
        let back = seg.set_mode(Mode::from_bits_truncate(0o600));
        crate::check!(5, back.is_ok(), "restore 0600: {:?}", back.err());
        let info = seg.stat();
        crate::check!(
            6,
            info.as_ref()
                .is_ok_and(|i| i.mode.bits() == 0o600 && i.gid == OTHER_GID),
            "after restoring: {info:?}"
        );
        crate::check!(7, seg.set_mode(Mode::empty()).is_ok(), "mode 0 again");
        let back = seg.set_owner(NOBODY, NOBODY);
        crate::check!(8, back.is_ok(), "set_owner at mode 0: {:?}", back.err());
        0
    });
    let info = seg.stat_any().unwrap();
    assert_eq!((info.uid, info.gid, info.mode.bits()), (NOBODY, NOBODY, 0));
}

fn shmctl_raw_unknown_commands_are_einval_like_libc() {
    let seg = private(PAGE);
    let id = seg.id().as_raw();
    let known = [0, 1, 2, 3, 11, 12, 13, 14, 15];
    let unknown: Vec<i32> = (-3..=40)
        .chain([0x100, 0x100 | 2, 0x100 | 15, 255, 1000, i32::MAX, i32::MIN])
        .filter(|c| !known.contains(c))
        .collect();
    for &cmd in &unknown {
        assert_eq!(Command::from_raw(cmd), None, "{cmd} is not a Command");
        for target in [id, 0, -1] {
            let mut ds = Shmid64Ds::default();
            // SAFETY: `ds` is a writable Shmid64Ds, the largest structure any shmctl
            // command uses.
            let ours = unsafe { sysv::shmctl_raw(target, cmd, (&raw mut ds).cast::<c_void>()) };
            let theirs = c_shmctl(target, cmd, None).map(|(rc, _)| rc);
            assert_eq!(
                ours.map_err(Errno::raw),
                theirs,
                "shmctl({target}, {cmd}): ours vs libc"
            );
            assert_eq!(ours, Err(Errno::EINVAL), "shmctl({target}, {cmd})");
            assert_eq!(
                ds,
                Shmid64Ds::default(),
                "an unknown command wrote the buffer"
            );
        }
    }
    // SAFETY: an unknown command touches no buffer, and there is none.
    let minus_one = unsafe { sysv::shmctl_raw(id, -1, core::ptr::null_mut()) };
    assert_eq!(minus_one, Err(Errno::EINVAL));
    // Known numbers through the escape hatch are the typed calls.
    for cmd in known {
        assert_eq!(Command::from_raw(cmd).map(Command::as_raw), Some(cmd));
        // An invalid id: nothing happens, whatever the command (both say EINVAL).
        let mut ds = Shmid64Ds::default();
        // SAFETY: as above.
        let ours = unsafe { sysv::shmctl_raw(-1, cmd, (&raw mut ds).cast::<c_void>()) };
        let theirs = c_shmctl(-1, cmd, None).map(|(rc, _)| rc);
        assert_eq!(ours.map_err(Errno::raw), theirs, "shmctl(-1, {cmd})");
    }
    let mut ds = Shmid64Ds::default();
    // SAFETY: IPC_STAT writes one Shmid64Ds.
    let rc = unsafe { sysv::shmctl_raw(id, Command::Stat.as_raw(), (&raw mut ds).cast()) };
    assert_eq!(rc, Ok(0));
    assert_eq!(ds, sysv::ipc_stat(seg.id()).unwrap());
}

fn stat_any_never_answers_for_a_reused_slot() {
    let gone = Segment::create_private(PAGE).unwrap();
    support::track(gone.id());
    let gone_id = gone.id();
    gone.remove().unwrap();
    // The slot may be the id's low 15 bits, or 24 with ipcmni_extend.
    let slots = [gone_id.as_raw() & 0x7fff, gone_id.as_raw() & 0xff_ffff];
    let holder = |slot: i32| sysv::shm_stat_any(slot).ok().map(|(id, _)| id);
    // Linux hands out slots cyclically below max(in use * 3/2, 64), or 4096 with
    // ipcmni_extend (5.2 and later; the lowest free one before): creating and removing
    // segments one at a time comes round to the slot within that many.
    let in_use = shm::usage().unwrap().segments as usize;
    let bound = 2 * (in_use * 3 / 2).max(4096) + 64;
    let mut reuser = None;
    for _ in 0..bound {
        let s = private(PAGE);
        if slots.iter().any(|&slot| holder(slot) == Some(s.id())) {
            reuser = Some(s);
            break;
        }
    }
    let reuser = reuser
        .unwrap_or_else(|| panic!("no new segment took the slot of {gone_id} in {bound} tries"));
    assert_ne!(reuser.id(), gone_id);
    // The raw slot now answers with the other segment's id ...
    let slot = *slots
        .iter()
        .find(|&&slot| holder(slot) == Some(reuser.id()))
        .unwrap();
    assert_eq!(sysv::shm_stat_any(slot).unwrap().0, reuser.id());
    // ... and the safe layer never takes it for the one that is gone.
    let stale = Segment::from_id(gone_id);
    for err in [
        stale.stat_any().unwrap_err(),
        stale.size().unwrap_err(),
        stale.set_mode(Mode::from_bits_truncate(0o666)).unwrap_err(),
        stale.set_owner(NOBODY, NOBODY).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        assert!(
            matches!(err.errno(), Some(Errno::EINVAL | Errno::EIDRM)),
            "{err}"
        );
    }
    let info = reuser.stat().unwrap();
    assert_eq!(
        (info.uid, info.mode.bits()),
        (0, 0o600),
        "the other segment is untouched"
    );
}
