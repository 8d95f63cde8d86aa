//! ABI 2.2: typed parameters of plugin features, and features whose result is a vector.
//!
//! A feature declares its parameters ([`RadxParamDesc`]: a name, a kind, a default and an
//! allowed range); users set them per feature in the settings, radx checks them when it
//! starts (before any image is read) and passes their values, in declaration order, to
//! [`RadxFeatureDesc::compute_values`](crate::RadxFeatureDesc::compute_values). A *profile*
//! feature returns any number of values (e.g. one per slice), each a row `feature[i]`.

use std::ffi::{c_char, c_void};
use std::fmt::Display;

use crate::__private::{HostInput, catch_quietly, clear_last_error, set_last_error};
use crate::{Input, RADX_ERROR, RADX_OK, RadxInput};

/// [`RadxParamDesc::kind`]: a whole number (passed as an `f64` holding an integer).
pub const RADX_PARAM_INT: i32 = 1;
/// [`RadxParamDesc::kind`]: a real number.
pub const RADX_PARAM_FLOAT: i32 = 2;
/// [`RadxParamDesc::kind`]: a flag (passed as 0.0 or 1.0).
pub const RADX_PARAM_BOOL: i32 = 3;

/// One parameter of a feature (ABI 2.2). Values cross the boundary as `f64`: an integer's
/// value, or 0/1 for a flag.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxParamDesc {
    /// `size_of::<RadxParamDesc>()` as the plugin built it.
    pub struct_size: usize,
    /// The parameter's name: letters, digits and `_`, not starting with a digit.
    pub name: *const c_char,
    /// [`RADX_PARAM_INT`], [`RADX_PARAM_FLOAT`] or [`RADX_PARAM_BOOL`].
    pub kind: i32,
    /// The value when the user gives none.
    pub default_value: f64,
    /// Smallest allowed value (inclusive); `-inf` for none. Ignored for flags.
    pub min: f64,
    /// Largest allowed value (inclusive); `+inf` for none. Ignored for flags.
    pub max: f64,
}

// SAFETY: immutable static data (a static string), never written through.
unsafe impl Sync for RadxParamDesc {}
// SAFETY: as above.
unsafe impl Send for RadxParamDesc {}

/// Frees the values of a [`RadxValuesOut`] (the plugin's own callback).
pub type RadxValuesReleaseFn = unsafe extern "C" fn(out: *mut RadxValuesOut);

/// The values a feature's `compute_values` returns, owned by the plugin until `release`
/// (null: they stay valid until the next call on the same thread). The host copies them.
#[repr(C)]
#[derive(Debug)]
pub struct RadxValuesOut {
    /// `len` values (may be null when `len` is 0).
    pub data: *const f64,
    /// Number of values: 1 for a feature that is not a profile.
    pub len: usize,
    /// The plugin's handle on the allocation.
    pub owner: *mut c_void,
    /// Called once by the host after copying, or null.
    pub release: Option<RadxValuesReleaseFn>,
}

/// `compute_values(context, input, args, n_args, &out)`: `args` holds the `n_args`
/// parameter values in the order the feature declares them.
pub type RadxComputeValuesFn = unsafe extern "C" fn(
    context: *mut c_void,
    input: *const RadxInput,
    args: *const f64,
    n_args: usize,
    out: *mut RadxValuesOut,
) -> i32;

/// The parameter values a Rust feature receives, by the names it declared.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    names: &'a [&'a str],
    values: &'a [f64],
}

impl<'a> Args<'a> {
    /// Values for the declared `names`, in the same order.
    pub fn new(names: &'a [&'a str], values: &'a [f64]) -> Self {
        Args { names, values }
    }

    /// The value of `name`, `None` when the feature declares no such parameter.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.names.iter().position(|n| *n == name).and_then(|i| self.values.get(i).copied())
    }

    /// The value of the real parameter `name`. Panics (caught: the feature's error) when the
    /// feature does not declare it — a mistake in the plugin, not in the user's settings.
    pub fn float(&self, name: &str) -> f64 {
        self.get(name).unwrap_or_else(|| panic!("parameter `{name}` is not declared by this feature"))
    }

    /// The value of the integer parameter `name` (panics as [`Args::float`]).
    pub fn int(&self, name: &str) -> i64 {
        self.float(name) as i64
    }

    /// The value of the flag `name` (panics as [`Args::float`]).
    pub fn flag(&self, name: &str) -> bool {
        self.float(name) != 0.0
    }
}

/// What a Rust feature with parameters returns: one value, or a profile.
pub trait FeatureValues {
    /// The values as rows: one for a scalar.
    fn into_values(self) -> Vec<f64>;
}

impl FeatureValues for f64 {
    fn into_values(self) -> Vec<f64> {
        vec![self]
    }
}

impl FeatureValues for Vec<f64> {
    fn into_values(self) -> Vec<f64> {
        self
    }
}

/// Run `compute` on the host's input with `args`, catching panics; the values, or the
/// message `last_error` will report.
///
/// # Safety
/// `input` must be null or a valid [`RadxInput`] as its host built it (see
/// [`Input::from_raw`]).
unsafe fn call<F, T, E>(input: *const RadxInput, args: Args<'_>, compute: F) -> Result<Vec<f64>, String>
where
    F: Fn(&Input<'_>, &Args<'_>) -> Result<T, E>,
    T: FeatureValues,
    E: Display,
{
    if input.is_null() {
        return Err("radx passed a null input pointer".into());
    }
    // SAFETY: non-null and valid per the caller's contract.
    let raw = unsafe { HostInput::read(input) }?;
    // SAFETY: the host's views are valid for the call (the caller's contract).
    let input = unsafe { Input::from_raw(raw.get()) };
    match catch_quietly(|| compute(&input, &args)) {
        Ok(Ok(values)) => Ok(values.into_values()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic.to_string()),
    }
}

/// `compute_values` of a feature [`export_plugin!`](crate::export_plugin) generates.
///
/// # Safety
/// As [`Input::from_raw`] for `input`; `args` must hold `n_args` values (or be null with
/// `n_args` 0); `out` must be null or valid for a write.
pub unsafe fn run_feature_values<F, T, E>(
    input: *const RadxInput,
    args: *const f64,
    n_args: usize,
    out: *mut RadxValuesOut,
    names: &[&str],
    compute: F,
) -> i32
where
    F: Fn(&Input<'_>, &Args<'_>) -> Result<T, E>,
    T: FeatureValues,
    E: Display,
{
    clear_last_error();
    if out.is_null() || (args.is_null() && n_args > 0) {
        set_last_error("radx passed a null output or parameter pointer");
        return RADX_ERROR;
    }
    if n_args != names.len() {
        set_last_error(&format!("radx passed {n_args} parameter values, but the feature declares {}", names.len()));
        return RADX_ERROR;
    }
    // SAFETY: `n_args` values behind a non-null pointer (the caller's contract), or none.
    let values = if n_args == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(args, n_args) } };
    // SAFETY: per the caller's contract.
    match unsafe { call(input, Args::new(names, values), compute) } {
        Ok(values) => {
            let values = Box::new(values);
            let (data, len) = (values.as_ptr(), values.len());
            let owner = Box::into_raw(values).cast::<c_void>();
            // SAFETY: non-null and valid per the caller's contract.
            unsafe { out.write(RadxValuesOut { data, len, owner, release: Some(release_values) }) };
            RADX_OK
        }
        Err(message) => {
            set_last_error(&message);
            RADX_ERROR
        }
    }
}

/// `compute` of a feature with parameters, for a host older than ABI 2.2 (which calls
/// only `compute`): the parameters' defaults; a profile cannot be one value.
///
/// # Safety
/// As [`run_feature_values`].
pub unsafe fn run_feature_defaults<F, T, E>(
    input: *const RadxInput,
    out: *mut f64,
    names: &[&str],
    defaults: &[f64],
    profile: bool,
    compute: F,
) -> i32
where
    F: Fn(&Input<'_>, &Args<'_>) -> Result<T, E>,
    T: FeatureValues,
    E: Display,
{
    clear_last_error();
    if out.is_null() {
        set_last_error("radx passed a null output pointer");
        return RADX_ERROR;
    }
    if profile {
        set_last_error("this feature is a profile (one value per row); it needs radx with plugin ABI 2.2 or later");
        return RADX_ERROR;
    }
    // SAFETY: per the caller's contract.
    match unsafe { call(input, Args::new(names, defaults), compute) } {
        Ok(values) if values.len() == 1 => {
            // SAFETY: non-null and valid per the caller's contract.
            unsafe { out.write(values[0]) };
            RADX_OK
        }
        Ok(values) => {
            set_last_error(&format!("the feature returned {} values instead of one", values.len()));
            RADX_ERROR
        }
        Err(message) => {
            set_last_error(&message);
            RADX_ERROR
        }
    }
}

/// Frees values handed out by [`run_feature_values`].
///
/// # Safety
/// `out` must be null or a [`RadxValuesOut`] filled by [`run_feature_values`], not yet released.
pub unsafe extern "C" fn release_values(out: *mut RadxValuesOut) {
    // SAFETY: per the contract, `owner` came from Box::into_raw in run_feature_values.
    unsafe {
        if let Some(out) = out.as_mut()
            && !out.owner.is_null()
        {
            drop(Box::from_raw(out.owner.cast::<Vec<f64>>()));
            out.owner = std::ptr::null_mut();
            out.data = std::ptr::null();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_are_found_by_their_declared_names() {
        let args = Args::new(&["p", "n", "upper"], &[90.0, 3.0, 1.0]);
        assert_eq!(args.float("p"), 90.0);
        assert_eq!(args.int("n"), 3);
        assert!(args.flag("upper"));
        assert_eq!(args.get("q"), None);
    }
}
