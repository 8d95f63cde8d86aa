//! radx (command line) integration tests, in one binary (one link instead of one per file).
//! They run the `radx` executable (`CARGO_BIN_EXE_radx`, which only this package's tests
//! see) or scan the whole repository; tests of the library API live in the crates
//! (`crates/*/tests/it/`).
//!
//! Modules are named by kind of test:
//! - `invariant_*`: properties that must hold on any input (output independent of the thread
//!   count; no import cycle across modules in any crate of the repository);
//! - `mechanics_*`: how the command line behaves end to end (subcommands, errors and hostile
//!   input, extraction, batches and tables, plugins, PyRadiomics drop-in);
//! - `oracle_*`: values from outside radx (the example plugins' against numpy).

mod common;
mod invariant_architecture;
mod invariant_threads;
mod mechanics_batch;
mod mechanics_cli;
mod mechanics_dicom;
mod mechanics_errors;
mod mechanics_extract;
mod mechanics_filters;
mod mechanics_lang_tools;
mod mechanics_maps;
mod mechanics_no_panic;
mod mechanics_plugin_filters;
mod mechanics_plugin_params;
mod mechanics_plugin_sources;
mod mechanics_plugins;
mod mechanics_pyradiomics;
mod mechanics_reliability;
mod oracle_plugin_filters;
mod oracle_plugin_peritumoral;
mod oracle_plugin_profiles;
