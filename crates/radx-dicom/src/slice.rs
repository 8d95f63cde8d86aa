//! One image file's header: what places its slice in the world and scales its values.
//!
//! Headers are read without the pixel data (parsing stops at PixelData), so a series can be
//! grouped, ordered and checked before any voxel is decoded.

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;

use crate::attrs::{Object, floats, opt_float, opt_str, req_str, req_uint};
use crate::error::DicomError;

/// The header of one single-frame image file.
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    pub path: PathBuf,
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

/// Parse a DICOM file up to its pixel data.
pub(crate) fn read_header(path: &Path) -> Result<Object, DicomError> {
    let file = OpenFileOptions::new().read_until(tags::PIXEL_DATA).open_file(path);
    let file = file.map_err(|e| DicomError::NotDicom { path: path.to_path_buf(), reason: e.to_string() })?;
    Ok(file.into_inner())
}

/// True when the object is an image slice of a series (has rows and columns and is not a
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

/// The slice header of an image object.
pub(crate) fn slice_of(obj: &Object, path: &Path) -> Result<Slice, DicomError> {
    let frames = opt_str(obj, tags::NUMBER_OF_FRAMES).and_then(|s| s.parse::<u32>().ok()).unwrap_or(1);
    if frames > 1 {
        let what = format!("a multi-frame image ({frames} frames)");
        return Err(DicomError::Unsupported { path: path.to_path_buf(), what });
    }
    let samples = opt_str(obj, tags::SAMPLES_PER_PIXEL).and_then(|s| s.parse::<u32>().ok()).unwrap_or(1);
    if samples != 1 {
        let what = format!("a colour image ({samples} samples per pixel)");
        return Err(DicomError::Unsupported { path: path.to_path_buf(), what });
    }
    let slope = opt_float(obj, tags::RESCALE_SLOPE, "RescaleSlope", path)?.unwrap_or(1.0);
    let intercept = opt_float(obj, tags::RESCALE_INTERCEPT, "RescaleIntercept", path)?.unwrap_or(0.0);
    Ok(Slice {
        path: path.to_path_buf(),
        series_uid: req_str(obj, tags::SERIES_INSTANCE_UID, "SeriesInstanceUID", path)?,
        frame_of_reference: opt_str(obj, tags::FRAME_OF_REFERENCE_UID),
        modality: opt_str(obj, tags::MODALITY),
        rows: req_uint(obj, tags::ROWS, "Rows", path)?,
        cols: req_uint(obj, tags::COLUMNS, "Columns", path)?,
        pixel_spacing: array(floats(obj, tags::PIXEL_SPACING, 2, "PixelSpacing", path)?),
        orientation: array(floats(obj, tags::IMAGE_ORIENTATION_PATIENT, 6, "ImageOrientationPatient", path)?),
        position: array(floats(obj, tags::IMAGE_POSITION_PATIENT, 3, "ImagePositionPatient", path)?),
        slope,
        intercept,
        thickness: opt_float(obj, tags::SPACING_BETWEEN_SLICES, "SpacingBetweenSlices", path)?.or(opt_float(
            obj,
            tags::SLICE_THICKNESS,
            "SliceThickness",
            path,
        )?),
    })
}
