//! `log2` as the feature language computes it: every entropy feature takes one per matrix
//! entry, and libm's is a function call per value that no loop can vectorise. This one is
//! branch-free, uses only IEEE additions, multiplications and one division (no table, no
//! fused multiply-add), so a row of values compiles to vector instructions and every build
//! of the row kernels — and the scalar evaluator — gives the same bits.
//!
//! Accuracy: within one unit in the last place of the exact value (the tests check it against
//! libm's, itself within about half a unit), exact at powers of two, `log2(1) = +0`.
//! Special values as IEEE 754 `log2`: `±0 → -inf`, `+inf → +inf`, negative or NaN → NaN.
//!
//! Method: `x = 2^e · m` with `m` in `[√½, √2)`; with `f = m - 1` (exact) and
//! `s = f / (2 + f)`, `ln m = 2 atanh s = f - f²/2 + s (f²/2 + R(s²))` where
//! `R(z) = 2z/3 + 2z²/5 + 2z³/7 + …` (ten terms: `|s| ≤ 0.172`, so the rest is below 2⁻⁶⁰
//! of the result). `f - f²/2` is split into a short high part and a low part so that the
//! multiplication by `1/ln 2` (itself split) and the addition of `e` keep ~60 bits.

/// `1/ln 2` to 32 significant bits: its product with the 21-bit high part below is exact.
const INV_LN2_HI: f64 = f64::from_bits(0x3ff7_1547_6520_0000);
/// `1/ln 2 - INV_LN2_HI`, rounded.
const INV_LN2_LO: f64 = f64::from_bits(0x3de7_05fc_2eef_a200);
/// Bit pattern of √2 rounded: mantissas above it are halved (and the exponent raised).
const SQRT2_BITS: u64 = 0x3ff6_a09e_667f_3bcd;
/// Smallest positive normal `f64`; smaller positive values are scaled by 2⁵⁴ first.
const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
const TWO_POW_54: f64 = 18_014_398_509_481_984.0;
/// `2^52 + 1023`: an 11-bit biased exponent `b` placed in the low bits of 2⁵² gives
/// `2^52 + b`, and subtracting this gives `b - 1023` exactly.
const EXPONENT_BIAS_OFFSET: f64 = 4_503_599_627_371_519.0;

/// Base-2 logarithm; see the module documentation for its accuracy.
#[inline(always)]
pub fn log2(x: f64) -> f64 {
    // Subnormals are scaled into the normal range (and the exponent corrected after).
    let subnormal = x < MIN_NORMAL;
    let scaled = if subnormal { x * TWO_POW_54 } else { x };
    let bits = scaled.to_bits();
    let mantissa = (bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000;
    // m in [√½, √2): halve mantissas above √2 and count one more in the exponent.
    let above = u64::from(mantissa > SQRT2_BITS);
    let m = f64::from_bits(mantissa - (above << 52));
    let biased = ((bits >> 52) & 0x7ff) + above;
    let exponent =
        f64::from_bits(0x4330_0000_0000_0000 | biased) - EXPONENT_BIAS_OFFSET - if subnormal { 54.0 } else { 0.0 };

    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z
        * (2.0 / 3.0
            + z * (2.0 / 5.0
                + z * (2.0 / 7.0
                    + z * (2.0 / 9.0
                        + z * (2.0 / 11.0
                            + z * (2.0 / 13.0
                                + z * (2.0 / 15.0 + z * (2.0 / 17.0 + z * (2.0 / 19.0 + z * (2.0 / 21.0))))))))));
    let half_f2 = 0.5 * f * f;
    // hi: f - f²/2 to 21 significant bits; lo: the rest of ln m (f - hi is exact).
    let hi = f64::from_bits((f - half_f2).to_bits() & 0xffff_ffff_0000_0000);
    let lo = (f - hi) - half_f2 + s * (half_f2 + r);
    let log_hi = hi * INV_LN2_HI;
    let mut log_lo = (lo + hi) * INV_LN2_LO + lo * INV_LN2_HI;
    // exponent + log_hi with its rounding error carried into the low part (|log_hi| ≤ ½ ≤
    // |exponent| unless the exponent is 0, when the sum is exact).
    let sum = exponent + log_hi;
    log_lo += (exponent - sum) + log_hi;
    let y = log_lo + sum;

    if x == 0.0 {
        f64::NEG_INFINITY
    } else if x == f64::INFINITY {
        x
    } else if x > 0.0 {
        y
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::log2;
    use proptest::prelude::*;

    /// Distance in units in the last place between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        let key = |x: f64| {
            let b = x.to_bits() as i64;
            if b < 0 { i64::MIN - b } else { b }
        };
        key(a).abs_diff(key(b))
    }

    #[test]
    fn special_values_follow_ieee_log2() {
        assert_eq!(log2(0.0), f64::NEG_INFINITY);
        assert_eq!(log2(-0.0), f64::NEG_INFINITY);
        assert_eq!(log2(f64::INFINITY), f64::INFINITY);
        assert!(log2(-1.0).is_nan());
        assert!(log2(f64::NEG_INFINITY).is_nan());
        assert!(log2(f64::NAN).is_nan());
        assert_eq!(log2(1.0).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn powers_of_two_are_exact() {
        for e in -1074..=1023 {
            let x = if e < -1022 { f64::from_bits(1 << (e + 1074)) } else { f64::from_bits(((e + 1023) as u64) << 52) };
            assert_eq!(log2(x), f64::from(e), "2^{e}");
        }
    }

    /// libm's `log2` is within about half a unit of the exact value; one unit from it, and
    /// a sweep that covers every mantissa region (either side of √2 and of 1) at many
    /// exponents, subnormals included.
    #[test]
    fn sweep_is_within_one_ulp_of_libm() {
        let mut worst = 0;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..400_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Any positive finite double: random exponent field and mantissa.
            let x = f64::from_bits(state >> 1);
            if !x.is_finite() || x <= 0.0 {
                continue;
            }
            worst = worst.max(ulps(log2(x), x.log2()));
        }
        for k in 0..100_000 {
            // Near 1, where log2 is small and relative accuracy is hardest.
            let x = 1.0 + (k as f64 - 50_000.0) * 1e-9;
            worst = worst.max(ulps(log2(x), x.log2()));
        }
        assert!(worst <= 1, "worst {worst} ulps");
    }

    proptest! {
        #[test]
        fn probabilities_are_within_one_ulp_of_libm(x in 1e-12f64..=1.0) {
            prop_assert!(ulps(log2(x), x.log2()) <= 1, "{x}: {} vs {}", log2(x), x.log2());
        }
    }
}
