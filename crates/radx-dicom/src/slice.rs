//! One image file's header: what places each of its slices in the world and scales its
//! values.
//!
//! Headers are read without the pixel data (parsing stops at PixelData), so a series can be
//! grouped, ordered and checked before any voxel is decoded. A single-frame file is one
//! slice; a multi-frame file is one slice per frame, placed by its functional groups
//! (enhanced CT/MR/PET: PlanePositionSequence per frame, orientation, pixel measures and
//! rescale per frame or shared) or, for classic multi-frame files such as RTDOSE, by
//! GridFrameOffsetVector along the normal of ImageOrientationPatient.

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions, Tag};

use crate::attrs::{Object, floats, items, opt_float, opt_str, req_str, req_uint};
use crate::error::DicomError;
use crate::lengths::{WalkUntil, check_declared_lengths};

/// The header of one slice: a single-frame file, or one frame of a multi-frame file.
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    pub path: PathBuf,
    /// The frame (0-based) in a multi-frame file; `None` for a single-frame file.
    pub frame: Option<u32>,
    pub series_uid: String,
    pub frame_of_reference: Option<String>,
    pub modality: Option<String>,
    pub rows: u32,
    pub cols: u32,
    /// PixelSpacing as stored: [between rows (y), between columns (x)], mm.
    pub pixel_spacing: [f64; 2],
    /// ImageOrientationPatient: row direction (x) then column direction (y), LPS.
    pub orientation: [f64; 6],
    /// ImagePositionPatient: centre of the first pixel, LPS mm.
    pub position: [f64; 3],
    pub slope: f64,
    pub intercept: f64,
    /// SpacingBetweenSlices, else SliceThickness: the spacing of a one-slice series.
    pub thickness: Option<f64>,
}

impl Slice {
    /// How errors name this slice: the file, and the frame (1-based, as DICOM counts
    /// frames) of a multi-frame file.
    pub fn name(&self) -> PathBuf {
        frame_name(&self.path, self.frame)
    }
}

/// A file, or one frame of it (1-based, as DICOM counts frames), as errors name it.
pub(crate) fn frame_name(path: &Path, frame: Option<u32>) -> PathBuf {
    match frame {
        None => path.to_path_buf(),
        Some(f) => PathBuf::from(format!("{} (frame {})", path.display(), u64::from(f) + 1)),
    }
}

/// Open a DICOM file whole (with its file meta group, which names the transfer syntax).
pub(crate) fn open(path: &Path) -> Result<DefaultDicomObject, DicomError> {
    check_file_lengths(path, WalkUntil::End)?;
    OpenFileOptions::new()
        .open_file(path)
        .map_err(|e| DicomError::NotDicom { path: path.to_path_buf(), reason: e.to_string() })
}

/// Parse a DICOM file held in memory (preamble optional); `path` names it in errors.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<DefaultDicomObject, DicomError> {
    check_declared_lengths(path, std::io::Cursor::new(bytes), WalkUntil::End)?;
    let bytes = match bytes.get(128..132) {
        Some(b"DICM") => &bytes[128..],
        _ => bytes,
    };
    OpenFileOptions::new()
        .read_preamble(ReadPreamble::Never)
        .from_reader(bytes)
        .map_err(|e| DicomError::NotDicom { path: path.to_path_buf(), reason: e.to_string() })
}

/// Parse a DICOM file up to its pixel data.
pub(crate) fn read_header(path: &Path) -> Result<Object, DicomError> {
    check_file_lengths(path, WalkUntil::Tag(tags::PIXEL_DATA))?;
    let file = OpenFileOptions::new().read_until(tags::PIXEL_DATA).open_file(path);
    let file = file.map_err(|e| DicomError::NotDicom { path: path.to_path_buf(), reason: e.to_string() })?;
    Ok(file.into_inner())
}

/// [`check_declared_lengths`] on a file on disk.
fn check_file_lengths(path: &Path, until: WalkUntil) -> Result<(), DicomError> {
    let file =
        std::fs::File::open(path).map_err(|source| DicomError::Unreadable { path: path.to_path_buf(), source })?;
    check_declared_lengths(path, std::io::BufReader::new(file), until)
}

/// True when the object is an image of a series (has rows and columns and is not a
/// segmentation), so folders may also hold RTSTRUCT, SEG or DICOMDIR files.
pub(crate) fn is_image(obj: &Object) -> bool {
    obj.get(tags::ROWS).is_some()
        && obj.get(tags::COLUMNS).is_some()
        && opt_str(obj, tags::MODALITY).as_deref() != Some("SEG")
}

fn array<const N: usize>(v: Vec<f64>) -> [f64; N] {
    let mut out = [0.0; N];
    out.copy_from_slice(&v);
    out
}

/// NumberOfFrames (1 when absent); an error when malformed or zero.
pub(crate) fn number_of_frames(obj: &Object, path: &Path) -> Result<u32, DicomError> {
    match opt_str(obj, tags::NUMBER_OF_FRAMES) {
        None => Ok(1),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(DicomError::Attribute {
                path: path.to_path_buf(),
                attribute: "NumberOfFrames",
                detail: format!(": {text:?} is not a positive whole number"),
            }),
        },
    }
}

/// The functional groups of one frame: the frame's own item of
/// PerFrameFunctionalGroupsSequence, then the shared item, then the top-level data set.
pub(crate) struct Groups<'a> {
    pub per_frame: Option<&'a Object>,
    pub shared: Option<&'a Object>,
    pub top: &'a Object,
}

impl<'a> Groups<'a> {
    /// The groups of frame `frame` (0-based).
    pub fn of(obj: &'a Object, frame: usize) -> Self {
        Groups {
            per_frame: items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE).get(frame),
            shared: items(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE).first(),
            top: obj,
        }
    }

    /// The first item of the functional group macro `sequence` that holds `attribute`:
    /// per frame first, then shared; else the top level when it holds `attribute` itself.
    pub fn find(&self, sequence: Tag, attribute: Tag) -> Option<&'a Object> {
        let in_group = |group: Option<&'a Object>| {
            group.and_then(|g| items(g, sequence).first()).filter(|item| item.get(attribute).is_some())
        };
        in_group(self.per_frame).or_else(|| in_group(self.shared)).or_else(|| self.top.get(attribute).map(|_| self.top))
    }
}

/// The slice headers of an image object: one per frame.
pub(crate) fn slices_of(obj: &Object, path: &Path) -> Result<Vec<Slice>, DicomError> {
    let samples = opt_str(obj, tags::SAMPLES_PER_PIXEL).and_then(|s| s.parse::<u32>().ok()).unwrap_or(1);
    if samples != 1 {
        let what = format!("a colour image ({samples} samples per pixel)");
        return Err(DicomError::Unsupported { path: path.to_path_buf(), what });
    }
    let frames = number_of_frames(obj, path)?;
    let series_uid = req_str(obj, tags::SERIES_INSTANCE_UID, "SeriesInstanceUID", path)?;
    let rows = req_uint(obj, tags::ROWS, "Rows", path)?;
    let cols = req_uint(obj, tags::COLUMNS, "Columns", path)?;
    let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    if !per_frame.is_empty() && per_frame.len() != frames as usize {
        return Err(DicomError::Attribute {
            path: path.to_path_buf(),
            attribute: "PerFrameFunctionalGroupsSequence",
            detail: format!(": {} items for {frames} frames", per_frame.len()),
        });
    }
    let offsets = grid_frame_offsets(obj, frames, per_frame.is_empty(), path)?;
    let mut slices = Vec::with_capacity(frames as usize);
    for f in 0..frames {
        let g = Groups::of(obj, f as usize);
        let name = if frames > 1 || !per_frame.is_empty() { Some(f) } else { None };
        let label = frame_name(path, name);
        let float_in = |seq: Tag, tag: Tag, n: usize, keyword: &'static str| match g.find(seq, tag) {
            Some(item) => floats(item, tag, n, keyword, &label).map(Some),
            None => Ok(None),
        };
        let missing = |keyword: &'static str| DicomError::Attribute {
            path: label.clone(),
            attribute: keyword,
            detail: String::new(),
        };
        let orientation =
            float_in(tags::PLANE_ORIENTATION_SEQUENCE, tags::IMAGE_ORIENTATION_PATIENT, 6, "ImageOrientationPatient")?
                .ok_or_else(|| missing("ImageOrientationPatient"))?;
        let mut position =
            float_in(tags::PLANE_POSITION_SEQUENCE, tags::IMAGE_POSITION_PATIENT, 3, "ImagePositionPatient")?
                .ok_or_else(|| missing("ImagePositionPatient"))?;
        if let Some(offsets) = &offsets {
            // Classic multi-frame (RTDOSE): frames along the normal from the first one.
            let (r, c) =
                ([orientation[0], orientation[1], orientation[2]], [orientation[3], orientation[4], orientation[5]]);
            let n = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
            let d = offsets[f as usize] - offsets[0];
            position = vec![position[0] + d * n[0], position[1] + d * n[1], position[2] + d * n[2]];
        }
        let pixel_spacing = float_in(tags::PIXEL_MEASURES_SEQUENCE, tags::PIXEL_SPACING, 2, "PixelSpacing")?
            .ok_or_else(|| missing("PixelSpacing"))?;
        let one = |seq: Tag, tag: Tag, keyword: &'static str| match g.find(seq, tag) {
            Some(item) => opt_float(item, tag, keyword, &label),
            None => Ok(None),
        };
        let transform = tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE;
        let slope = match one(transform, tags::RESCALE_SLOPE, "RescaleSlope")? {
            Some(s) => s,
            None => opt_float(obj, tags::DOSE_GRID_SCALING, "DoseGridScaling", &label)?.unwrap_or(1.0),
        };
        let intercept = one(transform, tags::RESCALE_INTERCEPT, "RescaleIntercept")?.unwrap_or(0.0);
        let measures = tags::PIXEL_MEASURES_SEQUENCE;
        let thickness = match one(measures, tags::SPACING_BETWEEN_SLICES, "SpacingBetweenSlices")? {
            Some(t) => Some(t),
            None => one(measures, tags::SLICE_THICKNESS, "SliceThickness")?,
        };
        slices.push(Slice {
            path: path.to_path_buf(),
            frame: name,
            series_uid: series_uid.clone(),
            frame_of_reference: opt_str(obj, tags::FRAME_OF_REFERENCE_UID),
            modality: opt_str(obj, tags::MODALITY),
            rows,
            cols,
            pixel_spacing: array(pixel_spacing),
            orientation: array(orientation),
            position: array(position),
            slope,
            intercept,
            thickness,
        });
    }
    Ok(slices)
}

/// GridFrameOffsetVector of a classic multi-frame file without per-frame positions (RTDOSE):
/// one offset (mm along the normal) per frame. `None` for single-frame files and files
/// with functional groups.
fn grid_frame_offsets(obj: &Object, frames: u32, classic: bool, path: &Path) -> Result<Option<Vec<f64>>, DicomError> {
    if frames < 2 || !classic {
        return Ok(None);
    }
    if obj.get(tags::GRID_FRAME_OFFSET_VECTOR).is_none() {
        let what = format!(
            "a multi-frame image ({frames} frames) without per-frame positions (PlanePositionSequence or GridFrameOffsetVector)"
        );
        return Err(DicomError::Unsupported { path: path.to_path_buf(), what });
    }
    floats(obj, tags::GRID_FRAME_OFFSET_VECTOR, frames as usize, "GridFrameOffsetVector", path).map(Some)
}
