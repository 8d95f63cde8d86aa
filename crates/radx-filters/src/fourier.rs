//! Fourier-domain machinery shared by Gabor, Simoncelli and Riesz: pad a volume with a
//! boundary condition, FFT it along chosen axes, multiply by a transfer function, invert,
//! crop.
//!
//! Why FFTs: these filters are either defined in the Fourier domain (Simoncelli, Riesz) or
//! have kernels far wider than the separable ones (a Gabor kernel of the IBSI tests is
//! 121 × 121 voxels), where a spatial convolution costs thousands of multiplications per voxel.
//!
//! Conventions: `X[m] = Σ_n x[n]·e^(−j·2π·m·n/M)` forward, `x[n] = (1/M)·Σ_m X[m]·e^(+j…)`
//! inverse (the 1/M is applied here), so `IFFT(FFT(x)·FFT(h))` is the circular convolution
//! `Σ_m h[m]·x[n − m]`. Each line's FFT is computed on its own, in a fixed order, so the
//! result has the same bits for any number of threads.

use ndarray::parallel::prelude::*;
use ndarray::{Array3, ArrayView3, ArrayViewMut2, Axis, Zip};
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftDirection, FftPlanner};
use std::sync::Arc;

use crate::boundary::Boundary;

/// A real volume placed in a larger complex grid, extended past its edges.
#[derive(Debug, Clone)]
pub struct Padded {
    /// The grid: the image occupies `offset[a] .. offset[a] + dims[a]` along each axis.
    pub data: Array3<Complex64>,
    /// Where the image's first voxel sits in the grid.
    pub offset: [usize; 3],
    /// The image's dimensions.
    pub dims: [usize; 3],
}

impl Padded {
    /// Place `image` in a grid of `lengths` voxels, `widths` voxels from its start, and fill
    /// the `widths` voxels on each side by `boundary`; anything past that (a grid rounded up
    /// to a fast FFT length) is zero.
    ///
    /// # Panics
    /// If a length is shorter than the image plus both widths (a caller bug).
    pub fn new(image: ArrayView3<'_, f64>, widths: [usize; 3], lengths: [usize; 3], boundary: Boundary) -> Padded {
        let dims = [image.len_of(Axis(0)), image.len_of(Axis(1)), image.len_of(Axis(2))];
        let reads: Vec<Vec<Option<usize>>> =
            (0..3).map(|a| boundary_reads(dims[a], widths[a], lengths[a], boundary)).collect();
        let mut data = Array3::<Complex64>::zeros((lengths[0], lengths[1], lengths[2]));
        Zip::indexed(&mut data).par_for_each(|(p, q, r), v| {
            if let (Some(i), Some(j), Some(k)) = (reads[0][p], reads[1][q], reads[2][r]) {
                *v = Complex64::new(image[[i, j, k]], 0.0);
            }
        });
        Padded { data, offset: widths, dims }
    }

    /// [`Padded::new`] with the grid just large enough: the image plus both widths.
    pub fn exact(image: ArrayView3<'_, f64>, widths: [usize; 3], boundary: Boundary) -> Padded {
        let lengths = std::array::from_fn(|a| image.len_of(Axis(a)) + 2 * widths[a]);
        Padded::new(image, widths, lengths, boundary)
    }

    /// The image's box of the grid, each value mapped by `f` (e.g. the real part, the modulus).
    pub fn crop(&self, f: impl Fn(Complex64) -> f64 + Sync) -> Array3<f64> {
        let mut out = Array3::<f64>::zeros(self.dims);
        add_cropped(&mut out, &self.data, self.offset, f);
        out
    }
}

/// A filter's response in the Fourier domain, on its padded grid, with each axis's
/// frequencies (rad/voxel, FFT order): several multipliers can be applied to it in turn.
#[derive(Debug, Clone)]
pub struct Spectrum {
    /// The transformed grid (offset and dimensions still say where the image sits).
    pub padded: Padded,
    /// The angular frequency of each index, per axis (zeros along an axis not transformed).
    pub grid: Vec<Vec<f64>>,
    /// The transformed axes.
    pub axes: &'static [usize],
}

impl Spectrum {
    /// Re IFFT(spectrum · multiplier(ω)) on the image's box: one more filter's response,
    /// the spectrum itself left as it is.
    pub fn component(&self, multiplier: impl Fn([f64; 3]) -> Complex64 + Sync) -> Array3<f64> {
        let mut work = self.padded.clone();
        let grid = &self.grid;
        multiply(&mut work.data, |[p, q, r]| multiplier([grid[0][p], grid[1][q], grid[2][r]]));
        transform(&mut work.data, self.axes, FftDirection::Inverse);
        work.crop(|v| v.re)
    }
}

/// Add `f(grid value)` over the box of `sum`'s shape at `offset` in `grid` to `sum`: the
/// crop and the accumulation of a pooled response in one pass, without a cropped copy.
pub fn add_cropped(
    sum: &mut Array3<f64>,
    grid: &Array3<Complex64>,
    offset: [usize; 3],
    f: impl Fn(Complex64) -> f64 + Sync,
) {
    let [o0, o1, o2] = offset;
    Zip::indexed(sum).par_for_each(|(i, j, k), v| *v += f(grid[[i + o0, j + o1, k + o2]]));
}

/// Which image index each grid index reads along an axis of `len` voxels placed `width`
/// voxels into a grid of `total` (≥ len + 2·width): the boundary's rule within `width` of
/// the image, `None` (zero) for a zero boundary and past the padding.
pub fn boundary_reads(len: usize, width: usize, total: usize, boundary: Boundary) -> Vec<Option<usize>> {
    assert!(total >= len + 2 * width, "the grid holds the image and its padding");
    (0..total)
        .map(|p| match p < len + 2 * width && len > 0 {
            true => boundary.resolve(p as isize - width as isize, len),
            false => None,
        })
        .collect()
}

/// 2-D FFTs of row-major `rows × cols` buffers, unnormalised both ways: the rows are
/// transformed as one contiguous batch, the columns through a transposed copy (rustfft
/// wants contiguous lines). For filtering many small planes (Gabor slices), where a slice's
/// buffers stay in cache and nothing is allocated per slice beyond [`Fft2Work`].
pub struct Fft2 {
    rows: usize,
    cols: usize,
    row_ffts: [Arc<dyn Fft<f64>>; 2],
    col_ffts: [Arc<dyn Fft<f64>>; 2],
}

/// A thread's buffers for [`Fft2`]: the transposed copy and rustfft's scratch.
pub struct Fft2Work {
    transposed: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl Fft2 {
    /// Plans for `rows × cols` (each length planned once).
    pub fn new(rows: usize, cols: usize) -> Fft2 {
        let mut planner = FftPlanner::<f64>::new();
        let mut plan = |n| [planner.plan_fft_forward(n), planner.plan_fft_inverse(n)];
        let row_ffts = plan(cols);
        let col_ffts = plan(rows);
        Fft2 { rows, cols, row_ffts, col_ffts }
    }

    /// Buffers for one thread.
    pub fn work(&self) -> Fft2Work {
        let scratch =
            self.row_ffts.iter().chain(&self.col_ffts).map(|f| f.get_inplace_scratch_len()).max().unwrap_or(0);
        Fft2Work {
            transposed: vec![Complex64::new(0.0, 0.0); self.rows * self.cols],
            scratch: vec![Complex64::new(0.0, 0.0); scratch],
        }
    }

    /// Transform `buf` along both axes; with `rows_needed`, the row pass (last when inverse)
    /// covers only those rows — the ones a crop keeps.
    pub fn process(
        &self,
        buf: &mut [Complex64],
        direction: FftDirection,
        rows_needed: std::ops::Range<usize>,
        work: &mut Fft2Work,
    ) {
        let d = usize::from(direction == FftDirection::Inverse);
        let (rows, cols) = (self.rows, self.cols);
        if d == 0 {
            self.row_ffts[0].process_with_scratch(buf, &mut work.scratch);
        }
        for (r, row) in buf.chunks_exact(cols).enumerate() {
            row.iter().enumerate().for_each(|(c, &v)| work.transposed[c * rows + r] = v);
        }
        self.col_ffts[d].process_with_scratch(&mut work.transposed, &mut work.scratch);
        for (r, row) in buf.chunks_exact_mut(cols).enumerate() {
            row.iter_mut().enumerate().for_each(|(c, v)| *v = work.transposed[c * rows + r]);
        }
        if d == 1 {
            let needed = &mut buf[rows_needed.start * cols..rows_needed.end * cols];
            if !needed.is_empty() {
                self.row_ffts[1].process_with_scratch(needed, &mut work.scratch);
            }
        }
    }
}

/// The smallest length ≥ `n` whose prime factors are 2, 3, 5 and 7 (fast for rustfft).
pub fn fast_length(n: usize) -> usize {
    (n.max(1)..)
        .find(|&m| {
            let mut r = m;
            for p in [2, 3, 5, 7] {
                while r % p == 0 {
                    r /= p;
                }
            }
            r == 1
        })
        .expect("a 7-smooth number exists above any n")
}

/// The DFT's angular frequencies of an axis of `n` voxels, in FFT order: `2π·fftfreq(n)`,
/// in rad/voxel (…, −π for even n at index n/2).
pub fn dft_frequencies(n: usize) -> Vec<f64> {
    (0..n)
        .map(|m| {
            let signed = if 2 * m < n { m as f64 } else { m as f64 - n as f64 };
            2.0 * std::f64::consts::PI * signed / n as f64
        })
        .collect()
}

/// The "centric linspace" frequencies of an axis of `n` voxels, in FFT order: ω(i) =
/// π·(i − (n−1)/2)/((n−1)/2), i.e. exactly −π … +π, then `ifftshift`ed. The IBSI-2
/// Simoncelli reference maps were made on this grid (the exact DFT grid fails 8.a.2 and
/// 8.a.3). For even n it has no zero bin: index 0 holds π/(n−1). One voxel gives [0].
pub fn centric_frequencies(n: usize) -> Vec<f64> {
    if n < 2 {
        return vec![0.0; n];
    }
    let half = (n as f64 - 1.0) / 2.0;
    let linspace = |i: usize| std::f64::consts::PI * (i as f64 - half) / half;
    // ifftshift: out[i] = in[(i + n/2) mod n].
    (0..n).map(|i| linspace((i + n / 2) % n)).collect()
}

/// FFT `data` along each of `axes` in turn (forward or inverse; the inverse divides by the
/// length). Axes of length 1 are left as they are (their transform is the identity).
pub fn transform(data: &mut Array3<Complex64>, axes: &[usize], direction: FftDirection) {
    let mut planner = FftPlanner::<f64>::new();
    for &axis in axes {
        let len = data.len_of(Axis(axis));
        if len > 1 {
            let fft = planner.plan_fft(len, direction);
            transform_axis(data, axis, &fft, direction == FftDirection::Inverse);
        }
    }
}

/// One axis: the lanes are split by the longest other axis and run in parallel, each with
/// one line buffer and one scratch buffer per slice (none per voxel).
fn transform_axis(data: &mut Array3<Complex64>, axis: usize, fft: &Arc<dyn Fft<f64>>, normalise: bool) {
    let others: Vec<usize> = (0..3).filter(|&a| a != axis).collect();
    let outer = if data.len_of(Axis(others[0])) >= data.len_of(Axis(others[1])) { others[0] } else { others[1] };
    let inner_axis = if axis > outer { axis - 1 } else { axis };
    let scale = if normalise { 1.0 / fft.len() as f64 } else { 1.0 };
    data.axis_iter_mut(Axis(outer)).into_par_iter().for_each(|slice: ArrayViewMut2<'_, Complex64>| {
        let mut slice = slice;
        let mut line = vec![Complex64::new(0.0, 0.0); fft.len()];
        let mut scratch = vec![Complex64::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        for mut lane in slice.lanes_mut(Axis(inner_axis)) {
            line.iter_mut().zip(lane.iter()).for_each(|(b, &v)| *b = v);
            fft.process_with_scratch(&mut line, &mut scratch);
            lane.iter_mut().zip(line.iter()).for_each(|(v, &b)| *v = b * scale);
        }
    });
}

/// Multiply every bin of `data` by `transfer(index)`, in parallel.
pub fn multiply(data: &mut Array3<Complex64>, transfer: impl Fn([usize; 3]) -> Complex64 + Sync) {
    Zip::indexed(data).par_for_each(|(p, q, r), v| *v *= transfer([p, q, r]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_then_inverse_gives_the_signal_back() {
        let x = Array3::from_shape_fn((5, 6, 7), |(i, j, k)| Complex64::new((i * 7 + j * 3 + k) as f64, k as f64));
        let mut y = x.clone();
        transform(&mut y, &[0, 1, 2], FftDirection::Forward);
        transform(&mut y, &[2, 0, 1], FftDirection::Inverse);
        assert!(x.iter().zip(y.iter()).all(|(a, b)| (a - b).norm() < 1e-10));
    }

    #[test]
    fn a_product_of_spectra_is_a_convolution_not_a_correlation() {
        // h = [1, 2, 3] centred (h[-1] = 1 at index 4, h[0] = 2, h[1] = 3) on an impulse at 2.
        let mut x = Array3::<Complex64>::zeros((5, 1, 1));
        x[[2, 0, 0]] = Complex64::new(1.0, 0.0);
        let mut h = Array3::<Complex64>::zeros((5, 1, 1));
        for (m, v) in [(4, 1.0), (0, 2.0), (1, 3.0)] {
            h[[m, 0, 0]] = Complex64::new(v, 0.0);
        }
        transform(&mut x, &[0], FftDirection::Forward);
        transform(&mut h, &[0], FftDirection::Forward);
        multiply(&mut x, |[p, q, r]| h[[p, q, r]]);
        transform(&mut x, &[0], FftDirection::Inverse);
        let y: Vec<f64> = x.iter().map(|v| (v.re * 1e9).round() / 1e9).collect();
        assert_eq!(y, [0.0, 1.0, 2.0, 3.0, 0.0]);
    }

    #[test]
    fn the_2d_transform_matches_the_volume_one() {
        let x = Array3::from_shape_fn((6, 5, 1), |(i, j, _)| Complex64::new((i * 5 + j * j) as f64, i as f64));
        let mut volume = x.clone();
        transform(&mut volume, &[0, 1], FftDirection::Forward);
        let fft = Fft2::new(6, 5);
        let mut work = fft.work();
        let mut plane: Vec<Complex64> = x.iter().copied().collect();
        fft.process(&mut plane, FftDirection::Forward, 0..6, &mut work);
        assert!(volume.iter().zip(&plane).all(|(a, b)| (a - b).norm() < 1e-10));
        fft.process(&mut plane, FftDirection::Inverse, 2..4, &mut work);
        let back: Vec<Complex64> = x.iter().map(|v| v * 30.0).collect();
        assert!(back[10..20].iter().zip(&plane[10..20]).all(|(a, b)| (a - b).norm() < 1e-9));
    }

    #[test]
    fn padding_follows_the_boundary_and_the_crop_returns_the_image() {
        let image = Array3::from_shape_fn((3, 1, 1), |(i, _, _)| (i + 1) as f64);
        let padded = Padded::new(image.view(), [2, 0, 0], [9, 1, 1], Boundary::Mirror);
        let line: Vec<f64> = padded.data.iter().map(|v| v.re).collect();
        assert_eq!(line, [2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0, 0.0, 0.0]);
        assert_eq!(padded.crop(|v| v.re), image);
    }

    #[test]
    fn the_centric_grid_runs_from_minus_pi_to_pi_then_is_shifted() {
        let pi = std::f64::consts::PI;
        let even = centric_frequencies(4); // linspace: −π, −π/3, π/3, π → ifftshift
        let expected = [pi / 3.0, pi, -pi, -pi / 3.0];
        assert!(even.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-15), "{even:?}");
        assert_eq!(centric_frequencies(3), [0.0, pi, -pi]);
        assert_eq!(dft_frequencies(4), [0.0, pi / 2.0, -pi, -pi / 2.0]);
        assert_eq!(fast_length(121), 125);
        assert_eq!(fast_length(184), 189);
    }
}
