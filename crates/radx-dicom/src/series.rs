//! A DICOM image series (CT, MR, PET…) from a folder or a file list into a `Volume<f64>`.
//!
//! Two passes: the headers of every file are read (in parallel, stopping before the pixel
//! data) and grouped by SeriesInstanceUID; the chosen series is ordered and checked
//! (`geometry.rs`); only then is each slice's pixel data decoded by dicom-pixeldata (the
//! transfer syntaxes of its pure-Rust `native` decoders) and scaled by its own
//! RescaleSlope/RescaleIntercept in `f64`. The grid is in LPS world coordinates, voxel
//! `[x, y, z]` = (column, row, slice along the normal), as radx-io reads NIfTI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dicom_pixeldata::{ConvertOptions, ModalityLutOption, PixelDecoder};
use radx_core::Volume;
use rayon::prelude::*;

use crate::error::DicomError;
use crate::geometry::{Tolerances, order_and_grid};
use crate::slice::{Slice, is_image, read_header, slice_of};

/// How a series is chosen and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesOptions {
    /// The SeriesInstanceUID to read when the input holds several series.
    pub series_uid: Option<String>,
    /// What still counts as a regular stack of slices.
    pub tolerances: Tolerances,
    /// Largest decoded volume accepted, in bytes (8 per voxel).
    pub max_bytes: u64,
}

impl Default for SeriesOptions {
    /// Any single series; default tolerances; 8 GiB.
    fn default() -> Self {
        SeriesOptions { series_uid: None, tolerances: Tolerances::default(), max_bytes: 8 << 30 }
    }
}

/// A series read into memory.
#[derive(Debug, Clone)]
pub struct Series {
    /// The voxels (rescaled), `[x, y, z]` on the LPS grid.
    pub volume: Volume<f64>,
    /// SeriesInstanceUID.
    pub series_uid: String,
    /// FrameOfReferenceUID (to check structure sets against), when stated.
    pub frame_of_reference_uid: Option<String>,
    /// Modality (CT, MR, PT…), when stated.
    pub modality: Option<String>,
    /// The files, in slice order (z = 0 first).
    pub files: Vec<PathBuf>,
}

/// Read the one series in a folder (other DICOM objects there, e.g. an RTSTRUCT, are
/// skipped), or a single file as a one-slice series.
pub fn read_series(path: &Path) -> Result<Series, DicomError> {
    read_series_with(path, &SeriesOptions::default())
}

/// [`read_series`] with options.
pub fn read_series_with(path: &Path, opts: &SeriesOptions) -> Result<Series, DicomError> {
    let files = if path.is_dir() { list_folder(path)? } else { vec![path.to_path_buf()] };
    read_series_files_with(path, &files, opts)
}

/// Read a series from a list of files; `origin` names the input in errors.
pub fn read_series_files_with(origin: &Path, files: &[PathBuf], opts: &SeriesOptions) -> Result<Series, DicomError> {
    if files.is_empty() {
        return Err(DicomError::Empty { path: origin.to_path_buf() });
    }
    let headers: Vec<Result<Option<Slice>, DicomError>> = files.par_iter().map(|f| image_slice(f)).collect();
    let mut groups: BTreeMap<String, Vec<Slice>> = BTreeMap::new();
    for slice in headers.into_iter().filter_map(Result::transpose) {
        let slice = slice?;
        groups.entry(slice.series_uid.clone()).or_default().push(slice);
    }
    let mut slices = choose_series(origin, groups, opts.series_uid.as_deref())?;
    let single_spacing = slices[0].thickness.unwrap_or(1.0);
    let grid = order_and_grid(&mut slices, &opts.tolerances, single_spacing)?;
    let bytes = (grid.len() as u64).saturating_mul(8);
    if bytes > opts.max_bytes {
        return Err(DicomError::TooLarge { path: origin.to_path_buf(), bytes, max_bytes: opts.max_bytes });
    }
    let planes: Vec<Result<Vec<f64>, DicomError>> = slices.par_iter().map(decode_slice).collect();
    let mut values = Vec::with_capacity(grid.len());
    for plane in planes {
        values.extend(plane?);
    }
    let first = &slices[0];
    Ok(Series {
        volume: Volume::from_x_fastest(grid, values),
        series_uid: first.series_uid.clone(),
        frame_of_reference_uid: first.frame_of_reference.clone(),
        modality: first.modality.clone(),
        files: slices.into_iter().map(|s| s.path).collect(),
    })
}

/// The regular files of a folder (not its subfolders, not hidden files), by name.
fn list_folder(dir: &Path) -> Result<Vec<PathBuf>, DicomError> {
    let unreadable = |source| DicomError::Unreadable { path: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if path.is_file() && !hidden {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The slice header of an image file; `None` for DICOM files that are not images.
fn image_slice(path: &Path) -> Result<Option<Slice>, DicomError> {
    let obj = read_header(path)?;
    if is_image(&obj) { slice_of(&obj, path).map(Some) } else { Ok(None) }
}

/// The slices of the wanted series, or of the only one.
fn choose_series(
    origin: &Path,
    mut groups: BTreeMap<String, Vec<Slice>>,
    wanted: Option<&str>,
) -> Result<Vec<Slice>, DicomError> {
    let path = origin.to_path_buf();
    if let Some(uid) = wanted {
        let found: Vec<String> = groups.keys().cloned().collect();
        return groups.remove(uid).ok_or(DicomError::SeriesNotFound { path, wanted: uid.to_string(), found });
    }
    match groups.len() {
        0 => Err(DicomError::Empty { path }),
        1 => Ok(groups.into_values().next().unwrap_or_default()),
        _ => {
            let series = groups.iter().map(|(uid, s)| format!("{uid} ({} files)", s.len())).collect();
            Err(DicomError::SeveralSeries { path, series })
        }
    }
}

/// Decode one slice's pixels, x fastest, rescaled.
fn decode_slice(slice: &Slice) -> Result<Vec<f64>, DicomError> {
    let path = &slice.path;
    let pixels = |e: &dyn std::fmt::Display| DicomError::Pixels { path: path.clone(), reason: e.to_string() };
    let obj = dicom_object::open_file(path)
        .map_err(|e| DicomError::NotDicom { path: path.clone(), reason: e.to_string() })?;
    let decoded = obj.decode_pixel_data().map_err(|e| pixels(&e))?;
    let raw = ConvertOptions::new().with_modality_lut(ModalityLutOption::None);
    let mut values: Vec<f64> = decoded.to_vec_with_options(&raw).map_err(|e| pixels(&e))?;
    let expected = slice.rows as usize * slice.cols as usize;
    if values.len() != expected {
        return Err(pixels(&format!("{} values for {}×{} pixels", values.len(), slice.cols, slice.rows)));
    }
    if slice.slope != 1.0 || slice.intercept != 0.0 {
        values.iter_mut().for_each(|v| *v = *v * slice.slope + slice.intercept);
    }
    Ok(values)
}
