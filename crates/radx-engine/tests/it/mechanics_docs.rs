//! The settings file documented in `docs/settings.md` is one radx reads: a user who copies
//! it gets a valid configuration, not an error.

use radx_engine::Settings;

#[test]
fn the_documented_settings_file_parses_and_validates() {
    let doc = std::fs::read_to_string(crate::common::repo_root().join("docs/settings.md")).unwrap();
    let start = doc.find("```toml\n").expect("a TOML example in docs/settings.md") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the example's end");
    let settings = Settings::from_toml_str(&doc[start..end]).unwrap_or_else(|e| panic!("docs/settings.md: {e}"));
    settings.validate().unwrap_or_else(|e| panic!("docs/settings.md: {e}"));
    assert!(settings.resample.is_some(), "the example documents resampling");
}
