//! The separable filters refuse bad settings with an error naming the setting as the user
//! writes it, and refuse an image their support does not fit in.

use radx_filters::custom::SeparableKernelFilter;
use radx_filters::laws::LawsFilter;
use radx_filters::log::{DEFAULT_TRUNCATE, LaplacianOfGaussian};
use radx_filters::mean::MeanFilter;
use radx_filters::rotation::Pooling;
use radx_filters::wavelet::SeparableWavelet;
use radx_filters::{Boundary, Dimensionality, Filter, FilterError};

/// Assert the error names `setting` (as `` `setting` ``) and mentions every word of `also`.
fn names(result: Result<impl std::fmt::Debug, FilterError>, setting: &str, also: &[&str]) {
    let message = result.expect_err("the setting is refused").to_string();
    assert!(message.contains(&format!("`{setting}`")), "{message}");
    for word in also {
        assert!(message.contains(word), "{message} lacks {word}");
    }
}

const D3: Dimensionality = Dimensionality::ThreeD;
const ZERO: Boundary = Boundary::Zero;

#[test]
fn log_refuses_a_sigma_that_is_not_positive_and_finite() {
    names(LaplacianOfGaussian::new(0.0, DEFAULT_TRUNCATE, D3, ZERO), "sigma_mm", &["> 0"]);
    names(LaplacianOfGaussian::new(-1.5, DEFAULT_TRUNCATE, D3, ZERO), "sigma_mm", &["-1.5"]);
    names(LaplacianOfGaussian::new(f64::NAN, DEFAULT_TRUNCATE, D3, ZERO), "sigma_mm", &["NaN"]);
    names(LaplacianOfGaussian::new(1.5, 0.0, D3, ZERO), "truncate", &[]);
}

#[test]
fn mean_refuses_an_even_or_empty_support() {
    names(MeanFilter::new(4, D3, ZERO), "support", &["odd", "4"]);
    names(MeanFilter::new(0, D3, ZERO), "support", &["odd"]);
}

#[test]
fn laws_refuses_unknown_letters_and_wrong_lengths() {
    names(LawsFilter::new("X5L5", None, None, ZERO), "kernel", &["X5", "L5", "R5"]);
    names(LawsFilter::new("E5L5S", None, None, ZERO), "kernel", &["E5L5S"]);
    names(LawsFilter::new("E5", None, None, ZERO), "kernel", &["E5L5S5"]);
}

#[test]
fn wavelets_refuse_unknown_names_sub_bands_and_level_zero() {
    let wavelet = |name: &str, subband: &str, level| SeparableWavelet::new(name, subband, level, None, false, ZERO);
    names(wavelet("db99", "LHL", 1), "wavelet", &["db99", "coif"]);
    names(wavelet("foo", "LHL", 1), "wavelet", &["foo"]);
    names(wavelet("sym1", "LHL", 1), "wavelet", &["sym1"]);
    names(wavelet("db2", "LXL", 1), "subband", &["LXL"]);
    names(wavelet("db2", "LHLH", 1), "subband", &[]);
    names(wavelet("db2", "LHL", 0), "level", &["0"]);
    names(wavelet("db2", "LHL", 99), "level", &["99"]);
}

#[test]
fn custom_kernels_refuse_non_finite_even_or_empty_taps_and_odd_names() {
    let custom = |name: &str, kernels: Vec<Vec<f64>>| SeparableKernelFilter::new(name, kernels, None, None, ZERO);
    names(custom("k", vec![vec![1.0, f64::NAN, 1.0], vec![1.0]]), "taps", &["NaN"]);
    names(custom("k", vec![vec![1.0], vec![f64::INFINITY]]), "taps", &["inf"]);
    names(custom("k", vec![vec![1.0, 1.0], vec![1.0]]), "taps", &["2 taps", "odd"]);
    names(custom("k", vec![vec![], vec![1.0]]), "taps", &["0 taps"]);
    names(custom("k", vec![vec![1.0]]), "kernels", &["1 kernels"]);
    names(custom("Edge-X", vec![vec![1.0], vec![1.0]]), "name", &["Edge-X"]);
    names(custom("", vec![vec![1.0], vec![1.0]]), "name", &[]);
}

#[test]
fn a_support_larger_than_the_image_is_refused() {
    let mean = MeanFilter::new(15, D3, Boundary::Mirror).unwrap();
    let err = mean.check_fits([64, 64, 10], [1.0; 3]).unwrap_err();
    assert!(matches!(err, FilterError::SupportTooLarge { support: 15, size: 10, axis: 2, .. }), "{err}");
    assert!(err.to_string().contains("mean_support15"), "{err}");
    // Slice-wise filters never read along k: one slice is enough.
    let slice_wise = LawsFilter::new("L5E5", Some(Pooling::Max), Some(7), Boundary::Mirror).unwrap();
    slice_wise.check_fits([64, 64, 1], [1.0; 3]).unwrap();
    let err = slice_wise.check_fits([64, 12, 1], [1.0; 3]).unwrap_err();
    assert!(matches!(err, FilterError::SupportTooLarge { support: 19, axis: 1, .. }), "{err}");
    let log = LaplacianOfGaussian::new(5.0, DEFAULT_TRUNCATE, D3, ZERO).unwrap();
    assert!(log.check_fits([64, 64, 64], [2.0; 3]).is_ok());
    assert!(log.check_fits([64, 64, 20], [2.0; 3]).is_err());
}
