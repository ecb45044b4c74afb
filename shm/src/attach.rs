//! [`Attachment`]: a segment mapped into this process, detached when dropped, and the
//! [`Segment`] methods that make one ([`attach`](Segment::attach),
//! [`attach_read_only`](Segment::attach_read_only), [`attach_with`](Segment::attach_with),
//! [`attach_replacing`](Segment::attach_replacing),
//! [`create_private_attached`](Segment::create_private_attached)). This module uses
//! [`segment`](crate::segment), never the other way round.
//!
//! Memory another process can write at any moment is never handed out as a safe
//! `&[u8]` or `&mut [u8]` — Rust would be entitled to assume it does not change. The
//! safe accessors are:
//!
//! | accessor | what it does |
//! |---|---|
//! | [`read_at`](Attachment::read_at) / [`write_at`](Attachment::write_at) | copy bytes out of / into the segment (volatile, bounds-checked) |
//! | [`read_volatile`](Attachment::read_volatile) / [`write_volatile`](Attachment::write_volatile) | one aligned [`Scalar`], read or written exactly once |
//! | [`atomic_u32`](Attachment::atomic_u32), [`atomic_u64`](Attachment::atomic_u64), … | a `&AtomicU32` etc. into the segment, for lock-free protocols between processes |
//!
//! Every offset is checked against the segment size and, for typed access, alignment;
//! a bad one is an [`Error`] ([`ErrorKind::OutOfBounds`], [`ErrorKind::Misaligned`]),
//! and any write through a read-only attachment is [`ErrorKind::ReadOnly`] instead
//! of a `SIGSEGV`. Raw access ([`as_ptr`](Attachment::as_ptr),
//! [`as_slice`](Attachment::as_slice), [`as_mut_slice`](Attachment::as_mut_slice)) is
//! `unsafe`, with its contract spelled out.
//!
//! # Safety
//!
//! An `Attachment` owns its mapping: it is created by one successful `shmat` and
//! ends with one `shmdt` in `Drop`/[`detach`](Attachment::detach). Its length is
//! read *after* attaching (`SHM_STAT_ANY`, checked to answer for this id, or
//! `IPC_STAT`), when the attachment pins the segment (ids are not reused while
//! anything is attached and a segment's size never changes), so `[ptr, ptr + len)` is
//! always mapped while the `Attachment` lives. Accessors borrow the `Attachment`, so
//! nothing they return outlives the mapping. `shmat` never replaces a mapping unless
//! asked to with `SHM_REMAP`, which only the `unsafe`
//! [`Segment::attach_replacing`] asks for, on its caller's word.

#![allow(unsafe_code)]

use core::ffi::c_void;
use core::fmt;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;
use core::sync::atomic::{
    AtomicI32, AtomicI64, AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize,
};

use linker_tools::sys::Errno;

use crate::error::{Error, ErrorKind, Result};
use crate::segment::{Segment, SegmentInfo, id_error, id_exists, stat_any_raw, stat_id};
use crate::sysv::{self, AtFlags, Id, SHMLBA};
use crate::volatile::{copy_from_shared, copy_to_shared};

/// Where and how to attach a segment; pass to
/// [`Segment::attach_with`](crate::Segment::attach_with).
///
/// ```
/// use shm::{AttachOptions, Segment};
/// let seg = Segment::create_private(4096)?.remove_on_drop();
/// let ro = seg.attach_with(&AttachOptions::new().read_only(true))?;
/// assert!(ro.is_read_only());
/// assert_eq!(ro.write_at(0, b"x").unwrap_err().kind(), shm::ErrorKind::ReadOnly);
/// # Ok::<(), shm::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[must_use = "options do nothing until passed to `Segment::attach_with`; each setter returns the changed options"]
pub struct AttachOptions {
    addr: usize,
    flags: AtFlags,
}

impl AttachOptions {
    /// Read-write, anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Map read-only (`SHM_RDONLY`).
    pub fn read_only(mut self, yes: bool) -> Self {
        self.flags.set(AtFlags::RDONLY, yes);
        self
    }

    /// Map executable too (`SHM_EXEC`).
    pub fn exec(mut self, yes: bool) -> Self {
        self.flags.set(AtFlags::EXEC, yes);
        self
    }

    /// Map exactly at `addr` (null: anywhere). It must be a multiple of [`SHMLBA`]
    /// unless [`round_down`](Self::round_down) is set, and the range must be free:
    /// otherwise the attach fails with [`ErrorKind::InvalidAddress`].
    pub fn at(mut self, addr: *const c_void) -> Self {
        self.addr = addr as usize;
        self
    }

    /// Round the address given to [`at`](Self::at) down to a multiple of [`SHMLBA`]
    /// (`SHM_RND`). An address below `SHMLBA` is refused ([`ErrorKind::InvalidAddress`],
    /// no errno) even where the kernel would map it at 0 (`CAP_SYS_RAWIO`): Rust
    /// assumes nothing lives at the null address.
    pub fn round_down(mut self, yes: bool) -> Self {
        self.flags.set(AtFlags::RND, yes);
        self
    }

    /// The `shmat` flags these options amount to.
    pub fn flags(&self) -> AtFlags {
        self.flags
    }

    /// The requested address (0 for anywhere).
    pub fn addr(&self) -> usize {
        self.addr
    }
}

/// Attaching: [`Segment`]'s methods that make an [`Attachment`].
impl Segment {
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
        Attachment::attach(self.id(), options, false)
    }

    /// Attaches the segment at `options`' address with `SHM_REMAP`, replacing whatever
    /// is mapped in that range.
    ///
    /// # Safety
    ///
    /// The range `[addr, addr + size)` (after `SHM_RND` rounding) must hold no memory
    /// that Rust code still uses: its old contents are unmapped without notice.
    #[doc(alias = "SHM_REMAP")]
    pub unsafe fn attach_replacing(&self, options: &AttachOptions) -> Result<Attachment> {
        Attachment::attach(self.id(), options, true)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A plain value that can be read from or written to shared memory in one volatile
/// access: any bit pattern is a valid value.
pub trait Scalar: Copy + sealed::Sealed {}

macro_rules! scalar {
    ($($t:ty)*) => {$(
        impl sealed::Sealed for $t {}
        impl Scalar for $t {}
    )*};
}
scalar!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64);

/// A System V segment mapped into this process; detached (`shmdt`) when dropped.
///
/// See the [module docs](self) for the accessors and why they copy.
///
/// ```
/// use std::sync::atomic::Ordering;
///
/// let map = shm::Segment::create_private_attached(4096)?;
/// map.atomic_u32(0)?.store(7, Ordering::Release);
/// assert_eq!(map.read_volatile::<u32>(0)?, 7);
/// map.write_at(4, &[1, 2, 3])?;
/// let mut out = [0u8; 3];
/// map.read_at(4, &mut out)?;
/// assert_eq!(out, [1, 2, 3]);
/// assert_eq!(map.read_at(4095, &mut out).unwrap_err().kind(), shm::ErrorKind::OutOfBounds);
/// assert_eq!(map.atomic_u64(2).unwrap_err().kind(), shm::ErrorKind::Misaligned);
/// # Ok::<(), shm::Error>(())
/// ```
#[must_use = "dropping an Attachment detaches the segment at once"]
pub struct Attachment {
    ptr: NonNull<u8>,
    len: usize,
    id: Id,
    read_only: bool,
}

// SAFETY: the attachment owns a process-wide mapping, not thread-local state; moving
// it to another thread (and detaching there) is fine.
unsafe impl Send for Attachment {}
// SAFETY: every safe accessor is a volatile or atomic access through `&self`, which is
// exactly as sound from several threads as it is from several processes.
unsafe impl Sync for Attachment {}

impl Attachment {
    pub(crate) fn attach(id: Id, options: &AttachOptions, remap: bool) -> Result<Attachment> {
        let mut flags = options.flags;
        flags.set(AtFlags::REMAP, remap);
        if options.addr != 0 && flags.contains(AtFlags::RND) && options.addr < SHMLBA {
            // The kernel would round it to 0 and map the segment at the null address
            // (allowed for CAP_SYS_RAWIO), where Rust assumes nothing can live.
            return Err(Error::new(
                ErrorKind::InvalidAddress,
                None,
                format!(
                    "cannot attach segment id {id} at {:#x}: SHM_RND would round it down to \
                     address 0; pass an address of at least SHMLBA ({SHMLBA}) or none",
                    options.addr
                ),
            ));
        }
        let addr = options.addr as *const c_void;
        // SAFETY: without SHM_REMAP the kernel refuses (EINVAL) to map over an existing
        // mapping, so no memory Rust uses can be replaced; with it, the caller of
        // `Segment::attach_replacing` vouched for the range. The mapping is owned by
        // the Attachment built below (or detached on the error path).
        let raw =
            unsafe { sysv::shmat(id, addr, flags) }.map_err(|e| attach_error(e, id, options))?;
        // The attachment pins the segment: this size is the one mapped. Read it
        // without a permission check (SHM_STAT_ANY), so that the attach succeeds
        // whenever `shmat` did, even if the mode changed in between; only kernels
        // before 4.17 fall back to IPC_STAT, which needs the read permission `shmat`
        // needed too.
        let len = match stat_any_raw(id) {
            Ok(ds) => ds.shm_segsz,
            Err(e) => {
                // SAFETY: `raw` was just attached and nothing refers to it yet.
                let _ = unsafe { sysv::shmdt(raw) };
                return Err(id_error(e, id, "read the size of"));
            }
        };
        let Some(ptr) = NonNull::new(raw.cast::<u8>()) else {
            // Only SHM_REMAP at a hint that rounds to 0 can get here; undo it.
            // SAFETY: the segment was just attached at 0 and nothing refers to it.
            let _ = unsafe { sysv::shmdt(raw) };
            return Err(Error::new(
                ErrorKind::InvalidAddress,
                None,
                format!("segment id {id} was attached at address 0; detached it again"),
            ));
        };
        Ok(Attachment {
            ptr,
            len,
            id,
            read_only: flags.contains(AtFlags::RDONLY),
        })
    }

    /// The segment's id: other processes can attach it with
    /// [`Segment::from_id`](crate::Segment::from_id).
    pub fn id(&self) -> Id {
        self.id
    }

    /// A handle to the attached segment.
    pub fn segment(&self) -> Segment {
        Segment::from_id(self.id)
    }

    /// The segment's `IPC_STAT` information.
    pub fn stat(&self) -> Result<SegmentInfo> {
        stat_id(self.id)
    }

    /// Size of the segment in bytes (the mapping is rounded up to whole pages; the
    /// accessors stay within this size).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the segment size is 0 (never, for a segment Linux created).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether this attachment is read-only (`SHM_RDONLY`).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The address the segment is mapped at.
    pub fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// The start of the mapping, for raw access.
    ///
    /// Using the pointer is `unsafe` and the caller's responsibility: stay within
    /// [`len`](Self::len) bytes, only while this attachment lives, never write if it
    /// [`is_read_only`](Self::is_read_only) (the write faults with `SIGSEGV`), and
    /// treat every byte as changing at any time if another process or thread may
    /// write (volatile or atomic accesses, no references held across changes).
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The segment as a shared slice.
    ///
    /// # Safety
    ///
    /// While the slice lives, no process or thread may write to the segment (Rust
    /// assumes a `&[u8]` never changes). In practice: the segment is private to this
    /// process, or a protocol with the other users guarantees a quiet period.
    pub unsafe fn as_slice(&self) -> &[u8] {
        // SAFETY: `[ptr, ptr + len)` is mapped and readable while `self` lives (module
        // invariant); the caller guarantees it does not change while borrowed.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The segment as an exclusive slice.
    ///
    /// # Safety
    ///
    /// The attachment must be read-write, and while the slice lives no other process
    /// or thread may read or write the segment (through this or any other
    /// attachment), as for any `&mut`.
    pub unsafe fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: mapped while `self` lives (module invariant), `&mut self` excludes
        // other uses through this attachment, and the caller guarantees writability
        // and exclusivity against everything else.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    fn check_range(&self, offset: usize, len: usize) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Error::new(
                ErrorKind::OutOfBounds,
                None,
                format!(
                    "bytes {offset}..{} are outside the {}-byte segment id {}",
                    offset as u128 + len as u128,
                    self.len,
                    self.id
                ),
            )),
        }
    }

    fn check_writable(&self) -> Result<()> {
        if self.read_only {
            Err(Error::new(
                ErrorKind::ReadOnly,
                None,
                format!(
                    "segment id {} is attached read-only (SHM_RDONLY); attach it read-write to write",
                    self.id
                ),
            ))
        } else {
            Ok(())
        }
    }

    /// A pointer to an aligned, in-bounds `T` at `offset`.
    fn typed<T>(&self, offset: usize) -> Result<*mut T> {
        self.check_range(offset, size_of::<T>())?;
        // SAFETY: in bounds, just checked.
        let p = unsafe { self.ptr.as_ptr().add(offset) };
        if (p as usize) % align_of::<T>() != 0 {
            return Err(Error::new(
                ErrorKind::Misaligned,
                None,
                format!(
                    "offset {offset} is not a multiple of {} (the alignment of {})",
                    align_of::<T>(),
                    core::any::type_name::<T>()
                ),
            ));
        }
        Ok(p.cast())
    }

    /// Copies `buf.len()` bytes starting at `offset` out of the segment.
    ///
    /// Each byte is read once (volatile, by words or vectors); if another process writes
    /// meanwhile, `buf` may mix old and new bytes — validate what you read.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        self.check_range(offset, buf.len())?;
        // SAFETY: the range is in bounds (checked) of a mapping live while `self` is.
        unsafe { copy_from_shared(self.ptr.as_ptr().add(offset), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies `data` into the segment at `offset` (volatile, by words or vectors).
    pub fn write_at(&self, offset: usize, data: &[u8]) -> Result<()> {
        self.check_writable()?;
        self.check_range(offset, data.len())?;
        // SAFETY: the range is in bounds (checked) of a live, writable (checked)
        // mapping; volatile writes never create references to shared memory.
        unsafe { copy_to_shared(data, self.ptr.as_ptr().add(offset)) };
        Ok(())
    }

    /// Reads one `T` at `offset` with a single volatile load; `offset` must be aligned
    /// for `T`.
    pub fn read_volatile<T: Scalar>(&self, offset: usize) -> Result<T> {
        let p = self.typed::<T>(offset)?;
        // SAFETY: `p` is in bounds and aligned (checked) in a live mapping, and every
        // bit pattern is a valid `T` (`Scalar`).
        Ok(unsafe { p.read_volatile() })
    }

    /// Writes one `T` at `offset` with a single volatile store; `offset` must be
    /// aligned for `T`.
    pub fn write_volatile<T: Scalar>(&self, offset: usize, value: T) -> Result<()> {
        self.check_writable()?;
        let p = self.typed::<T>(offset)?;
        // SAFETY: `p` is in bounds and aligned (checked) in a live, writable (checked)
        // mapping.
        unsafe { p.write_volatile(value) };
        Ok(())
    }

    /// Removes the segment now (`IPC_RMID`): the key is freed, and the kernel
    /// destroys the memory when the last attachment in any process goes — even if the
    /// processes crash. The mapping stays usable until then.
    #[doc(alias = "IPC_RMID")]
    pub fn mark_removed(&self) -> Result<()> {
        sysv::ipc_rmid(self.id).map_err(|e| id_error(e, self.id, "remove"))
    }

    /// Detaches now (`shmdt`), reporting an error that `Drop` would ignore.
    #[doc(alias = "shmdt")]
    pub fn detach(self) -> Result<()> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is consumed and never dropped, so nothing can use the mapping
        // afterwards (accessor borrows ended with the move of `self`).
        unsafe { sysv::shmdt(this.ptr.as_ptr().cast()) }.map_err(|e| id_error(e, this.id, "detach"))
    }
}

macro_rules! atomics {
    ($($name:ident $t:ty;)*) => {
        impl Attachment {$(
            #[doc = concat!("A `&", stringify!($t), "` at `offset` (aligned, in bounds), for")]
            /// lock-free protocols with other processes. Fails with
            /// [`ErrorKind::ReadOnly`] on a read-only attachment, where a store would
            /// fault.
            pub fn $name(&self, offset: usize) -> Result<&$t> {
                self.check_writable()?;
                let p = self.typed::<$t>(offset)?;
                // SAFETY: `p` is aligned, in bounds and writable (checked) in a mapping
                // that lives as long as the `&self` borrow the result carries; atomics
                // tolerate concurrent access from other processes, which use atomics
                // (or the kernel, e.g. futexes) on this word too.
                Ok(unsafe { <$t>::from_ptr(p.cast()) })
            }
        )*}
    };
}

atomics! {
    atomic_u8 AtomicU8;
    atomic_u16 AtomicU16;
    atomic_u32 AtomicU32;
    atomic_u64 AtomicU64;
    atomic_usize AtomicUsize;
    atomic_i32 AtomicI32;
    atomic_i64 AtomicI64;
}

impl Drop for Attachment {
    fn drop(&mut self) {
        // SAFETY: `self` is going away, and every borrow of it (and so of the mapping)
        // has ended.
        let _ = unsafe { sysv::shmdt(self.ptr.as_ptr().cast()) };
    }
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("id", &self.id)
            .field("addr", &format_args!("{:#x}", self.addr()))
            .field("len", &self.len)
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// Explains a failed `shmat`.
fn attach_error(e: Errno, id: Id, options: &AttachOptions) -> Error {
    let how = if options.flags.contains(AtFlags::RDONLY) {
        "read-only"
    } else {
        "read-write"
    };
    match e {
        Errno::EINVAL if options.addr != 0 && id_exists(id) => Error::new(
            ErrorKind::InvalidAddress,
            Some(e),
            format!(
                "cannot attach segment id {id} at {:#x}: the address is not a multiple of \
                 SHMLBA ({SHMLBA}) or the range overlaps an existing mapping; round it \
                 (AttachOptions::round_down, SHM_RND) or choose a free range",
                options.addr
            ),
        ),
        Errno::ENOMEM => Error::new(
            ErrorKind::OutOfMemory,
            Some(e),
            format!("no address space to attach segment id {id}"),
        ),
        _ => id_error(e, id, &format!("attach ({how})")),
    }
}
