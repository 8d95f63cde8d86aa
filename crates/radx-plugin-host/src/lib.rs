//! Loading site plugins: shared libraries speaking the `radx-plugin` C ABI.
//!
//! A plugin exports `radx_plugin_entry` (see [`radx_plugin`]); this module opens it with
//! `libloading`, reads its ABI major version before anything else (2, or 1 for plugins
//! built before ABI 2: both load; an older or newer minor version of 2 loads too, read up
//! to the fields both know), validates and copies its descriptor into safe Rust values
//! ([`LoadedPlugin`], [`PluginFeature`], [`PluginSource`], [`PluginFilter`]), runs its optional `init` and
//! calls its functions on host-owned, borrowed views of a region of interest
//! ([`PluginInput`]) in the calling convention of its ABI. Libraries are never unloaded:
//! their code and static descriptors stay valid for the life of the process, so the
//! handles are `'static`; a plugin's `shutdown` runs when its last handle is dropped.
//!
//! Plugin directories come from `RADX_PLUGIN_PATH` (`:`-separated; every `.so`,
//! `.dylib` or `.dll` in each directory, in name order). Features are not IBSI-defined
//! unless the plugin says so with an IBSI tag (IBSI 1, ch. 3); sources feed the DSL like
//! the built-in texture matrices (IBSI 1, ch. 3.6–3.11).
//!
//! Failure policy: a plugin that cannot be loaded is a [`PluginError`] naming its file;
//! a feature that fails (C error return, or a Rust panic caught by `export_plugin!`)
//! returns `Err(message)` for that feature only. A plugin that crashes the process
//! (segfault, abort) cannot be caught: it runs in-process by design.

use radx_plugin::{RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, v1};

pub use radx_plugin::LogLevel;

#[cfg(unix)]
mod in_flight;
#[cfg(unix)]
pub use in_flight::{CaseInFlight, install_crash_report};
/// Without POSIX signals there is no handler to install: a crash ends the process
/// without the line naming the plugin.
#[cfg(not(unix))]
pub fn install_crash_report() {}
#[cfg(not(unix))]
mod in_flight {
    /// No signal handler reads the record without POSIX signals.
    pub(crate) struct InFlight;
    impl InFlight {
        pub(crate) fn enter(_: &'static str, _: &str, _: &str, _: Option<&std::ffi::CStr>, _: i64) -> InFlight {
            InFlight
        }
    }
    /// No crash line to name the case in without POSIX signals.
    pub struct CaseInFlight<'a>(std::marker::PhantomData<&'a std::ffi::CStr>);
    impl<'a> CaseInFlight<'a> {
        /// Does nothing here.
        pub fn enter(_: Option<&'a std::ffi::CStr>, _: i64) -> CaseInFlight<'a> {
            CaseInFlight(std::marker::PhantomData)
        }
    }
}
#[cfg(not(unix))]
pub use in_flight::CaseInFlight;
mod filter;
pub use filter::{FILTER_BOUNDARIES, PluginFilter};
mod trust;
pub use trust::{PluginTrust, WritableBy};
mod feature_params;
pub use feature_params::{FeatureArgError, FeatureCall, ParamKind, ParamSpec};

/// The environment variable listing plugin directories, `:`-separated.
pub const PLUGIN_PATH_VAR: &str = "RADX_PLUGIN_PATH";

/// The ABI major version this radx speaks (re-exported for `radx plugins list`); it also
/// loads plugins of [`OLDEST_ABI`] up to this one, of any minor version.
pub const HOST_ABI: u32 = RADX_PLUGIN_ABI;

/// The ABI minor version this radx fills in its structs.
pub const HOST_ABI_MINOR: u32 = RADX_PLUGIN_ABI_MINOR;

/// The oldest ABI major version this radx still loads.
pub const OLDEST_ABI: u32 = v1::RADX_PLUGIN_ABI;

// What loading and calling plugins can fail with, or warn about.
mod error;
pub use error::{ColumnClash, MatrixError, ParamDefaultsError, PluginError, PluginOrigin, PluginWarning, check_name};
// A loaded plugin, its features and sources (safe values holding its functions).
mod plugin;
pub use plugin::{DenseMatrix, LoadedPlugin, Margin, PluginFeature, PluginSource};
// What a plugin is shown of one ROI, and its layout as the ABI's structs.
mod input;
pub use input::{CaseInfo, PluginInput, PluginRegion};
// Calls into features and sources, in each ABI's calling convention.
mod call;
pub use call::PluginCallError;
// Opening a library and validating its descriptor; `raw` reads each ABI version's, `c_read`
// its strings and tables.
mod c_read;
mod load;
mod raw;
pub use load::{load_plugin, load_plugin_with};
// The log and cancellation callbacks radx gives plugins.
mod host_api;
pub use host_api::{PluginLog, set_plugin_log_sink, set_plugins_cancelled, take_plugin_logs};
// A source's parameter defaults as JSON.
mod source_params;
pub use source_params::{params_to_json, parse_param_defaults};
// Plugin directories and the registry of loaded plugins.
mod registry;
pub use registry::{PluginRegistry, plugin_dirs, plugin_files_in};

#[cfg(test)]
mod tests;
