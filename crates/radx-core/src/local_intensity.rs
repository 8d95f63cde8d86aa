//! Local intensity features (IBSI 3.2): local intensity peak (`VJGA`) and global intensity
//! peak (`0F91`).
//!
//! A peak is the mean intensity of all image voxels whose centres lie within
//! `r = (3 / 4π)^{1/3} cm ≈ 6.2035 mm` (a sphere of 1 cm³, in world coordinates) of a centre
//! voxel. Centres are intensity-mask voxels, but the sphere takes **every image voxel, inside
//! the ROI or not** — the IBSI definition; ROI-only means give 2.49 / 2.96 instead of the
//! references 2.6 / 3.1 on the digital phantom.
//!
//! - local peak: centred on the ROI voxel(s) of maximum intensity; with several such voxels,
//!   the highest of their peaks;
//! - global peak: the highest peak over all ROI voxels.
//!
//! # Image extent
//! The image passed in is normally cropped around the ROI. Crop it with a margin of at least
//! [`required_margin`] voxels on every side (or pass the whole image): voxels not in the given
//! array are treated as absent, exactly as at the border of the original scan, where the sphere
//! is truncated and the mean is taken over the voxels that exist.
//!
//! # Speed
//! Two methods give the same means (to round-off):
//! - [`PeakMethod::Runs`]: the sphere is stored as x-runs (one per (dy, dz) offset) and each
//!   run is summed in O(1) from per-row prefix sums, so a mean costs O(number of runs)
//!   ≈ π r² / (sy·sz) operations: about 120 at 1 mm spacing, but 48 000 at 0.05 mm, where a
//!   global peak over millions of ROI voxels would take hours;
//! - [`PeakMethod::Fft`]: every mean of the ROI at once by FFT convolution of the image (and
//!   of the indicator of the voxels that exist) with the sphere (`fft.rs`), O(L log L) for L
//!   padded voxels of the ROI's box and its margin, whatever the spacing.
//!
//! [`PeakPlan`] takes, for each peak, the method of lower estimated cost: centres × runs
//! against the transforms' work, about 4 · Σ_a log₂ L_a run sums per padded voxel (`fft.rs`).
//! The local peak usually has one centre and takes the runs; the global peak takes the FFT at
//! fine spacings (at 0.5 mm from a ROI of about 5 cm³ on, at 0.25 mm from about 1 cm³), where
//! the runs per sphere grow as 1/spacing² and the centres as 1/spacing³. The choice follows
//! from the geometry alone (no timing, no thread count), so it is the same on every run.

mod fft;

use std::sync::OnceLock;

use ndarray::Array3;
use rayon::prelude::*;

use self::fft::{FftMeans, FftWindow};

use crate::morphology::MorphologyError;
use crate::volume::Volume;

/// Radius (mm) of the 1 cm³ sphere: `(3 / (4π))^{1/3} · 10`.
pub fn peak_sphere_radius_mm() -> f64 {
    (3.0 / (4.0 * std::f64::consts::PI)).cbrt() * 10.0
}

/// The image margin (voxels, per axis x, y, z) that the sphere can reach beyond the ROI:
/// `⌊r / s⌋`. Crop the image with at least this margin around the ROI bounding box.
/// A non-positive or non-finite spacing component yields 0 for that axis (such spacings are
/// rejected by the peak functions).
pub fn required_margin(spacing: [f64; 3]) -> [usize; 3] {
    let r = peak_sphere_radius_mm();
    spacing.map(|s| if s.is_finite() && s > 0.0 { (r / s).floor() as usize } else { 0 })
}

/// Local intensity peak (IBSI 3.2 `VJGA`): mean intensity in the 1 cm³ sphere centred on the
/// ROI voxel of maximum intensity (the highest such mean when the maximum occurs several times).
pub fn local_intensity_peak(image: &Volume<f64>, intensity_mask: &Array3<bool>) -> Result<f64, MorphologyError> {
    Ok(IntensityPeaks::new(image, intensity_mask)?.local())
}

/// Global intensity peak (IBSI 3.2 `0F91`): the highest 1 cm³-sphere mean intensity over all
/// voxels of the intensity mask.
pub fn global_intensity_peak(image: &Volume<f64>, intensity_mask: &Array3<bool>) -> Result<f64, MorphologyError> {
    Ok(IntensityPeaks::new(image, intensity_mask)?.global())
}

/// How the sphere means are computed (see the module's *Speed*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeakMethod {
    /// Per centre, the sphere's x-runs over per-row prefix sums.
    Runs,
    /// Every ROI voxel's mean at once by FFT convolution.
    Fft,
}

/// Which method each peak takes, and the memory the FFT path needs when one takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeakPlan {
    /// The local peak's method.
    pub local: PeakMethod,
    /// The global peak's method.
    pub global: PeakMethod,
    /// Bytes the FFT path holds at its peak when a peak takes it, else 0 (the run method
    /// needs only the prefix sums, one f64 per image voxel, as the image itself).
    pub fft_bytes: u64,
    window: FftWindow,
}

impl PeakPlan {
    /// The plan for the peaks of `intensity_mask` in `image` (errors as [`IntensityPeaks::new`]).
    pub fn of(image: &Volume<f64>, intensity_mask: &Array3<bool>) -> Result<PeakPlan, MorphologyError> {
        let dims = check_inputs(image, intensity_mask)?;
        let (roi_box, voxels) = roi_box(intensity_mask);
        let brightest = brightest_voxels(&image.data, intensity_mask).len() as u64;
        Ok(PeakPlan::of_geometry(dims, image.grid.spacing, roi_box, voxels, brightest))
    }

    /// The plan from the geometry alone: an image of `dims` voxels of `spacing` mm, the ROI's
    /// box (inclusive voxel ranges per axis, inside `dims`), its number of voxels and the
    /// number of its voxels of maximum intensity. The spacing must be finite and positive.
    pub fn of_geometry(
        dims: [usize; 3],
        spacing: [f64; 3],
        roi_box: [[usize; 2]; 3],
        roi_voxels: u64,
        brightest_voxels: u64,
    ) -> PeakPlan {
        let reach = required_margin(spacing);
        let window = FftWindow::new(dims, roi_box, reach);
        let runs = sphere_runs(spacing, dims).len() as f64;
        let fft_cost = window.cost();
        let method = |centres: u64| if centres as f64 * runs > fft_cost { PeakMethod::Fft } else { PeakMethod::Runs };
        let (local, global) = (method(brightest_voxels), method(roi_voxels));
        let fft_bytes = if local == PeakMethod::Fft || global == PeakMethod::Fft { window.bytes() } else { 0 };
        PeakPlan { local, global, fft_bytes, window }
    }
}

/// Both peaks of one ROI from one table of sphere sums (see [`local_intensity_peak`] and
/// [`global_intensity_peak`]).
pub struct IntensityPeaks<'a> {
    image: &'a Volume<f64>,
    mask: &'a Array3<bool>,
    sphere: SphereMeans,
    plan: PeakPlan,
    /// The FFT path's means, computed on first use.
    fft: OnceLock<FftMeans>,
}

impl<'a> IntensityPeaks<'a> {
    /// The peaks of the voxels of `intensity_mask` in `image` (errors: bad spacing, shapes
    /// that differ, an empty mask), each by the method its [`PeakPlan`] chooses.
    pub fn new(image: &'a Volume<f64>, intensity_mask: &'a Array3<bool>) -> Result<Self, MorphologyError> {
        let plan = PeakPlan::of(image, intensity_mask)?;
        Ok(IntensityPeaks { image, mask: intensity_mask, sphere: SphereMeans::new(image)?, plan, fft: OnceLock::new() })
    }

    /// As [`IntensityPeaks::new`] with both peaks by `method` (to compare the methods).
    pub fn with_method(
        image: &'a Volume<f64>,
        intensity_mask: &'a Array3<bool>,
        method: PeakMethod,
    ) -> Result<Self, MorphologyError> {
        let mut peaks = IntensityPeaks::new(image, intensity_mask)?;
        let plan = &mut peaks.plan;
        (plan.local, plan.global) = (method, method);
        plan.fft_bytes = if method == PeakMethod::Fft { plan.window.bytes() } else { 0 };
        Ok(peaks)
    }

    /// The methods the peaks take.
    pub fn plan(&self) -> &PeakPlan {
        &self.plan
    }

    fn fft_means(&self) -> &FftMeans {
        self.fft.get_or_init(|| {
            FftMeans::new(self.image, self.mask, self.plan.window, sphere_test(self.image.grid.spacing))
        })
    }

    /// The local intensity peak.
    pub fn local(&self) -> f64 {
        let centres = brightest_voxels(&self.image.data, self.mask);
        let mean = |c: [usize; 3]| match self.plan.local {
            PeakMethod::Runs => self.sphere.mean_at(c),
            PeakMethod::Fft => self.fft_means().at(c),
        };
        centres.into_iter().map(mean).fold(f64::NEG_INFINITY, f64::max)
    }

    /// The global intensity peak.
    pub fn global(&self) -> f64 {
        let highest = self.highest_mean();
        // The local peak's centres are among the global's: when the two take different
        // methods, whose last bits differ, the local peak's means count too, so that
        // local ≤ global holds as the definitions make it hold.
        if self.plan.local == self.plan.global { highest } else { highest.max(self.local()) }
    }

    /// The highest sphere mean over the ROI's voxels, by the global peak's method.
    fn highest_mean(&self) -> f64 {
        if self.plan.global == PeakMethod::Fft {
            return self.fft_means().highest();
        }
        let (_, _, nz) = self.mask.dim();
        // Maximum is order-independent, so the parallel reduction is deterministic.
        (0..nz)
            .into_par_iter()
            .map(|z| {
                let plane = self.mask.index_axis(ndarray::Axis(2), z);
                let mut sums = Vec::new();
                (0..plane.dim().1)
                    .map(|y| self.sphere.row_peak(plane.column(y), y, z, &mut sums))
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .reduce(|| f64::NEG_INFINITY, f64::max)
    }
}

/// The image's dimensions once spacing, shapes and mask are usable.
fn check_inputs(image: &Volume<f64>, mask: &Array3<bool>) -> Result<[usize; 3], MorphologyError> {
    crate::morphology::check_spacing(image.grid.spacing)?;
    let dims = crate::morphology::dims3(&image.data);
    if dims != crate::morphology::dims3(mask) {
        return Err(MorphologyError::ShapeMismatch { image: dims, mask: crate::morphology::dims3(mask) });
    }
    if crate::volume::count_true(mask) == 0 {
        return Err(MorphologyError::EmptyMask { which: "intensity" });
    }
    Ok(dims)
}

/// The ROI's box (inclusive ranges per axis) and number of voxels; `mask` is not empty.
fn roi_box(mask: &Array3<bool>) -> ([[usize; 2]; 3], u64) {
    let mut bounds = [[usize::MAX, 0]; 3];
    let mut voxels = 0;
    for ((x, y, z), _) in mask.indexed_iter().filter(|(_, m)| **m) {
        for (b, p) in bounds.iter_mut().zip([x, y, z]) {
            *b = [b[0].min(p), b[1].max(p)];
        }
        voxels += 1;
    }
    (bounds, voxels)
}

/// The ROI voxels of maximum intensity.
fn brightest_voxels(image: &Array3<f64>, mask: &Array3<bool>) -> Vec<[usize; 3]> {
    let max =
        ndarray::Zip::from(image).and(mask).fold(f64::NEG_INFINITY, |m, &v, &inside| if inside { m.max(v) } else { m });
    mask.indexed_iter().filter(|&(p, &m)| m && image[p] == max).map(|((x, y, z), _)| [x, y, z]).collect()
}

/// Whether offset (dx, dy, dz) voxels lies within the sphere at `spacing`: the one test
/// both methods use.
fn sphere_test(spacing: [f64; 3]) -> impl Fn(i64, i64, i64) -> bool {
    let r2 = peak_sphere_radius_mm().powi(2);
    move |dx: i64, dy: i64, dz: i64| {
        (dx as f64 * spacing[0]).powi(2) + (dy as f64 * spacing[1]).powi(2) + (dz as f64 * spacing[2]).powi(2) <= r2
    }
}

/// The sphere's x-runs at `spacing`: (dy, dz, half-width along x).
fn sphere_runs(spacing: [f64; 3], dims: [usize; 3]) -> Vec<(i64, i64, i64)> {
    let inside = sphere_test(spacing);
    // Offsets reach no further than the image: a run beyond it never adds a voxel, and a
    // sphere of millions of voxels across (a spacing of 1e-3 mm) would otherwise take
    // billions of steps to list.
    let reach = required_margin(spacing);
    let [rx, ry, rz] = std::array::from_fn(|a| reach[a].min(dims[a].saturating_sub(1)) as i64);
    let mut runs = Vec::new();
    for dz in -rz..=rz {
        for dy in -ry..=ry {
            if !inside(0, dy, dz) {
                continue;
            }
            // Largest hx with (hx, dy, dz) inside, by the same test as every voxel.
            let hx = (0..=rx).take_while(|&dx| inside(dx, dy, dz)).last().unwrap_or(0);
            runs.push((dy, dz, hx));
        }
    }
    runs
}

/// Sphere means by x-runs over per-row prefix sums.
struct SphereMeans {
    dims: [usize; 3],
    /// Voxels the sphere reaches per axis.
    reach: [usize; 3],
    /// `prefix[(y + ny·z)·(nx+1) + i]` = sum of the row's first `i` intensities.
    prefix: Vec<f64>,
    /// (dy, dz, half-width along x) of each run.
    runs: Vec<(i64, i64, i64)>,
    /// Per run, the offset of its row in `prefix` from the centre's row, and its half-width.
    run_offsets: Vec<(isize, usize)>,
    /// Voxels in the whole sphere.
    count: i64,
}

impl SphereMeans {
    fn new(image: &Volume<f64>) -> Result<SphereMeans, MorphologyError> {
        let spacing = image.grid.spacing;
        crate::morphology::check_spacing(spacing)?;
        let dims = crate::morphology::dims3(&image.data);
        let reach = required_margin(spacing);
        let runs = sphere_runs(spacing, dims);
        let [nx, ny, nz] = dims;
        let stride = (nx + 1) as isize;
        let run_offsets = runs
            .iter()
            .map(|&(dy, dz, hx)| ((dy as isize + ny as isize * dz as isize) * stride, hx as usize))
            .collect();
        let count = runs.iter().map(|&(_, _, hx)| 2 * hx + 1).sum();
        let mut prefix = vec![0.0; (nx + 1) * ny * nz];
        for z in 0..nz {
            for y in 0..ny {
                let row = &mut prefix[(y + ny * z) * (nx + 1)..(y + ny * z + 1) * (nx + 1)];
                for x in 0..nx {
                    row[x + 1] = row[x] + image.data[[x, y, z]];
                }
            }
        }
        Ok(SphereMeans { dims, reach, prefix, runs, run_offsets, count })
    }

    /// Mean over the image voxels of the sphere centred on voxel `c`.
    fn mean_at(&self, c: [usize; 3]) -> f64 {
        let [nx, ny, nz] = self.dims.map(|d| d as i64);
        let (x, y, z) = (c[0] as i64, c[1] as i64, c[2] as i64);
        let mut sum = 0.0;
        let mut count = 0i64;
        for &(dy, dz, hx) in &self.runs {
            let (yy, zz) = (y + dy, z + dz);
            if yy < 0 || yy >= ny || zz < 0 || zz >= nz {
                continue;
            }
            let lo = (x - hx).max(0);
            let hi = (x + hx).min(nx - 1);
            let row = ((yy + ny * zz) * (nx + 1)) as usize;
            sum += self.prefix[row + hi as usize + 1] - self.prefix[row + lo as usize];
            count += hi - lo + 1;
        }
        sum / count as f64
    }

    /// The highest sphere mean over the masked voxels of row (y, z), `mask` being the row.
    ///
    /// Centres whose sphere lies wholly inside the image take every run whole: their sums
    /// are accumulated for the row's span at once (a loop the compiler vectorises), run by
    /// run in the order [`SphereMeans::mean_at`] adds them, so the sums are the same bits.
    /// The other centres go through `mean_at`.
    fn row_peak(&self, mask: ndarray::ArrayView1<bool>, y: usize, z: usize, sums: &mut Vec<f64>) -> f64 {
        let Some(first) = mask.iter().position(|&m| m) else {
            return f64::NEG_INFINITY;
        };
        let last = mask.len() - 1 - mask.iter().rev().position(|&m| m).unwrap_or(0);
        let [nx, ny, nz] = self.dims;
        let [rx, ry, rz] = self.reach;
        let rows_inside = y >= ry && y + ry < ny && z >= rz && z + rz < nz;
        let (x0, x1) = if rows_inside { (first.max(rx), last.min(nx.saturating_sub(rx + 1))) } else { (1, 0) };
        let mut peak = f64::NEG_INFINITY;
        for x in (first..=last).filter(|&x| mask[x] && !(x0..=x1).contains(&x)) {
            peak = peak.max(self.mean_at([x, y, z]));
        }
        if x0 <= x1 {
            let len = x1 - x0 + 1;
            sums.clear();
            sums.resize(len, 0.0);
            let base = ((y + ny * z) * (nx + 1)) as isize;
            for &(offset, hx) in &self.run_offsets {
                let row = (base + offset) as usize;
                let hi = &self.prefix[row + x0 + hx + 1..][..len];
                let lo = &self.prefix[row + x0 - hx..][..len];
                for ((s, h), l) in sums.iter_mut().zip(hi).zip(lo) {
                    *s += h - l;
                }
            }
            let highest = sums
                .iter()
                .zip(mask.slice(ndarray::s![x0..=x1]))
                .filter(|&(_, &m)| m)
                .map(|(s, _)| *s)
                .fold(f64::NEG_INFINITY, f64::max);
            // Division by the same count keeps the order of the sums.
            peak = peak.max(highest / self.count as f64);
        }
        peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;
    use ndarray::ShapeBuilder;

    #[test]
    fn radius_and_margin() {
        // (3/4π)^{1/3} = 0.62035 cm.
        assert!((peak_sphere_radius_mm() - 6.2035).abs() < 1e-4);
        // 6.2035 / 2 = 3.1 → 3 voxels; / 0.977 = 6.35 → 6; / 3 = 2.07 → 2.
        assert_eq!(required_margin([2.0, 0.977, 3.0]), [3, 6, 2]);
    }

    #[test]
    fn a_sphere_wider_than_the_image_takes_every_voxel() {
        // At 1e-3 mm the sphere reaches 6 203 voxels each way: its runs are listed only
        // within the 4×3×2 image (at most 5 × 3 of them), and every centre's sphere holds
        // all 24 voxels, so both peaks are the mean of 0..24, 11.5.
        let spacing = [1e-3; 3];
        assert!(sphere_runs(spacing, [4, 3, 2]).len() <= 5 * 3);
        let image = Volume::from_x_fastest(Grid::new([4, 3, 2], spacing), (0..24).map(f64::from).collect());
        let mask = Array3::from_elem((4, 3, 2).f(), true);
        assert_eq!(local_intensity_peak(&image, &mask).unwrap(), 11.5);
        assert_eq!(global_intensity_peak(&image, &mask).unwrap(), 11.5);
    }

    #[test]
    fn sphere_at_2mm_has_123_voxels() {
        // At 2 mm isotropic spacing the sphere holds the offsets with i²+j²+k² ≤ 9.62, i.e.
        // ≤ 9: the lattice points in a ball of radius 3, which number 123 (1 + 6 + 12 + 8 + 6
        // + 24 + 24 + 12 + 30 for squared norms 0, 1, 2, 3, 4, 5, 6, 8, 9).
        // A single 1 in a 9³ image of zeros, centred: every sphere mean of the centre is 1/123.
        let grid = Grid::new([9, 9, 9], [2.0; 3]);
        let mut image = Volume::filled(grid, 0.0);
        image.data[[4, 4, 4]] = 123.0;
        let mut mask = Array3::from_elem((9, 9, 9).f(), false);
        mask[[4, 4, 4]] = true;
        assert!((local_intensity_peak(&image, &mask).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn sphere_is_truncated_at_the_image_border() {
        // 1×1×3 image, 2 mm: from voxel 0 the sphere (3 voxels reach) holds all three voxels.
        let grid = Grid::new([1, 1, 3], [2.0; 3]);
        let image = Volume::from_x_fastest(grid, vec![3.0, 6.0, 9.0]);
        let mut mask = Array3::from_elem((1, 1, 3).f(), false);
        mask[[0, 0, 0]] = true;
        assert!((global_intensity_peak(&image, &mask).unwrap() - 6.0).abs() < 1e-12);
    }
}
