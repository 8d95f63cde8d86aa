//! IBSI compliance runs: the digital phantom and the CT phantom configurations A–E,
//! processed through the same settings files and feature library users use, joined with
//! the IBSI reference tables (see [`crate::reference`]).

use std::path::Path;

use radx_plugin_host::PluginRegistry;

use crate::Error;
use crate::case::Case;
use crate::extractor::Extractor;
use crate::model::FeatureRow;
pub mod ibsi2;
pub mod reference;

use crate::settings::Settings;
use reference::{CT_PHANTOM_CSV, DIGITAL_PHANTOM_CSV, ReferenceRow, parse_table};

/// The digital phantom and its settings, embedded (IBSI, CC BY 4.0).
const DIGITAL_IMAGE: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/digital_phantom/image.nii.gz"));
const DIGITAL_MASK: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/digital_phantom/mask.nii.gz"));
const DIGITAL_SETTINGS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/digital_phantom.toml"));
/// The settings of configurations A–E (the CT phantom itself is read from disk: it is
/// licensed for non-commercial use only and is not embedded).
pub const CT_SETTINGS: [(&str, &str); 5] = [
    ("A", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/config_a.toml"))),
    ("B", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/config_b.toml"))),
    ("C", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/config_c.toml"))),
    ("D", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/config_d.toml"))),
    ("E", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/config_e.toml"))),
];

/// One line of the compliance report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComplianceRow {
    /// `digital_phantom` or `ct_phantom`.
    pub data: String,
    /// `digital` or `A` … `E`.
    pub config: String,
    /// Feature family.
    pub family: String,
    /// Feature name (radx's).
    pub feature: String,
    /// IBSI tag.
    pub tag: String,
    /// radx aggregation name or `-`.
    pub aggregation: String,
    /// radx's value.
    pub value: f64,
    /// IBSI reference value, when one exists.
    pub reference: Option<f64>,
    /// Tolerance applied, when a reference exists.
    pub tolerance: Option<f64>,
    /// Whether the value reproduces the reference (`None`: no reference).
    pub pass: Option<bool>,
}

/// One line per row that misses its reference value: what, radx's value, the reference.
pub fn failures(rows: &[ComplianceRow]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.pass == Some(false))
        .map(|r| {
            format!(
                "{} {} {} [{}] {}: radx {} vs reference {:?} ± {:?}",
                r.data, r.config, r.feature, r.tag, r.aggregation, r.value, r.reference, r.tolerance
            )
        })
        .collect()
}

/// The tag radx uses for a reference row: the instance id of parametrised features (IVH
/// V10, I90, …), else the feature id. The digital-phantom table lacks instance ids, so
/// they come from the CT table by feature key.
fn reference_tag(row: &ReferenceRow, instance_ids: &[(String, String)]) -> String {
    if !row.ibsi_instance_id.is_empty() {
        return row.ibsi_instance_id.clone();
    }
    instance_ids
        .iter()
        .find(|(key, _)| *key == row.feature_key)
        .map(|(_, id)| id.clone())
        .unwrap_or_else(|| row.ibsi_feature_id.clone())
}

/// Join radx's rows with the reference rows of one data set. Reference rows that radx
/// did not produce appear with a NaN value and fail.
pub fn join(data: &str, config: &str, rows: &[FeatureRow], references: &[ReferenceRow]) -> Vec<ComplianceRow> {
    let instance_ids: Vec<(String, String)> = parse_table(CT_PHANTOM_CSV)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.ibsi_instance_id.is_empty())
        .map(|r| (r.feature_key, r.ibsi_instance_id))
        .collect();
    let keyed: Vec<(String, &ReferenceRow)> = references.iter().map(|r| (reference_tag(r, &instance_ids), r)).collect();
    let mut out = Vec::new();
    let mut used = vec![false; keyed.len()];
    for row in rows {
        let hit = keyed.iter().position(|(tag, r)| {
            r.family == row.key.family && row.tag.as_ref() == Some(tag) && r.aggregation() == row.key.aggregation_name()
        });
        let (reference, tolerance, pass) = match hit {
            Some(k) => {
                used[k] = true;
                let r = keyed[k].1;
                (r.value, r.effective_tolerance(), r.passes(row.value))
            }
            None => (None, None, None),
        };
        out.push(ComplianceRow {
            data: data.into(),
            config: config.into(),
            family: row.key.family.clone(),
            feature: row.key.feature.clone(),
            tag: row.tag_or_dash().to_string(),
            aggregation: row.key.aggregation_name().to_string(),
            value: row.value,
            reference,
            tolerance,
            pass,
        });
    }
    for ((tag, r), _) in keyed.iter().zip(&used).filter(|(_, u)| !**u) {
        if r.has_reference == "yes" {
            out.push(ComplianceRow {
                data: data.into(),
                config: config.into(),
                family: r.family.clone(),
                feature: format!("(not computed: {})", r.feature),
                tag: tag.clone(),
                aggregation: r.aggregation().into(),
                value: f64::NAN,
                reference: r.value,
                tolerance: r.effective_tolerance(),
                pass: Some(false),
            });
        }
    }
    out
}

/// Extract `case` with `settings` (and the IBSI library), its ROI the settings' label.
fn run_case(case: Case, settings: Settings) -> Result<Vec<FeatureRow>, Error> {
    let case = case.with_roi(settings.label);
    Ok(Extractor::new(settings, &[], PluginRegistry::new())?.extract(&case)?.rows)
}

/// The reference rows of an embedded table; a table that does not parse is an error, never
/// an empty table (every value would then pass by having nothing to compare with).
fn references(name: &str, text: &str) -> Result<Vec<ReferenceRow>, Error> {
    parse_table(text).map_err(|e| Error::Reference { table: name.to_string(), message: e.to_string() })
}

/// Run the digital phantom with its IBSI settings and join with the reference table.
pub fn run_digital() -> Result<Vec<ComplianceRow>, Error> {
    let read = |name: &str, bytes: &[u8]| {
        radx_io::read_volume_bytes(std::path::Path::new(name), bytes, &radx_io::ReadOptions::default())
    };
    let image = read("digital_phantom/image.nii.gz", DIGITAL_IMAGE)?;
    let mask = read("digital_phantom/mask.nii.gz", DIGITAL_MASK)?;
    let references = references("reference_values_digital_phantom.csv", DIGITAL_PHANTOM_CSV)?;
    let settings = Settings::from_toml_str(DIGITAL_SETTINGS).map_err(|source| {
        Error::Settings(crate::settings::SettingsError::Parse { path: "digital_phantom.toml".into(), source })
    })?;
    let rows = run_case(Case::new(image, mask), settings)?;
    Ok(join("digital_phantom", "digital", &rows, &references))
}

/// Run CT-phantom configuration `config` (`A` … `E`) from the phantom in `dir`
/// (holding `image.nii.gz` and `mask.nii.gz`).
pub fn run_ct(config: &str, dir: &Path) -> Result<Vec<ComplianceRow>, Error> {
    run_ct_case(config, Case::new(dir.join("image.nii.gz"), dir.join("mask.nii.gz")))
}

/// Run CT-phantom configuration `config` (`A` … `E`) on `case`, the CT phantom read by the
/// caller (e.g. from its DICOM series and RTSTRUCT); its ROI becomes the settings' label,
/// so a binary mask's ROI is 1.
pub fn run_ct_case(config: &str, case: Case) -> Result<Vec<ComplianceRow>, Error> {
    let text = CT_SETTINGS.iter().find(|(c, _)| c.eq_ignore_ascii_case(config)).map(|(_, t)| *t).ok_or_else(|| {
        Error::Usage(format!("unknown CT-phantom configuration `{config}` (expected A, B, C, D or E)"))
    })?;
    let settings = Settings::from_toml_str(text).map_err(|source| {
        Error::Settings(crate::settings::SettingsError::Parse { path: format!("config_{config}.toml"), source })
    })?;
    let data_set = format!("config_{}", config.to_ascii_uppercase());
    let references: Vec<ReferenceRow> = references("reference_values_ct_phantom.csv", CT_PHANTOM_CSV)?
        .into_iter()
        .filter(|r| r.data_set == data_set)
        .collect();
    let rows = run_case(case, settings)?;
    Ok(join("ct_phantom", &config.to_ascii_uppercase(), &rows, &references))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_table_that_does_not_parse_is_an_error_not_an_empty_table() {
        let broken = "data_set,family\nconfig_A\n\"unterminated";
        let err = references("broken.csv", broken).unwrap_err();
        assert!(err.to_string().contains("broken.csv"), "{err}");
    }

    #[test]
    fn the_embedded_reference_tables_parse() {
        assert!(!references("digital", DIGITAL_PHANTOM_CSV).unwrap().is_empty());
        assert!(!references("ct", CT_PHANTOM_CSV).unwrap().is_empty());
    }
}
