//! Steering a Riesz filterbank: the local frame of the structure tensor, and the expansion
//! of a rotated Riesz component into the unrotated ones. The aligned Riesz transform
//! ([`crate::riesz`]'s module doc says what it computes and why) is built from these.
//!
//! Why a frame is enough: a Riesz component of order n in the frame U (rows u1, u2, u3) has
//! the multiplier (−j)^L·√(L!/n!)·Π_k (u_k·ω)^(n_k)/|ω|^L, and Π_k (u_k·ω)^(n_k) is a
//! homogeneous polynomial of degree L in ω, Σ_m a_(n,m)(U)·ω^m. So the rotated component
//! is Σ_m a_(n,m)(U)·P^m, where P^m has the unweighted multiplier (−j)^L·ω^m/|ω|^L: the
//! Riesz transform is steerable (Unser & Van De Ville 2010), and a frame varying from voxel
//! to voxel only changes the coefficients a_(n,m).

use ndarray::{Array3, Zip};

use crate::boundary::Boundary;
use crate::log::{DEFAULT_TRUNCATE, sampled_gaussian};
use crate::separable::{Kernel1d, convolve_axis};

/// A local frame: row k is the unit vector u_k, in (i, j, k) voxel coordinates, u1 along
/// the largest eigenvalue of the structure tensor. Slice-wise, u3 = (0, 0, 1).
pub type Frame = [[f64; 3]; 3];

/// The structure tensor's entries from the components of a gradient-like vector field
/// (one array per filtered axis): each product v_a·v_b, a ≤ b, smoothed by a Gaussian of
/// `sigma_mm` per axis (σ/spacing voxels, radius ⌊4σ + 0.5⌋, as the LoG's) with `boundary`.
/// Order: (0,0), (0,1), (0,2), (1,1), (1,2), (2,2) in 3-D; (0,0), (0,1), (1,1) in 2-D.
pub fn structure_tensor(
    field: &[Array3<f64>],
    axes: &[usize],
    sigma_mm: f64,
    spacing: [f64; 3],
    boundary: Boundary,
) -> Vec<Array3<f64>> {
    let kernels: Vec<(usize, Kernel1d)> = axes
        .iter()
        .map(|&axis| {
            let sigma = sigma_mm / spacing[axis];
            let radius = (DEFAULT_TRUNCATE * sigma + 0.5).floor() as isize;
            (axis, Kernel1d::centred(sampled_gaussian(sigma, radius)))
        })
        .collect();
    let mut entries = Vec::with_capacity(axes.len() * (axes.len() + 1) / 2);
    for a in 0..axes.len() {
        for b in a..axes.len() {
            let mut product = field[a].clone();
            Zip::from(&mut product).and(&field[b]).par_for_each(|p, &q| *p *= q);
            for (axis, kernel) in &kernels {
                product = convolve_axis(product.view(), *axis, kernel, boundary);
            }
            entries.push(product);
        }
    }
    entries
}

/// The local frame at every voxel from the structure tensor's entries (as
/// [`structure_tensor`] orders them: 6 in 3-D, 3 slice-wise).
pub fn frames(tensor: &[Array3<f64>]) -> Array3<Frame> {
    let mut out = Array3::from_elem(tensor[0].raw_dim(), [[0.0; 3]; 3]);
    Zip::indexed(&mut out).par_for_each(|at, frame| {
        let t = |n: usize| tensor[n][at];
        *frame = match tensor.len() {
            3 => frame_2d(t(0), t(1), t(2)),
            _ => frame_3d([[t(0), t(1), t(2)], [t(1), t(3), t(4)], [t(2), t(4), t(5)]]),
        };
    });
    out
}

/// The frame of [[a, b], [b, c]] (closed form), embedded in 3-D with u3 = (0, 0, 1).
/// A tensor with equal eigenvalues (a flat region) gives the identity.
fn frame_2d(a: f64, b: f64, c: f64) -> Frame {
    let theta = 0.5 * (2.0 * b).atan2(a - c);
    let (s, co) = theta.sin_cos();
    [oriented([co, s, 0.0]), oriented([-s, co, 0.0]), [0.0, 0.0, 1.0]]
}

/// The eigenvectors of a symmetric 3×3 matrix by descending eigenvalue, each oriented.
fn frame_3d(m: [[f64; 3]; 3]) -> Frame {
    let (_, vectors) = symmetric_eigen3(m);
    vectors.map(oriented)
}

/// The sign convention: the component of largest magnitude is positive (the first such
/// axis on a tie). An eigenvector's sign is otherwise arbitrary.
fn oriented(v: [f64; 3]) -> [f64; 3] {
    let largest = (1..3).fold(0, |best, a| if v[a].abs() > v[best].abs() { a } else { best });
    if v[largest] < 0.0 { v.map(|x| -x) } else { v }
}

/// Eigenvalues (descending) and unit eigenvectors of a symmetric 3×3 matrix, by cyclic
/// Jacobi rotations (Golub & Van Loan, alg. 8.4.3). radx-core has the same solver, but
/// radx-filters stands below the engine beside radx-core, not on it (ARCHITECTURE.md).
/// Equal eigenvalues keep the axes' order: the zero matrix gives the identity.
pub fn symmetric_eigen3(m: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut a = m;
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _sweep in 0..64 {
        let off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
        let diag = a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2];
        if off <= f64::EPSILON * f64::EPSILON * diag || off == 0.0 {
            break;
        }
        for (p, q) in [(0usize, 1usize), (0, 2), (1, 2)] {
            if a[p][q] != 0.0 {
                rotate(&mut a, &mut v, p, q);
            }
        }
    }
    let mut order = [0usize, 1, 2];
    order.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    (order.map(|c| a[c][c]), order.map(|c| [v[0][c], v[1][c], v[2][c]]))
}

/// One Jacobi rotation zeroing a[p][q], accumulated into the eigenvector columns of v.
fn rotate(a: &mut [[f64; 3]; 3], v: &mut [[f64; 3]; 3], p: usize, q: usize) {
    let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
    let t = if theta == 0.0 { 1.0 } else { theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt()) };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for row in a.iter_mut() {
        let (akp, akq) = (row[p], row[q]);
        row[p] = c * akp - s * akq;
        row[q] = s * akp + c * akq;
    }
    let (rp, rq) = (a[p], a[q]);
    a[p] = std::array::from_fn(|k| c * rp[k] - s * rq[k]);
    a[q] = std::array::from_fn(|k| s * rp[k] + c * rq[k]);
    for row in v.iter_mut() {
        let (vkp, vkq) = (row[p], row[q]);
        row[p] = c * vkp - s * vkq;
        row[q] = s * vkp + c * vkq;
    }
}

/// Every multi-index m of total order `total` over `axes` (3 or 2 of them; 0 elsewhere),
/// in a fixed order.
pub fn monomials(total: u32, axes: usize) -> Vec<[u32; 3]> {
    let mut out = Vec::new();
    for m0 in (0..=total).rev() {
        if axes == 2 {
            out.push([m0, total - m0, 0]);
            continue;
        }
        for m1 in (0..=total - m0).rev() {
            out.push([m0, m1, total - m0 - m1]);
        }
    }
    out
}

/// One term of a_(n,m)(U): `weight`·Π_(k,j) U[k][j]^powers[k][j].
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The multinomial weights, times the component's √(L!/n!).
    pub weight: f64,
    /// The exponent of each frame entry.
    pub powers: [[u32; 3]; 3],
}

fn factorial(n: u32) -> f64 {
    (1..=n).map(f64::from).product()
}

/// The terms of √(L!/n!)·a_(n,m)(U), the coefficient of ω^m in √(L!/n!)·Π_k (u_k·ω)^(n_k):
/// one per 3×3 table K of non-negative integers with row sums n and column sums m, weighted
/// Π_k n_k!/Π_j K_kj! (the multinomial expansion of each (u_k·ω)^(n_k)).
pub fn expansion(n: [u32; 3], m: [u32; 3]) -> Vec<Term> {
    let total: u32 = n.iter().sum();
    let norm = (factorial(total) / n.iter().map(|&l| factorial(l)).product::<f64>()).sqrt();
    let mut terms = Vec::new();
    for first in rows_within(n[0], m) {
        let rest = [m[0] - first[0], m[1] - first[1], m[2] - first[2]];
        for second in rows_within(n[1], rest) {
            let third = [rest[0] - second[0], rest[1] - second[1], rest[2] - second[2]];
            let powers = [first, second, third];
            let weight = powers
                .iter()
                .zip(n)
                .map(|(row, nk)| factorial(nk) / row.iter().map(|&p| factorial(p)).product::<f64>())
                .product::<f64>();
            terms.push(Term { weight: norm * weight, powers });
        }
    }
    terms
}

/// Every row (r0, r1, r2) of sum `sum` with r_j ≤ limit_j.
fn rows_within(sum: u32, limit: [u32; 3]) -> Vec<[u32; 3]> {
    let mut rows = Vec::new();
    for r0 in 0..=sum.min(limit[0]) {
        for r1 in 0..=(sum - r0).min(limit[1]) {
            if sum - r0 - r1 <= limit[2] {
                rows.push([r0, r1, sum - r0 - r1]);
            }
        }
    }
    rows
}

/// Σ_terms weight·Π U[k][j]^powers[k][j] for one voxel's frame.
#[inline]
pub fn coefficient(terms: &[Term], frame: &Frame) -> f64 {
    terms
        .iter()
        .map(|term| {
            let mut product = term.weight;
            for (row, powers) in frame.iter().zip(&term.powers) {
                for (&u, &p) in row.iter().zip(powers) {
                    if p > 0 {
                        product *= u.powi(p as i32);
                    }
                }
            }
            product
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_recovers_a_known_spectrum_and_keeps_the_axes_on_ties() {
        // [[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 5, 3, 1 with e_k, (1,1,0)/√2, (1,−1,0)/√2.
        let (values, vectors) = symmetric_eigen3([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 5.0]]);
        assert!(values.iter().zip([5.0, 3.0, 1.0]).all(|(a, b)| (a - b).abs() < 1e-12), "{values:?}");
        let frame = vectors.map(oriented);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let expected = [[0.0, 0.0, 1.0], [h, h, 0.0], [h, -h, 0.0]];
        let close = frame.iter().flatten().zip(expected.iter().flatten()).all(|(a, b)| (a - b).abs() < 1e-12);
        assert!(close, "{frame:?}");
        assert_eq!(frame_3d([[0.0; 3]; 3]), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
        assert_eq!(frame_2d(0.0, 0.0, 0.0), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
    }

    #[test]
    fn the_sign_convention_makes_the_largest_component_positive() {
        assert_eq!(oriented([0.1, -0.9, 0.2]), [-0.1, 0.9, -0.2]);
        assert_eq!(oriented([-0.5, 0.5, 0.0]), [0.5, -0.5, 0.0]);
        // Slice-wise: the principal direction of [[1, 1], [1, 1]] is (1, 1)/√2.
        let [u1, ..] = frame_2d(1.0, 1.0, 1.0);
        assert!((u1[0] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15 && (u1[0] - u1[1]).abs() < 1e-15);
    }

    #[test]
    fn the_expansion_of_a_rotated_component_is_the_multinomial_one() {
        // (u1·ω)² = Σ u_j² ω_j² + 2 Σ_(j<l) u_j u_l ω_j ω_l; √(2!/2!) = 1.
        let terms = expansion([2, 0, 0], [1, 1, 0]);
        assert_eq!(terms, vec![Term { weight: 2.0, powers: [[1, 1, 0], [0; 3], [0; 3]] }]);
        // (u1·ω)(u2·ω) at ω_i²: U11·U21, times √2.
        let terms = expansion([1, 1, 0], [2, 0, 0]);
        assert_eq!(terms, vec![Term { weight: 2f64.sqrt(), powers: [[1, 0, 0], [1, 0, 0], [0; 3]] }]);
        // The identity frame picks n itself: a_(n,m) = δ_(n,m).
        let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        for m in monomials(3, 3) {
            let c = coefficient(&expansion([1, 2, 0], m), &identity);
            assert_eq!(c, if m == [1, 2, 0] { 3f64.sqrt() } else { 0.0 }, "{m:?}");
        }
        assert_eq!(monomials(2, 2), [[2, 0, 0], [1, 1, 0], [0, 2, 0]]);
        assert_eq!(monomials(2, 3).len(), 6);
    }
}
