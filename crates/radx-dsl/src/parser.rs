//! Text → [`ast::File`](crate::ast::File): a guarded pest parse (grammar in `grammar/radx.pest`), then a
//! PrattParser fold of the flat operator sequences into a span-carrying tree.
//!
//! Hostile input never overflows the stack or hangs: before pest sees the text, a linear
//! pre-scan rejects files over [`MAX_FILE_BYTES`], bracket/`if` nesting deeper than
//! [`MAX_DEPTH`] and statements with more than [`MAX_OPERATORS`] operators (right-associative
//! `^` chains and the tree walks after parsing recurse once per operator).

use crate::ast::*;
use crate::diag::{Diagnostic, ErrorKind};
use crate::expect::{ExpectTarget, Expectation, SettingValue, TestBlock, TestItem, TestSetting};
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::OnceLock;

#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/radx.pest"]
struct RadxParser;

/// Largest accepted file.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest accepted nesting of brackets and `if` expressions.
pub const MAX_DEPTH: usize = 256;
/// Most operators accepted in one `let` or `feature`.
pub const MAX_OPERATORS: usize = 4096;

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
            .op(Op::prefix(Rule::op_neg) | Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_pow, Assoc::Right))
    })
}

/// Human names of grammar rules for "expected …" messages.
fn rule_name(rule: &Rule) -> String {
    match rule {
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::number | Rule::signed_number => "a number",
        Rule::string => "a quoted string",
        Rule::expr | Rule::paren | Rule::if_expr | Rule::reduction | Rule::named | Rule::kw_if | Rule::reduce_op => {
            "an expression"
        }
        Rule::call => "`(`",
        Rule::indexed => "`[`",
        Rule::kw_family | Rule::family => "`family`",
        Rule::kw_test | Rule::test_block => "`test`",
        Rule::kw_expect | Rule::expect_line => "`expect`",
        Rule::expect_target => "a feature name",
        Rule::test_setting => "a test setting",
        Rule::plus_minus => "`±` (or `+-`)",
        Rule::kw_override => "`override`",
        Rule::kw_for | Rule::for_clause => "`for`",
        Rule::aggregation => "an aggregation (`2d_avg`, `3d_mrg`, …)",
        Rule::field => "`.`",
        Rule::kw_over => "`over`",
        Rule::kw_let | Rule::let_def => "`let`",
        Rule::kw_feature | Rule::feature_def => "`feature`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_where | Rule::filter => "`where`",
        Rule::kw_in => "`in`",
        Rule::source_args => "`(`",
        Rule::source_arg => "a parameter `name = value`",
        Rule::let_index => "`[`",
        Rule::body => "`,` and a body",
        Rule::doc => "a doc comment",
        Rule::op_or | Rule::op_and | Rule::op_eq | Rule::op_ne | Rule::op_le | Rule::op_ge | Rule::op_lt => {
            "an operator"
        }
        Rule::op_gt | Rule::op_add | Rule::op_sub | Rule::op_mul | Rule::op_div | Rule::op_pow => "an operator",
        Rule::op_neg | Rule::op_not => "an expression",
        Rule::binder_first | Rule::binder_more => "an index variable",
        Rule::range => "a range `lo..hi`",
        Rule::boolean => "`true` or `false`",
        Rule::assign => "`=`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::comma => "`,`",
        Rule::dots => "`..`",
        other => return format!("{other:?}"),
    }
    .to_string()
}

/// Linear pre-scan for the structural limits described in the module doc.
#[allow(clippy::result_large_err)] // cold path, once per file
fn prescan(text: &str) -> Result<(), Diagnostic> {
    if text.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::new(
            ErrorKind::FileTooLarge { size: text.len(), limit: MAX_FILE_BYTES },
            Span::new(0, 0),
            "file starts here",
        )
        .with_help("feature files are small; is this the right file?"));
    }
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut ifs_in_statement = 0usize;
    let mut operators = 0usize;
    let mut i = 0;
    let word_at = |i: usize, w: &[u8]| {
        bytes[i..].starts_with(w)
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
            && bytes.get(i + w.len()).is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
    };
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'+' | b'-' | b'*' | b'/' | b'^' | b'<' | b'>' | b'=' | b'!' | b'&' | b'|' | b',' => operators += 1,
            _ => {}
        }
        let statement_start = [&b"let"[..], b"feature", b"family", b"test", b"expect"];
        if statement_start.iter().any(|w| word_at(i, w)) {
            ifs_in_statement = 0;
            operators = 0;
        } else if word_at(i, b"if") {
            ifs_in_statement += 1;
        }
        if depth + ifs_in_statement > MAX_DEPTH {
            return Err(Diagnostic::new(ErrorKind::TooDeep { limit: MAX_DEPTH }, Span::new(i, i + 1), "too deep here")
                .with_help("split the expression with `let` bindings"));
        }
        if operators > MAX_OPERATORS {
            return Err(Diagnostic::new(
                ErrorKind::TooComplex { limit: MAX_OPERATORS },
                Span::new(i, i + 1),
                "limit reached here",
            )
            .with_help("split the expression with `let` bindings"));
        }
        i += 1;
    }
    Ok(())
}

/// Parses a whole file's families (its `test` blocks are parsed, checked for syntax and
/// dropped: see [`parse_document`]). Errors are returned as diagnostics (syntax errors stop
/// at the first).
pub fn parse(text: &str) -> Result<File, Vec<Diagnostic>> {
    parse_document(text).map(|d| d.file)
}

/// A file's families and its `test` blocks, each in the order written.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub file: File,
    pub tests: Vec<TestBlock>,
}

/// Parses a whole file, `test` blocks included.
pub fn parse_document(text: &str) -> Result<Document, Vec<Diagnostic>> {
    prescan(text).map_err(|d| vec![d])?;
    let mut pairs = RadxParser::parse(Rule::file, text).map_err(|e| vec![syntax_error(e)])?;
    let file = pairs.next().expect("the file rule always yields one pair");
    let errors = std::cell::RefCell::new(Vec::new());
    let mut families = Vec::new();
    let mut tests = Vec::new();
    for pair in file.into_inner() {
        match pair.as_rule() {
            Rule::family => families.push(build_family(pair, &mut errors.borrow_mut())),
            Rule::test_block => {
                let mut inner = pair.clone().into_inner().peekable();
                let doc = take_docs(&mut inner);
                let read_number = |t: &str, span| number(t, span, &mut errors.borrow_mut());
                tests.push(build_test(pair, doc, read_number));
            }
            _ => {}
        }
    }
    let errors = errors.into_inner();
    if errors.is_empty() { Ok(Document { file: File { families }, tests }) } else { Err(errors) }
}

/// Parses one expression (used by tests and the REPL-style tools).
pub fn parse_expr(text: &str) -> Result<Expr, Vec<Diagnostic>> {
    prescan(text).map_err(|d| vec![d])?;
    let wrapped = format!("family x over y {{ let e = {text}\n}}");
    let file = parse(&wrapped)?;
    match file.families.into_iter().next().and_then(|f| f.members.into_iter().next()) {
        Some(Member::Let(l)) => Ok(l.value),
        _ => Err(vec![Diagnostic::new(ErrorKind::Syntax("expected an expression".into()), Span::new(0, 0), "here")]),
    }
}

fn syntax_error(e: pest::error::Error<Rule>) -> Diagnostic {
    // Not `renamed_rules`: it formats pest's own list, which names every alternative tried
    // (thirteen times "an operator"); the list below is deduplicated.
    let (start, end) = match e.location {
        pest::error::InputLocation::Pos(p) => (p, p),
        pest::error::InputLocation::Span((s, t)) => (s, t),
    };
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, negatives } => {
            let mut pos: Vec<String> = positives.iter().map(rule_name).collect();
            pos.sort();
            pos.dedup();
            if !pos.is_empty() {
                format!("expected {}", join_or(&pos))
            } else if !negatives.is_empty() {
                let neg: Vec<String> = negatives.iter().map(rule_name).collect();
                format!("unexpected {}", join_or(&neg))
            } else {
                "unexpected input".to_string()
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let help = if message.contains("a name") {
        Some("names start with a letter or `_`; keywords such as `sum`, `if`, `in` cannot be names".to_string())
    } else {
        None
    };
    let mut d = Diagnostic::new(ErrorKind::Syntax(message), Span::new(start, end.max(start)), "here");
    if let Some(h) = help {
        d = d.with_help(h);
    }
    d
}

fn join_or(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident { name: pair.as_str().to_string(), span: span_of(&pair) }
}

fn take_docs(pairs: &mut std::iter::Peekable<Pairs<'_, Rule>>) -> Option<String> {
    let mut lines = Vec::new();
    while let Some(p) = pairs.peek() {
        if p.as_rule() != Rule::doc {
            break;
        }
        let p = pairs.next().expect("peeked");
        let text = p.into_inner().next().map_or("", |t| t.as_str());
        lines.push(text.to_string());
    }
    if lines.is_empty() { None } else { Some(lines.join("\n")) }
}

fn number(text: &str, span: Span, errors: &mut Vec<Diagnostic>) -> f64 {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => v,
        _ => {
            errors.push(
                Diagnostic::new(ErrorKind::BadNumber { text: truncate(text) }, span, "out of range")
                    .with_help("numbers must lie within ±1.8e308"),
            );
            0.0
        }
    }
}

fn truncate(text: &str) -> String {
    if text.len() > 24 { format!("{}…", &text[..24]) } else { text.to_string() }
}

fn build_family(pair: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Family {
    let span = span_of(&pair);
    let mut inner = pair.into_inner().peekable();
    let doc = take_docs(&mut inner);
    let mut name = None;
    let mut source = None;
    let mut args = Vec::new();
    let mut members = Vec::new();
    let (mut overrides, mut aggregations) = (None, Vec::new());
    for p in inner {
        match p.as_rule() {
            Rule::kw_override => overrides = Some(span_of(&p)),
            Rule::for_clause => {
                aggregations = p.into_inner().filter(|a| a.as_rule() == Rule::aggregation).map(ident).collect();
            }
            Rule::ident if name.is_none() => name = Some(ident(p)),
            Rule::ident => source = Some(ident(p)),
            Rule::source_args => {
                for a in p.into_inner() {
                    let aspan = span_of(&a);
                    let mut it = a.into_inner().filter(|p| p.as_rule() != Rule::assign);
                    let (Some(n), Some(v)) = (it.next(), it.next()) else { continue };
                    let value = match v.as_rule() {
                        Rule::boolean => Literal::Bool(v.as_str() == "true"),
                        Rule::string => Literal::Str(v.into_inner().next().map_or("", |t| t.as_str()).to_string()),
                        _ => Literal::Number(number(v.as_str(), span_of(&v), errors)),
                    };
                    args.push(SourceArg { name: ident(n), value, span: aspan });
                }
            }
            Rule::let_def => members.push(Member::Let(build_let(p, errors))),
            Rule::feature_def => members.push(Member::Feature(build_feature(p, errors))),
            _ => {}
        }
    }
    let missing = || Ident { name: String::new(), span };
    Family {
        doc,
        overrides,
        name: name.unwrap_or_else(missing),
        source: source.unwrap_or_else(missing),
        args,
        aggregations,
        members,
        span,
    }
}

fn build_let(pair: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> LetDef {
    let span = span_of(&pair);
    let mut inner = pair.into_inner().peekable();
    let doc = take_docs(&mut inner);
    let mut name = None;
    let mut index = None;
    let mut value = None;
    for p in inner {
        match p.as_rule() {
            Rule::ident => name = Some(ident(p)),
            Rule::let_index => index = Some(build_binder(p, errors)),
            Rule::expr => value = Some(build_expr(p, errors)),
            _ => {}
        }
    }
    LetDef {
        doc,
        name: name.unwrap_or(Ident { name: String::new(), span }),
        index,
        value: value.unwrap_or(Expr { kind: ExprKind::Number(0.0), span }),
        span,
    }
}

fn build_feature(pair: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> FeatureDef {
    let span = span_of(&pair);
    let mut inner = pair.into_inner().peekable();
    let doc = take_docs(&mut inner);
    let mut name = None;
    let mut tag = (String::new(), span);
    let mut value = None;
    for p in inner {
        match p.as_rule() {
            Rule::ident => name = Some(ident(p)),
            Rule::string => {
                let s = span_of(&p);
                tag = (p.into_inner().next().map_or("", |t| t.as_str()).to_string(), s);
            }
            Rule::expr => value = Some(build_expr(p, errors)),
            _ => {}
        }
    }
    FeatureDef {
        doc,
        name: name.unwrap_or(Ident { name: String::new(), span }),
        tag: tag.0,
        tag_span: tag.1,
        value: value.unwrap_or(Expr { kind: ExprKind::Number(0.0), span }),
        span,
    }
}

/// `binder_first`, `binder_more` and `let_index` all hold `ident (in range)?`.
fn build_binder(pair: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Binder {
    let span = span_of(&pair);
    let mut name = Ident { name: String::new(), span };
    let mut range = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::ident => name = ident(p),
            Rule::range => {
                let mut it = p.into_inner().filter(|q| q.as_rule() == Rule::expr);
                if let (Some(lo), Some(hi)) = (it.next(), it.next()) {
                    range = Some((Box::new(build_expr(lo, errors)), Box::new(build_expr(hi, errors))));
                }
            }
            _ => {}
        }
    }
    Binder { name, range, span }
}

fn build_expr(pair: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Expr {
    // The Pratt closures each need the error sink; a RefCell lets them share it.
    let errs = std::cell::RefCell::new(std::mem::take(errors));
    let e = pratt()
        .map_primary(|p| build_primary(p, &mut errs.borrow_mut()))
        .map_prefix(|op, rhs| {
            let span = Span::new(op.as_span().start(), rhs.span.end);
            let u = if op.as_rule() == Rule::op_neg { UnOp::Neg } else { UnOp::Not };
            Expr { kind: ExprKind::Unary(u, Box::new(rhs)), span }
        })
        .map_infix(|lhs, op, rhs| {
            let b = match op.as_rule() {
                Rule::op_or => BinOp::Or,
                Rule::op_and => BinOp::And,
                Rule::op_eq => BinOp::Eq,
                Rule::op_ne => BinOp::Ne,
                Rule::op_lt => BinOp::Lt,
                Rule::op_le => BinOp::Le,
                Rule::op_gt => BinOp::Gt,
                Rule::op_ge => BinOp::Ge,
                Rule::op_add => BinOp::Add,
                Rule::op_sub => BinOp::Sub,
                Rule::op_mul => BinOp::Mul,
                Rule::op_div => BinOp::Div,
                _ => BinOp::Pow,
            };
            let span = Span::new(lhs.span.start, rhs.span.end);
            Expr { kind: ExprKind::Binary(b, Box::new(lhs), Box::new(rhs)), span }
        })
        .parse(pair.into_inner());
    *errors = errs.into_inner();
    e
}

fn build_primary(pair: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Expr {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::number => ExprKind::Number(number(pair.as_str(), span, errors)),
        Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
        Rule::paren => {
            let inner = pair.into_inner().find(|p| p.as_rule() == Rule::expr).expect("paren holds an expr");
            let mut e = build_expr(inner, errors);
            e.span = span;
            return e;
        }
        Rule::if_expr => {
            let mut exprs = pair.into_inner().filter(|p| p.as_rule() == Rule::expr).map(|p| build_expr(p, errors));
            let (c, t, o) = (exprs.next(), exprs.next(), exprs.next());
            match (c, t, o) {
                (Some(c), Some(t), Some(o)) => {
                    ExprKind::If { cond: Box::new(c), then: Box::new(t), otherwise: Box::new(o) }
                }
                _ => ExprKind::Number(0.0),
            }
        }
        Rule::named => {
            let mut it = pair.into_inner();
            let name = ident(it.next().expect("a named operand starts with its name"));
            match it.next() {
                None => ExprKind::Name(name),
                Some(args) if args.as_rule() == Rule::indexed => ExprKind::Index {
                    array: name,
                    indices: args.into_inner().filter(|p| p.as_rule() == Rule::ident).map(ident).collect(),
                },
                Some(field) if field.as_rule() == Rule::field => match field.into_inner().next() {
                    Some(feature) => ExprKind::Ref { family: name, feature: ident(feature) },
                    None => ExprKind::Name(name),
                },
                Some(args) => ExprKind::Call {
                    func: name,
                    args: args
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::expr)
                        .map(|p| build_expr(p, errors))
                        .collect(),
                },
            }
        }
        Rule::reduction => {
            let mut op = ReduceOp::Sum;
            let mut binders = Vec::new();
            let mut filter = None;
            let mut body = None;
            for p in pair.into_inner() {
                match p.as_rule() {
                    Rule::reduce_op => op = ReduceOp::from_name(p.as_str()).unwrap_or(ReduceOp::Sum),
                    Rule::binder_first | Rule::binder_more => binders.push(build_binder(p, errors)),
                    Rule::filter => {
                        if let Some(e) = p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                            filter = Some(Box::new(build_expr(e, errors)));
                        }
                    }
                    Rule::body => {
                        if let Some(e) = p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                            body = Some(Box::new(build_expr(e, errors)));
                        }
                    }
                    _ => {}
                }
            }
            ExprKind::Reduce { op, binders, filter, body }
        }
        _ => ExprKind::Number(0.0),
    };
    Expr { kind, span }
}

// ------------------------------------------------------------------ test blocks

/// The text of a `string` pair without its quotes.
fn string_text(pair: Pair<'_, Rule>) -> String {
    pair.into_inner().next().map_or("", |t| t.as_str()).to_string()
}

/// A `test_block` pair → [`TestBlock`](crate::expect::TestBlock); `doc` are its `##` lines (taken by the parser).
fn build_test(pair: Pair<'_, Rule>, doc: Option<String>, number: impl Fn(&str, Span) -> f64 + Copy) -> TestBlock {
    let span = span_of(&pair);
    let mut block = TestBlock { doc, name: String::new(), name_span: span, items: Vec::new(), span };
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::string => {
                block.name_span = span_of(&p);
                block.name = string_text(p);
            }
            Rule::test_setting => block.items.push(TestItem::Setting(build_setting(p, number))),
            Rule::expect_line => block.items.push(TestItem::Expect(build_expect(p, number))),
            _ => {}
        }
    }
    block
}

fn build_setting(pair: Pair<'_, Rule>, number: impl Fn(&str, Span) -> f64) -> TestSetting {
    let span = span_of(&pair);
    let mut key = Ident { name: String::new(), span };
    let mut value = (SettingValue::Number(0.0), span);
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::ident => key = ident(p),
            Rule::string => value = (SettingValue::Str(string_text(p.clone())), span_of(&p)),
            Rule::signed_number => value = (SettingValue::Number(number(p.as_str(), span_of(&p))), span_of(&p)),
            _ => {}
        }
    }
    TestSetting { key, value: value.0, value_span: value.1, span }
}

fn build_expect(pair: Pair<'_, Rule>, number: impl Fn(&str, Span) -> f64) -> Expectation {
    let span = span_of(&pair);
    let missing = Ident { name: String::new(), span };
    let mut target = ExpectTarget { family: None, feature: missing, aggregation: None, span };
    let mut value = (0.0, span);
    let mut tolerance = (0.0, span);
    let mut ascii_plus_minus = false;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::expect_target => target = build_target(p),
            Rule::signed_number => value = (number(p.as_str(), span_of(&p)), span_of(&p)),
            Rule::plus_minus => ascii_plus_minus = p.as_str() == "+-",
            Rule::number => tolerance = (number(p.as_str(), span_of(&p)), span_of(&p)),
            _ => {}
        }
    }
    Expectation {
        target,
        value: value.0,
        value_span: value.1,
        tolerance: tolerance.0,
        tolerance_span: tolerance.1,
        ascii_plus_minus,
        span,
    }
}

/// One name is a feature; two names a family and a feature; a last part starting with a
/// digit is an aggregation (the grammar tells them apart).
fn build_target(pair: Pair<'_, Rule>) -> ExpectTarget {
    let span = span_of(&pair);
    let mut names = Vec::new();
    let mut aggregation = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::ident => names.push(ident(p)),
            Rule::aggregation_name => aggregation = Some(ident(p)),
            _ => {}
        }
    }
    let feature = names.pop().unwrap_or(Ident { name: String::new(), span });
    ExpectTarget { family: names.pop(), feature, aggregation, span }
}
