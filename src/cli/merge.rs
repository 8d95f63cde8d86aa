//! `radx merge`: join wide tables (e.g. the outputs of `radx batch --shard`) into one.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Error;
use radx_cohort::batch::{BatchError, merge_tables, read_cases};
use radx_cohort::table::{TableFormat, read_table, write_table};

/// Arguments of `radx merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Tables to join (.csv, .jsonl, .parquet; formats may be mixed).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Merged table, written atomically.
    #[arg(long, short)]
    output: PathBuf,
    /// Output format (default: from the output's extension).
    #[arg(long, value_enum)]
    format: Option<super::TableFormatArg>,
    /// Case list whose id order the rows are sorted into (default: order of first appearance).
    #[arg(long)]
    cases: Option<PathBuf>,
}

pub fn run(args: &MergeArgs) -> Result<ExitCode, Error> {
    let format = TableFormat::resolve(args.format.map(Into::into), &args.output).map_err(BatchError::from)?;
    let order: Option<Vec<String>> = match &args.cases {
        Some(path) => Some(read_cases(path).map_err(BatchError::from)?.into_iter().map(|c| c.id).collect()),
        None => None,
    };
    super::output::check_output(&args.output, &args.inputs.iter().chain(&args.cases).collect::<Vec<_>>())?;
    let mut tables = Vec::with_capacity(args.inputs.len());
    for input in &args.inputs {
        let input_format = TableFormat::from_path(input).map_err(BatchError::from)?;
        tables.push(read_table(input, input_format).map_err(BatchError::from)?);
    }
    let (table, report) = merge_tables(tables, order.as_deref());
    for (id, label, seen) in &report.duplicates {
        let label = label.map(|l| format!(" label {l}")).unwrap_or_default();
        eprintln!("warning: case {id:?}{label} appears {seen} times; keeping the last ok row");
    }
    write_table(&args.output, &table, format).map_err(BatchError::from)?;
    eprintln!(
        "radx merge: {} rows, {} feature columns -> {}",
        table.rows.len(),
        table.columns.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
