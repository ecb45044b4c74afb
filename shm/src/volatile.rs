//! Volatile copies between shared memory and private buffers, for
//! [`Attachment::read_at`](crate::attach::Attachment::read_at) /
//! [`write_at`](crate::attach::Attachment::write_at) and the channel's ring.
//!
//! Shared memory is written by another process at any time, so it is never seen
//! through `&[u8]`/`&mut [u8]`: its bytes are read (or written) with volatile accesses,
//! each exactly once, one access per word or vector, into or out of private memory
//! that the caller validates afterwards.
//!
//! # Safety
//!
//! Every function here is an `unsafe fn` whose caller vouches for two ranges: the
//! shared one (mapped, and writable for the copies into it) and the private one
//! (valid for the access, not overlapping). Inside, each access stays within those
//! ranges by its index arithmetic, and the AVX variants run only after
//! `is_x86_feature_detected!("avx")` said the CPU has it. No reference to shared
//! memory is ever created.

#![allow(unsafe_code)]

/// The word the copies move at once.
const WORD: usize = size_of::<u64>();

/// Copies below this many bytes use words; above it, 32-byte AVX vectors if the CPU has
/// them.
///
/// The copies are volatile, so each shared byte is read (or written) exactly once by
/// construction. A plain `ptr::copy_nonoverlapping` (glibc's `memcpy`, `rep movsb`
/// for these sizes) into or out of the ring would be sound too — raw pointers, private
/// memory on the other end, the private copy validated afterwards — but measured no
/// faster for 64 KiB messages (`examples/channel_bench.rs`), nor did 64-byte AVX-512
/// vectors.
const VECTOR_MIN: usize = 256;

/// Copies `n` bytes from shared memory at `src` to private memory at `dst` with
/// volatile loads, each byte read exactly once: 32-byte vectors for long copies on
/// CPUs with AVX, words otherwise. `dst` is a raw pointer so that it may be
/// uninitialised (a vector's spare capacity).
///
/// # Safety
///
/// `src..src + n` must be mapped and readable; `dst..dst + n` must be valid for
/// writes and not overlap it.
#[inline]
pub(crate) unsafe fn copy_from_shared(src: *const u8, dst: *mut u8, n: usize) {
    if n >= VECTOR_MIN && std::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked); the ranges are the caller's.
        unsafe { copy_from_shared_avx(src, dst, n) }
    } else {
        // SAFETY: the caller's ranges.
        unsafe { copy_from_shared_words(src, dst, n) }
    }
}

/// Copies `src` into shared memory at `dst` with volatile stores (vectors or words as
/// for [`copy_from_shared`]).
///
/// # Safety
///
/// `dst..dst + src.len()` must be mapped and writable.
#[inline]
pub(crate) unsafe fn copy_to_shared(src: &[u8], dst: *mut u8) {
    if src.len() >= VECTOR_MIN && std::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked); the range is the caller's.
        unsafe { copy_to_shared_avx(src, dst) }
    } else {
        // SAFETY: the caller's range.
        unsafe { copy_to_shared_words(src, dst) }
    }
}

const VEC: usize = 32;

/// [`copy_from_shared`] with volatile 32-byte loads from a 32-byte aligned address
/// (words before and after).
///
/// # Safety
///
/// As for [`copy_from_shared`], and the CPU must support AVX.
#[target_feature(enable = "avx")]
unsafe fn copy_from_shared_avx(src: *const u8, d: *mut u8, n: usize) {
    use core::arch::x86_64::{__m256i, _mm256_storeu_si256};
    let head = ((VEC - (src as usize % VEC)) % VEC).min(n);
    // SAFETY: the first `head <= n` bytes of the caller's ranges.
    unsafe { copy_from_shared_words(src, d, head) };
    let mut i = head;
    while n - i >= 4 * VEC {
        // SAFETY: `src + i` is 32-byte aligned (head above) and `i + 128 <= n`: four
        // aligned volatile loads inside the caller's source range, four unaligned
        // stores inside its destination range.
        unsafe {
            let s = src.add(i).cast::<__m256i>();
            let a = s.read_volatile();
            let b = s.add(1).read_volatile();
            let c = s.add(2).read_volatile();
            let e = s.add(3).read_volatile();
            let o = d.add(i).cast::<__m256i>();
            _mm256_storeu_si256(o, a);
            _mm256_storeu_si256(o.add(1), b);
            _mm256_storeu_si256(o.add(2), c);
            _mm256_storeu_si256(o.add(3), e);
        }
        i += 4 * VEC;
    }
    // SAFETY: the remaining `n - i` bytes of the caller's ranges.
    unsafe { copy_from_shared_words(src.add(i), d.add(i), n - i) };
}

/// [`copy_to_shared`] with volatile 32-byte stores to a 32-byte aligned address.
///
/// # Safety
///
/// As for [`copy_to_shared`], and the CPU must support AVX.
#[target_feature(enable = "avx")]
unsafe fn copy_to_shared_avx(src: &[u8], dst: *mut u8) {
    use core::arch::x86_64::{__m256i, _mm256_loadu_si256};
    let n = src.len();
    let head = ((VEC - (dst as usize % VEC)) % VEC).min(n);
    // SAFETY: the first `head` bytes of `src` and of the caller's range.
    unsafe { copy_to_shared_words(&src[..head], dst) };
    let mut i = head;
    let s = src.as_ptr();
    while n - i >= 4 * VEC {
        // SAFETY: `dst + i` is 32-byte aligned and `i + 128 <= n`: four unaligned loads
        // inside `src`, four aligned volatile stores inside the caller's range.
        unsafe {
            let p = s.add(i).cast::<__m256i>();
            let a = _mm256_loadu_si256(p);
            let b = _mm256_loadu_si256(p.add(1));
            let c = _mm256_loadu_si256(p.add(2));
            let e = _mm256_loadu_si256(p.add(3));
            let o = dst.add(i).cast::<__m256i>();
            o.write_volatile(a);
            o.add(1).write_volatile(b);
            o.add(2).write_volatile(c);
            o.add(3).write_volatile(e);
        }
        i += 4 * VEC;
    }
    // SAFETY: the rest of `src` and of the caller's range.
    unsafe { copy_to_shared_words(&src[i..], dst.add(i)) };
}

/// Copies `n` bytes from shared memory at `src` to `d` with volatile loads: bytes up
/// to a word boundary, then words (four per iteration), then bytes.
///
/// # Safety
///
/// As for [`copy_from_shared`].
#[inline]
unsafe fn copy_from_shared_words(src: *const u8, d: *mut u8, n: usize) {
    let mut i = 0;
    while i < n && (src as usize + i) % WORD != 0 {
        // SAFETY: `i < n`, inside both of the caller's ranges.
        unsafe { d.add(i).write(src.add(i).read_volatile()) };
        i += 1;
    }
    while n - i >= 4 * WORD {
        // SAFETY: `src + i` is word-aligned (loop above), `i + 32 <= n` keeps the four
        // loads in the caller's source range and the four unaligned stores in its
        // destination range.
        unsafe {
            let s = src.add(i).cast::<u64>();
            let a = s.read_volatile();
            let b = s.add(1).read_volatile();
            let c = s.add(2).read_volatile();
            let e = s.add(3).read_volatile();
            let o = d.add(i).cast::<u64>();
            o.write_unaligned(a);
            o.add(1).write_unaligned(b);
            o.add(2).write_unaligned(c);
            o.add(3).write_unaligned(e);
        }
        i += 4 * WORD;
    }
    while n - i >= WORD {
        // SAFETY: aligned, `i + 8 <= n`.
        unsafe {
            let w = src.add(i).cast::<u64>().read_volatile();
            d.add(i).cast::<u64>().write_unaligned(w);
        }
        i += WORD;
    }
    while i < n {
        // SAFETY: `i < n`.
        unsafe { d.add(i).write(src.add(i).read_volatile()) };
        i += 1;
    }
}

/// Copies `src` into shared memory at `dst` with volatile stores (bytes, words four at
/// a time, bytes).
///
/// # Safety
///
/// `dst..dst + src.len()` must be mapped and writable.
#[inline]
unsafe fn copy_to_shared_words(src: &[u8], dst: *mut u8) {
    let n = src.len();
    let s = src.as_ptr();
    let mut i = 0;
    while i < n && (dst as usize + i) % WORD != 0 {
        // SAFETY: `i < n`, inside the caller's range and `src`.
        unsafe { dst.add(i).write_volatile(s.add(i).read()) };
        i += 1;
    }
    while n - i >= 4 * WORD {
        // SAFETY: `dst + i` is word-aligned, `i + 32 <= n`: four unaligned loads inside
        // `src`, four aligned stores inside the caller's range.
        unsafe {
            let p = s.add(i).cast::<u64>();
            let a = p.read_unaligned();
            let b = p.add(1).read_unaligned();
            let c = p.add(2).read_unaligned();
            let e = p.add(3).read_unaligned();
            let o = dst.add(i).cast::<u64>();
            o.write_volatile(a);
            o.add(1).write_volatile(b);
            o.add(2).write_volatile(c);
            o.add(3).write_volatile(e);
        }
        i += 4 * WORD;
    }
    while n - i >= WORD {
        // SAFETY: aligned, `i + 8 <= n`.
        unsafe {
            let w = s.add(i).cast::<u64>().read_unaligned();
            dst.add(i).cast::<u64>().write_volatile(w);
        }
        i += WORD;
    }
    while i < n {
        // SAFETY: `i < n`.
        unsafe { dst.add(i).write_volatile(s.add(i).read()) };
        i += 1;
    }
}
