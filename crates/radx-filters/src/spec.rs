//! A filter as users write it in a settings file: `kind` and its parameters, with
//! documented defaults (boundary `mirror`, 3D, LoG truncation 4σ, wavelet level 1, no
//! rotation invariance). [`FilterSpec::build`] validates it and gives the [`Filter`].
//!
//! ```toml
//! [[filter]]
//! kind = "log"
//! sigma_mm = 1.5
//!
//! [[filter]]
//! kind = "laws"
//! kernel = "L5E5E5"
//! rotation = "max"
//! energy_delta = 7
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use ndarray::{Array3, ArrayView3};
use serde::{Deserialize, Serialize};

use crate::boundary::Boundary;
use crate::error::FilterError;
use crate::gabor::{GaborFilter, GaborOrientations};
use crate::pyradiomics::PixelStorage;
use crate::rotation::Pooling;
use crate::{Dimensionality, Filter};

/// One filter's settings. Unknown keys are refused, naming the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FilterSpec {
    /// Mean over a cube (square in 2D) of `support` voxels per side (IBSI S60F).
    Mean {
        /// Odd number of voxels per side.
        support: usize,
        #[serde(default = "three_d")]
        dimensionality: Dimensionality,
        #[serde(default = "mirror")]
        boundary: Boundary,
    },
    /// Laplacian of Gaussian (IBSI L6PA).
    Log {
        /// Gaussian σ in mm.
        sigma_mm: f64,
        /// Kernel radius in σ: R = floor(truncate·σ/spacing + 0.5) voxels.
        #[serde(default = "four")]
        truncate: f64,
        #[serde(default = "three_d")]
        dimensionality: Dimensionality,
        #[serde(default = "mirror")]
        boundary: Boundary,
    },
    /// Laws kernels (IBSI JTXT): 2 letters-and-lengths for 2D (`L5E5`), 3 for 3D (`L5E5E5`).
    Laws {
        /// Kernel name, first letter along i (x).
        kernel: String,
        /// Pseudo-rotation invariance: `max` (IBSI) or `mean` over the orientations.
        #[serde(default)]
        rotation: Option<Pooling>,
        /// Energy map: mean |response| over a box of 2δ+1 voxels per side.
        #[serde(default)]
        energy_delta: Option<usize>,
        #[serde(default = "mirror")]
        boundary: Boundary,
    },
    /// Gabor (IBSI Q88H), modulus response, in-plane.
    Gabor {
        /// Envelope σ in mm.
        sigma_mm: f64,
        /// Wavelength λ in mm.
        lambda_mm: f64,
        /// Spatial aspect ratio γ.
        gamma: f64,
        /// One orientation θ in degrees (from +i towards +j)…
        #[serde(default)]
        theta_deg: Option<f64>,
        /// …or orientations every Δθ degrees, their moduli averaged.
        #[serde(default)]
        orientation_step_deg: Option<f64>,
        #[serde(default = "three_d")]
        dimensionality: Dimensionality,
        #[serde(default = "mirror")]
        boundary: Boundary,
    },
    /// Separable wavelet (Haar, Daubechies, Coiflet…), one sub-band at one level.
    Wavelet {
        /// `haar`, `db2`, `coif1`, …
        wavelet: String,
        /// One letter per axis, i first: `LLH` (3D), `HL` (2D).
        subband: String,
        #[serde(default = "one")]
        level: usize,
        /// Pseudo-rotation invariance: `mean` (IBSI) or `max`.
        #[serde(default)]
        rotation: Option<Pooling>,
        /// Decimated (Mallat) instead of undecimated (stationary) transform.
        #[serde(default)]
        decimated: bool,
        #[serde(default = "mirror")]
        boundary: Boundary,
    },
    /// Non-separable Simoncelli wavelet (IBSI PRT7), one level.
    Simoncelli {
        #[serde(default = "one")]
        level: usize,
        #[serde(default = "three_d")]
        dimensionality: Dimensionality,
        #[serde(default = "mirror")]
        boundary: Boundary,
    },
    /// Riesz transform (IBSI AYRS) of a Laplacian of Gaussian's response.
    RieszLog {
        sigma_mm: f64,
        #[serde(default = "four")]
        truncate: f64,
        /// Riesz order per axis, i first: `[1, 0, 0]` (2 entries in 2D).
        order: Vec<u32>,
        #[serde(default = "three_d")]
        dimensionality: Dimensionality,
        #[serde(default = "mirror")]
        boundary: Boundary,
        /// The aligned (steered) variant: the structure tensor's Gaussian σ in mm.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        align_sigma_mm: Option<f64>,
    },
    /// Riesz transform of a Simoncelli wavelet's response.
    RieszSimoncelli {
        #[serde(default = "one")]
        level: usize,
        order: Vec<u32>,
        #[serde(default = "three_d")]
        dimensionality: Dimensionality,
        #[serde(default = "mirror")]
        boundary: Boundary,
        /// The aligned (steered) variant: the structure tensor's Gaussian σ in mm.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        align_sigma_mm: Option<f64>,
    },
    /// A user-defined separable kernel: one odd-length list of numbers per axis, i first
    /// (2 lists: 2D), convolved as given.
    Separable {
        /// Name in the image type: `custom_<name>`.
        name: String,
        kernels: Vec<Vec<f64>>,
        #[serde(default)]
        rotation: Option<Pooling>,
        #[serde(default)]
        energy_delta: Option<usize>,
        #[serde(default = "mirror")]
        boundary: Boundary,
    },
    /// PyRadiomics' `LoG` image type (SimpleITK's recursive Gaussian, not the IBSI's
    /// kernel): `log-sigma-1-0-mm-3D`.
    PyradiomicsLog {
        /// σ in mm.
        sigma_mm: f64,
        /// The parameter file wrote σ as an integer (`sigma: [1]`): the image type is then
        /// `log-sigma-1-mm-3D`, as PyRadiomics prints it.
        #[serde(default)]
        sigma_written_as_integer: bool,
    },
    /// One sub-band of one level of PyRadiomics' `Wavelet` image type (PyWavelets' `swtn`
    /// as PyRadiomics calls it): `wavelet-LLH`, `wavelet2-HHL`.
    PyradiomicsWavelet {
        /// PyWavelets' name (`coif1`, `haar`, `db2`, …).
        #[serde(default = "coif1")]
        wavelet: String,
        /// One letter L/H per transformed axis, PyRadiomics' order (x first of numpy's z, y, x:
        /// `LLH` is high-pass along x).
        subband: String,
        /// Levels skipped before the first output (`start_level`).
        #[serde(default)]
        start_level: usize,
        /// Which computed level this sub-band is from, 1 first (`wavelet2-…` is 2).
        #[serde(default = "one")]
        level: usize,
        /// With `force2D`, the numpy axis not transformed (`force2Ddimension`).
        #[serde(default)]
        force_2d_dimension: Option<usize>,
    },
    /// PyRadiomics' `Square` image type: (x / √max|x|)².
    PyradiomicsSquare {},
    /// PyRadiomics' `SquareRoot` image type: ±√(|x|·max|x|).
    PyradiomicsSquareRoot {},
    /// PyRadiomics' `Logarithm` image type.
    PyradiomicsLogarithm {},
    /// PyRadiomics' `Exponential` image type.
    PyradiomicsExponential {},
    /// PyRadiomics' `Gradient` image type (SimpleITK's gradient magnitude).
    PyradiomicsGradient {
        /// Derivatives per mm (`gradientUseSpacing`, default true) or per voxel.
        #[serde(default = "yes")]
        use_spacing: bool,
    },
    /// PyRadiomics' `LBP2D` image type (scikit-image's `local_binary_pattern` per slice).
    PyradiomicsLbp2d {
        /// `lbp2DRadius`.
        #[serde(default = "one_f64")]
        radius: f64,
        /// `lbp2DSamples`.
        #[serde(default = "eight")]
        samples: usize,
        /// `lbp2DMethod`: `default`, `ror`, `uniform`, `nri_uniform`, `var`.
        #[serde(default = "uniform")]
        method: String,
        /// The numpy axis across the slices (`force2Ddimension`; 0 = z).
        #[serde(default)]
        force_2d_dimension: usize,
    },
    /// One image of PyRadiomics' `LBP3D` image type: `lbp-3D-m1` … or the kurtosis `lbp-3D-k`.
    PyradiomicsLbp3d {
        /// `lbp3DLevels`.
        #[serde(default = "two")]
        levels: usize,
        /// `lbp3DIcosphereRadius`.
        #[serde(default = "one_f64")]
        icosphere_radius: f64,
        /// `lbp3DIcosphereSubdivision`.
        #[serde(default = "one")]
        icosphere_subdivision: usize,
        /// `m1` … `m<levels>`, or `k` (the kurtosis).
        output: String,
    },
    /// A plugin's filter (`docs/plugins.md`, "Filter plugins"), by the name the plugin
    /// declares. The engine resolves it against the loaded plugins ([`FilterSpec::resolve_plugin`]);
    /// its rows' image type is the name, then each parameter set here as `_name_value`.
    Plugin {
        /// The filter's name.
        name: String,
        /// Values for the filter's declared parameters (the others keep their defaults).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        params: BTreeMap<String, PluginParam>,
        /// The loaded plugin's filter, once resolved.
        #[serde(skip)]
        resolved: Option<SharedFilter>,
    },
}

/// A plugin filter's parameter value as settings write it: its kind is its written form's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PluginParam {
    /// `true` / `false`.
    Flag(bool),
    /// An integer (`2`).
    Int(i64),
    /// A number with a fraction or exponent (`2.0`, `0.5`).
    Real(f64),
    /// A string.
    Text(String),
}

impl std::fmt::Display for PluginParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginParam::Flag(b) => write!(f, "{b}"),
            PluginParam::Int(i) => write!(f, "{i}"),
            PluginParam::Real(x) => write!(f, "{x}"),
            PluginParam::Text(t) => f.write_str(t),
        }
    }
}

/// A filter built elsewhere (a plugin's), shared by every stage that uses it.
#[derive(Clone)]
pub struct SharedFilter(pub Arc<dyn Filter>);

impl std::fmt::Debug for SharedFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedFilter").field(&self.0.image_type()).finish()
    }
}

impl PartialEq for SharedFilter {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Filter for SharedFilter {
    fn image_type(&self) -> String {
        self.0.image_type()
    }
    fn margin(&self, spacing: [f64; 3]) -> crate::Margin {
        self.0.margin(spacing)
    }
    fn apply(&self, image: ArrayView3<'_, f64>, spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        self.0.apply(image, spacing)
    }
    fn working_bytes(&self, dims: [usize; 3], spacing: [f64; 3]) -> u64 {
        self.0.working_bytes(dims, spacing)
    }
}

fn coif1() -> String {
    "coif1".into()
}
fn yes() -> bool {
    true
}
fn one_f64() -> f64 {
    1.0
}
fn eight() -> usize {
    8
}
fn two() -> usize {
    2
}
fn uniform() -> String {
    "uniform".into()
}

fn three_d() -> Dimensionality {
    Dimensionality::ThreeD
}
fn mirror() -> Boundary {
    Boundary::Mirror
}
fn four() -> f64 {
    4.0
}
fn one() -> usize {
    1
}

impl FilterSpec {
    /// Every `kind`, as settings write it.
    pub const KINDS: [&'static str; 19] = [
        "mean",
        "log",
        "laws",
        "gabor",
        "wavelet",
        "simoncelli",
        "riesz_log",
        "riesz_simoncelli",
        "separable",
        "pyradiomics_log",
        "pyradiomics_wavelet",
        "pyradiomics_square",
        "pyradiomics_square_root",
        "pyradiomics_logarithm",
        "pyradiomics_exponential",
        "pyradiomics_gradient",
        "pyradiomics_lbp2d",
        "pyradiomics_lbp3d",
        "plugin",
    ];

    /// The `kind` as settings write it (`mean`, `log`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            FilterSpec::Mean { .. } => "mean",
            FilterSpec::Log { .. } => "log",
            FilterSpec::Laws { .. } => "laws",
            FilterSpec::Gabor { .. } => "gabor",
            FilterSpec::Wavelet { .. } => "wavelet",
            FilterSpec::Simoncelli { .. } => "simoncelli",
            FilterSpec::RieszLog { .. } => "riesz_log",
            FilterSpec::RieszSimoncelli { .. } => "riesz_simoncelli",
            FilterSpec::Separable { .. } => "separable",
            FilterSpec::PyradiomicsLog { .. } => "pyradiomics_log",
            FilterSpec::PyradiomicsWavelet { .. } => "pyradiomics_wavelet",
            FilterSpec::PyradiomicsSquare {} => "pyradiomics_square",
            FilterSpec::PyradiomicsSquareRoot {} => "pyradiomics_square_root",
            FilterSpec::PyradiomicsLogarithm {} => "pyradiomics_logarithm",
            FilterSpec::PyradiomicsExponential {} => "pyradiomics_exponential",
            FilterSpec::PyradiomicsGradient { .. } => "pyradiomics_gradient",
            FilterSpec::PyradiomicsLbp2d { .. } => "pyradiomics_lbp2d",
            FilterSpec::PyradiomicsLbp3d { .. } => "pyradiomics_lbp3d",
            FilterSpec::Plugin { .. } => "plugin",
        }
    }

    /// Validate the settings and build the filter.
    pub fn build(&self) -> Result<Box<dyn Filter>, FilterError> {
        use crate::{custom, laws, log, mean, riesz, simoncelli, wavelet};
        Ok(match self {
            FilterSpec::Mean { support, dimensionality, boundary } => {
                Box::new(mean::MeanFilter::new(*support, *dimensionality, *boundary)?)
            }
            FilterSpec::Log { sigma_mm, truncate, dimensionality, boundary } => {
                Box::new(log::LaplacianOfGaussian::new(*sigma_mm, *truncate, *dimensionality, *boundary)?)
            }
            FilterSpec::Laws { kernel, rotation, energy_delta, boundary } => {
                Box::new(laws::LawsFilter::new(kernel, *rotation, *energy_delta, *boundary)?)
            }
            FilterSpec::Gabor {
                sigma_mm,
                lambda_mm,
                gamma,
                theta_deg,
                orientation_step_deg,
                dimensionality,
                boundary,
            } => {
                let orientations = match (theta_deg, orientation_step_deg) {
                    (Some(theta_deg), None) => GaborOrientations::Single { theta_deg: *theta_deg },
                    (None, Some(step_deg)) => GaborOrientations::Pooled { step_deg: *step_deg },
                    _ => {
                        return Err(FilterError::invalid(
                            "theta_deg",
                            "give exactly one of `theta_deg` (one orientation) and `orientation_step_deg` (averaged orientations)",
                        ));
                    }
                };
                Box::new(GaborFilter::new(*sigma_mm, *lambda_mm, *gamma, orientations, *dimensionality, *boundary)?)
            }
            FilterSpec::Wavelet { wavelet, subband, level, rotation, decimated, boundary } => {
                Box::new(wavelet::SeparableWavelet::new(wavelet, subband, *level, *rotation, *decimated, *boundary)?)
            }
            FilterSpec::Simoncelli { level, dimensionality, boundary } => {
                Box::new(simoncelli::SimoncelliWavelet::new(level_u32(*level)?, *dimensionality, *boundary)?)
            }
            FilterSpec::RieszLog { sigma_mm, truncate, order, dimensionality, boundary, align_sigma_mm } => {
                let inner = log::LaplacianOfGaussian::new(*sigma_mm, *truncate, *dimensionality, *boundary)?;
                Box::new(aligned(riesz::RieszTransform::new(Box::new(inner), order, *boundary)?, *align_sigma_mm)?)
            }
            FilterSpec::RieszSimoncelli { level, order, dimensionality, boundary, align_sigma_mm } => {
                let inner = simoncelli::SimoncelliWavelet::new(level_u32(*level)?, *dimensionality, *boundary)?;
                Box::new(aligned(riesz::RieszTransform::new(Box::new(inner), order, *boundary)?, *align_sigma_mm)?)
            }
            FilterSpec::Separable { name, kernels, rotation, energy_delta, boundary } => Box::new(
                custom::SeparableKernelFilter::new(name, kernels.clone(), *rotation, *energy_delta, *boundary)?,
            ),
            FilterSpec::Plugin { resolved: Some(filter), .. } => Box::new(filter.clone()),
            FilterSpec::Plugin { name, resolved: None, .. } => {
                return Err(FilterError::PluginNotLoaded { name: name.clone() });
            }
            pyradiomics => build_pyradiomics(pyradiomics)?,
        })
    }

    /// A plugin filter's name and parameters (`kind = "plugin"`), else `None`.
    pub fn plugin(&self) -> Option<(&str, &BTreeMap<String, PluginParam>)> {
        match self {
            FilterSpec::Plugin { name, params, .. } => Some((name, params)),
            _ => None,
        }
    }

    /// The image type a plugin filter's rows are reported under: its name, then each
    /// parameter the settings set, `_name_value`, in name order (`None` for other kinds,
    /// whose filters name their image type).
    pub fn plugin_image_type(&self) -> Option<String> {
        let (name, params) = self.plugin()?;
        Some(params.iter().fold(name.to_string(), |t, (k, v)| format!("{t}_{k}_{v}")))
    }

    /// A plugin filter with the loaded plugin's `filter` (built by the engine, which knows
    /// the plugins); other kinds are returned unchanged.
    pub fn resolve_plugin(self, filter: Arc<dyn Filter>) -> FilterSpec {
        match self {
            FilterSpec::Plugin { name, params, .. } => {
                FilterSpec::Plugin { name, params, resolved: Some(SharedFilter(filter)) }
            }
            other => other,
        }
    }

    /// PyRadiomics' image types (the `pyradiomics_*` kinds): computed as PyRadiomics
    /// computes them, not as the IBSI defines them.
    pub fn is_pyradiomics(&self) -> bool {
        self.kind().starts_with("pyradiomics_")
    }
}

/// The `pyradiomics_*` kinds. Their integer-typed outputs (LBP) take the pixel type
/// PyRadiomics would have read the image as, inferred from its values
/// ([`PixelStorage::AsImage`]).
fn build_pyradiomics(spec: &FilterSpec) -> Result<Box<dyn Filter>, FilterError> {
    use crate::pyradiomics as p;
    Ok(match spec {
        FilterSpec::PyradiomicsLog { sigma_mm, sigma_written_as_integer } => {
            if *sigma_written_as_integer && sigma_mm.fract() == 0.0 {
                Box::new(p::LoG::from_integer(*sigma_mm as i64)?)
            } else {
                Box::new(p::LoG::new(*sigma_mm)?)
            }
        }
        FilterSpec::PyradiomicsWavelet { wavelet, subband, start_level, level, force_2d_dimension } => {
            Box::new(p::Wavelet::new(wavelet, subband, *start_level, *level, *force_2d_dimension)?)
        }
        FilterSpec::PyradiomicsSquare {} => Box::new(p::Square),
        FilterSpec::PyradiomicsSquareRoot {} => Box::new(p::SquareRoot),
        FilterSpec::PyradiomicsLogarithm {} => Box::new(p::Logarithm),
        FilterSpec::PyradiomicsExponential {} => Box::new(p::Exponential),
        FilterSpec::PyradiomicsGradient { use_spacing } => Box::new(p::Gradient::new(*use_spacing)),
        FilterSpec::PyradiomicsLbp2d { radius, samples, method, force_2d_dimension } => Box::new(p::Lbp2D::new(
            *radius,
            *samples,
            p::Lbp2DMethod::parse(method)?,
            *force_2d_dimension,
            PixelStorage::AsImage,
        )?),
        FilterSpec::PyradiomicsLbp3d { levels, icosphere_radius, icosphere_subdivision, output } => {
            let output = match output.as_str() {
                "k" => p::Lbp3DOutput::Kurtosis,
                m => match m.strip_prefix('m').and_then(|l| l.parse::<usize>().ok()) {
                    Some(level) => p::Lbp3DOutput::Level(level),
                    None => {
                        return Err(FilterError::invalid(
                            "output",
                            format!("`{output}` is not `m1` … `m{levels}` or `k`"),
                        ));
                    }
                },
            };
            Box::new(p::Lbp3D::new(*levels, *icosphere_radius, *icosphere_subdivision, output, PixelStorage::AsImage)?)
        }
        other => return Err(FilterError::invalid("kind", format!("`{}` is not a PyRadiomics kind", other.kind()))),
    })
}

/// The aligned variant when the settings ask for it.
fn aligned(
    riesz: crate::riesz::RieszTransform,
    align_sigma_mm: Option<f64>,
) -> Result<crate::riesz::RieszTransform, FilterError> {
    match align_sigma_mm {
        Some(sigma_mm) => riesz.aligned(sigma_mm),
        None => Ok(riesz),
    }
}

fn level_u32(level: usize) -> Result<u32, FilterError> {
    u32::try_from(level).map_err(|_| FilterError::invalid("level", format!("{level} is not a decomposition level")))
}
