//! Oracle: PyRadiomics' `diagnostics_*` values (its baseline outputs'
//! `diagnostics_Image-*` and `diagnostics_Mask-*` rows, tests/data/pyradiomics/baseline/)
//! computed by radx for brain2 and breast1, without and with resampling: SHA-1 hashes of
//! the voxel data, geometry, ROI bounding box, voxel and part counts, centre of mass,
//! intensity statistics. Text values must be equal; numbers within 1e-12 relative.

use std::collections::BTreeMap;

use radx_engine::compat::pyradiomics::diagnostics::diagnostics;
use radx_engine::compat::pyradiomics::load_settings;
use radx_engine::{Case, Extractor};

/// (column, row, reason) not reproduced yet, printed and skipped.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[(
    "breast1_resampling",
    "diagnostics_Image-interpolated_Mean",
    "radx's B-spline resampling truncates 2 of the 3584 voxels of the resampled crop to another integer \
     than SimpleITK (sum 2 apart; issue 22, PyRadiomics' processing); PyRadiomics 3.0.1 agrees with the baseline",
)];

/// column → row name → text, over every baseline file.
fn baseline() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let folder = crate::common::test_data().join("pyradiomics/baseline");
    for entry in std::fs::read_dir(folder).expect("baseline folder") {
        let mut reader = csv::Reader::from_path(entry.expect("entry").path()).expect("baseline csv");
        let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
        for record in reader.records().map(|r| r.expect("row")) {
            for (column, value) in header.iter().zip(record.iter()).skip(1).filter(|(_, v)| !v.is_empty()) {
                out.entry(column.clone()).or_default().insert(record[0].to_string(), value.to_string());
            }
        }
    }
    out
}

/// Numbers of a value: `(1.5, 2)` → [1.5, 2]; a single number → [it]; text → none.
fn numbers(text: &str) -> Option<Vec<f64>> {
    text.trim_matches(|c| c == '(' || c == ')').split(", ").map(|n| n.parse::<f64>().ok()).collect()
}

fn same(want: &str, got: &str) -> bool {
    match (numbers(want), numbers(got)) {
        (Some(w), Some(g)) if w.len() == g.len() => {
            w.iter().zip(&g).all(|(w, g)| (w - g).abs() <= 1e-12 * w.abs().max(1.0))
        }
        _ => want == got,
    }
}

#[test]
fn image_and_mask_diagnostics_are_pyradiomics() {
    let baseline = baseline();
    let data = crate::common::test_data().join("pyradiomics/data");
    let mut compared = 0;
    for column in ["brain2", "breast1", "brain2_resampling", "breast1_resampling"] {
        let case = column.split('_').next().expect("case");
        let params = crate::common::test_data().join(format!("pyradiomics/params/{column}.yaml"));
        let settings = load_settings(&params, false).expect("parameter file").settings;
        let extractor = Extractor::new(settings, &[], Default::default()).expect("library");
        let files = Case::new(data.join(format!("{case}_image.nrrd")), data.join(format!("{case}_label.nrrd")));
        let got: BTreeMap<String, String> = diagnostics(&extractor, &files).expect("diagnostics").into_iter().collect();
        for (name, want) in baseline[column].iter().filter(|(n, _)| n.contains("Image-") || n.contains("Mask-")) {
            if let Some((_, _, reason)) = KNOWN_GAPS.iter().find(|g| (g.0, g.1) == (column, name.as_str())) {
                println!("known gap: {column} {name}: {reason}");
                continue;
            }
            let value = got.get(name).unwrap_or_else(|| panic!("{column}: {name} missing"));
            assert!(same(want, value), "{column}: {name} = {value}, PyRadiomics {want}");
            compared += 1;
        }
    }
    // The baseline's Image-/Mask- rows: 6 per case without resampling (2 hashes, spacing,
    // BoundingBox, VoxelNum, VolumeNum), 29 per case with (sizes, spacings, statistics and
    // the interpolated image's and mask's too), less the one known gap: 6 + 6 + 29 + 29 − 1.
    assert_eq!(compared, 69, "every baseline diagnostic but the known gap is compared");
}

/// The order and the set of columns PyRadiomics 3.0.1 writes (here for a case with
/// resampling and re-segmentation).
#[test]
fn diagnostics_come_in_pyradiomics_order() {
    let data = crate::common::test_data().join("pyradiomics/data");
    let params = crate::common::test_data().join("pyradiomics/params/brain2_resampling.yaml");
    let mut settings = load_settings(&params, false).expect("parameter file").settings;
    settings.resegment.range = Some([100.0, f64::INFINITY]);
    let extractor = Extractor::new(settings, &[], Default::default()).expect("library");
    let files = Case::new(data.join("brain2_image.nrrd"), data.join("brain2_label.nrrd"));
    let names: Vec<String> = diagnostics(&extractor, &files).expect("diagnostics").into_iter().map(|d| d.0).collect();
    let mut want: Vec<String> = ["PyRadiomics", "Numpy", "SimpleITK", "PyWavelet", "Python"]
        .iter()
        .map(|v| format!("Versions_{v}"))
        .chain(["Configuration_Settings".into(), "Configuration_EnabledImageTypes".into()])
        .collect();
    let image = ["Spacing", "Size", "Mean", "Minimum", "Maximum"];
    let mask = ["Spacing", "Size", "BoundingBox", "VoxelNum", "VolumeNum", "CenterOfMassIndex", "CenterOfMass"];
    want.extend(["Image-original_Hash".into(), "Image-original_Dimensionality".into()]);
    want.extend(image.iter().map(|k| format!("Image-original_{k}")));
    want.push("Mask-original_Hash".into());
    want.extend(mask.iter().map(|k| format!("Mask-original_{k}")));
    want.extend(image.iter().map(|k| format!("Image-interpolated_{k}")));
    for stage in ["interpolated", "resegmented"] {
        want.extend(mask.iter().chain(&["Mean", "Minimum", "Maximum"]).map(|k| format!("Mask-{stage}_{k}")));
    }
    let want: Vec<String> = want.into_iter().map(|n| format!("diagnostics_{n}")).collect();
    assert_eq!(names, want);
}
