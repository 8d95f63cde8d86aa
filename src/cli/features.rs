//! `radx features list|show|explain` and `radx check`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Error;
use radx_engine::library::Library;
use radx_engine::sources::registry;

use super::extract::load_with_plugins;

pub fn list(features: &[PathBuf], plugins: &[PathBuf]) -> Result<ExitCode, Error> {
    let extractor = load_with_plugins(None, features, plugins)?;
    let mut out = String::new();
    outln!(out, "{:<28} {:<42} {:<10} source", "family", "feature", "tag");
    for f in &extractor.library {
        for feature in f.family.features() {
            outln!(out, "{:<28} {:<42} {:<10} {}", f.family.name(), feature.name, feature.tag, f.origin);
        }
    }
    for plugin in extractor.plugins.plugins() {
        let origin = radx_engine::sources::plugin::origin(&plugin.name, &plugin.path);
        for feature in &plugin.features {
            outln!(out, "{:<28} {:<42} {:<10} {origin}", plugin.name, feature.name, feature.tag);
        }
    }
    super::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn show(name: &str, features: &[PathBuf], plugins: &[PathBuf]) -> Result<ExitCode, Error> {
    let extractor = load_with_plugins(None, features, plugins)?;
    let library = &extractor.library;
    let mut out = String::new();
    let mut found = false;
    for f in library {
        for feature in f.family.features() {
            let qualified = format!("{}.{}", f.family.name(), feature.name);
            if feature.name == name || feature.tag.eq_ignore_ascii_case(name) || qualified == name {
                found = true;
                // `for …` when the family runs only for some aggregations.
                let runs_for = f.runs_for.as_ref().map(|aggregations| {
                    let names: Vec<&str> = aggregations.iter().map(|a| a.name()).collect();
                    format!(" for {}", names.join(", "))
                });
                outln!(
                    out,
                    "{qualified} [{}]  ({} over {}{})",
                    feature.tag,
                    f.origin,
                    f.family.source().name,
                    runs_for.unwrap_or_default()
                );
                if let Some(doc) = &feature.doc {
                    outln!(out, "  {}", doc.trim());
                }
                // The definition without its `##` lines: the doc is printed above.
                let definition: Vec<&str> =
                    feature.text.lines().map(str::trim).filter(|l| !l.starts_with("##") && !l.is_empty()).collect();
                outln!(out, "  {}", definition.join("\n  "));
                outln!(out);
            }
        }
    }
    for plugin in extractor.plugins.plugins() {
        for feature in &plugin.features {
            let qualified = feature.qualified_name();
            if feature.name == name || feature.tag.eq_ignore_ascii_case(name) || qualified == name {
                found = true;
                let origin = radx_engine::sources::plugin::origin(&plugin.name, &plugin.path);
                let over = feature.source.as_deref().map(|s| format!(" over {s}")).unwrap_or_default();
                outln!(out, "{qualified} [{}]  ({origin}{over})", feature.tag);
                outln!(out, "  {}", feature.description);
                outln!(out);
            }
        }
    }
    if found {
        super::output::write_stdout(&out)?;
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::usage(format!("no feature named or tagged `{name}` (see `radx features list`)")))
    }
}

pub fn explain(family: &str, features: &[PathBuf], plugins: &[PathBuf]) -> Result<ExitCode, Error> {
    let extractor = load_with_plugins(None, features, plugins)?;
    let Some(f) = extractor.library.iter().find(|f| f.family.name() == family) else {
        let names: Vec<&str> = extractor.library.iter().map(|f| f.family.name()).collect();
        return Err(Error::usage(format!(
            "no feature family named `{family}`; the families are: {}",
            names.join(", ")
        )));
    };
    let mut out = String::new();
    let n = f.family.features().count();
    outln!(
        out,
        "family {family} over {} ({}): {n} features, {} passes",
        f.family.source().name,
        f.origin,
        f.family.pass_count()
    );
    out.push_str(&f.family.explain());
    super::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// How `radx check` reports diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

pub fn check(
    files: &[PathBuf],
    plugins: &[PathBuf],
    settings: Option<&Path>,
    eval_budget: Option<u64>,
    format: CheckFormat,
) -> Result<ExitCode, Error> {
    let loaded = super::plugins::load_registry(plugins)?;
    if let Some(path) = settings {
        let n = check_plugin_features(path, &loaded)?;
        if files.is_empty() {
            super::output::write_stdout(&format!("ok: {} plugin feature call(s)\n", n))?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let library = Library::for_checking(files)?;
    let mut registry = registry(&radx_engine::Settings::default());
    radx_engine::sources::plugin::register_sources(&mut registry, &loaded)?;
    let limits = radx_dsl::Limits { eval_budget: eval_budget.unwrap_or(radx_dsl::DEFAULT_EVAL_BUDGET) };
    if format == CheckFormat::Json {
        return check_json(&library, &registry, limits);
    }
    let compiled = library.compile_linked(&registry, limits)?;
    for file in &compiled.warnings {
        eprintln!("{file}");
    }
    let builtin: Vec<String> = (0..).map_while(|k| library.is_builtin(k).then(|| library.name(k))).collect();
    let checked: Vec<_> = compiled.families.iter().filter(|f| !builtin.contains(&f.origin)).collect();
    let n: usize = checked.iter().map(|f| f.family.features().count()).sum();
    let mut out = String::new();
    outln!(out, "ok: {} famil{}, {n} feature(s)", checked.len(), if checked.len() == 1 { "y" } else { "ies" });
    super::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The settings file's `[[plugin_feature]]` tables bound to the loaded plugins' features
/// (unknown features or parameters, values of another kind or out of range are errors
/// naming the file); the number of calls a run would make.
pub fn check_plugin_features(path: &Path, plugins: &radx_engine::plugins::PluginRegistry) -> Result<usize, Error> {
    let settings = radx_engine::Settings::from_file(path)?;
    let calls = radx_engine::sources::plugin_params::calls(&settings.plugin_features, plugins)
        .map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    Ok(calls.len())
}

/// `radx check --format json`: every diagnostic of every file, one JSON object a line;
/// exit status 2 when there is an error (as the text format's), 0 when there are none (warnings alone, or nothing).
fn check_json(library: &Library, registry: &radx_dsl::Registry, limits: radx_dsl::Limits) -> Result<ExitCode, Error> {
    let mut out = String::new();
    let mut count = 0;
    for file in library.diagnostics(registry, limits) {
        for d in &file.items {
            let (line, column) = file.line_col(d.span.start);
            let (end_line, end_column) = file.line_col(d.span.end);
            let record = serde_json::json!({
                "file": file.file_name,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "severity": d.severity.name(),
                "message": d.kind.to_string(),
                "label": d.label,
                "hint": d.help,
            });
            outln!(out, "{record}");
            // Warnings alone leave the exit status 0.
            count += usize::from(d.severity == radx_dsl::Severity::Error);
        }
    }
    super::output::write_stdout(&out)?;
    Ok(if count == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
