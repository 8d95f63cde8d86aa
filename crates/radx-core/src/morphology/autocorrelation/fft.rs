//! Exact correlation of values on ROI voxels with the inverse-distance kernel
//! `K(d) = 1/‖d‖` (`K(0) = 0`), by real FFTs over the bounding box zero-padded so that
//! nothing wraps around (at least `2n − 1` per axis).
//!
//! One transform costs about half a complex one: the input is real, so each x-row is
//! transformed to its `L/2 + 1` non-negative frequencies (Hermitian symmetry gives the rest),
//! and the y- and z-passes work on that half. The working array holds only the box's
//! z-planes (the z-pass pads each line with zeros on the way in and keeps the box's part on
//! the way out), 16 bytes per frequency: about 4 bytes per padded voxel. Lines that are all
//! zero on the way in, or whose outputs are never read on the way out, are skipped (with box
//! sides about half the padded lengths, a good part of the work). Every line is transformed
//! by the same plan whatever the thread count, so results do not depend on it.

use rayon::prelude::*;
use realfft::RealFftPlanner;

use crate::spectral::{even_spectrum, fft_len};
use rustfft::{Fft, FftPlanner, num_complex::Complex};
use std::sync::Arc;

const ZERO: Complex<f64> = Complex::new(0.0, 0.0);

/// The kernel's spectrum for one bounding box and spacing, ready to correlate any values
/// given on voxels of that box.
pub(super) struct KernelCorrelation {
    /// Padded lengths per axis.
    len: [usize; 3],
    /// Box dimensions: inputs and read-back outputs lie in `[0, live)`.
    live: [usize; 3],
    /// The octant `k_a ≤ len_a / 2` of the kernel's real, even spectrum (see [`kernel_spectrum`]).
    spectrum: Vec<f64>,
}

impl KernelCorrelation {
    /// The kernel on a box of `dims` voxels with `spacing` mm.
    pub(super) fn new(dims: [usize; 3], spacing: [f64; 3]) -> KernelCorrelation {
        let len = dims.map(|b| fft_len(2 * b - 1));
        KernelCorrelation { len, live: dims, spectrum: kernel_spectrum(dims, spacing, len) }
    }

    /// Padded voxels (the unit of the FFT's cost).
    pub(super) fn padded_voxels(dims: [usize; 3]) -> f64 {
        dims.iter().map(|&b| fft_len(2 * b - 1) as f64).product()
    }

    /// `(K ⋆ v)(a) = Σ_{b ≠ a} K(a − b) v_b` at each of `positions` (box coordinates, in
    /// z, y, x order, x fastest), where `v` is `values` on those positions and zero elsewhere.
    pub(super) fn correlate(&self, positions: &[[usize; 3]], values: &[f64]) -> Vec<f64> {
        let [lx, ly, lz] = self.len;
        let hx = lx / 2 + 1;
        let mut real_planner = RealFftPlanner::<f64>::new();
        let (r2c, c2r) = (real_planner.plan_fft_forward(lx), real_planner.plan_fft_inverse(lx));
        let mut planner = FftPlanner::<f64>::new();
        let (fft_y, ifft_y) = (planner.plan_fft_forward(ly), planner.plan_fft_inverse(ly));
        let (fft_z, ifft_z) = (planner.plan_fft_forward(lz), planner.plan_fft_inverse(lz));
        let plane_ranges = plane_ranges(positions, self.live[2]);
        let mut data = self.rows_forward(positions, values, &plane_ranges, &r2c);
        y_pass(&mut data, [hx, ly], &fft_y);
        self.z_pass_multiplied(&mut data, hx, [&fft_z, &ifft_z]);
        y_pass(&mut data, [hx, ly], &ifft_y);
        // x: back to real along the rows whose outputs are read.
        let scale = 1.0 / (lx * ly * lz) as f64;
        let planes: Vec<Vec<f64>> = data
            .par_chunks_mut(hx * ly)
            .zip(&plane_ranges)
            .map(|(plane, range)| {
                let mut out = Vec::with_capacity(range.len());
                let mut row = vec![0.0; lx];
                let mut scratch = vec![ZERO; c2r.get_scratch_len()];
                for y in 0..self.live[1] {
                    let rows = row_range(positions, range, y);
                    if rows.is_empty() {
                        continue;
                    }
                    let spectrum = &mut plane[hx * y..hx * (y + 1)];
                    // A real row's spectrum has real DC and Nyquist terms: drop the round-off.
                    spectrum[0].im = 0.0;
                    if lx % 2 == 0 {
                        spectrum[hx - 1].im = 0.0;
                    }
                    let _ = c2r.process_with_scratch(spectrum, &mut row, &mut scratch);
                    out.extend(rows.map(|i| row[positions[i][0]] * scale));
                }
                out
            })
            .collect();
        planes.concat()
    }

    /// `Σ_a v_a (K ⋆ v)(a)` over `positions` (the sum of `values` times [`Self::correlate`]'s
    /// result), by Parseval's theorem: `(1/L) Σ_k K̂(k) |V̂(k)|²`, K̂ being real. Only the
    /// forward transforms run, about half the work of correlating.
    pub(super) fn quadratic_form(&self, positions: &[[usize; 3]], values: &[f64]) -> f64 {
        let [lx, ly, lz] = self.len;
        let hx = lx / 2 + 1;
        let r2c = RealFftPlanner::<f64>::new().plan_fft_forward(lx);
        let mut planner = FftPlanner::<f64>::new();
        let (fft_y, fft_z) = (planner.plan_fft_forward(ly), planner.plan_fft_forward(lz));
        let plane_ranges = plane_ranges(positions, self.live[2]);
        let mut data = self.rows_forward(positions, values, &plane_ranges, &r2c);
        y_pass(&mut data, [hx, ly], &fft_y);
        self.z_pass_energy(&data, hx, &fft_z) / (lx * ly * lz) as f64
    }

    /// The first `live[2]` xy-planes (`len[0] / 2 + 1` × `len[1]`) of the signal `values`
    /// on `positions`, each row holding values transformed along x (real to half-complex).
    fn rows_forward(
        &self,
        positions: &[[usize; 3]],
        values: &[f64],
        plane_ranges: &[std::ops::Range<usize>],
        r2c: &Arc<dyn realfft::RealToComplex<f64>>,
    ) -> Vec<Complex<f64>> {
        let [lx, ly, _] = self.len;
        let hx = lx / 2 + 1;
        // Only the box's first live[2] planes are stored: the z-pass pads each line with
        // zeros on the way in (and, correlating, keeps only those planes on the way out).
        let mut data = vec![ZERO; hx * ly * self.live[2]];
        data.par_chunks_mut(hx * ly).zip(plane_ranges).for_each(|(plane, range)| {
            let mut row = vec![0.0; lx];
            let mut scratch = vec![ZERO; r2c.get_scratch_len()];
            for y in 0..self.live[1] {
                let rows = row_range(positions, range, y);
                if rows.is_empty() {
                    continue;
                }
                row.fill(0.0);
                for i in rows {
                    row[positions[i][0]] = values[i];
                }
                // Lengths match the plan, so the transform cannot fail.
                let _ = r2c.process_with_scratch(&mut row, &mut plane[hx * y..hx * (y + 1)], &mut scratch);
            }
        });
        data
    }

    /// `Σ_k K̂(k) |V̂(k)|²` over every frequency, from `data`: the first `live[2]` xy-planes
    /// (`nx` × `len[1]`) of the xy-transformed signal, transformed along z here (lines
    /// padded with zeros to `len[2]`). The half-complex x frequencies `0 < k_x < len[0] / 2`
    /// stand for `k_x` and `len[0] − k_x` too (Hermitian symmetry, and K̂ is even), so they
    /// count twice. Partial sums per y are added in y order, whatever the thread count.
    fn z_pass_energy(&self, data: &[Complex<f64>], nx: usize, fft: &Arc<dyn Fft<f64>>) -> f64 {
        let ([lx, ny, nz], live_z) = (self.len, self.live[2]);
        let hy = ny / 2 + 1;
        let fold = |k: usize, l: usize| k.min(l - k);
        let buffers = || (vec![ZERO; nx * nz], vec![ZERO; fft.get_inplace_scratch_len()]);
        let per_y: Vec<f64> = (0..ny)
            .into_par_iter()
            .map_init(buffers, |(lines, scratch), y| {
                gather_z_lines(|z| &data[(z * ny + y) * nx..(z * ny + y + 1) * nx], [nx, nz, live_z], lines);
                fft.process_with_scratch(lines, scratch);
                let fy = fold(y, ny);
                let mut sum = 0.0;
                for (x, line) in lines.chunks(nz).enumerate() {
                    let self_conjugate = x == 0 || (lx % 2 == 0 && x == nx - 1);
                    let mut s = 0.0;
                    for (kz, v) in line.iter().enumerate() {
                        s += self.spectrum[(fold(kz, nz) * hy + fy) * nx + x] * v.norm_sqr();
                    }
                    sum += if self_conjugate { s } else { 2.0 * s };
                }
                sum
            })
            .collect();
        per_y.iter().sum()
    }

    /// The z-pass there and back, with the product by the kernel's spectrum between them,
    /// on `data`: the first `live[2]` xy-planes (`nx` × `len[1]`) of the xy-transformed
    /// signal. The rows of every plane are grouped by y (disjoint slices, so the xz-slabs
    /// can be worked on in parallel); each slab is gathered into z-fastest lines padded with
    /// zeros to `len[2]`, transformed, multiplied, transformed back, and its first `live[2]`
    /// values per line scattered back.
    fn z_pass_multiplied(&self, data: &mut [Complex<f64>], nx: usize, [fft, ifft]: [&Arc<dyn Fft<f64>>; 2]) {
        let ([_, ny, nz], live_z) = (self.len, self.live[2]);
        let hy = ny / 2 + 1;
        // K is even, so correlation equals convolution: multiply spectra. The kernel's
        // spectrum is even too: frequency k reads entry min(k, L − k) of the stored octant
        // (x needs no folding: the half-complex rows hold k_x ≤ L_x / 2 only).
        let fold = |k: usize, l: usize| k.min(l - k);
        let mut rows_by_y: Vec<Vec<&mut [Complex<f64>]>> = (0..ny).map(|_| Vec::with_capacity(live_z)).collect();
        for plane in data.chunks_mut(nx * ny) {
            for (y, row) in plane.chunks_mut(nx).enumerate() {
                rows_by_y[y].push(row);
            }
        }
        let scratch_len = fft.get_inplace_scratch_len().max(ifft.get_inplace_scratch_len());
        let buffers = || (vec![ZERO; nx * nz], vec![ZERO; scratch_len]);
        rows_by_y.into_par_iter().enumerate().for_each_init(buffers, |(lines, scratch), (y, mut rows)| {
            let slab = &rows;
            gather_z_lines(|z| &*slab[z], [nx, nz, live_z], lines);
            fft.process_with_scratch(lines, scratch);
            let fy = fold(y, ny);
            for (x, line) in lines.chunks_mut(nz).enumerate() {
                for (kz, v) in line.iter_mut().enumerate() {
                    *v *= self.spectrum[(fold(kz, nz) * hy + fy) * nx + x];
                }
            }
            ifft.process_with_scratch(lines, scratch);
            for x0 in (0..nx).step_by(BLOCK) {
                let x1 = (x0 + BLOCK).min(nx);
                for (z, row) in rows.iter_mut().enumerate() {
                    for (x, v) in (x0..x1).zip(&mut row[x0..x1]) {
                        *v = lines[x * nz + z];
                    }
                }
            }
        });
    }
}

/// Columns moved per sweep when an xz-slab is turned into z-lines and back: each sweep reads
/// a short piece of every row and writes as many lines, which keeps both sides in cache.
const BLOCK: usize = 8;

/// The xz-slab whose row at `z < live_z` is `row(z)` (`nx` values) as z-fastest `lines` of
/// `nz` values, zero past `live_z` (the padding that keeps the correlation from wrapping).
fn gather_z_lines<'r>(
    row: impl Fn(usize) -> &'r [Complex<f64>],
    [nx, nz, live_z]: [usize; 3],
    lines: &mut [Complex<f64>],
) {
    for x0 in (0..nx).step_by(BLOCK) {
        let x1 = (x0 + BLOCK).min(nx);
        for z in 0..live_z {
            for (x, &v) in (x0..x1).zip(&row(z)[x0..x1]) {
                lines[x * nz + z] = v;
            }
        }
    }
    for line in lines.chunks_mut(nz) {
        line[live_z..].fill(ZERO);
    }
}

/// For each of the box's `live_z` planes, the range of `positions` (sorted by z, then y) in it.
fn plane_ranges(positions: &[[usize; 3]], live_z: usize) -> Vec<std::ops::Range<usize>> {
    (0..live_z).map(|z| positions.partition_point(|p| p[2] < z)..positions.partition_point(|p| p[2] <= z)).collect()
}

/// The range of `positions` in row `y` of the plane whose range is `plane`.
fn row_range(positions: &[[usize; 3]], plane: &std::ops::Range<usize>, y: usize) -> std::ops::Range<usize> {
    let ps = &positions[plane.clone()];
    plane.start + ps.partition_point(|p| p[1] < y)..plane.start + ps.partition_point(|p| p[1] <= y)
}

/// y-pass over the xy-planes of `data` (dimensions `[nx, ny]` per plane): each plane is
/// transposed (cache-blocked) into y-fastest lines, transformed, and transposed back.
fn y_pass(data: &mut [Complex<f64>], [nx, ny]: [usize; 2], fft: &Arc<dyn Fft<f64>>) {
    data.par_chunks_mut(nx * ny).for_each(|plane| {
        let mut lines = vec![ZERO; nx * ny];
        let mut scratch = vec![ZERO; fft.get_inplace_scratch_len()];
        transpose::transpose(plane, &mut lines, nx, ny);
        fft.process_with_scratch(&mut lines, &mut scratch);
        transpose::transpose(&lines, plane, ny, nx);
    });
}

/// The spectrum of the kernel `K(d) = 1/‖d‖` (`K(0) = 0`, zero unless `|d_a| < dims_a`) on
/// the circular grid `len`, which is real and even in every axis: only the octant of
/// frequencies `k_a ≤ len_a / 2` is computed and returned, x-fastest, `len_a / 2 + 1` per axis.
///
/// See [`even_spectrum`] for the transform.
fn kernel_spectrum(dims: [usize; 3], spacing: [f64; 3], len: [usize; 3]) -> Vec<f64> {
    let half = len.map(|l| l / 2 + 1);
    let [hx, hy, hz] = half;
    let mut octant = vec![0.0; hx * hy * hz];
    for dz in 0..dims[2] {
        for dy in 0..dims[1] {
            for dx in 0..dims[0] {
                if dx + dy + dz > 0 {
                    let d2 = (dx as f64 * spacing[0]).powi(2)
                        + (dy as f64 * spacing[1]).powi(2)
                        + (dz as f64 * spacing[2]).powi(2);
                    octant[dx + hx * (dy + hy * dz)] = 1.0 / d2.sqrt();
                }
            }
        }
    }
    even_spectrum(octant, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_matches_the_pair_sum() {
        // Three voxels of an odd-sized box (odd padded x length too): compare with the sum
        // over the other voxels of K(a − b) v_b, written out.
        let spacing = [0.8, 1.0, 2.0];
        let positions = [[0, 0, 0], [2, 1, 0], [4, 0, 1]];
        let values = [1.5, -2.0, 0.25];
        let got = KernelCorrelation::new([5, 2, 2], spacing).correlate(&positions, &values);
        for (a, pa) in positions.iter().enumerate() {
            let want: f64 = positions
                .iter()
                .zip(&values)
                .filter(|(pb, _)| *pb != pa)
                .map(|(pb, v)| {
                    let d2: f64 = (0..3).map(|i| ((pa[i] as f64 - pb[i] as f64) * spacing[i]).powi(2)).sum();
                    v / d2.sqrt()
                })
                .sum();
            assert!((got[a] - want).abs() < 1e-12 * want.abs().max(1.0), "{a}: {} vs {want}", got[a]);
        }
    }
    #[test]
    fn quadratic_form_is_the_sum_of_values_times_their_correlation() {
        // Odd and even padded x lengths (the half-complex Nyquist bin counts once), a few
        // voxels with values of both signs.
        let positions = [[0, 0, 0], [2, 1, 0], [4, 0, 1], [1, 1, 1], [3, 0, 2]];
        let values = [1.5, -2.0, 0.25, 3.0, -0.75];
        for (dims, spacing) in [([5, 2, 3], [0.8, 1.0, 2.0]), ([6, 3, 3], [1.0, 0.7, 1.3])] {
            let kernel = KernelCorrelation::new(dims, spacing);
            assert_eq!(kernel.len[0] % 2, if dims[0] == 5 { 1 } else { 0 }, "padded x length {:?}", kernel.len);
            let want: f64 = kernel.correlate(&positions, &values).iter().zip(&values).map(|(t, v)| t * v).sum();
            let got = kernel.quadratic_form(&positions, &values);
            assert!((got - want).abs() < 1e-12 * want.abs().max(1.0), "{dims:?}: {got} vs {want}");
        }
    }
}
