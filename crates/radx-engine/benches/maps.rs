//! Voxel-wise feature maps (`radx_engine::maps::feature_maps`) on a small synthetic case held
//! in memory (64×64×16 with ~1 000 ROI voxels, fixed bin width 25): every IBSI family that
//! can be mapped (3D averaged and merged) and every PyRadiomics class (tests/data/pyradiomics/voxel), at radius 1 and 2. The end-to-end figures on the
//! compare cases are in docs/maps.md.
//!
//! Run: `cargo bench -p radx-engine --bench maps`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use radx_engine::maps::{MapOptions, Window, feature_maps};
use radx_engine::{Case, Extractor, Settings};

const IBSI: &str = "[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = 25.0\n\
                    [texture]\naggregations = [\"3d_avg\", \"3d_mrg\"]\n";

fn maps(c: &mut Criterion) {
    let (image, mask) = radx_engine::synthetic::case([64, 64, 16], 1_000.0);
    let case = Case::new(image, mask);
    let ibsi = Extractor::new(Settings::from_toml_str(IBSI).expect("settings"), &[], Default::default())
        .expect("IBSI library");
    let params = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/pyradiomics/voxel/brain2_r1.yaml");
    let settings = radx_engine::compat::pyradiomics::load_settings(params.as_ref(), false).expect("params").settings;
    let pyradiomics = Extractor::new(settings, &[], Default::default())
        .and_then(|e| e.with_pyradiomics_names())
        .expect("PyRadiomics library");
    let mut group = c.benchmark_group("maps");
    group.sample_size(10);
    for radius in [1, 2] {
        let options = MapOptions { window: Window::Cube(radius), ..MapOptions::default() };
        for (name, extractor) in [("ibsi", &ibsi), ("pyradiomics", &pyradiomics)] {
            group.bench_function(format!("{name}_r{radius}_1k"), |b| {
                b.iter(|| black_box(feature_maps(extractor, &case, &options).expect("maps")))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, maps);
criterion_main!(benches);
