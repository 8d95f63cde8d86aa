//! A source's declared parameters: its JSON object of defaults, read and written.

use radx_dsl::ParamValue;

use crate::ParamDefaultsError;

/// A source's parameter declaration, a JSON object of defaults, as (name, default) pairs
/// sorted by name. A default's JSON type gives the parameter's kind: `true`/`false`
/// a flag, an integer literal an integer, any other number a real, a string a string.
pub fn parse_param_defaults(json: &str) -> Result<Vec<(String, ParamValue)>, ParamDefaultsError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(ParamDefaultsError::NotJson)?;
    let serde_json::Value::Object(object) = value else {
        return Err(ParamDefaultsError::NotAnObject);
    };
    let mut params = Vec::with_capacity(object.len());
    for (name, default) in object {
        let value = match default {
            serde_json::Value::Bool(b) => ParamValue::Bool(b),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => ParamValue::Int(i),
                (None, Some(x)) => ParamValue::Float(x),
                (None, None) => return Err(ParamDefaultsError::NotANumber { name, number: n }),
            },
            serde_json::Value::String(s) => ParamValue::Str(s),
            value => return Err(ParamDefaultsError::NoKind { name, value }),
        };
        if !is_identifier(&name) {
            return Err(ParamDefaultsError::NotAnIdentifier { name });
        }
        params.push((name, value));
    }
    Ok(params)
}

/// Whether `name` can be written as a name in a feature file.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The JSON object of source parameters a builder receives.
pub fn params_to_json(params: &[(String, ParamValue)]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(name, value)| {
            let v = match value {
                ParamValue::Int(i) => serde_json::Value::from(*i),
                // A non-finite real has no JSON form; null lets the plugin say so.
                ParamValue::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
                ParamValue::Bool(b) => serde_json::Value::Bool(*b),
                ParamValue::Str(s) => serde_json::Value::String(s.clone()),
            };
            (name.clone(), v)
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}
