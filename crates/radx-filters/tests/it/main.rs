//! radx-filters' integration tests, one module per kind: oracle (IBSI-2 reference maps),
//! invariant (proptest), mechanics (errors).

mod support;

mod invariant_fourier;
mod invariant_riesz_aligned;
mod invariant_separable;
mod mechanics_fourier;
mod mechanics_separable;
mod mechanics_working_bytes;
mod oracle_phase1_fourier;
mod oracle_phase1_separable;
mod oracle_pyradiomics_image_types;
