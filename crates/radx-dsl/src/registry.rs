//! The runtime contract as data: which *sources* a family may be written over (their
//! parameters, axes, arrays and scalars) and which builtin functions exist. The checker
//! resolves every name against a [`Registry`]; plugins extend it by registering more
//! schemas and builtins at run time.
//!
//! The language declares no source of its own: the host that builds the sources registers
//! their schemas (radx's engine: `radx_engine::sources`, the IBSI's in `ibsi_schemas.rs`).
//! [`Registry::with_language_builtins`] holds the builtins the language implements.

/// The type of a source parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Int,
    Float,
    Bool,
    Str,
}

impl ParamKind {
    pub fn describe(self) -> &'static str {
        match self {
            ParamKind::Int => "an integer",
            ParamKind::Float => "a number",
            ParamKind::Bool => "`true` or `false`",
            ParamKind::Str => "a quoted string",
        }
    }
}

/// A parameter value (resolved from the file, or its default).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Str(v) => write!(f, "{v:?}"),
        }
    }
}

/// The values a parameter accepts beyond its type, checked when a file is compiled (so
/// `radx check` refuses `cm(distance = -1)` rather than the extraction failing later).
#[derive(Debug, Clone, PartialEq)]
pub enum Allowed {
    /// Every value of the parameter's type.
    Any,
    /// Numbers from `min` to `max`, both included (`None`: unbounded on that side).
    Range { min: Option<f64>, max: Option<f64> },
    /// Exactly these values.
    OneOf(Vec<ParamValue>),
}

impl Allowed {
    /// Numbers `min` or more.
    pub fn at_least(min: f64) -> Self {
        Allowed::Range { min: Some(min), max: None }
    }

    /// Whether `value` is allowed.
    pub fn admits(&self, value: &ParamValue) -> bool {
        let number = match value {
            ParamValue::Int(v) => Some(*v as f64),
            ParamValue::Float(v) => Some(*v),
            _ => None,
        };
        match self {
            Allowed::Any => true,
            Allowed::Range { min, max } => {
                number.is_some_and(|x| !x.is_nan() && min.is_none_or(|m| x >= m) && max.is_none_or(|m| x <= m))
            }
            Allowed::OneOf(values) => values.contains(value),
        }
    }
}

impl std::fmt::Display for Allowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Allowed::Any => f.write_str("any value"),
            Allowed::Range { min: Some(lo), max: Some(hi) } => write!(f, "from {lo} to {hi}"),
            Allowed::Range { min: Some(lo), max: None } => write!(f, "{lo} or more"),
            Allowed::Range { min: None, max: Some(hi) } => write!(f, "{hi} or less"),
            Allowed::Range { min: None, max: None } => f.write_str("any number"),
            Allowed::OneOf(values) => {
                let list: Vec<String> = values.iter().map(ToString::to_string).collect();
                match list.as_slice() {
                    [one] => write!(f, "only {one}"),
                    _ => write!(f, "one of {}", list.join(", ")),
                }
            }
        }
    }
}

/// A parameter a source accepts, e.g. `distance` of `cm`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
    pub default: ParamValue,
    pub doc: String,
    /// The values it accepts ([`SourceSchema::allow`]).
    pub allowed: Allowed,
}

/// A named axis. Its *values* (e.g. the grey levels, or the run lengths that occur) come
/// with the [`crate::SourceData`]; index variables take these values in expressions.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisSpec {
    pub name: String,
    pub doc: String,
}

/// A dense array over some of the source's axes (row-major, last axis fastest).
#[derive(Debug, Clone, PartialEq)]
pub struct ArraySpec {
    pub name: String,
    /// Indices into [`SourceSchema::axes`].
    pub axes: Vec<usize>,
    pub doc: String,
}

/// A named scalar the source provides.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarSpec {
    pub name: String,
    pub doc: String,
}

/// Everything the checker needs to know about a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSchema {
    pub name: String,
    pub doc: String,
    pub params: Vec<ParamSpec>,
    pub axes: Vec<AxisSpec>,
    pub arrays: Vec<ArraySpec>,
    pub scalars: Vec<ScalarSpec>,
}

impl SourceSchema {
    pub fn new(name: &str, doc: &str) -> Self {
        SourceSchema {
            name: name.into(),
            doc: doc.into(),
            params: Vec::new(),
            axes: Vec::new(),
            arrays: Vec::new(),
            scalars: Vec::new(),
        }
    }
    pub fn param(mut self, name: &str, kind: ParamKind, default: ParamValue, doc: &str) -> Self {
        self.params.push(ParamSpec { name: name.into(), kind, default, doc: doc.into(), allowed: Allowed::Any });
        self
    }
    /// Restricts the values of the parameter declared last (by [`Self::param`]).
    pub fn allow(mut self, allowed: Allowed) -> Self {
        let last = self.params.last_mut().expect("`allow` follows the `param` it restricts");
        last.allowed = allowed;
        self
    }
    pub fn axis(mut self, name: &str, doc: &str) -> Self {
        self.axes.push(AxisSpec { name: name.into(), doc: doc.into() });
        self
    }
    /// Adds an array over the named axes (which must already be declared).
    pub fn array(mut self, name: &str, axes: &[&str], doc: &str) -> Self {
        let axes = axes
            .iter()
            .map(|a| self.axes.iter().position(|x| x.name == *a).unwrap_or_else(|| panic!("undeclared axis {a}")))
            .collect();
        self.arrays.push(ArraySpec { name: name.into(), axes, doc: doc.into() });
        self
    }
    pub fn scalar(mut self, name: &str, doc: &str) -> Self {
        self.scalars.push(ScalarSpec { name: name.into(), doc: doc.into() });
        self
    }
}

/// What a builtin argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Any scalar expression.
    Scalar,
    /// The name of a whole rank-1 array or vector `let`, e.g. `x` in `percentile(x, 10)`.
    Array,
}

/// Who computes a builtin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinImpl {
    /// The host, through [`crate::Builtins`] at evaluation time (morphology, IVH, …).
    Host,
    /// Percentile with linear interpolation between order statistics (numpy's default).
    Percentile,
    /// Median (the 50th percentile).
    Median,
    /// Maximal correlation coefficient of the GLCM `p`: √(second largest eigenvalue of Q).
    GlcmMcc,
}

/// A builtin function: name, arguments, doc, and (optionally) the source it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltinSpec {
    pub name: String,
    pub args: Vec<ArgKind>,
    pub doc: String,
    /// `Some(source)` if it can only be used in families over that source.
    pub source: Option<String>,
    pub implementation: BuiltinImpl,
}

/// Sources and builtins known to the checker.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    sources: Vec<SourceSchema>,
    builtins: Vec<BuiltinSpec>,
}

impl Registry {
    /// An empty registry (for plugin-only setups and tests).
    pub fn empty() -> Self {
        Registry::default()
    }
    /// Adds or replaces a source schema.
    pub fn register_source(&mut self, schema: SourceSchema) {
        self.sources.retain(|s| s.name != schema.name);
        self.sources.push(schema);
    }
    /// Adds or replaces a builtin.
    pub fn register_builtin(&mut self, spec: BuiltinSpec) {
        self.builtins.retain(|b| b.name != spec.name);
        self.builtins.push(spec);
    }
    pub fn source(&self, name: &str) -> Option<&SourceSchema> {
        self.sources.iter().find(|s| s.name == name)
    }
    pub fn builtin(&self, name: &str) -> Option<&BuiltinSpec> {
        self.builtins.iter().find(|b| b.name == name)
    }
    pub fn sources(&self) -> &[SourceSchema] {
        &self.sources
    }
    pub fn builtins(&self) -> &[BuiltinSpec] {
        &self.builtins
    }

    /// A registry with the builtins the language itself implements (`percentile`, `median`)
    /// and no source: the host registers its sources' schemas and builtins on top (radx's
    /// engine: the IBSI's, PyRadiomics' and the plugins').
    pub fn with_language_builtins() -> Self {
        let mut r = Registry::empty();
        r.register_builtin(BuiltinSpec {
            name: "percentile".into(),
            args: vec![ArgKind::Array, ArgKind::Scalar],
            doc: "q-th percentile (0..100) of an array, linear interpolation".into(),
            source: None,
            implementation: BuiltinImpl::Percentile,
        });
        r.register_builtin(BuiltinSpec {
            name: "median".into(),
            args: vec![ArgKind::Array],
            doc: "median of an array".into(),
            source: None,
            implementation: BuiltinImpl::Median,
        });
        r
    }
}
