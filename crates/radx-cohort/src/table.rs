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

use parquet::basic::{ConvertedType, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::types::Type as SchemaType;

use crate::rows::format_value;
use radx_engine::FeatureRow;

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

// ---------------------------------------------------------------- CSV

fn write_csv(out: &mut (impl Write + ?Sized), table: &Table) -> Result<(), WriteError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(KEY_COLUMNS.iter().copied().chain(table.columns.iter().map(String::as_str)))?;
    let mut record: Vec<String> = Vec::with_capacity(KEY_COLUMNS.len() + table.columns.len());
    for (row, values) in table.aligned() {
        record.clear();
        record.push(row.id.clone());
        record.push(row.label.map(|l| l.to_string()).unwrap_or_default());
        record.push(row.status.as_str().to_string());
        record.push(row.error.clone());
        match values {
            // Failed rows leave the feature cells empty; NaN means "undefined for this ROI".
            None => record.extend(std::iter::repeat_n(String::new(), table.columns.len())),
            Some(values) => record.extend(values.into_iter().map(format_value)),
        }
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

fn read_csv(path: &Path, file: std::fs::File) -> Result<Table, TableError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(BufReader::new(file));
    let headers = reader.headers().map_err(|e| malformed(path, e.to_string()))?.clone();
    let header: Vec<&str> = headers.iter().collect();
    if header.len() < KEY_COLUMNS.len() || header[..KEY_COLUMNS.len()] != KEY_COLUMNS {
        return Err(malformed(path, format!("the header must start with {}", KEY_COLUMNS.join(","))));
    }
    let columns: Arc<[String]> = header[KEY_COLUMNS.len()..].iter().map(|s| s.to_string()).collect();
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| malformed(path, e.to_string()))?;
        let (id, label, status, error) = (&record[0], &record[1], &record[2], &record[3]);
        let key = parse_key(id, label, status, error).map_err(bad_row(path, RowPosition::Line(line)))?;
        let values = if key.status == Status::Ok {
            record
                .iter()
                .skip(KEY_COLUMNS.len())
                .zip(columns.iter())
                .map(|(cell, column)| {
                    parse_value(cell)
                        .ok_or_else(|| RowError::UnparsableText { column: column.clone(), text: cell.to_string() })
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad_row(path, RowPosition::Line(line)))?
        } else {
            Vec::new()
        };
        rows.push(key.into_row(&columns, values));
    }
    Ok(Table { columns: columns.to_vec(), rows })
}

/// A value cell: empty and `NaN` are NaN, `inf`/`-inf` the infinities.
fn parse_value(cell: &str) -> Option<f64> {
    let cell = cell.trim();
    if cell.is_empty() { Some(f64::NAN) } else { cell.parse().ok() }
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

// ---------------------------------------------------------------- JSON lines

/// A JSON object with its keys in file order (serde_json's own map sorts them).
#[derive(Debug, Default)]
pub(crate) struct OrderedObject(pub(crate) Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for OrderedObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedObject(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// A value as JSON: NaN is `null`, the infinities the strings `"inf"` and `"-inf"` (the
/// one written form of every radx output, see [`crate::rows::json_value`]).
fn json_value(v: f64) -> String {
    if v.is_finite() {
        // `{v:?}` keeps a `.0` on integral values and round-trips every f64.
        format!("{v:?}")
    } else {
        crate::rows::json_value(v).to_string()
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// One row as a JSON object on one line (no newline). Failed rows carry the key columns only.
pub(crate) fn row_json(row: &Row, columns: &[String], values: Option<&[f64]>) -> String {
    let mut line = String::with_capacity(64 + columns.len() * 32);
    line.push_str("{\"id\":");
    line.push_str(&json_string(&row.id));
    line.push_str(",\"label\":");
    line.push_str(&row.label.map_or_else(|| "null".to_string(), |l| l.to_string()));
    line.push_str(",\"status\":");
    line.push_str(&json_string(row.status.as_str()));
    line.push_str(",\"error\":");
    line.push_str(&json_string(&row.error));
    if let Some(values) = values {
        for (c, &v) in columns.iter().zip(values) {
            line.push(',');
            line.push_str(&json_string(c));
            line.push(':');
            line.push_str(&json_value(v));
        }
    }
    line.push('}');
    line
}

fn write_jsonl(out: &mut (impl Write + ?Sized), table: &Table) -> Result<(), WriteError> {
    for (row, values) in table.aligned() {
        writeln!(out, "{}", row_json(row, &table.columns, values.as_deref()))?;
    }
    Ok(())
}

/// A row from a JSON object written by [`row_json`]; `intern` shares equal column lists.
pub(crate) fn row_from_json(
    object: OrderedObject,
    intern: &mut HashMap<Vec<String>, Arc<[String]>>,
) -> Result<Row, RowError> {
    let mut fields = object.0.into_iter();
    let mut key_text = |name: &'static str| -> Result<serde_json::Value, RowError> {
        match fields.next() {
            Some((k, v)) if k == name => Ok(v),
            _ => {
                Err(RowError::KeyField { name, position: 1 + KEY_COLUMNS.iter().position(|k| *k == name).unwrap_or(0) })
            }
        }
    };
    let id = key_text("id")?;
    let label = key_text("label")?;
    let status = key_text("status")?;
    let error = key_text("error")?;
    let as_str = |v: &serde_json::Value, name: &'static str| -> Result<String, RowError> {
        v.as_str().map(str::to_string).ok_or(RowError::NotAString { name })
    };
    let label = match label {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(RowError::JsonLabel),
    };
    let key = parse_key(&as_str(&id, "id")?, &label, &as_str(&status, "status")?, &as_str(&error, "error")?)?;
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for (name, value) in fields {
        let v = match &value {
            serde_json::Value::Null => f64::NAN,
            serde_json::Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            serde_json::Value::String(s) => {
                s.parse().map_err(|_| RowError::UnparsableText { column: name.clone(), text: s.clone() })?
            }
            _ => return Err(RowError::NotANumber { column: name, value }),
        };
        columns.push(name);
        values.push(v);
    }
    if key.status == Status::Error {
        return Ok(key.into_row(&Arc::from(Vec::new()), Vec::new()));
    }
    let columns = match intern.get(&columns) {
        Some(shared) => shared.clone(),
        None => {
            let shared: Arc<[String]> = Arc::from(columns.clone());
            intern.insert(columns, shared.clone());
            shared
        }
    };
    Ok(key.into_row(&columns, values))
}

fn read_jsonl(path: &Path, file: std::fs::File) -> Result<Table, TableError> {
    let mut rows = Vec::new();
    let mut intern = HashMap::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| TableError::Io { path: path.to_path_buf(), source })?;
        if line.trim().is_empty() {
            continue;
        }
        let object: OrderedObject =
            serde_json::from_str(&line).map_err(|e| malformed(path, format!("line {}: {e}", n + 1)))?;
        rows.push(row_from_json(object, &mut intern).map_err(bad_row(path, RowPosition::Line(n + 1)))?);
    }
    Ok(Table::new(rows))
}

// ---------------------------------------------------------------- notes

/// The columns of a notes table.
pub const NOTES_COLUMNS: [&str; 4] = ["id", "label", "column", "note"];

/// The notes table beside a batch output `OUT`: `OUT.notes.csv`, one line per note, keyed
/// by case id, label and feature column, for every table format.
pub fn notes_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".notes.csv");
    output.with_file_name(name)
}

/// Write the notes of `rows` (ok rows only) to `path` atomically as CSV
/// (`id,label,column,note`); returns how many were written.
pub fn write_notes(path: &Path, rows: &[Row]) -> Result<usize, TableError> {
    let mut count = 0;
    write_atomic_with(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(NOTES_COLUMNS)?;
        for row in rows.iter().filter(|r| r.status == Status::Ok) {
            let label = row.label.map(|l| l.to_string()).unwrap_or_default();
            for (column, note) in &row.notes {
                w.write_record([row.id.as_str(), label.as_str(), column.as_str(), note.as_str()])?;
                count += 1;
            }
        }
        w.flush()?;
        Ok(())
    })?;
    Ok(count)
}

/// One row's notes: (column, note).
pub type Notes = Vec<(String, String)>;

/// Notes per (case id, label): (column, note) in file order.
pub type NotesByRow = HashMap<(String, Option<i64>), Notes>;

/// The notes of a notes table, per (id, label), in file order.
pub fn read_notes(path: &Path) -> Result<NotesByRow, TableError> {
    let io = |source| TableError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(BufReader::new(file));
    let header = reader.headers().map_err(|e| malformed(path, e.to_string()))?.clone();
    if header.iter().collect::<Vec<_>>() != NOTES_COLUMNS {
        return Err(malformed(path, format!("the header must be {}", NOTES_COLUMNS.join(","))));
    }
    let mut notes = NotesByRow::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| malformed(path, e.to_string()))?;
        let label = match record[1].trim() {
            "" => None,
            l => Some(l.parse::<i64>().map_err(|_| TableError::Row {
                path: path.to_path_buf(),
                at: RowPosition::Line(n + 2),
                source: RowError::Label { label: l.to_string() },
            })?),
        };
        notes.entry((record[0].to_string(), label)).or_default().push((record[2].to_string(), record[3].to_string()));
    }
    Ok(notes)
}

// ---------------------------------------------------------------- Parquet

fn parquet_schema(columns: &[String]) -> Result<SchemaType, WriteError> {
    let string = |name: &str, repetition| {
        SchemaType::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
            .with_repetition(repetition)
            .with_logical_type(Some(LogicalType::String))
            .with_converted_type(ConvertedType::UTF8)
            .build()
    };
    let mut fields = vec![
        string("id", Repetition::REQUIRED)?,
        SchemaType::primitive_type_builder("label", PhysicalType::INT64)
            .with_repetition(Repetition::OPTIONAL)
            .build()?,
        string("status", Repetition::REQUIRED)?,
        string("error", Repetition::REQUIRED)?,
    ];
    for c in columns {
        fields.push(
            SchemaType::primitive_type_builder(c, PhysicalType::DOUBLE)
                .with_repetition(Repetition::OPTIONAL)
                .build()?,
        );
    }
    let fields = fields.into_iter().map(Arc::new).collect();
    Ok(SchemaType::group_type_builder("radx").with_fields(fields).build()?)
}

fn write_parquet<W: Write + Send>(out: W, table: &Table) -> Result<(), WriteError> {
    let schema = Arc::new(parquet_schema(&table.columns)?);
    let properties = Arc::new(
        WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .set_created_by(format!("radx {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut writer = SerializedFileWriter::new(out, schema, properties)?;
    let aligned: Vec<(&Row, Option<Vec<f64>>)> = table.aligned().collect();
    for chunk in aligned.chunks(PARQUET_ROW_GROUP) {
        let mut group = writer.next_row_group()?;
        let mut column = 0usize;
        while let Some(mut col) = group.next_column()? {
            match column {
                0 | 2 | 3 => {
                    let text: Vec<ByteArray> = chunk
                        .iter()
                        .map(|(r, _)| match column {
                            0 => ByteArray::from(r.id.as_str()),
                            2 => ByteArray::from(r.status.as_str()),
                            _ => ByteArray::from(r.error.as_str()),
                        })
                        .collect();
                    col.typed::<ByteArrayType>().write_batch(&text, None, None)?;
                }
                1 => {
                    let labels: Vec<i64> = chunk.iter().filter_map(|(r, _)| r.label).collect();
                    let defined: Vec<i16> = chunk.iter().map(|(r, _)| i16::from(r.label.is_some())).collect();
                    col.typed::<Int64Type>().write_batch(&labels, Some(&defined), None)?;
                }
                _ => {
                    let at = column - KEY_COLUMNS.len();
                    // Failed rows are null; NaN (undefined feature) is stored as NaN.
                    let values: Vec<f64> = chunk.iter().filter_map(|(_, v)| v.as_ref().map(|v| v[at])).collect();
                    let defined: Vec<i16> = chunk.iter().map(|(_, v)| i16::from(v.is_some())).collect();
                    col.typed::<DoubleType>().write_batch(&values, Some(&defined), None)?;
                }
            }
            col.close()?;
            column += 1;
        }
        group.close()?;
    }
    writer.close()?;
    Ok(())
}

fn read_parquet(path: &Path, file: std::fs::File) -> Result<Table, TableError> {
    let err = |e: parquet::errors::ParquetError| malformed(path, format!("Parquet: {e}"));
    let reader = SerializedFileReader::new(file).map_err(err)?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<String> = schema.columns().iter().map(|c| c.name().to_string()).collect();
    if names.len() < KEY_COLUMNS.len() || names[..KEY_COLUMNS.len()] != KEY_COLUMNS {
        return Err(malformed(path, format!("the columns must start with {}", KEY_COLUMNS.join(","))));
    }
    let columns: Arc<[String]> = Arc::from(names[KEY_COLUMNS.len()..].to_vec());
    let mut rows = Vec::new();
    for (n, record) in reader.get_row_iter(None).map_err(err)?.enumerate() {
        let record = record.map_err(err)?;
        let fields: Vec<&Field> = record.get_column_iter().map(|(_, f)| f).collect();
        let text = |f: &Field| match f {
            Field::Str(s) => s.clone(),
            _ => String::new(),
        };
        let label = match fields[1] {
            Field::Long(l) => l.to_string(),
            Field::Int(l) => l.to_string(),
            _ => String::new(),
        };
        let key = parse_key(&text(fields[0]), &label, &text(fields[2]), &text(fields[3]))
            .map_err(bad_row(path, RowPosition::Row(n + 1)))?;
        let values = if key.status == Status::Ok {
            fields[KEY_COLUMNS.len()..]
                .iter()
                .map(|f| match f {
                    Field::Double(v) => *v,
                    Field::Float(v) => f64::from(*v),
                    _ => f64::NAN,
                })
                .collect()
        } else {
            Vec::new()
        };
        rows.push(key.into_row(&columns, values));
    }
    Ok(Table { columns: columns.to_vec(), rows })
}

#[cfg(test)]
mod tests {
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
