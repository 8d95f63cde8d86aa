//! Long-format feature rows (one case's `radx extract` output) as CSV or JSON text.

use radx_engine::extract::FeatureRow;

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
