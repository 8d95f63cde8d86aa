//! Non-texture sources: the discretised-intensity histogram (IBSI 1, section 3.4, ZVCW)
//! and the intensity-volume histogram (IBSI 1, section 3.5, P88C).
//!
//! The ROI intensity vector itself is [`crate::roi::Roi::intensities`]; local intensity
//! peaks live in [`crate::local_intensity`].

use std::borrow::Cow;

use crate::error::CoreError;
use crate::matrix::DiscretisedRoi;

/// Voxel counts `n_i` of each grey level `i = 1..=N_g` (entry `i − 1`) over the intensity
/// mask; levels that do not occur keep a 0 (IBSI ZVCW: the histogram spans all N_g bins).
pub fn histogram(levels: &DiscretisedRoi) -> Vec<f64> {
    let ng = levels.ng;
    let flat = crate::iter::x_fastest(&levels.levels);
    // Four tallies, voxel k adding to tally k mod 4 (slot 0: outside the ROI or above N_g,
    // not counted): neighbours of one level then do not each wait for the last's add, and no
    // branch depends on the levels. Whole counts, so the order does not change them.
    const LANES: usize = 4;
    let mut tallies = vec![0u64; (ng + 1) * LANES];
    let slot = |level: u16| {
        let level = usize::from(level);
        if level <= ng { level * LANES } else { 0 }
    };
    let mut quads = flat.chunks_exact(LANES);
    for quad in &mut quads {
        for (lane, &level) in quad.iter().enumerate() {
            tallies[slot(level) + lane] += 1;
        }
    }
    for (lane, &level) in quads.remainder().iter().enumerate() {
        tallies[slot(level) + lane] += 1;
    }
    tallies[LANES..].chunks_exact(LANES).map(|lanes| lanes.iter().sum::<u64>() as f64).collect()
}

/// The discretised intensities `X_d` of the intensity-mask voxels, x-fastest: the values
/// that the intensity-histogram features (mean, percentiles, …) are computed on.
pub fn roi_levels(levels: &DiscretisedRoi) -> Vec<f64> {
    levels.levels.t().iter().filter(|&&level| level > 0).map(|&level| f64::from(level)).collect()
}

/// How the intensities are discretised for the IVH (IBSI 3.5), which also fixes the total
/// range `G` and the interval `w_d` between the evaluated intensities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IvhDiscretisation {
    /// Discrete calibrated intensities (e.g. CT HU): `X_d,gl = X_gl`, `w_d = 1`,
    /// `G = [min, max]` — the re-segmentation range when one is set (IBSI configs A, B),
    /// else the ROI's minimum and maximum (config D, digital phantom; see
    /// [`IvhDiscretisation::roi_range`]).
    None { min: f64, max: f64 },
    /// Continuous calibrated intensities (e.g. PET; config C): fixed bin size `width`
    /// starting at `min`, bin numbers replaced by bin centres `min + (X_d − 0.5)·width`,
    /// `w_d = width`, `G = [min + width/2, max − width/2]`.
    FixedBinSize { width: f64, min: f64, max: f64 },
    /// Arbitrary units (config E): fixed bin number over the ROI's own minimum and maximum,
    /// `X_d,gl = X_d`, `w_d = 1`, `G = [1, bins]`.
    FixedBinNumber { bins: usize },
}

impl IvhDiscretisation {
    /// `None` with `G` spanning the intensities' own minimum and maximum, or `None` (the
    /// Option) for an empty slice.
    pub fn roi_range(intensities: &[f64]) -> Option<IvhDiscretisation> {
        let min = intensities.iter().copied().reduce(f64::min)?;
        let max = intensities.iter().copied().reduce(f64::max)?;
        Some(IvhDiscretisation::None { min, max })
    }
}

/// The (cumulative) intensity-volume histogram, evaluated at every discretised intensity
/// `i` of the total range `G` in steps of `w_d`, including intensities no voxel has.
#[derive(Debug, Clone, PartialEq)]
pub struct IntensityVolumeHistogram {
    /// The discretised intensities `i`, increasing, from `min(G)` to `max(G)`.
    pub values: Vec<f64>,
    /// `ν_i = 1 − (1/N_v) Σ_k [X_d,gl,k < i]`: fraction of the volume with intensity ≥ i.
    pub volume_fraction: Vec<f64>,
    /// `γ_i = (i − min G)/(max G − min G)` (0 when G is a single intensity).
    pub intensity_fraction: Vec<f64>,
}

/// At most this many evaluated intensities (a guard against a tiny `w_b` over a huge range).
pub const MAX_IVH_POINTS: usize = 10_000_000;

/// Build the intensity-volume histogram of the intensity-mask voxel `intensities`.
///
/// # Errors
/// [`CoreError::EmptyRoi`] without intensities; [`CoreError::InvalidSetting`] for a
/// non-positive bin width, zero bins, a range with `min > max` or not finite, or a range
/// needing more than [`MAX_IVH_POINTS`] points.
pub fn intensity_volume_histogram(
    intensities: &[f64],
    discretisation: IvhDiscretisation,
) -> Result<IntensityVolumeHistogram, CoreError> {
    if intensities.is_empty() {
        return Err(CoreError::EmptyRoi(" (no voxel for the intensity-volume histogram)".to_string()));
    }
    let invalid = |reason: String| CoreError::InvalidSetting { name: "IVH discretisation", reason };
    let check_range = |min: f64, max: f64| {
        if min.is_finite() && max.is_finite() && min <= max {
            Ok(())
        } else {
            Err(invalid(format!("the total range must satisfy min ≤ max, got [{min}, {max}]")))
        }
    };
    let check_points = |points: f64| {
        if points <= MAX_IVH_POINTS as f64 {
            Ok(points as usize)
        } else {
            Err(invalid(format!("the range needs {points} intensities, more than {MAX_IVH_POINTS}")))
        }
    };
    // Every voxel's discretised value and the evaluated intensities are computed with the
    // same expression of an integer step, so equal steps compare equal exactly.
    // Undiscretised intensities are read in place (nothing sorts them).
    let (voxels, values): (Cow<'_, [f64]>, Vec<f64>) = match discretisation {
        IvhDiscretisation::None { min, max } => {
            check_range(min, max)?;
            let steps = check_points((max - min + 1e-9).floor() + 1.0)?;
            (Cow::Borrowed(intensities), (0..steps).map(|j| min + j as f64).collect())
        }
        IvhDiscretisation::FixedBinSize { width, min, max } => {
            if !(width.is_finite() && width > 0.0) {
                return Err(invalid(format!("the bin width must be positive, got {width}")));
            }
            check_range(min, max)?;
            let bins = check_points(((max - min) / width - 1e-9).ceil().max(1.0))?;
            let centre = |bin: f64| min + (bin - 0.5) * width;
            let voxels = intensities.iter().map(|&x| centre(((x - min) / width).floor() + 1.0)).collect();
            (Cow::Owned(voxels), (1..=bins).map(|bin| centre(bin as f64)).collect())
        }
        IvhDiscretisation::FixedBinNumber { bins } => {
            if bins == 0 {
                return Err(invalid("fixed bin number discretisation needs at least 1 bin".to_string()));
            }
            check_points(bins as f64)?;
            let min = intensities.iter().copied().fold(f64::INFINITY, f64::min);
            let max = intensities.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let bins_f = bins as f64;
            let level = |x: f64| {
                if max <= min {
                    1.0
                } else if x >= max {
                    bins_f
                } else {
                    ((bins_f * (x - min) / (max - min)).floor() + 1.0).clamp(1.0, bins_f)
                }
            };
            (Cow::Owned(intensities.iter().map(|&x| level(x)).collect()), (1..=bins).map(|b| b as f64).collect())
        }
    };
    let n_voxels = voxels.len() as f64;
    // (N_v − below)/N_v: the same value as 1 − below/N_v, rounded once.
    let volume_fraction =
        counts_below(&voxels, &values).into_iter().map(|below| (voxels.len() - below) as f64 / n_voxels).collect();
    let (g_min, g_max) = (values[0], values[values.len() - 1]);
    let intensity_fraction =
        values.iter().map(|&i| if g_max > g_min { (i - g_min) / (g_max - g_min) } else { 0.0 }).collect();
    Ok(IntensityVolumeHistogram { values, volume_fraction, intensity_fraction })
}

/// For each of the increasing `values`, how many `voxels` lie below it (NaN lies below
/// none). Without sorting: each voxel's first value above it is guessed from the line
/// through the first and last values (the values are evenly spaced) and then settled by
/// comparing with the values themselves, so the counts are exactly those of a sorted
/// merge; the tally of first values, summed, gives the counts. Sorting 200 000 CT
/// intensities took twice as long.
fn counts_below(voxels: &[f64], values: &[f64]) -> Vec<usize> {
    let m = values.len();
    let Some(&first) = values.first() else { return Vec::new() };
    let step = if m > 1 { (values[m - 1] - first) / (m - 1) as f64 } else { 1.0 };
    // tally[j]: voxels whose first value above is values[j] (m: none is).
    let mut tally = vec![0usize; m + 1];
    for &x in voxels {
        let guess = (x - first) / step;
        // NaN and negative guesses start at 0; `as` saturates large ones.
        let mut j = if guess > 0.0 { (guess as usize).min(m) } else { 0 };
        while j > 0 && x < values[j - 1] {
            j -= 1;
        }
        // Not below values[j] (NaN is below none).
        while j < m && x.partial_cmp(&values[j]) != Some(std::cmp::Ordering::Less) {
            j += 1;
        }
        tally[j] += 1;
    }
    tally[..m]
        .iter()
        .scan(0, |below, &t| {
            *below += t;
            Some(*below)
        })
        .collect()
}

impl IntensityVolumeHistogram {
    /// `V_x` (IBSI BC2M): the largest volume fraction `ν` among the intensities whose
    /// intensity fraction `γ` is at least `fraction` (e.g. 0.10 for V10). NaN when no
    /// intensity qualifies (only for `fraction > 1`, or a single-intensity range).
    pub fn volume_at_intensity_fraction(&self, fraction: f64) -> f64 {
        self.intensity_fraction
            .iter()
            .zip(&self.volume_fraction)
            .filter(|(gamma, _)| **gamma >= fraction)
            .map(|(_, nu)| *nu)
            .reduce(f64::max)
            .unwrap_or(f64::NAN)
    }

    /// `I_x` (IBSI GBPN): the smallest intensity `i` whose volume fraction `ν_i` is at most
    /// `fraction` (e.g. 0.10 for I10). When none is (more than `fraction` of the volume
    /// sits at the top of the range), the top intensity of the range, as MIRP does.
    pub fn intensity_at_volume_fraction(&self, fraction: f64) -> f64 {
        self.values
            .iter()
            .zip(&self.volume_fraction)
            .find(|(_, nu)| **nu <= fraction)
            .map(|(i, _)| *i)
            .unwrap_or_else(|| self.values.last().copied().unwrap_or(f64::NAN))
    }

    /// Area under the `ν(γ)` curve by the trapezoidal rule (IBSI 9CMM; 0 for a single
    /// intensity). The IBSI gives no reference value for it.
    pub fn area_under_curve(&self) -> f64 {
        let gamma = &self.intensity_fraction;
        let nu = &self.volume_fraction;
        (1..gamma.len()).map(|k| (gamma[k] - gamma[k - 1]) * (nu[k] + nu[k - 1]) / 2.0).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, ShapeBuilder};

    mod counts_below {
        use super::super::counts_below;
        use proptest::prelude::*;

        proptest! {
            /// Each count is the number of voxels below that value, counted one by one, on
            /// evenly spaced values (as the histogram makes them) and on uneven ones (where
            /// the first guesses are far off).
            #[test]
            fn count_the_voxels_below(
                voxels in prop::collection::vec(
                    prop_oneof![(-50i32..50).prop_map(f64::from), -60.0f64..60.0, Just(f64::NAN)],
                    0..200,
                ),
                // Whole starts and steps make values equal to voxels: ties must not count.
                start in prop_oneof![(-60i32..10).prop_map(f64::from), -60.0f64..10.0],
                gaps in prop::collection::vec(prop_oneof![Just(1.0), Just(0.5), 0.01f64..9.0], 1..40),
                even in any::<bool>(),
            ) {
                let values: Vec<f64> = (0..gaps.len())
                    .map(|k| if even { start + k as f64 * gaps[0] } else { start + gaps[..k].iter().sum::<f64>() })
                    .collect();
                let want: Vec<usize> = values.iter().map(|&v| voxels.iter().filter(|&&x| x < v).count()).collect();
                prop_assert_eq!(counts_below(&voxels, &values), want);
            }
        }
    }

    proptest::proptest! {
        /// The four-tally histogram equals counting each level's voxels one by one, levels
        /// above N_g (not counted) and outside the ROI (0) included, for any box size.
        #[test]
        fn histogram_counts_each_level(
            dims in (1usize..9, 1usize..7, 1usize..5),
            ng in 1usize..12,
            values in proptest::collection::vec(0u16..14, 9 * 7 * 5),
        ) {
            let n = dims.0 * dims.1 * dims.2;
            let levels = Array3::from_shape_vec(dims.f(), values[..n].to_vec()).unwrap();
            let want: Vec<f64> =
                (1..=ng).map(|g| values[..n].iter().filter(|&&l| usize::from(l) == g).count() as f64).collect();
            let roi = DiscretisedRoi { morphological: levels.mapv(|l| l > 0), levels, ng, spacing: [1.0; 3] };
            proptest::prop_assert_eq!(histogram(&roi), want);
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn histogram_keeps_empty_levels_and_ignores_outside() {
        let levels = Array3::from_shape_vec((5, 1, 1).f(), vec![1u16, 3, 3, 0, 4]).unwrap();
        let d =
            DiscretisedRoi { levels, ng: 5, morphological: Array3::from_elem((5, 1, 1).f(), true), spacing: [1.0; 3] };
        assert_eq!(histogram(&d), vec![1.0, 0.0, 2.0, 1.0, 0.0]);
        assert_eq!(roi_levels(&d), vec![1.0, 3.0, 3.0, 4.0]);
    }

    #[test]
    fn ivh_digital_phantom_table() {
        // The manual's example IVH (table "TableAUC-CVH"): 74 voxels of which 50 have
        // level 1, 1 has 3, 16 have 4 and 7 have 6 (ν at 2 = 24/74 = 0.324, at 4 = 23/74 =
        // 0.311, at 5 = 7/74 = 0.095). G = [1, 6], w = 1.
        let mut x = vec![1.0; 50];
        x.extend([3.0]);
        x.extend([4.0; 16]);
        x.extend([6.0; 7]);
        let ivh = intensity_volume_histogram(&x, IvhDiscretisation::roi_range(&x).unwrap()).unwrap();
        assert_eq!(ivh.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let expected_nu = [1.0, 24.0 / 74.0, 24.0 / 74.0, 23.0 / 74.0, 7.0 / 74.0, 7.0 / 74.0];
        for (got, want) in ivh.volume_fraction.iter().zip(expected_nu) {
            assert!(close(*got, want), "{got} vs {want}");
        }
        assert!(close(ivh.intensity_fraction[1], 0.2));
        // V10: first γ ≥ 0.1 is i = 2 → 24/74; I10: first ν ≤ 0.1 is i = 5; I90: i = 2.
        assert!(close(ivh.volume_at_intensity_fraction(0.1), 24.0 / 74.0));
        assert!(close(ivh.volume_at_intensity_fraction(0.9), 7.0 / 74.0));
        assert_eq!(ivh.intensity_at_volume_fraction(0.1), 5.0);
        assert_eq!(ivh.intensity_at_volume_fraction(0.9), 2.0);
        // Trapezoids of width 0.2: 0.2·(ν1/2 + ν2 + ν3 + ν4 + ν5 + ν6/2).
        let auc = 0.2 * (0.5 + (24.0 + 24.0 + 23.0 + 7.0) / 74.0 + 3.5 / 74.0);
        assert!(close(ivh.area_under_curve(), auc));
    }

    #[test]
    fn ivh_fixed_bin_size_uses_bin_centres() {
        // FBS w = 2.5 from −1000 to −990: 4 bins, centres −998.75, −996.25, −993.75, −991.25;
        // −1000 → bin 1, −995 → ⌊2⌋+1 = bin 3, −990 (the range max) → bin 5, beyond G.
        let x = [-1000.0, -995.0, -990.0];
        let ivh =
            intensity_volume_histogram(&x, IvhDiscretisation::FixedBinSize { width: 2.5, min: -1000.0, max: -990.0 })
                .unwrap();
        assert_eq!(ivh.values, vec![-998.75, -996.25, -993.75, -991.25]);
        assert_eq!(ivh.volume_fraction, vec![1.0, 2.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0]);
        assert!(close(ivh.intensity_fraction[1], 1.0 / 3.0));
    }

    #[test]
    fn ivh_fixed_bin_number_spans_one_to_bins() {
        // FBN 4 over [0, 8]: 0 → 1, 3 → ⌊1.5⌋+1 = 2, 8 → 4. G = [1, 4].
        let x = [0.0, 3.0, 8.0];
        let ivh = intensity_volume_histogram(&x, IvhDiscretisation::FixedBinNumber { bins: 4 }).unwrap();
        assert_eq!(ivh.values, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ivh.volume_fraction, vec![1.0, 2.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]);
        // No intensity holds ≤ 10 % of the volume: I10 falls back to the top of the range.
        assert_eq!(ivh.intensity_at_volume_fraction(0.1), 4.0);
    }

    #[test]
    fn ivh_errors() {
        assert!(matches!(
            intensity_volume_histogram(&[], IvhDiscretisation::FixedBinNumber { bins: 3 }),
            Err(CoreError::EmptyRoi(_))
        ));
        for bad in [
            IvhDiscretisation::FixedBinNumber { bins: 0 },
            IvhDiscretisation::FixedBinSize { width: 0.0, min: 0.0, max: 1.0 },
            IvhDiscretisation::None { min: 2.0, max: 1.0 },
            IvhDiscretisation::None { min: 0.0, max: 1e12 },
        ] {
            assert!(matches!(intensity_volume_histogram(&[1.0], bad), Err(CoreError::InvalidSetting { .. })));
        }
    }
}
