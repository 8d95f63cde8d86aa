//! Phase timings for finding where a run spends its time: with the environment variable
//! `RADX_TIMINGS` set, [`mark`] prints the time since the first mark and the phase that
//! just ended to standard error (e.g. `radx: 12.4 ms  image read`). Without it, a mark
//! costs one relaxed load.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<&'static Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    START.get_or_init(|| std::env::var_os("RADX_TIMINGS").map(|_| Instant::now())).as_ref()
}

/// Note that the phase `what` has just ended (printed only with `RADX_TIMINGS` set).
pub fn mark(what: &str) {
    if let Some(start) = start() {
        eprintln!("radx: {:8.1} ms  {what}", start.elapsed().as_secs_f64() * 1e3);
    }
}
