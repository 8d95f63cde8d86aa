//! The host side of the feature language's builtins: morphology (IBSI 3.1), local
//! intensity (3.2) and the intensity-volume histogram (3.5), computed lazily once per
//! case and shared by every feature that calls them.

use std::sync::{Mutex, OnceLock};

use radx_core::local_intensity::IntensityPeaks;
use radx_core::morphology::enclosing::{
    approximate_enclosing_ellipsoid_semi_axes, ellipsoid_volume, ibsi_ellipsoid_surface_area,
};
use radx_core::morphology::{
    AutocorrelationMethod, MorphologyError, SpatialAutocorrelation, autocorrelation_weights,
    spatial_autocorrelation_weighted,
};
use radx_core::sources::{IntensityVolumeHistogram, IvhDiscretisation, intensity_volume_histogram};
use radx_core::{CoreError, Volume};
use radx_dsl::{BuiltinError, BuiltinValue, Builtins};

use crate::model::ProcessedCase;
use crate::settings::{IvhBinning, Settings};
use crate::shape::{Shape, ShapeNeeds};

/// Why a builtin has no value for this case's ROI: the features that call it are NaN, and
/// this is the reason the report gives.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Undefined {
    /// The ROI's geometry or intensities do not define it (too few voxels, a flat ROI…).
    #[error(transparent)]
    Morphology(#[from] MorphologyError),
    /// The intensity-volume histogram cannot be built.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A flat ROI has no oriented bounding box.
    #[error("the ROI spans no volume, so it has no oriented bounding box")]
    NoOrientedBox,
    /// The feature passes something else where the builtin takes a number.
    #[error("argument {position} must be a number")]
    NotANumber {
        /// 1-based.
        position: usize,
    },
    /// There are three principal components.
    #[error("pca_eigenvalue takes 1, 2 or 3, got {rank}")]
    NoSuchEigenvalue {
        /// The rank asked for.
        rank: f64,
    },
}

/// Why computing a builtin gave no value: the decision between an error and a NaN.
#[derive(Debug)]
enum NoValue {
    /// The host implements no builtin of this name: the feature library and the host
    /// disagree, an error for the family.
    Unknown,
    /// The builtin is not defined for this ROI: NaN, with the reason kept for the report.
    Undefined(Undefined),
}

// So that `?` in `compute` takes the core's errors and the host's own alike.
impl<E: Into<Undefined>> From<E> for NoValue {
    fn from(reason: E) -> Self {
        NoValue::Undefined(reason.into())
    }
}

/// Lazily computed geometry and histograms of one processed case.
pub struct CaseHost<'a> {
    case: &'a ProcessedCase,
    settings: &'a Settings,
    shape: Shape,
    autocorrelation: OnceLock<Result<SpatialAutocorrelation, MorphologyError>>,
    ivh: OnceLock<Result<IntensityVolumeHistogram, CoreError>>,
    intensities: OnceLock<Vec<f64>>,
    peaks: OnceLock<Result<IntensityPeaks<'a>, MorphologyError>>,
    local_peak: OnceLock<Result<f64, MorphologyError>>,
    global_peak: OnceLock<Result<f64, MorphologyError>>,
    /// The first reason each builtin (by name) was undefined.
    failures: Mutex<Vec<(String, Undefined)>>,
}

impl<'a> CaseHost<'a> {
    /// The shape of the case's morphological mask.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// A host for `case` processed with `settings`.
    pub fn new(case: &'a ProcessedCase, settings: &'a Settings) -> Self {
        Self::with_shape(case, settings, None)
    }

    /// A host for `case` that takes its morphology from `shape` (possibly partly computed
    /// already) when `shape` is that of the case's morphological mask.
    pub fn with_shape(case: &'a ProcessedCase, settings: &'a Settings, shape: Option<Shape>) -> Self {
        let mask = Volume { grid: case.roi.image.grid, data: case.roi.morphological.clone() };
        let shape = match shape {
            Some(s) if s.is_of(&mask) => s,
            _ => Shape::new(mask),
        };
        CaseHost {
            case,
            settings,
            shape,
            autocorrelation: OnceLock::new(),
            ivh: OnceLock::new(),
            intensities: OnceLock::new(),
            peaks: OnceLock::new(),
            local_peak: OnceLock::new(),
            global_peak: OnceLock::new(),
            failures: Mutex::new(Vec::new()),
        }
    }

    fn spacing(&self) -> [f64; 3] {
        self.case.roi.image.grid.spacing
    }

    /// The ROI's intensities, extracted once: the `roi` source and builtins (the IVH, the
    /// integrated intensity) all need them, and extracting them is a pass over the box.
    pub(crate) fn intensities(&self) -> &[f64] {
        self.intensities.get_or_init(|| self.case.roi.intensities())
    }

    /// The sphere sums both intensity peaks are read from.
    fn peaks(&self) -> Result<&IntensityPeaks<'a>, MorphologyError> {
        let roi = &self.case.roi;
        self.peaks.get_or_init(|| IntensityPeaks::new(&roi.image, &roi.intensity)).as_ref().map_err(Clone::clone)
    }

    fn local_peak(&self) -> Result<f64, MorphologyError> {
        self.local_peak.get_or_init(|| self.peaks().map(IntensityPeaks::local)).clone()
    }

    fn global_peak(&self) -> Result<f64, MorphologyError> {
        self.global_peak.get_or_init(|| self.peaks().map(IntensityPeaks::global)).clone()
    }

    /// Compute, concurrently, the costly geometry that the feature definitions `texts` call
    /// (mesh → hull → bounding box / ellipsoid, spatial autocorrelation, intensity peaks,
    /// PCA), so that evaluating the families afterwards only reads cached values. Each value
    /// is computed by a deterministic function, so the results do not depend on threads.
    pub fn prefetch<'t>(&self, texts: impl Iterator<Item = &'t str>) {
        let texts: Vec<&str> = texts.collect();
        let called = crate::shape::Calls::in_texts(&texts);
        let calls = |names: &[&str]| called.any(names);
        let shape = ShapeNeeds::of_texts(&texts);
        rayon::scope(|s| {
            if shape.any() {
                s.spawn(|_| self.shape.prefetch(shape));
            }
            if calls(&["morans_i", "gearys_c"]) {
                s.spawn(|_| {
                    let _ = self.autocorrelation();
                });
            }
            if calls(&["local_peak"]) {
                s.spawn(|_| {
                    let _ = self.local_peak();
                });
            }
            if calls(&["global_peak"]) {
                s.spawn(|_| {
                    let _ = self.global_peak();
                });
            }
        });
    }

    /// Moran's I and Geary's C. The mask's half comes from the shape (perhaps computed while
    /// the image was read) when the intensity mask is the morphological one.
    fn autocorrelation(&self) -> Result<SpatialAutocorrelation, MorphologyError> {
        let roi = &self.case.roi;
        self.autocorrelation
            .get_or_init(|| {
                let own;
                let weights = if roi.intensity == roi.morphological {
                    self.shape.autocorrelation_weights()?
                } else {
                    own = autocorrelation_weights(&roi.intensity, self.spacing(), AutocorrelationMethod::Auto)?;
                    &own
                };
                spatial_autocorrelation_weighted(&roi.image, weights)
            })
            .clone()
    }

    /// The IVH with the settings' discretisation: the total range is the re-segmentation
    /// range when one is set, else the ROI's own minimum and maximum (IBSI 3.5).
    fn ivh(&self) -> Result<&IntensityVolumeHistogram, CoreError> {
        self.ivh
            .get_or_init(|| {
                let x = self.intensities();
                let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let range = self.settings.resegment.range;
                let (min, max) = match range {
                    Some([a, b]) => (if a.is_finite() { a } else { lo }, if b.is_finite() { b } else { hi }),
                    None => (lo, hi),
                };
                let discretisation = match self.settings.discretisation.ivh {
                    IvhBinning::None => IvhDiscretisation::None { min, max },
                    IvhBinning::FixedBinSize { width } => IvhDiscretisation::FixedBinSize { width, min, max },
                    IvhBinning::FixedBinNumber { bins } => IvhDiscretisation::FixedBinNumber { bins },
                };
                intensity_volume_histogram(x, discretisation)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Distance (mm) between the geometric centre of the morphological mask and the
    /// intensity-weighted centre of the intensity mask (IBSI 3.1.11, KLMA).
    /// Distance between the morphological mask's centre and the intensity mask's centre of
    /// mass (IBSI 3.1.14).
    fn centre_of_mass_shift(&self) -> f64 {
        let roi = &self.case.roi;
        let s = self.spacing();
        let geo = self.shape.centre();
        let (mut weighted, mut total) = ([0.0; 3], 0.0);
        // Memory order (x fastest): the same order for any number of threads.
        ndarray::Zip::indexed(&roi.intensity).and(&roi.image.data).for_each(|(x, y, z), &i, &v| {
            if i {
                total += v;
                weighted[0] += v * (x as f64 * s[0]);
                weighted[1] += v * (y as f64 * s[1]);
                weighted[2] += v * (z as f64 * s[2]);
            }
        });
        (0..3).map(|a| (geo[a] - weighted[a] / total).powi(2)).sum::<f64>().sqrt()
    }
}

fn scalar(args: &[BuiltinValue<'_>], k: usize) -> Result<f64, Undefined> {
    match args.get(k) {
        Some(BuiltinValue::Scalar(v)) => Ok(*v),
        _ => Err(Undefined::NotANumber { position: k + 1 }),
    }
}

impl CaseHost<'_> {
    /// Why builtins that a feature's definition calls failed (`None` if none did).
    pub fn failure_for(&self, definition: &str) -> Option<String> {
        let failures = self.failures.lock().ok()?;
        let mut hits: Vec<String> = failures
            .iter()
            .filter(|(name, _)| definition.contains(&format!("{name}(")))
            .map(|(name, reason)| format!("{name}: {reason}"))
            .collect();
        // Sorted, so the note does not depend on which family met a failure first.
        hits.sort();
        (!hits.is_empty()).then(|| hits.join("; "))
    }

    /// Keep the first reason `name` was undefined (every call on this case meets the same).
    fn record_failure(&self, name: &str, reason: Undefined) {
        if let Ok(mut failures) = self.failures.lock()
            && !failures.iter().any(|(n, _)| n == name)
        {
            failures.push((name.to_string(), reason));
        }
    }

    fn compute(&self, name: &str, args: &[BuiltinValue<'_>]) -> Result<f64, NoValue> {
        let roi = &self.case.roi;
        Ok(match name {
            "mesh_volume" => self.shape.mesh_measures().0,
            "mesh_area" => self.shape.mesh_measures().1,
            "voxel_volume" => self.shape.voxel_count() as f64 * roi.image.grid.voxel_volume(),
            "n_voxels" => self.shape.voxel_count() as f64,
            "convex_hull_volume" => self.shape.hull().volume(),
            "convex_hull_area" => self.shape.hull().area(),
            "max_diameter" => self.shape.max_diameter(),
            "aabb_volume" => self.shape.aabb().0,
            "aabb_area" => self.shape.aabb().1,
            "ombb_volume" | "ombb_area" => {
                let (volume, area) = self.shape.ombb().ok_or(Undefined::NoOrientedBox)?;
                if name == "ombb_volume" { volume } else { area }
            }
            "aee_volume" => ellipsoid_volume(approximate_enclosing_ellipsoid_semi_axes(self.shape.pca())),
            "aee_area" => ibsi_ellipsoid_surface_area(approximate_enclosing_ellipsoid_semi_axes(self.shape.pca())),
            "mvee_volume" | "mvee_area" => {
                let (volume, area) = self.shape.mvee()?;
                if name == "mvee_volume" { volume } else { area }
            }
            "pca_eigenvalue" => {
                let k = scalar(args, 0)?;
                if !(1.0..=3.0).contains(&k) || k.fract() != 0.0 {
                    return Err(Undefined::NoSuchEigenvalue { rank: k }.into());
                }
                self.shape.pca()[k as usize - 1]
            }
            "morans_i" => self.autocorrelation()?.morans_i,
            "gearys_c" => self.autocorrelation()?.gearys_c,
            "com_shift" => self.centre_of_mass_shift(),
            "integrated_intensity" => {
                let x = self.intensities();
                self.shape.mesh_measures().0 * x.iter().sum::<f64>() / x.len() as f64
            }
            "local_peak" => self.local_peak()?,
            "global_peak" => self.global_peak()?,
            "ivh_v" => self.ivh()?.volume_at_intensity_fraction(scalar(args, 0)?),
            "ivh_i" => self.ivh()?.intensity_at_volume_fraction(scalar(args, 0)?),
            "ivh_auc" => self.ivh()?.area_under_curve(),
            _ => return Err(NoValue::Unknown),
        })
    }
}

impl Builtins for CaseHost<'_> {
    /// A builtin that cannot be computed for this ROI (e.g. a flat ROI has no enclosing
    /// ellipsoid) gives NaN for the features that use it, and the reason is kept for the
    /// report; the other features of the family are still computed.
    fn call(&self, name: &str, args: &[BuiltinValue<'_>]) -> Result<f64, BuiltinError> {
        match self.compute(name, args) {
            Ok(v) => Ok(v),
            Err(NoValue::Unknown) => Err(BuiltinError::Unknown { name: name.to_string() }),
            Err(NoValue::Undefined(reason)) => {
                self.record_failure(name, reason);
                Ok(f64::NAN)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array3;
    use radx_core::matrix::DiscretisedRoi;
    use radx_core::roi::Roi;
    use radx_core::{Grid, Volume};
    use radx_dsl::{BuiltinError, BuiltinValue, Builtins};

    use super::CaseHost;
    use crate::Settings;
    use crate::model::ProcessedCase;

    /// A 2×2 square of equal intensities, all of it the ROI: Moran's I is 0/0 for it.
    fn constant_square() -> ProcessedCase {
        let grid = Grid::new([2, 2, 1], [1.0; 3]);
        let mask = Array3::from_elem((2, 2, 1), true);
        let image = Volume::from_x_fastest(grid, vec![7.0; 4]);
        let roi = Roi { image, morphological: mask.clone(), intensity: mask.clone() };
        let levels =
            DiscretisedRoi { levels: Array3::from_elem((2, 2, 1), 1), ng: 1, morphological: mask, spacing: [1.0; 3] };
        ProcessedCase {
            roi,
            levels,
            bin_lower_bound: None,
            interpolated_grid: grid,
            interpolated_count: 4,
            plugin_region: None,
        }
    }

    #[test]
    fn an_undefined_builtin_is_nan_with_its_reason_and_an_unknown_one_an_error() {
        let (case, settings) = (constant_square(), Settings::default());
        let host = CaseHost::new(&case, &settings);
        assert!(host.call("morans_i", &[]).expect("undefined is not an error").is_nan());
        assert!(host.call("pca_eigenvalue", &[BuiltinValue::Scalar(5.0)]).expect("not an error").is_nan());
        assert_eq!(
            host.failure_for("morans_i() + pca_eigenvalue(5)").as_deref(),
            Some(
                "morans_i: Moran's I / Geary's C is undefined: every voxel in the intensity mask has the same \
                 intensity; pca_eigenvalue: pca_eigenvalue takes 1, 2 or 3, got 5"
            )
        );
        let unknown = host.call("no_such_builtin", &[]).expect_err("an unknown name is an error, not NaN");
        assert_eq!(unknown, BuiltinError::Unknown { name: "no_such_builtin".into() });
        assert_eq!(unknown.to_string(), "radx provides no builtin `no_such_builtin`");
        assert_eq!(host.failure_for("no_such_builtin()"), None, "an unknown name is no ROI's failure");
    }
}
