//! PyRadiomics' `Gradient` image type (`getGradientImage`): SimpleITK's
//! `GradientMagnitudeImageFilter`, with `UseImageSpacing(gradientUseSpacing)` (default true).
//!
//! ITK takes central differences g_d = ½·(x[n−1] − x[n+1]) / s_d along each axis (s_d = 1
//! without spacing; the sign does not matter), the edge voxel repeated past the image's ends
//! (zero-flux Neumann), and returns √(g_x² + g_y² + g_z²) as a 32-bit float. Not an IBSI
//! filter. The response at a voxel reads its 6 face neighbours only, so the margin is one
//! voxel: the same response inside the ROI's box whether the engine filters the box grown
//! by one voxel or the whole image PyRadiomics filtered.

use ndarray::{Array3, ArrayView3, ShapeBuilder, Zip};

use super::to_f32;
use crate::error::{FilterError, require_positive};
use crate::{Filter, Margin};

/// PyRadiomics' gradient magnitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gradient {
    use_spacing: bool,
}

impl Gradient {
    /// `gradientUseSpacing` (PyRadiomics' default: true): differences per mm, else per voxel.
    pub fn new(use_spacing: bool) -> Self {
        Gradient { use_spacing }
    }
}

impl Default for Gradient {
    fn default() -> Self {
        Gradient::new(true)
    }
}

impl Filter for Gradient {
    fn image_type(&self) -> String {
        "gradient".into()
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        Margin::Voxels([1, 1, 1])
    }

    fn check_fits(&self, _dims: [usize; 3], _spacing: [f64; 3]) -> Result<(), FilterError> {
        // The repeated edge voxel serves any size, one voxel included.
        Ok(())
    }

    fn apply(&self, image: ArrayView3<'_, f64>, spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        let mut tap = [0.5; 3];
        if self.use_spacing {
            for axis in 0..3 {
                // ITK scales the operator's coefficients (±0.5) by 1 / spacing.
                tap[axis] = 0.5 * (1.0 / require_positive("spacing", spacing[axis])?);
            }
        }
        let (nx, ny, nz) = image.dim();
        let mut out = Array3::zeros(image.raw_dim().f());
        Zip::indexed(&mut out).par_for_each(|(i, j, k), o| {
            let index = [i, j, k];
            let dims = [nx, ny, nz];
            let mut a = 0.0;
            for axis in 0..3 {
                let (mut before, mut after) = (index, index);
                before[axis] = index[axis].saturating_sub(1);
                after[axis] = (index[axis] + 1).min(dims[axis] - 1);
                let g = tap[axis] * image[before] + -tap[axis] * image[after];
                a += g * g;
            }
            *o = to_f32(a.sqrt());
        });
        Ok(out)
    }
}
