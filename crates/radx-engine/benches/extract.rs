//! End to end: `Extractor::extract` (read image and mask, process, every standard IBSI family
//! with 3D averaged and merged texture) on the three synthetic cases of the PyRadiomics
//! comparison (`benches/compare/run.sh`): 256×256×25 with ~4 000 ROI voxels, 256×256×96
//! with ~30 000 and 512×512×200 with ~200 000; fixed bin width 25.
//!
//! Run: `cargo bench -p radx-engine --bench extract` (the large case's files take a few seconds to
//! write first). `RAYON_NUM_THREADS=1` gives the single-thread figures.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use radx_engine::{Case, Extractor};

const SETTINGS: &str = "[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = 25.0\n\
                        [texture]\naggregations = [\"3d_avg\", \"3d_mrg\"]\n";

fn end_to_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let settings = radx_engine::settings::Settings::from_toml_str(SETTINGS).expect("settings");
    let extractor = Extractor::new(settings, &[], Default::default()).expect("standard library");
    let mut group = c.benchmark_group("extract");
    group.sample_size(10);
    for (name, dims, roi) in [
        ("256x256x25_4k", [256, 256, 25], 4_137.0),
        ("256x256x96_30k", [256, 256, 96], 30_000.0),
        ("512x512x200_200k", [512, 512, 200], 200_000.0),
    ] {
        let case = dir.path().join(name);
        radx_engine::synthetic::write_case(&case, dims, roi).expect("synthetic case");
        let case = Case::new(case.join("image.nii.gz"), case.join("mask.nii.gz"));
        group.bench_function(name, |b| b.iter(|| black_box(extractor.extract(&case).expect("extract"))));
    }
    group.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
