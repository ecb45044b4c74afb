//! The raw layer: the four System V shared-memory system calls, typed, and the kernel
//! structures they read and write.
//!
//! Everything here is one step above the kernel: each function makes exactly one
//! system call through [`linker_tools::sys`](mod@linker_tools::sys) (declared with [`linker_tools::sys!`],
//! never through libc), takes typed flags and commands instead of bare integers, and
//! returns the raw [`Errno`] on failure. The safe, explained API is
//! [`Segment`](crate::Segment) and [`Attachment`](crate::Attachment).
//!
//! | call | functions here | man page |
//! |---|---|---|
//! | `shmget(2)` | [`shmget`] | `shmget(2)` |
//! | `shmat(2)` | [`shmat`] (`unsafe`) | `shmop(2)` |
//! | `shmdt(2)` | [`shmdt`] (`unsafe`) | `shmop(2)` |
//! | `shmctl(2)` | [`shmctl`] (`unsafe`, any [`Command`]), [`shmctl_raw`] (`unsafe`, any command number); safe: [`ipc_stat`], [`ipc_set`], [`ipc_rmid`], [`ipc_info`], [`shm_info`], [`shm_stat`], [`shm_stat_any`], [`shm_lock`], [`shm_unlock`] | `shmctl(2)` |
//! | — | [`ftok`] (glibc's formula over `stat(2)`) | `ftok(3)` |
//!
//! The structures are the ones x86_64 Linux really uses: `shmctl` on x86_64 always
//! speaks the 64-bit ABI (`IPC_64` is implied, and must not be or-ed into the
//! command), so the buffer is a [`Shmid64Ds`], whose layout is asserted at compile
//! time.
//!
//! # Safety
//!
//! The one story here: what the kernel does to this process's memory in each call.
//! `shmat` creates a mapping and `shmdt` removes one, so both are `unsafe`: the
//! caller decides which memory the process may still use. [`shmctl`] and
//! [`shmctl_raw`] read or write through a raw buffer pointer, so the generic forms are
//! `unsafe`; each safe command function passes a buffer of exactly the structure its
//! command uses, owned by the function for the call. `shmget` affects only kernel
//! objects, never this process's memory, and is safe. [`Id`]'s `SysRet` is `unsafe`
//! only by the trait's definition: an id is a plain integer.

#![allow(unsafe_code)]

use core::ffi::c_void;
use core::fmt;
use core::mem::{offset_of, size_of};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use linker_tools::sys::{ArgClass, Errno, Mode, SysArg, SysRet};

/// `SHMLBA` on x86_64: attach addresses must be multiples of it (one page, 4096 bytes).
pub const SHMLBA: usize = 4096;

/// `SHMMIN`: the smallest segment size Linux accepts (1 byte; the mapping is still a
/// whole page).
pub const SHMMIN: usize = 1;

/// A System V IPC key (`key_t`): the name under which processes find a segment.
///
/// Make one with [`Key::from_raw`] or from a file with [`ftok`]/[`Key::ftok`];
/// [`Key::PRIVATE`] (`IPC_PRIVATE`) always creates a new, unnamed segment.
///
/// ```
/// use shm::Key;
/// assert_eq!(Key::PRIVATE.as_raw(), 0);
/// assert_eq!(Key::from_raw(0x1234).to_string(), "0x00001234");
/// assert_eq!(Key::PRIVATE.to_string(), "IPC_PRIVATE");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[repr(transparent)]
#[doc(alias = "key_t")]
pub struct Key(i32);

impl Key {
    /// `IPC_PRIVATE`: every `shmget` with this key creates a new segment that only its
    /// id can reach.
    #[doc(alias = "IPC_PRIVATE")]
    pub const PRIVATE: Key = Key(0);

    /// Wraps a raw key.
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The raw key.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// Whether this is `IPC_PRIVATE`.
    pub const fn is_private(self) -> bool {
        self.0 == 0
    }

    /// The key glibc's `ftok(3)` derives from `path` and `proj_id`; see [`ftok`].
    pub fn ftok(path: impl AsRef<Path>, proj_id: u8) -> io::Result<Key> {
        ftok(path, proj_id)
    }
}

/// `IPC_PRIVATE`, the same value as [`Key::PRIVATE`].
pub const IPC_PRIVATE: Key = Key::PRIVATE;

impl fmt::Display for Key {
    /// `IPC_PRIVATE`, or the key in hexadecimal as `ipcs` prints it (`0x00001234`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_private() {
            f.write_str("IPC_PRIVATE")
        } else {
            write!(f, "{:#010x}", self.0 as u32)
        }
    }
}

// SAFETY: a plain value (an id, number or flag word), never an address.
unsafe impl SysArg for Key {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.0.into_arg()
    }
}

/// A segment identifier (`shmid`), as `shmget` returns it and `ipcs -m` lists it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[repr(transparent)]
#[doc(alias = "shmid")]
#[must_use = "an Id may be the only way to reach a segment (always, for a private one): dropping it unused can leak the segment"]
pub struct Id(i32);

impl Id {
    /// Wraps a raw id (from `ipcs`, another process, …). Nothing is checked: a stale
    /// or foreign id makes the calls using it fail with `EINVAL`/`EIDRM`/`EACCES`.
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The raw id.
    pub const fn as_raw(self) -> i32 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// SAFETY: a plain value (an id, number or flag word), never an address.
unsafe impl SysArg for Id {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.0.into_arg()
    }
}

// SAFETY: an id is a plain integer with no invariants.
unsafe impl SysRet for Id {
    #[inline(always)]
    unsafe fn from_ret(raw: usize) -> Self {
        Self(raw as i32)
    }
}

bitflags::bitflags! {
    /// Flags of `shmget(2)` (`IPC_*`, `SHM_*`), apart from the permission bits, which
    /// [`shmget`] takes as a [`Mode`].
    ///
    /// The huge page size is a 6-bit field, not a flag: build it with
    /// [`GetFlags::hugetlb`].
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct GetFlags: u32 {
        /// `IPC_CREAT`: create the segment if the key has none.
        #[doc(alias = "IPC_CREAT")]
        const CREAT = 0o1000;
        /// `IPC_EXCL`: with `CREAT`, fail with `EEXIST` if the key already has one.
        #[doc(alias = "IPC_EXCL")]
        const EXCL = 0o2000;
        /// `SHM_HUGETLB`: back the segment with huge pages (needs `CAP_IPC_LOCK` or
        /// membership in `vm.hugetlb_shm_group`, and reserved huge pages).
        #[doc(alias = "SHM_HUGETLB")]
        const HUGETLB = 0o4000;
        /// `SHM_NORESERVE`: reserve no swap space; pages are allocated when touched.
        #[doc(alias = "SHM_NORESERVE")]
        const NORESERVE = 0o10000;
        /// `SHM_HUGE_2MB`: 2 MiB huge pages (`21 << SHM_HUGE_SHIFT`), with `HUGETLB`.
        #[doc(alias = "SHM_HUGE_2MB")]
        const HUGE_2MB = 21 << 26;
        /// `SHM_HUGE_1GB`: 1 GiB huge pages (`30 << SHM_HUGE_SHIFT`), with `HUGETLB`.
        #[doc(alias = "SHM_HUGE_1GB")]
        const HUGE_1GB = 30 << 26;
        /// Bits this type does not name (other huge page sizes) pass through unchanged.
        const _ = !0;
    }
}

/// `SHM_HUGE_SHIFT`: where the log2 of the huge page size sits in [`GetFlags`].
pub const SHM_HUGE_SHIFT: u32 = 26;
/// `SHM_HUGE_MASK`: the width of the huge page size field (before the shift).
pub const SHM_HUGE_MASK: u32 = 0x3f;

/// A huge page size for `SHM_HUGETLB`, encoded as its log2.
///
/// ```
/// use shm::sysv::{GetFlags, HugePageSize};
/// assert_eq!(HugePageSize::SIZE_2MB.bytes(), Some(2 << 20));
/// assert_eq!(GetFlags::hugetlb(HugePageSize::SIZE_2MB), GetFlags::HUGETLB | GetFlags::HUGE_2MB);
/// assert_eq!(HugePageSize::from_bytes(1 << 30), Some(HugePageSize::SIZE_1GB));
/// assert_eq!(HugePageSize::from_bytes(3 << 20), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HugePageSize(u8);

impl HugePageSize {
    /// The system's default huge page size (size field 0).
    pub const DEFAULT: Self = Self(0);
    /// 2 MiB pages (`SHM_HUGE_2MB`).
    pub const SIZE_2MB: Self = Self(21);
    /// 1 GiB pages (`SHM_HUGE_1GB`).
    pub const SIZE_1GB: Self = Self(30);

    /// A size given as its log2 (`21` for 2 MiB); `None` if it does not fit the
    /// 6-bit field.
    pub const fn from_log2(log2: u8) -> Option<Self> {
        if log2 as u32 <= SHM_HUGE_MASK {
            Some(Self(log2))
        } else {
            None
        }
    }

    /// A size given in bytes; `None` unless a power of two that fits the field.
    pub const fn from_bytes(bytes: usize) -> Option<Self> {
        if bytes.is_power_of_two() {
            Self::from_log2(bytes.trailing_zeros() as u8)
        } else {
            None
        }
    }

    /// The size in bytes, or `None` for [`DEFAULT`](Self::DEFAULT).
    pub const fn bytes(self) -> Option<usize> {
        if self.0 == 0 {
            None
        } else {
            Some(1usize << self.0)
        }
    }

    /// The log2 of the size (`0` for the default).
    pub const fn log2(self) -> u8 {
        self.0
    }
}

impl GetFlags {
    /// `SHM_HUGETLB` with the page size encoded (`log2 << SHM_HUGE_SHIFT`).
    pub const fn hugetlb(size: HugePageSize) -> Self {
        Self::from_bits_retain(Self::HUGETLB.bits() | ((size.0 as u32) << SHM_HUGE_SHIFT))
    }
}

bitflags::bitflags! {
    /// Flags of `shmat(2)` (`SHM_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
    pub struct AtFlags: u32 {
        /// `SHM_RDONLY`: map read-only; a write faults with `SIGSEGV`.
        #[doc(alias = "SHM_RDONLY")]
        const RDONLY = 0o10000;
        /// `SHM_RND`: round a given address down to a multiple of [`SHMLBA`].
        #[doc(alias = "SHM_RND")]
        const RND = 0o20000;
        /// `SHM_REMAP`: replace any mapping in the range (otherwise `EINVAL`).
        #[doc(alias = "SHM_REMAP")]
        const REMAP = 0o40000;
        /// `SHM_EXEC`: map executable too (needs read permission on the segment).
        #[doc(alias = "SHM_EXEC")]
        const EXEC = 0o100000;
    }
}

// SAFETY: a plain value (an id, number or flag word), never an address.
unsafe impl SysArg for AtFlags {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.bits() as usize
    }
}

bitflags::bitflags! {
    /// The state bits the kernel keeps above the permissions in
    /// [`Ipc64Perm::mode`].
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
    pub struct StateFlags: u32 {
        /// `SHM_DEST`: removed (`IPC_RMID`) and destroyed when the last attachment
        /// goes; the key is already free.
        #[doc(alias = "SHM_DEST")]
        const DEST = 0o1000;
        /// `SHM_LOCKED`: locked in memory with `SHM_LOCK`.
        #[doc(alias = "SHM_LOCKED")]
        const LOCKED = 0o2000;
    }
}

/// A `shmctl(2)` command. On x86_64 the kernel always uses the 64-bit structures, so
/// no `IPC_64` bit is ever added.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(i32)]
#[non_exhaustive]
pub enum Command {
    /// `IPC_RMID` (0): remove the segment (at once, or when the last attachment goes).
    #[doc(alias = "IPC_RMID")]
    Rmid = 0,
    /// `IPC_SET` (1): set owner uid/gid and permissions from a [`Shmid64Ds`].
    #[doc(alias = "IPC_SET")]
    Set = 1,
    /// `IPC_STAT` (2): read the segment's [`Shmid64Ds`].
    #[doc(alias = "IPC_STAT")]
    Stat = 2,
    /// `IPC_INFO` (3): read the system limits ([`Shminfo64`]); returns the highest
    /// index in use.
    #[doc(alias = "IPC_INFO")]
    IpcInfo = 3,
    /// `SHM_LOCK` (11): keep the segment's pages in memory.
    #[doc(alias = "SHM_LOCK")]
    Lock = 11,
    /// `SHM_UNLOCK` (12): let them be swapped again.
    #[doc(alias = "SHM_UNLOCK")]
    Unlock = 12,
    /// `SHM_STAT` (13): like `IPC_STAT` but by index into the kernel's table; returns
    /// the id.
    #[doc(alias = "SHM_STAT")]
    ShmStat = 13,
    /// `SHM_INFO` (14): system-wide usage ([`ShmInfo`]); returns the highest index in
    /// use.
    #[doc(alias = "SHM_INFO")]
    ShmInfo = 14,
    /// `SHM_STAT_ANY` (15, Linux 4.17): `SHM_STAT` without the read-permission check.
    #[doc(alias = "SHM_STAT_ANY")]
    ShmStatAny = 15,
}

impl Command {
    /// The command's number, as `shmctl(2)` takes it.
    pub const fn as_raw(self) -> i32 {
        self as i32
    }

    /// The command numbered `raw`, if this enum names it. For any other number (a
    /// command of a newer or patched kernel, or a probe) use [`shmctl_raw`].
    ///
    /// ```
    /// use shm::sysv::Command;
    /// assert_eq!(Command::from_raw(15), Some(Command::ShmStatAny));
    /// assert_eq!(Command::from_raw(Command::Lock.as_raw()), Some(Command::Lock));
    /// assert_eq!(Command::from_raw(-1), None);
    /// ```
    pub const fn from_raw(raw: i32) -> Option<Command> {
        Some(match raw {
            0 => Command::Rmid,
            1 => Command::Set,
            2 => Command::Stat,
            3 => Command::IpcInfo,
            11 => Command::Lock,
            12 => Command::Unlock,
            13 => Command::ShmStat,
            14 => Command::ShmInfo,
            15 => Command::ShmStatAny,
            _ => return None,
        })
    }
}

// SAFETY: a plain value (a command number), never an address.
unsafe impl SysArg for Command {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.as_raw().into_arg()
    }
}

/// The kernel's `struct ipc64_perm` on x86_64: owner, creator and permissions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[repr(C)]
#[doc(alias = "ipc64_perm")]
#[doc(alias = "ipc_perm")]
pub struct Ipc64Perm {
    /// The key (`IPC_PRIVATE` once the segment is removed).
    pub key: Key,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Creator user id.
    pub cuid: u32,
    /// Creator group id.
    pub cgid: u32,
    /// Permission bits (low 9) plus [`StateFlags`].
    pub mode: u32,
    /// Slot usage sequence number.
    pub seq: u16,
    /// Padding.
    pub __pad2: u16,
    /// Reserved.
    pub __unused1: u64,
    /// Reserved.
    pub __unused2: u64,
}

const _: () = {
    assert!(size_of::<Ipc64Perm>() == 48);
    assert!(offset_of!(Ipc64Perm, key) == 0);
    assert!(offset_of!(Ipc64Perm, uid) == 4);
    assert!(offset_of!(Ipc64Perm, gid) == 8);
    assert!(offset_of!(Ipc64Perm, cuid) == 12);
    assert!(offset_of!(Ipc64Perm, cgid) == 16);
    assert!(offset_of!(Ipc64Perm, mode) == 20);
    assert!(offset_of!(Ipc64Perm, seq) == 24);
    assert!(offset_of!(Ipc64Perm, __unused1) == 32);
    assert!(offset_of!(Ipc64Perm, __unused2) == 40);
};

/// The kernel's `struct shmid64_ds` on x86_64 (asm-generic, 64-bit `long` times):
/// what `IPC_STAT`/`SHM_STAT` fill in and `IPC_SET` reads.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[repr(C)]
#[doc(alias = "shmid64_ds")]
#[doc(alias = "shmid_ds")]
pub struct Shmid64Ds {
    /// Ownership and permissions.
    pub shm_perm: Ipc64Perm,
    /// Size in bytes, as requested at creation.
    pub shm_segsz: usize,
    /// Last attach time (seconds since the epoch; 0 if never).
    pub shm_atime: i64,
    /// Last detach time (0 if never).
    pub shm_dtime: i64,
    /// Creation or last `IPC_SET` time.
    pub shm_ctime: i64,
    /// Creator's process id.
    pub shm_cpid: i32,
    /// Process id of the last `shmat`/`shmdt`.
    pub shm_lpid: i32,
    /// Number of current attachments.
    pub shm_nattch: u64,
    /// Reserved.
    pub __unused4: u64,
    /// Reserved.
    pub __unused5: u64,
}

const _: () = {
    assert!(size_of::<Shmid64Ds>() == 112);
    assert!(offset_of!(Shmid64Ds, shm_perm) == 0);
    assert!(offset_of!(Shmid64Ds, shm_segsz) == 48);
    assert!(offset_of!(Shmid64Ds, shm_atime) == 56);
    assert!(offset_of!(Shmid64Ds, shm_dtime) == 64);
    assert!(offset_of!(Shmid64Ds, shm_ctime) == 72);
    assert!(offset_of!(Shmid64Ds, shm_cpid) == 80);
    assert!(offset_of!(Shmid64Ds, shm_lpid) == 84);
    assert!(offset_of!(Shmid64Ds, shm_nattch) == 88);
    assert!(offset_of!(Shmid64Ds, __unused4) == 96);
    assert!(offset_of!(Shmid64Ds, __unused5) == 104);
};

/// The kernel's `struct shminfo64`: the system limits `IPC_INFO` reports.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[repr(C)]
#[doc(alias = "shminfo64")]
#[doc(alias = "shminfo")]
pub struct Shminfo64 {
    /// Largest segment, in bytes (`kernel.shmmax`).
    pub shmmax: u64,
    /// Smallest segment, in bytes (always 1).
    pub shmmin: u64,
    /// Most segments system-wide (`kernel.shmmni`).
    pub shmmni: u64,
    /// Most attachments per process (Linux reports `SHMSEG`; it does not enforce it).
    pub shmseg: u64,
    /// Most shared memory system-wide, in pages (`kernel.shmall`).
    pub shmall: u64,
    /// Reserved.
    pub __unused1: u64,
    /// Reserved.
    pub __unused2: u64,
    /// Reserved.
    pub __unused3: u64,
    /// Reserved.
    pub __unused4: u64,
}

const _: () = {
    assert!(size_of::<Shminfo64>() == 72);
    assert!(offset_of!(Shminfo64, shmmax) == 0);
    assert!(offset_of!(Shminfo64, shmmin) == 8);
    assert!(offset_of!(Shminfo64, shmmni) == 16);
    assert!(offset_of!(Shminfo64, shmseg) == 24);
    assert!(offset_of!(Shminfo64, shmall) == 32);
};

/// The kernel's `struct shm_info`: system-wide usage that `SHM_INFO` reports.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[repr(C)]
#[doc(alias = "shm_info")]
pub struct ShmInfo {
    /// Segments in existence.
    pub used_ids: i32,
    /// Total size of all segments, in pages.
    pub shm_tot: u64,
    /// Resident pages.
    pub shm_rss: u64,
    /// Swapped pages.
    pub shm_swp: u64,
    /// Unused (always 0).
    pub swap_attempts: u64,
    /// Unused (always 0).
    pub swap_successes: u64,
}

const _: () = {
    assert!(size_of::<ShmInfo>() == 48);
    assert!(offset_of!(ShmInfo, used_ids) == 0);
    assert!(offset_of!(ShmInfo, shm_tot) == 8);
    assert!(offset_of!(ShmInfo, shm_rss) == 16);
    assert!(offset_of!(ShmInfo, shm_swp) == 24);
    assert!(offset_of!(ShmInfo, swap_attempts) == 32);
    assert!(offset_of!(ShmInfo, swap_successes) == 40);
};

linker_tools::sys! {
    /// `shmget(2)` with the flags and permissions already combined. It touches no
    /// memory of this process, so it is safe.
    fn raw_shmget(key: Key, size: usize, flags: u32) -> Result<Id> = shmget;
    /// `shmat(2)`.
    ///
    /// # Safety
    ///
    /// As for [`shmat`]: with `SHM_REMAP` the new mapping replaces whatever was
    /// mapped at `addr`, which must hold nothing Rust still uses.
    unsafe fn raw_shmat(id: Id, addr: *const c_void, flags: AtFlags) -> Result<*mut c_void> = shmat;
    /// `shmdt(2)`.
    ///
    /// # Safety
    ///
    /// As for [`shmdt`]: the attachment at `addr` disappears, so nothing may use it
    /// afterwards.
    unsafe fn raw_shmdt(addr: *const c_void) -> Result<()> = shmdt;
    /// `shmctl(2)` with a command number; `id` is an index for
    /// `SHM_STAT`/`SHM_STAT_ANY`.
    ///
    /// # Safety
    ///
    /// As for [`shmctl_raw`]: `buf` must be valid for whatever command `cmd` reads
    /// or writes through it.
    unsafe fn raw_shmctl(id: i32, cmd: i32, buf: *mut c_void) -> Result<i32> = shmctl;
}

/// `shmget(2)`: the id of the segment for `key`, creating it with `flags` and the
/// permission bits of `mode` (`& 0o777`) as asked.
///
/// `size` is the minimum size the caller needs: `0` opens any existing segment; a new
/// segment gets exactly `size` bytes (the mapping is page-rounded).
///
/// Errors: `EINVAL` (size below `SHMMIN`, above `SHMMAX`, or larger than the existing
/// segment; bad huge page size), `EEXIST` (`CREAT | EXCL` and the key exists),
/// `ENOENT` (no segment and no `CREAT`), `EACCES` (no permission), `ENOSPC`
/// (`SHMMNI` or `SHMALL` reached), `ENOMEM`, `EPERM` (`HUGETLB` without privilege).
///
/// See `shmget(2)`.
#[doc(alias = "IPC_CREAT")]
pub fn shmget(key: Key, size: usize, flags: GetFlags, mode: Mode) -> Result<Id, Errno> {
    raw_shmget(key, size, flags.bits() | (mode.bits() & 0o777))
}

/// `shmat(2)`: maps segment `id` at `addr` (anywhere, if null) and returns the address.
///
/// A non-null `addr` must be a multiple of [`SHMLBA`] unless `flags` has
/// [`AtFlags::RND`]; without [`AtFlags::REMAP`] the call fails with `EINVAL` if the
/// range overlaps an existing mapping.
///
/// Errors: `EACCES`, `EINVAL` (bad id or address), `EIDRM`, `ENOMEM`.
///
/// See `shmop(2)`.
///
/// # Safety
///
/// With [`AtFlags::REMAP`], the mapping replaces whatever was mapped in
/// `[addr, addr + size)`: that range must hold no memory Rust still uses. The caller
/// owns the returned mapping and must not use it after [`shmdt`].
#[doc(alias = "shmop")]
pub unsafe fn shmat(id: Id, addr: *const c_void, flags: AtFlags) -> Result<*mut c_void, Errno> {
    // SAFETY: forwarded from this function's contract.
    unsafe { raw_shmat(id, addr, flags) }
}

/// `shmdt(2)`: detaches the segment attached at `addr`.
///
/// Errors: `EINVAL` (no segment attached at `addr`).
///
/// See `shmop(2)`.
///
/// # Safety
///
/// `addr` must be the address of an attachment nothing in the program still uses:
/// the memory disappears (a later access faults or hits whatever is mapped there next).
pub unsafe fn shmdt(addr: *const c_void) -> Result<(), Errno> {
    // SAFETY: forwarded from this function's contract.
    unsafe { raw_shmdt(addr) }
}

/// `shmctl(2)` with any command and a raw buffer; returns the kernel's result (the
/// id for `SHM_STAT`, the highest index for `IPC_INFO`/`SHM_INFO`, otherwise 0).
///
/// See `shmctl(2)`.
///
/// # Safety
///
/// `buf` must be null (for `IPC_RMID`, `SHM_LOCK`, `SHM_UNLOCK`) or point to the
/// structure `cmd` reads or writes, valid for that access: [`Shmid64Ds`] for
/// `IPC_STAT`, `IPC_SET`, `SHM_STAT`, `SHM_STAT_ANY`; [`Shminfo64`] for `IPC_INFO`;
/// [`ShmInfo`] for `SHM_INFO`.
pub unsafe fn shmctl(id: i32, cmd: Command, buf: *mut c_void) -> Result<i32, Errno> {
    // SAFETY: forwarded from this function's contract.
    unsafe { raw_shmctl(id, cmd.as_raw(), buf) }
}

/// `shmctl(2)` with any command number, named by [`Command`] or not: the escape hatch
/// for a command of a newer or patched kernel, or for probing. Linux answers a number
/// it does not know (a negative one included) with `EINVAL`, as libc's `shmctl` does.
///
/// ```
/// use shm::sysv::shmctl_raw;
/// use shm::Errno;
/// // SAFETY: an unknown command reads and writes no buffer (and there is none).
/// assert_eq!(unsafe { shmctl_raw(0, -1, core::ptr::null_mut()) }, Err(Errno::EINVAL));
/// ```
///
/// See `shmctl(2)`.
///
/// # Safety
///
/// `buf` must be valid for whatever command `cmd` reads or writes through it on the
/// running kernel (for the numbers [`Command`] names, see [`shmctl`]). A command that
/// takes no buffer, or a number the kernel rejects, touches none.
#[doc(alias = "shmctl")]
pub unsafe fn shmctl_raw(id: i32, cmd: i32, buf: *mut c_void) -> Result<i32, Errno> {
    // SAFETY: forwarded from this function's contract.
    unsafe { raw_shmctl(id, cmd, buf) }
}

/// `shmctl(id, IPC_STAT)`: the segment's [`Shmid64Ds`] (needs read permission).
///
/// Errors: `EINVAL`/`EIDRM` (no such id), `EACCES`.
#[doc(alias = "shmctl")]
#[doc(alias = "IPC_STAT")]
pub fn ipc_stat(id: Id) -> Result<Shmid64Ds, Errno> {
    let mut ds = Shmid64Ds::default();
    // SAFETY: IPC_STAT writes one Shmid64Ds, and `ds` is one.
    unsafe { raw_shmctl(id.0, Command::Stat.as_raw(), (&raw mut ds).cast())? };
    Ok(ds)
}

/// `shmctl(id, IPC_SET)`: sets the owner uid/gid and the permission bits (low 9 bits
/// of `mode`) from `ds.shm_perm`; everything else in `ds` is ignored.
///
/// Needs no permission bits, only ownership: the caller must be the owner, the creator
/// or have `CAP_SYS_ADMIN`.
///
/// Errors: `EINVAL`/`EIDRM` (no such id; also a uid or gid not valid in the caller's
/// user namespace), `EPERM` (caller is neither owner, creator nor `CAP_SYS_ADMIN`).
#[doc(alias = "shmctl")]
#[doc(alias = "IPC_SET")]
pub fn ipc_set(id: Id, ds: &Shmid64Ds) -> Result<(), Errno> {
    let mut copy = *ds;
    // SAFETY: IPC_SET reads one Shmid64Ds, and `copy` is one (the kernel only reads).
    unsafe { raw_shmctl(id.0, Command::Set.as_raw(), (&raw mut copy).cast())? };
    Ok(())
}

/// `shmctl(id, IPC_RMID)`: removes the segment now if nothing is attached, otherwise
/// marks it [`StateFlags::DEST`] (the key is freed at once; the memory goes with the
/// last detach, including detaches by process exit or crash).
///
/// Errors: `EINVAL`/`EIDRM`, `EPERM`.
#[doc(alias = "shmctl")]
#[doc(alias = "IPC_RMID")]
pub fn ipc_rmid(id: Id) -> Result<(), Errno> {
    // SAFETY: IPC_RMID uses no buffer.
    unsafe { raw_shmctl(id.0, Command::Rmid.as_raw(), core::ptr::null_mut())? };
    Ok(())
}

/// `shmctl(0, IPC_INFO)`: the system limits, and the highest index in use (`-1` if
/// there are no segments).
#[doc(alias = "shmctl")]
#[doc(alias = "IPC_INFO")]
pub fn ipc_info() -> Result<(i32, Shminfo64), Errno> {
    let mut info = Shminfo64::default();
    // SAFETY: IPC_INFO (64-bit ABI) writes one Shminfo64, and `info` is one.
    let max = unsafe { raw_shmctl(0, Command::IpcInfo.as_raw(), (&raw mut info).cast())? };
    Ok((max, info))
}

/// `shmctl(0, SHM_INFO)`: system-wide usage, and the highest index in use (`-1` if
/// there are no segments).
#[doc(alias = "shmctl")]
#[doc(alias = "SHM_INFO")]
pub fn shm_info() -> Result<(i32, ShmInfo), Errno> {
    let mut info = ShmInfo::default();
    // SAFETY: SHM_INFO writes one ShmInfo, and `info` is one.
    let max = unsafe { raw_shmctl(0, Command::ShmInfo.as_raw(), (&raw mut info).cast())? };
    Ok((max, info))
}

/// `shmctl(index, SHM_STAT)`: the segment in slot `index` of the kernel's table (`0`
/// up to the index [`shm_info`] returns) and its id. Needs read permission.
///
/// Errors: `EINVAL` (empty slot), `EACCES`.
#[doc(alias = "shmctl")]
#[doc(alias = "SHM_STAT")]
pub fn shm_stat(index: i32) -> Result<(Id, Shmid64Ds), Errno> {
    let mut ds = Shmid64Ds::default();
    // SAFETY: SHM_STAT writes one Shmid64Ds, and `ds` is one.
    let id = unsafe { raw_shmctl(index, Command::ShmStat.as_raw(), (&raw mut ds).cast())? };
    Ok((Id(id), ds))
}

/// `shmctl(index, SHM_STAT_ANY)`: [`shm_stat`] without the read-permission check
/// (Linux 4.17; older kernels fail with `EINVAL`).
///
/// A segment's slot is the low bits of its id: 15 bits, or 24 when the kernel was
/// booted with `ipcmni_extend` (Linux 5.6). Check that the returned id is the one you
/// want: a slot is reused once its segment is gone.
#[doc(alias = "shmctl")]
#[doc(alias = "SHM_STAT_ANY")]
pub fn shm_stat_any(index: i32) -> Result<(Id, Shmid64Ds), Errno> {
    let mut ds = Shmid64Ds::default();
    // SAFETY: SHM_STAT_ANY writes one Shmid64Ds, and `ds` is one.
    let id = unsafe { raw_shmctl(index, Command::ShmStatAny.as_raw(), (&raw mut ds).cast())? };
    Ok((Id(id), ds))
}

/// `shmctl(id, SHM_LOCK)`: keeps the segment's pages in memory.
///
/// Errors: `EINVAL`/`EIDRM`, `EPERM` (neither `CAP_IPC_LOCK` nor owner), `ENOMEM`
/// (`RLIMIT_MEMLOCK` exceeded).
#[doc(alias = "shmctl")]
#[doc(alias = "SHM_LOCK")]
pub fn shm_lock(id: Id) -> Result<(), Errno> {
    // SAFETY: SHM_LOCK uses no buffer.
    unsafe { raw_shmctl(id.0, Command::Lock.as_raw(), core::ptr::null_mut())? };
    Ok(())
}

/// `shmctl(id, SHM_UNLOCK)`: lets the segment's pages be swapped again.
#[doc(alias = "shmctl")]
#[doc(alias = "SHM_UNLOCK")]
pub fn shm_unlock(id: Id) -> Result<(), Errno> {
    // SAFETY: SHM_UNLOCK uses no buffer.
    unsafe { raw_shmctl(id.0, Command::Unlock.as_raw(), core::ptr::null_mut())? };
    Ok(())
}

/// `ftok(3)` as glibc computes it: `stat(2)`s `path` and combines the low 16 bits of
/// the inode, the low 8 bits of the device and `proj_id`:
///
/// ```text
/// (st_ino & 0xffff) | ((st_dev & 0xff) << 16) | (proj_id << 24)
/// ```
///
/// glibc keeps only the low 8 bits of `proj_id`, so this takes a `u8`. The key is not
/// unique: files whose inode and device agree in those bits collide.
///
/// Errors: whatever `stat` reports for `path` (glibc returns `-1` instead).
///
/// ```
/// let k = shm::sysv::ftok("/", b'A').unwrap();
/// assert_eq!(k.as_raw() as u32 >> 24, b'A' as u32);
/// ```
pub fn ftok(path: impl AsRef<Path>, proj_id: u8) -> io::Result<Key> {
    let meta = std::fs::metadata(path)?;
    let key = (meta.ino() & 0xffff) as u32
        | (((meta.dev() & 0xff) as u32) << 16)
        | ((proj_id as u32) << 24);
    Ok(Key(key as i32))
}
