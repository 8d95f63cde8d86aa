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

use ndarray::{Array3, ArrayView3, ArrayViewMut2};

use rayon::prelude::*;

use super::wide::{Isa, compiled_for};
use super::{map_lanes_in_place, x_fastest_copy};
use crate::error::FilterError;
use crate::wavelet::{decomposition_high_pass, decomposition_low_pass};
use crate::{Filter, Margin};

/// Lanes along x are contiguous rows.
const CONTIGUOUS: &str = "lanes lie along x, contiguous";

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
        Ok(self.apply_with(Isa::widest(), image))
    }
}

impl Wavelet {
    /// The sub-band of `image`, each pass compiled for `isa`.
    fn apply_with(&self, isa: Isa, image: ArrayView3<'_, f64>) -> Array3<f64> {
        let steps = self.start_level + self.index - 1;
        let mut response: Option<Array3<f64>> = None;
        for (&axis, letter) in self.axes.iter().zip(self.subband.chars()) {
            let len = image.len_of(ndarray::Axis(axis));
            if len == 0 {
                return Array3::zeros(image.raw_dim());
            }
            let padded = len + len % 2;
            let last = if letter == 'H' { &self.high } else { &self.low };
            let kernel = self.cascade(steps, last, padded);
            let mut r = response.unwrap_or_else(|| x_fastest_copy(image));
            if axis == 0 {
                along_x(isa, &mut r, &kernel);
            } else {
                // The lines where the image holds them: one copy in, the output written in place.
                map_lanes_in_place(&mut r, axis, |lanes, data| filter_lanes(isa, &kernel, len, lanes, data));
            }
            response = Some(r);
        }
        response.expect("at least two axes are transformed")
    }
}

compiled_for!(fn filter_lanes(kernel: &[(usize, f64)], len: usize, lanes: ArrayViewMut2<'_, f64>, data: &mut Vec<f64>) => lanes_bundle);
compiled_for!(fn filter_x_lines(kernel: &[(usize, f64)], lines: &mut [f64], len: usize) => x_lines);

/// `kernel` ((shift t, weight) pairs, see [`Wavelet::cascade`]) on a bundle of `len`-voxel
/// lanes along y or z where the image holds them ([`map_lanes_in_place`]): a copy of the
/// bundle in, each output row summed from 0 in the kernel's order over rows of the copy.
#[inline(always)]
fn lanes_bundle(kernel: &[(usize, f64)], len: usize, mut lanes: ArrayViewMut2<'_, f64>, data: &mut Vec<f64>) {
    let padded = len + len % 2;
    let w = lanes.ncols();
    data.clear();
    lanes.rows().into_iter().for_each(|r| data.extend_from_slice(r.as_slice().expect(CONTIGUOUS)));
    for (m, mut o) in lanes.rows_mut().into_iter().enumerate() {
        let o = o.as_slice_mut().expect(CONTIGUOUS);
        o.fill(0.0);
        for &(t, weight) in kernel {
            // The padded line: index `len` (odd lengths only) wraps to the first voxel.
            let k = (m + padded - t) % padded;
            let k = if k == len { 0 } else { k };
            o.iter_mut().zip(&data[k * w..(k + 1) * w]).for_each(|(o, &x)| *o += weight * x);
        }
    }
}

/// `kernel` ((shift t, weight) pairs, see [`Wavelet::cascade`]) on every line along x of the
/// x-fastest `image`, in place: y[m] = Σ w·p[(m − t) mod N] over the line p wrap-padded to an
/// even length N, summed from 0 in the kernel's order as on the other axes.
fn along_x(isa: Isa, image: &mut Array3<f64>, kernel: &[(usize, f64)]) {
    let len = image.len_of(ndarray::Axis(0));
    let data = image.as_slice_memory_order_mut().expect("an x-fastest array is contiguous");
    // Many lines per task: one is a few hundred voxels at most.
    let plane = len * lines_per_task(len);
    data.par_chunks_mut(plane).for_each(|lines| filter_x_lines(isa, kernel, lines, len));
}

/// [`along_x`] on consecutive `lines` of `len` voxels. The lines are contiguous, so each
/// tap is one sweep over a copy of the line twice over (p p), and no line is copied across
/// to interleave it with others.
#[inline(always)]
fn x_lines(kernel: &[(usize, f64)], lines: &mut [f64], len: usize) {
    let padded = len + len % 2;
    let mut twice = Vec::with_capacity(2 * padded);
    for line in lines.chunks_exact_mut(len) {
        twice.clear();
        twice.extend_from_slice(line);
        if padded > len {
            twice.push(line[0]);
        }
        twice.extend_from_within(..padded);
        line.fill(0.0);
        for &(t, weight) in kernel {
            let shifted = &twice[padded - t..padded - t + len];
            line.iter_mut().zip(shifted).for_each(|(o, &x)| *o += weight * x);
        }
    }
}

/// How many lines of `len` voxels [`along_x`] filters per parallel task (~64 KiB of them).
fn lines_per_task(len: usize) -> usize {
    (8192 / len.max(1)).max(1)
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

    /// PyWavelets' one-level `swt` along `axis`, line by line, straight from its formula:
    /// y[n] = Σ_j h[j]·p[(n + ⌊F/2⌋ − j) mod N], p the line wrap-padded to an even length N.
    fn swt_along(image: &Array3<f64>, axis: usize, h: &[f64]) -> Array3<f64> {
        let mut out = image.clone();
        for (line, mut o) in image.lanes(ndarray::Axis(axis)).into_iter().zip(out.lanes_mut(ndarray::Axis(axis))) {
            let mut p = line.to_vec();
            if p.len() % 2 == 1 {
                p.push(p[0]);
            }
            let n = p.len() as isize;
            for (i, o) in o.iter_mut().enumerate() {
                let at = |j: usize| p[(i as isize + (h.len() / 2) as isize - j as isize).rem_euclid(n) as usize];
                *o = h.iter().enumerate().map(|(j, &w)| w * at(j)).sum();
            }
        }
        out
    }

    #[test]
    fn every_axis_filters_as_pywavelets_formula_says() {
        // Odd lengths along x and z (wrap padding); 150 lanes along y and 1050 along z
        // split into several bundles.
        let image = super::super::test_noise((7, 150, 5), 0x9e37_79b9_7f4a_7c15);
        let filter = Wavelet::new("coif1", "HLH", 0, 1, None).unwrap();
        let got = filter.apply(image.view(), [1.0; 3]).unwrap();
        let expected = swt_along(&image, 0, &filter.high);
        let expected = swt_along(&expected, 1, &filter.low);
        let expected = swt_along(&expected, 2, &filter.high);
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{g} vs {e}");
        }
    }

    #[test]
    fn wide_passes_give_the_portable_passes_bits() {
        let image = super::super::test_noise((37, 150, 5), 0x9e37_79b9_7f4a_7c15);
        for subband in ["HLH", "LHL"] {
            let filter = Wavelet::new("coif1", subband, 0, 2, None).unwrap();
            let wide = filter.apply_with(Isa::widest(), image.view());
            let portable = filter.apply_with(Isa::portable(), image.view());
            let bits = |a: &Array3<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&wide), bits(&portable), "{subband}");
        }
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
