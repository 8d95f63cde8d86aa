//! The host side of the feature language's builtins: morphology (IBSI 3.1), local
//! intensity (3.2) and the intensity-volume histogram (3.5), computed lazily once per
//! case and shared by every feature that calls them.

use std::sync::{Mutex, OnceLock};

use radx_core::Volume;
use radx_core::local_intensity::IntensityPeaks;
use radx_core::morphology::enclosing::{
    approximate_enclosing_ellipsoid_semi_axes, ellipsoid_volume, ibsi_ellipsoid_surface_area,
};
use radx_core::morphology::{
    AutocorrelationMethod, SpatialAutocorrelation, autocorrelation_weights, spatial_autocorrelation_weighted,
};
use radx_core::sources::{IntensityVolumeHistogram, IvhDiscretisation, intensity_volume_histogram};
use radx_dsl::{BuiltinValue, Builtins};

use crate::model::ProcessedCase;
use crate::settings::{IvhBinning, Settings};
use crate::shape::{Shape, ShapeNeeds};

/// Lazily computed geometry and histograms of one processed case.
pub struct CaseHost<'a> {
    case: &'a ProcessedCase,
    settings: &'a Settings,
    shape: Shape,
    autocorrelation: OnceLock<Result<SpatialAutocorrelation, String>>,
    ivh: OnceLock<Result<IntensityVolumeHistogram, String>>,
    intensities: OnceLock<Vec<f64>>,
    peaks: OnceLock<Result<IntensityPeaks<'a>, String>>,
    local_peak: OnceLock<Result<f64, String>>,
    global_peak: OnceLock<Result<f64, String>>,
    failures: Mutex<Vec<(String, String)>>,
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
    fn peaks(&self) -> Result<&IntensityPeaks<'a>, String> {
        let roi = &self.case.roi;
        self.peaks
            .get_or_init(|| IntensityPeaks::new(&roi.image, &roi.intensity).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn local_peak(&self) -> Result<f64, String> {
        self.local_peak.get_or_init(|| self.peaks().map(IntensityPeaks::local)).clone()
    }

    fn global_peak(&self) -> Result<f64, String> {
        self.global_peak.get_or_init(|| self.peaks().map(IntensityPeaks::global)).clone()
    }

    /// Compute, concurrently, the costly geometry that the feature definitions `texts` call
    /// (mesh → hull → bounding box / ellipsoid, spatial autocorrelation, intensity peaks,
    /// PCA), so that evaluating the families afterwards only reads cached values. Each value
    /// is computed by a deterministic function, so the results do not depend on threads.
    pub fn prefetch<'t>(&self, texts: impl Iterator<Item = &'t str>) {
        let texts: Vec<&str> = texts.collect();
        let calls = |names: &[&str]| crate::shape::calls_any(&texts, names);
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
    fn autocorrelation(&self) -> Result<SpatialAutocorrelation, String> {
        let roi = &self.case.roi;
        self.autocorrelation
            .get_or_init(|| {
                let own;
                let weights = if roi.intensity == roi.morphological {
                    self.shape.autocorrelation_weights()?
                } else {
                    own = autocorrelation_weights(&roi.intensity, self.spacing(), AutocorrelationMethod::Auto)
                        .map_err(|e| e.to_string())?;
                    &own
                };
                spatial_autocorrelation_weighted(&roi.image, weights).map_err(|e| e.to_string())
            })
            .clone()
    }

    /// The IVH with the settings' discretisation: the total range is the re-segmentation
    /// range when one is set, else the ROI's own minimum and maximum (IBSI 3.5).
    fn ivh(&self) -> Result<&IntensityVolumeHistogram, String> {
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
                intensity_volume_histogram(x, discretisation).map_err(|e| e.to_string())
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

fn scalar(args: &[BuiltinValue<'_>], k: usize) -> Result<f64, String> {
    match args.get(k) {
        Some(BuiltinValue::Scalar(v)) => Ok(*v),
        _ => Err(format!("argument {} must be a number", k + 1)),
    }
}

impl CaseHost<'_> {
    /// Why builtins that a feature's definition calls failed (`None` if none did).
    pub fn failure_for(&self, definition: &str) -> Option<String> {
        let failures = self.failures.lock().ok()?;
        let mut hits: Vec<String> = failures
            .iter()
            .filter(|(name, _)| definition.contains(&format!("{name}(")))
            .map(|(name, message)| format!("{name}: {message}"))
            .collect();
        // Sorted, so the note does not depend on which family met a failure first.
        hits.sort();
        (!hits.is_empty()).then(|| hits.join("; "))
    }

    fn compute(&self, name: &str, args: &[BuiltinValue<'_>]) -> Result<f64, String> {
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
                let (volume, area) = self
                    .shape
                    .ombb()
                    .ok_or_else(|| "the ROI spans no volume, so it has no oriented bounding box".to_string())?;
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
                    return Err(format!("pca_eigenvalue takes 1, 2 or 3, got {k}"));
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
            other => return Err(format!("radx provides no builtin `{other}`")),
        })
    }
}

impl Builtins for CaseHost<'_> {
    /// A builtin that cannot be computed for this ROI (e.g. a flat ROI has no enclosing
    /// ellipsoid) gives NaN for the features that use it, and the reason is kept for the
    /// report; the other features of the family are still computed.
    fn call(&self, name: &str, args: &[BuiltinValue<'_>]) -> Result<f64, String> {
        match self.compute(name, args) {
            Ok(v) => Ok(v),
            Err(message) if message.starts_with("radx provides no builtin") => Err(message),
            Err(message) => {
                if let Ok(mut failures) = self.failures.lock()
                    && !failures.iter().any(|(n, _)| n == name)
                {
                    failures.push((name.to_string(), message));
                }
                Ok(f64::NAN)
            }
        }
    }
}
