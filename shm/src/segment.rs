//! [`Segment`]: a System V shared-memory segment by id — create, open, inspect,
//! change, lock and remove it — plus the system-wide views: [`limits`], [`usage`] and
//! [`list_segments`] (what `ipcs -m` shows).
//!
//! A segment is a kernel object that outlives the processes using it: dropping a
//! [`Segment`] removes nothing. Remove it with [`Segment::remove`], tie removal to a
//! scope with [`Segment::remove_on_drop`], or make the kernel remove it when the last
//! attachment goes, crashes included, with [`Segment::create_private_attached`] /
//! [`Attachment::mark_removed`](crate::Attachment::mark_removed).

use std::fmt;
use std::ops::Deref;
use std::time::{Duration, SystemTime};

use linker_tools::sys::{Errno, Mode, Pid};

use crate::attach::{AttachOptions, Attachment};
use crate::error::{Error, ErrorKind, Result};
use crate::sysv::{self, GetFlags, HugePageSize, Id, Key, Shmid64Ds, StateFlags};

/// The permissions a segment gets unless [`SegmentOptions::mode`] says otherwise:
/// `0600`, read and write for the owner only.
pub const DEFAULT_MODE: Mode = Mode::RUSR.union(Mode::WUSR);

/// A System V shared-memory segment, named by its [`Id`].
///
/// This is a handle, not an owner: dropping it leaves the segment in the kernel, like
/// a file on disk. See the [module docs](self) for the ways to remove it.
///
/// ```
/// use shm::{Mode, Segment};
///
/// let seg = Segment::create_private(4096)?.remove_on_drop();
/// let info = seg.stat()?;
/// assert_eq!(info.size, 4096);
/// assert_eq!(info.mode, Mode::from_bits_truncate(0o600));
/// assert_eq!(info.nattch, 0);
///
/// let map = seg.attach()?;
/// map.write_at(0, b"hello")?;
/// let mut buf = [0u8; 5];
/// map.read_at(0, &mut buf)?;
/// assert_eq!(&buf, b"hello");
/// assert_eq!(seg.stat()?.nattch, 1);
/// # Ok::<(), shm::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Segment {
    id: Id,
    key: Key,
}

impl Segment {
    /// Creates a segment of `size` bytes for `key`, or opens the existing one (which
    /// must be at least `size` bytes). Permissions: [`DEFAULT_MODE`] (`0600`).
    ///
    /// `shmget(key, size, IPC_CREAT | 0600)`.
    #[doc(alias = "shmget")]
    #[doc(alias = "IPC_CREAT")]
    pub fn create(key: Key, size: usize) -> Result<Segment> {
        SegmentOptions::new().size(size).create(true).open(key)
    }

    /// Creates a new segment of `size` bytes for `key`, failing with
    /// [`ErrorKind::AlreadyExists`] if the key is taken.
    ///
    /// `shmget(key, size, IPC_CREAT | IPC_EXCL | 0600)`.
    #[doc(alias = "IPC_EXCL")]
    pub fn create_exclusive(key: Key, size: usize) -> Result<Segment> {
        SegmentOptions::new().size(size).exclusive(true).open(key)
    }

    /// Creates a new private segment (`IPC_PRIVATE`) of `size` bytes, reachable only
    /// by its id.
    #[doc(alias = "IPC_PRIVATE")]
    pub fn create_private(size: usize) -> Result<Segment> {
        SegmentOptions::new().size(size).create_private()
    }

    /// Creates a private segment, attaches it read-write and marks it removed at once:
    /// the kernel destroys it when the last attachment goes — when the returned
    /// [`Attachment`] drops, or when the process dies, however it dies — so nothing
    /// can leak. Other processes can still attach it by
    /// [`id`](Attachment::id) while it is attached somewhere (a Linux extension).
    ///
    /// ```
    /// let map = shm::Segment::create_private_attached(8192)?;
    /// let info = map.stat()?;
    /// assert!(info.is_removed());
    /// assert_eq!((info.size, info.nattch), (8192, 1));
    /// # Ok::<(), shm::Error>(())
    /// ```
    pub fn create_private_attached(size: usize) -> Result<Attachment> {
        let seg = Segment::create_private(size)?.remove_on_drop();
        let map = seg.attach()?;
        // While `map` is attached, IPC_RMID only marks the segment; if it fails, detach
        // first and let the guard try once more with nothing attached.
        if let Err(e) = seg.id_rmid() {
            drop(map);
            return Err(e);
        }
        let _ = seg.into_inner();
        Ok(map)
    }

    /// Opens the existing segment for `key`, whatever its size.
    ///
    /// `shmget(key, 0, 0)`; fails with [`ErrorKind::NotFound`] if there is none.
    pub fn open(key: Key) -> Result<Segment> {
        SegmentOptions::new().open(key)
    }

    /// Options for creating or opening a segment: size, permissions, exclusive
    /// create, huge pages, no swap reservation.
    pub fn options() -> SegmentOptions {
        SegmentOptions::new()
    }

    /// The segment with id `id` (from another process, `ipcs`, …), unchecked: a stale
    /// id makes the calls fail with [`ErrorKind::NotFound`].
    pub fn from_id(id: Id) -> Segment {
        Segment {
            id,
            key: Key::PRIVATE,
        }
    }

    /// The segment's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The key this handle was opened with ([`Key::PRIVATE`] for private segments and
    /// for [`from_id`](Self::from_id)).
    pub fn key(&self) -> Key {
        self.key
    }

    /// `shmctl(IPC_STAT)`: size, owner, creator, permissions, attach count and times.
    #[doc(alias = "IPC_STAT")]
    #[doc(alias = "shmctl")]
    pub fn stat(&self) -> Result<SegmentInfo> {
        stat_id(self.id)
    }

    /// The size in bytes (`IPC_STAT`).
    pub fn size(&self) -> Result<usize> {
        Ok(self.stat()?.size)
    }

    /// Sets the permission bits (`IPC_SET`; the owner is kept). Only the low nine
    /// bits of `mode` count.
    #[doc(alias = "IPC_SET")]
    pub fn set_mode(&self, mode: Mode) -> Result<()> {
        self.set(
            |ds| ds.shm_perm.mode = mode.bits() & 0o777,
            "change the mode of",
        )
    }

    /// Sets the owner user and group (`IPC_SET`; the permissions are kept). The
    /// creator ids never change.
    #[doc(alias = "IPC_SET")]
    pub fn set_owner(&self, uid: u32, gid: u32) -> Result<()> {
        self.set(
            |ds| {
                ds.shm_perm.uid = uid;
                ds.shm_perm.gid = gid;
            },
            "change the owner of",
        )
    }

    fn set(&self, edit: impl FnOnce(&mut Shmid64Ds), what: &str) -> Result<()> {
        let mut ds = sysv::ipc_stat(self.id).map_err(|e| id_error(e, self.id, "read"))?;
        ds.shm_perm.mode &= 0o777;
        edit(&mut ds);
        sysv::ipc_set(self.id, &ds).map_err(|e| id_error(e, self.id, what))
    }

    /// Removes the segment (`IPC_RMID`): at once if nothing is attached, otherwise
    /// when the last attachment goes (the key is free immediately either way).
    #[doc(alias = "IPC_RMID")]
    pub fn remove(self) -> Result<()> {
        self.id_rmid()
    }

    fn id_rmid(&self) -> Result<()> {
        sysv::ipc_rmid(self.id).map_err(|e| id_error(e, self.id, "remove"))
    }

    /// Wraps the handle in a guard that removes the segment when it drops, unwinding
    /// included.
    pub fn remove_on_drop(self) -> RemoveOnDrop {
        RemoveOnDrop(Some(self))
    }

    /// Locks the segment's pages in memory (`SHM_LOCK`; needs `CAP_IPC_LOCK` or
    /// ownership within `RLIMIT_MEMLOCK`).
    #[doc(alias = "SHM_LOCK")]
    pub fn lock(&self) -> Result<()> {
        sysv::shm_lock(self.id).map_err(|e| id_error(e, self.id, "lock"))
    }

    /// Lets the segment's pages be swapped again (`SHM_UNLOCK`).
    #[doc(alias = "SHM_UNLOCK")]
    pub fn unlock(&self) -> Result<()> {
        sysv::shm_unlock(self.id).map_err(|e| id_error(e, self.id, "unlock"))
    }

    /// Attaches the segment read-write anywhere (`shmat(id, NULL, 0)`).
    #[doc(alias = "shmat")]
    pub fn attach(&self) -> Result<Attachment> {
        self.attach_with(&AttachOptions::new())
    }

    /// Attaches the segment read-only (`SHM_RDONLY`).
    #[doc(alias = "SHM_RDONLY")]
    pub fn attach_read_only(&self) -> Result<Attachment> {
        self.attach_with(&AttachOptions::new().read_only(true))
    }

    /// Attaches the segment as `options` say (read-only, executable, at an address).
    pub fn attach_with(&self, options: &AttachOptions) -> Result<Attachment> {
        Attachment::attach(self.id, options, false)
    }

    /// Attaches the segment at `options`' address with `SHM_REMAP`, replacing whatever
    /// is mapped in that range.
    ///
    /// # Safety
    ///
    /// The range `[addr, addr + size)` (after `SHM_RND` rounding) must hold no memory
    /// that Rust code still uses: its old contents are unmapped without notice.
    #[doc(alias = "SHM_REMAP")]
    #[allow(unsafe_code)]
    pub unsafe fn attach_replacing(&self, options: &AttachOptions) -> Result<Attachment> {
        Attachment::attach(self.id, options, true)
    }
}

/// A [`Segment`] that is removed (`IPC_RMID`) when this guard drops.
///
/// Dereferences to the segment; [`into_inner`](Self::into_inner) disarms it.
#[derive(Debug)]
pub struct RemoveOnDrop(Option<Segment>);

impl RemoveOnDrop {
    /// Disarms the guard and returns the segment, which then stays.
    pub fn into_inner(mut self) -> Segment {
        self.0
            .take()
            .expect("the segment is present until into_inner or drop")
    }
}

impl Deref for RemoveOnDrop {
    type Target = Segment;
    fn deref(&self) -> &Segment {
        self.0
            .as_ref()
            .expect("the segment is present until into_inner or drop")
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(seg) = self.0.take() {
            // Already removed (by someone else) is fine; nothing else can be reported.
            let _ = seg.remove();
        }
    }
}

/// How to create or open a segment; build with [`Segment::options`].
///
/// ```
/// use shm::{Mode, Segment};
/// let seg = Segment::options()
///     .size(1 << 20)
///     .mode(Mode::from_bits_truncate(0o640))
///     .no_reserve(true)
///     .create_private()?
///     .remove_on_drop();
/// assert_eq!(seg.stat()?.mode.bits(), 0o640);
/// # Ok::<(), shm::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SegmentOptions {
    size: usize,
    mode: Mode,
    create: bool,
    exclusive: bool,
    huge_pages: Option<HugePageSize>,
    no_reserve: bool,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SegmentOptions {
    /// Open only, size 0 (any), mode `0600`.
    pub fn new() -> Self {
        Self {
            size: 0,
            mode: DEFAULT_MODE,
            create: false,
            exclusive: false,
            huge_pages: None,
            no_reserve: false,
        }
    }

    /// The size to create, or the minimum size an existing segment must have.
    pub fn size(mut self, size: usize) -> Self {
        self.size = size;
        self
    }

    /// Permissions of a created segment (low nine bits).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Create the segment if the key has none (`IPC_CREAT`).
    pub fn create(mut self, yes: bool) -> Self {
        self.create = yes;
        self
    }

    /// Always create; fail if the key has one (`IPC_CREAT | IPC_EXCL`).
    pub fn exclusive(mut self, yes: bool) -> Self {
        self.exclusive = yes;
        self
    }

    /// Back the segment with huge pages of `size` (`SHM_HUGETLB` and `SHM_HUGE_*`).
    pub fn huge_pages(mut self, size: HugePageSize) -> Self {
        self.huge_pages = Some(size);
        self
    }

    /// Reserve no swap for the segment (`SHM_NORESERVE`): large, sparsely used
    /// segments then cost only the pages touched.
    pub fn no_reserve(mut self, yes: bool) -> Self {
        self.no_reserve = yes;
        self
    }

    /// The `shmget` flags these options amount to (without permissions).
    pub fn flags(&self) -> GetFlags {
        let mut f = GetFlags::empty();
        if self.create || self.exclusive {
            f |= GetFlags::CREAT;
        }
        if self.exclusive {
            f |= GetFlags::EXCL;
        }
        if let Some(size) = self.huge_pages {
            f |= GetFlags::hugetlb(size);
        }
        if self.no_reserve {
            f |= GetFlags::NORESERVE;
        }
        f
    }

    /// `shmget(key, size, flags | mode)`.
    #[doc(alias = "shmget")]
    pub fn open(&self, key: Key) -> Result<Segment> {
        let flags = self.flags();
        let id = sysv::shmget(key, self.size, flags, self.mode)
            .map_err(|e| get_error(e, key, self.size, flags))?;
        Ok(Segment { id, key })
    }

    /// Creates a new private segment (`IPC_PRIVATE`) with these options.
    pub fn create_private(&self) -> Result<Segment> {
        self.open(Key::PRIVATE)
    }
}

/// What `IPC_STAT` says about a segment.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct SegmentInfo {
    /// The segment's id.
    pub id: Id,
    /// Its key ([`Key::PRIVATE`] once removed).
    pub key: Key,
    /// Size in bytes, as created.
    pub size: usize,
    /// Permission bits.
    pub mode: Mode,
    /// Removed-pending and locked state.
    pub state: StateFlags,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Creator user id.
    pub cuid: u32,
    /// Creator group id.
    pub cgid: u32,
    /// Creator process.
    pub cpid: Pid,
    /// Process of the last attach or detach.
    pub lpid: Pid,
    /// Current number of attachments, all processes together.
    pub nattch: u64,
    /// Last attach, if any.
    pub atime: Option<SystemTime>,
    /// Last detach, if any.
    pub dtime: Option<SystemTime>,
    /// Creation or last `IPC_SET`.
    pub ctime: SystemTime,
}

fn time(secs: i64) -> Option<SystemTime> {
    (secs > 0).then(|| SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64))
}

impl SegmentInfo {
    /// Decodes a kernel [`Shmid64Ds`] for segment `id`.
    pub fn from_raw(id: Id, ds: &Shmid64Ds) -> Self {
        Self {
            id,
            key: ds.shm_perm.key,
            size: ds.shm_segsz,
            mode: Mode::from_bits_truncate(ds.shm_perm.mode & 0o777),
            state: StateFlags::from_bits_truncate(ds.shm_perm.mode),
            uid: ds.shm_perm.uid,
            gid: ds.shm_perm.gid,
            cuid: ds.shm_perm.cuid,
            cgid: ds.shm_perm.cgid,
            cpid: Pid::from_raw(ds.shm_cpid),
            lpid: Pid::from_raw(ds.shm_lpid),
            nattch: ds.shm_nattch,
            atime: time(ds.shm_atime),
            dtime: time(ds.shm_dtime),
            ctime: time(ds.shm_ctime).unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }

    /// Marked removed (`SHM_DEST`): it goes away with its last attachment.
    pub fn is_removed(&self) -> bool {
        self.state.contains(StateFlags::DEST)
    }

    /// Locked in memory (`SHM_LOCKED`).
    pub fn is_locked(&self) -> bool {
        self.state.contains(StateFlags::LOCKED)
    }
}

impl fmt::Display for SegmentInfo {
    /// One `ipcs -m`-style line: key, id, owner, perms, bytes, nattch, status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#010x} {:<10} {:<8} {:<6o} {:<12} {:<6}",
            self.key.as_raw() as u32,
            self.id,
            self.uid,
            self.mode.bits(),
            self.size,
            self.nattch
        )?;
        if self.is_removed() {
            f.write_str(" dest")?;
        }
        if self.is_locked() {
            f.write_str(" locked")?;
        }
        Ok(())
    }
}

pub(crate) fn stat_id(id: Id) -> Result<SegmentInfo> {
    let ds = sysv::ipc_stat(id).map_err(|e| id_error(e, id, "read"))?;
    Ok(SegmentInfo::from_raw(id, &ds))
}

/// The system's limits on shared memory, from `shmctl(IPC_INFO)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct Limits {
    /// Largest segment in bytes (`kernel.shmmax`).
    pub shmmax: usize,
    /// Smallest segment in bytes (1).
    pub shmmin: usize,
    /// Most segments system-wide (`kernel.shmmni`).
    pub shmmni: u64,
    /// Most attachments per process as reported (Linux does not enforce it).
    pub shmseg: u64,
    /// Most shared memory system-wide, in pages (`kernel.shmall`).
    pub shmall: u64,
}

/// The system's shared-memory limits (`shmctl(0, IPC_INFO)`).
///
/// ```
/// let l = shm::limits()?;
/// assert_eq!(l.shmmin, 1);
/// assert!(l.shmmax >= 4096);
/// # Ok::<(), shm::Error>(())
/// ```
#[doc(alias = "IPC_INFO")]
pub fn limits() -> Result<Limits> {
    let (_, i) = sysv::ipc_info().map_err(|e| other(e, "shmctl(IPC_INFO) failed"))?;
    Ok(Limits {
        shmmax: usize::try_from(i.shmmax).unwrap_or(usize::MAX),
        shmmin: usize::try_from(i.shmmin).unwrap_or(usize::MAX),
        shmmni: i.shmmni,
        shmseg: i.shmseg,
        shmall: i.shmall,
    })
}

/// System-wide shared-memory usage, from `shmctl(SHM_INFO)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct Usage {
    /// Segments in existence.
    pub segments: u32,
    /// Pages in all segments.
    pub total_pages: u64,
    /// Resident pages.
    pub resident_pages: u64,
    /// Swapped-out pages.
    pub swapped_pages: u64,
}

/// System-wide usage (`shmctl(0, SHM_INFO)`).
#[doc(alias = "SHM_INFO")]
pub fn usage() -> Result<Usage> {
    let (_, i) = sysv::shm_info().map_err(|e| other(e, "shmctl(SHM_INFO) failed"))?;
    Ok(Usage {
        segments: i.used_ids.max(0) as u32,
        total_pages: i.shm_tot,
        resident_pages: i.shm_rss,
        swapped_pages: i.shm_swp,
    })
}

/// Every segment in the system, like `ipcs -m`: `SHM_INFO` for the highest slot in
/// use, then `SHM_STAT_ANY` for each slot (falling back to `SHM_STAT`, which skips
/// segments the caller may not read, on kernels before 4.17).
///
/// ```
/// let map = shm::Segment::create_private_attached(4096)?;
/// let all = shm::list_segments()?;
/// assert!(all.iter().any(|s| s.id == map.id()));
/// # Ok::<(), shm::Error>(())
/// ```
#[doc(alias = "ipcs")]
#[doc(alias = "SHM_STAT_ANY")]
pub fn list_segments() -> Result<Vec<SegmentInfo>> {
    let (max_index, info) = sysv::shm_info().map_err(|e| other(e, "shmctl(SHM_INFO) failed"))?;
    let mut out = scan(max_index, sysv::shm_stat_any)?;
    if out.is_empty() && info.used_ids > 0 {
        // SHM_STAT_ANY is unknown before Linux 4.17 (EINVAL for every slot).
        out = scan(max_index, sysv::shm_stat)?;
    }
    Ok(out)
}

fn scan(
    max_index: i32,
    stat: fn(i32) -> core::result::Result<(Id, Shmid64Ds), Errno>,
) -> Result<Vec<SegmentInfo>> {
    let mut out = Vec::new();
    for index in 0..=max_index {
        match stat(index) {
            Ok((id, ds)) => out.push(SegmentInfo::from_raw(id, &ds)),
            // An empty slot (or one emptied since SHM_INFO), or one we may not read.
            Err(Errno::EINVAL | Errno::EIDRM | Errno::EACCES | Errno::EPERM) => {}
            Err(e) => return Err(other(e, &format!("shmctl({index}, SHM_STAT) failed"))),
        }
    }
    Ok(out)
}

fn other(e: Errno, msg: &str) -> Error {
    Error::new(ErrorKind::Other, Some(e), msg.to_string())
}

/// Who may do what with the live segment for `key`, for error messages.
fn describe_key(key: Key) -> Option<String> {
    if key.is_private() {
        return None;
    }
    let seg = list_segments()
        .ok()?
        .into_iter()
        .find(|s| s.key == key && !s.is_removed())?;
    Some(format!(
        "id {}, size {}, mode {:04o}, owner uid {} gid {}",
        seg.id,
        seg.size,
        seg.mode.bits(),
        seg.uid,
        seg.gid
    ))
}

/// Explains a failed `shmget`.
fn get_error(e: Errno, key: Key, size: usize, flags: GetFlags) -> Error {
    let (kind, message) = match e {
        Errno::ENOENT => (
            ErrorKind::NotFound,
            format!("no segment has key {key}; create it with Segment::create or IPC_CREAT"),
        ),
        Errno::EEXIST => (
            ErrorKind::AlreadyExists,
            match describe_key(key) {
                Some(d) => {
                    format!("segment key {key} already exists ({d}); exclusive create refused")
                }
                None => format!("segment key {key} already exists; exclusive create refused"),
            },
        ),
        Errno::EACCES => (
            ErrorKind::PermissionDenied,
            match describe_key(key) {
                Some(d) => format!("permission denied opening segment key {key} ({d})"),
                None => format!("permission denied opening segment key {key}"),
            },
        ),
        Errno::EPERM if flags.contains(GetFlags::HUGETLB) => (
            ErrorKind::PermissionDenied,
            "SHM_HUGETLB needs CAP_IPC_LOCK or membership in the group vm.hugetlb_shm_group"
                .to_string(),
        ),
        Errno::ENOSPC => (
            ErrorKind::LimitReached,
            match limits() {
                Ok(l) => format!(
                    "creating a {size}-byte segment would exceed SHMMNI ({} segments) or \
                     SHMALL ({} pages); raise kernel.shmmni / kernel.shmall or remove unused segments",
                    l.shmmni, l.shmall
                ),
                Err(_) => format!("no room for a {size}-byte segment (SHMMNI or SHMALL reached)"),
            },
        ),
        Errno::ENOMEM => (
            ErrorKind::OutOfMemory,
            if flags.contains(GetFlags::HUGETLB) {
                format!("no huge pages for a {size}-byte segment; reserve some in vm.nr_hugepages")
            } else {
                format!(
                    "no memory for a {size}-byte segment; try SHM_NORESERVE (Segment::options().no_reserve(true))"
                )
            },
        ),
        Errno::EINVAL => explain_einval(key, size, flags),
        _ => (
            ErrorKind::Other,
            format!(
                "shmget(key {key}, size {size}, flags {:#o}) failed",
                flags.bits()
            ),
        ),
    };
    Error::new(kind, Some(e), message)
}

fn explain_einval(key: Key, size: usize, flags: GetFlags) -> (ErrorKind, String) {
    let creating = flags.contains(GetFlags::CREAT) || key.is_private();
    let limits = limits().ok();
    if let Some(l) = limits {
        if creating && size < l.shmmin {
            return (
                ErrorKind::InvalidSize,
                format!("segment size {size} is below SHMMIN ({})", l.shmmin),
            );
        }
        if creating && size > l.shmmax {
            return (
                ErrorKind::InvalidSize,
                format!(
                    "segment size {size} is above SHMMAX ({}); raise kernel.shmmax",
                    l.shmmax
                ),
            );
        }
    }
    if !key.is_private() {
        if let Some(seg) = list_segments()
            .ok()
            .and_then(|all| all.into_iter().find(|s| s.key == key && !s.is_removed()))
        {
            if size > seg.size {
                return (
                    ErrorKind::InvalidSize,
                    format!(
                        "segment key {key} exists with size {}, smaller than the requested {size}",
                        seg.size
                    ),
                );
            }
        }
    }
    if flags.contains(GetFlags::HUGETLB) {
        return (
            ErrorKind::InvalidArgument,
            format!(
                "the kernel rejected SHM_HUGETLB for a {size}-byte segment (unsupported huge page size {:#x}?)",
                (flags.bits() >> sysv::SHM_HUGE_SHIFT) & sysv::SHM_HUGE_MASK
            ),
        );
    }
    (
        ErrorKind::InvalidArgument,
        format!(
            "shmget(key {key}, size {size}, flags {:#o}) rejected its arguments",
            flags.bits()
        ),
    )
}

/// Explains a failed call on an existing id; `what` is the verb ("remove", "lock").
pub(crate) fn id_error(e: Errno, id: Id, what: &str) -> Error {
    let (kind, message) = match e {
        Errno::EINVAL | Errno::EIDRM => (
            ErrorKind::NotFound,
            format!("cannot {what} segment id {id}: it does not exist or was removed"),
        ),
        Errno::EACCES => (
            ErrorKind::PermissionDenied,
            match sysv::ipc_stat(id).ok().or_else(|| find_by_id(id)) {
                Some(ds) => format!(
                    "permission denied to {what} segment id {id} (mode {:04o}, owner uid {})",
                    ds.shm_perm.mode & 0o777,
                    ds.shm_perm.uid
                ),
                None => format!("permission denied to {what} segment id {id}"),
            },
        ),
        Errno::EPERM => (
            ErrorKind::PermissionDenied,
            format!(
                "not allowed to {what} segment id {id}: only its owner, its creator or a \
                 privileged process (CAP_SYS_ADMIN, CAP_IPC_LOCK for locking) may"
            ),
        ),
        Errno::ENOMEM => (
            ErrorKind::OutOfMemory,
            format!("cannot {what} segment id {id}: out of memory or RLIMIT_MEMLOCK exceeded"),
        ),
        _ => (ErrorKind::Other, format!("cannot {what} segment id {id}")),
    };
    Error::new(kind, Some(e), message)
}

/// The kernel record of `id`, read without a permission check (`SHM_STAT_ANY`).
pub(crate) fn find_by_id(id: Id) -> Option<Shmid64Ds> {
    let (max, _) = sysv::shm_info().ok()?;
    (0..=max).find_map(|i| match sysv::shm_stat_any(i) {
        Ok((found, ds)) if found == id => Some(ds),
        _ => None,
    })
}
