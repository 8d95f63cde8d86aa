//! What the host hands the evaluator: a [`SourceData`] (axis values, dense row-major
//! arrays, scalars — by name, as the source's schema declares them) and a [`Builtins`]
//! implementation for the functions the host computes (morphology, IVH, local intensity).

use std::fmt;

/// Values of one source instance (one matrix, one ROI, …).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceData {
    pub axes: Vec<(SourceName, Vec<f64>)>,
    /// Name, shape (one length per axis), row-major data.
    pub arrays: Vec<(SourceName, Vec<usize>, Vec<f64>)>,
    pub scalars: Vec<(SourceName, f64)>,
}

/// The name of a source's axis, array or scalar: borrowed when it is written in the program
/// (`"level"`, as almost all are), so that building a source allocates no names: a feature
/// map builds tens of sources per window, and their names were one in seven of its allocations.
pub type SourceName = std::borrow::Cow<'static, str>;

impl SourceData {
    pub fn new() -> Self {
        SourceData::default()
    }
    /// Sets the values an axis's positions take (e.g. grey levels 1..Ng, or run lengths).
    pub fn with_axis(mut self, name: impl Into<SourceName>, values: Vec<f64>) -> Self {
        let name = name.into();
        self.axes.retain(|(n, _)| *n != name);
        self.axes.push((name, values));
        self
    }
    pub fn with_array(mut self, name: impl Into<SourceName>, shape: Vec<usize>, data: Vec<f64>) -> Self {
        let name = name.into();
        self.arrays.retain(|(n, _, _)| *n != name);
        self.arrays.push((name, shape, data));
        self
    }
    pub fn with_scalar(mut self, name: impl Into<SourceName>, value: f64) -> Self {
        let name = name.into();
        self.scalars.retain(|(n, _)| *n != name);
        self.scalars.push((name, value));
        self
    }
    pub fn axis(&self, name: &str) -> Option<&[f64]> {
        self.axes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
    pub fn array(&self, name: &str) -> Option<(&[usize], &[f64])> {
        self.arrays.iter().find(|(n, _, _)| n == name).map(|(_, s, d)| (s.as_slice(), d.as_slice()))
    }
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.scalars.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// A `cm` source from a square matrix of co-occurrence *counts* (row-major, levels 1..Ng):
    /// normalises to probabilities and sets `Ng`.
    pub fn glcm_from_counts(ng: usize, counts: &[f64]) -> Self {
        let total: f64 = counts.iter().sum();
        let p = counts.iter().map(|c| c / total).collect();
        SourceData::new()
            .with_axis("level", (1..=ng).map(|l| l as f64).collect())
            .with_array("p", vec![ng, ng], p)
            .with_scalar("Ng", ng as f64)
    }
}

/// An argument passed to a host builtin.
#[derive(Debug, Clone, Copy)]
pub enum BuiltinValue<'a> {
    Scalar(f64),
    Array(&'a [f64]),
}

/// Host-side implementations of builtins declared with [`crate::registry::BuiltinImpl::Host`].
pub trait Builtins {
    /// Computes builtin `name`. A builtin the data leave undefined is NaN, not an error: an
    /// error stops the family, so it is kept for a name the host does not implement.
    fn call(&self, name: &str, args: &[BuiltinValue<'_>]) -> Result<f64, BuiltinError>;
}

/// Why a host gives no value for a builtin: the registry declares a builtin the host lacks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuiltinError {
    /// radx's feature host implements no builtin of this name.
    #[error("radx provides no builtin `{name}`")]
    Unknown { name: String },
    /// The host implements no builtins at all, as [`NoBuiltins`].
    #[error("the host does not provide `{name}`")]
    NoHost { name: String },
}

/// A host that provides no builtins (enough for texture families).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBuiltins;

impl Builtins for NoBuiltins {
    fn call(&self, name: &str, _args: &[BuiltinValue<'_>]) -> Result<f64, BuiltinError> {
        Err(BuiltinError::NoHost { name: name.to_string() })
    }
}

/// Errors at evaluation time: the data does not match the schema, or a builtin failed.
/// (Arithmetic never errors: division by zero, log of 0, … give ±inf / NaN per IEEE 754.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("the family reads {needed} other features' values but was given {given}")]
    MissingReferences { needed: usize, given: usize },
    #[error("source data has no axis `{name}`")]
    MissingAxis { name: String },
    #[error("source data has no array `{name}`")]
    MissingArray { name: String },
    #[error("source data has no scalar `{name}`")]
    MissingScalar { name: String },
    #[error("array `{name}` has shape {found:?} but its axes have lengths {expected:?}")]
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("builtin `{name}` failed: {source}")]
    Builtin { name: String, source: BuiltinError },
    /// A loop or range would exceed the family's evaluation budget ([`crate::EvalBudget`]).
    #[error(
        "feature `{feature}` (line {line}) needs {} more operations but only {left} of the evaluation budget of \
         {budget} are left for this family; raise the budget (`--eval-budget`, `Settings::eval_budget`) or bound its loops",
        crate::diag::count(*.needed)
    )]
    Budget { feature: String, line: usize, needed: f64, left: u64, budget: u64 },
    /// A range whose bounds this evaluation computed is not finite (`0..Ng / 0` with `Ng = 0`).
    #[error(
        "feature `{feature}` (line {line}): the range {lo}..{hi} has a bound that is not finite; guard it with `if`"
    )]
    Range { feature: String, line: usize, lo: f64, hi: f64 },
}

/// One computed feature.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureValue {
    pub name: String,
    pub tag: String,
    pub value: f64,
}

impl fmt::Display for FeatureValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] = {}", self.name, self.tag, self.value)
    }
}
