//! `radx batch`: a case list in, one wide table out (see `radx_engine::batch`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::Error;
use radx_cohort::batch::{BatchOptions, LabelChoice, Shard, read_cases, run_batch};
use radx_cohort::table::TableFormat;

/// Arguments of `radx batch`.
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// Case list: CSV with columns image and mask, optionally id, label, roi, segment and series
    /// (radx's id,image,mask[,label] or PyRadiomics' Image,Mask[,Label]; paths relative to its
    /// folder). Images may be DICOM folders or files, masks RTSTRUCT (roi column) or SEG
    /// (segment column) files.
    cases: PathBuf,
    #[command(flatten)]
    extractor: super::extract::ExtractorArgs,
    /// Worker threads (default: RAYON_NUM_THREADS, else every core).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Output table (.csv, .jsonl or .parquet), written atomically; with --names pyradiomics a .csv
    /// has PyRadiomics' batch layout (case-list columns, diagnostics_*, features).
    #[arg(long, short)]
    output: PathBuf,
    /// Output format (default: from the output's extension).
    #[arg(long, value_enum)]
    format: Option<super::TableFormatArg>,
    /// Keep the ok rows of OUT and of its journal OUT.partial.jsonl; run only the other cases.
    /// The journal must come from a run with the same settings, feature files, plugins,
    /// --names and radx version (its header records their fingerprint).
    #[arg(long)]
    resume: bool,
    /// Process only the K-th of N contiguous slices of the case list, e.g. 3/10.
    #[arg(long)]
    shard: Option<String>,
    /// ROI label (default: the settings' label, 1); a case's label column overrides it.
    #[arg(long, conflicts_with = "all_labels")]
    label: Option<i64>,
    /// One row per non-zero label present in each mask.
    #[arg(long)]
    all_labels: bool,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: &BatchArgs) -> Result<ExitCode, Error> {
    if args.jobs == Some(0) {
        return Err(Error::usage("--jobs must be at least 1"));
    }
    let format = TableFormat::resolve(args.format.map(Into::into), &args.output)
        .map_err(radx_cohort::batch::BatchError::from)?;
    let shard = args.shard.as_deref().map(str::parse::<Shard>).transpose()?;
    let extractor = args.extractor.build()?;
    let cases = read_cases(&args.cases).map_err(radx_cohort::batch::BatchError::from)?;
    let mut inputs = args.extractor.inputs();
    inputs.push(args.cases.clone());
    inputs.extend(cases.iter().flat_map(|c| [c.image.clone(), c.mask.clone()]));
    super::output::check_output(&args.output, &inputs)?;
    let options = BatchOptions {
        output: args.output.clone(),
        format,
        jobs: args.jobs.map(super::threads::jobs),
        resume: args.resume,
        shard,
        labels: if args.all_labels { LabelChoice::All } else { LabelChoice::One(args.label) },
        files: args.extractor.run_files(),
    };
    let progress = crate::progress::BatchProgress::new(!args.quiet);
    let summary = run_batch(&extractor, &cases, &options, &progress)?;
    let reused = if summary.reused > 0 {
        format!(" ({} cases kept from the previous run, {} computed)", summary.reused, summary.computed)
    } else {
        String::new()
    };
    eprintln!(
        "radx batch: {} cases, {} rows ok, {} failed{reused} -> {}",
        summary.cases,
        summary.ok_rows,
        summary.error_rows,
        args.output.display()
    );
    if summary.run_alone > 0 {
        eprintln!(
            "  {} cases did not fit their share of the memory budget beside the other jobs and ran alone afterwards",
            summary.run_alone
        );
    }
    if summary.notes > 0 {
        eprintln!(
            "  {} notes (why a value is NaN or infinite, per case and feature) -> {}",
            summary.notes,
            radx_cohort::table::notes_path(&args.output).display()
        );
    }
    const LISTED: usize = 20;
    for (id, label, error) in summary.failures.iter().take(LISTED) {
        let label = label.map(|l| format!(" label {l}")).unwrap_or_default();
        eprintln!("  failed: {id}{label}: {error}");
    }
    if summary.failures.len() > LISTED {
        eprintln!("  … and {} more (status column of the table)", summary.failures.len() - LISTED);
    }
    // Failed cases are rows of the table (status `error`), not a failure of the batch.
    Ok(ExitCode::SUCCESS)
}
