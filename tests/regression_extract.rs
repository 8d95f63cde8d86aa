//! Regression: the full feature table of the IBSI digital phantom, snapshotted with insta.
//! A snapshot is never a claim of correctness (the oracle tests are); it flags any change
//! in any value — including the features without an IBSI reference — for review.

use std::path::Path;

use radx_engine::Settings;
use radx_engine::extract::Extractor;

#[test]
fn digital_phantom_feature_table() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ibsi");
    let settings = Settings::from_file(&data.join("digital_phantom.toml")).unwrap();
    let rows = Extractor::new(settings, &[])
        .unwrap()
        .run(&data.join("digital_phantom/image.nii.gz"), &data.join("digital_phantom/mask.nii.gz"))
        .unwrap();
    // 12 significant digits: stable across platforms' libm, still sensitive to real changes.
    let table: String = rows
        .iter()
        .map(|r| format!("{},{},{},{},{:.11e}\n", r.family, r.feature, r.tag, r.aggregation, r.value))
        .collect();
    insta::assert_snapshot!(table);
}
