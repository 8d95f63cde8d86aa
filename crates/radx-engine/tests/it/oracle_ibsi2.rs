//! IBSI-2 through the engine: phase 2's 18 configurations on the CT phantom (2D and 3D
//! settings files in tests/data/ibsi2/phase2, run as users run them) against the published
//! reference values, one test per configuration; phase 1's tests through the runner
//! `radx ibsi2` uses, against the consensus response maps.

use std::path::PathBuf;
use std::sync::OnceLock;

use radx_engine::ibsi::ibsi2::{self, Phase2Row};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

/// Phase 2's rows of one dimension ("A" 2D, "B" 3D), computed once for its tests.
fn phase2(dimension: &str) -> &'static [Phase2Row] {
    static TWO_D: OnceLock<Vec<Phase2Row>> = OnceLock::new();
    static THREE_D: OnceLock<Vec<Phase2Row>> = OnceLock::new();
    let cell = if dimension == "A" { &TWO_D } else { &THREE_D };
    cell.get_or_init(|| ibsi2::run_phase2(dimension, &data().join("ibsi/ct_phantom")).expect("phase 2 runs"))
}

/// Every reference value of `config` is reproduced within its tolerance.
fn assert_config(config: &str) {
    let dimension = &config[config.len() - 1..];
    let rows: Vec<&Phase2Row> = phase2(dimension).iter().filter(|r| r.config == config).collect();
    assert_eq!(rows.len(), 18, "{config}: the 18 intensity statistics");
    let misses: Vec<String> = rows
        .iter()
        .filter(|r| r.pass == Some(false))
        .map(|r| format!("{} [{}]: radx {} vs {:?} ± {:?}", r.feature, r.tag, r.value, r.reference, r.tolerance))
        .collect();
    assert!(misses.is_empty(), "{config} ({}):\n{}", rows[0].image_type, misses.join("\n"));
    let with_reference = rows.iter().filter(|r| r.pass.is_some()).count();
    assert!(with_reference >= 17, "{config}: only {with_reference} values have a reference");
}

macro_rules! phase2_tests {
    ($($name:ident => $config:literal),* $(,)?) => {
        $(#[test]
        fn $name() {
            assert_config($config);
        })*
    };
}

phase2_tests! {
    phase2_1a_original_2d => "1.A", phase2_2a_mean_2d => "2.A", phase2_3a_log_2d => "3.A",
    phase2_4a_laws_2d => "4.A", phase2_5a_gabor_2d => "5.A", phase2_6a_db3_lh_2d => "6.A",
    phase2_7a_db3_hh_level2_2d => "7.A", phase2_8a_simoncelli_2d => "8.A", phase2_9a_simoncelli_level2_2d => "9.A",
    phase2_1b_original_3d => "1.B", phase2_2b_mean_3d => "2.B", phase2_3b_log_3d => "3.B",
    phase2_4b_laws_3d => "4.B", phase2_5b_gabor_3d => "5.B", phase2_6b_db3_llh_3d => "6.B",
    phase2_7b_db3_hhh_level2_3d => "7.B", phase2_8b_simoncelli_3d => "8.B", phase2_9b_simoncelli_level2_3d => "9.B",
}

/// Phase 1's outcomes (test id, image type, score), computed once.
fn phase1() -> &'static [(String, String, f64)] {
    static OUTCOMES: OnceLock<Vec<(String, String, f64)>> = OnceLock::new();
    OUTCOMES.get_or_init(|| {
        let tests = ibsi2::phase1_tests().expect("phase1.toml parses");
        let maps = data().join("ibsi2/reference_response_maps");
        tests
            .iter()
            .map(|test| {
                let outcome = ibsi2::run_phase1(test, &maps).expect("runs");
                (test.id.clone(), outcome.image_type, outcome.score)
            })
            .collect()
    })
}

#[test]
fn phase1_every_test_of_the_table_reproduces_its_reference_map() {
    assert_eq!(phase1().len(), 33, "the 33 published reference maps");
    let misses: Vec<String> = phase1()
        .iter()
        .filter(|(_, _, score)| *score > ibsi2::PHASE1_CRITERION)
        .map(|(id, _, s)| format!("{id}: {s:.3e}"))
        .collect();
    assert!(misses.is_empty(), "over the IBSI's 1 %: {misses:?}");
}

/// `tests/ibsi2_coverage.csv`, written here (never by hand), and the README's IBSI-2 table,
/// which must state what it holds.
#[test]
fn registry_is_written_and_the_readme_states_it() {
    let mut out = String::from("phase,test_or_config,image_type,feature,tag,value,reference,tolerance,pass\n");
    let pass = |p: Option<bool>| match p {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "no reference",
    };
    for (id, image_type, score) in phase1() {
        let ok = *score <= ibsi2::PHASE1_CRITERION;
        out.push_str(&format!(
            "1,{id},{image_type},max_diff_over_range,,{score:e},0,{},{}\n",
            ibsi2::PHASE1_CRITERION,
            pass(Some(ok))
        ));
    }
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut counts = Vec::new();
    for dimension in ["A", "B"] {
        let rows = phase2(dimension);
        for r in rows {
            out.push_str(&format!(
                "2,{},{},{},{},{},{},{},{}\n",
                r.config,
                r.image_type,
                r.feature,
                r.tag,
                r.value,
                opt(r.reference),
                opt(r.tolerance),
                pass(r.pass)
            ));
        }
        let with_reference = rows.iter().filter(|r| r.pass.is_some()).count();
        counts.push((rows.iter().filter(|r| r.pass == Some(true)).count(), with_reference));
    }
    std::fs::write(data().join("../ibsi2_coverage.csv"), out).expect("registry written");
    let readme = std::fs::read_to_string(data().join("../../README.md")).unwrap();
    let phase1_passed = phase1().iter().filter(|(_, _, s)| *s <= ibsi2::PHASE1_CRITERION).count();
    let lines = [
        format!("| phase 1, response maps | {phase1_passed} of {} |", phase1().len()),
        format!("| phase 2, 2D configurations 1.A–9.A | {} of {} |", counts[0].0, counts[0].1),
        format!("| phase 2, 3D configurations 1.B–9.B | {} of {} |", counts[1].0, counts[1].1),
        format!("| **phase 2, all** | **{} of {}** |", counts[0].0 + counts[1].0, counts[0].1 + counts[1].1),
    ];
    for line in lines {
        assert!(readme.contains(&line), "README.md should state `{line}`");
    }
}
