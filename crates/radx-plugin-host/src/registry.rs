//! Plugin directories (`RADX_PLUGIN_PATH`) and the registry of loaded plugins.

use std::path::{Path, PathBuf};

use crate::{
    ColumnClash, LoadedPlugin, Margin, PluginError, PluginFeature, PluginFilter, PluginOrigin, PluginSource,
    PluginTrust, load_plugin_with,
};

/// Whether `path` looks like a plugin library by its extension.
pub(crate) fn is_library(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("so" | "dylib" | "dll"))
}

/// Every plugin library in `dir`, in name order (deterministic loading).
pub fn plugin_files_in(dir: &Path) -> Result<Vec<PathBuf>, PluginError> {
    let entries = std::fs::read_dir(dir).map_err(|source| PluginError::Directory { dir: dir.to_path_buf(), source })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|source| PluginError::Directory { dir: dir.to_path_buf(), source })?.path();
        if path.is_file() && is_library(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The directories of a `:`-separated plugin path (empty entries skipped).
pub fn plugin_dirs(path_list: &str) -> Vec<PathBuf> {
    path_list.split(':').filter(|s| !s.is_empty()).map(PathBuf::from).collect()
}

/// Every plugin loaded so far, with names checked for uniqueness.
#[derive(Debug, Default, Clone)]
pub struct PluginRegistry {
    plugins: Vec<LoadedPlugin>,
    trust: PluginTrust,
}

impl PluginRegistry {
    /// No plugins; libraries other users could have replaced will be refused.
    pub fn new() -> Self {
        PluginRegistry::default()
    }

    /// No plugins; `trust` decides whether libraries other users could have replaced load.
    pub fn with_trust(trust: PluginTrust) -> Self {
        PluginRegistry { plugins: Vec::new(), trust }
    }

    /// Load the library at `path` and add it. Loading the same file again is harmless (the
    /// plugin loaded first is returned); two plugins with one name, a source name twice, or
    /// two features that would be one column `plugin.feature` are errors.
    pub fn load(&mut self, path: &Path) -> Result<&LoadedPlugin, PluginError> {
        self.load_as(path, PluginOrigin::Explicit)
    }

    fn load_as(&mut self, path: &Path, origin: PluginOrigin) -> Result<&LoadedPlugin, PluginError> {
        if let Some(at) = self.file_index(path) {
            return Ok(&self.plugins[at]);
        }
        let mut plugin = load_plugin_with(path, self.trust)?;
        plugin.origin = origin;
        if let Some(first) = self.plugins.iter().find(|p| p.name == plugin.name) {
            return Err(PluginError::DuplicatePlugin {
                path: plugin.path,
                name: plugin.name,
                first: first.path.clone(),
            });
        }
        for source in &plugin.sources {
            if let Some(other) = self.source(&source.name) {
                return Err(PluginError::DuplicateSource {
                    path: plugin.path.clone(),
                    name: source.name.clone(),
                    other: other.plugin.clone(),
                });
            }
        }
        for filter in &plugin.filters {
            if let Some(other) = self.filter(&filter.name) {
                return Err(PluginError::DuplicateFilter {
                    path: plugin.path.clone(),
                    name: filter.name.clone(),
                    other: other.plugin.clone(),
                });
            }
        }
        for feature in &plugin.features {
            let column = feature.qualified_name();
            if let Some(other) = self.features().find(|f| f.qualified_name() == column) {
                let other_path = self.plugin(&other.plugin).map(|p| p.path.clone()).unwrap_or_default();
                return Err(PluginError::ColumnClash(Box::new(ColumnClash {
                    path: plugin.path.clone(),
                    plugin: plugin.name.clone(),
                    feature: feature.name.clone(),
                    column,
                    other_plugin: other.plugin.clone(),
                    other_feature: other.name.clone(),
                    other_path,
                })));
            }
        }
        self.plugins.push(plugin);
        Ok(&self.plugins[self.plugins.len() - 1])
    }

    /// Take the plugin called `name` out of the registry (e.g. a plugin from a plugin
    /// directory that clashes with a built-in name).
    pub fn remove(&mut self, name: &str) -> Option<LoadedPlugin> {
        let at = self.plugins.iter().position(|p| p.name == name)?;
        Some(self.plugins.remove(at))
    }

    /// Load every library in each directory, skipping files loaded already (e.g. named
    /// explicitly too); returns the errors of those that failed (the others stay loaded).
    pub fn load_dirs(&mut self, dirs: &[PathBuf]) -> Vec<PluginError> {
        let mut errors = Vec::new();
        for dir in dirs {
            match plugin_files_in(dir) {
                Ok(files) => {
                    for file in files {
                        if self.has_file(&file) {
                            continue;
                        }
                        if let Err(e) = self.load_as(&file, PluginOrigin::Directory) {
                            errors.push(e);
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        errors
    }

    /// Whether the library at `file` is loaded already.
    fn has_file(&self, file: &Path) -> bool {
        self.file_index(file).is_some()
    }

    /// Which plugin was loaded from `file` (compared as canonical paths).
    fn file_index(&self, file: &Path) -> Option<usize> {
        let canonical = std::fs::canonicalize(file).ok()?;
        self.plugins.iter().position(|p| p.path == canonical)
    }

    /// The loaded plugins, in load order.
    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.plugins
    }

    /// A plugin by name.
    pub fn plugin(&self, name: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// A source by name, across plugins.
    pub fn source(&self, name: &str) -> Option<&PluginSource> {
        self.plugins.iter().flat_map(|p| &p.sources).find(|s| s.name == name)
    }

    /// A filter by name, across plugins.
    pub fn filter(&self, name: &str) -> Option<&PluginFilter> {
        self.filters().find(|f| f.name == name)
    }

    /// Every filter of every plugin, in load order.
    pub fn filters(&self) -> impl Iterator<Item = &PluginFilter> {
        self.plugins.iter().flat_map(|p| &p.filters)
    }

    /// Every feature of every plugin, in load order.
    pub fn features(&self) -> impl Iterator<Item = &PluginFeature> {
        self.plugins.iter().flat_map(|p| &p.features)
    }

    /// The widest margin any loaded feature or source declared: how much of the processed
    /// image around the ROI radx keeps for them ([`Margin::None`] when none asks).
    pub fn margin(&self) -> Margin {
        let sources = self.plugins.iter().flat_map(|p| &p.sources).map(|s| s.margin);
        self.features().map(|f| f.margin).chain(sources).fold(Margin::None, Margin::max)
    }
}
