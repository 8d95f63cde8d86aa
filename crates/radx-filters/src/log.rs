//! The Laplacian of Gaussian (IBSI-2 L6PA), computed as separable 1-D passes.
//!
//! With g(t) = (2πσ²)^(−1/2)·exp(−t²/2σ²) sampled at integer offsets (σ in voxels, no
//! renormalisation) and g'' its second derivative, the IBSI kernel
//! −(1/σ²)(2πσ²)^(−D/2)(D − |k|²/σ²)exp(−|k|²/2σ²) equals Σ_d g''(k_d)·Π_{e≠d} g(k_e)
//! exactly (FILTERS.md §2). Each axis uses its own σ_vox = σ_mm / spacing and its own radius
//! R = floor(truncate·σ_vox + 0.5); with anisotropic spacing each term is the second
//! derivative along its axis in voxel units. The D terms share their passes: sweeping the
//! axes one by one we keep S (smoothed along every axis swept so far) and T (the sum of the
//! terms with one g'' among them), so 3-D needs 7 passes instead of 9.

use ndarray::{Array3, ArrayView3, Zip};

use crate::error::{FilterError, require_positive};
use crate::separable::{Kernel1d, convolve_axis};
use crate::{Boundary, Dimensionality, Filter, Margin};

/// The truncation IBSI-2 uses: the kernel reaches 4σ (rounded to the nearest voxel).
pub const DEFAULT_TRUNCATE: f64 = 4.0;

/// The Laplacian of a Gaussian of scale `sigma_mm`.
#[derive(Debug, Clone, PartialEq)]
pub struct LaplacianOfGaussian {
    sigma_mm: f64,
    truncate: f64,
    dimensionality: Dimensionality,
    boundary: Boundary,
}

impl LaplacianOfGaussian {
    /// σ in mm (> 0) and the truncation in σ ([`DEFAULT_TRUNCATE`] for IBSI).
    pub fn new(
        sigma_mm: f64,
        truncate: f64,
        dimensionality: Dimensionality,
        boundary: Boundary,
    ) -> Result<Self, FilterError> {
        require_positive("sigma_mm", sigma_mm)?;
        require_positive("truncate", truncate)?;
        Ok(LaplacianOfGaussian { sigma_mm, truncate, dimensionality, boundary })
    }

    /// The kernel's radius in voxels along i, j, k for this spacing (0 along k slice-wise).
    pub fn radius(&self, spacing: [f64; 3]) -> [usize; 3] {
        let mut radius = [0; 3];
        for &axis in self.dimensionality.axes() {
            radius[axis] = (self.truncate * self.sigma_mm / spacing[axis] + 0.5).floor() as usize;
        }
        radius
    }

    /// The sampled Gaussian g and its second derivative g'' along `axis`.
    fn kernels(&self, axis: usize, spacing: [f64; 3]) -> (Kernel1d, Kernel1d) {
        let sigma = self.sigma_mm / spacing[axis];
        let r = self.radius(spacing)[axis] as isize;
        let g = sampled_gaussian(sigma, r);
        let g2 =
            (-r..=r).zip(&g).map(|(t, &gt)| gt * ((t * t) as f64 / sigma.powi(4) - 1.0 / (sigma * sigma))).collect();
        (Kernel1d::centred(g), Kernel1d::centred(g2))
    }
}

/// The Gaussian (2πσ²)^(−1/2)·exp(−t²/2σ²) of σ voxels sampled at t = −r … r, not
/// renormalised (the IBSI's LoG kernel is the analytic one). Also the structure tensor's
/// window of the aligned Riesz transform, where a constant factor does not matter.
pub(crate) fn sampled_gaussian(sigma: f64, r: isize) -> Vec<f64> {
    (-r..=r)
        .map(|t| (-(t * t) as f64 / (2.0 * sigma * sigma)).exp() / ((2.0 * std::f64::consts::PI).sqrt() * sigma))
        .collect()
}

/// a + b, reusing a's buffer.
fn sum(mut a: Array3<f64>, b: &Array3<f64>) -> Array3<f64> {
    Zip::from(&mut a).and(b).par_for_each(|x, &y| *x += y);
    a
}

impl Filter for LaplacianOfGaussian {
    fn image_type(&self) -> String {
        let truncate =
            if self.truncate == DEFAULT_TRUNCATE { String::new() } else { format!("_truncate{}", self.truncate) };
        let slice_wise = if self.dimensionality == Dimensionality::TwoD { "_2d" } else { "" };
        format!("log_sigma_{}mm{truncate}{slice_wise}", self.sigma_mm)
    }

    /// Four volumes: the smoothed image and the sum of terms, with (while an axis runs) the
    /// derived term and the next pass's output.
    fn working_bytes(&self, dims: [usize; 3], _spacing: [f64; 3]) -> u64 {
        crate::volume_bytes(dims).saturating_mul(4)
    }

    fn margin(&self, spacing: [f64; 3]) -> Margin {
        if self.boundary.reads_far_side() { Margin::WholeImage } else { Margin::Voxels(self.radius(spacing)) }
    }

    fn apply(&self, image: ArrayView3<'_, f64>, spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        for &axis in self.dimensionality.axes() {
            require_positive("spacing", spacing[axis])?;
        }
        let b = self.boundary;
        // Sweep the axes last to first; the first sweep starts both sums from the image.
        let (&last, rest) = self.dimensionality.axes().split_last().expect("a kernel spans at least one axis");
        let (g, g2) = self.kernels(last, spacing);
        let (mut smooth, mut terms) = (convolve_axis(image, last, &g, b), convolve_axis(image, last, &g2, b));
        for (n, &axis) in rest.iter().rev().enumerate() {
            let (g, g2) = self.kernels(axis, spacing);
            let derived = convolve_axis(smooth.view(), axis, &g2, b);
            terms = sum(convolve_axis(terms.view(), axis, &g, b), &derived);
            // The smoothed image is needed again only if another axis follows.
            if n + 1 < rest.len() {
                smooth = convolve_axis(smooth.view(), axis, &g, b);
            }
        }
        Ok(terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_centre_of_the_impulse_response_is_the_ibsi_value() {
        // FILTERS.md §2: σ = 1.5 voxels, centre = −3/σ²·(2πσ²)^(−3/2) per unit impulse.
        let f = LaplacianOfGaussian::new(3.0, DEFAULT_TRUNCATE, Dimensionality::ThreeD, Boundary::Zero).unwrap();
        assert_eq!(f.radius([2.0; 3]), [6, 6, 6]);
        assert_eq!(f.image_type(), "log_sigma_3mm");
        let mut x = Array3::zeros((13, 13, 13));
        x[[6, 6, 6]] = 1.0;
        let y = f.apply(x.view(), [2.0; 3]).unwrap();
        let s2 = 1.5f64 * 1.5;
        let expected = -3.0 / s2 * (2.0 * std::f64::consts::PI * s2).powf(-1.5);
        assert!((y[[6, 6, 6]] - expected).abs() < 1e-15, "{} vs {expected}", y[[6, 6, 6]]);
    }
}
