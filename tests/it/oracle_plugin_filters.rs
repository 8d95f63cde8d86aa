//! The example filter plugins against numpy: `plugins/sobel` (Rust, the 3-D Sobel gradient
//! magnitude, mirror boundary) and `plugins/c-example`'s `binomial_mean3` (C, a 3×3×3
//! weighted mean, nearest boundary) on PyRadiomics' brain2 case. The oracle
//! (`tests/data/plugins/filter/generate.py`, values in `expected.csv`) filters the whole
//! image in numpy from the filters' definitions; radx filters the ROI's crop (`radx
//! extract`) or the whole image (`radx filter`), so the values also show that the crop
//! radx keeps is wide enough for the margin each filter declares.

use std::path::{Path, PathBuf};

use crate::common::text;
use crate::mechanics_plugins::{c_example, radx_cli, root, rust_plugin, scratch};

struct Expected {
    filter: String,
    what: String,
    key: String,
    value: f64,
}

fn expected() -> Vec<Expected> {
    let csv = std::fs::read_to_string(root().join("tests/data/plugins/filter/expected.csv")).expect("the oracle");
    csv.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Expected {
                filter: f[0].into(),
                what: f[1].into(),
                key: f[2].into(),
                value: f[3].parse().expect("a number"),
            }
        })
        .collect()
}

fn brain2(part: &str) -> String {
    root().join(format!("tests/data/pyradiomics/data/brain2_{part}.nrrd")).to_string_lossy().into_owned()
}

/// A settings file selecting both plugin filters.
fn settings(dir: &Path) -> PathBuf {
    let path = dir.join("filters.toml");
    let toml = "[[filter]]\nkind = \"plugin\"\nname = \"sobel_magnitude\"\n\n\
                [[filter]]\nkind = \"plugin\"\nname = \"binomial_mean3\"\n";
    std::fs::write(&path, toml).unwrap();
    path
}

fn plugin_args() -> Vec<String> {
    let sobel = rust_plugin("radx_plugin_sobel");
    ["--plugin", sobel.to_str().unwrap(), "--plugin", c_example().to_str().unwrap()].map(String::from).to_vec()
}

fn run(args: &[String]) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = radx_cli(&args, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn first_order_features_of_both_filters_responses_match_numpy_on_brain2() {
    let dir = scratch("oracle-filters-extract");
    let settings = settings(&dir);
    let mut args: Vec<String> =
        ["extract", "--image", &brain2("image"), "--mask", &brain2("label"), "--settings"].map(String::from).to_vec();
    args.push(settings.to_string_lossy().into_owned());
    args.extend(plugin_args());
    let csv = run(&args);
    let features: Vec<Expected> = expected().into_iter().filter(|e| e.what == "feature").collect();
    assert_eq!(features.len(), 22, "11 statistics × 2 filters");
    for e in &features {
        let prefix = format!("{},intensity_statistics,{},", e.filter, e.key);
        let line = csv.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no row {prefix}"));
        let got: f64 = line.split(',').nth(5).unwrap().parse().unwrap();
        assert!((got - e.value).abs() <= 1e-11 * e.value.abs().max(1.0), "{prefix} radx {got}, numpy {}", e.value);
    }
    // The responses feed every family, as a built-in filter's do.
    for family in ["intensity_histogram", "glcm", "glrlm", "glszm", "ngtdm", "local_intensity"] {
        for filter in ["sobel_magnitude", "binomial_mean3"] {
            assert!(csv.lines().any(|l| l.starts_with(&format!("{filter},{family},"))), "no {filter} {family} rows");
        }
    }
}

#[test]
fn the_whole_filtered_image_matches_numpy_on_brain2() {
    let dir = scratch("oracle-filters-image");
    let settings = settings(&dir);
    for filter in ["sobel_magnitude", "binomial_mean3"] {
        let output = dir.join(format!("{filter}.nii.gz"));
        let mut args: Vec<String> =
            ["filter", "--image", &brain2("image"), "--filter", filter, "-o"].map(String::from).to_vec();
        args.extend([output.to_string_lossy().into_owned(), "--settings".into()]);
        args.push(settings.to_string_lossy().into_owned());
        args.extend(plugin_args());
        run(&args);
        let response = radx_engine::io::read_volume(&output).unwrap();
        // Written as float32: 2^-24 relative, a little more for a sum of many.
        let close = |got: f64, want: f64, rel: f64| (got - want).abs() <= rel * want.abs() + 1e-9;
        let mut checked = 0;
        for e in expected().iter().filter(|e| e.filter == filter) {
            match e.what.as_str() {
                "sum" => {
                    let sum: f64 = response.data.iter().sum();
                    assert!(close(sum, e.value, 1e-6), "{filter} sum: radx {sum}, numpy {}", e.value);
                }
                "voxel" => {
                    let at: Vec<usize> = e.key.split(' ').map(|n| n.parse().unwrap()).collect();
                    let got = response.data[[at[0], at[1], at[2]]];
                    assert!(close(got, e.value, 1.2e-7), "{filter} at {at:?}: radx {got}, numpy {}", e.value);
                    checked += 1;
                }
                _ => {}
            }
        }
        assert!(checked > 12, "{filter}: corners, edges and ROI voxels ({checked})");
    }
}
