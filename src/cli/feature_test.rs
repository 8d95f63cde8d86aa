//! `radx test FILE…`: run the `test` blocks of feature files (the runner is
//! `radx_engine::feature_tests`); exit code 1 when an expectation fails, 2 when a file
//! cannot run (the other files still run).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use radx_engine::feature_tests::{ExpectationResult, FileReport, run_file};

use super::Error;
use super::output::write_stdout;

/// How `radx test` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    /// One line per expectation and a summary.
    Text,
    /// One JSON object per expectation, one a line.
    Json,
}

/// `radx test` arguments.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Feature files (or folders of .radx files) whose test blocks to run.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
}

pub fn run(args: &TestArgs) -> Result<ExitCode, Error> {
    let mut paths = Vec::new();
    for path in &args.files {
        paths.extend(radx_engine::library::feature_files(path)?);
    }
    let (mut passed, mut failed, mut unrunnable) = (0, 0, 0);
    let mut out = String::new();
    for path in &paths {
        // A file that cannot run (a missing image, an unknown feature) is reported and the
        // others still run, as a batch goes on past a bad case.
        let report = match run_file(path) {
            Ok(report) => report,
            Err(e) => {
                unrunnable += 1;
                let _ = writeln!(std::io::stderr(), "error: {e}");
                continue;
            }
        };
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
        if report.tests.is_empty() {
            eprintln!("warning: {}: no test blocks", path.display());
        }
        let (p, f) = report.counts();
        (passed, failed) = (passed + p, failed + f);
        match args.format {
            TestFormat::Text => text(&report, &mut out),
            TestFormat::Json => json(&report, &mut out),
        }
    }
    if args.format == TestFormat::Text {
        let verdict = if failed == 0 && unrunnable == 0 { "ok" } else { "FAILED" };
        let could_not = if unrunnable > 0 { format!("; {unrunnable} file(s) could not run") } else { String::new() };
        outln!(out, "test result: {verdict}. {passed} passed; {failed} failed{could_not}");
    }
    write_stdout(&out)?;
    Ok(match (unrunnable, failed) {
        (0, 0) => ExitCode::SUCCESS,
        (0, _) => ExitCode::from(1),
        _ => ExitCode::from(2),
    })
}

fn text(report: &FileReport, out: &mut String) {
    let file = report.file.display();
    for test in &report.tests {
        outln!(out, "{file}:{}: test \"{}\"", test.line, test.name);
        for r in &test.results {
            let verdict = if r.pass { "ok  " } else { "FAIL" };
            let note = r.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
            outln!(
                out,
                "  {verdict} {}:{} {}: computed {}{note}, expected {} ± {}",
                file,
                r.line,
                r.target,
                r.computed,
                r.expected,
                r.tolerance
            );
        }
    }
}

fn json(report: &FileReport, out: &mut String) {
    for test in &report.tests {
        for r in &test.results {
            outln!(out, "{}", json_line(report, &test.name, r));
        }
    }
}

/// A non-finite computed value is a string (`"NaN"`, `"inf"`, `"-inf"`): JSON has none.
fn json_line(report: &FileReport, test: &str, r: &ExpectationResult) -> serde_json::Value {
    let computed = if r.computed.is_finite() {
        serde_json::json!(r.computed)
    } else if r.computed.is_nan() {
        serde_json::json!("NaN")
    } else {
        serde_json::json!(if r.computed > 0.0 { "inf" } else { "-inf" })
    };
    serde_json::json!({
        "file": report.file.display().to_string(),
        "test": test,
        "line": r.line,
        "target": r.target,
        "family": r.family,
        "feature": r.feature,
        "aggregation": r.aggregation.map(|a| a.name()),
        "computed": computed,
        "expected": r.expected,
        "tolerance": r.tolerance,
        "note": r.note,
        "pass": r.pass,
    })
}
