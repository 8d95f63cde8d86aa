//! The notes side table: why a value is NaN, keyed by id, label and column.

use super::*;

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
