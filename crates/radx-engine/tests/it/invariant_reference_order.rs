//! Property: the order families are declared in, and how they are split over files, never
//! changes a value. Families reading each other's features (a chain of user families on
//! top of the built-in ones) are declared in a random order over one to three files; every
//! row must keep its bits.

use std::collections::HashMap;

use proptest::prelude::*;
use radx_engine::FeatureKey;

use crate::common::test_data;

/// Families that read each other: `chain_c` reads `chain_b`, which reads `chain_a` and the
/// built-in families; the cross-family oracle's three families come too.
fn families() -> Vec<String> {
    let text = std::fs::read_to_string(test_data().join("cross_family/features.radx")).expect("features.radx");
    let mut blocks: Vec<String> = text.split("\n\n").filter(|b| b.contains("family ")).map(str::to_string).collect();
    blocks.extend([
        "family chain_a over cm {\n  feature a \"CH-A\" = sum(i, j, abs(i - j) * p[i,j]) + cross_glcm.entropy_gap\n}".into(),
        "family chain_b over szm {\n  feature b \"CH-B\" = chain_a.a * glszm.zone_percentage + cross_roi.ivh_spread_over_range\n}".into(),
        "family chain_c over roi {\n  feature c \"CH-C\" = intensity_statistics.mean_intensity / morphology.approximate_volume\n}".into(),
        "family chain_d over szm for 3d_mrg, 2d_avg {\n  feature d \"CH-D\" = chain_b.b - chain_c.c * Ns\n}".into(),
    ]);
    blocks
}

/// Every row of the digital phantom with `files` added to the library, by key.
fn extract(files: &[String]) -> HashMap<FeatureKey, u64> {
    let named: Vec<(String, &str)> =
        files.iter().enumerate().map(|(k, t)| (format!("part{k}.radx"), t.as_str())).collect();
    crate::common::digital_phantom_rows(&named).into_iter().map(|r| (r.key, r.value.to_bits())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn declaration_order_never_changes_a_value(
        order in Just((0..families().len()).collect::<Vec<usize>>()).prop_shuffle(),
        split in prop::collection::vec(0usize..3, 7),
    ) {
        let blocks = families();
        let reference = extract(&[blocks.join("\n\n")]);
        let mut files = vec![String::new(); 3];
        for (k, &b) in order.iter().enumerate() {
            files[split[k % split.len()]].push_str(&format!("{}\n\n", blocks[b]));
        }
        let shuffled = extract(&files);
        prop_assert_eq!(shuffled.len(), reference.len());
        for (key, bits) in &reference {
            prop_assert_eq!(shuffled.get(key), Some(bits), "{:?}", key);
        }
        // The chain is computed, and not NaN.
        let d = FeatureKey::original("chain_d", "d", Some(radx_engine::core::Aggregation::Merged3d));
        prop_assert!(reference.get(&d).is_some_and(|b| f64::from_bits(*b).is_finite()));
    }
}
