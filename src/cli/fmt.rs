//! `radx fmt [--check] PATH…`: rewrite feature files in the canonical layout
//! (`radx_dsl::fmt`), atomically; a file that does not parse is reported and left alone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Error;
use super::output::{write_atomic, write_stdout};

/// `radx fmt` arguments.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Feature files, or folders of .radx files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Change nothing: list the files that would change, exit code 1 if any.
    #[arg(long)]
    check: bool,
}

/// What formatting one file came to.
enum Outcome {
    Unchanged,
    Changed,
    /// Parse errors, already written to standard error.
    Refused,
}

pub fn run(args: &FmtArgs) -> Result<ExitCode, Error> {
    let mut files = Vec::new();
    for path in &args.paths {
        files.extend(radx_engine::library::feature_files(path)?);
    }
    let mut out = String::new();
    let (mut changed, mut refused) = (0, 0);
    for file in &files {
        match format_file(file, args.check)? {
            Outcome::Unchanged => {}
            Outcome::Changed => {
                changed += 1;
                let verb = if args.check { "would reformat" } else { "reformatted" };
                outln!(out, "{verb} {}", file.display());
            }
            Outcome::Refused => refused += 1,
        }
    }
    write_stdout(&out)?;
    Ok(if refused > 0 {
        ExitCode::from(2)
    } else if args.check && changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn format_file(path: &Path, check: bool) -> Result<Outcome, Error> {
    let shown = path.display().to_string();
    let text = radx_io::read_text_limited(path, radx_io::TEXT_INPUT_LIMIT)
        .map_err(|source| radx_engine::library::LibraryError::Read { path: shown.clone(), source })?;
    let formatted = match radx_dsl::fmt::format_source(&text) {
        Ok(formatted) => formatted,
        Err(items) => {
            eprintln!(
                "{}\nerror: {shown} was left unchanged: it does not parse",
                radx_dsl::Diagnostics::new(&shown, &text, items)
            );
            return Ok(Outcome::Refused);
        }
    };
    if formatted == text {
        return Ok(Outcome::Unchanged);
    }
    if !check {
        write_atomic(path, formatted.as_bytes())?;
    }
    Ok(Outcome::Changed)
}
