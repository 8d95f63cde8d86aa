//! `radx test` (test blocks in feature files) and `radx fmt` end to end: exit codes, what is
//! reported, and that files are changed only when asked and never when they do not parse.

use std::path::Path;

use crate::common::{data_arg, radx, s, text};

/// The README's first-feature example (its first code block after "Write your first
/// feature"), as a user copies it into `my.radx`.
fn readme_example() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let from = readme.find("Write your first feature").expect("the README has the example");
    let block = readme[from..].split("```").nth(1).expect("a code block");
    block.trim_start_matches('\n').to_string()
}

/// A folder where `tests/` leads to the repository's test data, so that `my.radx` placed
/// there sees what it would see at the repository's top.
fn repository_like_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"), dir.path().join("tests"))
        .expect("symlink");
    dir
}

fn radx_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_radx")).current_dir(dir).args(args).output().expect("radx runs")
}

#[test]
fn the_shipped_ibsi_expectations_pass() {
    let out = radx(&["test", &data_arg("ibsi/digital_phantom.radx")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    // Every reference value of the IBSI table (482, as `radx ibsi` counts them).
    assert!(stdout.ends_with("test result: ok. 482 passed; 0 failed\n"), "{stdout}");
}

#[test]
fn the_readme_example_passes_its_test() {
    let dir = repository_like_folder();
    std::fs::write(dir.path().join("my.radx"), readme_example()).expect("write");
    let out = radx_in(dir.path(), &["test", "my.radx"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("ok   my.radx:"), "{stdout}");
    assert!(stdout.ends_with("test result: ok. 1 passed; 0 failed\n"), "{stdout}");
    // The README's example is written the way `radx fmt` writes it.
    assert_eq!(radx_in(dir.path(), &["fmt", "--check", "my.radx"]).status.code(), Some(0));
    // Extraction ignores the test block and computes the family.
    let phantom = "tests/data/ibsi/digital_phantom";
    let out = radx_in(
        dir.path(),
        &[
            "extract",
            "--image",
            &format!("{phantom}/image.nii.gz"),
            "--mask",
            &format!("{phantom}/mask.nii.gz"),
            "--settings",
            "tests/data/ibsi/digital_phantom.toml",
            "--features",
            "my.radx",
        ],
    );
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(table.contains("\noriginal,my_glcm,cluster_tendency_squared,MY01,3d_mrg,54.9"), "{table}");
}

#[test]
fn a_wrong_expectation_fails_and_shows_the_computed_value() {
    let dir = repository_like_folder();
    let wrong = readme_example().replace("= 54.91 ± 0.15", "= 50 +- 0.5");
    std::fs::write(dir.path().join("wrong.radx"), wrong).expect("write");
    let out = radx_in(dir.path(), &["test", "wrong.radx"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    // The IBSI's cluster tendency (3D merged) is 7.41, so its square is about 54.9.
    let line = stdout.lines().find(|l| l.contains("FAIL")).unwrap_or_else(|| panic!("no failure in {stdout}"));
    assert!(line.starts_with("  FAIL wrong.radx:13 my_glcm.cluster_tendency_squared.3d_mrg: computed 54.9"), "{line}");
    assert!(line.ends_with(", expected 50 ± 0.5"), "{line}");
    assert!(stdout.ends_with("test result: FAILED. 0 passed; 1 failed\n"), "{stdout}");
    // As JSON lines, for tools.
    let json = radx_in(dir.path(), &["test", "--format", "json", "wrong.radx"]);
    assert_eq!(json.status.code(), Some(1));
    let row: serde_json::Value = serde_json::from_str(text(&json.stdout).trim()).expect("one JSON line");
    assert_eq!(row["pass"], false);
    assert_eq!(row["aggregation"], "3d_mrg");
    assert!((row["computed"].as_f64().expect("a number") - 54.9).abs() < 0.1, "{row}");
}

#[test]
fn a_missing_image_is_an_error_naming_the_file_and_line() {
    let dir = repository_like_folder();
    let missing = readme_example().replace("digital_phantom/image.nii.gz", "digital_phantom/no_such_image.nii.gz");
    std::fs::write(dir.path().join("missing.radx"), missing).expect("write");
    let out = radx_in(dir.path(), &["test", "missing.radx"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: missing.radx:10: test \"IBSI digital phantom\": the image \
         tests/data/ibsi/digital_phantom/no_such_image.nii.gz does not exist; paths in a test block are relative \
         to the folder of the .radx file\n"
    );
}

/// A file that cannot run does not stop the others: their results are reported, the error
/// is on standard error, and the exit status is 2.
#[test]
fn the_other_files_run_past_one_that_cannot() {
    let dir = repository_like_folder();
    let missing = readme_example().replace("digital_phantom/image.nii.gz", "digital_phantom/no_such_image.nii.gz");
    std::fs::write(dir.path().join("a_missing.radx"), missing).expect("write");
    std::fs::write(dir.path().join("b_good.radx"), readme_example()).expect("write");
    let out = radx_in(dir.path(), &["test", "a_missing.radx", "b_good.radx"]);
    assert_eq!(out.status.code(), Some(2));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stderr.starts_with("error: a_missing.radx:10:"), "{stderr}");
    assert!(stdout.contains("ok   b_good.radx:13"), "{stdout}");
    assert!(stdout.ends_with("test result: FAILED. 1 passed; 0 failed; 1 file(s) could not run\n"), "{stdout}");
}

#[test]
fn an_expectation_naming_an_unknown_feature_is_an_error() {
    let dir = repository_like_folder();
    let unknown = readme_example().replace("my_glcm.cluster_tendency_squared", "my_glcm.cluster_tendency_sqared");
    std::fs::write(dir.path().join("unknown.radx"), unknown).expect("write");
    let out = radx_in(dir.path(), &["test", "unknown.radx"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: unknown.radx:13: test \"IBSI digital phantom\": `my_glcm.cluster_tendency_sqared.3d_mrg` names no \
         feature of this extraction; did you mean `cluster_tendency_squared`?\n"
    );
}

#[test]
fn fmt_check_lists_files_that_would_change_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = "family f over cm {\n  let  a=sum(i,j,p[i,j]) # kept\n}\n";
    let path = dir.path().join("f.radx");
    std::fs::write(&path, messy).expect("write");
    let out = radx(&["fmt", "--check", &s(dir.path())]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), format!("would reformat {}\n", s(&path)));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), messy);

    let out = radx(&["fmt", &s(&path)]);
    assert_eq!(out.status.code(), Some(0));
    let formatted = "family f over cm {\n  let a = sum(i, j, p[i,j])  # kept\n}\n";
    assert_eq!(std::fs::read_to_string(&path).expect("read"), formatted);
    // Formatted files pass the check, and formatting them again changes nothing.
    assert_eq!(radx(&["fmt", "--check", &s(&path)]).status.code(), Some(0));
    let again = radx(&["fmt", &s(&path)]);
    assert_eq!(text(&again.stdout), "");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), formatted);
}

#[test]
fn fmt_leaves_a_file_that_does_not_parse_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = "family f over cm {\n  let a = \n}\n";
    let path = dir.path().join("broken.radx");
    std::fs::write(&path, broken).expect("write");
    let out = radx_in(dir.path(), &["fmt", "broken.radx"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), broken);
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error: syntax error: expected an expression\n  --> broken.radx:3:1\n"), "{stderr}");
    assert!(stderr.ends_with("error: broken.radx was left unchanged: it does not parse\n"), "{stderr}");
    // No temporary file is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
}

#[test]
fn the_shipped_feature_library_is_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = radx(&["fmt", "--check", &s(&root.join("features")), &s(&root.join("features/pyradiomics"))]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
