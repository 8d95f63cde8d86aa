//! The `radx` command-line front end. Each subcommand lives in `src/cli/`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod progress;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // A plugin that crashes radx leaves a line naming itself and the case (docs/plugins.md).
    radx_engine::plugins::install_crash_report();
    if std::env::var_os("RADX_TIMINGS").is_some() {
        radx_engine::timings::install(print_timing);
    }
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

/// `RADX_TIMINGS=1`: each phase of a run on standard error, with the peak memory so far.
fn print_timing(mark: &radx_engine::timings::Mark<'_>) {
    let ms = mark.elapsed.as_secs_f64() * 1e3;
    let what = mark.what;
    let _ = match mark.peak_resident_mib {
        Some(mib) => writeln!(std::io::stderr(), "radx: {ms:8.1} ms {mib:7.1} MiB peak  {what}"),
        None => writeln!(std::io::stderr(), "radx: {ms:8.1} ms  {what}"),
    };
}
