//! Wide cohort tables: one row per (case, label), columns `id,label,status,error` then one
//! column per feature (`family.feature.aggregation`, or `family.feature` for families
//! computed once over the ROI). Written and read as CSV, JSON lines and Parquet; `radx
//! batch` writes them, `radx merge` reads and joins them. Writes are atomic (a temporary
//! file in the destination folder, renamed over the destination when complete).
//!
//! The feature values are the IBSI features of chapter 3 of the IBSI reference manual;
//! this module only moves them between files.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::rows::format_value;
use radx_engine::FeatureRow;

mod csv_format;
mod jsonl;
mod notes;
mod parquet_format;

use csv_format::{read_csv, write_csv};
pub(crate) use jsonl::{OrderedObject, row_from_json, row_json};
use jsonl::{read_jsonl, write_jsonl};
pub use notes::{NOTES_COLUMNS, Notes, NotesByRow, notes_path, read_notes, write_notes};
use parquet_format::{read_parquet, write_parquet};

/// The four columns before the feature columns.
pub const KEY_COLUMNS: [&str; 4] = ["id", "label", "status", "error"];

/// Rows per Parquet row group: small enough to stream, large enough to compress well.
const PARQUET_ROW_GROUP: usize = 4096;

/// Reading or writing a table failed; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not a table radx can read.
    #[error("{path}: {message}")]
    Malformed {
        /// File.
        path: PathBuf,
        /// What is wrong, with the line or row where it helps.
        message: String,
    },
    /// A row of the file is not a radx table row.
    #[error("{path}: {at}: {source}")]
    Row {
        /// File.
        path: PathBuf,
        /// Where the row is.
        at: RowPosition,
        /// What is wrong with it.
        source: RowError,
    },
    /// The file name does not say which format to use.
    #[error("{path}: cannot tell the table format from the name; use .csv, .jsonl or .parquet (or --format)")]
    UnknownFormat {
        /// File.
        path: PathBuf,
    },
}

fn malformed(path: &Path, message: impl Into<String>) -> TableError {
    TableError::Malformed { path: path.to_path_buf(), message: message.into() }
}

/// Why a row is not a radx table row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    /// Every row names its case.
    #[error("empty id")]
    EmptyId,
    /// The label cell is neither empty nor a whole number.
    #[error("label {label:?} is not an integer")]
    Label {
        /// The cell.
        label: String,
    },
    /// The status cell is neither `ok` nor `error`.
    #[error("status {status:?} is neither ok nor error")]
    Status {
        /// The cell.
        status: String,
    },
    /// A JSON object whose key fields are missing or out of order.
    #[error("expected \"{name}\" as field {position} of the object")]
    KeyField {
        /// The key field expected.
        name: &'static str,
        /// Its position, from 1.
        position: usize,
    },
    /// A JSON key field other than the label that is not a string.
    #[error("\"{name}\" must be a string")]
    NotAString {
        /// The key field.
        name: &'static str,
    },
    /// A JSON label that is neither a number nor null.
    #[error("\"label\" must be an integer or null")]
    JsonLabel,
    /// A feature value given as text that does not read as a number.
    #[error("{column}: not a number: {text:?}")]
    UnparsableText {
        /// The feature column.
        column: String,
        /// The text.
        text: String,
    },
    /// A JSON feature value that is a list, an object or a flag.
    #[error("{column}: not a number: {value}")]
    NotANumber {
        /// The feature column.
        column: String,
        /// The value.
        value: serde_json::Value,
    },
}

/// Where a row is in its file, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowPosition {
    /// A text line (CSV, JSON lines).
    Line(usize),
    /// A Parquet row.
    Row(usize),
}

impl fmt::Display for RowPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowPosition::Line(n) => write!(f, "line {n}"),
            RowPosition::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// A [`TableError::Row`] for the row of `path` at `at`.
fn bad_row(path: &Path, at: RowPosition) -> impl FnOnce(RowError) -> TableError + '_ {
    move |source| TableError::Row { path: path.to_path_buf(), at, source }
}

/// Table file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line (`.jsonl`, also `.ndjson`).
    Jsonl,
    /// Apache Parquet, one optional DOUBLE column per feature.
    Parquet,
}

impl TableFormat {
    /// The format a file name implies (`.csv`, `.jsonl`/`.ndjson`, `.parquet`/`.pq`).
    pub fn from_path(path: &Path) -> Result<TableFormat, TableError> {
        let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if name.ends_with(".csv") {
            Ok(TableFormat::Csv)
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            Ok(TableFormat::Jsonl)
        } else if name.ends_with(".parquet") || name.ends_with(".pq") {
            Ok(TableFormat::Parquet)
        } else {
            Err(TableError::UnknownFormat { path: path.to_path_buf() })
        }
    }

    /// `explicit` when given, else the format of the file name.
    pub fn resolve(explicit: Option<TableFormat>, path: &Path) -> Result<TableFormat, TableError> {
        explicit.map_or_else(|| TableFormat::from_path(path), Ok)
    }
}

/// Whether a case (label) was extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Features were computed (individual values may still be NaN when undefined).
    Ok,
    /// The case failed; `error` says why and every feature is missing.
    Error,
}

impl Status {
    /// `ok` or `error`, as written in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
        }
    }

    fn parse(text: &str) -> Option<Status> {
        match text {
            "ok" => Some(Status::Ok),
            "error" => Some(Status::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of a wide table. Rows of one run share their column list (`columns`), so a
/// row costs its values only.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Case id from the case list.
    pub id: String,
    /// ROI label the row was extracted for; `None` when unknown (e.g. the mask was unreadable).
    pub label: Option<i64>,
    /// `ok` or `error`.
    pub status: Status,
    /// Why the case failed (empty when ok).
    pub error: String,
    /// Names of `values`, in order.
    pub columns: Arc<[String]>,
    /// Feature values (NaN when undefined); empty for a failed case.
    pub values: Vec<f64>,
    /// Text cells before the feature columns in PyRadiomics' batch layout (name, text): the
    /// case list's cells, then the `diagnostics_*` values; empty in radx's own layout.
    pub text: Vec<(String, String)>,
    /// Why values are NaN or infinite: (column, note), in column order. Not a column of
    /// the table: `radx batch` writes them to the notes table beside it ([`write_notes`]).
    pub notes: Vec<(String, String)>,
}

impl Row {
    /// A failed case: no values.
    pub fn failed(id: &str, label: Option<i64>, error: String) -> Row {
        Row {
            id: id.to_string(),
            label,
            status: Status::Error,
            error,
            columns: Arc::from(Vec::new()),
            values: Vec::new(),
            text: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// An extracted case. Columns are ordered by family, then feature, then aggregation
    /// (each in the order the library produced them), so one feature's aggregations sit
    /// side by side.
    pub fn extracted(id: &str, label: i64, features: &[FeatureRow]) -> Row {
        let (columns, values, notes) = feature_columns(features);
        Row {
            id: id.to_string(),
            label: Some(label),
            status: Status::Ok,
            error: String::new(),
            columns,
            values,
            text: Vec::new(),
            notes,
        }
    }
}

/// Column name of a feature row: `family.feature[.aggregation]`, prefixed by the image
/// type (`log_sigma_2mm.`) for images other than the original; a row of PyRadiomics'
/// library named as PyRadiomics names it (`--names pyradiomics`) keeps that name alone
/// (`original_firstorder_Energy`), as PyRadiomics' batch output has it.
pub fn column_name(row: &FeatureRow) -> String {
    use radx_engine::compat::pyradiomics::{is_pyradiomics_row, output_name};
    let key = &row.key;
    if is_pyradiomics_row(row) && key.feature == output_name(row) {
        return key.feature.clone();
    }
    let image = if key.image_type.is_original() { String::new() } else { format!("{}.", key.image_type) };
    match key.aggregation {
        None => format!("{image}{}.{}", key.family, key.feature),
        Some(a) => format!("{image}{}.{}.{}", key.family, key.feature, a.name()),
    }
}

/// Long rows → (column names, values), ordered image type × family × feature ×
/// aggregation (each in the order the rows first show it): the original image's columns
/// first, then each filter's, one feature's aggregations side by side.
/// Also the rows' notes, as (column, note) in column order.
fn feature_columns(features: &[FeatureRow]) -> (Arc<[String]>, Vec<f64>, Notes) {
    fn rank<'a>(seen: &mut HashMap<(&'a str, &'a str), usize>, scope: &'a str, key: &'a str) -> usize {
        let next = seen.len();
        *seen.entry((scope, key)).or_insert(next)
    }
    let mut ranks = HashMap::new();
    let mut keyed: Vec<((usize, usize, usize, usize), usize)> = features
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let image = rank(&mut ranks, "\u{0}image", r.key.image_type.as_str());
            let family = rank(&mut ranks, "", &r.key.family);
            let feature = rank(&mut ranks, &r.key.family, &r.key.feature);
            let aggregation = rank(&mut ranks, "\u{0}aggregation", r.key.aggregation_name());
            ((image, family, feature, aggregation), i)
        })
        .collect();
    // Stable: a key seen twice keeps the library's order.
    keyed.sort_by_key(|&(k, _)| k);
    let columns: Vec<String> = keyed.iter().map(|&(_, i)| column_name(&features[i])).collect();
    let values = keyed.iter().map(|&(_, i)| features[i].value).collect();
    let notes = keyed
        .iter()
        .zip(&columns)
        .filter_map(|(&(_, i), column)| features[i].note.as_ref().map(|n| (column.clone(), n.clone())))
        .collect();
    (Arc::from(columns), values, notes)
}

/// A wide table: the union of its rows' columns, rows in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Feature columns (after the four key columns), in first-appearance order over the rows.
    pub columns: Vec<String>,
    /// Rows in output order.
    pub rows: Vec<Row>,
}

impl Table {
    /// Rows in the given order; the feature columns are their union, each column placed
    /// where it first appears scanning the rows in order.
    pub fn new(rows: Vec<Row>) -> Table {
        let mut columns = Vec::new();
        let mut known: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut last: Option<&Arc<[String]>> = None;
        for row in &rows {
            // Rows of one run share one column list: scan each distinct list once.
            if last.is_some_and(|l| Arc::ptr_eq(l, &row.columns)) {
                continue;
            }
            last = Some(&row.columns);
            for c in row.columns.iter() {
                if !known.contains(c.as_str()) {
                    known.insert(c.as_str());
                    columns.push(c.clone());
                }
            }
        }
        Table { columns, rows }
    }

    /// Each row's values aligned to `self.columns` (NaN where the row lacks the column).
    /// `None` for failed rows.
    pub(crate) fn aligned(&self) -> impl Iterator<Item = (&Row, Option<Vec<f64>>)> {
        let index: HashMap<&str, usize> = self.columns.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
        let mut mapping: (Option<Arc<[String]>>, Vec<usize>) = (None, Vec::new());
        self.rows.iter().map(move |row| {
            if row.status == Status::Error {
                return (row, None);
            }
            if !mapping.0.as_ref().is_some_and(|c| Arc::ptr_eq(c, &row.columns)) {
                mapping = (Some(row.columns.clone()), row.columns.iter().map(|c| index[c.as_str()]).collect());
            }
            let mut values = vec![f64::NAN; self.columns.len()];
            for (&at, &v) in mapping.1.iter().zip(&row.values) {
                values[at] = v;
            }
            (row, Some(values))
        })
    }
}

/// Write `table` to `path` atomically in `format`.
pub fn write_table(path: &Path, table: &Table, format: TableFormat) -> Result<(), TableError> {
    write_atomic_with(path, |out| match format {
        TableFormat::Csv => write_csv(out, table),
        TableFormat::Jsonl => write_jsonl(out, table),
        TableFormat::Parquet => write_parquet(out, table),
    })
}

/// Read a table written by [`write_table`] (or by another tool with the same columns).
pub fn read_table(path: &Path, format: TableFormat) -> Result<Table, TableError> {
    let io = |source| TableError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    match format {
        TableFormat::Csv => read_csv(path, file),
        TableFormat::Jsonl => read_jsonl(path, file),
        TableFormat::Parquet => read_parquet(path, file),
    }
}

/// Write a table through `write` atomically ([`radx_io::write_atomic_with`]): a killed or
/// failed run leaves the destination as it was.
pub(crate) fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> Result<(), WriteError>,
) -> Result<(), TableError> {
    radx_io::write_atomic_with(path, write).map_err(|e| match e {
        radx_io::AtomicWriteError::Io(source) | radx_io::AtomicWriteError::Body(WriteError::Io(source)) => {
            TableError::Io { path: path.to_path_buf(), source }
        }
        radx_io::AtomicWriteError::Body(WriteError::Other(message)) => malformed(path, message),
    })
}

/// Failures inside a format writer, before the file name is attached.
pub(crate) enum WriteError {
    Io(std::io::Error),
    Other(String),
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl From<csv::Error> for WriteError {
    fn from(e: csv::Error) -> Self {
        WriteError::Other(e.to_string())
    }
}

impl From<parquet::errors::ParquetError> for WriteError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        WriteError::Other(format!("Parquet: {e}"))
    }
}

/// The four key columns of a row being read.
struct RowKey {
    id: String,
    label: Option<i64>,
    status: Status,
    error: String,
}

impl RowKey {
    fn into_row(self, columns: &Arc<[String]>, values: Vec<f64>) -> Row {
        let columns = if self.status == Status::Ok { columns.clone() } else { Arc::from(Vec::new()) };
        Row {
            id: self.id,
            label: self.label,
            status: self.status,
            error: self.error,
            columns,
            values,
            text: Vec::new(),
            notes: Vec::new(),
        }
    }
}

fn parse_key(id: &str, label: &str, status: &str, error: &str) -> Result<RowKey, RowError> {
    if id.is_empty() {
        return Err(RowError::EmptyId);
    }
    let label = match label.trim() {
        "" => None,
        l => Some(l.parse::<i64>().map_err(|_| RowError::Label { label: l.to_string() })?),
    };
    let status = Status::parse(status).ok_or_else(|| RowError::Status { status: status.to_string() })?;
    Ok(RowKey { id: id.to_string(), label, status, error: error.to_string() })
}

#[cfg(test)]
mod tests {
    use super::jsonl::json_value;
    use super::*;

    /// Batch JSON lines write NaN and the infinities as `radx extract --format json` does.
    #[test]
    fn json_lines_write_non_finite_values_as_extract_json_does() {
        assert_eq!(json_value(f64::NAN), "null");
        assert_eq!(json_value(f64::INFINITY), "\"inf\"");
        assert_eq!(json_value(f64::NEG_INFINITY), "\"-inf\"");
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5, -2.0] {
            let parsed: serde_json::Value = serde_json::from_str(&json_value(v)).expect("valid JSON");
            assert_eq!(parsed, crate::rows::json_value(v), "{v}");
        }
    }

    /// The message names the file, then the line or row, then what is wrong.
    #[test]
    fn a_bad_row_is_named_by_its_file_and_line() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let refused = |name: &str, text: &str, format| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("written");
            let err = read_table(&path, format).expect_err("a bad row");
            (err.to_string().replace(&format!("{}: ", path.display()), ""), err)
        };
        let (message, err) = refused("t.csv", "id,label,status,error,f\na,x,ok,,1\n", TableFormat::Csv);
        assert_eq!(message, "line 2: label \"x\" is not an integer");
        assert!(matches!(err, TableError::Row { at: RowPosition::Line(2), source: RowError::Label { .. }, .. }));
        let (message, _) = refused("v.csv", "id,label,status,error,f\na,1,ok,,big\n", TableFormat::Csv);
        assert_eq!(message, "line 2: f: not a number: \"big\"");
        let jsonl = "{\"id\":\"a\",\"label\":1,\"status\":\"ok\",\"error\":\"\",\"f\":[1]}\n";
        let (message, _) = refused("t.jsonl", jsonl, TableFormat::Jsonl);
        assert_eq!(message, "line 1: f: not a number: [1]");
    }
}
