//! `featureClass` (which classes and features to output) and `voxelSetting` (voxel-wise
//! maps' settings), checked as PyRadiomics checks them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ParamsError;
use crate::compat::pyradiomics::catalogue::{self, Status};
use crate::compat::pyradiomics::options::VoxelSetting;

/// `featureClass`: each class with its listed features (empty = the class's defaults).
///
/// # Errors
/// As PyRadiomics raises: not a mapping, a class it does not have, a class's value that
/// is not a list, or a feature name its class does not have (naming the name and class).
pub(super) fn feature_classes(
    value: &Value,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, Vec<String>>, ParamsError> {
    let classes = value.as_object().ok_or_else(|| ParamsError::FeatureClass { value: value.clone() })?;
    let mut selected = BTreeMap::new();
    for (class, features) in classes {
        let known = catalogue::class(class).ok_or_else(|| ParamsError::UnknownClass {
            class: class.clone(),
            known: catalogue::FEATURES.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", "),
        })?;
        let list = match features {
            Value::Null => Vec::new(),
            Value::Array(names) => names.iter().map(|n| feature(class, n, known, notes)).collect::<Result<_, _>>()?,
            other => return Err(ParamsError::FeatureList { class: class.clone(), value: other.clone() }),
        };
        selected.insert(class.clone(), list);
    }
    Ok(selected)
}

/// One listed feature name, checked against its class.
fn feature(
    class: &str,
    name: &Value,
    known: &[(&str, Status)],
    notes: &mut Vec<String>,
) -> Result<String, ParamsError> {
    let unknown = |feature: String| ParamsError::UnknownFeature {
        class: class.to_string(),
        feature,
        known: known.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", "),
    };
    let name = name.as_str().ok_or_else(|| unknown(name.to_string()))?;
    match known.iter().find(|(f, _)| *f == name) {
        None => Err(unknown(name.to_string())),
        Some((_, Status::NoValue(equal))) => {
            notes.push(format!(
                "featureClass `{class}`: `{name}` is deprecated in PyRadiomics and gives no value (it equals {equal})"
            ));
            Ok(name.to_string())
        }
        Some(_) => Ok(name.to_string()),
    }
}

/// The classes of a parameter file's `featureClass` in the file's order (the parsed
/// document's mappings are sorted); empty when there are none.
pub(super) fn class_order(text: &str) -> Vec<String> {
    /// The keys of a mapping, in order.
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a mapping")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((key, serde::de::IgnoredAny)) = map.next_entry::<String, _>()? {
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }
    #[derive(serde::Deserialize)]
    struct Top {
        #[serde(rename = "featureClass", default)]
        feature_class: Option<Keys>,
    }
    serde_saphyr::from_str::<Top>(text).ok().and_then(|t| t.feature_class).map_or_else(Vec::new, |k| k.0)
}

/// `voxelSetting`: stored for voxel-wise maps; unknown keys are added to `unsupported`.
///
/// # Errors
/// [`ParamsError::VoxelSetting`] naming a key whose value has the wrong type.
pub(super) fn voxel_setting(value: &Value, unsupported: &mut Vec<String>) -> Result<VoxelSetting, ParamsError> {
    let mut voxel = VoxelSetting::default();
    let Some(keys) = value.as_object() else {
        if !value.is_null() {
            unsupported.push(format!("`voxelSetting`: expected a mapping, got {value}"));
        }
        return Ok(voxel);
    };
    for (key, v) in keys.iter().filter(|(_, v)| !v.is_null()) {
        let bad = |key, expected| ParamsError::VoxelSetting { key, expected, value: v.clone() };
        match key.as_str() {
            "kernelRadius" => {
                voxel.kernel_radius =
                    v.as_u64().filter(|r| *r > 0).ok_or_else(|| bad("kernelRadius", "an integer > 0"))? as usize
            }
            "maskedKernel" => voxel.masked_kernel = v.as_bool().ok_or_else(|| bad("maskedKernel", "true or false"))?,
            "initValue" => voxel.init_value = float(v).ok_or_else(|| bad("initValue", "a number or nan"))?,
            "voxelBatch" => {
                let n = v.as_i64().ok_or_else(|| bad("voxelBatch", "an integer"))?;
                voxel.voxel_batch = usize::try_from(n).ok().filter(|n| *n > 0);
            }
            other => unsupported.push(format!("`voxelSetting` `{other}` is not one of PyRadiomics' keys")),
        }
    }
    Ok(voxel)
}

/// A number, or text that reads as one (`nan`, `inf`: YAML 1.2 reads a plain `nan` as text).
fn float(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().trim_start_matches('.').parse().ok()))
}
