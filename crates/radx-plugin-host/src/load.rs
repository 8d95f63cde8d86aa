//! Opening a plugin library and validating its descriptor (of any ABI version, read by
//! [`crate::raw`]) into a [`LoadedPlugin`](crate::LoadedPlugin).

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use radx_plugin::{
    RADX_ENTRY_SYMBOL, RADX_MAX_MATRIX_DIMS, RADX_OK, RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, RadxEntryFn, RadxHost, v1,
};

use crate::c_read::descriptor_text;
use crate::call::plugin_message;
use crate::host_api::{host_cancelled, host_log};
use crate::plugin::Instance;
use crate::raw::{RawDescriptor, raw_v1, raw_v2};
use crate::{LoadedPlugin, Margin, PluginError, PluginFeature, PluginOrigin, PluginSource, PluginTrust};
use crate::{check_name, feature_params, filter, parse_param_defaults, trust};

/// Load one plugin library; it stays loaded for the life of the process. A plugin of ABI
/// 2 with an `init` is initialised here (its `shutdown` runs when the last handle on the
/// returned plugin is dropped). A library other users could have replaced is refused
/// ([`PluginTrust::OwnerWritableOnly`]; see [`load_plugin_with`]).
pub fn load_plugin(path: &Path) -> Result<LoadedPlugin, PluginError> {
    load_plugin_with(path, PluginTrust::default())
}

/// [`load_plugin`] with a choice of which libraries to trust.
pub fn load_plugin_with(path: &Path, trust: PluginTrust) -> Result<LoadedPlugin, PluginError> {
    // A path with a directory part makes dlopen open exactly this file, never search; the
    // file checked is the file opened (symbolic links resolved once, here).
    let path = std::fs::canonicalize(path).map_err(|_| PluginError::NotFound { path: path.to_path_buf() })?;
    // Before dlopen: opening runs the library's constructors.
    trust::check(&path, trust)?;
    // SAFETY: loading a library runs its initialisers; plugins are trusted code by design.
    let library = unsafe { libloading::Library::new(&path) }
        .map_err(|e| PluginError::NotALibrary { path: path.clone(), reason: e.to_string() })?;
    // Never unload (see module docs): the descriptor and functions must stay valid.
    let library: &'static libloading::Library = Box::leak(Box::new(library));
    let symbol = format!("{RADX_ENTRY_SYMBOL}\0");
    // SAFETY: the symbol's type is the ABI's entry type.
    let entry: libloading::Symbol<'static, RadxEntryFn> =
        unsafe { library.get(symbol.as_bytes()) }.map_err(|_| PluginError::MissingEntry { path: path.clone() })?;
    // SAFETY: calling the entry point is the ABI's first step; it returns static data.
    let descriptor = unsafe { entry() };
    if descriptor.is_null() {
        return Err(PluginError::Malformed { path, reason: "radx_plugin_entry returned null".into() });
    }
    // In every ABI version the descriptor starts with a u32 abi_version: read only that
    // before knowing the layout of the rest.
    // SAFETY: non-null, and every ABI version begins with this field.
    let plugin_abi = unsafe { descriptor.cast::<u32>().read() };
    let raw = match plugin_abi {
        // SAFETY: ABI 2's layout (at least minor 0's fields, checked in `raw_v2`); static data.
        RADX_PLUGIN_ABI => raw_v2(unsafe { &*descriptor }, &path)?,
        // SAFETY: an ABI 1 descriptor has ABI 1's layout; static data.
        v1::RADX_PLUGIN_ABI => raw_v1(unsafe { &*descriptor.cast::<v1::RadxPluginDesc>() }, &path)?,
        _ => return Err(PluginError::AbiMismatch { path, plugin_abi, host_abi: RADX_PLUGIN_ABI }),
    };
    let mut plugin = read_descriptor(raw, path)?;
    if plugin_abi == RADX_PLUGIN_ABI {
        let instance = plugin._lifecycle.clone();
        plugin.filters = filter::read_filters(library, &plugin, &instance)?;
    }
    Ok(plugin)
}

/// Validate a descriptor of any ABI version, copy it into safe values and run its `init`.
pub(crate) fn read_descriptor(d: RawDescriptor, path: PathBuf) -> Result<LoadedPlugin, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.clone(), reason };
    // SAFETY (all `descriptor_text` calls): descriptor strings are static (ABI contract).
    let name = unsafe { descriptor_text(d.name, "the plugin name", &path) }?;
    check_name(&name, "plugin name", &path)?;
    let version = unsafe { descriptor_text(d.version, "the plugin version", &path) }?;

    let mut features = Vec::with_capacity(d.features.len());
    for (i, f) in d.features.iter().enumerate() {
        let what = |field: &str| format!("feature #{i}'s {field}");
        let fname = unsafe { descriptor_text(f.name, &what("name"), &path) }?;
        let tag = unsafe { descriptor_text(f.tag, &what("tag"), &path) }?;
        let description = unsafe { descriptor_text(f.description, &what("description"), &path) }?;
        let source =
            if f.source.is_null() { None } else { Some(unsafe { descriptor_text(f.source, &what("source"), &path) }?) };
        check_name(&fname, "feature name", &path)?;
        check_name(&tag, "tag", &path)?;
        let compute = f.compute.ok_or_else(|| malformed(format!("feature `{fname}` has no compute function")))?;
        let margin = Margin::from_mm(f.margin_mm)
            .ok_or_else(|| malformed(format!("feature `{fname}` declares a margin_mm of NaN (0 for none)")))?;
        if features.iter().any(|(g, ..): &(String, _, _, _, _, _, _)| *g == fname) {
            return Err(PluginError::DuplicateName { path, kind: "feature", name: fname });
        }
        let ext = feature_params::read_ext(f.ext, &fname, &path)?;
        features.push((fname, tag, description, source, compute, margin, ext));
    }
    let mut sources = Vec::with_capacity(d.sources.len());
    for (i, s) in d.sources.iter().enumerate() {
        let sname = unsafe { descriptor_text(s.name, &format!("source #{i}'s name"), &path) }?;
        let description = unsafe { descriptor_text(s.description, &format!("source #{i}'s description"), &path) }?;
        check_name(&sname, "source name", &path)?;
        let build = s.build.ok_or_else(|| malformed(format!("source `{sname}` has no build function")))?;
        if s.ndim == 0 || s.ndim > RADX_MAX_MATRIX_DIMS {
            return Err(malformed(format!(
                "source `{sname}` declares {} axes (1 to {RADX_MAX_MATRIX_DIMS} allowed)",
                s.ndim
            )));
        }
        let params = if s.params.is_null() {
            Vec::new()
        } else {
            let text = unsafe { descriptor_text(s.params, &format!("source `{sname}`'s parameters"), &path) }?;
            parse_param_defaults(&text).map_err(|source| PluginError::ParamDefaults {
                path: path.clone(),
                kind: "source",
                name: sname.clone(),
                text: text.clone(),
                source: Box::new(source),
            })?
        };
        let margin = Margin::from_mm(s.margin_mm)
            .ok_or_else(|| malformed(format!("source `{sname}` declares a margin_mm of NaN (0 for none)")))?;
        if sources.iter().any(|(t, ..): &(String, _, _, _, _, _)| *t == sname) {
            return Err(PluginError::DuplicateName { path, kind: "source", name: sname });
        }
        sources.push((sname, description, s.ndim, params, build, margin));
    }

    // Initialise only a plugin that is otherwise valid: a refused one never runs.
    let mut context: *mut c_void = std::ptr::null_mut();
    if let Some(init) = d.init {
        // Valid for the process, as the ABI promises: leaked once per loaded plugin.
        let host: &'static RadxHost = Box::leak(Box::new(RadxHost {
            struct_size: std::mem::size_of::<RadxHost>(),
            abi_major: RADX_PLUGIN_ABI,
            abi_minor: RADX_PLUGIN_ABI_MINOR,
            host_data: (Box::leak(Box::new(name.clone())) as *mut String).cast::<c_void>(),
            log: Some(host_log),
            cancelled: Some(host_cancelled),
        }));
        // SAFETY: the ABI's init call, once, before any other; `context` is a valid place.
        let status = unsafe { init(host, &mut context) };
        if status != RADX_OK {
            let message = plugin_message(d.last_error, &format!("plugin {name}'s init"));
            return Err(PluginError::InitFailed { path, message });
        }
    }
    let instance = Arc::new(Instance { context, last_error: d.last_error, shutdown: d.shutdown });
    let features = features
        .into_iter()
        .map(|(fname, tag, description, source, compute, margin, ext)| PluginFeature {
            plugin: name.clone(),
            name: fname,
            tag,
            description,
            source,
            margin,
            params: ext.params,
            profile: ext.profile,
            compute,
            compute_values: ext.compute_values,
            instance: instance.clone(),
        })
        .collect();
    let sources = sources
        .into_iter()
        .map(|(sname, description, ndim, params, build, margin)| PluginSource {
            plugin: name.clone(),
            name: sname,
            description,
            ndim,
            params,
            margin,
            build,
            instance: instance.clone(),
        })
        .collect();
    Ok(LoadedPlugin {
        name,
        version,
        path,
        abi: d.abi,
        abi_minor: d.abi_minor,
        features,
        sources,
        filters: Vec::new(),
        origin: PluginOrigin::Explicit,
        _lifecycle: instance,
    })
}
