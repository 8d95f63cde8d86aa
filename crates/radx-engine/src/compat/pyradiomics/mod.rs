//! PyRadiomics compatibility: its parameter-file schema, its processing rules where they
//! depart from the IBSI (normalisation, re-segmentation modes, ROI size checks), the
//! sources its feature library (`features/pyradiomics/*.radx`) is written over, and its
//! output names (`original_<class>_<Feature>`).
//!
//! PyRadiomics computes GLCM and GLRLM features per angle and averages them (IBSI §3.6/3.7
//! "3D averaged", or per in-plane direction merged over slices with `force2D`), deletes
//! grey levels absent from the ROI from its matrices, and uses the present grey levels'
//! values as indices; GLSZM, GLDM and NGTDM are one matrix over the ROI (IBSI "merged").
//! Each `pyr_*` source ([`sources`]) supplies exactly that, so the feature files only
//! transcribe PyRadiomics' formulas.
//!
//! Files: [`options`] (the settings PyRadiomics adds to radx's), [`params`] (its parameter
//! files), [`processing`] (normalisation, resampling grid, re-segmentation bounds),
//! [`sources`] and [`shape`] (the `pyr_*` sources), [`catalogue`] (PyRadiomics' feature
//! names), [`names`] (output rows and names), [`diagnostics`] (its `diagnostics_*` values), and
//! [`profile`], which gathers them as the engine's PyRadiomics profile.

pub mod angles;
pub mod catalogue;
pub mod diagnostics;
pub mod names;
pub mod options;
pub mod params;
pub mod processing;
pub mod profile;
pub mod shape;
pub mod sources;

pub use names::{CLASSES, is_pyradiomics_row, output_name, prune_library, rename_rows, select_rows};
pub use options::{PyradiomicsOptions, WeightingNorm};
pub use params::{
    LibraryChoice, LoadedSettings, ParamsFile, is_params_schema, load_settings, load_settings_for, parse_params,
};
pub use processing::{
    normalise_image, resample, resampling_grid, resampling_region, resegment_bounds, slice_resampling,
};
pub use sources::{LIBRARY, build_source, register_sources};
