//! Mechanics: DICOM through the command line — `radx ibsi` on the CT phantom's DICOM export,
//! `radx extract` on a DICOM series with an RTSTRUCT or a SEG mask against the same data as
//! NIfTI, `radx info` on a series, an RTSTRUCT and a SEG, `radx batch` with DICOM cases (a
//! bad one reported while the batch goes on), and clear errors for inputs that do not fit.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Output;

use crate::common::{data, radx, s, text};
use radx_engine::core::Volume;
use radx_engine::io::{NiftiType, write_nifti};

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}\n{}", out.status, text(&out.stderr));
    text(&out.stdout)
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

fn phantom_dicom() -> PathBuf {
    data("dicom/ibsi_1_ct_radiomics_phantom/dicom")
}

/// `radx extract`'s long table as (image_type, family, feature, aggregation) -> value.
fn values(csv: &str) -> HashMap<(String, String, String, String), f64> {
    csv.lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split(',').collect();
            let key = (c[0].to_string(), c[1].to_string(), c[2].to_string(), c[4].to_string());
            (key, c[5].parse::<f64>().unwrap_or(f64::NAN))
        })
        .collect()
}

/// Same features; every value equal, except morphology within `morphology` relative (a
/// DICOM grid's spacing comes from positions in full precision, a NIfTI file's in float32).
fn assert_same_features(ours: &str, theirs: &str, morphology: f64) {
    let (a, b) = (values(ours), values(theirs));
    assert_eq!(a.len(), b.len());
    assert!(a.len() > 100, "{}", a.len());
    for (key, x) in &a {
        let y = b[key];
        if key.1 == "morphology" {
            assert!(
                (x - y).abs() <= morphology * y.abs().max(1e-300) || (x.is_nan() && y.is_nan()),
                "{key:?}: {x} vs {y}"
            );
        } else {
            assert!(x == &y || (x.is_nan() && y.is_nan()), "{key:?}: {x} vs {y}");
        }
    }
}

/// The IBSI CT phantom read from its DICOM series and RTSTRUCT reproduces every reference
/// value of configurations A–E, as the NIfTI phantom does.
#[test]
fn ibsi_ct_phantom_from_dicom_reproduces_every_reference_value() {
    let out = radx(&["ibsi", "--phantom", "ct", "--ct-phantom", &s(&phantom_dicom()), "--format", "csv"]);
    let stdout = ok(&out);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("1321 of 1321 reference values reproduced"), "{stderr}");
    assert!(!stdout.contains("FAIL"));
}

/// `radx extract` on the DICOM series + RTSTRUCT gives the features of the phantom's NIfTI
/// image and mask: intensity and texture values bit for bit, morphology within 1e-12.
#[test]
fn extract_from_dicom_and_rtstruct_equals_extract_from_nifti() {
    let settings = s(&data("ibsi/config_a.toml"));
    let rs = phantom_dicom().join("mask/DCM_RS_00060.dcm");
    let dicom = radx(&[
        "extract",
        "--image",
        &s(&phantom_dicom().join("image")),
        "--mask",
        &s(&rs),
        "--roi",
        "GTV-1",
        "--settings",
        &settings,
    ]);
    let nifti = radx(&[
        "extract",
        "--image",
        &s(&data("ibsi/ct_phantom/image.nii.gz")),
        "--mask",
        &s(&data("ibsi/ct_phantom/mask.nii.gz")),
        "--settings",
        &settings,
    ]);
    assert_same_features(&ok(&dicom), &ok(&nifti), 1e-12);
}

/// A synthetic oblique DICOM series with a binary SEG (segment "box" by label) gives the
/// features of the same series with a NIfTI label map of the same box (make_seg.py's
/// formula); a NIfTI image with the RTSTRUCT works too (the ROI placed on the NIfTI grid).
#[test]
fn extract_with_seg_and_mixed_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let seg = data("dicom/seg");
    let series = radx_dicom::read_series(&seg.join("series")).unwrap();
    let mut box_mask = Volume::filled(series.volume.grid, 0.0);
    for ((x, y, z), v) in box_mask.data.indexed_iter_mut() {
        *v = f64::from(u8::from((4..=11).contains(&x) && (2..=6).contains(&y) && (1..=4).contains(&z)));
    }
    let nifti_mask = dir.path().join("box.nii.gz");
    write_nifti(&nifti_mask, &box_mask, NiftiType::U8).unwrap();
    let image = s(&seg.join("series"));
    let with_seg = radx(&["extract", "--image", &image, "--mask", &s(&seg.join("seg_binary.dcm")), "--segment", "box"]);
    let with_nifti = radx(&["extract", "--image", &image, "--mask", &s(&nifti_mask)]);
    assert_same_features(&ok(&with_seg), &ok(&with_nifti), 0.0);
    // The enhanced multi-frame twin of the series, with the label-map SEG's segment 2
    // ("box" outside the sphere): a ROI, so it extracts.
    let enhanced = radx(&[
        "extract",
        "--image",
        &s(&seg.join("enhanced_ct_rle.dcm")),
        "--mask",
        &s(&seg.join("seg_labelmap.dcm")),
        "--segment",
        "2",
    ]);
    assert!(ok(&enhanced).lines().count() > 100);

    // NIfTI image, RTSTRUCT mask: the ROI rasterised on the NIfTI's grid.
    let settings = s(&data("ibsi/config_a.toml"));
    let mixed = radx(&[
        "extract",
        "--image",
        &s(&data("ibsi/ct_phantom/image.nii.gz")),
        "--mask",
        &s(&phantom_dicom().join("mask/DCM_RS_00060.dcm")),
        "--settings",
        &settings,
    ]);
    let mixed = ok(&mixed);
    let volume = values(&mixed)[&("original".into(), "morphology".into(), "volume".into(), "-".into())];
    // The IBSI reference: 3.58e5 mm³ (configuration A).
    assert!((volume - 358_415.0).abs() < 1.0, "{volume}");
}

#[test]
fn info_describes_a_series_an_rtstruct_and_a_seg() {
    let series = ok(&radx(&["info", &s(&phantom_dicom().join("image"))]));
    for want in [
        "DICOM series, 60 slices",
        "modality:    CT",
        "dimensions:  204 x 201 x 60",
        "spacing:     0.97699999809265 x 0.97699999809265 x 2.99999",
        "series UID:  1.3.6.1.4.1.9590.100.1.2.",
    ] {
        assert!(series.contains(want), "`{want}` missing:\n{series}");
    }
    let rs = ok(&radx(&["info", &s(&phantom_dicom().join("mask/DCM_RS_00060.dcm"))]));
    assert!(rs.contains("DICOM RTSTRUCT, 1 ROI(s)") && rs.contains("\"GTV-1\"  26 contours"), "{rs}");
    let seg = ok(&radx(&["info", &s(&data("dicom/seg/seg_binary.dcm"))]));
    assert!(seg.contains("DICOM SEG, binary, 2 segment(s)"), "{seg}");
    assert!(seg.contains("1  \"sphere\"  MANUAL, 3 frames, 192 pixels"), "{seg}");
    assert!(seg.contains("2  \"box\"  MANUAL, 4 frames, 160 pixels"), "{seg}");
    let fractional = ok(&radx(&["info", &s(&data("dicom/seg/seg_fractional.dcm"))]));
    assert!(fractional.contains("fractional (PROBABILITY, value / 255)"), "{fractional}");
    // A folder of two series lists them.
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(data("dicom/seg/series")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(data("dicom/pydicom/MR_small.dcm"), dir.path().join("mr.dcm")).unwrap();
    let two = ok(&radx(&["info", &s(dir.path())]));
    assert!(
        two.contains("2 series") && two.contains("CT  7 slices in 7 files") && two.contains("MR  1 slices"),
        "{two}"
    );
}

#[test]
fn dicom_inputs_that_do_not_fit_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let image = s(&phantom_dicom().join("image"));
    let rs = s(&phantom_dicom().join("mask/DCM_RS_00060.dcm"));
    let seg = s(&data("dicom/seg/seg_binary.dcm"));
    let nifti_mask = s(&data("ibsi/ct_phantom/mask.nii.gz"));
    let ex = |image: &str, mask: &str, extra: &[&str], words: &[&str]| {
        let mut args = vec!["extract", "--image", image, "--mask", mask];
        args.extend_from_slice(extra);
        fails_with(&args, words);
    };
    ex(&image, &rs, &["--roi", "GTV-2"], &["DCM_RS_00060.dcm", "no ROI named \"GTV-2\"", "GTV-1"]);
    ex(&image, &nifti_mask, &["--roi", "GTV-1"], &["mask.nii.gz", "RTSTRUCT ROI name given", "label map"]);
    ex(&image, &rs, &["--segment", "1"], &["DCM_RS_00060.dcm", "SEG segment given"]);
    ex(&image, &seg, &[], &["seg_binary.dcm", "frame of reference"]);
    let series = s(&data("dicom/seg/series"));
    ex(&series, &seg, &[], &["seg_binary.dcm", "2 segments", "1 \"sphere\", 2 \"box\""]);
    ex(&series, &seg, &["--segment", "liver"], &["no segment \"liver\""]);
    ex(&rs, &nifti_mask, &[], &["DCM_RS_00060.dcm", "not an image"]);
    ex(&image, &image, &[], &["a folder is not a mask"]);
    let fake = dir.path().join("scan.dcm");
    std::fs::write(&fake, b"not DICOM").unwrap();
    ex(&s(&fake), &nifti_mask, &[], &["scan.dcm", "not a readable DICOM file"]);
    ex(&image, &s(&fake), &[], &["scan.dcm", "not a readable DICOM file"]);
    ex(&image, &s(&dir.path().join("absent.dcm")), &[], &["absent.dcm", "cannot read"]);
    fails_with(&["info", &s(&fake)], &["scan.dcm", "not a readable DICOM file"]);
    // Two series in the image folder: listed, and --series picks one.
    for entry in std::fs::read_dir(data("dicom/seg/series")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(data("dicom/pydicom/MR_small.dcm"), dir.path().join("mr.dcm")).unwrap();
    std::fs::remove_file(&fake).unwrap();
    ex(&s(dir.path()), &seg, &["--segment", "box"], &["2 series found", "7 files", "1 files"]);
    let uid = radx_dicom::read_series(&data("dicom/seg/series")).unwrap().series_uid;
    let chosen = radx(&["extract", "--image", &s(dir.path()), "--series", &uid, "--mask", &seg, "--segment", "box"]);
    ok(&chosen);
}

/// A batch of DICOM and NIfTI cases: RTSTRUCT by the `roi` column, SEG by the `segment`
/// column, NIfTI as before; a folder of two series and a missing RTSTRUCT become error rows
/// naming the file while the batch goes on.
#[test]
fn batch_runs_dicom_cases_and_reports_the_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let two = dir.path().join("two_series");
    std::fs::create_dir(&two).unwrap();
    for entry in std::fs::read_dir(data("dicom/seg/series")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, two.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(data("dicom/pydicom/MR_small.dcm"), two.join("mr.dcm")).unwrap();
    let seg = data("dicom/seg");
    let list = dir.path().join("cases.csv");
    let lines = [
        "id,image,mask,roi,segment".to_string(),
        format!("box,{},{},,box", s(&seg.join("series")), s(&seg.join("seg_binary.dcm"))),
        format!("sphere,{},{},,1", s(&seg.join("enhanced_ct.dcm")), s(&seg.join("seg_binary.dcm"))),
        format!("ramp,{},{},,", s(&seg.join("series")), s(&seg.join("seg_fractional_rle.dcm"))),
        format!("two,{},{},,box", s(&two), s(&seg.join("seg_binary.dcm"))),
        format!("absent,{},{},GTV-1,", s(&seg.join("series")), s(&dir.path().join("RS.dcm"))),
        format!(
            "digital,{},{},,",
            s(&data("ibsi/digital_phantom/image.nii.gz")),
            s(&data("ibsi/digital_phantom/mask.nii.gz"))
        ),
    ];
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    let output = dir.path().join("out.csv");
    let out = radx(&["batch", &s(&list), "-o", &s(&output), "--jobs", "2", "--quiet"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut reader = csv::Reader::from_path(&output).unwrap();
    let rows: HashMap<String, Vec<String>> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r.iter().map(str::to_string).collect())
        })
        .collect();
    for id in ["box", "sphere", "ramp", "digital"] {
        assert_eq!(rows[id][2], "ok", "{id}: {:?}", &rows[id][..4]);
    }
    assert_eq!(rows["box"][1], "1");
    assert_eq!(rows["two"][2], "error");
    assert!(rows["two"][3].contains("2 series found"), "{}", rows["two"][3]);
    assert_eq!(rows["absent"][2], "error");
    assert!(rows["absent"][3].contains("RS.dcm"), "{}", rows["absent"][3]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("4 rows ok, 2 failed"), "{stderr}");
}
