//! `feature_tests::run_file`, the runner behind `radx test`: the shipped IBSI expectations
//! pass, a wrong value is a failed result carrying the computed value, and each way an
//! `expect` line or a test's inputs can be wrong is an error naming the file and line
//! (snapshotted, with the temporary folder written as `<dir>`).

use std::path::Path;

use radx_engine::feature_tests::{TestError, run_file};

/// A test block over the digital phantom (absolute paths, so the file can live anywhere).
fn phantom_test(expect: &str) -> String {
    let data = crate::common::test_data().join("ibsi");
    format!(
        "test \"phantom\" {{\n  image = \"{}\"\n  mask = \"{}\"\n  settings = \"{}\"\n  {expect}\n}}\n",
        data.join("digital_phantom/image.nii.gz").display(),
        data.join("digital_phantom/mask.nii.gz").display(),
        data.join("digital_phantom.toml").display()
    )
}

fn run_text(dir: &Path, text: &str) -> Result<radx_engine::feature_tests::FileReport, TestError> {
    let path = dir.join("case.radx");
    std::fs::write(&path, text).expect("write");
    run_file(&path)
}

fn error_text(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = run_text(dir.path(), text).expect_err("an error");
    err.to_string().replace(&dir.path().display().to_string(), "<dir>")
}

#[test]
fn the_shipped_digital_phantom_expectations_all_pass() {
    let report = run_file(&crate::common::test_data().join("ibsi/digital_phantom.radx")).expect("runs");
    let failed: Vec<_> = report.tests.iter().flat_map(|t| &t.results).filter(|r| !r.pass).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // Every IBSI reference value of the digital phantom.
    assert_eq!(report.counts(), (482, 0));
}

#[test]
fn a_wrong_value_fails_with_the_computed_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    // IBSI: joint maximum (GYBY), 3D merged, 0.509; mean intensity (Q4LE) 2.15.
    let text = phantom_test("expect glcm.joint_maximum.3d_mrg = 0.4 ± 0.01\n  expect mean_intensity = 2.15 +- 0.005");
    let report = run_text(dir.path(), &text).expect("runs");
    assert!(!report.passed());
    let results = &report.tests[0].results;
    assert!(!results[0].pass);
    assert!((results[0].computed - 0.509).abs() <= 0.0005, "{:?}", results[0]);
    assert_eq!((results[0].expected, results[0].tolerance, results[0].line), (0.4, 0.01, 5));
    assert!(results[1].pass, "{:?}", results[1]);
    assert_eq!((results[1].family.as_str(), results[1].aggregation), ("intensity_statistics", None));
}

#[test]
fn missing_inputs_name_the_file_and_line() {
    let data = crate::common::test_data().join("ibsi");
    let no_mask = format!(
        "test \"phantom\" {{\n  image = \"{}\"\n  mask = \"no_such_mask.nii.gz\"\n  expect glcm.contrast.3d_avg = 5.28 ± 0.01\n}}\n",
        data.join("digital_phantom/image.nii.gz").display()
    );
    insta::assert_snapshot!("missing_mask", error_text(&no_mask));
    let no_settings = phantom_test("expect glcm.contrast.3d_avg = 5.28 ± 0.01")
        .replace("digital_phantom.toml", "no_such_settings.toml");
    let shown = error_text(&no_settings).replace(&data.display().to_string(), "<ibsi>");
    insta::assert_snapshot!("missing_settings", shown);
}

#[test]
fn unknown_targets_are_errors_that_say_how_to_fix_them() {
    for (name, expect) in [
        ("unknown_family", "expect glmc.contrast.3d_avg = 1 ± 1"),
        ("unknown_feature", "expect glcm.contrats.3d_avg = 1 ± 1"),
        ("unknown_aggregation", "expect glcm.contrast.4d_avg = 1 ± 1"),
        ("aggregation_of_a_family_without", "expect intensity_statistics.mean_intensity.3d_avg = 1 ± 1"),
        ("several_aggregations", "expect glcm.contrast = 1 ± 1"),
        ("several_families", "expect grey_level_non_uniformity.3d_avg = 1 ± 1"),
    ] {
        insta::assert_snapshot!(name, error_text(&phantom_test(expect)));
    }
}

#[test]
fn a_malformed_block_is_reported_before_anything_runs() {
    let text = "test \"phantom\" {\n  image = \"a.nii\"\n  expect glcm.contrast.3d_avg = 1 ± 1\n}\n";
    let shown = error_text(text);
    assert!(shown.starts_with("error: test \"phantom\" has no `mask`\n  --> <dir>/case.radx:1:6\n"), "{shown}");
}
