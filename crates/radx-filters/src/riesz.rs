//! Riesz transform (IBSI-2 AYRS) of another filter's response: a Fourier multiplier.
//!
//! For the order l = (l1, l2, l3) along (i, j, k), L = Σl, and ω in the FFT's sign convention:
//! `R_l(ω) = (−j)^L · √(L!/(l1!·l2!·l3!)) · ω_i^l1·ω_j^l2·ω_k^l3 / |ω|^L`, R(0) = 0; the
//! response is the real part. A 2-D order (l1, l2) is the same on each axial slice's grid.
//! (−j)^L matters even for even L: for L = 2 it is −1, and dropping it fails 9.b.1.
//!
//! Two ways to feed it ([`RieszInput`]), both reproducing the IBSI maps:
//! - any inner filter (the Laplacian of Gaussian of 9.a / 9.b.1): pad the image by the inner
//!   filter's margin (32 voxels if it has none) with the boundary, filter the padded image,
//!   multiply its spectrum by R_l on the exact DFT grid, crop. With zero padding by the LoG
//!   radius this is FILTERS.md's FFT(padded)·FFT(LoG)·R_l, because the padded image's
//!   circular and linear convolutions then agree.
//! - a Simoncelli wavelet: one multiplier H_ℓ·R_l on the wavelet's own padded centric grid
//!   (10.b.1: nearest padding of 32, FILTERS.md's best variant: 1.0e-3). Passed as a
//!   `Box<dyn Filter>` it would take the first way, padding twice with the two multipliers
//!   on different grids (3.8e-3), so a `SimoncelliWavelet` or `Box<SimoncelliWavelet>`
//!   converts to the second.
//!
//! The margin is the whole image: R_l is not a compact kernel. The "aligned" (steered)
//! variant has neither a definition we could read nor a reference map, so it is not here.

use ndarray::{Array3, ArrayView3, Axis};
use rustfft::FftDirection;
use rustfft::num_complex::Complex64;

use crate::error::FilterError;
use crate::fourier::{Padded, dft_frequencies, multiply, transform};
use crate::log::LaplacianOfGaussian;
use crate::simoncelli::SimoncelliWavelet;
use crate::{Boundary, Dimensionality, Filter, Margin};

/// The padding of a non-compact inner filter (one whose margin is the whole image).
pub const WHOLE_IMAGE_PAD: usize = 32;

/// The largest total order L accepted.
pub const MAX_ORDER: u32 = 32;

/// What a Riesz transform is applied to (module doc). `From` picks the variant: a
/// `SimoncelliWavelet` (or a box of one) is [`RieszInput::Simoncelli`], any other filter
/// [`RieszInput::Filter`].
pub enum RieszInput {
    /// Any filter, applied to the padded image.
    Filter(Box<dyn Filter>),
    /// The Simoncelli wavelet: one multiplier on its own grid.
    Simoncelli(SimoncelliWavelet),
}

impl From<Box<dyn Filter>> for RieszInput {
    fn from(filter: Box<dyn Filter>) -> Self {
        RieszInput::Filter(filter)
    }
}

impl From<Box<LaplacianOfGaussian>> for RieszInput {
    fn from(filter: Box<LaplacianOfGaussian>) -> Self {
        RieszInput::Filter(filter)
    }
}

impl From<SimoncelliWavelet> for RieszInput {
    fn from(wavelet: SimoncelliWavelet) -> Self {
        RieszInput::Simoncelli(wavelet)
    }
}

impl From<Box<SimoncelliWavelet>> for RieszInput {
    fn from(wavelet: Box<SimoncelliWavelet>) -> Self {
        RieszInput::Simoncelli(*wavelet)
    }
}

/// The Riesz transform of order `order` of an inner filter's response.
pub struct RieszTransform {
    inner: RieszInput,
    boundary: Boundary,
    order: [u32; 3],
    dimensionality: Dimensionality,
}

/// A 2-component order is slice-wise, a 3-component one volumetric; all zero is refused.
fn parse_order(order: &[u32]) -> Result<([u32; 3], Dimensionality), FilterError> {
    let dimensionality = match order.len() {
        2 => Dimensionality::TwoD,
        3 => Dimensionality::ThreeD,
        n => return Err(FilterError::invalid("order", format!("needs 2 (slice-wise) or 3 components, got {n}"))),
    };
    let total: u64 = order.iter().map(|&l| u64::from(l)).sum();
    if total == 0 {
        return Err(FilterError::invalid("order", "must not be all zero (that is no transform at all)"));
    }
    if total > u64::from(MAX_ORDER) {
        return Err(FilterError::invalid("order", format!("the total order must be at most {MAX_ORDER}, got {total}")));
    }
    Ok(([order[0], order[1], order.get(2).copied().unwrap_or(0)], dimensionality))
}

impl RieszTransform {
    /// The Riesz transform of `inner`'s response, padding the image by `boundary` (module
    /// doc). `order` has 2 components (slice-wise) or 3, not all zero. A Simoncelli wavelet
    /// pads by its own rule, so it needs its own boundary here and as many order components
    /// as it has dimensions.
    pub fn new(inner: impl Into<RieszInput>, order: &[u32], boundary: Boundary) -> Result<Self, FilterError> {
        let (order, dimensionality) = parse_order(order)?;
        let inner = inner.into();
        if let RieszInput::Simoncelli(wavelet) = &inner {
            let n = wavelet.dimensionality().axes().len();
            if dimensionality != wavelet.dimensionality() {
                return Err(FilterError::invalid(
                    "order",
                    format!("a {n}-D Simoncelli wavelet takes a {n}-component order"),
                ));
            }
            if boundary != wavelet.boundary() {
                return Err(FilterError::invalid(
                    "boundary",
                    format!(
                        "the Riesz transform of a Simoncelli wavelet pads like the wavelet ({})",
                        wavelet.boundary().name()
                    ),
                ));
            }
        }
        Ok(RieszTransform { inner, boundary, order, dimensionality })
    }

    /// R_l(ω) at ω (rad/voxel per axis; the components off the transform's axes are ignored).
    pub fn multiplier(&self, omega: [f64; 3]) -> Complex64 {
        let axes = self.dimensionality.axes();
        let norm = axes.iter().map(|&a| omega[a] * omega[a]).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Complex64::new(0.0, 0.0);
        }
        let total: u32 = self.order.iter().sum();
        let factorial = |n: u32| (1..=n).map(f64::from).product::<f64>();
        let weight = (factorial(total) / self.order.iter().map(|&l| factorial(l)).product::<f64>()).sqrt();
        let monomial: f64 = axes.iter().map(|&a| (omega[a] / norm).powi(self.order[a] as i32)).product();
        // (−j)^L cycles 1, −j, −1, j.
        let phase =
            [Complex64::new(1.0, 0.0), Complex64::new(0.0, -1.0), Complex64::new(-1.0, 0.0), Complex64::new(0.0, 1.0)];
        phase[(total % 4) as usize] * weight * monomial
    }

    /// The generic path: pad, inner filter, multiplier on the exact grid, crop.
    fn apply_padded(
        &self,
        filter: &dyn Filter,
        image: ArrayView3<'_, f64>,
        spacing: [f64; 3],
    ) -> Result<Array3<f64>, FilterError> {
        let axes = self.dimensionality.axes();
        let margin = match filter.margin(spacing) {
            Margin::Voxels(m) => m,
            Margin::WholeImage => [WHOLE_IMAGE_PAD; 3],
        };
        let widths =
            std::array::from_fn(
                |a| if axes.contains(&a) && self.boundary != Boundary::Periodic { margin[a] } else { 0 },
            );
        let mut padded = Padded::exact(image, widths, self.boundary);
        let response = filter.apply(padded.data.mapv(|v| v.re).view(), spacing)?;
        padded.data.zip_mut_with(&response, |c, &r| *c = Complex64::new(r, 0.0));
        let grid: Vec<Vec<f64>> = (0..3).map(|a| dft_frequencies(padded.data.len_of(Axis(a)))).collect();
        transform(&mut padded.data, axes, FftDirection::Forward);
        multiply(&mut padded.data, |[p, q, r]| self.multiplier([grid[0][p], grid[1][q], grid[2][r]]));
        transform(&mut padded.data, axes, FftDirection::Inverse);
        Ok(padded.crop(|v| v.re))
    }
}

impl Filter for RieszTransform {
    fn image_type(&self) -> String {
        let inner = match &self.inner {
            RieszInput::Filter(filter) => filter.image_type(),
            RieszInput::Simoncelli(wavelet) => wavelet.image_type(),
        };
        let components = self.dimensionality.axes().len();
        let order: String = self.order[..components].iter().map(|l| l.to_string()).collect();
        format!("riesz_{inner}_order_{order}")
    }

    /// The whole image: the multiplier is not a compact kernel.
    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        Margin::WholeImage
    }

    fn apply(&self, image: ArrayView3<'_, f64>, spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        if image.is_empty() {
            return Ok(Array3::zeros(image.raw_dim()));
        }
        match &self.inner {
            RieszInput::Filter(filter) => self.apply_padded(filter.as_ref(), image, spacing),
            RieszInput::Simoncelli(wavelet) => Ok(wavelet.apply_with(image, |omega| self.multiplier(omega))),
        }
    }

    /// The inner filter's own check (the multiplier fits any image).
    fn check_fits(&self, dims: [usize; 3], spacing: [f64; 3]) -> Result<(), FilterError> {
        match &self.inner {
            RieszInput::Filter(filter) => filter.check_fits(dims, spacing),
            RieszInput::Simoncelli(wavelet) => wavelet.check_fits(dims, spacing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn riesz(order: &[u32]) -> RieszTransform {
        let wavelet = SimoncelliWavelet::new(1, Dimensionality::ThreeD, Boundary::Nearest).unwrap();
        RieszTransform::new(wavelet, order, Boundary::Nearest).unwrap()
    }

    #[test]
    fn the_multiplier_carries_the_phase_and_the_multinomial_weight() {
        // First order along i: −j·ω_i/|ω|.
        assert_eq!(riesz(&[1, 0, 0]).multiplier([0.5, 0.0, 0.0]), Complex64::new(0.0, -1.0));
        // (1,1,0): (−j)² · √2 · ω_i·ω_j/|ω|² = −√2/2 on the diagonal.
        let m = riesz(&[1, 1, 0]).multiplier([1.0, 1.0, 0.0]);
        assert!((m - Complex64::new(-std::f64::consts::FRAC_1_SQRT_2, 0.0)).norm() < 1e-15);
        assert_eq!(riesz(&[0, 2, 0]).multiplier([0.0; 3]), Complex64::new(0.0, 0.0));
    }

    #[test]
    fn the_image_type_names_the_inner_filter_and_the_order() {
        assert_eq!(riesz(&[0, 2, 0]).image_type(), "riesz_simoncelli_l1_order_020");
    }
}
