//! Properties of the language implementation:
//! 1. pretty-printing an AST and parsing it back gives the same AST (spans ignored);
//! 2. the compiled, fused evaluator equals the direct tree-walking interpreter on random
//!    well-scoped features over random GLCM-shaped matrices;
//! 3. evaluation is deterministic (bit-identical on repeat);
//! 4. percentiles' sorted input equals a comparison sort, bit for bit.

use proptest::prelude::*;
use radx_dsl::ast::{self, BinOp, Binder, Expr, ExprKind, Ident, ReduceOp, SameShape, Span, UnOp};
use radx_dsl::{NoBuiltins, SourceData, compile, interp, parser};

// ---------------------------------------------------------------- 1. round trip

fn id(name: &str) -> Ident {
    Ident { name: name.to_string(), span: Span::default() }
}

fn ex(kind: ExprKind) -> Expr {
    Expr { kind, span: Span::default() }
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        // Non-negative: a negative literal is written `-x`, i.e. a negation node.
        (0.0f64..1.0e6).prop_map(|v| ex(ExprKind::Number(v))),
        (0u32..100).prop_map(|v| ex(ExprKind::Number(v as f64))),
        any::<bool>().prop_map(|b| ex(ExprKind::Bool(b))),
        prop::sample::select(vec!["a", "mu", "x_2", "_t", "Ng"]).prop_map(|n| ex(ExprKind::Name(id(n)))),
        prop::sample::select(vec![vec!["i"], vec!["i", "j"], vec!["k", "k"]])
            .prop_map(|ix| ex(ExprKind::Index { array: id("p"), indices: ix.into_iter().map(id).collect() })),
    ]
}

fn binder(range: Option<(Expr, Expr)>, name: &str) -> Binder {
    Binder { name: id(name), range: range.map(|(a, b)| (Box::new(a), Box::new(b))), span: Span::default() }
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 40, 3, |inner| {
        let binops = prop::sample::select(vec![
            BinOp::Or,
            BinOp::And,
            BinOp::Eq,
            BinOp::Ne,
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
            BinOp::Pow,
        ]);
        let reduce_ops = prop::sample::select(vec![
            ReduceOp::Sum,
            ReduceOp::Mean,
            ReduceOp::Max,
            ReduceOp::Min,
            ReduceOp::ArgMax,
            ReduceOp::Prod,
        ]);
        prop_oneof![
            (prop::sample::select(vec![UnOp::Neg, UnOp::Not]), inner.clone())
                .prop_map(|(op, a)| ex(ExprKind::Unary(op, Box::new(a)))),
            (binops, inner.clone(), inner.clone()).prop_map(|(op, a, b)| ex(ExprKind::Binary(
                op,
                Box::new(a),
                Box::new(b)
            ))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, t, o)| ex(ExprKind::If {
                cond: Box::new(c),
                then: Box::new(t),
                otherwise: Box::new(o)
            })),
            (prop::sample::select(vec!["log2", "pow", "f"]), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(f, args)| ex(ExprKind::Call { func: id(f), args })),
            (reduce_ops, any::<bool>(), prop::option::of(inner.clone()), inner.clone()).prop_map(
                |(op, two, filter, body)| {
                    let mut binders = vec![binder(None, "i")];
                    if two {
                        binders.push(binder(None, "j"));
                    }
                    ex(ExprKind::Reduce { op, binders, filter: filter.map(Box::new), body: Some(Box::new(body)) })
                }
            ),
            // `count` has no body; with two binders it needs a filter to parse back as binders.
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(lo, hi, filter)| ex(ExprKind::Reduce {
                op: ReduceOp::Count,
                binders: vec![binder(Some((lo, hi)), "k"), binder(None, "j")],
                filter: Some(Box::new(filter)),
                body: None
            })),
        ]
    })
}

fn file() -> impl Strategy<Value = ast::File> {
    let doc = prop::option::of("[a-zA-Z0-9 ,.]{0,20}");
    let member = prop_oneof![
        (doc.clone(), expr(), prop::option::of((expr(), expr()))).prop_map(|(doc, value, range)| {
            ast::Member::Let(ast::LetDef {
                doc,
                name: id("v"),
                index: range.map(|r| binder(Some(r), "k")),
                value,
                span: Span::default(),
            })
        }),
        (doc.clone(), "[A-Z0-9]{4}", expr()).prop_map(|(doc, tag, value)| {
            ast::Member::Feature(ast::FeatureDef {
                doc,
                name: id("f"),
                tag,
                tag_span: Span::default(),
                value,
                span: Span::default(),
            })
        }),
    ];
    (doc, prop::collection::vec(member, 0..4)).prop_map(|(doc, members)| ast::File {
        families: vec![ast::Family {
            doc,
            overrides: None,
            name: id("fam"),
            source: id("cm"),
            args: vec![ast::SourceArg {
                name: id("distance"),
                value: ast::Literal::Number(1.0),
                span: Span::default(),
            }],
            aggregations: Vec::new(),
            members,
            span: Span::default(),
        }],
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn printing_then_parsing_gives_the_same_ast(f in file()) {
        let text = f.to_string();
        let parsed = parser::parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        prop_assert!(parsed.same_shape(&f), "round trip changed the AST:\n{}\n{}", text, parsed);
    }

    #[test]
    fn printing_then_parsing_an_expression_is_stable(e in expr()) {
        let text = e.to_string();
        let parsed = parser::parse_expr(&text).map_err(|d| TestCaseError::fail(format!("{d:?}\n{text}")))?;
        prop_assert!(parsed.same_shape(&e), "{} reparsed as {}", text, parsed);
    }
}

// ---------------------------------------------------- 2./3. evaluator vs interpreter

/// Random feature text over `cm`, well scoped by construction. `vars` are the index
/// variables in scope (each over the grey-level axis, or `k` over pd's range).
fn scalar_expr(depth: u32) -> BoxedStrategy<String> {
    let leafs = prop_oneof![
        (0u32..10).prop_map(|v| v.to_string()),
        Just("Ng".to_string()),
        Just("mu".to_string()),
        Just("h".to_string()),
    ];
    if depth == 0 {
        return leafs.boxed();
    }
    let sub = scalar_expr(depth - 1);
    prop_oneof![
        leafs,
        (sub.clone(), arith_op(), sub.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
        (sub.clone(), sub.clone(), sub.clone()).prop_map(|(c, a, b)| format!("(if {c} > 2 then {a} else {b})")),
        sub.clone().prop_map(|a| format!("sqrt(abs({a}))")),
        sub.clone().prop_map(|a| format!("log2(1 + abs({a}))")),
        (reduction_op(), pair_expr(depth - 1), prop::option::of(pair_expr(depth - 1))).prop_map(
            |(op, body, filter)| match filter {
                Some(f) => format!("{op}(i, j where {f} > 1, p[i,j] * {body})"),
                None => format!("{op}(i, j, p[i,j] * {body})"),
            }
        ),
        (reduction_op(), pair_expr(depth - 1)).prop_map(|(op, body)| format!("{op}(i, {op}(j, p[j,i] * {body}))")),
        (reduction_op(), diff_expr(depth - 1)).prop_map(|(op, body)| format!("{op}(k, pd[k] * {body})")),
        pair_expr(depth - 1).prop_map(|f| format!("count(i, j where p[i,j] + {f} > 1)")),
        Just("argmax(i, px[i])".to_string()),
        Just("argmin(k, pd[k])".to_string()),
    ]
    .boxed()
}

fn arith_op() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["+", "-", "*", "<", ">=", "==", "&&"])
}

fn reduction_op() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["sum", "sum", "mean", "max", "min", "prod"])
}

/// Expressions with `i` and `j` bound.
fn pair_expr(depth: u32) -> BoxedStrategy<String> {
    let leafs = prop_oneof![
        Just("p[i,j]".to_string()),
        Just("p[j,i]".to_string()),
        Just("i".to_string()),
        Just("j".to_string()),
        Just("px[i]".to_string()),
        Just("px[j]".to_string()),
        Just("py[i]".to_string()),
        (0u32..5).prop_map(|v| v.to_string()),
        Just("mu".to_string()),
    ];
    if depth == 0 {
        return leafs.boxed();
    }
    let sub = pair_expr(depth - 1);
    prop_oneof![
        leafs,
        (sub.clone(), arith_op(), sub.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
        (sub.clone(), sub.clone()).prop_map(|(a, b)| format!("({a} / (1 + abs({b})))")),
        sub.clone().prop_map(|a| format!("({a})^2")),
        (sub.clone(), sub.clone(), sub.clone()).prop_map(|(c, a, b)| format!("(if {c} > 1 then {a} else {b})")),
        sub.clone().prop_map(|a| format!("log2(1 + abs({a}))")),
        scalar_expr(depth - 1),
    ]
    .boxed()
}

/// Expressions with `k` bound over pd's range.
fn diff_expr(depth: u32) -> BoxedStrategy<String> {
    let leafs = prop_oneof![Just("pd[k]".to_string()), Just("k".to_string()), Just("ps2[k]".to_string())];
    if depth == 0 {
        return leafs.boxed();
    }
    let sub = diff_expr(depth - 1);
    prop_oneof![
        leafs,
        (sub.clone(), arith_op(), sub.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
        (sub.clone(), scalar_expr(depth - 1)).prop_map(|(a, s)| format!("({a} * {s})")),
    ]
    .boxed()
}

fn family_text(features: &[String]) -> String {
    let mut t = String::from(
        "family r over cm {\n  let px[i] = sum(j, p[i,j])\n  let py[j] = sum(i, p[i,j] * i)\n  let mu = sum(i, i * px[i])\n  \
         let h = max(i, j where p[i,j] > 0.3, p[i,j] * i)\n  \
         let pd[k in 0..Ng - 1] = sum(i, j where abs(i - j) == k, p[i,j])\n  \
         let ps2[k in 0..Ng - 1] = sum(i, j where abs(i - j) == k && p[i,j] > 0.2, i * p[i,j])\n",
    );
    for (n, f) in features.iter().enumerate() {
        t.push_str(&format!("  feature f{n} \"T{n:03}\" = {f}\n"));
    }
    t.push_str("}\n");
    t
}

/// Cells are sixteenths: sums and products of them are exact in any order, so a feature
/// comparing two sums that are equal in exact arithmetic (`sum(i, j, p) < sum(j, i, p)`)
/// gets the same answer from the compiled evaluator, which may sum in another order, and
/// from the interpreter. With arbitrary reals such a comparison flipped on the last bit.
fn matrix() -> impl Strategy<Value = (usize, Vec<f64>)> {
    (1usize..7).prop_flat_map(|ng| {
        let cell = prop_oneof![Just(0.0), (1u32..16).prop_map(|k| f64::from(k) / 16.0), (0u32..4).prop_map(f64::from)];
        (Just(ng), prop::collection::vec(cell, ng * ng))
    })
}

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= 1e-7 * (1.0 + a.abs() + b.abs())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn compiled_evaluator_equals_interpreter(
        features in prop::collection::vec(scalar_expr(3), 1..6),
        (ng, cells) in matrix(),
    ) {
        let text = family_text(&features);
        let registry = crate::common::standard_registry();
        let file = compile("random.radx", &text, &registry)
            .map_err(|d| TestCaseError::fail(format!("{d}\n{text}")))?;
        let fam = &file.families()[0];
        let data = SourceData::new()
            .with_axis("level", (1..=ng).map(|l| l as f64).collect())
            .with_array("p", vec![ng, ng], cells)
            .with_scalar("Ng", ng as f64);
        let fast = fam.evaluate(&data, &NoBuiltins).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let slow = interp::interpret(fam, &registry, &data, &NoBuiltins)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (f, s) in fast.iter().zip(&slow) {
            prop_assert!(close(f.value, s.value), "{}: compiled {} vs interpreted {}\n{}", f.name, f.value, s.value, text);
        }
        // Determinism: the same plan on the same data gives bit-identical results.
        let again = fam.evaluate(&data, &NoBuiltins).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (a, b) in fast.iter().zip(&again) {
            prop_assert_eq!(a.value.to_bits(), b.value.to_bits());
        }
    }
}

// ------------------------------------------ 4. long rows (split into blocks by the evaluator)

/// Sources whose innermost axis is longer than the evaluator's row block (2 048): zone
/// sizes up to 6 000 and up to 7 000 ROI voxels, so rows are split at arbitrary offsets.
/// (`row` declared before `col` puts the size axis innermost in their fused pass, so `col`
/// is summed into a vector along the split rows.)
fn long_sources() -> impl Strategy<Value = (usize, usize, u64)> {
    (1usize..4, 1usize..6000, any::<u64>())
}

const LONG_ROW_FEATURES: &str = "
family z over szm {
  let row[i] = sum(j, s[i,j] * j)
  let col[j] = sum(i, s[i,j])
  let total = sum(i, j, s[i,j])
  feature a \"T000\" = sum(i, j, s[i,j] * j^2) / total
  feature b \"T001\" = mean(i, j where s[i,j] > 1, s[i,j] / j)
  feature c \"T002\" = argmax(j, col[j])
  feature d \"T003\" = argmin(j, col[j] + j)
  feature e \"T004\" = max(i, j, s[i,j] * i + j / 7)
  feature f \"T005\" = sum(i, row[i]^2) / total
  feature g \"T006\" = sum(j, col[j] * log2(j)) + count(i, j where s[i,j] == 0)
}
family v over ih {
  let cnt[l in 1..Ng] = sum(k where x[k] == l, 1)
  let mu = mean(k, x[k])
  feature a \"T100\" = mean(k, (x[k] - mu)^2)
  feature b \"T101\" = percentile(x, 30) + median(x)
  feature c \"T102\" = mean(k where x[k] > 2, x[k]^2)
  feature d \"T103\" = sum(l in 1..Ng, cnt[l] * l) / N + sum(l, h[l] * l)
  feature e \"T104\" = max(k, x[k] * k) - min(k, x[k] - k)
  feature f \"T105\" = argmax(k, x[k] + k / 100000)
}
";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn long_rows_evaluate_as_interpreted((ng, m, seed) in long_sources()) {
        let mut state = seed | 1;
        let mut next = |modulus: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % modulus) as f64
        };
        let registry = crate::common::standard_registry();
        let file = compile("long.radx", LONG_ROW_FEATURES, &registry).map_err(|d| TestCaseError::fail(d.to_string()))?;
        let zones = SourceData::new()
            .with_axis("level", (1..=ng).map(|l| l as f64).collect())
            .with_axis("size", (1..=m).map(|j| j as f64).collect())
            .with_array("s", vec![ng, m], (0..ng * m).map(|_| next(4)).collect())
            .with_scalar("Ng", ng as f64)
            .with_scalar("Nv", 1.0)
            .with_scalar("Ns", 1.0);
        let n = m + 1000;
        let x: Vec<f64> = (0..n).map(|_| 1.0 + next(ng as u64 + 2)).collect();
        let levels = ng + 2;
        let histogram = (1..=levels).map(|l| x.iter().filter(|&&v| v == l as f64).count() as f64).collect();
        let voxels = SourceData::new()
            .with_axis("voxel", (1..=n).map(|k| k as f64).collect())
            .with_axis("level", (1..=levels).map(|l| l as f64).collect())
            .with_array("x", vec![n], x)
            .with_array("h", vec![levels], histogram)
            .with_scalar("N", n as f64)
            .with_scalar("Ng", levels as f64);
        for (fam, data) in file.families().iter().zip([&zones, &voxels]) {
            let fast = fam.evaluate(data, &NoBuiltins).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let slow = interp::interpret(fam, &registry, data, &NoBuiltins)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (f, s) in fast.iter().zip(&slow) {
                prop_assert!(close(f.value, s.value), "{} (m = {m}): compiled {} vs interpreted {}", f.name, f.value, s.value);
            }
        }
    }
}

// ---------------------------------------------------------------- 4. sorted values

/// An entry of a percentile's input: mostly whole numbers in a small range (CT intensities,
/// grey levels, which are sorted by counting), sometimes one that sends the sort back to a
/// comparison sort (a fraction, −0, NaN, an infinity, a whole number too large to count or
/// too far from the others).
/// `sorted_without_nan(values)` bit for bit as a comparison sort by `total_cmp` of the
/// non-NaN values (which puts −0 below +0).
fn sorts_as_total_cmp(values: &[f64]) -> Result<(), TestCaseError> {
    let mut want: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    want.sort_unstable_by(f64::total_cmp);
    let got = radx_dsl::linalg::sorted_without_nan(values);
    prop_assert_eq!(
        got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    Ok(())
}

fn percentile_entry() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => (-40i32..40).prop_map(f64::from),
        1 => prop::sample::select(vec![0.5, -0.0, 0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, 9.0e15, 1.0e6]),
    ]
}

proptest! {
    /// Percentiles sort their input without NaN: bit for bit as a comparison sort by
    /// `total_cmp` (which puts −0 below +0), whichever way the values are sorted.
    #[test]
    fn sorted_values_match_a_comparison_sort(values in prop::collection::vec(percentile_entry(), 0..300)) {
        sorts_as_total_cmp(&values)?;
    }
}

/// Any `f64` (NaN, ±0, subnormals, infinities) or a filtered image's kind of value: a fraction
/// near a few hundred, with repeats.
fn radix_entry() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => prop::num::f64::ANY,
        2 => -300.0f64..300.0,
        1 => prop::sample::select(vec![0.5, -0.0, 0.0, f64::NAN, -f64::NAN, f64::MIN_POSITIVE, -5e-324, 2.5]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Arrays long enough to be radix-sorted come out bit for bit as a comparison sort by
    /// `total_cmp` gives them.
    #[test]
    fn long_arrays_sort_as_total_cmp_does(values in prop::collection::vec(radix_entry(), 2048..6000)) {
        sorts_as_total_cmp(&values)?;
    }
}
