//! radx-dicom: DICOM in — image series, RTSTRUCT contours and SEG segments as radx-core
//! volumes.
//!
//! Clinical images live in DICOM: one file per slice (or one multi-frame file), each slice
//! with its own position, and segmentations as RTSTRUCT polygons or DICOM SEG frames. This
//! crate turns a series into the same `Volume<f64>` on an LPS [`Grid`] that radx-io gives
//! for a NIfTI file, and an RTSTRUCT ROI or a SEG segment into a mask on an image's grid,
//! with documented conventions (`docs/dicom.md`) that reproduce MIRP's NIfTI conversions of
//! the IBSI data voxel for voxel:
//!
//! - [`read_series`]: slices (or the frames of enhanced multi-frame files) grouped by
//!   SeriesInstanceUID, ordered by position along the slice normal, spacing from positions,
//!   rescale slope/intercept applied; irregular stacks refused ([`DicomError`] names the
//!   file).
//! - [`read_rtstruct`] and [`rasterise`]: ROI by name, contours assigned to the nearest slice
//!   plane (within half a slice), voxel-centre inclusion, several contours on a slice
//!   combined even-odd (holes), FrameOfReferenceUID checked.
//! - [`read_seg`] and [`Segmentation::mask`]: binary, fractional and label-map SEG, a
//!   segment by number or label, frames placed by their own plane positions.
//! - [`probe`]: which kind of DICOM object a file holds.
//!
//! Pure Rust (dicom-rs with its native decoders); no printing, no environment.
#![forbid(unsafe_code)]

mod attrs;
mod error;
mod geometry;
mod lengths;
mod probe;
mod raster;
mod rle;
mod rtstruct;
mod seg;
mod series;
mod slice;

pub use error::DicomError;
pub use geometry::Tolerances;
pub use probe::{DicomKind, is_dicom_file, probe};
pub use radx_core::{Grid, Volume};
pub use raster::rasterise;
pub use rtstruct::{Contour, ContourKind, Roi, StructureSet, read_rtstruct, read_rtstruct_bytes};
pub use seg::{
    SegFrame, Segment, SegmentChoice, Segmentation, SegmentationType, read_seg, read_seg_bytes, read_seg_mask,
};
pub use series::{
    Series, SeriesOptions, SeriesSummary, list_series, read_series, read_series_bytes, read_series_files_with,
    read_series_with,
};

/// Read an RTSTRUCT's ROI `roi` as a mask on `series`' grid, checking that both share a
/// frame of reference.
pub fn read_rtstruct_mask(path: &std::path::Path, roi: &str, series: &Series) -> Result<Volume<bool>, DicomError> {
    read_rtstruct_mask_on(path, Some(roi), &series.volume.grid, series.frame_of_reference_uid.as_deref())
}

/// Read an RTSTRUCT's ROI `roi` (the only ROI when `None`) as a mask on `grid`, checking its
/// frame of reference against `frame_of_reference` (the image's) when both are stated.
pub fn read_rtstruct_mask_on(
    path: &std::path::Path,
    roi: Option<&str>,
    grid: &Grid,
    frame_of_reference: Option<&str>,
) -> Result<Volume<bool>, DicomError> {
    let set = read_rtstruct(path)?;
    let roi = set.choose(roi)?;
    set.check_frame_of_reference(roi, frame_of_reference)?;
    rasterise(path, roi, grid)
}
