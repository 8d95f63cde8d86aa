//! Voxel-wise feature maps against PyRadiomics 3.0.1's voxel-based extraction
//! (`tests/data/pyradiomics/voxel/`: the parameter file, the script that made the maps and
//! the maps at every ROI voxel of brain2).

use std::collections::BTreeMap;

use radx_engine::maps::{MapOptions, feature_maps};
use radx_engine::{Case, Extractor};

use crate::common::test_data;

/// Where radx's map differs from PyRadiomics' (docs/maps.md), with the reason; `expected`
/// is PyRadiomics' value.
fn known_difference(name: &str, expected: f64) -> Option<&'static str> {
    match name {
        // PyRadiomics 3.0.1's voxel-based MCC fails on every voxel (it leaves initValue).
        "original_glcm_MCC" if expected.is_nan() => Some("PyRadiomics fails"),
        // PyRadiomics leaves NaN where one of the window's 13 angles has no pair.
        "original_glcm_JointAverage" if expected.is_nan() => Some("PyRadiomics NaN with an empty angle"),
        _ => None,
    }
}

/// One PyRadiomics voxel-based run: the case, its parameter file (relative to
/// `tests/data/pyradiomics/voxel/`), the maps PyRadiomics wrote and its ROI's voxel count.
struct Run {
    case: &'static str,
    params: &'static str,
    fixture: &'static str,
    voxels: usize,
}

/// Compare radx's maps with PyRadiomics' at every ROI voxel; returns how many values were
/// compared. Failures list each differing map once, with its first voxel.
fn compare(run: &Run) -> usize {
    let dir = test_data().join("pyradiomics/voxel");
    let settings =
        radx_engine::compat::pyradiomics::load_settings(&dir.join(run.params), false).expect("parameter file").settings;
    let options = MapOptions::from_voxel_setting(&settings).expect("voxelSetting");
    let extractor = Extractor::new(settings, &[], Default::default()).unwrap().with_pyradiomics_names().unwrap();
    let data = test_data().join("pyradiomics/data");
    let case = Case::new(data.join(format!("{}_image.nrrd", run.case)), data.join(format!("{}_label.nrrd", run.case)))
        .with_roi(1);
    let maps = feature_maps(&extractor, &case, &options).expect("maps");

    let text = std::fs::read_to_string(dir.join(run.fixture)).expect("fixture");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let names: BTreeMap<String, usize> = maps.keys.iter().enumerate().map(|(i, k)| (k.feature.clone(), i)).collect();
    let mut failures: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    let (mut voxels, mut compared) = (0, 0);
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let index = [0, 1, 2].map(|a| cells[a].parse::<usize>().unwrap());
        voxels += 1;
        for (column, cell) in header.iter().zip(&cells).skip(3) {
            let expected: f64 = cell.parse().unwrap();
            let Some(&f) = names.get(*column) else {
                failures
                    .entry(column)
                    .or_insert((0, format!("no such map among {:?}", names.keys().take(3).collect::<Vec<_>>())))
                    .0 += 1;
                continue;
            };
            let got = maps.value_at(f, index).expect("a ROI voxel has a value");
            compared += 1;
            let ok = (expected.is_nan() && got.is_nan())
                || (got - expected).abs() <= 1e-6 * expected.abs().max(1e-9)
                || (got - expected).abs() <= 1e-9;
            if !ok && known_difference(column, expected).is_none() {
                let e = failures.entry(column).or_insert((0, format!("{index:?}: radx {got}, PyRadiomics {expected}")));
                e.0 += 1;
            }
        }
    }
    assert_eq!((voxels, maps.voxels.len()), (run.voxels, run.voxels), "{}", run.fixture);
    let report: Vec<String> = failures.iter().map(|(c, (n, first))| format!("{c}: {n} voxels, e.g. {first}")).collect();
    assert!(report.is_empty(), "{}: {} maps differ:\n{}", run.fixture, report.len(), report.join("\n"));
    compared
}

#[test]
fn brain2_every_class_radius_1_matches_pyradiomics() {
    let run = Run { case: "brain2", params: "brain2_r1.yaml", fixture: "brain2_r1.csv", voxels: 453 };
    assert_eq!(compare(&run), 453 * 93);
}

#[test]
fn brain2_every_class_radius_2_matches_pyradiomics() {
    let run = Run { case: "brain2", params: "every_class_r2.yaml", fixture: "brain2_r2.csv", voxels: 453 };
    assert_eq!(compare(&run), 453 * 93);
}

#[test]
fn breast1_every_class_radius_1_and_2_match_pyradiomics() {
    for (params, fixture) in [("brain2_r1.yaml", "breast1_r1.csv"), ("every_class_r2.yaml", "breast1_r2.csv")] {
        let run = Run { case: "breast1", params, fixture, voxels: 143 };
        assert_eq!(compare(&run), 143 * 93, "{fixture}");
    }
}

/// `distances: [1, 2]`: every map's matrices take the offsets of both distances.
#[test]
fn brain2_two_distances_match_pyradiomics() {
    let run = Run {
        case: "brain2",
        params: "every_class_r1_distances_1_2.yaml",
        fixture: "brain2_r1_distances_1_2.csv",
        voxels: 453,
    };
    assert_eq!(compare(&run), 453 * 93);
}

/// PyRadiomics' own `exampleVoxel.yaml` (GLCM JointEntropy, force2D, radius 2).
#[test]
fn example_voxel_parameter_file_matches_pyradiomics_on_both_cases() {
    for (case, voxels) in [("brain2", 453), ("breast1", 143)] {
        let fixture: &'static str =
            if case == "brain2" { "brain2_example_voxel.csv" } else { "breast1_example_voxel.csv" };
        let run = Run { case, params: "../params/examples/exampleVoxel.yaml", fixture, voxels };
        assert_eq!(compare(&run), voxels, "{fixture}");
    }
}
