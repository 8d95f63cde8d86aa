//! Phase timings for finding where a run spends its time. The engine marks the end of each
//! phase; nothing happens unless a front end installed a sink ([`install`]), which then hears
//! the time since the first mark and the process's peak resident memory so far (Linux:
//! `VmHWM`). The `radx` binary installs one that prints when `RADX_TIMINGS` is set. Without a
//! sink a mark costs one atomic load.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One phase that has just ended.
#[derive(Debug, Clone, Copy)]
pub struct Mark<'a> {
    /// What ended, e.g. "image region read".
    pub what: &'a str,
    /// Time since the sink was installed.
    pub elapsed: Duration,
    /// The process's peak resident set so far, in MiB, where the system reports it.
    pub peak_resident_mib: Option<f64>,
}

/// Where marks go: a function of the front end's.
pub type Sink = fn(&Mark<'_>);

static SINK: OnceLock<(Instant, Sink)> = OnceLock::new();

/// Send every later mark to `sink` (once per process; later calls are ignored).
pub fn install(sink: Sink) {
    let _ = SINK.set((Instant::now(), sink));
}

/// Note that the phase `what` has just ended.
pub fn mark(what: &str) {
    if let Some((start, sink)) = SINK.get() {
        sink(&Mark { what, elapsed: start.elapsed(), peak_resident_mib: peak_resident_mib() });
    }
}

/// [`mark`] with a text made only when a sink listens (for marks that format numbers).
pub fn mark_with(what: impl FnOnce() -> String) {
    if SINK.get().is_some() {
        mark(&what());
    }
}

/// The process's peak resident set so far, in MiB (`VmHWM` of `/proc/self/status`).
fn peak_resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}
