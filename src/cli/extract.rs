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

/// Feature library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LibraryChoice {
    /// The IBSI library (default for radx settings files).
    Ibsi,
    /// The PyRadiomics library (default for PyRadiomics parameter files).
    Pyradiomics,
}

/// Output naming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Names {
    /// radx's / the IBSI's feature names.
    Radx,
    /// PyRadiomics' `original_<class>_<Feature>` names (PyRadiomics library only).
    Pyradiomics,
}

/// PyRadiomics-compatibility options of `radx extract`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompatArgs {
    /// Feature library; default: PyRadiomics' for a PyRadiomics parameter file, else the IBSI's.
    #[arg(long, value_enum)]
    library: Option<LibraryChoice>,
    /// Output feature names.
    #[arg(long, value_enum, default_value = "radx")]
    names: Names,
    /// Refuse (instead of warning about) PyRadiomics settings radx does not support.
    #[arg(long)]
    strict: bool,
}

/// Settings (either schema) and library choice → an extractor.
pub(super) fn load_compat(
    settings: Option<&PathBuf>,
    features: &[PathBuf],
    plugins: &[PathBuf],
    compat: &CompatArgs,
) -> Result<Extractor, Error> {
    let mut settings = match settings {
        Some(path) => radx::pyradiomics::load_settings(path, compat.strict)?,
        None => Settings::default(),
    };
    match compat.library {
        Some(LibraryChoice::Pyradiomics) if settings.pyradiomics.is_none() => {
            settings.pyradiomics = Some(Default::default());
        }
        Some(LibraryChoice::Ibsi) => settings.pyradiomics = None,
        _ => {}
    }
    let extractor = Extractor::new_with_plugins(settings, features, super::plugins::load_registry(plugins)?)?;
    match compat.names {
        Names::Pyradiomics => extractor.with_pyradiomics_names(),
        Names::Radx => Ok(extractor),
    }
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
    pub compat: CompatArgs,
    /// `--exclude-nonfinite` (also settable in the file as `exclude_nonfinite = true`).
    pub exclude_nonfinite: bool,
    /// `--max-memory` in bytes.
    pub max_memory: Option<u64>,
}

pub fn run(args: ExtractArgs<'_>) -> Result<ExitCode, Error> {
    let mut extractor = load_compat(args.settings, args.features, args.plugins, &args.compat)?;
    if let Some(label) = args.label {
        extractor = extractor.with_label(label);
    }
    extractor.settings.exclude_nonfinite |= args.exclude_nonfinite;
    if let Some(bytes) = args.max_memory {
        extractor.settings.max_memory = bytes;
    }
    let rows = if args.diagnostics {
        extractor.run_with_diagnostics(args.image, args.mask)?
    } else {
        extractor.run(args.image, args.mask)?
    };
    let text = render_rows(&rows, args.format);
    match args.output {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => radx::output::write_stdout(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
