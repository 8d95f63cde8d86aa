//! The aligned (steered) Riesz transform has no reference map: these properties define what
//! it must do. A plane wave's frame is its direction and its aligned even-order response is
//! ±the inner response (the multiplier is (−j)^L·(±1)^L there); responses turn with the
//! image under the cube's rotations and reflections; an image varying along one axis only
//! has a fixed frame, where the aligned component is a plain one.

use ndarray::{Array3, Axis};
use proptest::prelude::*;
use radx_filters::log::LaplacianOfGaussian;
use radx_filters::riesz::RieszTransform;
use radx_filters::simoncelli::SimoncelliWavelet;
use radx_filters::{Boundary, Dimensionality, Filter};

/// The worst |a − b| over 1 + max |b|.
fn relative_error(a: &Array3<f64>, b: &Array3<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    let scale = 1.0 + b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter().zip(b.iter()).fold(0.0f64, |m, (x, y)| m.max((x - y).abs())) / scale
}

fn log(sigma: f64, d: Dimensionality, b: Boundary) -> Box<LaplacianOfGaussian> {
    Box::new(LaplacianOfGaussian::new(sigma, 4.0, d, b).unwrap())
}

fn aligned(inner: Box<LaplacianOfGaussian>, order: &[u32], b: Boundary, sigma: f64) -> RieszTransform {
    RieszTransform::new(inner, order, b).unwrap().aligned(sigma).unwrap()
}

/// One of the cube's symmetries acting on an N³ image: swap two axes or reverse one.
#[derive(Debug, Clone, Copy)]
enum Symmetry {
    Swap(usize, usize),
    Reverse(usize),
}

fn turn(x: &Array3<f64>, s: Symmetry) -> Array3<f64> {
    let mut y = x.view();
    match s {
        Symmetry::Swap(a, b) => y.swap_axes(a, b),
        Symmetry::Reverse(a) => y.invert_axis(Axis(a)),
    }
    y.as_standard_layout().into_owned()
}

/// An odd N (no Nyquist bin, whose multiplier a reflection would not map onto itself) and
/// N³ values in [−100, 100].
fn cube() -> impl Strategy<Value = Array3<f64>> {
    prop::sample::select(vec![7usize, 9]).prop_flat_map(|n| {
        prop::collection::vec(-100.0f64..100.0, n * n * n)
            .prop_map(move |v| Array3::from_shape_vec((n, n, n), v).unwrap())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// f = cos(2π(a·x)/N + φ), periodic: g = LoG ∗ f is a plane wave too, its first-order
    /// Riesz components are ∝ a, so J(x) ∝ a·aᵀ and u1 = ±a/|a| at every voxel; at ±2πa/N
    /// the aligned (L, 0, 0) multiplier is (−j)^L = (−1)^(L/2) for even L.
    #[test]
    fn a_plane_wave_is_aligned_with_its_direction(
        a in prop::sample::select(vec![[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, -1, 0], [0, 2, -1],
                                       [1, 1, 1], [-1, 1, 2], [1, 2, 3], [2, -1, 1]]),
        phase in 0.0f64..6.3, half_order in 1u32..3, sigma in 0.5f64..3.0,
    ) {
        let n = 16;
        let norm = ((a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) as f64).sqrt();
        let x = Array3::from_shape_fn((n, n, n), |(i, j, k)| {
            let dot = (a[0] * i as i32 + a[1] * j as i32 + a[2] * k as i32) as f64;
            (2.0 * std::f64::consts::PI * dot / n as f64 + phase).cos()
        });
        let f = aligned(log(1.5, Dimensionality::ThreeD, Boundary::Periodic), &[2 * half_order, 0, 0], Boundary::Periodic, sigma);
        let frames = f.local_frames(x.view(), [1.0; 3], sigma).unwrap();
        for frame in frames.iter() {
            let cosine = (0..3).map(|c| frame[0][c] * a[c] as f64).sum::<f64>() / norm;
            prop_assert!((cosine.abs() - 1.0).abs() < 1e-9, "u1 {:?} for a {a:?}", frame[0]);
        }
        let inner = log(1.5, Dimensionality::ThreeD, Boundary::Periodic).apply(x.view(), [1.0; 3]).unwrap();
        let sign = if half_order % 2 == 0 { 1.0 } else { -1.0 };
        let y = f.apply(x.view(), [1.0; 3]).unwrap();
        prop_assert!(relative_error(&y, &inner.mapv(|v| sign * v)) < 1e-9);
    }

    /// Periodic, isotropic, odd N: the response of a turned image is the turned response,
    /// for orders whose every component is even (the eigenvectors' signs do not matter).
    #[test]
    fn aligned_responses_turn_with_the_image(
        x in cube(), slice_wise in any::<bool>(), simoncelli in any::<bool>(), s in any::<prop::sample::Index>(),
        order in any::<prop::sample::Index>(),
    ) {
        let d = if slice_wise { Dimensionality::TwoD } else { Dimensionality::ThreeD };
        let orders: Vec<Vec<u32>> = match slice_wise {
            true => vec![vec![2, 0], vec![0, 2], vec![2, 2]],
            false => vec![vec![2, 0, 0], vec![0, 2, 0], vec![0, 0, 2], vec![2, 2, 0], vec![0, 2, 2]],
        };
        let order = &orders[order.index(orders.len())];
        let b = Boundary::Periodic;
        let riesz = if simoncelli {
            RieszTransform::new(SimoncelliWavelet::new(1, d, b).unwrap(), order, b).unwrap()
        } else {
            RieszTransform::new(log(1.0, d, b), order, b).unwrap()
        };
        let f = riesz.aligned(1.5).unwrap();
        let symmetries = if slice_wise { 3 } else { 6 };
        let s = [Symmetry::Swap(0, 1), Symmetry::Reverse(0), Symmetry::Reverse(1), Symmetry::Swap(1, 2),
                 Symmetry::Swap(0, 2), Symmetry::Reverse(2)][s.index(symmetries)];
        let turned_first = f.apply(turn(&x, s).view(), [1.0; 3]).unwrap();
        let turned_after = turn(&f.apply(x.view(), [1.0; 3]).unwrap(), s);
        prop_assert!(relative_error(&turned_first, &turned_after) < 1e-8, "{s:?}");
    }

    /// An image varying along axis `a` only: its Riesz vector is along e_a (the others are
    /// exactly 0), J = diag with one non-zero entry, so u1 = e_a and the aligned order
    /// (L, 0, 0) is the plain order L along a, for every boundary whose padding keeps the
    /// image constant across a (not zero). The Simoncelli grid has a zero bin on odd padded
    /// lengths only, hence odd sizes.
    #[test]
    fn a_fixed_frame_gives_the_plain_component(
        profile in (3usize..6).prop_flat_map(|h| prop::collection::vec(-100.0f64..100.0, 2 * h + 1)),
        a in 0usize..3, total in 1u32..4,
        b in prop::sample::select(vec![Boundary::Nearest, Boundary::Periodic, Boundary::Mirror]), simoncelli in any::<bool>(), sigma in 0.5f64..2.0,
    ) {
        let mut dims = [5, 5, 5];
        dims[a] = profile.len();
        let x = Array3::from_shape_fn(dims, |at| profile[[at.0, at.1, at.2][a]]);
        let mut along = [0; 3];
        along[a] = total;
        let build = |order: &[u32]| match simoncelli {
            true => RieszTransform::new(SimoncelliWavelet::new(1, Dimensionality::ThreeD, b).unwrap(), order, b).unwrap(),
            false => RieszTransform::new(log(1.0, Dimensionality::ThreeD, b), order, b).unwrap(),
        };
        let plain = build(&along).apply(x.view(), [1.0; 3]).unwrap();
        let steered = build(&[total, 0, 0]).aligned(sigma).unwrap().apply(x.view(), [1.0; 3]).unwrap();
        prop_assert!(relative_error(&steered, &plain) < 1e-10);
    }
}

#[test]
fn the_aligned_variant_names_its_scale_and_keeps_the_plain_one_unchanged() {
    let x = Array3::from_shape_fn((9, 8, 7), |(i, j, k)| ((i * 31 + j * 17 + k * 7) % 23) as f64);
    let plain =
        RieszTransform::new(log(1.0, Dimensionality::ThreeD, Boundary::Mirror), &[2, 0, 0], Boundary::Mirror).unwrap();
    assert_eq!(plain.image_type(), "riesz_log_sigma_1mm_order_200");
    let steered = aligned(log(1.0, Dimensionality::ThreeD, Boundary::Mirror), &[2, 0, 0], Boundary::Mirror, 1.5);
    assert_eq!(steered.image_type(), "riesz_log_sigma_1mm_order_200_aligned_1.5mm");
    let (p, s) = (plain.apply(x.view(), [1.0; 3]).unwrap(), steered.apply(x.view(), [1.0; 3]).unwrap());
    assert!(s.iter().all(|v| v.is_finite()));
    assert!(relative_error(&p, &s) > 1e-3, "a textured image's frames are not the axes");
}

/// Voxel-parallel sums in a fixed order: the same bits at any thread count.
#[test]
fn aligned_results_have_the_same_bits_for_any_thread_count() {
    let x = Array3::from_shape_fn((12, 10, 9), |(i, j, k)| ((i * 31 + j * 17 + k * 7) % 23) as f64);
    let f = aligned(log(1.0, Dimensionality::ThreeD, Boundary::Nearest), &[1, 1, 0], Boundary::Nearest, 1.0);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| f.apply(x.view(), [1.0; 3]).unwrap())
    };
    let (one, three) = (run(1), run(3));
    assert!(one.iter().zip(three.iter()).all(|(p, q)| p.to_bits() == q.to_bits()));
}
