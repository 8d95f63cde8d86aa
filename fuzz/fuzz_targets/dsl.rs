//! Fuzz the feature language's parser and checker with the standard registry: any text
//! must compile or give diagnostics, never panic, overflow the stack or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use radx_dsl::{Registry, compile};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let registry = Registry::standard();
    match compile("fuzz.radx", &text, &registry) {
        Ok(_) => {}
        Err(diagnostics) => {
            // Rendering the diagnostics (source lines, carets) must not panic either.
            let _ = diagnostics.to_string();
        }
    }
});
