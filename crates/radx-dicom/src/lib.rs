//! radx-dicom: DICOM in — image series and RTSTRUCT contours as radx-core volumes.
//!
//! Clinical images live in DICOM: one file per slice, each with its own position, and
//! segmentations as RTSTRUCT polygons. This crate turns a series into the same
//! `Volume<f64>` on an LPS [`Grid`] that radx-io gives for a NIfTI file, and an RTSTRUCT ROI
//! into a boolean mask on that image's grid, with documented conventions that reproduce
//! MIRP's NIfTI conversions of the IBSI data voxel for voxel:
//!
//! - [`read_series`]: slices grouped by SeriesInstanceUID, ordered by position along the
//!   slice normal, spacing from positions, rescale slope/intercept applied; irregular stacks
//!   refused ([`DicomError`] names the file).
//! - [`read_rtstruct`] and [`rasterise`]: ROI by name, contours assigned to the nearest slice
//!   plane (within half a slice), voxel-centre inclusion, several contours on a slice
//!   combined even-odd (holes), FrameOfReferenceUID checked.
//!
//! Pure Rust (dicom-rs with its native decoders); no printing, no environment.
#![forbid(unsafe_code)]

mod attrs;
mod error;
mod geometry;
mod raster;
mod rtstruct;
mod series;
mod slice;

pub use error::DicomError;
pub use geometry::Tolerances;
pub use radx_core::{Grid, Volume};
pub use raster::rasterise;
pub use rtstruct::{Contour, ContourKind, Roi, StructureSet, read_rtstruct};
pub use series::{Series, SeriesOptions, read_series, read_series_files_with, read_series_with};

/// Read an RTSTRUCT's ROI `roi` as a mask on `series`' grid, checking that both share a
/// frame of reference.
pub fn read_rtstruct_mask(path: &std::path::Path, roi: &str, series: &Series) -> Result<Volume<bool>, DicomError> {
    let set = read_rtstruct(path)?;
    let roi = set.roi(roi)?;
    if let (Some(image), Some(of_roi)) = (&series.frame_of_reference_uid, &roi.frame_of_reference_uid)
        && image != of_roi
    {
        return Err(DicomError::FrameOfReference {
            path: path.to_path_buf(),
            roi: of_roi.clone(),
            image: image.clone(),
        });
    }
    rasterise(path, roi, &series.volume.grid)
}
