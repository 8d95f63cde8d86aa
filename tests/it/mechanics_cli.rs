//! Mechanics: the `radx` binary's commands, their output formats and their errors.

use std::path::{Path, PathBuf};

use crate::common::{data, radx, text};
use radx_engine::core::{Grid, Volume};
use radx_engine::io::{NiftiType, write_nifti};

fn phantom() -> (String, String, String) {
    let s = |p: PathBuf| p.to_string_lossy().into_owned();
    (
        s(data("ibsi/digital_phantom/image.nii.gz")),
        s(data("ibsi/digital_phantom/mask.nii.gz")),
        s(data("ibsi/digital_phantom.toml")),
    )
}

#[test]
fn info_prints_geometry_and_range() {
    let (image, _, _) = phantom();
    let out = radx(&["info", &image]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("dimensions:  5 x 4 x 4"), "{stdout}");
    assert!(stdout.contains("spacing:     2 x 2 x 2 mm"), "{stdout}");
    assert!(stdout.contains("datatype:    int16"), "{stdout}");
    assert!(stdout.contains("intensity:   1 .. 9"), "{stdout}");
}

/// The manual's 2D NGTDM of the phantom's first slice (table "NGTDM 2D", slice 1 of
/// tests/data/ibsi/digital_phantom_texture_matrices.csv).
#[test]
fn matrix_csv_reproduces_a_published_ngtdm() {
    let (image, mask, settings) = phantom();
    let args = [
        "matrix",
        "ngtdm",
        "--image",
        &image,
        "--mask",
        &mask,
        "--settings",
        &settings,
        "--aggregation",
        "2d_avg",
        "--slice",
        "1",
        "--format",
        "csv",
    ];
    let out = radx(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "slice,direction,i,count,s\n1,-,1,9,14.575\n1,-,4,8,5.775\n1,-,6,3,7.325\n");
}

#[test]
fn matrix_csv_has_sparse_columns_for_a_merged_matrix() {
    let (image, mask, settings) = phantom();
    let out =
        radx(&["matrix", "glszm", "--image", &image, "--mask", &mask, "--settings", &settings, "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("i,j,count"));
    // Σ zone size × count = 74 ROI voxels.
    let voxels: f64 = lines
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
            f[1] * f[2]
        })
        .sum();
    assert_eq!(voxels, 74.0);
}

fn write(dir: &Path, name: &str, grid: Grid, values: Vec<f64>) -> String {
    let path = dir.join(name);
    write_nifti(&path, &Volume::from_x_fastest(grid, values), NiftiType::F32).unwrap();
    path.to_string_lossy().into_owned()
}

fn fails_with(args: &[&str], words: &[&str]) {
    let out = radx(args);
    assert_eq!(out.status.code(), Some(2), "stdout: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for w in words {
        assert!(stderr.contains(w), "`{w}` missing from: {stderr}");
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::new([4, 4, 4], [1.0; 3]);
    let ones = vec![1.0; 64];
    let image = write(dir.path(), "image.nii.gz", grid, (0..64).map(f64::from).collect());
    let mask = write(dir.path(), "mask.nii.gz", grid, ones.clone());
    let other_grid = Grid::new([4, 4, 5], [1.0; 3]);
    let wrong = write(dir.path(), "wrong.nii.gz", other_grid, vec![1.0; 80]);
    let empty = write(dir.path(), "empty.nii.gz", grid, vec![0.0; 64]);
    let mut nan_values: Vec<f64> = (0..64).map(f64::from).collect();
    nan_values[21] = f64::NAN;
    let nan = write(dir.path(), "nan.nii.gz", grid, nan_values);
    let full = std::fs::read(data("ibsi/ct_phantom/image.nii.gz")).unwrap();
    let truncated = dir.path().join("truncated.nii.gz");
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let truncated = truncated.to_string_lossy().into_owned();

    let m = |img: &str, msk: &str| {
        vec!["matrix".to_string(), "glcm".into(), "--image".into(), img.into(), "--mask".into(), msk.into()]
    };
    let run =
        |args: Vec<String>, words: &[&str]| fails_with(&args.iter().map(String::as_str).collect::<Vec<_>>(), words);
    run(m(&image, &wrong), &["geometry differ", "size [4, 4, 4] vs [4, 4, 5]", "wrong.nii.gz"]);
    run(m(&image, &empty), &["label 1 does not occur", "empty.nii.gz"]);
    run(m(&nan, &mask), &["NaN or infinite", "nan.nii.gz"]);
    run(m(&truncated, &mask), &["truncated.nii.gz"]);
    run(m(&image, "/no/such/mask.nii.gz"), &["/no/such/mask.nii.gz"]);
    fails_with(&["info", &truncated], &["truncated.nii.gz"]);
}

/// `radx convert` turns the IBSI CT phantom's DICOM series and RTSTRUCT into NIfTI equal,
/// voxel for voxel, to the phantom's published NIfTI image and mask.
#[test]
fn convert_writes_the_dicom_phantom_as_its_published_nifti() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = (dir.path().join("image.nii.gz"), dir.path().join("mask.nii.gz"));
    let dicom = data("dicom/ibsi_1_ct_radiomics_phantom/dicom");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let out = radx(&[
        "convert",
        "--image",
        &s(&dicom.join("image")),
        "--mask",
        &s(&dicom.join("mask/DCM_RS_00060.dcm")),
        "--roi",
        "GTV-1",
        "--output-image",
        &s(&image),
        "--output-mask",
        &s(&mask),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let read = |p: &Path| radx_engine::io::read_volume(p).unwrap();
    let (expected_image, expected_mask) =
        (read(&data("ibsi/ct_phantom/image.nii.gz")), read(&data("ibsi/ct_phantom/mask.nii.gz")));
    let (got_image, got_mask) = (read(&image), read(&mask));
    assert_eq!(got_image.data, expected_image.data);
    assert_eq!(got_mask.data, expected_mask.data);
    for a in 0..3 {
        assert!((got_image.grid.spacing[a] - expected_image.grid.spacing[a]).abs() < 1e-4);
        assert!((got_image.grid.origin[a] - expected_image.grid.origin[a]).abs() < 1e-3);
    }
    // An unknown ROI name is refused, listing the names, and nothing is written.
    let other = dir.path().join("other.nii.gz");
    let out = radx(&[
        "convert",
        "--image",
        &s(&dicom.join("image")),
        "--mask",
        &s(&dicom.join("mask/DCM_RS_00060.dcm")),
        "--roi",
        "GTV-2",
        "--output-image",
        &s(&other),
        "--output-mask",
        &s(&dir.path().join("m2.nii.gz")),
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("GTV-1"), "{}", text(&out.stderr));
    assert!(!other.exists());
}
