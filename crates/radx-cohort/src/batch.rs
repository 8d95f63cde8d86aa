//! Cohort extraction (`radx batch`): a case list of (id, image, mask[, label]) in, one wide
//! table out (in PyRadiomics' batch layout for an extractor with PyRadiomics' names and a
//! CSV output: [`crate::pyradiomics`]). Cases run in parallel on a rayon pool; a failing case becomes an `error`
//! row and the batch goes on; finished cases are checkpointed to a journal so that a
//! killed run can be resumed; `--shard K/N` takes a deterministic slice of the list for
//! cluster job arrays. The features themselves are the IBSI features (IBSI reference
//! manual, chapter 3) computed by [`crate::extract::Extractor`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use crate::cases::{CaseEntry, CaseListError, LabelChoice, read_cases};
use crate::journal::{Entries, Journal, journal_line};
pub use crate::journal::{Fingerprint, JournalError, RunFiles, journal_path};
use crate::table::{Row, Status, Table, TableError, TableFormat, read_table};
use radx_engine::Extractor;
use radx_input::MaskKind;

/// A batch failed as a whole (a bad case never does this: it becomes an `error` row).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The case list cannot be used.
    #[error(transparent)]
    CaseList(#[from] CaseListError),
    /// `--shard` is not `K/N` with 1 ≤ K ≤ N.
    #[error("--shard {0:?}: expected K/N with 1 <= K <= N, e.g. 3/10")]
    Shard(String),
    /// Reading or writing a table failed.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The journal could not be written.
    #[error("{path}: cannot write the journal: {source}")]
    Journal {
        /// Journal file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The journal is another run's, or not this run's to resume.
    #[error(transparent)]
    Checkpoint(#[from] JournalError),
    /// The output's folder does not exist.
    #[error("{0}: the output folder does not exist")]
    OutputFolder(PathBuf),
    /// The thread pool could not be started.
    #[error("cannot start {jobs} worker threads: {message}")]
    Pool {
        /// Requested threads.
        jobs: usize,
        /// Cause.
        message: String,
    },
}

/// `--shard K/N`: the K-th (1-based) of N contiguous slices of the case list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = BatchError;
    fn from_str(text: &str) -> Result<Shard, BatchError> {
        let bad = || BatchError::Shard(text.to_string());
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Case-list rows `[⌊(K−1)·n/N⌋, ⌊K·n/N⌋)`: contiguous, sizes differ by at most one,
    /// and the N slices cover the list exactly once.
    pub fn range(self, cases: usize) -> std::ops::Range<usize> {
        (self.index - 1) * cases / self.count..self.index * cases / self.count
    }
}

/// What one `radx batch` run does.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Output table.
    pub output: PathBuf,
    /// Its format.
    pub format: TableFormat,
    /// Worker threads; `None` = rayon's default (`RAYON_NUM_THREADS`, else every core).
    pub jobs: Option<usize>,
    /// Keep the ok rows of a previous run (OUT and its journal) and run the rest.
    pub resume: bool,
    /// Only this slice of the case list.
    pub shard: Option<Shard>,
    /// Label selection.
    pub labels: LabelChoice,
    /// The files the extractor was made from, fingerprinted in the journal so that
    /// `--resume` never mixes rows of other inputs.
    pub files: RunFiles,
}

/// Hears how a batch advances (the command line draws a bar from it). Called from the
/// worker threads; every method defaults to doing nothing.
pub trait Progress: Sync {
    /// The batch is about to run `total` cases (after `--resume` and `--shard`).
    fn started(&self, _total: usize) {}
    /// The case `id` has finished (ok or failed) and is in the journal.
    fn case_done(&self, _id: &str) {}
    /// Every case has finished; the table is written next.
    fn finished(&self) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}

/// What a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSummary {
    /// Cases in this run's slice of the case list.
    pub cases: usize,
    /// Cases taken over from a previous run (`--resume`): from OUT or the journal.
    pub reused: usize,
    /// Cases extracted by this run (`cases - reused`).
    pub computed: usize,
    /// Rows with status ok.
    pub ok_rows: usize,
    /// Rows with status error.
    pub error_rows: usize,
    /// The failed rows: (id, label, reason), in table order.
    pub failures: Vec<(String, Option<i64>, String)>,
    /// Notes (why a value is NaN or infinite) written to the notes table
    /// ([`crate::table::notes_path`]); 0 when there were none (no notes table is left).
    pub notes: usize,
    /// Cases run with `--jobs` N > 1 share the memory budget (each is checked against its
    /// N-th); these were refused for their share and ran afterwards, alone, with the
    /// whole budget.
    pub run_alone: usize,
}

/// Labels present in a mask: distinct non-zero finite values within 1e-3 of an integer
/// (the tolerance [`radx_core::roi::select_label`] matches with), ascending. `opts` are the
/// run's (budget, external data), as for the case's own reads.
pub fn labels_in_mask(mask: &Path, opts: &radx_io::ReadOptions) -> Result<Vec<i64>, radx_io::IoError> {
    let volume = radx_io::read_volume_with(mask, opts)?;
    let mut labels: Vec<i64> = Vec::new();
    for &v in volume.data.iter() {
        if v != 0.0 && v.is_finite() && (v - v.round()).abs() < 1e-3 {
            let l = v.round() as i64;
            if l != 0 && !labels.contains(&l) {
                labels.push(l);
            }
        }
    }
    labels.sort_unstable();
    Ok(labels)
}

/// How the run reads whole volumes: within its memory budget, and with its
/// `--allow-external-data` choice.
fn read_options(extractor: &Extractor) -> radx_io::ReadOptions {
    extractor.settings.read_options(extractor.settings.max_memory)
}

/// Rows of one case: one per label (one for an RTSTRUCT or SEG mask, whose ROI is label 1).
/// Never fails: errors (and panics) become error rows.
pub fn run_case(extractor: &Extractor, case: &CaseEntry, labels: LabelChoice, early_shape: bool) -> Vec<Row> {
    run_case_checked(extractor, case, labels, early_shape).0
}

/// [`run_case`], and whether the case or a label was refused for the memory budget
/// ([`radx_input::InputError::is_over_budget`], [`radx_engine::Error::is_over_budget`]).
fn run_case_checked(
    extractor: &Extractor,
    case: &CaseEntry,
    labels: LabelChoice,
    early_shape: bool,
) -> (Vec<Row>, bool) {
    let default_label = extractor.settings.label;
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let resolved = match case.resolve(extractor) {
            Ok(resolved) => resolved,
            Err(e) => return (vec![Row::failed(&case.id, case.label, e.to_string())], e.is_over_budget()),
        };
        let labels: Vec<i64> = match (case.label, labels) {
            _ if resolved.mask != MaskKind::LabelMap => vec![1],
            (Some(l), _) => vec![l],
            (None, LabelChoice::One(l)) => vec![l.unwrap_or(default_label)],
            (None, LabelChoice::All) => match labels_in_mask(&case.mask, &read_options(extractor)) {
                Ok(found) if found.is_empty() => {
                    let reason = format!("{}: the mask has no ROI (no non-zero label)", case.mask.display());
                    return (vec![Row::failed(&case.id, None, reason)], false);
                }
                Ok(found) => found,
                Err(e) => return (vec![Row::failed(&case.id, None, e.to_string())], false),
            },
        };
        let mut over_budget = false;
        let rows = labels
            .into_iter()
            .map(|label| {
                let case = resolved.case.clone().with_roi(label).with_id(&case.id);
                let outcome =
                    if early_shape { extractor.extract(&case) } else { extractor.extract_beside_other_cases(&case) };
                (label, outcome)
            })
            .map(|(label, outcome)| match outcome {
                Ok(features) => Row::extracted(&case.id, label, &features.rows),
                Err(e) => {
                    over_budget |= e.is_over_budget();
                    Row::failed(&case.id, Some(label), e.to_string())
                }
            })
            .collect();
        (rows, over_budget)
    }));
    attempt.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown cause".into());
        (vec![Row::failed(&case.id, case.label, format!("internal error (panic) while extracting: {what}"))], false)
    })
}

/// Previous rows per case id, from OUT and then the journal's `entries` (the journal is
/// newer). A table in PyRadiomics' layout is not read back: its cases are run again unless
/// the journal has them.
fn previous_rows(
    options: &BatchOptions,
    pyradiomics_layout: bool,
    entries: Entries,
) -> Result<HashMap<String, Vec<Row>>, BatchError> {
    let mut previous: HashMap<String, Vec<Row>> = HashMap::new();
    if options.output.exists() && !pyradiomics_layout {
        let table = read_table(&options.output, options.format)?;
        // The notes of OUT's rows are beside it (absent when it had none).
        let notes_file = crate::table::notes_path(&options.output);
        let mut notes = if notes_file.exists() { crate::table::read_notes(&notes_file)? } else { HashMap::new() };
        for mut row in table.rows {
            row.notes = notes.remove(&(row.id.clone(), row.label)).unwrap_or_default();
            previous.entry(row.id.clone()).or_default().push(row);
        }
    }
    previous.extend(entries);
    Ok(previous)
}

/// Lock OUT's journal and, resuming, take its entries (checked against this run's
/// fingerprint and case list); a fresh run empties it. Returns the journal and the entries.
fn open_journal(
    extractor: &Extractor,
    all_cases: &[CaseEntry],
    options: &BatchOptions,
) -> Result<(Journal, Entries), BatchError> {
    let fingerprint = Fingerprint::new(extractor, &options.files, options.labels)?;
    let mut journal = Journal::lock(&options.output)?;
    if !options.resume {
        journal.start(&fingerprint)?;
        return Ok((journal, Vec::new()));
    }
    let ids: HashSet<&str> = all_cases.iter().map(|c| c.id.as_str()).collect();
    let entries = journal.resume(&fingerprint, &ids)?;
    Ok((journal, entries))
}

/// Run a batch and write its table. Rows come out in case-list order whatever the
/// thread count, and each case's values do not depend on it.
pub fn run_batch(
    extractor: &Extractor,
    cases: &[CaseEntry],
    options: &BatchOptions,
    progress: &dyn Progress,
) -> Result<BatchSummary, BatchError> {
    let all_cases = cases;
    let cases = match options.shard {
        Some(shard) => &cases[shard.range(cases.len())],
        None => cases,
    };
    if let Some(dir) = options.output.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(BatchError::OutputFolder(dir.to_path_buf()));
    }
    let pyradiomics_layout = extractor.pyradiomics_names && options.format == TableFormat::Csv;
    // Locked before OUT is read, so that no other run changes OUT or the journal meanwhile.
    let (journal, entries) = open_journal(extractor, all_cases, options)?;
    let mut previous =
        if options.resume { previous_rows(options, pyradiomics_layout, entries)? } else { HashMap::new() };
    // A case is done when a previous run left rows for it and all of them are ok.
    let done = |id: &str, previous: &HashMap<String, Vec<Row>>| {
        previous.get(id).is_some_and(|rows| !rows.is_empty() && rows.iter().all(|r| r.status == Status::Ok))
    };
    let todo: Vec<&CaseEntry> = cases.iter().filter(|c| !done(&c.id, &previous)).collect();
    let reused = cases.len() - todo.len();

    let journal_file = journal.path().to_path_buf();
    let journal_err = |source| BatchError::Journal { path: journal_file.clone(), source };
    let journal = Mutex::new(journal);
    let journal_failure: Mutex<Option<std::io::Error>> = Mutex::new(None);

    let interner = ColumnInterner::default();
    progress.started(todo.len());
    let finish = |case: &CaseEntry, mut rows: Vec<Row>| {
        if pyradiomics_layout {
            crate::pyradiomics::add_text(extractor, case, options.labels == LabelChoice::All, &mut rows);
        }
        interner.intern(&mut rows);
        let line = journal_line(&case.id, &rows);
        if let Ok(mut journal) = journal.lock()
            && let Err(e) = journal.append(&line)
            && let Ok(mut slot) = journal_failure.lock()
        {
            slot.get_or_insert(e);
        }
        progress.case_done(&case.id);
        rows
    };
    let work = || -> (Vec<Vec<Row>>, usize) {
        use rayon::prelude::*;
        // The early shape uses a core that reading the image leaves idle; when the cases
        // themselves keep every core busy there is none, and its threads only get in the way
        // (100 small cases on 2 cores, 2 jobs: 0.77 s with it, 0.68 s without).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let early_shape = todo.len() < 2 || rayon::current_num_threads() < cores;
        // Cases run side by side share the budget: each is checked against its share; one
        // refused for it runs again afterwards, alone, with the whole budget.
        let side_by_side = rayon::current_num_threads().min(todo.len()).max(1);
        let shared = shared_budget(extractor, side_by_side);
        let first: Vec<Option<Vec<Row>>> = todo
            .par_iter()
            .map(|case| {
                let (rows, over_budget) = run_case_checked(&shared, case, options.labels, early_shape);
                (!(over_budget && side_by_side > 1)).then(|| finish(case, rows))
            })
            .collect();
        let mut alone = 0;
        let rows = first
            .into_iter()
            .zip(&todo)
            .map(|(rows, case)| {
                rows.unwrap_or_else(|| {
                    alone += 1;
                    finish(case, run_case(extractor, case, options.labels, true))
                })
            })
            .collect();
        (rows, alone)
    };
    let (fresh, run_alone) = match options.jobs {
        Some(jobs) => rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .map_err(|e| BatchError::Pool { jobs, message: e.to_string() })?
            .install(work),
        None => work(),
    };
    progress.finished();
    if let Some(e) = journal_failure.into_inner().ok().flatten() {
        return Err(journal_err(e));
    }

    let mut fresh: HashMap<&str, Vec<Row>> = todo.iter().map(|c| c.id.as_str()).zip(fresh).collect();
    let mut rows = Vec::new();
    for case in cases {
        match fresh.remove(case.id.as_str()) {
            Some(r) => rows.extend(r),
            None => rows.extend(previous.remove(&case.id).unwrap_or_default()),
        }
    }
    let failures: Vec<(String, Option<i64>, String)> =
        rows.iter().filter(|r| r.status == Status::Error).map(|r| (r.id.clone(), r.label, r.error.clone())).collect();
    let (row_count, error_rows) = (rows.len(), failures.len());
    // Notes first (the table is the run's last word): a notes table from an earlier run
    // that the new rows do not replace would describe other values, so it goes.
    let notes_file = crate::table::notes_path(&options.output);
    let notes = if rows.iter().any(|r| r.status == Status::Ok && !r.notes.is_empty()) {
        crate::table::write_notes(&notes_file, &rows)?
    } else {
        let _ = std::fs::remove_file(&notes_file);
        0
    };
    if pyradiomics_layout {
        crate::pyradiomics::write_csv(&options.output, rows)?;
    } else {
        crate::table::write_table(&options.output, &Table::new(rows), options.format)?;
    }
    // OUT now holds every finished row: the checkpoint has served its purpose.
    journal.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).remove();
    let computed = cases.len() - reused;
    Ok(BatchSummary {
        cases: cases.len(),
        reused,
        computed,
        ok_rows: row_count - error_rows,
        error_rows,
        failures,
        notes,
        run_alone,
    })
}

/// The extractor for `side_by_side` cases run at once: its budget is their share of the
/// whole (`Cow::Borrowed` for one case at a time).
fn shared_budget(extractor: &Extractor, side_by_side: usize) -> std::borrow::Cow<'_, Extractor> {
    if side_by_side <= 1 {
        return std::borrow::Cow::Borrowed(extractor);
    }
    let mut shared = extractor.clone();
    shared.settings.max_memory = (extractor.settings.max_memory / side_by_side as u64).max(1);
    std::borrow::Cow::Owned(shared)
}

/// How `radx merge` resolves rows.
#[derive(Debug, Clone, Default)]
pub struct MergeReport {
    /// `(id, label)` keys seen in more than one row, with the number of rows.
    pub duplicates: Vec<(String, Option<i64>, usize)>,
}

/// Join tables (e.g. shard outputs): the union of their feature columns (first-appearance
/// order, inputs in the order given), one row per `(id, label)`. A key seen several times
/// keeps its last ok row (its last row when none is ok) at the place it first appeared.
/// With `order`, rows are sorted into that id order (ids it lacks go last, in input order).
pub fn merge_tables(tables: Vec<Table>, order: Option<&[String]>) -> (Table, MergeReport) {
    let mut keys: Vec<(String, Option<i64>)> = Vec::new();
    let mut chosen: HashMap<(String, Option<i64>), (Row, usize)> = HashMap::new();
    for row in tables.into_iter().flat_map(|t| t.rows) {
        let key = (row.id.clone(), row.label);
        match chosen.get_mut(&key) {
            None => {
                keys.push(key.clone());
                chosen.insert(key, (row, 1));
            }
            Some((kept, seen)) => {
                *seen += 1;
                if row.status == Status::Ok || kept.status == Status::Error {
                    *kept = row;
                }
            }
        }
    }
    if let Some(order) = order {
        let rank: HashMap<&str, usize> = order.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        // Stable: labels of one id and unknown ids keep their input order.
        keys.sort_by_key(|(id, _)| rank.get(id.as_str()).copied().unwrap_or(usize::MAX));
    }
    let mut report = MergeReport::default();
    let rows = keys
        .into_iter()
        .filter_map(|key| {
            let (row, seen) = chosen.remove(&key)?;
            if seen > 1 {
                report.duplicates.push((key.0, key.1, seen));
            }
            Some(row)
        })
        .collect();
    (Table::new(rows), report)
}

/// Shares one column list between the rows of all cases (they almost always have the
/// same columns), so a large cohort costs its values, not a copy of the names per case.
#[derive(Default)]
struct ColumnInterner(Mutex<Vec<Arc<[String]>>>);

impl ColumnInterner {
    fn intern(&self, rows: &mut [Row]) {
        let Ok(mut shared) = self.0.lock() else { return };
        for row in rows.iter_mut().filter(|r| !r.columns.is_empty()) {
            match shared.iter().find(|s| s[..] == row.columns[..]) {
                Some(s) => row.columns = s.clone(),
                None => shared.push(row.columns.clone()),
            }
        }
    }
}
