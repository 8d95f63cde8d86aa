//! User-defined separable kernels: a Laws-style filter whose 1-D kernels are numbers from
//! the settings file, used as given (no normalisation), with the same rotation pooling and
//! energy map as Laws (one implementation: [`SeparableProduct`]).

use ndarray::{Array3, ArrayView3};

use crate::error::FilterError;
use crate::laws::SeparableProduct;
use crate::rotation::Pooling;
use crate::separable::Kernel1d;
use crate::{Boundary, Filter, Margin};

/// A separable filter built from one odd-length 1-D kernel per axis i, j[, k].
#[derive(Debug, Clone, PartialEq)]
pub struct SeparableKernelFilter {
    name: String,
    product: SeparableProduct,
}

/// Refuse a kernel that is empty, even (no centre voxel: the response would sit half a
/// voxel off the grid) or not finite (one NaN tap would poison the whole map).
fn check_taps(axis: usize, taps: &[f64]) -> Result<(), FilterError> {
    let axis_name = ["i", "j", "k"][axis];
    if taps.len().is_multiple_of(2) {
        let reason = format!("the kernel along {axis_name} has {} taps; it needs an odd number ≥ 1", taps.len());
        return Err(FilterError::invalid("taps", reason));
    }
    if let Some(bad) = taps.iter().find(|t| !t.is_finite()) {
        return Err(FilterError::invalid("taps", format!("the kernel along {axis_name} has a non-finite tap ({bad})")));
    }
    Ok(())
}

impl SeparableKernelFilter {
    /// `name` ([a-z0-9_]+, the image type is `custom_{name}…`), `kernels`: two (slice-wise)
    /// or three 1-D kernels for axes i, j[, k], each of odd length, centred, convolved.
    pub fn new(
        name: &str,
        kernels: Vec<Vec<f64>>,
        rotation: Option<Pooling>,
        energy_delta: Option<usize>,
        boundary: Boundary,
    ) -> Result<Self, FilterError> {
        // The name becomes part of feature names and file names: keep it to safe characters.
        let valid_name = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if name.is_empty() || !name.chars().all(valid_name) {
            return Err(FilterError::invalid("name", format!("`{name}` must be lowercase letters, digits and `_`")));
        }
        if kernels.len() != 2 && kernels.len() != 3 {
            let reason = format!("{} kernels given; give 2 (slice-wise: i, j) or 3 (i, j, k)", kernels.len());
            return Err(FilterError::invalid("kernels", reason));
        }
        for (axis, taps) in kernels.iter().enumerate() {
            check_taps(axis, taps)?;
        }
        let cascades = kernels.into_iter().map(|taps| vec![Kernel1d::centred(taps)]).collect();
        let product = SeparableProduct { cascades, rotation, energy_delta, decimated: false, boundary };
        Ok(SeparableKernelFilter { name: name.to_string(), product })
    }
}

impl Filter for SeparableKernelFilter {
    fn image_type(&self) -> String {
        format!("custom_{}{}", self.name, self.product.suffix())
    }

    /// [`SeparableProduct::working_volumes`] image-sized volumes.
    fn working_bytes(&self, dims: [usize; 3], _spacing: [f64; 3]) -> u64 {
        crate::volume_bytes(dims).saturating_mul(self.product.working_volumes())
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        self.product.margin()
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        self.product.apply(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_are_used_as_given() {
        let f = SeparableKernelFilter::new("grad", vec![vec![-1.0, 0.0, 1.0], vec![1.0]], None, None, Boundary::Zero)
            .unwrap();
        assert_eq!(f.image_type(), "custom_grad");
        assert_eq!(f.margin([1.0; 3]), Margin::Voxels([1, 0, 0]));
        let mut x = Array3::zeros((5, 1, 1));
        x[[2, 0, 0]] = 1.0;
        let y = f.apply(x.view(), [1.0; 3]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), [0.0, -1.0, 0.0, 1.0, 0.0]);
    }
}
