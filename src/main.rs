//! The `radx` command-line front end. Each subcommand lives in `src/cli/`.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            // Feature-file diagnostics arrive already rendered with their own `error:` heading.
            let text = err.to_string();
            if text.starts_with("error") {
                eprintln!("{text}")
            } else {
                eprintln!("error: {text}")
            }
            ExitCode::from(2)
        }
    }
}
