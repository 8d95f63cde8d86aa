//! Oracle: PyRadiomics 3.0.1 with `distances` other than [1] (tests/data/pyradiomics/distances,
//! made by generate.py there): [2], [1, 2], [1, 2, 3] and a repeated [1, 1, 2], 3D and with
//! force2D, a non-symmetric GLCM and a weighting norm, on brain2 and breast1. Its GLCM takes
//! every offset whose Chebyshev norm is listed, its GLDM and NGTDM the same offsets as the
//! neighbourhood; every glcm, glrlm, glszm, gldm and ngtdm value within 1e-6 relative (1e-9
//! absolute), every value compared. Also on small generated cases (two of each class of the
//! differential set, generate_differential.py there), whose ROIs fit few of the angles.

use std::collections::BTreeMap;
use std::path::PathBuf;

use radx_engine::compat::pyradiomics::load_settings;
use radx_engine::{Case, Extractor};

const PARAMS: [&str; 9] =
    ["d2", "d12", "d123", "d112", "d12_asymmetric", "d12_euclidean", "d2_2d", "d12_2d", "d123_2d"];

fn folder() -> PathBuf {
    crate::common::test_data().join("pyradiomics/distances")
}

type Expected = BTreeMap<(String, String), BTreeMap<String, f64>>;

/// (case, params) → feature → PyRadiomics' value, from `file`.
fn expected(file: &str) -> Expected {
    let path = folder().join(file);
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: BTreeMap<(String, String), BTreeMap<String, f64>> = BTreeMap::new();
    for record in reader.records().map(|r| r.expect("row")) {
        let value = record[3].parse().expect("a number");
        out.entry((record[0].to_string(), record[1].to_string())).or_default().insert(record[2].to_string(), value);
    }
    out
}

fn extractor(params: &str) -> Extractor {
    let loaded = load_settings(&folder().join(format!("{params}.yaml")), true).expect("the file loads, strictly");
    Extractor::new(loaded.settings, &[], Default::default()).and_then(Extractor::with_pyradiomics_names).unwrap()
}

fn values(extractor: &Extractor, case: &Case, what: &str) -> BTreeMap<String, f64> {
    let features = extractor.extract(case).unwrap_or_else(|e| panic!("{what}: {e}"));
    features.rows.into_iter().map(|r| (r.key.feature, r.value)).collect()
}

/// Each value of `want` against `got`; the differences, described, go to `failures`.
/// Returns the number of values compared.
fn compare(what: &str, want: &BTreeMap<String, f64>, got: &BTreeMap<String, f64>, failures: &mut Vec<String>) -> usize {
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{what}");
    for (feature, want) in want {
        let value = got[feature];
        let diff = (value - want).abs();
        if !(diff <= 1e-6 * want.abs() || diff <= 1e-9 || (value.is_nan() && want.is_nan())) {
            failures.push(format!("{what}: {feature} = {value}, PyRadiomics {want}"));
        }
    }
    want.len()
}

#[test]
fn several_distances_match_pyradiomics() {
    let expected = expected("expected.csv");
    let data = crate::common::test_data().join("pyradiomics/data");
    let mut failures = Vec::new();
    let mut compared = 0;
    for params in PARAMS {
        let extractor = extractor(params);
        for case in ["brain2", "breast1"] {
            let want = &expected[&(case.to_string(), params.to_string())];
            let files = Case::new(data.join(format!("{case}_image.nrrd")), data.join(format!("{case}_label.nrrd")));
            let what = format!("{case} {params}");
            compared += compare(&what, want, &values(&extractor, &files, &what), &mut failures);
        }
    }
    assert_eq!(compared, PARAMS.len() * 2 * 75, "every value compared");
    assert!(failures.is_empty(), "{} of {compared} differ:\n{}", failures.len(), failures.join("\n"));
}

/// The differential set's cases: name → (image, mask, label), paths from its folder.
fn differential_cases() -> BTreeMap<String, (String, String, i64)> {
    let path = crate::common::test_data().join("pyradiomics/differential/cases.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows = reader.records().map(|r| r.expect("row"));
    rows.map(|r| (r[0].to_string(), (r[3].to_string(), r[4].to_string(), r[5].parse().expect("a label")))).collect()
}

#[test]
fn several_distances_match_pyradiomics_on_small_generated_cases() {
    let expected = expected("differential.csv");
    let cases = differential_cases();
    let root = crate::common::test_data().join("pyradiomics/differential");
    let mut extractors = BTreeMap::new();
    let mut failures = Vec::new();
    let mut compared = 0;
    for ((case, params), want) in &expected {
        let extractor = extractors.entry(params.clone()).or_insert_with(|| extractor(params));
        let (image, mask, label) = &cases[case];
        let files = Case::new(root.join(image), root.join(mask)).with_roi(*label);
        let what = format!("{case} {params}");
        compared += compare(&what, want, &values(extractor, &files, &what), &mut failures);
    }
    // 18 cases (PyRadiomics refuses 4 of the 22 chosen: differential_refused.csv) × 5 files.
    assert_eq!(compared, 18 * 5 * 75, "every value compared");
    assert!(failures.is_empty(), "{} of {compared} differ:\n{}", failures.len(), failures.join("\n"));
}

/// ROIs too small for some listed distance (too_small/, generate_too_small.py there): where
/// some angle fits, every value equals PyRadiomics'; where none of any listed distance fits,
/// PyRadiomics refuses the whole case ("Error getting angle count.", too_small/refused.csv)
/// and radx keeps it: the GLCM features are NaN with a note saying there was nothing to
/// count, the classes that do not need a pair (GLRLM, GLSZM) keep their values, and GLDM and
/// NGTDM count voxels with no neighbour in the ROI (docs/from-pyradiomics.md).
#[test]
fn rois_too_small_for_the_listed_distances() {
    let root = folder().join("too_small");
    let expected = expected("too_small/expected.csv");
    let mut failures = Vec::new();
    let mut compared = 0;
    for ((case, params), want) in &expected {
        let files = Case::new(root.join("image.nrrd"), root.join(format!("{case}_mask.nrrd")));
        let what = format!("{case} {params}");
        compared +=
            compare(&what, want, &values(&extractor(&format!("too_small/{params}")), &files, &what), &mut failures);
    }
    assert_eq!(compared, 3 * 75, "cube2 d13, square3 d23_2d and bar d3_2d, every value compared");
    assert!(failures.is_empty(), "{} of {compared} differ:\n{}", failures.len(), failures.join("\n"));

    let refused = csv::Reader::from_path(root.join("refused.csv")).expect("refused.csv").into_records();
    let mut kept = 0;
    for record in refused.map(|r| r.expect("row")) {
        let (case, params) = (&record[0], &record[1]);
        assert_eq!(&record[2], "Error getting angle count.", "{case} {params}");
        let files = Case::new(root.join("image.nrrd"), root.join(format!("{case}_mask.nrrd")));
        let rows = extractor(&format!("too_small/{params}")).extract(&files).expect("radx keeps the case").rows;
        for row in &rows {
            let glcm = row.key.feature.contains("_glcm_");
            assert_eq!(row.value.is_nan(), glcm, "{case} {params}: {} = {}", row.key.feature, row.value);
            if glcm {
                assert!(
                    row.note.as_deref().is_some_and(|n| n.contains("nothing to count")),
                    "{case} {params}: {row:?}"
                );
            }
        }
        assert_eq!(rows.len(), 75, "{case} {params}: every class' rows");
        kept += 1;
    }
    assert_eq!(kept, 3, "cube2 d2, cube2 d3 and square3 d3_2d");
}
