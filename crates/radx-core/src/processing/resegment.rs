//! Re-segmentation of the intensity mask (IBSI 1, section 2.5, IF9H).
//!
//! Only the *intensity* mask (SEFI) shrinks; the morphological mask (G5KJ) keeps the
//! original shape (ECJF). Two methods exist: a closed intensity range (USB3) and outlier
//! filtering at μ ± nσ (7ACA). When both are used the IBSI keeps the *intersection* of
//! the two intervals, and the reference implementation (MIRP) computes μ and σ on the
//! intensity mask **before** range re-segmentation (see the notes of
//! `ct_phantom_configurations.json`, configuration E). [`resegment`] does exactly that;
//! calling [`resegment_outliers`] first and [`resegment_range`] second is equivalent,
//! while the opposite order computes μ and σ on the range-restricted voxels instead.

use crate::error::CoreError;
use crate::roi::Roi;

/// Remove from the intensity mask every voxel outside the closed interval `[min, max]`
/// (a missing bound is open: `[min, ∞)`), IBSI USB3.
///
/// # Errors
/// [`CoreError::InvalidSetting`] when a bound is NaN or `min > max`.
pub fn resegment_range(roi: &mut Roi, min: Option<f64>, max: Option<f64>) -> Result<(), CoreError> {
    let lower = min.unwrap_or(f64::NEG_INFINITY);
    let upper = max.unwrap_or(f64::INFINITY);
    if lower.is_nan() || upper.is_nan() || lower > upper {
        return Err(CoreError::InvalidSetting {
            name: "re-segmentation range",
            reason: format!("expected lower ≤ upper, got [{lower}, {upper}]"),
        });
    }
    keep_within(roi, lower, upper);
    Ok(())
}

/// Remove from the intensity mask every voxel outside `[μ − n·σ, μ + n·σ]`, with μ and
/// the population standard deviation σ of the current intensity-mask voxels (IBSI 7ACA,
/// n = 3). An empty intensity mask is left as it is.
///
/// # Errors
/// [`CoreError::InvalidSetting`] when `n_sigma` is negative or not finite.
pub fn resegment_outliers(roi: &mut Roi, n_sigma: f64) -> Result<(), CoreError> {
    let (lower, upper) = outlier_interval(roi, n_sigma)?;
    keep_within(roi, lower, upper);
    Ok(())
}

/// Both re-segmentation methods as the IBSI reference implementation combines them: the
/// outlier interval is computed on the intensity mask as it comes in, then the voxels
/// outside the intersection of the range and that interval are removed.
///
/// # Errors
/// As [`resegment_range`] and [`resegment_outliers`].
pub fn resegment(
    roi: &mut Roi,
    range: Option<(Option<f64>, Option<f64>)>,
    outlier_sigma: Option<f64>,
) -> Result<(), CoreError> {
    if let Some(n_sigma) = outlier_sigma {
        resegment_outliers(roi, n_sigma)?;
    }
    if let Some((min, max)) = range {
        resegment_range(roi, min, max)?;
    }
    Ok(())
}

/// `[μ − nσ, μ + nσ]` of the intensity-mask voxels; the whole line when the mask is empty.
fn outlier_interval(roi: &Roi, n_sigma: f64) -> Result<(f64, f64), CoreError> {
    if !(n_sigma.is_finite() && n_sigma >= 0.0) {
        return Err(CoreError::InvalidSetting {
            name: "outlier filtering",
            reason: format!("the number of standard deviations must be ≥ 0, got {n_sigma}"),
        });
    }
    let values = roi.intensities();
    if values.is_empty() {
        return Ok((f64::NEG_INFINITY, f64::INFINITY));
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let sigma = variance.sqrt();
    Ok((mean - n_sigma * sigma, mean + n_sigma * sigma))
}

fn keep_within(roi: &mut Roi, lower: f64, upper: f64) {
    ndarray::Zip::from(&mut roi.intensity).and(&roi.image.data).for_each(|inside, &value| {
        if *inside && !(value >= lower && value <= upper) {
            *inside = false;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;
    use crate::volume::Volume;
    use ndarray::{Array3, ShapeBuilder};

    fn roi(values: &[f64]) -> Roi {
        let grid = Grid::new([values.len(), 1, 1], [1.0; 3]);
        let image = Volume::from_x_fastest(grid, values.to_vec());
        let mask = Array3::from_elem((values.len(), 1, 1).f(), true);
        Roi { image, morphological: mask.clone(), intensity: mask }
    }

    #[test]
    fn range_is_closed_and_leaves_the_morphological_mask() {
        let mut r = roi(&[-600.0, -500.0, 0.0, 400.0, 401.0]);
        resegment_range(&mut r, Some(-500.0), Some(400.0)).unwrap();
        assert_eq!(r.intensities(), vec![-500.0, 0.0, 400.0]);
        assert!(r.morphological.iter().all(|&m| m));
        let mut r = roi(&[-600.0, 3000.0]);
        resegment_range(&mut r, Some(-500.0), None).unwrap();
        assert_eq!(r.intensities(), vec![3000.0]);
        assert!(resegment_range(&mut r, Some(1.0), Some(0.0)).is_err());
    }

    #[test]
    fn outliers_use_population_sigma() {
        // Nine voxels of 0 and one of 10: μ = 1, population σ = √(9·1 + 81)/√10 = 3.
        // With n = 2 the interval is [−5, 7]: the 10 goes.
        let mut values = vec![0.0; 9];
        values.push(10.0);
        let mut r = roi(&values);
        resegment_outliers(&mut r, 2.0).unwrap();
        assert_eq!(r.intensity_count(), 9);
        // The bound is inclusive: with n = 3 the interval is [−8, 10] and the 10 stays.
        let mut r = roi(&values);
        resegment_outliers(&mut r, 3.0).unwrap();
        assert_eq!(r.intensity_count(), 10);
    }

    #[test]
    fn combined_order_computes_statistics_before_the_range() {
        // Values 0 ×8, 10, 100. Stats on all ten: μ = 11, σ = √((8·121 + 1 + 7921)/10) = 29.8…
        // so μ ± 1σ = [−18.8, 40.8]; with the range [0, 50] the result keeps 0 ×8 and 10.
        // Range first would give μ = 1.11, σ = 3.14 → [−2.0, 4.3], dropping the 10.
        let mut values = vec![0.0; 8];
        values.extend([10.0, 100.0]);
        let mut r = roi(&values);
        resegment(&mut r, Some((Some(0.0), Some(50.0))), Some(1.0)).unwrap();
        assert_eq!(r.intensity_count(), 9);
        let mut other = roi(&values);
        resegment_range(&mut other, Some(0.0), Some(50.0)).unwrap();
        resegment_outliers(&mut other, 1.0).unwrap();
        assert_eq!(other.intensity_count(), 8);
    }
}
