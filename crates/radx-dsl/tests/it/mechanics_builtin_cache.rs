//! Percentile builtins sort each array once per evaluation (a cache keyed by the array).
//! These check the cache never hands one array's order statistics to another.

use radx_dsl::{NoBuiltins, SourceData, compile, interp};

#[test]
fn percentiles_of_a_source_array_and_a_vector_let_do_not_share_a_sorted_copy() {
    // x = 10, 9, …, 1 and y[k] = 10 - x[k] = 0, 1, …, 9 (as a set).
    // Type-7 percentiles of n = 10 sorted values v: h = 9 q / 100, v[floor h] + frac(h) · step.
    //   median(x) = (5 + 6) / 2 = 5.5,  P10(x) = 1 + 0.9 = 1.9,  P90(x) = 9.1
    //   median(y) = 4.5,                P10(y) = 0.9,            P90(y) = 8.1
    let text = "family s over roi {\n  let y[k] = 10 - x[k]\n  \
                feature a \"T001\" = median(x)\n  feature b \"T002\" = percentile(y, 10)\n  \
                feature c \"T003\" = percentile(x, 10)\n  feature d \"T004\" = median(y)\n  \
                feature e \"T005\" = percentile(x, 90) - percentile(y, 90)\n}\n";
    let registry = crate::common::standard_registry();
    let file = compile("cache.radx", text, &registry).unwrap_or_else(|d| panic!("{d}"));
    let n = 10;
    let data = SourceData::new()
        .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
        .with_array("x", vec![n], (1..=n).rev().map(|v| v as f64).collect())
        .with_scalar("N", n as f64);
    let fam = &file.families()[0];
    let v = fam.evaluate(&data, &NoBuiltins).expect("evaluates");
    let expected = [5.5, 0.9, 1.9, 4.5, 9.1 - 8.1];
    for (got, want) in v.iter().zip(expected) {
        assert!((got.value - want).abs() < 1e-12, "{}: {} vs {want}", got.name, got.value);
    }
    // The reference interpreter (no cache) agrees exactly: same sort, same interpolation.
    let slow = interp::interpret(fam, &registry, &data, &NoBuiltins).expect("interprets");
    for (a, b) in v.iter().zip(&slow) {
        assert_eq!(a.value.to_bits(), b.value.to_bits(), "{}", a.name);
    }
}

#[test]
fn percentiles_ignore_nan_entries_with_the_cache() {
    // x = 4, NaN, 1, 3, 2: the NaN is dropped, leaving 1, 2, 3, 4 → median 2.5, P10 = 1.3.
    let text = "family s over roi {\n  feature m \"T001\" = median(x)\n  \
                feature p \"T002\" = percentile(x, 10)\n}\n";
    let file = compile("nan.radx", text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let data = SourceData::new()
        .with_axis("voxel", (1..=5).map(|v| v as f64).collect())
        .with_array("x", vec![5], vec![4.0, f64::NAN, 1.0, 3.0, 2.0])
        .with_scalar("N", 5.0);
    let v = file.families()[0].evaluate(&data, &NoBuiltins).expect("evaluates");
    assert_eq!(v[0].value, 2.5);
    assert!((v[1].value - 1.3).abs() < 1e-12);
}
