//! Binding source data to a family's schema, and the builtin calls.

use super::*;

/// Source data bound to the schema's numbering.
pub(crate) struct Bound<'d> {
    pub axis_values: Vec<&'d [f64]>,
    pub arrays: Vec<(&'d [f64], Strides)>, // data, strides
    pub scalars: Vec<f64>,
    /// The values of the family's references (`glcm.contrast`), in [`Node::Reference`] order.
    pub refs: &'d [f64],
}

/// An array's strides: inline up to rank 3 (every source's arrays so far), so binding a
/// source allocates none.
#[derive(Debug, Clone)]
pub(crate) enum Strides {
    Inline([usize; 3], u8),
    Heap(Vec<usize>),
}

impl Strides {
    /// Row-major strides of an array whose axes have lengths `lens`.
    pub(super) fn row_major(lens: impl ExactSizeIterator<Item = usize> + DoubleEndedIterator) -> Strides {
        let rank = lens.len();
        let mut strides = match u8::try_from(rank) {
            Ok(r) if rank <= 3 => Strides::Inline([1; 3], r),
            _ => Strides::Heap(vec![1; rank]),
        };
        let s = strides.as_mut_slice();
        // Innermost first: each stride is the product of the lengths after its axis.
        let mut product = 1;
        for (d, len) in lens.enumerate().rev() {
            s[d] = product;
            product *= len;
        }
        strides
    }

    fn zeros(rank: usize) -> Strides {
        match u8::try_from(rank) {
            Ok(r) if rank <= 3 => Strides::Inline([0; 3], r),
            _ => Strides::Heap(vec![0; rank]),
        }
    }

    fn as_mut_slice(&mut self) -> &mut [usize] {
        match self {
            Strides::Inline(s, r) => &mut s[..usize::from(*r)],
            Strides::Heap(v) => v,
        }
    }
}

impl std::ops::Deref for Strides {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        match self {
            Strides::Inline(s, r) => &s[..usize::from(*r)],
            Strides::Heap(v) => v,
        }
    }
}

/// The vectors of a [`Bound`], kept empty between evaluations (in the evaluator's state)
/// so that binding a source allocates nothing: a feature map binds one per matrix, tens of
/// thousands of times.
#[derive(Default)]
pub(crate) struct BoundBuffers {
    axis_values: Vec<&'static [f64]>,
    arrays: Vec<(&'static [f64], Strides)>,
    scalars: Vec<f64>,
}

/// `v` emptied and retyped to a type of the same layout (here: the same type under another
/// lifetime). Collecting a `vec::IntoIter` mapped to a type of the same size and alignment
/// reuses its buffer (std's in-place collection), so this moves no allocation; were that
/// ever not so, it would only allocate.
fn recycled<A, B>(mut v: Vec<A>) -> Vec<B> {
    v.clear();
    v.into_iter().map(|_| unreachable!("the vector is empty")).collect()
}

/// Which parts of a source a family reads: fixed by its IR, so worked out once when the
/// family is planned, not at every evaluation.
#[derive(Debug, Clone)]
pub(crate) struct SourceUse {
    arrays: Vec<bool>,
    scalars: Vec<bool>,
    axes: Vec<bool>,
}

impl SourceUse {
    pub fn of(schema: &SourceSchema, ir: &Ir) -> SourceUse {
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
        SourceUse { arrays: used_arrays, scalars: used_scalars, axes: used_axes }
    }
}

impl<'d> Bound<'d> {
    pub fn new(schema: &SourceSchema, data: &'d SourceData, ir: &Ir) -> Result<Self, EvalError> {
        Bound::with_use(schema, data, &SourceUse::of(schema, ir))
    }

    /// The same binding reading `refs` for the family's references.
    pub fn with_refs(self, refs: &'d [f64]) -> Self {
        Bound { refs, ..self }
    }

    /// Only what the family uses (`used`) must be present.
    pub fn with_use(schema: &SourceSchema, data: &'d SourceData, used: &SourceUse) -> Result<Self, EvalError> {
        Bound::with_use_in(schema, data, used, BoundBuffers::default())
    }

    /// [`Self::with_use`] in `buffers` (see [`Self::into_buffers`]).
    pub fn with_use_in(
        schema: &SourceSchema,
        data: &'d SourceData,
        used: &SourceUse,
        buffers: BoundBuffers,
    ) -> Result<Self, EvalError> {
        let (used_arrays, used_scalars, used_axes) = (&used.arrays, &used.scalars, &used.axes);
        let mut axis_values: Vec<&'d [f64]> = recycled(buffers.axis_values);
        for (k, a) in schema.axes.iter().enumerate() {
            match data.axis(&a.name) {
                Some(v) => axis_values.push(v),
                None if !used_axes[k] => axis_values.push(&[][..]),
                None => return Err(EvalError::MissingAxis { name: a.name.clone() }),
            }
        }
        let mut arrays: Vec<(&'d [f64], Strides)> = recycled(buffers.arrays);
        for (k, a) in schema.arrays.iter().enumerate() {
            let expected = || a.axes.iter().map(|&ax| axis_values[ax].len());
            match data.array(&a.name) {
                Some((shape, values)) => {
                    let n: usize = expected().product();
                    if !shape.iter().copied().eq(expected()) || values.len() != n {
                        if used_arrays[k] {
                            let expected = expected().collect();
                            return Err(EvalError::Shape { name: a.name.clone(), expected, found: shape.to_vec() });
                        }
                        arrays.push((&[][..], Strides::zeros(a.axes.len())));
                        continue;
                    }
                    arrays.push((values, Strides::row_major(expected())));
                }
                None if !used_arrays[k] => arrays.push((&[][..], Strides::zeros(a.axes.len()))),
                None => return Err(EvalError::MissingArray { name: a.name.clone() }),
            }
        }
        let mut scalars = buffers.scalars;
        scalars.clear();
        for (k, s) in schema.scalars.iter().enumerate() {
            match data.scalar(&s.name) {
                Some(v) => scalars.push(v),
                None if !used_scalars[k] => scalars.push(f64::NAN),
                None => return Err(EvalError::MissingScalar { name: s.name.clone() }),
            }
        }
        Ok(Bound { axis_values, arrays, scalars, refs: &[] })
    }

    /// The binding's vectors, emptied, for the next [`Self::with_use_in`].
    pub fn into_buffers(self) -> BoundBuffers {
        BoundBuffers { axis_values: recycled(self.axis_values), arrays: recycled(self.arrays), scalars: self.scalars }
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
            // Ranges are integer steps from `lo`. Not capped here: the evaluator charges a
            // range's length to its budget before asking for its values (`charge_pass`).
            let n = ((hi - lo).floor() as usize).saturating_add(1);
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
            builtins.call(builtin, &values).map_err(|source| EvalError::Builtin { name: builtin.clone(), source })?
        }
    })
}

pub(super) fn call_builtin(
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
