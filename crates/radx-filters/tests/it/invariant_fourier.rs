//! Properties of the Fourier-domain filters (Gabor, Simoncelli, Riesz) that hold for any
//! image: they stand in for reference maps where the IBSI published none (Riesz orders and
//! boundaries beyond 9.a, 9.b.1, 10.b.1) and catch a wrong sign, grid or padding.
//! Volumes stay ≤ 16³ and cases few, so the suite stays fast in debug builds.

use ndarray::{Array3, Axis, Slice};
use proptest::prelude::*;
use radx_filters::gabor::{GaborFilter, GaborOrientations};
use radx_filters::log::LaplacianOfGaussian;
use radx_filters::riesz::RieszTransform;
use radx_filters::simoncelli::SimoncelliWavelet;
use radx_filters::{Boundary, Dimensionality, Filter, Margin};

const BOUNDARIES: [Boundary; 4] = [Boundary::Zero, Boundary::Nearest, Boundary::Periodic, Boundary::Mirror];

/// A volume of `lo..=hi` voxels per axis with values in [−100, 100].
fn volume(lo: usize, hi: usize) -> impl Strategy<Value = Array3<f64>> {
    (lo..=hi, lo..=hi, lo..=hi).prop_flat_map(|(a, b, c)| {
        prop::collection::vec(-100.0f64..100.0, a * b * c)
            .prop_map(move |values| Array3::from_shape_vec((a, b, c), values).unwrap())
    })
}

/// |a − b| ≤ tol·(1 + max |b|) at every voxel.
fn assert_close(a: &Array3<f64>, b: &Array3<f64>, tol: f64) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.dim(), b.dim());
    let scale = 1.0 + b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = a.iter().zip(b.iter()).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    prop_assert!(worst <= tol * scale, "max |diff| {worst:e} over {tol:e} × {scale}");
    Ok(())
}

fn gabor(orientations: GaborOrientations, dimensionality: Dimensionality, boundary: Boundary) -> GaborFilter {
    GaborFilter::new(1.5, 3.0, 0.8, orientations, dimensionality, boundary).unwrap()
}

fn orientations() -> impl Strategy<Value = GaborOrientations> {
    prop_oneof![
        (-360.0f64..360.0).prop_map(|theta_deg| GaborOrientations::Single { theta_deg }),
        prop::sample::select(vec![45.0, 60.0, 100.0]).prop_map(|step_deg| GaborOrientations::Pooled { step_deg }),
    ]
}

fn dimensionality() -> impl Strategy<Value = Dimensionality> {
    prop::sample::select(vec![Dimensionality::TwoD, Dimensionality::ThreeD])
}

/// `image` restricted to `lo[a]..hi[a]` along each axis.
fn sub_box(image: &Array3<f64>, lo: [usize; 3], hi: [usize; 3]) -> Array3<f64> {
    image.slice_each_axis(|ax| Slice::from(lo[ax.axis.index()]..hi[ax.axis.index()])).to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// The modulus is not linear, but it is positively homogeneous: |g ∗ (a·x)| = |a|·|g ∗ x|.
    #[test]
    fn gabor_is_homogeneous(x in volume(2, 9), a in -3.0f64..3.0, o in orientations(), d in dimensionality(),
                            b in prop::sample::select(BOUNDARIES.to_vec())) {
        let f = gabor(o, d, b);
        let y = f.apply(x.view(), [1.0, 1.2, 1.5]).unwrap();
        let ya = f.apply(x.mapv(|v| a * v).view(), [1.0, 1.2, 1.5]).unwrap();
        assert_close(&ya, &y.mapv(|v| a.abs() * v), 1e-10)?;
    }

    /// A constant c under nearest or mirror stays constant past the edges, so every voxel's
    /// response is |Σ kernel|·c (the mean of those over θ when pooled).
    #[test]
    fn gabor_of_a_constant_is_the_kernel_sum(dims in (1usize..8, 1usize..8, 1usize..4), c in 1.0f64..50.0,
                                             theta in 0.0f64..360.0, step in prop::sample::select(vec![30.0, 45.0]),
                                             mirror in any::<bool>()) {
        let b = if mirror { Boundary::Mirror } else { Boundary::Nearest };
        let spacing = [0.8, 1.1, 2.0];
        let image = Array3::from_elem(dims, c);
        let sum_at = |f: &GaborFilter, t: f64| f.kernel(t, [spacing[0], spacing[1]]).sum().norm();
        let single = gabor(GaborOrientations::Single { theta_deg: theta }, Dimensionality::ThreeD, b);
        let y = single.apply(image.view(), spacing).unwrap();
        assert_close(&y, &Array3::from_elem(dims, c * sum_at(&single, theta)), 1e-10)?;
        let pooled = gabor(GaborOrientations::Pooled { step_deg: step }, Dimensionality::TwoD, b);
        let n = (360.0 / step) as usize;
        let mean = (0..n).map(|k| sum_at(&pooled, k as f64 * step)).sum::<f64>() / n as f64;
        let y = pooled.apply(image.view(), spacing).unwrap();
        assert_close(&y, &Array3::from_elem(dims, c * mean), 1e-10)?;
    }

    /// Filtering the ROI box grown by the margin (clipped to the image) gives, inside the
    /// box, the whole image's response: what lets the engine crop before filtering.
    #[test]
    fn gabor_response_in_a_box_needs_only_the_margin_around_it(
        x in volume(6, 16), corners in prop::array::uniform3((0.0f64..1.0, 0.0f64..1.0)),
        o in orientations(), d in dimensionality(),
        b in prop::sample::select(vec![Boundary::Zero, Boundary::Nearest, Boundary::Mirror])) {
        let f = GaborFilter::new(1.0, 2.0, 1.0, o, d, b).unwrap();
        let Margin::Voxels(m) = f.margin([1.0; 3]) else { panic!("compact under {b:?}") };
        let dims = [x.dim().0, x.dim().1, x.dim().2];
        let lo: [usize; 3] = std::array::from_fn(|a| (corners[a].0.min(corners[a].1) * dims[a] as f64) as usize);
        let hi: [usize; 3] = std::array::from_fn(|a| ((corners[a].0.max(corners[a].1) * dims[a] as f64) as usize).max(lo[a] + 1).min(dims[a]));
        let (glo, ghi): ([usize; 3], [usize; 3]) = (std::array::from_fn(|a| lo[a].saturating_sub(m[a])), std::array::from_fn(|a| (hi[a] + m[a]).min(dims[a])));
        let whole = f.apply(x.view(), [1.0; 3]).unwrap();
        let cropped = f.apply(sub_box(&x, glo, ghi).view(), [1.0; 3]).unwrap();
        let inner_lo = std::array::from_fn(|a| lo[a] - glo[a]);
        let inner_hi = std::array::from_fn(|a| hi[a] - glo[a]);
        assert_close(&sub_box(&cropped, inner_lo, inner_hi), &sub_box(&whole, lo, hi), 1e-10)?;
    }

    #[test]
    fn simoncelli_is_linear(x in volume(2, 8), level in 1u32..4, d in dimensionality(),
                            b in prop::sample::select(BOUNDARIES.to_vec()), (p, q) in (-3.0f64..3.0, -3.0f64..3.0)) {
        let f = SimoncelliWavelet::new(level, d, b).unwrap();
        let y = x.mapv(|v| (v * 0.37).sin() * 50.0);
        let combined = f.apply((&x * p + &y * q).view(), [1.0; 3]).unwrap();
        let separate = f.apply(x.view(), [1.0; 3]).unwrap() * p + f.apply(y.view(), [1.0; 3]).unwrap() * q;
        assert_close(&combined, &separate, 1e-10)?;
    }

    /// Zero DC gain. The padding (≥ 32) keeps the centric grid's lowest bin out of the band;
    /// periodic on a small even axis would not (ρ = √3·π/(N−1) ≥ π/4 for N ≤ 7).
    #[test]
    fn simoncelli_of_a_constant_is_zero(dims in (1usize..8, 1usize..8, 1usize..8), c in -100.0f64..100.0,
                                        level in 1u32..4, d in dimensionality(), mirror in any::<bool>()) {
        let b = if mirror { Boundary::Mirror } else { Boundary::Nearest };
        let y = SimoncelliWavelet::new(level, d, b).unwrap().apply(Array3::from_elem(dims, c).view(), [1.0; 3]).unwrap();
        assert_close(&y, &Array3::zeros(dims), 1e-12)?;
    }

    #[test]
    fn riesz_is_linear(x in volume(2, 8), l in (0u32..3, 0u32..3, 1u32..3), b in prop::sample::select(BOUNDARIES.to_vec()),
                       (p, q) in (-3.0f64..3.0, -3.0f64..3.0)) {
        let log = LaplacianOfGaussian::new(1.0, 4.0, Dimensionality::ThreeD, b).unwrap();
        let f = RieszTransform::new(Box::new(log), &[l.0, l.1, l.2], b).unwrap();
        let y = x.mapv(|v| (v * 0.37).cos() * 50.0);
        let combined = f.apply((&x * p + &y * q).view(), [1.0; 3]).unwrap();
        let separate = f.apply(x.view(), [1.0; 3]).unwrap() * p + f.apply(y.view(), [1.0; 3]).unwrap() * q;
        assert_close(&combined, &separate, 1e-10)?;
    }

    /// Σ_d R_(2·e_d) has the multiplier (−j)²·Σ ω_d²/|ω|² = −1 off ω = 0: the sum of the
    /// second-order components is minus the inner response without its mean (periodic: no
    /// padding, so the FFT grid is the image's). Per slice for a 2-D order.
    #[test]
    fn second_order_riesz_components_sum_to_minus_the_inner_response(x in volume(2, 10), d in dimensionality()) {
        let log = || LaplacianOfGaussian::new(1.5, 4.0, d, Boundary::Periodic).unwrap();
        let axes = d.axes().len();
        let mut sum = Array3::<f64>::zeros(x.raw_dim());
        for a in 0..axes {
            let mut order = vec![0; axes];
            order[a] = 2;
            sum += &RieszTransform::new(Box::new(log()), &order, Boundary::Periodic).unwrap().apply(x.view(), [1.0; 3]).unwrap();
        }
        let mut expected = log().apply(x.view(), [1.0; 3]).unwrap();
        if d == Dimensionality::TwoD {
            for mut slice in expected.axis_iter_mut(Axis(2)) {
                let mean = slice.mean().unwrap();
                slice.mapv_inplace(|v| mean - v);
            }
        } else {
            let mean = expected.mean().unwrap();
            expected.mapv_inplace(|v| mean - v);
        }
        assert_close(&sum, &expected, 1e-10)?;
    }

    /// The same identity for the Simoncelli wavelet on its own padded grid, whose band
    /// excludes ω = 0: the components sum to minus the wavelet's response.
    #[test]
    fn second_order_riesz_of_simoncelli_sums_to_minus_the_wavelet(x in volume(2, 8), level in 1u32..3,
                                                                  b in prop::sample::select(BOUNDARIES.to_vec())) {
        let wavelet = SimoncelliWavelet::new(level, Dimensionality::ThreeD, b).unwrap();
        let mut sum = Array3::<f64>::zeros(x.raw_dim());
        for order in [[2, 0, 0], [0, 2, 0], [0, 0, 2]] {
            sum += &RieszTransform::new(wavelet, &order, b).unwrap().apply(x.view(), [1.0; 3]).unwrap();
        }
        let expected = wavelet.apply(x.view(), [1.0; 3]).unwrap().mapv(|v| -v);
        assert_close(&sum, &expected, 1e-10)?;
    }

    /// A first-order Riesz transform is odd: an image symmetric about the origin
    /// (x[−n] = x[n], indices mod N) gives an antisymmetric response (y[−n] = −y[n]).
    #[test]
    fn first_order_riesz_turns_an_even_image_into_an_odd_response(v in volume(2, 9), axis in 0usize..3) {
        let (a, b, c) = v.dim();
        let x = Array3::from_shape_fn((a, b, c), |(i, j, k)| v[[i, j, k]] + v[[(a - i) % a, (b - j) % b, (c - k) % c]]);
        let log = LaplacianOfGaussian::new(1.0, 4.0, Dimensionality::ThreeD, Boundary::Periodic).unwrap();
        let mut order = [0; 3];
        order[axis] = 1;
        let y = RieszTransform::new(Box::new(log), &order, Boundary::Periodic).unwrap().apply(x.view(), [1.0; 3]).unwrap();
        let mirrored = Array3::from_shape_fn((a, b, c), |(i, j, k)| -y[[(a - i) % a, (b - j) % b, (c - k) % c]]);
        assert_close(&y, &mirrored, 1e-10)?;
    }
}

/// Every line's FFT is independent and sums run in a fixed order, so the number of threads
/// cannot change a bit of the result.
#[test]
fn results_have_the_same_bits_for_any_thread_count() {
    let x = Array3::from_shape_fn((12, 10, 9), |(i, j, k)| ((i * 31 + j * 17 + k * 7) % 23) as f64);
    let filters: Vec<Box<dyn Filter>> = vec![
        Box::new(gabor(GaborOrientations::Pooled { step_deg: 45.0 }, Dimensionality::ThreeD, Boundary::Mirror)),
        Box::new(SimoncelliWavelet::new(2, Dimensionality::ThreeD, Boundary::Nearest).unwrap()),
        Box::new(
            RieszTransform::new(
                SimoncelliWavelet::new(1, Dimensionality::TwoD, Boundary::Zero).unwrap(),
                &[1, 1],
                Boundary::Zero,
            )
            .unwrap(),
        ),
    ];
    for f in &filters {
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| f.apply(x.view(), [1.0; 3]).unwrap())
        };
        let (one, three) = (run(1), run(3));
        assert!(one.iter().zip(three.iter()).all(|(p, q)| p.to_bits() == q.to_bits()), "{}", f.image_type());
    }
}
