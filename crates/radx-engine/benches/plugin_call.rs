//! What a plugin call costs: the fractal-dimension feature through the C ABI (loaded
//! from the example plugin's shared library) vs the same Rust function called directly.
//!
//! The difference is the boundary: building the repr(C) views (borrowed, no copy for
//! radx's x-fastest volumes), the indirect call, and `catch_unwind`. Two ROI sizes show
//! the fixed cost (8³ box) and the relative cost on a realistic ROI (sphere in a 48³ box).
//!
//! Run: `cargo bench -p radx-engine --bench plugin_call`. The plugin is built with
//! `cargo build --release -p radx-plugin-fractal` into a private target dir first.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array3, ShapeBuilder};
use radx_engine::core::roi::Roi;
use radx_engine::core::{Grid, Volume};
use radx_engine::plugins::{PluginInput, load_plugin};

/// Build the fractal plugin optimised, as the bench itself is, and return its path.
fn fractal_library() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target").join("plugin-bench");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--quiet", "--release", "-p", "radx-plugin-fractal", "--target-dir"])
        .arg(&target)
        .status()
        .expect("run cargo build for the fractal plugin");
    assert!(status.success(), "building the fractal plugin failed");
    let name = format!("{}radx_plugin_fractal{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    target.join("release").join(name)
}

/// A ball of `radius` voxels centred in an `n³` box.
fn ball(n: usize, radius: f64) -> Roi {
    let c = (n as f64 - 1.0) / 2.0;
    let shape = (n, n, n).f();
    let mask = Array3::from_shape_fn(shape, |(x, y, z)| {
        let d2 = (x as f64 - c).powi(2) + (y as f64 - c).powi(2) + (z as f64 - c).powi(2);
        d2 <= radius * radius
    });
    let image = Volume { grid: Grid::new([n, n, n], [1.0; 3]), data: Array3::from_elem(shape, 1.0) };
    Roi { image, morphological: mask.clone(), intensity: mask }
}

fn plugin_call(c: &mut Criterion) {
    let plugin = load_plugin(&fractal_library()).expect("load the fractal plugin");
    let feature = &plugin.features[0];
    for (label, roi) in [("8^3 box, full", ball(8, 8.0)), ("48^3 box, ball r=20", ball(48, 20.0))] {
        let dims = roi.image.grid.dims;
        // The direct call reads the same x-fastest bytes the plugin sees.
        let mask: Vec<u8> = roi.morphological.t().iter().map(|&b| u8::from(b)).collect();
        let input = PluginInput::from_roi(&roi, &[]);
        let through_plugin = feature.compute(&input).expect("plugin value");
        let direct = radx_plugin_fractal::box_counting_dimension(&mask, dims).expect("direct value");
        assert_eq!(through_plugin.to_bits(), direct.to_bits(), "same function, same bits");

        let mut group = c.benchmark_group(format!("fractal_dimension/{label}"));
        group.bench_function("direct", |b| {
            b.iter(|| radx_plugin_fractal::box_counting_dimension(black_box(&mask), dims))
        });
        group.bench_function("through plugin", |b| b.iter(|| feature.compute(black_box(&input))));
        group.finish();
    }
}

criterion_group!(benches, plugin_call);
criterion_main!(benches);
