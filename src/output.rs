//! Writing tables: long-format feature rows as CSV or JSON, to stdout or atomically to a
//! file (a temporary file in the destination folder, renamed on success).

use std::io::Write;
use std::path::Path;

use crate::Error;
use crate::extract::FeatureRow;

/// Formats of `radx extract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    /// `family,feature,tag,aggregation,value`.
    Csv,
    /// A JSON array of row objects.
    Json,
}

/// Render rows; a NaN value is written as `NaN` in CSV and `null` in JSON.
pub fn render_rows(rows: &[FeatureRow], format: RowFormat) -> String {
    match format {
        RowFormat::Csv => {
            let mut out = String::from("family,feature,tag,aggregation,value\n");
            for r in rows {
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    r.family,
                    r.feature,
                    r.tag,
                    r.aggregation,
                    format_value(r.value)
                ));
            }
            out
        }
        RowFormat::Json => {
            let values: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
                    if !r.value.is_finite() {
                        v["value"] = serde_json::Value::Null;
                    }
                    v
                })
                .collect();
            serde_json::to_string_pretty(&values).unwrap_or_default() + "\n"
        }
    }
}

/// Shortest text that reads back as the same f64 (`NaN`, `inf`, `-inf` for the others).
pub fn format_value(v: f64) -> String {
    if v.is_nan() { "NaN".to_string() } else { format!("{v}") }
}

/// Write `text` to standard output in one go. A reader that went away (`radx … | head`)
/// ends the output quietly instead of panicking as `print!` would; other failures (a full
/// disk behind a redirection) are errors.
pub fn write_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Write { path: "<standard output>".into(), source: e })
        }
        _ => Ok(()),
    }
}

/// Write `text` to `path` atomically: a temporary file in the same folder, synced, then
/// renamed over the destination, so a failed or killed run leaves the old file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write { path: path.display().to_string(), source };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
