//! The wide table as JSON lines (also the batch journal's row format).

use super::*;

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
pub(super) fn json_value(v: f64) -> String {
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

pub(super) fn write_jsonl(out: &mut (impl Write + ?Sized), table: &Table) -> Result<(), WriteError> {
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

pub(super) fn read_jsonl(path: &Path, file: std::fs::File) -> Result<Table, TableError> {
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
