use super::kernels::*;
use super::*;
use proptest::prelude::*;

/// Entries including the awkward ones a filter must drop: zeros, NaN, ±inf.
fn entry() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), -1e3f64..1e3]
}

fn rows() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>)> {
    (0usize..23).prop_flat_map(|n| {
        let mask = prop::collection::vec(prop_oneof![Just(0.0), Just(1.0), Just(-0.5)], n);
        (prop::collection::vec(entry(), n), prop::collection::vec(entry(), n), mask)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The fused accumulators must equal storing the products and summing them, bit for bit
    /// (the compiled plan is deterministic and the fusion must not change any result).
    #[test]
    fn fused_products_equal_materialised_products((a, b, m) in rows(), c in entry()) {
        let prod: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
        let scaled: Vec<f64> = a.iter().map(|x| x * c).collect();
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        prop_assert!(same(dot4(&a, &b, None), sum4(&prod)));
        prop_assert!(same(dot4(&a, &b, Some(&m)), masked_sum4(&prod, &m)));
        prop_assert!(same(scaled_sum4(&a, c, None), sum4(&scaled)));
        prop_assert!(same(scaled_sum4(&a, c, Some(&m)), masked_sum4(&scaled, &m)));
    }

    /// A masked sum equals the plain sum of the kept entries (so excluded NaN/inf vanish).
    #[test]
    fn masked_sum_is_the_sum_of_kept_entries((a, _b, m) in rows()) {
        let kept: Vec<f64> = a.iter().zip(&m).map(|(&x, &k)| if k != 0.0 { x } else { 0.0 }).collect();
        let (got, want) = (masked_sum4(&a, &m), sum4(&kept));
        prop_assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()));
        prop_assert_eq!(mask_count(&m), m.iter().filter(|&&k| k != 0.0).count() as f64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The row-at-once scatter check accepts exactly the rows whose every entry is an
    /// integer slot in range, and then `scatter_slot` is that integer.
    #[test]
    fn scatter_check_accepts_exactly_integer_slots_in_range(
        idx in prop::collection::vec(prop_oneof![
            (0i32..40).prop_map(f64::from),
            Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(2.5), Just(-0.0), Just(1e300),
        ], 0..20),
        lo in prop_oneof![Just(0.0), Just(2.0), Just(-3.0)],
        len in 0usize..45,
    ) {
        let entry_ok = |v: f64| {
            let x = v - lo;
            x >= 0.0 && x < len as f64 && x.fract() == 0.0
        };
        let want = idx.iter().all(|&v| entry_ok(v));
        prop_assert_eq!(scatter_slots_valid(&idx, lo, len), want);
        if want {
            for &v in &idx {
                prop_assert_eq!(scatter_slot(v - lo), (v - lo) as usize);
            }
        }
    }

    /// A masked transcendental row is the operation where the mask holds and 0 elsewhere,
    /// each value the scalar evaluator's (`Un::apply`) bit for bit.
    #[test]
    fn masked_unary_row_is_the_operation_where_kept((a, _b, m) in rows()) {
        for op in [Un::Log2, Un::Log, Un::Sqrt, Un::Exp] {
            let mut out = vec![f64::NAN; a.len()];
            un_row(op, &a, &mut out, Some(&m));
            for t in 0..a.len() {
                let want = if m[t] != 0.0 { op.apply(a[t]) } else { 0.0 };
                prop_assert!(out[t].to_bits() == want.to_bits() || (out[t].is_nan() && want.is_nan()), "{op:?}");
            }
        }
    }
}

/// Rows longer than the compaction chunk (128) keep every position in its place.
#[test]
fn masked_unary_row_spans_chunks() {
    let src: Vec<f64> = (0..300).map(|t| t as f64 + 1.0).collect();
    let mask: Vec<f64> = (0..300).map(|t| f64::from(u8::from(t % 3 != 1))).collect();
    let mut out = vec![f64::NAN; 300];
    un_row(Un::Sqrt, &src, &mut out, Some(&mask));
    for (t, &got) in out.iter().enumerate() {
        // Position t holds sqrt(t + 1) where t mod 3 is 0 or 2, and 0 where it is 1.
        let want = if t % 3 == 1 { 0.0 } else { (t as f64 + 1.0).sqrt() };
        assert_eq!(got, want, "position {t}");
    }
}

/// The three texture sources these tests compile the shipped GLCM, GLRLM and GLSZM
/// families over, declared as the engine does (the language itself declares no source).
fn texture_registry() -> crate::Registry {
    use crate::{ParamKind as K, ParamValue as V, SourceSchema};
    let mut registry = crate::Registry::with_language_builtins();
    let counts = |name: &str, array: &str, axis: &str| {
        SourceSchema::new(name, "counts")
            .param("connectivity", K::Int, V::Int(26), "")
            .axis("level", "")
            .axis(axis, "")
            .array(array, &["level", axis], "")
            .scalar("Ng", "")
            .scalar("Nv", "")
            .scalar("Ns", "")
    };
    registry.register_source(
        SourceSchema::new("cm", "co-occurrence")
            .param("distance", K::Int, V::Int(1), "")
            .param("symmetric", K::Bool, V::Bool(true), "")
            .axis("level", "")
            .array("p", &["level", "level"], "")
            .scalar("Ng", ""),
    );
    registry.register_source(counts("rlm", "r", "run"));
    registry.register_source(counts("szm", "s", "size"));
    registry
}

/// Family `name` of the shipped feature file `file`, compiled.
fn shipped_family(file: &str, name: &str) -> CompiledFamily {
    let path = format!("{}/../../features/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("feature file");
    crate::compile(file, &text, &texture_registry()).expect("compiles").family(name).expect("family").clone()
}

/// The AVX2 build of the passes must give the portable build's results bit for bit
/// (same operations, same summation order; only the vector width differs).
#[test]
fn wide_kernels_equal_portable_kernels() {
    let fam = &shipped_family("glcm.radx", "glcm");
    for ng in [1usize, 3, 17, 64] {
        // Counts with zeros on a fixed pattern, so the `p > 0` filters matter.
        let counts: Vec<f64> =
            (0..ng * ng).map(|k| ((k * 7919) % 13) as f64 * f64::from(u8::from(k % 5 != 2))).collect();
        let data = SourceData::glcm_from_counts(ng, &counts);
        let run = |kernels: Kernels| {
            let mut st = State { kernels, ..State::default() };
            fam.evaluate_with(&mut st, &data, &crate::NoBuiltins, &mut EvalBudget::default(), &[]).expect("evaluates");
            st.values
        };
        let portable = run(Kernels::Portable);
        for kernels in [Kernels::Widest, Kernels::Avx2] {
            for (w, p) in run(kernels).iter().zip(&portable) {
                assert!(w.to_bits() == p.to_bits() || (w.is_nan() && p.is_nan()), "{kernels:?} ng {ng}: {w} vs {p}");
            }
        }
    }
}

/// Passes over two loops with a short inner loop run collapsed (several outer iterations
/// per row): the same bits as a row at a time, for the GLCM (square) and the GLRLM and
/// GLSZM (as many columns as run lengths or zone sizes occur), with and without zeros.
#[test]
fn collapsed_passes_equal_rows_one_at_a_time() {
    let counts = |rows: usize, cols: usize| -> Vec<f64> {
        (0..rows * cols).map(|k| ((k * 7919) % 13) as f64 * f64::from(u8::from(k % 5 != 2))).collect()
    };
    let same = |fam: &CompiledFamily, data: &SourceData, what: &str| {
        let run = |row_at_a_time: bool| {
            let mut st = State { row_at_a_time, ..State::default() };
            fam.evaluate_with(&mut st, data, &crate::NoBuiltins, &mut EvalBudget::default(), &[]).expect("evaluates");
            st.values
        };
        for (c, r) in run(false).iter().zip(&run(true)) {
            assert!(c.to_bits() == r.to_bits() || (c.is_nan() && r.is_nan()), "{what}: {c} vs {r}");
        }
    };
    let glcm = shipped_family("glcm.radx", "glcm");
    // What the GLCM features leave out: counts, a filter that is a constant, a scatter
    // whose slots fall outside its vector, a mean and a maximum under a filter.
    let text = "family x over cm {\n  let q[k in 0..Ng / 2] = sum(i, j where i + j == k, p[i,j] * i)\n  \
                feature a \"A\" = count(i, j where p[i,j] > 2) + sum(i, j where Ng > 0, p[i,j])\n  \
                feature b \"B\" = sum(i, j where Ng > 1000, p[i,j]) + sum(k, q[k] * k)\n  \
                feature c \"C\" = mean(i, j where p[i,j] > 1, p[i,j] / i) + max(i, j where j > i, p[i,j] * j)\n}\n";
    let extra = crate::compile("x.radx", text, &texture_registry()).expect("compiles");
    let extra = extra.family("x").unwrap();
    for ng in [1usize, 3, 17, 64, 129] {
        let data = SourceData::glcm_from_counts(ng, &counts(ng, ng));
        same(&glcm, &data, &format!("glcm {ng}"));
        same(extra, &data, &format!("count, mean, max, out-of-range scatter {ng}"));
    }
    for (file, name, array, axis) in [("glrlm.radx", "glrlm", "r", "run"), ("glszm.radx", "glszm", "s", "size")] {
        let fam = shipped_family(file, name);
        for (ng, cols) in [(1usize, 5usize), (6, 1), (7, 40), (40, 7), (3, 300)] {
            let data = counts(ng, cols);
            let total: f64 = data.iter().sum();
            let source = SourceData::new()
                .with_axis("level", (1..=ng).map(|l| l as f64).collect())
                .with_axis(axis, (1..=cols).map(|c| (2 * c) as f64).collect())
                .with_array(array, vec![ng, cols], data)
                .with_scalar("Ng", ng as f64)
                .with_scalar("Nv", 2.0 * total)
                .with_scalar("Ns", total);
            same(&fam, &source, &format!("{name} {ng}×{cols}"));
        }
    }
}

#[test]
fn keep_or_zero_drops_nan_and_keeps_signed_values() {
    assert_eq!(keep_or_zero(f64::NAN, false).to_bits(), 0.0f64.to_bits());
    assert_eq!(keep_or_zero(-2.5, true), -2.5);
    assert!(keep_or_zero(f64::NAN, true).is_nan());
}

/// Rows kept from one evaluation to the next (see `KeptRows`) are reused only for the same
/// index values and source scalars: a run of matrices through one state gives, bit for bit,
/// what a fresh state gives for each, whether the grey levels, the matrix or only the
/// source's scalars change between them.
#[test]
fn kept_rows_equal_fresh_evaluations() {
    let fam = &shipped_family("glcm.radx", "glcm");
    let matrix = |ng: usize, seed: usize| {
        let counts: Vec<f64> =
            (0..ng * ng).map(|k| (((k + seed) * 7919) % 13) as f64 * f64::from(u8::from(k % 5 != 2))).collect();
        SourceData::glcm_from_counts(ng, &counts)
    };
    // The same levels with another Ng (only the normalised inverse differences read it).
    let other_ng = |ng: usize| {
        let counts: Vec<f64> = (0..ng * ng).map(|k| (k % 7) as f64).collect();
        let total: f64 = counts.iter().sum();
        SourceData::new()
            .with_axis("level", (1..=ng).map(|l| l as f64).collect())
            .with_array("p", vec![ng, ng], counts.iter().map(|c| c / total).collect())
            .with_scalar("Ng", 2.0 * ng as f64)
    };
    // Other levels, as many of them.
    let shifted = |ng: usize| {
        let counts: Vec<f64> = (0..ng * ng).map(|k| (k % 7) as f64).collect();
        let total: f64 = counts.iter().sum();
        SourceData::new()
            .with_axis("level", (3..ng + 3).map(|l| l as f64).collect())
            .with_array("p", vec![ng, ng], counts.iter().map(|c| c / total).collect())
            .with_scalar("Ng", ng as f64)
    };
    let run = [matrix(16, 0), matrix(16, 5), other_ng(16), matrix(16, 5), shifted(16), matrix(16, 1), matrix(9, 0)];
    let mut st = State::default();
    for (k, data) in run.iter().chain(&run).enumerate() {
        fam.evaluate_with(&mut st, data, &crate::NoBuiltins, &mut EvalBudget::default(), &[]).expect("evaluates");
        let kept = st.values.clone();
        let mut fresh = State::default();
        fam.evaluate_with(&mut fresh, data, &crate::NoBuiltins, &mut EvalBudget::default(), &[]).expect("evaluates");
        let fresh = fresh.values;
        for ((f, _), (a, b)) in fam.checked.features.iter().zip(kept.iter().zip(&fresh)) {
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "matrix {k}, {}: {a} vs {b}", f.name);
        }
    }
    assert!(st.kept.iter().any(|k| !k.key.is_empty()), "the GLCM's one-block passes keep their rows");
}

/// A family restricted to some of its features gives each kept feature the bits the whole
/// family gives it, and runs no more passes than the whole family.
#[test]
fn retained_features_keep_their_values() {
    let glcm = shipped_family("glcm.radx", "glcm");
    let registry = texture_registry();
    let names: Vec<String> = glcm.features().map(|f| f.name.clone()).collect();
    assert!(glcm.retaining(&registry, |_| false).is_none());
    for ng in [1usize, 5, 33] {
        let counts: Vec<f64> = (0..ng * ng).map(|k| ((k * 7919) % 11) as f64).collect();
        let data = SourceData::glcm_from_counts(ng, &counts);
        let whole = glcm.evaluate_values(&data, &crate::NoBuiltins).expect("evaluates");
        // Every third feature, and each feature alone.
        let subsets: Vec<Vec<usize>> =
            std::iter::once((0..names.len()).step_by(3).collect()).chain((0..names.len()).map(|k| vec![k])).collect();
        for subset in subsets {
            let kept = glcm.retaining(&registry, |f| subset.iter().any(|&k| names[k] == f.name)).expect("some kept");
            assert!(kept.pass_count() <= glcm.pass_count());
            let values = kept.evaluate_values(&data, &crate::NoBuiltins).expect("evaluates");
            assert_eq!(values.len(), subset.len());
            for (v, &k) in values.iter().zip(&subset) {
                let w = whole[k];
                assert!(v.to_bits() == w.to_bits() || (v.is_nan() && w.is_nan()), "{} ng {ng}: {v} vs {w}", names[k]);
            }
        }
    }
    // A feature needing a single sum plans fewer passes than the whole family.
    let alone = glcm.retaining(&registry, |f| f.name == names[0]).expect("kept");
    assert!(alone.pass_count() < glcm.pass_count(), "{} vs {}", alone.pass_count(), glcm.pass_count());
}

/// One [`Evaluator`] run over many matrices (buffers, binding and values reused from one to
/// the next) gives each the bits a fresh state gives it, and the reference interpreter's
/// values; a failing evaluation (a matrix without `p`) leaves it able to evaluate the next.
#[test]
fn an_evaluator_reused_over_matrices_equals_fresh_evaluations() {
    let registry = texture_registry();
    let fam = &shipped_family("glcm.radx", "glcm");
    let matrix = |ng: usize, seed: usize| {
        let counts: Vec<f64> = (0..ng * ng).map(|k| (((k + seed) * 31) % 11) as f64).collect();
        SourceData::glcm_from_counts(ng, &counts)
    };
    let run = [matrix(5, 0), matrix(5, 3), matrix(11, 1), matrix(2, 0), matrix(5, 3)];
    let mut evaluator = fam.evaluator();
    for (k, data) in run.iter().enumerate() {
        let reused = evaluator.values_with_refs(data, &crate::NoBuiltins, &mut EvalBudget::default(), &[]);
        let reused = reused.expect("evaluates").to_vec();
        let mut fresh = State::default();
        fam.evaluate_with(&mut fresh, data, &crate::NoBuiltins, &mut EvalBudget::default(), &[]).expect("evaluates");
        let reference = crate::interp::interpret(fam, &registry, data, &crate::NoBuiltins).expect("interprets");
        for ((a, b), r) in reused.iter().zip(&fresh.values).zip(&reference) {
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "matrix {k}, {}: {a} vs {b}", r.name);
            // Loose: sums in another order differ by rounding, which a square root (the
            // IMC2 of a matrix whose HXY2 and HXY nearly cancel) magnifies to ~1e-8.
            let close = *a == r.value
                || (a - r.value).abs() <= 1e-6 * (1.0 + r.value.abs())
                || (a.is_nan() && r.value.is_nan());
            assert!(close, "matrix {k}, {}: {a} vs the interpreter's {}", r.name, r.value);
        }
        let missing = SourceData::new().with_axis("level", vec![1.0]).with_scalar("Ng", 1.0);
        let failed = evaluator.values_with_refs(&missing, &crate::NoBuiltins, &mut EvalBudget::default(), &[]);
        assert!(matches!(failed, Err(EvalError::MissingArray { .. })), "{failed:?}");
    }
}

/// Strides are row-major whatever the rank (inline up to 3, on the heap beyond): each is
/// the product of the lengths of the axes after it.
#[test]
fn strides_are_row_major_at_every_rank() {
    let lens = [3usize, 1, 4, 2, 5];
    for rank in 0..=lens.len() {
        let strides = super::bind::Strides::row_major(lens[..rank].iter().copied());
        let want: Vec<usize> = (0..rank).map(|d| lens[d + 1..rank].iter().product()).collect();
        assert_eq!(&*strides, want.as_slice(), "rank {rank}");
    }
}
