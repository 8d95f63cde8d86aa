//! Values written as PyRadiomics' batch CSV writes them: Python's `str()` of a float, an
//! int, a tuple, `None`, `True`/`False`, a dict; and numpy's pairwise summation, so that a
//! mean has numpy's last bits.

/// Python's `repr`/`str` of a float: the shortest text that reads back, with a `.0` on
/// whole numbers, and `1e-05` / `1e+16` outside [1e-4, 1e16).
pub fn float(v: f64) -> String {
    radx_filters::pyradiomics::python_float_str(v)
}

/// A value of a parameter file as Python prints it once PyYAML has read it: `{'sigma':
/// [1.0, 3.0], 'binWidth': 5}` (integers stay integers, floats keep their `.0`).
pub fn literal(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "None".into(),
        Value::Bool(b) => boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => string(s),
        Value::Array(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let entries: Vec<(&str, String)> = map.iter().map(|(k, v)| (k.as_str(), literal(v))).collect();
            dict(&entries)
        }
    }
}

/// A number as a YAML parameter file usually holds it: whole numbers as Python ints.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { float(v) }
}

/// A tuple of floats: `(0.78125, 0.78125, 6.5)`.
pub fn float_tuple(values: &[f64]) -> String {
    tuple(values.iter().map(|v| float(*v)))
}

/// A tuple of ints: `(256, 256, 23)`.
pub fn int_tuple(values: &[usize]) -> String {
    tuple(values.iter().map(usize::to_string))
}

fn tuple(items: impl Iterator<Item = String>) -> String {
    format!("({})", items.collect::<Vec<_>>().join(", "))
}

/// A list of numbers: `[2, 2, 0]`.
pub fn list(values: &[f64]) -> String {
    format!("[{}]", values.iter().map(|v| number(*v)).collect::<Vec<_>>().join(", "))
}

/// A quoted string: `'sitkBSpline'`.
pub fn string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `True` or `False`.
pub fn boolean(b: bool) -> String {
    if b { "True" } else { "False" }.into()
}

/// `None`, or the value's text.
pub fn optional(value: Option<String>) -> String {
    value.unwrap_or_else(|| "None".into())
}

/// A dict of already formatted values: `{'label': 1, 'force2D': False}`.
pub fn dict(entries: &[(&str, String)]) -> String {
    let items: Vec<String> = entries.iter().map(|(k, v)| format!("{}: {v}", string(k))).collect();
    format!("{{{}}}", items.join(", "))
}

/// numpy's `sum` of float64 values in memory order: its reduction takes buffers of 8192
/// values, each summed pairwise ([`pairwise_sum`]), one after the other.
pub fn numpy_sum(values: &[f64]) -> f64 {
    values.chunks(8192).fold(0.0, |s, chunk| s + pairwise_sum(chunk))
}

/// numpy's `pairwise_sum`: blocks of at most 128 values summed with 8 accumulators,
/// halves summed recursively.
fn pairwise_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = values.len();
    if n < 8 {
        return values.iter().fold(-0.0, |s, v| s + v);
    }
    if n > BLOCK {
        let half = n / 2;
        let half = half - half % 8;
        return pairwise_sum(&values[..half]) + pairwise_sum(&values[half..]);
    }
    let mut r: [f64; 8] = std::array::from_fn(|k| values[k]);
    let whole = n - n % 8;
    for chunk in values[8..whole].chunks_exact(8) {
        for (acc, v) in r.iter_mut().zip(chunk) {
            *acc += v;
        }
    }
    let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for v in &values[whole..] {
        sum += v;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_python_writes_them() {
        assert_eq!(float(0.0), "0.0");
        assert_eq!(float(1523.0), "1523.0");
        assert_eq!(float(0.7812499999999999), "0.7812499999999999");
        assert_eq!(float(236.20217696480128), "236.20217696480128");
        assert_eq!(float(1e-5), "1e-05");
        assert_eq!(float(-2.5e-7), "-2.5e-07");
        assert_eq!(float(1e16), "1e+16");
        assert_eq!(float(1.5e300), "1.5e+300");
        assert_eq!(float(0.0001), "0.0001");
        assert_eq!(float(f64::NAN), "nan");
        assert_eq!(number(25.0), "25");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(int_tuple(&[205, 155, 8]), "(205, 155, 8)");
        assert_eq!(dict(&[("label", number(1.0)), ("x", optional(None))]), "{'label': 1, 'x': None}");
    }

    #[test]
    fn sums_follow_numpy() {
        // numpy 1.26's `numpy.sum` of these (a running sum gives 99.9999999999986 and
        // 150732.8000042859).
        assert_eq!(numpy_sum(&vec![0.1; 1000]), 100.00000000000001);
        assert_eq!(numpy_sum(&vec![0.1; 23 * 256 * 256]), 150732.79999999996);
        assert_eq!(numpy_sum(&[1.0, 2.0, 3.0]), 6.0);
    }
}
