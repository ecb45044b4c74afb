//! The shared layout: where every field of the header lives, the record format in the
//! ring, and the arithmetic on positions. Plain numbers and pure functions only.
//!
//! ```text
//! offset  size  field                      written by
//! 0       8     MAGIC "LNKCHAN\x01"        creator (last, Release)
//! 8       4     layout VERSION             creator
//! 12      4     header size (4096)         creator
//! 16      8     ring capacity (2^k bytes)  creator
//! 24      8     max message length         creator
//! 32      4     creator's role             creator
//! 128     4     creator pid                creator
//! 132     4     opener pid (0: none yet)   opener, compare-exchange 0 -> pid
//! 256     8     head: consumer position    consumer
//! 384     4     data futex (sequence)      producer (+1 per wake)
//! 388     4     consumer sleeping flag     consumer sets, producer clears
//! 512     4     space futex (sequence)     consumer (+1 per wake)
//! 516     4     producer sleeping flag     producer sets, consumer clears
//! 640     4     producer closed            producer
//! 644     4     consumer closed            consumer
//! 4096    cap   ring of records
//! ```
//!
//! Fields written by different sides sit 128 bytes apart (two cache lines: the
//! adjacent-line prefetcher pulls pairs).
//!
//! A record at ring position `p` (a byte count since the start, never wrapped) sits at
//! offset `p % cap`, 8-aligned: a 64-bit *commit word* then the payload, padded to a
//! multiple of 8. The commit word is `tag(p) << 32 | len`, or `tag(p) << 32 | PAD` for
//! "nothing more fits before the end of the ring: continue at the next lap". `0` means
//! "not written yet": before the producer commits a record it zeroes the word where the
//! *next* record will start (space it owns), so the consumer never mistakes stale bytes
//! of an earlier lap for a commit.

/// `"LNKCHAN"` and a byte that changes with incompatible layouts.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"LNKCHAN\x01");
/// Layout version; bumped whenever a field moves or changes meaning.
pub(crate) const VERSION: u32 = 1;
/// Bytes before the ring (one page).
pub(crate) const HEADER_SIZE: usize = 4096;

pub(crate) const OFF_MAGIC: usize = 0;
pub(crate) const OFF_VERSION: usize = 8;
pub(crate) const OFF_HEADER_SIZE: usize = 12;
pub(crate) const OFF_CAPACITY: usize = 16;
pub(crate) const OFF_MAX_MESSAGE: usize = 24;
pub(crate) const OFF_CREATOR_ROLE: usize = 32;
pub(crate) const OFF_CREATOR_PID: usize = 128;
pub(crate) const OFF_OPENER_PID: usize = 132;
pub(crate) const OFF_HEAD: usize = 256;
pub(crate) const OFF_DATA_FUTEX: usize = 384;
pub(crate) const OFF_CONSUMER_SLEEPING: usize = 388;
pub(crate) const OFF_SPACE_FUTEX: usize = 512;
pub(crate) const OFF_PRODUCER_SLEEPING: usize = 516;
pub(crate) const OFF_PRODUCER_CLOSED: usize = 640;
pub(crate) const OFF_CONSUMER_CLOSED: usize = 644;

/// Role codes stored at [`OFF_CREATOR_ROLE`].
pub(crate) const ROLE_SENDER: u32 = 1;
pub(crate) const ROLE_RECEIVER: u32 = 2;

/// The length field of a padding record.
pub(crate) const PAD: u32 = u32::MAX;
/// Bytes of a record's commit word.
pub(crate) const WORD: usize = 8;

/// Smallest ring.
pub(crate) const MIN_CAPACITY: usize = 4096;
/// Largest ring (lengths are 32-bit).
pub(crate) const MAX_CAPACITY: usize = 1 << 31;

/// The largest message a ring of `cap` bytes carries: a record plus the next commit
/// word must fit in half the ring, so one always fits once the ring is empty, wherever
/// the position is.
pub(crate) const fn max_message(cap: usize) -> usize {
    cap / 2 - 2 * WORD
}

/// The bytes a record of `len` payload bytes occupies (commit word + padded payload).
pub(crate) const fn record_size(len: usize) -> usize {
    WORD + ((len + WORD - 1) & !(WORD - 1))
}

/// The tag of position `pos`: a set top bit (so a commit is never `0`) and 31 bits of
/// the position in words.
pub(crate) const fn tag(pos: u64) -> u32 {
    0x8000_0000 | ((pos >> 3) as u32 & 0x7fff_ffff)
}

/// The commit word of a record of `len` (or [`PAD`]) at `pos`.
pub(crate) const fn commit_word(pos: u64, len: u32) -> u64 {
    ((tag(pos) as u64) << 32) | len as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_do_not_overlap_and_fit_the_header() {
        let fields = [
            (OFF_MAGIC, 8),
            (OFF_VERSION, 4),
            (OFF_HEADER_SIZE, 4),
            (OFF_CAPACITY, 8),
            (OFF_MAX_MESSAGE, 8),
            (OFF_CREATOR_ROLE, 4),
            (OFF_CREATOR_PID, 4),
            (OFF_OPENER_PID, 4),
            (OFF_HEAD, 8),
            (OFF_DATA_FUTEX, 4),
            (OFF_CONSUMER_SLEEPING, 4),
            (OFF_SPACE_FUTEX, 4),
            (OFF_PRODUCER_SLEEPING, 4),
            (OFF_PRODUCER_CLOSED, 4),
            (OFF_CONSUMER_CLOSED, 4),
        ];
        for (i, &(a, la)) in fields.iter().enumerate() {
            assert_eq!(a % la, 0, "field at {a} is aligned");
            assert!(a + la <= HEADER_SIZE);
            for &(b, lb) in &fields[i + 1..] {
                assert!(a + la <= b || b + lb <= a, "{a} and {b} overlap");
            }
        }
    }

    #[test]
    fn commit_words_are_never_zero() {
        for pos in [0u64, 8, 1 << 34, !7] {
            assert_ne!(commit_word(pos, 0), 0);
            assert_eq!(commit_word(pos, 5) as u32, 5);
        }
        assert_eq!(record_size(0), 8);
        assert_eq!(record_size(1), 16);
        assert_eq!(record_size(8), 16);
        assert!(record_size(max_message(4096)) + WORD <= 4096 / 2);
    }
}
