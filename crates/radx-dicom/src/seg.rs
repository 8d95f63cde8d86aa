//! DICOM SEG (Segmentation Storage) files: their segments, and one segment as a mask on an
//! image grid.
//!
//! A SEG is one multi-frame object. Each frame is one plane of one segment (binary: one bit
//! per pixel; fractional: a byte, `value / MaximumFractionalValue`; label map: the segment
//! number of each pixel), placed in the world by its own functional groups: the per-frame
//! PlanePositionSequence (ImagePositionPatient of its first pixel), the orientation and pixel
//! spacing of PlaneOrientationSequence and PixelMeasuresSequence (per frame or shared), and
//! the segment it belongs to in SegmentIdentificationSequence. The frames are therefore
//! placed through their positions, never through their order or DimensionIndexValues.
//!
//! [`Segmentation::mask`] maps the frames of one segment onto an image grid: each frame's
//! rows and columns must run along the grid's axes (either sign, any permutation) with the
//! grid's spacing, and its first pixel must lie on a voxel centre (within 1 % of a voxel);
//! frames need not cover the image (empty frames are usually omitted), but a non-zero pixel
//! outside the image is an error. Each segment is read on its own, so overlapping segments
//! keep every voxel they share.

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use dicom_object::mem::InMemElement;
use dicom_pixeldata::PixelDecoder;
use radx_core::{Grid, Volume};

use crate::attrs::{Object, floats, items, opt_str, req_uint};
use crate::error::DicomError;
use crate::raster::ToIndex;
use crate::slice::{Groups, frame_name, open, parse};

/// How far (in voxels) a frame's first pixel may lie from a voxel centre, and its steps from
/// whole voxels.
const ON_GRID: f64 = 0.01;

/// SegmentationType and what its pixel values mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentationType {
    /// One bit per pixel: in or out.
    Binary,
    /// One byte per pixel: the fraction `value / max` (SegmentationFractionalType says
    /// whether it is a probability or an occupancy).
    Fractional {
        /// MaximumFractionalValue (a value of `max` is a fraction of 1).
        max: u32,
        /// SegmentationFractionalType (`PROBABILITY` or `OCCUPANCY`), as written.
        fractional_type: String,
    },
    /// Each pixel holds the number of the segment it belongs to (0: none).
    Labelmap,
}

/// One segment of a SEG (SegmentSequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// SegmentNumber.
    pub number: u16,
    /// SegmentLabel.
    pub label: String,
    /// SegmentDescription, when stated.
    pub description: Option<String>,
    /// SegmentAlgorithmType (AUTOMATIC, SEMIAUTOMATIC, MANUAL), when stated.
    pub algorithm: Option<String>,
    /// The number of frames that belong to it.
    pub frames: usize,
}

impl Segment {
    /// `number "label"`, as errors and `radx info` list segments.
    pub fn describe(&self) -> String {
        format!("{} {:?}", self.number, self.label)
    }
}

/// One frame's place in the world.
#[derive(Debug, Clone, PartialEq)]
pub struct SegFrame {
    /// The segment it belongs to (ReferencedSegmentNumber); `None` in a label map, whose
    /// frames hold every segment.
    pub segment: Option<u16>,
    /// ImagePositionPatient of its first pixel, LPS mm.
    pub position: [f64; 3],
    /// ImageOrientationPatient: row direction then column direction, LPS.
    pub orientation: [f64; 6],
    /// PixelSpacing: [between rows, between columns], mm.
    pub pixel_spacing: [f64; 2],
}

/// Which segment to read: by SegmentNumber or by SegmentLabel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentChoice {
    /// SegmentNumber.
    Number(u16),
    /// SegmentLabel, exactly.
    Label(String),
}

impl SegmentChoice {
    /// A whole number is a segment number, anything else a label.
    pub fn parse(text: &str) -> Self {
        match text.trim().parse::<u16>() {
            Ok(n) => SegmentChoice::Number(n),
            Err(_) => SegmentChoice::Label(text.to_string()),
        }
    }
}

impl std::fmt::Display for SegmentChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SegmentChoice::Number(n) => write!(f, "{n}"),
            SegmentChoice::Label(l) => write!(f, "{l}"),
        }
    }
}

/// The stored pixels of every frame, as in the file (decoded when encapsulated).
#[derive(Debug, Clone)]
enum Pixels {
    /// One bit per pixel, packed across frames, least significant bit first.
    Bits(Vec<u8>),
    /// One byte per pixel.
    Bytes(Vec<u8>),
    /// Two bytes per pixel (16-bit label maps), little endian.
    Words(Vec<u8>),
}

/// A parsed SEG file.
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// The file it was read from.
    pub path: PathBuf,
    /// Binary, fractional or label map.
    pub kind: SegmentationType,
    /// FrameOfReferenceUID, when stated.
    pub frame_of_reference_uid: Option<String>,
    /// SeriesInstanceUID of the SEG itself, when stated.
    pub series_uid: Option<String>,
    /// Rows of each frame.
    pub rows: u32,
    /// Columns of each frame.
    pub cols: u32,
    /// Its segments, in SegmentSequence order.
    pub segments: Vec<Segment>,
    /// Its frames, in file order.
    pub frames: Vec<SegFrame>,
    pixels: Pixels,
}

/// Read a SEG file (segments, frame positions and pixels), within the default budget of
/// 8 GiB of decoded pixels.
pub fn read_seg(path: &Path) -> Result<Segmentation, DicomError> {
    let file = open(path)?;
    segmentation(&file, path, 8 << 30)
}

/// Read a SEG held in memory; `name` names it in errors; `max_bytes` bounds the decoded
/// pixels (checked before anything is decoded).
pub fn read_seg_bytes(name: &Path, bytes: &[u8], max_bytes: u64) -> Result<Segmentation, DicomError> {
    let file = parse(name, bytes)?;
    segmentation(&file, name, max_bytes)
}

/// Read segment `choice` of a SEG (the only segment when `None`) as a mask of fractions in
/// `[0, 1]` on `grid` (binary segments give 0 and 1), checking the SEG's frame of reference
/// against `frame_of_reference` (the image's) when both are stated.
pub fn read_seg_mask(
    path: &Path,
    choice: Option<&SegmentChoice>,
    grid: &Grid,
    frame_of_reference: Option<&str>,
) -> Result<Volume<f64>, DicomError> {
    let seg = read_seg(path)?;
    seg.check_frame_of_reference(frame_of_reference)?;
    let number = seg.segment(choice)?.number;
    seg.mask(number, grid)
}

/// A frame of the SEG as errors name it.
fn frame_path(path: &Path, frame: usize) -> PathBuf {
    frame_name(path, Some(u32::try_from(frame).unwrap_or(u32::MAX)))
}

fn fg_floats<const N: usize>(
    groups: &Groups<'_>,
    sequence: dicom_object::Tag,
    tag: dicom_object::Tag,
    keyword: &'static str,
    path: &Path,
    frame: usize,
) -> Result<[f64; N], DicomError> {
    let label = frame_path(path, frame);
    let item = groups.find(sequence, tag).ok_or_else(|| DicomError::Attribute {
        path: label.clone(),
        attribute: keyword,
        detail: String::new(),
    })?;
    let values = floats(item, tag, N, keyword, &label)?;
    let mut out = [0.0; N];
    out.copy_from_slice(&values);
    Ok(out)
}

fn segmentation(file: &DefaultDicomObject, path: &Path, max_bytes: u64) -> Result<Segmentation, DicomError> {
    let obj: &Object = file;
    let modality = opt_str(obj, tags::MODALITY).unwrap_or_default();
    if modality != "SEG" {
        return Err(DicomError::NotSeg { path: path.to_path_buf(), modality });
    }
    let attribute =
        |attribute: &'static str, detail: String| DicomError::Attribute { path: path.to_path_buf(), attribute, detail };
    let kind = match opt_str(obj, tags::SEGMENTATION_TYPE).as_deref() {
        Some("BINARY") => SegmentationType::Binary,
        Some("FRACTIONAL") => {
            let max = match obj.get(tags::MAXIMUM_FRACTIONAL_VALUE) {
                Some(e) => e.to_int::<u32>().map_err(|e| attribute("MaximumFractionalValue", format!(": {e}")))?,
                None => return Err(attribute("MaximumFractionalValue", String::new())),
            };
            if max == 0 {
                return Err(attribute("MaximumFractionalValue", ": 0".into()));
            }
            let fractional_type = opt_str(obj, tags::SEGMENTATION_FRACTIONAL_TYPE).unwrap_or_default();
            SegmentationType::Fractional { max, fractional_type }
        }
        Some("LABELMAP") => SegmentationType::Labelmap,
        other => {
            return Err(attribute("SegmentationType", format!(": {other:?}, expected BINARY, FRACTIONAL or LABELMAP")));
        }
    };
    let mut segments = Vec::new();
    for item in items(obj, tags::SEGMENT_SEQUENCE) {
        let number = match item.get(tags::SEGMENT_NUMBER) {
            Some(e) => e.to_int::<u16>().map_err(|e| attribute("SegmentNumber", format!(": {e}")))?,
            None => return Err(attribute("SegmentNumber", String::new())),
        };
        segments.push(Segment {
            number,
            label: opt_str(item, tags::SEGMENT_LABEL).unwrap_or_default(),
            description: opt_str(item, tags::SEGMENT_DESCRIPTION),
            algorithm: opt_str(item, tags::SEGMENT_ALGORITHM_TYPE),
            frames: 0,
        });
    }
    let no_frames = || DicomError::SegNoFrames { path: path.to_path_buf() };
    let Some(pixel_data) = obj.get(tags::PIXEL_DATA) else { return Err(no_frames()) };
    let frames = match opt_str(obj, tags::NUMBER_OF_FRAMES) {
        None => 1,
        Some(text) => text.parse::<u32>().map_err(|_| attribute("NumberOfFrames", format!(": {text:?}")))?,
    };
    let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    if frames == 0 || per_frame.is_empty() {
        return Err(no_frames());
    }
    if per_frame.len() != frames as usize {
        let detail = format!(": {} items for {frames} frames", per_frame.len());
        return Err(attribute("PerFrameFunctionalGroupsSequence", detail));
    }
    let rows = req_uint(obj, tags::ROWS, "Rows", path)?;
    let cols = req_uint(obj, tags::COLUMNS, "Columns", path)?;
    let mut placed = Vec::with_capacity(frames as usize);
    for f in 0..frames as usize {
        let g = Groups::of(obj, f);
        let segment = match g.find(tags::SEGMENT_IDENTIFICATION_SEQUENCE, tags::REFERENCED_SEGMENT_NUMBER) {
            Some(item) => {
                Some(item.get(tags::REFERENCED_SEGMENT_NUMBER).and_then(|e| e.to_int::<u16>().ok()).ok_or_else(
                    || DicomError::Attribute {
                        path: frame_path(path, f),
                        attribute: "ReferencedSegmentNumber",
                        detail: String::new(),
                    },
                )?)
            }
            None if kind == SegmentationType::Labelmap => None,
            None if segments.len() == 1 => Some(segments[0].number),
            None => {
                return Err(DicomError::Attribute {
                    path: frame_path(path, f),
                    attribute: "SegmentIdentificationSequence",
                    detail: String::new(),
                });
            }
        };
        placed.push(SegFrame {
            segment,
            position: fg_floats(
                &g,
                tags::PLANE_POSITION_SEQUENCE,
                tags::IMAGE_POSITION_PATIENT,
                "ImagePositionPatient",
                path,
                f,
            )?,
            orientation: fg_floats(
                &g,
                tags::PLANE_ORIENTATION_SEQUENCE,
                tags::IMAGE_ORIENTATION_PATIENT,
                "ImageOrientationPatient",
                path,
                f,
            )?,
            pixel_spacing: fg_floats(&g, tags::PIXEL_MEASURES_SEQUENCE, tags::PIXEL_SPACING, "PixelSpacing", path, f)?,
        });
    }
    for segment in &mut segments {
        segment.frames = placed.iter().filter(|f| f.segment.is_none_or(|n| n == segment.number)).count();
    }
    let bits = match obj.get(tags::BITS_ALLOCATED) {
        Some(e) => e.to_int::<u16>().map_err(|e| attribute("BitsAllocated", format!(": {e}")))?,
        None => return Err(attribute("BitsAllocated", String::new())),
    };
    let pixels = pixels(file, pixel_data, path, &kind, bits, [frames as u64, rows as u64, cols as u64], max_bytes)?;
    Ok(Segmentation {
        path: path.to_path_buf(),
        kind,
        frame_of_reference_uid: opt_str(obj, tags::FRAME_OF_REFERENCE_UID),
        series_uid: opt_str(obj, tags::SERIES_INSTANCE_UID),
        rows,
        cols,
        segments,
        frames: placed,
        pixels,
    })
}

/// The stored pixels, checked to hold every frame.
fn pixels(
    file: &DefaultDicomObject,
    element: &InMemElement,
    path: &Path,
    kind: &SegmentationType,
    bits: u16,
    [frames, rows, cols]: [u64; 3],
    max_bytes: u64,
) -> Result<Pixels, DicomError> {
    let bad = |reason: String| DicomError::Pixels { path: path.to_path_buf(), reason };
    let expected_bits = match (kind, bits) {
        (SegmentationType::Binary, 1) => 1,
        (SegmentationType::Fractional { .. }, 8) | (SegmentationType::Labelmap, 8) => 8,
        (SegmentationType::Labelmap, 16) => 16,
        (kind, bits) => return Err(bad(format!("BitsAllocated {bits} does not fit a {kind:?} segmentation"))),
    };
    let count = frames.saturating_mul(rows).saturating_mul(cols);
    let needed = count.saturating_mul(expected_bits).div_ceil(8);
    if needed > max_bytes {
        return Err(DicomError::TooLarge { path: path.to_path_buf(), bytes: needed, max_bytes });
    }
    let data: Vec<u8> = match element.value() {
        dicom_core::DicomValue::Primitive(p) => p.to_bytes().into_owned(),
        dicom_core::DicomValue::PixelSequence(_) => {
            if expected_bits == 1 {
                let what = "an encapsulated (compressed) binary segmentation".to_string();
                return Err(DicomError::Unsupported { path: path.to_path_buf(), what });
            }
            if file.meta().transfer_syntax().trim_end_matches('\0') == crate::rle::RLE_LOSSLESS {
                crate::rle::check_fragments(file, None, path)?;
            }
            let decoded = file.decode_pixel_data().map_err(|e| bad(e.to_string()))?;
            decoded.data().to_vec()
        }
        dicom_core::DicomValue::Sequence(_) => return Err(bad("PixelData is a sequence".into())),
    };
    if (data.len() as u64) < needed {
        return Err(bad(format!("{} bytes for {frames} frames of {cols}×{rows} pixels ({needed} needed)", data.len())));
    }
    Ok(match expected_bits {
        1 => Pixels::Bits(data),
        8 => Pixels::Bytes(data),
        _ => Pixels::Words(data),
    })
}

/// Where a frame's pixels land on a grid: the index of its first pixel and the index
/// steps of one column and one row.
struct Placement {
    first: [i64; 3],
    col_step: [i64; 3],
    row_step: [i64; 3],
}

/// An index vector that is a whole number of voxels, or `None`.
fn whole(v: [f64; 3], tol: f64) -> Option<[i64; 3]> {
    let r = v.map(f64::round);
    (0..3).all(|a| (v[a] - r[a]).abs() <= tol && r[a].abs() < 1e9).then(|| r.map(|x| x as i64))
}

/// A unit step along one axis (either sign), or `None`.
fn unit_step(v: [f64; 3]) -> Option<[i64; 3]> {
    let s = whole(v, 1e-3)?;
    (s.iter().map(|x| x.abs()).sum::<i64>() == 1).then_some(s)
}

fn place(frame: &SegFrame, to_index: &ToIndex) -> Result<Placement, String> {
    let o = frame.orientation;
    let (r, c) = ([o[0], o[1], o[2]], [o[3], o[4], o[5]]);
    let col = to_index.vector(r.map(|v| v * frame.pixel_spacing[1]));
    let row = to_index.vector(c.map(|v| v * frame.pixel_spacing[0]));
    let first = to_index.apply(frame.position);
    let (Some(col_step), Some(row_step)) = (unit_step(col), unit_step(row)) else {
        return Err(format!(
            "its pixels (orientation {o:?}, spacing {:?} mm) do not fall on the image's voxels (one column = {col:.4?} \
             voxels, one row = {row:.4?}) — the segmentation is on another grid; resample it onto the image",
            frame.pixel_spacing
        ));
    };
    let Some(first) = whole(first, ON_GRID) else {
        return Err(format!(
            "its first pixel lies between the image's voxels (index {first:.3?}) — the segmentation is on another grid"
        ));
    };
    Ok(Placement { first, col_step, row_step })
}

impl Segmentation {
    /// The segment `choice` names; without a choice, the only segment. Errors list the
    /// segments there are.
    pub fn segment(&self, choice: Option<&SegmentChoice>) -> Result<&Segment, DicomError> {
        let listed = || self.segments.iter().map(Segment::describe).collect::<Vec<_>>();
        let found = match choice {
            None if self.segments.len() == 1 => return Ok(&self.segments[0]),
            None => return Err(DicomError::ChooseSegment { path: self.path.clone(), segments: listed() }),
            Some(SegmentChoice::Number(n)) => self.segments.iter().find(|s| s.number == *n),
            Some(SegmentChoice::Label(l)) => self.segments.iter().find(|s| s.label == *l),
        };
        found.ok_or_else(|| DicomError::UnknownSegment {
            path: self.path.clone(),
            wanted: choice.map(ToString::to_string).unwrap_or_default(),
            segments: listed(),
        })
    }

    /// An error when the SEG and the image (`image`, when stated) are on different frames
    /// of reference.
    pub fn check_frame_of_reference(&self, image: Option<&str>) -> Result<(), DicomError> {
        match (image, &self.frame_of_reference_uid) {
            (Some(image), Some(own)) if image != own => Err(DicomError::FrameOfReference {
                path: self.path.clone(),
                roi: own.clone(),
                image: image.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// The stored value of pixel `index` (row-major) of frame `frame`.
    fn value(&self, frame: usize, index: usize) -> u16 {
        let at = frame * self.rows as usize * self.cols as usize + index;
        match &self.pixels {
            Pixels::Bits(b) => u16::from((b[at / 8] >> (at % 8)) & 1),
            Pixels::Bytes(b) => u16::from(b[at]),
            Pixels::Words(b) => u16::from_le_bytes([b[2 * at], b[2 * at + 1]]),
        }
    }

    /// The number of non-zero pixels of segment `number` over all its frames (label maps:
    /// pixels holding `number`).
    pub fn pixel_count(&self, number: u16) -> usize {
        let per_frame = self.rows as usize * self.cols as usize;
        let mut count = 0;
        for (f, frame) in self.frames.iter().enumerate() {
            if frame.segment.is_some_and(|s| s != number) {
                continue;
            }
            count += (0..per_frame)
                .filter(|&i| {
                    let v = self.value(f, i);
                    if self.kind == SegmentationType::Labelmap { v == number } else { v != 0 }
                })
                .count();
        }
        count
    }

    /// Segment `number` as fractions in `[0, 1]` on `grid` (see the module's documentation);
    /// a voxel two frames of the segment fill keeps the larger value.
    pub fn mask(&self, number: u16, grid: &Grid) -> Result<Volume<f64>, DicomError> {
        let frame_error =
            |frame: usize, reason: String| DicomError::SegFrame { path: self.path.clone(), frame: frame + 1, reason };
        let to_index =
            ToIndex::new(grid).ok_or_else(|| frame_error(0, "the image's direction cosines are singular".into()))?;
        let max = match self.kind {
            SegmentationType::Fractional { max, .. } => f64::from(max),
            _ => 1.0,
        };
        let dims = grid.dims.map(|d| d as i64);
        let mut mask = Volume::filled(*grid, 0.0f64);
        let (rows, cols) = (self.rows as usize, self.cols as usize);
        for (f, frame) in self.frames.iter().enumerate() {
            if frame.segment.is_some_and(|s| s != number) {
                continue;
            }
            let placement = place(frame, &to_index).map_err(|reason| frame_error(f, reason))?;
            for r in 0..rows {
                for c in 0..cols {
                    let stored = self.value(f, r * cols + c);
                    let value = match self.kind {
                        SegmentationType::Labelmap if stored == number => 1.0,
                        SegmentationType::Labelmap => continue,
                        _ if stored == 0 => continue,
                        _ => (f64::from(stored) / max).min(1.0),
                    };
                    let at: [i64; 3] = std::array::from_fn(|a| {
                        placement.first[a] + c as i64 * placement.col_step[a] + r as i64 * placement.row_step[a]
                    });
                    if (0..3).any(|a| at[a] < 0 || at[a] >= dims[a]) {
                        return Err(frame_error(
                            f,
                            format!(
                                "pixel (row {r}, column {c}) of segment {number} lies outside the image, at voxel {at:?}"
                            ),
                        ));
                    }
                    let voxel = &mut mask.data[[at[0] as usize, at[1] as usize, at[2] as usize]];
                    *voxel = f64::max(*voxel, value);
                }
            }
        }
        Ok(mask)
    }
}
