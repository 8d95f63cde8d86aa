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
    // Collect definitions; names are unique across lets and features, tags across features.
    let mut tags: HashMap<&str, Span> = HashMap::new();
    for m in &family.members {
        let (name, def, is_feature) = match m {
            Member::Let(l) => (&l.name, Def::Let(l), false),
            Member::Feature(f) => (&f.name, Def::Feature(f), true),
        };
        if let Some(prev) = c.defs.get(name.name.as_str()) {
            let kind = if is_feature && matches!(prev, Def::Feature(_)) {
                ErrorKind::DuplicateFeature { name: name.name.clone() }
            } else {
                ErrorKind::DuplicateName { name: name.name.clone() }
            };
            let (line, _) = line_col(text, prev.span().start);
            c.errors.push(
                Diagnostic::new(kind, name.span, "defined again here")
                    .with_help(format!("the first definition is on line {line}; rename one of them")),
            );
            continue;
        }
        if schema.scalars.iter().any(|s| s.name == name.name) || schema.arrays.iter().any(|s| s.name == name.name) {
            c.errors.push(
                Diagnostic::new(
                    ErrorKind::DuplicateName { name: name.name.clone() },
                    name.span,
                    "already a source name",
                )
                .with_help(format!("source `{}` already provides `{}`; pick another name", schema.name, name.name)),
            );
            continue;
        }
        if let Member::Feature(f) = m {
            if let Some(d) = tag_error(&f.tag, f.tag_span) {
                c.errors.push(d);
            } else if let Some(prev) = tags.get(f.tag.as_str()) {
                let (line, _) = line_col(text, prev.start);
                c.errors.push(
                    Diagnostic::new(ErrorKind::DuplicateTag { tag: f.tag.clone() }, f.tag_span, "tag used again here")
                        .with_help(format!("tags identify one feature each; the first use is on line {line}")),
                );
            } else {
                tags.insert(&f.tag, f.tag_span);
            }
        }
        c.defs.insert(&name.name, def);
        c.state.insert(&name.name, LetState::Todo);
    }

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

fn check_params(
    family: &ast::Family,
    schema: &SourceSchema,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(String, ParamValue)> {
    let mut values: Vec<(String, ParamValue)> =
        schema.params.iter().map(|p| (p.name.clone(), p.default.clone())).collect();
    let mut seen: Vec<&str> = Vec::new();
    for arg in &family.args {
        let Some(spec) = schema.params.iter().find(|p| p.name == arg.name.name) else {
            let names: Vec<&str> = schema.params.iter().map(|p| p.name.as_str()).collect();
            let help = did_you_mean(&arg.name.name, names.iter().copied()).unwrap_or_else(|| {
                if names.is_empty() {
                    format!("`{}` takes no parameters", schema.name)
                } else {
                    format!("parameters of `{}`: {}", schema.name, names.join(", "))
                }
            });
            errors.push(
                Diagnostic::new(
                    ErrorKind::UnknownParam { source_name: schema.name.clone(), name: arg.name.name.clone() },
                    arg.name.span,
                    "unknown parameter",
                )
                .with_help(help),
            );
            continue;
        };
        if seen.contains(&arg.name.name.as_str()) {
            errors.push(Diagnostic::new(
                ErrorKind::DuplicateParam { name: arg.name.name.clone() },
                arg.span,
                "given again here",
            ));
            continue;
        }
        seen.push(&arg.name.name);
        let value = match (spec.kind, &arg.value) {
            (ParamKind::Int, Literal::Number(v)) if v.fract() == 0.0 && v.abs() < 9.0e15 => {
                Some(ParamValue::Int(*v as i64))
            }
            (ParamKind::Float, Literal::Number(v)) => Some(ParamValue::Float(*v)),
            (ParamKind::Bool, Literal::Bool(b)) => Some(ParamValue::Bool(*b)),
            (ParamKind::Str, Literal::Str(s)) => Some(ParamValue::Str(s.clone())),
            _ => None,
        };
        match value {
            Some(v) if !spec.allowed.admits(&v) => errors.push(
                Diagnostic::new(
                    ErrorKind::ParamValue {
                        source_name: schema.name.clone(),
                        name: spec.name.clone(),
                        value: v.to_string(),
                        allowed: spec.allowed.to_string(),
                    },
                    arg.span,
                    "not an accepted value",
                )
                .with_help(format!("`{}`: {}", spec.name, spec.doc)),
            ),
            Some(v) => {
                if let Some(slot) = values.iter_mut().find(|(n, _)| *n == spec.name) {
                    slot.1 = v;
                }
            }
            None => errors.push(
                Diagnostic::new(
                    ErrorKind::ParamType {
                        source_name: schema.name.clone(),
                        name: spec.name.clone(),
                        expected: spec.kind.describe().to_string(),
                    },
                    arg.span,
                    "wrong type",
                )
                .with_help(spec.doc.clone()),
            ),
        }
    }
    values
}

impl<'a> Checker<'a> {
    fn err(&mut self, d: Diagnostic) -> Lowered<()> {
        self.errors.push(d);
        Err(())
    }

    /// Lowers a `let` or feature on demand (in an empty scope), detecting cycles.
    fn resolve_def(&mut self, name: &'a str, use_span: Span) -> Lowered<Value> {
        match self.state.get(name).copied() {
            Some(LetState::Done(v)) => return Ok(v),
            Some(LetState::Failed) | None => return Err(()),
            Some(LetState::InProgress) => {
                let start = self.stack.iter().position(|n| *n == name).unwrap_or(0);
                let mut path: Vec<&str> = self.stack[start..].to_vec();
                path.push(name);
                let d = Diagnostic::new(
                    ErrorKind::LetCycle { path: path.join(" → ") },
                    use_span,
                    "this use closes the cycle",
                )
                .with_help("a definition cannot depend on itself; compute one of them without the other");
                return self.err(d).map(|_| Value::Scalar(0));
            }
            Some(LetState::Todo) => {}
        }
        let def = self.defs[name];
        self.state.insert(name, LetState::InProgress);
        self.stack.push(name);
        let saved_scope = std::mem::take(&mut self.scope);
        let result = match def {
            Def::Feature(f) => self.lower(&f.value).map(Value::Scalar),
            Def::Let(l) => match &l.index {
                None => self.lower(&l.value).map(Value::Scalar),
                Some(b) => self.lower_vector_let(l, b),
            },
        };
        self.scope = saved_scope;
        self.stack.pop();
        // A cycle error already marked this name failed deeper down; keep that.
        let state = match result {
            Ok(v) => LetState::Done(v),
            Err(()) => LetState::Failed,
        };
        self.state.insert(name, state);
        result
    }

    fn lower_vector_let(&mut self, l: &ast::LetDef, b: &Binder) -> Lowered<Value> {
        let axis = self.binder_axis(b, &[&l.value])?;
        let var = self.bind_var(axis, b.name.span)?;
        self.scope.push((b.name.name.clone(), var));
        let body = self.lower(&l.value);
        self.scope.pop();
        let body = body?;
        // A body that *is* a reduction over `var` is that reduction's vector already.
        if let Node::VecRead { vec, at } = self.ir.nodes[body as usize]
            && at == var
            && self.ir.vec_var(vec) == var
        {
            return Ok(Value::Vector(vec));
        }
        Ok(Value::Vector(self.ir.vector(VecDef::Map { var, body })))
    }

    /// The canonical variable for a new binder over `axis`.
    fn bind_var(&mut self, axis: AxisKey, span: Span) -> Lowered<VarId> {
        let slot = self.scope.iter().filter(|(_, v)| self.ir.vars[*v as usize].axis == axis).count() as u32;
        match self.ir.var(axis, slot) {
            Some(v) => Ok(v),
            None => {
                let d = Diagnostic::new(
                    ErrorKind::TooManyIndices { name: String::new(), limit: MAX_VARS },
                    span,
                    "one index variable too many",
                );
                self.err(d).map(|_| 0)
            }
        }
    }

    /// The axis of a binder: its explicit range, or the axis of the arrays it indexes.
    fn binder_axis(&mut self, b: &Binder, scope_exprs: &[&Expr]) -> Lowered<AxisKey> {
        if let Some((lo, hi)) = &b.range {
            let lo_n = self.lower(lo)?;
            let hi_n = self.lower(hi)?;
            for (n, e) in [(lo_n, lo), (hi_n, hi)] {
                if self.ir.free[n as usize] != 0 {
                    let d = Diagnostic::new(
                        ErrorKind::FreeIndex { name: format!("range of {}", b.name.name), var: self.free_name(n) },
                        e.span,
                        "range bounds must not depend on index variables",
                    );
                    return self.err(d).map(|_| AxisKey::Source(0));
                }
            }
            if let Some(d) = self.constant_range_error(b, lo_n, hi_n) {
                return self.err(d).map(|_| AxisKey::Source(0));
            }
            return Ok(AxisKey::Range(lo_n, hi_n));
        }
        let mut uses = Vec::new();
        let mut misuses = Misuses::default();
        for e in scope_exprs {
            self.collect_uses(e, &b.name.name, &mut uses, &mut misuses)?;
        }
        if uses.is_empty()
            && let Some(id) = misuses.unknown.first()
        {
            // `pz[i]` with `pz` undefined: report the name, not the range.
            let id = id.clone();
            return self.unknown_name(&id).map(|_| AxisKey::Source(0));
        }
        if uses.is_empty()
            && let Some((array, found, span)) = misuses.beyond_axes.first()
        {
            // `r[i, j, k]` on a 2-axis array: `k` indexes nothing, but the arity is the error.
            let d = self.index_arity(array, *found, *span);
            return self.err(d).map(|_| AxisKey::Source(0));
        }
        let Some(&(first_axis, _)) = uses.first() else {
            let d = Diagnostic::new(
                ErrorKind::NoRange { name: b.name.name.clone() },
                b.name.span,
                "never used as an index",
            )
            .with_help(format!(
                "index an array with `{0}` (e.g. `p[{0}, j]`) or give a range: `{0} in 0..Ng`",
                b.name.name
            ));
            return self.err(d).map(|_| AxisKey::Source(0));
        };
        for &(axis, span) in &uses[1..] {
            if axis != first_axis {
                let d = Diagnostic::new(
                    ErrorKind::IndexMismatch {
                        name: b.name.name.clone(),
                        first: self.axis_name(first_axis),
                        second: self.axis_name(axis),
                    },
                    span,
                    "used on a different axis here",
                )
                .with_help("use a separate index variable for each axis");
                return self.err(d).map(|_| first_axis);
            }
        }
        Ok(first_axis)
    }

    /// Number of values of a range with constant bounds (`None` when a bound is computed).
    fn constant_range_len(&self, lo: NodeId, hi: NodeId) -> Option<f64> {
        let (lo, hi) = (self.ir.const_value(lo)?, self.ir.const_value(hi)?);
        Some(if hi >= lo { (hi - lo).floor() + 1.0 } else { 0.0 })
    }

    /// A range with constant bounds that no evaluation could run: a bound not finite, or
    /// more values than the evaluation budget.
    fn constant_range_error(&self, b: &Binder, lo_n: NodeId, hi_n: NodeId) -> Option<Diagnostic> {
        let (lo, hi) = (self.ir.const_value(lo_n)?, self.ir.const_value(hi_n)?);
        let name = b.name.name.clone();
        let span = b.range.as_ref().map_or(b.name.span, |(l, h)| Span { start: l.span.start, end: h.span.end });
        if !(lo.is_finite() && hi.is_finite()) {
            return Some(
                Diagnostic::new(ErrorKind::RangeNotFinite { name, lo, hi }, span, "not a finite range")
                    .with_help("range bounds must be finite numbers"),
            );
        }
        let length = self.constant_range_len(lo_n, hi_n)?;
        (length > self.eval_budget as f64).then(|| {
            Diagnostic::new(ErrorKind::RangeTooLong { name, length, budget: self.eval_budget }, span, "too long")
                .with_help("shorten the range, or raise the budget with `--eval-budget` if it is meant")
        })
    }

    /// A loop over constant ranges (and at least one value of every other axis) whose
    /// iterations alone exceed the evaluation budget.
    fn constant_loop_error(&self, op: ReduceOp, vars: &[VarId], span: Span) -> Option<Diagnostic> {
        let iterations: f64 = vars
            .iter()
            .map(|v| match self.ir.vars[*v as usize].axis {
                AxisKey::Range(lo, hi) => self.constant_range_len(lo, hi).unwrap_or(1.0),
                AxisKey::Source(_) => 1.0,
            })
            .product();
        (iterations > self.eval_budget as f64).then(|| {
            Diagnostic::new(
                ErrorKind::LoopTooLong { op: op.name().into(), iterations, budget: self.eval_budget },
                span,
                "too many iterations",
            )
            .with_help("loop over shorter ranges, or raise the budget with `--eval-budget` if it is meant")
        })
    }

    fn axis_name(&self, a: AxisKey) -> String {
        match a {
            AxisKey::Source(n) => format!("axis `{}`", self.schema.axes[n as usize].name),
            AxisKey::Range(lo, hi) => {
                let show = |n: NodeId| self.ir.const_value(n).map_or("…".to_string(), |v| format!("{v}"));
                format!("the range {}..{}", show(lo), show(hi))
            }
        }
    }

    fn free_name(&self, n: NodeId) -> String {
        let mask = self.ir.free[n as usize];
        self.scope.iter().rev().find(|(_, v)| mask & bit(*v) != 0).map_or("?".into(), |(name, _)| name.clone())
    }

    /// Finds where `name` indexes an array inside `e` (honouring shadowing), with the axis.
    fn collect_uses(
        &mut self,
        e: &Expr,
        name: &str,
        out: &mut Vec<(AxisKey, Span)>,
        unknown: &mut Misuses,
    ) -> Lowered<()> {
        match &e.kind {
            ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Name(_) | ExprKind::Ref { .. } => {}
            ExprKind::Index { array, indices } => {
                for (pos, ix) in indices.iter().enumerate() {
                    if ix.name != name {
                        continue;
                    }
                    if let Some(axis) = self.array_axis(array, pos) {
                        out.push((axis, ix.span));
                    } else if !self.is_known(&array.name) {
                        unknown.unknown.push(array.clone());
                    } else if self.array_rank(array).is_some_and(|rank| pos >= rank) {
                        let span =
                            Span::new(array.span.start, indices.last().map_or(array.span.end, |i| i.span.end + 1));
                        unknown.beyond_axes.push((array.clone(), indices.len(), span));
                    }
                }
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    self.collect_uses(a, name, out, unknown)?;
                }
            }
            ExprKind::Unary(_, a) => self.collect_uses(a, name, out, unknown)?,
            ExprKind::Binary(_, a, b) => {
                self.collect_uses(a, name, out, unknown)?;
                self.collect_uses(b, name, out, unknown)?;
            }
            ExprKind::If { cond, then, otherwise } => {
                self.collect_uses(cond, name, out, unknown)?;
                self.collect_uses(then, name, out, unknown)?;
                self.collect_uses(otherwise, name, out, unknown)?;
            }
            ExprKind::Reduce { binders, filter, body, .. } => {
                for b in binders {
                    if let Some((lo, hi)) = &b.range {
                        self.collect_uses(lo, name, out, unknown)?;
                        self.collect_uses(hi, name, out, unknown)?;
                    }
                }
                if binders.iter().any(|b| b.name.name == name) {
                    return Ok(()); // shadowed inside
                }
                if let Some(f) = filter {
                    self.collect_uses(f, name, out, unknown)?;
                }
                if let Some(b) = body {
                    self.collect_uses(b, name, out, unknown)?;
                }
            }
        }
        Ok(())
    }

    /// Number of axes of a source array or a vector `let` (`None` for other names).
    fn array_rank(&self, array: &Ident) -> Option<usize> {
        if self.scope.iter().any(|(n, _)| *n == array.name) {
            return None;
        }
        if let Some(a) = self.schema.arrays.iter().find(|a| a.name == array.name) {
            return Some(a.axes.len());
        }
        match self.state.get(array.name.as_str()) {
            Some(LetState::Done(Value::Vector(_))) => Some(1),
            _ => None,
        }
    }

    /// `array` indexed with `found` indices where it has another number of axes.
    fn index_arity(&self, array: &Ident, found: usize, span: Span) -> Diagnostic {
        let axes: Vec<String> = match self.schema.arrays.iter().find(|a| a.name == array.name) {
            Some(a) => a.axes.iter().map(|&ax| self.schema.axes[ax].name.clone()).collect(),
            None => vec!["its index".to_string()],
        };
        let expected = self.array_rank(array).unwrap_or(axes.len());
        Diagnostic::new(
            ErrorKind::IndexArity { name: array.name.clone(), expected, found },
            span,
            format!("expects {expected} index variable(s)"),
        )
        .with_help(format!(
            "`{}` has {expected} axes ({}); give one index variable per axis",
            array.name,
            axes.join(", ")
        ))
    }

    /// The axis of position `pos` of an array name, if it names one (errors are reported later).
    fn array_axis(&mut self, array: &Ident, pos: usize) -> Option<AxisKey> {
        if self.scope.iter().any(|(n, _)| *n == array.name) {
            return None;
        }
        if let Some(a) = self.schema.arrays.iter().find(|a| a.name == array.name) {
            return a.axes.get(pos).map(|&ax| AxisKey::Source(ax as u32));
        }
        if pos == 0
            && let Some((&name, _)) = self.defs.get_key_value(array.name.as_str())
            && let Ok(Value::Vector(v)) = self.resolve_def_quiet(name, array.span)
        {
            let var = self.ir.vec_var(v);
            return Some(self.ir.vars[var as usize].axis);
        }
        None
    }

    fn is_known(&self, name: &str) -> bool {
        self.scope.iter().any(|(n, _)| n == name)
            || self.defs.contains_key(name)
            || self.schema.arrays.iter().any(|a| a.name == name)
            || self.schema.scalars.iter().any(|a| a.name == name)
    }

    fn resolve_def_quiet(&mut self, name: &'a str, span: Span) -> Lowered<Value> {
        // Resolving inside an axis scan happens in the middle of another definition's
        // scope; `resolve_def` saves and restores the scope itself.
        self.resolve_def(name, span)
    }

    fn visible_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.scope.iter().map(|(n, _)| n.clone()).collect();
        v.extend(self.defs.keys().map(|k| k.to_string()));
        v.extend(self.schema.scalars.iter().map(|s| s.name.clone()));
        v.extend(self.schema.arrays.iter().map(|s| s.name.clone()));
        v
    }

    fn unknown_name(&mut self, id: &Ident) -> Lowered<NodeId> {
        if let Some(d) = self.other_source_name(id) {
            return self.err(d).map(|_| 0);
        }
        let names = self.visible_names();
        let mut d = Diagnostic::new(ErrorKind::UnknownName { name: id.name.clone() }, id.span, "not defined here");
        if let Some(h) = did_you_mean(&id.name, names.iter().map(String::as_str)) {
            d = d.with_help(h);
        } else if self.registry.builtin(&id.name).is_some() || MATH_1.iter().any(|(n, _)| *n == id.name) {
            d = d.with_help(format!("`{}` is a function; call it as `{}(…)`", id.name, id.name));
        }
        self.err(d).map(|_| 0)
    }

    /// A name this family's source lacks but other sources provide (`x` of `roi` used in a
    /// family over `cm`): say whose it is rather than suggest a look-alike.
    fn other_source_name(&self, id: &Ident) -> Option<Diagnostic> {
        let mut owners: Vec<(&str, &'static str)> = Vec::new();
        for schema in self.registry.sources() {
            if schema.arrays.iter().any(|a| a.name == id.name) {
                owners.push((&schema.name, "an array"));
            } else if schema.scalars.iter().any(|a| a.name == id.name) {
                owners.push((&schema.name, "a scalar"));
            }
        }
        let (_, what) = *owners.first()?;
        let names: Vec<String> = owners.iter().map(|(n, _)| format!("`{n}`")).collect();
        let mut own: Vec<&str> = self.schema.arrays.iter().map(|a| a.name.as_str()).collect();
        own.extend(self.schema.scalars.iter().map(|a| a.name.as_str()));
        let d = Diagnostic::new(
            ErrorKind::OtherSourceName {
                name: id.name.clone(),
                what: what.to_string(),
                owners: join_last(&names, " and "),
                source_name: self.schema.name.clone(),
            },
            id.span,
            format!("not provided by `{}`", self.schema.name),
        )
        .with_help(format!(
            "a family reads only its own source (`{}` provides {}); compute this in a feature of a family over {}, \
             and read its value here as `FAMILY.FEATURE`",
            self.schema.name,
            if own.is_empty() { "no arrays or scalars, only builtins".to_string() } else { own.join(", ") },
            join_last(&names, " or ")
        ));
        Some(d)
    }

    fn lower(&mut self, e: &Expr) -> Lowered<NodeId> {
        match &e.kind {
            ExprKind::Number(v) => Ok(self.ir.constant(*v)),
            ExprKind::Bool(b) => Ok(self.ir.constant(if *b { 1.0 } else { 0.0 })),
            ExprKind::Name(id) => self.lower_name(id),
            ExprKind::Ref { family, feature } => self.lower_reference(family, feature),
            ExprKind::Index { array, indices } => self.lower_index(array, indices),
            ExprKind::Call { func, args } => self.lower_call(func, args, e.span),
            ExprKind::Unary(op, a) => {
                let a = self.lower(a)?;
                let u = match op {
                    ast::UnOp::Neg => Un::Neg,
                    ast::UnOp::Not => Un::Not,
                };
                Ok(self.ir.intern(Node::Unary(u, a)))
            }
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.lower(a), self.lower(b));
                let (a, b) = (a?, b?);
                let op = match op {
                    ast::BinOp::Or => Bin::Or,
                    ast::BinOp::And => Bin::And,
                    ast::BinOp::Eq => Bin::Eq,
                    ast::BinOp::Ne => Bin::Ne,
                    ast::BinOp::Lt => Bin::Lt,
                    ast::BinOp::Le => Bin::Le,
                    ast::BinOp::Gt => Bin::Gt,
                    ast::BinOp::Ge => Bin::Ge,
                    ast::BinOp::Add => Bin::Add,
                    ast::BinOp::Sub => Bin::Sub,
                    ast::BinOp::Mul => Bin::Mul,
                    ast::BinOp::Div => Bin::Div,
                    ast::BinOp::Pow => Bin::Pow,
                };
                Ok(self.ir.intern(Node::Binary(op, a, b)))
            }
            ExprKind::If { cond, then, otherwise } => {
                let c = self.lower(cond);
                let t = self.lower(then);
                let o = self.lower(otherwise);
                Ok(self.ir.intern(Node::Select(c?, t?, o?)))
            }
            ExprKind::Reduce { op, binders, filter, body } => {
                self.lower_reduce(*op, binders, filter.as_deref(), body.as_deref(), e.span)
            }
        }
    }

    fn lower_name(&mut self, id: &Ident) -> Lowered<NodeId> {
        if let Some((_, v)) = self.scope.iter().rev().find(|(n, _)| *n == id.name) {
            return Ok(self.ir.intern(Node::Index(*v)));
        }
        if let Some((&name, _)) = self.defs.get_key_value(id.name.as_str()) {
            return match self.resolve_def(name, id.span)? {
                Value::Scalar(n) => Ok(n),
                Value::Vector(_) => {
                    let d = Diagnostic::new(
                        ErrorKind::ArrayNeedsIndex { name: id.name.clone() },
                        id.span,
                        "a vector, not a number",
                    )
                    .with_help(format!("index it, e.g. `{}[i]` inside `sum(i, …)`", id.name));
                    self.err(d).map(|_| 0)
                }
            };
        }
        if let Some(k) = self.schema.scalars.iter().position(|s| s.name == id.name) {
            return Ok(self.ir.intern(Node::SrcScalar(k as u32)));
        }
        if let Some(a) = self.schema.arrays.iter().find(|a| a.name == id.name) {
            let idx: Vec<&str> = ["i", "j", "k"].into_iter().take(a.axes.len()).collect();
            let d = Diagnostic::new(
                ErrorKind::ArrayNeedsIndex { name: id.name.clone() },
                id.span,
                "an array, not a number",
            )
            .with_help(format!("index it, e.g. `{}[{}]`", id.name, idx.join(", ")));
            return self.err(d).map(|_| 0);
        }
        self.unknown_name(id)
    }

    /// `family.feature`: the family's own name reads its own definition (as `feature` alone);
    /// another family's feature becomes a [`Node::Reference`], resolved across files later.
    fn lower_reference(&mut self, family: &Ident, feature: &Ident) -> Lowered<NodeId> {
        if family.name == self.family_name {
            return self.lower_name(feature);
        }
        let known = self.references.iter().position(|r| r.family == family.name && r.feature == feature.name);
        let k = known.unwrap_or_else(|| {
            let span = Span::new(family.span.start, feature.span.end);
            self.references.push(Reference { family: family.name.clone(), feature: feature.name.clone(), span });
            self.references.len() - 1
        });
        Ok(self.ir.intern(Node::Reference(k as u32)))
    }

    fn lower_index(&mut self, array: &Ident, indices: &[Ident]) -> Lowered<NodeId> {
        if self.scope.iter().any(|(n, _)| *n == array.name) {
            let d =
                Diagnostic::new(ErrorKind::IndexNotArray { name: array.name.clone() }, array.span, "cannot be indexed");
            return self.err(d).map(|_| 0);
        }
        // The array and its axes.
        enum Target {
            Source(u32, Vec<AxisKey>),
            Vector(u32, AxisKey),
        }
        let target = if let Some(k) = self.schema.arrays.iter().position(|a| a.name == array.name) {
            let axes = self.schema.arrays[k].axes.iter().map(|&a| AxisKey::Source(a as u32)).collect();
            Target::Source(k as u32, axes)
        } else if let Some((&name, _)) = self.defs.get_key_value(array.name.as_str()) {
            match self.resolve_def(name, array.span)? {
                Value::Vector(v) => {
                    let var = self.ir.vec_var(v);
                    Target::Vector(v, self.ir.vars[var as usize].axis)
                }
                Value::Scalar(_) => {
                    let d = Diagnostic::new(ErrorKind::NotAnArray { name: array.name.clone() }, array.span, "a number")
                        .with_help(format!("`{}` is a scalar `let`; use it without `[…]`", array.name));
                    return self.err(d).map(|_| 0);
                }
            }
        } else if self.schema.scalars.iter().any(|s| s.name == array.name) {
            let d = Diagnostic::new(ErrorKind::NotAnArray { name: array.name.clone() }, array.span, "a source scalar")
                .with_help(format!("use `{}` without `[…]`", array.name));
            return self.err(d).map(|_| 0);
        } else {
            return self.unknown_name(array);
        };
        let axes: Vec<AxisKey> = match &target {
            Target::Source(_, axes) => axes.clone(),
            Target::Vector(_, a) => vec![*a],
        };
        if axes.len() != indices.len() {
            let span = Span::new(array.span.start, indices.last().map_or(array.span.end, |i| i.span.end + 1));
            let d = self.index_arity(array, indices.len(), span);
            return self.err(d).map(|_| 0);
        }
        let mut vars = Vec::with_capacity(indices.len());
        for (ix, axis) in indices.iter().zip(&axes) {
            let Some((_, v)) = self.scope.iter().rev().find(|(n, _)| *n == ix.name).cloned() else {
                let mut d = Diagnostic::new(ErrorKind::UnboundIndex { name: ix.name.clone() }, ix.span, "not bound");
                d = d.with_help(format!(
                    "bind it with a reduction, e.g. `sum({0}, …)`, or as the index of a vector `let name[{0}] = …`",
                    ix.name
                ));
                return self.err(d).map(|_| 0);
            };
            let var_axis = self.ir.vars[v as usize].axis;
            if var_axis != *axis {
                let d = Diagnostic::new(
                    ErrorKind::IndexMismatch {
                        name: ix.name.clone(),
                        first: self.axis_name(var_axis),
                        second: self.axis_name(*axis),
                    },
                    ix.span,
                    format!("`{}` expects {} here", array.name, self.axis_name(*axis)),
                )
                .with_help("use a separate index variable for each axis");
                return self.err(d).map(|_| 0);
            }
            vars.push(v);
        }
        Ok(match target {
            Target::Source(k, _) => self.ir.intern(Node::Array { array: k, vars }),
            Target::Vector(v, _) => self.ir.intern(Node::VecRead { vec: v, at: vars[0] }),
        })
    }

    fn lower_call(&mut self, func: &Ident, args: &[Expr], span: Span) -> Lowered<NodeId> {
        let arity_error = |expected: usize| {
            Diagnostic::new(
                ErrorKind::Arity {
                    name: func.name.clone(),
                    expected: format!("{expected} argument{}", if expected == 1 { "" } else { "s" }),
                    found: args.len(),
                },
                span,
                "wrong number of arguments",
            )
        };
        if let Some((_, op)) = MATH_1.iter().find(|(n, _)| *n == func.name) {
            if args.len() != 1 {
                return self.err(arity_error(1).with_help(format!("`{}(x)`", func.name))).map(|_| 0);
            }
            let a = self.lower(&args[0])?;
            return Ok(self.ir.intern(Node::Unary(*op, a)));
        }
        if let Some((_, op)) = MATH_2.iter().find(|(n, _)| *n == func.name) {
            if args.len() != 2 {
                return self.err(arity_error(2).with_help(format!("`{}(a, b)`", func.name))).map(|_| 0);
            }
            let a = self.lower(&args[0]);
            let b = self.lower(&args[1]);
            return Ok(self.ir.intern(Node::Binary(*op, a?, b?)));
        }
        let Some(spec) = self.registry.builtin(&func.name) else {
            let mut names: Vec<&str> = MATH_1.iter().map(|(n, _)| *n).chain(MATH_2.iter().map(|(n, _)| *n)).collect();
            names.extend(self.registry.builtins().iter().map(|b| b.name.as_str()));
            names.extend(["sum", "mean", "max", "min", "count", "argmax", "argmin", "prod"]);
            let mut d =
                Diagnostic::new(ErrorKind::UnknownFunction { name: func.name.clone() }, func.span, "no such function");
            if let Some(h) = did_you_mean(&func.name, names.iter().copied()) {
                d = d.with_help(h);
            }
            return self.err(d).map(|_| 0);
        };
        if let Some(src) = &spec.source
            && src != self.source_name
        {
            let d = Diagnostic::new(
                ErrorKind::WrongSource { name: func.name.clone(), source_name: src.clone() },
                func.span,
                format!("this family is over `{}`", self.source_name),
            )
            .with_help(spec.doc.clone());
            return self.err(d).map(|_| 0);
        }
        if args.len() != spec.args.len() {
            let sig: Vec<&str> = spec.args.iter().map(|a| if *a == ArgKind::Array { "array" } else { "x" }).collect();
            return self
                .err(arity_error(spec.args.len()).with_help(format!(
                    "`{}({})`: {}",
                    func.name,
                    sig.join(", "),
                    spec.doc
                )))
                .map(|_| 0);
        }
        let spec = spec.clone();
        let mut lowered = Vec::new();
        for (pos, (arg, kind)) in args.iter().zip(&spec.args).enumerate() {
            match kind {
                ArgKind::Scalar => {
                    let n = self.lower(arg)?;
                    if self.ir.free[n as usize] != 0 {
                        let d = Diagnostic::new(
                            ErrorKind::ArgumentKind {
                                name: func.name.clone(),
                                position: pos + 1,
                                expected: "a scalar that does not depend on index variables".into(),
                            },
                            arg.span,
                            "depends on an index variable",
                        );
                        return self.err(d).map(|_| 0);
                    }
                    lowered.push(BuiltinArg::Scalar(n));
                }
                ArgKind::Array => {
                    let found = match &arg.kind {
                        ExprKind::Name(id) => {
                            if let Some(k) =
                                self.schema.arrays.iter().position(|a| a.name == id.name && a.axes.len() == 1)
                            {
                                Some(BuiltinArg::SourceArray(k as u32))
                            } else if let Some((&name, _)) = self.defs.get_key_value(id.name.as_str()) {
                                match self.resolve_def(name, id.span)? {
                                    Value::Vector(v) => Some(BuiltinArg::Vector(v)),
                                    Value::Scalar(_) => None,
                                }
                            } else {
                                None
                            }
                        }
                        _ => None,
                    };
                    let Some(found) = found else {
                        let d = Diagnostic::new(
                            ErrorKind::ArgumentKind {
                                name: func.name.clone(),
                                position: pos + 1,
                                expected: "the name of a one-axis array or vector `let`".into(),
                            },
                            arg.span,
                            "not an array name",
                        );
                        return self.err(d).map(|_| 0);
                    };
                    lowered.push(found);
                }
            }
        }
        let s = self.ir.scalar(ScalarDef::Builtin { builtin: func.name.clone(), args: lowered });
        Ok(self.ir.intern(Node::ScalarRef(s)))
    }

    fn lower_reduce(
        &mut self,
        op: ReduceOp,
        binders: &[Binder],
        filter: Option<&Expr>,
        body: Option<&Expr>,
        span: Span,
    ) -> Lowered<NodeId> {
        let shape_error = |what: &str, help: &str| {
            Diagnostic::new(ErrorKind::ReductionShape { op: op.name().into(), what: what.into() }, span, "here")
                .with_help(help.to_string())
        };
        match op {
            ReduceOp::Count if body.is_some() => {
                return self
                    .err(shape_error("index variables and a filter, not a body", "e.g. `count(i, j where p[i,j] > 0)`"))
                    .map(|_| 0);
            }
            ReduceOp::Count => {}
            _ if body.is_none() => {
                let help = format!("write the value to reduce last, e.g. `{}(i, j, p[i,j])`", op.name());
                return self.err(shape_error("a body after the index variables", &help)).map(|_| 0);
            }
            ReduceOp::ArgMax | ReduceOp::ArgMin if binders.len() != 1 => {
                return self
                    .err(shape_error("exactly one index variable", "it returns that variable's value at the extremum"))
                    .map(|_| 0);
            }
            _ => {}
        }
        let scope_len = self.scope.len();
        let mut vars = Vec::new();
        let mut result = Ok(());
        let scope_exprs: Vec<&Expr> = filter.into_iter().chain(body).collect();
        for b in binders {
            let axis = match self.binder_axis(b, &scope_exprs) {
                Ok(a) => a,
                Err(()) => {
                    result = Err(());
                    break;
                }
            };
            match self.bind_var(axis, b.name.span) {
                Ok(v) => {
                    self.scope.push((b.name.name.clone(), v));
                    vars.push(v);
                }
                Err(()) => {
                    result = Err(());
                    break;
                }
            }
        }
        let lowered = result.and_then(|_| {
            let f = filter.map(|f| self.lower(f)).transpose();
            let y = match body {
                Some(b) => self.lower(b),
                None => Ok(self.ir.constant(1.0)),
            };
            Ok((f?, y?))
        });
        self.scope.truncate(scope_len);
        let (filter, body) = lowered?;
        if let Some(d) = self.constant_loop_error(op, &vars, span) {
            return self.err(d).map(|_| 0);
        }
        let red = Reduction { op, binders: vars, filter, body };
        let outer = self.ir.reduction_free(&red);
        let r = self.ir.reduction(red);
        match outer.count_ones() {
            0 => {
                let s = self.ir.scalar(ScalarDef::Reduce(r));
                Ok(self.ir.intern(Node::ScalarRef(s)))
            }
            1 => {
                let var = outer.trailing_zeros();
                let v = self.ir.vector(VecDef::Reduce { red: r, var });
                Ok(self.ir.intern(Node::VecRead { vec: v, at: var }))
            }
            n => {
                let d = Diagnostic::new(
                    ErrorKind::TooManyOuterIndices { count: n as usize },
                    span,
                    "depends on several enclosing index variables",
                )
                .with_help("a nested reduction may depend on at most one enclosing index variable");
                self.err(d).map(|_| 0)
            }
        }
    }
}
