//! radx-filters: the IBSI-2 convolutional filters on 3D volumes.
//!
//! Every filter turns an image (`ndarray::Array3<f64>`, indexed `[i, j, k]` = `[x, y, z]`
//! as everywhere in radx) into a response map on the same grid. The conventions — axis
//! order of kernel names, convolution (not correlation), boundary extension, σ in mm —
//! are the IBSI-2 ones; `docs/filters.md` states them for users.
//!
//! Layers, bottom up:
//! - [`boundary`]: how values outside the image are read (zero, nearest, periodic, mirror);
//! - [`separable`]: 1-D kernels and the pass that convolves every line of one axis;
//! - [`rotation`]: the 24 (3D) or 4 (2D) right-handed orientations and voxel-wise pooling;
//! - one module per filter family, each a type implementing [`Filter`].
//!
//! Nothing here prints, reads files or knows about ROIs: the engine crops the image to the
//! ROI's neighbourhood (see [`Filter::margin`]) and computes features on the response.
// `deny`, not `forbid`: the CPU dispatch of the PyRadiomics filters' inner loops
// (`pyradiomics/wide.rs`) allows it where it calls them.
#![deny(unsafe_code)]

pub mod boundary;
pub mod error;
pub mod rotation;
pub mod separable;

// Filters whose kernels are separable products of 1-D kernels.
pub mod custom;
pub mod laws;
pub mod log;
pub mod mean;
pub mod wavelet;

// Filters applied in the Fourier domain.
pub mod fourier;
pub mod gabor;
pub mod riesz;
pub mod simoncelli;
pub mod steer;

// Filters as settings files write them.
pub mod spec;

// PyRadiomics' image types, computed as PyRadiomics 3.0.1 computes them.
pub mod pyradiomics;

use ndarray::{Array3, ArrayView3};

pub use boundary::Boundary;
pub use error::FilterError;
pub use spec::{FilterSpec, PluginParam, SharedFilter};

/// Whether a filter works on each axial slice (k = const) on its own or on the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimensionality {
    /// Slice-wise: 2-D kernels over (i, j), padding in-plane only.
    #[serde(rename = "2d")]
    TwoD,
    /// 3-D kernels over (i, j, k).
    #[serde(rename = "3d")]
    ThreeD,
}

impl Dimensionality {
    /// The axes a kernel of this dimensionality spans.
    pub fn axes(self) -> &'static [usize] {
        match self {
            Dimensionality::TwoD => &[0, 1],
            Dimensionality::ThreeD => &[0, 1, 2],
        }
    }
}

/// How much of the image around the ROI a filter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Margin {
    /// The response inside a box depends only on the voxels within this many voxels of it
    /// along i, j, k: filtering the box grown by this margin (clipped to the image) gives the
    /// same response inside the box as filtering the whole image.
    Voxels([usize; 3]),
    /// The response depends on the whole image (periodic boundary, Fourier-domain filters
    /// without a compact kernel): the engine must filter the uncropped image.
    WholeImage,
}

/// A filter: image in, response map on the same grid out.
///
/// Implementations validate their parameters when built (a [`FilterError`] naming the
/// setting), so `apply` fails only on an image the filter cannot handle. A plugin can
/// implement this trait: it needs nothing but the image and its spacing.
pub trait Filter: Send + Sync {
    /// The image type the response's features are reported under, e.g. `log_sigma_1.5mm`
    /// (the naming scheme is in `docs/filters.md`: lowercase tokens joined by `_`).
    fn image_type(&self) -> String;

    /// The neighbourhood the response at a voxel depends on, for this voxel spacing (mm).
    fn margin(&self, spacing: [f64; 3]) -> Margin;

    /// The response map of `image` (voxel spacing `spacing` in mm, `[i, j, k]` order).
    fn apply(&self, image: ArrayView3<'_, f64>, spacing: [f64; 3]) -> Result<Array3<f64>, FilterError>;

    /// The response where `needed` is true; elsewhere any value (NaN from filters that
    /// skip those voxels). For a filter computed voxel by voxel at great cost (PyRadiomics'
    /// LBP 3D), computing only the ROI saves nearly all of it; the default computes all.
    fn apply_where(
        &self,
        image: ArrayView3<'_, f64>,
        spacing: [f64; 3],
        needed: ArrayView3<'_, bool>,
    ) -> Result<Array3<f64>, FilterError> {
        let _ = needed;
        self.apply(image, spacing)
    }

    /// Bytes the filter holds at its peak while filtering an image of `dims` voxels (the
    /// image itself, borrowed, not counted): the response and the working arrays. Every
    /// IBSI-2 filter counts its own from what its `apply` allocates (tested by hand in
    /// `tests/it/mechanics_working_bytes.rs`), a plugin's filter from what it declares; the
    /// default, for PyRadiomics' image types, is three `f64` volumes.
    fn working_bytes(&self, dims: [usize; 3], spacing: [f64; 3]) -> u64 {
        let _ = spacing;
        volume_bytes(dims).saturating_mul(3)
    }

    /// Refuse an image the filter's support does not fit in: along an axis the filter
    /// reads, its support (2·margin + 1) must not exceed the image. Call it with the whole
    /// image's dimensions, before cropping (a crop at the image's edge may be smaller).
    fn check_fits(&self, dims: [usize; 3], spacing: [f64; 3]) -> Result<(), FilterError> {
        if let Margin::Voxels(margin) = self.margin(spacing) {
            for axis in 0..3 {
                let support = 2 * margin[axis] + 1;
                if margin[axis] > 0 && support > dims[axis] {
                    return Err(FilterError::SupportTooLarge {
                        filter: self.image_type(),
                        support,
                        size: dims[axis],
                        axis,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Bytes of an `f64` volume of `dims` voxels (saturating: a size from a header may be absurd).
pub fn volume_bytes(dims: [usize; 3]) -> u64 {
    dims.iter().fold(8u64, |n, &d| n.saturating_mul(d as u64))
}
