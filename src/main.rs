//! The `radx` command-line front end. Each subcommand lives in `src/cli/`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod progress;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            // Feature-file diagnostics arrive already rendered with their own `error:` heading.
            let text = err.to_string();
            let prefix = if text.starts_with("error") { "" } else { "error: " };
            // Not eprintln!: it panics when standard error is a closed pipe.
            let _ = writeln!(std::io::stderr(), "{prefix}{text}");
            ExitCode::from(2)
        }
    }
}
