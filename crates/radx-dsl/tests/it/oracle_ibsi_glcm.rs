//! IBSI digital phantom: all 25 GLCM features of `features/glcm.radx` on the published
//! 3D directions-merged GLCM (IBSI manual ch. 6; reference values: aggregation IAZD).

use crate::common::*;
use radx_dsl::{NoBuiltins, SourceData, compile};

fn phantom_glcm() -> SourceData {
    let ng = 6;
    let mut counts = vec![0.0; ng * ng];
    for (i, j, c, _) in phantom_matrix("glcm", "3D_directions_merged") {
        counts[(i - 1) * ng + (j - 1)] = c;
    }
    SourceData::glcm_from_counts(ng, &counts)
}

#[test]
fn all_25_glcm_features_match_ibsi_3d_merged() {
    let registry = crate::common::standard_registry();
    let text = read_feature_file("glcm.radx");
    let file = compile("features/glcm.radx", &text, &registry).unwrap_or_else(|d| panic!("{d}"));
    let family = file.family("glcm").expect("glcm family");
    let values = family.evaluate(&phantom_glcm(), &NoBuiltins).expect("evaluates");
    let reference = reference_values("glcm", "IAZD");
    assert_eq!(reference.len(), 25, "25 reference rows");
    assert_eq!(values.len(), 25, "25 features defined");
    let mut failures = Vec::new();
    for v in &values {
        let r = reference.get(&v.tag).unwrap_or_else(|| panic!("no reference for tag {}", v.tag));
        if !within_print_rounding(v.value, *r) {
            failures.push(format!("{} [{}]: got {}, reference {}", v.name, v.tag, v.value, r));
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn glcm_family_is_fused_into_few_passes() {
    // Marginals (px, py, pd, ps and every first-level sum) share one sweep over (i, j); the
    // features that need means share a second; 1-D sums over i, j, k add a few more.
    let registry = crate::common::standard_registry();
    let text = read_feature_file("glcm.radx");
    let file = compile("glcm.radx", &text, &registry).unwrap_or_else(|d| panic!("{d}"));
    let passes = file.family("glcm").expect("glcm").pass_count();
    assert!(passes <= 10, "expected a handful of fused passes, got {passes}");
}

#[test]
fn features_keep_doc_tag_and_definition_text() {
    let registry = crate::common::standard_registry();
    let text = read_feature_file("glcm.radx");
    let file = compile("glcm.radx", &text, &registry).unwrap_or_else(|d| panic!("{d}"));
    let fam = file.family("glcm").expect("glcm");
    let jm = fam.features().find(|f| f.name == "joint_maximum").expect("joint_maximum");
    assert_eq!(jm.tag, "GYBY");
    assert!(jm.doc.as_deref().unwrap_or("").contains("most common"));
    assert!(jm.text.starts_with("## Probability") || jm.text.starts_with("feature joint_maximum"));
    assert!(jm.text.contains("max(i, j, p[i,j])"));
}
