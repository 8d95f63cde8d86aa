//! Why a feature is not finite: after an evaluation, the expression of a feature whose value
//! is NaN or infinite is walked back to the first operation that made a non-finite value
//! out of finite operands (a division by zero, the logarithm of a negative number, an
//! overflow, …), so a host's note says what happened rather than guess.
//!
//! The walk reads the values the evaluation kept (scalars, vectors, source data) and
//! re-evaluates only the expressions inside loops, one entry at a time, stopping at the
//! first non-finite entry: at most one more pass over each reduction it descends into.

use super::*;

/// What made a value NaN or infinite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NonFinite {
    /// `x / 0` (±inf, or NaN for `0 / 0`), or `0 ^ y` with `y < 0`.
    DivisionByZero,
    /// `log(0)` and the other logarithms of zero (−inf).
    LogOfZero,
    /// The logarithm of a negative number (NaN).
    LogOfNegative,
    /// `sqrt` of a negative number (NaN).
    SqrtOfNegative,
    /// Finite operands whose result is beyond ±1.8 × 10^308 (`exp(1000)`, a sum of huge values).
    Overflow,
    /// A negative number to a fractional power (NaN).
    NegativeToFractionalPower,
    /// `mean`, `max`, `min`, `argmax` or `argmin` over no entries (nothing passed its filter).
    EmptyReduction { op: &'static str },
    /// The source's own data (an array entry or scalar) is not finite.
    SourceValue,
    /// A builtin returned it.
    Builtin { name: String },
    /// Reference number `index` of the family (another family's feature) is not finite;
    /// the host names it ([`super::CompiledFamily::references`]).
    Referenced { index: usize },
}

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NonFinite::DivisionByZero => f.write_str("a division by zero"),
            NonFinite::LogOfZero => f.write_str("the logarithm of zero"),
            NonFinite::LogOfNegative => f.write_str("the logarithm of a negative number"),
            NonFinite::SqrtOfNegative => f.write_str("the square root of a negative number"),
            NonFinite::Overflow => f.write_str("an overflow (a result beyond ±1.8e308)"),
            NonFinite::NegativeToFractionalPower => f.write_str("a negative number to a fractional power"),
            NonFinite::EmptyReduction { op } => write!(f, "a `{op}` over no entries"),
            NonFinite::SourceValue => f.write_str("a value of the source data that is not finite"),
            NonFinite::Builtin { name } => write!(f, "builtin `{name}`"),
            NonFinite::Referenced { index } => write!(f, "referenced feature number {} of the family", index + 1),
        }
    }
}

/// Entries a cause search visits at most (beyond it, no cause is given).
const MAX_VISITS: u64 = 1 << 28;

struct Walk<'s, 'b> {
    st: &'s mut State,
    ir: &'s Ir,
    bound: &'s Bound<'b>,
    visits: u64,
}

impl Walk<'_, '_> {
    /// The value of node `n` at the current loop positions.
    fn value(&self, n: NodeId) -> f64 {
        let st = &*self.st;
        match &self.ir.nodes[n as usize] {
            Node::Const(b) => f64::from_bits(*b),
            Node::SrcScalar(k) => self.bound.scalars[*k as usize],
            Node::Reference(k) => self.bound.refs.get(*k as usize).copied().unwrap_or(f64::NAN),
            Node::Index(v) => st.axis_vals[*v as usize].get(st.pos[*v as usize]).copied().unwrap_or(f64::NAN),
            Node::Array { array, vars } => {
                let (data, strides) = &self.bound.arrays[*array as usize];
                let off: usize = vars.iter().zip(strides.iter()).map(|(v, s)| st.pos[*v as usize] * s).sum();
                data.get(off).copied().unwrap_or(f64::NAN)
            }
            Node::VecRead { vec, at } => st.vecs[*vec as usize].get(st.pos[*at as usize]).copied().unwrap_or(f64::NAN),
            Node::ScalarRef(k) => st.scalars[*k as usize],
            Node::Unary(op, a) => op.apply(self.value(*a)),
            Node::Binary(op, a, b) => op.apply(self.value(*a), self.value(*b)),
            Node::Select(c, a, b) => {
                if self.value(*c) != 0.0 {
                    self.value(*a)
                } else {
                    self.value(*b)
                }
            }
        }
    }

    /// Why node `n` is not finite at the current positions (`None`: it is, or no cause found).
    fn cause(&mut self, n: NodeId) -> Option<NonFinite> {
        if self.value(n).is_finite() {
            return None;
        }
        match self.ir.nodes[n as usize].clone() {
            Node::Const(_) | Node::Index(_) => None,
            Node::SrcScalar(_) | Node::Array { .. } => Some(NonFinite::SourceValue),
            Node::Reference(k) => Some(NonFinite::Referenced { index: k as usize }),
            Node::VecRead { vec, at } => {
                let at = self.st.pos[at as usize];
                self.vec_cause(vec, at)
            }
            Node::ScalarRef(s) => match self.ir.scalars[s as usize].clone() {
                ScalarDef::Builtin { builtin, .. } => Some(NonFinite::Builtin { name: builtin }),
                ScalarDef::Reduce(r) => self.reduction_cause(r),
            },
            Node::Unary(op, a) => {
                let x = self.value(a);
                if !x.is_finite() { self.cause(a) } else { Some(unary_cause(op, x)) }
            }
            Node::Binary(op, a, b) => {
                let (x, y) = (self.value(a), self.value(b));
                if !x.is_finite() {
                    self.cause(a)
                } else if !y.is_finite() {
                    self.cause(b)
                } else {
                    Some(binary_cause(op, x, y))
                }
            }
            Node::Select(c, a, b) => {
                if self.value(c) != 0.0 {
                    self.cause(a)
                } else {
                    self.cause(b)
                }
            }
        }
    }

    fn vec_cause(&mut self, vec: u32, at: usize) -> Option<NonFinite> {
        let (var, inner) = match self.ir.vecs[vec as usize] {
            VecDef::Reduce { red, var } => (var, Err(red)),
            VecDef::Map { var, body } => (var, Ok(body)),
        };
        let saved = std::mem::replace(&mut self.st.pos[var as usize], at);
        let cause = match inner {
            Ok(body) => self.cause(body),
            Err(red) => self.reduction_cause(red),
        };
        self.st.pos[var as usize] = saved;
        cause
    }

    /// Visits a reduction's entries until one is not finite; with none, the reduction itself
    /// made the value (an empty mean, or a sum that overflowed).
    fn reduction_cause(&mut self, red: u32) -> Option<NonFinite> {
        let r = self.ir.reductions[red as usize].clone();
        let saved: Vec<usize> = r.binders.iter().map(|v| self.st.pos[*v as usize]).collect();
        let scan = self.scan(&r);
        for (v, p) in r.binders.iter().zip(saved) {
            self.st.pos[*v as usize] = p;
        }
        match scan {
            Scan::Found(cause) => cause,
            Scan::GaveUp => None,
            Scan::AllFinite { entries: 0 } => match r.op {
                ReduceOp::Mean | ReduceOp::Max | ReduceOp::Min | ReduceOp::ArgMax | ReduceOp::ArgMin => {
                    Some(NonFinite::EmptyReduction { op: r.op.name() })
                }
                _ => None,
            },
            Scan::AllFinite { .. } => Some(NonFinite::Overflow),
        }
    }

    /// The entries of reduction `r` in loop order (last binder fastest), up to the first
    /// whose body is not finite.
    fn scan(&mut self, r: &Reduction) -> Scan {
        let lens: Vec<usize> = r.binders.iter().map(|v| self.st.axis_vals[*v as usize].len()).collect();
        let mut entries = 0u64;
        if lens.contains(&0) {
            return Scan::AllFinite { entries };
        }
        let mut idx = vec![0usize; lens.len()];
        loop {
            self.visits += 1;
            if self.visits > MAX_VISITS {
                return Scan::GaveUp;
            }
            for (v, &i) in r.binders.iter().zip(&idx) {
                self.st.pos[*v as usize] = i;
            }
            if r.filter.is_none_or(|f| self.value(f) != 0.0) {
                entries += 1;
                if !self.value(r.body).is_finite() {
                    return Scan::Found(self.cause(r.body));
                }
            }
            let Some(d) = (0..idx.len()).rev().find(|&d| idx[d] + 1 < lens[d]) else {
                return Scan::AllFinite { entries };
            };
            idx[d] += 1;
            idx[d + 1..].iter_mut().for_each(|i| *i = 0);
        }
    }
}

/// What a scan of a reduction's entries found.
enum Scan {
    /// An entry that is not finite, and its cause.
    Found(Option<NonFinite>),
    /// Every entry passing the filter (this many) is finite.
    AllFinite { entries: u64 },
    /// More than [`MAX_VISITS`] entries visited.
    GaveUp,
}

fn unary_cause(op: Un, x: f64) -> NonFinite {
    match op {
        Un::Log | Un::Log2 | Un::Log10 if x == 0.0 => NonFinite::LogOfZero,
        Un::Log | Un::Log2 | Un::Log10 => NonFinite::LogOfNegative,
        Un::Sqrt => NonFinite::SqrtOfNegative,
        _ => NonFinite::Overflow,
    }
}

fn binary_cause(op: Bin, x: f64, y: f64) -> NonFinite {
    match op {
        Bin::Div if y == 0.0 => NonFinite::DivisionByZero,
        Bin::Pow if x == 0.0 && y < 0.0 => NonFinite::DivisionByZero,
        Bin::Pow if x < 0.0 && y.fract() != 0.0 => NonFinite::NegativeToFractionalPower,
        _ => NonFinite::Overflow,
    }
}

impl CompiledFamily {
    /// Evaluates like [`Self::evaluate_values_within`] and, for each feature whose value is
    /// NaN or infinite, says what made it so (`None` for finite values, or when no cause is
    /// found). Costs about a second evaluation; hosts call it only when a value is not finite.
    pub fn explain_nonfinite(
        &self,
        data: &SourceData,
        builtins: &dyn Builtins,
        budget: &mut EvalBudget,
    ) -> Result<Vec<Option<NonFinite>>, EvalError> {
        self.explain_nonfinite_with_refs(data, builtins, budget, &[])
    }

    /// [`Self::explain_nonfinite`] with the values of the family's references, as
    /// [`Self::evaluate_values_with_refs`] takes them.
    pub fn explain_nonfinite_with_refs(
        &self,
        data: &SourceData,
        builtins: &dyn Builtins,
        budget: &mut EvalBudget,
        refs: &[f64],
    ) -> Result<Vec<Option<NonFinite>>, EvalError> {
        let mut st = self.scratch.take();
        let result = self.evaluate_with(&mut st, data, builtins, budget, refs).and_then(|()| {
            let values = std::mem::take(&mut st.values);
            let ir = &self.checked.ir;
            let bound = Bound::with_use(&self.checked.schema, data, &self.source_use)?.with_refs(refs);
            let mut walk = Walk { st: &mut st, ir, bound: &bound, visits: 0 };
            Ok(self
                .checked
                .features
                .iter()
                .zip(values)
                .map(|((_, n), v)| {
                    if v.is_finite() {
                        return None;
                    }
                    walk.st.pos.iter_mut().for_each(|p| *p = 0);
                    walk.cause(*n)
                })
                .collect())
        });
        self.scratch.give(st);
        result
    }
}
