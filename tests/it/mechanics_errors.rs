//! Mechanics: every broken input to `radx extract` is refused cleanly (exit status 2, a
//! message naming the file or setting and the problem, no panic, no output file), and the
//! degenerate-but-valid ones (one voxel, one slice, a constant ROI, an empty slice in 2D
//! mode) give IBSI-defined values or NaN with a reason.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{radx, text};
use radx_engine::core::{Grid, Volume};
use radx_engine::io::{NiftiType, write_nifti, write_nrrd};

/// A float32 NIfTI of `dims` voxels at 1 mm, values listed x-fastest.
fn nii(dir: &Path, name: &str, dims: [usize; 3], values: Vec<f64>) -> String {
    nii_typed(dir, name, Grid::new(dims, [1.0; 3]), values, NiftiType::F32)
}

fn nii_typed(dir: &Path, name: &str, grid: Grid, values: Vec<f64>, kind: NiftiType) -> String {
    let path = dir.join(name);
    write_nifti(&path, &Volume::from_x_fastest(grid, values), kind).unwrap();
    path.to_string_lossy().into_owned()
}

fn file(dir: &Path, name: &str, contents: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

/// `radx extract --image IMAGE --mask MASK` plus `extra`.
fn extract(image: &str, mask: &str, extra: &[&str]) -> Output {
    let mut args = vec!["extract", "--image", image, "--mask", mask];
    args.extend_from_slice(extra);
    radx(&args)
}

/// Exit status 2, no panic, nothing on stdout, every word in the message.
#[track_caller]
fn refused(out: &Output, words: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}\nstdout: {}", text(&out.stdout));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "output on failure: {}", text(&out.stdout));
    for w in words {
        assert!(stderr.contains(w), "`{w}` missing from: {stderr}");
    }
}

/// One row of `--format json` output.
#[derive(Debug, serde::Deserialize)]
struct Row {
    family: String,
    feature: String,
    tag: String,
    aggregation: String,
    #[serde(deserialize_with = "json_value")]
    value: Option<f64>,
    note: Option<String>,
}

/// A value as radx writes it in JSON: a number, `null` for NaN, `"inf"`/`"-inf"`.
fn json_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    use serde::Deserialize;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => Ok(n.as_f64()),
        serde_json::Value::String(s) if s == "inf" => Ok(Some(f64::INFINITY)),
        serde_json::Value::String(s) if s == "-inf" => Ok(Some(f64::NEG_INFINITY)),
        other => Err(serde::de::Error::custom(format!("not a radx value: {other}"))),
    }
}

#[track_caller]
fn rows(out: &Output) -> Vec<Row> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"));
    serde_json::from_slice(&out.stdout).expect("JSON rows")
}

/// The value of the feature with IBSI `tag` (first aggregation listed).
#[track_caller]
fn value(rows: &[Row], tag: &str) -> Option<f64> {
    rows.iter().find(|r| r.tag == tag).unwrap_or_else(|| panic!("no row {tag}")).value
}

/// Every NaN (JSON null) and infinity (`"inf"`, `"-inf"`) carries a reason; every finite
/// number has none.
#[track_caller]
fn nan_rows_have_notes(rows: &[Row]) {
    for r in rows {
        match r.value {
            None | Some(f64::INFINITY | f64::NEG_INFINITY) => assert!(
                r.note.as_deref().is_some_and(|n| !n.is_empty()),
                "{}.{} ({}) is NaN without a note",
                r.family,
                r.feature,
                r.aggregation
            ),
            Some(v) => assert!(r.note.is_none(), "{}.{} = {v} has a note {:?}", r.family, r.feature, r.note),
        }
    }
}

/// A 4 × 4 × 4 image 0..63 and an all-ones mask, the usual healthy case.
fn healthy(dir: &Path) -> (String, String) {
    (
        nii(dir, "image.nii.gz", [4, 4, 4], (0..64).map(f64::from).collect()),
        nii(dir, "mask.nii.gz", [4, 4, 4], vec![1.0; 64]),
    )
}

const JSON: &[&str] = &["--format", "json"];

// ---------------------------------------------------------------- image and mask files

#[test]
fn missing_image_or_mask() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    refused(&extract("/no/such/image.nii.gz", &mask, &[]), &["/no/such/image.nii.gz", "file not found"]);
    refused(&extract(&image, "/no/such/mask.nrrd", &[]), &["/no/such/mask.nrrd", "file not found"]);
}

/// Tests run as root, so permissions cannot make a file unreadable: a directory named like
/// an image is the unreadable file here.
#[test]
fn unreadable_image_and_unknown_format() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let folder = dir.path().join("folder.nii.gz");
    std::fs::create_dir(&folder).unwrap();
    refused(&extract(&folder.to_string_lossy(), &mask, &[]), &["folder.nii.gz", "cannot read"]);
    let folder = dir.path().join("folder.nrrd");
    std::fs::create_dir(&folder).unwrap();
    refused(&extract(&image, &folder.to_string_lossy(), &[]), &["folder.nrrd", "cannot read"]);
    let mha = file(dir.path(), "image.mha", b"ObjectType = Image\n");
    refused(&extract(&mha, &mask, &[]), &["image.mha", "unknown image format"]);
}

#[test]
fn truncated_and_corrupt_files() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let full = std::fs::read(&image).unwrap();
    let cut = file(dir.path(), "cut.nii.gz", &full[..full.len() / 2]);
    refused(&extract(&cut, &mask, &[]), &["cut.nii.gz"]);

    let nrrd = dir.path().join("image.nrrd");
    write_nrrd(
        &nrrd,
        &Volume::from_x_fastest(Grid::new([4, 4, 4], [1.0; 3]), (0..64).map(f64::from).collect()),
        radx_engine::io::VoxelType::I16,
    )
    .unwrap();
    let full = std::fs::read(&nrrd).unwrap();
    let cut = file(dir.path(), "cut.nrrd", &full[..full.len() - 10]);
    refused(&extract(&cut, &mask, &[]), &["cut.nrrd"]);

    // A raw NRRD announcing 64 int16 voxels (128 bytes) followed by 100.
    let mut raw = b"NRRD0004\ntype: short\ndimension: 3\nsizes: 4 4 4\nendian: little\nencoding: raw\n\n".to_vec();
    raw.extend_from_slice(&[0u8; 100]);
    let short = file(dir.path(), "short.nrrd", &raw);
    refused(&extract(&short, &mask, &[]), &["short.nrrd", "truncated", "expected 128 bytes, got 100"]);

    let garbage: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    for name in ["garbage.nii", "garbage.nii.gz", "garbage.nrrd"] {
        let g = file(dir.path(), name, &garbage);
        refused(&extract(&g, &mask, &[]), &[name, "invalid or corrupt"]);
    }
    // A gzip header with garbage after it.
    let mut bad_gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    bad_gzip.extend_from_slice(&garbage[..500]);
    let g = file(dir.path(), "badstream.nii.gz", &bad_gzip);
    refused(&extract(&g, &mask, &[]), &["badstream.nii.gz"]);
}

/// A damaged image read for PyRadiomics' B-spline resampling, whose slices are resampled as
/// they are read: the same error, naming the file, as when the image's box is kept (no
/// resampling), and no output.
#[test]
fn damaged_image_resampled_by_slice() {
    let dir = tempfile::tempdir().unwrap();
    // 40×36×24 float32 voxels of scattered values (gzip cannot shrink them much), the ROI a
    // box through every slice so that both reads inflate the whole stream.
    let values = (0..40 * 36 * 24u32).map(|i| f64::from(i.wrapping_mul(2_654_435_761) >> 20)).collect();
    let image = nii(dir.path(), "image.nii.gz", [40, 36, 24], values);
    let labels = (0..40 * 36 * 24)
        .map(|i| if (10..30).contains(&(i % 40)) && (8..28).contains(&(i / 40 % 36)) { 1.0 } else { 0.0 });
    let mask = nii(dir.path(), "mask.nii.gz", [40, 36, 24], labels.collect());
    let firstorder = "featureClass:\n  firstorder:\nsetting:\n  interpolator: 'sitkBSpline'\n";
    let sliced = format!("{firstorder}  resampledPixelSpacing: [0.7, 0.7, 0.7]\n");
    let sliced = file(dir.path(), "sliced.yaml", sliced.as_bytes());
    let kept = file(dir.path(), "kept.yaml", firstorder.as_bytes());
    let names = ["--names", "pyradiomics"];
    for settings in [&sliced, &kept] {
        let out = extract(&image, &mask, &[&["--settings", settings.as_str()][..], &names[..]].concat());
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let full = std::fs::read(&image).unwrap();
    let mut flipped = full.clone();
    flipped[full.len() / 2] ^= 0x21;
    for (name, bytes) in [("cut.nii.gz", &full[..full.len() / 2]), ("flipped.nii.gz", &flipped[..])] {
        let damaged = file(dir.path(), name, bytes);
        let [by_slice, whole] =
            [&sliced, &kept].map(|s| extract(&damaged, &mask, &[&["--settings", s.as_str()][..], &names[..]].concat()));
        refused(&by_slice, &[name]);
        refused(&whole, &[name]);
        assert_eq!(text(&by_slice.stderr), text(&whole.stderr));
    }
}

/// Patch `bytes` at `at` of a file.
fn patch(path: &str, at: usize, bytes: &[u8]) {
    let mut all = std::fs::read(path).unwrap();
    all[at..at + bytes.len()].copy_from_slice(bytes);
    std::fs::write(path, all).unwrap();
}

#[test]
fn four_d_images_and_unsupported_datatypes() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mask) = healthy(dir.path());
    // NIfTI-1 header: dim[] at byte 40, datatype at 70.
    let four_d = nii(dir.path(), "fourd.nii", [4, 4, 2], vec![1.0; 32]);
    patch(&four_d, 40, &4i16.to_le_bytes());
    patch(&four_d, 46, &1i16.to_le_bytes()); // 4 × 4 × 1 × 2
    patch(&four_d, 48, &2i16.to_le_bytes());
    refused(&extract(&four_d, &mask, &[]), &["fourd.nii", "not a 3D image", "[4, 4, 1, 2]"]);

    let complex = nii(dir.path(), "complex.nii", [4, 4, 4], vec![1.0; 64]);
    patch(&complex, 70, &32i16.to_le_bytes()); // NIFTI_TYPE_COMPLEX64, 8 bytes like the 2 × float32 stored
    refused(&extract(&complex, &mask, &[]), &["complex.nii", "unsupported voxel data type", "complex64"]);

    let rgb = b"NRRD0004\ntype: block\nblock size: 3\ndimension: 3\nsizes: 4 4 4\nencoding: raw\n\n";
    let rgb = file(dir.path(), "rgb.nrrd", rgb);
    refused(&extract(&rgb, &mask, &[]), &["rgb.nrrd", "unsupported voxel data type", "block"]);
}

/// A 2D image is one slice: a 5 × 4 image and mask read as 5 × 4 × 1 and extract end to end.
#[test]
fn two_d_images_work_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f64> = (0..20).map(|v| f64::from(v % 7)).collect();
    let image = nii(dir.path(), "flat.nii.gz", [5, 4, 1], values);
    let mask = nii(dir.path(), "flatmask.nii.gz", [5, 4, 1], vec![1.0; 20]);
    // Make both files say dim[0] = 2 (a true 2D NIfTI); gzip hides the header, so use .nii.
    let image2 = nii(dir.path(), "flat.nii", [5, 4, 1], (0..20).map(|v| f64::from(v % 7)).collect());
    patch(&image2, 40, &2i16.to_le_bytes());
    let out = rows(&extract(&image2, &mask, JSON));
    // Mean of (0..20) mod 7 = (0+1+…+6)·2 + (0+…+5) = 42 + 15 = 57 over 20 voxels.
    assert_eq!(value(&out, "Q4LE"), Some(57.0 / 20.0));
    nan_rows_have_notes(&out);
    assert_eq!(rows(&extract(&image, &mask, JSON)).len(), out.len());
}

#[test]
fn absurd_claimed_sizes_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mask) = healthy(dir.path());
    // NIfTI-1's largest claim: 32767³ int16 = 2.8·10¹⁴ voxels, 2 PB as f64.
    let huge = nii_typed(dir.path(), "huge.nii", Grid::new([1, 1, 1], [1.0; 3]), vec![1.0], NiftiType::I16);
    for at in [42, 44, 46] {
        patch(&huge, at, &32767i16.to_le_bytes());
    }
    let start = std::time::Instant::now();
    // The streamed reader holds two 32767² int16 slices (4.3 GB) at most: over 1 GiB it is
    // refused; under a larger budget the grids' mismatch is.
    refused(&extract(&huge, &mask, &["--max-memory", "1G"]), &["huge.nii", "memory budget"]);
    refused(&extract(&huge, &mask, &[]), &["huge.nii"]);
    assert!(start.elapsed().as_secs() < 10);
}

#[test]
fn max_memory_limits_reading_and_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    // 64 voxels × 8 bytes = 512 bytes of image: 500 bytes do not hold it.
    refused(&extract(&image, &mask, &["--max-memory", "500"]), &["image.nii.gz", "memory budget"]);
    // Image (512 bytes) + mask (512 bytes) share the budget: 700 bytes hold only the image.
    refused(&extract(&image, &mask, &["--max-memory", "700"]), &["mask.nii.gz", "memory budget"]);
    assert!(extract(&image, &mask, &["--max-memory", "1G"]).status.success());
    let bad = extract(&image, &mask, &["--max-memory", "lots"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("not a size"), "{}", text(&bad.stderr));
    refused(&radx(&["info", &image, "--max-memory", "100"]), &["image.nii.gz", "memory budget"]);
}

/// Fixed bin size 0.001 over 0..3000 would give 3 million grey levels: refused naming the
/// setting. Width 0.1 gives 30001 levels (within the 65535 a level can hold), but one
/// 30001 × 30001 GLCM alone is 7.2 GB: refused against a 1 GiB budget, naming the setting.
#[test]
fn fine_fixed_bin_size_is_refused_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let image = nii(dir.path(), "ct.nii.gz", [4, 4, 4], (0..64).map(|v| f64::from(v) * 3000.0 / 63.0).collect());
    let mask = nii(dir.path(), "mask.nii.gz", [4, 4, 4], vec![1.0; 64]);
    let settings = |width: &str| {
        file(
            dir.path(),
            &format!("fbs{width}.toml"),
            format!("[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = {width}\n").as_bytes(),
        )
    };
    refused(&extract(&image, &mask, &["--settings", &settings("0.001")]), &["discretisation.texture.width", "65535"]);
    refused(
        &extract(&image, &mask, &["--settings", &settings("0.1"), "--max-memory", "1G"]),
        &["discretisation.texture.width", "30001 grey levels", "memory budget of 1024 MiB", "`cm`"],
    );
    refused(
        &radx(&[
            "matrix",
            "glcm",
            "--image",
            &image,
            "--mask",
            &mask,
            "--settings",
            &settings("0.1"),
            "--max-memory",
            "1G",
        ]),
        &["discretisation.texture.width", "memory budget"],
    );
}

#[test]
fn resampling_to_an_absurd_grid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let settings = file(dir.path(), "fine.toml", b"[resample]\nspacing = [0.001, 0.001, 0.001]\n");
    // 4 mm at 0.001 mm: at least 4000³ = 6.4·10¹⁰ voxels.
    refused(&extract(&image, &mask, &["--settings", &settings]), &["resample.spacing", "memory budget"]);
    // 1e-300 mm used to overflow the voxel count (a panic in a debug build).
    let settings = file(dir.path(), "tiny.toml", b"[resample]\nspacing = [1e-300, 1.0, 5e-324]\n");
    refused(&extract(&image, &mask, &["--settings", &settings]), &["resample.spacing", "memory budget"]);
    // PyRadiomics' own grid is checked too (it used to grow until the allocator aborted): 4 mm
    // at 0.01 mm is a 400³ grid plus padding, over 500 MiB, refused before anything is read.
    let params = file(
        dir.path(),
        "fine.yaml",
        b"setting:\n  resampledPixelSpacing: [0.01, 0.01, 0.01]\n  interpolator: sitkBSpline\n",
    );
    refused(
        &extract(&image, &mask, &["--settings", &params, "--max-memory", "100M"]),
        &["interpolation:", "resampledPixelSpacing", "memory budget of 100 MiB", "--max-memory"],
    );
}

/// Voxel sizes at the ends of what a header can state (1e-40 mm used to overflow the crop
/// margin, a panic): the case runs; undefined values are NaN with a note.
#[test]
fn absurd_voxel_spacing_in_a_header_runs() {
    let dir = tempfile::tempdir().unwrap();
    for (name, spacing) in [("tiny", 1e-40), ("huge", 1e38)] {
        let grid = Grid::new([3, 3, 3], [spacing; 3]);
        let image =
            nii_typed(dir.path(), &format!("{name}.nii"), grid, (0..27).map(f64::from).collect(), NiftiType::F32);
        let mask = nii_typed(dir.path(), &format!("{name}_mask.nii"), grid, vec![1.0; 27], NiftiType::U8);
        let out = rows(&extract(&image, &mask, JSON));
        assert_eq!(value(&out, "Q4LE"), Some(13.0), "{name}");
        nan_rows_have_notes(&out);
    }
}

// ---------------------------------------------------------------- voxel values and masks

#[test]
fn nonfinite_voxels_are_refused_or_excluded() {
    let dir = tempfile::tempdir().unwrap();
    let mut values: Vec<f64> = (0..64).map(f64::from).collect();
    values[21] = f64::NAN;
    values[42] = f64::INFINITY;
    let image = nii(dir.path(), "nan.nii.gz", [4, 4, 4], values);
    let mask = nii(dir.path(), "mask.nii.gz", [4, 4, 4], vec![1.0; 64]);
    refused(&extract(&image, &mask, &[]), &["nan.nii.gz", "2 voxel(s) inside the ROI are NaN or infinite"]);

    // Excluded: the ROI is the 62 other voxels, mean (0+…+63 − 21 − 42)/62 = (2016 − 63)/62 = 31.5.
    let by_flag = rows(&extract(&image, &mask, &["--exclude-nonfinite", "--format", "json"]));
    assert_eq!(value(&by_flag, "Q4LE"), Some(31.5));
    nan_rows_have_notes(&by_flag);
    let settings = file(dir.path(), "exclude.toml", b"exclude_nonfinite = true\n");
    let by_setting = rows(&extract(&image, &mask, &["--settings", &settings, "--format", "json"]));
    assert_eq!(value(&by_setting, "Q4LE"), Some(31.5));

    // Nothing left once they are excluded.
    let all_nan = nii(dir.path(), "allnan.nii.gz", [2, 2, 2], vec![f64::NAN; 8]);
    let small_mask = nii(dir.path(), "m8.nii.gz", [2, 2, 2], vec![1.0; 8]);
    refused(&extract(&all_nan, &small_mask, &["--exclude-nonfinite"]), &["empty", "NaN"]);
}

#[test]
fn label_maps_float_masks_and_probability_masks() {
    let dir = tempfile::tempdir().unwrap();
    let image = nii(dir.path(), "image.nii.gz", [4, 4, 4], (0..64).map(f64::from).collect());
    // Labels 1 (first 32 voxels, values 0..31) and 2 (the rest, 32..63).
    let labels: Vec<f64> = (0..64).map(|v| if v < 32 { 1.0 } else { 2.0 }).collect();
    let multi = nii_typed(dir.path(), "labels.nii.gz", Grid::new([4, 4, 4], [1.0; 3]), labels, NiftiType::U8);
    assert_eq!(value(&rows(&extract(&image, &multi, JSON)), "Q4LE"), Some(15.5));
    assert_eq!(value(&rows(&extract(&image, &multi, &["--label", "2", "--format", "json"])), "Q4LE"), Some(47.5));
    refused(&extract(&image, &multi, &["--label", "7"]), &["label 7 does not occur", "labels present: 1, 2"]);

    // A float mask of 0.0/1.0 is a label map.
    let float01: Vec<f64> = (0..64).map(|v| f64::from(u8::from(v % 2 == 0))).collect();
    let float_mask = nii(dir.path(), "float.nii.gz", [4, 4, 4], float01);
    // Even values 0, 2, …, 62: mean 31.
    assert_eq!(value(&rows(&extract(&image, &float_mask, JSON)), "Q4LE"), Some(31.0));

    // A probability mask is not a label map.
    let probabilities: Vec<f64> = (0..64).map(|v| f64::from(v) / 63.0).collect();
    let soft = nii(dir.path(), "soft.nii.gz", [4, 4, 4], probabilities);
    refused(&extract(&image, &soft, &[]), &["soft.nii.gz", "not a label map", "threshold"]);
}

#[test]
fn geometry_beyond_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let (image, _) = healthy(dir.path());
    let shifted = Grid { origin: [0.0, 0.0, 0.5], ..Grid::new([4, 4, 4], [1.0; 3]) };
    let mask = nii_typed(dir.path(), "shifted.nii.gz", shifted, vec![1.0; 64], NiftiType::U8);
    refused(&extract(&image, &mask, &[]), &["geometry differ", "origin", "shifted.nii.gz"]);
    let spaced =
        nii_typed(dir.path(), "spaced.nii.gz", Grid::new([4, 4, 4], [1.0, 1.0, 1.1]), vec![1.0; 64], NiftiType::U8);
    refused(&extract(&image, &spaced, &[]), &["geometry differ", "spacing"]);
    // Within a tolerance the user widened, the shifted mask is accepted.
    let tolerant = file(dir.path(), "tolerant.toml", b"geometry_tolerance = 0.6\n");
    assert!(extract(&image, &mask, &["--settings", &tolerant]).status.success());
}

#[test]
fn roi_empty_after_resegmentation() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let settings = file(dir.path(), "reseg.toml", b"[resegment]\nrange = [1000.0, 2000.0]\n");
    refused(&extract(&image, &mask, &["--settings", &settings]), &["empty", "re-segmentation"]);
}

// ---------------------------------------------------------------- degenerate ROIs

/// One voxel of intensity 7: mean 7, variance 0, so skewness and kurtosis 0 (IBSI: defined
/// as 0 when the variance is 0); a single grey level has GLCM joint entropy 0 wherever a
/// GLCM exists; a 1 mm³ voxel's volume is 1 mm³. What cannot be computed is NaN with a note.
#[test]
fn roi_of_one_voxel() {
    let dir = tempfile::tempdir().unwrap();
    let mut mask = vec![0.0; 27];
    mask[13] = 1.0; // the centre of 3 × 3 × 3
    let mut image = vec![2.0; 27];
    image[13] = 7.0;
    let out = rows(&extract(
        &nii(dir.path(), "image.nii.gz", [3, 3, 3], image),
        &nii(dir.path(), "mask.nii.gz", [3, 3, 3], mask),
        JSON,
    ));
    assert_eq!(value(&out, "Q4LE"), Some(7.0));
    assert_eq!(value(&out, "ECT3"), Some(0.0));
    assert_eq!(value(&out, "KE2A"), Some(0.0));
    assert_eq!(value(&out, "IPH6"), Some(0.0));
    nan_rows_have_notes(&out);
    // A lone voxel has no neighbour: no GLCM pair, so GLCM features are NaN with a reason.
    let glcm: Vec<&Row> = out.iter().filter(|r| r.family == "glcm").collect();
    assert!(!glcm.is_empty());
    assert!(glcm.iter().all(|r| r.value.is_none()), "{:?}", glcm.first());
}

/// A one-slice ROI (a 3 × 3 square in z = 1 of a 3 × 3 × 3 image): slice-wise and
/// volumetric aggregations both work; numbers or NaN with notes, never a crash.
#[test]
fn roi_of_one_slice() {
    let dir = tempfile::tempdir().unwrap();
    let mask: Vec<f64> = (0..27).map(|i| f64::from(u8::from(i / 9 == 1))).collect();
    let image: Vec<f64> = (0..27).map(|i| f64::from(i % 4)).collect();
    let out = rows(&extract(
        &nii(dir.path(), "image.nii.gz", [3, 3, 3], image),
        &nii(dir.path(), "mask.nii.gz", [3, 3, 3], mask),
        JSON,
    ));
    // Slice z = 1 holds i = 9..17: i mod 4 = 1,2,3,0,1,2,3,0,1, sum 13, mean 13/9.
    assert!((value(&out, "Q4LE").unwrap() - 13.0 / 9.0).abs() < 1e-12);
    nan_rows_have_notes(&out);
    // Each of the 6 aggregations has a GLCM joint maximum (in-plane pairs exist).
    let jmax: Vec<&Row> = out.iter().filter(|r| r.tag == "GYBY").collect();
    assert_eq!(jmax.len(), 6);
    assert!(jmax.iter().all(|r| r.value.is_some()), "{jmax:?}");
}

/// A constant ROI under fixed bin number has one grey level (IBSI 2.7: all voxels fall in
/// bin 1): skewness and kurtosis 0 (IBSI: defined as 0 when the variance is 0), GLCM joint
/// maximum 1 and joint entropy 0 (one cell with p = 1), discretised entropy 0.
#[test]
fn constant_intensity_roi() {
    let dir = tempfile::tempdir().unwrap();
    let out = rows(&extract(
        &nii(dir.path(), "flat.nii.gz", [4, 4, 4], vec![100.0; 64]),
        &nii(dir.path(), "mask.nii.gz", [4, 4, 4], vec![1.0; 64]),
        JSON,
    ));
    assert_eq!(value(&out, "Q4LE"), Some(100.0));
    for tag in ["KE2A", "IPH6", "88K1", "C3I7"] {
        assert_eq!(value(&out, tag), Some(0.0), "{tag}");
    }
    for r in out.iter().filter(|r| r.tag == "GYBY") {
        assert_eq!(r.value, Some(1.0), "joint maximum {}", r.aggregation);
    }
    for r in out.iter().filter(|r| r.tag == "TU9B") {
        assert_eq!(r.value, Some(0.0), "joint entropy {}", r.aggregation);
    }
    nan_rows_have_notes(&out);
}

/// Different intensities, but a bin width wider than their range: one grey level, so the
/// texture is that of a constant ROI although the intensity statistics are not.
#[test]
fn single_grey_level_from_a_wide_bin() {
    let dir = tempfile::tempdir().unwrap();
    let settings =
        file(dir.path(), "wide.toml", b"[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = 1000.0\n");
    let out = rows(&extract(
        &nii(dir.path(), "image.nii.gz", [4, 4, 4], (0..64).map(f64::from).collect()),
        &nii(dir.path(), "mask.nii.gz", [4, 4, 4], vec![1.0; 64]),
        &["--settings", &settings, "--format", "json"],
    ));
    assert_eq!(value(&out, "Q4LE"), Some(31.5));
    assert!(value(&out, "ECT3").unwrap() > 0.0);
    for r in out.iter().filter(|r| r.tag == "TU9B" || r.tag == "88K1") {
        assert_eq!(r.value, Some(0.0), "{} {}", r.feature, r.aggregation);
    }
    nan_rows_have_notes(&out);
}

/// A ROI in slices z = 0 and z = 2 with z = 1 empty: 2D aggregations average over the
/// slices that hold ROI voxels only. Both slices carry the same pattern, so every 2D and
/// 2.5D feature equals that of the one-slice ROI made of slice 0 alone.
#[test]
fn empty_slices_in_two_d_mode_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = |i: usize| f64::from((i % 9 * 5 % 7) as u8);
    let image: Vec<f64> = (0..27).map(pattern).collect();
    let image = nii(dir.path(), "image.nii.gz", [3, 3, 3], image);
    let holed = nii(dir.path(), "holed.nii.gz", [3, 3, 3], (0..27).map(|i| f64::from(u8::from(i / 9 != 1))).collect());
    let single =
        nii(dir.path(), "single.nii.gz", [3, 3, 3], (0..27).map(|i| f64::from(u8::from(i / 9 == 0))).collect());
    let settings = file(dir.path(), "2d.toml", b"[texture]\naggregations = [\"2d_avg\", \"2d_smrg\", \"2_5d_mrg\"]\n");
    let holed = rows(&extract(&image, &holed, &["--settings", &settings, "--format", "json"]));
    let single = rows(&extract(&image, &single, &["--settings", &settings, "--format", "json"]));
    nan_rows_have_notes(&holed);
    let mut compared = 0;
    for (h, s) in holed.iter().zip(&single) {
        assert_eq!((&h.family, &h.feature, &h.aggregation), (&s.family, &s.feature, &s.aggregation));
        let texture = ["glcm", "glrlm", "glszm", "ngldm", "ngtdm"].contains(&h.family.as_str());
        if texture && (h.aggregation == "2d_avg" || h.aggregation == "2d_smrg") {
            match (h.value, s.value) {
                (Some(a), Some(b)) => {
                    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{} {}: {a} vs {b}", h.feature, h.aggregation)
                }
                (a, b) => assert_eq!(a.is_none(), b.is_none(), "{} {}", h.feature, h.aggregation),
            }
            compared += 1;
        }
    }
    assert!(compared > 50, "{compared}");
}

// ---------------------------------------------------------------- settings files

#[test]
fn bad_settings_files() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let cases: [(&str, &str, &[&str]); 7] = [
        ("unknown.toml", "lable = 2\n", &["unknown.toml", "lable"]),
        ("wrongtype.toml", "label = \"one\"\n", &["wrongtype.toml", "label", "invalid type"]),
        ("wrongtype.yaml", "label: [1, 2]\n", &["wrongtype.yaml", "label"]),
        (
            "negwidth.toml",
            "[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = -25.0\n",
            &["negwidth.toml", "discretisation.texture.width", "must be > 0"],
        ),
        ("negspacing.toml", "[resample]\nspacing = [1.0, -2.0, 1.0]\n", &["negspacing.toml", "resample.spacing"]),
        (
            "zerobins.toml",
            "[discretisation.texture]\nmethod = \"fixed_bin_number\"\nbins = 0\n",
            &["zerobins.toml", "discretisation.texture.bins", "at least 1"],
        ),
        ("syntax.toml", "label = = 1\n", &["syntax.toml"]),
    ];
    for (name, contents, words) in cases {
        let settings = file(dir.path(), name, contents.as_bytes());
        refused(&extract(&image, &mask, &["--settings", &settings]), words);
    }
    refused(&extract(&image, &mask, &["--settings", "/no/such/settings.toml"]), &["/no/such/settings.toml"]);
    let binary = file(dir.path(), "binary.toml", &[0xff, 0xfe, 0x00, 0x9c, 0x80]);
    refused(&extract(&image, &mask, &["--settings", &binary]), &["binary.toml"]);
}

// ---------------------------------------------------------------- feature files

#[test]
fn bad_feature_files() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let wrap = |expr: &str| format!("family mine over roi {{\n  feature f \"MY01\" = {expr}\n}}\n");
    let deep = format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000));
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("syntax.radx", b"family mine over roi {\n  feature f \"MY01\" = 1 +\n}\n".to_vec(), &["syntax.radx:3"]),
        ("unknown.radx", wrap("sum(k, y[k])").into_bytes(), &["unknown.radx:2", "`y`"]),
        ("deep.radx", wrap(&deep).into_bytes(), &["deep.radx", "deep"]),
        ("junk.radx", (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(), &["junk.radx"]),
        ("huge.radx", wrap(&"9".repeat(400)).into_bytes(), &["huge.radx:2"]),
    ];
    for (name, contents, words) in cases {
        let features = file(dir.path(), name, &contents);
        refused(&extract(&image, &mask, &["--features", &features]), words);
        refused(&radx(&["check", &features]), words);
    }
    refused(&extract(&image, &mask, &["--features", "/no/such/features.radx"]), &["/no/such/features.radx"]);
    // The library compiles while the case is read; its error comes first when both fail.
    let syntax = dir.path().join("syntax.radx").display().to_string();
    refused(&extract("/no/such/image.nii.gz", &mask, &["--features", &syntax]), &["syntax.radx:3"]);
    let empty = nii(dir.path(), "empty_mask.nii.gz", [4, 4, 4], vec![0.0; 64]);
    refused(&extract(&image, &empty, &["--features", &syntax]), &["syntax.radx:3"]);
}

/// Division by zero is evaluated, not refused: IEEE gives ±inf or NaN, and a NaN or an
/// infinity carries a note saying what made it (an overflow was called a division by zero).
#[test]
fn division_by_zero_at_evaluation_is_nan_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let features = file(
        dir.path(),
        "zero.radx",
        b"family mine over roi {\n  feature zero_by_zero \"MY01\" = (N - N) / (N - N)\n  feature ok \"MY02\" = N\n\
          feature too_big \"MY03\" = exp(N * 1000)\n  feature neg_log \"MY04\" = log(-N)\n\
          feature one_by_zero \"MY05\" = -1 / (N - N)\n}\n",
    );
    let out = rows(&extract(&image, &mask, &["--features", &features, "--format", "json"]));
    let mine: Vec<&Row> = out.iter().filter(|r| r.family == "mine").collect();
    assert_eq!(mine.len(), 5);
    let note = |k: usize| mine[k].note.as_deref().unwrap_or_default();
    assert!(mine[0].value.is_none());
    assert_eq!(note(0), "undefined for this ROI: a division by zero");
    assert_eq!(mine[1].value, Some(64.0));
    assert_eq!(note(2), "infinite for this ROI: an overflow (a result beyond ±1.8e308)");
    assert_eq!(note(3), "undefined for this ROI: the logarithm of a negative number");
    assert_eq!(note(4), "infinite for this ROI: a division by zero");
    nan_rows_have_notes(&out);
}

/// Runs and zones are 8-connected in 2D and 26-connected in 3D: another `connectivity` is
/// refused when the file is compiled (by `radx check` too), naming the parameter and the
/// values it accepts, not silently replaced by 26. So are a negative distance or NGLDM α.
#[test]
fn source_parameters_outside_their_values_are_refused_when_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let cases: [(&str, &str, &[&str]); 4] = [
        ("six.radx", "szm(connectivity = 6)", &["six.radx:1", "`connectivity` of source `szm` is 6", "only 26"]),
        ("conn.radx", "rlm(connectivity = 99)", &["conn.radx:1", "`connectivity`", "is 99", "only 26"]),
        ("dist.radx", "cm(distance = -1)", &["dist.radx:1", "`distance` of source `cm` is -1", "1 or more"]),
        ("alpha.radx", "ngl(alpha = -5)", &["alpha.radx:1", "`alpha` of source `ngl` is -5", "0 or more"]),
    ];
    for (name, source, words) in cases {
        let text = format!("family mine over {source} {{\n  feature n \"MY01\" = Ng\n}}\n");
        let features = file(dir.path(), name, text.as_bytes());
        refused(&radx(&["check", &features]), words);
        refused(&extract(&image, &mask, &["--features", &features]), words);
    }
}

/// `radx check --format json`: one JSON object per diagnostic, with its place and hint.
#[test]
fn check_writes_one_json_object_per_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let bad = file(
        dir.path(),
        "bad.radx",
        b"family runs over rlm {\n  feature f \"MY01\" = sum(i, j, k, r[i,j,k])\n}\n\
          family co over cm(distance = -1) {\n  feature g \"MY02\" = sum(i, j, p[i,j])\n}\n",
    );
    let good = file(dir.path(), "good.radx", b"family ok over cm {\n  feature h \"MY03\" = sum(i, j, p[i,j])\n}\n");
    let out = radx(&["check", "--format", "json", &bad, &good]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let records: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    assert_eq!(records.len(), 2, "{records:?}");
    let arity = &records[0];
    assert_eq!(arity["file"], bad.as_str());
    assert_eq!((arity["line"].as_u64(), arity["column"].as_u64()), (Some(2), Some(35)));
    assert_eq!((arity["end_line"].as_u64(), arity["end_column"].as_u64()), (Some(2), Some(43)));
    assert_eq!(arity["severity"], "error");
    assert_eq!(arity["message"], "`r` has 2 axes but is indexed with 3");
    assert!(arity["hint"].as_str().is_some_and(|h| h.contains("(level, run)")), "{arity}");
    assert_eq!((records[1]["line"].as_u64(), records[1]["column"].as_u64()), (Some(4), Some(19)));
    let clean = radx(&["check", "--format", "json", &good]);
    assert_eq!(clean.status.code(), Some(0));
    assert!(clean.stdout.is_empty());
}

/// A feature whose loops exceed the evaluation budget gets NaN and a note naming it and its
/// line (the family's other features too: the family stops), never a hang; a constant range
/// beyond the budget is refused when compiled.
#[test]
fn the_evaluation_budget_names_the_feature_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let features = file(
        dir.path(),
        "loops.radx",
        b"family mine over roi {\n  feature n \"MY01\" = N\n  feature long \"MY02\" = sum(k in 1..N * 1000, k)\n}\n",
    );
    let out = rows(&extract(&image, &mask, &["--features", &features, "--format", "json", "--eval-budget", "1000"]));
    let mine: Vec<&Row> = out.iter().filter(|r| r.family == "mine").collect();
    assert_eq!(mine.len(), 2);
    for r in &mine {
        assert!(r.value.is_none(), "{r:?}");
        let note = r.note.as_deref().unwrap_or_default();
        assert!(note.contains("`long` (line 3)") && note.contains("evaluation budget of 1000"), "{note}");
    }
    // The healthy 4×4×4 ROI has N = 64: 64 000 values and iterations fit in the default budget.
    let out = rows(&extract(&image, &mask, &["--features", &features, "--format", "json"]));
    assert_eq!(value(&out, "MY02"), Some(64_000.0 * 64_001.0 / 2.0));
    let constant =
        file(dir.path(), "constant.radx", b"family c over roi {\n  feature f \"MY03\" = sum(k in 1..100, k)\n}\n");
    refused(&radx(&["check", "--eval-budget", "99", &constant]), &["constant.radx:2", "100 values", "budget of 99"]);
    assert_eq!(radx(&["check", &constant]).status.code(), Some(0));
}

// ---------------------------------------------------------------- outputs

/// A failed run leaves no output file behind (and an old one untouched).
#[test]
fn failed_runs_leave_no_half_written_table() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask) = healthy(dir.path());
    let empty = nii(dir.path(), "empty.nii.gz", [4, 4, 4], vec![0.0; 64]);
    let out_path = dir.path().join("out.csv");
    let out = out_path.to_string_lossy().into_owned();
    refused(&extract(&image, &empty, &["-o", &out]), &["label 1 does not occur"]);
    assert!(!out_path.exists());
    std::fs::write(&out_path, "old\n").unwrap();
    refused(&extract(&image, &empty, &["-o", &out]), &["label 1 does not occur"]);
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), "old\n");
    let names: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(names.len(), 4, "{names:?}"); // image, mask, empty, out.csv: no temporary file
    // An output folder that does not exist is a clear error.
    refused(&extract(&image, &mask, &["-o", "/no/such/dir/out.csv"]), &["/no/such/dir/out.csv", "cannot write"]);
}
