//! Phase timings for finding where a run spends its time: with the environment variable
//! `RADX_TIMINGS` set, [`mark`] prints the time since the first mark and the phase that
//! just ended to standard error, with the process's peak resident memory so far where the
//! system reports it (Linux: `VmHWM`), e.g. `radx: 12.4 ms  18.2 MiB peak  image read`.
//! Without it, a mark costs one relaxed load.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<&'static Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    START.get_or_init(|| std::env::var_os("RADX_TIMINGS").map(|_| Instant::now())).as_ref()
}

/// Note that the phase `what` has just ended (printed only with `RADX_TIMINGS` set).
pub fn mark(what: &str) {
    if let Some(start) = start() {
        let ms = start.elapsed().as_secs_f64() * 1e3;
        match peak_resident_mib() {
            Some(mib) => eprintln!("radx: {ms:8.1} ms {mib:7.1} MiB peak  {what}"),
            None => eprintln!("radx: {ms:8.1} ms  {what}"),
        }
    }
}

/// The process's peak resident set so far, in MiB (`VmHWM` of `/proc/self/status`).
fn peak_resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}
