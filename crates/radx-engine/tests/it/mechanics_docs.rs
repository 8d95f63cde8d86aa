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

/// The worked example of `docs/filters.md` parses, validates and builds an extractor whose
/// image types are the names the page's table gives.
#[test]
fn the_documented_filter_example_parses_and_names_its_image_types() {
    let doc = std::fs::read_to_string(crate::common::repo_root().join("docs/filters.md")).unwrap();
    let start = doc.find("```toml\n").expect("a TOML example in docs/filters.md") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the example's end");
    let settings = Settings::from_toml_str(&doc[start..end]).unwrap_or_else(|e| panic!("docs/filters.md: {e}"));
    settings.validate().unwrap_or_else(|e| panic!("docs/filters.md: {e}"));
    let extractor = radx_engine::Extractor::new(settings, &[], Default::default()).expect("builds");
    let names: Vec<String> = extractor.filters.iter().map(|f| f.image_type.to_string()).collect();
    assert_eq!(
        names,
        [
            "log_sigma_1mm",
            "log_sigma_3mm",
            "laws_l5e5e5_energy7_rotmax",
            "wavelet_coif1_llh_l1_rotmean",
            "custom_sobel_rotmax"
        ]
    );
    for name in &names {
        assert!(doc.contains(name.split('_').next().unwrap()), "{name}");
    }
    // The default families leave morphology out; `families` picks them.
    assert!(extractor.filters[2].library.iter().all(|f| f.family.name() != "morphology"));
    assert_eq!(
        extractor.filters[0].library.iter().map(|f| f.family.name()).collect::<Vec<_>>(),
        ["intensity_statistics", "glcm"]
    );
}
