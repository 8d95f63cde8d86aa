//! Filter plugins' mechanics end to end: settings naming a filter no plugin has, parameters
//! a filter does not declare, a filter that fails (in `radx extract` and in a batch), name
//! clashes (a plugin named explicitly is refused, one found through `RADX_PLUGIN_PATH` is
//! skipped with a warning), malformed filter tables, and a plugin of ABI 2.1, which has no
//! filters, still loading.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::text;
use crate::mechanics_plugins::{compile_c, owner_writable, radx_cli, root, rust_plugin, scratch};
use radx_engine::plugins::{HOST_ABI, PluginInput, load_plugin};

/// A C plugin called `plugin` with one filter `name` of `boundary`, whose apply is `ok`
/// (every voxel 1), `fails` ("no response here") or `crashes` (writes through NULL).
fn c_filter_plugin(plugin: &str, name: &str, boundary: &str, apply: &str) -> PathBuf {
    let source = scratch("c-filters").join(format!("{plugin}_{name}.c"));
    let code = r#"#include <stdio.h>
#include "radx_plugin.h"
static _Thread_local char message[128];
static const char *last_error(void) { return message[0] ? message : NULL; }
__attribute__((unused)) static int32_t ok(void *c, const RadxFilterInput *i, double *o, size_t n) {
    (void)c; (void)i; message[0] = 0;
    for (size_t k = 0; k < n; k++) o[k] = 1.0;
    return RADX_OK;
}
__attribute__((unused)) static int32_t fails(void *c, const RadxFilterInput *i, double *o, size_t n) {
    (void)c; (void)i; (void)o; (void)n;
    snprintf(message, sizeof message, "no response here");
    return RADX_ERROR;
}
__attribute__((unused)) static int32_t crashes(void *c, const RadxFilterInput *i, double *o, size_t n) {
    (void)c; (void)i; (void)o; (void)n;
    volatile double *nowhere = NULL;
    *nowhere = 1.0;
    return RADX_OK;
}
static const RadxFilterDesc filters[] = {{ sizeof(RadxFilterDesc), "@NAME@", "a test filter", {1, 1, 1}, 0.0,
    "@BOUNDARY@", NULL, 0, @APPLY@ }};
static const RadxFilterTable table = { RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxFilterTable), filters, 1,
    sizeof(RadxFilterDesc) };
static const RadxPluginDesc descriptor = { RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxPluginDesc), "@PLUGIN@",
    "0.1", NULL, 0, sizeof(RadxFeatureDesc), NULL, 0, sizeof(RadxSourceDesc), last_error, NULL, NULL };
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }
RADX_EXPORT const RadxFilterTable *radx_plugin_filters(void) { return &table; }
"#;
    let code = code.replace("@PLUGIN@", plugin).replace("@NAME@", name).replace("@BOUNDARY@", boundary);
    std::fs::write(&source, code.replace("@APPLY@", apply)).unwrap();
    compile_c(&source, &format!("{plugin}_{name}"))
}

/// An 8³ image and full mask in `dir`, and a settings file with `filter` (a TOML table body).
fn case_with_filter(dir: &Path, filter: &str) -> [String; 3] {
    use ndarray::{Array3, ShapeBuilder};
    use radx_engine::core::{Grid, Volume};
    use radx_engine::io::{NiftiType, write_nifti};
    let grid = Grid::new([8, 8, 8], [1.0; 3]);
    let image = Volume { grid, data: Array3::from_shape_fn((8, 8, 8).f(), |(x, y, z)| (x * y + z) as f64) };
    let (image_path, mask_path, settings) = (dir.join("i.nii.gz"), dir.join("m.nii.gz"), dir.join("s.toml"));
    write_nifti(&image_path, &image, NiftiType::F32).unwrap();
    write_nifti(&mask_path, &Volume::filled(grid, 1.0), NiftiType::U8).unwrap();
    std::fs::write(&settings, format!("[[filter]]\nkind = \"plugin\"\n{filter}\n")).unwrap();
    [image_path, mask_path, settings].map(|p| p.to_string_lossy().into_owned())
}

fn extract(case: &[String; 3], plugins: &[&Path], plugin_path: Option<&Path>) -> std::process::Output {
    let mut args = vec!["extract", "--image", &case[0], "--mask", &case[1], "--settings", &case[2]];
    for p in plugins {
        args.extend(["--plugin", p.to_str().unwrap()]);
    }
    radx_cli(&args, plugin_path)
}

#[test]
fn a_filter_no_plugin_has_is_an_error_naming_the_loaded_ones() {
    let dir = scratch("filter-unknown");
    let case = case_with_filter(&dir, "name = \"no_such_filter\"");
    let sobel = rust_plugin("radx_plugin_sobel");
    let out = extract(&case, &[&sobel], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("no loaded plugin has a filter `no_such_filter` (plugin filters loaded: sobel_magnitude)"),
        "{err}"
    );
    assert!(err.contains("--plugin PATH"), "{err}");
    let out = extract(&case, &[], None);
    assert!(text(&out.stderr).contains("(plugin filters loaded: none)"), "{}", text(&out.stderr));
}

#[test]
fn parameters_are_checked_against_the_filters_declaration() {
    let dir = scratch("filter-params");
    let sobel = rust_plugin("radx_plugin_sobel");
    let case = case_with_filter(&dir, "name = \"sobel_magnitude\"\nparams = { radius = 2 }");
    let err = text(&extract(&case, &[&sobel], None).stderr);
    assert!(
        err.contains("plugin filter `sobel_magnitude`: no parameter `radius`; it declares: use_spacing = true"),
        "{err}"
    );
    let case = case_with_filter(&dir, "name = \"sobel_magnitude\"\nparams = { use_spacing = 1 }");
    let err = text(&extract(&case, &[&sobel], None).stderr);
    assert!(err.contains("parameter `use_spacing` is a flag (default true), not `1`"), "{err}");
    // A parameter set names the image type: two settings of one filter are two image types.
    let case = case_with_filter(&dir, "name = \"sobel_magnitude\"\nparams = { use_spacing = false }");
    let out = extract(&case, &[&sobel], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\nsobel_magnitude_use_spacing_false,intensity_statistics,mean_intensity,"));
}

#[test]
fn a_failing_filter_is_an_error_naming_plugin_and_filter_not_a_crash() {
    let dir = scratch("filter-fails");
    let plugin = c_filter_plugin("failing", "broken", "mirror", "fails");
    let case = case_with_filter(&dir, "name = \"broken\"");
    let out = extract(&case, &[&plugin], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("plugin filter `broken` of plugin `failing` failed: no response here"), "{err}");
    // In a batch the case fails with that message; the batch itself finishes.
    let cases = dir.join("cases.csv");
    std::fs::write(&cases, format!("id,image,mask\na,{},{}\nb,{},{}\n", case[0], case[1], case[0], case[1])).unwrap();
    let output = dir.join("out.csv");
    let args = ["batch", cases.to_str().unwrap(), "--quiet", "--settings", &case[2], "-o", output.to_str().unwrap()];
    let out = radx_cli(&[&args[..], &["--plugin", plugin.to_str().unwrap()]].concat(), None);
    assert!(out.status.code().is_some(), "radx was killed: {:?}", out.status);
    let err = text(&out.stderr);
    assert_eq!(err.matches("plugin filter `broken` of plugin `failing` failed").count(), 2, "{err}");
}

/// A filter is not told its case, yet a crashing one's line names the case in flight (the
/// engine names it on the thread around the call): it used to say `case (no id)`.
#[test]
fn a_crashing_filter_leaves_a_line_naming_the_case() {
    use std::os::unix::process::ExitStatusExt;
    let dir = scratch("filter-crashes");
    let plugin = c_filter_plugin("crashy", "segv", "mirror", "crashes");
    let case = case_with_filter(&dir, "name = \"segv\"");
    let cases = dir.join("cases.csv");
    std::fs::write(&cases, format!("id,image,mask\npatient-7,{},{}\n", case[0], case[1])).unwrap();
    let output = dir.join("out.csv");
    let args = ["batch", cases.to_str().unwrap(), "--quiet", "--settings", &case[2], "-o", output.to_str().unwrap()];
    let out = radx_cli(&[&args[..], &["--plugin", plugin.to_str().unwrap()]].concat(), None);
    assert_eq!(out.status.signal(), Some(libc::SIGSEGV), "{:?} {}", out.status, text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("radx: SIGSEGV in plugin crashy, filter segv, case patient-7 (label 1)"), "{err}");
}

#[test]
fn a_filter_named_like_a_built_in_is_refused_explicitly_and_skipped_from_the_path() {
    let plugin = c_filter_plugin("clashing", "mean", "mirror", "ok");
    let err = load_plugin(&plugin).map(|_| ()).err();
    assert!(err.is_none(), "the library itself is valid: {err:?}");
    let dir = scratch("filter-clash");
    let case = case_with_filter(&dir, "name = \"binomial_mean3\"");
    let c_example = crate::mechanics_plugins::c_example();
    let out = extract(&case, &[c_example, &plugin], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("filter `mean` has the name of a built-in filter kind"), "{err}");
    // From RADX_PLUGIN_PATH: a warning, and the run goes on without that plugin.
    let path_dir = scratch("filter-clash-path");
    let copy = path_dir.join(plugin.file_name().unwrap());
    std::fs::copy(&plugin, &copy).unwrap();
    owner_writable(&copy);
    let out = extract(&case, &[c_example], Some(&path_dir));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("warning:") && err.contains("filter `mean` has the name of a built-in"), "{err}");
    assert!(err.contains("skipped"), "{err}");
    assert!(text(&out.stdout).contains("\nbinomial_mean3,intensity_statistics,"));
}

#[test]
fn two_plugins_with_one_filter_name_and_malformed_tables_are_refused() {
    let first = c_filter_plugin("first", "shared", "mirror", "ok");
    let second = c_filter_plugin("second", "shared", "mirror", "ok");
    let mut registry = radx_engine::plugins::PluginRegistry::new();
    registry.load(&first).unwrap();
    let err = registry.load(&second).expect_err("a clash").to_string();
    assert!(err.contains("filter `shared` is already provided by plugin `first`"), "{err}");
    let err = load_plugin(&c_filter_plugin("bad", "edge", "reflect", "ok")).expect_err("refused").to_string();
    assert!(
        err.contains("filter `edge` declares the boundary `reflect`, not one of zero, nearest, periodic, mirror"),
        "{err}"
    );
    let err = load_plugin(&c_filter_plugin("bad", "with-dash", "zero", "ok")).expect_err("refused").to_string();
    assert!(err.contains("the filter name \"with-dash\" is not a valid name"), "{err}");
    // A periodic boundary reads across the image: radx passes it whole.
    let periodic = load_plugin(&c_filter_plugin("wrap", "wrapped", "periodic", "ok")).unwrap();
    assert_eq!(periodic.filters[0].margin_mm, radx_engine::plugins::Margin::WholeImage);
}

/// A plugin built against the ABI 2.1 header as shipped (`crates/radx-plugin/tests/data/v2.1`),
/// which knows nothing of filters, loads, has none, and computes.
#[test]
fn a_plugin_built_for_abi_2_1_still_loads_and_computes() {
    let v2_1 = root().join("crates/radx-plugin/tests/data/v2.1");
    let out = scratch("c-v2.1").join(format!(
        "{}radx_c_example_v2_1{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let output = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I"])
        .arg(&v2_1)
        .arg(v2_1.join("example.c"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("cc runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    owner_writable(&out);
    let plugin = load_plugin(&out).unwrap();
    assert_eq!((plugin.abi, plugin.abi_minor), (HOST_ABI, 1));
    assert!(plugin.filters.is_empty());
    let names: Vec<&str> = plugin.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["roi_volume_mm3", "always_fails", "box_offset_z", "box_origin_z_mm", "outside_2mm"]);
    // 5 voxels of 2 × 1 × 0.5 mm³.
    let grid = radx_engine::core::Grid::new([1, 5, 1], [2.0, 1.0, 0.5]);
    let image = radx_engine::core::Volume::filled(grid, 0.0);
    let mask = ndarray::Array3::from_elem((1, 5, 1), true);
    let roi = radx_engine::core::roi::Roi { image, morphological: mask.clone(), intensity: mask };
    assert_eq!(plugin.features[0].compute(&PluginInput::from_roi(&roi, &[])), Ok(5.0));
}
