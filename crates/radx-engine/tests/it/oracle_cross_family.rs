//! Oracle: features built from other families' features (`glcm.contrast /
//! intensity_statistics.intensity_variance`, …; `tests/data/cross_family/features.radx`)
//! equal an independent numpy computation from the image and mask files
//! (`tests/data/cross_family/oracle.py` → `expected.csv`), on the IBSI digital phantom and
//! on brain2, for every aggregation.

use std::collections::HashMap;
use std::path::PathBuf;

use radx_engine::{Case, Extractor, Settings};

use crate::common::test_data;

/// The oracle's values: (case, family, feature, aggregation or `-`) → value.
fn expected() -> HashMap<(String, String, String, String), f64> {
    let text = std::fs::read_to_string(test_data().join("cross_family/expected.csv")).expect("expected.csv");
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let value: f64 = cells[4].parse().expect("a number");
            ((cells[0].into(), cells[1].into(), cells[2].into(), cells[3].into()), value)
        })
        .collect()
}

fn extract(case: &str, settings: PathBuf, image: PathBuf, mask: PathBuf) -> Vec<(String, String, String, String, f64)> {
    let settings = Settings::from_file(&settings).expect("settings");
    let features = [test_data().join("cross_family/features.radx")];
    let extractor = Extractor::new(settings, &features, Default::default()).expect("the feature file links");
    assert!(extractor.library_warnings.is_empty(), "{:?}", extractor.library_warnings);
    let rows = extractor.extract(&Case::new(image, mask)).expect("extracts");
    rows.rows
        .into_iter()
        .filter(|r| r.key.family.starts_with("cross_"))
        .map(|r| {
            let aggregation = r.key.aggregation_name().to_string();
            (case.to_string(), r.key.family, r.key.feature, aggregation, r.value)
        })
        .collect()
}

fn compare(rows: Vec<(String, String, String, String, f64)>, case: &str) {
    let expected = expected();
    let wanted = expected.keys().filter(|k| k.0 == case).count();
    assert_eq!(rows.len(), wanted, "{case}: every cross-family value (6 + 6 + 3 + 3 + 1) is computed");
    for (case, family, feature, aggregation, value) in rows {
        let key = (case, family, feature, aggregation);
        let reference = *expected.get(&key).unwrap_or_else(|| panic!("no oracle value for {key:?}"));
        let error = (value - reference).abs() / reference.abs().max(1e-300);
        assert!(error < 1e-12, "{key:?}: radx {value}, numpy {reference} (relative error {error:e})");
    }
}

#[test]
fn cross_family_features_equal_numpy_on_the_digital_phantom() {
    let phantom = test_data().join("ibsi/digital_phantom");
    let rows = extract(
        "digital_phantom",
        test_data().join("ibsi/digital_phantom.toml"),
        phantom.join("image.nii.gz"),
        phantom.join("mask.nii.gz"),
    );
    compare(rows, "digital_phantom");
}

#[test]
fn cross_family_features_equal_numpy_on_brain2() {
    let data = test_data().join("pyradiomics/data");
    let rows = extract(
        "brain2",
        test_data().join("cross_family/brain2.toml"),
        data.join("brain2_image.nrrd"),
        data.join("brain2_label.nrrd"),
    );
    compare(rows, "brain2");
}
