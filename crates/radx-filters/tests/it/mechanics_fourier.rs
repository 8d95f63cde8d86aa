//! The Fourier-domain filters refuse bad settings with a [`FilterError`] naming the setting
//! as users write it, and accept images their truncated kernels are wider than.

use radx_filters::gabor::{GaborFilter, GaborOrientations};
use radx_filters::log::LaplacianOfGaussian;
use radx_filters::riesz::RieszTransform;
use radx_filters::simoncelli::SimoncelliWavelet;
use radx_filters::{Boundary, Dimensionality, Filter, FilterError, Margin};

const BAD_POSITIVE: [f64; 5] = [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

fn assert_names(result: Result<impl Sized, FilterError>, setting: &str) {
    let Err(err) = result else { panic!("`{setting}` should be refused") };
    assert!(matches!(&err, FilterError::InvalidSetting { setting: s, .. } if s == setting), "{err:?}");
    assert!(err.to_string().contains(&format!("`{setting}`")), "{err}");
}

fn gabor(sigma: f64, lambda: f64, gamma: f64, orientations: GaborOrientations) -> Result<GaborFilter, FilterError> {
    GaborFilter::new(sigma, lambda, gamma, orientations, Dimensionality::ThreeD, Boundary::Mirror)
}

const ONE: GaborOrientations = GaborOrientations::Single { theta_deg: 30.0 };

#[test]
fn gabor_refuses_non_positive_or_non_finite_scales() {
    for bad in BAD_POSITIVE {
        assert_names(gabor(bad, 4.0, 0.5, ONE), "sigma_mm");
        assert_names(gabor(10.0, bad, 0.5, ONE), "lambda_mm");
        assert_names(gabor(10.0, 4.0, bad, ONE), "gamma");
    }
}

#[test]
fn gabor_refuses_a_non_finite_angle_and_a_step_outside_1_to_360_degrees() {
    for bad in [f64::NAN, f64::INFINITY] {
        assert_names(gabor(10.0, 4.0, 0.5, GaborOrientations::Single { theta_deg: bad }), "theta_deg");
    }
    for bad in [0.0, -45.0, 0.5, 361.0, f64::NAN, f64::INFINITY] {
        assert_names(gabor(10.0, 4.0, 0.5, GaborOrientations::Pooled { step_deg: bad }), "orientation_step_deg");
    }
    assert!(gabor(10.0, 4.0, 0.5, GaborOrientations::Pooled { step_deg: 360.0 }).is_ok());
    assert!(gabor(10.0, 4.0, 0.5, GaborOrientations::Single { theta_deg: -400.0 }).is_ok());
}

#[test]
fn gabor_margins_follow_the_planes_and_the_boundary() {
    let f = gabor(10.0, 4.0, 0.5, ONE).unwrap();
    // R = ceil(6σ/min(1, γ)) = ceil(6 · 5 / 0.5) voxels at 2 mm.
    assert_eq!(f.margin([2.0, 2.0, 2.0]), Margin::Voxels([60, 60, 0]));
    let pooled = gabor(10.0, 4.0, 2.0, GaborOrientations::Pooled { step_deg: 45.0 }).unwrap();
    assert_eq!(pooled.margin([1.0, 2.0, 3.0]), Margin::Voxels([60, 30, 20]));
    let periodic = GaborFilter::new(10.0, 4.0, 0.5, ONE, Dimensionality::TwoD, Boundary::Periodic).unwrap();
    assert_eq!(periodic.margin([2.0; 3]), Margin::WholeImage);
    // The IBSI's own tests run R = 60 on 64 voxels: the check accepts it.
    assert!(f.check_fits([64, 64, 64], [2.0; 3]).is_ok());
}

#[test]
fn simoncelli_refuses_level_0() {
    assert_names(SimoncelliWavelet::new(0, Dimensionality::ThreeD, Boundary::Periodic), "level");
    let f = SimoncelliWavelet::new(1, Dimensionality::ThreeD, Boundary::Periodic).unwrap();
    assert_eq!(f.margin([1.0; 3]), Margin::WholeImage);
}

fn log() -> Box<dyn Filter> {
    Box::new(LaplacianOfGaussian::new(3.0, 4.0, Dimensionality::ThreeD, Boundary::Zero).unwrap())
}

#[test]
fn riesz_refuses_an_all_zero_order_a_wrong_length_and_a_huge_total() {
    for bad in [&[0, 0, 0][..], &[0, 0], &[1], &[1, 0, 0, 0], &[20, 20, 0]] {
        assert_names(RieszTransform::new(log(), bad, Boundary::Zero), "order");
    }
    let wavelet = SimoncelliWavelet::new(1, Dimensionality::ThreeD, Boundary::Nearest).unwrap();
    assert_names(RieszTransform::new(wavelet, &[0, 2], Boundary::Nearest), "order");
    assert_names(RieszTransform::new(wavelet, &[0, 0, 0], Boundary::Nearest), "order");
    // The wavelet pads by its own rule: a different Riesz boundary would be silently ignored.
    assert_names(RieszTransform::new(Box::new(wavelet), &[0, 2, 0], Boundary::Zero), "boundary");
    let err = RieszTransform::new(log(), &[0, 0, 0], Boundary::Zero).err().unwrap().to_string();
    assert!(err.contains("all zero"), "{err}");
}

#[test]
fn riesz_names_its_inner_filter_and_order() {
    let f = RieszTransform::new(log(), &[1, 0, 0], Boundary::Zero).unwrap();
    assert_eq!(f.image_type(), "riesz_log_sigma_3mm_order_100");
    assert_eq!(f.margin([2.0; 3]), Margin::WholeImage);
    let wavelet = SimoncelliWavelet::new(2, Dimensionality::TwoD, Boundary::Nearest).unwrap();
    let f = RieszTransform::new(wavelet, &[1, 1], Boundary::Nearest).unwrap();
    assert_eq!(f.image_type(), "riesz_simoncelli_l2_2d_order_11");
}

#[test]
fn the_aligned_riesz_refuses_a_non_positive_or_non_finite_scale() {
    for bad in BAD_POSITIVE {
        assert_names(RieszTransform::new(log(), &[2, 0, 0], Boundary::Zero).unwrap().aligned(bad), "align_sigma_mm");
        let wavelet = SimoncelliWavelet::new(1, Dimensionality::TwoD, Boundary::Nearest).unwrap();
        assert_names(RieszTransform::new(wavelet, &[0, 2], Boundary::Nearest).unwrap().aligned(bad), "align_sigma_mm");
    }
    let f = RieszTransform::new(log(), &[0, 2, 0], Boundary::Zero).unwrap().aligned(1.0).unwrap();
    assert_eq!(f.image_type(), "riesz_log_sigma_3mm_order_020_aligned_1mm");
    assert_eq!(f.margin([2.0; 3]), Margin::WholeImage);
}
