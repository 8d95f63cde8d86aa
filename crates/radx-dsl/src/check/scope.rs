//! Names and index variables: resolving `let`s and features on demand (with cycle
//! detection), binding index variables to axes, and the messages for unknown names.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn err(&mut self, d: Diagnostic) -> Lowered<()> {
        self.errors.push(d);
        Err(())
    }

    /// Lowers a `let` or feature on demand (in an empty scope), detecting cycles.
    pub(super) fn resolve_def(&mut self, name: &'a str, use_span: Span) -> Lowered<Value> {
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

    pub(super) fn lower_vector_let(&mut self, l: &ast::LetDef, b: &Binder) -> Lowered<Value> {
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
    pub(super) fn bind_var(&mut self, axis: AxisKey, span: Span) -> Lowered<VarId> {
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
    pub(super) fn binder_axis(&mut self, b: &Binder, scope_exprs: &[&Expr]) -> Lowered<AxisKey> {
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
    pub(super) fn constant_range_len(&self, lo: NodeId, hi: NodeId) -> Option<f64> {
        let (lo, hi) = (self.ir.const_value(lo)?, self.ir.const_value(hi)?);
        Some(if hi >= lo { (hi - lo).floor() + 1.0 } else { 0.0 })
    }

    /// A range with constant bounds that no evaluation could run: a bound not finite, or
    /// more values than the evaluation budget.
    pub(super) fn constant_range_error(&self, b: &Binder, lo_n: NodeId, hi_n: NodeId) -> Option<Diagnostic> {
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
    pub(super) fn constant_loop_error(&self, op: ReduceOp, vars: &[VarId], span: Span) -> Option<Diagnostic> {
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

    pub(super) fn axis_name(&self, a: AxisKey) -> String {
        match a {
            AxisKey::Source(n) => format!("axis `{}`", self.schema.axes[n as usize].name),
            AxisKey::Range(lo, hi) => {
                let show = |n: NodeId| self.ir.const_value(n).map_or("…".to_string(), |v| format!("{v}"));
                format!("the range {}..{}", show(lo), show(hi))
            }
        }
    }

    pub(super) fn free_name(&self, n: NodeId) -> String {
        let mask = self.ir.free[n as usize];
        self.scope.iter().rev().find(|(_, v)| mask & bit(*v) != 0).map_or("?".into(), |(name, _)| name.clone())
    }

    /// Finds where `name` indexes an array inside `e` (honouring shadowing), with the axis.
    pub(super) fn collect_uses(
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
    pub(super) fn array_rank(&self, array: &Ident) -> Option<usize> {
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
    pub(super) fn index_arity(&self, array: &Ident, found: usize, span: Span) -> Diagnostic {
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
    pub(super) fn array_axis(&mut self, array: &Ident, pos: usize) -> Option<AxisKey> {
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

    pub(super) fn is_known(&self, name: &str) -> bool {
        self.scope.iter().any(|(n, _)| n == name)
            || self.defs.contains_key(name)
            || self.schema.arrays.iter().any(|a| a.name == name)
            || self.schema.scalars.iter().any(|a| a.name == name)
    }

    pub(super) fn resolve_def_quiet(&mut self, name: &'a str, span: Span) -> Lowered<Value> {
        // Resolving inside an axis scan happens in the middle of another definition's
        // scope; `resolve_def` saves and restores the scope itself.
        self.resolve_def(name, span)
    }

    pub(super) fn visible_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.scope.iter().map(|(n, _)| n.clone()).collect();
        v.extend(self.defs.keys().map(|k| k.to_string()));
        v.extend(self.schema.scalars.iter().map(|s| s.name.clone()));
        v.extend(self.schema.arrays.iter().map(|s| s.name.clone()));
        v
    }

    pub(super) fn unknown_name(&mut self, id: &Ident) -> Lowered<NodeId> {
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
    pub(super) fn other_source_name(&self, id: &Ident) -> Option<Diagnostic> {
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
}
