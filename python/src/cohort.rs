//! `radx._radx.batch`: a case list through one extractor into `radx batch`'s table, by the
//! cohort crate's own `run_batch` (the same rows, order, error rows and PyRadiomics layout).

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use radx_cohort::batch::{BatchError, BatchOptions, LabelChoice, Progress, read_cases, run_batch};
use radx_cohort::table::TableFormat;

use crate::errors::guard;
use crate::extractor::Extractor;

/// Run the case list `cases` (a CSV as `radx batch` reads it) and write the table to
/// `output` (its format from the extension). `progress(done, total)` is called as cases
/// finish. Returns (cases, ok rows, error rows, failures as (id, label, reason)).
#[pyfunction]
#[pyo3(signature = (
    extractor, cases, output, jobs = None, label = None, all_labels = false, progress = None, resume = false
))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn batch(
    py: Python<'_>,
    extractor: &Extractor,
    cases: PathBuf,
    output: PathBuf,
    jobs: Option<usize>,
    label: Option<i64>,
    all_labels: bool,
    progress: Option<Py<PyAny>>,
    resume: bool,
) -> PyResult<(usize, usize, usize, Vec<(String, Option<i64>, String)>)> {
    if jobs == Some(0) {
        return Err(PyValueError::new_err("jobs must be at least 1"));
    }
    if !cases.is_file() {
        return Err(pyo3::exceptions::PyFileNotFoundError::new_err(format!(
            "{}: case list not found",
            cases.display()
        )));
    }
    let format = TableFormat::from_path(&output).map_err(|e| batch_error(BatchError::from(e)))?;
    let list = read_cases(&cases).map_err(|e| batch_error(BatchError::from(e)))?;
    let options = BatchOptions {
        output,
        format,
        jobs,
        resume,
        shard: None,
        labels: if all_labels { LabelChoice::All } else { LabelChoice::One(label) },
        files: extractor.run_files.clone(),
    };
    let reporter = Reporter {
        callback: progress,
        total: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        failed: Mutex::new(None),
    };
    let extractor = &extractor.inner;
    let summary = py.detach(|| {
        guard("running a batch", || run_batch(extractor, &list, &options, &reporter).map_err(batch_error))
    })?;
    if let Some(e) = reporter.failed.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok((summary.cases, summary.ok_rows, summary.error_rows, summary.failures))
}

/// A batch-level failure (a bad case is an error row, never this).
fn batch_error(e: BatchError) -> PyErr {
    let message = e.to_string();
    match &e {
        BatchError::Table(radx_cohort::table::TableError::Io { source, .. }) => {
            crate::errors::os_error(source, message)
        }
        BatchError::Journal { source, .. } => crate::errors::os_error(source, message),
        BatchError::OutputFolder(_) => pyo3::exceptions::PyFileNotFoundError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// Calls the Python callback, holding the GIL only for the call. The first exception it
/// raises stops further calls and is raised when the batch ends.
struct Reporter {
    callback: Option<Py<PyAny>>,
    total: AtomicUsize,
    done: AtomicUsize,
    failed: Mutex<Option<PyErr>>,
}

impl Reporter {
    fn call(&self, done: usize) {
        let Some(callback) = &self.callback else { return };
        let Ok(mut failed) = self.failed.lock() else { return };
        if failed.is_some() {
            return;
        }
        let total = self.total.load(Ordering::Relaxed);
        if let Err(e) = Python::attach(|py| callback.call1(py, (done, total)).map(drop)) {
            *failed = Some(e);
        }
    }
}

impl Progress for Reporter {
    fn started(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.call(0);
    }

    fn case_done(&self, _id: &str) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.call(done);
    }
}
