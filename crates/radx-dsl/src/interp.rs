//! A direct tree-walking interpreter of the checked IR: no planning, no fusion, no scatter
//! lowering, no hoisting — every reduction and vector read is recomputed where it occurs.
//! It is slow on purpose and exists as the semantic reference the compiled evaluator
//! ([`crate::eval`]) is property-tested against.

use crate::ast::ReduceOp;
use crate::eval::{Bound, CompiledFamily, axis_values_of, find_p, run_builtin};
use crate::ir::*;
use crate::registry::{BuiltinImpl, Registry};
use crate::source::{Builtins, EvalError, FeatureValue, SourceData};

struct Interp<'a> {
    ir: &'a Ir,
    bound: Bound<'a>,
    pos: Vec<usize>,
    scalar_cache: Vec<Option<f64>>,
    registry: &'a Registry,
    builtins: &'a dyn Builtins,
    error: Option<EvalError>,
}

/// Evaluates every feature of `family` by walking its IR directly.
pub fn interpret(
    family: &CompiledFamily,
    registry: &Registry,
    data: &SourceData,
    builtins: &dyn Builtins,
) -> Result<Vec<FeatureValue>, EvalError> {
    let ir = family.ir();
    let bound = Bound::new(family.source(), data, ir)?;
    let mut it = Interp {
        ir,
        bound,
        pos: vec![0; ir.vars.len()],
        scalar_cache: vec![None; ir.scalars.len()],
        registry,
        builtins,
        error: None,
    };
    let mut out = Vec::new();
    for (f, n) in family.feature_nodes() {
        let value = it.eval(n);
        if let Some(e) = it.error.take() {
            return Err(e);
        }
        out.push(FeatureValue { name: f.name.clone(), tag: f.tag.clone(), value });
    }
    Ok(out)
}

impl Interp<'_> {
    fn axis(&mut self, v: VarId) -> Vec<f64> {
        let ir = self.ir;
        let (lo, hi) = match ir.vars[v as usize].axis {
            AxisKey::Range(lo, hi) => (self.eval(lo), self.eval(hi)),
            AxisKey::Source(_) => (0.0, 0.0),
        };
        axis_values_of(ir, &self.bound, v, &|n| if n == lo_node(ir, v) { lo } else { hi })
    }

    fn eval(&mut self, n: NodeId) -> f64 {
        let ir = self.ir;
        match &ir.nodes[n as usize] {
            Node::Const(b) => f64::from_bits(*b),
            Node::SrcScalar(k) => self.bound.scalars[*k as usize],
            Node::Reference(k) => self.bound.refs.get(*k as usize).copied().unwrap_or(f64::NAN),
            Node::Index(v) => {
                let vals = self.axis(*v);
                vals.get(self.pos[*v as usize]).copied().unwrap_or(f64::NAN)
            }
            Node::Array { array, vars } => {
                let (data, strides) = &self.bound.arrays[*array as usize];
                let off: usize = vars.iter().zip(strides.iter()).map(|(v, s)| self.pos[*v as usize] * s).sum();
                data[off]
            }
            Node::VecRead { vec, at } => {
                let var = ir.vec_var(*vec);
                let saved = self.pos[var as usize];
                self.pos[var as usize] = self.pos[*at as usize];
                let v = self.vec_at(*vec);
                self.pos[var as usize] = saved;
                v
            }
            Node::ScalarRef(s) => self.scalar(*s),
            Node::Unary(op, a) => {
                let a = self.eval(*a);
                op.apply(a)
            }
            Node::Binary(op, a, b) => {
                let a = self.eval(*a);
                let b = self.eval(*b);
                op.apply(a, b)
            }
            Node::Select(c, a, b) => {
                if self.eval(*c) != 0.0 {
                    self.eval(*a)
                } else {
                    self.eval(*b)
                }
            }
        }
    }

    fn vec_at(&mut self, vec: u32) -> f64 {
        match &self.ir.vecs[vec as usize] {
            VecDef::Reduce { red, .. } => self.reduce(*red),
            VecDef::Map { body, .. } => self.eval(*body),
        }
    }

    fn scalar(&mut self, s: u32) -> f64 {
        if let Some(v) = self.scalar_cache[s as usize] {
            return v;
        }
        let v = match &self.ir.scalars[s as usize] {
            ScalarDef::Reduce(r) => self.reduce(*r),
            ScalarDef::Builtin { builtin, args } => {
                let imp = self.registry.builtin(builtin).map_or(BuiltinImpl::Host, |b| b.implementation);
                // Pre-compute every argument, then hand them over.
                let mut scalars = std::collections::HashMap::new();
                let mut vectors = std::collections::HashMap::new();
                for a in args {
                    match a {
                        BuiltinArg::Scalar(n) => {
                            let v = self.eval(*n);
                            scalars.insert(*n, v);
                        }
                        BuiltinArg::Vector(v) => {
                            let var = self.ir.vec_var(*v);
                            let len = self.axis(var).len();
                            let saved = self.pos[var as usize];
                            let vals: Vec<f64> = (0..len)
                                .map(|t| {
                                    self.pos[var as usize] = t;
                                    self.vec_at(*v)
                                })
                                .collect();
                            self.pos[var as usize] = saved;
                            vectors.insert(*v, vals);
                        }
                        BuiltinArg::SourceArray(_) => {}
                    }
                }
                let mcc = find_p(self.ir, &self.bound);
                match run_builtin(
                    self.ir,
                    &self.bound,
                    s,
                    imp,
                    &|n| scalars.get(&n).copied().unwrap_or(f64::NAN),
                    &|v| vectors.get(&v).cloned().unwrap_or_default(),
                    mcc,
                    self.builtins,
                    // The reference interpreter sorts afresh on every call.
                    &mut crate::eval::SortedCache::default(),
                ) {
                    Ok(v) => v,
                    Err(e) => {
                        self.error = Some(e);
                        f64::NAN
                    }
                }
            }
        };
        self.scalar_cache[s as usize] = Some(v);
        v
    }

    fn reduce(&mut self, r: u32) -> f64 {
        let red = self.ir.reductions[r as usize].clone();
        let mut acc = Accum::new(red.op);
        self.reduce_from(&red, 0, &mut acc);
        acc.finish()
    }

    fn reduce_from(&mut self, red: &Reduction, depth: usize, acc: &mut Accum) {
        if depth == red.binders.len() {
            if let Some(f) = red.filter
                && self.eval(f) == 0.0
            {
                return;
            }
            let v = self.eval(red.body);
            let arg = if matches!(red.op, ReduceOp::ArgMax | ReduceOp::ArgMin) {
                let b = red.binders[0];
                let vals = self.axis(b);
                vals[self.pos[b as usize]]
            } else {
                0.0
            };
            acc.push(v, arg);
            return;
        }
        let b = red.binders[depth];
        let len = self.axis(b).len();
        let saved = self.pos[b as usize];
        for t in 0..len {
            self.pos[b as usize] = t;
            self.reduce_from(red, depth + 1, acc);
        }
        self.pos[b as usize] = saved;
    }
}

fn lo_node(ir: &Ir, v: VarId) -> NodeId {
    match ir.vars[v as usize].axis {
        AxisKey::Range(lo, _) => lo,
        AxisKey::Source(_) => NodeId::MAX,
    }
}

struct Accum {
    op: ReduceOp,
    value: f64,
    count: f64,
    arg: f64,
}

impl Accum {
    fn new(op: ReduceOp) -> Self {
        let value = match op {
            ReduceOp::Prod => 1.0,
            ReduceOp::Max | ReduceOp::ArgMax => f64::NEG_INFINITY,
            ReduceOp::Min | ReduceOp::ArgMin => f64::INFINITY,
            _ => 0.0,
        };
        Accum { op, value, count: 0.0, arg: f64::NAN }
    }
    fn push(&mut self, v: f64, arg: f64) {
        self.count += 1.0;
        match self.op {
            ReduceOp::Sum | ReduceOp::Mean => self.value += v,
            ReduceOp::Count => self.value += 1.0,
            ReduceOp::Prod => self.value *= v,
            ReduceOp::Max => {
                if v > self.value {
                    self.value = v
                }
            }
            ReduceOp::Min => {
                if v < self.value {
                    self.value = v
                }
            }
            ReduceOp::ArgMax => {
                if v > self.value {
                    self.value = v;
                    self.arg = arg;
                }
            }
            ReduceOp::ArgMin => {
                if v < self.value {
                    self.value = v;
                    self.arg = arg;
                }
            }
        }
    }
    fn finish(self) -> f64 {
        match self.op {
            ReduceOp::Sum | ReduceOp::Count | ReduceOp::Prod => self.value,
            ReduceOp::Mean => self.value / self.count,
            _ if self.count == 0.0 => f64::NAN,
            ReduceOp::ArgMax | ReduceOp::ArgMin => self.arg,
            _ => self.value,
        }
    }
}
