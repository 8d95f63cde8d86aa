//! PyRadiomics' `Exponential` image type (`getExponentialImage`): f(x) = exp(c·x) with
//! c = ln(max|x|) / max|x|.
//!
//! Not an IBSI filter; c is taken over the whole image PyRadiomics filters
//! ([`Margin::WholeImage`]).

use ndarray::{Array3, ArrayView3, ShapeBuilder, Zip};

use super::max_abs;
use crate::error::FilterError;
use crate::{Filter, Margin};

/// PyRadiomics' exponential of the intensities, scaled by the image's absolute maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exponential;

impl Filter for Exponential {
    fn image_type(&self) -> String {
        "exponential".into()
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        Margin::WholeImage
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        let im_max = max_abs(image);
        let coeff = im_max.ln() / im_max;
        let mut out = Array3::zeros(image.raw_dim().f());
        Zip::from(&mut out).and(image).par_for_each(|o, &x| *o = (coeff * x).exp());
        Ok(out)
    }
}
