//! ABI 2.2 on the host's side: a feature's typed parameters (read and validated at load),
//! the user's values for them (checked against kind and range before any image is read),
//! the row names that carry them, and the call that passes them and takes back a vector.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::mem::MaybeUninit;
use std::path::Path;

use radx_plugin::{
    RADX_OK, RADX_PARAM_BOOL, RADX_PARAM_FLOAT, RADX_PARAM_INT, RadxComputeValuesFn, RadxFeatureDesc, RadxParamDesc,
    RadxValuesOut, v2_0,
};

use crate::c_read::{appended_field, descriptor_text};
use crate::{PluginCallError, PluginError, PluginFeature, PluginInput};

/// The kind of a feature parameter, as the plugin declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number.
    Int,
    /// A real number.
    Float,
    /// A flag.
    Bool,
}

impl ParamKind {
    /// The word settings and messages use: `int`, `float`, `bool`.
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Int => "int",
            ParamKind::Float => "float",
            ParamKind::Bool => "bool",
        }
    }
}

/// One declared parameter of a plugin feature.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Its name (an identifier).
    pub name: String,
    /// Its kind.
    pub kind: ParamKind,
    /// The value when the user gives none (0/1 for a flag).
    pub default: f64,
    /// Smallest allowed value (inclusive; `-inf` for none).
    pub min: f64,
    /// Largest allowed value (inclusive; `+inf` for none).
    pub max: f64,
}

impl ParamSpec {
    /// The allowed values as messages show them, e.g. `0 to 100`, `at least 1`, `true or false`.
    pub fn range(&self) -> String {
        let show = |v: f64| self.show(v);
        match (self.kind, self.min.is_finite(), self.max.is_finite()) {
            (ParamKind::Bool, ..) => "true or false".into(),
            (_, true, true) => format!("{} to {}", show(self.min), show(self.max)),
            (_, true, false) => format!("at least {}", show(self.min)),
            (_, false, true) => format!("at most {}", show(self.max)),
            (kind, false, false) => format!("any {}", if kind == ParamKind::Int { "integer" } else { "number" }),
        }
    }

    /// A value of this parameter as row names show it: `90`, `2.5`, `true`.
    pub fn show(&self, value: f64) -> String {
        match self.kind {
            ParamKind::Bool => (value != 0.0).to_string(),
            ParamKind::Int => format!("{}", value as i64),
            ParamKind::Float => format!("{value}"),
        }
    }
}

/// What an ABI 2.2 feature entry appends, before validation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawFeatureExt {
    params: *const RadxParamDesc,
    n_params: usize,
    param_size: usize,
    profile: u32,
    compute_values: Option<RadxComputeValuesFn>,
}

/// The ABI 2.2 fields of a feature entry when it has them (its `struct_size` and the table's
/// stride both cover them), else `None`: an older entry ends before them.
///
/// # Safety
/// `entry` must start a static entry of `stride` bytes, aligned for [`RadxFeatureDesc`].
pub(crate) unsafe fn appended_ext(entry: &v2_0::RadxFeatureDesc, stride: usize) -> Option<RawFeatureExt> {
    use std::mem::offset_of;
    let (at, size) = (std::ptr::from_ref(entry).cast::<u8>(), entry.struct_size);
    // `compute_values` ends the 2.2 fields: an entry that has it has them all.
    // SAFETY (each read): per the contract; an entry's first `struct_size` bytes are laid out
    // as this version's, and `appended_field` reads a field only inside them.
    let compute_values = unsafe { appended_field(at, size, stride, offset_of!(RadxFeatureDesc, compute_values)) }?;
    Some(RawFeatureExt {
        params: unsafe { appended_field(at, size, stride, offset_of!(RadxFeatureDesc, params)) }?,
        n_params: unsafe { appended_field(at, size, stride, offset_of!(RadxFeatureDesc, n_params)) }?,
        param_size: unsafe { appended_field(at, size, stride, offset_of!(RadxFeatureDesc, param_size)) }?,
        profile: unsafe { appended_field(at, size, stride, offset_of!(RadxFeatureDesc, profile)) }?,
        compute_values,
    })
}

/// A feature's parameters and result shape, validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct FeatureExt {
    pub(crate) params: Vec<ParamSpec>,
    pub(crate) profile: bool,
    pub(crate) compute_values: Option<RadxComputeValuesFn>,
}

/// Validate what a feature entry appends (`None`: an entry older than ABI 2.2).
pub(crate) fn read_ext(raw: Option<RawFeatureExt>, feature: &str, path: &Path) -> Result<FeatureExt, PluginError> {
    let Some(raw) = raw else { return Ok(FeatureExt::default()) };
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    if raw.profile != 0 && raw.compute_values.is_none() {
        return Err(malformed(format!("feature `{feature}` is a profile but has no compute_values function")));
    }
    if raw.n_params > 0 && raw.compute_values.is_none() {
        return Err(malformed(format!("feature `{feature}` declares parameters but has no compute_values function")));
    }
    // SAFETY: the table is static, `param_size` bytes apart (checked by `table`).
    let entries = unsafe { crate::c_read::table(raw.params, raw.n_params, raw.param_size, "parameters", path) }?;
    let mut params: Vec<ParamSpec> = Vec::with_capacity(entries.len());
    for (i, p) in entries.into_iter().enumerate() {
        // SAFETY: descriptor strings are static (ABI contract).
        let name = unsafe { descriptor_text(p.name, &format!("feature `{feature}`'s parameter #{i}"), path) }?;
        let spec = param_spec(p, name).map_err(|reason| malformed(format!("feature `{feature}`: {reason}")))?;
        if params.iter().any(|q| q.name == spec.name) {
            return Err(malformed(format!("feature `{feature}` declares the parameter `{}` twice", spec.name)));
        }
        params.push(spec);
    }
    Ok(FeatureExt { params, profile: raw.profile != 0, compute_values: raw.compute_values })
}

/// One parameter declaration, checked: an identifier, a known kind, a default within its range.
fn param_spec(p: &RadxParamDesc, name: String) -> Result<ParamSpec, String> {
    if !is_identifier(&name) {
        return Err(format!("parameter {name:?} is not a name settings can write (letters, digits, _)"));
    }
    let kind = match p.kind {
        RADX_PARAM_INT => ParamKind::Int,
        RADX_PARAM_FLOAT => ParamKind::Float,
        RADX_PARAM_BOOL => ParamKind::Bool,
        other => return Err(format!("parameter `{name}` has the unknown kind {other}")),
    };
    let (min, max) = if kind == ParamKind::Bool { (0.0, 1.0) } else { (p.min, p.max) };
    if min.is_nan() || max.is_nan() || min > max {
        return Err(format!("parameter `{name}` has the range [{min}, {max}]"));
    }
    let spec = ParamSpec { name, kind, default: p.default_value, min, max };
    if let Err(e) = spec.check(p.default_value) {
        return Err(format!("parameter `{}`'s default {} is {e}", spec.name, p.default_value));
    }
    Ok(spec)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why a value does not fit a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Misfit {
    Kind,
    Range,
}

impl std::fmt::Display for Misfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Misfit::Kind => "not of its kind",
            Misfit::Range => "out of its range",
        })
    }
}

impl ParamSpec {
    fn check(&self, v: f64) -> Result<(), Misfit> {
        let whole = v.is_finite() && v.fract() == 0.0;
        match self.kind {
            ParamKind::Bool if v != 0.0 && v != 1.0 => Err(Misfit::Kind),
            ParamKind::Int if !whole => Err(Misfit::Kind),
            ParamKind::Float if v.is_nan() => Err(Misfit::Kind),
            _ if v < self.min || v > self.max => Err(Misfit::Range),
            _ => Ok(()),
        }
    }

    /// The value of a settings entry for this parameter, checked.
    fn bind(&self, given: &serde_json::Value) -> Result<f64, Misfit> {
        let v = match (self.kind, given) {
            (ParamKind::Bool, serde_json::Value::Bool(b)) => f64::from(u8::from(*b)),
            (ParamKind::Int, serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => {
                n.as_f64().ok_or(Misfit::Kind)?
            }
            (ParamKind::Float, serde_json::Value::Number(n)) => n.as_f64().ok_or(Misfit::Kind)?,
            _ => return Err(Misfit::Kind),
        };
        self.check(v).map(|()| v)
    }
}

/// A user's parameter values refused (named in the settings' `[[plugin_feature]]` tables).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureArgError {
    /// The feature declares no such parameter.
    #[error("plugin feature `{feature}` has no parameter `{param}` ({known})")]
    Unknown {
        /// `plugin.feature`.
        feature: String,
        /// The name given.
        param: String,
        /// What it has, as a sentence part.
        known: String,
    },
    /// A value of another kind (a string for a number, 2.5 for an integer…).
    #[error("plugin feature `{feature}`: parameter `{param}` must be {kind} ({range}), not {given}")]
    WrongKind {
        /// `plugin.feature`.
        feature: String,
        /// The parameter.
        param: String,
        /// Its kind (`an integer`, `a number`, `true or false`).
        kind: &'static str,
        /// Its allowed values.
        range: String,
        /// What was given.
        given: serde_json::Value,
    },
    /// A value outside the declared range.
    #[error("plugin feature `{feature}`: parameter `{param}` = {given} is out of range: allowed {range}")]
    OutOfRange {
        /// `plugin.feature`.
        feature: String,
        /// The parameter.
        param: String,
        /// Its allowed values.
        range: String,
        /// What was given.
        given: serde_json::Value,
    },
}

/// One call of a plugin feature: its parameter values (declaration order) and the name its
/// rows carry.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureCall {
    /// `plugin` of the feature.
    pub plugin: String,
    /// The feature's own name.
    pub feature: String,
    /// Parameter values in declaration order.
    pub args: Vec<f64>,
    /// The rows' feature name: the feature's name, then `(p=90;n=3)` when it has parameters.
    pub row_name: String,
    /// Each value is a row `row_name[i]`.
    pub profile: bool,
}

impl PluginFeature {
    /// The call with `given` parameter values (the others at their defaults), checked
    /// against the declared kinds and ranges.
    pub fn bind(&self, given: &BTreeMap<String, serde_json::Value>) -> Result<FeatureCall, FeatureArgError> {
        let feature = self.qualified_name();
        if let Some(param) = given.keys().find(|k| !self.params.iter().any(|p| &p.name == *k)) {
            let known = if self.params.is_empty() {
                "it takes none".to_string()
            } else {
                let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                format!("it has {}", names.join(", "))
            };
            return Err(FeatureArgError::Unknown { feature, param: param.clone(), known });
        }
        let mut args = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let value = match given.get(&p.name) {
                None => p.default,
                Some(v) => p.bind(v).map_err(|misfit| {
                    let (param, range, given) = (p.name.clone(), p.range(), v.clone());
                    match misfit {
                        Misfit::Kind => {
                            let kind = match p.kind {
                                ParamKind::Int => "an integer",
                                ParamKind::Float => "a number",
                                ParamKind::Bool => "true or false",
                            };
                            FeatureArgError::WrongKind { feature: feature.clone(), param, kind, range, given }
                        }
                        Misfit::Range => FeatureArgError::OutOfRange { feature: feature.clone(), param, range, given },
                    }
                })?,
            };
            args.push(value);
        }
        Ok(self.call_with(args))
    }

    /// The call with every parameter at its default.
    pub fn default_call(&self) -> FeatureCall {
        self.call_with(self.params.iter().map(|p| p.default).collect())
    }

    fn call_with(&self, args: Vec<f64>) -> FeatureCall {
        let mut row_name = self.name.clone();
        if !self.params.is_empty() {
            row_name.push('(');
            for (i, (p, &v)) in self.params.iter().zip(&args).enumerate() {
                let sep = if i == 0 { "" } else { ";" };
                let _ = write!(row_name, "{sep}{}={}", p.name, p.show(v));
            }
            row_name.push(')');
        }
        FeatureCall { plugin: self.plugin.clone(), feature: self.name.clone(), args, row_name, profile: self.profile }
    }

    /// Compute the feature with parameter values `args` (declaration order): its values,
    /// one for a feature that is not a profile. A feature without `compute_values` (older
    /// than ABI 2.2, or without parameters and not a profile) is called through `compute`.
    pub fn compute_values(&self, input: &PluginInput, args: &[f64]) -> Result<Vec<f64>, PluginCallError> {
        let Some(compute_values) = self.compute_values else {
            return self.compute(input).map(|v| vec![v]);
        };
        let prepared = input.prepare()?;
        let mut out = MaybeUninit::<RadxValuesOut>::zeroed();
        let _in_flight = self.enter(input);
        // SAFETY: as in `PluginFeature::compute`; `args` holds `args.len()` values for the
        // call; `out` is a valid, zeroed place to write.
        let status = unsafe {
            compute_values(self.context(), &prepared.raw(input), args.as_ptr(), args.len(), out.as_mut_ptr())
        };
        if status != RADX_OK {
            return Err(self.failure());
        }
        // SAFETY: zeroed is a valid RadxValuesOut (null pointers, None), and the plugin wrote it.
        let mut out = unsafe { out.assume_init() };
        let values = if out.len == 0 || out.data.is_null() {
            Vec::new()
        } else {
            // SAFETY: the plugin promises `len` values until release.
            unsafe { std::slice::from_raw_parts(out.data, out.len) }.to_vec()
        };
        if let Some(release) = out.release {
            // SAFETY: released exactly once, by the plugin's own callback.
            unsafe { release(&mut out) };
        }
        if !self.profile && values.len() != 1 {
            let message = format!("returned {} values; a feature that is not a profile returns one", values.len());
            return Err(PluginCallError::Plugin(format!("feature {}: {message}", self.qualified_name())));
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Margin;
    use crate::plugin::{Compute, Instance};

    unsafe extern "C" fn never(_: *mut std::ffi::c_void, _: *const radx_plugin::RadxInput, _: *mut f64) -> i32 {
        radx_plugin::RADX_ERROR
    }

    fn spec(name: &str, kind: ParamKind, default: f64, min: f64, max: f64) -> ParamSpec {
        ParamSpec { name: name.into(), kind, default, min, max }
    }

    /// A feature `f` of plugin `demo` with these parameters (never called).
    fn feature(params: Vec<ParamSpec>) -> PluginFeature {
        PluginFeature {
            plugin: "demo".into(),
            name: "f".into(),
            tag: "SITE-1".into(),
            description: "test".into(),
            source: None,
            margin: Margin::None,
            params,
            profile: false,
            compute: Compute::V2(never),
            compute_values: None,
            instance: Arc::new(Instance { context: std::ptr::null_mut(), last_error: None, shutdown: None }),
        }
    }

    fn given(json: &str) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn values_are_checked_against_kind_and_range_and_name_the_rows() {
        let f = feature(vec![
            spec("p", ParamKind::Float, 50.0, 0.0, 100.0),
            spec("n", ParamKind::Int, 3.0, 1.0, f64::INFINITY),
            spec("strict", ParamKind::Bool, 0.0, 0.0, 1.0),
        ]);
        let call = f.bind(&given(r#"{"p": 2.5, "strict": true}"#)).unwrap();
        assert_eq!((call.args, call.row_name.as_str()), (vec![2.5, 3.0, 1.0], "f(p=2.5;n=3;strict=true)"));
        assert_eq!(f.default_call().row_name, "f(p=50;n=3;strict=false)");
        let err = |json: &str| f.bind(&given(json)).unwrap_err();
        assert_eq!(
            err(r#"{"q": 1}"#),
            FeatureArgError::Unknown {
                feature: "demo.f".into(),
                param: "q".into(),
                known: "it has p, n, strict".into()
            }
        );
        let out_of_range = err(r#"{"p": 100.5}"#).to_string();
        assert_eq!(out_of_range, "plugin feature `demo.f`: parameter `p` = 100.5 is out of range: allowed 0 to 100");
        assert!(err(r#"{"n": 0}"#).to_string().contains("allowed at least 1"));
        let wrong = err(r#"{"n": 2.5}"#).to_string();
        assert_eq!(wrong, "plugin feature `demo.f`: parameter `n` must be an integer (at least 1), not 2.5");
        assert!(err(r#"{"p": "high"}"#).to_string().contains("must be a number (0 to 100), not \"high\""));
        assert!(err(r#"{"strict": 1}"#).to_string().contains("must be true or false"));
        // Integers are numbers: p = 90 is 90.0.
        assert_eq!(f.bind(&given(r#"{"p": 90}"#)).unwrap().row_name, "f(p=90;n=3;strict=false)");
    }

    #[test]
    fn a_feature_without_parameters_keeps_its_name_and_takes_none() {
        let f = feature(Vec::new());
        assert_eq!(f.default_call().row_name, "f");
        let err = f.bind(&given(r#"{"p": 1}"#)).unwrap_err().to_string();
        assert_eq!(err, "plugin feature `demo.f` has no parameter `p` (it takes none)");
    }

    #[test]
    fn declarations_are_validated() {
        let desc = |kind: i32, default: f64, min: f64, max: f64| RadxParamDesc {
            struct_size: std::mem::size_of::<RadxParamDesc>(),
            name: std::ptr::null(),
            kind,
            default_value: default,
            min,
            max,
        };
        let ok = param_spec(&desc(RADX_PARAM_INT, 2.0, 0.0, 2.0), "axis".into()).unwrap();
        assert_eq!(ok.range(), "0 to 2");
        let e = |d: RadxParamDesc, name: &str| param_spec(&d, name.into()).unwrap_err();
        assert!(e(desc(RADX_PARAM_INT, 3.0, 0.0, 2.0), "a").contains("default 3 is out of its range"));
        assert!(e(desc(RADX_PARAM_BOOL, 0.5, 0.0, 1.0), "a").contains("not of its kind"));
        assert!(e(desc(RADX_PARAM_FLOAT, 0.0, f64::NAN, 1.0), "a").contains("range"));
        assert!(e(desc(9, 0.0, 0.0, 1.0), "a").contains("unknown kind 9"));
        assert!(e(desc(RADX_PARAM_FLOAT, 0.0, 0.0, 1.0), "1a").contains("not a name"));
        // A flag's range is its two values whatever the plugin wrote.
        let flag = param_spec(&desc(RADX_PARAM_BOOL, 1.0, f64::NEG_INFINITY, f64::INFINITY), "on".into()).unwrap();
        assert_eq!((flag.min, flag.max, flag.range().as_str()), (0.0, 1.0, "true or false"));
    }
}
