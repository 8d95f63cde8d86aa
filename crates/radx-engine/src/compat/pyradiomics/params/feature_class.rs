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

/// The keys of the top-level mapping `section` (`featureClass`, `imageType`) in the file's
/// order (a `serde_json` map sorts them; PyRadiomics keeps the file's order); empty when
/// the file has no such mapping.
pub(super) fn keys_in_order(text: &str, section: &str) -> Vec<String> {
    use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
    /// A value's keys in order if it is a mapping; nothing for any other value.
    struct Keys(Vec<String>);
    struct KeysVisitor;
    impl<'de> Visitor<'de> for KeysVisitor {
        type Value = Keys;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
            let mut keys = Vec::new();
            while let Some((key, IgnoredAny)) = map.next_entry::<String, _>()? {
                keys.push(key);
            }
            Ok(Keys(keys))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Keys, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Keys(Vec::new()))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Keys, E> {
            Ok(Keys(Vec::new()))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Keys, E> {
            Ok(Keys(Vec::new()))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Keys, E> {
            Ok(Keys(Vec::new()))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Keys, E> {
            Ok(Keys(Vec::new()))
        }
        fn visit_str<E>(self, _: &str) -> Result<Keys, E> {
            Ok(Keys(Vec::new()))
        }
        fn visit_unit<E>(self) -> Result<Keys, E> {
            Ok(Keys(Vec::new()))
        }
        fn visit_none<E>(self) -> Result<Keys, E> {
            Ok(Keys(Vec::new()))
        }
    }
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(KeysVisitor)
        }
    }
    /// The top level: each section with its keys, in order.
    struct Sections(Vec<(String, Keys)>);
    impl<'de> serde::Deserialize<'de> for Sections {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct SectionsVisitor;
            impl<'de> Visitor<'de> for SectionsVisitor {
                type Value = Sections;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a mapping")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sections, A::Error> {
                    let mut sections = Vec::new();
                    while let Some(entry) = map.next_entry::<String, Keys>()? {
                        sections.push(entry);
                    }
                    Ok(Sections(sections))
                }
            }
            deserializer.deserialize_map(SectionsVisitor)
        }
    }
    serde_saphyr::from_str::<Sections>(text)
        .ok()
        .and_then(|s| s.0.into_iter().find(|(name, _)| name == section))
        .map_or_else(Vec::new, |(_, keys)| keys.0)
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
