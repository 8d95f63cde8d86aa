//! Pieces shared by the FFT paths (spatial autocorrelation, intensity peaks): fast transform
//! lengths and the spectrum of a real, even kernel.

use rayon::prelude::*;
use realfft::RealFftPlanner;
use rustfft::num_complex::Complex;

const ZERO: Complex<f64> = Complex::new(0.0, 0.0);

/// The spectrum, on the circular grid `len`, of a real kernel that is even in every axis
/// (`K(d) = K(−d)` per axis), given by its octant `octant[dx + hx·(dy + hy·dz)]` for
/// `0 ≤ d_a < len_a / 2 + 1 = h_a`. The spectrum is real and even too: its octant of
/// frequencies `k_a ≤ len_a / 2` is returned in the same layout.
///
/// The 3D transform of an even function is three 1D even transforms, one axis at a time; each
/// line is extended to its full even length, transformed, and its first half kept. That is
/// about a quarter of a full 3D FFT's work and an eighth of its memory.
pub(crate) fn even_spectrum(mut octant: Vec<f64>, len: [usize; 3]) -> Vec<f64> {
    let [hx, hy, hz] = len.map(|l| l / 2 + 1);
    let mut planner = RealFftPlanner::<f64>::new();
    let plans = len.map(|l| planner.plan_fft_forward(l));
    // Even transform of one line given by its first half, in place: the spectrum of a real,
    // even line is real and even, and a real FFT gives its first half directly.
    let even_transform = |axis: usize, values: &mut [f64], line: &mut Vec<f64>, spectrum: &mut Vec<Complex<f64>>| {
        let l = len[axis];
        line.clear();
        line.extend((0..l).map(|d| values[d.min(l - d)]));
        spectrum.resize(l / 2 + 1, ZERO);
        // Lengths match the plan, so the transform cannot fail.
        let _ = plans[axis].process(line, spectrum);
        for (v, c) in values.iter_mut().zip(spectrum.iter()) {
            *v = c.re;
        }
    };
    // x and y within each z-plane of the octant (contiguous), planes in parallel.
    octant.par_chunks_mut(hx * hy).for_each(|plane| {
        let (mut line, mut scratch, mut values) = (Vec::new(), Vec::new(), vec![0.0; hy]);
        for row in plane.chunks_mut(hx) {
            even_transform(0, row, &mut line, &mut scratch);
        }
        for x in 0..hx {
            for (y, v) in values.iter_mut().enumerate() {
                *v = plane[x + hx * y];
            }
            even_transform(1, &mut values, &mut line, &mut scratch);
            for (y, v) in values.iter().enumerate() {
                plane[x + hx * y] = *v;
            }
        }
    });
    // z: per y, the xz-slab's lines, computed in parallel and written back in order.
    let slabs: Vec<Vec<f64>> = (0..hy)
        .into_par_iter()
        .map(|y| {
            let (mut line, mut scratch, mut values) = (Vec::new(), Vec::new(), vec![0.0; hz]);
            let mut slab = vec![0.0; hx * hz];
            for x in 0..hx {
                for (z, v) in values.iter_mut().enumerate() {
                    *v = octant[x + hx * (y + hy * z)];
                }
                even_transform(2, &mut values, &mut line, &mut scratch);
                slab[x * hz..(x + 1) * hz].copy_from_slice(&values);
            }
            slab
        })
        .collect();
    for (y, slab) in slabs.iter().enumerate() {
        for x in 0..hx {
            for z in 0..hz {
                octant[x + hx * (y + hy * z)] = slab[x * hz + z];
            }
        }
    }
    octant
}

/// Smallest length ≥ `n` whose only prime factors are 2, 3 and 5 (fast FFT sizes).
pub(crate) fn fft_len(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut r = m;
        for f in [2, 3, 5] {
            while r.is_multiple_of(f) {
                r /= f;
            }
        }
        if r == 1 {
            return m;
        }
        m += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_lengths_are_smooth() {
        assert_eq!(fft_len(7), 8);
        assert_eq!(fft_len(13), 15);
        assert_eq!(fft_len(1), 1);
    }
}
