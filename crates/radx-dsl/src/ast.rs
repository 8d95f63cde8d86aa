//! Syntax tree of a `.radx` file, exactly as written, with a byte span on every node.
//!
//! The tree is produced by [`crate::parser`] and consumed by [`crate::check`]. `Display`
//! prints canonical source text (fully parenthesised where precedence could matter), so
//! `parse(print(ast)) == ast` up to spans — a property the test suite checks.
//! Formulas follow the IBSI reference manual (chapter 3, "Image features").

use std::fmt;
use std::ops::Range;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

/// A name with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub families: Vec<Family>,
}

/// `[override] family NAME over SOURCE(args) [for AGGREGATION, …] { members }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub doc: Option<String>,
    /// Where `override` is written, if it is: the family replaces an earlier one of its name.
    pub overrides: Option<Span>,
    pub name: Ident,
    pub source: Ident,
    pub args: Vec<SourceArg>,
    /// The aggregations named after `for` (`2d_avg`, `3d_mrg`, …), as written; empty when
    /// there is no `for` (the family runs for every aggregation of its source).
    pub aggregations: Vec<Ident>,
    pub members: Vec<Member>,
    pub span: Span,
}

/// `name = literal` in a family's source parameter list.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceArg {
    pub name: Ident,
    pub value: Literal,
    pub span: Span,
}

/// A literal parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Bool(bool),
    Str(String),
}

/// A `let` or a `feature`.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    Let(LetDef),
    Feature(FeatureDef),
}

/// `let NAME = expr`, `let NAME[i] = expr` or `let NAME[k in lo..hi] = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct LetDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub index: Option<Binder>,
    pub value: Expr,
    pub span: Span,
}

/// `feature NAME "TAG" = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub tag: String,
    pub tag_span: Span,
    pub value: Expr,
    pub span: Span,
}

/// An index variable introduced by a reduction or a vector `let`, with an optional range.
#[derive(Debug, Clone, PartialEq)]
pub struct Binder {
    pub name: Ident,
    pub range: Option<(Box<Expr>, Box<Expr>)>,
    pub span: Span,
}

/// Binary operators, in source spelling order of precedence (low to high).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
        }
    }
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

/// Reductions over index variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Mean,
    Max,
    Min,
    Count,
    ArgMax,
    ArgMin,
    Prod,
}

impl ReduceOp {
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Mean => "mean",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::Count => "count",
            ReduceOp::ArgMax => "argmax",
            ReduceOp::ArgMin => "argmin",
            ReduceOp::Prod => "prod",
        }
    }
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sum" => ReduceOp::Sum,
            "mean" => ReduceOp::Mean,
            "max" => ReduceOp::Max,
            "min" => ReduceOp::Min,
            "count" => ReduceOp::Count,
            "argmax" => ReduceOp::ArgMax,
            "argmin" => ReduceOp::ArgMin,
            "prod" => ReduceOp::Prod,
            _ => return None,
        })
    }
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(f64),
    Bool(bool),
    Name(Ident),
    Index {
        array: Ident,
        indices: Vec<Ident>,
    },
    /// `family.feature`: the value of another family's feature.
    Ref {
        family: Ident,
        feature: Ident,
    },
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Reduce {
        op: ReduceOp,
        binders: Vec<Binder>,
        filter: Option<Box<Expr>>,
        body: Option<Box<Expr>>,
    },
}

/// Equality that ignores spans (used by the pretty-print round-trip property).
pub trait SameShape {
    fn same_shape(&self, other: &Self) -> bool;
}

impl SameShape for Expr {
    fn same_shape(&self, other: &Self) -> bool {
        use ExprKind::*;
        let opt = |a: &Option<Box<Expr>>, b: &Option<Box<Expr>>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.same_shape(b),
            _ => false,
        };
        match (&self.kind, &other.kind) {
            (Number(a), Number(b)) => a.to_bits() == b.to_bits(),
            (Bool(a), Bool(b)) => a == b,
            (Name(a), Name(b)) => a.name == b.name,
            (Ref { family: f1, feature: a }, Ref { family: f2, feature: b }) => f1.name == f2.name && a.name == b.name,
            (Index { array: a, indices: ai }, Index { array: b, indices: bi }) => {
                a.name == b.name && ai.len() == bi.len() && ai.iter().zip(bi).all(|(x, y)| x.name == y.name)
            }
            (Call { func: a, args: aa }, Call { func: b, args: ba }) => {
                a.name == b.name && aa.len() == ba.len() && aa.iter().zip(ba).all(|(x, y)| x.same_shape(y))
            }
            (Unary(o1, a), Unary(o2, b)) => o1 == o2 && a.same_shape(b),
            (Binary(o1, a1, b1), Binary(o2, a2, b2)) => o1 == o2 && a1.same_shape(a2) && b1.same_shape(b2),
            (If { cond: c1, then: t1, otherwise: e1 }, If { cond: c2, then: t2, otherwise: e2 }) => {
                c1.same_shape(c2) && t1.same_shape(t2) && e1.same_shape(e2)
            }
            (
                Reduce { op: o1, binders: b1, filter: f1, body: y1 },
                Reduce { op: o2, binders: b2, filter: f2, body: y2 },
            ) => {
                o1 == o2
                    && b1.len() == b2.len()
                    && b1.iter().zip(b2).all(|(x, y)| x.same_shape(y))
                    && opt(f1, f2)
                    && opt(y1, y2)
            }
            _ => false,
        }
    }
}

impl SameShape for Binder {
    fn same_shape(&self, other: &Self) -> bool {
        self.name.name == other.name.name
            && match (&self.range, &other.range) {
                (None, None) => true,
                (Some((a, b)), Some((c, d))) => a.same_shape(c) && b.same_shape(d),
                _ => false,
            }
    }
}

impl SameShape for File {
    fn same_shape(&self, other: &Self) -> bool {
        self.families.len() == other.families.len()
            && self.families.iter().zip(&other.families).all(|(a, b)| {
                a.doc == b.doc
                    && a.overrides.is_some() == b.overrides.is_some()
                    && a.name.name == b.name.name
                    && a.source.name == b.source.name
                    && a.aggregations.len() == b.aggregations.len()
                    && a.aggregations.iter().zip(&b.aggregations).all(|(x, y)| x.name == y.name)
                    && a.args.len() == b.args.len()
                    && a.args.iter().zip(&b.args).all(|(x, y)| x.name.name == y.name.name && x.value == y.value)
                    && a.members.len() == b.members.len()
                    && a.members.iter().zip(&b.members).all(|(x, y)| match (x, y) {
                        (Member::Let(x), Member::Let(y)) => {
                            x.doc == y.doc
                                && x.name.name == y.name.name
                                && match (&x.index, &y.index) {
                                    (None, None) => true,
                                    (Some(a), Some(b)) => a.same_shape(b),
                                    _ => false,
                                }
                                && x.value.same_shape(&y.value)
                        }
                        (Member::Feature(x), Member::Feature(y)) => {
                            x.doc == y.doc
                                && x.name.name == y.name.name
                                && x.tag == y.tag
                                && x.value.same_shape(&y.value)
                        }
                        _ => false,
                    })
            })
    }
}

/// Numbers print in Rust's shortest round-trip form; the grammar has no sign or `inf`, so
/// negative values print as a negation and non-finite values as a quotient.
fn write_number(f: &mut fmt::Formatter<'_>, v: f64) -> fmt::Result {
    if v.is_nan() {
        write!(f, "(0 / 0)")
    } else if v.is_infinite() {
        write!(f, "({}1 / 0)", if v < 0.0 { "-" } else { "" })
    } else if v < 0.0 || (v == 0.0 && v.is_sign_negative()) {
        write!(f, "(-")?;
        write_number(f, -v)?;
        write!(f, ")")
    } else {
        // `{:?}` gives e.g. `1e-7` or `0.5`, both valid number literals.
        write!(f, "{v:?}")
    }
}

impl fmt::Display for Binder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name.name)?;
        if let Some((lo, hi)) = &self.range {
            write!(f, " in {lo}..{hi}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(v) => write_number(f, *v),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Name(n) => write!(f, "{}", n.name),
            ExprKind::Ref { family, feature } => write!(f, "{}.{}", family.name, feature.name),
            ExprKind::Index { array, indices } => {
                write!(f, "{}[", array.name)?;
                for (k, i) in indices.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}", i.name)?;
                }
                write!(f, "]")
            }
            ExprKind::Call { func, args } => {
                write!(f, "{}(", func.name)?;
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
            ExprKind::Unary(UnOp::Neg, e) => write!(f, "(-{e})"),
            ExprKind::Unary(UnOp::Not, e) => write!(f, "(!{e})"),
            ExprKind::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            ExprKind::If { cond, then, otherwise } => write!(f, "(if {cond} then {then} else {otherwise})"),
            ExprKind::Reduce { op, binders, filter, body } => {
                write!(f, "{}(", op.name())?;
                for (k, b) in binders.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{b}")?;
                }
                if let Some(w) = filter {
                    write!(f, " where {w}")?;
                }
                if let Some(b) = body {
                    write!(f, ", {b}")?;
                }
                write!(f, ")")
            }
        }
    }
}

fn write_doc(f: &mut fmt::Formatter<'_>, doc: &Option<String>, indent: &str) -> fmt::Result {
    if let Some(d) = doc {
        for line in d.split('\n') {
            writeln!(f, "{indent}##{line}")?;
        }
    }
    Ok(())
}

impl fmt::Display for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for fam in &self.families {
            write_doc(f, &fam.doc, "")?;
            if fam.overrides.is_some() {
                write!(f, "override ")?;
            }
            write!(f, "family {} over {}", fam.name.name, fam.source.name)?;
            if !fam.args.is_empty() {
                write!(f, "(")?;
                for (k, a) in fam.args.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    match &a.value {
                        Literal::Number(v) => write!(f, "{} = {v:?}", a.name.name)?,
                        Literal::Bool(b) => write!(f, "{} = {b}", a.name.name)?,
                        Literal::Str(s) => write!(f, "{} = \"{s}\"", a.name.name)?,
                    }
                }
                write!(f, ")")?;
            }
            for (k, a) in fam.aggregations.iter().enumerate() {
                write!(f, "{}{}", if k == 0 { " for " } else { ", " }, a.name)?;
            }
            writeln!(f, " {{")?;
            for m in &fam.members {
                match m {
                    Member::Let(l) => {
                        write_doc(f, &l.doc, "  ")?;
                        write!(f, "  let {}", l.name.name)?;
                        if let Some(b) = &l.index {
                            write!(f, "[{b}]")?;
                        }
                        writeln!(f, " = {}", l.value)?;
                    }
                    Member::Feature(d) => {
                        write_doc(f, &d.doc, "  ")?;
                        writeln!(f, "  feature {} \"{}\" = {}", d.name.name, d.tag, d.value)?;
                    }
                }
            }
            writeln!(f, "}}")?;
        }
        Ok(())
    }
}
