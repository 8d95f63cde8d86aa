//! Mechanics: PyRadiomics drop-in end to end — `radx batch --names pyradiomics` writes
//! PyRadiomics' batch layout (checked against PyRadiomics 3.0.1's own output,
//! tests/data/pyradiomics/batch/), reads its case lists, and every combination of library,
//! names, parameter file and user feature files computes or stops saying why.

use crate::common::{radx, s};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pyradiomics(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pyradiomics").join(rel)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Header and rows of a CSV file.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().expect("header").iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect();
    (header, rows)
}

/// Cells equal as text, or as numbers within 1e-6 relative (1e-9 absolute).
fn same_cell(want: &str, got: &str) -> bool {
    match (want.parse::<f64>(), got.parse::<f64>()) {
        (Ok(w), Ok(g)) => (w - g).abs() <= 1e-6 * w.abs() || (w - g).abs() <= 1e-9 || (w.is_nan() && g.is_nan()),
        _ => want == got,
    }
}

/// `radx batch` on PyRadiomics' case list with `--names pyradiomics`.
fn pyradiomics_batch(dir: &Path) -> PathBuf {
    let out = dir.join("features.csv");
    let params = pyradiomics("params/examples/Params.yaml");
    let cases = pyradiomics("batch/cases.csv");
    let run = radx(&["batch", &s(&cases), "--settings", &s(&params), "--names", "pyradiomics", "-o", &s(&out), "-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    out
}

/// The header is PyRadiomics' column for column; every cell is PyRadiomics' except the
/// versions and configuration (radx's), and the paths (absolute here).
#[test]
fn batch_writes_pyradiomics_batch_layout() {
    let dir = tempfile::tempdir().unwrap();
    let (header, rows) = read_csv(&pyradiomics_batch(dir.path()));
    let (want_header, want_rows) = read_csv(&pyradiomics("batch/Params.csv"));
    assert_eq!(header, want_header, "PyRadiomics' columns in PyRadiomics' order");
    assert_eq!(rows.len(), want_rows.len());
    for (row, want) in rows.iter().zip(&want_rows) {
        for ((name, got), want) in header.iter().zip(row).zip(want) {
            match name.as_str() {
                "Image" | "Mask" => assert!(got.starts_with('/') && got.ends_with(want.as_str()), "{name}: {got}"),
                "diagnostics_Versions_PyRadiomics" => assert!(got.starts_with("radx "), "{got}"),
                n if n.starts_with("diagnostics_Versions_") => assert_eq!(got, ""),
                n if n.starts_with("diagnostics_Configuration_") => assert!(got.starts_with('{'), "{n}: {got}"),
                _ => assert!(same_cell(want, got), "{} {name}: radx {got}, PyRadiomics {want}", row[0]),
            }
        }
    }
    // What the documentation's pandas snippet reads.
    let at = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    assert_eq!(at("ID"), 0);
    assert_eq!(header.iter().filter(|h| h.starts_with("original_")).count(), 100);
    assert_eq!(header.iter().filter(|h| h.contains("_shape_")).count(), 14);
    assert!(rows[0][at("original_firstorder_Energy")].parse::<f64>().is_ok());
    assert_eq!(rows[0][at("diagnostics_Mask-original_VoxelNum")], "453");
    assert_eq!(rows[0][at("diagnostics_Image-original_Hash")], "f2b8fbc4d5d1da08a1a70e79a301f8a830139438");
}

/// The pandas snippet of docs/from-pyradiomics.md prints the same for PyRadiomics' batch
/// output and radx's. Needs a Python with pandas: set `RADX_TEST_PYTHON` to it; skipped
/// otherwise.
#[test]
fn pandas_snippet_reads_radx_output_unchanged() {
    let Ok(python) = std::env::var("RADX_TEST_PYTHON") else {
        println!("skipped: set RADX_TEST_PYTHON to a Python with pandas to run the snippet");
        return;
    };
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/from-pyradiomics.md")).unwrap();
    let snippet = doc.split("```python\n").nth(1).and_then(|s| s.split("```").next()).expect("a python block");
    let radx_dir = tempfile::tempdir().unwrap();
    pyradiomics_batch(radx_dir.path());
    let pyradiomics_dir = tempfile::tempdir().unwrap();
    std::fs::copy(pyradiomics("batch/Params.csv"), pyradiomics_dir.path().join("features.csv")).unwrap();
    let run = |dir: &Path| {
        let out = Command::new(&python).arg("-c").arg(snippet).current_dir(dir).output().expect("python runs");
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(run(radx_dir.path()), run(pyradiomics_dir.path()));
}

/// A PyRadiomics case list without an id column: cases numbered from 1, other columns
/// carried; in radx's layout too.
#[test]
fn pyradiomics_case_list_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("cases.csv");
    let data = pyradiomics("data");
    let line = |case: &str| format!("{0}/{case}_image.nrrd,{0}/{case}_label.nrrd,site A", data.display());
    std::fs::write(&list, format!("Image,Mask,Site\n{}\n{}\n", line("brain2"), line("breast1"))).unwrap();
    let out = dir.path().join("radx.csv");
    let params = pyradiomics("params/examples/Params.yaml");
    let run = radx(&["batch", &s(&list), "--settings", &s(&params), "-o", &s(&out), "-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (header, rows) = read_csv(&out);
    assert_eq!(header[..4], ["id", "label", "status", "error"]);
    let ids: Vec<(&str, &str)> = rows.iter().map(|r| (r[0].as_str(), r[2].as_str())).collect();
    assert_eq!(ids, [("1", "ok"), ("2", "ok")]);
    let py = dir.path().join("py.csv");
    let run = radx(&["batch", &s(&list), "--settings", &s(&params), "--names", "pyradiomics", "-o", &s(&py), "-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (header, rows) = read_csv(&py);
    assert_eq!(header[..4], ["Image", "Mask", "Site", "diagnostics_Versions_PyRadiomics"]);
    assert_eq!(rows[1][2], "site A");
}

/// A user feature file over the IBSI's GLCM and GLRLM and over PyRadiomics' GLCM.
const USER_FAMILIES: &str = "family mine over cm {\n  feature joint_max \"MINE1\" = max(i, j, p[i,j])\n}\n\
    family runs over rlm {\n  feature run_count \"MINE2\" = sum(i, j, r[i,j])\n}\n\
    family levels over pyr_glcm {\n  feature ng \"MINE3\" = Ng\n}\n";

/// `radx extract` on brain2: (family, aggregation) → row count, and stderr; panics on failure.
fn families(args: &[&str]) -> (BTreeMap<(String, String), usize>, String) {
    let data = pyradiomics("data");
    let (image, mask) = (data.join("brain2_image.nrrd"), data.join("brain2_label.nrrd"));
    let mut all =
        vec!["extract", "--image", &s(&image), "--mask", &s(&mask)].into_iter().map(String::from).collect::<Vec<_>>();
    all.extend(args.iter().map(|a| a.to_string()));
    let out = Command::new(env!("CARGO_BIN_EXE_radx")).args(&all).output().expect("radx runs");
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let mut count = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        *count.entry((cells[1].to_string(), cells[4].to_string())).or_default() += 1;
    }
    (count, stderr(&out))
}

fn has(count: &BTreeMap<(String, String), usize>, family: &str, aggregation: &str) -> bool {
    count.get(&(family.to_string(), aggregation.to_string())).is_some_and(|&n| n > 0)
}

/// Every combination of library, names, parameter file and user feature files either
/// computes (user families kept and computed; the IBSI library computes what the settings
/// allow) or fails with an error that says why.
#[test]
fn every_library_names_and_feature_file_combination_computes_or_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("mine.radx");
    std::fs::write(&user, USER_FAMILIES).unwrap();
    let (user, params) = (s(&user), s(&pyradiomics("params/examples/Params.yaml")));

    // PyRadiomics' parameter file: its library; featureClass keeps every user family.
    for names in ["radx", "pyradiomics"] {
        let (count, _) = families(&["--settings", &params, "--features", &user, "--names", names]);
        for (family, aggregation) in
            [("glcm", "-"), ("mine", "3d_avg"), ("mine", "3d_mrg"), ("runs", "3d_avg"), ("levels", "-")]
        {
            assert!(has(&count, family, aggregation), "--names {names}: no {family} {aggregation} in {count:?}");
        }
        assert!(!has(&count, "gldzm", "3d_mrg"), "only PyRadiomics' library and the user's families");
    }

    // The IBSI library with PyRadiomics' parameter file: texture for the 3D aggregations;
    // the PyRadiomics-only options named.
    let (count, warnings) = families(&["--settings", &params, "--library", "ibsi", "--features", &user]);
    for (family, aggregation) in [
        ("glcm", "3d_avg"),
        ("glrlm", "3d_mrg"),
        ("glszm", "3d_mrg"),
        ("ngtdm", "3d_mrg"),
        ("mine", "3d_avg"),
        ("levels", "-"),
    ] {
        assert!(has(&count, family, aggregation), "--library ibsi: no {family} {aggregation} in {count:?}");
    }
    assert!(!has(&count, "glcm", "2d_avg"), "3D texture only without force2D");
    assert!(warnings.contains("`featureClass` has no effect"), "{warnings}");

    // force2D: the IBSI's 2D and 2.5D aggregations.
    let force_2d = dir.path().join("force2d.yaml");
    std::fs::write(&force_2d, "setting:\n  force2D: true\n  binWidth: 25\n  resampledPixelSpacing: [1, 1, 0]\n")
        .unwrap();
    let (count, _) = families(&["--settings", &s(&force_2d), "--library", "ibsi"]);
    assert!(
        has(&count, "glcm", "2d_avg") && has(&count, "glcm", "2_5d_mrg") && !has(&count, "glcm", "3d_avg"),
        "{count:?}"
    );

    // radx's defaults with PyRadiomics' library, and the IBSI library with a user family
    // over PyRadiomics' GLCM.
    let (count, _) = families(&["--library", "pyradiomics", "--features", &user]);
    assert!(has(&count, "firstorder", "-") && has(&count, "mine", "3d_avg") && has(&count, "levels", "-"), "{count:?}");
    let (count, _) = families(&["--features", &user]);
    assert!(has(&count, "morphology", "-") && has(&count, "levels", "-") && has(&count, "mine", "2d_avg"), "{count:?}");
}

/// The combinations that cannot work stop with exit status 2 and say why.
#[test]
fn impossible_combinations_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let data = pyradiomics("data");
    let (image, mask) = (s(&data.join("brain2_image.nrrd")), s(&data.join("brain2_label.nrrd")));
    let params = s(&pyradiomics("params/examples/Params.yaml"));
    let refused = |args: &[&str], says: &[&str]| {
        let mut all = vec!["extract", "--image", &image, "--mask", &mask];
        all.extend(args);
        let out = radx(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?} should fail");
        let message = stderr(&out);
        for s in says {
            assert!(message.contains(s), "{args:?}: `{s}` not in {message}");
        }
        assert!(out.stdout.is_empty(), "no output on an error");
    };
    refused(
        &["--settings", &params, "--library", "ibsi", "--names", "pyradiomics"],
        &["--names pyradiomics", "--library ibsi"],
    );
    refused(&["--names", "pyradiomics"], &["needs the PyRadiomics library"]);
    refused(&["--settings", &params, "--library", "ibsi", "--strict"], &["Params.yaml", "featureClass"]);
    let keep_x = dir.path().join("keep_x.yaml");
    std::fs::write(&keep_x, "setting:\n  resampledPixelSpacing: [0, 2, 2]\n").unwrap();
    refused(
        &["--settings", &s(&keep_x), "--library", "ibsi"],
        &["keep_x.yaml", "resampledPixelSpacing", "--library pyradiomics"],
    );
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, "featureClass:\n  glcm: [Contrast, JointEnergi]\n").unwrap();
    refused(&["--settings", &s(&typo)], &["typo.yaml", "`JointEnergi`", "class `glcm`"]);
}
