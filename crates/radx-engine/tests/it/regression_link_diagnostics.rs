//! Linking diagnostics (references between families, `for`, `override`, reused tags), one
//! feature file per case under `tests/it/link_errors/`, compiled after the standard library
//! and rendered as `radx check` shows them (file:line:col, line, caret, hint), snapshotted.

use radx_engine::Settings;
use radx_engine::library::Library;

#[test]
fn every_link_case_renders_its_diagnostics() {
    let settings = Settings::default();
    let registry = radx_engine::sources::registry(&settings);
    insta::glob!("link_errors/*.radx", |path| {
        let text = std::fs::read_to_string(path).expect("readable case");
        let name = format!("link_errors/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("?"));
        let mut library = Library::for_settings(&settings);
        library.add_text(&name, &text);
        let found = library.diagnostics(&registry, radx_dsl::Limits::default());
        assert!(!found.is_empty(), "{name} has nothing to report");
        let rendered: Vec<String> = found.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(rendered.join("\n"));
    });
}

/// A warning leaves the library usable: the family is compiled and the warning comes back.
#[test]
fn a_reused_tag_warns_and_compiles() {
    let settings = Settings::default();
    let registry = radx_engine::sources::registry(&settings);
    let mut library = Library::for_settings(&settings);
    library.add_text("mine.radx", "family mine over cm {\n  feature peak \"GYBY\" = 2 * max(i, j, p[i,j])\n}\n");
    let compiled = library.compile_linked(&registry, radx_dsl::Limits::default()).expect("a warning is no error");
    assert!(compiled.families.iter().any(|f| f.family.name() == "mine"));
    let warnings: Vec<String> = compiled.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("warning: tag \"GYBY\" of `mine.peak`"), "{}", warnings[0]);
    assert!(warnings[0].contains("`glcm.joint_maximum`"), "{}", warnings[0]);
}

/// The same definition under the same names, replacing the built-in family, is no reuse.
#[test]
fn an_override_copying_a_builtin_feature_does_not_warn() {
    let settings = Settings::default();
    let registry = radx_engine::sources::registry(&settings);
    let mut library = Library::for_settings(&settings);
    library.add_text(
        "glcm.radx",
        "override family glcm over cm {\n  feature joint_maximum   \"GYBY\" = max(i, j, p[i,j])  # the IBSI's\n}\n",
    );
    let compiled = library.compile_linked(&registry, radx_dsl::Limits::default()).expect("links");
    assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
    let glcm: Vec<_> = compiled.families.iter().filter(|f| f.family.name() == "glcm").collect();
    assert_eq!(glcm.len(), 1, "the override replaces the built-in family");
    assert_eq!(glcm[0].family.features().count(), 1);
    assert_eq!(glcm[0].origin, "glcm.radx");
}
