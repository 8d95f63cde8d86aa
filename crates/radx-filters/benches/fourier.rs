//! Criterion benches of the Fourier-domain filters on a seeded pseudo-random 160×160×90 block
//! at 1 mm (a cropped CT neighbourhood after isotropic resampling), with the IBSI phase 2
//! settings (Gabor σ 5 mm, λ 2 mm, γ 1.5; Simoncelli levels 1 and 2; mirror boundary), plus
//! Riesz of LoG and of Simoncelli.
//! `gabor_slice_*` compares the FFT convolution with a direct spatial one on one 160×160
//! slice (kernel 63×63 for R = 31): the measurement behind gabor.rs using the FFT.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array2, Array3};
use radx_filters::gabor::{GaborFilter, GaborOrientations};
use radx_filters::log::LaplacianOfGaussian;
use radx_filters::riesz::RieszTransform;
use radx_filters::simoncelli::SimoncelliWavelet;
use radx_filters::{Boundary, Dimensionality, Filter};
use rustfft::num_complex::Complex64;

const SPACING: [f64; 3] = [1.0, 1.0, 1.0];

/// Integer-valued HU-like noise from a fixed xorshift seed.
fn block(dims: (usize, usize, usize)) -> Array3<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    Array3::from_shape_fn(dims, |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 400) as f64 - 200.0
    })
}

fn gabor(orientations: GaborOrientations, dimensionality: Dimensionality) -> GaborFilter {
    GaborFilter::new(5.0, 2.0, 1.5, orientations, dimensionality, Boundary::Mirror).unwrap()
}

/// |x ∗ g| of one slice by the direct sum, zero outside (the cost, not the boundary, is measured).
fn spatial_modulus(slice: &Array2<f64>, kernel: &Array2<Complex64>) -> Array2<f64> {
    let (n0, n1) = slice.dim();
    let (r0, r1) = ((kernel.nrows() / 2) as isize, (kernel.ncols() / 2) as isize);
    Array2::from_shape_fn((n0, n1), |(i, j)| {
        let mut sum = Complex64::new(0.0, 0.0);
        for ((p, q), &g) in kernel.indexed_iter() {
            let (x, y) = (i as isize - (p as isize - r0), j as isize - (q as isize - r1));
            if (0..n0 as isize).contains(&x) && (0..n1 as isize).contains(&y) {
                sum += g * slice[[x as usize, y as usize]];
            }
        }
        sum.norm()
    })
}

fn gabor_benches(c: &mut Criterion, image: &Array3<f64>) {
    let mut group = c.benchmark_group("fourier");
    group.sample_size(10);
    let single = gabor(GaborOrientations::Single { theta_deg: 30.0 }, Dimensionality::ThreeD);
    group.bench_function("gabor_axial_one_theta", |b| b.iter(|| single.apply(image.view(), SPACING).unwrap()));
    let pooled = gabor(GaborOrientations::Pooled { step_deg: 22.5 }, Dimensionality::ThreeD);
    group.bench_function("gabor_3_planes_dtheta_22.5", |b| b.iter(|| pooled.apply(image.view(), SPACING).unwrap()));
    let slice = block((160, 160, 1));
    let kernel = single.kernel(30.0, [1.0, 1.0]);
    let slice_2d = slice.index_axis(ndarray::Axis(2), 0).to_owned();
    group.bench_function("gabor_slice_fft", |b| b.iter(|| single.apply(slice.view(), SPACING).unwrap()));
    group.bench_function("gabor_slice_spatial", |b| b.iter(|| spatial_modulus(&slice_2d, &kernel)));
    group.finish();
}

fn spectral_benches(c: &mut Criterion, image: &Array3<f64>) {
    let mut group = c.benchmark_group("fourier");
    group.sample_size(10);
    for (level, boundary) in [(1, Boundary::Periodic), (1, Boundary::Mirror), (2, Boundary::Mirror)] {
        let f = SimoncelliWavelet::new(level, Dimensionality::ThreeD, boundary).unwrap();
        let name = format!("simoncelli_l{level}_{}", boundary.name());
        group.bench_function(name, |b| b.iter(|| f.apply(image.view(), SPACING).unwrap()));
    }
    let log = LaplacianOfGaussian::new(3.0, 4.0, Dimensionality::ThreeD, Boundary::Mirror).unwrap();
    let riesz_log = RieszTransform::new(Box::new(log), &[0, 2, 0], Boundary::Mirror).unwrap();
    group.bench_function("riesz_log_sigma_3mm_020", |b| b.iter(|| riesz_log.apply(image.view(), SPACING).unwrap()));
    let log = LaplacianOfGaussian::new(3.0, 4.0, Dimensionality::ThreeD, Boundary::Mirror).unwrap();
    let aligned = RieszTransform::new(Box::new(log), &[2, 0, 0], Boundary::Mirror).unwrap().aligned(2.0).unwrap();
    group.bench_function("riesz_log_sigma_3mm_200_aligned_2mm", |b| {
        b.iter(|| aligned.apply(image.view(), SPACING).unwrap())
    });
    let wavelet = SimoncelliWavelet::new(1, Dimensionality::ThreeD, Boundary::Nearest).unwrap();
    let riesz_s = RieszTransform::new(wavelet, &[0, 2, 0], Boundary::Nearest).unwrap();
    group.bench_function("riesz_simoncelli_l1_020", |b| b.iter(|| riesz_s.apply(image.view(), SPACING).unwrap()));
    group.finish();
}

fn benches(c: &mut Criterion) {
    let image = block((160, 160, 90));
    gabor_benches(c, &image);
    spectral_benches(c, &image);
}

criterion_group!(fourier, benches);
criterion_main!(fourier);
