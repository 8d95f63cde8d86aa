//! The mean filter (IBSI-2 S60F): the average over an M×M×M box (M×M in-plane slice-wise).
//!
//! The box is separable, 1/M on M taps per axis, so it runs as one 1-D pass per axis, each
//! extending the image by the boundary condition. M is odd so the box has a centre voxel.

use ndarray::{Array3, ArrayView3};

use crate::error::FilterError;
use crate::separable::{Kernel1d, convolve_separable};
use crate::{Boundary, Dimensionality, Filter, Margin};

/// The mean over a box of `support` voxels per axis.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanFilter {
    support: usize,
    dimensionality: Dimensionality,
    boundary: Boundary,
}

impl MeanFilter {
    /// A box of odd `support` M ≥ 1 voxels along each axis the dimensionality spans.
    pub fn new(support: usize, dimensionality: Dimensionality, boundary: Boundary) -> Result<Self, FilterError> {
        // An even box has no centre voxel: its response would sit half a voxel off the grid.
        if support == 0 || support.is_multiple_of(2) {
            return Err(FilterError::invalid("support", format!("must be an odd number of voxels ≥ 1, got {support}")));
        }
        Ok(MeanFilter { support, dimensionality, boundary })
    }

    fn kernel(&self) -> Kernel1d {
        Kernel1d::centred(vec![1.0 / self.support as f64; self.support])
    }
}

impl Filter for MeanFilter {
    fn image_type(&self) -> String {
        let slice_wise = if self.dimensionality == Dimensionality::TwoD { "_2d" } else { "" };
        format!("mean_support{}{slice_wise}", self.support)
    }

    /// [`convolve_separable`]'s: the previous pass's output and the next (one for a
    /// single axis).
    fn working_bytes(&self, dims: [usize; 3], _spacing: [f64; 3]) -> u64 {
        let passes = self.dimensionality.axes().len().min(2) as u64;
        crate::volume_bytes(dims).saturating_mul(passes)
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        if self.boundary.reads_far_side() {
            return Margin::WholeImage;
        }
        let mut margin = [0; 3];
        for &axis in self.dimensionality.axes() {
            margin[axis] = self.support / 2;
        }
        Margin::Voxels(margin)
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        let passes: Vec<(usize, Kernel1d)> = self.dimensionality.axes().iter().map(|&a| (a, self.kernel())).collect();
        Ok(convolve_separable(image, &passes, self.boundary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_averages_its_neighbourhood_and_names_itself() {
        let f = MeanFilter::new(3, Dimensionality::TwoD, Boundary::Zero).unwrap();
        assert_eq!(f.image_type(), "mean_support3_2d");
        assert_eq!(f.margin([1.0; 3]), Margin::Voxels([1, 1, 0]));
        let mut x = Array3::zeros((3, 3, 2));
        x[[1, 1, 0]] = 9.0;
        let y = f.apply(x.view(), [1.0; 3]).unwrap();
        assert!(y.index_axis(ndarray::Axis(2), 0).iter().all(|&v| (v - 1.0).abs() < 1e-15));
        assert!(y.index_axis(ndarray::Axis(2), 1).iter().all(|&v| v == 0.0));
    }
}
