//! ABI 2.2 mechanics: plugin feature parameters set in the settings' `[[plugin_feature]]`
//! tables are checked by `radx check --settings` and by `radx extract` before any image is
//! read (unknown feature or parameter, wrong kind, out of range: the message names the
//! feature, the parameter and what is allowed); profile features give one row per value,
//! `name[i]`, in every output (extract CSV and JSON, batch CSV, JSON lines and Parquet);
//! invalid declarations are refused at load.

use std::path::{Path, PathBuf};

use radx_cohort::table::{TableFormat, read_table};
use radx_engine::plugins::load_plugin;

use crate::common::text;
use crate::mechanics_plugins::{c_example, full_cube_files, radx_cli, rust_plugin, scratch};

fn plugin_args() -> Vec<String> {
    let profiles = rust_plugin("radx_plugin_profiles");
    ["--plugin", profiles.to_str().unwrap(), "--plugin", c_example().to_str().unwrap()].map(str::to_string).to_vec()
}

fn write_settings(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Each refused table, with what its message must say.
const REFUSED: &[(&str, &[&str])] = &[
    ("feature = \"profiles.percentile\"\nparams = { q = 5 }", &["profiles.percentile", "`q`", "it has p"]),
    (
        "feature = \"profiles.percentile\"\nparams = { p = 150 }",
        &["profiles.percentile", "`p` = 150", "out of range", "0 to 100"],
    ),
    (
        "feature = \"profiles.percentile\"\nparams = { p = \"high\" }",
        &["profiles.percentile", "`p`", "must be a number", "\"high\""],
    ),
    (
        "feature = \"profiles.slice_mean\"\nparams = { axis = 1.5 }",
        &["profiles.slice_mean", "`axis`", "an integer", "0 to 2"],
    ),
    (
        "feature = \"c-example.mean_above\"\nparams = { strict = 1 }",
        &["c-example.mean_above", "`strict`", "true or false"],
    ),
    (
        "feature = \"c-example.roi_volume_mm3\"\nparams = { p = 1 }",
        &["c-example.roi_volume_mm3", "`p`", "it takes none"],
    ),
    ("feature = \"profiles.nope\"", &["profiles.nope", "no loaded plugin has this feature", "profiles.percentile"]),
];

#[test]
fn check_and_extract_refuse_bad_parameters_naming_feature_parameter_and_range() {
    let dir = scratch("params-refused");
    let (image, mask) = full_cube_files(&dir);
    let plugins = plugin_args();
    let plugins: Vec<&str> = plugins.iter().map(String::as_str).collect();
    for (i, (table, wanted)) in REFUSED.iter().enumerate() {
        let settings = write_settings(&dir, &format!("bad{i}.toml"), &format!("[[plugin_feature]]\n{table}\n"));
        let settings = settings.to_str().unwrap();
        let check = [&["check", "--settings", settings][..], &plugins].concat();
        let extract = [&["extract", "--image", &image, "--mask", &mask, "--settings", settings][..], &plugins].concat();
        for args in [check, extract] {
            let out = radx_cli(&args, None);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(settings), "{table}: the message names the settings file: {stderr}");
            for w in *wanted {
                assert!(stderr.contains(w), "{table}: {w:?} missing from {stderr}");
            }
            assert!(text(&out.stdout).is_empty(), "nothing extracted: {}", text(&out.stdout));
        }
    }
    // Good tables pass: one call per table, and each other loaded feature once.
    let good = "[[plugin_feature]]\nfeature = \"profiles.percentile\"\nparams = { p = 75 }\n\n\
                [[plugin_feature]]\nfeature = \"profiles.percentile\"\nparams = { p = 25 }\n";
    let settings = write_settings(&dir, "good.toml", good);
    let args = [&["check", "--settings", settings.to_str().unwrap()][..], &plugins].concat();
    let out = radx_cli(&args, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // profiles: 2 percentile calls + slice_mean; c-example: its 7 features.
    assert_eq!(text(&out.stdout), "ok: 10 plugin feature call(s)\n");
    // `radx plugins list` shows what may be set: name, kind, default, range.
    let out = radx_cli(&[&["plugins", "list"][..], &plugins].concat(), None);
    let listing = text(&out.stdout);
    for line in [
        "param p",
        "float = 50 (0 to 100)",
        "param axis",
        "int = 2 (0 to 2)",
        "param strict",
        "bool = false (true or false)",
        "param t",
        "float = 0 (any number)",
    ] {
        assert!(listing.contains(line), "{line:?} missing from {listing}");
    }
    assert!(listing.lines().any(|l| l.contains("slice_mean") && l.contains("(profile")), "{listing}");
}

/// The 8³ cube of intensity x + y + z, all inside: the mean of slice z is 7 + z, the
/// median of all 512 voxels 10.5 (the values are symmetric about it), the ROI voxels per
/// slice 64.
#[test]
fn profile_rows_reach_every_output() {
    let dir = scratch("params-outputs");
    let (image, mask) = full_cube_files(&dir);
    let plugins = plugin_args();
    let plugins: Vec<&str> = plugins.iter().map(String::as_str).collect();
    let out = radx_cli(&[&["extract", "--image", &image, "--mask", &mask][..], &plugins].concat(), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    for z in 0..8 {
        let row = format!("original,profiles,slice_mean(axis=2)[{z}],RADX-PR02,-,{},", 7 + z);
        assert!(csv.lines().any(|l| l == row), "{row} missing from {csv}");
        assert!(csv.lines().any(|l| l == format!("original,c-example,slice_voxels[{z}],SITE-0006,-,64,")), "{csv}");
    }
    assert!(!csv.contains("slice_mean(axis=2)[8]"), "{csv}");
    assert!(csv.lines().any(|l| l == "original,profiles,percentile(p=50),RADX-PR01,-,10.5,"), "{csv}");
    let json = [&["extract", "--image", &image, "--mask", &mask, "--format", "json"][..], &plugins].concat();
    let out = radx_cli(&json, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let value = |feature: &str| rows.iter().find(|r| r["feature"] == feature).map(|r| r["value"].clone());
    assert_eq!(value("slice_mean(axis=2)[3]"), Some(serde_json::json!(10.0)));
    assert_eq!(value("slice_voxels[7]"), Some(serde_json::json!(64.0)));

    let cases = dir.join("cases.csv");
    std::fs::write(&cases, format!("id,image,mask\nfirst,{image},{mask}\n")).unwrap();
    for (name, format) in
        [("out.csv", TableFormat::Csv), ("out.jsonl", TableFormat::Jsonl), ("out.parquet", TableFormat::Parquet)]
    {
        let output = dir.join(name);
        let args =
            [&["batch", cases.to_str().unwrap(), "--quiet", "-o", output.to_str().unwrap()][..], &plugins].concat();
        let out = radx_cli(&args, None);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let table = read_table(&output, format).unwrap();
        let row = &table.rows[0];
        let cell = |column: &str| {
            let at =
                row.columns.iter().position(|c| c == column).unwrap_or_else(|| panic!("{name}: no column {column}"));
            row.values[at]
        };
        for z in 0..8 {
            assert_eq!(cell(&format!("profiles.slice_mean(axis=2)[{z}]")), (7 + z) as f64, "{name}");
            assert_eq!(cell(&format!("c-example.slice_voxels[{z}]")), 64.0, "{name}");
        }
        assert_eq!(cell("profiles.percentile(p=50)"), 10.5, "{name}");
    }
}

/// A declaration radx cannot honour is refused when the plugin loads, naming the feature.
#[test]
fn invalid_parameter_declarations_are_refused_at_load() {
    let dir = scratch("params-declared");
    let cases = [
        ("RADX_PARAM_FLOAT, 150.0, 0.0, 100.0", "parameter `p`'s default 150 is out of its range"),
        ("RADX_PARAM_INT, 0.5, 0.0, 1.0", "parameter `p`'s default 0.5 is not of its kind"),
        ("7, 0.0, 0.0, 1.0", "parameter `p` has the unknown kind 7"),
        ("RADX_PARAM_FLOAT, 0.0, 1.0, -1.0", "parameter `p` has the range [1, -1]"),
    ];
    for (i, (param, wanted)) in cases.iter().enumerate() {
        let source = dir.join(format!("declared{i}.c"));
        std::fs::write(
            &source,
            format!(
                r#"#include "radx_plugin.h"
static int32_t one(void *c, const RadxInput *i, double *o) {{ (void)c; (void)i; *o = 1.0; return RADX_OK; }}
static int32_t ones(void *c, const RadxInput *i, const double *a, size_t n, RadxValuesOut *o) {{
    (void)c; (void)i; (void)a; (void)n; static const double v = 1.0; o->data = &v; o->len = 1; return RADX_OK;
}}
static const RadxParamDesc params[] = {{{{ sizeof(RadxParamDesc), "p", {param} }}}};
static const RadxFeatureDesc features[] = {{{{ sizeof(RadxFeatureDesc), "f", "SITE-1", "t", NULL, one, 0.0, params, 1,
    sizeof(RadxParamDesc), 0, ones }}}};
static const RadxPluginDesc descriptor = {{ RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxPluginDesc), "declared",
    "0.1", features, 1, sizeof(RadxFeatureDesc), NULL, 0, sizeof(RadxSourceDesc), NULL, NULL, NULL }};
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) {{ return &descriptor; }}
"#
            ),
        )
        .unwrap();
        let library = crate::mechanics_plugins::compile_c(&source, &format!("declared{i}"));
        let err = load_plugin(&library).unwrap_err().to_string();
        assert!(err.contains("feature `f`") && err.contains(wanted), "{wanted}: {err}");
        assert!(err.contains(&format!("declared{i}")), "names the file: {err}");
    }
}
