//! Oracle: the IBSI reference values (IBSI 1 manual tables, tests/data/ibsi) reproduced
//! through the user-facing path — settings files, the embedded feature library, and the
//! `radx ibsi` runner. The digital phantom.

use radx_engine::ibsi::{failures, run_digital};

#[test]
fn digital_phantom_reproduces_all_482_reference_values() {
    let rows = run_digital().expect("digital phantom runs");
    let with_reference = rows.iter().filter(|r| r.pass.is_some()).count();
    assert_eq!(with_reference, 482, "every reference value of the table is compared");
    let failed = failures(&rows);
    assert!(failed.is_empty(), "{} failures:\n{}", failed.len(), failed.join("\n"));
}
