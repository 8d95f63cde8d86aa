//! radx's extraction settings: what users write in a TOML or YAML file.
//!
//! Every field has a documented default, unknown keys are an error naming the key, and
//! [`Settings::validate`] refuses values outside their domain before any image is read.

use std::path::Path;

use radx_core::Aggregation;
use serde::{Deserialize, Serialize};

use crate::compat::pyradiomics::params::error::ParamsError;

/// Everything that shapes one extraction. Defaults: label 1, no resampling, no
/// re-segmentation, fixed bin number 32 for texture and histogram, IVH on the raw
/// intensities, all six texture aggregations, GLCM distance 1 symmetric, NGLDM α = 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Label value of the ROI in the mask.
    pub label: i64,
    /// Largest difference (mm) in spacing/origin (and in direction cosines) accepted
    /// between image and mask grids.
    pub geometry_tolerance: f64,
    /// Interpolation to a new voxel spacing (IBSI 2.4); absent = none.
    pub resample: Option<Resample>,
    /// Re-segmentation of the intensity mask (IBSI 2.5).
    pub resegment: Resegment,
    /// Discretisation for texture, intensity-histogram and IVH features (IBSI 2.7).
    pub discretisation: Discretisation,
    /// Texture-matrix parameters and aggregation methods.
    pub texture: Texture,
    /// Whole-image z-score normalisation before anything else (PyRadiomics `normalize`);
    /// absent = none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalise: Option<Normalise>,
    /// PyRadiomics compatibility: present when the PyRadiomics feature library and its
    /// processing rules are used (a PyRadiomics parameter file, or `--library pyradiomics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pyradiomics: Option<crate::compat::pyradiomics::options::PyradiomicsOptions>,
    /// Drop NaN and infinite voxels from the ROI (both masks) instead of refusing the case.
    pub exclude_nonfinite: bool,
    /// Convolutional filters (IBSI-2), `[[filter]]` tables: each one's response is another
    /// image type whose features are computed too (see `docs/filters.md`).
    #[serde(rename = "filter", skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<FilterSettings>,
    /// Memory budget in bytes for reading images, interpolation and texture matrices
    /// (`--max-memory`; default [`radx_io::memory::MemoryLimits::budget`]: the least of half the physical
    /// memory, the cgroup limit and `RLIMIT_AS`). A run-time limit, not a file setting.
    #[serde(skip)]
    pub max_memory: u64,
    /// Let NRRD headers name detached data files outside their folder
    /// (`--allow-external-data`; [`radx_io::ReadOptions::allow_external_data`]). A run-time
    /// choice about trusting the inputs, not a file setting.
    #[serde(skip)]
    pub allow_external_data: bool,
    /// Operations each feature family may spend on one case, per aggregation
    /// (`--eval-budget`; default [`radx_dsl::DEFAULT_EVAL_BUDGET`]): a feature whose loops
    /// would exceed it gets a note naming it instead of running for hours. Loops over
    /// constant ranges are checked against it when the feature files are compiled.
    /// A run-time limit, not a file setting.
    #[serde(skip, default = "default_eval_budget")]
    pub eval_budget: u64,
    /// How much of the processed image around the ROI the loaded plugins' features see:
    /// the widest `margin_mm` they declare (`docs/plugins.md`), set by
    /// [`crate::Extractor::new`]. The chain keeps that much around the ROI, beside the
    /// crop the features are computed on ([`crate::ProcessedCase::plugin_region`]). Not a
    /// file setting.
    #[serde(skip, default = "no_plugin_margin")]
    pub plugin_margin: radx_plugin_host::Margin,
    /// Parameter values for plugin features, `[[plugin_feature]]` tables: each is one
    /// call of the feature (rows named with the values; `docs/plugins.md`). A feature with
    /// parameters and no table is computed once, with its defaults.
    #[serde(rename = "plugin_feature", skip_serializing_if = "Vec::is_empty")]
    pub plugin_features: Vec<PluginFeatureSettings>,
    /// The plugin feature calls of a run, every loaded feature's (bound and checked by
    /// [`crate::Extractor::new`]); empty: each loaded feature with its defaults. Not a
    /// file setting.
    #[serde(skip)]
    pub plugin_calls: Vec<radx_plugin_host::FeatureCall>,
}

/// One `[[plugin_feature]]` table: a plugin feature and values for its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginFeatureSettings {
    /// `plugin.feature`, as `radx plugins list` names it.
    pub feature: String,
    /// Parameter values by name; the others keep their defaults.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, serde_json::Value>,
}

fn default_eval_budget() -> u64 {
    radx_dsl::DEFAULT_EVAL_BUDGET
}

fn no_plugin_margin() -> radx_plugin_host::Margin {
    radx_plugin_host::Margin::None
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            label: 1,
            geometry_tolerance: 1e-3,
            resample: None,
            resegment: Resegment::default(),
            discretisation: Discretisation::default(),
            texture: Texture::default(),
            normalise: None,
            pyradiomics: None,
            exclude_nonfinite: false,
            filters: Vec::new(),
            max_memory: radx_io::ReadOptions::default().max_bytes,
            allow_external_data: false,
            eval_budget: radx_dsl::DEFAULT_EVAL_BUDGET,
            plugin_margin: radx_plugin_host::Margin::None,
            plugin_features: Vec::new(),
            plugin_calls: Vec::new(),
        }
    }
}

impl Settings {
    /// How to read this run's image files with a voxel budget of `max_bytes`.
    pub fn read_options(&self, max_bytes: u64) -> radx_io::ReadOptions {
        radx_io::ReadOptions { max_bytes, allow_external_data: self.allow_external_data }
    }
}

/// Interpolation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resample {
    /// New voxel spacing in mm (x, y, z). With `in_plane_only`, z is kept as it is.
    pub spacing: [f64; 3],
    /// Interpolate within slices only (the IBSI's 2D configurations).
    #[serde(default)]
    pub in_plane_only: bool,
    /// Image interpolator: `nearest`, `linear` or `cubic_spline`.
    #[serde(default = "default_linear")]
    pub image_interpolator: Interpolator,
    /// Mask interpolator (the mask is interpolated as 0/1 and thresholded).
    #[serde(default = "default_linear")]
    pub mask_interpolator: Interpolator,
    /// Partial-volume threshold for the interpolated mask (IBSI: 0.5).
    #[serde(default = "default_threshold")]
    pub mask_threshold: f64,
    /// Round interpolated intensities to the nearest integer (IBSI, for CT).
    #[serde(default)]
    pub round_intensities: bool,
}

fn default_linear() -> Interpolator {
    Interpolator::Linear
}
fn default_threshold() -> f64 {
    0.5
}

/// Interpolation kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolator {
    /// Nearest neighbour.
    Nearest,
    /// Linear (bilinear in plane, trilinear in 3D).
    Linear,
    /// Cubic B-spline.
    CubicSpline,
}

impl Interpolator {
    /// The core's interpolation kernel for this setting.
    pub fn kernel(self) -> radx_core::processing::resample::Interpolator {
        use radx_core::processing::resample::Interpolator as Kernel;
        match self {
            Interpolator::Nearest => Kernel::Nearest,
            Interpolator::Linear => Kernel::Linear,
            Interpolator::CubicSpline => Kernel::CubicSpline,
        }
    }
}

/// Re-segmentation: intensity range and outlier filtering (both shrink only the
/// intensity mask).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Resegment {
    /// Keep intensities in `[min, max]`; either bound may be omitted with `nan`.
    pub range: Option<[f64; 2]>,
    /// Remove voxels outside mean ± n·σ (IBSI uses 3).
    pub outlier_sigma: Option<f64>,
    /// How `range` is read (PyRadiomics `resegmentMode`): absolute intensities (default),
    /// fractions of the ROI maximum, or multiples of σ around the ROI mean.
    pub mode: ResegmentMode,
    /// Re-segment the morphological mask too (PyRadiomics `resegmentShape`); by default
    /// only the intensity mask shrinks.
    pub shape: bool,
}

/// How a re-segmentation range is interpreted (PyRadiomics `resegmentMode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResegmentMode {
    /// The bounds are intensities.
    #[default]
    Absolute,
    /// The bounds are fractions of the ROI's maximum intensity.
    Relative,
    /// The bounds are multiples of the ROI's (population) σ added to its mean.
    Sigma,
}

/// PyRadiomics' image normalisation (`imageoperations.normalizeImage`, SimpleITK
/// `Normalize`): x ← (x − μ)/σ over the whole image, σ the sample standard deviation;
/// optionally clipped to ±`remove_outliers`; then multiplied by `scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalise {
    /// Factor applied after normalisation (`normalizeScale`).
    #[serde(default = "one")]
    pub scale: f64,
    /// Clip normalised values to ±this many σ (`removeOutliers`).
    #[serde(default)]
    pub remove_outliers: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// Discretisation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Discretisation {
    /// Texture families and the intensity histogram.
    pub texture: Binning,
    /// Intensity-volume histogram.
    pub ivh: IvhBinning,
}

impl Default for Discretisation {
    fn default() -> Self {
        Discretisation { texture: Binning::FixedBinNumber { bins: 32 }, ivh: IvhBinning::None }
    }
}

/// Fixed bin number or fixed bin size (IBSI 2.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Binning {
    /// `bins` equal-width bins between the ROI minimum and maximum.
    FixedBinNumber {
        /// Number of bins N_g.
        bins: usize,
    },
    /// Bins of `width` starting at `lower_bound` (default: the re-segmentation minimum,
    /// else the ROI minimum).
    FixedBinSize {
        /// Bin width w_b.
        width: f64,
        /// Lower bound X_min; absent = re-segmentation minimum or ROI minimum.
        #[serde(default)]
        lower_bound: Option<f64>,
    },
    /// PyRadiomics `binWidth`: edges at multiples of `width` from ⌊min/width⌋·width
    /// (level = ⌊x/w⌋ − ⌊min/w⌋ + 1), N_g = highest level present.
    PyradiomicsBinWidth {
        /// Bin width.
        width: f64,
    },
    /// PyRadiomics `binCount`: `numpy.histogram` edges over the ROI range, N_g = highest
    /// level present.
    PyradiomicsBinCount {
        /// Number of bins.
        bins: usize,
    },
}

/// IVH discretisation (IBSI 3.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum IvhBinning {
    /// Calibrated discrete intensities (w_d = 1); the total range is the re-segmentation
    /// range when one is given, else the ROI minimum..maximum.
    #[default]
    None,
    /// Bins of `width`, represented by their centres.
    FixedBinSize {
        /// Bin width.
        width: f64,
    },
    /// `bins` bins, range 1..=bins.
    FixedBinNumber {
        /// Number of bins.
        bins: usize,
    },
}

/// Texture parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Texture {
    /// Aggregation methods to compute (`2d_avg`, `2d_smrg`, `2_5d_dmrg`, `2_5d_mrg`,
    /// `3d_avg`, `3d_mrg`). Zone and neighbourhood families use those of
    /// `2d_avg`, `2_5d_mrg`, `3d_mrg` that are listed.
    pub aggregations: Vec<Aggregation>,
    /// GLCM neighbour distance (Chebyshev).
    pub glcm_distance: usize,
    /// Count each GLCM pair in both orders.
    pub glcm_symmetric: bool,
    /// NGLDM coarseness α.
    pub ngldm_alpha: u16,
    /// NGLDM neighbourhood distance (Chebyshev).
    pub ngldm_distance: usize,
}

impl Default for Texture {
    fn default() -> Self {
        Texture {
            aggregations: Aggregation::ALL.to_vec(),
            glcm_distance: 1,
            glcm_symmetric: true,
            ngldm_alpha: 0,
            ngldm_distance: 1,
        }
    }
}

/// A settings file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error("{path}: cannot read settings file: {source}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML/YAML for radx's schema.
    #[error("{path}: {source}")]
    Parse {
        /// File.
        path: String,
        /// The parser's error (names the key and position).
        source: ParseError,
    },
    /// A PyRadiomics parameter file that does not map onto radx's settings.
    #[error("{path}: {source}")]
    Params {
        /// File.
        path: String,
        /// What does not map.
        source: ParamsError,
    },
    /// PyRadiomics settings radx does not support, refused under `--strict`.
    #[error("{path}: unsupported PyRadiomics settings (--strict): {}", unsupported.join("; "))]
    Unsupported {
        /// File.
        path: String,
        /// One message per setting, naming it.
        unsupported: Vec<String>,
    },
    /// A value is outside its domain.
    #[error("{path}: {source}")]
    Invalid {
        /// File (or `<default>`).
        path: String,
        /// The key and what is wrong with its value.
        source: InvalidSetting,
    },
}

/// Settings text that does not parse in radx's schema. The parsers' errors are boxed: they
/// are large, and every `Result` carrying a [`SettingsError`] would be as large.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not TOML, or TOML keys and values radx's schema does not have.
    // The parsers end their messages with a newline; a report line has none.
    #[error("{}", .0.to_string().trim_end())]
    Toml(#[from] Box<toml::de::Error>),
    /// Not YAML, or YAML keys and values radx's schema does not have.
    #[error("{}", .0.to_string().trim_end())]
    Yaml(#[from] Box<serde_saphyr::Error>),
}

/// One `[[filter]]` table: the filter (`kind` and its parameters, see
/// [`radx_filters::FilterSpec`]) and what is computed on its response. Keys that are neither
/// these two nor the filter's parameters are refused by the filter's own table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterSettings {
    /// The filter.
    #[serde(flatten)]
    pub spec: radx_filters::FilterSpec,
    /// Feature families computed on the response, by name; absent = every family of the
    /// library except morphology (the ROI's shape does not depend on the image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub families: Option<Vec<String>>,
    /// Discretisation of the response for texture and histogram families; absent = the
    /// settings' `discretisation.texture`, a fixed bin size starting at the response's ROI
    /// minimum (a lower bound in image units, like the re-segmentation range, means nothing
    /// for a response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discretisation: Option<Binning>,
}

/// A settings value outside its domain.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid setting `{key}`: {reason}")]
pub struct InvalidSetting {
    /// Dotted key.
    pub key: &'static str,
    /// What is wrong.
    pub reason: String,
}

fn invalid(key: &'static str, reason: String) -> InvalidSetting {
    InvalidSetting { key, reason }
}

impl Settings {
    /// Read a `.toml`, `.yaml` or `.yml` settings file and validate it.
    pub fn from_file(path: &Path) -> Result<Settings, SettingsError> {
        let shown = path.display().to_string();
        let text =
            // Bounded while reading: a settings path may be a pipe or a device.
            radx_io::read_text_limited(path, radx_io::TEXT_INPUT_LIMIT)
                .map_err(|source| SettingsError::Read { path: shown.clone(), source })?;
        let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
        let settings = if is_yaml { Self::from_yaml_str(&text) } else { Self::from_toml_str(&text) }
            .map_err(|source| SettingsError::Parse { path: shown.clone(), source })?;
        settings.validate().map_err(|source| SettingsError::Invalid { path: shown, source })?;
        Ok(settings)
    }

    /// Parse TOML text (no validation).
    pub fn from_toml_str(text: &str) -> Result<Settings, ParseError> {
        Ok(toml::from_str(text).map_err(Box::new)?)
    }

    /// Parse YAML text in radx's schema (no validation).
    pub fn from_yaml_str(text: &str) -> Result<Settings, ParseError> {
        Ok(serde_saphyr::from_str(text).map_err(Box::new)?)
    }

    /// Check every value's domain; the error names the first key out of it.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(self.geometry_tolerance.is_finite() && self.geometry_tolerance >= 0.0) {
            return Err(invalid("geometry_tolerance", format!("must be ≥ 0, got {}", self.geometry_tolerance)));
        }
        if let Some(r) = &self.resample {
            if !r.spacing.iter().all(|&s| positive(s)) {
                return Err(invalid("resample.spacing", format!("every spacing must be > 0 mm, got {:?}", r.spacing)));
            }
            if !(r.mask_threshold > 0.0 && r.mask_threshold <= 1.0) {
                return Err(invalid("resample.mask_threshold", format!("must be in (0, 1], got {}", r.mask_threshold)));
            }
        }
        if let Some([lo, hi]) = self.resegment.range
            && lo > hi
        {
            return Err(invalid("resegment.range", format!("minimum {lo} is above maximum {hi}")));
        }
        if let Some(s) = self.resegment.outlier_sigma
            && !positive(s)
        {
            return Err(invalid("resegment.outlier_sigma", format!("must be > 0, got {s}")));
        }
        match &self.discretisation.texture {
            Binning::FixedBinNumber { bins: 0 } => {
                return Err(invalid("discretisation.texture.bins", "must be at least 1".into()));
            }
            Binning::PyradiomicsBinCount { bins: 0 } => {
                return Err(invalid("discretisation.texture.bins", "must be at least 1".into()));
            }
            Binning::FixedBinSize { width, .. } | Binning::PyradiomicsBinWidth { width } if !positive(*width) => {
                return Err(invalid("discretisation.texture.width", format!("must be > 0, got {width}")));
            }
            _ => {}
        }
        match &self.discretisation.ivh {
            IvhBinning::FixedBinNumber { bins: 0 } => {
                return Err(invalid("discretisation.ivh.bins", "must be at least 1".into()));
            }
            IvhBinning::FixedBinSize { width } if !positive(*width) => {
                return Err(invalid("discretisation.ivh.width", format!("must be > 0, got {width}")));
            }
            _ => {}
        }
        if let Some(n) = &self.normalise {
            if !positive(n.scale) {
                return Err(invalid("normalise.scale", format!("must be > 0, got {}", n.scale)));
            }
            if let Some(o) = n.remove_outliers
                && !positive(o)
            {
                return Err(invalid("normalise.remove_outliers", format!("must be > 0, got {o}")));
            }
        }
        if self.texture.glcm_distance == 0 {
            return Err(invalid("texture.glcm_distance", "must be at least 1".into()));
        }
        if self.texture.ngldm_distance == 0 {
            return Err(invalid("texture.ngldm_distance", "must be at least 1".into()));
        }
        if let Some(p) = &self.pyradiomics
            && (p.distances.is_empty() || p.distances.contains(&0))
        {
            return Err(invalid("pyradiomics.distances", format!("must be distances ≥ 1, got {:?}", p.distances)));
        }
        self.validate_filters()
    }

    /// Every filter builds, and no two give the same image type (their columns would clash).
    fn validate_filters(&self) -> Result<(), InvalidSetting> {
        let mut seen: Vec<String> = Vec::new();
        for (i, f) in self.filters.iter().enumerate() {
            // A plugin's filter is built once the plugins are loaded (`Extractor::new`).
            let image_type = match f.spec.plugin_image_type() {
                Some(image_type) => image_type,
                None => f
                    .spec
                    .build()
                    .map_err(|e| invalid("filter", format!("filter {} of {}: {e}", i + 1, self.filters.len())))?
                    .image_type(),
            };
            if seen.contains(&image_type) {
                return Err(invalid("filter", format!("two filters give the image type `{image_type}`; remove one")));
            }
            if let Some(Binning::FixedBinNumber { bins: 0 } | Binning::PyradiomicsBinCount { bins: 0 }) =
                &f.discretisation
            {
                return Err(invalid("filter", format!("`{image_type}`: discretisation bins must be at least 1")));
            }
            seen.push(image_type);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_yaml_give_the_same_settings() {
        let toml = r#"
label = 2
[resample]
spacing = [2.0, 2.0, 2.0]
image_interpolator = "cubic_spline"
round_intensities = true
[resegment]
range = [-1000.0, 400.0]
outlier_sigma = 3.0
[discretisation.texture]
method = "fixed_bin_size"
width = 25.0
[discretisation.ivh]
method = "fixed_bin_number"
bins = 1000
[texture]
aggregations = ["3d_avg", "3d_mrg"]
"#;
        let yaml = r#"
label: 2
resample: {spacing: [2.0, 2.0, 2.0], image_interpolator: cubic_spline, round_intensities: true}
resegment: {range: [-1000.0, 400.0], outlier_sigma: 3.0}
discretisation:
  texture: {method: fixed_bin_size, width: 25.0}
  ivh: {method: fixed_bin_number, bins: 1000}
texture: {aggregations: [3d_avg, 3d_mrg]}
"#;
        let a = Settings::from_toml_str(toml).unwrap();
        let b = Settings::from_yaml_str(yaml).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.label, 2);
        assert_eq!(a.texture.aggregations, vec![Aggregation::Avg3d, Aggregation::Merged3d]);
        assert_eq!(a.resample.as_ref().unwrap().mask_threshold, 0.5);
        assert_eq!(a.discretisation.texture, Binning::FixedBinSize { width: 25.0, lower_bound: None });
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Settings::from_toml_str("lable = 1\n").unwrap_err();
        assert!(err.to_string().contains("lable"), "{err}");
    }

    #[test]
    fn out_of_domain_values_are_refused() {
        let bad = |text: &str| Settings::from_toml_str(text).unwrap().validate().unwrap_err().key;
        assert_eq!(
            bad("[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = -25.0\n"),
            "discretisation.texture.width"
        );
        assert_eq!(
            bad("[discretisation.texture]\nmethod = \"fixed_bin_number\"\nbins = 0\n"),
            "discretisation.texture.bins"
        );
        assert_eq!(bad("[resample]\nspacing = [2.0, 0.0, 2.0]\n"), "resample.spacing");
        assert_eq!(bad("[resegment]\nrange = [400.0, -1000.0]\n"), "resegment.range");
        assert_eq!(bad("[pyradiomics]\ndistances = [1, 0]\n"), "pyradiomics.distances");
        assert_eq!(bad("[pyradiomics]\ndistances = []\n"), "pyradiomics.distances");
        let several = Settings::from_toml_str("[pyradiomics]\ndistances = [1, 2, 3]\n").unwrap();
        assert_eq!(several.pyradiomics.as_ref().map(|p| p.distances.clone()), Some(vec![1, 2, 3]));
        assert!(several.validate().is_ok());
        assert!(Settings::default().validate().is_ok());
    }

    #[test]
    fn messages_name_the_file_then_the_key() {
        let zero_distance =
            Settings { texture: Texture { glcm_distance: 0, ..Texture::default() }, ..Settings::default() };
        let source = zero_distance.validate().unwrap_err();
        let invalid = SettingsError::Invalid { path: "s.toml".into(), source };
        assert_eq!(invalid.to_string(), "s.toml: invalid setting `texture.glcm_distance`: must be at least 1");
        let unsupported =
            SettingsError::Unsupported { path: "p.yaml".into(), unsupported: vec!["a".into(), "b".into()] };
        assert_eq!(unsupported.to_string(), "p.yaml: unsupported PyRadiomics settings (--strict): a; b");
        let source = Settings::from_toml_str("lable = 1\n").unwrap_err();
        let parse = SettingsError::Parse { path: "s.toml".into(), source };
        assert!(parse.to_string().starts_with("s.toml: ") && !parse.to_string().ends_with('\n'), "{parse}");
    }
}

#[cfg(test)]
mod hostile_text {
    use super::*;

    /// Deeply nested flow collections and arrays must be parse errors, not a stack overflow.
    #[test]
    fn deep_nesting_is_an_error() {
        for depth in [1_000, 100_000] {
            let yaml = format!("label: {}1{}", "[".repeat(depth), "]".repeat(depth));
            assert!(Settings::from_yaml_str(&yaml).is_err());
            let yaml = format!("label: {}", "{a: ".repeat(depth));
            assert!(Settings::from_yaml_str(&yaml).is_err());
            let toml = format!("label = {}1{}", "[".repeat(depth), "]".repeat(depth));
            assert!(Settings::from_toml_str(&toml).is_err());
            let toml = format!("label = {}", "{a = ".repeat(depth));
            assert!(Settings::from_toml_str(&toml).is_err());
        }
    }

    /// YAML aliases that expand exponentially ("billion laughs") end quickly, in an error.
    #[test]
    fn alias_bombs_end_quickly() {
        let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            yaml.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        yaml.push_str("texture: {aggregations: *a11}\n");
        let start = std::time::Instant::now();
        assert!(Settings::from_yaml_str(&yaml).is_err());
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
    }
}
