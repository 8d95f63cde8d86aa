//! radx-core: the runtime every radx feature stands on.
//!
//! It holds the image model ([`Volume`], [`Grid`]), the IBSI image-processing chain
//! (resampling, rounding, re-segmentation, discretisation — see [`processing`]),
//! iteration helpers (neighbour offsets, slices, connected components, distance maps —
//! see [`iter`]), the texture-matrix builders (GLCM, GLRLM, GLSZM, GLDZM, NGTDM, NGLDM —
//! see [`matrix`]) and the non-texture sources (intensity vector, histograms, IVH,
//! surface mesh, local intensity peaks — see [`sources`] and [`morphology`]).
//!
//! # Axis convention (used everywhere in radx)
//! Volumes are `ndarray::Array3` indexed `[x, y, z]` (voxel indices i, j, k), stored
//! with x fastest — the NIfTI/NRRD on-disk order — i.e. Fortran layout. Spacing, origin,
//! dimensions and offsets are always given in the same (x, y, z) order. A 2D "slice" is a
//! plane of constant z (the IBSI's in-plane computation). World coordinates follow the
//! image's direction cosines: `world = origin + direction · (index ∘ spacing)`.
//!
//! # Intensities
//! Image intensities are `f64` in every processing step: the processed ROI is cropped
//! to its bounding box before any heavy work, so the wide type costs little and keeps
//! interpolation, statistics and PyRadiomics-compatible paths exact. Masks are `bool`
//! volumes; label maps are `Volume<f64>` so float masks read losslessly.
// `deny`, not `forbid`: ndarray's `s!` macro expands to an `allow(unsafe_code)`.
#![deny(unsafe_code)]

pub mod aggregation;
pub mod components;
pub mod error;
pub mod grid;
pub mod iter;
pub mod label;
pub mod local_intensity;
pub mod matrix;
pub mod morphology;
pub mod processing;
pub mod roi;
pub mod sources;
mod spectral;
pub mod volume;

pub use aggregation::Aggregation;
pub use error::CoreError;
pub use grid::{GeometryMismatch, Grid};
pub use volume::{BoundingBox, Volume};
