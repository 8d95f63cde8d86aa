//! Oracle: the IBSI processing diagnostics of the CT phantom (modal values reported by the
//! IBSI 1 teams, tests/data/ibsi/diagnostics_ct_phantom.csv) reproduced step by step for
//! configurations A–E through the user-facing settings files.

use radx_engine::Settings;
use radx_engine::diagnostics::diagnostics;
use radx_engine::ibsi::CT_SETTINGS;
use radx_engine::ibsi::reference::rounding_half_unit;
use radx_engine::pipeline::process;

#[test]
fn ct_phantom_diagnostics_match_the_ibsi_modal_values() {
    let data = crate::common::test_data().join("ibsi");
    let image = radx_engine::io::read_volume(&data.join("ct_phantom/image.nii.gz")).unwrap();
    let labels = radx_engine::io::read_volume(&data.join("ct_phantom/mask.nii.gz")).unwrap();
    let table = std::fs::read_to_string(data.join("diagnostics_ct_phantom.csv")).unwrap();
    let mut compared = 0;
    let mut failures = Vec::new();
    for (config, text) in CT_SETTINGS {
        let settings = Settings::from_toml_str(text).unwrap();
        let roi = settings.label.into();
        let case = process(&image, &labels, roi, &settings).unwrap();
        let ours = diagnostics(&image, &labels, roi, &settings, &case).unwrap();
        for line in table.lines().skip(1).filter(|l| l.starts_with(&format!("config_{config},"))) {
            let f: Vec<&str> = line.split(',').collect();
            let (key, modal): (&str, f64) = (f[3], f[4].parse().unwrap());
            let Some(d) = ours.iter().find(|d| d.key == key) else {
                failures.push(format!("{config} {key}: not computed"));
                continue;
            };
            compared += 1;
            // Modal values are printed to 3 significant digits.
            if (d.value - modal).abs() > rounding_half_unit(modal) * (1.0 + 1e-9) {
                failures.push(format!("{config} {key}: radx {} vs IBSI mode {modal}", d.value));
            }
        }
    }
    assert_eq!(compared, 300, "every diagnostic of the table is compared");
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}
