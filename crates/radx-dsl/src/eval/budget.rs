//! The evaluation budget: how many operations a family may spend on one case, so that a
//! feature whose loops are too long for its data (a double sum over two ranges of 2^24
//! integers, a range up to `1e300`) stops with an error naming it instead of running for
//! days or exhausting memory.
//!
//! An *operation* is one iteration of a loop nest (the innermost body run once for one
//! combination of index values) or one element of a range's values. Builtins are not
//! counted: each is linear (or `n log n`) in data the host already holds.

use super::*;

/// The default budget, per family and aggregation on one case: 2^40 ≈ 1.1 × 10^12
/// operations, minutes of evaluation at worst. Every shipped family on a 512 × 512 × 200
/// case (52 million voxels, 4096 grey levels, 2D aggregations over every slice) needs
/// well under a hundredth of it; a double sum over two 2^24-element ranges (2^48) is refused.
pub const DEFAULT_EVAL_BUDGET: u64 = 1 << 40;

/// Operations left for one family on one case, shared by the evaluations of its matrices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalBudget {
    budget: u64,
    left: u64,
}

impl EvalBudget {
    /// A budget of `budget` operations.
    pub fn new(budget: u64) -> Self {
        EvalBudget { budget, left: budget }
    }
    /// The budget it started with.
    pub fn budget(&self) -> u64 {
        self.budget
    }
    /// Operations spent so far.
    pub fn used(&self) -> u64 {
        self.budget - self.left
    }
    /// Takes `ops` operations (a float: loop products can exceed `u64`), or gives back
    /// `ops` unchanged when fewer are left (nothing is taken then).
    fn charge(&mut self, ops: f64) -> Result<(), f64> {
        if ops > self.left as f64 {
            return Err(ops);
        }
        // `ops <= left <= u64::MAX`, so the cast is exact for integers up to 2^53 and within
        // one ulp above; `min` keeps rounding from taking more than is left.
        self.left -= (ops as u64).min(self.left);
        Ok(())
    }
}

impl Default for EvalBudget {
    fn default() -> Self {
        EvalBudget::new(DEFAULT_EVAL_BUDGET)
    }
}

/// Why an evaluation stopped before running a pass.
pub(super) enum Overrun {
    /// The pass (by its loop variables and accumulator targets) or a range it needs would
    /// take `needed` operations, more than are left.
    Budget { needed: f64, blame: Blame },
    /// Range variable `var` has a non-finite bound.
    Range { var: VarId, lo: f64, hi: f64 },
}

/// What an overrun is charged to: a range variable, or a pass's accumulators.
pub(super) enum Blame {
    Var(VarId),
    Targets(Vec<Target>),
}

impl State {
    /// Charges a pass to `budget` before it runs: the values of every range it loops over or
    /// writes a vector along (before they are allocated), then its iteration count.
    pub(super) fn charge_pass(
        &mut self,
        ir: &Ir,
        bound: &Bound<'_>,
        pass: &Pass,
        budget: &mut EvalBudget,
    ) -> Result<(), Overrun> {
        let mut iterations = 1.0f64;
        for &v in &pass.loops {
            iterations *= self.charged_len(ir, bound, v, budget)? as f64;
        }
        for PassAcc { acc, .. } in &pass.accs {
            if let Target::VecScatter { vec, .. } = acc.target {
                self.charged_len(ir, bound, ir.vec_var(vec), budget)?;
            }
        }
        budget.charge(iterations).map_err(|needed| Overrun::Budget {
            needed,
            blame: Blame::Targets(pass.accs.iter().map(|pa| pa.acc.target.clone()).collect()),
        })
    }

    /// The length of `var`'s values, computing them (a range's after charging its length).
    fn charged_len(
        &mut self,
        ir: &Ir,
        bound: &Bound<'_>,
        var: VarId,
        budget: &mut EvalBudget,
    ) -> Result<usize, Overrun> {
        if self.axis_vals[var as usize].is_empty()
            && let AxisKey::Range(lo, hi) = ir.vars[var as usize].axis
        {
            let (lo, hi) = (self.scal[lo as usize], self.scal[hi as usize]);
            if !(lo.is_finite() && hi.is_finite()) {
                return Err(Overrun::Range { var, lo, hi });
            }
            if hi >= lo {
                let n = (hi - lo).floor() + 1.0;
                budget.charge(n).map_err(|needed| Overrun::Budget { needed, blame: Blame::Var(var) })?;
            }
        }
        Ok(self.var_len(ir, bound, var))
    }
}

/// What each feature's value reads, transitively: the scalars, vectors and index variables
/// (for the error of an overrun, which names the first feature that needed the work).
struct Reach {
    scalars: Vec<bool>,
    vecs: Vec<bool>,
    vars: Vec<bool>,
}

impl Reach {
    fn of(ir: &Ir, root: NodeId) -> Reach {
        let mut r = Reach {
            scalars: vec![false; ir.scalars.len()],
            vecs: vec![false; ir.vecs.len()],
            vars: vec![false; ir.vars.len()],
        };
        let mut seen = vec![false; ir.nodes.len()];
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n as usize], true) {
                continue;
            }
            match &ir.nodes[n as usize] {
                Node::Const(_) | Node::SrcScalar(_) | Node::Reference(_) => {}
                Node::Index(v) => r.var(ir, *v, &mut stack),
                Node::Array { vars, .. } => vars.iter().for_each(|v| r.var(ir, *v, &mut stack)),
                Node::VecRead { vec, at } => {
                    r.var(ir, *at, &mut stack);
                    r.vec(ir, *vec, &mut stack);
                }
                Node::ScalarRef(s) => {
                    if !std::mem::replace(&mut r.scalars[*s as usize], true) {
                        match &ir.scalars[*s as usize] {
                            ScalarDef::Reduce(red) => r.reduction(ir, *red, &mut stack),
                            ScalarDef::Builtin { args, .. } => {
                                for a in args {
                                    match a {
                                        BuiltinArg::Scalar(m) => stack.push(*m),
                                        BuiltinArg::Vector(v) => r.vec(ir, *v, &mut stack),
                                        BuiltinArg::SourceArray(_) => {}
                                    }
                                }
                            }
                        }
                    }
                }
                Node::Unary(_, a) => stack.push(*a),
                Node::Binary(_, a, b) => stack.extend([*a, *b]),
                Node::Select(c, a, b) => stack.extend([*c, *a, *b]),
            }
        }
        r
    }

    fn var(&mut self, ir: &Ir, v: VarId, stack: &mut Vec<NodeId>) {
        if !std::mem::replace(&mut self.vars[v as usize], true)
            && let AxisKey::Range(lo, hi) = ir.vars[v as usize].axis
        {
            stack.extend([lo, hi]);
        }
    }

    fn vec(&mut self, ir: &Ir, vec: u32, stack: &mut Vec<NodeId>) {
        if std::mem::replace(&mut self.vecs[vec as usize], true) {
            return;
        }
        match &ir.vecs[vec as usize] {
            VecDef::Reduce { red, var } => {
                self.var(ir, *var, stack);
                self.reduction(ir, *red, stack);
            }
            VecDef::Map { var, body } => {
                self.var(ir, *var, stack);
                stack.push(*body);
            }
        }
    }

    fn reduction(&mut self, ir: &Ir, red: u32, stack: &mut Vec<NodeId>) {
        let r = &ir.reductions[red as usize];
        stack.push(r.body);
        stack.extend(r.filter);
        for &b in &r.binders {
            self.var(ir, b, stack);
        }
    }

    fn hits(&self, blame: &Blame) -> bool {
        match blame {
            Blame::Var(v) => self.vars[*v as usize],
            Blame::Targets(targets) => targets.iter().any(|t| match t {
                Target::Scalar(s) => self.scalars[*s as usize],
                Target::VecAt { vec, .. } | Target::VecScatter { vec, .. } => self.vecs[*vec as usize],
            }),
        }
    }
}

impl CompiledFamily {
    /// The error for an overrun, naming the first feature (in file order) that needs the
    /// work that overran.
    pub(super) fn overrun_error(&self, overrun: Overrun, budget: &EvalBudget) -> EvalError {
        let ir = &self.checked.ir;
        let blame = match &overrun {
            Overrun::Budget { blame, .. } => blame,
            Overrun::Range { var, .. } => &Blame::Var(*var),
        };
        let features = &self.checked.features;
        let culprit = features.iter().find(|(_, n)| Reach::of(ir, *n).hits(blame)).or(features.first());
        let (feature, line) = culprit.map_or((String::new(), 0), |(f, _)| (f.name.clone(), f.line));
        match overrun {
            Overrun::Budget { needed, .. } => {
                EvalError::Budget { feature, line, needed, left: budget.left, budget: budget.budget }
            }
            Overrun::Range { lo, hi, .. } => EvalError::Range { feature, line, lo, hi },
        }
    }
}
