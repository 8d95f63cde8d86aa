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

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use dicom_pixeldata::{PixelDecoder, PixelRepresentation};
use radx_core::{Grid, Volume};
use rayon::prelude::*;

use crate::attrs::opt_str;
use crate::error::DicomError;
use crate::geometry::{Tolerances, order_and_grid};
use crate::rle;
use crate::slice::{Slice, is_image, open, parse, read_header, slices_of};

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
    /// The file of each slice, in slice order (z = 0 first); a multi-frame file appears
    /// once per frame.
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

/// Read a series from a list of files; `origin` names the input in errors. A multi-frame
/// file gives one slice per frame.
pub fn read_series_files_with(origin: &Path, files: &[PathBuf], opts: &SeriesOptions) -> Result<Series, DicomError> {
    if files.is_empty() {
        return Err(DicomError::Empty { path: origin.to_path_buf() });
    }
    let headers: Vec<Result<Vec<Slice>, DicomError>> = files.par_iter().map(|f| image_slices(f)).collect();
    let mut groups: BTreeMap<String, Vec<Slice>> = BTreeMap::new();
    for slices in headers {
        for slice in slices? {
            groups.entry(slice.series_uid.clone()).or_default().push(slice);
        }
    }
    let mut slices = choose_series(origin, groups, opts.series_uid.as_deref())?;
    let grid = grid_within_budget(origin, &mut slices, opts)?;
    let values = decode_files(&slices)?;
    Ok(assemble(grid, values, slices))
}

/// Read one DICOM image file held in memory (a single slice, or every frame of a
/// multi-frame file) as a series; `name` names it in errors. This is the whole reader on one
/// file, without touching the file system (fuzzing, in-memory pipelines).
pub fn read_series_bytes(name: &Path, bytes: &[u8], opts: &SeriesOptions) -> Result<Series, DicomError> {
    let file = parse(name, bytes)?;
    if !is_image(&file) {
        let modality = opt_str(&file, tags::MODALITY).unwrap_or_default();
        let what = format!("reading a non-image object (Modality {modality:?}) as an image");
        return Err(DicomError::Unsupported { path: name.to_path_buf(), what });
    }
    let mut slices = slices_of(&file, name)?;
    if let Some(wanted) = &opts.series_uid
        && slices.first().is_some_and(|s| &s.series_uid != wanted)
    {
        let found = slices.iter().take(1).map(|s| s.series_uid.clone()).collect();
        return Err(DicomError::SeriesNotFound { path: name.to_path_buf(), wanted: wanted.clone(), found });
    }
    let grid = grid_within_budget(name, &mut slices, opts)?;
    let mut values = vec![0.0; grid.len()];
    decode_into(&file, &slices, &mut values)?;
    Ok(assemble(grid, values, slices))
}

/// Order and check `slices`, and refuse a volume over the budget before decoding anything.
fn grid_within_budget(origin: &Path, slices: &mut [Slice], opts: &SeriesOptions) -> Result<Grid, DicomError> {
    let single_spacing = slices[0].thickness.unwrap_or(1.0);
    let grid = order_and_grid(slices, &opts.tolerances, single_spacing)?;
    let bytes = grid.dims.iter().fold(8u64, |n, &d| n.saturating_mul(d as u64));
    if bytes > opts.max_bytes {
        return Err(DicomError::TooLarge { path: origin.to_path_buf(), bytes, max_bytes: opts.max_bytes });
    }
    Ok(grid)
}

fn assemble(grid: Grid, values: Vec<f64>, slices: Vec<Slice>) -> Series {
    let first = &slices[0];
    Series {
        volume: Volume::from_x_fastest(grid, values),
        series_uid: first.series_uid.clone(),
        frame_of_reference_uid: first.frame_of_reference.clone(),
        modality: first.modality.clone(),
        files: slices.into_iter().map(|s| s.path).collect(),
    }
}

/// One series found in a folder: what `radx info` lists when a folder holds several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesSummary {
    /// SeriesInstanceUID.
    pub series_uid: String,
    /// Modality, when stated.
    pub modality: Option<String>,
    /// Its slices (a multi-frame file counts once per frame).
    pub slices: usize,
    /// Its files.
    pub files: usize,
}

/// The image series in a folder (or a file), from their headers only, by UID. Files that are
/// not DICOM are errors naming them, as for [`read_series`].
pub fn list_series(path: &Path) -> Result<Vec<SeriesSummary>, DicomError> {
    let files = if path.is_dir() { list_folder(path)? } else { vec![path.to_path_buf()] };
    let headers: Vec<Result<Vec<Slice>, DicomError>> = files.par_iter().map(|f| image_slices(f)).collect();
    let mut groups: BTreeMap<String, SeriesSummary> = BTreeMap::new();
    for slices in headers {
        let slices = slices?;
        let Some(first) = slices.first() else { continue };
        let entry = groups.entry(first.series_uid.clone()).or_insert_with(|| SeriesSummary {
            series_uid: first.series_uid.clone(),
            modality: first.modality.clone(),
            slices: 0,
            files: 0,
        });
        entry.slices += slices.len();
        entry.files += 1;
    }
    Ok(groups.into_values().collect())
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

/// The slice headers of an image file (one per frame); none for DICOM files that are not
/// images.
fn image_slices(path: &Path) -> Result<Vec<Slice>, DicomError> {
    let obj = read_header(path)?;
    if is_image(&obj) { slices_of(&obj, path) } else { Ok(Vec::new()) }
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

/// Decode every slice's pixels, x fastest, rescaled, in slice order, straight into the
/// volume's buffer: each file is opened once (a multi-frame file's frames are decoded from
/// one parse), files and frames in parallel. The first failing slice in slice order is the
/// error reported.
fn decode_files(slices: &[Slice]) -> Result<Vec<f64>, DicomError> {
    let plane = slices[0].rows as usize * slices[0].cols as usize;
    let mut values = vec![0.0; slices.len() * plane];
    // Runs of slices from one file (a multi-frame file's frames sort together when its
    // frames are the whole series; otherwise each run is opened on its own).
    let mut runs: Vec<(&[Slice], &mut [f64])> = Vec::new();
    let (mut start, mut rest) = (0, values.as_mut_slice());
    for k in 1..=slices.len() {
        let same_file = k < slices.len() && slices[k].frame.is_some() && slices[k].path == slices[start].path;
        if !same_file {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut((k - start) * plane);
            runs.push((&slices[start..k], head));
            (start, rest) = (k, tail);
        }
    }
    let outcomes: Vec<Result<(), DicomError>> =
        runs.into_par_iter().map(|(run, out)| decode_into(&open(&run[0].path)?, run, out)).collect();
    outcomes.into_iter().collect::<Result<(), _>>()?;
    Ok(values)
}

/// Decode the frames `slices` name from one parsed file into `out` (one plane per slice).
fn decode_into(file: &DefaultDicomObject, slices: &[Slice], out: &mut [f64]) -> Result<(), DicomError> {
    let plane = out.len() / slices.len().max(1);
    let outcomes: Vec<Result<(), DicomError>> =
        out.par_chunks_mut(plane.max(1)).zip(slices.par_iter()).map(|(o, s)| decode_slice(file, s, o)).collect();
    outcomes.into_iter().collect()
}

/// Decode one slice's pixels into `out`, x fastest, rescaled.
fn decode_slice(file: &DefaultDicomObject, slice: &Slice, out: &mut [f64]) -> Result<(), DicomError> {
    let pixels = |e: &dyn std::fmt::Display| DicomError::Pixels { path: slice.name(), reason: e.to_string() };
    if file.meta().transfer_syntax().trim_end_matches('\0') == rle::RLE_LOSSLESS {
        rle::check_fragments(file, slice.frame, &slice.name())?;
    }
    let decoded = match slice.frame {
        None => file.decode_pixel_data(),
        Some(frame) => file.decode_pixel_data_frame(frame),
    };
    let decoded = decoded.map_err(|e| {
        let bits = opt_str(file, tags::BITS_ALLOCATED).unwrap_or_default();
        pixels(&format!("{} with {bits}-bit samples: {e}", syntax_name(file.meta().transfer_syntax())))
    })?;
    let bytes = decoded.frame_data(0).map_err(|e| pixels(&e))?;
    let signed = decoded.pixel_representation() == PixelRepresentation::Signed;
    let word_swapped = big_endian_words(file);
    let found = samples(bytes, decoded.bits_allocated(), signed, word_swapped, out).map_err(|e| pixels(&e))?;
    if found != out.len() {
        return Err(pixels(&format!("{found} values for {}×{} pixels", slice.cols, slice.rows)));
    }
    if slice.slope != 1.0 || slice.intercept != 0.0 {
        out.iter_mut().for_each(|v| *v = *v * slice.slope + slice.intercept);
    }
    Ok(())
}

/// A transfer syntax's name, for errors (the UID when it is not one of the common ones).
pub(crate) fn syntax_name(uid: &str) -> String {
    let uid = uid.trim_end_matches('\0');
    let name = match uid {
        "1.2.840.10008.1.2" => "Implicit VR Little Endian",
        "1.2.840.10008.1.2.1" => "Explicit VR Little Endian",
        "1.2.840.10008.1.2.1.99" => "Deflated Explicit VR Little Endian",
        "1.2.840.10008.1.2.2" => "Explicit VR Big Endian",
        "1.2.840.10008.1.2.5" => "RLE Lossless",
        "1.2.840.10008.1.2.4.50" => "JPEG Baseline",
        "1.2.840.10008.1.2.4.51" => "JPEG Extended",
        "1.2.840.10008.1.2.4.57" => "JPEG Lossless",
        "1.2.840.10008.1.2.4.70" => "JPEG Lossless SV1",
        "1.2.840.10008.1.2.4.80" => "JPEG-LS Lossless",
        "1.2.840.10008.1.2.4.81" => "JPEG-LS Near-Lossless",
        "1.2.840.10008.1.2.4.90" => "JPEG 2000 Lossless",
        "1.2.840.10008.1.2.4.91" => "JPEG 2000",
        "1.2.840.10008.1.2.4.201" | "1.2.840.10008.1.2.4.202" | "1.2.840.10008.1.2.4.203" => "HTJ2K",
        _ => return format!("transfer syntax {uid}"),
    };
    format!("{name} ({uid})")
}

/// True when the pixel data was read as 16-bit words of a big-endian file: a 32-bit sample
/// then arrives as its high word first.
fn big_endian_words(file: &DefaultDicomObject) -> bool {
    let big_endian = file.meta().transfer_syntax().trim_end_matches('\0') == "1.2.840.10008.1.2.2";
    big_endian
        && file
            .get(tags::PIXEL_DATA)
            .is_some_and(|e| matches!(e.value(), dicom_core::DicomValue::Primitive(dicom_core::PrimitiveValue::U16(_))))
}

/// Write the stored values of one frame's samples (little endian, as decoders give them)
/// into `out`: 8, 16 or 32 bits, two's complement when `signed`, taken at their full
/// allocated width (as dicom-pixeldata converts 16-bit samples). Returns the number of
/// samples `bytes` holds; `out` is written only when it is exactly that.
fn samples(
    bytes: &[u8],
    bits_allocated: u16,
    signed: bool,
    word_swapped: bool,
    out: &mut [f64],
) -> Result<usize, String> {
    let width = match bits_allocated {
        8 | 16 | 32 => usize::from(bits_allocated / 8),
        bits => return Err(format!("BitsAllocated {bits} is not supported (8, 16 or 32)")),
    };
    let found = bytes.len() / width;
    if found != out.len() {
        return Ok(found);
    }
    let chunks = bytes.chunks_exact(width).zip(out.iter_mut());
    match (width, signed) {
        (1, false) => chunks.for_each(|(b, o)| *o = f64::from(b[0])),
        (1, true) => chunks.for_each(|(b, o)| *o = f64::from(b[0] as i8)),
        (2, false) => chunks.for_each(|(b, o)| *o = f64::from(u16::from_le_bytes([b[0], b[1]]))),
        (2, true) => chunks.for_each(|(b, o)| *o = f64::from(i16::from_le_bytes([b[0], b[1]]))),
        _ => chunks.for_each(|(b, o)| {
            let b = if word_swapped { [b[2], b[3], b[0], b[1]] } else { [b[0], b[1], b[2], b[3]] };
            *o = if signed { f64::from(i32::from_le_bytes(b)) } else { f64::from(u32::from_le_bytes(b)) };
        }),
    }
    Ok(found)
}
