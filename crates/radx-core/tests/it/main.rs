//! radx-core integration tests, in one binary (one link instead of one per file).
//!
//! Modules are named by kind of test:
//! - `oracle_*`: reference values from outside radx (the IBSI manual and its comparison tables);
//! - `invariant_*`: properties that must hold on any input (mostly proptest).
//! - `mechanics_*`: which path a computation takes, and what it needs.

mod invariant_glcm_glrlm;
mod invariant_morphology;
mod invariant_processing;
mod invariant_zone_matrices;
mod mechanics_intensity_peaks;
mod oracle_glcm_glrlm;
mod oracle_ibsi_processing;
mod oracle_mesh_ct;
mod oracle_morphology;
mod oracle_ngtdm_isolated;
mod oracle_zone_matrices;
