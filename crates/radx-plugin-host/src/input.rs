//! What the host shows a plugin of one region of interest, and those views laid out as
//! the ABI's structs (ABI 2, and ABI 1 for older plugins).

use std::borrow::Cow;
use std::ffi::CStr;

use ndarray::Array3;
use radx_core::Volume;
use radx_core::matrix::DiscretisedRoi;
use radx_core::roi::Roi;
use radx_plugin::{
    RadxGeometry, RadxImageView, RadxInput, RadxLevelsView, RadxMaskView, RadxMatrixView, RadxRegionView,
    RadxValuesView, v1,
};

use crate::{DenseMatrix, PluginCallError};

/// What the host shows a plugin of one region of interest (borrowed for the call).
#[derive(Debug, Clone, Copy)]
pub struct PluginInput<'a> {
    /// The image cropped to the ROI box (its grid gives dims and spacing).
    pub image: &'a Volume<f64>,
    /// Morphological mask on the image grid.
    pub morphological: &'a Array3<bool>,
    /// Intensity mask on the image grid.
    pub intensity: &'a Array3<bool>,
    /// Intensities of the intensity-mask voxels (x-fastest order).
    pub intensities: &'a [f64],
    /// Discretised grey levels on the image grid, when discretisation is configured.
    pub levels: Option<&'a Array3<u16>>,
    /// Number of grey levels (0 without discretisation).
    pub ng: usize,
    /// The matrices of the feature's declared source (empty when it declared none).
    pub matrices: &'a [DenseMatrix],
    /// The case the ROI belongs to (ABI 2 plugins see it; origin, direction and spacing
    /// come from `image.grid`).
    pub case: CaseInfo<'a>,
    /// The processed image and masks around the ROI's box (ABI 2.1), for a feature that
    /// declared a [`Margin`]; `None` otherwise.
    pub region: Option<PluginRegion<'a>>,
}

/// The processed image and the ROI's masks over a region around the ROI's box.
#[derive(Debug, Clone, Copy)]
pub struct PluginRegion<'a> {
    /// The processed image over the region (its grid gives dims and spacing).
    pub image: &'a Volume<f64>,
    /// Morphological mask on the region's grid.
    pub morphological: &'a Array3<bool>,
    /// Intensity mask on the region's grid.
    pub intensity: &'a Array3<bool>,
    /// Index of the region's voxel `[0, 0, 0]` in the processed image.
    pub offset: [usize; 3],
}

/// What an ABI 2 plugin learns of the case beyond the cropped box.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseInfo<'a> {
    /// Index of the box's voxel `[0, 0, 0]` in the processed image.
    pub box_offset: [usize; 3],
    /// Number of voxels of the processed image; `[0; 3]` when unknown (the box's own dims
    /// are passed then).
    pub image_dims: [usize; 3],
    /// The case's id, when the run has one.
    pub case_id: Option<&'a CStr>,
    /// The ROI's label (0: every non-zero label).
    pub label: i64,
    /// The case's effective settings as a JSON object (ABI 2.1), when known.
    pub settings_json: Option<&'a CStr>,
}

impl<'a> PluginInput<'a> {
    /// The input of a cropped ROI; `intensities` is usually `roi.intensities()`.
    pub fn from_roi(roi: &'a Roi, intensities: &'a [f64]) -> Self {
        PluginInput {
            image: &roi.image,
            morphological: &roi.morphological,
            intensity: &roi.intensity,
            intensities,
            levels: None,
            ng: 0,
            matrices: &[],
            case: CaseInfo::default(),
            region: None,
        }
    }

    /// Add the discretised grey levels.
    pub fn with_discretised(mut self, discretised: &'a DiscretisedRoi) -> Self {
        self.levels = Some(&discretised.levels);
        self.ng = discretised.ng;
        self
    }

    /// Add the matrices of the feature's source.
    pub fn with_matrices(mut self, matrices: &'a [DenseMatrix]) -> Self {
        self.matrices = matrices;
        self
    }

    /// Check shapes and lay the data out x-fastest (borrowed when it already is, as
    /// radx volumes are; copied otherwise).
    pub(crate) fn prepare(&self) -> Result<Prepared<'a>, PluginCallError> {
        let dims = self.image.grid.dims;
        let shape = |a: (usize, usize, usize)| [a.0, a.1, a.2];
        if shape(self.image.data.dim()) != dims {
            return Err(PluginCallError::Input(format!(
                "image data {:?} does not match its grid {dims:?}",
                self.image.data.dim()
            )));
        }
        for (what, d) in [("morphological mask", self.morphological.dim()), ("intensity mask", self.intensity.dim())] {
            if shape(d) != dims {
                return Err(PluginCallError::Input(format!("{what} {:?} does not match the image {dims:?}", shape(d))));
            }
        }
        if let Some(levels) = self.levels
            && shape(levels.dim()) != dims
        {
            return Err(PluginCallError::Input(format!(
                "grey levels {:?} do not match the image {dims:?}",
                shape(levels.dim())
            )));
        }
        Ok(Prepared {
            image: x_fastest(&self.image.data),
            morphological: x_fastest(self.morphological),
            intensity: x_fastest(self.intensity),
            levels: self.levels.map(x_fastest),
            matrices: self.matrices.iter().map(DenseMatrix::view).collect(),
            region: self.region.as_ref().map(PluginRegion::prepare).transpose()?,
        })
    }
}

impl<'a> PluginRegion<'a> {
    /// Check shapes and lay the region out x-fastest.
    pub(crate) fn prepare(&self) -> Result<PreparedRegion<'a>, PluginCallError> {
        let dims = self.image.grid.dims;
        let shape = |a: (usize, usize, usize)| [a.0, a.1, a.2];
        let parts = [("image", self.image.data.dim()), ("morphological mask", self.morphological.dim())];
        for (what, d) in parts.into_iter().chain([("intensity mask", self.intensity.dim())]) {
            if shape(d) != dims {
                return Err(PluginCallError::Input(format!(
                    "margin region {what} {:?} does not match {dims:?}",
                    shape(d)
                )));
            }
        }
        Ok(PreparedRegion {
            image: x_fastest(&self.image.data),
            morphological: x_fastest(self.morphological),
            intensity: x_fastest(self.intensity),
            grid: self.image.grid,
            offset: self.offset,
        })
    }
}

/// Host-side buffers behind one [`RadxRegionView`].
pub(crate) struct PreparedRegion<'a> {
    pub(crate) image: Cow<'a, [f64]>,
    pub(crate) morphological: Cow<'a, [bool]>,
    pub(crate) intensity: Cow<'a, [bool]>,
    pub(crate) grid: radx_core::Grid,
    pub(crate) offset: [usize; 3],
}

impl PreparedRegion<'_> {
    pub(crate) fn view(&self) -> RadxRegionView {
        let dims = self.grid.dims;
        RadxRegionView {
            image: RadxImageView { data: self.image.as_ptr(), dims, spacing: self.grid.spacing },
            // `bool` is one byte holding 0 or 1: exactly the ABI's mask byte.
            morphological_mask: RadxMaskView { data: self.morphological.as_ptr().cast::<u8>(), dims },
            intensity_mask: RadxMaskView { data: self.intensity.as_ptr().cast::<u8>(), dims },
            offset: self.offset,
        }
    }
}

/// No margin region: null data, zero dims.
pub(crate) const NO_REGION: RadxRegionView = RadxRegionView {
    image: RadxImageView { data: std::ptr::null(), dims: [0; 3], spacing: [0.0; 3] },
    morphological_mask: RadxMaskView { data: std::ptr::null(), dims: [0; 3] },
    intensity_mask: RadxMaskView { data: std::ptr::null(), dims: [0; 3] },
    offset: [0; 3],
};

/// Borrow the voxels in x-fastest order, or copy them into that order.
pub(crate) fn x_fastest<T: Clone>(a: &Array3<T>) -> Cow<'_, [T]> {
    // The reversed-axes view is in standard (C) order exactly when `a` is x-fastest.
    match a.t().to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.t().iter().cloned().collect()),
    }
}

/// Host-side buffers behind one [`RadxInput`].
pub(crate) struct Prepared<'a> {
    pub(crate) image: Cow<'a, [f64]>,
    pub(crate) morphological: Cow<'a, [bool]>,
    pub(crate) intensity: Cow<'a, [bool]>,
    pub(crate) levels: Option<Cow<'a, [u16]>>,
    pub(crate) matrices: Vec<RadxMatrixView>,
    pub(crate) region: Option<PreparedRegion<'a>>,
}

impl Prepared<'_> {
    /// The ABI 2 input.
    pub(crate) fn raw(&self, input: &PluginInput<'_>) -> RadxInput {
        let v1 = self.raw_v1(input);
        let grid = &input.image.grid;
        let d = grid.direction;
        let image_dims = if input.case.image_dims == [0; 3] { grid.dims } else { input.case.image_dims };
        RadxInput {
            struct_size: std::mem::size_of::<RadxInput>(),
            image: v1.image,
            morphological_mask: v1.morphological_mask,
            intensity_mask: v1.intensity_mask,
            intensities: v1.intensities,
            levels: v1.levels,
            matrices: v1.matrices,
            n_matrices: v1.n_matrices,
            geometry: RadxGeometry {
                origin: grid.origin,
                direction: [d[0][0], d[0][1], d[0][2], d[1][0], d[1][1], d[1][2], d[2][0], d[2][1], d[2][2]],
                box_offset: input.case.box_offset,
                image_dims,
            },
            case_id: input.case.case_id.map_or(std::ptr::null(), CStr::as_ptr),
            label: input.case.label,
            settings_json: input.case.settings_json.map_or(std::ptr::null(), CStr::as_ptr),
            margin: self.region.as_ref().map_or(NO_REGION, PreparedRegion::view),
        }
    }

    /// The ABI 1 input.
    pub(crate) fn raw_v1(&self, input: &PluginInput<'_>) -> v1::RadxInput {
        let dims = input.image.grid.dims;
        v1::RadxInput {
            image: RadxImageView { data: self.image.as_ptr(), dims, spacing: input.image.grid.spacing },
            // `bool` is one byte holding 0 or 1: exactly the ABI's mask byte.
            morphological_mask: RadxMaskView { data: self.morphological.as_ptr().cast::<u8>(), dims },
            intensity_mask: RadxMaskView { data: self.intensity.as_ptr().cast::<u8>(), dims },
            intensities: RadxValuesView { data: input.intensities.as_ptr(), len: input.intensities.len() },
            levels: RadxLevelsView {
                data: self.levels.as_ref().map_or(std::ptr::null(), |l| l.as_ptr()),
                dims,
                ng: if self.levels.is_some() { input.ng } else { 0 },
            },
            matrices: if self.matrices.is_empty() { std::ptr::null() } else { self.matrices.as_ptr() },
            n_matrices: self.matrices.len(),
        }
    }
}
