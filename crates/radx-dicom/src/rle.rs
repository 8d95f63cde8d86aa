//! RLE Lossless fragments checked before dicom-rs decodes them.
//!
//! dicom-transfer-syntax-registry 0.10.1's RLE decoder indexes without checking: a fragment
//! shorter than its 64-byte header, a header naming more segments than the fragment holds
//! (or ~4 billion, which it allocates), or a segment that unpacks to fewer than
//! rows × columns bytes makes it panic (the fuzzer found the last one). A panic in a
//! decoder would take a whole batch down, so each fragment about to be decoded is checked
//! here against the standard (PS3.5 annex G) and refused with the file named.

use std::path::Path;

use dicom_dictionary_std::tags;

use crate::attrs::{Object, req_uint};
use crate::error::DicomError;

/// RLE Lossless' transfer syntax UID.
pub(crate) const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// An RLE fragment starts with a header of 16 little-endian u32: the segment count, then
/// up to 15 segment offsets.
const HEADER_BYTES: usize = 64;
const MAX_SEGMENTS: u32 = 15;

/// Check the fragment of `frame` (every fragment when `None`) of an RLE-encoded object.
pub(crate) fn check_fragments(obj: &Object, frame: Option<u32>, path: &Path) -> Result<(), DicomError> {
    let Some(fragments) = obj.element(tags::PIXEL_DATA).ok().and_then(|e| e.value().fragments()) else {
        return Ok(()); // native pixel data: the decoder says what is wrong with it
    };
    let rows = u64::from(req_uint(obj, tags::ROWS, "Rows", path)?);
    let cols = u64::from(req_uint(obj, tags::COLUMNS, "Columns", path)?);
    let samples = req_uint(obj, tags::SAMPLES_PER_PIXEL, "SamplesPerPixel", path)?;
    let bytes_per_sample = req_uint(obj, tags::BITS_ALLOCATED, "BitsAllocated", path)?.div_ceil(8);
    let segments = u64::from(samples) * u64::from(bytes_per_sample);
    let wanted: Vec<usize> = match frame {
        Some(f) => vec![f as usize],
        None => (0..fragments.len()).collect(),
    };
    for index in wanted {
        let Some(fragment) = fragments.get(index) else { continue }; // the decoder refuses it
        check_fragment(fragment, segments, rows * cols).map_err(|problem| DicomError::Pixels {
            path: path.to_path_buf(),
            reason: format!("RLE Lossless fragment {} is damaged: {problem}", index + 1),
        })?;
    }
    Ok(())
}

/// What is wrong with an RLE fragment.
#[derive(Debug, PartialEq, thiserror::Error)]
enum Damage {
    #[error("{0} bytes, shorter than the {HEADER_BYTES}-byte RLE header")]
    ShortHeader(usize),
    #[error("its header declares {0} segments (1 to {MAX_SEGMENTS} allowed)")]
    SegmentCount(u32),
    #[error("{found} segments where the image's samples need {needed}")]
    TooFewSegments { found: u32, needed: u64 },
    #[error("segment {segment} spans bytes {start}..{end} of {len}")]
    SegmentOutside { segment: usize, start: u64, end: u64, len: usize },
    #[error("segment {segment} unpacks to {unpacked} bytes where the frame has {pixels} pixels")]
    ShortSegment { segment: usize, unpacked: u64, pixels: u64 },
}

/// The damage of one fragment holding `segments` segments of `pixels` bytes each.
fn check_fragment(fragment: &[u8], segments: u64, pixels: u64) -> Result<(), Damage> {
    if fragment.len() < HEADER_BYTES {
        return Err(Damage::ShortHeader(fragment.len()));
    }
    let word = |i: usize| u32::from_le_bytes(fragment[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    let count = word(0);
    if count == 0 || count > MAX_SEGMENTS {
        return Err(Damage::SegmentCount(count));
    }
    if u64::from(count) < segments {
        return Err(Damage::TooFewSegments { found: count, needed: segments });
    }
    let mut offsets: Vec<u64> = (1..=count as usize).map(|i| u64::from(word(i))).collect();
    offsets.push(fragment.len() as u64);
    for s in 0..segments as usize {
        let (start, end) = (offsets[s], offsets[s + 1]);
        if start < HEADER_BYTES as u64 || start > end || end > fragment.len() as u64 {
            return Err(Damage::SegmentOutside { segment: s + 1, start, end, len: fragment.len() });
        }
        let unpacked = unpacked_len(&fragment[start as usize..end as usize], pixels);
        if unpacked < pixels {
            return Err(Damage::ShortSegment { segment: s + 1, unpacked, pixels });
        }
    }
    Ok(())
}

/// How many bytes a PackBits segment unpacks to, counting up to `enough` (a literal run cut
/// short by the segment's end counts what is there).
fn unpacked_len(segment: &[u8], enough: u64) -> u64 {
    let (mut at, mut out) = (0usize, 0u64);
    while at < segment.len() && out < enough {
        let header = segment[at] as i8;
        at += 1;
        match header {
            0..=127 => {
                let literal = header as usize + 1;
                out += literal.min(segment.len() - at) as u64;
                at += literal;
            }
            -127..=-1 if at < segment.len() => {
                out += (1 - i64::from(header)) as u64;
                at += 1;
            }
            -127..=-1 => break, // a repeat without its byte
            -128 => {}          // no operation
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(segments: &[&[u8]]) -> Vec<u8> {
        let mut header = vec![0u8; HEADER_BYTES];
        header[..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
        let mut at = HEADER_BYTES as u32;
        let mut body = Vec::new();
        for (i, s) in segments.iter().enumerate() {
            header[4 * (i + 1)..4 * (i + 2)].copy_from_slice(&at.to_le_bytes());
            at += s.len() as u32;
            body.extend_from_slice(s);
        }
        [header, body].concat()
    }

    /// PackBits by hand (PS3.5 G.3.1): 2 = three literal bytes, -3 (253) = the next byte
    /// four times, -128 = nothing.
    #[test]
    fn packbits_lengths_by_hand() {
        assert_eq!(unpacked_len(&[2, 7, 8, 9], 100), 3);
        assert_eq!(unpacked_len(&[253, 5], 100), 4);
        assert_eq!(unpacked_len(&[128, 253, 5, 0, 1], 100), 5);
        assert_eq!(unpacked_len(&[4, 1, 2], 100), 2, "a literal cut short counts what is there");
        assert_eq!(unpacked_len(&[253], 100), 0, "a repeat without its byte");
        assert_eq!(unpacked_len(&[253, 5, 253, 6], 4), 4, "stops once enough");
    }

    #[test]
    fn fragments_that_would_panic_the_decoder_are_refused() {
        let good = fragment(&[&[253, 5, 253, 6]]); // 8 bytes: a 2×4 frame of 8-bit samples
        assert_eq!(check_fragment(&good, 1, 8), Ok(()));
        assert!(check_fragment(&good, 1, 9).unwrap_err().to_string().contains("unpacks to 8 bytes"));
        assert!(check_fragment(&good[..40], 1, 8).unwrap_err().to_string().contains("shorter than"));
        assert!(check_fragment(&good, 2, 8).unwrap_err().to_string().contains("1 segments where"));
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(check_fragment(&huge, 1, 8).unwrap_err().to_string().contains("4294967295 segments"));
        let mut outside = good.clone();
        outside[4..8].copy_from_slice(&1000u32.to_le_bytes());
        assert!(check_fragment(&outside, 1, 8).unwrap_err().to_string().contains("spans bytes 1000.."));
    }
}
