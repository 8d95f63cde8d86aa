//! A compiled family keeps its evaluation buffers between calls (and runs its row kernels
//! with the widest instruction set the CPU has). Neither may change a result: evaluating
//! matrices of different sizes in any order gives, bit for bit, what a family with no
//! buffers yet gives (a clone starts with an empty pool).

mod common;
use radx_dsl::{NoBuiltins, Registry, SourceData, compile};

/// Deterministic counts with zeros in them (xorshift), so filters such as `p > 0` matter.
fn counts(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if state % 4 == 0 { 0.0 } else { (state >> 40) as f64 % 97.0 }
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
    let file = compile(file_name, &text, &Registry::standard()).unwrap_or_else(|d| panic!("{d}"));
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
    let file = compile("glcm.radx", &text, &Registry::standard()).unwrap_or_else(|d| panic!("{d}"));
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
