//! Regression: the full feature table of the IBSI digital phantom, snapshotted with insta.
//! A snapshot is never a claim of correctness (the oracle tests are); it flags any change
//! in any value — including the features without an IBSI reference — for review.

use radx_engine::{Case, Extractor, Settings};

#[test]
fn digital_phantom_feature_table() {
    let data = crate::common::test_data().join("ibsi");
    let settings = Settings::from_file(&data.join("digital_phantom.toml")).unwrap();
    let case = Case::new(data.join("digital_phantom/image.nii.gz"), data.join("digital_phantom/mask.nii.gz"))
        .with_roi(settings.label);
    let rows = Extractor::new(settings, &[], Default::default()).unwrap().extract(&case).unwrap().rows;
    // 12 significant digits: stable across platforms' libm, still sensitive to real changes.
    let table: String = rows
        .iter()
        .map(|r| {
            let k = &r.key;
            format!("{},{},{},{},{:.11e}\n", k.family, k.feature, r.tag_or_dash(), k.aggregation_name(), r.value)
        })
        .collect();
    insta::assert_snapshot!(table);
}
