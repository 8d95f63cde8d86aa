//! The wide table as CSV.

use super::*;

pub(super) fn write_csv(out: &mut (impl Write + ?Sized), table: &Table) -> Result<(), WriteError> {
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

pub(super) fn read_csv(path: &Path, file: std::fs::File) -> Result<Table, TableError> {
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
