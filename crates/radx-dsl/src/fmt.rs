//! `radx fmt`: the canonical layout of a `.radx` file.
//!
//! The file is parsed (a file that does not parse is never formatted), then printed one
//! *statement* per line: a family's or a test's opening line, each `let`, `feature`, test
//! setting and `expect` (with its `##` doc lines above it), and each closing `}`. Members
//! are indented two spaces; a family or test is separated from the next by one blank line;
//! single blank lines between members are kept (runs of them become one); expressions are
//! printed on one line with single spaces around binary operators and the fewest
//! parentheses that parse back to the same tree; number literals keep their spelling.
//!
//! Comments are not in the syntax tree (the grammar skips them), so they are found in the
//! text and attached by position: a comment alone on its line goes above the first
//! statement that ends after it (or above the closing `}` of its block, or at the end of the
//! file); a comment after code goes at the end of that statement's line (several on one
//! statement — a multi-line expression — go above it instead). Formatting twice gives the
//! same text.
//!
//! New syntax is a new [`Stmt`] source: render it in [`statements`]; comments, blank lines
//! and indentation then follow without further work.

use crate::ast::{BinOp, Binder, Expr, ExprKind, Family, File, Literal, Member, UnOp};
use crate::diag::Diagnostic;
use crate::expect::{Expectation, TestBlock, TestItem, TestSetting};
use crate::parser::parse_document;

/// Indentation of one nesting level.
const INDENT: &str = "  ";

/// A `let` or `feature` longer than this (with its indentation) continues on the next line
/// after its `=`; an `if` still longer there puts its `else` on a line of its own.
pub const MAX_WIDTH: usize = 120;

/// The canonical text of `text`, or the parse errors that leave it alone.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let document = parse_document(text)?;
    let statements = statements(text, &document.file, &document.tests);
    let comments = comments(text);
    Ok(Layout::new(text, statements, comments).render())
}

/// One printed line of code (with its doc lines) and the source range it came from.
#[derive(Debug)]
struct Stmt {
    start: usize,
    end: usize,
    depth: usize,
    kind: StmtKind,
    /// `##` lines, printed above.
    doc: Option<String>,
    /// The code's first line, then continuation lines (printed one level deeper).
    code: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StmtKind {
    /// Opens a top-level item (`family … {`, `test … {`).
    Open,
    /// A member of a block.
    Member,
    /// Closes a block.
    Close,
}

/// Every statement of the file, in source order.
fn statements(text: &str, file: &File, tests: &[TestBlock]) -> Vec<Stmt> {
    let mut out = Vec::new();
    for family in &file.families {
        family_statements(text, family, &mut out);
    }
    for test in tests {
        test_statements(text, test, &mut out);
    }
    out.sort_by_key(|s| s.start);
    out
}

fn family_statements(text: &str, family: &Family, out: &mut Vec<Stmt>) {
    let keyword = if family.overrides.is_some() { "override family" } else { "family" };
    let mut head = format!("{keyword} {} over {}", family.name.name, family.source.name);
    if !family.args.is_empty() {
        let args: Vec<String> = family
            .args
            .iter()
            .map(|a| {
                let value = match &a.value {
                    Literal::Str(s) => format!("\"{s}\""),
                    Literal::Bool(b) => b.to_string(),
                    // The literal as written (`1` stays `1`, not `1.0`): the span's last word,
                    // after the `=` and any comment between them.
                    Literal::Number(_) => {
                        let written = &text[a.span.range()];
                        written.rsplit(|c: char| c.is_whitespace() || c == '=').next().unwrap_or("").to_string()
                    }
                };
                format!("{} = {value}", a.name.name)
            })
            .collect();
        head.push_str(&format!("({})", args.join(", ")));
    }
    if !family.aggregations.is_empty() {
        let names: Vec<&str> = family.aggregations.iter().map(|a| a.name.as_str()).collect();
        head.push_str(&format!(" for {}", names.join(", ")));
    }
    head.push_str(" {");
    let header_end = [family.args.last().map(|a| a.span.end), family.aggregations.last().map(|a| a.span.end)]
        .into_iter()
        .flatten()
        .fold(family.source.span.end, usize::max);
    let open_end = brace_after(text, header_end);
    out.push(Stmt {
        start: family.span.start,
        end: open_end,
        depth: 0,
        kind: StmtKind::Open,
        doc: family.doc.clone(),
        code: vec![head],
    });
    for member in &family.members {
        let (span, doc, code) = match member {
            Member::Let(l) => {
                let index = l.index.as_ref().map_or(String::new(), |b| format!("[{}]", binder(text, b)));
                (l.span, &l.doc, assignment(text, format!("let {}{index} =", l.name.name), &l.value))
            }
            Member::Feature(d) => {
                (d.span, &d.doc, assignment(text, format!("feature {} \"{}\" =", d.name.name, d.tag), &d.value))
            }
        };
        let end = code_end(text, span.start, span.end);
        out.push(Stmt { start: span.start, end, depth: 1, kind: StmtKind::Member, doc: doc.clone(), code });
    }
    out.push(close(family.span.end));
}

fn test_statements(text: &str, test: &TestBlock, out: &mut Vec<Stmt>) {
    out.push(Stmt {
        start: test.span.start,
        end: brace_after(text, test.name_span.end),
        depth: 0,
        kind: StmtKind::Open,
        doc: test.doc.clone(),
        code: vec![format!("test \"{}\" {{", test.name)],
    });
    for item in &test.items {
        let code = vec![match item {
            TestItem::Setting(s) => setting(text, s),
            TestItem::Expect(e) => expectation(text, e),
        }];
        let span = item.span();
        let end = code_end(text, span.start, span.end);
        out.push(Stmt { start: span.start, end, depth: 1, kind: StmtKind::Member, doc: None, code });
    }
    out.push(close(test.span.end));
}

fn close(block_end: usize) -> Stmt {
    Stmt {
        start: block_end.saturating_sub(1),
        end: block_end,
        depth: 0,
        kind: StmtKind::Close,
        doc: None,
        code: vec!["}".into()],
    }
}

/// `head value` on one line if it fits in [`MAX_WIDTH`] at member depth, else broken as the
/// module doc says.
fn assignment(text: &str, head: String, value: &Expr) -> Vec<String> {
    let value_line = expr(text, value, 0);
    let one = format!("{head} {value_line}");
    if INDENT.len() + one.chars().count() <= MAX_WIDTH {
        return vec![one];
    }
    let continued = 2 * INDENT.len();
    if !matches!(value.kind, ExprKind::If { .. }) || continued + value_line.chars().count() <= MAX_WIDTH {
        return vec![head, value_line];
    }
    // An `if` chain: `if c then a`, one `else if c then a` per link, `else z`.
    let mut lines = vec![head];
    let mut link = value;
    let mut keyword = "if";
    while let ExprKind::If { cond, then, otherwise } = &link.kind {
        lines.push(format!("{keyword} {} then {}", expr(text, cond, 1), expr(text, then, 1)));
        keyword = "else if";
        link = otherwise;
    }
    lines.push(format!("else {}", expr(text, link, 0)));
    lines
}

fn setting(text: &str, s: &TestSetting) -> String {
    format!("{} = {}", s.key.name, &text[s.value_span.range()])
}

fn expectation(text: &str, e: &Expectation) -> String {
    let plus_minus = if e.ascii_plus_minus { "+-" } else { "±" };
    format!("expect {} = {} {plus_minus} {}", e.target, &text[e.value_span.range()], &text[e.tolerance_span.range()])
}

/// The end of the code in `start..end`: a parsed span can run on over the whitespace and
/// comments after it (pest skips them before trying an optional part that is absent).
fn code_end(text: &str, start: usize, end: usize) -> usize {
    let mut last = start;
    let (mut in_string, mut in_comment) = (false, false);
    for (k, c) in text[start..end].char_indices() {
        match c {
            '\n' => (in_string, in_comment) = (false, false),
            '#' if !in_string => in_comment = true,
            '"' if !in_comment => in_string = !in_string,
            _ => {}
        }
        if !in_comment && !c.is_whitespace() {
            last = start + k + c.len_utf8();
        }
    }
    last
}

/// The offset just past the first `{` at or after `from` outside a comment (a block's
/// opening brace: its line's trailing comment belongs to the opening statement).
fn brace_after(text: &str, from: usize) -> usize {
    let mut in_comment = false;
    for (k, c) in text[from..].char_indices() {
        match c {
            '#' => in_comment = true,
            '\n' => in_comment = false,
            '{' if !in_comment => return from + k + 1,
            _ => {}
        }
    }
    text.len()
}

// ------------------------------------------------------------------ expressions

/// Binding strength of a printed expression: a child is parenthesised when its own is
/// below what its place needs. `if` is the loosest (its `else` branch extends to the
/// right as far as it can); prefix operators bind tighter than `*` and looser than `^`.
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::If { .. } => 0,
        ExprKind::Binary(op, ..) => binary_precedence(*op),
        ExprKind::Unary(..) => 6,
        _ => 8,
    }
}

fn binary_precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
        BinOp::Add | BinOp::Sub => 4,
        BinOp::Mul | BinOp::Div => 5,
        BinOp::Pow => 7,
    }
}

/// `e` printed where an expression of precedence `need` or higher fits.
fn expr(text: &str, e: &Expr, need: u8) -> String {
    let printed = bare(text, e);
    if precedence(e) < need { format!("({printed})") } else { printed }
}

fn bare(text: &str, e: &Expr) -> String {
    match &e.kind {
        ExprKind::Number(v) => number(text, e, *v),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Name(n) => n.name.clone(),
        ExprKind::Ref { family, feature } => format!("{}.{}", family.name, feature.name),
        ExprKind::Index { array, indices } => {
            let ix: Vec<&str> = indices.iter().map(|i| i.name.as_str()).collect();
            format!("{}[{}]", array.name, ix.join(","))
        }
        ExprKind::Call { func, args } => format!("{}({})", func.name, list(text, args)),
        // `-(-x)` and `!(!x)`, not `--x`; a `^` binds tighter, `-x^2` is `-(x^2)`.
        ExprKind::Unary(op, operand) => {
            let written = between(text, e.span.start, operand.span.start);
            let sign = match op {
                UnOp::Neg => "-",
                UnOp::Not if written == "not" => "not ",
                UnOp::Not => "!",
            };
            format!("{sign}{}", expr(text, operand, 7))
        }
        ExprKind::Binary(op, a, b) => {
            let p = binary_precedence(*op);
            // Left-associative operators take an equal left operand bare and an equal right
            // one in parentheses; `^` (right-associative) the other way round.
            let (left, right) = if *op == BinOp::Pow { (p + 1, p) } else { (p, p + 1) };
            let (a, b) = (expr(text, a, left), expr(text, b, right));
            match op {
                // `^` binds tightest and is written tight: `(i - j)^2 * p[i,j]`.
                BinOp::Pow => format!("{a}^{b}"),
                // The words `and`, `or` are kept where they were written (both spellings are the language's).
                BinOp::And | BinOp::Or => {
                    let word = if *op == BinOp::And { "and" } else { "or" };
                    let written = between(text, e_left_end(e), e_right_start(e));
                    let symbol = if written == word { word } else { op.symbol() };
                    format!("{a} {symbol} {b}")
                }
                _ => format!("{a} {} {b}", op.symbol()),
            }
        }
        ExprKind::If { cond, then, otherwise } => {
            format!("if {} then {} else {}", expr(text, cond, 1), expr(text, then, 1), expr(text, otherwise, 0))
        }
        ExprKind::Reduce { op, binders, filter, body } => {
            let mut s = format!("{}(", op.name());
            let names: Vec<String> = binders.iter().map(|b| binder(text, b)).collect();
            s.push_str(&names.join(", "));
            if let Some(w) = filter {
                s.push_str(&format!(" where {}", expr(text, w, 0)));
            }
            if let Some(b) = body {
                s.push_str(&format!(", {}", expr(text, b, 0)));
            }
            s.push(')');
            s
        }
    }
}

/// The operator text between two operands, without comments and spaces.
fn between(text: &str, from: usize, to: usize) -> &str {
    let Some(gap) = text.get(from..to) else { return "" };
    let code = gap.split('\n').map(|line| line.split('#').next().unwrap_or("")).find(|l| !l.trim().is_empty());
    code.unwrap_or("").trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
}

fn e_left_end(e: &Expr) -> usize {
    match &e.kind {
        ExprKind::Binary(_, a, _) => a.span.end,
        _ => e.span.start,
    }
}

fn e_right_start(e: &Expr) -> usize {
    match &e.kind {
        ExprKind::Binary(_, _, b) => b.span.start,
        _ => e.span.end,
    }
}

fn list(text: &str, items: &[Expr]) -> String {
    items.iter().map(|a| expr(text, a, 0)).collect::<Vec<_>>().join(", ")
}

fn binder(text: &str, b: &Binder) -> String {
    match &b.range {
        Some((lo, hi)) => format!("{} in {}..{}", b.name.name, expr(text, lo, 1), expr(text, hi, 1)),
        None => b.name.name.clone(),
    }
}

/// A number as written (without the parentheses a span may include), so `2` stays `2`; if
/// the text is not the literal itself, the shortest form that reads back the same value.
fn number(text: &str, e: &Expr, v: f64) -> String {
    let written =
        text.get(e.span.range()).unwrap_or("").trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace());
    let is_literal = !written.is_empty() && written.bytes().all(|b| b.is_ascii_digit() || b".eE+-".contains(&b));
    if is_literal
        && written.as_bytes()[0].is_ascii_digit()
        && written.parse::<f64>().is_ok_and(|w| w.to_bits() == v.to_bits())
    {
        return written.to_string();
    }
    let shortest = format!("{v:?}");
    shortest.strip_suffix(".0").map_or(shortest.clone(), str::to_string)
}

// ------------------------------------------------------------------ comments

/// A `#` comment found in the text (`##` lines are doc lines, in the tree).
#[derive(Debug, Clone)]
struct Comment {
    start: usize,
    text: String,
    /// Alone on its line (else after code).
    own_line: bool,
}

/// Every comment, outside string literals (`"#"` is not one).
fn comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut in_string = false;
    let mut line_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                in_string = false;
                line_start = i + 1;
            }
            b'"' => in_string = !in_string,
            b'#' if !in_string => {
                let end = text[i..].find('\n').map_or(text.len(), |k| i + k);
                if !text[i..].starts_with("##") {
                    let own_line = text[line_start..i].trim().is_empty();
                    out.push(Comment { start: i, text: text[i..end].trim_end().to_string(), own_line });
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Whether the line before the one holding `offset` is blank.
fn blank_line_before(text: &str, offset: usize) -> bool {
    let line_start = text[..offset].rfind('\n').map_or(0, |k| k + 1);
    if line_start == 0 {
        return false;
    }
    let previous_start = text[..line_start - 1].rfind('\n').map_or(0, |k| k + 1);
    text[previous_start..line_start - 1].trim().is_empty()
}

/// Statements with their comments attached, ready to print.
struct Layout<'a> {
    text: &'a str,
    statements: Vec<Stmt>,
    /// Per statement: comments printed above it.
    leading: Vec<Vec<Comment>>,
    /// Per statement: the comment printed at the end of its line.
    trailing: Vec<Option<Comment>>,
    /// Comments after the last statement.
    tail: Vec<Comment>,
}

impl<'a> Layout<'a> {
    fn new(text: &'a str, statements: Vec<Stmt>, comments: Vec<Comment>) -> Self {
        let n = statements.len();
        let mut layout =
            Layout { text, statements, leading: vec![Vec::new(); n], trailing: vec![None; n], tail: Vec::new() };
        let mut after_code: Vec<Vec<Comment>> = vec![Vec::new(); n];
        for c in comments {
            if c.own_line {
                match layout.statements.iter().position(|s| s.end > c.start) {
                    Some(k) => layout.leading[k].push(c),
                    None => layout.tail.push(c),
                }
            } else {
                // The statement whose code precedes the comment on its line.
                match layout.statements.iter().rposition(|s| s.start < c.start) {
                    Some(k) => after_code[k].push(c),
                    None => layout.tail.push(c),
                }
            }
        }
        for (k, mut found) in after_code.into_iter().enumerate() {
            if found.len() == 1 {
                layout.trailing[k] = found.pop();
            } else {
                // Several comments inside one statement: above it, in order, after the ones
                // that were already above it.
                layout.leading[k].extend(found);
            }
        }
        layout
    }

    fn render(&self) -> String {
        let mut out = Printer::default();
        for (k, s) in self.statements.iter().enumerate() {
            let indent = &INDENT[..2 * s.depth];
            // Comments above a closing brace stay inside its block.
            let comment_indent = if s.kind == StmtKind::Close { INDENT } else { indent };
            let first_top = k == 0;
            for (n, c) in self.leading[k].iter().enumerate() {
                let blank = if n == 0 && s.kind == StmtKind::Open {
                    !first_top
                } else {
                    c.own_line && blank_line_before(self.text, c.start)
                };
                out.line(blank, comment_indent, &c.text, false);
            }
            let blank = match s.kind {
                StmtKind::Open if self.leading[k].is_empty() => !first_top,
                StmtKind::Open | StmtKind::Member => blank_line_before(self.text, s.start),
                StmtKind::Close => false,
            };
            let mut first = true;
            if let Some(doc) = &s.doc {
                for line in doc.split('\n') {
                    out.line(blank && first, indent, format!("##{line}").trim_end(), false);
                    first = false;
                }
            }
            let mut code = s.code.clone();
            if let (Some(c), Some(last)) = (&self.trailing[k], code.last_mut()) {
                last.push_str("  ");
                last.push_str(&c.text);
            }
            let continued = format!("{indent}{INDENT}");
            for (n, line) in code.iter().enumerate() {
                let indent = if n == 0 { indent } else { continued.as_str() };
                out.line(blank && first && n == 0, indent, line, s.kind == StmtKind::Open);
            }
        }
        for (n, c) in self.tail.iter().enumerate() {
            let blank = !out.text.is_empty() && (n == 0 || blank_line_before(self.text, c.start));
            out.line(blank, "", &c.text, false);
        }
        out.text
    }
}

/// Lines out, never a blank line first or right after a block's opening line.
#[derive(Default)]
struct Printer {
    text: String,
    after_open: bool,
}

impl Printer {
    fn line(&mut self, blank_before: bool, indent: &str, line: &str, opens: bool) {
        if blank_before && !self.text.is_empty() && !self.after_open {
            self.text.push('\n');
        }
        self.text.push_str(indent);
        self.text.push_str(line);
        self.text.push('\n');
        self.after_open = opens;
    }
}
