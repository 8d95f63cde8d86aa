//! The row kernels: element-wise operations and the sums, all with a fixed order of
//! floating-point operations (see `sum4`), so every build gives the same bits.

use crate::ir::{Bin, Un};

pub(super) enum RowView<'a> {
    R(&'a [f64]),
    S(f64),
}

#[inline(always)]
pub(super) fn un_row(op: Un, src: &[f64], out: &mut [f64], mask: Option<&[f64]>) {
    // One loop per operator (the dispatch is per row, not per entry); under a mask the
    // operation is skipped, not just discarded, where the mask is zero.
    macro_rules! each {
        ($f:expr) => {
            match mask {
                // Masks are data-dependent (`p > 0` on a matrix with scattered zeros): a branch
                // per entry mispredicts often, so the kept positions are first listed without
                // branches, a chunk at a time, and the operation then runs on those only.
                Some(m) => {
                    const CHUNK: usize = 128;
                    let n = out.len().min(src.len()).min(m.len());
                    out.fill(0.0);
                    let mut kept = [0u32; CHUNK];
                    for start in (0..n).step_by(CHUNK) {
                        let end = (start + CHUNK).min(n);
                        let mut count = 0;
                        for (t, &k) in m[start..end].iter().enumerate() {
                            kept[count] = t as u32;
                            count += usize::from(k != 0.0);
                        }
                        let (o, x) = (&mut out[start..end], &src[start..end]);
                        for &t in &kept[..count] {
                            o[t as usize] = $f(x[t as usize]);
                        }
                    }
                }
                None => {
                    for (o, &x) in out.iter_mut().zip(src) {
                        *o = $f(x);
                    }
                }
            }
        };
    }
    match op {
        Un::Neg => each!(|x: f64| -x),
        Un::Not => each!(|x: f64| f64::from(u8::from(x == 0.0))),
        Un::Abs => each!(|x: f64| x.abs()),
        Un::Sqrt => each!(|x: f64| x.sqrt()),
        Un::Exp => each!(|x: f64| x.exp()),
        Un::Log => each!(|x: f64| x.ln()),
        // Branch-free and vectorised (see `crate::log2`): computing it everywhere and keeping
        // it where the mask holds is cheaper than listing the kept positions first.
        Un::Log2 => match mask {
            Some(m) => {
                for ((o, &x), &k) in out.iter_mut().zip(src).zip(m) {
                    *o = keep_or_zero(crate::log2::log2(x), k != 0.0);
                }
            }
            None => {
                for (o, &x) in out.iter_mut().zip(src) {
                    *o = crate::log2::log2(x);
                }
            }
        },
        Un::Log10 => each!(|x: f64| x.log10()),
        Un::Floor => each!(|x: f64| x.floor()),
        Un::Ceil => each!(|x: f64| x.ceil()),
    }
}

#[inline(always)]
pub(super) fn bin_row(op: Bin, a: RowView<'_>, b: RowView<'_>, out: &mut [f64], mask: Option<&[f64]>) {
    if let Some(m) = mask {
        for t in 0..out.len() {
            let x = match &a {
                RowView::R(r) => r[t],
                RowView::S(s) => *s,
            };
            let y = match &b {
                RowView::R(r) => r[t],
                RowView::S(s) => *s,
            };
            out[t] = if m[t] != 0.0 { op.apply(x, y) } else { 0.0 };
        }
        return;
    }
    // One tight loop per (operator, operand shape) so the compiler can vectorise.
    macro_rules! lanes {
        ($f:expr) => {
            match (&a, &b) {
                (RowView::R(x), RowView::R(y)) => {
                    for ((o, &p), &q) in out.iter_mut().zip(x.iter()).zip(y.iter()) {
                        *o = $f(p, q);
                    }
                }
                (RowView::R(x), RowView::S(q)) => {
                    let q = *q;
                    for (o, &p) in out.iter_mut().zip(x.iter()) {
                        *o = $f(p, q);
                    }
                }
                (RowView::S(p), RowView::R(y)) => {
                    let p = *p;
                    for (o, &q) in out.iter_mut().zip(y.iter()) {
                        *o = $f(p, q);
                    }
                }
                (RowView::S(p), RowView::S(q)) => {
                    let v = $f(*p, *q);
                    out.fill(v);
                }
            }
        };
    }
    // Comparisons give 1.0 / 0.0 (as `Bin::apply`), written so each loop stays branch-free.
    let t = |c: bool| f64::from(u8::from(c));
    match op {
        Bin::Add => lanes!(|p: f64, q: f64| p + q),
        Bin::Sub => lanes!(|p: f64, q: f64| p - q),
        Bin::Mul => lanes!(|p: f64, q: f64| p * q),
        Bin::Div => lanes!(|p: f64, q: f64| p / q),
        Bin::Eq => lanes!(|p: f64, q: f64| t(p == q)),
        Bin::Ne => lanes!(|p: f64, q: f64| t(p != q)),
        Bin::Lt => lanes!(|p: f64, q: f64| t(p < q)),
        Bin::Le => lanes!(|p: f64, q: f64| t(p <= q)),
        Bin::Gt => lanes!(|p: f64, q: f64| t(p > q)),
        Bin::Ge => lanes!(|p: f64, q: f64| t(p >= q)),
        Bin::And => lanes!(|p: f64, q: f64| t(p != 0.0 && q != 0.0)),
        Bin::Or => lanes!(|p: f64, q: f64| t(p != 0.0 || q != 0.0)),
        Bin::Min => lanes!(|p: f64, q: f64| p.min(q)),
        Bin::Max => lanes!(|p: f64, q: f64| p.max(q)),
        Bin::Pow => lanes!(|p: f64, q: f64| p.powf(q)),
    }
}

/// The `s`-th segment of `n` entries of a collapsed row.
#[inline(always)]
pub(super) fn segment_of(r: &[f64], s: usize, n: usize) -> &[f64] {
    &r[s * n..(s + 1) * n]
}

/// Sum with four interleaved partial sums (breaks the add latency chain).
#[inline(always)]
pub(super) fn sum4(b: &[f64]) -> f64 {
    let mut s = [0.0f64; 4];
    let chunks = b.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        s[0] += c[0];
        s[1] += c[1];
        s[2] += c[2];
        s[3] += c[3];
    }
    let mut tail = 0.0;
    for &x in rest {
        tail += x;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `b` where `keep`, else +0.0, without a branch: masks are data-dependent (`p > 0` on a
/// matrix with scattered zeros), so a branch here mispredicts often. Bit-masking also drops
/// NaN/inf entries that the filter excludes, exactly as skipping them would.
#[inline(always)]
pub(super) fn keep_or_zero(x: f64, keep: bool) -> f64 {
    f64::from_bits(x.to_bits() & 0u64.wrapping_sub(u64::from(keep)))
}

/// Sum of `b` where `m` is non-zero, with four partial sums in the order of [`sum4`].
#[inline(always)]
pub(super) fn masked_sum4(b: &[f64], m: &[f64]) -> f64 {
    let mut s = [0.0f64; 4];
    let n = b.len().min(m.len());
    let n4 = n / 4 * 4;
    for (cb, cm) in b[..n4].chunks_exact(4).zip(m[..n4].chunks_exact(4)) {
        for l in 0..4 {
            s[l] += keep_or_zero(cb[l], cm[l] != 0.0);
        }
    }
    let mut tail = 0.0;
    for t in n4..n {
        tail += keep_or_zero(b[t], m[t] != 0.0);
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// [`sum4`] of `b`, or [`masked_sum4`] where there is a mask.
#[inline(always)]
pub(super) fn sum4_where(b: &[f64], mask: Option<&[f64]>) -> f64 {
    match mask {
        None => sum4(b),
        Some(m) => masked_sum4(b, m),
    }
}

/// `out[t] += b[t]` (where `mask[t] != 0`): one element-wise marginal's share of a row.
#[inline(always)]
pub(super) fn add_where(out: &mut [f64], b: &[f64], mask: Option<&[f64]>) {
    match mask {
        None => out.iter_mut().zip(b).for_each(|(o, &v)| *o += v),
        Some(m) => out.iter_mut().zip(b).zip(m).for_each(|((o, &v), &k)| {
            if k != 0.0 {
                *o += v
            }
        }),
    }
}

/// `sum(a[t] * b[t])` (where `m[t] != 0`), in the lane order of [`sum4`]: bit-identical to
/// storing the products and summing them with [`sum4`] / [`masked_sum4`].
#[inline(always)]
pub(super) fn dot4(a: &[f64], b: &[f64], m: Option<&[f64]>) -> f64 {
    let n = a.len().min(b.len());
    let n4 = n / 4 * 4;
    let mut s = [0.0f64; 4];
    let mut tail = 0.0;
    match m {
        None => {
            for (ca, cb) in a[..n4].chunks_exact(4).zip(b[..n4].chunks_exact(4)) {
                for l in 0..4 {
                    s[l] += ca[l] * cb[l];
                }
            }
            for t in n4..n {
                tail += a[t] * b[t];
            }
        }
        Some(m) => {
            let m = &m[..n];
            for ((ca, cb), cm) in a[..n4].chunks_exact(4).zip(b[..n4].chunks_exact(4)).zip(m.chunks_exact(4)) {
                for l in 0..4 {
                    s[l] += keep_or_zero(ca[l] * cb[l], cm[l] != 0.0);
                }
            }
            for t in n4..n {
                tail += keep_or_zero(a[t] * b[t], m[t] != 0.0);
            }
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `sum(a[t] * c)` (where `m[t] != 0`), in the lane order of [`sum4`].
#[inline(always)]
pub(super) fn scaled_sum4(a: &[f64], c: f64, m: Option<&[f64]>) -> f64 {
    let n = a.len();
    let n4 = n / 4 * 4;
    let mut s = [0.0f64; 4];
    let mut tail = 0.0;
    match m {
        None => {
            for ca in a[..n4].chunks_exact(4) {
                for l in 0..4 {
                    s[l] += ca[l] * c;
                }
            }
            for &x in &a[n4..] {
                tail += x * c;
            }
        }
        Some(m) => {
            let m = &m[..n];
            for (ca, cm) in a[..n4].chunks_exact(4).zip(m.chunks_exact(4)) {
                for l in 0..4 {
                    s[l] += keep_or_zero(ca[l] * c, cm[l] != 0.0);
                }
            }
            for t in n4..n {
                tail += keep_or_zero(a[t] * c, m[t] != 0.0);
            }
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// 2^52: for `0 <= x < 2^52`, `x + 2^52` rounds to an integer and its bit pattern minus that
/// of 2^52 is that integer (the float is exactly `2^52 + integer`).
pub(super) const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// Whether every `x - lo` in `idx` is an integer in `0..len`, checked with float operations
/// only (no branches, no saturating conversions, so it vectorises) before the check-free
/// scatter: the GLCM's `|i - j|` and `i + j` rows always pass, and checking a row at once is
/// far cheaper than converting and checking entry by entry.
#[inline(always)]
pub(super) fn scatter_slots_valid(idx: &[f64], lo: f64, len: usize) -> bool {
    let len = len as f64;
    if len > TWO_POW_52 {
        return false;
    }
    let mut ok = true;
    for &v in idx {
        let x = v - lo;
        // In range (NaN fails both comparisons), then integral: `(x + 2^52) - 2^52` is `x`
        // rounded to an integer for `0 <= x < 2^52`.
        ok &= (x >= 0.0) & (x < len) & ((x + TWO_POW_52) - TWO_POW_52 == x);
    }
    ok
}

/// `out[idx[t] - lo] += b[t]` (where `mask[t] != 0`), for slots [`scatter_slots_valid`]
/// accepted: no per-entry checks, and a masked-out entry adds +0.0 (a sum slot starts at
/// +0.0 so can never be -0.0, and `x + 0.0 == x` otherwise), which equals skipping it.
#[inline(always)]
pub(super) fn scatter_add_checked(out: &mut [f64], idx: &[f64], lo: f64, b: &[f64], mask: Option<&[f64]>) {
    match mask {
        None => {
            for (&x, &v) in idx.iter().zip(b) {
                out[scatter_slot(x - lo)] += v;
            }
        }
        Some(m) => {
            for ((&x, &v), &k) in idx.iter().zip(b).zip(m) {
                out[scatter_slot(x - lo)] += keep_or_zero(v, k != 0.0);
            }
        }
    }
}

/// The slot of a value `scatter_slots_valid` accepted (see [`TWO_POW_52`]).
#[inline(always)]
pub(super) fn scatter_slot(x: f64) -> usize {
    ((x + TWO_POW_52).to_bits() - TWO_POW_52.to_bits()) as usize
}

/// Number of non-zero mask entries.
#[inline(always)]
pub(super) fn mask_count(m: &[f64]) -> f64 {
    m.iter().map(|&k| f64::from(u8::from(k != 0.0))).sum()
}
