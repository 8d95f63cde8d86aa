//! A compiled family keeps its evaluation buffers between calls (and runs its row kernels
//! with the widest instruction set the CPU has). Neither may change a result: evaluating
//! matrices of different sizes in any order gives, bit for bit, what a family with no
//! buffers yet gives (a clone starts with an empty pool).

use crate::common;
use radx_dsl::{NoBuiltins, SourceData, compile};

/// Deterministic counts with zeros in them (xorshift), so filters such as `p > 0` matter.
fn counts(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if state.is_multiple_of(4) { 0.0 } else { (state >> 40) as f64 % 97.0 }
        })
        .collect()
}

fn glcm(ng: usize, seed: u64) -> SourceData {
    let c = counts(ng * ng, seed);
    // Symmetrise, as a merged GLCM is.
    let sym: Vec<f64> = (0..ng * ng).map(|k| c[k] + c[(k % ng) * ng + k / ng]).collect();
    SourceData::glcm_from_counts(ng, &sym)
}

fn glrlm(ng: usize, runs: usize, seed: u64) -> SourceData {
    let r = counts(ng * runs, seed);
    let ns: f64 = r.iter().sum();
    SourceData::new()
        .with_axis("level", (1..=ng).map(|l| l as f64).collect())
        .with_axis("run", (1..=runs).map(|j| j as f64).collect())
        .with_array("r", vec![ng, runs], r)
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nv", 500.0)
        .with_scalar("Ns", ns)
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn check_reuse(file_name: &str, family: &str, inputs: &[SourceData]) {
    let text = common::read_feature_file(file_name);
    let file = compile(file_name, &text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let fam = file.family(family).expect("family");
    // Sizes up, down and back again, each twice, through the one (pooled) family.
    for round in 0..2 {
        for (k, data) in inputs.iter().enumerate() {
            let reused = fam.evaluate_values(data, &NoBuiltins).expect("evaluates");
            let fresh = fam.clone().evaluate_values(data, &NoBuiltins).expect("evaluates");
            assert!(same_bits(&reused, &fresh), "{family} input {k} round {round}:\n{reused:?}\n{fresh:?}");
            let named: Vec<f64> = fam.evaluate(data, &NoBuiltins).expect("evaluates").iter().map(|v| v.value).collect();
            assert!(same_bits(&named, &fresh), "{family} input {k}: evaluate and evaluate_values differ");
        }
    }
}

#[test]
fn glcm_results_do_not_depend_on_earlier_evaluations() {
    let inputs: Vec<SourceData> =
        [7, 1, 40, 3, 7, 130].iter().enumerate().map(|(k, &ng)| glcm(ng, k as u64 + 11)).collect();
    check_reuse("glcm.radx", "glcm", &inputs);
}

#[test]
fn glrlm_results_do_not_depend_on_earlier_evaluations() {
    let inputs: Vec<SourceData> =
        [(6, 9), (2, 1), (30, 70), (6, 9)].iter().enumerate().map(|(k, &(g, r))| glrlm(g, r, k as u64 + 5)).collect();
    check_reuse("glrlm.radx", "glrlm", &inputs);
}

/// A pool is shared by threads: concurrent evaluations must each get their own buffers.
#[test]
fn concurrent_evaluations_agree_with_sequential_ones() {
    let text = common::read_feature_file("glcm.radx");
    let file = compile("glcm.radx", &text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let fam = file.family("glcm").expect("glcm");
    let inputs: Vec<SourceData> = (0..4).map(|k| glcm(5 + 9 * k, k as u64 + 3)).collect();
    let expected: Vec<Vec<f64>> =
        inputs.iter().map(|d| fam.clone().evaluate_values(d, &NoBuiltins).expect("ok")).collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (fam, inputs, expected) = (fam, &inputs, &expected);
            s.spawn(move || {
                for round in 0..20 {
                    let k = (t + round) % inputs.len();
                    let got = fam.evaluate_values(&inputs[k], &NoBuiltins).expect("ok");
                    assert!(same_bits(&got, &expected[k]), "thread {t} input {k}");
                }
            });
        }
    });
}

/// Rows that depend on the inner index alone (`log2(j)`, `py[j]`) are computed once per pass;
/// under a filter that changes from row to row they must still be right on every row.
#[test]
fn inner_index_rows_are_right_on_every_row() {
    let text = "family r over cm {\n  let py[j] = sum(i, p[i,j])\n  \
                feature a \"T001\" = sum(i, j where p[i,j] > 0, log2(j) * p[i,j])\n  \
                feature b \"T002\" = sum(i, j, sqrt(j) * p[i,j] * py[j])\n  \
                feature c \"T003\" = sum(i, j where p[i,j] > 0, log2(j))\n}\n";
    let file = compile("rows.radx", text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let fam = &file.families()[0];
    // 3×3 counts, zeros placed so each row keeps different columns:
    // row 1: 1 0 2 ; row 2: 0 3 0 ; row 3: 4 0 0  (total 10, so p = count / 10).
    let data = SourceData::glcm_from_counts(3, &[1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0, 0.0]);
    let v = fam.evaluate_values(&data, &NoBuiltins).expect("evaluates");
    // a = Σ log2(j) p over kept entries: log2(1)·0.1 + log2(3)·0.2 + log2(2)·0.3 + log2(1)·0.4
    let a = 3f64.log2() * 0.2 + 0.3;
    // py = (0.5, 0.3, 0.2); b = Σ_j sqrt(j) py[j]² = 0.25 + sqrt(2)·0.09 + sqrt(3)·0.04
    let b = 0.25 + 2f64.sqrt() * 0.09 + 3f64.sqrt() * 0.04;
    // c = Σ log2(j) over kept entries = log2(1) + log2(3) + log2(2) + log2(1)
    let c = 3f64.log2() + 1.0;
    for (got, want) in v.iter().zip([a, b, c]) {
        assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
    }
}
