//! How `for`, `override` and references behave at extraction, on the IBSI digital phantom:
//! which rows a restricted family gives, what an override replaces, and the notes of a
//! reference whose value is not finite or not computed.

use radx_engine::FeatureRow;
use radx_engine::core::Aggregation;

fn extract(text: &str) -> Vec<FeatureRow> {
    crate::common::digital_phantom_rows(&[("case.radx".to_string(), text)])
}

fn rows_of<'a>(rows: &'a [FeatureRow], family: &str) -> Vec<&'a FeatureRow> {
    rows.iter().filter(|r| r.key.family == family).collect()
}

#[test]
fn for_limits_a_family_to_the_aggregations_it_names_in_the_settings_order() {
    let rows = extract("family late over cm for 3d_mrg, 2d_avg {\n  feature one \"MR-1\" = sum(i, j, p[i,j])\n}\n");
    let late = rows_of(&rows, "late");
    let aggregations: Vec<_> = late.iter().map(|r| r.key.aggregation).collect();
    assert_eq!(aggregations, vec![Some(Aggregation::Avg2d), Some(Aggregation::Merged3d)]);
    // Probabilities sum to 1 on every matrix.
    assert!(late.iter().all(|r| (r.value - 1.0).abs() < 1e-12), "{late:?}");
    // The built-in GLCM keeps all six.
    assert_eq!(rows_of(&rows, "glcm").iter().filter(|r| r.key.feature == "contrast").count(), 6);
}

#[test]
fn an_override_replaces_every_feature_of_the_builtin_family() {
    let rows = extract("override family glcm over cm for 3d_mrg {\n  feature constant \"MR-2\" = 2\n}\n");
    let glcm = rows_of(&rows, "glcm");
    assert_eq!(glcm.len(), 1, "{glcm:?}");
    assert_eq!((glcm[0].key.feature.as_str(), glcm[0].value), ("constant", 2.0));
}

#[test]
fn a_reference_serves_every_aggregation_from_a_per_roi_family() {
    // N, the ROI's voxels (74: the IBSI's voxel-counting volume of the phantom, YEKZ, is
    // 592 mm³ of 2 × 2 × 2 mm voxels), read by a texture family: the same for each of its
    // aggregations.
    let rows = extract(concat!(
        "family voxels over roi {\n  feature n \"MR-3\" = N\n}\n",
        "family reader over szm {\n  feature n_again \"MR-4\" = voxels.n\n}\n",
    ));
    let reader = rows_of(&rows, "reader");
    assert_eq!(reader.len(), 3, "one row per zone aggregation");
    assert!(reader.iter().all(|r| r.value == 74.0), "{reader:?}");
}

#[test]
fn a_reference_to_a_value_that_is_not_finite_says_which() {
    let rows = extract(concat!(
        "family broken over roi {\n  feature nothing \"MR-5\" = 0 / 0\n}\n",
        "family reader over roi {\n  feature plus_one \"MR-6\" = broken.nothing + 1\n}\n",
    ));
    let reader = rows_of(&rows, "reader");
    assert!(reader[0].value.is_nan());
    assert_eq!(reader[0].note.as_deref(), Some("undefined for this ROI: `broken.nothing` is not finite"));
}

/// A family left out of the run (here, by extracting a library that lacks it) makes its
/// readers NaN with a note naming the feature, not a wrong value.
#[test]
fn a_reference_to_a_family_not_in_the_run_is_nan_with_a_note() {
    let text = "family reader over cm for 3d_mrg {\n  feature r \"MR-7\" = glcm.contrast\n}\n";
    let rows =
        crate::common::digital_phantom_rows_of(&[("case.radx".to_string(), text)], |f| f.family.name() != "glcm");
    let reader = rows_of(&rows, "reader");
    assert!(reader[0].value.is_nan());
    assert_eq!(reader[0].note.as_deref(), Some("`glcm.contrast` is not computed here for 3d_mrg"));
}

/// The example of `docs/language.md`'s "Features from features" compiles and links after
/// the standard library: a user who copies it gets working features.
#[test]
fn the_documented_reference_example_links() {
    let doc = std::fs::read_to_string(crate::common::repo_root().join("docs/language.md")).expect("docs");
    let section = &doc[doc.find("## Features from features").expect("the section")..];
    let start = section.find("```\n").expect("an example") + "```\n".len();
    let end = start + section[start..].find("```").expect("the example's end");
    let rows = extract(&section[start..end]);
    for (family, count) in [("contrast_ratio", 12), ("zone_density", 1), ("ivh_spread", 1)] {
        let found = rows_of(&rows, family);
        assert_eq!(found.len(), count, "{family}: {found:?}");
        assert!(found.iter().all(|r| r.value.is_finite()), "{found:?}");
    }
}
