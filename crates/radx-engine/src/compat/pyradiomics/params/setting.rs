//! The `setting:` mapping of a PyRadiomics parameter file onto radx's settings.

use serde_json::{Map, Value};

use super::ParamsError;
use crate::compat::pyradiomics::options::{PyradiomicsOptions, WeightingNorm};
use crate::settings::{Binning, Interpolator, Normalise, Resample, ResegmentMode, Settings};

/// Keys of `setting:` that have no effect on the values radx computes and are accepted
/// silently: radx writes its diagnostics when asked and has no C extensions to switch.
const NO_EFFECT_KEYS: &[&str] = &["additionalInfo", "enableCExtensions"];

/// Values that combine several keys, gathered before they are set.
struct Pending {
    spacing: Option<[f64; 3]>,
    interpolator: Interpolator,
    normalise: bool,
    normalize_scale: f64,
    remove_outliers: Option<f64>,
    bin_count: Option<usize>,
    bin_width: f64,
}

/// Where the keys go, and what could not be mapped.
struct Target<'a> {
    settings: &'a mut Settings,
    options: &'a mut PyradiomicsOptions,
    unsupported: &'a mut Vec<String>,
    pending: Pending,
}

/// Map `setting:` onto `settings` and `options`; keys radx does not support are added to
/// `unsupported`, each named.
///
/// # Errors
/// A [`ParamsError`] naming the key whose value has the wrong type.
pub(super) fn apply(
    setting: &Map<String, Value>,
    settings: &mut Settings,
    options: &mut PyradiomicsOptions,
    unsupported: &mut Vec<String>,
) -> Result<(), ParamsError> {
    let pending = Pending {
        spacing: None,
        interpolator: Interpolator::CubicSpline,
        normalise: false,
        normalize_scale: 1.0,
        remove_outliers: None,
        bin_count: None,
        bin_width: 25.0,
    };
    let mut target = Target { settings, options, unsupported, pending };
    // A null value is PyRadiomics' way of writing "default".
    for (key, value) in setting.iter().filter(|(_, v)| !v.is_null()) {
        target.read(key, value)?;
    }
    target.finish();
    Ok(())
}

fn num(key: &str, v: &Value) -> Result<f64, ParamsError> {
    v.as_f64().ok_or_else(|| ParamsError::NotANumber { key: key.to_string(), value: v.clone() })
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

impl Target<'_> {
    fn read(&mut self, key: &str, value: &Value) -> Result<(), ParamsError> {
        match key {
            "binWidth" => self.pending.bin_width = num(key, value)?,
            "binCount" => self.pending.bin_count = Some(num(key, value)? as usize),
            "label" => self.settings.label = num(key, value)? as i64,
            "interpolator" => self.interpolator(value),
            "resampledPixelSpacing" => self.pending.spacing = Some(spacing(value)?),
            "normalize" => self.pending.normalise = value.as_bool().unwrap_or(false),
            "normalizeScale" => self.pending.normalize_scale = num(key, value)?,
            "removeOutliers" => self.pending.remove_outliers = Some(num(key, value)?),
            "resegmentRange" | "resegmentMode" | "resegmentShape" => self.resegment(key, value)?,
            "force2D" | "force2Ddimension" | "distances" | "symmetricalGLCM" | "weightingNorm" | "gldm_a" => {
                self.texture(key, value)?
            }
            "voxelArrayShift" => self.options.voxel_array_shift = num(key, value)?,
            "minimumROIDimensions" => self.options.minimum_roi_dimensions = num(key, value)? as usize,
            "minimumROISize" => self.options.minimum_roi_size = Some(num(key, value)? as usize),
            "padDistance" => self.options.pad_distance = num(key, value)?.max(0.0),
            "preCrop" => self.options.pre_crop = value.as_bool().unwrap_or(false),
            // The image types' own settings, read with `imageType` (super::image_type).
            k if super::image_type::FILTER_KEYS.contains(&k) => {}
            k if NO_EFFECT_KEYS.contains(&k) => {}
            other => self.unsupported.push(format!("setting `{other}` is not supported")),
        }
        Ok(())
    }

    fn interpolator(&mut self, value: &Value) {
        self.pending.interpolator = match value.as_str().unwrap_or_default() {
            "sitkBSpline" => Interpolator::CubicSpline,
            "sitkLinear" => Interpolator::Linear,
            "sitkNearestNeighbor" => Interpolator::Nearest,
            other => {
                self.unsupported.push(format!("setting `interpolator`: `{other}` is not supported"));
                Interpolator::CubicSpline
            }
        }
    }

    fn resegment(&mut self, key: &str, value: &Value) -> Result<(), ParamsError> {
        let r = &mut self.settings.resegment;
        match key {
            "resegmentRange" => {
                r.range = match numbers(value).as_slice() {
                    [lo] => Some([*lo, f64::INFINITY]),
                    [lo, hi] => Some([*lo, *hi]),
                    _ => return Err(ParamsError::ResegmentRange { value: value.clone() }),
                }
            }
            "resegmentMode" => {
                r.mode = match value.as_str().unwrap_or_default() {
                    "absolute" => ResegmentMode::Absolute,
                    "relative" => ResegmentMode::Relative,
                    "sigma" => ResegmentMode::Sigma,
                    other => return Err(ParamsError::ResegmentMode { mode: other.to_string() }),
                }
            }
            _ => r.shape = value.as_bool().unwrap_or(false),
        }
        Ok(())
    }

    fn texture(&mut self, key: &str, value: &Value) -> Result<(), ParamsError> {
        let t = &mut self.settings.texture;
        match key {
            "force2D" => self.options.force_2d = value.as_bool().unwrap_or(false),
            "force2Ddimension" if num(key, value)? != 0.0 => self
                .unsupported
                .push(format!("setting `force2Ddimension`: {value} is not supported (only 0: slices of constant z)")),
            "distances" => {
                let distances = distances(value)?;
                // The IBSI library's GLCM and NGLDM take one distance (`params::ibsi` names a
                // list of several as unused there); the `pyr_*` sources read the list.
                if let [one] = distances.as_slice() {
                    (t.glcm_distance, t.ngldm_distance) = (*one, *one);
                }
                self.options.distances = distances;
            }
            "symmetricalGLCM" => t.glcm_symmetric = value.as_bool().unwrap_or(true),
            "weightingNorm" => self.options.weighting_norm = Some(weighting_norm(value)),
            "gldm_a" => t.ngldm_alpha = num(key, value)?.floor().max(0.0) as u16,
            _ => {}
        }
        Ok(())
    }

    /// Set what several keys decide together: binning, normalisation, resampling.
    fn finish(self) {
        let (settings, p) = (self.settings, self.pending);
        settings.discretisation.texture = match p.bin_count {
            Some(bins) => Binning::PyradiomicsBinCount { bins },
            None => Binning::PyradiomicsBinWidth { width: p.bin_width },
        };
        if p.normalise {
            settings.normalise = Some(Normalise { scale: p.normalize_scale, remove_outliers: p.remove_outliers });
        }
        settings.resample = p.spacing.map(|spacing| Resample {
            spacing,
            // A 0 keeps that axis' spacing (PyRadiomics); for z that is the IBSI's in-plane
            // interpolation, which the IBSI library's grid then follows.
            in_plane_only: spacing[2] == 0.0,
            image_interpolator: p.interpolator,
            mask_interpolator: Interpolator::Nearest,
            mask_threshold: 0.5,
            round_intensities: false,
        });
    }
}

/// `resampledPixelSpacing`: three numbers ≥ 0 (a 0 keeps that axis' spacing).
fn spacing(value: &Value) -> Result<[f64; 3], ParamsError> {
    let bad = || ParamsError::Spacing { value: value.clone() };
    let all = value.as_array().ok_or_else(bad)?;
    let spacing: Vec<f64> = all.iter().filter_map(Value::as_f64).collect();
    match spacing.as_slice() {
        [x, y, z] if all.len() == 3 && spacing.iter().all(|s| s.is_finite() && *s >= 0.0) => Ok([*x, *y, *z]),
        _ => Err(bad()),
    }
}

/// `distances`: a non-empty list of integers ≥ 1, as PyRadiomics' schema requires (it refuses
/// 0, negative and fractional values). Repeated values are kept: PyRadiomics counts their
/// angles twice.
fn distances(value: &Value) -> Result<Vec<usize>, ParamsError> {
    let bad = || ParamsError::Distances { value: value.clone() };
    let all = value.as_array().filter(|a| !a.is_empty()).ok_or_else(bad)?;
    all.iter().map(|v| v.as_u64().filter(|&d| d >= 1).map(|d| d as usize).ok_or_else(bad)).collect()
}

/// PyRadiomics: any value other than its three norms warns and weighs by 1.
fn weighting_norm(value: &Value) -> WeightingNorm {
    match value.as_str().unwrap_or_default() {
        "infinity" => WeightingNorm::Infinity,
        "euclidean" => WeightingNorm::Euclidean,
        "manhattan" => WeightingNorm::Manhattan,
        _ => WeightingNorm::NoWeighting,
    }
}
