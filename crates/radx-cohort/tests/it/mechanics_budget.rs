//! Mechanics of the memory budget in a batch: cases run side by side (`--jobs` N) share it,
//! each checked against its N-th, and a case refused for its share runs afterwards, alone,
//! with the whole budget — so the total is never exceeded, nothing waits on anything, and a
//! case within the whole budget still runs.

use std::path::Path;

use radx_cohort::batch::{BatchOptions, BatchSummary, CaseEntry, LabelChoice, NoProgress, RunFiles};
use radx_cohort::batch::{read_cases, run_batch};
use radx_cohort::table::TableFormat;
use radx_engine::core::{Grid, Volume};
use radx_engine::io::{NiftiType, write_nifti};
use radx_engine::plugins::PluginRegistry;
use radx_engine::{Extractor, Settings};

/// `count` identical cases (a ramp, a box ROI), so that every case needs the same memory.
fn identical_cases(dir: &Path, count: usize) -> Vec<CaseEntry> {
    let dims = [10, 10, 5];
    let grid = Grid::new(dims, [1.0, 1.0, 2.0]);
    let n = dims.iter().product::<usize>();
    let image: Vec<f64> = (0..n).map(|i| ((i * 7) % 31) as f64).collect();
    let mask: Vec<f64> = (0..n).map(|i| f64::from(u8::from((i % 10) > 1 && (i / 10) % 10 > 2))).collect();
    write_nifti(&dir.join("image.nii.gz"), &Volume::from_x_fastest(grid, image), NiftiType::I16).expect("image");
    write_nifti(&dir.join("mask.nii.gz"), &Volume::from_x_fastest(grid, mask), NiftiType::U8).expect("mask");
    let lines: Vec<String> = (0..count).map(|c| format!("case{c},image.nii.gz,mask.nii.gz")).collect();
    let list = dir.join(format!("cases{count}.csv"));
    std::fs::write(&list, format!("id,image,mask\n{}\n", lines.join("\n"))).expect("case list");
    read_cases(&list).expect("case list read")
}

fn batch(dir: &Path, cases: &[CaseEntry], budget: u64, jobs: usize) -> BatchSummary {
    let settings = Settings { max_memory: budget, ..Settings::default() };
    let extractor = Extractor::new(settings, &[], PluginRegistry::new()).expect("an extractor");
    let options = BatchOptions {
        output: dir.join(format!("out_{budget}_{jobs}_{}.csv", cases.len())),
        format: TableFormat::Csv,
        jobs: Some(jobs),
        resume: false,
        shard: None,
        labels: LabelChoice::One(None),
        files: RunFiles::default(),
    };
    run_batch(&extractor, cases, &options, &NoProgress).expect("the batch runs")
}

/// The least budget (bytes) one case runs within, by bisection.
fn least_budget(dir: &Path) -> u64 {
    let one = identical_cases(dir, 1);
    let (mut refused, mut fits) = (1u64, 1u64 << 30);
    assert_eq!(batch(dir, &one, fits, 1).ok_rows, 1, "a case runs within 1 GiB");
    while fits - refused > 1 {
        let mid = refused + (fits - refused) / 2;
        if batch(dir, &one, mid, 1).ok_rows == 1 { fits = mid } else { refused = mid }
    }
    fits
}

#[test]
fn cases_side_by_side_share_the_budget_and_a_refused_one_runs_alone() {
    let dir = tempfile::tempdir().expect("a folder");
    let least = least_budget(dir.path());
    let cases = identical_cases(dir.path(), 4);
    // Within the whole budget but not half of it: every case is refused for its share on two
    // jobs, then runs alone (before the fix each was checked against the whole budget while
    // two ran at once, together up to twice the budget).
    let shared = batch(dir.path(), &cases, least, 2);
    assert_eq!((shared.ok_rows, shared.error_rows, shared.run_alone), (4, 0, 4), "{:?}", shared.failures);
    // Twice the need: each fits its half, none runs alone.
    let roomy = batch(dir.path(), &cases, 2 * least, 2);
    assert_eq!((roomy.ok_rows, roomy.run_alone), (4, 0));
    // One job: one case at a time has the whole budget.
    let serial = batch(dir.path(), &cases, least, 1);
    assert_eq!((serial.ok_rows, serial.run_alone), (4, 0));
    // Below the whole budget: refused alone too, each case once, with the whole budget named.
    let short = batch(dir.path(), &cases, least - 1, 2);
    assert_eq!((short.ok_rows, short.error_rows, short.run_alone), (0, 4, 4));
    assert!(short.failures.iter().all(|(_, _, e)| e.contains("--max-memory")), "{:?}", short.failures);
}
