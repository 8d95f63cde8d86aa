//! radx-plugin integration tests, in one binary (one link instead of one per file).
//!
//! Modules are named by kind of test; all are `mechanics_*`: the export macros exercised
//! in-process, and the C header's layout checked against the Rust ABI types.

mod mechanics_export_filters;
mod mechanics_export_macro;
mod mechanics_header_layout;
