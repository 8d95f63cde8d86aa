//! PyRadiomics' `SquareRoot` image type (`getSquareRootImage`): f(x) = √(c·x) for x > 0,
//! −√(−c·x) for x < 0, 0 at 0, with c = max|x|.
//!
//! Not an IBSI filter; c is taken over the whole image PyRadiomics filters
//! ([`Margin::WholeImage`]).

use ndarray::{Array3, ArrayView3, ShapeBuilder, Zip};

use super::max_abs;
use crate::error::FilterError;
use crate::{Filter, Margin};

/// PyRadiomics' signed square root of the intensities, scaled by the image's absolute maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SquareRoot;

impl Filter for SquareRoot {
    fn image_type(&self) -> String {
        "squareroot".into()
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        Margin::WholeImage
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        let coeff = max_abs(image);
        let mut out = Array3::zeros(image.raw_dim().f());
        Zip::from(&mut out).and(image).par_for_each(|o, &x| {
            *o = if x > 0.0 {
                (x * coeff).sqrt()
            } else if x < 0.0 {
                -(-x * coeff).sqrt()
            } else {
                x
            };
        });
        Ok(out)
    }
}
