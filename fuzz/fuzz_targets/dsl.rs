//! Fuzz the feature language's parser and checker with the engine's registry: any text
//! must compile or give diagnostics, never panic, overflow the stack or hang.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use radx_dsl::{Registry, compile};

fuzz_target!(|data: &[u8]| {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let registry = REGISTRY.get_or_init(|| radx_engine::sources::registry(&Default::default()));
    let text = String::from_utf8_lossy(data);
    if let Err(diagnostics) = compile("fuzz.radx", &text, registry) {
        // Rendering the diagnostics (source lines, carets) must not panic either.
        let _ = diagnostics.to_string();
    }
});
