//! Sphere means at every ROI voxel at once, by FFT convolution with the sphere's indicator.
//!
//! The image's values and the indicator of the voxels that exist are packed into one complex
//! signal (`v − c` as the real part, `1` as the imaginary part) on a window: the ROI's box
//! widened by the sphere's reach and cut to the image. The sphere is symmetric under
//! `d → −d`, so its spectrum is real and one product convolves both parts: the real part
//! becomes the sphere sums `Σ (v − c)`, the imaginary part the number of image voxels in each
//! sphere (a whole number, so rounding recovers it exactly, truncated spheres at the scan's
//! border included). `c`, the middle of the window's range, keeps the round-off relative to
//! the spread of the values rather than to their offset (CT values near −1000 HU).
//!
//! # No wrap-around
//! On each axis the window holds `w` voxels, the ROI spans `[a, b]` in it and the sphere
//! reaches `r` voxels (at most the distance to the farthest window voxel). A centre `x` in
//! `[a, b]` and a voxel `j` in `[0, w)` are `x − j` apart; on a circle of `L` the other
//! representatives `x − j ± L` lie beyond the reach when `L ≥ w + r − a` and `L > b + r`, so
//! no sphere picks up a voxel twice or from the wrong side; `L ≥ 2r + 1` also keeps the
//! sphere's two halves apart on the circle. With the full margin around the ROI (`a = r`),
//! `L` is just the window, rounded up to a fast FFT length.
//!
//! # Memory
//! The signal holds only the window's z-planes, `16 · L_x · L_y · w_z` bytes (the z-pass pads
//! each line with zeros on the way in and keeps the window's planes on the way out), plus the
//! sphere's spectrum octant (8 bytes per frequency) and the means (8 bytes per voxel of the
//! ROI's box). Every line goes through the same plan whatever the thread count, so the
//! results do not depend on it.

use std::sync::Arc;

use ndarray::Array3;
use rayon::prelude::*;
use rustfft::{Fft, FftPlanner, num_complex::Complex};

use crate::spectral::{even_spectrum, fft_len};
use crate::volume::Volume;

const ZERO: Complex<f64> = Complex::new(0.0, 0.0);

/// Where the FFT path works: per axis x, y, z.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FftWindow {
    /// The window's first voxel in the image.
    lo: [usize; 3],
    /// The window's size.
    window: [usize; 3],
    /// The ROI's box in window coordinates, inclusive.
    roi: [[usize; 2]; 3],
    /// The sphere's reach that matters (voxels).
    reach: [usize; 3],
    /// Padded (circular) lengths.
    len: [usize; 3],
}

impl FftWindow {
    /// The window of an image of `dims` voxels around the ROI box `roi` (image coordinates,
    /// inclusive) for a sphere reaching `reach` voxels.
    pub(super) fn new(dims: [usize; 3], roi: [[usize; 2]; 3], reach: [usize; 3]) -> FftWindow {
        let mut out = FftWindow { lo: [0; 3], window: [0; 3], roi: [[0; 2]; 3], reach: [0; 3], len: [0; 3] };
        for axis in 0..3 {
            let [a, b] = roi[axis];
            let lo = a.saturating_sub(reach[axis]);
            // Saturating: an absurd spacing (1e-40 mm) makes the reach overflow `usize`.
            let hi = b.saturating_add(reach[axis]).min(dims[axis] - 1);
            let (w, a, b) = (hi - lo + 1, a - lo, b - lo);
            let r = reach[axis].min(b.max(w - 1 - a));
            let needed = (w + r - a).max(b + r + 1).max(2 * r + 1);
            out.lo[axis] = lo;
            out.window[axis] = w;
            out.roi[axis] = [a, b];
            out.reach[axis] = r;
            out.len[axis] = fft_len(needed);
        }
        out
    }

    /// Voxels of the circular grid (the unit of the transforms' cost).
    pub(super) fn padded_voxels(&self) -> f64 {
        self.len.iter().map(|&l| l as f64).product()
    }

    /// Work of the transforms, in units of one run sum of the run method: forward and back
    /// along three axes, `log₂ L` butterflies per value and axis.
    pub(super) fn cost(&self) -> f64 {
        let logs: f64 = self.len.iter().map(|&l| (l as f64).log2().max(1.0)).sum();
        FFT_UNIT * 2.0 * self.padded_voxels() * logs
    }

    /// Bytes the FFT path holds at its peak (see the module's *Memory*).
    pub(super) fn bytes(&self) -> u64 {
        let [lx, ly, lz] = self.len.map(|l| l as u64);
        let signal = 16 * lx * ly * self.window[2] as u64;
        let octant = 8 * (lx / 2 + 1) * (ly / 2 + 1) * (lz / 2 + 1);
        let means = 8 * self.roi.iter().map(|[a, b]| (b - a + 1) as u64).product::<u64>();
        // One z-line slab per thread is small beside these (L_x · L_z per worker).
        signal + octant + means + 16 * lx * lz
    }
}

/// Cost of one value's butterfly in one axis, in units of one run sum. Measured on 2 cores
/// with spherical ROIs in cubes of 64–128 voxels at 0.25–1 mm: a run sum took 0.5–1.3 ns
/// (vectorised; more as the prefix table outgrows the cache), a butterfly 1.0–2.4 ns
/// (more on small grids, where planning weighs): about twice, near where the methods cross.
const FFT_UNIT: f64 = 2.0;

/// The sphere means at the ROI box's voxels (NaN outside the ROI).
pub(super) struct FftMeans {
    window: FftWindow,
    /// Means over the ROI box, x fastest.
    means: Vec<f64>,
}

impl FftMeans {
    /// The sphere means of `image` at the voxels of `mask` inside `window`, `inside` being the
    /// sphere's membership test on offsets.
    pub(super) fn new(
        image: &Volume<f64>,
        mask: &Array3<bool>,
        window: FftWindow,
        inside: impl Fn(i64, i64, i64) -> bool,
    ) -> FftMeans {
        let FftWindow { len, .. } = window;
        let spectrum = sphere_spectrum(&window, inside);
        let centre = window_centre(image, &window);
        let mut signal = packed_signal(image, &window, centre);
        let planner = Planner::new(len);
        rows_pass(&mut signal, &window, &planner.x[0], None);
        y_pass(&mut signal, &window, &planner.y[0]);
        z_pass_multiplied(&mut signal, &window, &planner.z, &spectrum);
        drop(spectrum);
        y_pass(&mut signal, &window, &planner.y[1]);
        rows_pass(&mut signal, &window, &planner.x[1], Some(window.roi));
        let means = read_means(&signal, mask, &window, centre);
        FftMeans { window, means }
    }

    /// The mean of the sphere centred on image voxel `p` (an ROI voxel).
    pub(super) fn at(&self, p: [usize; 3]) -> f64 {
        let w = &self.window;
        let [dx, dy, _] = w.roi.map(|[a, b]| b - a + 1);
        let q: [usize; 3] = std::array::from_fn(|i| p[i] - w.lo[i] - w.roi[i][0]);
        self.means[q[0] + dx * (q[1] + dy * q[2])]
    }

    /// The highest mean over the ROI (means outside it are NaN, which `max` skips).
    pub(super) fn highest(&self) -> f64 {
        self.means.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

struct Planner {
    x: [Arc<dyn Fft<f64>>; 2],
    y: [Arc<dyn Fft<f64>>; 2],
    z: [Arc<dyn Fft<f64>>; 2],
}

impl Planner {
    fn new([lx, ly, lz]: [usize; 3]) -> Planner {
        let mut p = FftPlanner::<f64>::new();
        let mut both = |l| [p.plan_fft_forward(l), p.plan_fft_inverse(l)];
        Planner { x: both(lx), y: both(ly), z: both(lz) }
    }
}

/// The sphere's spectrum octant on the circular grid `window.len` (see [`even_spectrum`]).
fn sphere_spectrum(window: &FftWindow, inside: impl Fn(i64, i64, i64) -> bool) -> Vec<f64> {
    let [hx, hy, hz] = window.len.map(|l| l / 2 + 1);
    let [rx, ry, rz] = window.reach;
    let mut octant = vec![0.0; hx * hy * hz];
    for dz in 0..=rz {
        for dy in 0..=ry {
            for dx in 0..=rx {
                if inside(dx as i64, dy as i64, dz as i64) {
                    octant[dx + hx * (dy + hy * dz)] = 1.0;
                }
            }
        }
    }
    even_spectrum(octant, window.len)
}

/// The middle of the window's value range (order-free, so the same whatever the threads).
fn window_centre(image: &Volume<f64>, window: &FftWindow) -> f64 {
    let (lo, hi) =
        window_values(image, window).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo.is_finite() && hi.is_finite() { 0.5 * (lo + hi) } else { 0.0 }
}

fn window_values<'v>(image: &'v Volume<f64>, window: &FftWindow) -> impl Iterator<Item = f64> + 'v {
    let (lo, w) = (window.lo, window.window);
    image.data.slice(ndarray::s![lo[0]..lo[0] + w[0], lo[1]..lo[1] + w[1], lo[2]..lo[2] + w[2]]).into_iter().copied()
}

/// The window's planes of the packed signal `(v − c) + i`, rows padded with zeros to `L_x`,
/// planes to `L_y` rows: `L_x · L_y · w_z` values, x fastest.
fn packed_signal(image: &Volume<f64>, window: &FftWindow, centre: f64) -> Vec<Complex<f64>> {
    let [lx, ly, _] = window.len;
    let (lo, [wx, wy, wz]) = (window.lo, window.window);
    let mut signal = vec![ZERO; lx * ly * wz];
    signal.par_chunks_mut(lx * ly).enumerate().for_each(|(z, plane)| {
        for (y, row) in plane.chunks_mut(lx).take(wy).enumerate() {
            for (x, v) in row.iter_mut().take(wx).enumerate() {
                *v = Complex::new(image.data[[lo[0] + x, lo[1] + y, lo[2] + z]] - centre, 1.0);
            }
        }
    });
    signal
}

/// Transform the rows (x-lines) along x: forward on every row that holds window voxels, or,
/// with `only`, back on the rows through the ROI box.
fn rows_pass(signal: &mut [Complex<f64>], window: &FftWindow, fft: &Arc<dyn Fft<f64>>, only: Option<[[usize; 2]; 3]>) {
    let [lx, ly, _] = window.len;
    let (ys, zs) = match only {
        Some(roi) => (roi[1][0]..=roi[1][1], roi[2][0]..=roi[2][1]),
        None => (0..=window.window[1] - 1, 0..=window.window[2] - 1),
    };
    signal.par_chunks_mut(lx * ly).enumerate().filter(|(z, _)| zs.contains(z)).for_each(|(_, plane)| {
        let mut scratch = vec![ZERO; fft.get_inplace_scratch_len()];
        for (_, row) in plane.chunks_mut(lx).enumerate().filter(|(y, _)| ys.contains(y)) {
            fft.process_with_scratch(row, &mut scratch);
        }
    });
}

/// Transform every plane of `signal` along y (each plane transposed into y-lines and back).
fn y_pass(signal: &mut [Complex<f64>], window: &FftWindow, fft: &Arc<dyn Fft<f64>>) {
    let [lx, ly, _] = window.len;
    signal.par_chunks_mut(lx * ly).for_each(|plane| {
        let mut lines = vec![ZERO; lx * ly];
        let mut scratch = vec![ZERO; fft.get_inplace_scratch_len()];
        transpose::transpose(plane, &mut lines, lx, ly);
        fft.process_with_scratch(&mut lines, &mut scratch);
        transpose::transpose(&lines, plane, ly, lx);
    });
}

/// Along z there and back with the product by the sphere's spectrum between: per y, the
/// xz-slab's rows (one per window plane) are gathered into z-lines padded with zeros to
/// `L_z`, transformed, multiplied, transformed back, and their window part scattered back.
fn z_pass_multiplied(
    signal: &mut [Complex<f64>],
    window: &FftWindow,
    [fft, ifft]: &[Arc<dyn Fft<f64>>; 2],
    spectrum: &[f64],
) {
    let [lx, ly, lz] = window.len;
    let wz = window.window[2];
    let [hx, hy, _] = window.len.map(|l| l / 2 + 1);
    let fold = |k: usize, l: usize| k.min(l - k);
    let mut rows_by_y: Vec<Vec<&mut [Complex<f64>]>> = (0..ly).map(|_| Vec::with_capacity(wz)).collect();
    for plane in signal.chunks_mut(lx * ly) {
        for (y, row) in plane.chunks_mut(lx).enumerate() {
            rows_by_y[y].push(row);
        }
    }
    let scratch_len = fft.get_inplace_scratch_len().max(ifft.get_inplace_scratch_len());
    let buffers = || (vec![ZERO; lx * lz], vec![ZERO; scratch_len]);
    rows_by_y.into_par_iter().enumerate().for_each_init(buffers, |(lines, scratch), (y, mut rows)| {
        for (x, line) in lines.chunks_mut(lz).enumerate() {
            for (z, v) in line.iter_mut().enumerate() {
                *v = if z < wz { rows[z][x] } else { ZERO };
            }
        }
        fft.process_with_scratch(lines, scratch);
        let fy = fold(y, ly);
        for (x, line) in lines.chunks_mut(lz).enumerate() {
            let fx = fold(x, lx);
            for (kz, v) in line.iter_mut().enumerate() {
                *v *= spectrum[fx + hx * (fy + hy * fold(kz, lz))];
            }
        }
        ifft.process_with_scratch(lines, scratch);
        for (z, row) in rows.iter_mut().enumerate() {
            for (x, v) in row.iter_mut().enumerate() {
                *v = lines[x * lz + z];
            }
        }
    });
}

/// The means at the ROI box's voxels from the convolved signal: sum `re / L + c·n` over the
/// count `n = round(im / L)`; NaN where `mask` is false.
fn read_means(signal: &[Complex<f64>], mask: &Array3<bool>, window: &FftWindow, centre: f64) -> Vec<f64> {
    let [lx, ly, lz] = window.len;
    let scale = 1.0 / (lx * ly * lz) as f64;
    let [[ax, bx], [ay, by], [az, bz]] = window.roi;
    let lo = window.lo;
    let mut means = Vec::with_capacity((bx - ax + 1) * (by - ay + 1) * (bz - az + 1));
    for z in az..=bz {
        for y in ay..=by {
            let row = &signal[lx * (y + ly * z)..][..lx];
            for (x, v) in row.iter().enumerate().take(bx + 1).skip(ax) {
                let count = (v.im * scale).round();
                let inside = mask[[lo[0] + x, lo[1] + y, lo[2] + z]];
                means.push(if inside { (v.re * scale + centre * count) / count } else { f64::NAN });
            }
        }
    }
    means
}
