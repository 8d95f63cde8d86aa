//! Descriptors of each ABI version (1; 2.0 and its later minors) read into one raw form,
//! reading a field a minor version appended only when the plugin's entries have it.

use std::ffi::c_char;
use std::path::Path;

use radx_plugin::{RadxFeatureDesc, RadxLastErrorFn, RadxPluginDesc, RadxShutdownFn, RadxSourceDesc, v1, v2_0};

use crate::PluginError;
use crate::c_read::{appended_field, table};
use crate::feature_params;
use crate::plugin::{Build, Compute};

/// A descriptor of any ABI version, before validation.
pub(crate) struct RawDescriptor {
    pub(crate) abi: u32,
    pub(crate) abi_minor: u32,
    pub(crate) name: *const c_char,
    pub(crate) version: *const c_char,
    pub(crate) features: Vec<RawFeature>,
    pub(crate) sources: Vec<RawSource>,
    pub(crate) last_error: Option<RadxLastErrorFn>,
    pub(crate) init: Option<radx_plugin::RadxInitFn>,
    pub(crate) shutdown: Option<RadxShutdownFn>,
}

pub(crate) struct RawFeature {
    pub(crate) name: *const c_char,
    pub(crate) tag: *const c_char,
    pub(crate) description: *const c_char,
    pub(crate) source: *const c_char,
    pub(crate) compute: Option<Compute>,
    /// `margin_mm` (ABI 2.1; 0 for older plugins).
    pub(crate) margin_mm: f64,
    /// Parameters and vector results (ABI 2.2; `None` for older plugins).
    pub(crate) ext: Option<feature_params::RawFeatureExt>,
}

pub(crate) struct RawSource {
    pub(crate) name: *const c_char,
    pub(crate) description: *const c_char,
    pub(crate) ndim: usize,
    pub(crate) params: *const c_char,
    pub(crate) build: Option<Build>,
    /// `margin_mm` (ABI 2.3; 0 for older plugins).
    pub(crate) margin_mm: f64,
}

/// An ABI 2 descriptor, of this radx's minor version or any other.
pub(crate) fn raw_v2(d: &'static RadxPluginDesc, path: &Path) -> Result<RawDescriptor, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    // Minor 0 is the first of ABI 2: every ABI 2 descriptor has at least its fields.
    if d.struct_size < std::mem::size_of::<RadxPluginDesc>() {
        return Err(malformed(format!(
            "the descriptor is {} bytes, less than ABI 2.0's {}",
            d.struct_size,
            std::mem::size_of::<RadxPluginDesc>()
        )));
    }
    // SAFETY: the descriptor's tables are static, entries `feature_size`/`source_size` apart;
    // every entry has at least ABI 2.0's fields (the stride is checked against them).
    let first = d.features.cast::<v2_0::RadxFeatureDesc>();
    let features = unsafe { table(first, d.n_features, d.feature_size, "features", path) }?;
    let first_source = d.sources.cast::<v2_0::RadxSourceDesc>();
    let sources = unsafe { table(first_source, d.n_sources, d.source_size, "sources", path) }?;
    let features = features
        .into_iter()
        .map(|f: &v2_0::RadxFeatureDesc| RawFeature {
            name: f.name,
            tag: f.tag,
            description: f.description,
            source: f.source,
            compute: f.compute.map(Compute::V2),
            // SAFETY: `f` is an entry of the table, `feature_size` bytes long.
            margin_mm: unsafe { appended_margin(f, d.feature_size) },
            // SAFETY: as above.
            ext: unsafe { feature_params::appended_ext(f, d.feature_size) },
        })
        .collect();
    let sources = sources
        .into_iter()
        .map(|s: &v2_0::RadxSourceDesc| RawSource {
            name: s.name,
            description: s.description,
            ndim: s.ndim,
            params: s.params,
            build: s.build.map(Build::V2),
            // SAFETY: `s` is an entry of the table, `source_size` bytes long.
            margin_mm: unsafe { appended_source_margin(s, d.source_size) },
        })
        .collect();
    Ok(RawDescriptor {
        abi: d.abi_version,
        abi_minor: d.abi_minor,
        name: d.name,
        version: d.version,
        features,
        sources,
        last_error: d.last_error,
        init: d.init,
        shutdown: d.shutdown,
    })
}

/// A feature entry's `margin_mm` (ABI 2.1) when the entry has it, else 0: an ABI 2.0 entry
/// ends before it.
///
/// # Safety
/// `entry` must start a static entry of `stride` bytes.
pub(crate) unsafe fn appended_margin(entry: &v2_0::RadxFeatureDesc, stride: usize) -> f64 {
    let at = std::mem::offset_of!(RadxFeatureDesc, margin_mm);
    // SAFETY: per the contract; an entry's first `struct_size` bytes are laid out as this version's.
    unsafe { appended_field(std::ptr::from_ref(entry).cast(), entry.struct_size, stride, at) }.unwrap_or(0.0)
}

/// A source entry's `margin_mm` (ABI 2.3) when the entry has it, else 0.
///
/// # Safety
/// `entry` must start a static entry of `stride` bytes.
pub(crate) unsafe fn appended_source_margin(entry: &v2_0::RadxSourceDesc, stride: usize) -> f64 {
    let at = std::mem::offset_of!(RadxSourceDesc, margin_mm);
    // SAFETY: as in `appended_margin`.
    unsafe { appended_field(std::ptr::from_ref(entry).cast(), entry.struct_size, stride, at) }.unwrap_or(0.0)
}

/// An ABI 1 descriptor: no sizes, no context, no lifecycle.
pub(crate) fn raw_v1(d: &'static v1::RadxPluginDesc, path: &Path) -> Result<RawDescriptor, PluginError> {
    let (feature_size, source_size) =
        (std::mem::size_of::<v1::RadxFeatureDesc>(), std::mem::size_of::<v1::RadxSourceDesc>());
    // SAFETY: ABI 1 tables are plain static arrays of ABI 1 structs.
    let features = unsafe { table(d.features, d.n_features, feature_size, "features", path) }?;
    let sources = unsafe { table(d.sources, d.n_sources, source_size, "sources", path) }?;
    Ok(RawDescriptor {
        abi: d.abi_version,
        abi_minor: 0,
        name: d.name,
        version: d.version,
        features: features
            .into_iter()
            .map(|f| RawFeature {
                name: f.name,
                tag: f.tag,
                description: f.description,
                source: f.source,
                compute: f.compute.map(Compute::V1),
                margin_mm: 0.0,
                ext: None,
            })
            .collect(),
        sources: sources
            .into_iter()
            .map(|s| RawSource {
                name: s.name,
                description: s.description,
                ndim: s.ndim,
                params: s.params,
                build: s.build.map(Build::V1),
                margin_mm: 0.0,
            })
            .collect(),
        last_error: d.last_error,
        init: None,
        shutdown: None,
    })
}
