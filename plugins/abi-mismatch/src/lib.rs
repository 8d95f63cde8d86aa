//! Test fixture: a plugin built against a *different* ABI version than this radx.
//!
//! radx must refuse it with a message naming the file, its ABI and radx's, without
//! reading anything past `abi_version` (in another ABI version the rest of the descriptor
//! may mean something else). The descriptor is written by hand because `export_plugin!`
//! always stamps the current `RADX_PLUGIN_ABI`.

use radx_plugin::{RADX_PLUGIN_ABI, RadxPluginDesc};

/// The version this fixture claims: one ahead of radx, as a plugin from a newer radx would.
pub const FOREIGN_ABI: u32 = RADX_PLUGIN_ABI + 1;

static DESCRIPTOR: RadxPluginDesc = RadxPluginDesc {
    abi_version: FOREIGN_ABI,
    abi_minor: 0,
    struct_size: std::mem::size_of::<RadxPluginDesc>(),
    name: c"from-the-future".as_ptr(),
    version: c"9.9.9".as_ptr(),
    features: std::ptr::null(),
    n_features: 0,
    feature_size: 0,
    sources: std::ptr::null(),
    n_sources: 0,
    source_size: 0,
    last_error: None,
    init: None,
    shutdown: None,
};

/// The plugin entry point.
#[unsafe(no_mangle)]
pub extern "C" fn radx_plugin_entry() -> *const RadxPluginDesc {
    &DESCRIPTOR
}
