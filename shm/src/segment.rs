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
#[must_use = "a Segment is only a handle: dropping it leaves the segment in the kernel (remove it, or keep its id)"]
pub struct Segment {
    id: Id,
    key: Key,
}

impl Segment {
    /// Creates a segment of `size` bytes for `key`, or opens the existing one (which
    /// must be at least `size` bytes). Permissions: [`DEFAULT_MODE`] (`0600`).
    ///
    /// `shmget(key, size, IPC_CREAT | 0600)`. The kernel reads the permission bits
    /// both ways: a new segment gets them, and an existing one is opened only if the
    /// caller has every access they name (read and write, for `0600`). To open a
    /// segment you may only read, use [`open`](Self::open) or
    /// [`SegmentOptions::access`].
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

    /// Opens the existing segment for `key`, whatever its size and whatever the caller
    /// may do with it.
    ///
    /// `shmget(key, 0, 0)`: it asks for no access, so the kernel checks none; the
    /// calls that need a permission ([`attach`](Self::attach) needs read, and write
    /// unless read-only; [`stat`](Self::stat) needs read) check it when they are made.
    /// Ask for access up front with [`SegmentOptions::access`]. Fails with
    /// [`ErrorKind::NotFound`] if the key has no segment.
    pub fn open(key: Key) -> Result<Segment> {
        SegmentOptions::new().open(key)
    }

    /// Options for creating or opening a segment: size, permissions, the access to
    /// check when opening, exclusive create, huge pages, no swap reservation.
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
    /// Needs read permission, as `IPC_STAT` does; [`stat_any`](Self::stat_any) needs
    /// none.
    #[doc(alias = "IPC_STAT")]
    #[doc(alias = "shmctl")]
    pub fn stat(&self) -> Result<SegmentInfo> {
        stat_id(self.id)
    }

    /// The same information as [`stat`](Self::stat), without read permission:
    /// `shmctl(SHM_STAT_ANY)` (Linux 4.17) on the id's slot in the kernel's table,
    /// checked to hold this id — what `ipcs -m` and `/proc/sysvipc/shm` show anyone.
    ///
    /// On a kernel without `SHM_STAT_ANY` (or one whose security module refuses it)
    /// this is `IPC_STAT`, which needs read permission.
    #[doc(alias = "SHM_STAT_ANY")]
    pub fn stat_any(&self) -> Result<SegmentInfo> {
        let ds = stat_any_raw(self.id).map_err(|e| id_error(e, self.id, "read"))?;
        Ok(SegmentInfo::from_raw(self.id, &ds))
    }

    /// The size in bytes, from [`stat_any`](Self::stat_any) (no read permission
    /// needed since Linux 4.17).
    pub fn size(&self) -> Result<usize> {
        Ok(self.stat_any()?.size)
    }

    /// Sets the permission bits, keeping the owner: `shmctl(IPC_SET)`, which the owner,
    /// the creator and `CAP_SYS_ADMIN` may make whatever the current mode (an owner
    /// who set mode `0` can restore it). Only the low nine bits of `mode` count.
    ///
    /// `IPC_SET` writes owner and mode together, so the current owner is read first
    /// with [`stat_any`](Self::stat_any) (which needs no permission since Linux 4.17;
    /// on older kernels it needs read permission). That read and the set are two
    /// calls: if another process changes the owner in between, this call puts the old
    /// owner back. [`set_permissions`](Self::set_permissions) sets all three in one
    /// call and reads nothing. (In a user namespace that does not map the owner, the
    /// kernel reports it as the overflow uid, and that is what this would write back;
    /// use `set_permissions` there too.)
    #[doc(alias = "IPC_SET")]
    pub fn set_mode(&self, mode: Mode) -> Result<()> {
        let what = "change the mode of";
        let ds = self.read_for_set(what)?;
        self.ipc_set(ds.shm_perm.uid, ds.shm_perm.gid, mode, what)
    }

    /// Sets the owner user and group, keeping the permission bits (`IPC_SET`, which
    /// the owner, the creator and `CAP_SYS_ADMIN` may make). The creator ids never
    /// change.
    ///
    /// The current mode is read first, with the same read and the same race as
    /// [`set_mode`](Self::set_mode); [`set_permissions`](Self::set_permissions) has
    /// neither.
    #[doc(alias = "IPC_SET")]
    pub fn set_owner(&self, uid: u32, gid: u32) -> Result<()> {
        let what = "change the owner of";
        let ds = self.read_for_set(what)?;
        let mode = Mode::from_bits_truncate(ds.shm_perm.mode & 0o777);
        self.ipc_set(uid, gid, mode, what)
    }

    /// Sets owner user, owner group and permission bits at once: one
    /// `shmctl(IPC_SET)`, reading nothing, so it succeeds exactly when the kernel lets
    /// the caller change the segment (its owner, its creator, or `CAP_SYS_ADMIN`).
    /// Only the low nine bits of `mode` count; an id that is not valid in the caller's
    /// user namespace is [`ErrorKind::InvalidArgument`].
    #[doc(alias = "IPC_SET")]
    pub fn set_permissions(&self, uid: u32, gid: u32, mode: Mode) -> Result<()> {
        self.ipc_set(uid, gid, mode, "change the owner and mode of")
    }

    /// One `IPC_SET` of owner, group and mode; `what` names the change for errors.
    fn ipc_set(&self, uid: u32, gid: u32, mode: Mode, what: &str) -> Result<()> {
        let mut ds = Shmid64Ds::default();
        ds.shm_perm.uid = uid;
        ds.shm_perm.gid = gid;
        ds.shm_perm.mode = mode.bits() & 0o777;
        sysv::ipc_set(self.id, &ds).map_err(|e| match e {
            Errno::EINVAL if id_exists(self.id) => Error::new(
                ErrorKind::InvalidArgument,
                Some(e),
                format!(
                    "cannot set owner uid {uid} gid {gid} on segment id {id}: not a valid \
                     user and group in this user namespace",
                    id = self.id
                ),
            ),
            _ => id_error(e, self.id, what),
        })
    }

    /// The segment's current record for a read-modify-write `IPC_SET`.
    fn read_for_set(&self, what: &str) -> Result<Shmid64Ds> {
        stat_any_raw(self.id).map_err(|e| match e {
            Errno::EACCES => Error::new(
                ErrorKind::PermissionDenied,
                Some(e),
                format!(
                    "cannot {what} segment id {id}: its current owner and mode cannot be \
                     read (SHM_STAT_ANY needs Linux 4.17; IPC_STAT needs read permission); \
                     set all three with Segment::set_permissions",
                    id = self.id
                ),
            ),
            _ => id_error(e, self.id, what),
        })
    }

    /// Removes the segment (`IPC_RMID`): at once if nothing is attached, otherwise
    /// when the last attachment goes (the key is free immediately either way).
    #[doc(alias = "IPC_RMID")]
    pub fn remove(self) -> Result<()> {
        self.id_rmid()
    }

    pub(crate) fn id_rmid(&self) -> Result<()> {
        sysv::ipc_rmid(self.id).map_err(|e| id_error(e, self.id, "remove"))
    }

    /// Wraps the handle in a guard that removes the segment when it drops, unwinding
    /// included.
    pub fn remove_on_drop(self) -> RemoveOnDrop {
        RemoveOnDrop(Some(self))
    }

    /// Locks the segment's pages in memory (`SHM_LOCK`; needs `CAP_IPC_LOCK`, or
    /// ownership and a non-zero `RLIMIT_MEMLOCK`).
    #[doc(alias = "SHM_LOCK")]
    pub fn lock(&self) -> Result<()> {
        sysv::shm_lock(self.id).map_err(|e| id_error(e, self.id, "lock"))
    }

    /// Lets the segment's pages be swapped again (`SHM_UNLOCK`; the same privilege as
    /// [`lock`](Self::lock)).
    #[doc(alias = "SHM_UNLOCK")]
    pub fn unlock(&self) -> Result<()> {
        sysv::shm_unlock(self.id).map_err(|e| id_error(e, self.id, "unlock"))
    }
}

/// A [`Segment`] that is removed (`IPC_RMID`) when this guard drops.
///
/// Dereferences to the segment; [`into_inner`](Self::into_inner) disarms it.
#[derive(Debug)]
#[must_use = "dropping the guard removes the segment at once"]
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

bitflags::bitflags! {
    /// The access a caller asks for when it opens an existing segment by key: the bits
    /// `shmget` checks against the segment's permissions ([`SegmentOptions::access`]).
    ///
    /// The kernel grants a request if the caller's class (owner or creator, group,
    /// others) has every access named, or if it has `CAP_IPC_OWNER`; asking for
    /// nothing ([`Access::empty`], the default) is granted to anyone.
    ///
    /// ```
    /// use shm::Access;
    /// assert_eq!((Access::READ | Access::WRITE).bits(), 0o666);
    /// assert!(Access::default().is_empty());
    /// ```
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
    pub struct Access: u32 {
        /// Read permission (`S_IRUGO`): what a read-only attach needs.
        const READ = 0o444;
        /// Write permission (`S_IWUGO`): with `READ`, what a read-write attach needs.
        const WRITE = 0o222;
    }
}

/// How to create or open a segment; build with [`Segment::options`].
///
/// `shmget(2)` takes one set of permission bits and uses it two ways: a segment it
/// creates gets them as its mode, and an existing segment is opened only if the
/// caller has the access they name. So these options send [`mode`](Self::mode) when
/// they may create (`create`, `exclusive`, a private key) and [`access`](Self::access)
/// (nothing, by default) when they only open.
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
#[must_use = "options do nothing until `open` or `create_private`; each setter returns the changed options"]
pub struct SegmentOptions {
    size: usize,
    mode: Mode,
    access: Access,
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
    /// Open only, size 0 (any), no access asked for; mode `0600` if told to create.
    pub fn new() -> Self {
        Self {
            size: 0,
            mode: DEFAULT_MODE,
            access: Access::empty(),
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

    /// Permissions of a created segment (low nine bits). With [`create`](Self::create)
    /// and an existing segment, the kernel also checks the caller has the access these
    /// bits name.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The access to check when only opening (no `create`/`exclusive`): the call
    /// fails with [`ErrorKind::PermissionDenied`] unless the caller has it. Default:
    /// none, so opening finds any segment, and each later call checks what it needs.
    ///
    /// ```
    /// use shm::{Access, Segment};
    /// let key = shm::Key::from_raw(0x5348_1000 | (std::process::id() as i32 & 0xfff));
    /// let seg = Segment::create_exclusive(key, 4096)?.remove_on_drop();
    /// let again = Segment::options().access(Access::READ | Access::WRITE).open(key)?;
    /// assert_eq!(again.id(), seg.id());
    /// # Ok::<(), shm::Error>(())
    /// ```
    pub fn access(mut self, access: Access) -> Self {
        self.access = access;
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

    /// The permission bits `shmget` gets for `key`: the creation [`mode`](Self::mode)
    /// when the call may create (`create`, `exclusive`, or [`Key::PRIVATE`]), else
    /// the [`access`](Self::access) to check.
    pub fn permission_bits(&self, key: Key) -> Mode {
        if self.create || self.exclusive || key.is_private() {
            Mode::from_bits_truncate(self.mode.bits() & 0o777)
        } else {
            Mode::from_bits_truncate(self.access.bits())
        }
    }

    /// `shmget(key, size, flags | permission bits)` (see
    /// [`permission_bits`](Self::permission_bits)).
    #[doc(alias = "shmget")]
    pub fn open(&self, key: Key) -> Result<Segment> {
        let flags = self.flags();
        let perm = self.permission_bits(key);
        let id = sysv::shmget(key, self.size, flags, perm)
            .map_err(|e| get_error(e, key, self.size, flags, perm))?;
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

/// `IPC_STAT` of `id`, explained.
pub(crate) fn stat_id(id: Id) -> Result<SegmentInfo> {
    let ds = sysv::ipc_stat(id).map_err(|e| id_error(e, id, "read"))?;
    Ok(SegmentInfo::from_raw(id, &ds))
}

/// The slots of the kernel's table that may hold segment `id`: its low 15 bits, and
/// its low 24 bits if those differ (`ipcmni_extend`, Linux 5.6, widens the index from
/// 15 to 24 bits and narrows the sequence number above it). None for a negative id.
fn slots(id: Id) -> [Option<i32>; 2] {
    let raw = id.as_raw();
    if raw < 0 {
        return [None, None];
    }
    let (narrow, wide) = (raw & ((1 << 15) - 1), raw & ((1 << 24) - 1));
    [Some(narrow), (wide != narrow).then_some(wide)]
}

/// The kernel's record of segment `id`, read without a permission check:
/// `SHM_STAT_ANY` on the id's slot in the kernel's table (its low 15 bits, or 24 with
/// `ipcmni_extend`), accepted only if the slot holds this very id. If no slot
/// answers with it — the id is gone, or the kernel predates `SHM_STAT_ANY` (4.17) or
/// refuses it — the answer is `IPC_STAT`'s, which decides between the two (and needs
/// read permission).
pub(crate) fn stat_any_raw(id: Id) -> core::result::Result<Shmid64Ds, Errno> {
    for index in slots(id).into_iter().flatten() {
        if let Ok((found, ds)) = sysv::shm_stat_any(index) {
            if found == id {
                return Ok(ds);
            }
        }
    }
    sysv::ipc_stat(id)
}

/// Whether segment `id` exists (for error messages; one or two calls).
pub(crate) fn id_exists(id: Id) -> bool {
    matches!(stat_any_raw(id), Ok(_) | Err(Errno::EACCES | Errno::EPERM))
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

/// The access `shmget` checks for permission bits `perm`, in words (the kernel folds
/// the three classes together: `0600` asks for read and write).
fn describe_access(perm: Mode) -> &'static str {
    let b = perm.bits();
    match ((b >> 6) | (b >> 3) | b) & 0o7 {
        0 => "no access",
        1 => "execute",
        2 => "write",
        3 => "write and execute",
        4 => "read",
        5 => "read and execute",
        6 => "read and write",
        _ => "read, write and execute",
    }
}

/// Explains a failed `shmget`.
fn get_error(e: Errno, key: Key, size: usize, flags: GetFlags, perm: Mode) -> Error {
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
        Errno::EACCES => {
            let asked = describe_access(perm);
            (
                ErrorKind::PermissionDenied,
                match describe_key(key) {
                    Some(d) => {
                        format!("permission denied opening segment key {key} for {asked} ({d})")
                    }
                    None => format!("permission denied opening segment key {key} for {asked}"),
                },
            )
        }
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
            match stat_any_raw(id).ok() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cover_both_index_widths() {
        // Classic: index in the low 15 bits, sequence number above.
        let classic = Id::from_raw((7 << 15) | 123);
        assert_eq!(slots(classic), [Some(123), Some((7 << 15) | 123)]);
        // ipcmni_extend: index in the low 24 bits.
        let extended = Id::from_raw((3 << 24) | (5 << 15) | 9);
        assert_eq!(slots(extended), [Some(9), Some((5 << 15) | 9)]);
        // The first segment of a boot, and a small id: one slot.
        assert_eq!(slots(Id::from_raw(0)), [Some(0), None]);
        assert_eq!(slots(Id::from_raw(42)), [Some(42), None]);
        assert_eq!(slots(Id::from_raw(-1)), [None, None]);
    }

    #[test]
    fn describe_access_folds_the_three_classes() {
        assert_eq!(
            describe_access(Mode::from_bits_truncate(0o600)),
            "read and write"
        );
        assert_eq!(describe_access(Mode::from_bits_truncate(0o004)), "read");
        assert_eq!(describe_access(Mode::from_bits_truncate(0o222)), "write");
        assert_eq!(describe_access(Mode::empty()), "no access");
    }
}
