//! Hostile input gives an error (never a stack overflow or hang), arithmetic edge cases
//! follow IEEE 754, and builtins reach the host or the in-crate implementations.

use radx_dsl::{BuiltinError, BuiltinValue, Builtins, ErrorKind, EvalError, NoBuiltins, SourceData, compile};
use std::time::{Duration, Instant};

fn first_error(text: &str) -> ErrorKind {
    match compile("hostile.radx", text, &crate::common::standard_registry()) {
        Ok(_) => panic!("hostile input compiled"),
        Err(d) => d.items[0].kind.clone(),
    }
}

fn wrap(expr: &str) -> String {
    format!("family g over cm {{\n  feature f \"XXXX\" = {expr}\n}}\n")
}

#[test]
fn deep_parentheses_are_rejected_quickly() {
    let start = Instant::now();
    let expr = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(matches!(first_error(&wrap(&expr)), ErrorKind::TooDeep { .. }));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn deep_if_chains_are_rejected() {
    let expr = format!("{}1{}", "if 1 then ".repeat(100_000), " else 1".repeat(100_000));
    assert!(matches!(first_error(&wrap(&expr)), ErrorKind::TooDeep { .. }));
}

#[test]
fn long_operator_chains_are_rejected() {
    let expr = format!("{}1", "1 ^ ".repeat(100_000));
    assert!(matches!(first_error(&wrap(&expr)), ErrorKind::TooComplex { .. }));
}

#[test]
fn chains_under_the_limit_compile_without_overflowing_the_stack() {
    // 3000 right-associative `^` recurse 3000 deep in the Pratt fold and the checker.
    let expr = format!("{}1", "1 ^ ".repeat(3000));
    let file = compile("ok.radx", &wrap(&expr), &crate::common::standard_registry()).expect("compiles");
    let v = file.families()[0].evaluate(&SourceData::glcm_from_counts(1, &[1.0]), &NoBuiltins).expect("runs");
    assert_eq!(v[0].value, 1.0);
}

#[test]
fn ten_megabytes_of_garbage_is_an_error() {
    let garbage: String = (0usize..10 * 1024 * 1024).map(|k| (b'!' + (k * 7919 % 90) as u8) as char).collect();
    assert!(matches!(first_error(&garbage), ErrorKind::FileTooLarge { .. }));
    // Below the size limit, garbage is a syntax error, found fast.
    let start = Instant::now();
    assert!(matches!(first_error(&garbage[..3 * 1024 * 1024]), ErrorKind::Syntax(_)));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn huge_literals_are_errors() {
    let digits = "9".repeat(400);
    assert!(matches!(first_error(&wrap(&digits)), ErrorKind::BadNumber { .. }));
    let long = "1".repeat(200_000);
    assert!(matches!(first_error(&wrap(&long)), ErrorKind::BadNumber { .. }));
}

#[test]
fn division_by_zero_and_logs_of_zero_follow_ieee() {
    let text = "family g over cm {\n  feature a \"A\" = 1 / (Ng - Ng)\n  feature b \"B\" = (Ng - Ng) / (Ng - Ng)\n  \
                feature c \"C\" = log(Ng - Ng)\n  feature d \"D\" = sqrt(0 - Ng)\n  \
                feature e \"E\" = mean(i where p[i,i] > 5, p[i,i])\n  feature s \"S\" = sum(i where p[i,i] > 5, p[i,i])\n}\n";
    let file = compile("ieee.radx", text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let v = file.families()[0].evaluate(&SourceData::glcm_from_counts(2, &[1.0, 0.0, 0.0, 1.0]), &NoBuiltins).unwrap();
    assert_eq!(v[0].value, f64::INFINITY);
    assert!(v[1].value.is_nan());
    assert_eq!(v[2].value, f64::NEG_INFINITY);
    assert!(v[3].value.is_nan());
    assert!(v[4].value.is_nan(), "empty mean is NaN");
    assert_eq!(v[5].value, 0.0, "empty sum is 0");
}

struct FakeMorphology;
impl Builtins for FakeMorphology {
    fn call(&self, name: &str, args: &[BuiltinValue<'_>]) -> Result<f64, BuiltinError> {
        match (name, args) {
            ("mesh_volume", []) => Ok(556.0),
            ("mesh_area", []) => Ok(388.0),
            _ => Err(BuiltinError::Unknown { name: name.to_string() }),
        }
    }
}

#[test]
fn host_builtins_are_called_and_shared() {
    // IBSI 3.1.3 surface to volume ratio = A / V; digital phantom: 388 / 556 = 0.698 (ref 0.698).
    let text = "family m over morph {\n  feature volume \"RNU0\" = mesh_volume()\n  \
                feature av \"2PR5\" = mesh_area() / mesh_volume()\n}\n";
    let file = compile("morph.radx", text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let v = file.families()[0].evaluate(&SourceData::new(), &FakeMorphology).unwrap();
    assert_eq!(v[0].value, 556.0);
    assert!((v[1].value - 0.698).abs() < 0.0005);
    // A host without the builtin gives a typed error, not a panic.
    let err = file.families()[0].evaluate(&SourceData::new(), &NoBuiltins).unwrap_err();
    assert!(matches!(&err, EvalError::Builtin { source: BuiltinError::NoHost { .. }, .. }), "{err:?}");
    assert_eq!(err.to_string(), "builtin `mesh_volume` failed: the host does not provide `mesh_volume`");
}

#[test]
fn percentiles_and_medians_of_roi_intensities() {
    // x = 1..=10: median 5.5; P10 at h = 9*0.1 = 0.9 → 1 + 0.9 = 1.9; P90 → 9.1.
    let text = "family s over roi {\n  feature median \"Y12H\" = median(x)\n  \
                feature p10 \"QG58\" = percentile(x, 10)\n  feature p90 \"8DWT\" = percentile(x, 90)\n  \
                feature mean_value \"Q4LE\" = mean(k, x[k])\n}\n";
    let file = compile("stats.radx", text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let n = 10;
    let data = SourceData::new()
        .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
        .with_array("x", vec![n], (1..=n).rev().map(|v| v as f64).collect())
        .with_scalar("N", n as f64);
    let v = file.families()[0].evaluate(&data, &NoBuiltins).unwrap();
    assert_eq!(v[0].value, 5.5);
    assert!((v[1].value - 1.9).abs() < 1e-12);
    assert!((v[2].value - 9.1).abs() < 1e-12);
    assert_eq!(v[3].value, 5.5);
}

#[test]
fn mcc_builtin_on_a_diagonal_glcm_is_one() {
    // A diagonal GLCM (perfect dependence) has Q = I, so λ₂ = 1 and MCC = 1.
    let text = "family g over cm {\n  feature mcc \"MCC0\" = glcm_mcc()\n}\n";
    let file = compile("mcc.radx", text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let v = file.families()[0]
        .evaluate(&SourceData::glcm_from_counts(3, &[2., 0., 0., 0., 1., 0., 0., 0., 3.]), &NoBuiltins);
    assert!((v.unwrap()[0].value - 1.0).abs() < 1e-12);
}

#[test]
fn shape_mismatch_is_a_typed_error() {
    let text = "family g over cm {\n  feature m \"GYBY\" = max(i, j, p[i,j])\n}\n";
    let file = compile("g.radx", text, &crate::common::standard_registry()).unwrap();
    let bad = SourceData::glcm_from_counts(2, &[1.0; 4]).with_axis("level", vec![1.0, 2.0, 3.0]);
    let err = file.families()[0].evaluate(&bad, &NoBuiltins).unwrap_err();
    assert!(err.to_string().contains("shape"), "{err}");
}

/// Tags become table cells and column names: a comma, quote, space or newline would split or
/// break a CSV row, so each is refused when compiled, as is an empty or over-long tag
/// (docs/language.md: 1–64 of `[A-Za-z0-9_.-]`).
#[test]
fn tags_outside_the_character_set_are_refused() {
    let feature = |tag: &str| format!("family g over cm {{\n  feature f \"{tag}\" = 1\n}}\n");
    let long = "T".repeat(65);
    for tag in ["MY,01", "A B", "a\tb", "a;b", "", long.as_str(), "é1"] {
        match first_error(&feature(tag)) {
            ErrorKind::BadTag { .. } => {}
            other => panic!("tag {tag:?}: {other:?}"),
        }
    }
    // A newline cannot even be written inside a tag's quotes.
    assert!(compile("nl.radx", &feature("a\nb"), &crate::common::standard_registry()).is_err());
    let fine = "T".repeat(64);
    for tag in ["MY-01.a_b", fine.as_str()] {
        assert!(compile("ok.radx", &feature(tag), &crate::common::standard_registry()).is_ok(), "{tag}");
    }
}
