//! The separable filters on a 160×160×90 block (1×1×2 mm), about the ROI neighbourhood the
//! engine filters in radx's 512×512×200 synthetic case: mean, LoG, Laws with and without
//! rotation pooling and energy, undecimated wavelets with rotation pooling, decimated.
//!
//! Run: `cargo bench -p radx-filters --bench separable`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array3;
use radx_filters::laws::LawsFilter;
use radx_filters::log::{DEFAULT_TRUNCATE, LaplacianOfGaussian};
use radx_filters::mean::MeanFilter;
use radx_filters::rotation::Pooling;
use radx_filters::wavelet::SeparableWavelet;
use radx_filters::{Boundary, Dimensionality, Filter};

const SPACING: [f64; 3] = [1.0, 1.0, 2.0];

/// A seeded pseudo-random block (xorshift64), CT-like values in [−1000, 1000).
fn block() -> Array3<f64> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    Array3::from_shape_simple_fn((160, 160, 90), || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2000.0 - 1000.0
    })
}

fn filters() -> Vec<(&'static str, Box<dyn Filter>)> {
    let mirror = Boundary::Mirror;
    let d3 = Dimensionality::ThreeD;
    vec![
        ("mean_5", Box::new(MeanFilter::new(5, d3, mirror).unwrap())),
        ("log_1.5mm", Box::new(LaplacianOfGaussian::new(1.5, DEFAULT_TRUNCATE, d3, mirror).unwrap())),
        (
            "log_1.5mm_2d",
            Box::new(LaplacianOfGaussian::new(1.5, DEFAULT_TRUNCATE, Dimensionality::TwoD, mirror).unwrap()),
        ),
        ("laws_l5e5e5", Box::new(LawsFilter::new("L5E5E5", None, None, mirror).unwrap())),
        (
            "laws_l5e5e5_energy7_rotmax",
            Box::new(LawsFilter::new("L5E5E5", Some(Pooling::Max), Some(7), mirror).unwrap()),
        ),
        ("laws_l5e5_energy7_rotmax", Box::new(LawsFilter::new("L5E5", Some(Pooling::Max), Some(7), mirror).unwrap())),
        (
            "wavelet_db3_llh_l1_rotmean",
            Box::new(SeparableWavelet::new("db3", "LLH", 1, Some(Pooling::Mean), false, mirror).unwrap()),
        ),
        (
            "wavelet_db3_hhh_l2_rotmean",
            Box::new(SeparableWavelet::new("db3", "HHH", 2, Some(Pooling::Mean), false, mirror).unwrap()),
        ),
        ("wavelet_db3_hhh_l2_decimated", Box::new(SeparableWavelet::new("db3", "HHH", 2, None, true, mirror).unwrap())),
    ]
}

fn separable(c: &mut Criterion) {
    let image = block();
    let mut group = c.benchmark_group("separable_160x160x90");
    group.sample_size(10);
    for (name, filter) in filters() {
        group.bench_function(name, |b| b.iter(|| black_box(filter.apply(image.view(), SPACING).expect("filter"))));
    }
    group.finish();
}

criterion_group!(benches, separable);
criterion_main!(benches);
