//! Mechanics of issue 27 end to end: an output that is an input is refused before any work,
//! text inputs that never end (`/dev/zero`) fail cleanly naming the file, detached NRRD data
//! outside the header's folder needs `--allow-external-data`, and thread counts far above
//! the cores are capped with a warning instead of a panic.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{radx, text};
use radx_engine::core::{Grid, Volume};
use radx_engine::io::{NiftiType, write_nifti};

/// Exit status 2, no panic, every word in the message.
#[track_caller]
fn refused(out: &Output, words: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}\nstdout: {}", text(&out.stdout));
    assert!(!stderr.contains("panicked"), "{stderr}");
    for w in words {
        assert!(stderr.contains(w), "`{w}` missing from: {stderr}");
    }
}

/// A 3×3×3 image and a mask of its centre voxel and a neighbour.
fn case(dir: &Path) -> (String, String) {
    let grid = Grid::new([3, 3, 3], [1.0; 3]);
    let image = dir.join("image.nii");
    write_nifti(&image, &Volume::from_x_fastest(grid, (0..27).map(f64::from).collect()), NiftiType::F32).unwrap();
    let mask = dir.join("mask.nii");
    let labels = (0..27).map(|i| if i == 13 || i == 14 { 1.0 } else { 0.0 }).collect();
    write_nifti(&mask, &Volume::from_x_fastest(grid, labels), NiftiType::U8).unwrap();
    (image.to_string_lossy().into_owned(), mask.to_string_lossy().into_owned())
}

#[test]
fn an_output_naming_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = case(dir.path());
    let before = std::fs::read(&image).unwrap();
    let out = radx(&["extract", "--image", &image, "--mask", &mask, "-o", &image]);
    refused(&out, &[&image, "the same file", "another output name"]);
    assert_eq!(std::fs::read(&image).unwrap(), before, "the image was replaced");
    // The case list of a batch, through another spelling of its path.
    let cases = dir.path().join("cases.csv");
    std::fs::write(&cases, format!("id,image,mask\na,{image},{mask}\n")).unwrap();
    let dotted = dir.path().join(".").join("cases.csv");
    let out = radx(&["batch", &cases.to_string_lossy(), "-o", &dotted.to_string_lossy(), "--quiet"]);
    refused(&out, &["cases.csv", "the same file"]);
    assert!(std::fs::read_to_string(&cases).unwrap().starts_with("id,image,mask"));
}

#[test]
fn endless_text_inputs_fail_cleanly_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = case(dir.path());
    for flag in ["--settings", "--features"] {
        let out = radx(&["extract", "--image", &image, "--mask", &mask, flag, "/dev/zero"]);
        refused(&out, &["/dev/zero", "64 MiB", "regular file"]);
    }
    let out = radx(&["batch", "/dev/zero", "-o", &dir.path().join("t.csv").to_string_lossy(), "--quiet"]);
    refused(&out, &["/dev/zero", "64 MiB"]);
}

#[test]
fn detached_data_outside_the_folder_needs_the_opt_in() {
    let root = tempfile::tempdir().unwrap();
    let inner = root.path().join("upload");
    std::fs::create_dir(&inner).unwrap();
    std::fs::write(root.path().join("outside.raw"), [3u8, 4]).unwrap();
    let header = inner.join("h.nhdr");
    std::fs::write(
        &header,
        "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 1 1\nencoding: raw\ndata file: ../outside.raw\n",
    )
    .unwrap();
    let header = header.to_string_lossy();
    refused(&radx(&["info", &header]), &["h.nhdr", "outside the header's folder", "--allow-external-data"]);
    let out = radx(&["info", &header, "--allow-external-data"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("intensity:   3 .. 4"), "{}", text(&out.stdout));
}

/// An upload folder whose NRRD image and label map keep their voxels one folder up.
fn detached_case(root: &Path) -> (String, String) {
    let inner = root.join("upload");
    std::fs::create_dir(&inner).unwrap();
    std::fs::write(root.join("image.raw"), (0..27u8).map(|v| v * 3 % 11).collect::<Vec<_>>()).unwrap();
    std::fs::write(root.join("mask.raw"), (0..27).map(|i| u8::from(i != 0 && i != 26)).collect::<Vec<_>>()).unwrap();
    let header = |name: &str, raw: &str| {
        let path = inner.join(name);
        let text = format!("NRRD0004\ntype: uchar\ndimension: 3\nsizes: 3 3 3\nencoding: raw\ndata file: ../{raw}\n");
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    (header("image.nhdr", "image.raw"), header("mask.nhdr", "mask.raw"))
}

/// Every command that reads an image, through each of its read paths (the pipeline's,
/// whole volumes for maps, diagnostics and a batch's label search, the filter's whole
/// image), refuses detached data outside the header's folder and reads it with the opt-in.
#[test]
fn every_command_needs_the_opt_in_for_outside_data() {
    let root = tempfile::tempdir().unwrap();
    let (image, mask) = detached_case(root.path());
    let out = |name: &str| root.path().join(name).to_string_lossy().into_owned();
    let params = out("params.yaml");
    std::fs::write(&params, "setting:\n  binWidth: 2\nfeatureClass:\n  firstorder:\n").unwrap();
    let filter = out("filter.toml");
    std::fs::write(&filter, "[[filter]]\nkind = \"mean\"\nsupport = 3\n").unwrap();
    let cases = out("cases.csv");
    std::fs::write(&cases, format!("id,image,mask\na,{image},{mask}\n")).unwrap();
    let (table, maps, response) = (out("t.csv"), out("maps"), out("r.nii"));
    let runs: Vec<Vec<&str>> = vec![
        vec!["extract", "--image", &image, "--mask", &mask, "-o", &table],
        vec!["extract", "--image", &image, "--mask", &mask, "--settings", &params, "--diagnostics", "-o", &table],
        vec![
            "map",
            "--image",
            &image,
            "--mask",
            &mask,
            "--radius",
            "1",
            "--family",
            "intensity_statistics",
            "-o",
            &maps,
        ],
        vec![
            "map",
            "--image",
            &image,
            "--mask",
            &mask,
            "--radius",
            "1",
            "--unmasked",
            "--family",
            "intensity_statistics",
            "-o",
            &maps,
        ],
        vec!["filter", "--image", &image, "--settings", &filter, "-o", &response],
    ];
    for args in runs {
        refused(&radx(&args), &["image.nhdr", "outside the header's folder", "--allow-external-data"]);
        let allowed = radx(&[args.as_slice(), &["--allow-external-data"]].concat());
        assert!(allowed.status.success(), "{args:?}: {}", text(&allowed.stderr));
    }
    let batch = ["batch", &cases, "--all-labels", "-o", &table, "--quiet"];
    let refused_batch = radx(&batch);
    assert!(text(&refused_batch.stderr).contains("outside the header's folder"), "{}", text(&refused_batch.stderr));
    let allowed = radx(&[batch.as_slice(), &["--allow-external-data"]].concat());
    assert!(allowed.status.success(), "{}", text(&allowed.stderr));
}

#[test]
fn absurd_thread_counts_are_capped_with_a_warning() {
    let out = Command::new(env!("CARGO_BIN_EXE_radx"))
        .args(["ibsi", "--phantom", "digital", "--format", "csv"])
        .env("RAYON_NUM_THREADS", "100000")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("RAYON_NUM_THREADS asks for 100000 threads; using"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = case(dir.path());
    let cases = dir.path().join("cases.csv");
    std::fs::write(&cases, format!("id,image,mask\na,{image},{mask}\n")).unwrap();
    let table = dir.path().join("t.csv");
    let started = std::time::Instant::now();
    let out = radx(&["batch", &cases.to_string_lossy(), "--jobs", "100000", "-o", &table.to_string_lossy(), "--quiet"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("--jobs asks for 100000 threads; using"), "{stderr}");
    assert!(started.elapsed().as_secs() < 20, "spawning took {:?}", started.elapsed());
}

/// `radx convert` reads the series into memory before writing: an output naming one of its
/// slices, or the mask's output naming the image's, is refused before anything is written.
#[test]
fn convert_outputs_that_would_replace_an_input_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let series = dir.path().join("series");
    std::fs::create_dir(&series).unwrap();
    for entry in std::fs::read_dir(crate::common::data("dicom/seg/series")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), series.join(entry.file_name())).unwrap();
    }
    let slice = series.join("CT_003.dcm");
    let before = std::fs::read(&slice).unwrap();
    let (series_s, slice_s) = (crate::common::s(&series), crate::common::s(&slice));
    refused(&radx(&["convert", "--image", &series_s, "--output-image", &slice_s]), &["CT_003.dcm"]);
    assert_eq!(std::fs::read(&slice).unwrap(), before, "the slice is intact");

    let rtstruct = crate::common::data_arg("dicom/ibsi_1_ct_radiomics_phantom/dicom/mask/DCM_RS_00060.dcm");
    let image = crate::common::data_arg("dicom/ibsi_1_ct_radiomics_phantom/dicom/image");
    let out = crate::common::s(&dir.path().join("both.nii.gz"));
    let o = radx(&[
        "convert",
        "--image",
        &image,
        "--mask",
        &rtstruct,
        "--roi",
        "GTV-1",
        "--output-image",
        &out,
        "--output-mask",
        &out,
    ]);
    refused(&o, &["--output-mask", "same file"]);
    assert!(!dir.path().join("both.nii.gz").exists(), "nothing written");
}

/// `radx map` refuses to write a map over its own image (a map file named like the image in
/// the output folder), before writing any map.
#[test]
fn a_map_named_like_its_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = case(dir.path());
    let renamed = dir.path().join("original_intensity_statistics_mean_intensity.nii.gz");
    let volume = radx_engine::io::read_volume(Path::new(&image)).unwrap();
    radx_engine::io::write_nifti(&renamed, &volume, NiftiType::F32).unwrap();
    let before = std::fs::read(&renamed).unwrap();
    let renamed_s = crate::common::s(&renamed);
    let out = crate::common::s(dir.path());
    let o = radx(&[
        "map",
        "--image",
        &renamed_s,
        "--mask",
        &mask,
        "--family",
        "intensity_statistics",
        "--radius",
        "1",
        "-o",
        &out,
    ]);
    refused(&o, &["original_intensity_statistics_mean_intensity.nii.gz"]);
    assert_eq!(std::fs::read(&renamed).unwrap(), before, "the image is intact");
}
