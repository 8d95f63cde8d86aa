//! Mechanics of `radx filter` and `radx ibsi2`: outputs, formats, exit codes. Values are
//! checked against the IBSI-2 consensus maps and reference values, never against radx.

use crate::common::{data, radx, s, text};

/// max |a − b| / joint range: the IBSI-2 phase 1 score.
fn score(a: &radx_engine::core::Volume<f64>, b: &radx_engine::core::Volume<f64>) -> f64 {
    assert_eq!(a.grid.dims, b.grid.dims);
    let (mut lo, mut hi, mut worst) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for (x, y) in a.data.iter().zip(b.data.iter()) {
        lo = lo.min(*x).min(*y);
        hi = hi.max(*x).max(*y);
        worst = worst.max((x - y).abs());
    }
    worst / (hi - lo)
}

#[test]
fn ibsi2_phase1_reports_csv_and_writes_the_maps_it_computed() {
    let dir = tempfile::tempdir().unwrap();
    let maps = dir.path().join("maps");
    let out = radx(&["ibsi2", "--phase", "1", "--only", "2.b,3.c.3", "--format", "csv", "--maps", &s(&maps)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "test,phantom,filter,image_type,max_diff_over_range,pass");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with("2.b,checkerboard,log,log_sigma_5mm,") && lines[1].ends_with(",pass"), "{csv}");
    assert!(text(&out.stderr).contains("2 of 2 reference maps reproduced"));
    // The written map is float32 on the phantom's grid and reproduces the consensus map.
    let written = radx_engine::io::read_volume(&maps.join("2.b.nii.gz")).unwrap();
    let phantom = radx_engine::io::read_volume(&data("ibsi2/digital_phantoms/checkerboard/image.nii.gz")).unwrap();
    assert_eq!(written.grid, phantom.grid);
    let info = radx_engine::io::read_info(&maps.join("2.b.nii.gz")).unwrap();
    assert_eq!(info.datatype, "float32");
    let reference = radx_engine::io::read_volume(&data("ibsi2/reference_response_maps/2_b-ValidCRM.nii.gz")).unwrap();
    assert!(score(&written, &reference) < 1e-3);
}

#[test]
fn ibsi2_exits_non_zero_on_a_miss() {
    // 1.a.1 (zero boundary) against 1.a.2's map (nearest): the maps differ by half their range.
    let dir = tempfile::tempdir().unwrap();
    let from = data("ibsi2/reference_response_maps/1_a_2-ValidCRM.nii.gz");
    std::fs::copy(from, dir.path().join("1_a_1-ValidCRM.nii.gz")).unwrap();
    let out =
        radx(&["ibsi2", "--phase", "1", "--only", "1.a.1", "--reference-maps", &s(dir.path()), "--format", "csv"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).lines().nth(1).unwrap().ends_with(",FAIL"));
    assert!(text(&out.stderr).contains("0 of 1 reference maps reproduced"));
}

#[test]
fn ibsi2_phase2_csv_has_one_row_per_value() {
    let out = radx(&["ibsi2", "--phase", "2", "--only", "2.A", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("config,feature,tag,value,reference,tolerance,pass"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 18);
    assert!(rows.iter().all(|r| r[0] == "2.A" && r[6] == "pass"), "{csv}");
    assert!(rows.iter().any(|r| r[1] == "stat_mean" && r[2] == "Q4LE"), "{csv}");
}

#[test]
fn filter_writes_a_float32_response_on_the_images_grid() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("log.toml");
    std::fs::write(&settings, "[[filter]]\nkind = \"log\"\nsigma_mm = 3.0\nboundary = \"zero\"\n").unwrap();
    let output = dir.path().join("response.nii.gz");
    let image = data("ibsi2/digital_phantoms/impulse/image.nii.gz");
    let out = radx(&["filter", "--image", &s(&image), "--settings", &s(&settings), "-o", &s(&output)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let response = radx_engine::io::read_volume(&output).unwrap();
    assert_eq!(response.grid, radx_engine::io::read_volume(&image).unwrap().grid);
    // IBSI-2 test 2.a is this filter on this phantom.
    let reference = radx_engine::io::read_volume(&data("ibsi2/reference_response_maps/2_a-ValidCRM.nii.gz")).unwrap();
    assert!(score(&response, &reference) < 1e-4);
}

#[test]
fn filter_with_several_filters_asks_which_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("two.toml");
    std::fs::write(&settings, "[[filter]]\nkind = \"mean\"\nsupport = 3\n[[filter]]\nkind = \"log\"\nsigma_mm = 2.0\n")
        .unwrap();
    let image = s(&data("ibsi2/digital_phantoms/impulse/image.nii.gz"));
    let output = dir.path().join("r.nii.gz");
    let out = radx(&["filter", "--image", &image, "--settings", &s(&settings), "-o", &s(&output)]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--filter") && stderr.contains("mean_support3") && stderr.contains("log_sigma_2mm"),
        "{stderr}"
    );
    assert!(!output.exists(), "no output on an error");
    let out = radx(&[
        "filter",
        "--image",
        &image,
        "--settings",
        &s(&settings),
        "--filter",
        "log_sigma_2mm",
        "-o",
        &s(&output),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(output.exists());
}
