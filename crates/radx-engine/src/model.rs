//! What an extraction produces and works on: the processed case the sources are built
//! from, and the feature rows that come out. Types only, so every other module can use
//! them without depending on the code that makes them.

use radx_core::matrix::DiscretisedRoi;
use radx_core::roi::Roi;

/// A case after processing: the ROI (image cropped with a margin, both masks) and its
/// discretised grey levels, plus what the steps reported for `--diagnostics`.
#[derive(Debug, Clone)]
pub struct ProcessedCase {
    /// Cropped image, morphological and intensity masks.
    pub roi: Roi,
    /// Grey levels for texture and intensity-histogram features.
    pub levels: DiscretisedRoi,
    /// Lower bound used for fixed-bin-size discretisation, when it applies.
    pub bin_lower_bound: Option<f64>,
    /// The whole image's grid after interpolation (the original grid without it).
    pub interpolated_grid: radx_core::Grid,
    /// ROI voxels after interpolation, before re-segmentation.
    pub interpolated_count: usize,
}

/// One feature value in long format.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeatureRow {
    /// Family name (`glcm`, `morphology`, …).
    pub family: String,
    /// Feature name.
    pub feature: String,
    /// IBSI permanent tag (or a site tag).
    pub tag: String,
    /// Aggregation name, `-` for families computed once over the ROI.
    pub aggregation: String,
    /// The value; NaN when undefined (see `note`).
    pub value: f64,
    /// Why the value is NaN, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
