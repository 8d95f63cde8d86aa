//! PyRadiomics' processing where it departs from the IBSI: whole-image normalisation, a
//! resampling grid aligned to the ROI, and re-segmentation bounds read on the ROI.

use radx_core::roi::Roi;
use radx_core::{CoreError, Volume};

use crate::settings::{Normalise, Resample, ResegmentMode};

/// Whole-image normalisation as SimpleITK's `Normalize` (mean and *sample* standard
/// deviation of every voxel), then PyRadiomics' outlier clipping and scale.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for a constant image (σ = 0).
pub fn normalise_image(image: &Volume<f64>, n: &Normalise) -> Result<Volume<f64>, CoreError> {
    let count = image.data.len() as f64;
    let mean = image.data.iter().sum::<f64>() / count;
    let variance = image.data.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1.0);
    let sigma = variance.sqrt();
    if sigma.is_nan() || sigma <= 0.0 {
        return Err(CoreError::InvalidSetting {
            name: "normalise",
            reason: "the image is constant: it cannot be normalised (σ = 0)".into(),
        });
    }
    Ok(image.map(|&v| {
        let mut z = (v - mean) / sigma;
        if let Some(o) = n.remove_outliers {
            z = z.clamp(-o, o);
        }
        z * n.scale
    }))
}

/// The grid PyRadiomics resamples onto (`imageoperations.resampleImage`): spacing
/// `spacing` (a 0 keeps the original spacing), aligned to the *ROI's bounding box*, not to
/// the image: in new-grid units the box runs from `⌊(min − ½)·r − pad⌋` to
/// `⌈(max + ½)·r + pad⌉` (r = old / new spacing, `pad` = `padDistance` voxels), clipped to
/// `[0, ⌈n·r⌉ − 1]`; new voxel `i` sits at the original continuous index
/// `½(new − old)/old + (lower + i)/r`, i.e. the new grid's corner coincides with the image's.
///
/// # Errors
/// [`CoreError::EmptyRoi`] when `mask` selects nothing; [`CoreError::InvalidSetting`] for a
/// negative or non-finite spacing.
pub fn resampling_grid(
    image: &radx_core::Grid,
    mask: &Volume<bool>,
    spacing: [f64; 3],
    pad_distance: f64,
) -> Result<radx_core::Grid, CoreError> {
    if spacing.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(CoreError::InvalidSetting {
            name: "resampledPixelSpacing",
            reason: format!("every spacing must be a finite number ≥ 0 (0 keeps the original), got {spacing:?}"),
        });
    }
    let bbox = radx_core::BoundingBox::of_mask(&mask.data).ok_or_else(|| CoreError::EmptyRoi(String::new()))?;
    let old = image.spacing;
    let new: [f64; 3] = std::array::from_fn(|k| if spacing[k] == 0.0 { old[k] } else { spacing[k] });
    let mut dims = [0usize; 3];
    let mut origin_index = [0.0; 3];
    for k in 0..3 {
        let ratio = old[k] / new[k];
        let max_upper = (image.dims[k] as f64 * ratio).ceil() - 1.0;
        let lower = ((bbox.min[k] as f64 - 0.5) * ratio - pad_distance).floor().max(0.0);
        let upper = ((bbox.max[k] as f64 + 0.5) * ratio + pad_distance).ceil().min(max_upper);
        dims[k] = (upper - lower + 1.0).max(1.0) as usize;
        origin_index[k] = 0.5 * (new[k] - old[k]) / old[k] + lower / ratio;
    }
    Ok(radx_core::Grid { dims, spacing: new, origin: image.index_to_world(origin_index), direction: image.direction })
}

/// PyRadiomics' resampling: the image with the settings' interpolator (SimpleITK's
/// `sitkBSpline` is, like radx's `cubic_spline`, a prefiltered cubic B-spline) and the mask
/// by nearest neighbour, onto [`resampling_grid`]. SimpleITK writes the image in its own
/// pixel type: when every input intensity is an integer (an integer image type), the
/// resampled intensities are cast to integers the way ITK does (truncated toward zero).
///
/// # Errors
/// As [`resampling_grid`] and `resample::resample_image`.
pub fn resample(
    image: &Volume<f64>,
    mask: &Volume<bool>,
    r: &Resample,
    pad_distance: f64,
) -> Result<(Volume<f64>, Volume<bool>), CoreError> {
    use radx_core::processing::resample;
    let target = resampling_grid(&image.grid, mask, r.spacing, pad_distance)?;
    let mut resampled = resample::resample_image(image, &target, r.image_interpolator.kernel())?;
    if image.data.iter().all(|v| v.fract() == 0.0) {
        resampled.data.mapv_inplace(f64::trunc);
    }
    let resampled_mask = resample::resample_mask(mask, &target, resample::Interpolator::Nearest, 0.5)?;
    Ok((resampled, resampled_mask))
}

/// The absolute re-segmentation bounds of `bounds` read in `mode` on the ROI's current
/// intensity mask (PyRadiomics `resegmentMask`).
pub fn resegment_bounds(roi: &Roi, bounds: [f64; 2], mode: ResegmentMode) -> [f64; 2] {
    match mode {
        ResegmentMode::Absolute => bounds,
        ResegmentMode::Relative => {
            let max = roi.intensities().into_iter().fold(f64::NEG_INFINITY, f64::max);
            bounds.map(|t| if t.is_finite() { t * max } else { t })
        }
        ResegmentMode::Sigma => {
            let x = roi.intensities();
            let n = x.len() as f64;
            let mean = x.iter().sum::<f64>() / n;
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            bounds.map(|t| if t.is_finite() { mean + sd * t } else { t })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_grid_is_aligned_to_the_roi_box() {
        use radx_core::Grid;
        // Image 10×10×5 voxels of 1×1×2 mm at origin (10, 20, 30); ROI = voxel (8, 4, 2);
        // new spacing (2, 2, 0 = keep 2), padDistance 1. Ratios r = old/new = (½, ½, 1).
        // x: lower ⌊(8 − ½)·½ − 1⌋ = 2, upper ⌈(8 + ½)·½ + 1⌉ = 6 clipped to ⌈10·½⌉ − 1 = 4:
        //    3 voxels; first centre at old index ½(2 − 1)/1 + 2/½ = 4.5 → 14.5 mm.
        // y: lower ⌊3.5·½ − 1⌋ = 0, upper ⌈4.5·½ + 1⌉ = 4: 5 voxels from index 0.5 → 20.5 mm.
        // z: lower ⌊1.5 − 1⌋ = 0, upper ⌈2.5 + 1⌉ = 4 (= ⌈5⌉ − 1): 5 voxels from index 0 → 30 mm.
        let mut image = Grid::new([10, 10, 5], [1.0, 1.0, 2.0]);
        image.origin = [10.0, 20.0, 30.0];
        let mut mask = Volume::from_x_fastest(image, vec![false; 500]);
        mask.data[[8, 4, 2]] = true;
        let grid = resampling_grid(&image, &mask, [2.0, 2.0, 0.0], 1.0).unwrap();
        assert_eq!(grid.dims, [3, 5, 5]);
        assert_eq!(grid.spacing, [2.0, 2.0, 2.0]);
        assert_eq!(grid.origin, [14.5, 20.5, 30.0]);
        assert!(resampling_grid(&image, &mask, [-1.0, 2.0, 2.0], 1.0).is_err());
    }

    #[test]
    fn sigma_and_relative_bounds_are_read_on_the_roi() {
        use radx_core::Grid;
        // Intensities 1, 2, 3, 6: mean 3, population σ = √((4 + 1 + 0 + 9)/4) = √3.5.
        let grid = Grid::new([4, 1, 1], [1.0; 3]);
        let image = Volume::from_x_fastest(grid, vec![1.0, 2.0, 3.0, 6.0]);
        let mask = Volume::from_x_fastest(grid, vec![true; 4]).data;
        let roi = Roi { image, morphological: mask.clone(), intensity: mask };
        let [lo, hi] = resegment_bounds(&roi, [-1.0, 2.0], ResegmentMode::Sigma);
        assert!((lo - (3.0 - 3.5f64.sqrt())).abs() < 1e-12 && (hi - (3.0 + 2.0 * 3.5f64.sqrt())).abs() < 1e-12);
        assert_eq!(resegment_bounds(&roi, [0.5, f64::INFINITY], ResegmentMode::Relative), [3.0, f64::INFINITY]);
    }
}
