//! Plugins on the command line: `--plugin PATH` (fatal when it fails), the directories of
//! `RADX_PLUGIN_PATH` (a broken library there is a warning naming the file), and
//! `radx plugins list`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Error;
use radx_dsl::ParamValue;
use radx_engine::Extractor;
use radx_engine::plugins::{PLUGIN_PATH_VAR, PluginError, PluginRegistry, PluginTrust, PluginWarning, plugin_dirs};

/// The environment variable that, set to `1`, loads plugins other users could have replaced.
pub const ALLOW_UNTRUSTED_VAR: &str = "RADX_ALLOW_UNTRUSTED_PLUGINS";

/// `--allow-untrusted-plugins`, a global option: every command that loads plugins obeys it.
static ALLOW_UNTRUSTED: AtomicBool = AtomicBool::new(false);

/// Record `--allow-untrusted-plugins` for every later [`load_registry`].
pub fn set_trust(allow_untrusted: bool) {
    ALLOW_UNTRUSTED.store(allow_untrusted, Ordering::Relaxed);
}

/// Which plugin libraries to open: `--allow-untrusted-plugins` or
/// `RADX_ALLOW_UNTRUSTED_PLUGINS=1` load those others could have replaced.
fn trust() -> PluginTrust {
    let by_env = std::env::var(ALLOW_UNTRUSTED_VAR).is_ok_and(|v| v == "1");
    if ALLOW_UNTRUSTED.load(Ordering::Relaxed) || by_env {
        PluginTrust::AllowWritable
    } else {
        PluginTrust::OwnerWritableOnly
    }
}

/// Load the explicit `--plugin` files (any failure is an error), then every library in
/// the `RADX_PLUGIN_PATH` directories (failures are warnings on stderr; a file already
/// loaded explicitly is skipped).
pub fn load_registry(explicit: &[PathBuf]) -> Result<PluginRegistry, PluginError> {
    let mut registry = PluginRegistry::with_trust(trust());
    for path in explicit {
        registry.load(path)?;
    }
    if let Ok(list) = std::env::var(PLUGIN_PATH_VAR) {
        for e in registry.load_dirs(&plugin_dirs(&list)) {
            eprintln!("warning: {}", PluginWarning::Skipped(e));
        }
    }
    Ok(registry)
}

/// Print every plugin's log messages on stderr as they come, naming the plugin.
pub fn print_plugin_logs() {
    radx_engine::plugins::set_plugin_log_sink(|log| {
        use radx_engine::plugins::LogLevel;
        let level = match log.level {
            LogLevel::Error => "error",
            LogLevel::Warn => "warning",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        };
        eprintln!("{level}: plugin {}: {}", log.plugin, log.message);
    });
}

/// Print what the extractor found to say about its plugins (skipped clashes from
/// `RADX_PLUGIN_PATH`, reused tags) and its feature files (reused tags) as warnings on stderr.
pub fn report(extractor: &Extractor) {
    for warning in &extractor.plugin_warnings {
        eprintln!("warning: {warning}");
    }
    for file in &extractor.library_warnings {
        eprintln!("{file}");
    }
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
            let profile = if f.profile { " (profile: rows name[0], name[1], …)" } else { "" };
            outln!(out, "  feature {:<24} {:<12} {}{over}{profile}", f.name, f.tag, f.description);
            for p in &f.params {
                outln!(out, "    param {:<22} {} = {} ({})", p.name, p.kind.name(), p.show(p.default), p.range());
            }
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
        for f in &plugin.filters {
            let params: Vec<String> = f.params.iter().map(|(n, v)| show_param(n, v)).collect();
            let params = if params.is_empty() { "no parameters".to_string() } else { params.join(", ") };
            let [x, y, z] = f.margin_voxels;
            outln!(
                out,
                "  filter  {:<24} {} boundary, margin {x}x{y}x{z} voxels{}; {params}; {}",
                f.name,
                f.boundary,
                match f.margin_mm {
                    radx_engine::plugins::Margin::None => String::new(),
                    radx_engine::plugins::Margin::Mm(mm) => format!(" or {mm} mm"),
                    radx_engine::plugins::Margin::WholeImage => " (the whole image)".to_string(),
                },
                f.description
            );
        }
    }
    super::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
