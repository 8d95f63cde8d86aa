//! `radx fmt` (`radx_dsl::fmt`): formatting is idempotent, keeps every comment and doc
//! line, and keeps the meaning — the same syntax tree, so the same values bit for bit — on
//! random files written in random layouts and on every shipped feature file.

use proptest::prelude::*;
use radx_dsl::ast::SameShape;
use radx_dsl::fmt::format_source;
use radx_dsl::{NoBuiltins, SourceData, compile, parser};

/// The `#` comments of a text (outside doc lines), trimmed, in order.
fn comment_texts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("##") {
            continue;
        }
        // Test files' strings hold no `#`, so the first one starts the comment.
        if let Some(k) = line.find('#') {
            out.push(line[k..].trim_end().to_string());
        }
    }
    out
}

/// The formatter drops trailing spaces, doc lines' too.
fn trim_docs(file: &mut radx_dsl::ast::File) {
    let trim = |doc: &mut Option<String>| {
        if let Some(d) = doc {
            *d = d.split('\n').map(str::trim_end).collect::<Vec<_>>().join("\n");
        }
    };
    for family in &mut file.families {
        trim(&mut family.doc);
        for member in &mut family.members {
            match member {
                radx_dsl::ast::Member::Let(l) => trim(&mut l.doc),
                radx_dsl::ast::Member::Feature(f) => trim(&mut f.doc),
            }
        }
    }
}

/// Formats `text` and checks the three properties; returns the formatted text.
fn check_format(name: &str, text: &str) -> String {
    let once = format_source(text).unwrap_or_else(|e| panic!("{name} does not format: {e:?}"));
    let twice = format_source(&once).unwrap_or_else(|e| panic!("{name} formatted does not parse: {e:?}\n{once}"));
    assert_eq!(once, twice, "{name}: formatting twice changed the text");
    let mut before = parser::parse_document(text).expect("parses");
    let after = parser::parse_document(&once).expect("formatted parses");
    trim_docs(&mut before.file);
    assert!(before.file.same_shape(&after.file), "{name}: formatting changed the syntax tree:\n{once}");
    assert_eq!(before.tests.len(), after.tests.len(), "{name}: test blocks");
    for (a, b) in before.tests.iter().zip(&after.tests) {
        assert_eq!(a.name, b.name);
        let shape = |t: &radx_dsl::expect::TestBlock| {
            t.items
                .iter()
                .map(|i| match i {
                    radx_dsl::expect::TestItem::Setting(s) => format!("{} {:?}", s.key.name, s.value),
                    radx_dsl::expect::TestItem::Expect(e) => {
                        format!("{} {} {}", e.target, e.value.to_bits(), e.tolerance.to_bits())
                    }
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(shape(a), shape(b), "{name}: test block {}", a.name);
    }
    let mut kept = comment_texts(&once);
    let mut written = comment_texts(text);
    kept.sort();
    written.sort();
    assert_eq!(kept, written, "{name}: comments lost or changed:\n{once}");
    once
}

#[test]
fn shipped_feature_files_format_idempotently_and_keep_their_meaning() {
    let root = crate::common::repo_root();
    let mut count = 0;
    for folder in ["features", "features/pyradiomics", "tests/data/ibsi"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(folder))
            .expect("folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "radx"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable");
            check_format(&path.display().to_string(), &text);
            count += 1;
        }
    }
    // 11 IBSI files, 8 PyRadiomics files, the digital phantom's expectations.
    assert_eq!(count, 20);
}

/// The shipped library is written in the canonical layout (`radx fmt --check features`).
#[test]
fn shipped_feature_files_are_formatted() {
    let root = crate::common::repo_root();
    for folder in ["features", "features/pyradiomics", "tests/data/ibsi"] {
        for entry in std::fs::read_dir(root.join(folder)).expect("folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "radx") {
                let text = std::fs::read_to_string(&path).expect("readable");
                let formatted = format_source(&text).expect("formats");
                assert!(formatted == text, "{} is not formatted: run `radx fmt {}`", path.display(), path.display());
            }
        }
    }
}

/// A messy file and its canonical form, worked out by hand from the rules in `fmt.rs`.
#[test]
fn comments_docs_and_blank_lines_land_where_the_rules_say() {
    let messy = "# header comment\n\n\n## Family doc.\nfamily   f over cm( distance=2 ,symmetric = false ) {  # after the brace\n\n\n  \
                 let  px[ i ]=sum( j,p[i , j] )\n# own line, goes above mu\n    let mu = sum(i, i*px[i]) # trailing\n  \
                 ## Doc of g.\n  feature g \"G001\" = (((mu)))+ -(1) ^2 # on g\n   feature h \"G002\" =\n    if mu>1 then \
                 1 else if mu < 0 then 2 else (3)   # on h\n  let w = mu and not mu or !mu # w\n  # before the brace\n}\
                 \n# between\ntest \"t\" {\n image = \"a.nii\"\n   mask=\"b.nii\"  # m\n  expect f.g.3d_avg = -1.5 +- 0.25\n  \
                 expect g=2±1e-3\n}\n# end\n";
    let expected = "# header comment\n\n## Family doc.\nfamily f over cm(distance = 2, symmetric = false) {  # after the brace\n  \
                    let px[i] = sum(j, p[i,j])\n  # own line, goes above mu\n  let mu = sum(i, i * px[i])  # trailing\n  \
                    ## Doc of g.\n  feature g \"G001\" = mu + -1^2  # on g\n  \
                    feature h \"G002\" = if mu > 1 then 1 else if mu < 0 then 2 else 3  # on h\n  \
                    let w = mu and not mu or !mu  # w\n  # before the brace\n}\n\n# between\ntest \"t\" {\n  \
                    image = \"a.nii\"\n  mask = \"b.nii\"  # m\n  expect f.g.3d_avg = -1.5 +- 0.25\n  expect g = 2 ± 1e-3\n}\n\n# end\n";
    let formatted = check_format("messy", messy);
    assert_eq!(formatted, expected);
}

#[test]
fn long_definitions_continue_after_the_equals_and_split_if_chains() {
    let long = "x".repeat(60);
    let text = format!(
        "family f over cm {{\n  let {long} = 1\n  feature a \"A001\" = {long} + {long}\n  \
         feature b \"A002\" = if {long} > 1 then {long} else if {long} < 0 then 0 else 1\n}}\n"
    );
    let expected = format!(
        "family f over cm {{\n  let {long} = 1\n  feature a \"A001\" =\n    {long} + {long}\n  \
         feature b \"A002\" =\n    if {long} > 1 then {long}\n    else if {long} < 0 then 0\n    else 1\n}}\n"
    );
    assert_eq!(check_format("long", &text), expected);
}

#[test]
fn a_comment_inside_a_family_header_moves_to_the_end_of_its_line() {
    let text = "family f over cm(distance = # two\n 2) {\n  let a = 1\n}\n";
    let expected = "family f over cm(distance = 2) {  # two\n  let a = 1\n}\n";
    assert_eq!(check_format("header", text), expected);
}

#[test]
fn a_file_that_does_not_parse_is_not_formatted() {
    assert!(format_source("family f over cm {\n  let x = \n}\n").is_err());
    assert!(format_source("test \"t\" {\n  expect a = 1\n}\n").is_err());
}

#[test]
fn several_comments_inside_one_definition_move_above_it_in_order() {
    let text = "family f over cm {\n  let a = 1 +  # one\n    2 *  # two\n    3\n}\n";
    let expected = "family f over cm {\n  # one\n  # two\n  let a = 1 + 2 * 3\n}\n";
    assert_eq!(check_format("inside", text), expected);
}

// ------------------------------------------------------------ random files, random layouts

/// An expression over `cm` with `i`, `j` unbound (a scalar), built from the constructs of
/// the language: reductions with filters, `if`, calls, prefix and infix operators.
fn scalar(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (0u32..10).prop_map(|v| v.to_string()),
        (0u32..100).prop_map(|v| format!("{}.{}", v / 10, v % 10)),
        Just("Ng".to_string()),
        Just("mu".to_string()),
        Just("(mu)".to_string()),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let sub = scalar(depth - 1);
    prop_oneof![
        leaf,
        (sub.clone(), op(), sub.clone()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
        (sub.clone(), op(), sub.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
        sub.clone().prop_map(|a| format!("-{a}")),
        sub.clone().prop_map(|a| format!("not ({a})")),
        (sub.clone(), sub.clone(), sub.clone()).prop_map(|(c, a, b)| format!("(if {c} > 2 then {a} else {b})")),
        (sub.clone(), sub.clone()).prop_map(|(c, a)| format!("if {c} then {a} else -1")),
        sub.clone().prop_map(|a| format!("sqrt(abs({a}))")),
        sub.clone().prop_map(|a| format!("fmax({a}, 0.5)")),
        (reduce(), pair(depth - 1), prop::option::of(pair(depth - 1))).prop_map(|(r, body, filter)| match filter {
            Some(f) => format!("{r}(i, j where {f} > 1, p[i,j] * {body})"),
            None => format!("{r}(i, j, p[i,j] * {body})"),
        }),
        reduce().prop_map(|r| format!("{r}(k, pd[k] * k)")),
        Just("count(i, j where p[i,j] > 0.1)".to_string()),
    ]
    .boxed()
}

/// An expression with `i` and `j` bound.
fn pair(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("p[i,j]".to_string()),
        Just("i".to_string()),
        Just("j".to_string()),
        Just("px[i]".to_string()),
        (0u32..5).prop_map(|v| v.to_string()),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let sub = pair(depth - 1);
    prop_oneof![
        leaf,
        (sub.clone(), op(), sub.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
        (sub.clone(), op(), sub.clone()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
        sub.clone().prop_map(|a| format!("({a})^2")),
        sub.clone().prop_map(|a| format!("log2(1 + abs({a}))")),
        scalar(depth - 1),
    ]
    .boxed()
}

fn op() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["+", "-", "*", "/", "^", "<", ">=", "==", "!=", "&&", "and", "||", "or"])
}

fn reduce() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["sum", "mean", "max", "min", "prod"])
}

/// Where a space may stand, what may stand instead: more spaces, a line break, a comment.
fn gap() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(" ".to_string()),
        1 => Just("   ".to_string()),
        1 => Just("\n      ".to_string()),
        1 => (0u32..100).prop_map(|n| format!("  # gap {n}\n    ")),
    ]
}

/// `text` with every space replaced by a random gap (spaces only stand between tokens, so
/// any whitespace or comment there reads the same).
fn relayout(text: String) -> impl Strategy<Value = String> {
    let parts: Vec<String> = text.split(' ').map(str::to_string).collect();
    prop::collection::vec(gap(), parts.len().saturating_sub(1)).prop_map(move |gaps| {
        let mut out = parts[0].clone();
        for (g, p) in gaps.iter().zip(&parts[1..]) {
            out.push_str(g);
            out.push_str(p);
        }
        out
    })
}

/// A member line: a `let` or a feature, maybe with a doc line, a comment above or after,
/// and a blank line before.
fn member(n: usize) -> impl Strategy<Value = String> {
    (any::<bool>(), scalar(3), prop::option::of("[a-z ]{1,12}"), 0u8..4).prop_flat_map(
        move |(is_let, e, doc, extra)| {
            let head = if is_let { format!("let v{n} =") } else { format!("feature f{n} \"T{n:03}\" =") };
            relayout(e).prop_map(move |laid| {
                let mut s = String::new();
                if extra == 1 {
                    s.push('\n');
                }
                if extra == 2 {
                    s.push_str(&format!("  # above {n}\n"));
                }
                if let Some(d) = &doc {
                    s.push_str(&format!("  ##{d}\n"));
                }
                s.push_str(&format!("  {head} {laid}"));
                if extra == 3 {
                    s.push_str(&format!("  # after {n}"));
                }
                s.push('\n');
                s
            })
        },
    )
}

fn family_file() -> impl Strategy<Value = String> {
    (prop::collection::vec(any::<u8>(), 1..6), any::<bool>()).prop_flat_map(|(members, header)| {
        let members: Vec<_> = (0..members.len()).map(member).collect();
        members.prop_map(move |ms| {
            let mut t = String::new();
            if header {
                t.push_str("# a random file\n\n");
            }
            t.push_str(
                "## Random features.\nfamily r over cm {\n  let px[i] = sum(j, p[i,j])\n  let mu = sum(i, i * px[i])\n  \
                 let pd[k in 0..Ng - 1] = sum(i, j where abs(i - j) == k, p[i,j])\n",
            );
            for m in &ms {
                t.push_str(m);
            }
            t.push_str("  feature last \"TLST\" = mu\n}\n");
            t
        })
    })
}

fn matrix() -> impl Strategy<Value = (usize, Vec<f64>)> {
    (1usize..6).prop_flat_map(|ng| {
        let cell = prop_oneof![Just(0.0), 0.0f64..1.0, (0u32..4).prop_map(f64::from)];
        (Just(ng), prop::collection::vec(cell, ng * ng))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn formatting_is_idempotent_and_keeps_every_value(text in family_file(), (ng, cells) in matrix()) {
        let formatted = check_format("random", &text);
        let registry = crate::common::standard_registry();
        let original = compile("random.radx", &text, &registry).map_err(|d| TestCaseError::fail(format!("{d}\n{text}")))?;
        let reformatted = compile("random.radx", &formatted, &registry)
            .map_err(|d| TestCaseError::fail(format!("{d}\n{formatted}")))?;
        let data = SourceData::new()
            .with_axis("level", (1..=ng).map(|l| l as f64).collect())
            .with_array("p", vec![ng, ng], cells)
            .with_scalar("Ng", ng as f64);
        let a = original.families()[0].evaluate(&data, &NoBuiltins).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b = reformatted.families()[0].evaluate(&data, &NoBuiltins).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(&x.name, &y.name);
            prop_assert_eq!(x.value.to_bits(), y.value.to_bits(), "{}: {} vs {}\n{}\n{}", x.name, x.value, y.value, text, formatted);
        }
    }
}

/// `override`, `for` and feature references (`family.feature`) are printed as written, in
/// the canonical spacing, and keep the syntax tree.
#[test]
fn overrides_aggregation_lists_and_feature_references_are_formatted() {
    let messy = "override   family glcm over cm(distance=1)   for 3d_avg ,3d_mrg{ # why\n  feature ratio \"R1\" = \
                 glcm.contrast/ intensity_statistics.intensity_variance\n  feature own \"R2\"=( glcm.ratio )*2\n}\n";
    let expected = "override family glcm over cm(distance = 1) for 3d_avg, 3d_mrg {  # why\n  \
                    feature ratio \"R1\" = glcm.contrast / intensity_statistics.intensity_variance\n  \
                    feature own \"R2\" = glcm.ratio * 2\n}\n";
    assert_eq!(check_format("references", messy), expected);
}
