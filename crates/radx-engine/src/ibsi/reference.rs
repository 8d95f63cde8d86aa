//! IBSI reference values (tables transcribed from the IBSI 1 manual) and the
//! comparison rule the IBSI uses for them.
//!
//! The tables are embedded in the binary so `radx ibsi` works from an installed copy.

use serde::Deserialize;

/// The digital-phantom reference table (IBSI 1 manual, CC BY 4.0).
pub const DIGITAL_PHANTOM_CSV: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/reference_values_digital_phantom.csv"));
/// The CT-phantom reference table for configurations A–E (IBSI 1 manual, CC BY 4.0).
pub const CT_PHANTOM_CSV: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/reference_values_ct_phantom.csv"));

/// One row of an IBSI reference table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReferenceRow {
    /// `digital_phantom` or `config_A` … `config_E`.
    pub data_set: String,
    /// radx family name (`morphology`, `glcm`, …).
    pub family: String,
    /// The manual's feature name.
    pub feature: String,
    /// IBSI permanent feature tag (four characters).
    pub ibsi_feature_id: String,
    /// IBSI instance id of a parametrised feature (empty for most).
    #[serde(default)]
    pub ibsi_instance_id: String,
    /// The IBSI compliance key, e.g. `ivh_v10`.
    pub feature_key: String,
    /// IBSI aggregation id (`DHQ4`, `BTW3`, … `KOBO`).
    pub aggregation_id: String,
    /// Reference value (absent where the IBSI has none).
    pub value: Option<f64>,
    /// Published tolerance (0 where none is given).
    pub tolerance: Option<f64>,
    /// `yes` when the manual publishes a tolerance.
    pub tolerance_given: String,
    /// `yes` when a reference value exists.
    pub has_reference: String,
}

impl ReferenceRow {
    /// radx's aggregation name for this row (`-` for non-texture families).
    pub fn aggregation(&self) -> &'static str {
        aggregation_name(&self.aggregation_id)
    }

    /// The tolerance the comparison applies: the published one, or half a unit in the
    /// third significant digit where the manual gives none (values printed to 3 digits).
    pub fn effective_tolerance(&self) -> Option<f64> {
        let reference = self.value?;
        let published = self.tolerance.unwrap_or(0.0);
        Some(if self.tolerance_given == "yes" { published } else { published.max(rounding_half_unit(reference)) })
    }

    /// Whether `value` reproduces this row's reference: `None` when there is no reference.
    ///
    /// As the IBSI (and MIRP's compliance tests) do, the value is first rounded to three
    /// significant digits; a value that is within tolerance before rounding passes too.
    pub fn passes(&self, value: f64) -> Option<bool> {
        if self.has_reference != "yes" {
            return None;
        }
        let reference = self.value?;
        let tol = self.effective_tolerance()? * (1.0 + 1e-9) + 1e-12;
        Some(value.is_finite() && ((value - reference).abs() <= tol || (round_sig(value, 3) - reference).abs() <= tol))
    }
}

/// Half a unit in the third significant digit of `x` (0.0005 for 0.0397 → 0.00005…).
pub fn rounding_half_unit(x: f64) -> f64 {
    if x == 0.0 {
        return 5e-4;
    }
    0.5 * 10f64.powi(x.abs().log10().floor() as i32 - 2)
}

/// `x` rounded to `digits` significant digits.
pub fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// radx aggregation name of an IBSI aggregation id.
pub fn aggregation_name(id: &str) -> &'static str {
    match id {
        "BTW3" | "8QNN" => "2d_avg",
        "SUJT" => "2d_smrg",
        "JJUI" => "2_5d_dmrg",
        "ZW7Z" | "62GR" => "2_5d_mrg",
        "ITBB" => "3d_avg",
        "IAZD" | "KOBO" => "3d_mrg",
        _ => "-",
    }
}

/// Parse an embedded or on-disk reference table.
pub fn parse_table(text: &str) -> Result<Vec<ReferenceRow>, csv::Error> {
    csv::Reader::from_reader(text.as_bytes()).deserialize().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse_with_the_documented_row_counts() {
        let digital = parse_table(DIGITAL_PHANTOM_CSV).unwrap();
        assert_eq!(digital.len(), 487);
        assert_eq!(digital.iter().filter(|r| r.has_reference == "yes").count(), 482);
        let ct = parse_table(CT_PHANTOM_CSV).unwrap();
        assert_eq!(ct.len(), 351 * 2 + 215 * 3);
    }

    #[test]
    fn three_significant_digit_rule() {
        assert_eq!(rounding_half_unit(0.0397), 0.00005);
        assert_eq!(rounding_half_unit(556.0), 0.5);
        assert_eq!(round_sig(0.039749, 3), 0.0397);
        let row = ReferenceRow {
            data_set: "digital_phantom".into(),
            family: "intensity_statistics".into(),
            feature: "Mean".into(),
            ibsi_feature_id: "Q4LE".into(),
            ibsi_instance_id: String::new(),
            feature_key: "stat_mean".into(),
            aggregation_id: "DHQ4".into(),
            value: Some(2.15),
            tolerance: Some(0.0),
            tolerance_given: "no".into(),
            has_reference: "yes".into(),
        };
        assert_eq!(row.passes(2.1486), Some(true));
        assert_eq!(row.passes(2.1549), Some(true));
        assert_eq!(row.passes(2.156), Some(false));
        assert_eq!(row.passes(f64::NAN), Some(false));
    }
}
