//! PyRadiomics' `LoG` image type: SimpleITK's `LaplacianRecursiveGaussianImageFilter` with
//! `NormalizeAcrossScale(True)` (`getLoGImage`).
//!
//! **Where it differs from the IBSI's LoG** ([`crate::log`]): the IBSI convolves with the
//! sampled analytic kernel truncated at 4σ; ITK approximates the Gaussian and its second
//! derivative by Deriche's 4th-order recursive (IIR) filters (Deriche 1993, INRIA RR-1893,
//! the coefficients ITK's `RecursiveGaussianImageFilter` uses), run forwards and backwards
//! along each line, with the image's edge value assumed to extend to infinity at both ends
//! (edge extension, not the IBSI's mirror), and scale-normalised (×σ², σ in mm). Both are
//! kept: they differ by ~1e-3 relative, enough to move binned features.
//!
//! What ITK computes, reproduced step by step:
//! - per axis d, the second-derivative filter along d, then the zero-order (smoothing) filter
//!   along the two other axes in increasing order, each with σ_vox = σ / spacing of the axis
//!   it runs along; each pass computes a line in f64 and stores it in a **32-bit float**
//!   image (ITK's internal `float` images);
//! - the three terms accumulate into a float image, `acc = float(acc + term · (1 / s_d²))`;
//! - the output is that float image (PyRadiomics' LoG images are `float32`).
//!
//! The rounding to f32 is kept so that radx's response equals SimpleITK's to the last bit in
//! almost every voxel (rarely an f32 ulp, ~6e-8 relative, where the f64 sums round otherwise).
//!
//! PyRadiomics skips a σ (with a warning) when the image is smaller than 4 voxels along an
//! axis or than ⌈σ/spacing⌉ + 1 voxels along one: [`LoG::check_fits`](crate::Filter::check_fits)
//! refuses those images, and the engine should skip the image type as PyRadiomics does.

use ndarray::{Array3, ArrayView3, ArrayViewMut2, Zip};

use super::wide::{Isa, compiled_for};
use super::{map_lanes_in_place, map_x_lines_in_place, python_float_str, sized, to_f32, x_fastest_copy};
use crate::error::{FilterError, require_positive};
use crate::{Filter, Margin};

/// PyRadiomics' Laplacian of Gaussian of scale σ mm (`getLoGImage`).
#[derive(Debug, Clone, PartialEq)]
pub struct LoG {
    sigma_mm: f64,
    /// σ as PyRadiomics prints it into the image type (`str(sigma)` with `.` → `-`).
    sigma_text: String,
}

impl LoG {
    /// σ in mm (> 0), written as a float in the parameter file (`sigma: [1.0, 3.0]`): the
    /// image type is `log-sigma-1-0-mm-3D`.
    pub fn new(sigma_mm: f64) -> Result<Self, FilterError> {
        require_positive("sigma", sigma_mm)?;
        Ok(LoG { sigma_mm, sigma_text: python_float_str(sigma_mm).replace('.', "-") })
    }

    /// σ in mm written as an integer in the parameter file (`sigma: [1, 3]`): the image type
    /// is `log-sigma-1-mm-3D`, as Python's `str(1)` gives.
    pub fn from_integer(sigma_mm: i64) -> Result<Self, FilterError> {
        require_positive("sigma", sigma_mm as f64)?;
        Ok(LoG { sigma_mm: sigma_mm as f64, sigma_text: sigma_mm.to_string() })
    }

    /// σ in mm.
    pub fn sigma_mm(&self) -> f64 {
        self.sigma_mm
    }
}

/// Which Gaussian a recursive pass approximates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Zero,
    Second,
}

/// The coefficients of one recursive pass (ITK's `RecursiveSeparableImageFilter` names):
/// causal N0..N3, recursive D1..D4, anti-causal M1..M4, edge-extension BN1..4 and BM1..4.
#[derive(Debug, Clone, Copy)]
struct Recursive {
    n: [f64; 4],
    d: [f64; 4],
    m: [f64; 4],
    bn: [f64; 4],
    bm: [f64; 4],
}

/// Deriche's fit of the Gaussian (index 0) and its 2nd derivative (index 2): a, b per
/// exponential term, shared ω and λ.
const A1: [f64; 3] = [1.3530, -0.6724, -1.3563];
const B1: [f64; 3] = [1.8151, -3.4327, 5.2318];
const W1: f64 = 0.6681;
const L1: f64 = -1.3932;
const A2: [f64; 3] = [-0.3531, 0.6724, 0.3446];
const B2: [f64; 3] = [0.0902, 0.6100, -2.2355];
const W2: f64 = 2.0787;
const L2: f64 = -1.3732;

/// The causal numerator of one fit and its sums (Σn, Σk·n_k, Σk²·n_k).
fn numerator(sigmad: f64, term: usize) -> ([f64; 4], f64, f64, f64) {
    let (a1, b1, a2, b2) = (A1[term], B1[term], A2[term], B2[term]);
    let (sin1, sin2) = ((W1 / sigmad).sin(), (W2 / sigmad).sin());
    let (cos1, cos2) = ((W1 / sigmad).cos(), (W2 / sigmad).cos());
    let (exp1, exp2) = ((L1 / sigmad).exp(), (L2 / sigmad).exp());
    let n0 = a1 + a2;
    let mut n1 = exp2 * (b2 * sin2 - (a2 + 2.0 * a1) * cos2);
    n1 += exp1 * (b1 * sin1 - (a1 + 2.0 * a2) * cos1);
    let mut n2 = (a1 + a2) * cos2 * cos1;
    n2 -= b1 * cos2 * sin1 + b2 * cos1 * sin2;
    n2 *= 2.0 * exp1 * exp2;
    n2 += a2 * exp1 * exp1 + a1 * exp2 * exp2;
    let mut n3 = exp2 * exp1 * exp1 * (b2 * sin2 - a2 * cos2);
    n3 += exp1 * exp2 * exp2 * (b1 * sin1 - a1 * cos1);
    let sn = n0 + n1 + n2 + n3;
    let dn = n1 + 2.0 * n2 + 3.0 * n3;
    let en = n1 + 4.0 * n2 + 9.0 * n3;
    ([n0, n1, n2, n3], sn, dn, en)
}

impl Recursive {
    /// ITK's `RecursiveGaussianImageFilter::SetUp` for σ mm along an axis of `spacing` mm,
    /// normalised across scale.
    fn new(sigma_mm: f64, spacing: f64, order: Order) -> Self {
        let sigmad = sigma_mm / spacing;
        let (cos1, cos2) = ((W1 / sigmad).cos(), (W2 / sigmad).cos());
        let (exp1, exp2) = ((L1 / sigmad).exp(), (L2 / sigmad).exp());
        let d4 = exp1 * exp1 * exp2 * exp2;
        let mut d3 = -2.0 * cos1 * exp1 * exp2 * exp2;
        d3 += -2.0 * cos2 * exp2 * exp1 * exp1;
        let mut d2 = 4.0 * cos2 * cos1 * exp1 * exp2;
        d2 += exp1 * exp1 + exp2 * exp2;
        let d1 = -2.0 * (exp2 * cos2 + exp1 * cos1);
        let sd = 1.0 + d1 + d2 + d3 + d4;
        let dd = d1 + 2.0 * d2 + 3.0 * d3 + 4.0 * d4;
        let ed = d1 + 4.0 * d2 + 9.0 * d3 + 16.0 * d4;

        let mut n = match order {
            Order::Zero => {
                let (mut n, sn, _, _) = numerator(sigmad, 0);
                let alpha0 = 2.0 * sn / sd - n[0];
                // The zero order is never scale-normalised.
                let scale = 1.0 / alpha0;
                n.iter_mut().for_each(|v| *v *= scale);
                n
            }
            Order::Second => {
                let (n_0, sn0, dn0, en0) = numerator(sigmad, 0);
                let (n_2, sn2, dn2, en2) = numerator(sigmad, 2);
                let beta = -(2.0 * sn2 - sd * n_2[0]) / (2.0 * sn0 - sd * n_0[0]);
                let mut n = [0.0; 4];
                for k in 0..4 {
                    n[k] = n_2[k] + beta * n_0[k];
                }
                let sn = sn2 + beta * sn0;
                let dn = dn2 + beta * dn0;
                let en = en2 + beta * en0;
                let mut alpha2 = en * sd * sd - ed * sn * sd - 2.0 * dn * dd * sd + 2.0 * dd * dd * sn;
                alpha2 /= sd * sd * sd;
                let scale = sigma_mm * sigma_mm / alpha2;
                n.iter_mut().for_each(|v| *v *= scale);
                n
            }
        };
        // Both orders used here are symmetric kernels.
        let m = [n[1] - d1 * n[0], n[2] - d2 * n[0], n[3] - d3 * n[0], -d4 * n[0]];
        let sn = n[0] + n[1] + n[2] + n[3];
        let sm = m[0] + m[1] + m[2] + m[3];
        let sd = 1.0 + d1 + d2 + d3 + d4;
        let d = [d1, d2, d3, d4];
        let bn = d.map(|di| di * sn / sd);
        let bm = d.map(|di| di * sm / sd);
        n = [n[0], n[1], n[2], n[3]];
        Recursive { n, d, m, bn, bm }
    }

    /// ITK's `FilterDataArray` on a bundle of `w` interleaved lines (value m of line l at
    /// `m * w + l`, at least 4 values a line): the causal and anti-causal recursions, the edge
    /// values extended to infinity; per line the same operations in the same order as ITK.
    /// `scratch` holds the anti-causal half (every value is written before it is read).
    #[inline(always)]
    fn filter_lines(&self, data: &[f64], outs: &mut [f64], w: usize, scratch: &mut Vec<f64>) {
        let ln = data.len() / w;
        let x = |m: usize| &data[m * w..(m + 1) * w];
        let s = sized(scratch, ln * w);
        self.causal(x, ln, outs);
        self.anti_causal(x, ln, s);
        outs.iter_mut().zip(&*s).for_each(|(o, a)| *o += a);
    }

    /// ITK's causal recursion on the lines whose value m `x(m)` holds (one per line), into
    /// `outs` (value m of line l at `m * w + l`).
    #[inline(always)]
    fn causal<'a>(&self, x: impl Fn(usize) -> &'a [f64], ln: usize, outs: &mut [f64]) {
        let w = outs.len() / ln;
        let [n0, n1, n2, n3] = self.n;
        let [d1, d2, d3, _] = self.d;
        let [bn1, bn2, bn3, bn4] = self.bn;
        // The first four values of each line.
        let (x0, x1, x2, x3) = (x(0), x(1), x(2), x(3));
        for l in 0..w {
            let v1 = x0[l];
            let mut o = [0.0; 4];
            o[0] = ema(v1, n0, v1, n1, v1, n2, v1, n3);
            o[1] = ema(x1[l], n0, v1, n1, v1, n2, v1, n3);
            o[2] = ema(x2[l], n0, x1[l], n1, v1, n2, v1, n3);
            o[3] = ema(x3[l], n0, x2[l], n1, x1[l], n2, v1, n3);
            o[0] -= ema(v1, bn1, v1, bn2, v1, bn3, v1, bn4);
            o[1] -= ema(o[0], d1, v1, bn2, v1, bn3, v1, bn4);
            o[2] -= ema(o[1], d1, o[0], d2, v1, bn3, v1, bn4);
            o[3] -= ema(o[2], d1, o[1], d2, o[0], d3, v1, bn4);
            for (m, v) in o.into_iter().enumerate() {
                outs[m * w + l] = v;
            }
        }
        // The rest, a row of the bundle at a time.
        for i in 4..ln {
            let (head, tail) = outs.split_at_mut(i * w);
            let row = |m: usize| &head[m * w..(m + 1) * w];
            let o = [row(i - 1), row(i - 2), row(i - 3), row(i - 4)];
            recursion_row(&mut tail[..w], [x(i), x(i - 1), x(i - 2), x(i - 3)], self.n, o, self.d);
        }
    }

    /// ITK's anti-causal recursion on the lines whose value m `x(m)` holds, into `s` (laid out
    /// as [`Self::causal`]'s output).
    #[inline(always)]
    fn anti_causal<'a>(&self, x: impl Fn(usize) -> &'a [f64], ln: usize, s: &mut [f64]) {
        let w = s.len() / ln;
        let [d1, d2, d3, _] = self.d;
        let [m1, m2, m3, m4] = self.m;
        let [bm1, bm2, bm3, bm4] = self.bm;
        // The last four values of each line.
        let (x1, x2, x3) = (x(ln - 1), x(ln - 2), x(ln - 3));
        for l in 0..w {
            let v2 = x1[l];
            let mut a = [0.0; 4]; // a[q] is s[ln − 1 − q]
            a[0] = ema(v2, m1, v2, m2, v2, m3, v2, m4);
            a[1] = ema(x1[l], m1, v2, m2, v2, m3, v2, m4);
            a[2] = ema(x2[l], m1, x1[l], m2, v2, m3, v2, m4);
            a[3] = ema(x3[l], m1, x2[l], m2, x1[l], m3, v2, m4);
            a[0] -= ema(v2, bm1, v2, bm2, v2, bm3, v2, bm4);
            a[1] -= ema(a[0], d1, v2, bm2, v2, bm3, v2, bm4);
            a[2] -= ema(a[1], d1, a[0], d2, v2, bm3, v2, bm4);
            a[3] -= ema(a[2], d1, a[1], d2, a[0], d3, v2, bm4);
            for (q, v) in a.into_iter().enumerate() {
                s[(ln - 1 - q) * w + l] = v;
            }
        }
        for i in (1..=ln - 4).rev() {
            let (head, tail) = s.split_at_mut(i * w);
            let row = |m: usize| &tail[(m - i) * w..(m - i + 1) * w];
            let later = [row(i), row(i + 1), row(i + 2), row(i + 3)];
            recursion_row(&mut head[(i - 1) * w..], [x(i), x(i + 1), x(i + 2), x(i + 3)], self.m, later, self.d);
        }
    }

    /// ITK's `FilterDataArray` on one line.
    #[cfg(test)]
    fn filter_line(&self, data: &[f64], outs: &mut [f64]) {
        self.filter_lines(data, outs, 1, &mut Vec::new());
    }

    /// One pass along `axis`, in place, stored as ITK's float image. Along y and z the lines
    /// are filtered where the image holds them, a bundle of neighbouring lines at a time;
    /// along x, bundles of lines are copied out and back ([`map_x_lines_in_place`]) so that the
    /// recursion runs across lines, not along one. Either way compiled for the widest vector
    /// instructions the CPU has ([`Isa`]).
    fn pass(&self, image: &mut Array3<f64>, axis: usize) {
        self.pass_with(Isa::widest(), image, axis);
    }

    /// [`Self::pass`] compiled for `isa`.
    fn pass_with(&self, isa: Isa, image: &mut Array3<f64>, axis: usize) {
        if axis == 0 {
            return map_x_lines_in_place(image, |data, out, w, scratch| {
                filter_x_bundle(isa, self, data, out, w, scratch)
            });
        }
        map_lanes_in_place(image, axis, |lanes, scratch| filter_lanes(isa, self, lanes, scratch))
    }
}

compiled_for!(fn filter_x_bundle(r: &Recursive, data: &[f64], out: &mut [f64], w: usize, scratch: &mut Vec<f64>) => x_bundle);
compiled_for!(fn filter_lanes(r: &Recursive, lanes: ArrayViewMut2<'_, f64>, scratch: &mut Vec<f64>) => lanes_bundle);

/// A bundle of interleaved lines along x (see [`Recursive::filter_lines`]), rounded to f32.
#[inline(always)]
fn x_bundle(r: &Recursive, data: &[f64], out: &mut [f64], w: usize, scratch: &mut Vec<f64>) {
    r.filter_lines(data, out, w, scratch);
    out.iter_mut().for_each(|v| *v = to_f32(*v));
}

/// A bundle of lanes along y or z where the image holds them ([`map_lanes_in_place`]),
/// filtered in place and rounded to f32; the two recursions' outputs in `scratch` (each of
/// their values is written before it is read).
#[inline(always)]
fn lanes_bundle(r: &Recursive, mut lanes: ArrayViewMut2<'_, f64>, scratch: &mut Vec<f64>) {
    let (ln, w) = lanes.dim();
    let (c, s) = sized(scratch, 2 * ln * w).split_at_mut(ln * w);
    {
        let view = lanes.view();
        let x = |m: usize| view.row(m).to_slice().expect("lanes lie along x, contiguous");
        r.causal(x, ln, c);
        r.anti_causal(x, ln, s);
    }
    // Row by row as slices: the sum vectorises (ndarray's row iterator does not).
    for (row, (c, s)) in lanes.rows_mut().into_iter().zip(c.chunks_exact(w).zip(s.chunks_exact(w))) {
        let row = row.into_slice().expect("lanes lie along x, contiguous");
        row.iter_mut().zip(c).zip(s).for_each(|((o, &c), &s)| *o = to_f32(c + s));
    }
}

/// One row of a recursion over a bundle of lines, `cur[l] = Σ x[k][l]·c[k] − Σ o[k][l]·d[k]`
/// summed as ITK does. A function of its own so that `cur`, a `&mut` argument, is known to
/// overlap no input and the loop vectorises (inline, it ran one value at a time).
#[inline(always)]
fn recursion_row(cur: &mut [f64], x: [&[f64]; 4], c: [f64; 4], o: [&[f64]; 4], d: [f64; 4]) {
    let w = cur.len();
    // Every row cut to w values: no bounds check in the loop.
    let (x0, x1, x2, x3) = (&x[0][..w], &x[1][..w], &x[2][..w], &x[3][..w]);
    let (o1, o2, o3, o4) = (&o[0][..w], &o[1][..w], &o[2][..w], &o[3][..w]);
    for l in 0..w {
        let v = ema(x0[l], c[0], x1[l], c[1], x2[l], c[2], x3[l], c[3]);
        cur[l] = v - ema(o1[l], d[0], o2[l], d[1], o3[l], d[2], o4[l], d[3]);
    }
}

/// a1·b1 + a2·b2 + a3·b3 + a4·b4, summed left to right as ITK does.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn ema(a1: f64, b1: f64, a2: f64, b2: f64, a3: f64, b3: f64, a4: f64, b4: f64) -> f64 {
    a1 * b1 + a2 * b2 + a3 * b3 + a4 * b4
}

impl Filter for LoG {
    fn image_type(&self) -> String {
        format!("log-sigma-{}-mm-3D", self.sigma_text)
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        // Recursive filters: every voxel of a line reaches every other.
        Margin::WholeImage
    }

    fn check_fits(&self, dims: [usize; 3], spacing: [f64; 3]) -> Result<(), FilterError> {
        for axis in 0..3 {
            // PyRadiomics: min(size) ≥ 4, and size ≥ ⌈σ / spacing⌉ + 1 along every axis.
            let need = ((self.sigma_mm / spacing[axis]).ceil() + 1.0).max(4.0) as usize;
            if dims[axis] < need {
                return Err(FilterError::SupportTooLarge {
                    filter: self.image_type(),
                    support: need,
                    size: dims[axis],
                    axis,
                });
            }
        }
        Ok(())
    }

    fn apply(&self, image: ArrayView3<'_, f64>, spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        for s in spacing {
            require_positive("spacing", s)?;
        }
        let dims = image.dim();
        if dims.0.min(dims.1).min(dims.2) < 4 {
            return Err(FilterError::SupportTooLarge {
                filter: self.image_type(),
                support: 4,
                size: dims.0.min(dims.1).min(dims.2),
                axis: [dims.0, dims.1, dims.2].iter().position(|&n| n < 4).unwrap_or(0),
            });
        }
        // Two arrays: the sum, and the term filtered in place (each pass reads its lines
        // before writing them), refilled with the image for the next axis.
        let mut acc: Option<Array3<f64>> = None;
        let mut spare: Option<Array3<f64>> = None;
        for axis in 0..3 {
            let mut term = match spare.take() {
                Some(mut t) => {
                    t.assign(&image);
                    t
                }
                None => x_fastest_copy(image),
            };
            Recursive::new(self.sigma_mm, spacing[axis], Order::Second).pass(&mut term, axis);
            for other in (0..3).filter(|&a| a != axis) {
                Recursive::new(self.sigma_mm, spacing[other], Order::Zero).pass(&mut term, other);
            }
            let scale = 1.0 / (spacing[axis] * spacing[axis]);
            acc = Some(match acc {
                None => term.mapv_into(|b| to_f32(0.0 + b * scale)),
                Some(mut a) => {
                    Zip::from(&mut a).and(&term).par_for_each(|a, &b| *a = to_f32(*a + b * scale));
                    spare = Some(term);
                    a
                }
            });
        }
        Ok(acc.expect("three axes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_python_str() {
        assert_eq!(LoG::new(1.0).unwrap().image_type(), "log-sigma-1-0-mm-3D");
        assert_eq!(LoG::new(2.5).unwrap().image_type(), "log-sigma-2-5-mm-3D");
        assert_eq!(LoG::from_integer(3).unwrap().image_type(), "log-sigma-3-mm-3D");
        assert!(LoG::new(0.0).is_err());
    }

    #[test]
    fn the_zero_order_filter_keeps_a_constant_and_the_second_order_cancels_it() {
        let zero = Recursive::new(2.0, 0.8, Order::Zero);
        let second = Recursive::new(2.0, 0.8, Order::Second);
        let data = vec![7.0; 12];
        let mut out = vec![0.0; 12];
        zero.filter_line(&data, &mut out);
        assert!(out.iter().all(|v| (v - 7.0).abs() < 1e-9), "{out:?}");
        second.filter_line(&data, &mut out);
        assert!(out.iter().all(|v| v.abs() < 1e-9), "{out:?}");
    }

    /// A pseudo-random x-fastest image.
    fn noise(dims: (usize, usize, usize)) -> Array3<f64> {
        super::super::test_noise(dims, 0x2545_f491_4f6c_dd1d)
    }

    #[test]
    fn each_pass_gives_every_line_the_bits_it_gets_alone() {
        // Along x: two bundles of y, full and partial tiles; along y and z: several bundles of lanes.
        let image = noise((150, 70, 5));
        for (axis, order) in [(0, Order::Second), (1, Order::Zero), (2, Order::Second)] {
            let filter = Recursive::new(2.5, 0.9, order);
            let mut passed = image.clone();
            filter.pass(&mut passed, axis);
            for line in image.lanes(ndarray::Axis(axis)).into_iter().zip(passed.lanes(ndarray::Axis(axis))) {
                let data: Vec<f64> = line.0.to_vec();
                let mut alone = vec![0.0; data.len()];
                filter.filter_line(&data, &mut alone);
                let alone: Vec<u64> = alone.iter().map(|&v| to_f32(v).to_bits()).collect();
                let got: Vec<u64> = line.1.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, alone, "axis {axis}");
            }
        }
    }

    #[test]
    fn wide_passes_give_the_portable_passes_bits() {
        let image = noise((37, 150, 6));
        for axis in 0..3 {
            let filter = Recursive::new(1.5, 0.7, Order::Second);
            let (mut wide, mut portable) = (image.clone(), image.clone());
            filter.pass_with(Isa::widest(), &mut wide, axis);
            filter.pass_with(Isa::portable(), &mut portable, axis);
            let bits = |a: &Array3<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&wide), bits(&portable), "axis {axis}");
        }
    }

    #[test]
    fn small_images_are_refused_as_pyradiomics_skips_them() {
        let f = LoG::new(5.0).unwrap();
        assert!(f.check_fits([10, 10, 4], [1.0, 1.0, 2.0]).is_ok());
        assert!(f.check_fits([10, 10, 3], [1.0, 1.0, 2.0]).is_err());
        assert!(f.check_fits([5, 10, 10], [1.0, 1.0, 1.0]).is_err());
    }
}
