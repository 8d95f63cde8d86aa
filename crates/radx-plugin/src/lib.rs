//! radx-plugin: the stable C ABI between radx and site plugins, and a safe way to export it.
//!
//! A plugin is a shared library (`cdylib`) exporting ONE symbol, [`RADX_ENTRY_SYMBOL`]
//! (`radx_plugin_entry`), a function returning a pointer to a static [`RadxPluginDesc`]:
//! the plugin's name and version, its features (name, tag, description, compute
//! function) and optionally new *sources* (matrices the plugin builds, that `.radx`
//! feature files can use by name like a built-in source such as `cm`). Since ABI 2.2 a
//! plugin may also export image *filters* (a second, optional symbol: see [`filter`]),
//! which settings files select like the built-in IBSI-2 filters.
//!
//! The ABI follows the Polars expression-plugin model (thin, versioned FFI boundary):
//! - **Versioned, designed to grow.** [`RadxPluginDesc::abi_version`] (the major version,
//!   [`RADX_PLUGIN_ABI`]) is the descriptor's first field in every ABI version, so a host
//!   reads it before trusting anything else. Within a major version fields are only
//!   appended ([`RADX_PLUGIN_ABI_MINOR`]): every struct carries its size (`struct_size`,
//!   and the tables their stride), and each side reads only the fields both have. Hosts
//!   still load plugins of major 1 ([`v1`]).
//! - **Lifecycle.** Optional `init` (with the host's log callback, [`RadxHost`]) storing a
//!   context pointer passed to every call, and `shutdown`.
//! - **Host-owned, borrowed, read-only views.** The host passes [`RadxInput`]: the cropped
//!   image, both masks, the ROI intensity vector, the discretised grey levels, any
//!   matrices, the case (box geometry, case id, label, settings as JSON) and, for a
//!   feature declaring `margin_mm`, the processed image around the ROI, all valid only
//!   for the duration of the call; calls run concurrently on many threads. Volumes are x-fastest
//!   (`index = x + nx·(y + ny·z)`, the radx axis convention and the NIfTI file order);
//!   matrices are row-major (last index fastest).
//! - **Nothing freed by the other side.** A source's matrix is allocated by the plugin
//!   and released by the plugin's own [`RadxMatrixOut::release`] callback after the host
//!   copied it.
//! - **Errors are values.** Every call returns [`RADX_OK`] or [`RADX_ERROR`]; on error the
//!   host reads a message from [`RadxPluginDesc::last_error`] (thread-local in the plugin,
//!   null after a successful call) on the same thread, right away.
//!
//! Rust plugin authors use [`export_plugin!`] and the safe views [`Input`], [`Mask`],
//! [`Levels`], [`MatrixRef`] and [`Matrix`]: no `unsafe` on their side, and every
//! boundary is wrapped in `catch_unwind` so a panic becomes an error for that feature,
//! saying where it happened (the panic itself is not printed: radx reports it per case).
//! C authors include `include/radx_plugin.h`, which mirrors these types exactly (a test
//! compiles it and checks every size and offset).
//!
//! The features themselves are site-defined; IBSI-style permanent tags (IBSI 1, ch. 3)
//! are encouraged when a feature is an IBSI one, otherwise a site tag such as `RADX-FD01`.

pub mod filter;
pub use filter::{
    Boundary, FilterImage, RADX_FILTERS_SYMBOL, RadxFilterDesc, RadxFilterFn, RadxFilterInput, RadxFilterTable,
    RadxFiltersFn,
};
mod feature_params;
pub use feature_params::{
    Args, FeatureValues, RADX_PARAM_BOOL, RADX_PARAM_FLOAT, RADX_PARAM_INT, RadxComputeValuesFn, RadxParamDesc,
    RadxValuesOut, RadxValuesReleaseFn,
};

/// The ABI's major version: bumped only on a change that old plugins or old hosts cannot
/// read (a field removed, moved or retyped, a calling convention changed). Every
/// descriptor's first field, in every major version; the host refuses a major it does not
/// speak (this radx speaks 2, and still loads plugins of major 1: see [`v1`]).
pub const RADX_PLUGIN_ABI: u32 = 2;

/// The ABI's minor version: bumped when fields are appended to a struct. A struct's
/// `struct_size` says how much of it the other side filled; fields past it are absent
/// (a newer plugin on an older host, or the reverse), and each side reads only what both
/// have. Minor 0 is the first of major 2; minor 1 appended the settings and the margin
/// region to [`RadxInput`] and [`RadxFeatureDesc::margin_mm`]; minor 2 added filter
/// plugins, behind their own optional symbol ([`filter`], [`RADX_FILTERS_SYMBOL`]), and
/// appended typed parameters and vector results to [`RadxFeatureDesc`]
/// ([`RadxParamDesc`], [`RadxFeatureDesc::compute_values`]); minor 3 appended
/// [`RadxSourceDesc::margin_mm`], so that sources see the margin region as features do.
pub const RADX_PLUGIN_ABI_MINOR: u32 = 3;

/// The one symbol a plugin exports: `const RadxPluginDesc *radx_plugin_entry(void)`.
pub const RADX_ENTRY_SYMBOL: &str = "radx_plugin_entry";

/// Return value of a successful compute/build/init call.
pub const RADX_OK: i32 = 0;

/// Return value of a failed compute/build/init call; the message is behind `last_error`.
pub const RADX_ERROR: i32 = 1;

/// Largest number of axes a matrix crossing the boundary may have.
pub const RADX_MAX_MATRIX_DIMS: usize = 4;

/// Log levels of [`RadxHost::log`].
pub const RADX_LOG_ERROR: i32 = 1;
/// A warning: something the user should fix, the run goes on.
pub const RADX_LOG_WARN: i32 = 2;
/// Information (e.g. the plugin's configuration at init).
pub const RADX_LOG_INFO: i32 = 3;
/// Detail for debugging a plugin.
pub const RADX_LOG_DEBUG: i32 = 4;

// The ABI 2 structs and function types, in this minor version's layout.
mod abi;
pub use abi::*;
pub mod v1;
pub mod v2_0;
// The safe views of Rust plugins and the matrix a source returns.
mod views;
pub use views::*;
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod macros;

#[cfg(test)]
mod tests;
