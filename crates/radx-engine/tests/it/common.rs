//! Shared helpers: the test data stays in the repository's `tests/data`.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root (this crate is `crates/radx-engine`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tests/data` of the repository root.
pub fn test_data() -> PathBuf {
    repo_root().join("tests/data")
}

/// Every row of the IBSI digital phantom (its test settings) with the library of those
/// settings plus `files` (name, text) added.
pub fn digital_phantom_rows(files: &[(String, &str)]) -> Vec<radx_engine::FeatureRow> {
    digital_phantom_rows_of(files, |_| true)
}

/// [`digital_phantom_rows`] extracting only the compiled families for which `keep` holds
/// (a run without some family, as a filter's stage may be).
pub fn digital_phantom_rows_of(
    files: &[(String, &str)],
    keep: impl Fn(&radx_engine::library::LibraryFamily) -> bool,
) -> Vec<radx_engine::FeatureRow> {
    let settings = radx_engine::Settings::from_file(&test_data().join("ibsi/digital_phantom.toml")).expect("settings");
    let mut library = radx_engine::library::Library::for_settings(&settings);
    for (name, text) in files {
        library.add_text(name, text);
    }
    let registry = radx_engine::sources::registry(&settings);
    let families: Vec<_> =
        library.compile(&registry).unwrap_or_else(|e| panic!("{e}")).into_iter().filter(keep).collect();
    let phantom = test_data().join("ibsi/digital_phantom");
    let processed = radx_engine::pipeline::process_files(
        &phantom.join("image.nii.gz"),
        &phantom.join("mask.nii.gz"),
        radx_engine::core::label::LabelSelection::Label(1),
        &settings,
    )
    .expect("processes");
    radx_engine::extract::extract(&processed, &settings, &families)
}
