//! Fuzz the settings parser (TOML and YAML) and the validator: any text must parse or give
//! an error, and validation must accept or refuse without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use radx_engine::Settings;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(bytes);
    let parsed = if selector & 1 == 0 { Settings::from_toml_str(&text) } else { Settings::from_yaml_str(&text) };
    if let Ok(settings) = parsed {
        let _ = settings.validate();
    }
});
