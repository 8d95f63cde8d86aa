//! The options a PyRadiomics parameter file adds to radx's settings.

use radx_core::CoreError;
use radx_core::roi::Roi;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// PyRadiomics-only options (the rest of a PyRadiomics parameter file maps onto radx's
/// own settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PyradiomicsOptions {
    /// Added to the intensities in firstorder Energy, TotalEnergy and RootMeanSquared
    /// (`voxelArrayShift`).
    pub voxel_array_shift: f64,
    /// Texture in-plane only (`force2D`): GLCM/GLRLM per in-plane angle over all slices,
    /// GLSZM/GLDM/NGTDM one matrix of 2D neighbourhoods.
    pub force_2d: bool,
    /// PyRadiomics' `distances` (default `[1]`): its GLCM takes one matrix per offset whose
    /// Chebyshev norm is listed (one of each ± pair), its GLDM and NGTDM take those offsets,
    /// both signs, as a voxel's neighbourhood (`compat::pyradiomics::angles`). A repeated
    /// distance counts its offsets twice, as in PyRadiomics. Not the IBSI's
    /// `texture.glcm_distance`: `[2]` is the 49 offsets of norm 2, not 13 directions × 2.
    pub distances: Vec<usize>,
    /// GLCM/GLRLM angle weighting (`weightingNorm`): the weighted matrices are summed and
    /// the features computed once; absent = features averaged over the angles.
    pub weighting_norm: Option<WeightingNorm>,
    /// Smallest number of dimensions with more than one voxel (`minimumROIDimensions`,
    /// default 2).
    pub minimum_roi_dimensions: usize,
    /// Smallest number of ROI voxels (`minimumROISize`).
    pub minimum_roi_size: Option<usize>,
    /// Feature classes to compute, each with its features (empty = all) (`featureClass`);
    /// absent = every class.
    pub feature_classes: Option<BTreeMap<String, Vec<String>>>,
    /// The classes of `featureClass` in the parameter file's order (PyRadiomics outputs
    /// them in that order); empty = PyRadiomics' own order.
    #[serde(skip)]
    pub feature_class_order: Vec<String>,
    /// Voxels of the new grid added around the ROI's bounding box when resampling, or of
    /// the image with `pre_crop` (`padDistance`).
    pub pad_distance: f64,
    /// Without resampling, crop the image to the ROI's bounding box grown by `pad_distance`
    /// voxels before filtering (`preCrop`): the filters see that crop, not the whole image.
    pub pre_crop: bool,
    /// Compute the original image's features (`imageType` names `Original`, or has no
    /// `imageType`); its shape is computed either way, as PyRadiomics does.
    pub original_image: bool,
    /// The parameter file's `imageType` entries, in its order, for the diagnostics
    /// (`Configuration_EnabledImageTypes`); empty without a parameter file.
    #[serde(skip)]
    pub enabled_image_types: Vec<(String, serde_json::Value)>,
    /// Voxel-wise feature maps' settings (`voxelSetting`): the defaults of `radx map`
    /// (`crate::maps::MapOptions::from_voxel_setting`); no effect on a segment-based
    /// extraction, as in PyRadiomics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voxel_setting: Option<VoxelSetting>,
}

/// PyRadiomics' `voxelSetting`: how voxel-wise feature maps are computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoxelSetting {
    /// Half the kernel's size in voxels: a (2r + 1)³ neighbourhood (`kernelRadius`, default 1).
    pub kernel_radius: usize,
    /// Compute a voxel's features on the kernel's ROI voxels only (`maskedKernel`, default true).
    pub masked_kernel: bool,
    /// Value of the map outside the ROI (`initValue`, default 0; `nan` allowed).
    pub init_value: f64,
    /// Voxels computed at once; absent = all (`voxelBatch`, default −1).
    pub voxel_batch: Option<usize>,
}

impl Default for VoxelSetting {
    fn default() -> Self {
        VoxelSetting { kernel_radius: 1, masked_kernel: true, init_value: 0.0, voxel_batch: None }
    }
}

impl Default for PyradiomicsOptions {
    fn default() -> Self {
        PyradiomicsOptions {
            voxel_array_shift: 0.0,
            force_2d: false,
            distances: vec![1],
            weighting_norm: None,
            // PyRadiomics' default (`featureextractor._getDefaultSettings`).
            minimum_roi_dimensions: 2,
            minimum_roi_size: None,
            feature_classes: None,
            feature_class_order: Vec::new(),
            pad_distance: 5.0,
            pre_crop: false,
            original_image: true,
            enabled_image_types: Vec::new(),
            voxel_setting: None,
        }
    }
}

/// PyRadiomics' distance weighting norms for GLCM and GLRLM angles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightingNorm {
    /// w = exp(−max_k |a_k s_k|²)
    Infinity,
    /// w = exp(−Σ_k (a_k s_k)²)
    Euclidean,
    /// w = exp(−(Σ_k |a_k s_k|)²)
    Manhattan,
    /// w = 1: the angles' matrices are simply summed.
    NoWeighting,
}

impl WeightingNorm {
    /// Weight of the angle `offset` (voxels, x y z) on a grid of `spacing` (mm).
    pub(crate) fn weight(self, offset: [i32; 3], spacing: [f64; 3]) -> f64 {
        let d: Vec<f64> = (0..3).map(|k| (f64::from(offset[k]) * spacing[k]).abs()).collect();
        match self {
            WeightingNorm::Infinity => (-d.iter().fold(0.0f64, |a, &b| a.max(b)).powi(2)).exp(),
            WeightingNorm::Euclidean => (-d.iter().map(|v| v * v).sum::<f64>()).exp(),
            WeightingNorm::Manhattan => (-d.iter().sum::<f64>().powi(2)).exp(),
            WeightingNorm::NoWeighting => 1.0,
        }
    }
}

impl PyradiomicsOptions {
    /// PyRadiomics' `checkMask` limits: dimensions with more than one voxel and ROI size.
    ///
    /// # Errors
    /// [`CoreError::InvalidSetting`] naming the limit the ROI is below.
    pub fn check_roi_size(&self, roi: &Roi) -> Result<(), CoreError> {
        let Some(bbox) = radx_core::BoundingBox::of_mask(&roi.morphological) else {
            return Err(CoreError::EmptyRoi(String::new()));
        };
        let dims = bbox.dims().iter().filter(|&&d| d > 1).count();
        if dims < self.minimum_roi_dimensions {
            return Err(CoreError::InvalidSetting {
                name: "minimumROIDimensions",
                reason: format!("the ROI extends in {dims} dimension(s), fewer than {}", self.minimum_roi_dimensions),
            });
        }
        let size = radx_core::volume::count_true(&roi.morphological);
        if let Some(min) = self.minimum_roi_size
            && size < min
        {
            return Err(CoreError::InvalidSetting {
                name: "minimumROISize",
                reason: format!("the ROI has {size} voxels, fewer than {min}"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighting_norms_follow_pyradiomics() {
        // Offset (1, 1, 0) on spacing (2, 3, 5): |a·s| = (2, 3, 0).
        let (o, s) = ([1, 1, 0], [2.0, 3.0, 5.0]);
        assert_eq!(WeightingNorm::Infinity.weight(o, s), (-9.0f64).exp()); // max 3, squared
        assert_eq!(WeightingNorm::Euclidean.weight(o, s), (-13.0f64).exp()); // 4 + 9
        assert_eq!(WeightingNorm::Manhattan.weight(o, s), (-25.0f64).exp()); // (2 + 3)²
        assert_eq!(WeightingNorm::NoWeighting.weight(o, s), 1.0);
    }
}
