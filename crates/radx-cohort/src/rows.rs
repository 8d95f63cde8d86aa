//! Long-format feature rows (one case's `radx extract` output) as CSV or JSON text.
//!
//! Non-finite values have one written form in every output of radx (extract CSV and JSON,
//! batch CSV, JSON lines and its notes): in CSV `NaN`, `inf` and `-inf`; in JSON NaN is
//! `null` (JSON has no NaN) and the infinities are the strings `"inf"` and `"-inf"`.

use radx_engine::FeatureRow;

/// Formats of `radx extract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    /// `image_type,family,feature,tag,aggregation,value,note`.
    Csv,
    /// A JSON array of row objects.
    Json,
}

/// The header of `radx extract`'s CSV.
pub const CSV_HEADER: &str = "image_type,family,feature,tag,aggregation,value,note";

/// Render rows; a NaN value is written as `NaN` in CSV and `null` in JSON, the infinities
/// as `inf`/`-inf` (strings in JSON); the row's note (why a value is NaN or infinite) is
/// the last CSV column (empty when there is none) and the `note` key in JSON.
pub fn render_rows(rows: &[FeatureRow], format: RowFormat) -> String {
    match format {
        RowFormat::Csv => {
            let mut out = String::from(CSV_HEADER);
            out.push('\n');
            for r in rows {
                let cells = [
                    r.key.image_type.as_str(),
                    r.key.family.as_str(),
                    r.key.feature.as_str(),
                    r.tag_or_dash(),
                    r.key.aggregation_name(),
                    &format_value(r.value),
                    r.note.as_deref().unwrap_or(""),
                ];
                for (i, cell) in cells.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_csv_cell(&mut out, cell);
                }
                out.push('\n');
            }
            out
        }
        RowFormat::Json => {
            let values: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    // Keys in serde_json's (sorted) order, as the output has always had them.
                    let mut object = serde_json::Map::new();
                    object.insert("image_type".into(), r.key.image_type.to_string().into());
                    object.insert("family".into(), r.key.family.clone().into());
                    object.insert("feature".into(), r.key.feature.clone().into());
                    object.insert("tag".into(), r.tag_or_dash().into());
                    object.insert("aggregation".into(), r.key.aggregation_name().into());
                    object.insert("value".into(), json_value(r.value));
                    if let Some(note) = &r.note {
                        object.insert("note".into(), note.clone().into());
                    }
                    serde_json::Value::Object(object)
                })
                .collect();
            serde_json::to_string_pretty(&values).unwrap_or_default() + "\n"
        }
    }
}

/// A CSV cell, quoted (RFC 4180) when it holds a comma, a quote or a line break.
pub fn push_csv_cell(out: &mut String, cell: &str) {
    if cell.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

/// Shortest text that reads back as the same f64 (`NaN`, `inf`, `-inf` for the others).
pub fn format_value(v: f64) -> String {
    if v.is_nan() { "NaN".to_string() } else { format!("{v}") }
}

/// A value as JSON: the number, `null` for NaN, the strings `"inf"` and `"-inf"` for the
/// infinities (the same text as [`format_value`] writes in CSV).
pub fn json_value(v: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(v) {
        Some(n) => n.into(),
        None if v.is_nan() => serde_json::Value::Null,
        None => format_value(v).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_have_one_text_in_csv_and_json() {
        assert_eq!((format_value(f64::INFINITY), format_value(f64::NEG_INFINITY)), ("inf".into(), "-inf".into()));
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(json_value(f64::NEG_INFINITY), serde_json::json!("-inf"));
        assert_eq!(json_value(f64::INFINITY), serde_json::json!("inf"));
        assert_eq!(json_value(f64::NAN), serde_json::Value::Null);
        assert_eq!(json_value(0.5), serde_json::json!(0.5));
    }

    #[test]
    fn csv_cells_with_commas_quotes_or_newlines_are_quoted() {
        let mut out = String::new();
        push_csv_cell(&mut out, "plain");
        push_csv_cell(&mut out, "a, \"b\"\nc");
        assert_eq!(out, "plain\"a, \"\"b\"\"\nc\"");
    }
}
