//! Mechanics of `radx map`: one file per feature, PyRadiomics' names from its parameter
//! files, formats, and errors for bad requests. Values are checked in radx-engine's
//! `oracle_pyradiomics_voxel` and `invariant_maps`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

fn radx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_radx")).args(args).output().expect("radx runs")
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn pyradiomics_parameter_file_writes_one_nifti_per_feature_with_its_names() {
    let out = tempfile::tempdir().unwrap();
    let params = out.path().join("glcm.yaml");
    std::fs::write(
        &params,
        "imageType:\n  Original: {}\nfeatureClass:\n  glcm: [JointEntropy, Contrast]\nsetting:\n  binWidth: 25\n  \
         label: 1\nvoxelSetting:\n  kernelRadius: 1\n  initValue: nan\n",
    )
    .unwrap();
    let dir = out.path().join("maps");
    let o = radx(&[
        "map",
        "--image",
        &s(&data("pyradiomics/data/brain2_image.nrrd")),
        "--mask",
        &s(&data("pyradiomics/data/brain2_label.nrrd")),
        "--settings",
        &s(&params),
        "-o",
        &s(&dir),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(names(&dir), ["original_glcm_Contrast.nii.gz", "original_glcm_JointEntropy.nii.gz"]);
    let map = radx_engine::io::read_volume(&dir.join("original_glcm_JointEntropy.nii.gz")).unwrap();
    let image = radx_engine::io::read_volume(&data("pyradiomics/data/brain2_image.nrrd")).unwrap();
    assert_eq!(map.grid.dims, image.grid.dims);
    let finite = map.data.iter().filter(|v| v.is_finite()).count();
    assert_eq!(finite, 453, "a value at every ROI voxel, NaN elsewhere");
}

#[test]
fn ibsi_maps_are_named_by_family_feature_and_aggregation_and_nrrd_works() {
    let out = tempfile::tempdir().unwrap();
    let o = radx(&[
        "map",
        "--image",
        &s(&data("pyradiomics/data/breast1_image.nrrd")),
        "--mask",
        &s(&data("pyradiomics/data/breast1_label.nrrd")),
        "--family",
        "intensity_statistics",
        "--radius",
        "1",
        "--format",
        "nrrd",
        "-o",
        &s(out.path()),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names = names(out.path());
    assert!(names.contains(&"original_intensity_statistics_mean_intensity.nrrd".to_string()), "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".nrrd") && !n.starts_with('.')), "{names:?}");
}

#[test]
fn bad_radius_and_whole_roi_family_are_errors() {
    let out = tempfile::tempdir().unwrap();
    let base = |extra: &[&str]| {
        let mut args = vec![
            "map".to_string(),
            "--image".into(),
            s(&data("pyradiomics/data/breast1_image.nrrd")),
            "--mask".into(),
            s(&data("pyradiomics/data/breast1_label.nrrd")),
            "-o".into(),
            s(out.path()),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        radx(&args)
    };
    let o = base(&["--radius", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("radius"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = base(&["--radius", "1", "--family", "morphology"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("whole ROI"));
    assert!(names(out.path()).is_empty());
}
