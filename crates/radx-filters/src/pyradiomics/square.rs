//! PyRadiomics' `Square` image type (`getSquareImage`): f(x) = (c·x)², c = 1/√max|x|.
//!
//! Not an IBSI filter (the IBSI defines no intensity transforms of this kind); c is taken
//! over the whole image PyRadiomics filters, so the response depends on where that image
//! ends ([`Margin::WholeImage`]).

use ndarray::{Array3, ArrayView3, ShapeBuilder, Zip};

use super::max_abs;
use crate::error::FilterError;
use crate::{Filter, Margin};

/// PyRadiomics' square of the intensities, scaled by the image's absolute maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Square;

impl Filter for Square {
    fn image_type(&self) -> String {
        "square".into()
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        Margin::WholeImage
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        // numpy: coeff = 1 / sqrt(max(abs(im))); (coeff * im) ** 2 (an all-zero image gives NaN).
        let coeff = 1.0 / max_abs(image).sqrt();
        let mut out = Array3::zeros(image.raw_dim().f());
        Zip::from(&mut out).and(image).par_for_each(|o, &x| {
            let y = coeff * x;
            *o = y * y;
        });
        Ok(out)
    }
}
