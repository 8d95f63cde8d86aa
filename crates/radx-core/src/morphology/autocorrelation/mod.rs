//! Spatial autocorrelation of the intensities in the ROI intensity mask (IBSI 3.1,
//! "Moran's I index" (`N365`) and "Geary's C measure" `NPT7`).
//!
//! Both indices sum over *all* ordered pairs of distinct intensity-mask voxels, weighted by
//! the inverse Euclidean distance between voxel centres in mm (no subsampling; this exact
//! definition reproduces the digital phantom's 0.0397 / 0.974). With `y = x − μ`:
//!
//! - `W = Σ_{a≠b} w_ab`, `M = Σ_{a≠b} w_ab y_a y_b`, `G = Σ_{a≠b} w_ab (y_a − y_b)²`;
//! - Moran's I = `N / W · M / Σ y²`, Geary's C = `(N − 1) / (2W) · G / Σ y²`.
//!
//! Two exact methods compute the pair sums:
//! - [`AutocorrelationMethod::Direct`]: O(N²) over voxel pairs, in parallel over fixed chunks
//!   of 256 voxels whose partial sums are added in chunk order (bit-identical for any thread
//!   count);
//! - [`AutocorrelationMethod::Fft`]: with `S_a = Σ_{b≠a} w_ab = (K ⋆ m)(a)` and
//!   `T_a = Σ_{b≠a} w_ab y_b = (K ⋆ y)(a)` — correlations of the mask `m` and the masked centred
//!   intensities `y` with the kernel `K(d) = 1/‖d‖` (`K(0) = 0`) over the bounding box — we get
//!   `W = Σ S_a`, `M = Σ y_a T_a` and `G = 2 Σ y_a² S_a − 2M`. The correlation for `S_a` is
//!   one real FFT there and back, zero-padded to at least `2n − 1` per axis so nothing wraps
//!   around; `M` needs no `T_a`, only the forward FFT of `y`: by Parseval's theorem it is
//!   `(1/L) Σ_k K̂(k) |Ŷ(k)|²` (K̂, the kernel's spectrum, is real).
//!   Cost O(L log L) for L padded voxels; round-off ~1e-13 relative. Memory: about 4 bytes per
//!   padded voxel for the transform in progress, plus the kernel's spectrum, which is real and
//!   even (K is), so one octant of it is kept (1 byte per padded voxel).
//!
//! The mask's half — the weights `S_a` and `W` — needs no intensities:
//! [`autocorrelation_weights`] computes it alone (e.g. while the image is still being read)
//! and [`spatial_autocorrelation_weighted`] finishes with the intensities. Split or not, the
//! same operations run in the same order, so the results are the same bits.
//!
//! [`AutocorrelationMethod::Auto`] takes the direct sum while `N²/2 ≤ L·log₂L` (L = padded
//! voxels) and the FFT beyond. The two costs per unit were measured about equal with
//! `benches/morphology.rs` (7 403-voxel ellipsoid in a 29×27×23 box: direct 92 ms = 3.4 ns per
//! pair, FFT 7.8 ms = 3.1 ns per L·log₂L), so the crossover sits near a few hundred voxels;
//! a 200 000-voxel ROI (box 91×73×61) takes about 50 ms by FFT on 2 cores where the direct
//! sum would take about a minute.

use ndarray::Array3;
use rayon::prelude::*;

mod fft;

use fft::KernelCorrelation;

use super::{MorphologyError, check_spacing, dims3};
use crate::volume::{BoundingBox, Volume};

/// Moran's I (`N365`) and Geary's C (`NPT7`) of one ROI.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpatialAutocorrelation {
    /// Moran's I index: +1 strong positive, 0 none, −1 strong negative autocorrelation.
    pub morans_i: f64,
    /// Geary's C measure: < 1 positive, 1 none, > 1 negative autocorrelation.
    pub gearys_c: f64,
}

/// How to evaluate the all-pairs sums (every method is exact up to round-off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutocorrelationMethod {
    /// Direct sum for small ROIs, FFT for large ones (see the module docs for the threshold).
    #[default]
    Auto,
    /// O(N²) pair loop.
    Direct,
    /// FFT correlation over the zero-padded bounding box.
    Fft,
}

/// Moran's I and Geary's C over the voxels of `intensity_mask`, intensities from `image`,
/// distances from `image.grid.spacing` (method chosen automatically).
pub fn spatial_autocorrelation(
    image: &Volume<f64>,
    intensity_mask: &Array3<bool>,
) -> Result<SpatialAutocorrelation, MorphologyError> {
    spatial_autocorrelation_with(image, intensity_mask, AutocorrelationMethod::Auto)
}

/// [`spatial_autocorrelation`] with an explicit evaluation method.
pub fn spatial_autocorrelation_with(
    image: &Volume<f64>,
    intensity_mask: &Array3<bool>,
    method: AutocorrelationMethod,
) -> Result<SpatialAutocorrelation, MorphologyError> {
    check_spacing(image.grid.spacing)?;
    if dims3(&image.data) != dims3(intensity_mask) {
        return Err(MorphologyError::ShapeMismatch { image: dims3(&image.data), mask: dims3(intensity_mask) });
    }
    let weights = autocorrelation_weights(intensity_mask, image.grid.spacing, method)?;
    spatial_autocorrelation_weighted(image, &weights)
}

/// The part of Moran's I and Geary's C that depends on the intensity mask and the spacing
/// alone (see the module docs): the voxels, the method, and for the FFT method each voxel's
/// weight sum `S_a` with the kernel's spectrum, ready for the intensities.
pub struct AutocorrelationWeights {
    dims: [usize; 3],
    spacing: [f64; 3],
    /// The box's lowest corner in the mask.
    origin: [usize; 3],
    /// The mask's voxels relative to `origin`, x fastest.
    positions: Vec<[usize; 3]>,
    /// `None` for the direct sum.
    fft: Option<FftWeights>,
}

struct FftWeights {
    kernel: KernelCorrelation,
    /// `S_a` per position.
    sums: Vec<f64>,
}

/// Bytes [`autocorrelation_weights`] (method `Auto`) and one correlation of intensities
/// with them hold at their peak for `intensity_mask`: the voxels' positions and weight sums,
/// and on the FFT path the kernel's spectrum octant and the half-spectrum being transformed
/// (16 bytes a padded voxel). 0 for fewer than two voxels.
pub fn autocorrelation_bytes(intensity_mask: &Array3<bool>) -> u64 {
    let n = intensity_mask.iter().filter(|&&m| m).count();
    let Some(bbox) = BoundingBox::of_mask(intensity_mask).filter(|_| n >= 2) else { return 0 };
    let dims = bbox.dims();
    let listed = (n as u64).saturating_mul(3 * 8 + 8);
    let padded = KernelCorrelation::padded_voxels(dims);
    if (n as f64).powi(2) / 2.0 <= padded * padded.log2() {
        return listed;
    }
    let len = dims.map(|b| crate::spectral::fft_len(2 * b - 1) as u64);
    let octant = len.iter().fold(8u64, |b, &l| b.saturating_mul(l / 2 + 1));
    let half = (len[0] / 2 + 1).saturating_mul(len[1]).saturating_mul(len[2]).saturating_mul(16);
    listed.saturating_add(octant).saturating_add(half)
}

/// The mask's half of [`spatial_autocorrelation_with`] for `intensity_mask` on a grid of
/// `spacing` mm (errors: bad spacing, an empty mask, fewer than 2 voxels).
pub fn autocorrelation_weights(
    intensity_mask: &Array3<bool>,
    spacing: [f64; 3],
    method: AutocorrelationMethod,
) -> Result<AutocorrelationWeights, MorphologyError> {
    check_spacing(spacing)?;
    let bbox = BoundingBox::of_mask(intensity_mask).ok_or(MorphologyError::EmptyMask { which: "intensity" })?;
    // Voxels in x-fastest order (deterministic), positions relative to the box.
    let mut positions: Vec<[usize; 3]> = Vec::new();
    for z in bbox.min[2]..=bbox.max[2] {
        for y in bbox.min[1]..=bbox.max[1] {
            for x in bbox.min[0]..=bbox.max[0] {
                if intensity_mask[[x, y, z]] {
                    positions.push([x - bbox.min[0], y - bbox.min[1], z - bbox.min[2]]);
                }
            }
        }
    }
    let n = positions.len();
    if n < 2 {
        return Err(MorphologyError::TooFewVoxels { what: "Moran's I / Geary's C", needed: 2, found: n });
    }
    let dims = bbox.dims();
    let use_fft = match method {
        AutocorrelationMethod::Direct => false,
        AutocorrelationMethod::Fft => true,
        AutocorrelationMethod::Auto => {
            let padded = KernelCorrelation::padded_voxels(dims);
            (n as f64).powi(2) / 2.0 > padded * padded.log2()
        }
    };
    let fft = use_fft.then(|| {
        let kernel = KernelCorrelation::new(dims, spacing);
        let sums = kernel.correlate(&positions, &vec![1.0; n]);
        FftWeights { kernel, sums }
    });
    Ok(AutocorrelationWeights { dims: dims3(intensity_mask), spacing, origin: bbox.min, positions, fft })
}

/// Moran's I and Geary's C from the mask's `weights` and the intensities of `image` (the
/// grid the weights were computed for: same dimensions and spacing).
pub fn spatial_autocorrelation_weighted(
    image: &Volume<f64>,
    weights: &AutocorrelationWeights,
) -> Result<SpatialAutocorrelation, MorphologyError> {
    if dims3(&image.data) != weights.dims {
        return Err(MorphologyError::ShapeMismatch { image: dims3(&image.data), mask: weights.dims });
    }
    let spacing = weights.spacing;
    let o = weights.origin;
    let values: Vec<f64> =
        weights.positions.iter().map(|p| image.data[[p[0] + o[0], p[1] + o[1], p[2] + o[2]]]).collect();
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = values.iter().map(|v| v - mean).collect();
    let sum_sq: f64 = centred.iter().map(|y| y * y).sum();
    if sum_sq == 0.0 {
        return Err(MorphologyError::ConstantIntensity { what: "Moran's I / Geary's C" });
    }
    let sums = match &weights.fft {
        Some(fft) => pair_sums_fft(fft, &weights.positions, &centred),
        None => pair_sums_direct(&weights.positions, &centred, spacing),
    };
    let nf = n as f64;
    Ok(SpatialAutocorrelation {
        morans_i: nf / sums.weights * sums.cross / sum_sq,
        gearys_c: (nf - 1.0) / (2.0 * sums.weights) * sums.squared_diff / sum_sq,
    })
}

/// `W`, `M` and `G` of the module docs.
#[derive(Debug, Clone, Copy, Default)]
struct PairSums {
    weights: f64,
    cross: f64,
    squared_diff: f64,
}

/// O(N²) reference: unordered pairs a < b, doubled. Fixed chunks, partial sums in order.
fn pair_sums_direct(positions: &[[usize; 3]], centred: &[f64], spacing: [f64; 3]) -> PairSums {
    const CHUNK: usize = 256;
    let mm: Vec<[f64; 3]> = positions.iter().map(|p| [0, 1, 2].map(|a| p[a] as f64 * spacing[a])).collect();
    let partials: Vec<PairSums> = (0..mm.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut s = PairSums::default();
            for a in chunk * CHUNK..((chunk + 1) * CHUNK).min(mm.len()) {
                let (pa, ya) = (mm[a], centred[a]);
                for b in a + 1..mm.len() {
                    let pb = mm[b];
                    let d2 = (pa[0] - pb[0]).powi(2) + (pa[1] - pb[1]).powi(2) + (pa[2] - pb[2]).powi(2);
                    let w = 1.0 / d2.sqrt();
                    let yb = centred[b];
                    s.weights += w;
                    s.cross += w * ya * yb;
                    s.squared_diff += w * (ya - yb) * (ya - yb);
                }
            }
            s
        })
        .collect();
    let mut total = PairSums::default();
    for p in partials {
        total.weights += p.weights;
        total.cross += p.cross;
        total.squared_diff += p.squared_diff;
    }
    PairSums { weights: 2.0 * total.weights, cross: 2.0 * total.cross, squared_diff: 2.0 * total.squared_diff }
}

/// The pair sums from the mask's weights `S_a` and `M = Σ y_a T_a`, which is a quadratic
/// form of the centred values: one forward transform gives it (Parseval), no `T_a` needed.
fn pair_sums_fft(fft: &FftWeights, positions: &[[usize; 3]], centred: &[f64]) -> PairSums {
    let mut sums = PairSums { cross: fft.kernel.quadratic_form(positions, centred), ..PairSums::default() };
    for (&s_a, &y) in fft.sums.iter().zip(centred) {
        sums.weights += s_a;
        sums.squared_diff += 2.0 * y * y * s_a;
    }
    sums.squared_diff -= 2.0 * sums.cross;
    sums
}

#[cfg(test)]
mod tests {
    /// Two voxels take the direct path: positions (24 bytes) and weight sums (8) each. A
    /// 30³ cube takes the FFT (27 000²/2 = 3.6·10⁸ pairs against 60³·log₂ 60³ = 3.8·10⁶):
    /// padded lengths fft_len(59) = 60, the kernel's octant 31³ doubles and the half spectrum
    /// 31 × 60 × 60 complex values.
    #[test]
    fn autocorrelation_bytes_by_hand() {
        let mut two = ndarray::Array3::from_elem((3, 3, 3), false);
        two[[0, 0, 0]] = true;
        two[[2, 1, 0]] = true;
        assert_eq!(super::autocorrelation_bytes(&two), 2 * 32);
        let cube = ndarray::Array3::from_elem((30, 30, 30), true);
        assert_eq!(super::autocorrelation_bytes(&cube), 27_000 * 32 + 31 * 31 * 31 * 8 + 31 * 60 * 60 * 16);
        assert_eq!(super::autocorrelation_bytes(&ndarray::Array3::from_elem((2, 2, 2), false)), 0);
    }

    use super::*;
    use crate::grid::Grid;
    use ndarray::ShapeBuilder;

    #[test]
    fn two_voxels_hand_worked() {
        // Two voxels 2 mm apart, values 1 and 3: μ = 2, y = (−1, 1), Σy² = 2, w = 1/2.
        // W = 2·½ = 1, M = 2·½·(−1·1) = −1, G = 2·½·(−2)² = 4.
        // I = N/W · M/Σy² = 2 · (−1)/2 = −1;  C = (N−1)/(2W) · G/Σy² = ½ · 4/2 = 1.
        let grid = Grid::new([2, 1, 1], [2.0, 1.0, 1.0]);
        let image = Volume::from_x_fastest(grid, vec![1.0, 3.0]);
        let mask = Array3::from_elem((2, 1, 1).f(), true);
        for method in [AutocorrelationMethod::Direct, AutocorrelationMethod::Fft] {
            let r = spatial_autocorrelation_with(&image, &mask, method).unwrap();
            assert!((r.morans_i + 1.0).abs() < 1e-12, "{method:?} {r:?}");
            assert!((r.gearys_c - 1.0).abs() < 1e-12, "{method:?} {r:?}");
        }
    }

    #[test]
    fn errors_are_typed() {
        let grid = Grid::new([2, 1, 1], [1.0; 3]);
        let image = Volume::from_x_fastest(grid, vec![5.0, 5.0]);
        let mut mask = Array3::from_elem((2, 1, 1).f(), true);
        assert!(matches!(spatial_autocorrelation(&image, &mask), Err(MorphologyError::ConstantIntensity { .. })));
        mask[[1, 0, 0]] = false;
        assert!(matches!(spatial_autocorrelation(&image, &mask), Err(MorphologyError::TooFewVoxels { .. })));
        mask[[0, 0, 0]] = false;
        assert!(matches!(spatial_autocorrelation(&image, &mask), Err(MorphologyError::EmptyMask { .. })));
    }
}
