//! The libraries and the compliance report as columns: `radx features list`, `radx check`
//! and `radx ibsi`, for `radx.features()`, `radx.check()` and `radx.ibsi()`.

use std::path::PathBuf;

use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use radx_engine::library::Library;
use radx_engine::{Extractor, Settings};

use crate::errors::{engine, guard};

/// Every feature of the library (`library` "ibsi" or "pyradiomics") with the `features`
/// files and the `plugins`' features: columns family, feature, tag, origin (file or plugin)
/// and doc (its documentation comment or description).
#[pyfunction]
#[pyo3(signature = (library = "ibsi", features = Vec::new(), plugins = Vec::new()))]
pub fn features<'py>(
    py: Python<'py>,
    library: &str,
    features: Vec<PathBuf>,
    plugins: Vec<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut settings = Settings::default();
    match library {
        "ibsi" => {}
        "pyradiomics" => settings.pyradiomics = Some(Default::default()),
        other => {
            return Err(PyValueError::new_err(format!("library must be \"ibsi\" or \"pyradiomics\", got {other:?}")));
        }
    }
    let extractor = py.detach(|| {
        guard("compiling the library", || {
            let mut registry = radx_engine::plugins::PluginRegistry::new();
            for path in &plugins {
                registry.load(path).map_err(|e| crate::errors::plugin(&e, e.to_string()))?;
            }
            Extractor::new(settings, &features, registry).map_err(engine)
        })
    })?;
    let mut columns: [Vec<String>; 5] = Default::default();
    let mut push = |values: [String; 5]| {
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
    };
    for f in &extractor.library {
        for feature in f.family.features() {
            let doc = feature.doc.clone().unwrap_or_default();
            push([f.family.name().to_string(), feature.name.clone(), feature.tag.clone(), f.origin.clone(), doc]);
        }
    }
    for plugin in extractor.plugins.plugins() {
        let origin = radx_engine::sources::plugin::origin(&plugin.name, &plugin.path);
        for feature in &plugin.features {
            push([
                plugin.name.clone(),
                feature.name.clone(),
                feature.tag.clone(),
                origin.clone(),
                feature.description.clone(),
            ]);
        }
    }
    let out = PyDict::new(py);
    for (name, column) in ["family", "feature", "tag", "origin", "doc"].into_iter().zip(columns) {
        out.set_item(name, column)?;
    }
    Ok(out)
}

/// Compile a feature file or folder (`path`) or feature-language `text` after the standard
/// library (as `radx check`: it may read the standard families' features and must say
/// `override` to replace one), with the `plugins`' sources: its families and features as
/// columns family, feature, tag. A file that does not compile raises `ValueError` with the
/// diagnostics.
#[pyfunction]
#[pyo3(signature = (path = None, text = None, plugins = Vec::new()))]
pub fn check<'py>(
    py: Python<'py>,
    path: Option<PathBuf>,
    text: Option<String>,
    plugins: Vec<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let compiled = py.detach(|| {
        guard("checking a feature file", || {
            let library = match (&path, &text) {
                (Some(path), None) => Library::for_checking(std::slice::from_ref(path)).map_err(|e| engine(e.into()))?,
                (None, Some(text)) => {
                    let mut library = Library::for_settings(&Settings::default());
                    library.add_text("<text>", text);
                    library
                }
                _ => return Err(PyValueError::new_err("give a feature file's path or its text")),
            };
            let mut registry = radx_engine::sources::registry(&Settings::default());
            let mut plugin_registry = radx_engine::plugins::PluginRegistry::new();
            for path in &plugins {
                plugin_registry.load(path).map_err(|e| crate::errors::plugin(&e, e.to_string()))?;
            }
            radx_engine::sources::plugin::register_sources(&mut registry, &plugin_registry)
                .map_err(|e| crate::errors::plugin(&e, e.to_string()))?;
            let builtin: Vec<String> = (0..).map_while(|k| library.is_builtin(k).then(|| library.name(k))).collect();
            let compiled = library.compile(&registry).map_err(|e| engine(e.into()))?;
            Ok(compiled.into_iter().filter(|f| !builtin.contains(&f.origin)).collect::<Vec<_>>())
        })
    })?;
    let (mut family, mut feature, mut tag) = (Vec::new(), Vec::new(), Vec::new());
    for f in &compiled {
        for x in f.family.features() {
            family.push(f.family.name().to_string());
            feature.push(x.name.clone());
            tag.push(x.tag.clone());
        }
    }
    let out = PyDict::new(py);
    out.set_item("family", family)?;
    out.set_item("feature", feature)?;
    out.set_item("tag", tag)?;
    Ok(out)
}

/// The IBSI compliance report (`radx ibsi`): `phantom` "digital", "ct" or "all"; the CT
/// phantom's `configs` ("A,B,C,D,E") from `ct_dir` (its `image.nii.gz` and `mask.nii.gz`).
/// Columns data, config, family, feature, tag, aggregation, value, reference, tolerance
/// (NaN when there is no reference) and pass (None when there is no reference).
#[pyfunction]
#[pyo3(signature = (phantom = "all", configs = "A,B,C,D,E", ct_dir = None))]
pub fn ibsi<'py>(
    py: Python<'py>,
    phantom: &str,
    configs: &str,
    ct_dir: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let (digital, ct) = match phantom {
        "digital" => (true, false),
        "ct" => (false, true),
        "all" => (true, true),
        other => {
            return Err(PyValueError::new_err(format!(
                "phantom must be \"digital\", \"ct\" or \"all\", got {other:?}"
            )));
        }
    };
    if ct && ct_dir.is_none() {
        return Err(PyValueError::new_err("the CT phantom needs ct_dir"));
    }
    let rows = py.detach(|| {
        guard("running the IBSI phantoms", || {
            let mut rows = Vec::new();
            if digital {
                rows.extend(radx_engine::ibsi::run_digital().map_err(engine)?);
            }
            if let (true, Some(dir)) = (ct, &ct_dir) {
                for config in configs.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    rows.extend(radx_engine::ibsi::run_ct(config, dir).map_err(engine)?);
                }
            }
            Ok(rows)
        })
    })?;
    let out = PyDict::new(py);
    let text = |f: fn(&radx_engine::ibsi::ComplianceRow) -> &str| rows.iter().map(f).collect::<Vec<_>>();
    out.set_item("data", text(|r| &r.data))?;
    out.set_item("config", text(|r| &r.config))?;
    out.set_item("family", text(|r| &r.family))?;
    out.set_item("feature", text(|r| &r.feature))?;
    out.set_item("tag", text(|r| &r.tag))?;
    out.set_item("aggregation", text(|r| &r.aggregation))?;
    let number = |f: fn(&radx_engine::ibsi::ComplianceRow) -> f64| PyArray1::from_vec(py, rows.iter().map(f).collect());
    out.set_item("value", number(|r| r.value))?;
    out.set_item("reference", number(|r| r.reference.unwrap_or(f64::NAN)))?;
    out.set_item("tolerance", number(|r| r.tolerance.unwrap_or(f64::NAN)))?;
    out.set_item("pass", rows.iter().map(|r| r.pass).collect::<Vec<_>>())?;
    Ok(out)
}

/// YAML (or JSON) text as JSON text, mappings in the text's order, parsed as radx parses
/// parameter files; for the PyRadiomics extractor's `loadParams`, which shows a file's
/// contents as Python dicts (whose order is the order classes are computed in).
#[pyfunction]
pub fn yaml_to_json(text: &str) -> PyResult<String> {
    let value: Ordered =
        serde_saphyr::from_str(text).map_err(|e| PyValueError::new_err(e.to_string().trim_end().to_string()))?;
    let mut out = String::new();
    value.write_json(&mut out);
    Ok(out)
}

/// A YAML value whose mappings keep their keys' order (serde_json's `Map` sorts them).
enum Ordered {
    Scalar(serde_json::Value),
    List(Vec<Ordered>),
    Map(Vec<(String, Ordered)>),
}

impl Ordered {
    fn write_json(&self, out: &mut String) {
        match self {
            Ordered::Scalar(v) => out.push_str(&v.to_string()),
            Ordered::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Ordered::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                // Finite: the parser refuses `.nan` and `.inf`, as radx's settings do.
                Ok(Ordered::Scalar(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(serde_json::Value::Null))
            }
            fn visit_none<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(serde_json::Value::Null))
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Ordered, D::Error> {
                serde::Deserialize::deserialize(d)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::List(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Ordered>()? {
                    entries.push((key, value));
                }
                Ok(Ordered::Map(entries))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// radx's deterministic synthetic CT-like case (`radx_engine::synthetic`, the cases of
/// `benches/compare`): int16-valued image and 0/1 mask as float64 arrays indexed [x, y, z],
/// spacing 0.8 × 0.8 × 2 mm. For benchmarks.
#[pyfunction]
#[pyo3(name = "_synthetic_case")]
pub fn synthetic_case<'py>(
    py: Python<'py>,
    dims: [usize; 3],
    roi_voxels: f64,
) -> (Bound<'py, numpy::PyArray3<f64>>, Bound<'py, numpy::PyArray3<f64>>) {
    let (image, mask) = py.detach(|| radx_engine::synthetic::case(dims, roi_voxels));
    (numpy::PyArray3::from_owned_array(py, image.data), numpy::PyArray3::from_owned_array(py, mask.data))
}

#[cfg(test)]
mod tests {
    use super::Ordered;

    fn json(yaml: &str) -> String {
        let value: Ordered = serde_saphyr::from_str(yaml).expect("YAML");
        let mut out = String::new();
        value.write_json(&mut out);
        out
    }

    #[test]
    fn mappings_keep_the_order_of_the_text() {
        let text = "featureClass:\n  shape:\n  glrlm: []\n  gldm: [A, B]\nsetting:\n  binWidth: 25\n  force2D: true\n";
        assert_eq!(
            json(text),
            r#"{"featureClass":{"shape":null,"glrlm":[],"gldm":["A","B"]},"setting":{"binWidth":25,"force2D":true}}"#
        );
        assert_eq!(json(r#"{"b": 1.5, "a": "q\"uote"}"#), r#"{"b":1.5,"a":"q\"uote"}"#);
    }
}
