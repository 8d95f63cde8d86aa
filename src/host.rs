//! The host side of the feature language's builtins: morphology (IBSI 3.1), local
//! intensity (3.2) and the intensity-volume histogram (3.5), computed lazily once per
//! case and shared by every feature that calls them.

use std::sync::{Mutex, OnceLock};

use radx_core::local_intensity::{global_intensity_peak, local_intensity_peak};
use radx_core::morphology::enclosing::{
    MVEE_TOLERANCE, approximate_enclosing_ellipsoid_semi_axes, axis_aligned_bounding_box, ellipsoid_volume,
    ibsi_ellipsoid_surface_area, minimum_volume_enclosing_ellipsoid, oriented_minimum_bounding_box,
};
use radx_core::morphology::{
    ConvexHull, Mesh, SpatialAutocorrelation, pca_eigenvalues, spatial_autocorrelation, surface_mesh,
};
use radx_core::sources::{IntensityVolumeHistogram, IvhDiscretisation, intensity_volume_histogram};
use radx_dsl::{BuiltinValue, Builtins};

use crate::pipeline::ProcessedCase;
use crate::settings::{IvhBinning, Settings};

/// Lazily computed geometry and histograms of one processed case.
pub struct CaseHost<'a> {
    case: &'a ProcessedCase,
    settings: &'a Settings,
    mesh: OnceLock<Mesh>,
    hull: OnceLock<ConvexHull>,
    pca: OnceLock<[f64; 3]>,
    autocorrelation: OnceLock<Result<SpatialAutocorrelation, String>>,
    ivh: OnceLock<Result<IntensityVolumeHistogram, String>>,
    intensities: OnceLock<Vec<f64>>,
    ombb: OnceLock<Option<(f64, f64)>>,
    mvee: OnceLock<Result<(f64, f64), String>>,
    local_peak: OnceLock<Result<f64, String>>,
    global_peak: OnceLock<Result<f64, String>>,
    failures: Mutex<Vec<(String, String)>>,
}

impl<'a> CaseHost<'a> {
    /// A host for `case` processed with `settings`.
    pub fn new(case: &'a ProcessedCase, settings: &'a Settings) -> Self {
        CaseHost {
            case,
            settings,
            mesh: OnceLock::new(),
            hull: OnceLock::new(),
            pca: OnceLock::new(),
            autocorrelation: OnceLock::new(),
            ivh: OnceLock::new(),
            intensities: OnceLock::new(),
            ombb: OnceLock::new(),
            mvee: OnceLock::new(),
            local_peak: OnceLock::new(),
            global_peak: OnceLock::new(),
            failures: Mutex::new(Vec::new()),
        }
    }

    fn spacing(&self) -> [f64; 3] {
        self.case.roi.image.grid.spacing
    }

    fn mesh(&self) -> &Mesh {
        self.mesh.get_or_init(|| surface_mesh(&self.case.roi.morphological, self.spacing()))
    }

    fn hull(&self) -> &ConvexHull {
        self.hull.get_or_init(|| ConvexHull::of_mesh(self.mesh()))
    }

    fn pca(&self) -> [f64; 3] {
        *self.pca.get_or_init(|| pca_eigenvalues(&self.case.roi.morphological, self.spacing()))
    }

    fn intensities(&self) -> &[f64] {
        self.intensities.get_or_init(|| self.case.roi.intensities())
    }

    /// (volume, area) of the oriented minimum bounding box; `None` for a flat ROI.
    fn ombb(&self) -> Option<(f64, f64)> {
        *self.ombb.get_or_init(|| oriented_minimum_bounding_box(self.hull()).map(|b| (b.volume(), b.area())))
    }

    /// (volume, area) of the minimum-volume enclosing ellipsoid.
    fn mvee(&self) -> Result<(f64, f64), String> {
        self.mvee
            .get_or_init(|| {
                minimum_volume_enclosing_ellipsoid(&self.hull().vertices, MVEE_TOLERANCE)
                    .map(|e| (e.volume(), e.area()))
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    fn local_peak(&self) -> Result<f64, String> {
        let roi = &self.case.roi;
        self.local_peak
            .get_or_init(|| local_intensity_peak(&roi.image, &roi.intensity).map_err(|e| e.to_string()))
            .clone()
    }

    fn global_peak(&self) -> Result<f64, String> {
        let roi = &self.case.roi;
        self.global_peak
            .get_or_init(|| global_intensity_peak(&roi.image, &roi.intensity).map_err(|e| e.to_string()))
            .clone()
    }

    /// Compute, concurrently, the costly geometry that the feature definitions `texts` call
    /// (mesh → hull → bounding box / ellipsoid, spatial autocorrelation, intensity peaks,
    /// PCA), so that evaluating the families afterwards only reads cached values. Each value
    /// is computed by a deterministic function, so the results do not depend on threads.
    pub fn prefetch<'t>(&self, texts: impl Iterator<Item = &'t str>) {
        let texts: Vec<&str> = texts.collect();
        let calls = |names: &[&str]| names.iter().any(|n| texts.iter().any(|t| t.contains(&format!("{n}("))));
        let hull_users = ["convex_hull_volume", "convex_hull_area", "max_diameter", "ombb_volume", "ombb_area"];
        rayon::scope(|s| {
            if calls(&["mesh_volume", "mesh_area", "aabb_volume", "aabb_area", "integrated_intensity"])
                || calls(&hull_users)
                || calls(&["mvee_volume", "mvee_area"])
            {
                s.spawn(|s2| {
                    self.mesh();
                    if calls(&hull_users) || calls(&["mvee_volume", "mvee_area"]) {
                        self.hull();
                        if calls(&["ombb_volume", "ombb_area"]) {
                            s2.spawn(|_| {
                                self.ombb();
                            });
                        }
                        if calls(&["mvee_volume", "mvee_area"]) {
                            let _ = self.mvee();
                        }
                    }
                });
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
            if calls(&["pca_eigenvalue", "aee_volume", "aee_area"]) {
                s.spawn(|_| {
                    self.pca();
                });
            }
        });
    }

    fn morphological_count(&self) -> f64 {
        self.case.roi.morphological.iter().filter(|&&m| m).count() as f64
    }

    fn autocorrelation(&self) -> Result<SpatialAutocorrelation, String> {
        self.autocorrelation
            .get_or_init(|| {
                spatial_autocorrelation(&self.case.roi.image, &self.case.roi.intensity).map_err(|e| e.to_string())
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
    fn centre_of_mass_shift(&self) -> f64 {
        let roi = &self.case.roi;
        let s = self.spacing();
        let (mut geo, mut n) = ([0.0; 3], 0.0);
        let (mut weighted, mut total) = ([0.0; 3], 0.0);
        for (((x, y, z), &m), (&i, &v)) in
            roi.morphological.indexed_iter().zip(roi.intensity.iter().zip(roi.image.data.iter()))
        {
            let p = [x as f64 * s[0], y as f64 * s[1], z as f64 * s[2]];
            if m {
                n += 1.0;
                (0..3).for_each(|a| geo[a] += p[a]);
            }
            if i {
                total += v;
                (0..3).for_each(|a| weighted[a] += v * p[a]);
            }
        }
        (0..3).map(|a| (geo[a] / n - weighted[a] / total).powi(2)).sum::<f64>().sqrt()
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
            "mesh_volume" => self.mesh().volume(),
            "mesh_area" => self.mesh().area(),
            "voxel_volume" => self.morphological_count() * roi.image.grid.voxel_volume(),
            "n_voxels" => self.morphological_count(),
            "convex_hull_volume" => self.hull().volume(),
            "convex_hull_area" => self.hull().area(),
            "max_diameter" => self.hull().max_diameter(),
            "aabb_volume" => axis_aligned_bounding_box(self.mesh()).volume(),
            "aabb_area" => axis_aligned_bounding_box(self.mesh()).area(),
            "ombb_volume" | "ombb_area" => {
                let (volume, area) = self
                    .ombb()
                    .ok_or_else(|| "the ROI spans no volume, so it has no oriented bounding box".to_string())?;
                if name == "ombb_volume" { volume } else { area }
            }
            "aee_volume" => ellipsoid_volume(approximate_enclosing_ellipsoid_semi_axes(self.pca())),
            "aee_area" => ibsi_ellipsoid_surface_area(approximate_enclosing_ellipsoid_semi_axes(self.pca())),
            "mvee_volume" | "mvee_area" => {
                let (volume, area) = self.mvee()?;
                if name == "mvee_volume" { volume } else { area }
            }
            "pca_eigenvalue" => {
                let k = scalar(args, 0)?;
                if !(1.0..=3.0).contains(&k) || k.fract() != 0.0 {
                    return Err(format!("pca_eigenvalue takes 1, 2 or 3, got {k}"));
                }
                self.pca()[k as usize - 1]
            }
            "morans_i" => self.autocorrelation()?.morans_i,
            "gearys_c" => self.autocorrelation()?.gearys_c,
            "com_shift" => self.centre_of_mass_shift(),
            "integrated_intensity" => {
                let x = self.intensities();
                self.mesh().volume() * x.iter().sum::<f64>() / x.len() as f64
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
