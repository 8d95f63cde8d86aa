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

mod accumulate;
mod bind;
mod budget;
mod cause;
mod kernels;
mod pass;
mod plan;
#[cfg(test)]
mod tests;

use bind::axis_values_into;
use bind::call_builtin;
pub(crate) use bind::{Bound, BoundBuffers, SortedCache, SourceUse, axis_values_of, find_p, run_builtin};
pub use budget::{DEFAULT_EVAL_BUDGET, EvalBudget};
pub use cause::NonFinite;
use plan::Planner;

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
    /// Position among the family's passes (indexes [`State::kept`]).
    id: usize,
    loops: Vec<VarId>,
    /// Scalar nodes evaluated at loop depth `d` (for every `d` but the innermost).
    per_depth: Vec<Vec<NodeId>>,
    rows: Vec<RowInstr>,
    /// Per row instruction: its value depends on the innermost variable alone (`level[j]`,
    /// `py[j]`, …), so the row is the same for every outer iteration and is computed once.
    row_invariant: Vec<bool>,
    /// Per row instruction: its value depends only on the loops' index values, constants and
    /// the source's scalars (`abs(i - j)`, `1 + (i - j)^2 / Ng^2`), so a pass run in one
    /// block can keep it from one evaluation to the next (see [`KeptRows`]).
    row_keepable: Vec<bool>,
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
    source_use: SourceUse,
    scratch: ScratchPool,
    /// The budget [`Self::evaluate_values`] gives each evaluation (the compilation's).
    eval_budget: u64,
}

fn u(op: ReduceOp) -> AccOp {
    AccOp::Reduce(op)
}

impl CompiledFamily {
    /// Family name.
    pub fn name(&self) -> &str {
        &self.checked.name
    }

    /// Where the family's name is written in its file.
    pub fn name_span(&self) -> crate::ast::Span {
        self.checked.name_span
    }

    /// The other families' features the family reads (`glcm.contrast`), in the order
    /// [`Self::evaluate_values_with_refs`] takes their values.
    pub fn references(&self) -> &[crate::check::Reference] {
        &self.checked.references
    }

    /// Where `override` is written before the family, if it is.
    pub fn overrides(&self) -> Option<crate::ast::Span> {
        self.checked.overrides
    }

    /// The aggregations named after `for`, with where; empty when the family names none
    /// (it runs for every aggregation of its source).
    pub fn aggregations(&self) -> &[(String, crate::ast::Span)] {
        &self.checked.aggregations
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

    /// A human-readable summary of the plan: per stage, each pass's loop variables (axis
    /// name and the variable's slot, `range` for a vector's own index) and what it computes
    /// (printed by `radx features explain`, and read by tests of the lowering).
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
                    "  pass over [{}]: {} row operations; accumulates {} scalars, {} vectors, {} scattered vectors\n",
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

    /// The family restricted to the features `keep` accepts, planned again so that work
    /// only the dropped features needed (their passes, builtins, vectors) is not done:
    /// `None` when no feature is kept. Every kept feature's value is the same as in the whole
    /// family: each is computed from its own nodes, in the same order. `registry` must be the
    /// one the family was compiled against.
    pub fn retaining(&self, registry: &Registry, keep: impl Fn(&FeatureInfo) -> bool) -> Option<Self> {
        let kept: Vec<_> = self.checked.features.iter().filter(|(f, _)| keep(f)).cloned().collect();
        if kept.is_empty() {
            return None;
        }
        if kept.len() == self.checked.features.len() {
            return Some(self.clone());
        }
        Some(Self::plan(CheckedFamily { features: kept, ..self.checked.clone() }, registry))
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
    /// Each call has a fresh budget, the one the family was compiled with
    /// ([`crate::Limits`]).
    pub fn evaluate_values(&self, data: &SourceData, builtins: &dyn Builtins) -> Result<Vec<f64>, EvalError> {
        self.evaluate_values_within(data, builtins, &mut EvalBudget::new(self.eval_budget))
    }

    /// The budget of [`Self::evaluate_values`]'s evaluations.
    pub fn eval_budget(&self) -> u64 {
        self.eval_budget
    }

    pub(crate) fn with_budget(mut self, eval_budget: u64) -> Self {
        self.eval_budget = eval_budget;
        self
    }

    /// [`Self::evaluate_values`] spending from `budget`: a host passes one budget to every
    /// evaluation of a family on one case, and an evaluation that would overrun it stops
    /// before the loop that would, with [`EvalError::Budget`] naming the feature.
    pub fn evaluate_values_within(
        &self,
        data: &SourceData,
        builtins: &dyn Builtins,
        budget: &mut EvalBudget,
    ) -> Result<Vec<f64>, EvalError> {
        self.evaluate_values_with_refs(data, builtins, budget, &[])
    }

    /// [`Self::evaluate_values_within`] for a family that reads other families' features:
    /// `refs` holds their values, in the order of [`Self::references`]. Fewer values than
    /// references is [`EvalError::MissingReferences`].
    pub fn evaluate_values_with_refs(
        &self,
        data: &SourceData,
        builtins: &dyn Builtins,
        budget: &mut EvalBudget,
        refs: &[f64],
    ) -> Result<Vec<f64>, EvalError> {
        self.evaluator().values_with_refs(data, builtins, budget, refs).map(<[f64]>::to_vec)
    }

    /// An [`Evaluator`] of the family, for evaluating it on several matrices in a row.
    pub fn evaluator(&self) -> Evaluator<'_> {
        Evaluator { family: self, state: self.scratch.take() }
    }

    /// Evaluates the family into `st.values`, in the order of [`Self::features`].
    fn evaluate_with(
        &self,
        st: &mut State,
        data: &SourceData,
        builtins: &dyn Builtins,
        budget: &mut EvalBudget,
        refs: &[f64],
    ) -> Result<(), EvalError> {
        let needed = self.checked.references.len();
        if refs.len() < needed {
            return Err(EvalError::MissingReferences { needed, given: refs.len() });
        }
        let buffers = std::mem::take(&mut st.bound_buffers);
        let bound = Bound::with_use_in(&self.checked.schema, data, &self.source_use, buffers)?.with_refs(refs);
        let result = self.run_stages(st, &bound, builtins, budget);
        st.bound_buffers = bound.into_buffers();
        result?;
        st.values.clear();
        st.values.extend(self.checked.features.iter().map(|(_, n)| st.scal[*n as usize]));
        Ok(())
    }

    /// The stages of one evaluation on `bound`.
    fn run_stages(
        &self,
        st: &mut State,
        bound: &Bound<'_>,
        builtins: &dyn Builtins,
        budget: &mut EvalBudget,
    ) -> Result<(), EvalError> {
        let ir = &self.checked.ir;
        st.reset(ir);
        for stage in &self.stages {
            for &n in &stage.scalar_nodes {
                st.scal[n as usize] = st.scalar_node(ir, bound, n);
            }
            for &s in &stage.builtins {
                let imp = self.builtin_impls.iter().find(|(id, _)| *id == s).map_or(BuiltinImpl::Host, |(_, i)| *i);
                st.scalars[s as usize] = call_builtin(ir, bound, st, s, imp, builtins)?;
            }
            for pass in &stage.passes {
                st.charge_pass(ir, bound, pass, budget).map_err(|o| self.overrun_error(o, budget))?;
                st.run_pass(ir, bound, pass);
            }
        }
        Ok(())
    }
}

/// Evaluations of one family one after another in the same buffers, taken from the
/// family's pool once and given back when the evaluator is dropped, each giving its values
/// as a slice: a host evaluating a family on many small matrices (every direction of a
/// feature map's window) then allocates nothing and takes no lock per matrix.
pub struct Evaluator<'f> {
    family: &'f CompiledFamily,
    state: State,
}

impl Evaluator<'_> {
    /// [`CompiledFamily::evaluate_values_with_refs`], the values in the evaluator's buffer
    /// (valid until its next evaluation).
    pub fn values_with_refs(
        &mut self,
        data: &SourceData,
        builtins: &dyn Builtins,
        budget: &mut EvalBudget,
        refs: &[f64],
    ) -> Result<&[f64], EvalError> {
        self.family.evaluate_with(&mut self.state, data, builtins, budget, refs)?;
        Ok(&self.state.values)
    }
}

impl Drop for Evaluator<'_> {
    fn drop(&mut self) {
        self.family.scratch.give(std::mem::take(&mut self.state));
    }
}

impl std::fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator").field("family", &self.family.name()).finish_non_exhaustive()
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
    /// Per pass (by [`Pass::id`]): its row arena as the last evaluation left it.
    kept: Vec<KeptRows>,
    /// Never reuse kept rows (tests compare both ways).
    no_kept_rows: bool,
    /// The source binding's vectors between evaluations.
    bound_buffers: BoundBuffers,
    /// The features' values of the last evaluation.
    values: Vec<f64>,
}

/// The rows of a pass run collapsed in one block, kept between evaluations: a host
/// evaluates one family on many matrices with the same grey levels (every direction and
/// slice of a case), and rows that depend only on the levels (`abs(i - j)`, `i * j`, the
/// denominators of the inverse differences) are then the same each time. They are reused
/// only when `key` — the loops' index values and the source's scalars, bit for bit — is
/// that of the evaluation that computed them, so a reused row holds exactly the value it
/// would be computed to.
#[derive(Debug, Default)]
struct KeptRows {
    key: Vec<u64>,
    rows: Vec<f64>,
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
