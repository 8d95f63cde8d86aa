//! PyRadiomics parameter files (YAML or JSON) mapped onto radx's settings.

use std::collections::BTreeMap;

use serde_json::Value;

use super::names::CLASSES;
use super::options::{PyradiomicsOptions, WeightingNorm};
use crate::settings::{Binning, Interpolator, Normalise, Resample, ResegmentMode, Settings};

// Its own module so that `settings`, which names it, does not import this one, which
// imports `settings`.
pub mod error;
pub use error::ParamsError;

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
pub fn parse_params(text: &str) -> Result<ParamsFile, ParamsError> {
    let doc: Value = serde_saphyr::from_str(text).map_err(Box::new)?;
    let top = doc.as_object().ok_or(ParamsError::NotAMapping)?;
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
    let num = |key: &str, v: &Value| {
        v.as_f64().ok_or_else(|| ParamsError::NotANumber { key: key.to_string(), value: v.clone() })
    };
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
                    return Err(ParamsError::Spacing { value: value.clone() });
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
                    _ => return Err(ParamsError::ResegmentRange { value: value.clone() }),
                };
            }
            "resegmentMode" => {
                settings.resegment.mode = match value.as_str().unwrap_or_default() {
                    "absolute" => ResegmentMode::Absolute,
                    "relative" => ResegmentMode::Relative,
                    "sigma" => ResegmentMode::Sigma,
                    other => return Err(ParamsError::ResegmentMode { mode: other.to_string() }),
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

/// A settings file read, with the warnings the caller should show (unsupported PyRadiomics
/// keys, each named).
#[derive(Debug, Clone)]
pub struct LoadedSettings {
    /// The validated settings.
    pub settings: Settings,
    /// One sentence per key that was ignored, naming the file and the key.
    pub warnings: Vec<String>,
}

/// Read a settings file: PyRadiomics' schema when the file is YAML/JSON with a `setting`,
/// `featureClass` or `imageType` key, radx's own otherwise. Every PyRadiomics key radx does
/// not support comes back as a warning naming it, or with `strict` is an error.
///
/// # Errors
/// [`crate::Error::Settings`] when the file cannot be read or parsed, a value is invalid,
/// or (`strict`) a key is not supported.
pub fn load_settings(path: &std::path::Path, strict: bool) -> Result<LoadedSettings, crate::Error> {
    use crate::settings::SettingsError;
    let shown = path.display().to_string();
    let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"));
    let own = |settings| LoadedSettings { settings, warnings: Vec::new() };
    if !is_yaml {
        return Ok(own(Settings::from_file(path)?));
    }
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read { path: shown.clone(), source })?;
    if !is_params_schema(&text) {
        return Ok(own(Settings::from_file(path)?));
    }
    let parsed = parse_params(&text).map_err(|source| SettingsError::Params { path: shown.clone(), source })?;
    if strict && !parsed.unsupported.is_empty() {
        return Err(SettingsError::Unsupported { path: shown, unsupported: parsed.unsupported }.into());
    }
    let warnings = parsed.unsupported.iter().map(|message| format!("{shown}: {message}; ignored")).collect();
    parsed.settings.validate().map_err(|source| SettingsError::Invalid { path: shown, source })?;
    Ok(LoadedSettings { settings: parsed.settings, warnings })
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
        let err = parse_params("setting:\n  binWidth: wide\n").unwrap_err();
        assert!(matches!(&err, ParamsError::NotANumber { key, .. } if key == "binWidth"), "{err:?}");
        assert_eq!(err.to_string(), "setting `binWidth`: expected a number, got \"wide\"");
    }
}
