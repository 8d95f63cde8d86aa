//! Raw deflate pieces, each ended by a sync flush, compressed from chunks of their bytes to
//! the very bytes of the whole-buffer form: the piece in one buffer, compressed by calls
//! with a sync flush into an output `Vec` reserved to a quarter of the piece plus 64
//! bytes, grown (as `Vec` grows) whenever less than 64 bytes are free, and kept from piece to
//! piece of one file (the tests' `deflate_synced`, which radx's map files were written with).
//!
//! The chunks cannot be cut anywhere: zlib-rs' level-6 deflate (`deflate_medium`) forgets
//! its look-ahead match when it refills its window and when a call returns, so its output
//! depends on where its input runs out and where its output buffer fills, not only on the
//! bytes. Given a whole piece, it reads the window's 64 KiB first, then 32 KiB after every
//! slide (it refills with less than 262 bytes of look-ahead, which always slides); chunks cut
//! at those offsets run out exactly where it refills anyway. Each call here gets the room
//! the whole-buffer form's output vector has left in its call, so the compressor returns on
//! a full buffer at the same points; room beyond [`MAX_ROOM`] is never reached in one call.

use std::io::{self, Write};
use std::ops::Range;

use flate2::{Compress, Compression, Crc, FlushCompress};

/// The deflate window (raw deflate, 15 window bits: 32 KiB); the compressor's buffer is
/// twice that.
const WINDOW: usize = 1 << 15;

/// Most room given to one call: more than a call can emit (the 64 KiB pending buffer left
/// from the previous call and the blocks of at most 64 KiB of input, a few bits a byte).
const MAX_ROOM: usize = 1 << 18;

/// A compressor of pieces, with the whole-buffer form's output capacity and its own buffers.
pub(crate) struct SyncedDeflater {
    compress: Compress,
    /// The whole-buffer form's output vector's capacity.
    capacity: usize,
    chunk: Vec<u8>,
    room: Vec<u8>,
}

impl SyncedDeflater {
    /// A compressor whose whole-buffer form starts from an empty output vector.
    pub(crate) fn new() -> SyncedDeflater {
        SyncedDeflater {
            compress: Compress::new(Compression::default(), false),
            capacity: 0,
            chunk: Vec::new(),
            room: Vec::new(),
        }
    }

    /// Start the whole-buffer form's next piece in a new, empty output vector.
    pub(crate) fn new_vector(&mut self) {
        self.capacity = 0;
    }

    /// Compress a piece of `len` bytes onto `out` as raw deflate blocks ending in a sync
    /// flush, adding its bytes to `crc`; `bytes` writes the piece's bytes `range` into its
    /// vector (cleared first), a chunk at a time.
    pub(crate) fn piece(
        &mut self,
        len: usize,
        mut bytes: impl FnMut(Range<usize>, &mut Vec<u8>),
        crc: &mut Crc,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.compress.reset();
        self.chunk.clear();
        let mut input = Input { read: 0, at: 0, len };
        // The whole-buffer form: clear, reserve, then calls until the input is used up and
        // the flush did not fill the vector.
        self.capacity = grown(self.capacity, 0, len / 4 + 64);
        let mut written = 0;
        loop {
            if self.capacity - written < 64 {
                self.capacity = grown(self.capacity, written, self.capacity.max(4096));
            }
            written = self.call(&mut input, written, &mut bytes, crc, out)?;
            if input.done(&self.chunk) && written < self.capacity {
                return Ok(());
            }
        }
    }

    /// One call of the whole-buffer form, with the vector's room after `written` bytes: as
    /// many calls here as chunks it reads. Returns the bytes written after it.
    fn call(
        &mut self,
        input: &mut Input,
        mut written: usize,
        bytes: &mut impl FnMut(Range<usize>, &mut Vec<u8>),
        crc: &mut Crc,
        out: &mut dyn Write,
    ) -> io::Result<usize> {
        loop {
            if input.at == self.chunk.len() && input.read < input.len {
                input.next_chunk(&mut self.chunk, bytes, crc);
            }
            let last = input.read == input.len;
            let room = (self.capacity - written).min(MAX_ROOM);
            if self.room.len() < room {
                self.room.resize(room, 0);
            }
            let (before_in, before_out) = (self.compress.total_in(), self.compress.total_out());
            let flush = if last { FlushCompress::Sync } else { FlushCompress::None };
            self.compress.compress(&self.chunk[input.at..], &mut self.room[..room], flush).map_err(io::Error::other)?;
            input.at += (self.compress.total_in() - before_in) as usize;
            let made = (self.compress.total_out() - before_out) as usize;
            out.write_all(&self.room[..made])?;
            written += made;
            // The whole-buffer call returns on a full vector, or once the flush is done (the
            // compressor stopped short of its room). A call here filling `MAX_ROOM` but not
            // the vector (which the bound rules out) is called again, so nothing is lost.
            if written == self.capacity || (last && input.at == self.chunk.len() && made < room) {
                return Ok(written);
            }
        }
    }
}

/// Where the piece's bytes are: `read` of its `len` bytes made into chunks, the current
/// chunk's first `at` bytes consumed.
struct Input {
    read: usize,
    at: usize,
    len: usize,
}

impl Input {
    /// Whether every byte of the piece has been consumed.
    fn done(&self, chunk: &[u8]) -> bool {
        self.read == self.len && self.at == chunk.len()
    }

    /// Make the next chunk: the window's worth first, then half a window (see the module).
    fn next_chunk(&mut self, chunk: &mut Vec<u8>, bytes: &mut impl FnMut(Range<usize>, &mut Vec<u8>), crc: &mut Crc) {
        let step = if self.read == 0 { 2 * WINDOW } else { WINDOW };
        let range = self.read..self.len.min(self.read + step);
        self.read = range.end;
        bytes(range, chunk);
        crc.update(chunk);
        self.at = 0;
    }
}

/// The capacity of a `Vec<u8>` of `capacity` holding `len` bytes after `reserve(additional)`
/// (std's amortised growth: at least double; the tests compare with a real `Vec`, so a
/// change in std would show there).
fn grown(capacity: usize, len: usize, additional: usize) -> usize {
    if capacity - len >= additional { capacity } else { (2 * capacity).max(len + additional).max(8) }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The whole-buffer form: `data` as raw deflate blocks ending in a sync flush, into
    /// `out` (cleared first, its capacity kept), by `compress` reset.
    pub(crate) fn deflate_synced(compress: &mut Compress, data: &[u8], out: &mut Vec<u8>) {
        compress.reset();
        out.clear();
        out.reserve(data.len() / 4 + 64);
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(4096));
            }
            let before = compress.total_in();
            compress.compress_vec(input, out, FlushCompress::Sync).unwrap();
            input = &input[(compress.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                return;
            }
        }
    }

    /// Pieces compressed in turn by both forms (one output vector, one compressor each)
    /// give the same bytes and CRCs.
    fn assert_same_pieces(pieces: &[Vec<u8>]) {
        let (mut compress, mut whole) = (Compress::new(Compression::default(), false), Vec::new());
        let mut synced = SyncedDeflater::new();
        for (k, piece) in pieces.iter().enumerate() {
            deflate_synced(&mut compress, piece, &mut whole);
            let (mut crc, mut chunked) = (Crc::new(), Vec::new());
            let from = |range: Range<usize>, buf: &mut Vec<u8>| {
                buf.clear();
                buf.extend_from_slice(&piece[range]);
            };
            synced.piece(piece.len(), from, &mut crc, &mut chunked).unwrap();
            assert_eq!(chunked.len(), whole.len(), "piece {k} of {} bytes", piece.len());
            assert!(chunked == whole, "piece {k} of {} bytes", piece.len());
            let mut expected = Crc::new();
            expected.update(piece);
            assert_eq!(crc.sum(), expected.sum());
        }
    }

    /// Bytes like a map's: runs of a fill value, stretches of noise and of repeated
    /// patterns (long matches), from a seed.
    fn map_like(seed: u64, len: usize, fill: [u8; 4]) -> Vec<u8> {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut data = Vec::with_capacity(len + 4096);
        while data.len() < len {
            let run = (next() % 3000) as usize + 1;
            match next() % 3 {
                0 => (0..run).for_each(|_| data.extend_from_slice(&fill)),
                1 => (0..run).for_each(|_| data.push(next() as u8)),
                _ => {
                    let from = data.len().saturating_sub((next() % 5000) as usize + 4);
                    (0..run).for_each(|i| data.push(data.get(from + i % 97).copied().unwrap_or(7)));
                }
            }
        }
        data.truncate(len);
        data
    }

    /// Noise compresses to more than a quarter of itself, so the output vector fills and
    /// grows mid-piece; a fill run compresses to almost nothing; both across many chunks.
    #[test]
    fn chunked_pieces_are_the_whole_buffer_bytes() {
        let noise = map_like(42, 300_000, [0, 0, 0xc0, 0x7f]).iter().map(|b| b.wrapping_mul(31)).collect();
        let fill = [0, 0, 0xc0, 0x7f].repeat(200_000);
        assert_same_pieces(&[noise, fill, map_like(7, 1_000_000, [1, 2, 3, 4]), vec![9; 1]]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn chunked_pieces_are_the_whole_buffer_bytes_at_random(
            pieces in proptest::collection::vec((any::<u64>(), 1usize..400_000, any::<[u8; 4]>()), 1..4),
        ) {
            let pieces: Vec<_> = pieces.into_iter().map(|(seed, len, fill)| map_like(seed, len, fill)).collect();
            assert_same_pieces(&pieces);
        }
    }
}
