//! The checker: resolves every name of a family against its source schema, its `let`s and
//! the registry, infers the axis of every index variable, and lowers the family into the
//! hash-consed [`Ir`]. All problems come back as [`Diagnostic`]s with hints: unknown names
//! ("did you mean"), wrong arity, unbound or mismatched index variables, duplicate features
//! or tags, unknown sources or parameters, and cycles between `let`s.

use crate::ast::{self, Binder, Expr, ExprKind, Ident, Literal, Member, ReduceOp, Span};
use crate::diag::{Diagnostic, ErrorKind, did_you_mean};
use crate::ir::*;
use crate::registry::{ArgKind, ParamKind, ParamValue, Registry, SourceSchema};
use std::collections::HashMap;

mod lower;
mod params;
mod scope;

use params::check_params;

/// A feature after checking.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureInfo {
    pub name: String,
    pub tag: String,
    pub doc: Option<String>,
    /// Byte range of the whole `feature …` definition in the file.
    pub span: Span,
    /// Byte range of the quoted tag.
    pub tag_span: Span,
    /// 1-based line of the definition's start (for run-time errors, which have no text).
    pub line: usize,
    /// The definition's source text.
    pub text: String,
}

/// Another family's feature a family reads (`glcm.contrast`): [`Node::Reference`] number
/// `n` is `references[n]`. Which family it is, and whether it exists, is decided when every
/// file is compiled (the engine's library), not by the checker of one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub family: String,
    pub feature: String,
    /// Where it is first written (`glcm.contrast`).
    pub span: Span,
}

/// A family after checking: its source, resolved parameters, IR and features.
#[derive(Debug, Clone)]
pub struct CheckedFamily {
    pub name: String,
    pub doc: Option<String>,
    pub schema: SourceSchema,
    pub params: Vec<(String, ParamValue)>,
    pub ir: Ir,
    pub features: Vec<(FeatureInfo, NodeId)>,
    /// Other families' features read, in [`Node::Reference`] order.
    pub references: Vec<Reference>,
    /// Where `override` is written, if it is.
    pub overrides: Option<Span>,
    /// The aggregations after `for`, as written (empty: every aggregation of the source).
    pub aggregations: Vec<(String, Span)>,
    /// Where the family's name is written.
    pub name_span: Span,
}

const MATH_1: [(&str, Un); 9] = [
    ("abs", Un::Abs),
    ("sqrt", Un::Sqrt),
    ("exp", Un::Exp),
    ("log", Un::Log),
    ("ln", Un::Log),
    ("log2", Un::Log2),
    ("log10", Un::Log10),
    ("floor", Un::Floor),
    ("ceil", Un::Ceil),
];
const MATH_2: [(&str, Bin); 3] = [("pow", Bin::Pow), ("fmin", Bin::Min), ("fmax", Bin::Max)];

/// What a `let` or feature name resolves to once lowered.
#[derive(Debug, Clone, Copy)]
enum Value {
    Scalar(NodeId),
    Vector(u32),
}

#[derive(Debug, Clone, Copy)]
enum LetState {
    Todo,
    InProgress,
    Done(Value),
    Failed,
}

#[derive(Clone, Copy)]
enum Def<'a> {
    Let(&'a ast::LetDef),
    Feature(&'a ast::FeatureDef),
}

impl Def<'_> {
    fn span(&self) -> Span {
        match self {
            Def::Let(l) => l.name.span,
            Def::Feature(f) => f.name.span,
        }
    }
}

struct Checker<'a> {
    registry: &'a Registry,
    /// Constant ranges and loops over them must fit in this many operations.
    eval_budget: u64,
    schema: &'a SourceSchema,
    source_name: &'a str,
    family_name: &'a str,
    references: Vec<Reference>,
    defs: HashMap<&'a str, Def<'a>>,
    state: HashMap<&'a str, LetState>,
    /// Names being lowered, for the cycle message.
    stack: Vec<&'a str>,
    ir: Ir,
    /// Bound index variables, innermost last.
    scope: Vec<(String, VarId)>,
    errors: Vec<Diagnostic>,
}

type Lowered<T> = Result<T, ()>;

/// What an axis scan found besides the axes of an index variable's uses.
#[derive(Default)]
struct Misuses {
    /// Arrays that are not defined.
    unknown: Vec<Ident>,
    /// Arrays indexed at a position past their last axis: (array, indices given, span).
    beyond_axes: Vec<(Ident, usize, Span)>,
}

/// Checks one family.
pub fn check_family(
    family: &ast::Family,
    text: &str,
    registry: &Registry,
    limits: crate::Limits,
    errors: &mut Vec<Diagnostic>,
) -> Option<CheckedFamily> {
    let Some(schema) = registry.source(&family.source.name) else {
        let names: Vec<&str> = registry.sources().iter().map(|s| s.name.as_str()).collect();
        let mut d = Diagnostic::new(
            ErrorKind::UnknownSource { name: family.source.name.clone() },
            family.source.span,
            "no such source",
        );
        d = d.with_help(
            did_you_mean(&family.source.name, names.iter().copied())
                .unwrap_or_else(|| format!("known sources: {}", names.join(", "))),
        );
        errors.push(d);
        return None;
    };
    let start_errors = errors.len();
    let params = check_params(family, schema, errors);

    let mut c = Checker {
        registry,
        eval_budget: limits.eval_budget,
        schema,
        source_name: &schema.name,
        family_name: &family.name.name,
        references: Vec::new(),
        defs: HashMap::new(),
        state: HashMap::new(),
        stack: Vec::new(),
        ir: Ir::default(),
        scope: Vec::new(),
        errors: Vec::new(),
    };
    c.collect_defs(family, text);

    let mut features = Vec::new();
    for m in &family.members {
        match m {
            Member::Feature(f) => {
                if let Ok(Value::Scalar(n)) = c.resolve_def(&f.name.name, f.name.span) {
                    let info = FeatureInfo {
                        name: f.name.name.clone(),
                        tag: f.tag.clone(),
                        doc: f.doc.clone(),
                        span: f.span,
                        tag_span: f.tag_span,
                        line: line_col(text, f.span.start).0,
                        text: text[f.span.range()].to_string(),
                    };
                    features.push((info, n));
                }
            }
            Member::Let(l) => {
                // Unused lets are still checked.
                let _ = c.resolve_def(&l.name.name, l.name.span);
            }
        }
    }
    errors.append(&mut c.errors);
    if errors.len() > start_errors {
        return None;
    }
    Some(CheckedFamily {
        name: family.name.name.clone(),
        doc: family.doc.clone(),
        schema: schema.clone(),
        params,
        ir: c.ir,
        features,
        references: c.references,
        overrides: family.overrides,
        aggregations: family.aggregations.iter().map(|a| (a.name.clone(), a.span)).collect(),
        name_span: family.name.span,
    })
}

impl<'a> Checker<'a> {
    /// Collects the family's definitions: names are unique across lets and features (and
    /// apart from the source's), tags across features.
    fn collect_defs(&mut self, family: &'a ast::Family, text: &str) {
        let mut tags: HashMap<&str, Span> = HashMap::new();
        for m in &family.members {
            let (name, def, is_feature) = match m {
                Member::Let(l) => (&l.name, Def::Let(l), false),
                Member::Feature(f) => (&f.name, Def::Feature(f), true),
            };
            if let Some(prev) = self.defs.get(name.name.as_str()) {
                let kind = if is_feature && matches!(prev, Def::Feature(_)) {
                    ErrorKind::DuplicateFeature { name: name.name.clone() }
                } else {
                    ErrorKind::DuplicateName { name: name.name.clone() }
                };
                let (line, _) = line_col(text, prev.span().start);
                self.errors.push(
                    Diagnostic::new(kind, name.span, "defined again here")
                        .with_help(format!("the first definition is on line {line}; rename one of them")),
                );
                continue;
            }
            if self.schema.scalars.iter().any(|s| s.name == name.name)
                || self.schema.arrays.iter().any(|s| s.name == name.name)
            {
                self.errors.push(
                    Diagnostic::new(
                        ErrorKind::DuplicateName { name: name.name.clone() },
                        name.span,
                        "already a source name",
                    )
                    .with_help(format!(
                        "source `{}` already provides `{}`; pick another name",
                        self.schema.name, name.name
                    )),
                );
                continue;
            }
            if let Member::Feature(f) = m {
                if let Some(d) = tag_error(&f.tag, f.tag_span) {
                    self.errors.push(d);
                } else if let Some(prev) = tags.get(f.tag.as_str()) {
                    let (line, _) = line_col(text, prev.start);
                    self.errors.push(
                        Diagnostic::new(
                            ErrorKind::DuplicateTag { tag: f.tag.clone() },
                            f.tag_span,
                            "tag used again here",
                        )
                        .with_help(format!("tags identify one feature each; the first use is on line {line}")),
                    );
                } else {
                    tags.insert(&f.tag, f.tag_span);
                }
            }
            self.defs.insert(&name.name, def);
            self.state.insert(&name.name, LetState::Todo);
        }
    }
}

/// Longest tag, in characters.
pub const MAX_TAG_LEN: usize = 64;

/// Whether `c` may appear in a tag: tags become table cells and column names, so no comma,
/// quote, space or control character (see `docs/language.md`).
pub fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// A tag outside the documented character set or length.
fn tag_error(tag: &str, span: Span) -> Option<Diagnostic> {
    let bad = tag.chars().find(|c| !is_tag_char(*c));
    let problem = match bad {
        _ if tag.is_empty() => "is empty".to_string(),
        Some(c) => format!("contains {c:?}"),
        None if tag.chars().count() > MAX_TAG_LEN => format!("is longer than {MAX_TAG_LEN} characters"),
        None => return None,
    };
    Some(Diagnostic::new(ErrorKind::BadTag { tag: tag.to_string(), problem }, span, "not a valid tag").with_help(
        format!("tags are 1 to {MAX_TAG_LEN} ASCII letters, digits, `_`, `-` or `.` (they become table cells)"),
    ))
}

/// `a, b and c` (with `last` = " and ").
fn join_last(items: &[String], last: &str) -> String {
    match items.split_last() {
        Some((end, rest)) if !rest.is_empty() => format!("{}{last}{end}", rest.join(", ")),
        _ => items.join(""),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    (before.matches('\n').count() + 1, before.len() - before.rfind('\n').map_or(0, |p| p + 1) + 1)
}
