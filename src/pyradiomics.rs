//! PyRadiomics compatibility: its parameter-file schema, its processing rules where they
//! depart from the IBSI (normalisation, re-segmentation modes, ROI size checks), the
//! sources its feature library (`features/pyradiomics/*.radx`) is written over, and its
//! output names (`original_<class>_<Feature>`).
//!
//! PyRadiomics computes GLCM and GLRLM features per angle and averages them (IBSI §3.6/3.7
//! "3D averaged", or per in-plane direction merged over slices with `force2D`), deletes
//! grey levels absent from the ROI from its matrices, and uses the present grey levels'
//! values as indices; GLSZM, GLDM and NGTDM are one matrix over the ROI (IBSI "merged").
//! Each `pyr_*` source below supplies exactly that, so the feature files only transcribe
//! PyRadiomics' formulas.

use std::collections::BTreeMap;

use radx_core::iter::{DIRECTIONS_2D, DIRECTIONS_3D};
use radx_core::matrix::glcm::{GlcmSettings, glcm_directions};
use radx_core::matrix::glrlm::glrlm_directions;
use radx_core::matrix::ngldm::{NgldmSettings, ngldm};
use radx_core::matrix::{Aggregation, DiscretisedRoi, TextureMatrix, glszm::glszm, ngtdm::ngtdm};
use radx_core::morphology::enclosing::max_squared_distance_2d;
use radx_core::roi::Roi;
use radx_core::sources::histogram;
use radx_core::{CoreError, Volume};
use radx_dsl::{BuiltinImpl, BuiltinSpec, Registry, SourceData, SourceSchema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::extract::FeatureRow;
use crate::pipeline::ProcessedCase;
use crate::settings::{Binning, Interpolator, Normalise, Resample, ResegmentMode, Settings};

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
    /// GLCM/GLRLM angle weighting (`weightingNorm`): the weighted matrices are summed and
    /// the features computed once; absent = features averaged over the angles.
    pub weighting_norm: Option<WeightingNorm>,
    /// Smallest number of dimensions with more than one voxel (`minimumROIDimensions`).
    pub minimum_roi_dimensions: usize,
    /// Smallest number of ROI voxels (`minimumROISize`).
    pub minimum_roi_size: Option<usize>,
    /// Feature classes to compute, each with its features (empty = all) (`featureClass`);
    /// absent = every class.
    pub feature_classes: Option<BTreeMap<String, Vec<String>>>,
    /// Voxels of the new grid added around the ROI's bounding box when resampling
    /// (`padDistance`).
    pub pad_distance: f64,
}

impl Default for PyradiomicsOptions {
    fn default() -> Self {
        PyradiomicsOptions {
            voxel_array_shift: 0.0,
            force_2d: false,
            weighting_norm: None,
            minimum_roi_dimensions: 1,
            minimum_roi_size: None,
            feature_classes: None,
            pad_distance: 5.0,
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
    fn weight(self, offset: [i32; 3], spacing: [f64; 3]) -> f64 {
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

/// Whole-image normalisation as SimpleITK's `Normalize` (mean and *sample* standard
/// deviation of every voxel), then PyRadiomics' outlier clipping and scale.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for a constant image (σ = 0).
pub fn normalise_image(image: &Volume<f64>, n: &Normalise) -> Result<Volume<f64>, CoreError> {
    let count = image.data.len() as f64;
    let mean = image.data.iter().sum::<f64>() / count;
    let variance = image.data.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1.0);
    let sigma = variance.sqrt();
    if sigma.is_nan() || sigma <= 0.0 {
        return Err(CoreError::InvalidSetting {
            name: "normalise",
            reason: "the image is constant: it cannot be normalised (σ = 0)".into(),
        });
    }
    Ok(image.map(|&v| {
        let mut z = (v - mean) / sigma;
        if let Some(o) = n.remove_outliers {
            z = z.clamp(-o, o);
        }
        z * n.scale
    }))
}

/// The grid PyRadiomics resamples onto (`imageoperations.resampleImage`): spacing
/// `spacing` (a 0 keeps the original spacing), aligned to the *ROI's bounding box*, not to
/// the image: in new-grid units the box runs from `⌊(min − ½)·r − pad⌋` to
/// `⌈(max + ½)·r + pad⌉` (r = old / new spacing, `pad` = `padDistance` voxels), clipped to
/// `[0, ⌈n·r⌉ − 1]`; new voxel `i` sits at the original continuous index
/// `½(new − old)/old + (lower + i)/r`, i.e. the new grid's corner coincides with the image's.
///
/// # Errors
/// [`CoreError::EmptyRoi`] when `mask` selects nothing; [`CoreError::InvalidSetting`] for a
/// negative or non-finite spacing.
pub fn resampling_grid(
    image: &radx_core::Grid,
    mask: &Volume<bool>,
    spacing: [f64; 3],
    pad_distance: f64,
) -> Result<radx_core::Grid, CoreError> {
    if spacing.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(CoreError::InvalidSetting {
            name: "resampledPixelSpacing",
            reason: format!("every spacing must be a finite number ≥ 0 (0 keeps the original), got {spacing:?}"),
        });
    }
    let bbox = radx_core::BoundingBox::of_mask(&mask.data).ok_or_else(|| CoreError::EmptyRoi(String::new()))?;
    let old = image.spacing;
    let new: [f64; 3] = std::array::from_fn(|k| if spacing[k] == 0.0 { old[k] } else { spacing[k] });
    let mut dims = [0usize; 3];
    let mut origin_index = [0.0; 3];
    for k in 0..3 {
        let ratio = old[k] / new[k];
        let max_upper = (image.dims[k] as f64 * ratio).ceil() - 1.0;
        let lower = ((bbox.min[k] as f64 - 0.5) * ratio - pad_distance).floor().max(0.0);
        let upper = ((bbox.max[k] as f64 + 0.5) * ratio + pad_distance).ceil().min(max_upper);
        dims[k] = (upper - lower + 1.0).max(1.0) as usize;
        origin_index[k] = 0.5 * (new[k] - old[k]) / old[k] + lower / ratio;
    }
    Ok(radx_core::Grid { dims, spacing: new, origin: image.index_to_world(origin_index), direction: image.direction })
}

/// PyRadiomics' resampling: the image with the settings' interpolator (SimpleITK's
/// `sitkBSpline` is, like radx's `cubic_spline`, a prefiltered cubic B-spline) and the mask
/// by nearest neighbour, onto [`resampling_grid`]. SimpleITK writes the image in its own
/// pixel type: when every input intensity is an integer (an integer image type), the
/// resampled intensities are cast to integers the way ITK does (truncated toward zero).
///
/// # Errors
/// As [`resampling_grid`] and `resample::resample_image`.
pub fn resample(
    image: &Volume<f64>,
    mask: &Volume<bool>,
    r: &Resample,
    pad_distance: f64,
) -> Result<(Volume<f64>, Volume<bool>), CoreError> {
    use radx_core::processing::resample;
    let target = resampling_grid(&image.grid, mask, r.spacing, pad_distance)?;
    let mut resampled = resample::resample_image(image, &target, crate::pipeline::kernel(r.image_interpolator))?;
    if image.data.iter().all(|v| v.fract() == 0.0) {
        resampled.data.mapv_inplace(f64::trunc);
    }
    let resampled_mask = resample::resample_mask(mask, &target, resample::Interpolator::Nearest, 0.5)?;
    Ok((resampled, resampled_mask))
}

/// The absolute re-segmentation bounds of `bounds` read in `mode` on the ROI's current
/// intensity mask (PyRadiomics `resegmentMask`).
pub fn resegment_bounds(roi: &Roi, bounds: [f64; 2], mode: ResegmentMode) -> [f64; 2] {
    match mode {
        ResegmentMode::Absolute => bounds,
        ResegmentMode::Relative => {
            let max = roi.intensities().into_iter().fold(f64::NEG_INFINITY, f64::max);
            bounds.map(|t| if t.is_finite() { t * max } else { t })
        }
        ResegmentMode::Sigma => {
            let x = roi.intensities();
            let n = x.len() as f64;
            let mean = x.iter().sum::<f64>() / n;
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            bounds.map(|t| if t.is_finite() { mean + sd * t } else { t })
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parameter files

/// A PyRadiomics parameter file mapped onto radx settings, with what could not be mapped.
#[derive(Debug, Clone)]
pub struct ParamsFile {
    /// The settings (with [`Settings::pyradiomics`] set).
    pub settings: Settings,
    /// One message per key or value radx does not support, naming it.
    pub unsupported: Vec<String>,
}

/// True when YAML/JSON text uses PyRadiomics' schema (a top-level `setting`,
/// `featureClass` or `imageType` key).
pub fn is_params_schema(text: &str) -> bool {
    serde_saphyr::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.as_object().map(|o| ["setting", "featureClass", "imageType"].iter().any(|k| o.contains_key(*k)))
        })
        .unwrap_or(false)
}

/// Keys of `setting:` that have no effect on values computed on the original image and
/// are accepted silently: radx crops with its own margin and reports no diagnostics.
const NO_EFFECT_KEYS: &[&str] = &["additionalInfo", "preCrop", "enableCExtensions"];

/// Map a PyRadiomics parameter file onto radx settings.
///
/// # Errors
/// A message naming the key when the text is not YAML or a supported key has a value of the
/// wrong type.
pub fn parse_params(text: &str) -> Result<ParamsFile, String> {
    let doc: Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let top = doc.as_object().ok_or("a PyRadiomics parameter file is a mapping")?;
    let mut settings = Settings::default();
    let mut options = PyradiomicsOptions::default();
    let mut unsupported = Vec::new();
    settings.discretisation.texture = Binning::PyradiomicsBinWidth { width: 25.0 };
    settings.texture.aggregations = Vec::new();

    for key in top.keys() {
        if !["setting", "featureClass", "imageType", "voxelSetting"].contains(&key.as_str()) {
            unsupported.push(format!("top-level key `{key}` is not part of PyRadiomics' schema"));
        }
    }
    if top.contains_key("voxelSetting") {
        unsupported.push("`voxelSetting`: voxel-based extraction is not supported".into());
    }
    if let Some(image_types) = top.get("imageType").and_then(Value::as_object) {
        for (name, value) in image_types {
            if name != "Original" {
                unsupported.push(format!("imageType `{name}`: only `Original` is supported"));
            } else if value.as_object().is_some_and(|o| !o.is_empty()) {
                unsupported.push("imageType `Original` takes no settings here; its settings are ignored".into());
            }
        }
    }
    if let Some(classes) = top.get("featureClass").and_then(Value::as_object) {
        let mut selected = BTreeMap::new();
        for (class, features) in classes {
            if !CLASSES.contains(&class.as_str()) {
                unsupported.push(format!("featureClass `{class}` is not in radx's PyRadiomics library"));
                continue;
            }
            let list: Vec<String> = match features {
                Value::Array(a) => a.iter().filter_map(|f| f.as_str().map(str::to_string)).collect(),
                _ => Vec::new(),
            };
            selected.insert(class.clone(), list);
        }
        options.feature_classes = Some(selected);
    }

    let empty = serde_json::Map::new();
    let setting = top.get("setting").and_then(Value::as_object).unwrap_or(&empty);
    let num = |key: &str, v: &Value| v.as_f64().ok_or_else(|| format!("setting `{key}`: expected a number, got {v}"));
    let mut resample_spacing: Option<Vec<f64>> = None;
    let mut interpolator = Interpolator::CubicSpline;
    let mut normalise: Option<Normalise> = None;
    let mut normalize_scale = 1.0;
    let mut remove_outliers = None;
    let mut bin_count = None;
    let mut bin_width = 25.0;
    for (key, value) in setting {
        if value.is_null() {
            // PyRadiomics' way of writing "default".
            continue;
        }
        match key.as_str() {
            "binWidth" => bin_width = num(key, value)?,
            "binCount" => bin_count = Some(num(key, value)? as usize),
            "label" => settings.label = num(key, value)? as i64,
            "interpolator" => {
                interpolator = match value.as_str().unwrap_or_default() {
                    "sitkBSpline" => Interpolator::CubicSpline,
                    "sitkLinear" => Interpolator::Linear,
                    "sitkNearestNeighbor" => Interpolator::Nearest,
                    other => {
                        unsupported.push(format!("setting `interpolator`: `{other}` is not supported"));
                        Interpolator::CubicSpline
                    }
                }
            }
            "resampledPixelSpacing" => {
                let spacing: Vec<f64> =
                    value.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
                if spacing.len() != 3 {
                    return Err(format!("setting `resampledPixelSpacing`: expected 3 numbers, got {value}"));
                }
                resample_spacing = Some(spacing);
            }
            "normalize" => {
                if value.as_bool().unwrap_or(false) {
                    normalise = Some(Normalise { scale: 1.0, remove_outliers: None });
                }
            }
            "normalizeScale" => normalize_scale = num(key, value)?,
            "removeOutliers" => remove_outliers = Some(num(key, value)?),
            "resegmentRange" => {
                let bounds: Vec<f64> =
                    value.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
                settings.resegment.range = match bounds.as_slice() {
                    [lo] => Some([*lo, f64::INFINITY]),
                    [lo, hi] => Some([*lo, *hi]),
                    _ => return Err(format!("setting `resegmentRange`: expected 1 or 2 numbers, got {value}")),
                };
            }
            "resegmentMode" => {
                settings.resegment.mode = match value.as_str().unwrap_or_default() {
                    "absolute" => ResegmentMode::Absolute,
                    "relative" => ResegmentMode::Relative,
                    "sigma" => ResegmentMode::Sigma,
                    other => return Err(format!("setting `resegmentMode`: unknown mode `{other}`")),
                }
            }
            "resegmentShape" => settings.resegment.shape = value.as_bool().unwrap_or(false),
            "force2D" => options.force_2d = value.as_bool().unwrap_or(false),
            "force2Ddimension" => {
                if num(key, value)? != 0.0 {
                    unsupported.push(format!(
                        "setting `force2Ddimension`: {value} is not supported (only 0: slices of constant z)"
                    ));
                }
            }
            "distances" => {
                let d: Vec<f64> =
                    value.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
                match d.as_slice() {
                    [one] if *one >= 1.0 => {
                        settings.texture.glcm_distance = *one as usize;
                        settings.texture.ngldm_distance = *one as usize;
                    }
                    _ => unsupported
                        .push(format!("setting `distances`: only a single distance is supported, got {value}")),
                }
            }
            "symmetricalGLCM" => settings.texture.glcm_symmetric = value.as_bool().unwrap_or(true),
            "weightingNorm" => {
                options.weighting_norm = Some(match value.as_str().unwrap_or_default() {
                    "infinity" => WeightingNorm::Infinity,
                    "euclidean" => WeightingNorm::Euclidean,
                    "manhattan" => WeightingNorm::Manhattan,
                    // PyRadiomics: any other value warns and weighs by 1.
                    _ => WeightingNorm::NoWeighting,
                })
            }
            "gldm_a" => settings.texture.ngldm_alpha = num(key, value)?.floor().max(0.0) as u16,
            "voxelArrayShift" => options.voxel_array_shift = num(key, value)?,
            "minimumROIDimensions" => options.minimum_roi_dimensions = num(key, value)? as usize,
            "minimumROISize" => options.minimum_roi_size = Some(num(key, value)? as usize),
            "padDistance" => options.pad_distance = num(key, value)?.max(0.0),
            k if NO_EFFECT_KEYS.contains(&k) => {}
            other => unsupported.push(format!("setting `{other}` is not supported")),
        }
    }
    settings.discretisation.texture = match bin_count {
        Some(bins) => Binning::PyradiomicsBinCount { bins },
        None => Binning::PyradiomicsBinWidth { width: bin_width },
    };
    if let Some(mut n) = normalise {
        n.scale = normalize_scale;
        n.remove_outliers = remove_outliers;
        settings.normalise = Some(n);
    }
    if let Some(spacing) = resample_spacing {
        settings.resample = Some(Resample {
            spacing: [spacing[0], spacing[1], spacing[2]],
            in_plane_only: false,
            image_interpolator: interpolator,
            mask_interpolator: Interpolator::Nearest,
            mask_threshold: 0.5,
            round_intensities: false,
        });
    }
    settings.pyradiomics = Some(options);
    Ok(ParamsFile { settings, unsupported })
}

// ---------------------------------------------------------------------------------------
// Feature library, sources, names

/// The PyRadiomics library, embedded: (file name, text).
pub const LIBRARY: &[(&str, &str)] = &[
    ("features/pyradiomics/firstorder.radx", include_str!("../features/pyradiomics/firstorder.radx")),
    ("features/pyradiomics/shape.radx", include_str!("../features/pyradiomics/shape.radx")),
    ("features/pyradiomics/shape2D.radx", include_str!("../features/pyradiomics/shape2D.radx")),
    ("features/pyradiomics/glcm.radx", include_str!("../features/pyradiomics/glcm.radx")),
    ("features/pyradiomics/glrlm.radx", include_str!("../features/pyradiomics/glrlm.radx")),
    ("features/pyradiomics/glszm.radx", include_str!("../features/pyradiomics/glszm.radx")),
    ("features/pyradiomics/gldm.radx", include_str!("../features/pyradiomics/gldm.radx")),
    ("features/pyradiomics/ngtdm.radx", include_str!("../features/pyradiomics/ngtdm.radx")),
];

/// PyRadiomics feature classes radx's library has.
pub const CLASSES: &[&str] = &["firstorder", "shape", "shape2D", "glcm", "glrlm", "glszm", "gldm", "ngtdm"];

/// Declare the `pyr_*` sources.
pub fn register_sources(r: &mut Registry) {
    let level = "grey level present in the ROI (PyRadiomics deletes absent levels); values are the levels";
    r.register_source(
        SourceSchema::new("pyr_glcm", "PyRadiomics GLCM: one normalised matrix per angle (features averaged)")
            .axis("level", level)
            .array("p", &["level", "level"], "joint probability p(i,j) of the angle")
            .scalar("Ng", "highest grey level present (PyRadiomics' N_g)"),
    );
    for (name, array, second, what) in [
        ("pyr_glrlm", "r", "run", "PyRadiomics GLRLM: one matrix per angle (features averaged)"),
        ("pyr_glszm", "s", "size", "PyRadiomics GLSZM: one matrix over the ROI"),
        ("pyr_gldm", "d", "dependence", "PyRadiomics GLDM: one matrix over the ROI"),
    ] {
        r.register_source(
            SourceSchema::new(name, what)
                .axis("level", level)
                .axis(second, "values of the second index that occur")
                .array(array, &["level", second], "raw counts P(i,j)")
                .scalar("Nz", "sum of all counts (N_r runs, N_z zones)")
                .scalar("Np", "number of voxels the matrix covers (Σ P(i,j)·j for runs)"),
        );
    }
    r.register_source(
        SourceSchema::new("pyr_ngtdm", "PyRadiomics NGTDM: one matrix over the ROI")
            .axis("level", level)
            .array("n", &["level"], "voxels of level i with at least one neighbour")
            .array("s", &["level"], "Σ |i − mean neighbour level|")
            .array("p", &["level"], "n_i / Nvp")
            .scalar("Nvp", "voxels with a valid neighbourhood")
            .scalar("Ngp", "grey levels present"),
    );
    r.register_source(
        SourceSchema::new(
            "pyr_firstorder",
            "PyRadiomics first order: raw ROI intensities and the discretised histogram",
        )
        .axis("voxel", "ROI voxel; values 1..N")
        .axis("level", "discretised grey level present")
        .array("x", &["voxel"], "intensity of each ROI voxel")
        .array("h", &["level"], "voxels per discretised level")
        .scalar("N", "number of ROI voxels")
        .scalar("shift", "voxelArrayShift")
        .scalar("voxel_volume", "volume of one voxel (mm³)"),
    );
    r.register_source(
        SourceSchema::new(
            "pyr_shape",
            "PyRadiomics shape: mesh, voxel and PCA quantities of the ROI (builtins as scalars)",
        )
        .scalar("Np", "number of ROI voxels")
        .scalar("voxel_volume", "volume of one voxel (mm³)")
        .scalar("mesh_volume", "marching-cubes volume as PyRadiomics sums it cube by cube (mm³)")
        .scalar("mesh_area", "marching-cubes area as PyRadiomics sums it cube by cube (mm²)")
        .scalar("lambda_major", "largest eigenvalue of the population covariance of the voxel centres (mm²)")
        .scalar("lambda_minor", "second eigenvalue")
        .scalar("lambda_least", "smallest eigenvalue")
        .scalar("max_3d", "largest distance between mesh vertices (mm)")
        .scalar("max_2d_slice", "largest distance between mesh vertices of one axial plane (constant z)")
        .scalar("max_2d_column", "largest distance between mesh vertices of one coronal plane (constant y)")
        .scalar("max_2d_row", "largest distance between mesh vertices of one sagittal plane (constant x)"),
    );
    r.register_source(
        SourceSchema::new(
            "pyr_shape2D",
            "PyRadiomics shape2D: marching-squares contour and PCA of a ROI in one slice (force2D)",
        )
        .scalar("Np", "number of ROI pixels")
        .scalar("pixel_area", "area of one pixel (mm²)")
        .scalar("mesh_surface", "area enclosed by the marching-squares contour (mm²)")
        .scalar("perimeter", "length of the marching-squares contour (mm)")
        .scalar("max_diameter", "largest distance between contour vertices (mm)")
        .scalar("lambda_major", "larger eigenvalue of the population covariance of the pixel centres (mm²)")
        .scalar("lambda_minor", "smaller eigenvalue"),
    );
    register_builtins(r);
}

/// `pyr_shape2D` data: PyRadiomics' 2D shape of a ROI lying in one slice of constant z.
fn shape_2d_source(case: &ProcessedCase) -> Result<Vec<SourceData>, String> {
    let mask = &case.roi.morphological;
    let [sx, sy, _] = case.roi.image.grid.spacing;
    let bbox = radx_core::BoundingBox::of_mask(mask).ok_or("the ROI is empty")?;
    let slices = bbox.dims()[2];
    if slices != 1 {
        return Err(format!(
            "PyRadiomics' shape2D needs a ROI in one slice of constant z (force2D), but this ROI spans {slices} slices"
        ));
    }
    let slice = mask.index_axis(ndarray::Axis(2), bbox.min[2]).to_owned();
    let contour = radx_core::morphology::contour::pyradiomics_contour_2d(&slice, [sx, sy]).ok_or("the ROI is empty")?;
    // Population covariance of the pixel centres (PyRadiomics divides by N), then the
    // eigenvalues of the symmetric 2×2 matrix in closed form.
    let points: Vec<[f64; 2]> =
        slice.indexed_iter().filter(|(_, m)| **m).map(|((x, y), _)| [x as f64 * sx, y as f64 * sy]).collect();
    let n = points.len() as f64;
    let mean = [0, 1].map(|k| points.iter().map(|p| p[k]).sum::<f64>() / n);
    let cov = |i: usize, j: usize| points.iter().map(|p| (p[i] - mean[i]) * (p[j] - mean[j])).sum::<f64>() / n;
    let (cxx, cxy, cyy) = (cov(0, 0), cov(0, 1), cov(1, 1));
    let half_trace = (cxx + cyy) / 2.0;
    let spread = (((cxx - cyy) / 2.0).powi(2) + cxy * cxy).sqrt();
    Ok(vec![
        SourceData::new()
            .with_scalar("Np", n)
            .with_scalar("pixel_area", sx * sy)
            .with_scalar("mesh_surface", contour.area)
            .with_scalar("perimeter", contour.perimeter)
            .with_scalar("max_diameter", contour.max_diameter)
            .with_scalar("lambda_major", half_trace + spread)
            // Rounding can make a zero eigenvalue slightly negative (PyRadiomics sets those to 0).
            .with_scalar("lambda_minor", (half_trace - spread).max(0.0)),
    ])
}

/// `pyr_shape` data of the morphological `mask` from its IBSI surface mesh (the diameters
/// come from its vertices, which PyRadiomics' mesh shares), the mesh's largest vertex
/// distance and the voxel centres' covariance eigenvalues (radx's, divided by N − 1).
pub(crate) fn shape_source(
    mask: &ndarray::Array3<bool>,
    spacing: [f64; 3],
    mesh: &radx_core::morphology::Mesh,
    max_3d: f64,
    pca: [f64; 3],
) -> SourceData {
    let n = radx_core::volume::count_true(mask) as f64;
    // Volume and area as PyRadiomics sums them (its own case table).
    let (mesh_volume, mesh_area) = radx_core::morphology::mesh::pyradiomics_volume_area(mask, spacing);
    // radx's PCA divides by N − 1; PyRadiomics' by N.
    let lambda = pca.map(|l| l * (n - 1.0) / n);
    SourceData::new()
        .with_scalar("Np", n)
        .with_scalar("voxel_volume", spacing.iter().product())
        .with_scalar("mesh_volume", mesh_volume)
        .with_scalar("mesh_area", mesh_area)
        .with_scalar("lambda_major", lambda[0])
        .with_scalar("lambda_minor", lambda[1])
        .with_scalar("lambda_least", lambda[2])
        .with_scalar("max_3d", max_3d)
        .with_scalar("max_2d_slice", max_plane_diameter(mesh, 2))
        .with_scalar("max_2d_column", max_plane_diameter(mesh, 1))
        .with_scalar("max_2d_row", max_plane_diameter(mesh, 0))
}

/// Largest distance between two mesh vertices that share the doubled-index coordinate
/// `axis` (PyRadiomics' 2D diameters). Within a plane the distance is that of the other two
/// coordinates, so each plane's farthest pair is found among its 2D hull's vertices.
fn max_plane_diameter(mesh: &radx_core::morphology::Mesh, axis: usize) -> f64 {
    let keys = mesh.half_index_vertices();
    let [u, v] = match axis {
        0 => [1, 2],
        1 => [0, 2],
        _ => [0, 1],
    };
    let mut planes: BTreeMap<i64, Vec<[f64; 2]>> = BTreeMap::new();
    for (key, p) in keys.iter().zip(&mesh.vertices) {
        planes.entry(key[axis]).or_default().push([p[u], p[v]]);
    }
    planes.values().map(|points| max_squared_distance_2d(points)).fold(0.0f64, f64::max).sqrt()
}

/// Declare the builtins of the `pyr_*` sources.
fn register_builtins(r: &mut Registry) {
    r.register_builtin(BuiltinSpec {
        name: "mcc".into(),
        args: Vec::new(),
        doc: "maximal correlation coefficient of this angle's p: √(second largest eigenvalue of Q)".into(),
        source: Some("pyr_glcm".into()),
        implementation: BuiltinImpl::GlcmMcc,
    });
}

/// Grey levels present in the intensity mask, ascending, from its histogram (`counts[l - 1]`
/// voxels of level `l`, [`histogram`]).
fn present_levels(counts: &[f64]) -> Vec<u16> {
    (1..=counts.len()).filter(|&l| counts[l - 1] > 0.0).map(|l| l as u16).collect()
}

fn axis(values: &[u16]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

/// Source data of a `pyr_*` source, `None` for another source. `Err` when a matrix cannot
/// be built. Texture matrices are built on `levels`: the case's, or the same cut to the
/// ROI's box ([`DiscretisedRoi::cropped_to_voxels`]). `pyr_shape` is taken from `shape` (the
/// case's) when it was computed while the image was read.
pub fn build_source(
    source: &str,
    case: &ProcessedCase,
    levels: &DiscretisedRoi,
    shape: &crate::shape::Shape,
    settings: &Settings,
) -> Option<Result<Vec<SourceData>, String>> {
    // Every source here is named pyr_…; the others (builtin-only sources) skip the scans below.
    if !source.starts_with("pyr_") {
        return None;
    }
    let options = settings.pyradiomics.clone().unwrap_or_default();
    let roi = levels;
    let level_counts = histogram(roi);
    let present = present_levels(&level_counts);
    let zone_aggregation = if options.force_2d { Aggregation::Merged2_5d } else { Aggregation::Merged3d };
    let directions: Vec<[i32; 3]> = if options.force_2d { DIRECTIONS_2D.to_vec() } else { DIRECTIONS_3D.to_vec() };
    let result = match source {
        "pyr_glcm" => {
            let glcm_settings =
                GlcmSettings { distance: settings.texture.glcm_distance, symmetric: settings.texture.glcm_symmetric };
            if let Err(e) = glcm_settings.validate() {
                return Some(Err(e.to_string()));
            }
            let per_angle: Vec<([i32; 3], Vec<f64>)> = directions
                .iter()
                .zip(glcm_directions(roi, &glcm_settings, None, &directions))
                .map(|(&d, m)| {
                    (d, m.map(|m| square_present(&m, &present)).unwrap_or_else(|| vec![0.0; present.len().pow(2)]))
                })
                .collect();
            let matrices = weighted(per_angle, options.weighting_norm, settings.texture.glcm_distance, roi.spacing);
            Ok(matrices
                .into_iter()
                .map(|counts| {
                    let total: f64 = counts.iter().sum();
                    SourceData::new()
                        .with_axis("level", axis(&present))
                        .with_array("p", vec![present.len(), present.len()], counts.iter().map(|c| c / total).collect())
                        .with_scalar("Ng", f64::from(present.last().copied().unwrap_or(1)))
                })
                .collect())
        }
        "pyr_glrlm" => {
            let max_run = roi.levels.dim().0.max(roi.levels.dim().1).max(roi.levels.dim().2);
            let per_angle: Vec<([i32; 3], Vec<f64>)> = directions
                .iter()
                .zip(glrlm_directions(roi, None, &directions))
                .map(|(&d, m)| {
                    let mut dense = vec![0.0; present.len() * max_run];
                    if let Some(m) = m {
                        for (g, run, count) in m.nonzero() {
                            if let Some(row) = present.iter().position(|&l| usize::from(l) == g) {
                                dense[row * max_run + run as usize - 1] += count;
                            }
                        }
                    }
                    (d, dense)
                })
                .collect();
            let matrices = weighted(per_angle, options.weighting_norm, 1, roi.spacing);
            // Keep the run lengths that occur in some angle (PyRadiomics deletes the others).
            let runs: Vec<usize> = (0..max_run)
                .filter(|&c| matrices.iter().any(|m| (0..present.len()).any(|r| m[r * max_run + c] > 0.0)))
                .collect();
            Ok(matrices
                .into_iter()
                .map(|m| {
                    let data: Vec<f64> = (0..present.len())
                        .flat_map(|r| runs.iter().map(move |&c| (r, c)))
                        .map(|(r, c)| m[r * max_run + c])
                        .collect();
                    let nr: f64 = data.iter().sum();
                    let np: f64 = (0..present.len())
                        .flat_map(|r| runs.iter().map(move |&c| (r, c)))
                        .map(|(r, c)| m[r * max_run + c] * (c + 1) as f64)
                        .sum();
                    SourceData::new()
                        .with_axis("level", axis(&present))
                        .with_axis("run", runs.iter().map(|&c| (c + 1) as f64).collect())
                        .with_array("r", vec![present.len(), runs.len()], data)
                        .with_scalar("Nz", nr)
                        .with_scalar("Np", np)
                })
                .collect())
        }
        "pyr_glszm" => glszm(roi, zone_aggregation)
            .map_err(|e| e.to_string())
            .map(|ms| ms.iter().map(|m| zone_data(m, &present, "s", "size")).collect()),
        "pyr_gldm" => {
            let ngldm_settings =
                NgldmSettings { alpha: settings.texture.ngldm_alpha, distance: settings.texture.ngldm_distance };
            ngldm(roi, ngldm_settings, zone_aggregation)
                .map_err(|e| e.to_string())
                .map(|ms| ms.iter().map(|m| zone_data(m, &present, "d", "dependence")).collect())
        }
        "pyr_ngtdm" => ngtdm(roi, zone_aggregation).map_err(|e| e.to_string()).map(|ms| {
            ms.iter()
                .map(|m| {
                    let rows: Vec<usize> = (0..m.n.len()).filter(|&r| m.n[r] > 0.0).collect();
                    let n: Vec<f64> = rows.iter().map(|&r| m.n[r]).collect();
                    let s: Vec<f64> = rows.iter().map(|&r| m.s[r]).collect();
                    let p: Vec<f64> = n.iter().map(|v| v / m.n_voxels).collect();
                    SourceData::new()
                        .with_axis("level", rows.iter().map(|&r| (r + 1) as f64).collect())
                        .with_array("n", vec![rows.len()], n)
                        .with_array("s", vec![rows.len()], s)
                        .with_array("p", vec![rows.len()], p)
                        .with_scalar("Nvp", m.n_voxels)
                        .with_scalar("Ngp", rows.len() as f64)
                })
                .collect()
        }),
        "pyr_firstorder" => {
            let x = case.roi.intensities();
            let h: Vec<f64> = present.iter().map(|&l| level_counts[usize::from(l) - 1]).collect();
            let n = x.len();
            let spacing = case.roi.image.grid.spacing;
            Ok(vec![
                SourceData::new()
                    .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
                    .with_axis("level", axis(&present))
                    .with_array("x", vec![n], x)
                    .with_array("h", vec![present.len()], h)
                    .with_scalar("N", n as f64)
                    .with_scalar("shift", options.voxel_array_shift)
                    .with_scalar("voxel_volume", spacing.iter().product()),
            ])
        }
        "pyr_shape" => Ok(vec![match shape.pyradiomics_if_computed() {
            Some(data) => data.clone(),
            None => {
                let mask = &case.roi.morphological;
                let spacing = case.roi.image.grid.spacing;
                let mesh = radx_core::morphology::surface_mesh(mask, spacing);
                let max_3d = radx_core::morphology::ConvexHull::of_mesh(&mesh).max_diameter();
                shape_source(mask, spacing, &mesh, max_3d, radx_core::morphology::pca_eigenvalues(mask, spacing))
            }
        }]),
        "pyr_shape2D" => shape_2d_source(case),
        _ => return None,
    };
    Some(result)
}

/// The GLCM rows and columns of the present grey levels, row-major.
fn square_present(m: &TextureMatrix, present: &[u16]) -> Vec<f64> {
    let mut out = Vec::with_capacity(present.len().pow(2));
    for &i in present {
        for &j in present {
            out.push(m.counts[[usize::from(i) - 1, usize::from(j) - 1]]);
        }
    }
    out
}

/// Per-angle matrices, or with a weighting norm their weighted sum; empty angles dropped
/// (PyRadiomics deletes them).
fn weighted(
    per_angle: Vec<([i32; 3], Vec<f64>)>,
    norm: Option<WeightingNorm>,
    distance: usize,
    spacing: [f64; 3],
) -> Vec<Vec<f64>> {
    match norm {
        None => per_angle.into_iter().map(|(_, m)| m).filter(|m| m.iter().any(|&v| v > 0.0)).collect(),
        Some(norm) => {
            let len = per_angle.first().map_or(0, |(_, m)| m.len());
            let mut sum = vec![0.0; len];
            for (d, m) in &per_angle {
                let offset = d.map(|c| c * distance as i32);
                let w = norm.weight(offset, spacing);
                for (s, v) in sum.iter_mut().zip(m) {
                    *s += w * v;
                }
            }
            if sum.iter().any(|&v| v > 0.0) { vec![sum] } else { Vec::new() }
        }
    }
}

/// GLSZM / GLDM source data on the present grey levels.
fn zone_data(m: &TextureMatrix, present: &[u16], array: &str, second: &str) -> SourceData {
    let cols = m.col_values.len();
    let data: Vec<f64> = present
        .iter()
        .flat_map(|&l| (0..cols).map(move |c| (usize::from(l) - 1, c)))
        .map(|(r, c)| m.counts[[r, c]])
        .collect();
    SourceData::new()
        .with_axis("level", axis(present))
        .with_axis(second, m.col_values.clone())
        .with_array(array, vec![present.len(), cols], data)
        .with_scalar("Nz", m.counts.sum())
        .with_scalar("Np", m.n_voxels)
}

/// PyRadiomics' output name of a row of its library: `original_<class>_<Feature>`; the
/// feature's tag holds PyRadiomics' name (which may start with a digit, `10Percentile`).
pub fn output_name(row: &FeatureRow) -> String {
    format!("original_{}_{}", row.family, row.tag)
}

/// Keep the rows of the classes and features a parameter file's `featureClass` selects.
///
/// Without `featureClass` every class is kept, except `shape2D` without `force2D`:
/// PyRadiomics computes 2D shape only on a 2D or force2D extraction.
pub fn select_rows(rows: Vec<FeatureRow>, settings: &Settings) -> Vec<FeatureRow> {
    let Some(classes) = settings.pyradiomics.as_ref().and_then(|p| p.feature_classes.as_ref()) else {
        let force_2d = settings.pyradiomics.as_ref().is_some_and(|p| p.force_2d);
        return rows.into_iter().filter(|r| force_2d || r.family != "shape2D").collect();
    };
    rows.into_iter()
        .filter(|r| classes.get(&r.family).is_some_and(|features| features.is_empty() || features.contains(&r.tag)))
        .collect()
}

/// Read a settings file: PyRadiomics' schema when the file is YAML/JSON with a `setting`,
/// `featureClass` or `imageType` key, radx's own otherwise. Every PyRadiomics key radx does
/// not support is printed on stderr as a warning naming it, or with `strict` is an error.
///
/// # Errors
/// [`crate::Error::Settings`] when the file cannot be read or parsed, a value is invalid,
/// or (`strict`) a key is not supported.
pub fn load_settings(path: &std::path::Path, strict: bool) -> Result<Settings, crate::Error> {
    use crate::settings::SettingsError;
    let shown = path.display().to_string();
    let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"));
    if !is_yaml {
        return Ok(Settings::from_file(path)?);
    }
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read { path: shown.clone(), source })?;
    if !is_params_schema(&text) {
        return Ok(Settings::from_file(path)?);
    }
    let parsed = parse_params(&text).map_err(|message| SettingsError::Parse { path: shown.clone(), message })?;
    if strict && !parsed.unsupported.is_empty() {
        return Err(SettingsError::Parse {
            path: shown,
            message: format!("unsupported PyRadiomics settings (--strict): {}", parsed.unsupported.join("; ")),
        }
        .into());
    }
    for message in &parsed.unsupported {
        eprintln!("warning: {shown}: {message}; ignored");
    }
    parsed.settings.validate().map_err(|(key, reason)| SettingsError::Invalid { path: shown, key, reason })?;
    Ok(parsed.settings)
}

/// Rename rows to PyRadiomics' output names (`original_<class>_<Feature>`, aggregation `-`).
///
/// # Errors
/// A message when a row does not come from the PyRadiomics library.
pub fn rename_rows(rows: &mut [FeatureRow]) {
    // Rows of other families (user feature files, plugins) keep their names.
    for row in rows.iter_mut().filter(|r| CLASSES.contains(&r.family.as_str())) {
        row.feature = output_name(row);
        row.aggregation = "-".into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ParamsFile {
        parse_params(text).unwrap()
    }

    #[test]
    fn schema_is_detected_by_its_top_level_keys() {
        assert!(is_params_schema("setting:\n  binWidth: 10\n"));
        assert!(is_params_schema("imageType:\n  Original: {}\n"));
        assert!(is_params_schema("featureClass:\n  glcm:\n"));
        assert!(!is_params_schema("label: 2\ntexture: {glcm_distance: 1}\n"));
    }

    #[test]
    fn every_supported_key_maps_onto_radx_settings() {
        let p = parse(
            "setting:
  binWidth: 10
  label: 3
  interpolator: sitkLinear
  resampledPixelSpacing: [1, 2, 3]
  padDistance: 5
  normalize: true
  normalizeScale: 100
  removeOutliers: 3
  resegmentRange: [-100, 200]
  resegmentMode: relative
  resegmentShape: true
  force2D: true
  force2Ddimension: 0
  distances: [2]
  symmetricalGLCM: false
  weightingNorm: manhattan
  gldm_a: 1
  voxelArrayShift: 1000
  minimumROIDimensions: 2
  minimumROISize: 50
featureClass:
  glcm: [Contrast, Idmn]
  firstorder:
imageType:
  Original: {}
",
        );
        assert!(p.unsupported.is_empty(), "{:?}", p.unsupported);
        let s = &p.settings;
        assert_eq!(s.discretisation.texture, Binning::PyradiomicsBinWidth { width: 10.0 });
        assert_eq!(s.label, 3);
        let r = s.resample.as_ref().unwrap();
        assert_eq!(r.spacing, [1.0, 2.0, 3.0]);
        assert_eq!(r.image_interpolator, Interpolator::Linear);
        assert_eq!(s.normalise, Some(Normalise { scale: 100.0, remove_outliers: Some(3.0) }));
        assert_eq!(s.resegment.range, Some([-100.0, 200.0]));
        assert_eq!(s.resegment.mode, ResegmentMode::Relative);
        assert!(s.resegment.shape);
        assert_eq!((s.texture.glcm_distance, s.texture.ngldm_distance), (2, 2));
        assert!(!s.texture.glcm_symmetric);
        assert_eq!(s.texture.ngldm_alpha, 1);
        let o = s.pyradiomics.as_ref().unwrap();
        assert!(o.force_2d);
        assert_eq!(o.weighting_norm, Some(WeightingNorm::Manhattan));
        assert_eq!(o.voxel_array_shift, 1000.0);
        assert_eq!(o.minimum_roi_dimensions, 2);
        assert_eq!(o.minimum_roi_size, Some(50));
        assert_eq!(o.pad_distance, 5.0);
        let classes = o.feature_classes.as_ref().unwrap();
        assert_eq!(classes["glcm"], vec!["Contrast".to_string(), "Idmn".to_string()]);
        assert!(classes["firstorder"].is_empty());
        assert!(!classes.contains_key("glrlm"));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn bin_count_single_bound_range_sigma_mode_and_defaults() {
        let p = parse("setting:\n  binCount: 64\n  resegmentRange: [0]\n  resegmentMode: sigma\n");
        let s = &p.settings;
        assert_eq!(s.discretisation.texture, Binning::PyradiomicsBinCount { bins: 64 });
        assert_eq!(s.resegment.range, Some([0.0, f64::INFINITY]));
        assert_eq!(s.resegment.mode, ResegmentMode::Sigma);
        // PyRadiomics defaults: bin width 25, no shift, 3D, no weighting, 26-neighbourhoods.
        let d = parse("imageType:\n  Original: {}\n").settings;
        assert_eq!(d.discretisation.texture, Binning::PyradiomicsBinWidth { width: 25.0 });
        assert_eq!(d.pyradiomics, Some(PyradiomicsOptions::default()));
        assert!(d.resample.is_none() && d.normalise.is_none() && d.resegment.range.is_none());
    }

    #[test]
    fn unsupported_keys_are_reported_by_name() {
        let p = parse(
            "setting:\n  binWidth: 25\n  correctMask: true\n  geometryTolerance: 0.1\n  distances: [1, 2]\n\
             imageType:\n  Original: {}\n  LoG: {sigma: [1.0]}\nfeatureClass:\n  gldzm:\nvoxelSetting:\n  kernelRadius: 2\n",
        );
        let all = p.unsupported.join("\n");
        for name in ["correctMask", "geometryTolerance", "distances", "LoG", "gldzm", "voxelSetting"] {
            assert!(all.contains(name), "`{name}` not reported in:\n{all}");
        }
        assert!(parse_params("setting:\n  binWidth: wide\n").unwrap_err().contains("binWidth"));
    }

    #[test]
    fn resampling_grid_is_aligned_to_the_roi_box() {
        use radx_core::Grid;
        // Image 10×10×5 voxels of 1×1×2 mm at origin (10, 20, 30); ROI = voxel (8, 4, 2);
        // new spacing (2, 2, 0 = keep 2), padDistance 1. Ratios r = old/new = (½, ½, 1).
        // x: lower ⌊(8 − ½)·½ − 1⌋ = 2, upper ⌈(8 + ½)·½ + 1⌉ = 6 clipped to ⌈10·½⌉ − 1 = 4:
        //    3 voxels; first centre at old index ½(2 − 1)/1 + 2/½ = 4.5 → 14.5 mm.
        // y: lower ⌊3.5·½ − 1⌋ = 0, upper ⌈4.5·½ + 1⌉ = 4: 5 voxels from index 0.5 → 20.5 mm.
        // z: lower ⌊1.5 − 1⌋ = 0, upper ⌈2.5 + 1⌉ = 4 (= ⌈5⌉ − 1): 5 voxels from index 0 → 30 mm.
        let mut image = Grid::new([10, 10, 5], [1.0, 1.0, 2.0]);
        image.origin = [10.0, 20.0, 30.0];
        let mut mask = Volume::from_x_fastest(image, vec![false; 500]);
        mask.data[[8, 4, 2]] = true;
        let grid = resampling_grid(&image, &mask, [2.0, 2.0, 0.0], 1.0).unwrap();
        assert_eq!(grid.dims, [3, 5, 5]);
        assert_eq!(grid.spacing, [2.0, 2.0, 2.0]);
        assert_eq!(grid.origin, [14.5, 20.5, 30.0]);
        assert!(resampling_grid(&image, &mask, [-1.0, 2.0, 2.0], 1.0).is_err());
    }

    #[test]
    fn weighting_norms_follow_pyradiomics() {
        // Offset (1, 1, 0) on spacing (2, 3, 5): |a·s| = (2, 3, 0).
        let (o, s) = ([1, 1, 0], [2.0, 3.0, 5.0]);
        assert_eq!(WeightingNorm::Infinity.weight(o, s), (-9.0f64).exp()); // max 3, squared
        assert_eq!(WeightingNorm::Euclidean.weight(o, s), (-13.0f64).exp()); // 4 + 9
        assert_eq!(WeightingNorm::Manhattan.weight(o, s), (-25.0f64).exp()); // (2 + 3)²
        assert_eq!(WeightingNorm::NoWeighting.weight(o, s), 1.0);
    }

    #[test]
    fn sigma_and_relative_bounds_are_read_on_the_roi() {
        use radx_core::Grid;
        // Intensities 1, 2, 3, 6: mean 3, population σ = √((4 + 1 + 0 + 9)/4) = √3.5.
        let grid = Grid::new([4, 1, 1], [1.0; 3]);
        let image = Volume::from_x_fastest(grid, vec![1.0, 2.0, 3.0, 6.0]);
        let mask = Volume::from_x_fastest(grid, vec![true; 4]).data;
        let roi = Roi { image, morphological: mask.clone(), intensity: mask };
        let [lo, hi] = resegment_bounds(&roi, [-1.0, 2.0], ResegmentMode::Sigma);
        assert!((lo - (3.0 - 3.5f64.sqrt())).abs() < 1e-12 && (hi - (3.0 + 2.0 * 3.5f64.sqrt())).abs() < 1e-12);
        assert_eq!(resegment_bounds(&roi, [0.5, f64::INFINITY], ResegmentMode::Relative), [3.0, f64::INFINITY]);
    }
}
