//! The language side of features from features: `override`, `for` and `family.feature`
//! parse and print back, a reference to another family becomes a numbered input whose value
//! the host passes, a reference to the family's own feature is that feature.

use radx_dsl::ast::SameShape;
use radx_dsl::{EvalBudget, EvalError, NoBuiltins, SourceData, compile, parser};

const TEXT: &str = "override family mine over cm for 3d_mrg, 2d_avg {
  feature total \"R-1\" = sum(i, j, p[i,j])
  feature scaled \"R-2\" = glcm.contrast * 2 + mine.total + intensity_statistics.intensity_variance
  feature again \"R-3\" = glcm.contrast - 1
}
";

#[test]
fn override_for_and_references_print_and_parse_back() {
    let ast = parser::parse(TEXT).expect("parses");
    let family = &ast.families[0];
    assert!(family.overrides.is_some());
    let names: Vec<&str> = family.aggregations.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["3d_mrg", "2d_avg"]);
    let printed = ast.to_string();
    assert!(printed.starts_with("override family mine over cm for 3d_mrg, 2d_avg {"), "{printed}");
    let again = parser::parse(&printed).expect("the printed text parses");
    assert!(again.same_shape(&ast), "{printed}");
}

#[test]
fn references_are_numbered_once_and_evaluated_from_the_values_given() {
    let registry = crate::common::standard_registry();
    let file = compile("refs.radx", TEXT, &registry).expect("compiles");
    let family = &file.families()[0];
    let refs: Vec<(&str, &str)> = family.references().iter().map(|r| (r.family.as_str(), r.feature.as_str())).collect();
    // `glcm.contrast` twice is one input; `mine.total` is the family's own feature.
    assert_eq!(refs, [("glcm", "contrast"), ("intensity_statistics", "intensity_variance")]);
    let names: Vec<&str> = family.aggregations().iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["3d_mrg", "2d_avg"]);
    // A 2 × 2 GLCM of counts 1, 2, 3, 4: probabilities sum to 1.
    let data = SourceData::glcm_from_counts(2, &[1.0, 2.0, 3.0, 4.0]);
    let values = family
        .evaluate_values_with_refs(&data, &NoBuiltins, &mut EvalBudget::default(), &[5.0, 0.25])
        .expect("evaluates");
    // total = 1; scaled = 5 · 2 + 1 + 0.25; again = 5 − 1.
    assert_eq!(values, [1.0, 11.25, 4.0]);
    let missing = family.evaluate_values_with_refs(&data, &NoBuiltins, &mut EvalBudget::default(), &[5.0]);
    assert_eq!(missing, Err(EvalError::MissingReferences { needed: 2, given: 1 }));
}

/// `..` after a name is a range, not a reference (`lo..Ng`), and `1.5` is a number.
#[test]
fn a_range_after_a_name_is_not_a_reference() {
    let registry = crate::common::standard_registry();
    let text = "family r over cm {\n  let lo = 1\n  feature s \"R-4\" = sum(k in lo..Ng, k * 1.5)\n}\n";
    let file = compile("range.radx", text, &registry).expect("compiles");
    assert!(file.families()[0].references().is_empty());
    let data = SourceData::glcm_from_counts(3, &[1.0; 9]);
    let values = file.families()[0].evaluate_values(&data, &NoBuiltins).expect("evaluates");
    // 1.5 · (1 + 2 + 3).
    assert_eq!(values, [9.0]);
}
