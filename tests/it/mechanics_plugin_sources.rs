//! Plugin sources with a margin (ABI 2.3: `RadxSourceDesc::margin_mm`): a source built
//! against the 2.2 header as shipped loads with no margin and builds; a 2.3 source's margin
//! is read (NaN refused); and `radx extract` with a plugin asking for a margin reads the
//! case once (the plugins load before the case is read).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::text;
use crate::mechanics_plugins::{owner_writable, root, rust_plugin, scratch};
use radx_engine::plugins::{HOST_ABI, HOST_ABI_MINOR, Margin, PluginInput, load_plugin};

/// A C plugin with one source, `voxels`: a 1-D matrix of the box's ROI voxels and the
/// margin region's voxels (0 when radx gave none). Built against the header in `include`,
/// with `margin_mm` set to `margin` when given (a 2.2 header has no such field).
const SOURCE: &str = r#"
#include <stddef.h>
#include "radx_plugin.h"
static _Thread_local double counts[2];
static int32_t build(void *context, const RadxInput *input, const char *params, RadxMatrixOut *out) {
    (void)context; (void)params;
    size_t n = input->image.dims[0] * input->image.dims[1] * input->image.dims[2], roi = 0;
    for (size_t i = 0; i < n; i++) roi += input->morphological_mask.data[i] != 0;
    const size_t *d = input->margin.image.dims;
    counts[0] = (double)roi;
    counts[1] = input->margin.image.data ? (double)(d[0] * d[1] * d[2]) : 0.0;
    out->matrix.data = counts;
    out->matrix.ndim = 1;
    out->matrix.shape[0] = 2;
    out->owner = NULL;
    out->release = NULL;
    return RADX_OK;
}
static const char *last_error(void) { return NULL; }
static const RadxSourceDesc sources[] = {{
    .struct_size = sizeof(RadxSourceDesc), .name = "voxels", .description = "ROI and margin voxels",
    .ndim = 1, .params = NULL, .build = build,
#ifdef MARGIN
    .margin_mm = MARGIN,
#endif
}};
static const RadxPluginDesc descriptor = {
    .abi_version = RADX_PLUGIN_ABI, .abi_minor = RADX_PLUGIN_ABI_MINOR, .struct_size = sizeof(RadxPluginDesc),
    .name = NAME, .version = "1", .features = NULL, .n_features = 0, .feature_size = sizeof(RadxFeatureDesc),
    .sources = sources, .n_sources = 1, .source_size = sizeof(RadxSourceDesc), .last_error = last_error,
};
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }
"#;

fn c_source_plugin(name: &str, include: &Path, margin: Option<&str>) -> PathBuf {
    let dir = scratch("c-sources");
    let source = dir.join(format!("{name}.c"));
    std::fs::write(&source, SOURCE).unwrap();
    let out = dir.join(format!("{}{name}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX));
    let mut cc = Command::new("cc");
    cc.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I"]).arg(include);
    cc.arg(format!("-DNAME=\"{name}\""));
    if let Some(m) = margin {
        cc.arg(format!("-DMARGIN={m}"));
    }
    let output = cc.arg(&source).arg("-o").arg(&out).output().expect("cc runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    owner_writable(&out);
    out
}

/// A 3 × 1 × 1 box whose middle voxel is the ROI, and a 5 × 3 × 1 margin region around it.
fn build_counts(plugin: &radx_engine::plugins::LoadedPlugin, with_region: bool) -> Vec<f64> {
    use radx_engine::core::{Grid, Volume, roi::Roi};
    use radx_engine::plugins::PluginRegion;
    let mask = ndarray::Array3::from_shape_fn((3, 1, 1), |(x, _, _)| x == 1);
    let roi = Roi {
        image: Volume::filled(Grid::new([3, 1, 1], [1.0; 3]), 0.0),
        morphological: mask.clone(),
        intensity: mask,
    };
    let region_image = Volume::filled(Grid::new([5, 3, 1], [1.0; 3]), 0.0);
    let region_mask = ndarray::Array3::from_elem((5, 3, 1), false);
    let mut input = PluginInput::from_roi(&roi, &[]);
    if with_region {
        input.region = Some(PluginRegion {
            image: &region_image,
            morphological: &region_mask,
            intensity: &region_mask,
            offset: [0; 3],
        });
    }
    plugin.sources[0].build(&input, "{}").expect("builds").data().to_vec()
}

#[test]
fn a_source_built_for_abi_2_2_loads_without_a_margin_and_builds() {
    let v2_2 = root().join("crates/radx-plugin/tests/data/v2.2");
    let plugin = load_plugin(&c_source_plugin("radx_c_source_v2_2", &v2_2, None)).unwrap();
    assert_eq!((plugin.abi, plugin.abi_minor), (HOST_ABI, 2));
    assert_eq!(plugin.sources[0].margin, Margin::None, "a 2.2 entry ends before margin_mm");
    assert_eq!(build_counts(&plugin, false), [1.0, 0.0]);
    // The C example as shipped for 2.2 (features with parameters, a profile, a filter).
    let out = scratch("c-sources").join(format!(
        "{}radx_c_example_v2_2{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let output = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I"])
        .arg(&v2_2)
        .arg(v2_2.join("example.c"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("cc runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    owner_writable(&out);
    let example = load_plugin(&out).unwrap();
    assert_eq!(example.abi_minor, 2);
    assert!(example.features.iter().any(|f| f.name == "slice_voxels" && f.profile));
    assert_eq!(example.filters.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["binomial_mean3"]);
}

#[test]
fn a_2_3_sources_margin_is_read_passed_and_nan_refused() {
    let include = root().join("crates/radx-plugin/include");
    let plugin = load_plugin(&c_source_plugin("radx_c_source_margin", &include, Some("2.5"))).unwrap();
    assert_eq!((plugin.abi, plugin.abi_minor), (HOST_ABI, HOST_ABI_MINOR));
    assert_eq!(plugin.sources[0].margin, Margin::Mm(2.5));
    // The host passes the region it is given: 15 voxels.
    assert_eq!(build_counts(&plugin, true), [1.0, 15.0]);
    let whole = load_plugin(&c_source_plugin("radx_c_source_whole", &include, Some("-1.0"))).unwrap();
    assert_eq!(whole.sources[0].margin, Margin::WholeImage);
    let registry = {
        let mut r = radx_engine::plugins::PluginRegistry::new();
        r.load(&c_source_plugin("radx_c_source_margin2", &include, Some("2.5"))).unwrap();
        r
    };
    assert_eq!(registry.margin(), Margin::Mm(2.5), "a source's margin is kept for it");
    let nan = load_plugin(&c_source_plugin("radx_c_source_nan", &include, Some("(0.0/0.0)"))).unwrap_err();
    assert!(nan.to_string().contains("source `voxels` declares a margin_mm of NaN"), "{nan}");
}

/// With `RADX_TIMINGS`, each read of the case marks `mask read` (streamed) or `image and
/// label map read whole`: a plugin asking for a margin (the peritumoral example's features
/// and source) is loaded before the case is read, which is then read once.
#[test]
fn a_plugin_asking_for_a_margin_reads_the_case_once() {
    let data = root().join("tests/data/pyradiomics/data");
    let plugin = rust_plugin("radx_plugin_peritumoral");
    let features = root().join("plugins/peritumoral/ring.radx");
    let (image, mask) = (data.join("brain2_image.nrrd"), data.join("brain2_label.nrrd"));
    let mut args: Vec<&std::ffi::OsStr> = ["extract", "--image"].map(std::ffi::OsStr::new).to_vec();
    args.extend([image.as_os_str(), "--mask".as_ref(), mask.as_os_str(), "--plugin".as_ref(), plugin.as_os_str()]);
    for with_features in [false, true] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_radx"));
        command.args(&args).env("RADX_TIMINGS", "1").env_remove(radx_engine::plugins::PLUGIN_PATH_VAR);
        if with_features {
            command.arg("--features").arg(&features);
        }
        let out = command.output().expect("radx runs");
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let reads = stderr.lines().filter(|l| l.ends_with("  mask read") || l.ends_with("read whole")).count();
        assert_eq!(reads, 1, "features {with_features}: the case was read {reads} times:\n{stderr}");
        assert!(text(&out.stdout).contains(",peritumoral,ring_voxels_5mm,"), "the plugin's rows");
    }
}
