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

use serde::{Deserialize, Serialize};

use crate::boundary::Boundary;
use crate::error::FilterError;
use crate::gabor::{GaborFilter, GaborOrientations};
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
    pub const KINDS: [&'static str; 9] =
        ["mean", "log", "laws", "gabor", "wavelet", "simoncelli", "riesz_log", "riesz_simoncelli", "separable"];

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
            FilterSpec::RieszLog { sigma_mm, truncate, order, dimensionality, boundary } => {
                let inner = log::LaplacianOfGaussian::new(*sigma_mm, *truncate, *dimensionality, *boundary)?;
                Box::new(riesz::RieszTransform::new(Box::new(inner), order, *boundary)?)
            }
            FilterSpec::RieszSimoncelli { level, order, dimensionality, boundary } => {
                let inner = simoncelli::SimoncelliWavelet::new(level_u32(*level)?, *dimensionality, *boundary)?;
                Box::new(riesz::RieszTransform::new(Box::new(inner), order, *boundary)?)
            }
            FilterSpec::Separable { name, kernels, rotation, energy_delta, boundary } => Box::new(
                custom::SeparableKernelFilter::new(name, kernels.clone(), *rotation, *energy_delta, *boundary)?,
            ),
        })
    }
}

fn level_u32(level: usize) -> Result<u32, FilterError> {
    u32::try_from(level).map_err(|_| FilterError::invalid("level", format!("{level} is not a decomposition level")))
}
