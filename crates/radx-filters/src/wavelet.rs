//! Separable wavelets (IBSI-2 25BO): Haar, Daubechies, symlets, Coiflets, one sub-band of
//! one decomposition level.
//!
//! Filters: PyWavelets' `dec_lo` (L, table in [`coefficients`]) and H[m] = (−1)^(m+1)·L[N−1−m].
//! An even filter of N taps is zero-extended at its end and centred at N/2
//! (`Kernel1d { offset: N/2 }`); the other alignment shifts the map by a voxel (FILTERS.md §5).
//! The sub-band name reads one letter per axis i, j[, k] (`LHL`; two letters: slice-wise).
//!
//! **Undecimated** (stationary, à trous; IBSI's): levels 1..L−1 low-pass every axis, level L
//! applies the sub-band's filters, and the filters of level ℓ are dilated by 2^(ℓ−1).
//! Rotation invariance turns the whole cascade (pre-filters included) and pools, by the
//! mean in IBSI.
//!
//! **Decimated** (Mallat) — radx's own convention, not covered by IBSI-2 (no test or
//! reference map exists). MIRP names a `separable_wavelet_stationary` setting (IBSI id PH3R,
//! `decimated` in feature names) but its transform always runs the à trous cascade;
//! PyRadiomics offers only the stationary transform (`pywt.swtn`). radx runs the standard
//! Mallat cascade: at each level filter with the undilated filters (same alignment) and keep
//! the even-indexed samples along each filtered axis. The level-L coefficient m therefore
//! equals the undecimated response at voxel m·2^L (exactly so for a periodic boundary on
//! sizes divisible by 2^L). To give a map on the input grid, each coefficient is repeated
//! over its 2^L block: voxel n takes coefficient ⌊n / 2^L⌋. The sampling phase is tied to the
//! image's first voxel, so the filter needs the whole image ([`Margin::WholeImage`]).

// Four taps a line (rustfmt would give each of the ~900 numbers its own line).
#[rustfmt::skip]
mod coefficients;

use ndarray::{Array3, ArrayView3};

use crate::error::FilterError;
use crate::laws::SeparableProduct;
use crate::rotation::Pooling;
use crate::separable::Kernel1d;
use crate::{Boundary, Filter, Margin};

/// The deepest level accepted: a level-ℓ filter reaches 2^(ℓ−1) times its length, already
/// far beyond any image at 12 (and 2^(ℓ−1) would overflow long before 64).
pub const MAX_LEVEL: usize = 12;

/// The wavelet names accepted, for error messages.
const KNOWN: [&str; 4] = ["haar", "db1 … db20", "sym2 … sym20", "coif1 … coif5"];

/// One sub-band of a separable wavelet decomposition.
#[derive(Debug, Clone, PartialEq)]
pub struct SeparableWavelet {
    name: String,
    subband: String,
    level: usize,
    product: SeparableProduct,
}

/// The low-pass filter of a wavelet named as PyWavelets does (`haar` = `db1`).
fn low_pass(wavelet: &str) -> Result<&'static [f64], FilterError> {
    let name = wavelet.to_ascii_lowercase();
    let table_name = if name == "haar" { "db1" } else { name.as_str() };
    coefficients::dec_lo(table_name).ok_or_else(|| FilterError::unknown("wavelet", "wavelet", wavelet, &KNOWN))
}

/// PyWavelets' decomposition low-pass filter `dec_lo` of `wavelet` (`haar`, `db1`…`db20`,
/// `sym2`…`sym20`, `coif1`…`coif5`, any case), in PyWavelets' order.
pub fn decomposition_low_pass(wavelet: &str) -> Result<&'static [f64], FilterError> {
    low_pass(wavelet)
}

/// PyWavelets' decomposition high-pass filter `dec_hi` of `wavelet` (the QMF of `dec_lo`).
pub fn decomposition_high_pass(wavelet: &str) -> Result<Vec<f64>, FilterError> {
    low_pass(wavelet).map(high_pass)
}

/// The QMF high-pass filter of a low-pass one.
fn high_pass(low: &[f64]) -> Vec<f64> {
    let n = low.len();
    (0..n).map(|m| if m % 2 == 0 { -low[n - 1 - m] } else { low[n - 1 - m] }).collect()
}

/// The sub-band's letters, upper case: two or three of L and H.
fn parse_subband(subband: &str) -> Result<Vec<bool>, FilterError> {
    let letters = subband.to_ascii_uppercase();
    let ok = (letters.len() == 2 || letters.len() == 3) && letters.chars().all(|c| c == 'L' || c == 'H');
    if !ok {
        let reason = format!("`{subband}` is not 2 or 3 letters L/H (one per axis i, j[, k]), e.g. `LH` or `LHL`");
        return Err(FilterError::invalid("subband", reason));
    }
    Ok(letters.chars().map(|c| c == 'H').collect())
}

impl SeparableWavelet {
    /// `wavelet` (`haar`, `db1`…`db20`, `sym2`…`sym20`, `coif1`…`coif5`), `subband`
    /// (`LHL`, `LH`, any case), `level` 1..=[`MAX_LEVEL`], `rotation` (IBSI: mean),
    /// `decimated` (see the module doc: not IBSI's).
    pub fn new(
        wavelet: &str,
        subband: &str,
        level: usize,
        rotation: Option<Pooling>,
        decimated: bool,
        boundary: Boundary,
    ) -> Result<Self, FilterError> {
        let low = low_pass(wavelet)?;
        let high_along = parse_subband(subband)?;
        if !(1..=MAX_LEVEL).contains(&level) {
            return Err(FilterError::invalid("level", format!("must be 1 to {MAX_LEVEL}, got {level}")));
        }
        let kernel = |taps: Vec<f64>, level: usize| {
            let step = if decimated { 1 } else { 1 << (level - 1) };
            Kernel1d { offset: taps.len() / 2, taps, step }
        };
        let cascade = |high: bool| -> Vec<Kernel1d> {
            let mut stages: Vec<Kernel1d> = (1..level).map(|l| kernel(low.to_vec(), l)).collect();
            stages.push(kernel(if high { high_pass(low) } else { low.to_vec() }, level));
            stages
        };
        let cascades = high_along.iter().map(|&h| cascade(h)).collect();
        let product = SeparableProduct { cascades, rotation, energy_delta: None, decimated, boundary };
        let (name, subband) = (wavelet.to_ascii_lowercase(), subband.to_ascii_lowercase());
        Ok(SeparableWavelet { name, subband, level, product })
    }
}

impl Filter for SeparableWavelet {
    fn image_type(&self) -> String {
        let decimated = if self.product.decimated { "_decimated" } else { "" };
        format!("wavelet_{}_{}_l{}{}{decimated}", self.name, self.subband, self.level, self.product.suffix())
    }

    /// [`SeparableProduct::working_volumes`] image-sized volumes.
    fn working_bytes(&self, dims: [usize; 3], _spacing: [f64; 3]) -> u64 {
        crate::volume_bytes(dims).saturating_mul(self.product.working_volumes())
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        self.product.margin()
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        self.product.apply(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qmf_rule_gives_the_published_high_pass_filters() {
        // FILTERS.md §5: db2 H = [−0.482963, 0.836516, −0.224144, −0.129410].
        let h = high_pass(low_pass("db2").unwrap());
        let expected = [-0.482963, 0.836516, -0.224144, -0.129410];
        assert!(h.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{h:?}");
        assert_eq!(low_pass("HAAR").unwrap(), low_pass("db1").unwrap());
        assert_eq!(low_pass("coif5").unwrap().len(), 30);
        assert_eq!(low_pass("sym20").unwrap().len(), 40);
    }

    #[test]
    fn names_and_margins_follow_the_cascade() {
        let w = SeparableWavelet::new("Haar", "hhh", 2, Some(Pooling::Mean), false, Boundary::Mirror).unwrap();
        assert_eq!(w.image_type(), "wavelet_haar_hhh_l2_rotmean");
        // Level 1: 2 taps reach 1; level 2, dilated by 2: reach 2.
        assert_eq!(w.margin([1.0; 3]), Margin::Voxels([3, 3, 3]));
        let d = SeparableWavelet::new("db2", "LH", 1, None, true, Boundary::Zero).unwrap();
        assert_eq!(d.image_type(), "wavelet_db2_lh_l1_decimated");
        assert_eq!(d.margin([1.0; 3]), Margin::WholeImage);
    }
}
