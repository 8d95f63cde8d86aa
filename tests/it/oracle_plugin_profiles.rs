//! ABI 2.2's example features against numpy on PyRadiomics' brain2 case (label 1, default
//! settings): `plugins/profiles` (a percentile with parameter `p`, the per-slice mean with
//! parameter `axis`, a profile) and the C example's `mean_above` (parameters `t`, `strict`)
//! and `slice_voxels` (a profile), with the parameters set in a settings file's
//! `[[plugin_feature]]` tables. Values from `tests/data/pyradiomics/profiles/generate.py`
//! (stored in `expected.csv`), rows named as radx names them.

use std::path::{Path, PathBuf};

use crate::common::text;
use crate::mechanics_plugins::{c_example, csv_row, radx_cli, rust_plugin, scratch};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pyradiomics").join(name)
}

/// (plugin, row, value) rows of the numpy oracle.
fn expected() -> Vec<(String, String, f64)> {
    let csv = std::fs::read_to_string(data("profiles/expected.csv")).expect("the oracle's values");
    csv.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0].to_string(), f[1].to_string(), f[2].parse().expect("a number"))
        })
        .collect()
}

/// The settings asking for every call the oracle computed.
const SETTINGS: &str = r#"
[[plugin_feature]]
feature = "profiles.percentile"
params = { p = 10 }

[[plugin_feature]]
feature = "profiles.percentile"

[[plugin_feature]]
feature = "profiles.percentile"
params = { p = 90.0 }

[[plugin_feature]]
feature = "profiles.percentile"
params = { p = 2.5 }

[[plugin_feature]]
feature = "profiles.slice_mean"

[[plugin_feature]]
feature = "profiles.slice_mean"
params = { axis = 0 }

[[plugin_feature]]
feature = "c-example.mean_above"
params = { t = 375 }

[[plugin_feature]]
feature = "c-example.mean_above"
params = { t = 375, strict = true }
"#;

#[test]
fn parameterised_and_profile_features_match_numpy_on_brain2() {
    let dir = scratch("oracle-profiles");
    let settings = dir.join("settings.toml");
    std::fs::write(&settings, SETTINGS).unwrap();
    let (image, mask) = (data("data/brain2_image.nrrd"), data("data/brain2_label.nrrd"));
    let profiles = rust_plugin("radx_plugin_profiles");
    let args = [
        "extract",
        "--image",
        image.to_str().unwrap(),
        "--mask",
        mask.to_str().unwrap(),
        "--settings",
        settings.to_str().unwrap(),
        "--plugin",
        profiles.to_str().unwrap(),
        "--plugin",
        c_example().to_str().unwrap(),
    ];
    let out = radx_cli(&args, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let rows = expected();
    assert_eq!(rows.len(), 32, "4 percentiles, 2 means above, per-slice means and counts");
    for (plugin, row, want) in &rows {
        let got = csv_row(&csv, plugin, row).unwrap_or_else(|| panic!("no row {plugin} {row}"));
        let value: f64 = got[4].parse().unwrap_or_else(|_| panic!("{row}: {got:?}"));
        assert!((value - want).abs() <= 1e-12 * want.abs(), "{row}: radx {value}, numpy {want}");
    }
    // Exactly the oracle's rows for the profiles plugin, and every slice of each profile.
    let radx_rows: Vec<&str> = csv
        .lines()
        .filter_map(|l| l.strip_prefix("original,profiles,"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let oracle_rows: Vec<&str> = rows.iter().filter(|r| r.0 == "profiles").map(|r| r.1.as_str()).collect();
    assert_eq!(
        radx_rows,
        oracle_rows
            .iter()
            .copied()
            .filter(|r| r.starts_with("percentile"))
            .chain(oracle_rows.iter().copied().filter(|r| r.starts_with("slice_mean(axis=2)")))
            .chain(oracle_rows.iter().copied().filter(|r| r.starts_with("slice_mean(axis=0)")))
            .collect::<Vec<_>>()
    );
    let slices = |prefix: &str| csv.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        slices("original,c-example,slice_voxels["),
        rows.iter().filter(|r| r.1.starts_with("slice_voxels[")).count()
    );
}
