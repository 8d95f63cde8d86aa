//! radx-engine integration tests, in one binary (one link instead of one per file).
//!
//! Modules are named by kind of test:
//! - `oracle_*`: reference values from outside radx (the IBSI digital phantom and the IBSI
//!   processing diagnostics, PyRadiomics' own outputs);
//! - `invariant_*`: properties that must hold on any input (reading only the ROI's box gives
//!   what reading the whole volumes gives);
//! - `mechanics_*`: how inputs, errors and options behave (files, volumes and bytes alike);
//! - `regression_*`: pinned outputs (insta snapshots, `snapshots/`).
//!
//! `common` holds the shared helpers (the repository's `tests/data`).

mod common;

mod invariant_maps;
mod invariant_maps_window_mask;
mod invariant_read_paths;
mod invariant_reference_order;
mod mechanics_case_inputs;
mod mechanics_docs;
mod mechanics_feature_tests;
mod mechanics_filters;
mod mechanics_memory;
mod mechanics_pyradiomics_image_types;
mod mechanics_references;
mod oracle_cross_family;
mod oracle_ibsi2;
mod oracle_ibsi_diagnostics;
mod oracle_ibsi_digital;
mod oracle_pyradiomics;
mod oracle_pyradiomics_diagnostics;
mod oracle_pyradiomics_differential;
mod oracle_pyradiomics_distances;
mod oracle_pyradiomics_examples;
mod oracle_pyradiomics_pixel_types;
mod oracle_pyradiomics_resampling;
mod oracle_pyradiomics_voxel;
mod regression_extract;
mod regression_link_diagnostics;
