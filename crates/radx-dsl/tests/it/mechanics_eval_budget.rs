//! The evaluation budget and ranges: a range is never silently truncated, constant ranges
//! and loops too long for the budget are refused at compile time, and ranges computed from
//! the data are charged as they run, with an error naming the feature and its line.

use radx_dsl::{ErrorKind, EvalBudget, EvalError, Limits, NoBuiltins, SourceData, compile, compile_with};
use std::time::{Duration, Instant};

fn family(members: &str) -> String {
    format!("family g over cm {{\n{members}}}\n")
}

fn ng(n: usize) -> SourceData {
    SourceData::glcm_from_counts(n, &vec![1.0; n * n])
}

fn compile_error(text: &str, limits: Limits) -> ErrorKind {
    match compile_with("budget.radx", text, &crate::common::standard_registry(), limits) {
        Ok(_) => panic!("compiled:\n{text}"),
        Err(d) => d.items[0].kind.clone(),
    }
}

fn eval_error(text: &str, limits: Limits, data: &SourceData) -> EvalError {
    let file = compile_with("budget.radx", text, &crate::common::standard_registry(), limits).expect("compiles");
    file.families()[0].evaluate(data, &NoBuiltins).expect_err("runs out of budget")
}

#[test]
fn a_range_longer_than_two_to_the_24_is_summed_in_full() {
    // Was capped at 2^24 values with no word. Ranges include both bounds: the sum of
    // 0..=n is n(n+1)/2 for n = 20 000 000 (exact in f64: every partial sum is an integer
    // below 2^53).
    let text = family("  feature f \"XXXX\" = sum(k in 0..20000000, k)\n");
    let file = compile("big.radx", &text, &crate::common::standard_registry()).expect("compiles");
    let v = file.families()[0].evaluate(&ng(1), &NoBuiltins).expect("within the default budget");
    assert_eq!(v[0].value, 20_000_000.0 * 20_000_001.0 / 2.0);
}

#[test]
fn a_constant_range_too_long_for_the_budget_is_refused_when_compiled() {
    // Was accepted, and evaluated to 0 (the length overflowed to an empty range).
    let text = family("  feature f \"XXXX\" = sum(k in 0..1e300, k)\n");
    let kind = compile_error(&text, Limits::default());
    assert!(matches!(kind, ErrorKind::RangeTooLong { length, .. } if length == 1e300 + 1.0), "{kind:?}");
    let short = family("  feature f \"XXXX\" = sum(k in 1..100, k)\n");
    let kind = compile_error(&short, Limits { eval_budget: 99 });
    assert!(matches!(kind, ErrorKind::RangeTooLong { length, budget: 99, .. } if length == 100.0), "{kind:?}");
}

#[test]
fn a_constant_range_that_is_not_finite_is_refused_when_compiled() {
    let text = family("  feature f \"XXXX\" = sum(k in 0..1/0, k)\n");
    assert!(matches!(compile_error(&text, Limits::default()), ErrorKind::RangeNotFinite { .. }));
}

#[test]
fn a_double_sum_over_constant_ranges_beyond_the_budget_is_refused_when_compiled() {
    // 2^24 × 2^24 iterations: hung (days) while `radx check` passed.
    let start = Instant::now();
    let text = family("  feature f \"XXXX\" = sum(a in 1..16777216, b in 1..16777216, a * b)\n");
    let kind = compile_error(&text, Limits::default());
    assert!(matches!(kind, ErrorKind::LoopTooLong { iterations, .. } if iterations == 2f64.powi(48)), "{kind:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_double_sum_over_computed_ranges_stops_before_running() {
    // Bounds from the data (`Ng`), so only the run can tell: 2^22 × 2^22 = 2^44 > 2^40.
    let start = Instant::now();
    let text = family(
        "  feature cheap \"AAAA\" = sum(i, j, p[i,j])\n  feature huge \"BBBB\" = sum(a in 1..Ng * 4194304, b in 1..Ng * 4194304, a * b)\n",
    );
    let err = eval_error(&text, Limits::default(), &ng(1));
    match &err {
        EvalError::Budget { feature, line, needed, .. } => {
            assert_eq!((feature.as_str(), *line), ("huge", 3));
            assert_eq!(*needed, 2f64.powi(44));
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("`huge` (line 3)") && message.contains("--eval-budget"), "{message}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_computed_range_is_charged_before_its_values_are_made() {
    let text = family("  feature f \"XXXX\" = sum(k in 1..Ng * 2000, k)\n");
    let err = eval_error(&text, Limits { eval_budget: 1999 }, &ng(1));
    assert!(matches!(err, EvalError::Budget { needed, budget: 1999, .. } if needed == 2000.0), "{err:?}");
    // With room for the 2000 values and the 2000 iterations, it runs.
    let file = compile_with("ok.radx", &text, &crate::common::standard_registry(), Limits { eval_budget: 4000 })
        .expect("compiles");
    let v = file.families()[0].evaluate(&ng(1), &NoBuiltins).expect("within budget");
    assert_eq!(v[0].value, 2000.0 * 2001.0 / 2.0);
}

#[test]
fn a_computed_range_with_an_infinite_bound_is_an_error_not_an_empty_sum() {
    // `Ng / (Ng - 1)` is +inf when Ng = 1: was an empty range, summing to 0 with no word.
    let text = family("  feature f \"XXXX\" = sum(k in 0..Ng / (Ng - 1), k)\n");
    let err = eval_error(&text, Limits::default(), &ng(1));
    assert!(matches!(&err, EvalError::Range { feature, line: 2, hi, .. } if feature == "f" && *hi == f64::INFINITY));
}

#[test]
fn one_budget_is_shared_by_the_evaluations_of_a_case() {
    // Each evaluation of sum(i, j, …) over a 4-level matrix is 16 iterations.
    let text = family("  feature s \"XXXX\" = sum(i, j, p[i,j])\n");
    let file = compile("shared.radx", &text, &crate::common::standard_registry()).expect("compiles");
    let fam = &file.families()[0];
    let mut budget = EvalBudget::new(40);
    fam.evaluate_values_within(&ng(4), &NoBuiltins, &mut budget).expect("16 of 40");
    fam.evaluate_values_within(&ng(4), &NoBuiltins, &mut budget).expect("32 of 40");
    assert_eq!(budget.used(), 32);
    let err = fam.evaluate_values_within(&ng(4), &NoBuiltins, &mut budget).expect_err("48 > 40");
    assert!(matches!(err, EvalError::Budget { needed, left: 8, budget: 40, .. } if needed == 16.0), "{err:?}");
}

/// Each way to a NaN or an infinity is named for what it is (an overflow was reported as
/// "a division by zero"), through `let`s, vectors and reductions.
#[test]
fn a_non_finite_value_is_explained_by_the_operation_that_made_it() {
    use radx_dsl::NonFinite as N;
    let text = family(
        "  let px[i] = sum(j, p[i,j])\n\
           feature div \"AAAA\" = 1 / (Ng - Ng)\n\
           feature neg_log \"BBBB\" = log(Ng - Ng - 1)\n\
           feature zero_log \"CCCC\" = log2(Ng - Ng)\n\
           feature exp_over \"DDDD\" = exp(Ng * 1000)\n\
           feature sum_over \"EEEE\" = sum(i, j, 1e308 + p[i,j])\n\
           feature root \"FFFF\" = sqrt(-Ng)\n\
           feature empty \"GGGG\" = mean(i where i > Ng, px[i])\n\
           feature nested \"HHHH\" = sum(i, px[i] / (i - 1))\n\
           feature power \"IIII\" = (-Ng) ^ 0.5\n\
           feature product \"KKKK\" = Ng * 1e308\n\
           feature fine \"JJJJ\" = Ng\n",
    );
    let file = compile("causes.radx", &text, &crate::common::standard_registry()).expect("compiles");
    let fam = &file.families()[0];
    let causes = fam.explain_nonfinite(&ng(4), &NoBuiltins, &mut EvalBudget::default()).expect("evaluates");
    let expected = [
        Some(N::DivisionByZero),
        Some(N::LogOfNegative),
        Some(N::LogOfZero),
        Some(N::Overflow),
        Some(N::Overflow),
        Some(N::SqrtOfNegative),
        Some(N::EmptyReduction { op: "mean" }),
        Some(N::DivisionByZero),
        Some(N::NegativeToFractionalPower),
        Some(N::Overflow),
        None,
    ];
    assert_eq!(causes, expected);
    assert_eq!(N::Overflow.to_string(), "an overflow (a result beyond ±1.8e308)");
}
