//! Intensity discretisation (IBSI 1, section 2.7, 4R0B) into the grey levels that the
//! intensity histogram and every texture matrix read.
//!
//! Both methods give levels `1..=N_g` inside the intensity mask and 0 outside, in a
//! [`DiscretisedRoi`]. The grey levels themselves are the values the intensity-histogram
//! features use (IBSI 3.4: `X_d`), so no level → value table is needed.
//!
//! - *Fixed bin number* (K15C): `X_d = ⌊N_g (X − X_min)/(X_max − X_min)⌋ + 1`, and `N_g`
//!   where `X = X_max`, with `X_min`/`X_max` the extremes of the intensity-mask voxels
//!   (not the re-segmentation range, IBSI table "discretisation", note 2). A constant ROI
//!   gets level 1 everywhere; `N_g` stays the requested bin count.
//! - *Fixed bin size* (Q3RU): `X_d = ⌊(X − X_min)/w_b⌋ + 1` with `X_min` the lower bound
//!   of the re-segmentation range when one is set (IBSI note 3), else the ROI minimum.
//!   `N_g` is the highest level present in the ROI: the manual defines the maximum
//!   discretised intensity as `max(X_d)` and states `F_ih.max = N_g` "by definition"
//!   (3NCY), so an upper re-segmentation bound above the ROI's maximum adds no empty
//!   levels at the top. Empty levels between present ones are kept.

use ndarray::{Array3, ShapeBuilder, Zip};
use rayon::prelude::*;

use crate::error::CoreError;
use crate::matrix::DiscretisedRoi;
use crate::roi::Roi;

/// Highest grey level a [`DiscretisedRoi`] can hold.
pub const MAX_LEVELS: usize = u16::MAX as usize;

/// Fixed bin number discretisation (IBSI K15C) into `bins` grey levels.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for `bins == 0` or `bins > 65535`;
/// [`CoreError::EmptyRoi`] when the intensity mask has no voxel.
pub fn discretise_fixed_bin_number(roi: &Roi, bins: usize) -> Result<DiscretisedRoi, CoreError> {
    if bins == 0 || bins > MAX_LEVELS {
        return Err(CoreError::InvalidSetting {
            name: "bin number",
            reason: format!("fixed bin number discretisation needs 1 to {MAX_LEVELS} bins, got {bins}"),
        });
    }
    let (min, max) = intensity_range(roi)?;
    let bins_f = bins as f64;
    let range = max - min;
    let (levels, _) = levels_from(roi, |x| {
        if range <= 0.0 {
            // Constant ROI: the formula is 0/0; every voxel goes to the first bin.
            1
        } else if x >= max {
            // X = X_max: the top bin (K15C, second case).
            bins as u16
        } else {
            let level = (bins_f * (x - min) / range).floor() + 1.0;
            // Rounding can push an X just below X_max to N_g + 1; clamp into 1..=N_g.
            level.clamp(1.0, bins_f) as u16
        }
    });
    Ok(DiscretisedRoi { levels, ng: bins, morphological: roi.morphological.clone(), spacing: roi.image.grid.spacing })
}

/// Fixed bin size discretisation (IBSI Q3RU) with bin width `width`, bins starting at
/// `lower_bound` (the re-segmentation minimum, or the ROI minimum without a range).
///
/// # Errors
/// [`CoreError::InvalidSetting`] when `width ≤ 0`, a setting is not finite, the ROI holds
/// an intensity below `lower_bound` (it would get a level < 1), or more than 65535 levels
/// result; [`CoreError::EmptyRoi`] when the intensity mask has no voxel.
pub fn discretise_fixed_bin_size(roi: &Roi, width: f64, lower_bound: f64) -> Result<DiscretisedRoi, CoreError> {
    if !(width.is_finite() && width > 0.0) {
        return Err(CoreError::InvalidSetting {
            name: "bin width",
            reason: format!("fixed bin size discretisation needs a positive bin width, got {width}"),
        });
    }
    if !lower_bound.is_finite() {
        return Err(CoreError::InvalidSetting {
            name: "bin lower bound",
            reason: format!("the lowest bin must start at a finite intensity, got {lower_bound}"),
        });
    }
    let (min, max) = intensity_range(roi)?;
    if min < lower_bound {
        return Err(CoreError::InvalidSetting {
            name: "bin lower bound",
            reason: format!(
                "the ROI holds intensity {min} below the first bin's start {lower_bound}; use the \
                 re-segmentation minimum after range re-segmentation, or the ROI minimum"
            ),
        });
    }
    let top = ((max - lower_bound) / width).floor() + 1.0;
    if top > MAX_LEVELS as f64 {
        return Err(CoreError::InvalidSetting {
            name: "bin width",
            reason: format!(
                "bin width {width} splits [{lower_bound}, {max}] into {top} levels, more than {MAX_LEVELS}"
            ),
        });
    }
    let (levels, highest) = levels_from(roi, |x| ((x - lower_bound) / width).floor() as u16 + 1);
    let ng = highest.unwrap_or(1) as usize;
    Ok(DiscretisedRoi { levels, ng, morphological: roi.morphological.clone(), spacing: roi.image.grid.spacing })
}

/// PyRadiomics' fixed bin width (`imageoperations.getBinEdges` with `binWidth`), which
/// departs from the IBSI's Q3RU: the bin edges are the multiples of `width` from
/// `lowBound = min − (min mod width)` (the largest multiple of `width` ≤ the ROI minimum,
/// Python's floored modulo) up to `max + 2·width`, and a voxel's level is the number of
/// edges ≤ its intensity (`numpy.digitize`), i.e. `⌊x/w⌋ − ⌊min/w⌋ + 1`. A flat ROI whose
/// minimum is a multiple of `width` gets the single bin `[min − ½, min + ½)`. N_g is the
/// highest level present (PyRadiomics' `Ng`).
///
/// # Errors
/// As [`discretise_fixed_bin_size`].
pub fn discretise_pyradiomics_bin_width(roi: &Roi, width: f64) -> Result<DiscretisedRoi, CoreError> {
    if !(width.is_finite() && width > 0.0) {
        return Err(CoreError::InvalidSetting {
            name: "bin width",
            reason: format!("PyRadiomics bin width discretisation needs a positive bin width, got {width}"),
        });
    }
    let (min, max) = intensity_range(roi)?;
    let low = min - min.rem_euclid(width);
    let high = max + 2.0 * width;
    // numpy.arange(low, high, width): ceil((high - low) / width) edges at low + k·width.
    let count = ((high - low) / width).ceil();
    if count > MAX_LEVELS as f64 {
        return Err(CoreError::InvalidSetting {
            name: "bin width",
            reason: format!("bin width {width} splits [{min}, {max}] into more than {MAX_LEVELS} levels"),
        });
    }
    let mut edges: Vec<f64> = (0..count as usize).map(|k| low + k as f64 * width).collect();
    if edges.len() == 1 {
        edges = vec![edges[0] - 0.5, edges[0] + 0.5];
    }
    Ok(digitize(roi, &edges))
}

/// PyRadiomics' fixed bin count (`binCount`): the edges of `numpy.histogram(x, bins)`
/// (`bins + 1` equally spaced edges from the ROI minimum to its maximum, computed as
/// `numpy.linspace` does; min ± ½ for a flat ROI) with the last edge raised by 1 so the
/// maximum falls in the top bin, then `numpy.digitize`. N_g is the highest level present.
///
/// # Errors
/// As [`discretise_fixed_bin_number`].
pub fn discretise_pyradiomics_bin_count(roi: &Roi, bins: usize) -> Result<DiscretisedRoi, CoreError> {
    if bins == 0 || bins > MAX_LEVELS - 1 {
        return Err(CoreError::InvalidSetting {
            name: "bin count",
            reason: format!("PyRadiomics bin count discretisation needs 1 to {} bins, got {bins}", MAX_LEVELS - 1),
        });
    }
    let (mut first, mut last) = intensity_range(roi)?;
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    // numpy.linspace(first, last, bins + 1): k·step + first, the last edge set to `last`.
    let step = (last - first) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|k| k as f64 * step + first).collect();
    edges[bins] = last + 1.0;
    Ok(digitize(roi, &edges))
}

/// `numpy.digitize(x, edges)` (right-open bins) on the intensity mask: the number of edges
/// ≤ x; N_g = the highest level present.
fn digitize(roi: &Roi, edges: &[f64]) -> DiscretisedRoi {
    let counter = EdgeCounter::new(edges);
    let (levels, highest) = levels_from(roi, |x| counter.count(x) as u16);
    let ng = highest.unwrap_or(1).max(1) as usize;
    DiscretisedRoi { levels, ng, morphological: roi.morphological.clone(), spacing: roi.image.grid.spacing }
}

/// Boxes of fewer voxels are discretised on the calling thread: a pass over them takes
/// less time than waking the pool's other threads (a 60 000-voxel box: ~0.1 against ~0.5 ms
/// for the passes below, measured when there were three; now the range, then the levels with
/// their maximum).
const PARALLEL_MIN_VOXELS: usize = 1 << 18;

/// Minimum and maximum intensity inside the intensity mask.
fn intensity_range(roi: &Roi) -> Result<(f64, f64), CoreError> {
    let values = crate::iter::x_fastest(&roi.image.data);
    let inside = crate::iter::x_fastest(&roi.intensity);
    // Ordered by `total_cmp` (−0 below +0), so the reduction's result does not depend on
    // how the voxels were split between threads; as integers, with no branch per voxel.
    let range_of = |values: &[f64], inside: &[bool]| {
        values.iter().zip(inside).fold((i64::MAX, i64::MIN), |(lo, hi), (&value, &inside)| {
            let key = total_order_key(value);
            (if inside { lo.min(key) } else { lo }, if inside { hi.max(key) } else { hi })
        })
    };
    let merge = |(lo, hi): (i64, i64), (l, h): (i64, i64)| (lo.min(l), hi.max(h));
    let (lo, hi) = if values.len() < PARALLEL_MIN_VOXELS {
        range_of(&values, &inside)
    } else {
        let chunk = PARALLEL_MIN_VOXELS / 4;
        values
            .par_chunks(chunk)
            .zip(inside.par_chunks(chunk))
            .map(|(values, inside)| range_of(values, inside))
            .reduce(|| (i64::MAX, i64::MIN), merge)
    };
    // Any voxel inside makes lo ≤ hi.
    if lo > hi {
        return Err(CoreError::EmptyRoi(" (no voxel is left in the intensity mask to discretise)".to_string()));
    }
    Ok((from_total_order_key(lo), from_total_order_key(hi)))
}

/// `value` as an integer whose order is `f64::total_cmp`'s (the transform `total_cmp` itself
/// makes: negative values' magnitude bits flipped).
fn total_order_key(value: f64) -> i64 {
    let bits = value.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The value of a [`total_order_key`] (the transform is its own inverse: the sign stays).
fn from_total_order_key(key: i64) -> f64 {
    f64::from_bits((key ^ ((((key >> 63) as u64) >> 1) as i64)) as u64)
}

/// Level of each intensity-mask voxel by `level_of`, 0 outside, x-fastest (Fortran) layout;
/// with the highest level (0 when every voxel is outside), `None` for no voxel, found in the
/// same pass.
fn levels_from(roi: &Roi, level_of: impl Fn(f64) -> u16 + Sync) -> (Array3<u16>, Option<u16>) {
    let mut levels = Array3::<u16>::zeros(roi.image.data.dim().f());
    let set = |highest: u16, level: &mut u16, &value: &f64, &inside: &bool| {
        if inside {
            *level = level_of(value);
        }
        highest.max(*level)
    };
    let voxels = Zip::from(&mut levels).and(&roi.image.data).and(&roi.intensity);
    let highest = if roi.image.data.len() < PARALLEL_MIN_VOXELS {
        voxels.fold(0, set)
    } else {
        voxels.par_fold(|| 0, set, u16::max)
    };
    let any = !levels.is_empty();
    (levels, any.then_some(highest))
}

/// `numpy.digitize` against ascending `edges` without a binary search per voxel: the edges
/// are (nearly) evenly spaced, so the line through the first and last gives each intensity's
/// bin, which comparing with the edges themselves then settles (at most a step or two). The
/// count is exactly `edges.partition_point(|&e| e <= x)`; the search's branches, one coin toss
/// per halving, cost more than the voxel's other work.
struct EdgeCounter<'a> {
    edges: &'a [f64],
    first: f64,
    /// Edges per unit of intensity.
    per_unit: f64,
}

impl<'a> EdgeCounter<'a> {
    fn new(edges: &'a [f64]) -> EdgeCounter<'a> {
        let n = edges.len();
        let first = edges.first().copied().unwrap_or(0.0);
        let span = edges.last().map_or(0.0, |&last| last - first);
        let per_unit = if n > 1 && span > 0.0 { (n - 1) as f64 / span } else { 0.0 };
        EdgeCounter { edges, first, per_unit }
    }

    /// The number of edges ≤ `x` (0 for NaN).
    fn count(&self, x: f64) -> usize {
        let edges = self.edges;
        let guess = (x - self.first) * self.per_unit + 1.0;
        // NaN and negative guesses start at 0; `as` saturates large ones.
        let mut k = if guess > 0.0 { (guess as usize).min(edges.len()) } else { 0 };
        // Down while the edge below is not ≤ x (above it, or x is NaN).
        while k > 0 && edges[k - 1].partial_cmp(&x).is_none_or(|o| o.is_gt()) {
            k -= 1;
        }
        while k < edges.len() && edges[k] <= x {
            k += 1;
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;
    use crate::volume::Volume;

    fn roi(values: &[f64], inside: &[bool]) -> Roi {
        let grid = Grid::new([values.len(), 1, 1], [2.0; 3]);
        let image = Volume::from_x_fastest(grid, values.to_vec());
        let mask = Volume::from_x_fastest(grid, inside.to_vec()).data;
        Roi { image, morphological: mask.clone(), intensity: mask }
    }

    mod edges_and_keys {
        use super::super::{EdgeCounter, from_total_order_key, total_order_key};
        use proptest::prelude::*;

        fn special() -> impl Strategy<Value = f64> {
            prop_oneof![
                Just(f64::NAN),
                Just(-f64::NAN),
                Just(f64::INFINITY),
                Just(f64::NEG_INFINITY),
                Just(0.0),
                Just(-0.0),
                Just(f64::MIN_POSITIVE / 2.0),
            ]
        }

        proptest! {
            /// The guessed and settled count equals the binary search's, on arange-like edges
            /// (PyRadiomics' binWidth), linspace-like ones with the last raised (binCount) and
            /// uneven ones, for intensities on, between and beyond the edges, NaN included.
            #[test]
            fn edge_count_equals_partition_point(
                low in -3000.0f64..3000.0,
                width in prop_oneof![Just(25.0), Just(0.1), 0.001f64..100.0],
                n in 2usize..60,
                kind in 0u8..3,
                jitter in prop::collection::vec(0.0f64..1.0, 60),
                xs in prop::collection::vec(prop_oneof![
                    (-40i32..80).prop_map(f64::from), -4000.0f64..8000.0, special()], 1..80),
            ) {
                let mut edges: Vec<f64> = (0..n).map(|k| low + k as f64 * width).collect();
                match kind {
                    1 => edges[n - 1] += 1.0,
                    2 => for k in 1..n { edges[k] = edges[k - 1] + width * (0.01 + 3.0 * jitter[k]) },
                    _ => {}
                }
                let counter = EdgeCounter::new(&edges);
                // Intensities on the edges too: ties count as ≤.
                for x in xs.iter().copied().chain(edges.iter().copied()) {
                    let scaled = if x.is_finite() && x.abs() < 100.0 { low + x * width } else { x };
                    prop_assert_eq!(counter.count(scaled), edges.partition_point(|&e| e <= scaled), "x = {}", scaled);
                }
            }

            /// Integer keys order values as `f64::total_cmp` does, and give them back bit for bit.
            #[test]
            fn total_order_keys_order_as_total_cmp(
                a in prop_oneof![any::<f64>(), special()],
                b in prop_oneof![any::<f64>(), special()],
            ) {
                prop_assert_eq!(total_order_key(a).cmp(&total_order_key(b)), a.total_cmp(&b));
                prop_assert_eq!(from_total_order_key(total_order_key(a)).to_bits(), a.to_bits());
            }
        }
    }

    /// The range as the total order's minimum and maximum, voxel by voxel, and every level's
    /// bin by the binary search the edge counter replaces (the simple forms).
    #[test]
    fn range_and_levels_equal_their_simple_forms() {
        use proptest::prelude::*;
        let values = prop::collection::vec(
            prop_oneof![(-30i32..30).prop_map(|v| f64::from(v) * 12.5), -400.0f64..400.0, Just(-0.0), Just(0.0)],
            1..120,
        );
        let inside = prop::collection::vec(prop::bool::weighted(0.7), 120);
        proptest!(|(values in values, inside in inside, width in prop_oneof![Just(25.0), 0.5f64..60.0])| {
            let r = roi(&values, &inside[..values.len()]);
            let picked: Vec<f64> = values.iter().zip(&inside).filter(|(_, m)| **m).map(|(v, _)| *v).collect();
            let range = intensity_range(&r);
            let Some(&first) = picked.first() else {
                prop_assert!(range.is_err());
                return Ok(());
            };
            let lo = picked.iter().fold(first, |a, &b| if b.total_cmp(&a).is_lt() { b } else { a });
            let hi = picked.iter().fold(first, |a, &b| if b.total_cmp(&a).is_gt() { b } else { a });
            let (min, max) = range.unwrap();
            prop_assert_eq!((min.to_bits(), max.to_bits()), (lo.to_bits(), hi.to_bits()));
            let d = discretise_pyradiomics_bin_width(&r, width).unwrap();
            let low = lo - lo.rem_euclid(width);
            let count = ((hi + 2.0 * width - low) / width).ceil() as usize;
            let mut edges: Vec<f64> = (0..count).map(|k| low + k as f64 * width).collect();
            if edges.len() == 1 {
                edges = vec![edges[0] - 0.5, edges[0] + 0.5];
            }
            let want: Vec<u16> = values
                .iter()
                .zip(&inside)
                .map(|(&x, &m)| if m { edges.partition_point(|&e| e <= x) as u16 } else { 0 })
                .collect();
            prop_assert_eq!(levels(&d), want.clone());
            prop_assert_eq!(d.ng, usize::from(want.iter().copied().max().unwrap_or(1).max(1)));
        });
    }

    fn levels(d: &DiscretisedRoi) -> Vec<u16> {
        d.levels.t().iter().copied().collect()
    }

    #[test]
    fn fixed_bin_number_hand_worked() {
        // X_min = 0, X_max = 10, N_g = 4: bin width 2.5. 0 → ⌊0⌋+1 = 1, 2.5 → ⌊1⌋+1 = 2,
        // 4.9 → ⌊1.96⌋+1 = 2, 7.5 → 4, 10 = X_max → 4; the voxel outside the mask → 0.
        let r = roi(&[0.0, 2.5, 4.9, 7.5, 10.0, 99.0], &[true, true, true, true, true, false]);
        let d = discretise_fixed_bin_number(&r, 4).unwrap();
        assert_eq!(levels(&d), vec![1, 2, 2, 4, 4, 0]);
        assert_eq!(d.ng, 4);
        assert_eq!(d.spacing, [2.0; 3]);
    }

    #[test]
    fn fixed_bin_number_digital_phantom_levels_unchanged() {
        // The IBSI notes that FBN with 6 bins leaves the phantom's levels {1, 3, 4, 6} as
        // they are: 6·(x − 1)/5: 1 → 1, 3 → ⌊2.4⌋+1 = 3, 4 → ⌊3.6⌋+1 = 4, 6 → 6.
        let r = roi(&[1.0, 3.0, 4.0, 6.0], &[true; 4]);
        assert_eq!(levels(&discretise_fixed_bin_number(&r, 6).unwrap()), vec![1, 3, 4, 6]);
    }

    #[test]
    fn fixed_bin_number_constant_roi_is_level_one() {
        let r = roi(&[5.0, 5.0, 5.0], &[true; 3]);
        let d = discretise_fixed_bin_number(&r, 32).unwrap();
        assert_eq!(levels(&d), vec![1, 1, 1]);
        assert_eq!(d.ng, 32);
    }

    #[test]
    fn fixed_bin_size_hand_worked() {
        // Config A style: lower bound −500, w = 25. −500 → 1, −476 → ⌊0.96⌋+1 = 1,
        // −475 → 2, 377 → ⌊35.08⌋+1 = 36 = N_g (the top level present).
        let r = roi(&[-500.0, -476.0, -475.0, 377.0], &[true; 4]);
        let d = discretise_fixed_bin_size(&r, 25.0, -500.0).unwrap();
        assert_eq!(levels(&d), vec![1, 1, 2, 36]);
        assert_eq!(d.ng, 36);
    }

    #[test]
    fn errors_for_bad_settings_and_empty_roi() {
        let r = roi(&[1.0, 2.0], &[true, true]);
        assert!(matches!(discretise_fixed_bin_number(&r, 0), Err(CoreError::InvalidSetting { .. })));
        assert!(matches!(discretise_fixed_bin_size(&r, 0.0, 0.0), Err(CoreError::InvalidSetting { .. })));
        assert!(matches!(discretise_fixed_bin_size(&r, -1.0, 0.0), Err(CoreError::InvalidSetting { .. })));
        assert!(matches!(discretise_fixed_bin_size(&r, 1.0, 1.5), Err(CoreError::InvalidSetting { .. })));
        assert!(matches!(discretise_fixed_bin_size(&r, 1e-9, 0.0), Err(CoreError::InvalidSetting { .. })));
        let empty = roi(&[1.0, 2.0], &[false, false]);
        assert!(matches!(discretise_fixed_bin_number(&empty, 8), Err(CoreError::EmptyRoi(_))));
        assert!(matches!(discretise_fixed_bin_size(&empty, 1.0, 0.0), Err(CoreError::EmptyRoi(_))));
    }

    #[test]
    fn pyradiomics_bin_width_starts_at_a_multiple_below_the_minimum() {
        // w = 25, min = 37: lowBound = 37 − (37 mod 25) = 25, edges 25, 50, 75, 100, …
        // 37 → 1 (25 ≤ 37 < 50), 50 → 2, 99 → 3, 100 → 4. IBSI Q3RU from 37 would give
        // 1, 1, 3, 3 instead. Negative: min = −30: lowBound = −30 − (−30 mod 25 = 20) = −50;
        // −30 → 1, −25 → 2, 0 → 3.
        let d = discretise_pyradiomics_bin_width(&roi(&[37.0, 50.0, 99.0, 100.0], &[true; 4]), 25.0).unwrap();
        assert_eq!(levels(&d), vec![1, 2, 3, 4]);
        assert_eq!(d.ng, 4);
        let d = discretise_pyradiomics_bin_width(&roi(&[-30.0, -25.0, 0.0], &[true; 3]), 25.0).unwrap();
        assert_eq!(levels(&d), vec![1, 2, 3]);
    }

    #[test]
    fn pyradiomics_bin_count_follows_numpy_histogram_edges() {
        // 4 bins over [0, 8]: edges 0, 2, 4, 6, 8 (+1 → 9). 0 → 1, 2 → 2, 7.9 → 4, 8 → 4.
        let d = discretise_pyradiomics_bin_count(&roi(&[0.0, 2.0, 7.9, 8.0], &[true; 4]), 4).unwrap();
        assert_eq!(levels(&d), vec![1, 2, 4, 4]);
        assert_eq!(d.ng, 4);
        // Flat ROI: edges 4.5, 4.83, 5.17, 6.5 (min ± ½); 5 lies in the middle bin → level 2 = N_g.
        let d = discretise_pyradiomics_bin_count(&roi(&[5.0, 5.0], &[true; 2]), 3).unwrap();
        assert_eq!(levels(&d), vec![2, 2]);
        assert_eq!(d.ng, 2);
    }
}
