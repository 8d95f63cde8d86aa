//! 1-D kernels and the pass that convolves every line of one axis with one of them.
//!
//! A separable 3-D filter is a product of 1-D kernels, one per axis; applying them as
//! successive 1-D passes, each extending the image with the same boundary condition, gives
//! exactly the 3-D convolution over the padded image (for all four conditions).

use ndarray::{Array3, ArrayView3, Axis, ShapeBuilder, Zip};
use rayon::prelude::*;

use crate::boundary::Boundary;

/// A 1-D convolution kernel: `y[n] = Σ_t taps[t] · x[n + step·(offset − t)]`.
///
/// A centred odd kernel of length 2r+1 (indexed m = −r..r, `y[n] = Σ h[m]·x[n−m]`) has
/// `offset = r`. An even-length wavelet filter of N taps, zero-extended at its end and
/// centred at N/2, has `offset = N/2`. `step` > 1 spreads the taps apart (the à trous
/// upsampling of an undecimated wavelet at level ℓ: step 2^(ℓ−1)).
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel1d {
    /// The kernel's coefficients, in convolution order.
    pub taps: Vec<f64>,
    /// Index of the tap applied to `x[n]` (with `step` 1).
    pub offset: usize,
    /// Distance between the voxels two neighbouring taps read.
    pub step: usize,
}

impl Kernel1d {
    /// A centred kernel of odd length.
    ///
    /// # Panics
    /// If `taps` has even length (a caller bug: even kernels say where their centre is).
    pub fn centred(taps: Vec<f64>) -> Self {
        assert!(taps.len() % 2 == 1, "a centred kernel has odd length");
        let offset = taps.len() / 2;
        Kernel1d { taps, offset, step: 1 }
    }

    /// The kernel mirrored about its centre, K'(m) = K(−m): what a kernel becomes along
    /// an axis that a rotation reverses.
    pub fn reversed(&self) -> Self {
        let mut taps = self.taps.clone();
        taps.reverse();
        Kernel1d { taps, offset: self.taps.len() - 1 - self.offset, step: self.step }
    }

    /// The same taps `step` times further apart.
    pub fn dilated(&self, step: usize) -> Self {
        Kernel1d { taps: self.taps.clone(), offset: self.offset, step: self.step * step }
    }

    /// How far the kernel reads before (`[0]`) and after (`[1]`) the output voxel.
    pub fn reach(&self) -> [usize; 2] {
        let n = self.taps.len();
        [self.step * (n - 1 - self.offset), self.step * self.offset]
    }

    /// The larger of the two reaches: the margin this kernel needs on each side.
    pub fn radius(&self) -> usize {
        let [before, after] = self.reach();
        before.max(after)
    }
}

/// Convolve every line of `image` along `axis` with `kernel`, extending each line by
/// `boundary`. The result has the image's shape, in Fortran (x-fastest) layout.
///
/// Each output voxel is one sum over the taps in a fixed order, so the result has the same
/// bits for any thread count. Along x the lines are contiguous and are padded one at a
/// time; along y and z (strided in the x-fastest layout) whole rows or planes are added at
/// once, which reads memory in order instead of one cache line per voxel.
pub fn convolve_axis(image: ArrayView3<'_, f64>, axis: usize, kernel: &Kernel1d, boundary: Boundary) -> Array3<f64> {
    let mut out = Array3::<f64>::zeros(image.raw_dim().f());
    if image.len_of(Axis(axis)) == 0 {
        return out;
    }
    let x_fastest = image.t().is_standard_layout();
    if axis == 0 || !x_fastest {
        convolve_lines(image, axis, kernel, boundary, &mut out);
    } else {
        convolve_rows(image, axis, kernel, boundary, &mut out);
    }
    out
}

/// One padded buffer per line (none per voxel), lines in parallel.
fn convolve_lines(
    image: ArrayView3<'_, f64>,
    axis: usize,
    kernel: &Kernel1d,
    boundary: Boundary,
    out: &mut Array3<f64>,
) {
    let len = image.len_of(Axis(axis));
    let [before, after] = kernel.reach();
    let reads: Vec<(f64, usize)> = kernel
        .taps
        .iter()
        .enumerate()
        .map(|(t, &h)| (h, before + kernel.step * kernel.offset - kernel.step * t))
        .collect();
    Zip::from(out.lanes_mut(Axis(axis))).and(image.lanes(Axis(axis))).par_for_each(|mut out_line, in_line| {
        let padded: Vec<f64> = (0..len + before + after)
            .map(|p| boundary.resolve(p as isize - before as isize, len).map_or(0.0, |i| in_line[i]))
            .collect();
        for (n, y) in out_line.iter_mut().enumerate() {
            *y = reads.iter().map(|&(h, at)| h * padded[n + at]).sum();
        }
    });
}

/// For each index along an axis of `len` voxels, the taps it sums and the in-image index each
/// reads, the boundary resolved once per index (a tap that reads a zero is left out).
fn reads_per_index(kernel: &Kernel1d, boundary: Boundary, len: usize) -> Vec<Vec<(f64, usize)>> {
    (0..len)
        .map(|n| {
            let (step, offset) = (kernel.step as isize, kernel.offset as isize);
            let read = |(t, &h): (usize, &f64)| {
                boundary.resolve(n as isize + step * (offset - t as isize), len).map(|i| (h, i))
            };
            kernel.taps.iter().enumerate().filter_map(read).collect()
        })
        .collect()
}

/// Along y or z of an x-fastest image: each output row (y) or plane (z) is the sum of the
/// taps times whole input rows or planes, planes in parallel.
fn convolve_rows(
    image: ArrayView3<'_, f64>,
    axis: usize,
    kernel: &Kernel1d,
    boundary: Boundary,
    out: &mut Array3<f64>,
) {
    let reads = reads_per_index(kernel, boundary, image.len_of(Axis(axis)));
    if axis == 2 {
        out.axis_iter_mut(Axis(2)).into_par_iter().enumerate().for_each(|(n, plane)| {
            add_taps(plane, &reads[n], |source| image.index_axis(Axis(2), source));
        });
        return;
    }
    out.axis_iter_mut(Axis(2)).into_par_iter().zip(image.axis_iter(Axis(2))).for_each(|(mut out_plane, in_plane)| {
        for (n, taps) in reads.iter().enumerate() {
            add_taps(out_plane.index_axis_mut(Axis(1), n), taps, |source| in_plane.index_axis(Axis(1), source));
        }
    });
}

/// `target += Σ h · input(source)` over `taps`, in the taps' order.
fn add_taps<'a, D: ndarray::Dimension>(
    mut target: ndarray::ArrayViewMut<'_, f64, D>,
    taps: &[(f64, usize)],
    input: impl Fn(usize) -> ndarray::ArrayView<'a, f64, D>,
) {
    for &(h, source) in taps {
        Zip::from(&mut target).and(&input(source)).for_each(|o, &x| *o += h * x);
    }
}

/// Apply one 1-D kernel per listed axis, in the order given.
pub fn convolve_separable(
    image: ArrayView3<'_, f64>,
    kernels: &[(usize, Kernel1d)],
    boundary: Boundary,
) -> Array3<f64> {
    let mut current: Option<Array3<f64>> = None;
    for (axis, kernel) in kernels {
        let next = match &current {
            Some(c) => convolve_axis(c.view(), *axis, kernel, boundary),
            None => convolve_axis(image, *axis, kernel, boundary),
        };
        current = Some(next);
    }
    current.unwrap_or_else(|| {
        let mut copy = Array3::zeros(image.raw_dim().f());
        copy.assign(&image);
        copy
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(values: &[f64]) -> Array3<f64> {
        Array3::from_shape_vec((values.len(), 1, 1), values.to_vec()).unwrap()
    }

    #[test]
    fn a_kernel_is_convolved_not_correlated() {
        // The impulse response is the kernel itself, written with increasing index.
        let x = line(&[0.0, 0.0, 1.0, 0.0, 0.0]);
        let y = convolve_axis(x.view(), 0, &Kernel1d::centred(vec![1.0, 2.0, 3.0]), Boundary::Zero);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), [0.0, 1.0, 2.0, 3.0, 0.0]);
    }

    #[test]
    fn an_even_filter_is_zero_extended_at_its_end_and_centred_at_half_its_length() {
        // db2-style 4 taps: y[n] = h0·x[n+2] + h1·x[n+1] + h2·x[n] + h3·x[n−1].
        let x = line(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        let k = Kernel1d { taps: vec![1.0, 2.0, 3.0, 4.0], offset: 2, step: 1 };
        let y = convolve_axis(x.view(), 0, &k, Boundary::Zero);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), [0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
        // Reversed: K'(m) = K(−m), the impulse response mirrored about the impulse.
        let y = convolve_axis(x.view(), 0, &k.reversed(), Boundary::Zero);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), [0.0, 0.0, 4.0, 3.0, 2.0, 1.0, 0.0]);
        // Dilated by 2: the taps read every other voxel (tap 0 lands outside the line).
        let y = convolve_axis(x.view(), 0, &k.dilated(2), Boundary::Zero);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), [0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0]);
    }

    #[test]
    fn the_boundary_condition_supplies_the_values_past_the_edge() {
        let x = line(&[1.0, 2.0, 3.0]);
        // Sum of the voxel and its two neighbours on each side.
        let k = Kernel1d::centred(vec![1.0; 5]);
        let at = |b| convolve_axis(x.view(), 0, &k, b).iter().copied().collect::<Vec<_>>();
        assert_eq!(at(Boundary::Zero), [6.0, 6.0, 6.0]);
        assert_eq!(
            at(Boundary::Nearest),
            [1.0 + 1.0 + 1.0 + 2.0 + 3.0, 1.0 + 1.0 + 2.0 + 3.0 + 3.0, 1.0 + 2.0 + 3.0 + 3.0 + 3.0]
        );
        // periodic: 2 3 | 1 2 3 | 1 2
        assert_eq!(
            at(Boundary::Periodic),
            [2.0 + 3.0 + 1.0 + 2.0 + 3.0, 3.0 + 1.0 + 2.0 + 3.0 + 1.0, 1.0 + 2.0 + 3.0 + 1.0 + 2.0]
        );
        // mirror: 2 1 | 1 2 3 | 3 2
        assert_eq!(
            at(Boundary::Mirror),
            [2.0 + 1.0 + 1.0 + 2.0 + 3.0, 1.0 + 1.0 + 2.0 + 3.0 + 3.0, 1.0 + 2.0 + 3.0 + 3.0 + 2.0]
        );
    }
}
