//! Oracle: the IBSI reference values (IBSI 1 manual tables, tests/data/ibsi) reproduced
//! through the user-facing path (CT phantom, configurations A–E) — settings files, the embedded feature library, and the
//! `radx ibsi` runner. Also writes the compliance registry `tests/ibsi_coverage.csv`.

use radx_cohort::rows::format_value;
use radx_engine::ibsi::{ComplianceRow, failures, run_ct, run_digital};

/// All five CT-phantom configurations, and the registry of every comparison.
#[test]
fn ct_phantom_configurations_a_to_e_reproduce_their_reference_values() {
    let dir = crate::common::repo_root().join("tests/data/ibsi/ct_phantom");
    let mut all = run_digital().expect("digital phantom runs");
    let mut failed = Vec::new();
    for (config, expected) in [("A", 346), ("B", 346), ("C", 209), ("D", 210), ("E", 210)] {
        let rows = run_ct(config, &dir).expect("CT phantom runs");
        let with_reference = rows.iter().filter(|r| r.pass.is_some()).count();
        assert_eq!(with_reference, expected, "config {config}: reference values compared");
        failed.extend(failures(&rows));
        all.extend(rows);
    }
    write_registry(&all);
    check_readme(&all);
    assert!(failed.is_empty(), "{} failures:\n{}", failed.len(), failed.join("\n"));
}

/// `tests/ibsi_coverage.csv`: one line per (data set, feature, aggregation), generated here.
fn write_registry(rows: &[ComplianceRow]) {
    let mut out = String::from("data,config,family,feature,tag,aggregation,reference,tolerance,radx,pass\n");
    for r in rows {
        let pass = match r.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "no reference",
        };
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            r.data,
            r.config,
            r.family,
            r.feature,
            r.tag,
            r.aggregation,
            r.reference.map(format_value).unwrap_or_default(),
            r.tolerance.map(format_value).unwrap_or_default(),
            format_value(r.value),
            pass
        ));
    }
    let path = crate::common::repo_root().join("tests/ibsi_coverage.csv");
    std::fs::write(path, out).expect("registry written");
}

/// The README's compliance table states exactly what the registry holds.
fn check_readme(rows: &[ComplianceRow]) {
    let readme = std::fs::read_to_string(crate::common::repo_root().join("README.md")).unwrap();
    let count = |config: &str| {
        let of: Vec<&ComplianceRow> = rows.iter().filter(|r| r.config == config && r.pass.is_some()).collect();
        (of.iter().filter(|r| r.pass == Some(true)).count(), of.len())
    };
    let mut total = (0, 0);
    for (config, label) in [
        ("digital", "digital phantom".to_string()),
        ("A", "CT phantom, configuration A".into()),
        ("B", "CT phantom, configuration B".into()),
        ("C", "CT phantom, configuration C".into()),
        ("D", "CT phantom, configuration D".into()),
        ("E", "CT phantom, configuration E".into()),
    ] {
        let (passed, with_reference) = count(config);
        total = (total.0 + passed, total.1 + with_reference);
        let line = format!("| {label} | {passed} of {with_reference} |");
        assert!(readme.contains(&line), "README.md should state `{line}`");
    }
    let line = format!("| **all** | **{} of {}** |", total.0, total.1);
    assert!(readme.contains(&line), "README.md should state `{line}`");
}
