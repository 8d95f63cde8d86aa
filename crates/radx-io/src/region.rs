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
//! their compact on-disk form, so mask and image inflate concurrently. The box's slices may
//! also be handed on as they are decoded instead of kept ([`RegionRequest::Stream`]), for a
//! consumer on another thread that works on each slice while the next is inflated.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};

use radx_core::roi::LabelSelection;
use radx_core::{BoundingBox, Grid, Volume};

use crate::ReadOptions;
use crate::error::IoError;
use crate::format::format_of;
use crate::stream::VoxelStream;
use crate::voxel;

/// One label of a label map as a boolean mask, with the box of its voxels.
///
/// Only the rows (runs of constant y and z) that hold the label are stored: a ROI fills a
/// small part of a CT, and a whole-grid mask of a 512×512×200 image would cost 52 MB.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelMask {
    /// The label map's whole grid.
    pub grid: Grid,
    /// `(y, z)` of each stored row, in file order.
    rows: Vec<[usize; 2]>,
    /// The stored rows' flags, `grid.dims[0]` per row, back to back.
    flags: Vec<bool>,
    /// The smallest box holding every `true` voxel; `None` when the label does not occur.
    pub bbox: Option<BoundingBox>,
    /// The first voxel, in `(x, y, z)` index order (x slowest, as `ndarray` iterates a
    /// volume), whose value is not within 1e-3 of a whole number (NaN included), with that
    /// value: a label map holds whole numbers, so such a file is a probability map or an image.
    pub fractional: Option<(f64, [usize; 3])>,
}

impl LabelMask {
    /// The mask inside `bbox` (voxel indices of the whole grid), on that box's sub-grid, as
    /// `self.to_volume().crop(bbox)` would give it.
    pub fn crop(&self, bbox: &BoundingBox) -> Volume<bool> {
        let [bx, by, bz] = bbox.dims();
        let nx = self.grid.dims[0];
        let mut data = vec![false; bx * by * bz];
        let inside =
            |y: usize, z: usize| (bbox.min[1]..=bbox.max[1]).contains(&y) && (bbox.min[2]..=bbox.max[2]).contains(&z);
        for (r, &[y, z]) in self.rows.iter().enumerate() {
            if inside(y, z) {
                let row = &self.flags[r * nx + bbox.min[0]..=r * nx + bbox.max[0]];
                let at = ((z - bbox.min[2]) * by + (y - bbox.min[1])) * bx;
                data[at..at + bx].copy_from_slice(row);
            }
        }
        let mut grid = self.grid;
        grid.dims = [bx, by, bz];
        grid.origin = self.grid.index_to_world([bbox.min[0] as f64, bbox.min[1] as f64, bbox.min[2] as f64]);
        Volume::from_x_fastest(grid, data)
    }

    /// Bytes the mask holds (its stored rows' flags and positions).
    pub fn bytes(&self) -> u64 {
        (self.flags.capacity() + self.rows.capacity() * std::mem::size_of::<[usize; 2]>()) as u64
    }

    /// The mask on the whole grid.
    pub fn to_volume(&self) -> Volume<bool> {
        let [nx, ny, nz] = self.grid.dims;
        self.crop(&BoundingBox { min: [0; 3], max: [nx - 1, ny - 1, nz - 1] })
    }
}

/// Whether every byte is zero; in blocks, so that the check vectorises.
fn all_zero(bytes: &[u8]) -> bool {
    let mut blocks = bytes.chunks_exact(64);
    blocks.all(|b| b.iter().fold(0u8, |acc, &x| acc | x) == 0) && blocks.remainder().iter().all(|&x| x == 0)
}

/// Read a label map as the mask of the voxels `selection` picks (by their scaled values,
/// the rule of `radx_core::roi::select_label`), keeping only the rows that hold it. The
/// budget (`opts.max_bytes`) is charged one slice of raw bytes and the rows kept, slice by
/// slice as they are found ([`LabelMask::bytes`]).
/// The bounding box and the first fractional value are found while reading; the gzip
/// trailer is checked.
pub fn read_label_mask(
    path: &Path,
    selection: impl Into<LabelSelection>,
    opts: &ReadOptions,
) -> Result<LabelMask, IoError> {
    let selection = selection.into();
    // One slice of raw bytes to begin with; the rows kept are charged as they are found.
    let mut stream = format_of(path)?.open_voxels(path, opts, &|_, _| 0)?;
    let grid = stream.info.grid;
    let budget_error = |needed: u64| IoError::TooLarge { path: path.to_path_buf(), needed, budget: opts.max_bytes };
    let [nx, ny, nz] = grid.dims;
    let selected = |v: f64| selection.matches(v);
    // NaN fails the comparison too.
    let whole = |v: f64| (v - v.round()).abs() < 1e-3;
    // Most of a label map is background: rows of zero bytes are judged by one value.
    let zero = stream.info.scale.map_or(0.0, |(slope, inter)| 0.0 * slope + inter);
    // Unscaled integers are whole numbers: no need to look for fractions.
    let integral = stream.kind.is_integer() && stream.info.scale.is_none();
    let row_bytes = nx * stream.kind.size();
    if stream.slice_bytes() as u64 > opts.max_bytes {
        return Err(budget_error(stream.slice_bytes() as u64));
    }
    let mut raw = vec![0u8; stream.slice_bytes()];
    let mut values = Vec::with_capacity(nx);
    let (mut rows, mut flags) = (Vec::new(), Vec::new());
    let (mut min, mut max) = ([usize::MAX; 3], [0usize; 3]);
    let mut fractional: Option<(f64, [usize; 3])> = None;
    let mut note_fraction = |v: f64, at: [usize; 3]| {
        if fractional.is_none_or(|(_, f)| at < f) {
            fractional = Some((v, at));
        }
    };
    for z in 0..nz {
        // This slice's rows may all hold the label: refuse before they could exceed the budget.
        let needed = (raw.len() + flags.len() + nx * ny) as u64;
        if needed > opts.max_bytes {
            return Err(budget_error(needed));
        }
        stream.read_slice(z, &mut raw)?;
        for (y, row) in raw.chunks_exact(row_bytes).enumerate().take(ny) {
            let start = flags.len();
            if all_zero(row) {
                if !whole(zero) {
                    note_fraction(zero, [0, y, z]);
                }
                if !selected(zero) {
                    continue;
                }
                flags.resize(start + nx, true);
            } else {
                values.clear();
                voxel::decode_chunk(row, stream.kind, stream.order, &mut values);
                stream.scale(&mut values);
                if !integral {
                    for (x, &v) in values.iter().enumerate() {
                        if !whole(v) {
                            note_fraction(v, [x, y, z]);
                            break;
                        }
                    }
                }
                flags.extend(values.iter().map(|&v| selected(v)));
            }
            let row = &flags[start..];
            match (row.iter().position(|&m| m), row.iter().rposition(|&m| m)) {
                (Some(first), Some(last)) => {
                    for (a, v) in [(0, first), (1, y), (2, z)] {
                        min[a] = min[a].min(v);
                    }
                    for (a, v) in [(0, last), (1, y), (2, z)] {
                        max[a] = max[a].max(v);
                    }
                    rows.push([y, z]);
                }
                _ => flags.truncate(start),
            }
        }
    }
    stream.finish()?;
    let bbox = (min[0] != usize::MAX).then_some(BoundingBox { min, max });
    Ok(LabelMask { grid, rows, flags, bbox, fractional })
}

/// The part of an image inside `bbox` (voxel indices of the file's grid), as
/// `read_volume(path)?.crop(bbox)` would give it, decoding only the voxels inside the box.
/// Returns the file's whole grid too. A box outside the image is refused with
/// [`IoError::RegionOutside`].
pub fn read_region(path: &Path, bbox: &BoundingBox, opts: &ReadOptions) -> Result<(Grid, Volume<f64>), IoError> {
    let [bx, by, bz] = bbox.dims();
    let box_bytes = (bx as u64 * by as u64 * bz as u64).saturating_mul(8);
    let stream = format_of(path)?.open_voxels(path, opts, &|_, _| box_bytes)?;
    match read_slices(stream, Plan::<BoundingBox>::Known(*bbox))? {
        Some(RegionRead::Kept(grid, region)) => Ok((grid, *region)),
        _ => unreachable!("a known box is kept, never cancelled"),
    }
}

/// Bytes of on-disk slices [`read_region_when_known`] keeps while it waits for the box: past
/// them it stops inflating until the box arrives. Large enough that a mask read beside the
/// image (a few ms to tens of ms) seldom makes it wait; small against any image worth
/// streaming (a 512×512×200 int16 CT holds 105 MB).
pub const EARLY_SLICES_BYTES: u64 = 16 << 20;

/// The bytes [`read_region_when_known`] holds besides the box's `f64` voxels, for an image of
/// `dims` voxels of `voxel_bytes` bytes each: one slice being inflated and the slices kept
/// before the box is known (at most [`EARLY_SLICES_BYTES`], and whole slices).
pub fn region_reader_bytes(dims: [usize; 3], voxel_bytes: u64) -> u64 {
    let slice = (dims[0] as u64).saturating_mul(dims[1] as u64).saturating_mul(voxel_bytes);
    let whole = slice.saturating_mul(dims[2] as u64);
    slice.saturating_add(whole.min(EARLY_SLICES_BYTES.div_ceil(slice.max(1)).saturating_mul(slice)))
}

/// Like [`read_region`], with the box sent later on `bbox` (typically by a thread reading
/// the mask): slices inflated before it arrives are kept in their on-disk form, so reading
/// proceeds meanwhile, up to [`EARLY_SLICES_BYTES`] (then it waits for the box). Returns
/// `Ok(None)` when the sender is dropped without sending. The budget is charged
/// [`region_reader_bytes`] when the file is opened; the box's voxels are the caller's to
/// charge before sending it.
pub fn read_region_when_known(
    path: &Path,
    bbox: Receiver<BoundingBox>,
    opts: &ReadOptions,
) -> Result<Option<(Grid, Volume<f64>)>, IoError> {
    Ok(read_region_as_requested(path, bbox, opts)?.map(|read| match read {
        RegionRead::Kept(grid, region) => (grid, *region),
        RegionRead::Streamed(_) => unreachable!("a box alone asks for its voxels kept"),
    }))
}

/// What [`read_region_as_requested`] does with the box's voxels.
#[derive(Debug)]
pub enum RegionRequest {
    /// Keep them: the box comes back as a volume ([`RegionRead::Kept`]).
    Keep(BoundingBox),
    /// Send each of the box's z slices on the channel as soon as it is decoded (its voxels,
    /// x fastest, scaled), keeping none: the reader holds one slice besides its own, and
    /// waits while the channel is full. When the receiver is dropped the reader stops
    /// (`Ok(None)`).
    Stream(BoundingBox, SyncSender<Vec<f64>>),
}

impl RegionRequest {
    /// The box asked for.
    pub fn bbox(&self) -> &BoundingBox {
        match self {
            RegionRequest::Keep(bbox) | RegionRequest::Stream(bbox, _) => bbox,
        }
    }
}

impl From<BoundingBox> for RegionRequest {
    fn from(bbox: BoundingBox) -> RegionRequest {
        RegionRequest::Keep(bbox)
    }
}

/// The image's whole grid and, when asked to keep it, the box's voxels.
#[derive(Debug)]
pub enum RegionRead {
    /// The whole grid and the box on its sub-grid (boxed: the variants' sizes differ).
    Kept(Grid, Box<Volume<f64>>),
    /// The whole grid; every slice of the box was sent.
    Streamed(Grid),
}

/// [`read_region_when_known`] with the box sent as a [`RegionRequest`] (a box alone keeps its
/// voxels). The budget is charged as there: the slices streamed are the caller's to charge
/// (one being decoded, those in the channel and those the receiver holds).
pub fn read_region_as_requested<R: Into<RegionRequest>>(
    path: &Path,
    request: Receiver<R>,
    opts: &ReadOptions,
) -> Result<Option<RegionRead>, IoError> {
    // Charged below, from the header's dims (the reader's slices, not the voxel count).
    let stream = format_of(path)?.open_voxels(path, opts, &|_, _| 0)?;
    let needed = region_reader_bytes(stream.info.grid.dims, stream.kind.size() as u64);
    if needed > opts.max_bytes {
        return Err(IoError::TooLarge { path: path.to_path_buf(), needed, budget: opts.max_bytes });
    }
    read_slices(stream, Plan::Pending(&request))
}

/// Where the box comes from.
enum Plan<'a, R> {
    Known(BoundingBox),
    Pending(&'a Receiver<R>),
}

/// Decoded voxels of the box, filled slice by slice, or handed on slice by slice.
struct Crop {
    bbox: BoundingBox,
    values: Vec<f64>,
    /// Where the slices go when they are not kept.
    slices: Option<SyncSender<Vec<f64>>>,
    /// The slices' receiver went away.
    abandoned: bool,
}

impl Crop {
    fn new(stream: &VoxelStream, request: RegionRequest) -> Result<Crop, IoError> {
        let (bbox, slices) = match request {
            RegionRequest::Keep(bbox) => (bbox, None),
            RegionRequest::Stream(bbox, sender) => (bbox, Some(sender)),
        };
        let dims = stream.info.grid.dims;
        if (0..3).any(|a| bbox.min[a] > bbox.max[a] || bbox.max[a] >= dims[a]) {
            return Err(IoError::RegionOutside { path: stream.data_path.clone(), min: bbox.min, max: bbox.max, dims });
        }
        let [bx, by, bz] = bbox.dims();
        let kept = if slices.is_some() { 0 } else { (bx * by * bz).min(stream.reserve) };
        Ok(Crop { bbox, values: Vec::with_capacity(kept), slices, abandoned: false })
    }

    fn wants(&self, z: usize) -> bool {
        (self.bbox.min[2]..=self.bbox.max[2]).contains(&z)
    }

    /// Decode the box's rows of one slice's bytes; kept, or scaled and sent on.
    fn take(&mut self, stream: &VoxelStream, slice: &[u8]) {
        let nx = stream.info.grid.dims[0];
        let size = stream.kind.size();
        let (x0, x1) = (self.bbox.min[0], self.bbox.max[0]);
        if self.slices.is_some() {
            let [bx, by, _] = self.bbox.dims();
            self.values = Vec::with_capacity(bx * by);
        }
        for y in self.bbox.min[1]..=self.bbox.max[1] {
            let row = &slice[(y * nx + x0) * size..(y * nx + x1 + 1) * size];
            voxel::decode_chunk(row, stream.kind, stream.order, &mut self.values);
        }
        if let Some(sender) = &self.slices {
            let mut values = std::mem::take(&mut self.values);
            stream.scale(&mut values);
            self.abandoned |= sender.send(values).is_err();
        }
    }
}

fn read_slices<R: Into<RegionRequest>>(
    mut stream: VoxelStream<'_>,
    plan: Plan<'_, R>,
) -> Result<Option<RegionRead>, IoError> {
    let grid = stream.info.grid;
    let nz = grid.dims[2];
    let mut crop = match plan {
        Plan::Known(b) => {
            skip_check_if_stopping(&stream, &b, 0);
            Some(Crop::new(&stream, RegionRequest::Keep(b))?)
        }
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
                Ok(b) => crop = Some(start_crop(&stream, b.into(), &mut early)?),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => return Ok(None),
            }
        }
        match &mut crop {
            Some(c) if c.abandoned => return Ok(None),
            Some(c) if z > c.bbox.max[2] => break,
            Some(c) => {
                stream.read_slice(z, &mut buf)?;
                if c.wants(z) {
                    c.take(&stream, &buf);
                }
            }
            None if (early.len() as u64 + 1).saturating_mul(buf.len() as u64) > EARLY_SLICES_BYTES => {
                // Enough kept: wait for the box rather than hold the image in on-disk form.
                let Plan::Pending(rx) = &plan else { unreachable!("a known box starts the crop") };
                match rx.recv() {
                    Ok(b) => crop = Some(start_crop(&stream, b.into(), &mut early)?),
                    Err(_) => return Ok(None),
                }
                continue;
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
            Ok(b) => start_crop(&stream, b.into(), &mut early)?,
            Err(_) => return Ok(None),
        },
        (None, Plan::Known(_)) => unreachable!("a known box starts the crop"),
    };
    if crop.abandoned {
        return Ok(None);
    }
    if z == nz {
        stream.finish()?;
    }
    if crop.slices.is_some() {
        return Ok(Some(RegionRead::Streamed(grid)));
    }
    let mut values = crop.values;
    stream.scale(&mut values);
    let b = crop.bbox;
    let mut cropped = grid;
    cropped.dims = b.dims();
    cropped.origin = grid.index_to_world([b.min[0] as f64, b.min[1] as f64, b.min[2] as f64]);
    Ok(Some(RegionRead::Kept(grid, Box::new(Volume::from_x_fastest(cropped, values)))))
}

/// Start cropping once the box is known, decoding the slices read so far.
fn start_crop(stream: &VoxelStream, request: RegionRequest, early: &mut Vec<Vec<u8>>) -> Result<Crop, IoError> {
    let mut crop = Crop::new(stream, request)?;
    skip_check_if_stopping(stream, &crop.bbox, early.len());
    for (z, slice) in early.drain(..).enumerate() {
        if crop.wants(z) && !crop.abandoned {
            crop.take(stream, &slice);
        }
    }
    Ok(crop)
}

/// Reading stops after the box's last slice: if that is before the image's last slice and
/// the reader, at slice `z`, has not read every slice yet, the gzip trailer is never reached,
/// so the CRC-32 it holds need not be computed.
fn skip_check_if_stopping(stream: &VoxelStream, bbox: &BoundingBox, z: usize) {
    let nz = stream.info.grid.dims[2];
    if bbox.max[2] + 1 < nz
        && z < nz
        && let Some(skip) = &stream.skip_check
    {
        skip.skip();
    }
}
