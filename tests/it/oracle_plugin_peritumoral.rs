//! The peritumoral-ring example plugins (`plugins/peritumoral` in Rust and
//! `plugins/c-peritumoral` in C, two independent searches) against numpy: the mean,
//! standard deviation and count of the intensities within 5 mm outside the ROI of
//! PyRadiomics' brain2 and breast1 cases, computed once by brute force
//! (`tests/data/pyradiomics/peritumoral/generate.py`, stored in `expected.csv`). It reads
//! the margin region of ABI 2.1; loading it must not change any other feature.

use std::path::{Path, PathBuf};

use crate::common::text;
use crate::mechanics_plugins::{compile_c, csv_row, radx_cli, root, rust_plugin};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pyradiomics").join(name)
}

/// (case, feature, value) rows of the numpy oracle.
fn expected() -> Vec<(String, String, f64)> {
    let csv = std::fs::read_to_string(data("peritumoral/expected.csv")).expect("the oracle's values");
    csv.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0].to_string(), f[1].to_string(), f[2].parse().expect("a number"))
        })
        .collect()
}

/// `radx extract` of a PyRadiomics case (label 1, default settings), with `plugin` loaded.
fn extract(case: &str, plugin: Option<&Path>) -> String {
    let image = data(&format!("data/{case}_image.nrrd"));
    let mask = data(&format!("data/{case}_label.nrrd"));
    let mut args = vec!["extract", "--image", image.to_str().unwrap(), "--mask", mask.to_str().unwrap()];
    if let Some(p) = plugin {
        args.extend(["--plugin", p.to_str().unwrap()]);
    }
    let out = radx_cli(&args, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_peritumoral_ring_matches_numpy_on_brain2_and_breast1() {
    let c_plugin = compile_c(&root().join("plugins/c-peritumoral/peritumoral.c"), "radx_c_peritumoral");
    for (plugin, family) in [(rust_plugin("radx_plugin_peritumoral"), "peritumoral"), (c_plugin, "c-peritumoral")] {
        ring_matches_numpy(&plugin, family);
    }
}

fn ring_matches_numpy(plugin: &Path, family: &str) {
    let rows = expected();
    assert_eq!(rows.len(), 6, "3 features × 2 cases");
    for case in ["brain2", "breast1"] {
        let with = extract(case, Some(plugin));
        for (_, feature, want) in rows.iter().filter(|(c, ..)| c == case) {
            let row = csv_row(&with, family, feature).unwrap_or_else(|| panic!("{family} {case}: no {feature} row"));
            let got: f64 = row[4].parse().unwrap_or_else(|_| panic!("{family} {case} {feature}: {row:?}"));
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{family} {case} {feature}: radx {got}, numpy {want}");
        }
        // The plugin's margin is kept beside the features' crop: every other row is the
        // same, to the last bit, as without the plugin.
        let without = extract(case, None);
        let prefix = format!("original,{family},");
        let others: Vec<&str> = with.lines().filter(|l| !l.starts_with(&prefix)).collect();
        assert_eq!(
            others,
            without.lines().collect::<Vec<_>>(),
            "{family} {case}: loading the plugin changed other rows"
        );
    }
}

/// The `ring_profile` source (ABI 2.3: a source declaring `margin_mm`, given the margin
/// region like a feature) through `plugins/peritumoral/ring.radx`: the ring's voxels per z
/// slice and per x column, against numpy's brute-force ring
/// (`tests/data/pyradiomics/peritumoral/generate_sources.py`, stored in
/// `expected_sources.csv`; its voxel counts agree with `expected.csv`'s).
#[test]
fn the_ring_profile_source_matches_numpy_on_brain2_and_breast1() {
    let plugin = rust_plugin("radx_plugin_peritumoral");
    let features = root().join("plugins/peritumoral/ring.radx");
    let csv = std::fs::read_to_string(data("peritumoral/expected_sources.csv")).expect("the oracle's values");
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 8, "4 features × 2 cases");
    for case in ["brain2", "breast1"] {
        let image = data(&format!("data/{case}_image.nrrd"));
        let mask = data(&format!("data/{case}_label.nrrd"));
        let args = [
            "extract",
            "--image",
            image.to_str().unwrap(),
            "--mask",
            mask.to_str().unwrap(),
            "--plugin",
            plugin.to_str().unwrap(),
            "--features",
            features.to_str().unwrap(),
        ];
        let out = radx_cli(&args, None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let got_csv = text(&out.stdout);
        for row in rows.iter().filter(|r| r[0] == case) {
            let (family, feature, want): (&str, &str, f64) = (row[1], row[2], row[3].parse().expect("a number"));
            let got = csv_row(&got_csv, family, feature).unwrap_or_else(|| panic!("{case}: no {family} {feature} row"));
            let got: f64 = got[4].parse().unwrap_or_else(|_| panic!("{case} {feature}: {got:?}"));
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{case} {feature}: radx {got}, numpy {want}");
        }
    }
}
