//! Plugin features' parameters in a run: the settings' `[[plugin_feature]]` tables bound to
//! the loaded features and checked when the extractor is built (before any image is read),
//! and the list of every loaded feature's calls the rows come from.

use radx_plugin_host::{FeatureArgError, FeatureCall, PluginRegistry};

use crate::settings::PluginFeatureSettings;

/// A `[[plugin_feature]]` table refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginFeatureError {
    /// No loaded plugin has the feature the table names.
    #[error(
        "settings: [[plugin_feature]] `{feature}`: no loaded plugin has this feature ({known}); name it \
         `plugin.feature` as `radx plugins list` shows it, and load its plugin (--plugin or RADX_PLUGIN_PATH)"
    )]
    UnknownFeature {
        /// What the table names.
        feature: String,
        /// The loaded features, as a sentence part.
        known: String,
    },
    /// A parameter value is refused.
    #[error("settings: [[plugin_feature]]: {source}")]
    Args {
        /// What the table names.
        feature: String,
        /// Why (boxed: it is large).
        source: Box<FeatureArgError>,
    },
    /// Two tables would give the same rows.
    #[error("settings: [[plugin_feature]] `{feature}` with the same parameter values twice (rows `{row}`)")]
    Twice {
        /// What the tables name.
        feature: String,
        /// The rows' name.
        row: String,
    },
}

/// Every call of every loaded plugin feature, in load order: a feature the tables name,
/// once per table (in their order); any other, once with its defaults.
pub fn calls(
    tables: &[PluginFeatureSettings],
    plugins: &PluginRegistry,
) -> Result<Vec<FeatureCall>, PluginFeatureError> {
    if let Some(t) = tables.iter().find(|t| !plugins.features().any(|f| f.qualified_name() == t.feature)) {
        let names: Vec<String> = plugins.features().map(|f| f.qualified_name()).collect();
        let known =
            if names.is_empty() { "none is loaded".to_string() } else { format!("loaded: {}", names.join(", ")) };
        return Err(PluginFeatureError::UnknownFeature { feature: t.feature.clone(), known });
    }
    let mut calls: Vec<FeatureCall> = Vec::new();
    for feature in plugins.features() {
        let name = feature.qualified_name();
        let mut mine = tables.iter().filter(|t| t.feature == name).peekable();
        if mine.peek().is_none() {
            calls.push(feature.default_call());
        }
        for table in mine {
            let call = feature
                .bind(&table.params)
                .map_err(|source| PluginFeatureError::Args { feature: name.clone(), source: Box::new(source) })?;
            if calls.iter().any(|c| c.plugin == call.plugin && c.row_name == call.row_name) {
                return Err(PluginFeatureError::Twice { feature: name, row: call.row_name });
            }
            calls.push(call);
        }
    }
    Ok(calls)
}
