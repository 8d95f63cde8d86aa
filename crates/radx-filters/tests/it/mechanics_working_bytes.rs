//! Each filter's working memory (`Filter::working_bytes`, what the engine's memory model
//! charges a filter stage), counted by hand from what `apply` holds at its peak.

use radx_filters::gabor::{GaborFilter, GaborOrientations};
use radx_filters::laws::LawsFilter;
use radx_filters::log::{DEFAULT_TRUNCATE, LaplacianOfGaussian};
use radx_filters::mean::MeanFilter;
use radx_filters::riesz::RieszTransform;
use radx_filters::rotation::Pooling;
use radx_filters::wavelet::SeparableWavelet;
use radx_filters::{Boundary, Dimensionality, Filter};

/// A 10 × 12 × 5 image: 600 voxels, 4800 bytes an `f64` volume.
const DIMS: [usize; 3] = [10, 12, 5];
const VOLUME: u64 = 4800;

/// Laws L5E5E5, rotation-invariant (24 orientations), energy: while pooling, the pooled map,
/// the three cached passes of the last orientation and the copy returned — five volumes
/// (the energy map's mean filter needs only three, after the cache is gone).
/// L5E5 slice-wise without rotation: the first axis's output and the second's.
#[test]
fn laws_holds_five_volumes_when_rotated_in_3d_and_two_otherwise() {
    let rotated = LawsFilter::new("L5E5E5", Some(Pooling::Max), Some(7), Boundary::Mirror).unwrap();
    assert_eq!(rotated.working_bytes(DIMS, [1.0; 3]), 5 * VOLUME);
    let plain = LawsFilter::new("L5E5", None, None, Boundary::Mirror).unwrap();
    assert_eq!(plain.working_bytes(DIMS, [1.0; 3]), 2 * VOLUME);
    // The energy map's two passes beside the response.
    let energy = LawsFilter::new("L5E5", None, Some(2), Boundary::Mirror).unwrap();
    assert_eq!(energy.working_bytes(DIMS, [1.0; 3]), 3 * VOLUME);
}

/// The LoG keeps the smoothed image and the sum of terms, and while an axis runs the
/// derived term and the next pass: four volumes, in 2-D as in 3-D. The mean filter's
/// separable passes: the previous output and the next.
#[test]
fn log_holds_four_volumes_and_the_mean_filter_two() {
    for dimensionality in [Dimensionality::TwoD, Dimensionality::ThreeD] {
        let log = LaplacianOfGaussian::new(1.5, DEFAULT_TRUNCATE, dimensionality, Boundary::Mirror).unwrap();
        assert_eq!(log.working_bytes(DIMS, [1.0; 3]), 4 * VOLUME);
        let mean = MeanFilter::new(5, dimensionality, Boundary::Mirror).unwrap();
        assert_eq!(mean.working_bytes(DIMS, [1.0; 3]), 2 * VOLUME);
    }
}

/// A level-2 wavelet's cascades have two kernels, so an axis holds its last output and the
/// next: three volumes with the previous axis's, five when rotated (pooled, two cached
/// passes, the running axis's two). Level 1: two, and five rotated (the cache's three and
/// its copy beside the pooled map).
#[test]
fn wavelets_count_their_cascades() {
    let wavelet = |level, rotation| SeparableWavelet::new("db3", "HHH", level, rotation, false, Boundary::Mirror);
    assert_eq!(wavelet(2, None).unwrap().working_bytes(DIMS, [1.0; 3]), 3 * VOLUME);
    assert_eq!(wavelet(2, Some(Pooling::Mean)).unwrap().working_bytes(DIMS, [1.0; 3]), 5 * VOLUME);
    assert_eq!(wavelet(1, None).unwrap().working_bytes(DIMS, [1.0; 3]), 2 * VOLUME);
    assert_eq!(wavelet(1, Some(Pooling::Mean)).unwrap().working_bytes(DIMS, [1.0; 3]), 5 * VOLUME);
}

/// Gabor, one orientation, slice-wise, σ = 1 mm, γ = 1 at 1 mm: radius ⌈6σ⌉ = 6, so the
/// padded plane is fast_length(10 + 12) × fast_length(12 + 12) = 24 × 24 complex values
/// (9216 bytes): the transfer function, and three planes per thread (two threads here),
/// beside the response.
#[test]
fn gabor_holds_its_transfers_and_three_planes_per_thread() {
    let gabor = GaborFilter::new(
        1.0,
        2.0,
        1.0,
        GaborOrientations::Single { theta_deg: 0.0 },
        Dimensionality::TwoD,
        Boundary::Mirror,
    )
    .unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let bytes = pool.install(|| gabor.working_bytes(DIMS, [1.0; 3]));
    assert_eq!(bytes, VOLUME + 24 * 24 * 16 * (1 + 2 * 3));
}

/// The Riesz transform of a LoG (σ = 1 mm, radius 4 at 1 mm) pads the image by 4 voxels
/// (mirror): a 18 × 20 × 13 grid (4680 voxels). Computing the spectrum holds the complex
/// grid (16 bytes a voxel), its real part (8) and the LoG's four volumes on it (32).
#[test]
fn riesz_of_a_log_holds_the_padded_spectrum_and_the_log_on_it() {
    let log = LaplacianOfGaussian::new(1.0, DEFAULT_TRUNCATE, Dimensionality::ThreeD, Boundary::Mirror).unwrap();
    let riesz = RieszTransform::new(Box::new(log), &[1, 0, 0], Boundary::Mirror).unwrap();
    assert_eq!(riesz.working_bytes(DIMS, [1.0; 3]), 18 * 20 * 13 * (16 + 8 + 32));
}
