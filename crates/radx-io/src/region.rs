//! Reading only what the pipeline needs: a label map as a compact boolean mask with its
//! bounding box, and the part of an image inside a box.
//!
//! The IBSI chain (reference manual, chapter 2) starts by cropping image and mask to the
//! ROI (plus a margin for interpolation and the local-intensity sphere); everything outside
//! that box is never looked at again. Reading a whole 512×512×200 CT as `f64` costs 420 MB
//! for a ROI of a few MB, so these readers decode voxels slice by slice (a slice is a plane
//! of constant z, the order NIfTI and NRRD store voxels in) and keep only the box. A
//! compressed stream must still be inflated up to the box's last slice; past it nothing is
//! read, so damage after the box (truncation, a bad gzip trailer) goes unnoticed there —
//! [`crate::read_volume`] validates a whole file.
//!
//! The box may also arrive while the image is being read ([`read_region_when_known`]):
//! another thread reads the mask, and slices inflated before its box is known are kept in
//! their compact on-disk form, so mask and image inflate concurrently.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError};

use radx_core::{BoundingBox, Grid, Volume};

use crate::error::IoError;
use crate::voxel::{self, ByteOrder, ReadFailure, VoxelType};
use crate::{Format, ImageInfo, ReadOptions};

/// An open image whose header is read and validated, positioned at its first voxel.
pub(crate) struct VoxelStream<'a> {
    pub(crate) info: ImageInfo,
    pub(crate) kind: VoxelType,
    pub(crate) order: ByteOrder,
    pub(crate) count: usize,
    pub(crate) reader: Box<dyn Read + Send + 'a>,
    pub(crate) gzip: bool,
    /// The file the voxels come from (the detached data file of an `.nhdr`).
    pub(crate) data_path: PathBuf,
    /// How a bad gzip stream is described, e.g. "while reading the voxel data".
    pub(crate) gzip_context: &'static str,
    /// How many voxels may be allocated up front: `count` when the stream is known to hold
    /// them (a raw file of the right length), fewer for a gzip stream, whose header may claim
    /// far more than it can decode to (`voxel::gzip_reserve`); buffers grow as data arrives.
    pub(crate) reserve: usize,
}

impl VoxelStream<'_> {
    fn data_bytes(&self) -> u64 {
        (self.count as u64).saturating_mul(self.kind.size() as u64)
    }

    /// Map an I/O error met after `got` voxel bytes.
    fn error(&self, got: u64, e: io::Error) -> IoError {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => self.truncated(got),
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput if self.gzip => {
                IoError::corrupt(&self.data_path, format!("bad gzip stream {}: {e}", self.gzip_context))
            }
            _ => IoError::Unreadable { path: self.data_path.clone(), source: e },
        }
    }

    fn truncated(&self, got: u64) -> IoError {
        IoError::Truncated { path: self.data_path.clone(), what: "voxel data", expected: self.data_bytes(), got }
    }

    /// Verify the gzip trailer once the whole stream has been consumed.
    fn finish(&mut self) -> Result<(), IoError> {
        if self.gzip { voxel::finish_gzip(&self.data_path, &mut self.reader) } else { Ok(()) }
    }

    /// Apply the header's intensity scaling (NIfTI `scl_slope`/`scl_inter`).
    fn scale(&self, values: &mut [f64]) {
        if let Some((slope, inter)) = self.info.scale {
            for v in values {
                *v = *v * slope + inter;
            }
        }
    }

    /// Every voxel, x-fastest, scaled; the gzip trailer is checked.
    pub(crate) fn read_all(mut self) -> Result<Vec<f64>, IoError> {
        let mut values = voxel::read_voxels(&mut self.reader, self.kind, self.order, self.count, self.reserve)
            .map_err(|f| match f {
                ReadFailure::Short { got } => self.truncated(got),
                ReadFailure::Io { got, error } => self.error(got, error),
            })?;
        self.finish()?;
        self.scale(&mut values);
        Ok(values)
    }

    /// Bytes of one slice (plane of constant z).
    fn slice_bytes(&self) -> usize {
        let [nx, ny, _] = self.info.grid.dims;
        nx * ny * self.kind.size()
    }

    /// Fill `buf` with slice `z`'s bytes.
    fn read_slice(&mut self, z: usize, buf: &mut [u8]) -> Result<(), IoError> {
        let before = (z * buf.len()) as u64;
        let got = voxel::fill(&mut self.reader, buf).map_err(|e| self.error(before, e))?;
        if got < buf.len() {
            return Err(self.truncated(before + got as u64));
        }
        Ok(())
    }
}

fn open_voxels(
    path: &Path,
    opts: &ReadOptions,
    needed: impl Fn(u64, u64) -> u64,
) -> Result<VoxelStream<'static>, IoError> {
    match crate::format_of(path)? {
        Format::Nifti => crate::nifti::open_voxels(path, opts, needed),
        Format::Nrrd => crate::nrrd::open_voxels(path, opts, needed),
    }
}

/// One label of a label map as a boolean mask, with the box of its voxels.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelMask {
    /// `true` where the label map holds the label, on the file's whole grid.
    pub mask: Volume<bool>,
    /// The smallest box holding every `true` voxel; `None` when the label does not occur.
    pub bbox: Option<BoundingBox>,
    /// The first voxel, in `(x, y, z)` index order (x slowest, as `ndarray` iterates a
    /// volume), whose value is not within 1e-3 of a whole number (NaN included), with that
    /// value: a label map holds whole numbers, so such a file is a probability map or an image.
    pub fractional: Option<(f64, [usize; 3])>,
}

/// Read a label map as the mask of voxels whose (scaled) value is within 1e-3 of `label`
/// (the rule of `radx_core::roi::select_label`), at one byte per voxel instead of eight.
/// The bounding box and the first fractional value are found while reading; the gzip
/// trailer is checked.
pub fn read_label_mask(path: &Path, label: i64, opts: &ReadOptions) -> Result<LabelMask, IoError> {
    let mut stream = open_voxels(path, opts, |count, _| count)?;
    let grid = stream.info.grid;
    let [nx, ny, nz] = grid.dims;
    let target = label as f64;
    let mut raw = vec![0u8; stream.slice_bytes()];
    let mut values = Vec::with_capacity(nx * ny);
    let mut mask = Vec::with_capacity(stream.count.min(stream.reserve));
    let (mut min, mut max) = ([usize::MAX; 3], [0usize; 3]);
    let mut fractional: Option<(f64, [usize; 3])> = None;
    for z in 0..nz {
        stream.read_slice(z, &mut raw)?;
        values.clear();
        voxel::decode_chunk(&raw, stream.kind, stream.order, &mut values);
        stream.scale(&mut values);
        for (i, &v) in values.iter().enumerate() {
            // NaN fails the comparison too.
            let whole = (v - v.round()).abs() < 1e-3;
            if !whole {
                let at = [i % nx, i / nx, z];
                if fractional.is_none_or(|(_, f)| at < f) {
                    fractional = Some((v, at));
                }
            }
        }
        let start = mask.len();
        mask.extend(values.iter().map(|&v| (v - target).abs() < 1e-3));
        for (y, row) in mask[start..].chunks_exact(nx).enumerate() {
            // Rows are scanned twice only when they hold ROI voxels.
            if let (Some(first), Some(last)) = (row.iter().position(|&m| m), row.iter().rposition(|&m| m)) {
                for (a, v) in [(0, first), (1, y), (2, z)] {
                    min[a] = min[a].min(v);
                }
                for (a, v) in [(0, last), (1, y), (2, z)] {
                    max[a] = max[a].max(v);
                }
            }
        }
    }
    stream.finish()?;
    let bbox = (min[0] != usize::MAX).then_some(BoundingBox { min, max });
    Ok(LabelMask { mask: Volume::from_x_fastest(grid, mask), bbox, fractional })
}

/// The part of an image inside `bbox` (voxel indices of the file's grid), as
/// `read_volume(path)?.crop(bbox)` would give it, decoding only the voxels inside the box.
/// Returns the file's whole grid too. A box outside the image is refused with
/// [`IoError::RegionOutside`].
pub fn read_region(path: &Path, bbox: &BoundingBox, opts: &ReadOptions) -> Result<(Grid, Volume<f64>), IoError> {
    let [bx, by, bz] = bbox.dims();
    let box_bytes = (bx as u64 * by as u64 * bz as u64).saturating_mul(8);
    let stream = open_voxels(path, opts, |_, _| box_bytes)?;
    match read_slices(stream, Plan::Known(*bbox))? {
        Some(found) => Ok(found),
        None => unreachable!("a known box is never cancelled"),
    }
}

/// Like [`read_region`], with the box sent later on `bbox` (typically by a thread reading
/// the mask): slices inflated before it arrives are kept in their on-disk form, so reading
/// proceeds meanwhile. Returns `Ok(None)` when the sender is dropped without sending.
pub fn read_region_when_known(
    path: &Path,
    bbox: Receiver<BoundingBox>,
    opts: &ReadOptions,
) -> Result<Option<(Grid, Volume<f64>)>, IoError> {
    // Slices may be buffered in their on-disk form before the box is known.
    let stream = open_voxels(path, opts, |count, size| count.saturating_mul(size.max(1)))?;
    read_slices(stream, Plan::Pending(&bbox))
}

/// Where the box comes from.
enum Plan<'a> {
    Known(BoundingBox),
    Pending(&'a Receiver<BoundingBox>),
}

/// Decoded voxels of the box, filled slice by slice.
struct Crop {
    bbox: BoundingBox,
    values: Vec<f64>,
}

impl Crop {
    fn new(stream: &VoxelStream, bbox: BoundingBox) -> Result<Crop, IoError> {
        let dims = stream.info.grid.dims;
        if (0..3).any(|a| bbox.min[a] > bbox.max[a] || bbox.max[a] >= dims[a]) {
            return Err(IoError::RegionOutside { path: stream.data_path.clone(), min: bbox.min, max: bbox.max, dims });
        }
        let [bx, by, bz] = bbox.dims();
        Ok(Crop { bbox, values: Vec::with_capacity((bx * by * bz).min(stream.reserve)) })
    }

    fn wants(&self, z: usize) -> bool {
        (self.bbox.min[2]..=self.bbox.max[2]).contains(&z)
    }

    /// Decode the box's rows of one slice's bytes.
    fn take(&mut self, stream: &VoxelStream, slice: &[u8]) {
        let nx = stream.info.grid.dims[0];
        let size = stream.kind.size();
        let (x0, x1) = (self.bbox.min[0], self.bbox.max[0]);
        for y in self.bbox.min[1]..=self.bbox.max[1] {
            let row = &slice[(y * nx + x0) * size..(y * nx + x1 + 1) * size];
            voxel::decode_chunk(row, stream.kind, stream.order, &mut self.values);
        }
    }
}

fn read_slices(mut stream: VoxelStream<'_>, plan: Plan<'_>) -> Result<Option<(Grid, Volume<f64>)>, IoError> {
    let grid = stream.info.grid;
    let nz = grid.dims[2];
    let mut crop = match plan {
        Plan::Known(b) => Some(Crop::new(&stream, b)?),
        Plan::Pending(_) => None,
    };
    // Slices read before the box was known, in on-disk form.
    let mut early: Vec<Vec<u8>> = Vec::new();
    let mut buf = vec![0u8; stream.slice_bytes()];
    let mut z = 0;
    while z < nz {
        if crop.is_none()
            && let Plan::Pending(rx) = &plan
        {
            match rx.try_recv() {
                Ok(b) => crop = Some(start_crop(&stream, b, &mut early)?),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => return Ok(None),
            }
        }
        match &mut crop {
            Some(c) if z > c.bbox.max[2] => break,
            Some(c) => {
                stream.read_slice(z, &mut buf)?;
                if c.wants(z) {
                    c.take(&stream, &buf);
                }
            }
            None => {
                let mut slice = vec![0u8; buf.len()];
                stream.read_slice(z, &mut slice)?;
                early.push(slice);
            }
        }
        z += 1;
    }
    let crop = match (crop, &plan) {
        (Some(c), _) => c,
        (None, Plan::Pending(rx)) => match rx.recv() {
            Ok(b) => start_crop(&stream, b, &mut early)?,
            Err(_) => return Ok(None),
        },
        (None, Plan::Known(_)) => unreachable!("a known box starts the crop"),
    };
    if z == nz {
        stream.finish()?;
    }
    let mut values = crop.values;
    stream.scale(&mut values);
    let b = crop.bbox;
    let mut cropped = grid;
    cropped.dims = b.dims();
    cropped.origin = grid.index_to_world([b.min[0] as f64, b.min[1] as f64, b.min[2] as f64]);
    Ok(Some((grid, Volume::from_x_fastest(cropped, values))))
}

/// Start cropping once the box is known, decoding the slices read so far.
fn start_crop(stream: &VoxelStream, bbox: BoundingBox, early: &mut Vec<Vec<u8>>) -> Result<Crop, IoError> {
    let mut crop = Crop::new(stream, bbox)?;
    for (z, slice) in early.drain(..).enumerate() {
        if crop.wants(z) {
            crop.take(stream, &slice);
        }
    }
    Ok(crop)
}
