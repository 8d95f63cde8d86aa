//! Calls into a plugin's features and sources, in the calling convention of its ABI.

use std::ffi::{CStr, CString, c_void};
use std::mem::MaybeUninit;

use radx_plugin::{RADX_MAX_MATRIX_DIMS, RADX_OK, RadxLastErrorFn, RadxMatrixOut, RadxMatrixView};

use crate::in_flight;
use crate::plugin::{Build, Compute};
use crate::{DenseMatrix, MatrixError, PluginFeature, PluginInput, PluginSource};

/// Why a call into a plugin gave no value or matrix. The feature's or source's rows become
/// NaN with this as their note; the case goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginCallError {
    /// The host's input views disagree with each other (a host defect, not the plugin's).
    #[error("{0}")]
    Input(String),
    /// The plugin reported an error (or panicked): its own message.
    #[error("{0}")]
    Plugin(String),
    /// The source's parameters cannot be passed as a C string.
    #[error("source parameters contain a NUL byte")]
    NulInParameters,
    /// The matrix the source returned does not hold what it claims.
    #[error("source {plugin}.{source_name} returned an invalid matrix: {error}")]
    InvalidMatrix {
        /// Plugin name.
        plugin: String,
        /// Source name.
        source_name: String,
        /// What is wrong with it.
        error: MatrixError,
    },
}

/// The plugin's message after a failed call, read on the calling thread right away.
pub(crate) fn plugin_message(last_error: Option<RadxLastErrorFn>, what: &str) -> String {
    let message = last_error.and_then(|f| {
        // SAFETY: the ABI promises a NUL-terminated string or null, valid until the next call.
        let p = unsafe { f() };
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    });
    match message {
        Some(m) if !m.is_empty() => m,
        _ => format!("{what} failed without a message"),
    }
}

impl PluginFeature {
    /// Compute the feature on `input`. `Err` carries the plugin's message (a caught panic
    /// reads "the plugin panicked: …"); other features are unaffected.
    pub fn compute(&self, input: &PluginInput) -> Result<f64, PluginCallError> {
        let prepared = input.prepare()?;
        let mut value = f64::NAN;
        let _in_flight = self.enter(input);
        // SAFETY: the raw input points into `prepared` and `input`, alive for the whole call;
        // the function pointer comes from a library that is never unloaded; the context is
        // the one the plugin's init stored.
        let status = match self.compute {
            Compute::V2(compute) => unsafe { compute(self.instance.context, &prepared.raw(input), &mut value) },
            Compute::V1(compute) => unsafe { compute(&prepared.raw_v1(input), &mut value) },
        };
        if status == RADX_OK { Ok(value) } else { Err(self.failure()) }
    }

    /// Marks this feature in flight on `input`'s case (for the crash report).
    pub(crate) fn enter(&self, input: &PluginInput) -> in_flight::InFlight {
        in_flight::InFlight::enter("feature", &self.plugin, &self.name, input.case.case_id, input.case.label)
    }

    /// The context the plugin's init stored.
    pub(crate) fn context(&self) -> *mut c_void {
        self.instance.context
    }

    /// The plugin's message after a failed call on this thread.
    pub(crate) fn failure(&self) -> PluginCallError {
        PluginCallError::Plugin(plugin_message(
            self.instance.last_error,
            &format!("feature {}.{}", self.plugin, self.name),
        ))
    }

    /// `plugin.feature`, unique among loaded plugins.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.plugin, self.name)
    }
}

impl PluginSource {
    /// Build the source's matrix on `input`; `params_json` is a JSON object (`{}` for none).
    /// The plugin allocates it; it is copied here and released through the plugin.
    pub fn build(&self, input: &PluginInput, params_json: &str) -> Result<DenseMatrix, PluginCallError> {
        let params = CString::new(params_json).map_err(|_| PluginCallError::NulInParameters)?;
        let prepared = input.prepare()?;
        let mut out = MaybeUninit::<RadxMatrixOut>::zeroed();
        let context = self.instance.context;
        let _in_flight =
            in_flight::InFlight::enter("source", &self.plugin, &self.name, input.case.case_id, input.case.label);
        // SAFETY: as in `PluginFeature::compute`; `out` is a valid, zeroed place to write.
        let status = match self.build {
            Build::V2(build) => unsafe { build(context, &prepared.raw(input), params.as_ptr(), out.as_mut_ptr()) },
            Build::V1(build) => unsafe { build(&prepared.raw_v1(input), params.as_ptr(), out.as_mut_ptr()) },
        };
        if status != RADX_OK {
            let what = format!("source {}.{}", self.plugin, self.name);
            return Err(PluginCallError::Plugin(plugin_message(self.instance.last_error, &what)));
        }
        // SAFETY: zeroed is a valid RadxMatrixOut (null pointers, None), and the plugin wrote it.
        let mut out = unsafe { out.assume_init() };
        let copied = copy_matrix(&out.matrix);
        if let Some(release) = out.release {
            // SAFETY: released exactly once, by the plugin's own callback.
            unsafe { release(&mut out) };
        }
        copied.map_err(|error| PluginCallError::InvalidMatrix {
            plugin: self.plugin.clone(),
            source_name: self.name.clone(),
            error,
        })
    }
}

/// Copy a plugin-owned matrix into host memory, checking what it claims.
pub(crate) fn copy_matrix(view: &RadxMatrixView) -> Result<DenseMatrix, MatrixError> {
    if view.ndim == 0 || view.ndim > RADX_MAX_MATRIX_DIMS {
        return Err(MatrixError::ViewAxisCount { ndim: view.ndim });
    }
    let shape = view.shape[..view.ndim].to_vec();
    let len = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n)).ok_or(MatrixError::ShapeOverflow)?;
    let data = if len == 0 {
        Vec::new()
    } else if view.data.is_null() {
        return Err(MatrixError::NoData { shape });
    } else {
        // SAFETY: the plugin promises `len` entries until release.
        unsafe { std::slice::from_raw_parts(view.data, len) }.to_vec()
    };
    let mut matrix = DenseMatrix::new(shape.clone(), data)?;
    for (a, &n) in shape.iter().enumerate() {
        let p = view.axis_values[a];
        if !p.is_null() && n > 0 {
            // SAFETY: the plugin promises `shape[a]` values or null.
            let values = unsafe { std::slice::from_raw_parts(p, n) }.to_vec();
            matrix = matrix.with_axis_values(a, values)?;
        }
    }
    Ok(matrix)
}
