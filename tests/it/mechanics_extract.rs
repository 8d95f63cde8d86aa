//! Mechanics: `radx extract` end to end — formats, output files, user feature files.

use std::path::{Path, PathBuf};

use crate::common::{data_arg, radx};
use radx_engine::core::{Grid, Volume};
use radx_engine::io::{NiftiType, write_nifti};

fn write(dir: &Path, name: &str, dims: [usize; 3], values: Vec<f64>) -> String {
    let path = dir.join(name);
    write_nifti(&path, &Volume::from_x_fastest(Grid::new(dims, [1.0; 3]), values), NiftiType::F32).unwrap();
    path.to_string_lossy().into_owned()
}

/// A feature file written by a user, not part of radx, runs without rebuilding.
///
/// Image: one row of three voxels with intensities 1, 2, 2, all in the ROI; fixed bin
/// size 1 from 1 keeps them as grey levels 1, 2, 2 (N_g = 2). Only direction (1,0,0) has
/// pairs: (1,2) and (2,2); symmetric counts n12 = n21 = 1, n22 = 2 of 4, so
/// p = [[0, 1/4], [1/4, 1/2]], p_x = (1/4, 3/4), μx = μy = 1/4 + 3/2 = 7/4.
/// Cluster tendency = Σ (i + j − 7/2)² p_ij = (1/4)(1/4) + (1/4)(1/4) + (1/4)(1/2) = 1/4,
/// so its square is 1/16 for every aggregation (each has the one non-empty matrix).
#[test]
fn user_feature_file_runs_and_matches_a_hand_computed_value() {
    let dir = tempfile::tempdir().unwrap();
    let image = write(dir.path(), "row.nii.gz", [3, 1, 1], vec![1.0, 2.0, 2.0]);
    let mask = write(dir.path(), "mask.nii.gz", [3, 1, 1], vec![1.0; 3]);
    let settings = dir.path().join("settings.toml");
    std::fs::write(
        &settings,
        "[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = 1.0\nlower_bound = 1.0\n",
    )
    .unwrap();
    let features = dir.path().join("my.radx");
    std::fs::write(
        &features,
        r#"
## My own GLCM features.
family my_glcm over cm {
  let px[i] = sum(j, p[i,j])
  let mu = sum(i, i * px[i])
  ## Square of the IBSI cluster tendency.
  feature cluster_tendency_squared "MY01" = sum(i, j, (i + j - 2 * mu)^2 * p[i,j])^2
}
"#,
    )
    .unwrap();
    let out = radx(&[
        "extract",
        "--image",
        &image,
        "--mask",
        &mask,
        "--settings",
        &settings.to_string_lossy(),
        "--features",
        &features.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mine: Vec<&str> = stdout.lines().filter(|l| l.starts_with("original,my_glcm,")).collect();
    assert_eq!(mine.len(), 6, "one row per aggregation:\n{stdout}");
    for line in mine {
        let value: f64 = line.split(',').nth(5).unwrap().parse().unwrap();
        assert!((value - 1.0 / 16.0).abs() < 1e-12, "{line}");
        assert!(line.contains(",cluster_tendency_squared,MY01,"), "{line}");
    }
}

#[test]
fn extract_writes_csv_and_json_files_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let (image, mask, settings) = (
        data_arg("ibsi/digital_phantom/image.nii.gz"),
        data_arg("ibsi/digital_phantom/mask.nii.gz"),
        data_arg("ibsi/digital_phantom.toml"),
    );
    let csv: PathBuf = dir.path().join("out.csv");
    let json: PathBuf = dir.path().join("out.json");
    for (path, format) in [(&csv, "csv"), (&json, "json")] {
        let out = radx(&[
            "extract",
            "--image",
            &image,
            "--mask",
            &mask,
            "--settings",
            &settings,
            "--format",
            format,
            "-o",
            &path.to_string_lossy(),
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("image_type,family,feature,tag,aggregation,value,note\n"));
    // The IBSI mean intensity of the digital phantom is 2.15 (3 significant digits).
    let mean: f64 = text.lines().find(|l| l.contains(",Q4LE,")).unwrap().split(',').nth(5).unwrap().parse().unwrap();
    assert!((mean - 2.15).abs() <= 0.005, "{mean}");
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), text.lines().count() - 1);
    // Only the two outputs are in the folder: no temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn check_reports_diagnostics_with_file_line_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.radx");
    std::fs::write(&bad, "family f over cm {\n  feature a \"T001\" = sum(i, j, q[i,j])\n}\n").unwrap();
    let out = radx(&["check", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.radx:2:"), "{stderr}");
    assert!(stderr.contains('^'), "{stderr}");
    assert!(stderr.contains('q'), "{stderr}");
    let ok = radx(&["check", &data_arg("../../features")]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn features_list_and_show() {
    let out = radx(&["features", "list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l.contains("glcm") && l.contains("joint_maximum") && l.contains("GYBY")));
    let show = radx(&["features", "show", "GYBY"]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("glcm.joint_maximum [GYBY]"), "{text}");
    assert!(text.contains("max(i, j, p[i,j])"), "{text}");
    // The doc once, above the definition (not again as its `##` line).
    assert_eq!(text.matches("Probability of the most common grey level co-occurrence.").count(), 1, "{text}");
    assert!(!text.contains("##"), "{text}");
    // A family that runs for some aggregations says so.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.radx");
    std::fs::write(
        &file,
        "family mine over cm for 3d_avg, 3d_mrg {\n  feature peak \"MINE1\" = max(i, j, p[i,j])\n}\n",
    )
    .unwrap();
    let show = radx(&["features", "show", "mine.peak", "--features", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("over cm for 3d_avg, 3d_mrg)"), "{text}{}", String::from_utf8_lossy(&show.stderr));
    let missing = radx(&["features", "show", "no_such_feature"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn features_explain_prints_the_evaluation_plan() {
    // The 25 GLCM features take two sweeps over (i, j): the plan says so.
    let out = radx(&["features", "explain", "glcm"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("family glcm over cm (features/glcm.radx): 25 features"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("pass over [level#0, level#1]")).count(), 2, "{text}");
    let missing = radx(&["features", "explain", "no_such_family"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no feature family named `no_such_family`") && stderr.contains("glcm"), "{stderr}");
}

/// The engine's in-memory API and `radx extract` on the same data give the same values:
/// two volumes built in memory, extracted through `Extractor::extract`, then written as
/// NIfTI (whole numbers, exact in float32) and extracted by the command line.
#[test]
fn in_memory_volumes_and_the_cli_give_the_same_values() {
    let dims = [12, 10, 6];
    let (mut image, mut mask) = (Vec::new(), Vec::new());
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                image.push(((x * 13 + y * 7 + z * 3) % 17) as f64 - 5.0);
                let inside = (2..10).contains(&x) && (2..8).contains(&y) && (1..5).contains(&z) && (x + y + z) % 5 != 0;
                mask.push(if inside { 3.0 } else { 0.0 });
            }
        }
    }
    let grid = Grid::new(dims, [1.0; 3]);
    let case =
        radx_engine::Case::new(Volume::from_x_fastest(grid, image.clone()), Volume::from_x_fastest(grid, mask.clone()))
            .with_roi(3);
    let extractor =
        radx_engine::Extractor::new(radx_engine::Settings::default(), &[], Default::default()).expect("library");
    let in_memory = extractor.extract(&case).expect("in-memory extraction");

    let dir = tempfile::tempdir().unwrap();
    let (img, msk) = (write(dir.path(), "image.nii.gz", dims, image), write(dir.path(), "mask.nii.gz", dims, mask));
    let out = radx(&["extract", "--image", &img, "--mask", &msk, "--label", "3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let cli: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(cli.len(), in_memory.rows.len());
    for (line, row) in cli.iter().zip(&in_memory.rows) {
        let k = &row.key;
        let value = if row.value.is_nan() { "NaN".to_string() } else { format!("{}", row.value) };
        // The note is the last column, quoted (RFC 4180) when it holds a comma or a quote.
        let note = row.note.clone().unwrap_or_default();
        let note = if note.contains([',', '"']) { format!("\"{}\"", note.replace('"', "\"\"")) } else { note };
        let expected = format!(
            "{},{},{},{},{},{value},{note}",
            k.image_type,
            k.family,
            k.feature,
            row.tag_or_dash(),
            k.aggregation_name()
        );
        assert_eq!(*line, expected);
    }
}
