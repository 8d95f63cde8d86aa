//! PyRadiomics' `Wavelet` image type (`getWaveletImage` / `_swt3`): one sub-band of one level
//! of its stationary wavelet decomposition, with PyWavelets' filters.
//!
//! What PyRadiomics 3.0.1 computes, for `wavelet`, `start_level` (s) and `level` (L):
//! 1. the image (numpy z, y, x) is padded by one voxel at the end of every axis of odd
//!    length, by wrapping (`numpy.pad(…, 'wrap')`: the copy of the axis' first voxel);
//! 2. s times, then once per level: `pywt.swtn(data, wavelet, level=1, start_level=0)` over
//!    the transformed axes, and the approximation (all low-pass) becomes the next `data`;
//!    each `swtn` convolves every line circularly with PyWavelets' `dec_lo`/`dec_hi`:
//!    y[n] = Σ_j h[j]·x[(n + ⌊F/2⌋ − j) mod N] (the padded length N, F taps);
//! 3. each detail sub-band of levels s+1 … s+L, cropped back to the image's size, is an image
//!    type; the approximation only for the last level.
//!
//! **Where it differs from the IBSI's wavelet** ([`crate::wavelet`]): every level calls
//! `swtn` with `level=1`, so the filters are never dilated — PyRadiomics' level 2 is the
//! level-1 filters applied to the level-1 approximation, not the à trous cascade (filters
//! spread 2^(ℓ−1) apart) that the IBSI and `swtn(level=2)` use. The boundary is periodic over
//! the wrap-padded image, not the IBSI's mirror. Both are kept: the IBSI's level 2 is a
//! different sub-band.
//!
//! Names: `wavelet-LLH` for the first level computed, `wavelet2-LLH` for the second, … (the
//! level counts from `start_level`, which is not in the name); letters are x, y, z. With
//! `force2D` the axis `force2Ddimension` (numpy's: 0 = z, 1 = y, 2 = x) is not transformed
//! and the names have two letters (`wavelet-LH`). PyRadiomics 3.0.1 no longer resizes the
//! image with `numpy.resize` (older versions did); the padding above is all.
//!
//! Only the orthogonal families radx tabulates (`haar`, `db`, `sym`, `coif`) are offered;
//! PyRadiomics also accepts `bior`, `rbio` and `dmey`.

use ndarray::{Array3, ArrayView3};

use super::{map_lines, map_lines_in_place};
use crate::error::FilterError;
use crate::wavelet::{decomposition_high_pass, decomposition_low_pass};
use crate::{Filter, Margin};

/// One sub-band of one level of PyRadiomics' wavelet decomposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Wavelet {
    wavelet: String,
    subband: String,
    low: Vec<f64>,
    high: Vec<f64>,
    /// The radx axes transformed, in the order of the sub-band's letters.
    axes: Vec<usize>,
    start_level: usize,
    index: usize,
}

/// The radx axes (0 = x) PyRadiomics transforms: numpy's axes (2, 1, 0) = x, y, z, without
/// `force2Ddimension` (a numpy axis) when `force2D` is on.
fn transformed_axes(force2d_dimension: Option<usize>) -> Result<Vec<usize>, FilterError> {
    match force2d_dimension {
        None => Ok(vec![0, 1, 2]),
        Some(d) if d < 3 => Ok((0..3).filter(|&a| a != 2 - d).collect()),
        Some(d) => Err(FilterError::invalid("force2Ddimension", format!("must be 0, 1 or 2, got {d}"))),
    }
}

impl Wavelet {
    /// Sub-band `subband` (`LLH`…, `LLL`; two letters with `force2D`, any case) of the
    /// `index`-th level PyRadiomics computes (1-based: `wavelet-` for 1, `wavelet2-` for 2 …)
    /// after skipping `start_level` levels, for `wavelet` (PyWavelets' name: `coif1`, `haar`,
    /// `db1`…`db20`, `sym2`…`sym20`, `coif1`…`coif5`). `force2d_dimension`: `Some(numpy axis)`
    /// when `force2D` is on (PyRadiomics' default `force2Ddimension` is 0, the z axis).
    pub fn new(
        wavelet: &str,
        subband: &str,
        start_level: usize,
        index: usize,
        force2d_dimension: Option<usize>,
    ) -> Result<Self, FilterError> {
        let low = decomposition_low_pass(wavelet)?.to_vec();
        let high = decomposition_high_pass(wavelet)?;
        let axes = transformed_axes(force2d_dimension)?;
        let letters = subband.to_ascii_uppercase();
        if letters.len() != axes.len() || !letters.chars().all(|c| c == 'L' || c == 'H') {
            let reason = format!("`{subband}` is not {} letters L/H (one per transformed axis)", axes.len());
            return Err(FilterError::invalid("subband", reason));
        }
        if index == 0 {
            return Err(FilterError::invalid("level", "the level index counts from 1"));
        }
        Ok(Wavelet { wavelet: wavelet.to_ascii_lowercase(), subband: letters, low, high, axes, start_level, index })
    }

    /// The sub-band's letters (`LLH`), upper case.
    pub fn subband(&self) -> &str {
        &self.subband
    }

    /// Which computed level the sub-band is from, 1 first.
    pub fn level_index(&self) -> usize {
        self.index
    }

    /// Every image type PyRadiomics' `Wavelet` yields for these settings, in its order: the
    /// detail sub-bands of each level (`LLH`, `LHL`, `LHH`, `HLL`, `HLH`, `HHL`, `HHH`), then
    /// the last level's approximation (`LLL`).
    pub fn image_types(
        wavelet: &str,
        start_level: usize,
        level: usize,
        force2d_dimension: Option<usize>,
    ) -> Result<Vec<Wavelet>, FilterError> {
        if level == 0 {
            return Err(FilterError::invalid("level", "must be at least 1"));
        }
        let n = transformed_axes(force2d_dimension)?.len();
        let subbands: Vec<String> = (0..1usize << n)
            .map(|bits| (0..n).map(|a| if bits >> (n - 1 - a) & 1 == 1 { 'H' } else { 'L' }).collect())
            .collect();
        let mut out = Vec::new();
        for index in 1..=level {
            for subband in &subbands[1..] {
                out.push(Wavelet::new(wavelet, subband, start_level, index, force2d_dimension)?);
            }
        }
        out.push(Wavelet::new(wavelet, &subbands[0], start_level, level, force2d_dimension)?);
        Ok(out)
    }

    /// The whole cascade along one axis as one circular kernel on a line of `n` voxels
    /// (`n` even): `steps` low-pass passes, then `last`. Returns (shift t, weight) pairs,
    /// y[m] = Σ w·x[(m − t) mod n].
    fn cascade(&self, steps: usize, last: &[f64], n: usize) -> Vec<(usize, f64)> {
        // A filter h of F taps as a circular kernel: g[(j − ⌊F/2⌋) mod n] += h[j].
        let circular = |h: &[f64]| -> Vec<Option<f64>> {
            let mut g = vec![None; n];
            let c = h.len() / 2;
            for (j, &w) in h.iter().enumerate() {
                let t = (j as isize - c as isize).rem_euclid(n as isize) as usize;
                g[t] = Some(g[t].unwrap_or(0.0) + w);
            }
            g
        };
        let compose = |a: &[Option<f64>], b: &[Option<f64>]| -> Vec<Option<f64>> {
            let mut g = vec![None; n];
            for (ta, wa) in a.iter().enumerate().filter_map(|(t, w)| w.map(|w| (t, w))) {
                for (tb, wb) in b.iter().enumerate().filter_map(|(t, w)| w.map(|w| (t, w))) {
                    let t = (ta + tb) % n;
                    g[t] = Some(g[t].unwrap_or(0.0) + wa * wb);
                }
            }
            g
        };
        let low = circular(&self.low);
        let mut g = circular(last);
        for _ in 0..steps {
            g = compose(&low, &g);
        }
        g.iter().enumerate().filter_map(|(t, w)| w.map(|w| (t, w))).collect()
    }
}

impl Filter for Wavelet {
    fn image_type(&self) -> String {
        if self.index == 1 {
            format!("wavelet-{}", self.subband)
        } else {
            format!("wavelet{}-{}", self.index, self.subband)
        }
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        // Circular convolution over the wrap-padded image.
        Margin::WholeImage
    }

    fn check_fits(&self, _dims: [usize; 3], _spacing: [f64; 3]) -> Result<(), FilterError> {
        // PyWavelets wraps a filter longer than the (padded) line around it as often as needed.
        Ok(())
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        let steps = self.start_level + self.index - 1;
        let mut response: Option<Array3<f64>> = None;
        for (&axis, letter) in self.axes.iter().zip(self.subband.chars()) {
            let len = image.len_of(ndarray::Axis(axis));
            if len == 0 {
                return Ok(Array3::zeros(image.raw_dim()));
            }
            let padded = len + len % 2;
            let last = if letter == 'H' { &self.high } else { &self.low };
            let kernel = self.cascade(steps, last, padded);
            let pass = |data: &[f64], out: &mut [f64], w: usize| {
                for (m, o) in out.chunks_exact_mut(w).enumerate() {
                    o.fill(0.0);
                    for &(t, weight) in &kernel {
                        // The padded line: index `len` (odd lengths only) wraps to the first voxel.
                        let k = (m + padded - t) % padded;
                        let k = if k == len { 0 } else { k };
                        o.iter_mut().zip(&data[k * w..(k + 1) * w]).for_each(|(o, &x)| *o += weight * x);
                    }
                }
            };
            // Later passes in place: each bundle of lines is read before it is written.
            response = Some(match response {
                None => map_lines(image, axis, pass),
                Some(mut r) => {
                    map_lines_in_place(&mut r, axis, pass);
                    r
                }
            });
        }
        Ok(response.expect("at least two axes are transformed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_order_follow_pyradiomics() {
        let all = Wavelet::image_types("coif1", 0, 2, None).unwrap();
        let names: Vec<String> = all.iter().map(|w| w.image_type()).collect();
        assert_eq!(names.len(), 15);
        assert_eq!(names[0], "wavelet-LLH");
        assert_eq!(names[6], "wavelet-HHH");
        assert_eq!(names[7], "wavelet2-LLH");
        assert_eq!(names[14], "wavelet2-LLL");
        let flat = Wavelet::image_types("haar", 1, 1, Some(0)).unwrap();
        let names: Vec<String> = flat.iter().map(|w| w.image_type()).collect();
        assert_eq!(names, ["wavelet-LH", "wavelet-HL", "wavelet-HH", "wavelet-LL"]);
        assert!(Wavelet::new("bior1.1", "LLH", 0, 1, None).is_err());
        assert!(Wavelet::new("coif1", "LH", 0, 1, None).is_err());
    }

    #[test]
    fn haar_on_a_constant_gives_the_dc_gain_and_no_detail() {
        let image = Array3::from_elem((5, 4, 3), 2.0);
        let lll = Wavelet::new("haar", "LLL", 0, 2, None).unwrap().apply(image.view(), [1.0; 3]).unwrap();
        // √2 per axis and level: (√2)^6 = 8.
        assert!(lll.iter().all(|v| (v - 16.0).abs() < 1e-12), "{lll:?}");
        let hll = Wavelet::new("haar", "HLL", 0, 1, None).unwrap().apply(image.view(), [1.0; 3]).unwrap();
        assert!(hll.iter().all(|v| v.abs() < 1e-12));
    }
}
