//! ABI major version 1, as plugins built before ABI 2 export it: the host still reads these
//! descriptors and calls these functions (no context, no geometry, no struct sizes). New
//! plugins use the types at the crate root.

use super::RadxValuesView;
use super::{RadxImageView, RadxLastErrorFn, RadxLevelsView, RadxMaskView, RadxMatrixOut, RadxMatrixView};
use std::ffi::c_char;

/// ABI 1's version number.
pub const RADX_PLUGIN_ABI: u32 = 1;

/// ABI 1's input: ABI 2's without `struct_size`, geometry, case id and label.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxInput {
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
}

/// ABI 1's feature computation.
pub type RadxComputeFn = unsafe extern "C" fn(input: *const RadxInput, out: *mut f64) -> i32;

/// ABI 1's source builder.
pub type RadxBuildFn =
    unsafe extern "C" fn(input: *const RadxInput, params: *const c_char, out: *mut RadxMatrixOut) -> i32;

/// ABI 1's feature description.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxFeatureDesc {
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

/// ABI 1's source description.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxSourceDesc {
    /// Source name.
    pub name: *const c_char,
    /// One-line description.
    pub description: *const c_char,
    /// Number of axes.
    pub ndim: usize,
    /// Parameters and defaults as a JSON object, or null.
    pub params: *const c_char,
    /// The builder.
    pub build: Option<RadxBuildFn>,
}

/// ABI 1's plugin descriptor.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxPluginDesc {
    /// 1.
    pub abi_version: u32,
    /// Plugin name.
    pub name: *const c_char,
    /// Plugin version.
    pub version: *const c_char,
    /// The features.
    pub features: *const RadxFeatureDesc,
    /// Number of features.
    pub n_features: usize,
    /// The sources.
    pub sources: *const RadxSourceDesc,
    /// Number of sources.
    pub n_sources: usize,
    /// The last failure's message on this thread.
    pub last_error: Option<RadxLastErrorFn>,
}

// SAFETY: immutable static data, as for the ABI 2 descriptors.
unsafe impl Sync for RadxPluginDesc {}
// SAFETY: as above.
unsafe impl Sync for RadxFeatureDesc {}
// SAFETY: as above.
unsafe impl Sync for RadxSourceDesc {}
