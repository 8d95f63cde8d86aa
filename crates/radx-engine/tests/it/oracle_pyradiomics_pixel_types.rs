//! Oracle: PyRadiomics' numbers depend on the image file's voxel type — SimpleITK resamples
//! into the image's own pixel type (uint16 clamps the B-spline's undershoot at 0, float32
//! keeps it and every fraction) and LBP images take the input's dtype. brain2 and breast1
//! as uint16 and as float32 (tests/data/pyradiomics/pixel_types, made and extracted with
//! PyRadiomics 3.0.1 by generate.py there), from the files and from arrays in the same
//! types: every feature within 1e-6 relative (1e-9 absolute), every value compared.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use radx_engine::arrays::{OwnedArray, VoxelArray};
use radx_engine::compat::pyradiomics::load_settings;
use radx_engine::{Case, Extractor, VolumeSource};

fn folder() -> PathBuf {
    crate::common::test_data().join("pyradiomics/pixel_types")
}

fn expected(name: &str) -> BTreeMap<String, f64> {
    let path = folder().join(format!("{name}.csv"));
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader.records().map(|r| r.expect("row")).map(|r| (r[0].to_string(), r[1].parse().expect("a number"))).collect()
}

fn extractor() -> Extractor {
    let loaded = load_settings(&folder().join("params.yaml"), false).expect("the file loads");
    Extractor::new(loaded.settings, &[], Default::default()).and_then(Extractor::with_pyradiomics_names).unwrap()
}

/// The file as an array of its own type, as the Python package hands numpy arrays over.
fn as_array(path: &std::path::Path, name: &str) -> VolumeSource {
    let volume = radx_engine::io::read_volume(path).unwrap();
    let array: Arc<dyn VoxelArray> = if name.ends_with("uint16") {
        Arc::new(OwnedArray { grid: volume.grid, data: Arc::new(volume.data.mapv(|v| v as u16)) })
    } else {
        Arc::new(OwnedArray { grid: volume.grid, data: Arc::new(volume.data.mapv(|v| v as f32)) })
    };
    VolumeSource::Array { name: name.into(), array }
}

#[test]
fn resampling_and_lbp_follow_the_files_voxel_type() {
    let extractor = extractor();
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in ["brain2", "breast1"] {
        for kind in ["uint16", "float32"] {
            let name = format!("{case}_{kind}");
            let want = expected(&name);
            let (image, mask) = (folder().join(format!("{name}.nrrd")), folder().join(format!("{case}_label.nrrd")));
            let from_file = Case::new(image.clone(), mask.clone());
            let from_array = Case::new(as_array(&image, &name), mask.clone());
            for (how, case) in [("file", from_file), ("array", from_array)] {
                let got: BTreeMap<String, f64> = extractor
                    .extract(&case)
                    .unwrap_or_else(|e| panic!("{name}: {e}"))
                    .rows
                    .into_iter()
                    .map(|r| (r.key.feature, r.value))
                    .collect();
                assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{name} from {how}");
                for (feature, want) in &want {
                    let value = got[feature];
                    let diff = (value - want).abs();
                    compared += 1;
                    if !(diff <= 1e-6 * want.abs() || diff <= 1e-9 || (value.is_nan() && want.is_nan())) {
                        failures.push(format!("{name} from {how}: {feature} = {value}, PyRadiomics {want}"));
                    }
                }
            }
        }
    }
    assert_eq!(compared, 2 * 2 * 2 * 186, "every value compared");
    assert!(failures.is_empty(), "{} of {compared} differ:\n{}", failures.len(), failures.join("\n"));
}
