//! Long-format feature rows (one case's `radx extract` output) as CSV or JSON text.

use radx_engine::FeatureRow;

/// Formats of `radx extract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    /// `image_type,family,feature,tag,aggregation,value`.
    Csv,
    /// A JSON array of row objects.
    Json,
}

/// Render rows; a NaN value is written as `NaN` in CSV and `null` in JSON.
pub fn render_rows(rows: &[FeatureRow], format: RowFormat) -> String {
    match format {
        RowFormat::Csv => {
            let mut out = String::from("image_type,family,feature,tag,aggregation,value\n");
            for r in rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{}\n",
                    r.key.image_type,
                    r.key.family,
                    r.key.feature,
                    r.tag_or_dash(),
                    r.key.aggregation_name(),
                    format_value(r.value)
                ));
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
                    // JSON has no NaN or infinity: null, with the reason in `note`.
                    let value = serde_json::Number::from_f64(r.value).map_or(serde_json::Value::Null, Into::into);
                    object.insert("value".into(), value);
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

/// Shortest text that reads back as the same f64 (`NaN`, `inf`, `-inf` for the others).
pub fn format_value(v: f64) -> String {
    if v.is_nan() { "NaN".to_string() } else { format!("{v}") }
}
