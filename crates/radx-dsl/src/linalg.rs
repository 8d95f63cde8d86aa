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
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_unstable_by(f64::total_cmp);
        v
    })
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

/// Eigenvalues of a symmetric `n × n` matrix (row-major) by cyclic Jacobi rotations,
/// sorted in decreasing order.
pub fn symmetric_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j].powi(2))
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let (app, aqq) = (m[p * n + p], m[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * akp - s * akq;
                    m[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * apk - s * aqk;
                    m[q * n + k] = s * apk + c * aqk;
                }
            }
        }
    }
    let mut ev: Vec<f64> = (0..n).map(|i| m[i * n + i]).collect();
    ev.sort_by(|a, b| b.total_cmp(a));
    ev
}

/// Maximal correlation coefficient of a joint probability matrix `p` (`n × n`, row-major):
/// √λ₂ where λ₂ is the second largest eigenvalue of Q(i,j) = Σ_k p(i,k) p(j,k) / (px(i) py(k)).
/// Q is similar to the symmetric S = Dx^{-1/2} P Dy^{-1} Pᵀ Dx^{-1/2}, whose eigenvalues are
/// computed instead. Rows/columns with zero marginal are dropped. Fewer than two levels → NaN.
pub fn glcm_mcc(p: &[f64], n: usize) -> f64 {
    if n * n != p.len() {
        return f64::NAN;
    }
    let px: Vec<f64> = (0..n).map(|i| (0..n).map(|j| p[i * n + j]).sum()).collect();
    let py: Vec<f64> = (0..n).map(|j| (0..n).map(|i| p[i * n + j]).sum()).collect();
    let rows: Vec<usize> = (0..n).filter(|&i| px[i] > 0.0).collect();
    let cols: Vec<usize> = (0..n).filter(|&k| py[k] > 0.0).collect();
    let m = rows.len();
    if m < 2 {
        return f64::NAN;
    }
    let mut s = vec![0.0; m * m];
    for (a, &i) in rows.iter().enumerate() {
        for (b, &j) in rows.iter().enumerate() {
            let mut acc = 0.0;
            for &k in &cols {
                acc += p[i * n + k] * p[j * n + k] / py[k];
            }
            s[a * m + b] = acc / (px[i] * px[j]).sqrt();
        }
    }
    let ev = symmetric_eigenvalues(&s, m);
    ev[1].max(0.0).sqrt()
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
    fn mcc_of_independent_levels_is_zero_and_of_a_diagonal_is_one() {
        // p = px ⊗ py (independence) → Q has rank one, λ₂ = 0.
        let p = [0.25, 0.25, 0.25, 0.25];
        assert!(glcm_mcc(&p, 2).abs() < 1e-7);
        // p diagonal → Q = I, λ₂ = 1.
        let p = [0.5, 0.0, 0.0, 0.5];
        assert!((glcm_mcc(&p, 2) - 1.0).abs() < 1e-12);
    }
}
