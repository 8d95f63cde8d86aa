//! Compiler-grade diagnostics: every syntax or semantic error carries a typed kind, a span,
//! a label and an optional hint, and renders like rustc (`file:line:col`, the source line,
//! a caret underline, `= help: …`).

use crate::ast::Span;
use std::fmt;

/// What went wrong. `Display` gives the one-line headline of the report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("the file is {size} bytes; the limit is {limit} bytes")]
    FileTooLarge { size: usize, limit: usize },
    #[error("nesting is deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("a statement has more than {limit} operators")]
    TooComplex { limit: usize },
    #[error("number literal `{text}` is not a finite 64-bit float")]
    BadNumber { text: String },
    #[error("unknown source `{name}`")]
    UnknownSource { name: String },
    #[error("source `{source_name}` has no parameter `{name}`")]
    UnknownParam { source_name: String, name: String },
    #[error("parameter `{name}` of source `{source_name}` expects {expected}")]
    ParamType { source_name: String, name: String, expected: String },
    #[error("parameter `{name}` of source `{source_name}` is {value}; it accepts {allowed}")]
    ParamValue { source_name: String, name: String, value: String, allowed: String },
    #[error("parameter `{name}` is given twice")]
    DuplicateParam { name: String },
    #[error("unknown name `{name}`")]
    UnknownName { name: String },
    #[error("`{name}` is {what} of {owners}, not of `{source_name}`")]
    OtherSourceName { name: String, what: String, owners: String, source_name: String },
    #[error("unknown function `{name}`")]
    UnknownFunction { name: String },
    #[error("`{name}` takes {expected} but was given {found}")]
    Arity { name: String, expected: String, found: usize },
    #[error("`{name}` has {expected} axes but is indexed with {found}")]
    IndexArity { name: String, expected: usize, found: usize },
    #[error("`{name}` is not an array and cannot be indexed")]
    NotAnArray { name: String },
    #[error("`{name}` is an array and must be indexed")]
    ArrayNeedsIndex { name: String },
    #[error("index variable `{name}` is not bound here")]
    UnboundIndex { name: String },
    #[error("`{name}` is an index variable, not an array")]
    IndexNotArray { name: String },
    #[error("index variable `{name}` ranges over {first} but is used here on {second}")]
    IndexMismatch { name: String, first: String, second: String },
    #[error("index variable `{name}` has no range")]
    NoRange { name: String },
    #[error("the value of `{name}` depends on the unbound index variable `{var}`")]
    FreeIndex { name: String, var: String },
    #[error("a reduction inside a loop depends on {count} outer index variables")]
    TooManyOuterIndices { count: usize },
    #[error("`{op}` needs {what}")]
    ReductionShape { op: String, what: String },
    #[error("duplicate feature `{name}`")]
    DuplicateFeature { name: String },
    #[error("tag {tag:?} {problem}")]
    BadTag { tag: String, problem: String },
    #[error("duplicate tag \"{tag}\"")]
    DuplicateTag { tag: String },
    #[error("`{name}` is defined twice")]
    DuplicateName { name: String },
    #[error("duplicate family `{name}`")]
    DuplicateFamily { name: String },
    #[error("`let` definitions form a cycle: {path}")]
    LetCycle { path: String },
    #[error("builtin `{name}` is only available in families over `{source_name}`")]
    WrongSource { name: String, source_name: String },
    #[error("argument {position} of `{name}` must be {expected}")]
    ArgumentKind { name: String, position: usize, expected: String },
    #[error("the range of `{name}` has a bound that is not finite ({lo}..{hi})")]
    RangeNotFinite { name: String, lo: f64, hi: f64 },
    #[error("the range of `{name}` has {} values, more than the evaluation budget of {budget} operations", count(*.length))]
    RangeTooLong { name: String, length: f64, budget: u64 },
    #[error("this `{op}` runs {} iterations, more than the evaluation budget of {budget} operations", count(*.iterations))]
    LoopTooLong { op: String, iterations: f64, budget: u64 },
    #[error("family `{name}` uses more than {limit} distinct index variables")]
    TooManyIndices { name: String, limit: usize },
    #[error("unknown test setting `{key}`")]
    UnknownTestSetting { key: String },
    #[error("test setting `{key}` is given twice")]
    DuplicateTestSetting { key: String },
    #[error("test setting `{key}` expects {expected}")]
    TestSettingKind { key: String, expected: String },
    #[error("test \"{test}\" has no `{key}`")]
    MissingTestSetting { key: String, test: String },
    #[error("test \"{test}\" has no `expect` line")]
    EmptyTest { test: String },
    #[error("unknown family `{family}` in `{family}.{feature}`")]
    UnknownFamilyRef { family: String, feature: String },
    #[error("family `{family}` has no feature `{feature}`")]
    UnknownFeatureRef { family: String, feature: String },
    #[error("families read each other's features in a cycle: {path}")]
    ReferenceCycle { path: String },
    #[error("`{family}.{feature}` has no {aggregation} value, which family `{user}` needs")]
    AggregationMismatch { user: String, family: String, feature: String, aggregation: String },
    #[error("unknown aggregation `{name}`")]
    UnknownAggregation { name: String },
    #[error("source `{source_name}` has no aggregation `{name}`")]
    AggregationNotOfSource { source_name: String, name: String },
    #[error("aggregation `{name}` is named twice")]
    DuplicateAggregation { name: String },
    #[error("family `{name}` replaces the {what} family `{name}` without `override`")]
    OverrideMissing { name: String, what: String },
    #[error("`override family {name}` replaces nothing: no earlier family is named `{name}`")]
    OverrideNothing { name: String },
    #[error("tag \"{tag}\" of `{feature}` is already the tag of the built-in `{builtin}`, a different definition")]
    TagReused { tag: String, feature: String, builtin: String },
}

/// Whether a diagnostic stops the compilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    /// The file cannot be used.
    #[default]
    Error,
    /// The file is used; something in it is probably not what was meant.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as the reports and `radx check --format json` write it.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A count of values or operations (a float: loop products can exceed `u64`): in full up to
/// 10^15, in scientific notation beyond (`1e300`, not 301 digits).
pub fn count(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{n}") } else { format!("{n:e}") }
}

/// One error with where it happened and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub kind: ErrorKind,
    pub span: Span,
    /// Short text printed under the caret.
    pub label: String,
    /// Suggestion printed as `= help: …`.
    pub help: Option<String>,
    pub severity: Severity,
}

impl Diagnostic {
    pub fn new(kind: ErrorKind, span: Span, label: impl Into<String>) -> Self {
        Diagnostic { kind, span, label: label.into(), help: None, severity: Severity::Error }
    }
    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// All errors of one file, with the file text so they can be rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics {
    pub file_name: String,
    pub text: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(file_name: &str, source: &str, items: Vec<Diagnostic>) -> Self {
        Diagnostics { file_name: file_name.to_string(), text: source.to_string(), items }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |p| p + 1);
        (line, self.text[line_start..offset].chars().count() + 1)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl std::error::Error for Diagnostics {}

/// Longest source line printed; garbage files can have megabyte-long lines.
const MAX_SHOWN_LINE: usize = 160;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, d) in self.items.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            let (line, col) = self.line_col(d.span.start);
            writeln!(f, "{}: {}", d.severity.name(), d.kind)?;
            writeln!(f, "  --> {}:{}:{}", self.file_name, line, col)?;
            let line_text = self.text.lines().nth(line - 1).unwrap_or("");
            // On very long lines show a window that contains the caret.
            let skip = (col - 1).saturating_sub(MAX_SHOWN_LINE / 2);
            let shown: String = line_text.chars().skip(skip).take(MAX_SHOWN_LINE).collect();
            let col = col - skip;
            let gutter = line.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{line} | {}", shown.trim_end())?;
            let start_col = (col - 1).min(MAX_SHOWN_LINE);
            let span_chars = {
                let end = floor_char_boundary(&self.text, d.span.end.min(self.text.len()));
                let start = floor_char_boundary(&self.text, d.span.start.min(end));
                let text = &self.text[start..end];
                // Underline at most to the end of the first line.
                text.split('\n').next().map_or(0, |t| t.chars().count())
            };
            let width = span_chars.clamp(1, MAX_SHOWN_LINE.saturating_sub(start_col).max(1));
            writeln!(f, "{:gutter$} | {}{} {}", "", " ".repeat(start_col), "^".repeat(width), d.label)?;
            if let Some(h) = &d.help {
                writeln!(f, "{:gutter$} = help: {h}", "")?;
            }
        }
        Ok(())
    }
}

/// Edit distance for "did you mean" hints (optimal string alignment: insertions,
/// deletions, substitutions and adjacent transpositions each cost 1).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1).min(d[i * w + j - 1] + 1).min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The closest candidate within a small edit distance, if any.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.to_string()))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}
