//! PyRadiomics' image types (3.0.1, `radiomics/imageoperations.py`), each a [`Filter`](crate::Filter)
//! that reproduces what PyRadiomics computes, quirks included, so that features computed on
//! the response match PyRadiomics' to 1e-6.
//!
//! These are not the IBSI-2 filters of the rest of this crate, and radx keeps both: the IBSI
//! defines its filters by their kernels (a truncated sampled LoG, the à trous wavelet cascade),
//! PyRadiomics by the libraries it calls (ITK's recursive Gaussian, PyWavelets' `swtn` one
//! level at a time, scikit-image's LBP). The numbers differ; a PyRadiomics parameter file asks
//! for PyRadiomics' numbers, an IBSI settings file for the IBSI's.
//!
//! | PyRadiomics image type | radx type | image_type() |
//! |---|---|---|
//! | `LoG` (`sigma`) | [`LoG`] | `log-sigma-1-0-mm-3D` |
//! | `Wavelet` (`wavelet`, `start_level`, `level`) | [`Wavelet`] | `wavelet-LLH`, `wavelet2-HHH`, `wavelet-LL` (force2D) |
//! | `Square` | [`Square`] | `square` |
//! | `SquareRoot` | [`SquareRoot`] | `squareroot` |
//! | `Logarithm` | [`Logarithm`] | `logarithm` |
//! | `Exponential` | [`Exponential`] | `exponential` |
//! | `Gradient` (`gradientUseSpacing`) | [`Gradient`] | `gradient` |
//! | `LBP2D` (`lbp2DRadius`, `lbp2DSamples`, `lbp2DMethod`) | [`Lbp2D`] | `lbp-2D` |
//! | `LBP3D` (`lbp3DLevels`, `lbp3DIcosphereRadius`, `lbp3DIcosphereSubdivision`) | [`Lbp3D`], one per output | `lbp-3D-m1`, …, `lbp-3D-k` |
//!
//! **What PyRadiomics filters.** Every generator receives the image as `loadImage` returns
//! it and filters all of it: the whole image as read, or — when resampling is enabled
//! (`interpolator` and `resampledPixelSpacing`) — the resampled grid, which `resampleImage`
//! already crops to the ROI's bounding box grown by `padDistance` (default 5) voxels of the
//! new grid (clipped to the image); or, with `preCrop: true` and no resampling, the image
//! cropped to the bounding box grown by `padDistance`. Only after filtering is the response
//! cropped to the ROI's bounding box (no padding) for the feature classes. Every filter here
//! but [`Gradient`] and [`Lbp2D`] therefore needs the image exactly as PyRadiomics had it
//! ([`Margin::WholeImage`](crate::Margin::WholeImage)): the response depends on where that
//! image ends (recursive filters, wrap padding, the image's absolute maximum).

mod exponential;
mod gradient;
mod lbp2d;
mod lbp3d;
mod log;
mod logarithm;
mod square;
mod square_root;
mod wavelet;
mod wide;

pub use exponential::Exponential;
pub use gradient::Gradient;
pub use lbp2d::{Lbp2D, Lbp2DMethod, PixelStorage};
pub use lbp3d::{Lbp3D, Lbp3DOutput};
pub use log::LoG;
pub use logarithm::Logarithm;
pub use square::Square;
pub use square_root::SquareRoot;
pub use wavelet::Wavelet;

use ndarray::{Array3, ArrayView3, ArrayViewMut2, ArrayViewMut3, Axis, ShapeBuilder, Slice};
use rayon::prelude::*;

/// The value as a 32-bit float holds it (ITK's float images), back in f64.
#[inline(always)]
pub(crate) fn to_f32(x: f64) -> f64 {
    x as f32 as f64
}

/// The first `n` values of a scratch vector kept between calls, grown (with zeros) only when
/// shorter: for working arrays whose every value is written before it is read, so what a
/// former call left in them does not matter.
#[inline(always)]
pub(crate) fn sized(scratch: &mut Vec<f64>, n: usize) -> &mut [f64] {
    if scratch.len() < n {
        scratch.resize(n, 0.0);
    }
    &mut scratch[..n]
}

/// Python's `str(x)` of a float (its shortest round-trip `repr`): `1.0`, `0.5`, `1e-05`,
/// `1e+16`; what PyRadiomics writes into image-type names.
pub fn python_float_str(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddde±x".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` writes an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if x < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let point = exponent + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        };
        format!("{sign}{body}")
    } else {
        let mantissa = if digits.len() == 1 { digits } else { format!("{}.{}", &digits[..1], &digits[1..]) };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.abs())
    }
}

/// Apply `lines` to every 1-D line of `image` along `axis`; output in x-fastest layout
/// (a copy of `image` that [`map_lines_in_place`] then filters).
pub(crate) fn map_lines<F>(image: ArrayView3<'_, f64>, axis: usize, lines: F) -> Array3<f64>
where
    F: Fn(&[f64], &mut [f64], usize) + Sync,
{
    let mut out = x_fastest_copy(image);
    map_lines_in_place(&mut out, axis, lines);
    out
}

/// `image` copied into an x-fastest array (a plain copy when it already is x-fastest).
pub(crate) fn x_fastest_copy(image: ArrayView3<'_, f64>) -> Array3<f64> {
    if image.t().is_standard_layout() {
        return image.to_owned();
    }
    let mut out = Array3::<f64>::zeros(image.raw_dim().f());
    out.assign(&image);
    out
}

/// Replace every 1-D line of `image` along `axis` by `lines`' output on it.
///
/// `lines(data, out, w)` receives a bundle of `w` lines of the same length n, interleaved
/// (value m of line l at `data[m * w + l]`), and writes the output lines the same way. A
/// bundle is up to [`BUNDLE`] neighbouring lines of one plane (along x: lines of
/// consecutive y; along y and z: lines of consecutive x), so a recursion runs over short rows
/// that stay in cache, not one line at a time. A bundle is copied out before its output is
/// written back, and no other bundle reads its lines, so filtering in place gives what a
/// separate output would. Each output value is computed on its own line with the same
/// operations whatever the bundle, so the result does not depend on the bundling or the
/// thread count.
pub(crate) fn map_lines_in_place<F>(image: &mut Array3<f64>, axis: usize, lines: F)
where
    F: Fn(&[f64], &mut [f64], usize) + Sync,
{
    if image.is_empty() {
        return;
    }
    // Lines are interleaved across axis `lane`; planes of axis `outer` run in parallel.
    let lane = if axis == 0 { 1 } else { 0 };
    let outer = 3 - axis - lane;
    let (len, width) = (image.len_of(Axis(axis)), image.len_of(Axis(lane)));
    image.axis_iter_mut(Axis(outer)).into_par_iter().for_each(|plane| {
        // The plane with axes ordered (axis, lane).
        let mut plane = if axis < lane { plane } else { plane.reversed_axes() };
        let mut data = vec![0.0; len * BUNDLE.min(width)];
        let mut result = data.clone();
        for start in (0..width).step_by(BUNDLE) {
            let w = BUNDLE.min(width - start);
            let (data, result) = (&mut data[..len * w], &mut result[..len * w]);
            // Rows along x (the lines of y and z passes) are contiguous: plain copies.
            for m in 0..len {
                let row = plane.row(m);
                let row = row.slice_axis(Axis(0), Slice::from(start..start + w));
                let data = &mut data[m * w..(m + 1) * w];
                match row.as_slice() {
                    Some(row) => data.copy_from_slice(row),
                    None => data.iter_mut().zip(row).for_each(|(d, &v)| *d = v),
                }
            }
            lines(data, result, w);
            for m in 0..len {
                let mut row = plane.row_mut(m);
                let mut row = row.slice_axis_mut(Axis(0), Slice::from(start..start + w));
                let result = &result[m * w..(m + 1) * w];
                match row.as_slice_mut() {
                    Some(row) => row.copy_from_slice(result),
                    None => row.iter_mut().zip(result).for_each(|(o, &r)| *o = r),
                }
            }
        }
    });
}

/// The most lines [`map_lines`] hands over at once.
const BUNDLE: usize = 64;

/// [`map_lines_in_place`] along x of an x-fastest `image`: the same bundles (up to
/// [`BUNDLE`] lines of consecutive y in one z plane), copied out and back a tile of
/// [`TILE`] lines at a time, so that each copy reads a few lines straight along and writes
/// whole cache lines of the bundle, rather than gathering each value across the bundle's
/// lines one at a time.
/// `lines` also gets a scratch vector of its worker thread, kept from bundle to bundle.
pub(crate) fn map_x_lines_in_place<F>(image: &mut Array3<f64>, lines: F)
where
    F: Fn(&[f64], &mut [f64], usize, &mut Vec<f64>) + Sync,
{
    assert!(image.t().is_standard_layout(), "map_x_lines_in_place takes x-fastest images");
    if image.is_empty() {
        return;
    }
    let (len, ny, _) = image.dim();
    let voxels = image.as_slice_memory_order_mut().expect("an x-fastest array is contiguous");
    voxels.par_chunks_mut(len * ny).for_each_init(Vec::new, |scratch, plane| {
        let mut data = vec![0.0; len * BUNDLE.min(ny)];
        let mut result = data.clone();
        for bundle in plane.chunks_mut(len * BUNDLE) {
            let w = bundle.len() / len;
            let (data, result) = (&mut data[..len * w], &mut result[..len * w]);
            for (t, tile) in bundle.chunks(len * TILE).enumerate() {
                let mut from: [&[f64]; TILE] = Default::default();
                from.iter_mut().zip(tile.chunks_exact(len)).for_each(|(f, line)| *f = line);
                let from = &from[..tile.len() / len];
                for (m, row) in data.chunks_exact_mut(w).enumerate() {
                    row[t * TILE..].iter_mut().zip(from).for_each(|(d, line)| *d = line[m]);
                }
            }
            lines(data, result, w, scratch);
            for (t, tile) in bundle.chunks_mut(len * TILE).enumerate() {
                let mut to: [&mut [f64]; TILE] = Default::default();
                let k = tile.len() / len;
                to.iter_mut().zip(tile.chunks_exact_mut(len)).for_each(|(o, line)| *o = line);
                for (m, row) in result.chunks_exact(w).enumerate() {
                    to[..k].iter_mut().zip(&row[t * TILE..]).for_each(|(line, &r)| line[m] = r);
                }
            }
        }
    });
}

/// How many lines [`map_x_lines_in_place`] copies across at once: 8 values, one cache line
/// of the bundle.
const TILE: usize = 8;

/// Hand every bundle of lines of the x-fastest `image` along `axis` 1 (y) or 2 (z) to
/// `bundle` where the lines lie, without copying them out: a bundle is a (line length × w)
/// view whose row m holds value m of w neighbouring lines, contiguous, as the image stores
/// them (along y: up to [`LANES`] lines of consecutive x in one z plane; along z: up to
/// [`LANES`] consecutive voxels of the (x, y) plane). Bundles are disjoint and run in
/// parallel; each output value is computed on its own line with the same operations
/// whatever the bundle, so the result does not depend on the bundling or the thread count.
/// `bundle` also gets a scratch vector of its worker thread, kept from bundle to bundle:
/// allocated (and zeroed) afresh for each, the working copies cost as much as a light filter.
pub(crate) fn map_lanes_in_place<F>(image: &mut Array3<f64>, axis: usize, bundle: F)
where
    F: Fn(ArrayViewMut2<'_, f64>, &mut Vec<f64>) + Sync,
{
    assert!(axis == 1 || axis == 2, "lanes run along y or z, not axis {axis}");
    assert!(image.t().is_standard_layout(), "map_lanes_in_place takes x-fastest images");
    if image.is_empty() {
        return;
    }
    let (nx, ny, nz) = image.dim();
    let data = image.as_slice_memory_order_mut().expect("an x-fastest array is contiguous");
    if axis == 1 {
        let mut planes = ArrayViewMut3::from_shape((nz, ny, nx), data).expect("the image's own shape");
        planes.axis_iter_mut(Axis(0)).into_par_iter().for_each_init(Vec::new, |scratch, mut plane| {
            plane.axis_chunks_iter_mut(Axis(1), LANES).for_each(|lanes| bundle(lanes, scratch));
        });
    } else {
        let mut rows = ArrayViewMut2::from_shape((nz, ny * nx), data).expect("the image's own shape");
        let bundles = rows.axis_chunks_iter_mut(Axis(1), LANES).into_par_iter();
        bundles.for_each_init(Vec::new, |scratch, lanes| bundle(lanes, scratch));
    }
}

/// The most lines [`map_lanes_in_place`] hands over at once: a bundle's rows of 1 KiB, and
/// its working copies (a few bundles' size) within L2 for lines of a few hundred voxels.
const LANES: usize = 128;

/// Run a one-line function on every line of a bundle (see [`map_lines`]).
pub(crate) fn each_line(data: &[f64], out: &mut [f64], w: usize, line: impl Fn(&[f64], &mut [f64])) {
    let n = data.len() / w;
    let (mut d, mut o) = (vec![0.0; n], vec![0.0; n]);
    for l in 0..w {
        d.iter_mut().enumerate().for_each(|(m, v)| *v = data[m * w + l]);
        line(&d, &mut o);
        o.iter().enumerate().for_each(|(m, &v)| out[m * w + l] = v);
    }
}

/// numpy's `sum` of a contiguous float64 vector: 0 + its pairwise summation (8 running
/// sums over blocks of up to 128 values, halves above that).
pub(crate) fn numpy_sum(a: &[f64]) -> f64 {
    fn pairwise(a: &[f64]) -> f64 {
        let n = a.len();
        if n < 8 {
            a.iter().fold(0.0, |s, &x| s + x)
        } else if n <= 128 {
            let mut r = [0.0; 8];
            r.copy_from_slice(&a[..8]);
            let whole = n - n % 8;
            for block in a[8..whole].chunks_exact(8) {
                r.iter_mut().zip(block).for_each(|(r, &x)| *r += x);
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for &x in &a[whole..] {
                res += x;
            }
            res
        } else {
            let mut half = n / 2;
            half -= half % 8;
            pairwise(&a[..half]) + pairwise(&a[half..])
        }
    }
    0.0 + pairwise(a)
}

/// The largest |x| over the image (numpy's `max(abs(im))`; NaN if the image holds one).
pub(crate) fn max_abs(image: ArrayView3<'_, f64>) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for &x in image.iter() {
        let a = x.abs();
        if a.is_nan() {
            return f64::NAN;
        }
        if a > m {
            m = a;
        }
    }
    m
}

/// Reproducible noise in [−100, 100) on an F-order (x-fastest) array (xorshift from `seed`),
/// the input of the filters' bit-for-bit tests.
#[cfg(test)]
pub(crate) fn test_noise(dims: (usize, usize, usize), seed: u64) -> Array3<f64> {
    let mut state = seed;
    Array3::from_shape_simple_fn(dims.f(), || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_does() {
        for (x, s) in [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (2.25, "2.25"),
            (10.0, "10.0"),
            (123456.0, "123456.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1.25e16, "1.25e+16"),
            (1e15, "1000000000000000.0"),
            (-3.5, "-3.5"),
            (0.1, "0.1"),
            (0.0, "0.0"),
        ] {
            assert_eq!(python_float_str(x), s, "{x}");
        }
    }
}
