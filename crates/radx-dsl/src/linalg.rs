//! Numeric helpers behind builtins that are not expressions: percentiles (IBSI 3.3.x use
//! them for P10/P90, median, robust MAD) and the GLCM maximal correlation coefficient
//! (Haralick 1973; PyRadiomics `MCC`), which needs eigenvalues of a small dense matrix.

/// The q-th percentile (0 ≤ q ≤ 100) with linear interpolation between order statistics
/// (numpy's default, "type 7"). NaN entries are ignored; an empty input or q outside
/// [0, 100] gives NaN.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if !(0.0..=100.0).contains(&q) {
        return f64::NAN;
    }
    percentile_of_sorted(&sorted_without_nan(values), q)
}

/// The non-NaN entries of `values` in increasing order: what [`percentile_of_sorted`] takes,
/// so that several percentiles of one array sort it once.
pub fn sorted_without_nan(values: &[f64]) -> Vec<f64> {
    sorted_by_counting(values).unwrap_or_else(|| {
        if values.len() >= RADIX_FROM {
            return sorted_by_radix(values);
        }
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_unstable_by(f64::total_cmp);
        v
    })
}

/// From this many values on, [`sorted_by_radix`] beats pdqsort.
const RADIX_FROM: usize = 2048;

/// The non-NaN `values` in `f64::total_cmp` order by radsort's LSD radix sort, whose float
/// keys order as `total_cmp` does (−0 just below +0): O(n) passes where pdqsort takes
/// O(n log n) comparisons (filtered images' intensities are fractions, which counting
/// cannot sort). Equal keys are equal bits, so the result is any `total_cmp` sort's.
fn sorted_by_radix(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    radsort::sort(&mut v);
    v
}

/// `values` sorted by counting how often each whole number occurs, when every entry is a
/// whole number of magnitude at most 2^52 (CT intensities in HU, discretised grey levels)
/// and their span is small beside their count: O(n + span) instead of pdqsort's
/// O(n log n), 2.4× faster on 200 000 CT intensities. `None` otherwise: for a NaN, an
/// infinity, a fraction, a −0 (which `total_cmp` orders below +0, and a count would not
/// tell apart), or a wide span. Whole numbers of that size are exact in `f64` and have one
/// representation each, so the result is bit for bit the sorted input.
fn sorted_by_counting(values: &[f64]) -> Option<Vec<f64>> {
    const LARGEST: f64 = (1u64 << 52) as f64;
    let (mut lo, mut hi, mut whole) = (f64::INFINITY, f64::NEG_INFINITY, true);
    for &x in values {
        // Through `i64` rather than `trunc`, which without SSE4.1 is a call per entry; NaN
        // and infinities do not come back equal.
        whole &= (x as i64) as f64 == x && x.abs() <= LARGEST && x.to_bits() != (-0.0f64).to_bits();
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !whole || values.is_empty() {
        return None;
    }
    // The counts cost a pass over the span: worth it while the span is near the count, and
    // kept to 8 MiB (16-bit CT intensities span 65 536).
    let span = (hi - lo) as usize;
    if span > (2 * values.len() + 1024).min(1 << 20) {
        return None;
    }
    let mut counts = vec![0usize; span + 1];
    for &x in values {
        counts[(x - lo) as usize] += 1;
    }
    let mut sorted = Vec::with_capacity(values.len());
    for (k, &count) in counts.iter().enumerate() {
        sorted.extend(std::iter::repeat_n(lo + k as f64, count));
    }
    Some(sorted)
}

/// [`percentile`] of values already passed through [`sorted_without_nan`].
pub fn percentile_of_sorted(v: &[f64], q: f64) -> f64 {
    if !(0.0..=100.0).contains(&q) || v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * q / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Eigenvalues of a symmetric `n × n` matrix (row-major; only its lower triangle is read),
/// sorted in decreasing order: Householder reduction to a tridiagonal matrix, then implicit
/// QL (Numerical Recipes' `tred2`/`tqli`, eigenvalues only), ~(4/3)n³ operations where cyclic
/// Jacobi takes several n³ sweeps. A matrix with NaN or infinite entries gives NaN.
pub fn symmetric_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
    eigenvalues_overwriting(&mut a.to_vec(), n)
}

/// [`symmetric_eigenvalues`] of `a`, which it overwrites.
fn eigenvalues_overwriting(a: &mut [f64], n: usize) -> Vec<f64> {
    let mut de = vec![0.0; 2 * n];
    let (d, e) = de.split_at_mut(n);
    tridiagonalise(a, n, d, e);
    if !tridiagonal_eigenvalues(d, e) {
        return vec![f64::NAN; n];
    }
    de.truncate(n);
    de.sort_by(|a, b| b.total_cmp(a));
    de
}

/// √(a² + b²): directly where that neither overflows nor underflows, which is nearly always
/// (the MCC's entries are probabilities), else by `hypot`, several times slower.
fn pythag(a: f64, b: f64) -> f64 {
    let r = (a * a + b * b).sqrt();
    if r.is_finite() && r > 1e-150 { r } else { a.hypot(b) }
}

/// Householder reduction of the symmetric `a` (lower triangle, row-major, overwritten) to
/// a tridiagonal matrix: its diagonal in `d`, its subdiagonal in `e[1..]` (`e[0] = 0`).
fn tridiagonalise(a: &mut [f64], n: usize, d: &mut [f64], e: &mut [f64]) {
    for i in (1..n).rev() {
        let l = i - 1;
        let scale: f64 = a[i * n..i * n + i].iter().map(|x| x.abs()).sum();
        if l == 0 || scale == 0.0 {
            e[i] = a[i * n + l];
            continue;
        }
        let mut h = 0.0;
        for k in 0..=l {
            a[i * n + k] /= scale;
            h += a[i * n + k] * a[i * n + k];
        }
        let f = a[i * n + l];
        let g = if f >= 0.0 { -h.sqrt() } else { h.sqrt() };
        e[i] = scale * g;
        h -= f * g;
        a[i * n + l] = f - g;
        let mut f = 0.0;
        for j in 0..=l {
            // (A u)_j from the lower triangle, u = row i's first l + 1 entries.
            let mut g = 0.0;
            for k in 0..=j {
                g += a[j * n + k] * a[i * n + k];
            }
            for k in j + 1..=l {
                g += a[k * n + j] * a[i * n + k];
            }
            e[j] = g / h;
            f += e[j] * a[i * n + j];
        }
        let hh = f / (h + h);
        for j in 0..=l {
            let f = a[i * n + j];
            let g = e[j] - hh * f;
            e[j] = g;
            for k in 0..=j {
                a[j * n + k] -= f * e[k] + g * a[i * n + k];
            }
        }
    }
    e[0] = 0.0;
    for (i, di) in d.iter_mut().enumerate() {
        *di = a[i * n + i];
    }
}

/// The eigenvalues of the symmetric tridiagonal matrix with diagonal `d` and subdiagonal
/// `e[1..]`, into `d` (unsorted), by QL with implicit Wilkinson shifts; `e` is destroyed.
/// False if an eigenvalue does not converge in 60 iterations (only with NaN or infinite
/// entries: QL converges cubically).
fn tridiagonal_eigenvalues(d: &mut [f64], e: &mut [f64]) -> bool {
    let n = d.len();
    if n == 0 {
        return true;
    }
    e.copy_within(1.., 0);
    e[n - 1] = 0.0;
    for l in 0..n {
        let mut iterations = 0;
        loop {
            // The first negligible subdiagonal entry at or after l splits the matrix.
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iterations += 1;
            if iterations > 60 {
                return false;
            }
            ql_step(d, e, l, m);
        }
    }
    true
}

/// One implicit QL step with a Wilkinson shift on the block `l..=m` (NR's `tqli` body).
fn ql_step(d: &mut [f64], e: &mut [f64], l: usize, m: usize) {
    let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
    let r = pythag(g, 1.0);
    g = d[m] - d[l] + e[l] / (g + r.copysign(g));
    let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
    for i in (l..m).rev() {
        let f = s * e[i];
        let b = c * e[i];
        let r = pythag(f, g);
        e[i + 1] = r;
        if r == 0.0 {
            // Underflow: the block splits here; the caller's loop starts again.
            d[i + 1] -= p;
            e[m] = 0.0;
            return;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        let r = (d[i] - g) * s + 2.0 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
    }
    d[l] -= p;
    e[l] = g;
    e[m] = 0.0;
}

/// Maximal correlation coefficient of a joint probability matrix `p` (`n × n`, row-major):
/// √λ₂ where λ₂ is the second largest eigenvalue of Q(i,j) = Σ_k p(i,k) p(j,k) / (px(i) py(k)).
/// Q is similar to the symmetric S = Dx^{-1/2} P Dy^{-1} Pᵀ Dx^{-1/2} = B Bᵀ with
/// B(i,k) = p(i,k) / √(px(i) py(k)), whose eigenvalues are computed instead.
/// Rows/columns with zero marginal are dropped. Fewer than two levels → NaN.
///
/// A feature map evaluates it on every direction's matrix of every window (tens of
/// thousands of small matrices), so its working arrays are one buffer, on the stack when
/// they fit ([`MCC_STACK_F64S`]), rather than seven allocations a call.
pub fn glcm_mcc(p: &[f64], n: usize) -> f64 {
    if n * n != p.len() {
        return f64::NAN;
    }
    // The smallest of a few stack buffers that holds them: a map evaluates tens of
    // thousands of matrices of ~8 levels (176 values), and zeroing all 4 KiB for each was
    // wasted work.
    match mcc_scratch_len(n) {
        need @ 0..=64 => glcm_mcc_in(p, n, &mut [0.0; 64][..need]),
        need @ 65..=128 => glcm_mcc_in(p, n, &mut [0.0; 128][..need]),
        need @ 129..=256 => glcm_mcc_in(p, n, &mut [0.0; 256][..need]),
        need @ 257..=MCC_STACK_F64S => glcm_mcc_in(p, n, &mut [0.0; MCC_STACK_F64S][..need]),
        need => glcm_mcc_in(p, n, &mut vec![0.0; need]),
    }
}

/// Most `f64`s of MCC working arrays kept on the stack (4 KiB): matrices of up to 14 levels.
const MCC_STACK_F64S: usize = 512;

/// The working arrays of an `n`-level MCC: the marginals, the kept rows' and columns'
/// indices (as `f64`), B, S, and the eigenvalue solver's diagonal and subdiagonal.
fn mcc_scratch_len(n: usize) -> usize {
    4 * n + 2 * n * n + 2 * n
}

/// [`glcm_mcc`] with its working arrays cut from `scratch` ([`mcc_scratch_len`] long):
/// the same operations in the same order, so the same bits.
fn glcm_mcc_in(p: &[f64], n: usize, scratch: &mut [f64]) -> f64 {
    let (px, rest) = scratch.split_at_mut(n);
    let (py, rest) = rest.split_at_mut(n);
    for (i, x) in px.iter_mut().enumerate() {
        *x = (0..n).map(|j| p[i * n + j]).sum();
    }
    for (j, y) in py.iter_mut().enumerate() {
        *y = (0..n).map(|i| p[i * n + j]).sum();
    }
    // Indices below 2^53 are exact as `f64`, which keeps every array in one buffer.
    let (rows, rest) = rest.split_at_mut(n);
    let (cols, rest) = rest.split_at_mut(n);
    let m = kept_indices(px, rows);
    let c = kept_indices(py, cols);
    if m < 2 {
        return f64::NAN;
    }
    let (b, rest) = rest.split_at_mut(m * c);
    for a in 0..m {
        let i = rows[a] as usize;
        for t in 0..c {
            let k = cols[t] as usize;
            b[a * c + t] = p[i * n + k] / (px[i] * py[k]).sqrt();
        }
    }
    // Only the lower triangle: the eigenvalue solver reads no more.
    let (s, de) = rest.split_at_mut(m * m);
    s.fill(0.0);
    for a in 0..m {
        for r in 0..=a {
            s[a * m + r] = (0..c).map(|t| b[a * c + t] * b[r * c + t]).sum();
        }
    }
    let (d, e) = de[..2 * m].split_at_mut(m);
    tridiagonalise(s, m, d, e);
    if !tridiagonal_eigenvalues(d, e) {
        // Not converged (NaN or infinite entries): the eigenvalues are NaN, and `max(0.0)`
        // turns λ₂ = NaN into 0, as it always has here.
        return 0.0;
    }
    // Entries equal under `total_cmp` are equal bits, so any sort's second is the same.
    d.sort_unstable_by(|x, y| y.total_cmp(x));
    d[1].max(0.0).sqrt()
}

/// The positions of `marginal`'s positive entries, written to the front of `into`; returns
/// how many.
fn kept_indices(marginal: &[f64], into: &mut [f64]) -> usize {
    let mut count = 0;
    for (k, &x) in marginal.iter().enumerate() {
        if x > 0.0 {
            into[count] = k as f64;
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_hand_computation() {
        // Sorted 1,2,3,4: P50 at h = 3*0.5 = 1.5 → 2 + 0.5*(3-2) = 2.5; P10 at h = 0.3 → 1.3.
        assert_eq!(percentile(&[4.0, 1.0, 3.0, 2.0], 50.0), 2.5);
        assert!((percentile(&[4.0, 1.0, 3.0, 2.0], 10.0) - 1.3).abs() < 1e-12);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn jacobi_finds_known_eigenvalues() {
        // [[2,1],[1,2]] has eigenvalues 3 and 1.
        let ev = symmetric_eigenvalues(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((ev[0] - 3.0).abs() < 1e-12 && (ev[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn tridiagonal_ql_finds_the_second_difference_spectrum() {
        // The n × n matrix with 2 on the diagonal and -1 beside it has the eigenvalues
        // 2 - 2 cos(kπ / (n + 1)), k = 1..n.
        for n in [1, 2, 3, 7, 16] {
            let mut a = vec![0.0; n * n];
            for i in 0..n {
                a[i * n + i] = 2.0;
                if i + 1 < n {
                    (a[i * n + i + 1], a[(i + 1) * n + i]) = (-1.0, -1.0);
                }
            }
            let got = symmetric_eigenvalues(&a, n);
            let mut want: Vec<f64> =
                (1..=n).map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n as f64 + 1.0)).cos()).collect();
            want.sort_by(|a, b| b.total_cmp(a));
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-13, "n = {n}: {got:?} against {want:?}");
            }
        }
    }

    /// Cyclic Jacobi rotations, the solver this module used before: an independent method.
    fn jacobi_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
        let mut m = a.to_vec();
        for _sweep in 0..100 {
            let mut off = 0.0;
            for i in 0..n {
                for j in (0..n).filter(|&j| j != i) {
                    off += m[i * n + j] * m[i * n + j];
                }
            }
            if off < 1e-30 {
                break;
            }
            for p in 0..n {
                for q in p + 1..n {
                    let apq = m[p * n + q];
                    if apq.abs() < 1e-300 {
                        continue;
                    }
                    let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                    let t = if theta == 0.0 { 1.0 } else { theta.signum() / (theta.abs() + theta.hypot(1.0)) };
                    let c = 1.0 / t.hypot(1.0);
                    let s = t * c;
                    for k in 0..n {
                        let (akp, akq) = (m[k * n + p], m[k * n + q]);
                        (m[k * n + p], m[k * n + q]) = (c * akp - s * akq, s * akp + c * akq);
                    }
                    for k in 0..n {
                        let (apk, aqk) = (m[p * n + k], m[q * n + k]);
                        (m[p * n + k], m[q * n + k]) = (c * apk - s * aqk, s * apk + c * aqk);
                    }
                }
            }
        }
        let mut ev: Vec<f64> = (0..n).map(|i| m[i * n + i]).collect();
        ev.sort_by(|a, b| b.total_cmp(a));
        ev
    }

    proptest::proptest! {
        /// On random symmetric matrices (some with repeated eigenvalues from repeated rows),
        /// the tridiagonal QL eigenvalues are Jacobi's.
        #[test]
        fn tridiagonal_ql_agrees_with_jacobi(
            n in 1usize..14,
            entries in proptest::collection::vec(-5.0f64..5.0, 196),
            repeat in proptest::bool::ANY,
        ) {
            let mut a = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..=i {
                    let source = if repeat { (i % 3) * 14 + j % 3 } else { i * 14 + j };
                    (a[i * n + j], a[j * n + i]) = (entries[source], entries[source]);
                }
            }
            let (got, want) = (symmetric_eigenvalues(&a, n), jacobi_eigenvalues(&a, n));
            let scale = want.iter().fold(1.0f64, |s, v| s.max(v.abs()));
            for (g, w) in got.iter().zip(&want) {
                proptest::prop_assert!((g - w).abs() <= 1e-12 * scale, "{:?} against {:?}", got, want);
            }
        }
    }

    /// The MCC in its plain form (the module's before its working arrays were shared): the
    /// same steps with an array each.
    fn mcc_simple(p: &[f64], n: usize) -> f64 {
        let px: Vec<f64> = (0..n).map(|i| (0..n).map(|j| p[i * n + j]).sum()).collect();
        let py: Vec<f64> = (0..n).map(|j| (0..n).map(|i| p[i * n + j]).sum()).collect();
        let rows: Vec<usize> = (0..n).filter(|&i| px[i] > 0.0).collect();
        let cols: Vec<usize> = (0..n).filter(|&k| py[k] > 0.0).collect();
        let (m, c) = (rows.len(), cols.len());
        if m < 2 {
            return f64::NAN;
        }
        let mut b = vec![0.0; m * c];
        for (a, &i) in rows.iter().enumerate() {
            for (t, &k) in cols.iter().enumerate() {
                b[a * c + t] = p[i * n + k] / (px[i] * py[k]).sqrt();
            }
        }
        let mut s = vec![0.0; m * m];
        for a in 0..m {
            for r in 0..=a {
                s[a * m + r] = (0..c).map(|t| b[a * c + t] * b[r * c + t]).sum();
            }
        }
        symmetric_eigenvalues(&s, m)[1].max(0.0).sqrt()
    }

    proptest::proptest! {
        /// Sharing one buffer (on the stack up to 14 levels, on the heap beyond) changes no
        /// bit of the MCC, with empty rows and columns dropped.
        #[test]
        fn mcc_in_one_buffer_is_the_plain_mcc_bit_for_bit(
            n in 1usize..20,
            counts in proptest::collection::vec(0u32..6, 400),
            zero_row in 0usize..20,
            zero_col in 0usize..20,
        ) {
            let mut p: Vec<f64> = counts[..n * n].iter().map(|&c| f64::from(c)).collect();
            for k in 0..n {
                if zero_row < n {
                    p[zero_row * n + k] = 0.0;
                }
                if zero_col < n {
                    p[k * n + zero_col] = 0.0;
                }
            }
            let total: f64 = p.iter().sum();
            p.iter_mut().for_each(|v| *v /= total);
            let (got, want) = (glcm_mcc(&p, n), mcc_simple(&p, n));
            proptest::prop_assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "{got} against {want}");
        }
    }

    #[test]
    fn mcc_of_non_finite_entries_is_the_plain_mccs() {
        // An infinite entry makes B's entry inf/inf = NaN (the solver's failure path); a NaN
        // entry drops its row and column (a NaN marginal is not positive).
        for p in [[f64::INFINITY, 0.25, 0.25, 0.25], [0.25, f64::NAN, 0.25, 0.25], [0.5, 0.0, 0.0, 0.5]] {
            let (got, want) = (glcm_mcc(&p, 2), mcc_simple(&p, 2));
            assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "{p:?}: {got} against {want}");
        }
    }

    #[test]
    fn mcc_of_independent_levels_is_zero_and_of_a_diagonal_is_one() {
        // p = px ⊗ py (independence) → Q has rank one, λ₂ = 0.
        let p = [0.25, 0.25, 0.25, 0.25];
        assert!(glcm_mcc(&p, 2).abs() < 1e-7);
        // p diagonal → Q = I, λ₂ = 1.
        let p = [0.5, 0.0, 0.0, 0.5];
        assert!((glcm_mcc(&p, 2) - 1.0).abs() < 1e-12);
        // p = [[.3, .2], [.2, .3]]: px = py = ½, B = 2p, S = B Bᵀ = [[.52, .48], [.48, .52]]
        // with eigenvalues 1 and 0.04, so MCC = 0.2.
        assert!((glcm_mcc(&[0.3, 0.2, 0.2, 0.3], 2) - 0.2).abs() < 1e-14);
    }
}
