//! Plugins on the command line: `--plugin PATH` (fatal when it fails), the directories of
//! `RADX_PLUGIN_PATH` (a broken library there is a warning naming the file), and
//! `radx plugins list`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use radx::Error;
use radx::plugins::{PLUGIN_PATH_VAR, PluginRegistry, plugin_dirs, plugin_files_in};
use radx_dsl::ParamValue;

/// Load the explicit `--plugin` files (any failure is an error), then every library in
/// the `RADX_PLUGIN_PATH` directories (failures are warnings on stderr; a file already
/// loaded explicitly is skipped).
pub fn load_registry(explicit: &[PathBuf]) -> Result<PluginRegistry, Error> {
    let mut registry = PluginRegistry::new();
    for path in explicit {
        registry.load(path)?;
    }
    if let Ok(list) = std::env::var(PLUGIN_PATH_VAR) {
        load_env_dirs(&mut registry, &plugin_dirs(&list));
    }
    Ok(registry)
}

fn load_env_dirs(registry: &mut PluginRegistry, dirs: &[PathBuf]) {
    let warn = |e: &dyn std::fmt::Display| eprintln!("warning: {e} (found through {PLUGIN_PATH_VAR}; skipped)");
    for dir in dirs {
        let files = match plugin_files_in(dir) {
            Ok(files) => files,
            Err(e) => {
                warn(&e);
                continue;
            }
        };
        for file in files {
            if already_loaded(registry, &file) {
                continue;
            }
            if let Err(e) = registry.load(&file) {
                warn(&e);
            }
        }
    }
}

fn already_loaded(registry: &PluginRegistry, file: &Path) -> bool {
    std::fs::canonicalize(file).is_ok_and(|c| registry.plugins().iter().any(|p| p.path == c))
}

fn show_param(name: &str, value: &ParamValue) -> String {
    match value {
        ParamValue::Int(i) => format!("{name} = {i}"),
        ParamValue::Float(f) => format!("{name} = {f:?}"),
        ParamValue::Bool(b) => format!("{name} = {b}"),
        ParamValue::Str(s) => format!("{name} = {s:?}"),
    }
}

/// `radx plugins list`: every loaded plugin with its features and sources.
pub fn list(explicit: &[PathBuf]) -> Result<ExitCode, Error> {
    let registry = load_registry(explicit)?;
    let mut out = String::new();
    if registry.plugins().is_empty() {
        outln!(out, "no plugins loaded (give --plugin PATH, or list plugin directories in {PLUGIN_PATH_VAR})");
    }
    for plugin in registry.plugins() {
        outln!(out, "{} {}  (ABI {})  {}", plugin.name, plugin.version, plugin.abi, plugin.path.display());
        for f in &plugin.features {
            let over = f.source.as_deref().map(|s| format!(" (over {s})")).unwrap_or_default();
            outln!(out, "  feature {:<24} {:<12} {}{over}", f.name, f.tag, f.description);
        }
        for s in &plugin.sources {
            let params: Vec<String> = s.params.iter().map(|(n, v)| show_param(n, v)).collect();
            let params = if params.is_empty() { "no parameters".to_string() } else { params.join(", ") };
            outln!(
                out,
                "  source  {:<24} {} ax{}; {params}; {}",
                s.name,
                s.ndim,
                if s.ndim == 1 { "is" } else { "es" },
                s.description
            );
        }
    }
    radx::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
