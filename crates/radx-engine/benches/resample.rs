//! Resampling a CT-phantom-sized volume (512×512×60 at 0.8×0.8×2 mm, like the IBSI CT
//! phantom's 512×512×60) to 2 mm isotropic voxels (IBSI 2.4), trilinear and cubic
//! spline, over the whole image (the pipeline itself resamples only the ROI box).
//!
//! Run: `cargo bench -p radx-engine --bench resample`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use radx_engine::core::processing::resample::{Interpolator, aligned_grid, resample_image};

fn resampling(c: &mut Criterion) {
    let (image, _) = radx_engine::synthetic::case([512, 512, 60], 30_000.0);
    let target = aligned_grid(&image.grid, [2.0, 2.0, 2.0], false).expect("target grid");
    let mut group = c.benchmark_group("resample_512x512x60_to_2mm");
    group.sample_size(10);
    for (name, kernel) in [("trilinear", Interpolator::Linear), ("cubic_spline", Interpolator::CubicSpline)] {
        group
            .bench_function(name, |b| b.iter(|| black_box(resample_image(&image, &target, kernel).expect("resample"))));
    }
    group.finish();
}

criterion_group!(benches, resampling);
criterion_main!(benches);
