//! The compiled evaluator. A family's [`Ir`] is planned once into *stages*; each stage
//! evaluates the scalar nodes that became computable, calls builtins, then runs *passes*:
//! one loop nest per distinct set of index variables, computing every reduction and vector
//! over that set together (all GLCM features that sum over `(i, j)` share one sweep).
//!
//! Inside a pass, nodes that do not depend on the innermost variable are evaluated once per
//! outer iteration (loop-invariant hoisting); the rest are evaluated a whole row at a time
//! into reusable buffers (a vectorised interpreter: the dispatch cost is paid per row, the
//! per-entry work is a tight loop with no allocation). A vector `let` whose filter pins its
//! index (`let pxy[k in 2..2*Ng] = sum(i, j where i + j == k, p[i,j])`) is lowered to a
//! single scatter pass over `(i, j)` instead of one pass per `k`. Transcendental operations
//! used only under a filter are evaluated only where the filter holds.
//!
//! Arithmetic follows IEEE 754 and never errors: `x/0` is ±inf (NaN for `0/0`), `log(0)` is
//! -inf, `sqrt(-1)` is NaN. Empty reductions: `sum` 0, `count` 0, `prod` 1, and `mean`,
//! `max`, `min`, `argmax`, `argmin` NaN. `max`/`min` ignore NaN entries.
//! Evaluation is deterministic: the order of every floating-point operation is fixed by the plan.

use crate::ast::ReduceOp;
use crate::check::{CheckedFamily, FeatureInfo};
use crate::ir::*;
use crate::registry::{BuiltinImpl, Registry, SourceSchema};
use crate::source::{BuiltinValue, Builtins, EvalError, FeatureValue, SourceData};

/// Where an accumulator writes.
#[derive(Debug, Clone)]
enum Target {
    Scalar(u32),
    /// `vec[position of var]`.
    VecAt {
        vec: u32,
        var: VarId,
    },
    /// `vec[value of index - lo]` (the scatter lowering).
    VecScatter {
        vec: u32,
        index: NodeId,
        lo: NodeId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AccOp {
    Reduce(ReduceOp),
    /// Element-wise definition of a vector `let` (each slot written once).
    Assign,
}

#[derive(Debug, Clone)]
struct Acc {
    op: AccOp,
    filter: Option<NodeId>,
    body: NodeId,
    /// For argmax/argmin: the variable whose value is returned.
    arg_var: Option<VarId>,
    target: Target,
}

/// An operand of a row operation: a row buffer or a scalar broadcast.
#[derive(Debug, Clone, Copy)]
enum Opd {
    Row(u32),
    Scalar(NodeId),
    /// In a pass's collapsed plan (see `run_pass_collapsed`): the `k`-th value hoisted to the
    /// outer loop, as a row holding each outer iteration's value along its segment.
    Hoisted(u32),
}

#[derive(Debug, Clone)]
enum RowInstr {
    Index { dst: u32, var: VarId },
    Array { dst: u32, array: u32, vars: Vec<VarId> },
    VecRead { dst: u32, vec: u32 },
    Un { dst: u32, op: Un, a: u32, guard: Option<u32> },
    Bin { dst: u32, op: Bin, a: Opd, b: Opd, guard: Option<u32> },
    Select { dst: u32, c: Opd, a: Opd, b: Opd },
}

/// An accumulator as a pass runs it: where its body, filter and scatter index live.
#[derive(Debug, Clone)]
struct PassAcc {
    acc: Acc,
    body: Opd,
    /// When set, the body is `body * factor`, multiplied as it is summed: the product of a
    /// `sum(i, j, x * p[i,j])` is then never stored to a row and read back.
    factor: Option<Opd>,
    filter: Option<Opd>,
    index: Option<Opd>,
}

#[derive(Debug, Clone)]
struct Pass {
    loops: Vec<VarId>,
    /// Scalar nodes evaluated at loop depth `d` (for every `d` but the innermost).
    per_depth: Vec<Vec<NodeId>>,
    rows: Vec<RowInstr>,
    /// Per row instruction: its value depends on the innermost variable alone (`level[j]`,
    /// `py[j]`, …), so the row is the same for every outer iteration and is computed once.
    row_invariant: Vec<bool>,
    /// Row slot of each node evaluated per row (`u32::MAX` if none).
    n_slots: usize,
    accs: Vec<PassAcc>,
    /// For a pass over two loops, `rows` and `accs` as a collapsed run reads them (see
    /// `run_pass_collapsed`): operands hoisted to the outer loop (`per_depth[0]`) become
    /// `Opd::Hoisted` rows. Empty for other passes.
    collapsed_rows: Vec<RowInstr>,
    collapsed_accs: Vec<PassAcc>,
}

#[derive(Debug, Clone, Default)]
struct Stage {
    scalar_nodes: Vec<NodeId>,
    builtins: Vec<u32>,
    passes: Vec<Pass>,
}

/// A family compiled to an evaluation plan.
#[derive(Debug, Clone)]
pub struct CompiledFamily {
    pub(crate) checked: CheckedFamily,
    builtin_impls: Vec<(u32, BuiltinImpl)>,
    stages: Vec<Stage>,
    scratch: ScratchPool,
}

fn u(op: ReduceOp) -> AccOp {
    AccOp::Reduce(op)
}

impl CompiledFamily {
    /// Family name.
    pub fn name(&self) -> &str {
        &self.checked.name
    }
    /// Doc comment of the family.
    pub fn doc(&self) -> Option<&str> {
        self.checked.doc.as_deref()
    }
    /// The schema of the source it is evaluated over.
    pub fn source(&self) -> &SourceSchema {
        &self.checked.schema
    }
    /// Source parameters, defaults filled in.
    pub fn params(&self) -> &[(String, crate::registry::ParamValue)] {
        &self.checked.params
    }
    /// Features in file order (name, tag, doc, definition text).
    pub fn features(&self) -> impl Iterator<Item = &FeatureInfo> {
        self.checked.features.iter().map(|(f, _)| f)
    }
    /// The checked IR (for tools and the reference interpreter).
    pub fn ir(&self) -> &Ir {
        &self.checked.ir
    }
    pub(crate) fn feature_nodes(&self) -> impl Iterator<Item = (&FeatureInfo, NodeId)> {
        self.checked.features.iter().map(|(f, n)| (f, *n))
    }
    /// Number of loop nests run per evaluation (for tests of fusion).
    pub fn pass_count(&self) -> usize {
        self.stages.iter().map(|s| s.passes.len()).sum()
    }

    /// A human-readable summary of the plan: per stage, each pass's loop variables and
    /// what it computes (used by `radx features explain` and by tests of the lowering).
    pub fn explain(&self) -> String {
        let ir = &self.checked.ir;
        let var_name = |v: VarId| {
            let info = &ir.vars[v as usize];
            let axis = match info.axis {
                AxisKey::Source(a) => self.checked.schema.axes[a as usize].name.clone(),
                AxisKey::Range(..) => "range".to_string(),
            };
            format!("{axis}#{}", info.slot)
        };
        let mut out = String::new();
        for (k, stage) in self.stages.iter().enumerate() {
            out.push_str(&format!(
                "stage {k}: {} scalar nodes, {} builtins\n",
                stage.scalar_nodes.len(),
                stage.builtins.len()
            ));
            for pass in &stage.passes {
                let loops: Vec<String> = pass.loops.iter().map(|v| var_name(*v)).collect();
                let count = |f: &dyn Fn(&Target) -> bool| pass.accs.iter().filter(|a| f(&a.acc.target)).count();
                out.push_str(&format!(
                    "  pass over [{}]: {} row ops, {} scalar, {} vector, {} scatter\n",
                    loops.join(", "),
                    pass.rows.len(),
                    count(&|t| matches!(t, Target::Scalar(_))),
                    count(&|t| matches!(t, Target::VecAt { .. })),
                    count(&|t| matches!(t, Target::VecScatter { .. })),
                ));
            }
        }
        out
    }

    /// Plans a checked family.
    pub fn plan(checked: CheckedFamily, registry: &Registry) -> Self {
        Planner::new(checked, registry).run()
    }

    /// Evaluates every feature of the family on one source instance.
    pub fn evaluate(&self, data: &SourceData, builtins: &dyn Builtins) -> Result<Vec<FeatureValue>, EvalError> {
        let values = self.evaluate_values(data, builtins)?;
        Ok(self
            .checked
            .features
            .iter()
            .zip(values)
            .map(|((f, _), value)| FeatureValue { name: f.name.clone(), tag: f.tag.clone(), value })
            .collect())
    }

    /// The values of [`Self::evaluate`] alone, in the order of [`Self::features`]: for hosts
    /// that evaluate many matrices and take the names once (no per-call name copies).
    pub fn evaluate_values(&self, data: &SourceData, builtins: &dyn Builtins) -> Result<Vec<f64>, EvalError> {
        let mut st = self.scratch.take();
        let result = self.evaluate_with(&mut st, data, builtins);
        self.scratch.give(st);
        result
    }

    fn evaluate_with(&self, st: &mut State, data: &SourceData, builtins: &dyn Builtins) -> Result<Vec<f64>, EvalError> {
        let ir = &self.checked.ir;
        let bound = Bound::new(&self.checked.schema, data, ir)?;
        st.reset(ir);
        for stage in &self.stages {
            for &n in &stage.scalar_nodes {
                st.scal[n as usize] = st.scalar_node(ir, &bound, n);
            }
            for &s in &stage.builtins {
                let imp = self.builtin_impls.iter().find(|(id, _)| *id == s).map_or(BuiltinImpl::Host, |(_, i)| *i);
                st.scalars[s as usize] = call_builtin(ir, &bound, st, s, imp, builtins)?;
            }
            for pass in &stage.passes {
                st.run_pass(ir, &bound, pass);
            }
        }
        Ok(self.checked.features.iter().map(|(_, n)| st.scal[*n as usize]).collect())
    }
}

/// Evaluation buffers kept between evaluations of one family, so that evaluating a small
/// matrix does not start with dozens of allocations. A pool rather than one slot: hosts
/// evaluate the same family on several threads at once.
#[derive(Default)]
struct ScratchPool(std::sync::Mutex<Vec<State>>);

/// Most states a pool keeps (one per thread that evaluates concurrently, within reason).
const POOL_STATES: usize = 16;
/// A state holding more than this many `f64`s (e.g. after a pass over a large ROI) is
/// dropped rather than kept, so the pool never pins large buffers.
const POOL_STATE_MAX_F64S: usize = 1 << 17;

/// Longest row the evaluator processes at once: a longer innermost loop is split into
/// blocks of this many indices (a multiple of the 4-wide partial sums).
const ROW_BLOCK: usize = 2048;

/// A pass over two loops whose inner loop has at most half this many indices runs
/// collapsed: each row holds several outer iterations, up to this many values, so a row
/// operation is dispatched once per block instead of once per outer iteration (a 16-level
/// GLCM: once instead of 16 times).
const COLLAPSED_ROW: usize = 256;

impl ScratchPool {
    fn take(&self) -> State {
        let pooled = self.0.lock().ok().and_then(|mut v| v.pop());
        pooled.unwrap_or_default()
    }
    fn give(&self, st: State) {
        if st.retained_f64s() > POOL_STATE_MAX_F64S {
            return;
        }
        if let Ok(mut v) = self.0.lock()
            && v.len() < POOL_STATES
        {
            v.push(st);
        }
    }
}

impl Clone for ScratchPool {
    /// A clone starts with an empty pool: buffers are a cache, not part of the plan.
    fn clone(&self) -> Self {
        ScratchPool::default()
    }
}

impl std::fmt::Debug for ScratchPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScratchPool")
    }
}

/// Source data bound to the schema's numbering.
pub(crate) struct Bound<'d> {
    pub axis_values: Vec<&'d [f64]>,
    pub arrays: Vec<(&'d [f64], Vec<usize>)>, // data, strides
    pub scalars: Vec<f64>,
}

impl<'d> Bound<'d> {
    pub fn new(schema: &SourceSchema, data: &'d SourceData, ir: &Ir) -> Result<Self, EvalError> {
        // Only what the family uses must be present.
        let mut used_arrays = vec![false; schema.arrays.len()];
        let mut used_scalars = vec![false; schema.scalars.len()];
        let mut used_axes = vec![false; schema.axes.len()];
        for n in &ir.nodes {
            match n {
                Node::Array { array, .. } => used_arrays[*array as usize] = true,
                Node::SrcScalar(s) => used_scalars[*s as usize] = true,
                _ => {}
            }
        }
        for s in &ir.scalars {
            if let ScalarDef::Builtin { args, builtin } = s {
                for a in args {
                    if let BuiltinArg::SourceArray(k) = a {
                        used_arrays[*k as usize] = true;
                    }
                }
                if builtin == "glcm_mcc"
                    && let Some(k) = schema.arrays.iter().position(|a| a.name == "p")
                {
                    used_arrays[k] = true;
                }
            }
        }
        for v in &ir.vars {
            if let AxisKey::Source(a) = v.axis {
                used_axes[a as usize] = true;
            }
        }
        for (k, a) in schema.arrays.iter().enumerate() {
            if used_arrays[k] {
                for &ax in &a.axes {
                    used_axes[ax] = true;
                }
            }
        }
        let mut axis_values = Vec::new();
        for (k, a) in schema.axes.iter().enumerate() {
            match data.axis(&a.name) {
                Some(v) => axis_values.push(v),
                None if !used_axes[k] => axis_values.push(&[][..]),
                None => return Err(EvalError::MissingAxis { name: a.name.clone() }),
            }
        }
        let mut arrays = Vec::new();
        for (k, a) in schema.arrays.iter().enumerate() {
            let expected: Vec<usize> = a.axes.iter().map(|&ax| axis_values[ax].len()).collect();
            match data.array(&a.name) {
                Some((shape, values)) => {
                    let n: usize = expected.iter().product();
                    if shape != expected.as_slice() || values.len() != n {
                        if used_arrays[k] {
                            return Err(EvalError::Shape { name: a.name.clone(), expected, found: shape.to_vec() });
                        }
                        arrays.push((&[][..], vec![0; a.axes.len()]));
                        continue;
                    }
                    let mut strides = vec![1; expected.len()];
                    for d in (0..expected.len().saturating_sub(1)).rev() {
                        strides[d] = strides[d + 1] * expected[d + 1];
                    }
                    arrays.push((values, strides));
                }
                None if !used_arrays[k] => arrays.push((&[][..], vec![0; a.axes.len()])),
                None => return Err(EvalError::MissingArray { name: a.name.clone() }),
            }
        }
        let mut scalars = Vec::new();
        for (k, s) in schema.scalars.iter().enumerate() {
            match data.scalar(&s.name) {
                Some(v) => scalars.push(v),
                None if !used_scalars[k] => scalars.push(f64::NAN),
                None => return Err(EvalError::MissingScalar { name: s.name.clone() }),
            }
        }
        Ok(Bound { axis_values, arrays, scalars })
    }
}

/// Length and values of a variable's axis once its range bounds are known.
pub(crate) fn axis_values_of(ir: &Ir, bound: &Bound<'_>, var: VarId, scal: &dyn Fn(NodeId) -> f64) -> Vec<f64> {
    let mut values = Vec::new();
    axis_values_into(ir, bound, var, scal, &mut values);
    values
}

/// [`axis_values_of`] written into `out` (replacing its contents, reusing its buffer).
pub(crate) fn axis_values_into(
    ir: &Ir,
    bound: &Bound<'_>,
    var: VarId,
    scal: &dyn Fn(NodeId) -> f64,
    out: &mut Vec<f64>,
) {
    out.clear();
    match ir.vars[var as usize].axis {
        AxisKey::Source(a) => out.extend_from_slice(bound.axis_values[a as usize]),
        AxisKey::Range(lo, hi) => {
            let (lo, hi) = (scal(lo), scal(hi));
            if !(lo.is_finite() && hi.is_finite()) || hi < lo {
                return;
            }
            // Ranges are integer steps from `lo`; cap the length so garbage cannot exhaust memory.
            let n = ((hi - lo).floor() as usize + 1).min(1 << 24);
            out.extend((0..n).map(|t| lo + t as f64));
        }
    }
}

/// Sorted copies (NaN removed) of the arrays that percentile builtins read, kept for one
/// evaluation: the intensity families take four percentiles and a median of the same array
/// of up to hundreds of thousands of values, which is then sorted once instead of five times.
#[derive(Debug, Default)]
pub(crate) struct SortedCache {
    entries: Vec<(BuiltinArg, Vec<f64>)>,
}

impl SortedCache {
    fn sorted(&mut self, key: &BuiltinArg, values: impl FnOnce() -> Vec<f64>) -> &[f64] {
        let k = match self.entries.iter().position(|(a, _)| a == key) {
            Some(k) => k,
            None => {
                self.entries.push((key.clone(), crate::linalg::sorted_without_nan(&values())));
                self.entries.len() - 1
            }
        };
        &self.entries[k].1
    }
}

/// Runs a builtin (shared by the planner's evaluator and the reference interpreter).
/// `sorted` caches sorted arrays across the builtin calls of one evaluation: source arrays
/// and vector `let`s do not change once computed.
#[allow(clippy::too_many_arguments)] // one call site each in the evaluator and interpreter
pub(crate) fn run_builtin(
    ir: &Ir,
    bound: &Bound<'_>,
    s: u32,
    imp: BuiltinImpl,
    scalar: &dyn Fn(NodeId) -> f64,
    vector: &dyn Fn(u32) -> Vec<f64>,
    mcc_array: Option<u32>,
    builtins: &dyn Builtins,
    sorted: &mut SortedCache,
) -> Result<f64, EvalError> {
    let ScalarDef::Builtin { builtin, args } = &ir.scalars[s as usize] else { return Ok(f64::NAN) };
    if let BuiltinImpl::Percentile | BuiltinImpl::Median = imp {
        let q = match (imp, args.get(1)) {
            (BuiltinImpl::Median, _) => 50.0,
            (_, Some(BuiltinArg::Scalar(n))) => scalar(*n),
            _ => return Ok(f64::NAN),
        };
        let values = match args.first() {
            Some(key @ BuiltinArg::SourceArray(k)) => sorted.sorted(key, || bound.arrays[*k as usize].0.to_vec()),
            Some(key @ BuiltinArg::Vector(v)) => sorted.sorted(key, || vector(*v)),
            _ => return Ok(f64::NAN),
        };
        return Ok(crate::linalg::percentile_of_sorted(values, q));
    }
    let owned: Vec<Result<f64, Vec<f64>>> = args
        .iter()
        .map(|a| match a {
            BuiltinArg::Scalar(n) => Ok(scalar(*n)),
            BuiltinArg::SourceArray(k) => Err(bound.arrays[*k as usize].0.to_vec()),
            BuiltinArg::Vector(v) => Err(vector(*v)),
        })
        .collect();
    let values: Vec<BuiltinValue<'_>> = owned
        .iter()
        .map(|a| match a {
            Ok(x) => BuiltinValue::Scalar(*x),
            Err(v) => BuiltinValue::Array(v),
        })
        .collect();
    Ok(match imp {
        BuiltinImpl::Percentile | BuiltinImpl::Median => f64::NAN, // handled above
        BuiltinImpl::GlcmMcc => match mcc_array {
            Some(k) => {
                let data = bound.arrays[k as usize].0;
                let n = (data.len() as f64).sqrt().round() as usize;
                crate::linalg::glcm_mcc(data, n)
            }
            None => f64::NAN,
        },
        BuiltinImpl::Host => {
            builtins.call(builtin, &values).map_err(|message| EvalError::Builtin { name: builtin.clone(), message })?
        }
    })
}

fn call_builtin(
    ir: &Ir,
    bound: &Bound<'_>,
    st: &mut State,
    s: u32,
    imp: BuiltinImpl,
    builtins: &dyn Builtins,
) -> Result<f64, EvalError> {
    let mcc = find_p(ir, bound);
    let (scal, vecs) = (&st.scal, &st.vecs);
    run_builtin(ir, bound, s, imp, &|n| scal[n as usize], &|v| vecs[v as usize].clone(), mcc, builtins, &mut st.sorted)
}

/// The `p` array for `glcm_mcc`: the only rank-2 array of a `cm`-like source.
pub(crate) fn find_p(_ir: &Ir, bound: &Bound<'_>) -> Option<u32> {
    bound.arrays.iter().position(|(_, strides)| strides.len() == 2).map(|k| k as u32)
}

/// Everything one evaluation writes. Kept in a [`ScratchPool`] between evaluations and
/// [reset](State::reset) before each, so its buffers are allocated once, not per matrix.
#[derive(Default)]
struct State {
    /// Value of every scalar node (and of per-iteration nodes during a pass).
    scal: Vec<f64>,
    scalars: Vec<f64>,
    vecs: Vec<Vec<f64>>,
    axis_vals: Vec<Vec<f64>>,
    pos: Vec<usize>,
    /// Row buffers: `n_slots × row_len`.
    rows: Vec<f64>,
    row_len: usize,
    /// In a collapsed pass, the values hoisted to the outer loop as rows (`row_len` each).
    hoisted: Vec<f64>,
    /// In a collapsed pass, the accumulators run segment by segment (see `accumulate_block`).
    by_segment: Vec<usize>,
    sorted: SortedCache,
    /// Per pass: loop lengths, the outer-loop odometer, and each accumulator's auxiliary
    /// counts and arg values (see `run_pass_body`).
    lens: Vec<usize>,
    odometer: Vec<usize>,
    aux: Vec<(Vec<f64>, Vec<f64>)>,
    /// Which build of the row kernels runs (tests compare them).
    kernels: Kernels,
    /// Never run a pass collapsed (tests compare both ways).
    row_at_a_time: bool,
}

/// The builds of the pass kernels (x86-64 only; elsewhere the portable one always runs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Kernels {
    /// The widest the CPU supports.
    #[default]
    Widest,
    /// AVX2 where supported (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Avx2,
    /// The baseline build (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Portable,
}

impl State {
    /// Puts the state where a fresh one would start for a family with this IR.
    fn reset(&mut self, ir: &Ir) {
        self.scal.clear();
        self.scal.resize(ir.nodes.len(), 0.0);
        self.scalars.clear();
        self.scalars.resize(ir.scalars.len(), f64::NAN);
        self.vecs.resize_with(ir.vecs.len(), Vec::new);
        self.vecs.iter_mut().for_each(Vec::clear);
        // An empty axis means "not computed yet" (ranges depend on this evaluation's data).
        self.axis_vals.resize_with(ir.vars.len(), Vec::new);
        self.axis_vals.iter_mut().for_each(Vec::clear);
        self.pos.clear();
        self.pos.resize(ir.vars.len(), 0);
        self.row_len = 0;
        self.sorted = SortedCache::default();
    }

    /// How many `f64`s the buffers hold on to.
    fn retained_f64s(&self) -> usize {
        let nested = |v: &Vec<Vec<f64>>| v.iter().map(Vec::capacity).sum::<usize>();
        let aux: usize = self.aux.iter().map(|(a, b)| a.capacity() + b.capacity()).sum();
        self.scal.capacity()
            + self.scalars.capacity()
            + nested(&self.vecs)
            + nested(&self.axis_vals)
            + self.rows.capacity()
            + self.hoisted.capacity()
            + aux
    }

    /// Value of a node from scalars and the current loop positions.
    fn scalar_node(&self, ir: &Ir, bound: &Bound<'_>, n: NodeId) -> f64 {
        let s = |m: NodeId| self.scal[m as usize];
        match &ir.nodes[n as usize] {
            Node::Const(b) => f64::from_bits(*b),
            Node::SrcScalar(k) => bound.scalars[*k as usize],
            Node::Index(v) => self.axis_vals[*v as usize].get(self.pos[*v as usize]).copied().unwrap_or(f64::NAN),
            Node::Array { array, vars } => {
                let (data, strides) = &bound.arrays[*array as usize];
                let off: usize = vars.iter().zip(strides).map(|(v, st)| self.pos[*v as usize] * st).sum();
                data[off]
            }
            Node::VecRead { vec, at } => self.vecs[*vec as usize][self.pos[*at as usize]],
            Node::ScalarRef(k) => self.scalars[*k as usize],
            Node::Unary(op, a) => op.apply(s(*a)),
            Node::Binary(op, a, b) => op.apply(s(*a), s(*b)),
            Node::Select(c, a, b) => {
                if s(*c) != 0.0 {
                    s(*a)
                } else {
                    s(*b)
                }
            }
        }
    }

    /// Runs one pass with the row kernels compiled for the widest vector instructions the
    /// CPU has: the portable build targets SSE2, whose two-lane operations cap the throughput
    /// of every row operation, accumulation and division. Only the instruction set differs:
    /// each operation and the order of every sum are the same, so results are bit-identical
    /// (see the test `wide_kernels_equal_portable_kernels`).
    fn run_pass(&mut self, ir: &Ir, bound: &Bound<'_>, pass: &Pass) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            let widest = self.kernels == Kernels::Widest;
            if widest && has!("avx512f") {
                // SAFETY: `run_pass_avx512` only requires AVX-512F, which the CPU has.
                unsafe { self.run_pass_avx512(ir, bound, pass) };
                return;
            }
            if (widest || self.kernels == Kernels::Avx2) && has!("avx2") {
                // SAFETY: `run_pass_avx2` only requires AVX2, which the CPU has.
                unsafe { self.run_pass_avx2(ir, bound, pass) };
                return;
            }
        }
        self.run_pass_body(ir, bound, pass);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn run_pass_avx512(&mut self, ir: &Ir, bound: &Bound<'_>, pass: &Pass) {
        self.run_pass_body(ir, bound, pass);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn run_pass_avx2(&mut self, ir: &Ir, bound: &Bound<'_>, pass: &Pass) {
        self.run_pass_body(ir, bound, pass);
    }

    /// The pass itself; always inlined (as are the row kernels below it) so that each caller
    /// above compiles it for its own instruction set.
    #[inline(always)]
    fn run_pass_body(&mut self, ir: &Ir, bound: &Bound<'_>, pass: &Pass) {
        // Axis values of the loop variables (ranges are known by now).
        for &v in &pass.loops {
            self.var_len(ir, bound, v);
        }
        let mut lens = std::mem::take(&mut self.lens);
        lens.clear();
        lens.extend(pass.loops.iter().map(|v| self.axis_vals[*v as usize].len()));
        // Initialise targets.
        for PassAcc { acc, .. } in &pass.accs {
            let init = match acc.op {
                AccOp::Reduce(ReduceOp::Prod) => 1.0,
                AccOp::Reduce(ReduceOp::Max | ReduceOp::ArgMax) => f64::NEG_INFINITY,
                AccOp::Reduce(ReduceOp::Min | ReduceOp::ArgMin) => f64::INFINITY,
                AccOp::Assign => f64::NAN,
                _ => 0.0,
            };
            match acc.target {
                Target::Scalar(s) => self.scalars[s as usize] = init,
                Target::VecAt { vec, var } => {
                    let n = self.var_len(ir, bound, var);
                    let v = &mut self.vecs[vec as usize];
                    v.clear();
                    v.resize(n, init);
                }
                Target::VecScatter { vec, .. } => {
                    let n = self.var_len(ir, bound, ir.vec_var(vec));
                    let v = &mut self.vecs[vec as usize];
                    v.clear();
                    v.resize(n, init);
                }
            }
        }
        // Auxiliary per-slot state: counts (mean, empty → NaN) and arg values.
        let mut aux = std::mem::take(&mut self.aux);
        aux.resize_with(pass.accs.len().max(aux.len()), Default::default);
        for (PassAcc { acc, .. }, (counts, args)) in pass.accs.iter().zip(aux.iter_mut()) {
            // Only mean, max, min and the arg reductions read it (sum, count, prod and
            // assign do not): those get empty vectors.
            let n = if matches!(acc.op, AccOp::Assign | AccOp::Reduce(ReduceOp::Sum | ReduceOp::Count | ReduceOp::Prod))
            {
                0
            } else {
                match acc.target {
                    Target::Scalar(_) => 1,
                    Target::VecAt { vec, .. } | Target::VecScatter { vec, .. } => self.vecs[vec as usize].len(),
                }
            };
            counts.clear();
            counts.resize(n, 0.0);
            args.clear();
            args.resize(n, f64::NAN);
        }
        let inner_len = *lens.last().unwrap_or(&0);
        if !self.row_at_a_time && pass.loops.len() == 2 && !lens.contains(&0) && 2 * inner_len <= COLLAPSED_ROW {
            self.run_pass_collapsed(ir, bound, pass, lens[0], inner_len, &mut aux);
            self.finish(pass, &mut aux);
            self.lens = lens;
            self.aux = aux;
            return;
        }
        // A long innermost loop (a 1-D source over every ROI voxel) is processed in blocks of
        // ROW_BLOCK: the row arena stays a few hundred kB, in cache, instead of one row per
        // slot of the whole length (17 MB for 200 000 voxels, touched afresh each pass).
        let block = inner_len.min(ROW_BLOCK);
        let blocked = block < inner_len;
        self.row_len = block;
        self.size_rows(pass.n_slots * block);
        if lens.contains(&0) {
            self.finish(pass, &mut aux);
            self.lens = lens;
            self.aux = aux;
            return;
        }
        let depth = pass.loops.len();
        // Odometer over the outer loops; the innermost loop is processed a row at a time.
        let mut idx = std::mem::take(&mut self.odometer);
        idx.clear();
        idx.resize(depth, 0);
        let mut d = 0;
        let mut first_row = true;
        loop {
            // Entering depth `d` with idx[d] set: evaluate the nodes hoisted to this depth.
            if d + 1 < depth {
                self.pos[pass.loops[d] as usize] = idx[d];
                for &n in &pass.per_depth[d] {
                    self.scal[n as usize] = self.scalar_node(ir, bound, n);
                }
                d += 1;
                idx[d] = 0;
                continue;
            }
            // Rows that depend on the inner index only are kept from the first row, unless the
            // row is split into blocks (each block holds other indices).
            let mut offset = 0;
            while offset < inner_len {
                let n = block.min(inner_len - offset);
                self.run_row(bound, pass, first_row || blocked, offset, n, &mut aux);
                offset += n;
            }
            first_row = false;
            // Advance the odometer.
            loop {
                if d == 0 {
                    self.finish(pass, &mut aux);
                    self.lens = lens;
                    self.aux = aux;
                    self.odometer = idx;
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < lens[d] {
                    break;
                }
            }
        }
    }

    /// Makes the row arena at least `len` long. Its old contents are kept, not cleared: every
    /// entry a pass reads was written by that pass (masked-out entries of a guarded row are
    /// never read unmasked, so whatever they hold drops out). Debug builds fill the arena
    /// with NaN instead, so that any read of an unwritten entry shows in the tests.
    fn size_rows(&mut self, len: usize) {
        if cfg!(debug_assertions) {
            self.rows.clear();
            self.rows.resize(len, f64::NAN);
        } else if self.rows.len() < len {
            self.rows.resize(len, 0.0);
        }
    }

    fn var_len(&mut self, ir: &Ir, bound: &Bound<'_>, var: VarId) -> usize {
        if self.axis_vals[var as usize].is_empty() {
            let mut vals = std::mem::take(&mut self.axis_vals[var as usize]);
            axis_values_into(ir, bound, var, &|n| self.scal[n as usize], &mut vals);
            self.axis_vals[var as usize] = vals;
        }
        self.axis_vals[var as usize].len()
    }

    #[inline(always)]
    fn run_row(
        &mut self,
        bound: &Bound<'_>,
        pass: &Pass,
        first_row: bool,
        offset: usize,
        n: usize,
        aux: &mut [(Vec<f64>, Vec<f64>)],
    ) {
        let inner = *pass.loops.last().expect("passes have loops");
        self.compute_rows(bound, pass, first_row, offset, n, None);
        for (k, pa) in pass.accs.iter().enumerate() {
            if let Some(factor) = pa.factor {
                self.accumulate_product(&pa.acc, pa.body, factor, pa.filter, 0, n);
                continue;
            }
            self.accumulate(k, &pa.acc, pa.body, pa.filter, pa.index, 0, offset, n, inner, aux);
        }
    }

    /// A pass over two loops with a short inner loop, `outer_len × inner_len` iterations,
    /// run in blocks of outer iterations: each row holds a block, one segment of `inner_len`
    /// values per outer iteration, and values hoisted to the outer loop become rows of their
    /// own (`Opd::Hoisted`). Every value and every sum is the same, in the same order, as
    /// running the pass a row at a time: only the dispatching of row operations is shared.
    #[inline(always)]
    fn run_pass_collapsed(
        &mut self,
        ir: &Ir,
        bound: &Bound<'_>,
        pass: &Pass,
        outer_len: usize,
        inner_len: usize,
        aux: &mut [(Vec<f64>, Vec<f64>)],
    ) {
        let (outer, inner) = (pass.loops[0], pass.loops[1]);
        let hoisted = &pass.per_depth[0];
        let per_block = (COLLAPSED_ROW / inner_len).min(outer_len);
        let block = per_block * inner_len;
        self.row_len = block;
        self.size_rows(pass.n_slots * block);
        self.hoisted.clear();
        self.hoisted.resize(hoisted.len() * block, 0.0);
        let mut first = 0;
        while first < outer_len {
            let segments = per_block.min(outer_len - first);
            for s in 0..segments {
                self.pos[outer as usize] = first + s;
                for (e, &m) in hoisted.iter().enumerate() {
                    let v = self.scalar_node(ir, bound, m);
                    self.scal[m as usize] = v;
                    let at = e * block + s * inner_len;
                    self.hoisted[at..at + inner_len].fill(v);
                }
            }
            self.compute_rows(bound, pass, first == 0, 0, inner_len, Some((first, segments)));
            let mut by_segment = std::mem::take(&mut self.by_segment);
            by_segment.clear();
            for (k, pa) in pass.collapsed_accs.iter().enumerate() {
                if !self.accumulate_block(pa, outer, inner, first, segments, inner_len) {
                    by_segment.push(k);
                }
            }
            for s in 0..segments {
                self.pos[outer as usize] = first + s;
                let start = s * inner_len;
                for &k in &by_segment {
                    let pa = &pass.collapsed_accs[k];
                    if let Some(factor) = pa.factor {
                        self.accumulate_product(&pa.acc, pa.body, factor, pa.filter, start, inner_len);
                        continue;
                    }
                    self.accumulate(k, &pa.acc, pa.body, pa.filter, pa.index, start, 0, inner_len, inner, aux);
                }
            }
            self.by_segment = by_segment;
            first += segments;
        }
    }

    /// Accumulates a whole block of a collapsed pass (`segments` outer iterations from
    /// `first`, `n` inner indices each) in one call, for the common sums: into a scalar
    /// (optionally of a product), into a marginal along either loop, or scattered. Each
    /// segment is still summed on its own and added in order, so every bit is as when the
    /// pass runs a row at a time; only the dispatch is shared. Returns false, having done
    /// nothing, for any other accumulator (run segment by segment).
    #[inline(always)]
    fn accumulate_block(
        &mut self,
        pa: &PassAcc,
        outer: VarId,
        inner: VarId,
        first: usize,
        segments: usize,
        n: usize,
    ) -> bool {
        let AccOp::Reduce(op @ (ReduceOp::Sum | ReduceOp::Count)) = pa.acc.op else { return false };
        let len = segments * n;
        let rl = self.row_len;
        let (rows, hoisted, scal) = (&self.rows, &self.hoisted, &self.scal);
        let view = |o: Opd| -> RowView<'_> {
            match o {
                Opd::Row(r) => RowView::R(&rows[r as usize * rl..r as usize * rl + len]),
                Opd::Scalar(m) => RowView::S(scal[m as usize]),
                Opd::Hoisted(e) => RowView::R(&hoisted[e as usize * rl..e as usize * rl + len]),
            }
        };
        let mask = match pa.filter.map(view) {
            None => None,
            Some(RowView::R(m)) => Some(m),
            Some(RowView::S(c)) if c != 0.0 => None,
            // Nothing passes the filter: the sums stay as they are.
            Some(RowView::S(_)) => return true,
        };
        if op == ReduceOp::Count {
            let Target::Scalar(t) = pa.acc.target else { return false };
            if pa.factor.is_some() {
                return false;
            }
            let out = &mut self.scalars[t as usize];
            for s in 0..segments {
                *out += mask.map(|m| segment_of(m, s, n)).map_or(n as f64, mask_count);
            }
            return true;
        }
        let body = view(pa.body);
        if let Some(factor) = pa.factor {
            let Target::Scalar(t) = pa.acc.target else { return false };
            let out = &mut self.scalars[t as usize];
            match (body, view(factor)) {
                (RowView::R(a), RowView::R(b)) => {
                    for s in 0..segments {
                        *out += dot4(segment_of(a, s, n), segment_of(b, s, n), mask.map(|m| segment_of(m, s, n)));
                    }
                }
                // IEEE multiplication commutes exactly, so the operand order does not matter.
                (RowView::R(a), RowView::S(c)) | (RowView::S(c), RowView::R(a)) => {
                    for s in 0..segments {
                        *out += scaled_sum4(segment_of(a, s, n), c, mask.map(|m| segment_of(m, s, n)));
                    }
                }
                (RowView::S(_), RowView::S(_)) => return false,
            }
            return true;
        }
        let RowView::R(b) = body else { return false };
        // A function, not a closure: closures are not always inlined into the wide build.
        #[inline(always)]
        fn segment_sum(b: &[f64], mask: Option<&[f64]>, s: usize, n: usize) -> f64 {
            match mask {
                None => sum4(segment_of(b, s, n)),
                Some(m) => masked_sum4(segment_of(b, s, n), segment_of(m, s, n)),
            }
        }
        match pa.acc.target {
            Target::Scalar(t) => {
                let out = &mut self.scalars[t as usize];
                for s in 0..segments {
                    *out += segment_sum(b, mask, s, n);
                }
            }
            Target::VecAt { vec, var } if var == outer => {
                let out = &mut self.vecs[vec as usize][first..first + segments];
                for (s, o) in out.iter_mut().enumerate() {
                    *o += segment_sum(b, mask, s, n);
                }
            }
            Target::VecAt { vec, var } if var == inner => {
                let out = &mut self.vecs[vec as usize][..n];
                for s in 0..segments {
                    let seg = segment_of(b, s, n);
                    match mask.map(|m| segment_of(m, s, n)) {
                        None => out.iter_mut().zip(seg).for_each(|(o, &v)| *o += v),
                        Some(m) => out.iter_mut().zip(seg).zip(m).for_each(|((o, &v), &k)| {
                            if k != 0.0 {
                                *o += v
                            }
                        }),
                    }
                }
            }
            Target::VecScatter { vec, lo, .. } => {
                let Some(RowView::R(idx)) = pa.index.map(view) else { return false };
                let lo = self.scal[lo as usize];
                let out = &mut self.vecs[vec as usize];
                // The block's entries in order, segment after segment: the order in which
                // segment-by-segment scattering adds them.
                if !scatter_slots_valid(idx, lo, out.len()) {
                    return false;
                }
                match mask {
                    None => {
                        for (&x, &v) in idx.iter().zip(b) {
                            out[scatter_slot(x - lo)] += v;
                        }
                    }
                    Some(m) => {
                        for ((&x, &v), &k) in idx.iter().zip(b).zip(m) {
                            out[scatter_slot(x - lo)] += keep_or_zero(v, k != 0.0);
                        }
                    }
                }
            }
            Target::VecAt { .. } => return false,
        }
        true
    }

    /// The row operations of `pass` over `n` inner indices from `offset`; in a collapsed pass
    /// (`segments` = (first outer iteration, count)), over that many segments of `n` from
    /// the inner loop's start, one per outer iteration.
    #[inline(always)]
    fn compute_rows(
        &mut self,
        bound: &Bound<'_>,
        pass: &Pass,
        first_row: bool,
        offset: usize,
        n: usize,
        segments: Option<(usize, usize)>,
    ) {
        let inner = *pass.loops.last().expect("passes have loops");
        let outer = pass.loops.first().copied().filter(|_| segments.is_some());
        let (first_outer, count) = segments.unwrap_or((0, 1));
        let len = n * count;
        let rl = self.row_len;
        // A collapsed run reads the plan whose hoisted operands are rows.
        let instructions = if segments.is_some() { &pass.collapsed_rows } else { &pass.rows };
        // Operands always live in lower slots than their result (slots follow node ids), so
        // splitting the arena at the destination gives disjoint read and write views.
        for (ins, &invariant) in instructions.iter().zip(&pass.row_invariant) {
            // Slots are written by their instruction only, so an invariant row still holds
            // the value computed at the pass's first row (in a collapsed pass, the first
            // block's: the same inner values, segment after segment).
            if invariant && !first_row {
                continue;
            }
            let dst = match ins {
                RowInstr::Index { dst, .. }
                | RowInstr::Array { dst, .. }
                | RowInstr::VecRead { dst, .. }
                | RowInstr::Un { dst, .. }
                | RowInstr::Bin { dst, .. }
                | RowInstr::Select { dst, .. } => *dst as usize,
            };
            let (lo, hi) = self.rows.split_at_mut(dst * rl);
            let out = &mut hi[..len];
            let scal = &self.scal;
            let lifted = &self.hoisted;
            let view = |o: Opd| -> RowView<'_> {
                match o {
                    Opd::Row(s) => RowView::R(&lo[s as usize * rl..s as usize * rl + len]),
                    Opd::Scalar(m) => RowView::S(scal[m as usize]),
                    Opd::Hoisted(e) => RowView::R(&lifted[e as usize * rl..e as usize * rl + len]),
                }
            };
            match ins {
                RowInstr::Index { var, .. } => {
                    let values = &self.axis_vals[*var as usize][offset..offset + n];
                    out.chunks_exact_mut(n).for_each(|segment| segment.copy_from_slice(values));
                }
                RowInstr::Array { array, vars, .. } => {
                    let (data, strides) = &bound.arrays[*array as usize];
                    let mut base = 0;
                    let mut step = 0;
                    let mut outer_step = 0;
                    for (v, st) in vars.iter().zip(strides) {
                        if *v == inner {
                            step += st;
                        } else if Some(*v) == outer {
                            outer_step += st;
                        } else {
                            base += self.pos[*v as usize] * st;
                        }
                    }
                    base += offset * step;
                    for (s, segment) in out.chunks_exact_mut(n).enumerate() {
                        let base = base + (first_outer + s) * outer_step;
                        if step == 1 {
                            segment.copy_from_slice(&data[base..base + n]);
                        } else {
                            for (t, o) in segment.iter_mut().enumerate() {
                                *o = data[base + t * step];
                            }
                        }
                    }
                }
                RowInstr::VecRead { vec, .. } => {
                    let values = &self.vecs[*vec as usize][offset..offset + n];
                    out.chunks_exact_mut(n).for_each(|segment| segment.copy_from_slice(values));
                }
                RowInstr::Un { op, a, guard, .. } => {
                    let src = &lo[*a as usize * rl..*a as usize * rl + len];
                    let mask = guard.map(|g| &lo[g as usize * rl..g as usize * rl + len]);
                    un_row(*op, src, out, mask);
                }
                RowInstr::Bin { op, a, b, guard, .. } => {
                    let mask = guard.map(|g| &lo[g as usize * rl..g as usize * rl + len]);
                    bin_row(*op, view(*a), view(*b), out, mask);
                }
                RowInstr::Select { c, a, b, .. } => {
                    let (c, a, b) = (view(*c), view(*a), view(*b));
                    let at = |r: &RowView<'_>, t: usize| match r {
                        RowView::R(x) => x[t],
                        RowView::S(s) => *s,
                    };
                    for (t, o) in out.iter_mut().enumerate() {
                        *o = if at(&c, t) != 0.0 { at(&a, t) } else { at(&b, t) };
                    }
                }
            }
        }
    }

    /// `sum(x * y)` into a scalar, the product formed in registers (see [`PassAcc::factor`]).
    #[inline(always)]
    fn accumulate_product(&mut self, acc: &Acc, x: Opd, y: Opd, filter: Option<Opd>, start: usize, n: usize) {
        let Target::Scalar(s) = acc.target else { return };
        let rl = self.row_len;
        let (rows, hoisted) = (&self.rows, &self.hoisted);
        let view = |o: Opd| -> RowView<'_> {
            match o {
                Opd::Row(r) => RowView::R(&rows[r as usize * rl + start..r as usize * rl + start + n]),
                Opd::Scalar(m) => RowView::S(self.scal[m as usize]),
                Opd::Hoisted(e) => RowView::R(&hoisted[e as usize * rl + start..e as usize * rl + start + n]),
            }
        };
        let mask = match filter.map(view) {
            None => None,
            Some(RowView::R(m)) => Some(m),
            Some(RowView::S(c)) if c != 0.0 => None,
            Some(RowView::S(_)) => return,
        };
        let sum = match (view(x), view(y)) {
            (RowView::R(a), RowView::R(b)) => dot4(a, b, mask),
            // IEEE multiplication commutes exactly, so the operand order does not matter.
            (RowView::R(a), RowView::S(c)) | (RowView::S(c), RowView::R(a)) => scaled_sum4(a, c, mask),
            (RowView::S(a), RowView::S(b)) => {
                let row = vec![a * b; n];
                match mask {
                    None => sum4(&row),
                    Some(m) => masked_sum4(&row, m),
                }
            }
        };
        self.scalars[s as usize] += sum;
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn accumulate(
        &mut self,
        k: usize,
        acc: &Acc,
        body: Opd,
        filter: Option<Opd>,
        index: Option<Opd>,
        start: usize,
        offset: usize,
        n: usize,
        inner: VarId,
        aux: &mut [(Vec<f64>, Vec<f64>)],
    ) {
        let rl = self.row_len;
        let (rows, hoisted) = (&self.rows, &self.hoisted);
        let row = |o: Opd| -> Result<&[f64], f64> {
            match o {
                Opd::Row(s) => Ok(&rows[s as usize * rl + start..s as usize * rl + start + n]),
                Opd::Scalar(m) => Err(self.scal[m as usize]),
                Opd::Hoisted(e) => Ok(&hoisted[e as usize * rl + start..e as usize * rl + start + n]),
            }
        };
        let b = row(body);
        let f = filter.map(row);
        // Fast path: scalar sum / count over the row with four partial sums.
        if let (Target::Scalar(s), AccOp::Reduce(op @ (ReduceOp::Sum | ReduceOp::Count | ReduceOp::Mean))) =
            (&acc.target, acc.op)
            && let Ok(b) = b
        {
            let (sum, cnt) = match f {
                None => (sum4(b), n as f64),
                Some(Ok(m)) if op == ReduceOp::Sum => (masked_sum4(b, m), 0.0),
                Some(Ok(m)) => (masked_sum4(b, m), mask_count(m)),
                Some(Err(c)) => {
                    if c != 0.0 {
                        (sum4(b), n as f64)
                    } else {
                        (0.0, 0.0)
                    }
                }
            };
            match op {
                ReduceOp::Count => self.scalars[*s as usize] += cnt,
                ReduceOp::Mean => {
                    self.scalars[*s as usize] += sum;
                    aux[k].0[0] += cnt;
                }
                _ => self.scalars[*s as usize] += sum,
            }
            return;
        }
        // Fast paths for sums into vectors (marginals, scatter) and for scalar max/min.
        if let (AccOp::Reduce(ReduceOp::Sum), Ok(b)) = (acc.op, b) {
            let mask = match f {
                None => None,
                Some(Ok(m)) => Some(m),
                Some(Err(c)) if c != 0.0 => None,
                Some(Err(_)) => return,
            };
            match acc.target {
                Target::VecAt { vec, var } if var != inner => {
                    let slot = self.pos[var as usize];
                    let s = match mask {
                        None => sum4(b),
                        Some(m) => masked_sum4(b, m),
                    };
                    self.vecs[vec as usize][slot] += s;
                    return;
                }
                Target::VecAt { vec, .. } => {
                    let out = &mut self.vecs[vec as usize][offset..offset + n];
                    match mask {
                        None => out.iter_mut().zip(b).for_each(|(o, &v)| *o += v),
                        Some(m) => out.iter_mut().zip(b).zip(m).for_each(|((o, &v), &k)| {
                            if k != 0.0 {
                                *o += v
                            }
                        }),
                    }
                    return;
                }
                Target::VecScatter { vec, lo, .. } => {
                    let lo = self.scal[lo as usize];
                    let out = &mut self.vecs[vec as usize];
                    let len = out.len() as u64;
                    let idx: &[f64] = match index.map(&row) {
                        Some(Ok(r)) => r,
                        _ => &[],
                    };
                    if idx.len() == n && scatter_slots_valid(idx, lo, out.len()) {
                        // Every slot is an in-range integer: no per-entry checks, and a masked-out
                        // entry adds +0.0 (a sum slot starts at +0.0 so can never be -0.0, and
                        // `x + 0.0 == x` otherwise), which equals skipping it.
                        match mask {
                            None => {
                                for (&x, &v) in idx.iter().zip(b) {
                                    out[scatter_slot(x - lo)] += v;
                                }
                            }
                            Some(m) => {
                                for ((&x, &v), &k) in idx.iter().zip(b).zip(m) {
                                    out[scatter_slot(x - lo)] += keep_or_zero(v, k != 0.0);
                                }
                            }
                        }
                        return;
                    }
                    if idx.len() == n {
                        for t in 0..n {
                            let x = idx[t] - lo;
                            // `x as i64` is one truncating instruction (`as usize` is several on x86-64);
                            // it converts back to `x` exactly iff `x` is an integer (NaN gives 0 ≠ NaN),
                            // and negative slots wrap to huge `u64`s, so one comparison checks the range.
                            let slot = x as i64;
                            if slot as f64 == x && (slot as u64) < len && mask.is_none_or(|m| m[t] != 0.0) {
                                out[slot as usize] += b[t];
                            }
                        }
                        return;
                    }
                }
                Target::Scalar(_) => {}
            }
        }
        if let (AccOp::Reduce(op @ (ReduceOp::Max | ReduceOp::Min)), Ok(b), None, Target::Scalar(s)) =
            (acc.op, b, &f, &acc.target)
        {
            let o = &mut self.scalars[*s as usize];
            if op == ReduceOp::Max {
                for &v in b {
                    if v > *o {
                        *o = v;
                    }
                }
            } else {
                for &v in b {
                    if v < *o {
                        *o = v;
                    }
                }
            }
            aux[k].0[0] += n as f64;
            return;
        }
        // General path, element by element.
        let arg_vals = acc.arg_var.map(|v| (v, &self.axis_vals[v as usize]));
        let idx_row = index.map(row);
        let lo = match acc.target {
            Target::VecScatter { lo, .. } => self.scal[lo as usize],
            _ => 0.0,
        };
        let (out, fixed_slot): (&mut Vec<f64>, Option<usize>) = match acc.target {
            Target::Scalar(s) => (&mut self.scalars, Some(s as usize)),
            Target::VecAt { vec, var } => {
                let fixed = if var == inner { None } else { Some(self.pos[var as usize]) };
                (&mut self.vecs[vec as usize], fixed)
            }
            Target::VecScatter { vec, .. } => (&mut self.vecs[vec as usize], None),
        };
        let aux_slot_base = match acc.target {
            Target::Scalar(_) => Some(0usize),
            _ => None,
        };
        let len = out.len();
        for t in 0..n {
            if let Some(f) = &f {
                let keep = match f {
                    Ok(m) => m[t] != 0.0,
                    Err(c) => *c != 0.0,
                };
                if !keep {
                    continue;
                }
            }
            let slot = match (&acc.target, fixed_slot) {
                (_, Some(s)) => s,
                (Target::VecScatter { .. }, _) => {
                    let x = match &idx_row {
                        Some(Ok(r)) => r[t],
                        Some(Err(c)) => *c,
                        None => continue,
                    } - lo;
                    if !(x >= 0.0 && x < len as f64 && x == x.floor()) {
                        continue;
                    }
                    x as usize
                }
                _ => offset + t,
            };
            let aux_slot = aux_slot_base.unwrap_or(slot);
            let v = match &b {
                Ok(r) => r[t],
                Err(c) => *c,
            };
            let o = &mut out[slot];
            match acc.op {
                AccOp::Assign => *o = v,
                AccOp::Reduce(ReduceOp::Sum) => *o += v,
                AccOp::Reduce(ReduceOp::Mean) => {
                    *o += v;
                    aux[k].0[aux_slot] += 1.0;
                }
                AccOp::Reduce(ReduceOp::Count) => *o += 1.0,
                AccOp::Reduce(ReduceOp::Prod) => *o *= v,
                AccOp::Reduce(ReduceOp::Max) => {
                    aux[k].0[aux_slot] += 1.0;
                    if v > *o {
                        *o = v;
                    }
                }
                AccOp::Reduce(ReduceOp::Min) => {
                    aux[k].0[aux_slot] += 1.0;
                    if v < *o {
                        *o = v;
                    }
                }
                AccOp::Reduce(ReduceOp::ArgMax) | AccOp::Reduce(ReduceOp::ArgMin) => {
                    aux[k].0[aux_slot] += 1.0;
                    let better = if acc.op == u(ReduceOp::ArgMax) { v > *o } else { v < *o };
                    if better {
                        *o = v;
                        if let Some((var, vals)) = arg_vals {
                            let p = if var == inner { offset + t } else { self.pos[var as usize] };
                            aux[k].1[aux_slot] = vals[p];
                        }
                    }
                }
            }
        }
    }

    /// Final fix-ups: mean = sum / count; empty max/min/arg → NaN; argmax returns the argument.
    fn finish(&mut self, pass: &Pass, aux: &mut [(Vec<f64>, Vec<f64>)]) {
        for (k, PassAcc { acc, .. }) in pass.accs.iter().enumerate() {
            let AccOp::Reduce(op) = acc.op else { continue };
            if matches!(op, ReduceOp::Sum | ReduceOp::Count | ReduceOp::Prod) {
                continue;
            }
            let out: &mut [f64] = match acc.target {
                Target::Scalar(s) => std::slice::from_mut(&mut self.scalars[s as usize]),
                Target::VecAt { vec, .. } | Target::VecScatter { vec, .. } => &mut self.vecs[vec as usize],
            };
            for (slot, o) in out.iter_mut().enumerate() {
                let count = aux[k].0[slot];
                *o = match op {
                    ReduceOp::Mean => *o / count,
                    _ if count == 0.0 => f64::NAN,
                    ReduceOp::ArgMax | ReduceOp::ArgMin => aux[k].1[slot],
                    _ => *o,
                };
            }
        }
    }
}

enum RowView<'a> {
    R(&'a [f64]),
    S(f64),
}

#[inline(always)]
fn un_row(op: Un, src: &[f64], out: &mut [f64], mask: Option<&[f64]>) {
    // One loop per operator (the dispatch is per row, not per entry); under a mask the
    // operation is skipped, not just discarded, where the mask is zero.
    macro_rules! each {
        ($f:expr) => {
            match mask {
                // Masks are data-dependent (`p > 0` on a matrix with scattered zeros): a branch
                // per entry mispredicts often, so the kept positions are first listed without
                // branches, a chunk at a time, and the operation then runs on those only.
                Some(m) => {
                    const CHUNK: usize = 128;
                    let n = out.len().min(src.len()).min(m.len());
                    out.fill(0.0);
                    let mut kept = [0u32; CHUNK];
                    for start in (0..n).step_by(CHUNK) {
                        let end = (start + CHUNK).min(n);
                        let mut count = 0;
                        for (t, &k) in m[start..end].iter().enumerate() {
                            kept[count] = t as u32;
                            count += usize::from(k != 0.0);
                        }
                        let (o, x) = (&mut out[start..end], &src[start..end]);
                        for &t in &kept[..count] {
                            o[t as usize] = $f(x[t as usize]);
                        }
                    }
                }
                None => {
                    for (o, &x) in out.iter_mut().zip(src) {
                        *o = $f(x);
                    }
                }
            }
        };
    }
    match op {
        Un::Neg => each!(|x: f64| -x),
        Un::Not => each!(|x: f64| f64::from(u8::from(x == 0.0))),
        Un::Abs => each!(|x: f64| x.abs()),
        Un::Sqrt => each!(|x: f64| x.sqrt()),
        Un::Exp => each!(|x: f64| x.exp()),
        Un::Log => each!(|x: f64| x.ln()),
        Un::Log2 => each!(|x: f64| x.log2()),
        Un::Log10 => each!(|x: f64| x.log10()),
        Un::Floor => each!(|x: f64| x.floor()),
        Un::Ceil => each!(|x: f64| x.ceil()),
    }
}

#[inline(always)]
fn bin_row(op: Bin, a: RowView<'_>, b: RowView<'_>, out: &mut [f64], mask: Option<&[f64]>) {
    if let Some(m) = mask {
        for t in 0..out.len() {
            let x = match &a {
                RowView::R(r) => r[t],
                RowView::S(s) => *s,
            };
            let y = match &b {
                RowView::R(r) => r[t],
                RowView::S(s) => *s,
            };
            out[t] = if m[t] != 0.0 { op.apply(x, y) } else { 0.0 };
        }
        return;
    }
    // One tight loop per (operator, operand shape) so the compiler can vectorise.
    macro_rules! lanes {
        ($f:expr) => {
            match (&a, &b) {
                (RowView::R(x), RowView::R(y)) => {
                    for ((o, &p), &q) in out.iter_mut().zip(x.iter()).zip(y.iter()) {
                        *o = $f(p, q);
                    }
                }
                (RowView::R(x), RowView::S(q)) => {
                    let q = *q;
                    for (o, &p) in out.iter_mut().zip(x.iter()) {
                        *o = $f(p, q);
                    }
                }
                (RowView::S(p), RowView::R(y)) => {
                    let p = *p;
                    for (o, &q) in out.iter_mut().zip(y.iter()) {
                        *o = $f(p, q);
                    }
                }
                (RowView::S(p), RowView::S(q)) => {
                    let v = $f(*p, *q);
                    out.fill(v);
                }
            }
        };
    }
    // Comparisons give 1.0 / 0.0 (as `Bin::apply`), written so each loop stays branch-free.
    let t = |c: bool| f64::from(u8::from(c));
    match op {
        Bin::Add => lanes!(|p: f64, q: f64| p + q),
        Bin::Sub => lanes!(|p: f64, q: f64| p - q),
        Bin::Mul => lanes!(|p: f64, q: f64| p * q),
        Bin::Div => lanes!(|p: f64, q: f64| p / q),
        Bin::Eq => lanes!(|p: f64, q: f64| t(p == q)),
        Bin::Ne => lanes!(|p: f64, q: f64| t(p != q)),
        Bin::Lt => lanes!(|p: f64, q: f64| t(p < q)),
        Bin::Le => lanes!(|p: f64, q: f64| t(p <= q)),
        Bin::Gt => lanes!(|p: f64, q: f64| t(p > q)),
        Bin::Ge => lanes!(|p: f64, q: f64| t(p >= q)),
        Bin::And => lanes!(|p: f64, q: f64| t(p != 0.0 && q != 0.0)),
        Bin::Or => lanes!(|p: f64, q: f64| t(p != 0.0 || q != 0.0)),
        Bin::Min => lanes!(|p: f64, q: f64| p.min(q)),
        Bin::Max => lanes!(|p: f64, q: f64| p.max(q)),
        Bin::Pow => lanes!(|p: f64, q: f64| p.powf(q)),
    }
}

/// The `s`-th segment of `n` entries of a collapsed row.
#[inline(always)]
fn segment_of(r: &[f64], s: usize, n: usize) -> &[f64] {
    &r[s * n..(s + 1) * n]
}

/// Sum with four interleaved partial sums (breaks the add latency chain).
#[inline(always)]
fn sum4(b: &[f64]) -> f64 {
    let mut s = [0.0f64; 4];
    let chunks = b.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        s[0] += c[0];
        s[1] += c[1];
        s[2] += c[2];
        s[3] += c[3];
    }
    let mut tail = 0.0;
    for &x in rest {
        tail += x;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `b` where `keep`, else +0.0, without a branch: masks are data-dependent (`p > 0` on a
/// matrix with scattered zeros), so a branch here mispredicts often. Bit-masking also drops
/// NaN/inf entries that the filter excludes, exactly as skipping them would.
#[inline(always)]
fn keep_or_zero(x: f64, keep: bool) -> f64 {
    f64::from_bits(x.to_bits() & 0u64.wrapping_sub(u64::from(keep)))
}

/// Sum of `b` where `m` is non-zero, with four partial sums in the order of [`sum4`].
#[inline(always)]
fn masked_sum4(b: &[f64], m: &[f64]) -> f64 {
    let mut s = [0.0f64; 4];
    let n = b.len().min(m.len());
    let n4 = n / 4 * 4;
    for (cb, cm) in b[..n4].chunks_exact(4).zip(m[..n4].chunks_exact(4)) {
        for l in 0..4 {
            s[l] += keep_or_zero(cb[l], cm[l] != 0.0);
        }
    }
    let mut tail = 0.0;
    for t in n4..n {
        tail += keep_or_zero(b[t], m[t] != 0.0);
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `sum(a[t] * b[t])` (where `m[t] != 0`), in the lane order of [`sum4`]: bit-identical to
/// storing the products and summing them with [`sum4`] / [`masked_sum4`].
#[inline(always)]
fn dot4(a: &[f64], b: &[f64], m: Option<&[f64]>) -> f64 {
    let n = a.len().min(b.len());
    let n4 = n / 4 * 4;
    let mut s = [0.0f64; 4];
    let mut tail = 0.0;
    match m {
        None => {
            for (ca, cb) in a[..n4].chunks_exact(4).zip(b[..n4].chunks_exact(4)) {
                for l in 0..4 {
                    s[l] += ca[l] * cb[l];
                }
            }
            for t in n4..n {
                tail += a[t] * b[t];
            }
        }
        Some(m) => {
            let m = &m[..n];
            for ((ca, cb), cm) in a[..n4].chunks_exact(4).zip(b[..n4].chunks_exact(4)).zip(m.chunks_exact(4)) {
                for l in 0..4 {
                    s[l] += keep_or_zero(ca[l] * cb[l], cm[l] != 0.0);
                }
            }
            for t in n4..n {
                tail += keep_or_zero(a[t] * b[t], m[t] != 0.0);
            }
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `sum(a[t] * c)` (where `m[t] != 0`), in the lane order of [`sum4`].
#[inline(always)]
fn scaled_sum4(a: &[f64], c: f64, m: Option<&[f64]>) -> f64 {
    let n = a.len();
    let n4 = n / 4 * 4;
    let mut s = [0.0f64; 4];
    let mut tail = 0.0;
    match m {
        None => {
            for ca in a[..n4].chunks_exact(4) {
                for l in 0..4 {
                    s[l] += ca[l] * c;
                }
            }
            for &x in &a[n4..] {
                tail += x * c;
            }
        }
        Some(m) => {
            let m = &m[..n];
            for (ca, cm) in a[..n4].chunks_exact(4).zip(m.chunks_exact(4)) {
                for l in 0..4 {
                    s[l] += keep_or_zero(ca[l] * c, cm[l] != 0.0);
                }
            }
            for t in n4..n {
                tail += keep_or_zero(a[t] * c, m[t] != 0.0);
            }
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// 2^52: for `0 <= x < 2^52`, `x + 2^52` rounds to an integer and its bit pattern minus that
/// of 2^52 is that integer (the float is exactly `2^52 + integer`).
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// Whether every `x - lo` in `idx` is an integer in `0..len`, checked with float operations
/// only (no branches, no saturating conversions, so it vectorises) before the check-free
/// scatter: the GLCM's `|i - j|` and `i + j` rows always pass, and checking a row at once is
/// far cheaper than converting and checking entry by entry.
#[inline(always)]
fn scatter_slots_valid(idx: &[f64], lo: f64, len: usize) -> bool {
    let len = len as f64;
    if len > TWO_POW_52 {
        return false;
    }
    let mut ok = true;
    for &v in idx {
        let x = v - lo;
        // In range (NaN fails both comparisons), then integral: `(x + 2^52) - 2^52` is `x`
        // rounded to an integer for `0 <= x < 2^52`.
        ok &= (x >= 0.0) & (x < len) & ((x + TWO_POW_52) - TWO_POW_52 == x);
    }
    ok
}

/// The slot of a value `scatter_slots_valid` accepted (see [`TWO_POW_52`]).
#[inline(always)]
fn scatter_slot(x: f64) -> usize {
    ((x + TWO_POW_52).to_bits() - TWO_POW_52.to_bits()) as usize
}

/// Number of non-zero mask entries.
#[inline(always)]
fn mask_count(m: &[f64]) -> f64 {
    m.iter().map(|&k| f64::from(u8::from(k != 0.0))).sum()
}

// ---------------------------------------------------------------------------------------
// Planning

/// A materialised item as the list scheduler sees it.
struct SchedItem {
    /// A scalar (`Ir::scalars`) or a vector (`Ir::vecs`) item, and its id there.
    is_scalar: bool,
    id: u32,
    /// Number of loop variables: items with more than one wait so that they fuse.
    weight: usize,
    scalar_deps: Vec<u32>,
    vec_deps: Vec<u32>,
}

struct Planner<'r> {
    checked: CheckedFamily,
    registry: &'r Registry,
    /// Stage from which a node's value is available.
    node_ready: Vec<Option<usize>>,
    scalar_stage: Vec<Option<usize>>,
    vec_stage: Vec<Option<usize>>,
}

impl<'r> Planner<'r> {
    fn new(checked: CheckedFamily, registry: &'r Registry) -> Self {
        let n = checked.ir.nodes.len();
        let s = checked.ir.scalars.len();
        let v = checked.ir.vecs.len();
        Planner { checked, registry, node_ready: vec![None; n], scalar_stage: vec![None; s], vec_stage: vec![None; v] }
    }

    fn var_ready(&mut self, v: VarId) -> usize {
        match self.checked.ir.vars[v as usize].axis {
            AxisKey::Source(_) => 0,
            AxisKey::Range(lo, hi) => self.ready(lo).max(self.ready(hi)),
        }
    }

    /// Stage from which node `n` can be computed (recursively planning what it needs).
    fn ready(&mut self, n: NodeId) -> usize {
        if let Some(r) = self.node_ready[n as usize] {
            return r;
        }
        let node = self.checked.ir.nodes[n as usize].clone();
        let r = match node {
            Node::Const(_) | Node::SrcScalar(_) => 0,
            Node::Index(v) => self.var_ready(v),
            Node::Array { vars, .. } => vars.iter().map(|v| self.var_ready(*v)).max().unwrap_or(0),
            Node::VecRead { vec, at } => (self.vec_stage(vec) + 1).max(self.var_ready(at)),
            Node::ScalarRef(s) => self.scalar_stage(s) + 1,
            Node::Unary(_, a) => self.ready(a),
            Node::Binary(_, a, b) => self.ready(a).max(self.ready(b)),
            Node::Select(c, a, b) => self.ready(c).max(self.ready(a)).max(self.ready(b)),
        };
        self.node_ready[n as usize] = Some(r);
        r
    }

    fn reduction_ready(&mut self, r: u32) -> usize {
        let red = self.checked.ir.reductions[r as usize].clone();
        let mut s = self.ready(red.body);
        if let Some(f) = red.filter {
            s = s.max(self.ready(f));
        }
        for b in &red.binders {
            s = s.max(self.var_ready(*b));
        }
        s
    }

    fn scalar_stage(&mut self, s: u32) -> usize {
        if let Some(st) = self.scalar_stage[s as usize] {
            return st;
        }
        let st = match self.checked.ir.scalars[s as usize].clone() {
            ScalarDef::Reduce(r) => self.reduction_ready(r),
            ScalarDef::Builtin { args, .. } => args
                .iter()
                .map(|a| match a {
                    BuiltinArg::Scalar(n) => self.ready(*n),
                    BuiltinArg::SourceArray(_) => 0,
                    BuiltinArg::Vector(v) => self.vec_stage(*v) + 1,
                })
                .max()
                .unwrap_or(0),
        };
        self.scalar_stage[s as usize] = Some(st);
        st
    }

    fn vec_stage(&mut self, v: u32) -> usize {
        if let Some(st) = self.vec_stage[v as usize] {
            return st;
        }
        let st = match self.checked.ir.vecs[v as usize].clone() {
            VecDef::Reduce { red, var } => self.reduction_ready(red).max(self.var_ready(var)),
            VecDef::Map { var, body } => self.ready(body).max(self.var_ready(var)),
        };
        self.vec_stage[v as usize] = Some(st);
        st
    }

    /// The scalar and vector items that the nodes under `roots` read (directly, not through
    /// other items), including those in the bounds of range variables.
    fn item_deps(&self, roots: &[NodeId], vars: &[VarId]) -> (Vec<u32>, Vec<u32>) {
        let ir = &self.checked.ir;
        let (mut scalars, mut vecs) = (Vec::new(), Vec::new());
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<NodeId> = roots.to_vec();
        let range_bounds = |v: VarId, stack: &mut Vec<NodeId>| {
            if let AxisKey::Range(lo, hi) = ir.vars[v as usize].axis {
                stack.extend([lo, hi]);
            }
        };
        for &v in vars {
            range_bounds(v, &mut stack);
        }
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match &ir.nodes[n as usize] {
                Node::Const(_) | Node::SrcScalar(_) => {}
                Node::Index(v) => range_bounds(*v, &mut stack),
                Node::Array { vars, .. } => vars.iter().for_each(|v| range_bounds(*v, &mut stack)),
                Node::VecRead { vec, at } => {
                    vecs.push(*vec);
                    range_bounds(*at, &mut stack);
                }
                Node::ScalarRef(k) => scalars.push(*k),
                Node::Unary(_, a) => stack.push(*a),
                Node::Binary(_, a, b) => stack.extend([*a, *b]),
                Node::Select(c, a, b) => stack.extend([*c, *a, *b]),
            }
        }
        (scalars, vecs)
    }

    /// Assigns every scalar and vector item its stage by list scheduling. Plain
    /// as-soon-as-possible staging would give the GLCM three `(i, j)` sweeps: features that
    /// need `mux` (itself a cheap sum over a marginal) would run one stage after the other
    /// second-pass features. Instead cheap items (builtins and loops over at most one
    /// variable) run as soon as they are ready, and multi-variable loops wait until nothing
    /// cheap is ready, so that every such loop ready by then shares one sweep.
    fn schedule_items(&mut self) {
        let ir = &self.checked.ir;
        let mut items: Vec<SchedItem> = Vec::new();
        for (k, def) in ir.scalars.iter().enumerate() {
            let (weight, roots, vars): (usize, Vec<NodeId>, Vec<VarId>) = match def {
                ScalarDef::Reduce(r) => {
                    let r = &ir.reductions[*r as usize];
                    (r.binders.len(), std::iter::once(r.body).chain(r.filter).collect(), r.binders.clone())
                }
                ScalarDef::Builtin { args, .. } => {
                    let roots = args.iter().filter_map(|a| if let BuiltinArg::Scalar(n) = a { Some(*n) } else { None });
                    (0, roots.collect(), Vec::new())
                }
            };
            let (mut ds, mut dv) = self.item_deps(&roots, &vars);
            if let ScalarDef::Builtin { args, .. } = def {
                dv.extend(args.iter().filter_map(|a| if let BuiltinArg::Vector(v) = a { Some(*v) } else { None }));
            }
            ds.sort_unstable();
            ds.dedup();
            items.push(SchedItem { is_scalar: true, id: k as u32, weight, scalar_deps: ds, vec_deps: dv });
        }
        for (k, def) in ir.vecs.iter().enumerate() {
            let (weight, roots, vars): (usize, Vec<NodeId>, Vec<VarId>) = match def {
                VecDef::Reduce { red, var } => {
                    let r = &ir.reductions[*red as usize];
                    let mut vars = r.binders.clone();
                    vars.push(*var);
                    (vars.len(), std::iter::once(r.body).chain(r.filter).collect(), vars)
                }
                VecDef::Map { var, body } => (1, vec![*body], vec![*var]),
            };
            let (ds, dv) = self.item_deps(&roots, &vars);
            items.push(SchedItem { is_scalar: false, id: k as u32, weight, scalar_deps: ds, vec_deps: dv });
        }
        let mut scalar_stage: Vec<Option<usize>> = vec![None; ir.scalars.len()];
        let mut vec_stage: Vec<Option<usize>> = vec![None; ir.vecs.len()];
        let mut remaining: Vec<usize> = (0..items.len()).collect();
        let mut stage = 0;
        while !remaining.is_empty() {
            // Ready at `stage`: every item read was computed in an earlier stage.
            let done_before = |d: Option<usize>| d.is_some_and(|s| s < stage);
            let ready: Vec<usize> = remaining
                .iter()
                .copied()
                .filter(|&i| {
                    items[i].scalar_deps.iter().all(|&d| done_before(scalar_stage[d as usize]))
                        && items[i].vec_deps.iter().all(|&d| done_before(vec_stage[d as usize]))
                })
                .collect();
            if ready.is_empty() {
                // Only possible with a dependency cycle, which the checker rejects; fall back
                // to as-soon-as-possible staging for whatever is left.
                break;
            }
            let cheap_ready = ready.iter().any(|&i| items[i].weight <= 1);
            for &i in &ready {
                if cheap_ready && items[i].weight > 1 {
                    continue;
                }
                let SchedItem { is_scalar, id, .. } = items[i];
                if is_scalar {
                    scalar_stage[id as usize] = Some(stage);
                } else {
                    vec_stage[id as usize] = Some(stage);
                }
            }
            remaining.retain(|&i| {
                let SchedItem { is_scalar, id, .. } = items[i];
                if is_scalar { scalar_stage[id as usize].is_none() } else { vec_stage[id as usize].is_none() }
            });
            stage += 1;
        }
        if remaining.is_empty() {
            self.scalar_stage = scalar_stage;
            self.vec_stage = vec_stage;
        }
    }

    /// Splits `a && b && …` into its conjuncts.
    fn conjuncts(&self, n: NodeId, out: &mut Vec<NodeId>) {
        match self.checked.ir.nodes[n as usize] {
            Node::Binary(Bin::And, a, b) => {
                self.conjuncts(a, out);
                self.conjuncts(b, out);
            }
            _ => out.push(n),
        }
    }

    /// An accumulator (and its loop set) for a vector reduction, using the scatter
    /// lowering when the filter pins the vector's index to a function of the binders.
    fn vec_reduce_acc(&mut self, vec: u32, red: u32, var: VarId) -> (Vec<VarId>, Acc) {
        let r = self.checked.ir.reductions[red as usize].clone();
        let arg_var = if matches!(r.op, ReduceOp::ArgMax | ReduceOp::ArgMin) { Some(r.binders[0]) } else { None };
        let plain = |binders: &[VarId]| {
            let mut loops = vec![var];
            loops.extend_from_slice(binders);
            (loops, Acc { op: u(r.op), filter: r.filter, body: r.body, arg_var, target: Target::VecAt { vec, var } })
        };
        let ir = &self.checked.ir;
        let Some(filter) = r.filter else { return plain(&r.binders) };
        if ir.free[r.body as usize] & bit(var) != 0 {
            return plain(&r.binders);
        }
        let mut parts = Vec::new();
        self.conjuncts(filter, &mut parts);
        let ir = &self.checked.ir;
        let index_node = ir.nodes.iter().position(|n| *n == Node::Index(var)).map(|p| p as NodeId);
        let Some(index_node) = index_node else { return plain(&r.binders) };
        let mut pinned = None;
        for (k, &c) in parts.iter().enumerate() {
            if let Node::Binary(Bin::Eq, a, b) = ir.nodes[c as usize] {
                let other = if a == index_node {
                    b
                } else if b == index_node {
                    a
                } else {
                    continue;
                };
                if ir.free[other as usize] & bit(var) == 0 {
                    pinned = Some((k, other));
                    break;
                }
            }
        }
        let Some((k, index)) = pinned else { return plain(&r.binders) };
        let rest: Vec<NodeId> = parts.iter().enumerate().filter(|(j, _)| *j != k).map(|(_, c)| *c).collect();
        if rest.iter().any(|c| ir.free[*c as usize] & bit(var) != 0) {
            return plain(&r.binders);
        }
        let residual = rest.into_iter().reduce(|a, b| self.checked.ir.intern(Node::Binary(Bin::And, a, b)));
        let lo = match self.checked.ir.vars[var as usize].axis {
            AxisKey::Range(lo, _) => lo,
            // Source axes are scattered by value too, with `lo` the first axis value; only
            // unit-step axes starting at a constant qualify, so fall back to the plain loop.
            AxisKey::Source(_) => return plain(&r.binders),
        };
        (
            r.binders.clone(),
            Acc { op: u(r.op), filter: residual, body: r.body, arg_var, target: Target::VecScatter { vec, index, lo } },
        )
    }

    /// Re-creates node `n` with index variables renamed (`map[v]`), memoised.
    fn rename(
        &mut self,
        n: NodeId,
        map: &[(VarId, VarId)],
        memo: &mut std::collections::HashMap<NodeId, NodeId>,
    ) -> NodeId {
        if self.checked.ir.free[n as usize] == 0 {
            return n;
        }
        if let Some(&m) = memo.get(&n) {
            return m;
        }
        let r = |v: VarId| map.iter().find(|(a, _)| *a == v).map_or(v, |(_, b)| *b);
        let node = match self.checked.ir.nodes[n as usize].clone() {
            Node::Index(v) => Node::Index(r(v)),
            Node::Array { array, vars } => Node::Array { array, vars: vars.into_iter().map(r).collect() },
            Node::VecRead { vec, at } => Node::VecRead { vec, at: r(at) },
            Node::Unary(op, a) => Node::Unary(op, self.rename(a, map, memo)),
            Node::Binary(op, a, b) => {
                let a = self.rename(a, map, memo);
                Node::Binary(op, a, self.rename(b, map, memo))
            }
            Node::Select(c, a, b) => {
                let c = self.rename(c, map, memo);
                let a = self.rename(a, map, memo);
                Node::Select(c, a, self.rename(b, map, memo))
            }
            other => other,
        };
        let m = self.checked.ir.intern(node);
        memo.insert(n, m);
        m
    }

    /// Number of array reads under `n` whose indices are not in loop order (strided rows).
    fn transposed_reads(&self, n: NodeId, seen: &mut Vec<bool>) -> usize {
        if seen[n as usize] || self.checked.ir.free[n as usize] == 0 {
            return 0;
        }
        seen[n as usize] = true;
        let ir = &self.checked.ir;
        match &ir.nodes[n as usize] {
            Node::Array { vars, .. } => {
                let key = |v: &VarId| (ir.vars[*v as usize].slot, *v);
                usize::from(vars.windows(2).any(|w| key(&w[0]) > key(&w[1])))
            }
            Node::Unary(_, a) => self.transposed_reads(*a, seen),
            Node::Binary(_, a, b) => self.transposed_reads(*a, seen) + self.transposed_reads(*b, seen),
            Node::Select(c, a, b) => {
                self.transposed_reads(*c, seen) + self.transposed_reads(*a, seen) + self.transposed_reads(*b, seen)
            }
            _ => 0,
        }
    }

    /// For a vector reduction whose index shares an axis with one of its binders, swapping
    /// the two names changes nothing semantically but may turn strided reads (`p[i,j]`
    /// with `j` the vector index) into contiguous ones that other features already load.
    fn orient(&mut self, loops: Vec<VarId>, acc: Acc) -> (Vec<VarId>, Acc) {
        let Target::VecAt { vec, var } = acc.target else { return (loops, acc) };
        if acc.arg_var.is_some() {
            return (loops, acc);
        }
        let axis = self.checked.ir.vars[var as usize].axis;
        let Some(&other) = loops.iter().find(|&&b| b != var && self.checked.ir.vars[b as usize].axis == axis) else {
            return (loops, acc);
        };
        let count = |p: &Self, a: &Acc| {
            let mut seen = vec![false; p.checked.ir.nodes.len()];
            p.transposed_reads(a.body, &mut seen) + a.filter.map_or(0, |f| p.transposed_reads(f, &mut seen))
        };
        let before = count(self, &acc);
        if before == 0 {
            return (loops, acc);
        }
        let map = [(var, other), (other, var)];
        let mut memo = std::collections::HashMap::new();
        let body = self.rename(acc.body, &map, &mut memo);
        let filter = acc.filter.map(|f| self.rename(f, &map, &mut memo));
        let swapped = Acc { body, filter, target: Target::VecAt { vec, var: other }, ..acc.clone() };
        self.node_ready.resize(self.checked.ir.nodes.len(), None);
        if count(self, &swapped) < before { (loops, swapped) } else { (loops, acc) }
    }

    // The reachability flags are parallel to the IR tables; indexing by id is the clear form.
    #[allow(clippy::needless_range_loop)]
    fn run(mut self) -> CompiledFamily {
        // 0. Stages of the materialised items (fixes when each reduction's loop runs).
        self.schedule_items();
        // 1. Stages of everything reachable from the features.
        let feature_nodes: Vec<NodeId> = self.checked.features.iter().map(|(_, n)| *n).collect();
        for &n in &feature_nodes {
            self.ready(n);
        }
        // 2. Collect work per stage. Reachability: walk from features through items.
        let mut reach_nodes = vec![false; self.checked.ir.nodes.len()];
        let mut reach_scalars = vec![false; self.checked.ir.scalars.len()];
        let mut reach_vecs = vec![false; self.checked.ir.vecs.len()];
        let mut stack: Vec<NodeId> = feature_nodes.clone();
        let mut pending_vecs: Vec<u32> = Vec::new();
        loop {
            let ir = &self.checked.ir;
            let mut vars = Vec::new();
            if let Some(v) = pending_vecs.pop() {
                if !reach_vecs[v as usize] {
                    reach_vecs[v as usize] = true;
                    match &ir.vecs[v as usize] {
                        VecDef::Reduce { red, var } => {
                            let r = &ir.reductions[*red as usize];
                            stack.push(r.body);
                            stack.extend(r.filter);
                            vars.extend(&r.binders);
                            vars.push(*var);
                        }
                        VecDef::Map { var, body } => {
                            stack.push(*body);
                            vars.push(*var);
                        }
                    }
                }
            } else if let Some(n) = stack.pop() {
                if reach_nodes[n as usize] {
                    continue;
                }
                reach_nodes[n as usize] = true;
                match &ir.nodes[n as usize] {
                    Node::Const(_) | Node::SrcScalar(_) => {}
                    Node::Index(v) => vars.push(*v),
                    Node::Array { vars: vs, .. } => vars.extend(vs),
                    Node::VecRead { vec, at } => {
                        vars.push(*at);
                        pending_vecs.push(*vec);
                    }
                    Node::ScalarRef(s) => {
                        if !reach_scalars[*s as usize] {
                            reach_scalars[*s as usize] = true;
                            match &ir.scalars[*s as usize] {
                                ScalarDef::Reduce(red) => {
                                    let r = &ir.reductions[*red as usize];
                                    stack.push(r.body);
                                    stack.extend(r.filter);
                                    vars.extend(&r.binders);
                                }
                                ScalarDef::Builtin { args, .. } => {
                                    for a in args {
                                        match a {
                                            BuiltinArg::Scalar(m) => stack.push(*m),
                                            BuiltinArg::Vector(v) => pending_vecs.push(*v),
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
            } else {
                break;
            }
            for v in vars {
                if let AxisKey::Range(lo, hi) = ir.vars[v as usize].axis {
                    stack.extend([lo, hi]);
                }
            }
        }
        // Stages of all reachable nodes/items.
        for n in 0..reach_nodes.len() {
            if reach_nodes[n] {
                self.ready(n as NodeId);
            }
        }
        let mut n_stages = 1;
        for n in 0..reach_nodes.len() {
            if reach_nodes[n] {
                n_stages = n_stages.max(self.ready(n as NodeId) + 1);
            }
        }
        for v in 0..reach_vecs.len() {
            if reach_vecs[v] {
                n_stages = n_stages.max(self.vec_stage(v as u32) + 2);
            }
        }
        for s in 0..reach_scalars.len() {
            if reach_scalars[s] {
                n_stages = n_stages.max(self.scalar_stage(s as u32) + 2);
            }
        }
        let mut stages = vec![Stage::default(); n_stages];
        let mut builtin_impls = Vec::new();
        // Items per stage, grouped by loop set.
        let mut items: Vec<Vec<(Vec<VarId>, Acc)>> = vec![Vec::new(); n_stages];
        for s in 0..reach_scalars.len() {
            if !reach_scalars[s] {
                continue;
            }
            let st = self.scalar_stage(s as u32);
            match self.checked.ir.scalars[s].clone() {
                ScalarDef::Reduce(red) => {
                    let r = self.checked.ir.reductions[red as usize].clone();
                    let arg_var =
                        if matches!(r.op, ReduceOp::ArgMax | ReduceOp::ArgMin) { Some(r.binders[0]) } else { None };
                    items[st].push((
                        r.binders.clone(),
                        Acc { op: u(r.op), filter: r.filter, body: r.body, arg_var, target: Target::Scalar(s as u32) },
                    ));
                }
                ScalarDef::Builtin { builtin, .. } => {
                    stages[st].builtins.push(s as u32);
                    let imp = self.registry.builtin(&builtin).map_or(BuiltinImpl::Host, |b| b.implementation);
                    builtin_impls.push((s as u32, imp));
                }
            }
        }
        for v in 0..reach_vecs.len() {
            if !reach_vecs[v] {
                continue;
            }
            let st = self.vec_stage(v as u32);
            match self.checked.ir.vecs[v].clone() {
                VecDef::Reduce { red, var } => {
                    let (loops, acc) = self.vec_reduce_acc(v as u32, red, var);
                    let item = self.orient(loops, acc);
                    // Residual filters are new nodes; they are ready when their parts are.
                    items[st].push(item);
                }
                VecDef::Map { var, body } => items[st].push((
                    vec![var],
                    Acc {
                        op: AccOp::Assign,
                        filter: None,
                        body,
                        arg_var: None,
                        target: Target::VecAt { vec: v as u32, var },
                    },
                )),
            }
        }
        // Scalar nodes per stage (id order is topological).
        self.node_ready.resize(self.checked.ir.nodes.len(), None);
        reach_nodes.resize(self.checked.ir.nodes.len(), false);
        for n in 0..self.checked.ir.nodes.len() {
            if reach_nodes[n] && self.checked.ir.free[n] == 0 {
                let r = self.ready(n as NodeId);
                stages[r].scalar_nodes.push(n as NodeId);
            }
        }
        // Passes.
        let mut row_slot = vec![u32::MAX; self.checked.ir.nodes.len()];
        for (st, stage_items) in items.into_iter().enumerate() {
            let mut groups: Vec<(u64, Vec<VarId>, Vec<Acc>)> = Vec::new();
            for (loops, acc) in stage_items {
                let mask = loops.iter().fold(0u64, |m, v| m | bit(*v));
                match groups.iter_mut().find(|(m, _, _)| *m == mask) {
                    Some(g) => g.2.push(acc),
                    None => groups.push((mask, loops, vec![acc])),
                }
            }
            for (_, mut loops, accs) in groups {
                loops.sort_by_key(|v| (self.checked.ir.vars[*v as usize].slot, *v));
                loops.dedup();
                let pass = self.build_pass(loops, accs, &mut row_slot, &mut stages, st);
                stages[st].passes.push(pass);
            }
        }
        CompiledFamily { checked: self.checked, builtin_impls, stages, scratch: ScratchPool::default() }
    }

    fn build_pass(
        &mut self,
        loops: Vec<VarId>,
        accs: Vec<Acc>,
        row_slot: &mut [u32],
        stages: &mut [Stage],
        stage: usize,
    ) -> Pass {
        let ir = &self.checked.ir;
        let inner = loops.len() - 1;
        // Nodes this pass needs, in id (topological) order.
        let mut needed = vec![false; ir.nodes.len()];
        let mut stack: Vec<NodeId> = Vec::new();
        for a in &accs {
            stack.push(a.body);
            stack.extend(a.filter);
            if let Target::VecScatter { index, .. } = a.target {
                stack.push(index);
            }
        }
        let mut scalars_needed = Vec::new();
        while let Some(n) = stack.pop() {
            if needed[n as usize] {
                continue;
            }
            needed[n as usize] = true;
            if ir.free[n as usize] == 0 {
                scalars_needed.push(n);
                continue;
            }
            match &ir.nodes[n as usize] {
                Node::Unary(_, a) => stack.push(*a),
                Node::Binary(_, a, b) => stack.extend([*a, *b]),
                Node::Select(c, a, b) => stack.extend([*c, *a, *b]),
                _ => {}
            }
        }
        // Scalar operands created by planning (residual filters) or not yet scheduled.
        for n in scalars_needed {
            if !stages.iter().any(|s| s.scalar_nodes.contains(&n)) {
                let r = self.ready(n).min(stage);
                let list = &mut stages[r].scalar_nodes;
                let pos = list.partition_point(|&m| m < n);
                list.insert(pos, n);
            }
        }
        let ir = &self.checked.ir;
        let depth_of = |n: NodeId| -> Option<usize> {
            let m = ir.free[n as usize];
            if m == 0 {
                return None;
            }
            loops.iter().rposition(|v| m & bit(*v) != 0)
        };
        // Guards: an expensive row node used only under one filter is evaluated only where it holds.
        let mut guard: Vec<Option<Option<NodeId>>> = vec![None; ir.nodes.len()]; // None = unseen
        let note = |g: &mut Vec<Option<Option<NodeId>>>, n: NodeId, f: Option<NodeId>| {
            let e = &mut g[n as usize];
            *e = match *e {
                None => Some(f),
                Some(prev) if prev == f => Some(prev),
                Some(_) => Some(None),
            };
        };
        for a in &accs {
            note(&mut guard, a.body, a.filter);
            if let Some(f) = a.filter {
                note(&mut guard, f, None);
            }
            if let Target::VecScatter { index, .. } = a.target {
                note(&mut guard, index, None);
            }
        }
        for n in (0..ir.nodes.len()).rev() {
            if !needed[n] || ir.free[n] == 0 {
                continue;
            }
            let g = guard[n].unwrap_or(None);
            match &ir.nodes[n] {
                Node::Unary(_, a) => note(&mut guard, *a, g),
                Node::Binary(_, a, b) => {
                    note(&mut guard, *a, g);
                    note(&mut guard, *b, g);
                }
                Node::Select(c, a, b) => {
                    note(&mut guard, *c, None);
                    note(&mut guard, *a, None);
                    note(&mut guard, *b, None);
                }
                _ => {}
            }
        }
        // Scalar sums whose body is a product used nowhere else in the pass are fused: the
        // accumulator multiplies as it sums, and the product row is never materialised.
        let mut uses = vec![0u32; ir.nodes.len()];
        for (n, node) in ir.nodes.iter().enumerate() {
            if !needed[n] || ir.free[n] == 0 {
                continue;
            }
            match node {
                Node::Unary(_, a) => uses[*a as usize] += 1,
                Node::Binary(_, a, b) => {
                    uses[*a as usize] += 1;
                    uses[*b as usize] += 1;
                }
                Node::Select(c, a, b) => [*c, *a, *b].iter().for_each(|m| uses[*m as usize] += 1),
                _ => {}
            }
        }
        for a in &accs {
            uses[a.body as usize] += 1;
            if let Some(f) = a.filter {
                uses[f as usize] += 1;
            }
            if let Target::VecScatter { index, .. } = a.target {
                uses[index as usize] += 1;
            }
        }
        let fused: Vec<Option<(NodeId, NodeId)>> = accs
            .iter()
            .map(|a| match (&a.target, a.op, &ir.nodes[a.body as usize]) {
                (Target::Scalar(_), AccOp::Reduce(ReduceOp::Sum), Node::Binary(Bin::Mul, x, y))
                    if uses[a.body as usize] == 1 && depth_of(a.body) == Some(inner) =>
                {
                    Some((*x, *y))
                }
                _ => None,
            })
            .collect();
        let is_fused = |n: usize| accs.iter().zip(&fused).any(|(a, f)| f.is_some() && a.body as usize == n);
        let mut per_depth = vec![Vec::new(); inner];
        let mut rows = Vec::new();
        let mut row_invariant = Vec::new();
        let mut n_slots = 0u32;
        let opd = |n: NodeId, row_slot: &[u32]| -> Opd {
            if ir.free[n as usize] != 0 && row_slot[n as usize] != u32::MAX && depth_of(n) == Some(inner) {
                Opd::Row(row_slot[n as usize])
            } else {
                Opd::Scalar(n)
            }
        };
        for n in 0..ir.nodes.len() {
            if !needed[n] || ir.free[n] == 0 {
                continue;
            }
            let Some(d) = depth_of(n as NodeId) else { continue };
            if d < inner {
                per_depth[d].push(n as NodeId);
                continue;
            }
            if is_fused(n) {
                continue;
            }
            let dst = n_slots;
            n_slots += 1;
            let g = guard[n].unwrap_or(None);
            let instr = match &ir.nodes[n] {
                Node::Index(v) => RowInstr::Index { dst, var: *v },
                Node::Array { array, vars } => RowInstr::Array { dst, array: *array, vars: vars.clone() },
                Node::VecRead { vec, .. } => RowInstr::VecRead { dst, vec: *vec },
                Node::Unary(op, a) => {
                    let guard = if op.is_expensive() {
                        g.and_then(|f| row_guard(f, n, row_slot, &depth_of, inner))
                    } else {
                        None
                    };
                    RowInstr::Un { dst, op: *op, a: row_slot[*a as usize], guard }
                }
                Node::Binary(op, a, b) => {
                    let expensive = matches!(op, Bin::Pow);
                    let guard =
                        if expensive { g.and_then(|f| row_guard(f, n, row_slot, &depth_of, inner)) } else { None };
                    RowInstr::Bin { dst, op: *op, a: opd(*a, row_slot), b: opd(*b, row_slot), guard }
                }
                Node::Select(c, a, b) => {
                    RowInstr::Select { dst, c: opd(*c, row_slot), a: opd(*a, row_slot), b: opd(*b, row_slot) }
                }
                _ => continue,
            };
            row_slot[n] = dst;
            rows.push(instr);
            let guarded =
                matches!(rows.last(), Some(RowInstr::Un { guard: Some(_), .. } | RowInstr::Bin { guard: Some(_), .. }));
            // A guarded row leaves zeros where its filter fails, and the filter may vary by row.
            row_invariant.push(ir.free[n] == bit(loops[inner]) && !guarded);
        }
        let accs: Vec<PassAcc> = accs
            .into_iter()
            .zip(fused)
            .map(|(a, fused)| {
                let (body, factor) = match fused {
                    Some((x, y)) => (opd(x, row_slot), Some(opd(y, row_slot))),
                    None => (opd(a.body, row_slot), None),
                };
                let filter = a.filter.map(|f| opd(f, row_slot));
                let index = match a.target {
                    Target::VecScatter { index, .. } => Some(opd(index, row_slot)),
                    _ => None,
                };
                PassAcc { acc: a, body, factor, filter, index }
            })
            .collect();
        // The collapsed plan: operands hoisted to the outer loop read from their rows.
        let (collapsed_rows, collapsed_accs) = if loops.len() == 2 {
            let hoisted = &per_depth[0];
            let lift = |o: Opd| match o {
                Opd::Scalar(m) => hoisted.iter().position(|&h| h == m).map_or(o, |e| Opd::Hoisted(e as u32)),
                other => other,
            };
            let rows = rows
                .iter()
                .map(|ins| match ins.clone() {
                    RowInstr::Bin { dst, op, a, b, guard } => RowInstr::Bin { dst, op, a: lift(a), b: lift(b), guard },
                    RowInstr::Select { dst, c, a, b } => RowInstr::Select { dst, c: lift(c), a: lift(a), b: lift(b) },
                    other => other,
                })
                .collect();
            let accs = accs
                .iter()
                .map(|pa| PassAcc {
                    acc: pa.acc.clone(),
                    body: lift(pa.body),
                    factor: pa.factor.map(lift),
                    filter: pa.filter.map(lift),
                    index: pa.index.map(lift),
                })
                .collect();
            (rows, accs)
        } else {
            (Vec::new(), Vec::new())
        };
        Pass { loops, per_depth, rows, row_invariant, n_slots: n_slots as usize, accs, collapsed_rows, collapsed_accs }
    }
}

/// The row slot of filter `f` if it is already computed (in this pass, before node `n`).
fn row_guard(
    f: NodeId,
    n: usize,
    row_slot: &[u32],
    depth_of: &dyn Fn(NodeId) -> Option<usize>,
    inner: usize,
) -> Option<u32> {
    if (f as usize) < n && depth_of(f) == Some(inner) && row_slot[f as usize] != u32::MAX {
        Some(row_slot[f as usize])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Entries including the awkward ones a filter must drop: zeros, NaN, ±inf.
    fn entry() -> impl Strategy<Value = f64> {
        prop_oneof![Just(0.0), Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), -1e3f64..1e3]
    }

    fn rows() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>)> {
        (0usize..23).prop_flat_map(|n| {
            let mask = prop::collection::vec(prop_oneof![Just(0.0), Just(1.0), Just(-0.5)], n);
            (prop::collection::vec(entry(), n), prop::collection::vec(entry(), n), mask)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The fused accumulators must equal storing the products and summing them, bit for bit
        /// (the compiled plan is deterministic and the fusion must not change any result).
        #[test]
        fn fused_products_equal_materialised_products((a, b, m) in rows(), c in entry()) {
            let prod: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
            let scaled: Vec<f64> = a.iter().map(|x| x * c).collect();
            let same = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
            prop_assert!(same(dot4(&a, &b, None), sum4(&prod)));
            prop_assert!(same(dot4(&a, &b, Some(&m)), masked_sum4(&prod, &m)));
            prop_assert!(same(scaled_sum4(&a, c, None), sum4(&scaled)));
            prop_assert!(same(scaled_sum4(&a, c, Some(&m)), masked_sum4(&scaled, &m)));
        }

        /// A masked sum equals the plain sum of the kept entries (so excluded NaN/inf vanish).
        #[test]
        fn masked_sum_is_the_sum_of_kept_entries((a, _b, m) in rows()) {
            let kept: Vec<f64> = a.iter().zip(&m).map(|(&x, &k)| if k != 0.0 { x } else { 0.0 }).collect();
            let (got, want) = (masked_sum4(&a, &m), sum4(&kept));
            prop_assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()));
            prop_assert_eq!(mask_count(&m), m.iter().filter(|&&k| k != 0.0).count() as f64);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The row-at-once scatter check accepts exactly the rows whose every entry is an
        /// integer slot in range, and then `scatter_slot` is that integer.
        #[test]
        fn scatter_check_accepts_exactly_integer_slots_in_range(
            idx in prop::collection::vec(prop_oneof![
                (0i32..40).prop_map(f64::from),
                Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(2.5), Just(-0.0), Just(1e300),
            ], 0..20),
            lo in prop_oneof![Just(0.0), Just(2.0), Just(-3.0)],
            len in 0usize..45,
        ) {
            let entry_ok = |v: f64| {
                let x = v - lo;
                x >= 0.0 && x < len as f64 && x.fract() == 0.0
            };
            let want = idx.iter().all(|&v| entry_ok(v));
            prop_assert_eq!(scatter_slots_valid(&idx, lo, len), want);
            if want {
                for &v in &idx {
                    prop_assert_eq!(scatter_slot(v - lo), (v - lo) as usize);
                }
            }
        }

        /// A masked transcendental row is the operation where the mask holds and 0 elsewhere.
        #[test]
        fn masked_unary_row_is_the_operation_where_kept((a, _b, m) in rows()) {
            let mut out = vec![f64::NAN; a.len()];
            un_row(Un::Log2, &a, &mut out, Some(&m));
            for t in 0..a.len() {
                let want = if m[t] != 0.0 { a[t].log2() } else { 0.0 };
                prop_assert!(out[t].to_bits() == want.to_bits() || (out[t].is_nan() && want.is_nan()));
            }
        }
    }

    /// Rows longer than the compaction chunk (128) keep every position in its place.
    #[test]
    fn masked_unary_row_spans_chunks() {
        let src: Vec<f64> = (0..300).map(|t| t as f64 + 1.0).collect();
        let mask: Vec<f64> = (0..300).map(|t| f64::from(u8::from(t % 3 != 1))).collect();
        let mut out = vec![f64::NAN; 300];
        un_row(Un::Sqrt, &src, &mut out, Some(&mask));
        for (t, &got) in out.iter().enumerate() {
            // Position t holds sqrt(t + 1) where t mod 3 is 0 or 2, and 0 where it is 1.
            let want = if t % 3 == 1 { 0.0 } else { (t as f64 + 1.0).sqrt() };
            assert_eq!(got, want, "position {t}");
        }
    }

    /// The AVX2 build of the passes must give the portable build's results bit for bit
    /// (same operations, same summation order; only the vector width differs).
    #[test]
    fn wide_kernels_equal_portable_kernels() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/glcm.radx");
        let text = std::fs::read_to_string(path).expect("features/glcm.radx");
        let file = crate::compile("glcm.radx", &text, &crate::Registry::standard()).expect("compiles");
        let fam = file.family("glcm").expect("glcm");
        for ng in [1usize, 3, 17, 64] {
            // Counts with zeros on a fixed pattern, so the `p > 0` filters matter.
            let counts: Vec<f64> =
                (0..ng * ng).map(|k| ((k * 7919) % 13) as f64 * f64::from(u8::from(k % 5 != 2))).collect();
            let data = SourceData::glcm_from_counts(ng, &counts);
            let run = |kernels: Kernels| {
                let mut st = State { kernels, ..State::default() };
                fam.evaluate_with(&mut st, &data, &crate::NoBuiltins).expect("evaluates")
            };
            let portable = run(Kernels::Portable);
            for kernels in [Kernels::Widest, Kernels::Avx2] {
                for (w, p) in run(kernels).iter().zip(&portable) {
                    assert!(
                        w.to_bits() == p.to_bits() || (w.is_nan() && p.is_nan()),
                        "{kernels:?} ng {ng}: {w} vs {p}"
                    );
                }
            }
        }
    }

    /// Passes over two loops with a short inner loop run collapsed (several outer iterations
    /// per row): the same bits as a row at a time, for the GLCM (square) and the GLRLM and
    /// GLSZM (as many columns as run lengths or zone sizes occur), with and without zeros.
    #[test]
    fn collapsed_passes_equal_rows_one_at_a_time() {
        let family = |file: &str, name: &str| {
            let path = format!("{}/../../features/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("feature file");
            crate::compile(file, &text, &crate::Registry::standard()).expect("compiles").family(name).unwrap().clone()
        };
        let counts = |rows: usize, cols: usize| -> Vec<f64> {
            (0..rows * cols).map(|k| ((k * 7919) % 13) as f64 * f64::from(u8::from(k % 5 != 2))).collect()
        };
        let same = |fam: &CompiledFamily, data: &SourceData, what: &str| {
            let run = |row_at_a_time: bool| {
                let mut st = State { row_at_a_time, ..State::default() };
                fam.evaluate_with(&mut st, data, &crate::NoBuiltins).expect("evaluates")
            };
            for (c, r) in run(false).iter().zip(&run(true)) {
                assert!(c.to_bits() == r.to_bits() || (c.is_nan() && r.is_nan()), "{what}: {c} vs {r}");
            }
        };
        let glcm = family("glcm.radx", "glcm");
        // What the GLCM features leave out: counts, a filter that is a constant, a scatter
        // whose slots fall outside its vector, a mean and a maximum under a filter.
        let text = "family x over cm {\n  let q[k in 0..Ng / 2] = sum(i, j where i + j == k, p[i,j] * i)\n  \
                    feature a \"A\" = count(i, j where p[i,j] > 2) + sum(i, j where Ng > 0, p[i,j])\n  \
                    feature b \"B\" = sum(i, j where Ng > 1000, p[i,j]) + sum(k, q[k] * k)\n  \
                    feature c \"C\" = mean(i, j where p[i,j] > 1, p[i,j] / i) + max(i, j where j > i, p[i,j] * j)\n}\n";
        let extra = crate::compile("x.radx", text, &crate::Registry::standard()).expect("compiles");
        let extra = extra.family("x").unwrap();
        for ng in [1usize, 3, 17, 64, 129] {
            let data = SourceData::glcm_from_counts(ng, &counts(ng, ng));
            same(&glcm, &data, &format!("glcm {ng}"));
            same(extra, &data, &format!("count, mean, max, out-of-range scatter {ng}"));
        }
        for (file, name, array, axis) in [("glrlm.radx", "glrlm", "r", "run"), ("glszm.radx", "glszm", "s", "size")] {
            let fam = family(file, name);
            for (ng, cols) in [(1usize, 5usize), (6, 1), (7, 40), (40, 7), (3, 300)] {
                let data = counts(ng, cols);
                let total: f64 = data.iter().sum();
                let source = SourceData::new()
                    .with_axis("level", (1..=ng).map(|l| l as f64).collect())
                    .with_axis(axis, (1..=cols).map(|c| (2 * c) as f64).collect())
                    .with_array(array, vec![ng, cols], data)
                    .with_scalar("Ng", ng as f64)
                    .with_scalar("Nv", 2.0 * total)
                    .with_scalar("Ns", total);
                same(&fam, &source, &format!("{name} {ng}×{cols}"));
            }
        }
    }

    #[test]
    fn keep_or_zero_drops_nan_and_keeps_signed_values() {
        assert_eq!(keep_or_zero(f64::NAN, false).to_bits(), 0.0f64.to_bits());
        assert_eq!(keep_or_zero(-2.5, true), -2.5);
        assert!(keep_or_zero(f64::NAN, true).is_nan());
    }
}
