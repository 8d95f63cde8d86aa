//! What an extraction produces and works on: the processed case the sources are built
//! from, and the feature rows that come out. Types only, so every other module can use
//! them without depending on the code that makes them.

use std::borrow::Cow;

use radx_core::Aggregation;
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
    /// The processed image and masks around the ROI as far as the loaded plugins asked
    /// (`Settings::plugin_margin`), clamped to the image (and to what the chain keeps:
    /// PyRadiomics' `preCrop`, a profile's own resampling grid); `None` when none asked.
    /// Kept beside `roi` so that the features are computed on the crop they would be
    /// without plugins.
    pub plugin_region: Option<Roi>,
}

/// The image a feature was computed on: `original`, later a filter's response
/// (`log_sigma_2mm`, `wavelet_db3_llh_l1_rotmean`…; the scheme is in `docs/filters.md`).
/// Part of every [`FeatureKey`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageType(Cow<'static, str>);

/// The original image's name: every row carries it, so it is not allocated per row.
const ORIGINAL: &str = "original";

impl ImageType {
    /// The image as read (and processed), unfiltered.
    pub fn original() -> Self {
        ImageType(Cow::Borrowed(ORIGINAL))
    }

    /// An image type by name (a filter's, e.g. `log_sigma_2mm`).
    pub fn named(name: impl Into<String>) -> Self {
        ImageType(Cow::Owned(name.into()))
    }

    /// Whether this is the original image.
    pub fn is_original(&self) -> bool {
        self.0 == ORIGINAL
    }

    /// The name, e.g. `original`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ImageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What identifies a feature value within one case's output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeatureKey {
    /// The image it was computed on.
    pub image_type: ImageType,
    /// Family name (`glcm`, `morphology`, a plugin's name, `diagnostics`…).
    pub family: String,
    /// Feature name.
    pub feature: String,
    /// How texture matrices were aggregated (IBSI 3.6.2 ff.); `None` for families computed
    /// once over the ROI.
    pub aggregation: Option<Aggregation>,
}

impl FeatureKey {
    /// A key on the original image.
    pub fn original(family: impl Into<String>, feature: impl Into<String>, aggregation: Option<Aggregation>) -> Self {
        FeatureKey { image_type: ImageType::original(), family: family.into(), feature: feature.into(), aggregation }
    }

    /// The aggregation's name, `-` for none (as tables write it).
    pub fn aggregation_name(&self) -> &'static str {
        self.aggregation.map_or("-", Aggregation::name)
    }
}

/// One feature value in long format.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    /// Which feature.
    pub key: FeatureKey,
    /// IBSI permanent tag, a site tag, or PyRadiomics' feature name; `None` for values that
    /// have none (processing diagnostics).
    pub tag: Option<String>,
    /// The value; NaN when undefined (see `note`).
    pub value: f64,
    /// Why the value is NaN or infinite, when it is.
    pub note: Option<String>,
}

impl FeatureRow {
    /// The tag, `-` for none (as tables write it).
    pub fn tag_or_dash(&self) -> &str {
        self.tag.as_deref().unwrap_or("-")
    }
}

/// The features of one case, in the library's order (families, then features, then
/// aggregations), followed by plugin features.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Every value, with its key.
    pub rows: Vec<FeatureRow>,
}

impl Features {
    /// The row of `key`, if the case has it.
    pub fn get(&self, key: &FeatureKey) -> Option<&FeatureRow> {
        self.rows.iter().find(|r| &r.key == key)
    }

    /// The value of a feature on the original image (`aggregation` by name, `None` for
    /// families computed once over the ROI).
    pub fn value(&self, family: &str, feature: &str, aggregation: Option<Aggregation>) -> Option<f64> {
        self.get(&FeatureKey::original(family, feature, aggregation)).map(|r| r.value)
    }
}

/// A family ready to evaluate, and the file it came from.
#[derive(Debug, Clone)]
pub struct LibraryFamily {
    /// The compiled family.
    pub family: radx_dsl::CompiledFamily,
    /// File name (for `radx features list`).
    pub origin: String,
    /// When it is evaluated: 0 when it reads no other family's features, else one more than
    /// the latest stage of the families it reads (see `docs/language.md`).
    pub stage: usize,
    /// The aggregations its `for` names (`None`: every aggregation of its source).
    pub runs_for: Option<Vec<Aggregation>>,
}
