//! A volume held as the bytes an image file stores its voxels in: a feature map's writer
//! sets the few voxels that differ from one map to the next and writes the same buffer
//! again, instead of converting every voxel of the grid for each map.
//!
//! Gzip-compressed, most of such a volume is the fill value (the maps' init value outside the
//! ROI), the same for every map: its long runs are compressed once ([`FillRun`]) and each
//! map compresses only the stretches around its voxels. A deflate stream may be cut into
//! pieces compressed on their own, each ended by a sync flush (byte-aligned, not final), so
//! the file is one ordinary gzip member; its CRC joins the pieces' CRCs.

use std::io::{self, Write};
use std::sync::OnceLock;

use flate2::{Compress, Compression, Crc, FlushCompress};
use radx_core::Grid;

use crate::voxel::{VALUES_PER_WRITE, WriteFailure};

/// Runs of the fill value shorter than this many voxels are compressed with their
/// neighbours: a piece costs a flush (a few bytes) and a compressor reset.
const MIN_FILL_RUN: usize = 4096;

/// A volume of little-endian `f32` voxels, x-fastest, as NIfTI and NRRD files store them
/// ([`crate::write_nifti_f32`], [`crate::write_nrrd_f32`]); decoded, the files hold the
/// voxels [`crate::write_nifti`] with [`crate::NiftiType::F32`] of the same values writes.
pub struct F32Volume {
    /// The volume's grid.
    pub grid: Grid,
    bytes: Vec<u8>,
    /// The voxels [`F32Volume::set`] has set, as increasing x-fastest indices; every other
    /// voxel holds the fill value.
    touched: Vec<usize>,
    /// The compressed long runs of the fill value between the touched voxels, made by the
    /// first gzip write after the touched voxels change.
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
            bytes: self.bytes.clone(),
            touched: self.touched.clone(),
            fill_runs: OnceLock::new(),
        }
    }
}

impl PartialEq for F32Volume {
    fn eq(&self, other: &Self) -> bool {
        self.grid == other.grid && self.bytes == other.bytes
    }
}

impl std::fmt::Debug for F32Volume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("F32Volume").field("grid", &self.grid).field("touched", &self.touched.len()).finish()
    }
}

impl F32Volume {
    /// Every voxel `value` (converted to `f32` as the writers convert it).
    pub fn filled(grid: Grid, value: f64) -> F32Volume {
        let count: usize = grid.dims.iter().product();
        F32Volume {
            grid,
            bytes: (value as f32).to_le_bytes().repeat(count),
            touched: Vec::new(),
            fill_runs: OnceLock::new(),
        }
    }

    /// Set the voxel at grid index `index` (inside the grid) to `value`. Setting the same
    /// voxels map after map (in increasing order, as a map's ROI voxels come) is cheapest.
    pub fn set(&mut self, index: [usize; 3], value: f64) {
        let [nx, ny, _] = self.grid.dims;
        let voxel = index[0] + nx * (index[1] + ny * index[2]);
        self.bytes[4 * voxel..4 * voxel + 4].copy_from_slice(&(value as f32).to_le_bytes());
        if self.touched.last().is_some_and(|&last| last >= voxel) {
            if let Err(at) = self.touched.binary_search(&voxel) {
                self.touched.insert(at, voxel);
                self.fill_runs = OnceLock::new();
            }
        } else {
            self.touched.push(voxel);
            self.fill_runs = OnceLock::new();
        }
    }

    /// Write the voxels' bytes as they are (an uncompressed `.nii`), in the writes
    /// [`crate::voxel`]'s writer makes.
    pub(crate) fn write_to<W: Write + ?Sized>(&self, writer: &mut W) -> Result<(), WriteFailure> {
        for chunk in self.bytes.chunks(VALUES_PER_WRITE * 4) {
            writer.write_all(chunk).map_err(WriteFailure::Io)?;
        }
        Ok(())
    }

    /// Write one gzip member of `prefix` (a header stored with the voxels, or nothing)
    /// followed by the voxels' bytes.
    pub(crate) fn write_gzip(&self, prefix: &[u8], out: &mut dyn Write) -> io::Result<()> {
        // flate2's header: no name, no time, OS unknown.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        let mut compress = Compress::new(Compression::default(), false);
        let (mut crc, mut piece) = (Crc::new(), Vec::new());
        let mut write_piece = |data: &[u8], crc: &mut Crc, out: &mut dyn Write| -> io::Result<()> {
            crc.update(data);
            deflate_synced(&mut compress, data, &mut piece)?;
            out.write_all(&piece)
        };
        let mut next = 0;
        let mut head = Some(prefix);
        for run in self.fill_runs()? {
            let mut stretch = head.take().map_or_else(Vec::new, <[u8]>::to_vec);
            stretch.extend_from_slice(&self.bytes[4 * next..4 * run.start]);
            if !stretch.is_empty() {
                write_piece(&stretch, &mut crc, out)?;
            }
            crc.combine(&run.crc);
            out.write_all(&run.deflated)?;
            next = run.start + run.len;
        }
        let mut stretch = head.take().map_or_else(Vec::new, <[u8]>::to_vec);
        stretch.extend_from_slice(&self.bytes[4 * next..]);
        if !stretch.is_empty() {
            write_piece(&stretch, &mut crc, out)?;
        }
        // A final empty block of fixed codes (BFINAL, BTYPE 01, end of block), then the
        // trailer: CRC-32 and the length modulo 2³².
        out.write_all(&[0x03, 0x00])?;
        out.write_all(&crc.sum().to_le_bytes())?;
        out.write_all(&((prefix.len() + self.bytes.len()) as u32).to_le_bytes())
    }

    /// The runs of at least [`MIN_FILL_RUN`] untouched voxels, compressed (once while the
    /// touched voxels stay the same).
    fn fill_runs(&self) -> io::Result<&[FillRun]> {
        if let Some(runs) = self.fill_runs.get() {
            return Ok(runs);
        }
        let count = self.bytes.len() / 4;
        let mut compress = Compress::new(Compression::default(), false);
        // The gaps before, between and after the touched voxels.
        let starts = std::iter::once(0).chain(self.touched.iter().map(|&t| t + 1));
        let ends = self.touched.iter().copied().chain([count]);
        let mut runs = Vec::new();
        for (start, end) in starts.zip(ends).filter(|&(start, end)| end >= start + MIN_FILL_RUN) {
            let data = &self.bytes[4 * start..4 * end];
            let mut crc = Crc::new();
            crc.update(data);
            let mut deflated = Vec::new();
            deflate_synced(&mut compress, data, &mut deflated)?;
            runs.push(FillRun { start, len: end - start, deflated, crc });
        }
        Ok(self.fill_runs.get_or_init(|| runs))
    }
}

/// `data` as raw deflate blocks ending in a sync flush (byte-aligned, not final), into `out`
/// (cleared first), by `compress` reset.
fn deflate_synced(compress: &mut Compress, data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    compress.reset();
    out.clear();
    out.reserve(data.len() / 4 + 64);
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let before = compress.total_in();
        compress.compress_vec(input, out, FlushCompress::Sync).map_err(io::Error::other)?;
        input = &input[(compress.total_in() - before) as usize..];
        // The flush is complete once the compressor stops short of the room it was given.
        if input.is_empty() && out.len() < out.capacity() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
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
    fn gunzip(path: &std::path::Path, skip: usize) -> Vec<u8> {
        use std::io::Read;
        let bytes = std::fs::read(path).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[skip..]).read_to_end(&mut out).unwrap();
        out
    }

    /// Files of `encoded` decode to the bytes of the files `write_nifti`/`write_nrrd` give
    /// for `values`, and read back as the values.
    fn assert_writes_values(values: &Volume<f64>, encoded: &F32Volume) {
        let dir = tempfile::tempdir().unwrap();
        let (plain, fast) = (dir.path().join("plain.nii.gz"), dir.path().join("fast.nii.gz"));
        crate::write_nifti(&plain, values, NiftiType::F32).unwrap();
        crate::write_nifti_f32(&fast, encoded).unwrap();
        assert_eq!(gunzip(&plain, 0), gunzip(&fast, 0));
        let (plain_raw, fast_raw) = (dir.path().join("plain.nii"), dir.path().join("fast.nii"));
        crate::write_nifti(&plain_raw, values, NiftiType::F32).unwrap();
        crate::write_nifti_f32(&fast_raw, encoded).unwrap();
        assert_eq!(std::fs::read(&plain_raw).unwrap(), std::fs::read(&fast_raw).unwrap());
        let (plain, fast) = (dir.path().join("plain.nrrd"), dir.path().join("fast.nrrd"));
        crate::write_nrrd(&plain, values, VoxelType::F32).unwrap();
        crate::write_nrrd_f32(&fast, encoded).unwrap();
        let text = std::fs::read(&plain).unwrap();
        let header = text.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
        assert_eq!(std::fs::read(&fast).unwrap()[..header], text[..header]);
        assert_eq!(gunzip(&plain, header), gunzip(&fast, header));
        for file in ["fast.nii.gz", "fast.nrrd"] {
            let back = crate::read_volume(&dir.path().join(file)).unwrap();
            for (a, b) in back.data.iter().zip(values.data.iter()) {
                assert!((a.is_nan() && b.is_nan()) || *a == f64::from(*b as f32), "{file}");
            }
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
        assert_eq!(encoded.touched, [65, 5 + 64 * (60 + 64 * 2), 64 * 64 * 3 - 1]);
        assert_writes_values(&values, &encoded);
    }
}
