//! `radx extract`: one case, long-format feature table.

use std::path::PathBuf;
use std::process::ExitCode;

use radx::extract::Extractor;
use radx::output::{RowFormat, render_rows, write_atomic};
use radx::{Error, Settings};

/// Settings file (or defaults) + `--features` paths → an extractor (shared with `features`).
pub fn load(settings: Option<&PathBuf>, features: &[PathBuf]) -> Result<Extractor, Error> {
    let settings = match settings {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    Extractor::new(settings, features)
}

/// What `radx extract` was asked to do.
pub struct ExtractArgs<'a> {
    pub image: &'a PathBuf,
    pub mask: &'a PathBuf,
    pub label: Option<i64>,
    pub settings: Option<&'a PathBuf>,
    pub features: &'a [PathBuf],
    pub format: RowFormat,
    pub output: Option<&'a PathBuf>,
    /// `--exclude-nonfinite` (also settable in the file as `exclude_nonfinite = true`).
    pub exclude_nonfinite: bool,
    /// `--max-memory` in bytes.
    pub max_memory: Option<u64>,
}

pub fn run(args: ExtractArgs<'_>) -> Result<ExitCode, Error> {
    let mut extractor = load(args.settings, args.features)?;
    if let Some(label) = args.label {
        extractor = extractor.with_label(label);
    }
    extractor.settings.exclude_nonfinite |= args.exclude_nonfinite;
    if let Some(bytes) = args.max_memory {
        extractor.settings.max_memory = bytes;
    }
    let rows = extractor.run(args.image, args.mask)?;
    let text = render_rows(&rows, args.format);
    match args.output {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => radx::output::write_stdout(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
