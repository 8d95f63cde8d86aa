//! Mechanics of the batch journal: the lock that keeps two runs off one output, the
//! fingerprint `--resume` checks, lines it refuses, and how many cases a resumed run
//! reuses and computes.

use std::path::{Path, PathBuf};

use radx_cohort::batch::{
    BatchError, BatchOptions, BatchSummary, CaseEntry, JournalError, LabelChoice, NoProgress, Progress, RunFiles,
    journal_path, read_cases, run_batch,
};
use radx_cohort::journal::{FingerprintPart, LineProblem};
use radx_cohort::table::TableFormat;
use radx_engine::core::{Grid, Volume};
use radx_engine::io::{NiftiType, write_nifti};
use radx_engine::plugins::PluginRegistry;
use radx_engine::{Extractor, Settings};

const CASES: usize = 6;

/// `CASES` small cases (a noisy ramp, an ellipsoid ROI) and their case list.
fn cohort(dir: &Path) -> Vec<CaseEntry> {
    let dims = [12, 12, 6];
    let mut lines = vec!["id,image,mask".to_string()];
    for case in 0..CASES {
        let (mut image, mut mask) = (Vec::new(), Vec::new());
        for z in 0..dims[2] {
            for y in 0..dims[1] {
                for x in 0..dims[0] {
                    image.push(((x * 7 + y * 3 + z * 5 + case * 11) % 23) as f64 + x as f64);
                    let r = ((x as f64 - 5.5) / 4.0).powi(2) + ((y as f64 - 5.5) / 4.0).powi(2);
                    mask.push(if r + ((z as f64 - 2.5) / 2.0).powi(2) <= 1.0 { 1.0 } else { 0.0 });
                }
            }
        }
        let grid = Grid::new(dims, [1.0, 1.0, 2.0]);
        let id = format!("case{case}");
        write_nifti(&dir.join(format!("{id}_image.nii.gz")), &Volume::from_x_fastest(grid, image), NiftiType::I16)
            .expect("image written");
        write_nifti(&dir.join(format!("{id}_mask.nii.gz")), &Volume::from_x_fastest(grid, mask), NiftiType::U8)
            .expect("mask written");
        lines.push(format!("{id},{id}_image.nii.gz,{id}_mask.nii.gz"));
    }
    let list = dir.join("cases.csv");
    std::fs::write(&list, lines.join("\n") + "\n").expect("case list written");
    read_cases(&list).expect("case list read")
}

fn extractor(settings: Settings) -> Extractor {
    Extractor::new(settings, &[], PluginRegistry::new()).expect("an extractor")
}

fn options(output: PathBuf, resume: bool) -> BatchOptions {
    BatchOptions {
        output,
        format: TableFormat::Csv,
        jobs: Some(1),
        resume,
        shard: None,
        labels: LabelChoice::One(None),
        files: RunFiles::default(),
    }
}

/// Stops a batch once every case is journaled, before OUT is written and the journal removed.
struct StopBeforeTheTable;

impl Progress for StopBeforeTheTable {
    fn finished(&self) {
        panic!("interrupted on purpose before the table");
    }
}

/// Leaves the journal a run killed after `after` cases leaves: its header and the lines of
/// the first `after` cases to finish. (A panic in a worker does not stop rayon's other
/// workers, so the run is stopped at its end and the journal cut.)
fn interrupted(extractor: &Extractor, cases: &[CaseEntry], output: &Path, after: usize) {
    let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_batch(extractor, cases, &options(output.to_path_buf(), false), &StopBeforeTheTable)
    }));
    assert!(stopped.is_err(), "the batch was interrupted");
    let journal = journal_path(output);
    let text = std::fs::read_to_string(&journal).expect("the interrupted run left its journal");
    assert_eq!(text.lines().count(), 1 + cases.len(), "a header and every case");
    let kept: String = text.split_inclusive('\n').take(1 + after).collect();
    std::fs::write(&journal, kept).expect("journal cut");
}

fn resumed(extractor: &Extractor, cases: &[CaseEntry], output: &Path) -> Result<BatchSummary, BatchError> {
    run_batch(extractor, cases, &options(output.to_path_buf(), true), &NoProgress)
}

/// A run interrupted after 2 of 6 cases, plus a last line cut short by the kill: `--resume`
/// reuses exactly those 2, computes the other 4, and writes the table an uninterrupted run
/// writes.
#[test]
fn resume_reuses_the_journaled_cases_and_computes_the_rest() {
    let dir = tempfile::tempdir().expect("a folder");
    let cases = cohort(dir.path());
    let extractor = extractor(Settings::default());
    let reference = dir.path().join("reference.csv");
    run_batch(&extractor, &cases, &options(reference.clone(), false), &NoProgress).expect("a full run");

    let output = dir.path().join("out.csv");
    interrupted(&extractor, &cases, &output, 2);
    let journal = journal_path(&output);
    let mut text = std::fs::read_to_string(&journal).expect("journal read");
    text.push_str("{\"id\":\"case2\",\"rows\":[{\"id\":\"ca");
    std::fs::write(&journal, text).expect("journal written");

    let summary = resumed(&extractor, &cases, &output).expect("resumed");
    assert_eq!((summary.cases, summary.reused, summary.computed), (CASES, 2, CASES - 2));
    assert_eq!(std::fs::read(&output).expect("out"), std::fs::read(&reference).expect("reference"));
    assert!(!journal.exists(), "the journal is removed once OUT is written");
}

/// While a run holds an output's journal, another batch on that output fails at once,
/// naming the output; once the holder is gone, it runs.
#[test]
fn a_second_batch_on_a_locked_output_is_refused() {
    let dir = tempfile::tempdir().expect("a folder");
    let cases = cohort(dir.path());
    let extractor = extractor(Settings::default());
    let output = dir.path().join("out.csv");
    let holder = std::fs::File::create(journal_path(&output)).expect("journal created");
    holder.lock().expect("locked, as a running batch holds it");

    let error = run_batch(&extractor, &cases, &options(output.clone(), false), &NoProgress)
        .expect_err("a second batch on a locked output");
    assert!(matches!(error, BatchError::Checkpoint(JournalError::Locked { .. })), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&output.display().to_string()) && message.contains("another radx batch"), "{message}");
    assert!(!output.exists(), "nothing written");

    drop(holder);
    run_batch(&extractor, &cases, &options(output.clone(), false), &NoProgress).expect("runs once unlocked");
}

/// `--resume` with other settings, or other feature files, is refused, naming what changed.
#[test]
fn resume_with_other_inputs_names_what_changed() {
    let dir = tempfile::tempdir().expect("a folder");
    let cases = cohort(dir.path());
    let output = dir.path().join("out.csv");
    interrupted(&extractor(Settings::default()), &cases, &output, 2);

    let other = extractor(Settings { exclude_nonfinite: true, ..Settings::default() });
    let error = resumed(&other, &cases, &output).expect_err("other settings");
    let BatchError::Checkpoint(JournalError::Changed { changed, .. }) = &error else { panic!("{error:?}") };
    assert_eq!(changed, &[FingerprintPart::Settings]);
    assert!(error.to_string().contains("settings") && error.to_string().contains("without --resume"), "{error}");

    let features = dir.path().join("extra.radx");
    std::fs::write(&features, "# nothing yet\n").expect("written");
    let mut with_features = options(output.clone(), true);
    with_features.files.features = vec![features];
    let error = run_batch(&extractor(Settings::default()), &cases, &with_features, &NoProgress)
        .expect_err("other feature files");
    let BatchError::Checkpoint(JournalError::Changed { changed, .. }) = &error else { panic!("{error:?}") };
    assert_eq!(changed, &[FingerprintPart::Features]);

    let summary = resumed(&extractor(Settings::default()), &cases, &output).expect("the same inputs resume");
    assert_eq!((summary.reused, summary.computed), (2, CASES - 2));
}

/// A forged line (a case not in the case list, or not an entry at all) and a journal
/// without a fingerprint are refused, naming the journal and the line.
#[test]
fn resume_refuses_lines_it_cannot_account_for() {
    let dir = tempfile::tempdir().expect("a folder");
    let cases = cohort(dir.path());
    let extractor = extractor(Settings::default());
    let output = dir.path().join("out.csv");
    interrupted(&extractor, &cases, &output, 2);
    let journal = journal_path(&output);
    let good = std::fs::read_to_string(&journal).expect("journal read");
    let lines: Vec<&str> = good.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two cases");

    let id = serde_json::from_str::<serde_json::Value>(lines[2]).expect("an entry")["id"].to_string();
    let ghost = lines[2].replace(&id, "\"ghost\"");
    std::fs::write(&journal, format!("{good}{ghost}\n")).expect("forged");
    let error = resumed(&extractor, &cases, &output).expect_err("a case not in the list");
    let BatchError::Checkpoint(JournalError::Line { line, problem, .. }) = &error else { panic!("{error:?}") };
    assert_eq!(*line, 4);
    assert!(matches!(problem, LineProblem::UnknownCase(id) if id == "ghost"), "{problem:?}");
    assert!(error.to_string().contains(&format!("{}, line 4", journal.display())), "{error}");

    std::fs::write(&journal, format!("{good}not json\n{}\n", lines[2])).expect("forged");
    let error = resumed(&extractor, &cases, &output).expect_err("a line that does not parse");
    assert!(
        matches!(&error, BatchError::Checkpoint(JournalError::Line { line: 4, problem: LineProblem::Unparsed(_), .. })),
        "{error:?}"
    );

    // As radx wrote journals before the fingerprint: entries only.
    std::fs::write(&journal, format!("{}\n{}\n", lines[1], lines[2])).expect("an old journal");
    let error = resumed(&extractor, &cases, &output).expect_err("an old journal");
    assert!(matches!(&error, BatchError::Checkpoint(JournalError::NoFingerprint { .. })), "{error:?}");
    assert!(error.to_string().contains("without --resume"), "{error}");
}
