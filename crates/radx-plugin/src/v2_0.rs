//! ABI 2.0, the first minor version of major 2: the structs later minor versions appended
//! fields to, as plugins and hosts of 2.0 build them. A host reads a 2.0 plugin's feature
//! and source tables through these (a 2.0 feature entry, or a source entry up to 2.2, is
//! smaller than this version's); a plugin given a 2.0
//! host's input sees the appended fields as absent.

use super::RadxValuesView;
use super::{RadxBuildFn, RadxComputeFn, RadxGeometry, RadxImageView, RadxLevelsView, RadxMaskView, RadxMatrixView};
use std::ffi::c_char;

/// ABI 2.0's feature description: this version's without `margin_mm`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxFeatureDesc {
    /// `size_of` the feature description as the plugin built it.
    pub struct_size: usize,
    /// Feature name.
    pub name: *const c_char,
    /// Tag.
    pub tag: *const c_char,
    /// One-line description.
    pub description: *const c_char,
    /// The source whose matrices the feature wants, or null.
    pub source: *const c_char,
    /// The computation.
    pub compute: Option<RadxComputeFn>,
}

/// ABI 2.0's source description, unchanged up to 2.2: this version's without `margin_mm`
/// (appended by 2.3).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxSourceDesc {
    /// `size_of` the source description as the plugin built it.
    pub struct_size: usize,
    /// Source name.
    pub name: *const c_char,
    /// One-line description.
    pub description: *const c_char,
    /// Number of axes of every matrix the builder returns.
    pub ndim: usize,
    /// The parameters and their defaults as a JSON object, or null.
    pub params: *const c_char,
    /// The builder.
    pub build: Option<RadxBuildFn>,
}

/// ABI 2.0's input: this version's without `settings_json` and `margin`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxInput {
    /// `size_of` the input as the host built it.
    pub struct_size: usize,
    /// The image cropped to the ROI bounding box.
    pub image: RadxImageView,
    /// The morphological mask.
    pub morphological_mask: RadxMaskView,
    /// The intensity mask.
    pub intensity_mask: RadxMaskView,
    /// Intensities of the intensity-mask voxels.
    pub intensities: RadxValuesView,
    /// Discretised grey levels.
    pub levels: RadxLevelsView,
    /// The matrices of the feature's source.
    pub matrices: *const RadxMatrixView,
    /// Number of entries behind `matrices`.
    pub n_matrices: usize,
    /// Where the box lies.
    pub geometry: RadxGeometry,
    /// The case's id, or null.
    pub case_id: *const c_char,
    /// The ROI's label.
    pub label: i64,
}

// SAFETY: immutable static data, as for this version's descriptors.
unsafe impl Sync for RadxFeatureDesc {}
// SAFETY: as above.
unsafe impl Send for RadxFeatureDesc {}
// SAFETY: as above.
unsafe impl Sync for RadxSourceDesc {}
// SAFETY: as above.
unsafe impl Send for RadxSourceDesc {}
