//! Filter plugins (ABI 2.2): reading a plugin's optional `radx_plugin_filters` table into
//! [`PluginFilter`]s and calling them on host-owned images.
//!
//! The table sits behind its own symbol, so a plugin of an older minor version (which
//! exports none) loads as before, and a plugin with filters only still exports its
//! `radx_plugin_entry` descriptor for its name, `last_error` and lifecycle.

use std::ffi::{CString, c_char};
use std::path::Path;
use std::sync::Arc;

use radx_dsl::ParamValue;
use radx_plugin::{
    RADX_FILTERS_SYMBOL, RADX_OK, RADX_PLUGIN_ABI, RadxFilterDesc, RadxFilterFn, RadxFilterInput, RadxFilterTable,
    RadxFiltersFn, RadxImageView,
};

use crate::plugin::Instance;
use crate::{LoadedPlugin, Margin, PluginCallError, PluginError};

/// The boundary conditions a filter may declare (IBSI-2's names, as settings write them).
pub const FILTER_BOUNDARIES: [&str; 4] = ["zero", "nearest", "periodic", "mirror"];

/// One image filter of a loaded plugin; cheap to clone, callable from any thread.
#[derive(Debug, Clone)]
pub struct PluginFilter {
    /// Name of the plugin that provides it.
    pub plugin: String,
    /// The filter's name: what settings select, and the image type of its rows.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Voxels along x, y, z the response at a voxel reads around it.
    pub margin_voxels: [usize; 3],
    /// Also this far in mm, or the whole image ([`Margin::WholeImage`], also for a
    /// `periodic` boundary).
    pub margin_mm: Margin,
    /// The declared boundary condition, one of [`FILTER_BOUNDARIES`].
    pub boundary: String,
    /// Its parameters with their defaults, sorted by name (the kind of each is its default's).
    pub params: Vec<(String, ParamValue)>,
    /// Image-sized `f64` buffers it allocates at its peak beyond its input and output.
    pub working_volumes: usize,
    apply: RadxFilterFn,
    instance: Arc<Instance>,
}

impl PluginFilter {
    /// `plugin.filter`, for messages.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.plugin, self.name)
    }

    /// The response of the x-fastest `image` of `dims` voxels of `spacing` mm, x-fastest;
    /// `params_json` is the JSON object of every parameter. `Err` carries the plugin's
    /// message (a caught panic reads "the plugin panicked: …").
    pub fn apply(
        &self,
        image: &[f64],
        dims: [usize; 3],
        spacing: [f64; 3],
        params_json: &str,
    ) -> Result<Vec<f64>, PluginCallError> {
        let len = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if len != Some(image.len()) {
            return Err(PluginCallError::Input(format!("an image of {} voxels for dims {dims:?}", image.len())));
        }
        let params = CString::new(params_json).map_err(|_| PluginCallError::NulInParameters)?;
        let input = RadxFilterInput {
            struct_size: std::mem::size_of::<RadxFilterInput>(),
            image: RadxImageView { data: image.as_ptr(), dims, spacing },
            params_json: params.as_ptr(),
        };
        let mut out = vec![0.0; image.len()];
        let _in_flight = crate::in_flight::InFlight::enter("filter", &self.plugin, &self.name, None, 0);
        // SAFETY: `input` points into `image` and `params`, and `out` holds `out.len()`
        // voxels, all alive for the call; the function comes from a library that is never
        // unloaded; the context is the one the plugin's init stored.
        let status = unsafe { (self.apply)(self.instance.context, &input, out.as_mut_ptr(), out.len()) };
        if status == RADX_OK {
            Ok(out)
        } else {
            let what = format!("filter {}", self.qualified_name());
            Err(PluginCallError::Plugin(crate::call::plugin_message(self.instance.last_error, &what)))
        }
    }
}

/// The filters `library` exports, if any (plugins of ABI 2.2 on; none before).
pub(crate) fn read_filters(
    library: &'static libloading::Library,
    plugin: &LoadedPlugin,
    instance: &Arc<Instance>,
) -> Result<Vec<PluginFilter>, PluginError> {
    let symbol = format!("{RADX_FILTERS_SYMBOL}\0");
    // SAFETY: the symbol's type is the ABI's filters entry type.
    let Ok(entry) = (unsafe { library.get::<RadxFiltersFn>(symbol.as_bytes()) }) else {
        return Ok(Vec::new());
    };
    let path = plugin.path.as_path();
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    // SAFETY: the entry returns a pointer to static data, or null.
    let table = unsafe { entry() };
    if table.is_null() {
        return Err(malformed(format!("{RADX_FILTERS_SYMBOL} returned null")));
    }
    // SAFETY: non-null and static; every version starts with these fields.
    let table: &'static RadxFilterTable = unsafe { &*table };
    if table.abi_version != RADX_PLUGIN_ABI || table.struct_size < std::mem::size_of::<RadxFilterTable>() {
        return Err(malformed(format!(
            "the filter table says ABI {}.{} in {} bytes; rebuild it against this radx's radx_plugin.h",
            table.abi_version, table.abi_minor, table.struct_size
        )));
    }
    // SAFETY: a static table of `n_filters` entries `filter_size` bytes apart.
    let entries = unsafe { crate::c_read::table(table.filters, table.n_filters, table.filter_size, "filters", path) }?;
    let mut filters: Vec<PluginFilter> = Vec::with_capacity(entries.len());
    for (i, desc) in entries.into_iter().enumerate() {
        let filter = read_filter(desc, i, plugin, instance)?;
        if filters.iter().any(|f| f.name == filter.name) {
            return Err(PluginError::DuplicateName { path: path.to_path_buf(), kind: "filter", name: filter.name });
        }
        filters.push(filter);
    }
    Ok(filters)
}

/// One entry of a filter table, validated.
fn read_filter(
    d: &'static RadxFilterDesc,
    i: usize,
    plugin: &LoadedPlugin,
    instance: &Arc<Instance>,
) -> Result<PluginFilter, PluginError> {
    let path = plugin.path.as_path();
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    let text = |p: *const c_char, field: &str| {
        // SAFETY: descriptor strings are static (the ABI contract).
        unsafe { crate::c_read::descriptor_text(p, &format!("filter #{i}'s {field}"), path) }
    };
    let name = text(d.name, "name")?;
    crate::check_name(&name, "filter name", path)?;
    let description = text(d.description, "description")?;
    let boundary = text(d.boundary, "boundary")?;
    if !FILTER_BOUNDARIES.contains(&boundary.as_str()) {
        let known = FILTER_BOUNDARIES.join(", ");
        return Err(malformed(format!("filter `{name}` declares the boundary `{boundary}`, not one of {known}")));
    }
    let apply = d.apply.ok_or_else(|| malformed(format!("filter `{name}` has no apply function")))?;
    let margin_mm = Margin::from_mm(d.margin_mm)
        .ok_or_else(|| malformed(format!("filter `{name}` declares a margin_mm of NaN (0 for none)")))?;
    // A periodic extension reads the far side of the image: only the whole image is right.
    let margin_mm = if boundary == "periodic" { Margin::WholeImage } else { margin_mm };
    let params = read_params(d.params, &name, path)?;
    Ok(PluginFilter {
        plugin: plugin.name.clone(),
        name,
        description,
        margin_voxels: d.margin_voxels,
        margin_mm,
        boundary,
        params,
        working_volumes: d.working_volumes,
        apply,
        instance: instance.clone(),
    })
}

/// A filter's parameter declaration (a JSON object of defaults, or null).
fn read_params(p: *const c_char, name: &str, path: &Path) -> Result<Vec<(String, ParamValue)>, PluginError> {
    if p.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: descriptor strings are static (the ABI contract).
    let text = unsafe { crate::c_read::descriptor_text(p, &format!("filter `{name}`'s parameters"), path) }?;
    crate::parse_param_defaults(&text).map_err(|source| PluginError::ParamDefaults {
        path: path.to_path_buf(),
        kind: "filter",
        name: name.to_string(),
        text: text.clone(),
        source: Box::new(source),
    })
}
