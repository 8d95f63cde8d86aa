//! Compiling a feature library: parse, check and plan every file, as each `radx` run does
//! once before extracting (beside the image read). The IBSI library (`features/*.radx`)
//! and the PyRadiomics one (`features/pyradiomics/*.radx`).
//!
//! Run: `cargo bench -p radx-engine --bench library`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use radx_engine::library::Library;
use radx_engine::settings::Settings;
use radx_engine::sources::registry;

fn bench(c: &mut Criterion) {
    let settings = Settings::default();
    let registry = registry(&settings);
    let pyradiomics = Settings { pyradiomics: Some(Default::default()), ..Settings::default() };
    let ibsi = Settings::default();
    for (name, library) in
        [("ibsi", Library::for_settings(&ibsi)), ("pyradiomics", Library::for_settings(&pyradiomics))]
    {
        library.compile(&registry).unwrap_or_else(|e| panic!("{e}"));
        c.bench_function(&format!("compile_library/{name}"), |b| b.iter(|| library.compile(black_box(&registry))));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
