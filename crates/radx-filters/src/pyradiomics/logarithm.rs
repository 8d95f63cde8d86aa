//! PyRadiomics' `Logarithm` image type (`getLogarithmImage`): g(x) = ln(x + 1) for x > 0,
//! −ln(1 − x) for x < 0, then f = g · (max|x| / max|g|).
//!
//! Not an IBSI filter; both maxima are taken over the whole image PyRadiomics filters
//! ([`Margin::WholeImage`]).

use ndarray::{Array3, ArrayView3, ShapeBuilder, Zip};

use super::max_abs;
use crate::error::FilterError;
use crate::{Filter, Margin};

/// PyRadiomics' signed logarithm of the intensities, rescaled to the image's absolute maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Logarithm;

impl Filter for Logarithm {
    fn image_type(&self) -> String {
        "logarithm".into()
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        Margin::WholeImage
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        let im_max = max_abs(image);
        let mut out = Array3::zeros(image.raw_dim().f());
        Zip::from(&mut out).and(image).par_for_each(|o, &x| {
            *o = if x > 0.0 {
                (x + 1.0).ln()
            } else if x < 0.0 {
                -(-(x - 1.0)).ln()
            } else {
                x
            };
        });
        // numpy: im * (im_max / max(abs(im))), the factor first.
        let factor = im_max / max_abs(out.view());
        out.par_mapv_inplace(|g| g * factor);
        Ok(out)
    }
}
