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

/// One published reference value: tag, value and (when the manual gives one) tolerance.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceRow {
    pub feature: String,
    pub tag: String,
    pub value: f64,
    /// `Some` when `tolerance_given = yes`; otherwise the value is exact to its printed digits.
    pub tolerance: Option<f64>,
}

/// Every row of the digital-phantom reference table for one family and aggregation id,
/// including rows without a reference value (`value` is then NaN) so callers can count them.
pub fn reference_rows(family: &str, aggregation_id: &str) -> Vec<ReferenceRow> {
    let path = repo_root().join("tests/data/ibsi/reference_values_digital_phantom.csv");
    let mut rdr = csv::Reader::from_path(path).expect("reference csv");
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.expect("csv row");
        if &rec[1] != family || &rec[8] != aggregation_id {
            continue;
        }
        let has_reference = &rec[13] == "yes";
        out.push(ReferenceRow {
            feature: rec[2].to_string(),
            tag: rec[3].to_string(),
            value: if has_reference { rec[9].parse().expect("value") } else { f64::NAN },
            tolerance: (&rec[11] == "yes").then(|| rec[10].parse().expect("tolerance")),
        });
    }
    out
}

/// The published test: within the tolerance when one is given, else within print rounding.
pub fn matches_reference(value: f64, row: &ReferenceRow) -> bool {
    match row.tolerance {
        Some(tol) => (value - row.value).abs() <= tol,
        None => within_print_rounding(value, row.value),
    }
}

/// A two-axis texture source (`rlm`, `szm`, `dzm`, `ngl`) from a published digital-phantom
/// matrix: `array[level, second]` of raw counts over levels 1..ng and the second-axis values
/// that occur, with Ng, the given Nv and Ns = Σ counts.
pub fn phantom_count_source(
    matrix: &str,
    kind: &str,
    array: &'static str,
    second_axis: &'static str,
    ng: usize,
    nv: f64,
) -> radx_dsl::SourceData {
    let entries = phantom_matrix(matrix, kind);
    assert!(!entries.is_empty(), "no published {matrix} {kind} matrix");
    let mut second: Vec<usize> = entries.iter().map(|e| e.1).collect();
    second.sort_unstable();
    second.dedup();
    let mut counts = vec![0.0; ng * second.len()];
    for &(i, j, c, _) in &entries {
        let col = second.binary_search(&j).expect("second-axis value listed");
        counts[(i - 1) * second.len() + col] += c;
    }
    let ns: f64 = counts.iter().sum();
    radx_dsl::SourceData::new()
        .with_axis("level", (1..=ng).map(|l| l as f64).collect())
        .with_axis(second_axis, second.iter().map(|&j| j as f64).collect())
        .with_array(array, vec![ng, second.len()], counts)
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nv", nv)
        .with_scalar("Ns", ns)
}

/// The registry radx's engine compiles feature files with (the IBSI's and PyRadiomics'
/// sources and builtins, default settings): the language declares no source of its own.
pub fn standard_registry() -> radx_dsl::Registry {
    radx_engine::sources::registry(&radx_engine::settings::Settings::default())
}
