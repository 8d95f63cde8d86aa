//! Mechanics of `radx map`: one file per feature, PyRadiomics' names from its parameter
//! files, formats, and errors for bad requests. Values are checked in radx-engine's
//! `oracle_pyradiomics_voxel` and `invariant_maps`.

use crate::common::{data, radx, s};
use std::path::Path;

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

/// `--preview` draws the middle slice into a PNG: the image's panel and one per map, in
/// ⌈√panels⌉ columns at least 200 pixels wide (pixels: `maps::preview`'s tests).
#[test]
fn preview_writes_a_png_of_the_image_and_every_map() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("maps");
    let png = out.path().join("maps.png");
    let run = |preview: &Path| {
        radx(&[
            "map",
            "--image",
            &s(&data("pyradiomics/data/brain2_image.nrrd")),
            "--mask",
            &s(&data("pyradiomics/data/brain2_label.nrrd")),
            "--family",
            "intensity_statistics",
            "--radius",
            "1",
            "-o",
            &s(&dir),
            "--preview",
            &s(preview),
        ])
    };
    let o = run(&png);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    let maps = names(&dir).len();
    let columns = ((maps + 1) as f64).sqrt().ceil() as u32;
    // Each panel: a title, the slice (not square: its height varies), a bar and its labels.
    let rows = (maps as u32 + 1).div_ceil(columns);
    assert!(width >= columns * 200 && height >= rows * 60, "{width}×{height}, {maps} maps");

    let missing = out.path().join("no-such-folder").join("p.png");
    let o = run(&missing);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("no-such-folder"), "the error names the file: {stderr}");
    let o = run(&data("pyradiomics/data/brain2_image.nrrd"));
    assert!(!o.status.success(), "the preview would replace the image");
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
    let o = base(&["--sphere-mm", "0.1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("only its centre voxel"));
    let o = base(&["--radius", "1", "--sphere-mm", "2"]);
    assert_eq!(o.status.code(), Some(2), "a cube and a sphere at once");
    let o = base(&["--radius", "1", "--family", "morphology"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("whole ROI"));
    assert!(names(out.path()).is_empty());
}

/// `radx map` takes DICOM as `radx extract` does: the series with its SEG's "box" segment
/// maps exactly as the series with a NIfTI label map of the same box (make_seg.py's formula).
#[test]
fn dicom_series_with_a_seg_maps_as_with_the_same_nifti_mask() {
    let dir = tempfile::tempdir().unwrap();
    let seg = data("dicom/seg");
    let series = radx_dicom::read_series(&seg.join("series")).unwrap();
    let mut box_mask = radx_engine::core::Volume::filled(series.volume.grid, 0.0);
    for ((x, y, z), v) in box_mask.data.indexed_iter_mut() {
        *v = f64::from(u8::from((4..=11).contains(&x) && (2..=6).contains(&y) && (1..=4).contains(&z)));
    }
    let nifti_mask = dir.path().join("box.nii.gz");
    radx_engine::io::write_nifti(&nifti_mask, &box_mask, radx_engine::io::NiftiType::U8).unwrap();
    let image = s(&seg.join("series"));
    let map = |mask: &Path, extra: &[&str], out: &str| {
        let out = dir.path().join(out);
        let mut args = vec!["map", "--image", &image, "--family", "intensity_statistics", "--radius", "1"];
        let (mask, out_s) = (s(mask), s(&out));
        args.extend(["--mask", &mask, "-o", &out_s]);
        args.extend(extra);
        let o = radx(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let from_seg = map(&seg.join("seg_binary.dcm"), &["--segment", "box"], "seg");
    let from_nifti = map(&nifti_mask, &[], "nifti");
    let file = "original_intensity_statistics_mean_intensity.nii.gz";
    let (a, b) = (
        radx_engine::io::read_volume(&from_seg.join(file)).unwrap(),
        radx_engine::io::read_volume(&from_nifti.join(file)).unwrap(),
    );
    assert_eq!(names(&from_seg), names(&from_nifti));
    assert_eq!(a.grid.dims, b.grid.dims);
    let finite = a.data.iter().filter(|v| v.is_finite()).count();
    assert_eq!(finite, 8 * 5 * 4, "a value at every voxel of the box");
    assert!(a.data.iter().zip(b.data.iter()).all(|(x, y)| x.to_bits() == y.to_bits()));
}
