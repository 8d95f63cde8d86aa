//! Compiler diagnostics, one input file per error kind under `tests/it/errors/`, rendered
//! exactly as users see them (file:line:col, source line, caret, hint) and snapshotted.

use radx_dsl::compile;

#[test]
fn every_error_case_renders_a_diagnostic() {
    let registry = crate::common::standard_registry();
    insta::glob!("errors/*.radx", |path| {
        let text = std::fs::read_to_string(path).expect("readable case");
        let name = format!("errors/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("?"));
        let err = match compile(&name, &text, &registry) {
            Ok(_) => panic!("{name} should not compile"),
            Err(e) => e,
        };
        insta::assert_snapshot!(err.to_string());
    });
}

/// A syntax error lists what could come next once each, in a fixed order: the parser tries
/// thirteen operators where an operand has ended, and they must not become thirteen items.
#[test]
fn syntax_errors_list_each_expectation_once() {
    let registry = crate::common::standard_registry();
    for text in [
        "family glcm over cm {\n  let x = px py\n}\n",
        "family glcm over cm {\n  feature f \"XXXX\" = 1 +\n}\n",
        "family glcm over cm {\n  feature f \"XXXX\" = (1\n}\n",
    ] {
        let err = compile("case.radx", text, &registry).expect_err("a syntax error").to_string();
        let first = err.lines().next().unwrap_or_default();
        let list = first.split_once("expected ").map(|(_, l)| l).unwrap_or_else(|| panic!("no list in {first:?}"));
        let items: Vec<&str> = list.split(", ").flat_map(|i| i.split(" or ")).collect();
        let mut unique = items.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), items.len(), "repeated expectation in {first:?}");
        assert!(!first.contains("kw_") && !first.contains("_op"), "internal rule name in {first:?}");
    }
}
