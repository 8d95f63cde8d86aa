//! A volume written as the bytes an image file stores its voxels in, held as its fill value
//! and the few voxels set apart from it: a feature map's writer sets the voxels that differ
//! from one map to the next and writes again, holding nothing the size of the grid (a
//! whole-grid `f32` buffer per writer was most of `radx map`'s peak memory). The bytes of
//! any stretch of voxels are made when written, a bounded chunk at a time.
//!
//! Gzip-compressed, most of such a volume is the fill value (the maps' init value outside the
//! ROI), the same for every map: its long runs are compressed once ([`FillRun`]) and each
//! map compresses only the stretches around its voxels. A deflate stream may be cut into
//! pieces compressed on their own, each ended by a sync flush (byte-aligned, not final), so
//! the file is one ordinary gzip member; its CRC joins the pieces' CRCs. A piece is made and
//! compressed a chunk at a time, to the bytes of compressing it from one buffer
//! ([`crate::synced`]: the files are those radx wrote from a whole-grid buffer).

use std::io::{self, Write};
use std::ops::Range;
use std::sync::OnceLock;

use flate2::Crc;
use radx_core::Grid;

use crate::synced::SyncedDeflater;
use crate::voxel::{VALUES_PER_WRITE, WriteFailure};

/// Runs of the fill value shorter than this many voxels are compressed with their
/// neighbours: a piece costs a flush (a few bytes) and a compressor reset.
const MIN_FILL_RUN: usize = 4096;

/// A volume of little-endian `f32` voxels, x-fastest, as NIfTI and NRRD files store them
/// ([`crate::write_nifti_f32`], [`crate::write_nrrd_f32`]); decoded, the files hold the
/// voxels [`crate::write_nifti`] with [`crate::NiftiType::F32`] of the same values writes.
/// It holds the fill value and the voxels set (12 bytes each), not the grid's voxels.
pub struct F32Volume {
    /// The volume's grid.
    pub grid: Grid,
    /// The fill value's bytes: every voxel not set.
    fill: [u8; 4],
    /// The voxels [`F32Volume::set`] has set, as increasing x-fastest indices, and their
    /// values' bytes.
    indices: Vec<usize>,
    values: Vec<[u8; 4]>,
    /// Where the next [`F32Volume::set`] looks first: just after the voxel last set, so
    /// setting the same voxels in the same order again finds each at once.
    cursor: usize,
    /// The compressed long runs of the fill value between the set voxels, made by the
    /// first gzip write after the set voxels change.
    fill_runs: OnceLock<Vec<FillRun>>,
}

/// A run of the fill value, compressed once for every write.
struct FillRun {
    /// Its first voxel and its number of voxels.
    start: usize,
    len: usize,
    /// Raw deflate blocks ending in a sync flush.
    deflated: Vec<u8>,
    crc: Crc,
}

impl Clone for F32Volume {
    fn clone(&self) -> Self {
        F32Volume {
            grid: self.grid,
            fill: self.fill,
            indices: self.indices.clone(),
            values: self.values.clone(),
            cursor: self.cursor,
            fill_runs: OnceLock::new(),
        }
    }
}

/// Equal when the grids are and every voxel has the same bytes (a voxel set to the fill
/// value equals one not set).
impl PartialEq for F32Volume {
    fn eq(&self, other: &Self) -> bool {
        if self.grid != other.grid {
            return false;
        }
        let count = self.count();
        let (a, b) = (&self.indices, &other.indices);
        let (mut i, mut j, mut covered) = (0, 0, 0);
        while i < a.len() || j < b.len() {
            let voxel = a.get(i).copied().unwrap_or(count).min(b.get(j).copied().unwrap_or(count));
            let mine = if a.get(i) == Some(&voxel) {
                i += 1;
                self.values[i - 1]
            } else {
                self.fill
            };
            let theirs = if b.get(j) == Some(&voxel) {
                j += 1;
                other.values[j - 1]
            } else {
                other.fill
            };
            if mine != theirs {
                return false;
            }
            covered += 1;
        }
        covered == count || self.fill == other.fill
    }
}

impl std::fmt::Debug for F32Volume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("F32Volume").field("grid", &self.grid).field("set", &self.indices.len()).finish()
    }
}

impl F32Volume {
    /// Every voxel `value` (converted to `f32` as the writers convert it).
    pub fn filled(grid: Grid, value: f64) -> F32Volume {
        F32Volume {
            grid,
            fill: (value as f32).to_le_bytes(),
            indices: Vec::new(),
            values: Vec::new(),
            cursor: 0,
            fill_runs: OnceLock::new(),
        }
    }

    /// Set the voxel at grid index `index` to `value`. Setting the same voxels map after
    /// map (in increasing order, as a map's ROI voxels come) is cheapest.
    ///
    /// # Panics
    /// When `index` is outside the grid.
    pub fn set(&mut self, index: [usize; 3], value: f64) {
        let [nx, ny, nz] = self.grid.dims;
        assert!(
            index[0] < nx && index[1] < ny && index[2] < nz,
            "voxel {index:?} outside the grid {:?}",
            self.grid.dims
        );
        let voxel = index[0] + nx * (index[1] + ny * index[2]);
        let bytes = (value as f32).to_le_bytes();
        let at = if self.indices.get(self.cursor) == Some(&voxel) {
            self.cursor
        } else if self.indices.last().is_none_or(|&last| last < voxel) {
            self.push(voxel, bytes);
            return;
        } else {
            match self.indices.binary_search(&voxel) {
                Ok(at) => at,
                Err(at) => {
                    self.indices.insert(at, voxel);
                    self.values.insert(at, bytes);
                    self.cursor = at + 1;
                    self.fill_runs = OnceLock::new();
                    return;
                }
            }
        };
        self.values[at] = bytes;
        self.cursor = at + 1;
    }

    /// Append a voxel after every one set.
    fn push(&mut self, voxel: usize, bytes: [u8; 4]) {
        self.indices.push(voxel);
        self.values.push(bytes);
        self.cursor = self.indices.len();
        self.fill_runs = OnceLock::new();
    }

    /// The number of voxels of the grid.
    fn count(&self) -> usize {
        self.grid.dims.iter().product()
    }

    /// Append the bytes of voxels `range` to `out`.
    fn append_voxels(&self, range: Range<usize>, out: &mut Vec<u8>) {
        let (base, len) = (out.len(), 4 * range.len());
        if len == 0 {
            return;
        }
        // The fill value, then copies of what is filled so far (a few long copies).
        out.extend_from_slice(&self.fill);
        out.resize(base + len, 0);
        let mut filled = 4;
        while filled < len {
            let more = filled.min(len - filled);
            out.copy_within(base..base + more, base + filled);
            filled += more;
        }
        let first = self.indices.partition_point(|&v| v < range.start);
        for (&voxel, value) in self.indices[first..].iter().zip(&self.values[first..]) {
            if voxel >= range.end {
                break;
            }
            let at = base + 4 * (voxel - range.start);
            out[at..at + 4].copy_from_slice(value);
        }
    }

    /// Bytes `range` of a piece of `prefix` followed by the voxels from `first` on, into
    /// `out` (cleared first).
    fn piece_bytes(&self, prefix: &[u8], first: usize, range: Range<usize>, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&prefix[range.start.min(prefix.len())..range.end.min(prefix.len())]);
        if range.end > prefix.len() {
            // The voxels' bytes `from..to`, made from whole voxels and trimmed.
            let (from, to) = (range.start.max(prefix.len()) - prefix.len(), range.end - prefix.len());
            let head = out.len();
            self.append_voxels(first + from / 4..first + to.div_ceil(4), out);
            out.truncate(head + to - from / 4 * 4);
            out.drain(head..head + from % 4);
        }
    }

    /// Write the voxels' bytes as they are (an uncompressed `.nii`), in the writes
    /// [`crate::voxel`]'s writer makes.
    pub(crate) fn write_to<W: Write + ?Sized>(&self, writer: &mut W) -> Result<(), WriteFailure> {
        let mut chunk = Vec::new();
        for start in (0..self.count()).step_by(VALUES_PER_WRITE) {
            chunk.clear();
            self.append_voxels(start..self.count().min(start + VALUES_PER_WRITE), &mut chunk);
            writer.write_all(&chunk).map_err(WriteFailure::Io)?;
        }
        Ok(())
    }

    /// Write one gzip member of `prefix` (a header stored with the voxels, or nothing)
    /// followed by the voxels' bytes.
    pub(crate) fn write_gzip(&self, prefix: &[u8], out: &mut dyn Write) -> io::Result<()> {
        // flate2's header: no name, no time, OS unknown.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        let (mut deflater, mut crc) = (SyncedDeflater::new(), Crc::new());
        let (mut next, mut head) = (0, prefix);
        for run in self.fill_runs()? {
            self.write_stretch(head, next..run.start, &mut deflater, &mut crc, out)?;
            head = &[];
            crc.combine(&run.crc);
            out.write_all(&run.deflated)?;
            next = run.start + run.len;
        }
        self.write_stretch(head, next..self.count(), &mut deflater, &mut crc, out)?;
        // A final empty block of fixed codes (BFINAL, BTYPE 01, end of block), then the
        // trailer: CRC-32 and the length modulo 2³².
        out.write_all(&[0x03, 0x00])?;
        out.write_all(&crc.sum().to_le_bytes())?;
        out.write_all(&((prefix.len() + 4 * self.count()) as u32).to_le_bytes())
    }

    /// Compress `prefix` and the voxels `voxels` as one piece onto `out` (nothing when
    /// both are empty).
    fn write_stretch(
        &self,
        prefix: &[u8],
        voxels: Range<usize>,
        deflater: &mut SyncedDeflater,
        crc: &mut Crc,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let len = prefix.len() + 4 * voxels.len();
        if len == 0 {
            return Ok(());
        }
        deflater.piece(len, |range, buf| self.piece_bytes(prefix, voxels.start, range, buf), crc, out)
    }

    /// The runs of at least [`MIN_FILL_RUN`] voxels not set, compressed (once while the set
    /// voxels stay the same).
    fn fill_runs(&self) -> io::Result<&[FillRun]> {
        if let Some(runs) = self.fill_runs.get() {
            return Ok(runs);
        }
        let mut deflater = SyncedDeflater::new();
        // The gaps before, between and after the set voxels.
        let starts = std::iter::once(0).chain(self.indices.iter().map(|&t| t + 1));
        let ends = self.indices.iter().copied().chain([self.count()]);
        let mut runs = Vec::new();
        for (start, end) in starts.zip(ends).filter(|&(start, end)| end >= start + MIN_FILL_RUN) {
            let (mut crc, mut deflated) = (Crc::new(), Vec::new());
            // Each run's blocks were a vector of their own.
            deflater.new_vector();
            deflater.piece(
                4 * (end - start),
                |range, buf| self.piece_bytes(&[], start, range, buf),
                &mut crc,
                &mut deflated,
            )?;
            runs.push(FillRun { start, len: end - start, deflated, crc });
        }
        Ok(self.fill_runs.get_or_init(|| runs))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use radx_core::Volume;

    use super::*;
    use crate::{NiftiType, VoxelType};

    /// A grid of more voxels than one write holds, with NaN, a value `f32` rounds, and
    /// values on both sides of zero.
    fn volume() -> (Volume<f64>, F32Volume) {
        let grid = Grid::new([40, 30, 9], [0.8, 0.8, 2.5]);
        assert!(grid.dims.iter().product::<usize>() > VALUES_PER_WRITE);
        let mut values = Volume::filled(grid, f64::NAN);
        let mut encoded = F32Volume::filled(grid, f64::NAN);
        for (k, index) in [[0, 0, 0], [39, 29, 8], [7, 3, 4], [12, 20, 6]].into_iter().enumerate() {
            let value = [0.1, -3.5e7, 1.0 / 3.0, 0.0][k];
            values.data[index] = value;
            encoded.set(index, value);
        }
        (values, encoded)
    }

    /// The decompressed bytes of a gzip file's first member (a reader that stops there, so a
    /// file of several members would fail the comparisons), after `skip` plain bytes.
    fn gunzip(bytes: &[u8], skip: usize) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[skip..]).read_to_end(&mut out).unwrap();
        out
    }

    /// Files of `encoded` decode to the bytes of the files `write_nifti`/`write_nrrd` give
    /// for `values`, and read back as the values.
    fn assert_writes_values(values: &Volume<f64>, encoded: &F32Volume) {
        let dir = tempfile::tempdir().unwrap();
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        crate::write_nifti(&dir.path().join("plain.nii.gz"), values, NiftiType::F32).unwrap();
        crate::write_nifti_f32(&dir.path().join("fast.nii.gz"), encoded).unwrap();
        assert_eq!(gunzip(&read("plain.nii.gz"), 0), gunzip(&read("fast.nii.gz"), 0));
        crate::write_nifti(&dir.path().join("plain.nii"), values, NiftiType::F32).unwrap();
        crate::write_nifti_f32(&dir.path().join("fast.nii"), encoded).unwrap();
        assert_eq!(read("plain.nii"), read("fast.nii"));
        crate::write_nrrd(&dir.path().join("plain.nrrd"), values, VoxelType::F32).unwrap();
        crate::write_nrrd_f32(&dir.path().join("fast.nrrd"), encoded).unwrap();
        let text = read("plain.nrrd");
        let header = text.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
        assert_eq!(read("fast.nrrd")[..header], text[..header]);
        assert_eq!(gunzip(&text, header), gunzip(&read("fast.nrrd"), header));
        for file in ["fast.nii.gz", "fast.nrrd"] {
            let back = crate::read_volume(&dir.path().join(file)).unwrap();
            for (a, b) in back.data.iter().zip(values.data.iter()) {
                assert!((a.is_nan() && b.is_nan()) || *a == f64::from(*b as f32), "{file}");
            }
        }
    }

    /// The simple form: the whole volume's bytes in one buffer, from `fill` and the voxels
    /// `set` (x-fastest index, value; later ones win).
    fn plain_bytes(count: usize, fill: f64, set: &[(usize, f64)]) -> Vec<u8> {
        let mut bytes = (fill as f32).to_le_bytes().repeat(count);
        for &(voxel, value) in set {
            bytes[4 * voxel..4 * voxel + 4].copy_from_slice(&(value as f32).to_le_bytes());
        }
        bytes
    }

    /// The simple form's gzip member: `prefix` and `bytes` cut at the same fill runs (the
    /// gaps of at least `MIN_FILL_RUN` voxels between the `set` voxels), each piece
    /// compressed whole in one buffer ([`crate::synced::tests::deflate_synced`]).
    fn plain_gzip(prefix: &[u8], bytes: &[u8], set: &[usize]) -> Vec<u8> {
        use crate::synced::tests::deflate_synced;
        use flate2::{Compress, Compression};
        let (count, mut crc) = (bytes.len() / 4, Crc::new());
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        let (mut runs, mut pieces) =
            (Compress::new(Compression::default(), false), Compress::new(Compression::default(), false));
        let mut piece_out = Vec::new();
        let mut stretch = |data: &[u8], crc: &mut Crc, out: &mut Vec<u8>| {
            if !data.is_empty() {
                crc.update(data);
                deflate_synced(&mut pieces, data, &mut piece_out);
                out.extend_from_slice(&piece_out);
            }
        };
        let starts = std::iter::once(0).chain(set.iter().map(|&t| t + 1));
        let ends = set.iter().copied().chain([count]);
        let (mut next, mut head) = (0, prefix.to_vec());
        for (start, end) in starts.zip(ends).filter(|&(start, end)| end >= start + MIN_FILL_RUN) {
            head.extend_from_slice(&bytes[4 * next..4 * start]);
            stretch(&std::mem::take(&mut head), &mut crc, &mut out);
            crc.update(&bytes[4 * start..4 * end]);
            // Each run's blocks are a vector of their own.
            let mut run_out = Vec::new();
            deflate_synced(&mut runs, &bytes[4 * start..4 * end], &mut run_out);
            out.extend_from_slice(&run_out);
            next = end;
        }
        head.extend_from_slice(&bytes[4 * next..]);
        stretch(&head, &mut crc, &mut out);
        out.extend_from_slice(&[0x03, 0x00]);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&((prefix.len() + bytes.len()) as u32).to_le_bytes());
        out
    }

    /// `set` applied to a volume filled with `fill` writes the simple form's bytes, plain
    /// and gzip-compressed (after a NIfTI-sized prefix and none), and the gzip decodes to
    /// the plain bytes.
    fn assert_simple_form(dims: [usize; 3], fill: f64, set: &[(usize, f64)]) {
        let grid = Grid::new(dims, [1.0, 1.0, 1.0]);
        let count = dims.iter().product::<usize>();
        let mut encoded = F32Volume::filled(grid, fill);
        for &(voxel, value) in set {
            encoded.set([voxel % dims[0], voxel / dims[0] % dims[1], voxel / (dims[0] * dims[1])], value);
        }
        let bytes = plain_bytes(count, fill, set);
        let mut plain = Vec::new();
        encoded.write_to(&mut plain).unwrap();
        assert!(plain == bytes, "plain bytes");
        let mut voxels: Vec<usize> = set.iter().map(|s| s.0).collect();
        voxels.sort_unstable();
        voxels.dedup();
        let prefix: Vec<u8> = (0..352u32).map(|i| (i * 7) as u8).collect();
        for prefix in [&prefix[..], &[]] {
            let mut gzip = Vec::new();
            encoded.write_gzip(prefix, &mut gzip).unwrap();
            assert!(gzip == plain_gzip(prefix, &bytes, &voxels), "gzip bytes, prefix of {}", prefix.len());
            assert!(gunzip(&gzip, 0) == [prefix, &bytes[..]].concat());
        }
    }

    #[test]
    fn an_encoded_volume_writes_the_voxels_of_its_values() {
        let (values, encoded) = volume();
        // Voxels 1..4927 are a run of the fill value long enough to be compressed apart.
        assert_eq!(encoded.fill_runs().unwrap().iter().map(|r| (r.start, r.len)).collect::<Vec<_>>(), [(1, 4926)]);
        assert_writes_values(&values, &encoded);
    }

    #[test]
    fn a_volume_of_the_fill_value_only_and_one_set_again_out_of_order() {
        let grid = Grid::new([64, 64, 3], [1.0, 1.0, 1.0]);
        let (mut values, mut encoded) = (Volume::filled(grid, -2.5), F32Volume::filled(grid, -2.5));
        assert_writes_values(&values, &encoded);
        // Set late voxels first, write (making the runs), then an earlier voxel: the runs
        // are made again.
        for (index, value) in [([5, 60, 2], 1.0), ([63, 63, 2], 2.0), ([5, 60, 2], 3.0)] {
            values.data[index] = value;
            encoded.set(index, value);
        }
        assert_writes_values(&values, &encoded);
        values.data[[1, 1, 0]] = 7.0;
        encoded.set([1, 1, 0], 7.0);
        assert_eq!(encoded.indices, [65, 5 + 64 * (60 + 64 * 2), 64 * 64 * 3 - 1]);
        assert_writes_values(&values, &encoded);
    }

    /// Maps set the same voxels in the same order: each is found where the last one set
    /// left off, and the volume keeps one entry a voxel.
    #[test]
    fn setting_the_same_voxels_again_replaces_their_values() {
        let grid = Grid::new([8, 8, 2], [1.0, 1.0, 1.0]);
        let mut encoded = F32Volume::filled(grid, 0.0);
        let voxels = [[1, 0, 0], [7, 3, 0], [2, 2, 1]];
        for map in 0..3 {
            for (k, &index) in voxels.iter().enumerate() {
                encoded.set(index, f64::from(map * 10 + k as i32));
            }
        }
        assert_eq!(encoded.indices, [1, 31, 82]);
        assert_eq!(encoded.values, [20.0f32, 21.0, 22.0].map(f32::to_le_bytes));
        let mut other = F32Volume::filled(grid, 0.0);
        other.set([2, 2, 1], 22.0);
        other.set([1, 0, 0], 20.0);
        other.set([7, 3, 0], 21.0);
        other.set([5, 5, 1], 0.0);
        assert_eq!(encoded, other);
        other.set([5, 5, 1], 0.5);
        assert_ne!(encoded, other);
        assert_ne!(encoded, F32Volume::filled(grid, 0.0));
    }

    /// Large enough that pieces span several of the compressor's chunks and fill runs
    /// several writes; values of noise (compressing poorly, so the output vector grows).
    #[test]
    fn a_large_volume_writes_the_simple_form() {
        let dims = [256, 200, 7];
        let count = dims.iter().product::<usize>();
        let mut set: Vec<(usize, f64)> = Vec::new();
        let mut state = 12345u64;
        for slice in [1, 2, 3, 5] {
            for row in 20..150 {
                for x in 30..230 {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    set.push((slice * 256 * 200 + row * 256 + x, (state >> 11) as f64 * 1e-9 - 4e3));
                }
            }
        }
        assert!(set.iter().all(|s| s.0 < count));
        assert_simple_form(dims, f64::NAN, &set);
        assert_simple_form(dims, 0.0, &set[..5000]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn encoded_volumes_write_the_simple_form(
            dims in (1usize..80, 1usize..60, 1usize..12),
            fill in prop_oneof![Just(f64::NAN), Just(0.0), Just(-1.0e30), any::<f64>(), any::<f32>().prop_map(f64::from)],
            seeds in proptest::collection::vec((any::<u32>(), 0usize..64, any::<f64>()), 0..40),
        ) {
            // Runs of voxels from random starts (some overlapping, set again later).
            let (nx, ny, nz) = dims;
            let count = nx * ny * nz;
            let mut set = Vec::new();
            for (start, run, value) in seeds {
                for k in 0..run {
                    let voxel = (start as usize + 3 * k) % count;
                    set.push((voxel, if k % 5 == 4 { f64::NAN } else { value * (k as f64 + 0.5) }));
                }
            }
            assert_simple_form([nx, ny, nz], fill, &set);
        }
    }
}
