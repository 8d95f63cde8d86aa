//! Laws texture filters (IBSI-2 JTXT), and [`SeparableProduct`]: the machinery every filter
//! whose kernel is a product of 1-D kernels shares (Laws, user-defined kernels, wavelets).
//!
//! A Laws kernel name reads one 1-D kernel per axis in the order i, j[, k] (`E5L5S5` = E5
//! along i, L5 along j, S5 along k; two letters filter each axial slice). The 1-D kernels
//! are divided by their L2 norm (FILTERS.md §3). Rotation invariance filters with the kernel
//! in each right-handed orientation and pools voxel-wise (max is IBSI's); the energy map is
//! then the mean of |pooled| over a (2δ+1)^D box with the same boundary condition.

mod product;

pub use product::SeparableProduct;

use ndarray::{Array3, ArrayView3};

use crate::error::FilterError;
use crate::rotation::Pooling;
use crate::separable::Kernel1d;
use crate::{Boundary, Filter, Margin};

/// The 1-D Laws kernels, before normalisation.
const KERNELS: [(&str, &[f64]); 8] = [
    ("L3", &[1.0, 2.0, 1.0]),
    ("E3", &[-1.0, 0.0, 1.0]),
    ("S3", &[-1.0, 2.0, -1.0]),
    ("L5", &[1.0, 4.0, 6.0, 4.0, 1.0]),
    ("E5", &[-1.0, -2.0, 0.0, 2.0, 1.0]),
    ("S5", &[-1.0, 0.0, 2.0, 0.0, -1.0]),
    ("W5", &[-1.0, 2.0, 0.0, -2.0, 1.0]),
    ("R5", &[1.0, -4.0, 6.0, -4.0, 1.0]),
];

/// The L2-normalised 1-D kernel of a two-character name (upper case), if it is a Laws one.
fn laws_kernel(name: &str) -> Option<Kernel1d> {
    let (_, taps) = KERNELS.iter().find(|(n, _)| *n == name)?;
    let norm = taps.iter().map(|t| t * t).sum::<f64>().sqrt();
    Some(Kernel1d::centred(taps.iter().map(|t| t / norm).collect()))
}

/// Split `E5L5S5` into its 1-D kernels; two or three of them.
fn parse_kernel(kernel: &str) -> Result<Vec<Kernel1d>, FilterError> {
    let chars: Vec<char> = kernel.to_ascii_uppercase().chars().collect();
    if chars.len() != 4 && chars.len() != 6 {
        return Err(FilterError::invalid(
            "kernel",
            format!("`{kernel}` is not 2 or 3 Laws kernels (one per axis i, j[, k]), e.g. `L5E5` or `E5L5S5`"),
        ));
    }
    let known: Vec<&str> = KERNELS.iter().map(|(n, _)| *n).collect();
    chars
        .chunks(2)
        .map(|pair| {
            let name: String = pair.iter().collect();
            laws_kernel(&name).ok_or_else(|| FilterError::unknown("kernel", "Laws kernel", name, &known))
        })
        .collect()
}

/// A Laws filter: the product of 1-D Laws kernels, optionally rotation-pooled and turned
/// into an energy map.
#[derive(Debug, Clone, PartialEq)]
pub struct LawsFilter {
    name: String,
    product: SeparableProduct,
}

impl LawsFilter {
    /// `kernel` as IBSI writes it (`E5L5S5`, `L5E5`; any case): three letters filter the
    /// volume, two each axial slice. `rotation`: pooling over the orientations (IBSI: max);
    /// `energy_delta`: δ of the energy box, in voxels.
    pub fn new(
        kernel: &str,
        rotation: Option<Pooling>,
        energy_delta: Option<usize>,
        boundary: Boundary,
    ) -> Result<Self, FilterError> {
        let kernels = parse_kernel(kernel)?;
        let cascades = kernels.into_iter().map(|k| vec![k]).collect();
        let product = SeparableProduct { cascades, rotation, energy_delta, decimated: false, boundary };
        Ok(LawsFilter { name: kernel.to_ascii_lowercase(), product })
    }
}

impl Filter for LawsFilter {
    fn image_type(&self) -> String {
        format!("laws_{}{}", self.name, self.product.suffix())
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
    fn kernels_are_l2_normalised_and_names_read_i_j_k() {
        let f = LawsFilter::new("e5L5s5", Some(Pooling::Max), Some(7), Boundary::Mirror).unwrap();
        assert_eq!(f.image_type(), "laws_e5l5s5_energy7_rotmax");
        assert_eq!(f.margin([1.0; 3]), Margin::Voxels([9, 9, 9]));
        let e5 = &f.product.cascades[0][0];
        assert!((e5.taps[3] - 2.0 / 10f64.sqrt()).abs() < 1e-15);
        let slice_wise = LawsFilter::new("L5E3", None, None, Boundary::Zero).unwrap();
        assert_eq!(slice_wise.image_type(), "laws_l5e3");
        assert_eq!(slice_wise.margin([1.0; 3]), Margin::Voxels([2, 1, 0]));
    }
}
