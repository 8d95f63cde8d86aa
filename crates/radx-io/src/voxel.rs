//! On-disk voxel types and the conversion of raw voxel bytes to and from `f64`.
//!
//! Shared by the NIfTI-1, NIfTI-2 and NRRD code: every format ends in "N voxels of one
//! scalar type, one byte order", which is decoded here in fixed-size chunks straight into
//! the output vector (no intermediate byte buffer of the whole image).

use std::io::{self, Read, Write};

/// A scalar voxel type on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VoxelType {
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 32-bit integer.
    U32,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 64-bit integer (values above 2⁵³ lose precision in `f64`).
    U64,
    /// Signed 64-bit integer (magnitudes above 2⁵³ lose precision in `f64`).
    I64,
    /// IEEE 754 single precision.
    F32,
    /// IEEE 754 double precision.
    F64,
}

/// The voxel type argument of [`crate::write_nifti`] (the same set as NRRD).
pub type NiftiType = VoxelType;

impl VoxelType {
    /// Every supported type, smallest first.
    pub const ALL: [VoxelType; 10] = [
        VoxelType::U8,
        VoxelType::I8,
        VoxelType::U16,
        VoxelType::I16,
        VoxelType::U32,
        VoxelType::I32,
        VoxelType::U64,
        VoxelType::I64,
        VoxelType::F32,
        VoxelType::F64,
    ];

    /// Bytes per voxel.
    pub fn size(self) -> usize {
        match self {
            VoxelType::U8 | VoxelType::I8 => 1,
            VoxelType::U16 | VoxelType::I16 => 2,
            VoxelType::U32 | VoxelType::I32 | VoxelType::F32 => 4,
            VoxelType::U64 | VoxelType::I64 | VoxelType::F64 => 8,
        }
    }

    /// Lower-case name as reported in [`crate::ImageInfo::datatype`]: "uint8", "int16", "float32"…
    pub fn name(self) -> &'static str {
        match self {
            VoxelType::U8 => "uint8",
            VoxelType::I8 => "int8",
            VoxelType::U16 => "uint16",
            VoxelType::I16 => "int16",
            VoxelType::U32 => "uint32",
            VoxelType::I32 => "int32",
            VoxelType::U64 => "uint64",
            VoxelType::I64 => "int64",
            VoxelType::F32 => "float32",
            VoxelType::F64 => "float64",
        }
    }

    /// Whether the type stores whole numbers.
    pub fn is_integer(self) -> bool {
        !matches!(self, VoxelType::F32 | VoxelType::F64)
    }

    /// The inclusive range of values the type stores exactly enough for writing
    /// (`None` for floating-point types, which take any `f64` after rounding to their precision).
    pub fn integer_range(self) -> Option<(f64, f64)> {
        match self {
            VoxelType::U8 => Some((0.0, u8::MAX as f64)),
            VoxelType::I8 => Some((i8::MIN as f64, i8::MAX as f64)),
            VoxelType::U16 => Some((0.0, u16::MAX as f64)),
            VoxelType::I16 => Some((i16::MIN as f64, i16::MAX as f64)),
            VoxelType::U32 => Some((0.0, u32::MAX as f64)),
            VoxelType::I32 => Some((i32::MIN as f64, i32::MAX as f64)),
            // 2^64 and 2^63 are exactly representable; the upper bound is exclusive there.
            VoxelType::U64 => Some((0.0, 18_446_744_073_709_549_568.0)),
            VoxelType::I64 => Some((i64::MIN as f64, 9_223_372_036_854_774_784.0)),
            VoxelType::F32 | VoxelType::F64 => None,
        }
    }
}

/// Byte order of multi-byte voxels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    Little,
    Big,
}

/// Why [`read_voxels`] stopped early.
#[derive(Debug)]
pub(crate) enum ReadFailure {
    /// The stream ended after `got` of the expected bytes.
    Short { got: u64 },
    /// The stream failed (I/O error, corrupt compressed data) after `got` bytes.
    Io { got: u64, error: io::Error },
}

/// Bytes decoded per chunk: a multiple of every voxel size.
const CHUNK_BYTES: usize = 1 << 16;

/// Voxels converted per write, whatever their type ([`write_voxels`], [`crate::F32Volume`]).
pub(crate) const VALUES_PER_WRITE: usize = CHUNK_BYTES / 8;

/// Read exactly `count` voxels of `kind` from `reader` and return them as `f64`, x-fastest.
/// The caller has already checked `count` against the memory budget. `reserve` is how many
/// voxels to allocate up front: `count` when the stream is known to hold them (a raw file
/// of the right length), less for a compressed stream, whose header may claim far more than
/// it holds (the vector then grows only as data actually arrives).
pub(crate) fn read_voxels<R: Read>(
    reader: &mut R,
    kind: VoxelType,
    order: ByteOrder,
    count: usize,
    reserve: usize,
) -> Result<Vec<f64>, ReadFailure> {
    let total_bytes = count as u64 * kind.size() as u64;
    let mut out = Vec::with_capacity(count.min(reserve));
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut done: u64 = 0;
    while done < total_bytes {
        let want = (total_bytes - done).min(CHUNK_BYTES as u64) as usize;
        let got = fill(reader, &mut buf[..want]).map_err(|error| ReadFailure::Io { got: done, error })?;
        if got < want {
            return Err(ReadFailure::Short { got: done + got as u64 });
        }
        decode_chunk(&buf[..want], kind, order, &mut out);
        done += want as u64;
    }
    Ok(out)
}

/// Read until `buf` is full or the stream ends; returns the bytes read.
pub(crate) fn fill<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Copy a chunk of exactly `N` bytes into an array (the chunks come from `chunks_exact(N)`).
fn bytes<const N: usize>(chunk: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(chunk);
    a
}

/// Decode whole voxels from `raw` (its length is a multiple of the voxel size) onto `out`.
pub(crate) fn decode_chunk(raw: &[u8], kind: VoxelType, order: ByteOrder, out: &mut Vec<f64>) {
    // One loop per (type, order) so the hot loop holds no branch.
    macro_rules! decode {
        ($t:ty, $n:literal) => {
            match order {
                ByteOrder::Little => {
                    out.extend(raw.chunks_exact($n).map(|c| <$t>::from_le_bytes(bytes::<$n>(c)) as f64))
                }
                ByteOrder::Big => out.extend(raw.chunks_exact($n).map(|c| <$t>::from_be_bytes(bytes::<$n>(c)) as f64)),
            }
        };
    }
    match kind {
        VoxelType::U8 => out.extend(raw.iter().map(|&b| b as f64)),
        VoxelType::I8 => out.extend(raw.iter().map(|&b| b as i8 as f64)),
        VoxelType::U16 => decode!(u16, 2),
        VoxelType::I16 => decode!(i16, 2),
        VoxelType::U32 => decode!(u32, 4),
        VoxelType::I32 => decode!(i32, 4),
        VoxelType::U64 => decode!(u64, 8),
        VoxelType::I64 => decode!(i64, 8),
        VoxelType::F32 => decode!(f32, 4),
        VoxelType::F64 => decode!(f64, 8),
    }
}

/// Deflate cannot compress better than 1032:1 (a 258-byte match per 2 bits), so a gzip
/// stream of `compressed` bytes decodes to at most this many bytes (with slack for headers).
pub(crate) fn gzip_decoded_bound(compressed: u64) -> u64 {
    compressed.saturating_mul(1032).saturating_add(1 << 16)
}

/// Voxels worth reserving up front for `count` voxels of `kind` from a gzip stream of
/// `compressed` bytes: never more than the stream can possibly hold.
pub(crate) fn gzip_reserve(count: usize, kind: VoxelType, compressed: u64) -> usize {
    let most = gzip_decoded_bound(compressed) / kind.size() as u64;
    count.min(usize::try_from(most).unwrap_or(usize::MAX))
}

/// Read a gzip stream to its end so its trailer (CRC-32 and length) is verified: a file cut
/// inside the trailer, or with a wrong checksum, must not pass as complete.
pub(crate) fn finish_gzip<R: Read>(path: &std::path::Path, reader: &mut R) -> Result<(), crate::IoError> {
    io::copy(reader, &mut io::sink()).map(|_| ()).map_err(|e| {
        let reason = if e.kind() == io::ErrorKind::UnexpectedEof {
            "the gzip stream ends inside its trailer (CRC-32, length): the file is truncated".to_string()
        } else {
            format!("the gzip trailer check failed: {e}")
        };
        crate::IoError::Corrupt { path: path.to_path_buf(), reason }
    })
}

/// A value that does not fit the on-disk type (see [`write_voxels`]).
#[derive(Debug)]
pub(crate) enum WriteFailure {
    OutOfRange(f64),
    Io(io::Error),
}

/// The volume's values in file order (x fastest): borrowed when the array is laid out so
/// already, as the pipeline's volumes are; writing many maps then copies no volume.
pub(crate) fn x_fastest(volume: &radx_core::Volume<f64>) -> std::borrow::Cow<'_, [f64]> {
    match volume.data.t().to_slice() {
        Some(values) => std::borrow::Cow::Borrowed(values),
        None => std::borrow::Cow::Owned(volume.to_x_fastest()),
    }
}

/// Write `values` as little-endian `kind`. Integer types take the value rounded to the
/// nearest integer; NaN, infinities and values outside the type's range are refused
/// (a silent clamp would corrupt test fixtures).
pub(crate) fn write_voxels<W: Write + ?Sized>(
    writer: &mut W,
    values: &[f64],
    kind: VoxelType,
) -> Result<(), WriteFailure> {
    // One loop per type, the type chosen outside it: a map writes millions of voxels.
    match kind {
        VoxelType::U8 => write_as(writer, values, kind, |v| [v as u8]),
        VoxelType::I8 => write_as(writer, values, kind, |v| (v as i8).to_le_bytes()),
        VoxelType::U16 => write_as(writer, values, kind, |v| (v as u16).to_le_bytes()),
        VoxelType::I16 => write_as(writer, values, kind, |v| (v as i16).to_le_bytes()),
        VoxelType::U32 => write_as(writer, values, kind, |v| (v as u32).to_le_bytes()),
        VoxelType::I32 => write_as(writer, values, kind, |v| (v as i32).to_le_bytes()),
        VoxelType::U64 => write_as(writer, values, kind, |v| (v as u64).to_le_bytes()),
        VoxelType::I64 => write_as(writer, values, kind, |v| (v as i64).to_le_bytes()),
        VoxelType::F32 => write_as(writer, values, kind, |v| (v as f32).to_le_bytes()),
        VoxelType::F64 => write_as(writer, values, kind, f64::to_le_bytes),
    }
}

/// [`write_voxels`] for one type: `encode` gives a value's `N` bytes (after rounding and
/// the range check for integer types).
fn write_as<W: Write + ?Sized, const N: usize>(
    writer: &mut W,
    values: &[f64],
    kind: VoxelType,
    encode: impl Fn(f64) -> [u8; N],
) -> Result<(), WriteFailure> {
    let range = kind.integer_range();
    // As many values per write whatever the type: a compressor's output may depend on how
    // its input is cut, and maps written before must stay the same bytes.
    let per_write = VALUES_PER_WRITE;
    let mut buf = vec![0u8; per_write * N];
    for chunk in values.chunks(per_write) {
        let bytes = &mut buf[..chunk.len() * N];
        for (out, &v) in bytes.chunks_exact_mut(N).zip(chunk) {
            let v = match range {
                Some((lo, hi)) => {
                    let r = v.round();
                    if !(r >= lo && r <= hi) {
                        return Err(WriteFailure::OutOfRange(v));
                    }
                    r
                }
                None => v,
            };
            out.copy_from_slice(&encode(v));
        }
        writer.write_all(bytes).map_err(WriteFailure::Io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_byte_orders() {
        // 0x0102 = 258 read little-endian from [02 01], big-endian from [01 02].
        let mut le: &[u8] = &[0x02, 0x01, 0xff, 0xff];
        assert_eq!(read_voxels(&mut le, VoxelType::I16, ByteOrder::Little, 2, usize::MAX).unwrap(), vec![258.0, -1.0]);
        let mut be: &[u8] = &[0x01, 0x02, 0xff, 0xfe];
        assert_eq!(read_voxels(&mut be, VoxelType::U16, ByteOrder::Big, 2, usize::MAX).unwrap(), vec![258.0, 65534.0]);
        // 1.5f32 = 0x3FC00000.
        let mut f: &[u8] = &[0x3f, 0xc0, 0x00, 0x00];
        assert_eq!(read_voxels(&mut f, VoxelType::F32, ByteOrder::Big, 1, usize::MAX).unwrap(), vec![1.5]);
        let mut i8s: &[u8] = &[0x80, 0x7f];
        assert_eq!(
            read_voxels(&mut i8s, VoxelType::I8, ByteOrder::Little, 2, usize::MAX).unwrap(),
            vec![-128.0, 127.0]
        );
    }

    #[test]
    fn short_stream_reports_bytes_present() {
        let mut r: &[u8] = &[0u8; 7];
        match read_voxels(&mut r, VoxelType::I32, ByteOrder::Little, 2, usize::MAX) {
            Err(ReadFailure::Short { got }) => assert_eq!(got, 7),
            other => panic!("expected a short read, got {other:?}"),
        }
    }

    #[test]
    fn short_stream_across_chunks() {
        // More than one chunk of data, cut inside the second chunk.
        let data = vec![0u8; CHUNK_BYTES + 10];
        let mut r: &[u8] = &data;
        match read_voxels(&mut r, VoxelType::U8, ByteOrder::Little, CHUNK_BYTES + 20, usize::MAX) {
            Err(ReadFailure::Short { got }) => assert_eq!(got, (CHUNK_BYTES + 10) as u64),
            other => panic!("expected a short read, got {other:?}"),
        }
    }

    #[test]
    fn writing_refuses_unrepresentable_values() {
        let mut sink = Vec::new();
        assert!(matches!(write_voxels(&mut sink, &[256.0], VoxelType::U8), Err(WriteFailure::OutOfRange(_))));
        assert!(matches!(write_voxels(&mut sink, &[-1.0], VoxelType::U16), Err(WriteFailure::OutOfRange(_))));
        assert!(matches!(write_voxels(&mut sink, &[f64::NAN], VoxelType::I32), Err(WriteFailure::OutOfRange(_))));
        assert!(matches!(
            write_voxels(&mut sink, &[1.8446744073709552e19], VoxelType::U64),
            Err(WriteFailure::OutOfRange(_))
        ));
        sink.clear();
        write_voxels(&mut sink, &[-2.6, 255.4], VoxelType::I16).unwrap();
        assert_eq!(sink, vec![0xfd, 0xff, 0xff, 0x00]); // -3 and 255, little-endian
    }
}
