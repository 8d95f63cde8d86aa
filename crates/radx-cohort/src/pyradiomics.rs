//! PyRadiomics' batch output (`pyradiomics cases.csv -o out.csv`), for `radx batch --names
//! pyradiomics` to a CSV: the case list's columns, then PyRadiomics' `diagnostics_*` columns
//! with radx's values, then the features under PyRadiomics' names; no radx key columns. A
//! failed case keeps its case-list cells, the rest empty, as in PyRadiomics' output.
//! Values are written as Python writes them (`nan`, `1523.0`).

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use radx_engine::Extractor;
use radx_engine::compat::pyradiomics::diagnostics::{diagnostics, python};

use crate::cases::CaseEntry;
use crate::table::{Row, Status, Table, TableError, WriteError, write_atomic_with};

/// Give each row of `case` its text cells: the case list's cells (with the row's label in
/// the `Label` column when every label of the mask is extracted), then, for an extracted
/// row, its diagnostics. A row whose diagnostics cannot be computed becomes a failed row.
pub fn add_text(extractor: &Extractor, case: &CaseEntry, all_labels: bool, rows: &mut [Row]) {
    for row in rows.iter_mut() {
        let cells = case_cells(case, row.label.filter(|_| all_labels));
        if row.status == Status::Ok {
            let label = row.label.unwrap_or(extractor.settings.label);
            let of_case = case
                .resolve(extractor)
                .map_err(|e| e.to_string())
                .and_then(|r| diagnostics(extractor, &r.case.with_roi(label)).map_err(|e| e.to_string()));
            match of_case {
                Ok(values) => row.text = cells.into_iter().chain(values).collect(),
                Err(e) => {
                    *row = Row::failed(&row.id, row.label, format!("diagnostics: {e}"));
                    row.text = case_cells(case, row.label.filter(|_| all_labels));
                }
            }
        } else {
            row.text = cells;
        }
    }
}

/// The case list's cells; `label` fills an empty `Label` cell, or adds the column.
fn case_cells(case: &CaseEntry, label: Option<i64>) -> Vec<(String, String)> {
    let mut cells = case.cells.clone();
    let Some(label) = label else { return cells };
    match cells.iter_mut().find(|(name, _)| name.eq_ignore_ascii_case("label")) {
        Some((_, cell)) if cell.is_empty() => *cell = label.to_string(),
        Some(_) => {}
        None => cells.push(("Label".into(), label.to_string())),
    }
    cells
}

/// Write `rows` (with their text cells, [`add_text`]) to `path` atomically in
/// PyRadiomics' layout.
pub fn write_csv(path: &Path, rows: Vec<Row>) -> Result<(), TableError> {
    let mut text_columns: Vec<String> = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    for (name, _) in rows.iter().flat_map(|r| &r.text) {
        if known.insert(name.clone()) {
            text_columns.push(name.clone());
        }
    }
    let table = Table::new(rows);
    write_atomic_with(path, |out| write_records(out, &table, &text_columns))
}

fn write_records(out: &mut (dyn Write + Send), table: &Table, text_columns: &[String]) -> Result<(), WriteError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(text_columns.iter().chain(&table.columns))?;
    for (row, values) in table.aligned() {
        let text = text_columns.iter().map(|c| row.text.iter().find(|(n, _)| n == c).map_or("", |(_, v)| v.as_str()));
        let mut record: Vec<String> = text.map(str::to_string).collect();
        match values {
            None => record.extend(std::iter::repeat_n(String::new(), table.columns.len())),
            Some(values) => record.extend(values.into_iter().map(python::float)),
        }
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(cells: &[(&str, &str)]) -> CaseEntry {
        CaseEntry {
            roi: None,
            segment: None,
            series: None,
            id: "1".into(),
            image: "i.nrrd".into(),
            mask: "m.nrrd".into(),
            label: None,
            cells: cells.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn every_label_of_a_mask_is_named_in_the_label_column() {
        let plain = case(&[("Image", "/i.nrrd"), ("Mask", "/m.nrrd")]);
        assert_eq!(case_cells(&plain, None), plain.cells);
        assert_eq!(case_cells(&plain, Some(3)).last(), Some(&("Label".to_string(), "3".to_string())));
        let given = case(&[("Image", "/i.nrrd"), ("label", "")]);
        assert_eq!(case_cells(&given, Some(2))[1].1, "2");
    }

    #[test]
    fn failed_rows_keep_their_case_cells_only() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("out.csv");
        let mut failed = Row::failed("1", Some(1), "unreadable".into());
        failed.text = vec![("ID".into(), "a".into()), ("Image".into(), "/i.nrrd".into())];
        write_csv(&path, vec![failed]).expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "ID,Image\na,/i.nrrd\n");
    }
}
