//! Compiler diagnostics, one input file per error kind under `tests/errors/`, rendered
//! exactly as users see them (file:line:col, source line, caret, hint) and snapshotted.

use radx_dsl::{Registry, compile};

#[test]
fn every_error_case_renders_a_diagnostic() {
    let registry = Registry::standard();
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
