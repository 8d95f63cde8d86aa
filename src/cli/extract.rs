//! `radx extract`: one case, long-format feature table.

use std::path::PathBuf;
use std::process::ExitCode;

use radx::extract::Extractor;
use radx::output::{RowFormat, render_rows, write_atomic};
use radx::{Error, Settings};

/// Settings file (or defaults) + `--features` paths + `--plugin` libraries (each must load)
/// and those of `RADX_PLUGIN_PATH` → an extractor (shared with `features`).
pub fn load_with_plugins(
    settings: Option<&PathBuf>,
    features: &[PathBuf],
    plugins: &[PathBuf],
) -> Result<Extractor, Error> {
    let settings = match settings {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    let plugins = super::plugins::load_registry(plugins)?;
    Extractor::new_with_plugins(settings, features, plugins)
}

/// What `radx extract` was asked to do.
pub struct ExtractArgs<'a> {
    pub image: &'a PathBuf,
    pub mask: &'a PathBuf,
    pub label: Option<i64>,
    pub settings: Option<&'a PathBuf>,
    pub features: &'a [PathBuf],
    pub plugins: &'a [PathBuf],
    pub format: RowFormat,
    pub output: Option<&'a PathBuf>,
    pub diagnostics: bool,
}

pub fn run(args: ExtractArgs<'_>) -> Result<ExitCode, Error> {
    let mut extractor = load_with_plugins(args.settings, args.features, args.plugins)?;
    if let Some(label) = args.label {
        extractor = extractor.with_label(label);
    }
    let rows = if args.diagnostics {
        extractor.run_with_diagnostics(args.image, args.mask)?
    } else {
        extractor.run(args.image, args.mask)?
    };
    let text = render_rows(&rows, args.format);
    match args.output {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
