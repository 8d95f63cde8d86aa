//! `compile_files` spreads files over compiler threads; what it returns must not show it:
//! each file's result, in the files' order, as `compile` gives for that file alone.

use crate::common;
use radx_dsl::{CompiledFile, Diagnostics, compile, compile_files};

/// A comparable account of a result: each family's plan, or the rendered diagnostics.
fn account(result: &Result<CompiledFile, Diagnostics>) -> String {
    match result {
        Ok(file) => file.families().iter().map(|f| f.explain()).collect::<Vec<_>>().join("\n"),
        Err(diagnostics) => format!("error: {diagnostics}"),
    }
}

#[test]
fn every_file_compiles_as_alone_and_in_order() {
    let registry = common::standard_registry();
    let names = ["glcm.radx", "ngtdm.radx", "intensity_statistics.radx", "glrlm.radx", "local_intensity.radx"];
    let mut files: Vec<(String, String)> =
        names.iter().map(|n| (n.to_string(), common::read_feature_file(n))).collect();
    // A broken file in the middle: its diagnostics stay in its place.
    files.insert(2, ("broken.radx".into(), "family broken over glcm {\n  feature x = undefined_name\n}\n".into()));
    let pairs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let together = compile_files(&pairs, &registry);
    assert_eq!(together.len(), files.len());
    assert!(together[2].is_err(), "the broken file compiled");
    for ((name, text), result) in pairs.iter().zip(&together) {
        assert_eq!(account(result), account(&compile(name, text, &registry)), "{name}");
    }
}

#[test]
fn no_files_compile_to_nothing() {
    assert!(compile_files(&[], &common::standard_registry()).is_empty());
}
