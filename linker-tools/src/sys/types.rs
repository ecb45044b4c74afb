//! Typed arguments and results of the declared wrappers: ids, flags, kernel structs.

use std::ffi::CStr;
use std::fmt;

use super::{ArgClass, SysArg, SysRet};

/// A process or thread id (`pid_t`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[repr(transparent)]
pub struct Pid(i32);

impl Pid {
    /// Wraps a raw id. Zero and negative values have special meanings in some calls
    /// (`kill(0, …)` is the process group, `-1` every process).
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The raw id.
    pub const fn as_raw(self) -> i32 {
        self.0
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// SAFETY: a plain value (an id, number or flag word), never an address.
unsafe impl SysArg for Pid {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.0.into_arg()
    }
}

// SAFETY: a pid is a plain integer with no invariants.
unsafe impl SysRet for Pid {
    #[inline(always)]
    unsafe fn from_ret(raw: usize) -> Self {
        Self(raw as i32)
    }
}

/// A signal number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(transparent)]
pub struct Signal(i32);

impl Signal {
    /// Signal 0: no signal is sent, only the existence and permission checks run.
    pub const NONE: Self = Self(0);
    /// `SIGHUP`.
    pub const HUP: Self = Self(1);
    /// `SIGINT`.
    pub const INT: Self = Self(2);
    /// `SIGQUIT`.
    pub const QUIT: Self = Self(3);
    /// `SIGABRT`.
    pub const ABRT: Self = Self(6);
    /// `SIGKILL`.
    pub const KILL: Self = Self(9);
    /// `SIGUSR1`.
    pub const USR1: Self = Self(10);
    /// `SIGSEGV`.
    pub const SEGV: Self = Self(11);
    /// `SIGUSR2`.
    pub const USR2: Self = Self(12);
    /// `SIGPIPE`.
    pub const PIPE: Self = Self(13);
    /// `SIGALRM`.
    pub const ALRM: Self = Self(14);
    /// `SIGTERM`.
    pub const TERM: Self = Self(15);
    /// `SIGCHLD`.
    pub const CHLD: Self = Self(17);
    /// `SIGCONT`.
    pub const CONT: Self = Self(18);
    /// `SIGSTOP`.
    pub const STOP: Self = Self(19);

    /// Wraps a raw signal number (real-time signals included); the kernel rejects
    /// numbers outside `0..=64` with `EINVAL`.
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }
}

// SAFETY: a plain value (an id, number or flag word), never an address.
unsafe impl SysArg for Signal {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.0.into_arg()
    }
}

/// The kernel's `struct __kernel_timespec`: seconds and nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[repr(C)]
pub struct Timespec {
    /// Whole seconds.
    pub tv_sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub tv_nsec: i64,
}

/// A clock for `clock_gettime(2)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(transparent)]
pub struct ClockId(i32);

impl ClockId {
    /// `CLOCK_REALTIME`: wall-clock time.
    pub const REALTIME: Self = Self(0);
    /// `CLOCK_MONOTONIC`: time since boot, excluding suspend; never goes back.
    pub const MONOTONIC: Self = Self(1);
    /// `CLOCK_PROCESS_CPUTIME_ID`: CPU time of this process.
    pub const PROCESS_CPUTIME_ID: Self = Self(2);
    /// `CLOCK_THREAD_CPUTIME_ID`: CPU time of this thread.
    pub const THREAD_CPUTIME_ID: Self = Self(3);
    /// `CLOCK_MONOTONIC_RAW`: monotonic, without NTP slewing.
    pub const MONOTONIC_RAW: Self = Self(4);
    /// `CLOCK_REALTIME_COARSE`: fast, tick-resolution wall clock.
    pub const REALTIME_COARSE: Self = Self(5);
    /// `CLOCK_MONOTONIC_COARSE`: fast, tick-resolution monotonic clock.
    pub const MONOTONIC_COARSE: Self = Self(6);
    /// `CLOCK_BOOTTIME`: monotonic, including suspend.
    pub const BOOTTIME: Self = Self(7);
    /// `CLOCK_TAI`: International Atomic Time.
    pub const TAI: Self = Self(11);

    /// Wraps a raw clock id (dynamic clocks from `FD_TO_CLOCKID` are negative).
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The raw id.
    pub const fn as_raw(self) -> i32 {
        self.0
    }
}

// SAFETY: a plain value (an id, number or flag word), never an address.
unsafe impl SysArg for ClockId {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.0.into_arg()
    }
}

/// The kernel's `struct new_utsname`, filled in by `uname(2)`.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct UtsName {
    sysname: [u8; 65],
    nodename: [u8; 65],
    release: [u8; 65],
    version: [u8; 65],
    machine: [u8; 65],
    domainname: [u8; 65],
}

impl Default for UtsName {
    fn default() -> Self {
        Self {
            sysname: [0; 65],
            nodename: [0; 65],
            release: [0; 65],
            version: [0; 65],
            machine: [0; 65],
            domainname: [0; 65],
        }
    }
}

fn field(bytes: &[u8; 65]) -> &CStr {
    // The kernel always terminates these fields; if a zeroed or foreign value has no
    // NUL, fall back to the empty string rather than reading past the field.
    CStr::from_bytes_until_nul(bytes).unwrap_or_default()
}

impl UtsName {
    /// Operating system name (`"Linux"`).
    pub fn sysname(&self) -> &CStr {
        field(&self.sysname)
    }
    /// Host name.
    pub fn nodename(&self) -> &CStr {
        field(&self.nodename)
    }
    /// Kernel release (`"6.18.0-…"`).
    pub fn release(&self) -> &CStr {
        field(&self.release)
    }
    /// Kernel build version string.
    pub fn version(&self) -> &CStr {
        field(&self.version)
    }
    /// Hardware name (`"x86_64"`).
    pub fn machine(&self) -> &CStr {
        field(&self.machine)
    }
    /// NIS domain name.
    pub fn domainname(&self) -> &CStr {
        field(&self.domainname)
    }
}

impl fmt::Debug for UtsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UtsName")
            .field("sysname", &self.sysname())
            .field("nodename", &self.nodename())
            .field("release", &self.release())
            .field("version", &self.version())
            .field("machine", &self.machine())
            .field("domainname", &self.domainname())
            .finish()
    }
}

/// Where `lseek(2)` measures the offset from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u32)]
pub enum Whence {
    /// `SEEK_SET`: from the start.
    Set = 0,
    /// `SEEK_CUR`: from the current position.
    Cur = 1,
    /// `SEEK_END`: from the end.
    End = 2,
    /// `SEEK_DATA`: the next data at or after the offset.
    Data = 3,
    /// `SEEK_HOLE`: the next hole at or after the offset.
    Hole = 4,
}

// SAFETY: a plain value (an id, number or flag word), never an address.
unsafe impl SysArg for Whence {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self as usize
    }
}

macro_rules! flags_arg {
    ($($t:ty)*) => {$(
        // SAFETY: a plain value (an id, number or flag word), never an address.
        unsafe impl SysArg for $t {
            const CLASS: ArgClass = ArgClass::Value;
            #[inline(always)]
            fn into_arg(self) -> usize {
                self.bits() as usize
            }
        }
    )*};
}

bitflags::bitflags! {
    /// Flags of `openat(2)`, `pipe2(2)` and friends (`O_*`). The access mode is
    /// `empty()` (`O_RDONLY`), [`WRONLY`](Self::WRONLY) or [`RDWR`](Self::RDWR).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct OFlags: u32 {
        /// `O_WRONLY`.
        const WRONLY = 0o1;
        /// `O_RDWR`.
        const RDWR = 0o2;
        /// `O_CREAT`.
        const CREAT = 0o100;
        /// `O_EXCL`.
        const EXCL = 0o200;
        /// `O_NOCTTY`.
        const NOCTTY = 0o400;
        /// `O_TRUNC`.
        const TRUNC = 0o1000;
        /// `O_APPEND`.
        const APPEND = 0o2000;
        /// `O_NONBLOCK`.
        const NONBLOCK = 0o4000;
        /// `O_DSYNC`.
        const DSYNC = 0o10000;
        /// `O_DIRECT`.
        const DIRECT = 0o40000;
        /// `O_LARGEFILE`.
        const LARGEFILE = 0o100000;
        /// `O_DIRECTORY`.
        const DIRECTORY = 0o200000;
        /// `O_NOFOLLOW`.
        const NOFOLLOW = 0o400000;
        /// `O_NOATIME`.
        const NOATIME = 0o1000000;
        /// `O_CLOEXEC`.
        const CLOEXEC = 0o2000000;
        /// `O_SYNC` (includes `O_DSYNC`).
        const SYNC = 0o4010000;
        /// `O_PATH`.
        const PATH = 0o10000000;
        /// `O_TMPFILE` (includes `O_DIRECTORY`).
        const TMPFILE = 0o20200000;
        /// Bits this type does not name are passed through unchanged.
        const _ = !0;
    }

    /// File mode bits (`S_I*`): permissions plus set-id and sticky bits.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct Mode: u32 {
        /// `S_ISUID`.
        const SUID = 0o4000;
        /// `S_ISGID`.
        const SGID = 0o2000;
        /// `S_ISVTX`.
        const SVTX = 0o1000;
        /// `S_IRWXU`.
        const RWXU = 0o700;
        /// `S_IRUSR`.
        const RUSR = 0o400;
        /// `S_IWUSR`.
        const WUSR = 0o200;
        /// `S_IXUSR`.
        const XUSR = 0o100;
        /// `S_IRWXG`.
        const RWXG = 0o070;
        /// `S_IRGRP`.
        const RGRP = 0o040;
        /// `S_IWGRP`.
        const WGRP = 0o020;
        /// `S_IXGRP`.
        const XGRP = 0o010;
        /// `S_IRWXO`.
        const RWXO = 0o007;
        /// `S_IROTH`.
        const ROTH = 0o004;
        /// `S_IWOTH`.
        const WOTH = 0o002;
        /// `S_IXOTH`.
        const XOTH = 0o001;
    }

    /// Memory protection of `mmap(2)`/`mprotect(2)` (`PROT_*`); `empty()` is `PROT_NONE`.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct ProtFlags: u32 {
        /// `PROT_READ`.
        const READ = 0x1;
        /// `PROT_WRITE`.
        const WRITE = 0x2;
        /// `PROT_EXEC`.
        const EXEC = 0x4;
    }

    /// Flags of `mmap(2)` (`MAP_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MapFlags: u32 {
        /// `MAP_SHARED`.
        const SHARED = 0x01;
        /// `MAP_PRIVATE`.
        const PRIVATE = 0x02;
        /// `MAP_SHARED_VALIDATE`: shared, and unknown flags are an error.
        const SHARED_VALIDATE = 0x03;
        /// `MAP_FIXED`.
        const FIXED = 0x10;
        /// `MAP_ANONYMOUS`.
        const ANONYMOUS = 0x20;
        /// `MAP_GROWSDOWN`.
        const GROWSDOWN = 0x100;
        /// `MAP_LOCKED`.
        const LOCKED = 0x2000;
        /// `MAP_NORESERVE`.
        const NORESERVE = 0x4000;
        /// `MAP_POPULATE`.
        const POPULATE = 0x8000;
        /// `MAP_NONBLOCK`.
        const NONBLOCK = 0x10000;
        /// `MAP_STACK`.
        const STACK = 0x20000;
        /// `MAP_HUGETLB`.
        const HUGETLB = 0x40000;
        /// `MAP_SYNC`.
        const SYNC = 0x80000;
        /// `MAP_FIXED_NOREPLACE`.
        const FIXED_NOREPLACE = 0x100000;
        /// Bits this type does not name (huge page sizes) pass through unchanged.
        const _ = !0;
    }

    /// Flags of `mremap(2)` (`MREMAP_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MremapFlags: u32 {
        /// `MREMAP_MAYMOVE`.
        const MAYMOVE = 1;
        /// `MREMAP_FIXED`.
        const FIXED = 2;
        /// `MREMAP_DONTUNMAP`.
        const DONTUNMAP = 4;
    }
}

flags_arg!(OFlags Mode ProtFlags MapFlags MremapFlags);

bitflags::bitflags! {
    /// The events of a `struct pollfd` (`POLL*`), asked for and reported.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
    pub struct PollFlags: i16 {
        /// `POLLIN`: data to read (a pidfd: the process has exited).
        const IN = 0x1;
        /// `POLLPRI`: urgent data.
        const PRI = 0x2;
        /// `POLLOUT`: writing will not block.
        const OUT = 0x4;
        /// `POLLERR`: an error condition (reported only).
        const ERR = 0x8;
        /// `POLLHUP`: hang-up (reported only).
        const HUP = 0x10;
        /// `POLLNVAL`: the descriptor is not open (reported only).
        const NVAL = 0x20;
        /// `POLLRDNORM`.
        const RDNORM = 0x40;
        /// `POLLRDBAND`.
        const RDBAND = 0x80;
        /// `POLLWRNORM`.
        const WRNORM = 0x100;
        /// `POLLWRBAND`.
        const WRBAND = 0x200;
        /// `POLLRDHUP`: the peer closed its writing end.
        const RDHUP = 0x2000;
    }
}

/// The kernel's `struct pollfd`: a borrowed descriptor, the events to wait for, and
/// the events the kernel reports.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct PollFd<'fd> {
    fd: i32,
    events: i16,
    revents: i16,
    _borrow: core::marker::PhantomData<std::os::fd::BorrowedFd<'fd>>,
}

impl<'fd> PollFd<'fd> {
    /// Waits for `events` on `fd`.
    pub fn new(fd: std::os::fd::BorrowedFd<'fd>, events: PollFlags) -> Self {
        use std::os::fd::AsRawFd;
        PollFd {
            fd: fd.as_raw_fd(),
            events: events.bits(),
            revents: 0,
            _borrow: core::marker::PhantomData,
        }
    }

    /// What the last `poll` reported for this descriptor.
    pub fn revents(&self) -> PollFlags {
        PollFlags::from_bits_retain(self.revents)
    }
}

const _: () = assert!(core::mem::size_of::<PollFd<'_>>() == 8);

/// A `futex(2)` operation with its modifier bits.
///
/// ```
/// use linker_tools::sys::FutexOp;
/// assert_eq!((FutexOp::WAKE | FutexOp::PRIVATE).as_raw(), 129);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(transparent)]
pub struct FutexOp(u32);

impl FutexOp {
    /// `FUTEX_WAIT`: sleep while `*uaddr == val`.
    pub const WAIT: Self = Self(0);
    /// `FUTEX_WAKE`: wake up to `val` waiters.
    pub const WAKE: Self = Self(1);
    /// `FUTEX_REQUEUE`.
    pub const REQUEUE: Self = Self(3);
    /// `FUTEX_CMP_REQUEUE`.
    pub const CMP_REQUEUE: Self = Self(4);
    /// `FUTEX_WAKE_OP`.
    pub const WAKE_OP: Self = Self(5);
    /// `FUTEX_WAIT_BITSET`: wait with an absolute timeout and a wake mask.
    pub const WAIT_BITSET: Self = Self(9);
    /// `FUTEX_WAKE_BITSET`.
    pub const WAKE_BITSET: Self = Self(10);
    /// `FUTEX_PRIVATE_FLAG`: the futex is not shared with other processes.
    pub const PRIVATE: Self = Self(128);
    /// `FUTEX_CLOCK_REALTIME`: timeouts measured on `CLOCK_REALTIME`.
    pub const CLOCK_REALTIME: Self = Self(256);

    /// Wraps a raw operation word.
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    /// The raw operation word.
    pub const fn as_raw(self) -> u32 {
        self.0
    }
}

impl core::ops::BitOr for FutexOp {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

// SAFETY: a plain value (an id, number or flag word), never an address.
unsafe impl SysArg for FutexOp {
    const CLASS: ArgClass = ArgClass::Value;
    #[inline(always)]
    fn into_arg(self) -> usize {
        self.0 as usize
    }
}

/// The kernel's `struct __kernel_old_timeval`: seconds and microseconds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[repr(C)]
pub struct Timeval {
    /// Whole seconds since the Epoch.
    pub tv_sec: i64,
    /// Microseconds, `0..1_000_000`.
    pub tv_usec: i64,
}
