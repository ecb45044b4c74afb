//! The only `unsafe` of the channel: pointers into the attachment and the shared futex
//! (the volatile copies between the ring and private buffers are in
//! [`volatile`](crate::volatile)).
//!
//! # Safety
//!
//! A [`Region`] owns the [`Attachment`] it points into, so the mapping lives as long
//! as the `Region`. [`Region::new`] checks once, against the kernel's segment size
//! (never a size read from the header), that the header and a ring of `cap` bytes fit,
//! that `cap` is a power of two and the base is page-aligned. From then on:
//!
//! - header fields are at the constant offsets of [`layout`](super::layout), all
//!   below [`HEADER_SIZE`] and aligned for their type (a unit test checks);
//! - ring offsets are reduced by `& (cap - 1)` or checked against `cap` before any
//!   access, in this module, whatever the caller passes.
//!
//! Shared memory is written by another process at any time, so it is never seen
//! through `&[u8]`/`&mut [u8]`: words are atomics (which tolerate that by definition)
//! and bytes are copied with volatile loads and stores, one access per word, into or
//! out of private buffers. What is read is then validated by the caller, once, from
//! the private copy.

#![allow(unsafe_code)]

use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

use linker_tools::sys::{self, FutexOp, Timespec};

use super::layout::{HEADER_SIZE, MAX_CAPACITY, MIN_CAPACITY, WORD};
use crate::attach::Attachment;
use crate::error::{Error, ErrorKind, Result};
use crate::volatile::{copy_from_shared, copy_to_shared};

/// The mapped channel: header + ring, bounds fixed at construction.
pub(crate) struct Region {
    map: Attachment,
    cap: usize,
}

impl Region {
    /// Wraps `map` with a ring of `cap` bytes after the header; fails unless the
    /// attachment is writable, page-aligned and long enough, and `cap` a power of two
    /// in the supported range.
    pub(crate) fn new(map: Attachment, cap: usize) -> Result<Region> {
        if !cap.is_power_of_two() || !(MIN_CAPACITY..=MAX_CAPACITY).contains(&cap) {
            return Err(Error::new(
                ErrorKind::Incompatible,
                None,
                format!(
                    "segment id {} declares a ring of {cap} bytes; a channel ring is a power \
                     of two from {MIN_CAPACITY} to {MAX_CAPACITY}",
                    map.id()
                ),
            ));
        }
        let need = HEADER_SIZE + cap;
        if map.len() < need {
            return Err(Error::new(
                ErrorKind::Incompatible,
                None,
                format!(
                    "segment id {} has {} bytes, too small for a channel header and a \
                     {cap}-byte ring ({need} bytes)",
                    map.id(),
                    map.len()
                ),
            ));
        }
        if map.is_read_only() || map.addr() % 4096 != 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                None,
                format!(
                    "segment id {} must be attached read-write at a page boundary",
                    map.id()
                ),
            ));
        }
        Ok(Region { map, cap })
    }

    /// The attachment.
    pub(crate) fn attachment(&self) -> &Attachment {
        &self.map
    }

    /// Ring capacity in bytes (a power of two).
    #[inline(always)]
    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// The header's `u32` at constant offset `off`.
    #[inline(always)]
    pub(crate) fn u32_at(&self, off: usize) -> &AtomicU32 {
        assert!(off + 4 <= HEADER_SIZE && off % 4 == 0);
        // SAFETY: in the header (asserted; `off` is a constant so the check folds
        // away), aligned (base is page-aligned, `off % 4 == 0`), mapped while `self`
        // lives (module invariant); atomics tolerate concurrent writers.
        unsafe { AtomicU32::from_ptr(self.map.as_ptr().add(off).cast()) }
    }

    /// The header's `u64` at constant offset `off`.
    #[inline(always)]
    pub(crate) fn u64_at(&self, off: usize) -> &AtomicU64 {
        assert!(off + 8 <= HEADER_SIZE && off % 8 == 0);
        // SAFETY: as in `u32_at`, for eight aligned bytes.
        unsafe { AtomicU64::from_ptr(self.map.as_ptr().add(off).cast()) }
    }

    /// The ring word at `pos` (a stream position; reduced modulo the capacity and
    /// rounded down to a word).
    #[inline(always)]
    pub(crate) fn ring_word(&self, pos: u64) -> &AtomicU64 {
        let off = (pos as usize) & (self.cap - 1) & !(WORD - 1);
        // SAFETY: `off + 8 <= cap` (masked, word-aligned, cap a multiple of 8) and the
        // ring lies within the mapping (checked in `new`); aligned because the base is
        // page-aligned and HEADER_SIZE a multiple of 8.
        unsafe { AtomicU64::from_ptr(self.map.as_ptr().add(HEADER_SIZE + off).cast()) }
    }

    /// Asks the CPU to fetch the ring line holding stream position `pos` for writing
    /// (`prefetchw`): a hint, no access, so the line's ownership moves here while this
    /// side is still busy with the line before it.
    #[inline(always)]
    pub(crate) fn prefetch_write(&self, pos: u64) {
        let off = (pos as usize) & (self.cap - 1);
        // SAFETY: `off < cap`: inside the ring, inside the mapping; a prefetch reads
        // and writes nothing.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            use core::arch::x86_64::{_MM_HINT_ET0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_ET0>(self.map.as_ptr().add(HEADER_SIZE + off).cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = off;
    }

    /// A pointer to ring bytes `off..off + len`, if they lie within the ring.
    #[inline(always)]
    fn ring_ptr(&self, off: usize, len: usize) -> Option<*mut u8> {
        let end = off.checked_add(len)?;
        if end > self.cap {
            return None;
        }
        // SAFETY: `off <= end <= cap`: inside the mapping (checked in `new`).
        Some(unsafe { self.map.as_ptr().add(HEADER_SIZE + off) })
    }

    /// Copies `src` into ring bytes `off..off + src.len()` (volatile). `false` (nothing
    /// written) if the range is not inside the ring.
    #[inline]
    pub(crate) fn write_ring(&self, off: usize, src: &[u8]) -> bool {
        let Some(p) = self.ring_ptr(off, src.len()) else {
            return false;
        };
        // SAFETY: inside the ring (checked) of a read-write attachment (checked in `new`).
        unsafe { copy_to_shared(src, p) };
        true
    }

    /// A read view of ring bytes `off..off + len`, if inside the ring.
    #[inline(always)]
    pub(crate) fn view(&self, off: usize, len: usize) -> Option<RingRead<'_>> {
        let ptr = self.ring_ptr(off, len)?;
        Some(RingRead {
            ptr,
            len,
            _region: PhantomData,
        })
    }

    /// A write view of ring bytes `off..off + len`, if inside the ring.
    #[inline(always)]
    pub(crate) fn view_mut(&self, off: usize, len: usize) -> Option<RingWrite<'_>> {
        let ptr = self.ring_ptr(off, len)?;
        Some(RingWrite {
            ptr,
            cap: len,
            len,
            _region: PhantomData,
        })
    }

    /// `FUTEX_WAIT` (shared, not private) on the header word at `off` while it holds
    /// `expected`, for at most `timeout`. Returns when woken, on timeout, on a signal,
    /// or at once if the word differs: the caller re-checks its condition either way.
    pub(crate) fn futex_wait(&self, off: usize, expected: u32, timeout: Duration) {
        let word = self.u32_at(off);
        let ts = Timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        // SAFETY: `word` is an aligned u32 in the mapping, alive for the call; `ts` is
        // a valid Timespec; no second address is used by FUTEX_WAIT.
        let _ = unsafe {
            sys::futex(
                word.as_ptr(),
                FutexOp::WAIT,
                expected,
                &ts,
                core::ptr::null(),
                0,
            )
        };
    }

    /// `FUTEX_WAKE` (shared) of every waiter on the header word at `off`.
    pub(crate) fn futex_wake(&self, off: usize) {
        let word = self.u32_at(off);
        // SAFETY: `word` is an aligned u32 in the mapping; FUTEX_WAKE reads nothing else.
        let _ = unsafe {
            sys::futex(
                word.as_ptr(),
                FutexOp::WAKE,
                i32::MAX as u32,
                core::ptr::null(),
                core::ptr::null(),
                0,
            )
        };
    }
}

/// A message in the ring, read in place: the `recv_with` closures get one.
///
/// The bytes are still in shared memory, where a misbehaving peer could change them
/// while you look: they are only ever copied out ([`read_at`](Self::read_at),
/// [`to_vec`](Self::to_vec)), never lent as a `&[u8]`. Validate what you copy.
pub struct RingRead<'a> {
    ptr: *mut u8,
    len: usize,
    _region: PhantomData<&'a Region>,
}

impl RingRead<'_> {
    /// The message length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `buf.len()` bytes starting at `offset` of the message into `buf`.
    #[inline]
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        check(offset, buf.len(), self.len)?;
        // SAFETY: `offset + buf.len() <= len` (checked) and the view covers ring bytes
        // `ptr..ptr + len`, mapped while the borrowed region lives; `buf` is writable.
        unsafe { copy_from_shared(self.ptr.add(offset), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// `N` bytes at `offset`, copied out (e.g. a header to parse).
    pub fn read_array<const N: usize>(&self, offset: usize) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        self.read_at(offset, &mut out)?;
        Ok(out)
    }

    /// The whole message, copied into `out` (cleared first; its allocation is reused).
    #[inline]
    pub fn copy_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(self.len);
        // SAFETY: the view covers ring bytes `ptr..ptr + len`, mapped while the
        // borrowed region lives; the spare capacity holds at least `len` bytes, written
        // through a raw pointer (no `&mut [u8]` over uninitialised memory), and
        // `copy_from_shared` initialises every one of them before `set_len`.
        unsafe {
            copy_from_shared(self.ptr, out.as_mut_ptr(), self.len);
            out.set_len(self.len);
        }
    }

    /// The whole message, copied into a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.copy_into(&mut v);
        v
    }
}

impl core::fmt::Debug for RingRead<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RingRead").field("len", &self.len).finish()
    }
}

/// Room for a message in the ring, written in place: the `send_with` closures get
/// one. Bytes you do not write are sent as whatever an earlier message left in the
/// ring: write every byte you send, or [`fill`](Self::fill) first.
pub struct RingWrite<'a> {
    ptr: *mut u8,
    cap: usize,
    len: usize,
    _region: PhantomData<&'a Region>,
}

impl RingWrite<'_> {
    /// The bytes that will be sent (the reserved size, unless
    /// [`truncate`](Self::truncate)d).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message will be empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `data` into the message at `offset`.
    #[inline]
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        check(offset, data.len(), self.cap)?;
        // SAFETY: `offset + data.len() <= cap` (checked): ring bytes reserved for this
        // message, writable (the region is read-write), mapped while it lives.
        unsafe { copy_to_shared(data, self.ptr.add(offset)) };
        Ok(())
    }

    /// Sets `len` bytes from `offset` to `byte`.
    pub fn fill(&mut self, offset: usize, len: usize, byte: u8) -> Result<()> {
        check(offset, len, self.cap)?;
        let chunk = [byte; 256];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(chunk.len());
            self.write_at(offset + done, &chunk[..n])?;
            done += n;
        }
        Ok(())
    }

    /// Sends only the first `len` bytes (no effect if `len` is not smaller).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

impl core::fmt::Debug for RingWrite<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RingWrite")
            .field("len", &self.len)
            .field("reserved", &self.cap)
            .finish()
    }
}

#[inline(always)]
fn check(offset: usize, len: usize, size: usize) -> Result<()> {
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        _ => Err(out_of_bounds(offset, len, size)),
    }
}

#[cold]
#[inline(never)]
fn out_of_bounds(offset: usize, len: usize, size: usize) -> Error {
    Error::new(
        ErrorKind::OutOfBounds,
        None,
        format!(
            "bytes {offset}..{} are outside the {size}-byte message",
            offset as u128 + len as u128
        ),
    )
}
