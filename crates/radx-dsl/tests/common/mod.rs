//! Shared helpers: loading the IBSI digital phantom tables copied into `tests/data/ibsi`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn read_feature_file(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("features").join(name)).expect("feature file exists")
}

/// Non-zero entries `(i, j, count, s)` of a published digital-phantom matrix.
pub fn phantom_matrix(matrix: &str, kind: &str) -> Vec<(usize, usize, f64, f64)> {
    let path = repo_root().join("tests/data/ibsi/digital_phantom_texture_matrices.csv");
    let mut rdr = csv::Reader::from_path(path).expect("matrix csv");
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.expect("csv row");
        if &rec[0] != matrix || &rec[1] != kind {
            continue;
        }
        let i: usize = rec[6].parse().expect("i");
        let j: usize = rec[7].parse().unwrap_or(0);
        let count: f64 = rec[8].parse().expect("count");
        let s: f64 = rec[9].parse().unwrap_or(0.0);
        out.push((i, j, count, s));
    }
    out
}

/// Reference values by IBSI tag for one family and aggregation id.
pub fn reference_values(family: &str, aggregation_id: &str) -> HashMap<String, f64> {
    let path = repo_root().join("tests/data/ibsi/reference_values_digital_phantom.csv");
    let mut rdr = csv::Reader::from_path(path).expect("reference csv");
    let mut out = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.expect("csv row");
        if &rec[1] != family || &rec[8] != aggregation_id || &rec[13] != "yes" {
            continue;
        }
        out.insert(rec[3].to_string(), rec[9].parse().expect("value"));
    }
    out
}

/// The manual prints 3 significant digits: pass if |v − ref| ≤ 0.5·10^(⌊log10|ref|⌋−2).
pub fn within_print_rounding(value: f64, reference: f64) -> bool {
    if reference == 0.0 {
        return value.abs() < 1e-9;
    }
    let tol = 0.5 * 10f64.powf(reference.abs().log10().floor() - 2.0);
    (value - reference).abs() <= tol * (1.0 + 1e-9)
}
