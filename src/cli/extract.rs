//! `radx extract`: one case, long-format feature table.

use std::path::PathBuf;
use std::process::ExitCode;

use radx::extract::extract;
use radx::library::{Library, registry};
use radx::output::{RowFormat, render_rows, write_atomic};
use radx::pipeline::process_files;
use radx::{Error, Settings};

/// Settings file + `--features` paths → a compiled library (shared with `features`).
pub fn load(
    settings: Option<&PathBuf>,
    features: &[PathBuf],
) -> Result<(Settings, Vec<radx::library::LibraryFamily>), Error> {
    let settings = match settings {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    let mut library = Library::standard();
    for path in features {
        library.add_path(path)?;
    }
    let compiled = library.compile(&registry(&settings))?;
    Ok((settings, compiled))
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    image: &PathBuf,
    mask: &PathBuf,
    label: Option<i64>,
    settings: Option<&PathBuf>,
    features: &[PathBuf],
    format: RowFormat,
    output: Option<&PathBuf>,
) -> Result<ExitCode, Error> {
    let (mut settings, library) = load(settings, features)?;
    if let Some(label) = label {
        settings.label = label;
    }
    let case = process_files(image, mask, &settings)?;
    let rows = extract(&case, &settings, &library);
    let text = render_rows(&rows, format);
    match output {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
