//! Plugin filters as the engine's filters: a settings file's `[[filter]] kind = "plugin"`
//! is resolved against the loaded plugins' filters (its parameters checked against the
//! filter's declaration) into a [`radx_filters::Filter`], so that it is cropped, charged
//! in the memory model, applied and its response's features computed like a built-in
//! filter's. Plugin filters named like a built-in filter kind are screened out (an error
//! for a plugin named explicitly, a warning for one found in a plugin directory).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use ndarray::{Array3, ArrayView3, ShapeBuilder};
use radx_dsl::ParamValue;
use radx_filters::{Filter, FilterError, FilterSpec, Margin, PluginParam};
use radx_plugin_host::{LoadedPlugin, PluginError, PluginFilter, PluginRegistry, PluginWarning};

use crate::settings::Settings;

/// Why a `kind = "plugin"` filter of the settings cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginFilterError {
    /// No loaded plugin has a filter of that name.
    #[error(
        "filter {index}: no loaded plugin has a filter `{name}` (plugin filters loaded: {known}); load the plugin \
         that provides it with --plugin PATH or from a folder in RADX_PLUGIN_PATH, or fix the name"
    )]
    Unknown {
        /// 1-based position among the `[[filter]]` tables.
        index: usize,
        /// The name given.
        name: String,
        /// The loaded plugin filters' names, or `none`.
        known: String,
    },
    /// A parameter the filter does not declare.
    #[error("plugin filter `{filter}`: no parameter `{param}`; it declares: {known}")]
    UnknownParam {
        /// The filter's name.
        filter: String,
        /// The parameter given.
        param: String,
        /// The declared parameters with their defaults, or `none`.
        known: String,
    },
    /// A parameter value of another kind than its default's.
    #[error("plugin filter `{filter}`: parameter `{param}` is {kind} (default {default}), not `{given}`")]
    ParamKind {
        /// The filter's name.
        filter: String,
        /// The parameter.
        param: String,
        /// Its kind: a flag, an integer, a real, a string.
        kind: &'static str,
        /// Its default.
        default: String,
        /// The value given.
        given: String,
    },
}

/// Take out plugins with a filter named like a built-in filter kind or the original image
/// (see the module docs).
pub fn screen(plugins: &mut PluginRegistry, warnings: &mut Vec<PluginWarning>) -> Result<(), PluginError> {
    crate::sources::plugin::drop_clashing(plugins, warnings, filter_clash)
}

fn filter_clash(plugin: &LoadedPlugin) -> Option<PluginError> {
    let built_in = |name: &str| FilterSpec::KINDS.contains(&name) || crate::model::ImageType::named(name).is_original();
    plugin.filters.iter().find(|f| built_in(&f.name)).map(|filter| PluginError::Clash {
        path: plugin.path.clone(),
        message: format!(
            "filter `{}` has the name of a built-in filter kind or of the original image; rename it in the plugin",
            filter.name
        ),
    })
}

/// Resolve every `kind = "plugin"` filter of `settings` against `plugins`.
pub fn resolve(settings: &mut Settings, plugins: &PluginRegistry) -> Result<(), PluginFilterError> {
    for (i, f) in settings.filters.iter_mut().enumerate() {
        let (Some((name, params)), Some(image_type)) = (f.spec.plugin(), f.spec.plugin_image_type()) else {
            continue;
        };
        let filter = plugins.filter(name).ok_or_else(|| {
            let known: Vec<String> = plugins.filters().map(|f| f.name.clone()).collect();
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            PluginFilterError::Unknown { index: i + 1, name: name.to_string(), known }
        })?;
        let params_json = radx_plugin_host::params_to_json(&parameters(filter, params)?);
        let adapter = PluginFilterAdapter { filter: filter.clone(), params_json, image_type };
        f.spec = f.spec.clone().resolve_plugin(Arc::new(adapter));
    }
    Ok(())
}

/// The filter's declared parameters, with the settings' values where given.
fn parameters(
    filter: &PluginFilter,
    given: &BTreeMap<String, PluginParam>,
) -> Result<Vec<(String, ParamValue)>, PluginFilterError> {
    let mut params = filter.params.clone();
    for (param, value) in given {
        let Some((_, slot)) = params.iter_mut().find(|(n, _)| n == param) else {
            let known: Vec<String> = filter.params.iter().map(|(n, v)| format!("{n} = {v}")).collect();
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            return Err(PluginFilterError::UnknownParam { filter: filter.name.clone(), param: param.clone(), known });
        };
        *slot = match (&*slot, value) {
            (ParamValue::Bool(_), PluginParam::Flag(b)) => ParamValue::Bool(*b),
            (ParamValue::Int(_), PluginParam::Int(i)) => ParamValue::Int(*i),
            (ParamValue::Float(_), PluginParam::Real(x)) => ParamValue::Float(*x),
            (ParamValue::Float(_), PluginParam::Int(i)) => ParamValue::Float(*i as f64),
            (ParamValue::Str(_), PluginParam::Text(t)) => ParamValue::Str(t.clone()),
            (default, given) => {
                return Err(PluginFilterError::ParamKind {
                    filter: filter.name.clone(),
                    param: param.clone(),
                    kind: kind_of(default),
                    default: default.to_string(),
                    given: given.to_string(),
                });
            }
        };
    }
    Ok(params)
}

fn kind_of(value: &ParamValue) -> &'static str {
    match value {
        ParamValue::Bool(_) => "a flag",
        ParamValue::Int(_) => "an integer",
        ParamValue::Float(_) => "a real",
        ParamValue::Str(_) => "a string",
    }
}

/// A plugin's filter with the settings' parameters, as a [`Filter`].
struct PluginFilterAdapter {
    filter: PluginFilter,
    params_json: String,
    image_type: String,
}

impl Filter for PluginFilterAdapter {
    fn image_type(&self) -> String {
        self.image_type.clone()
    }

    fn margin(&self, spacing: [f64; 3]) -> Margin {
        let voxels = self.filter.margin_voxels;
        match self.filter.margin_mm {
            radx_plugin_host::Margin::None => Margin::Voxels(voxels),
            radx_plugin_host::Margin::WholeImage => Margin::WholeImage,
            // Capped as the chain's margins are: an absurd spacing must not overflow.
            radx_plugin_host::Margin::Mm(mm) => {
                Margin::Voxels(std::array::from_fn(|a| voxels[a].max((mm / spacing[a]).ceil().min(1e6) as usize)))
            }
        }
    }

    fn apply(&self, image: ArrayView3<'_, f64>, spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        let (nx, ny, nz) = image.dim();
        // The plugin reads x-fastest: a Fortran-order view is that already.
        let transposed = image.t();
        let data: Cow<'_, [f64]> = match transposed.to_slice() {
            Some(slice) => Cow::Borrowed(slice),
            None => Cow::Owned(transposed.iter().copied().collect()),
        };
        let failed = |message: String| FilterError::PluginFailed {
            plugin: self.filter.plugin.clone(),
            filter: self.filter.name.clone(),
            message,
        };
        let out =
            self.filter.apply(&data, [nx, ny, nz], spacing, &self.params_json).map_err(|e| failed(e.to_string()))?;
        Array3::from_shape_vec((nx, ny, nz).f(), out).map_err(|e| failed(e.to_string()))
    }

    /// The response, the image's x-fastest copy (none for a Fortran-order image; counted
    /// anyway) and the buffers the plugin declares.
    fn working_bytes(&self, dims: [usize; 3], _spacing: [f64; 3]) -> u64 {
        let volumes = 2u64.saturating_add(self.filter.working_volumes as u64);
        radx_filters::volume_bytes(dims).saturating_mul(volumes)
    }
}
