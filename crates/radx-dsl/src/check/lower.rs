//! Lowering checked expressions into the hash-consed IR: names, references to other
//! families, indexing, calls and reductions.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn lower(&mut self, e: &Expr) -> Lowered<NodeId> {
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

    pub(super) fn lower_name(&mut self, id: &Ident) -> Lowered<NodeId> {
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
    pub(super) fn lower_reference(&mut self, family: &Ident, feature: &Ident) -> Lowered<NodeId> {
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

    pub(super) fn lower_index(&mut self, array: &Ident, indices: &[Ident]) -> Lowered<NodeId> {
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

    pub(super) fn lower_call(&mut self, func: &Ident, args: &[Expr], span: Span) -> Lowered<NodeId> {
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

    pub(super) fn lower_reduce(
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
