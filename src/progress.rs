//! Progress of a batch on standard error: an indicatif bar (done/total, rate, ETA) on a
//! terminal, and plain lines (every 5 % of the cases or every 10 s, whichever comes first)
//! when standard error is a file or a pipe, e.g. a cluster job's log.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Time between plain progress lines at most.
const LINE_INTERVAL: Duration = Duration::from_secs(10);

/// Shared by the worker threads; every method is cheap and never fails.
pub struct Progress {
    total: usize,
    mode: Mode,
}

enum Mode {
    Silent,
    Bar(indicatif::ProgressBar),
    Lines(Mutex<LineState>),
}

struct LineState {
    done: usize,
    started: Instant,
    last_line: Instant,
    last_percent_step: usize,
}

impl Progress {
    /// Progress over `total` cases; `enabled = false` prints nothing.
    pub fn new(total: usize, enabled: bool) -> Progress {
        let mode = if !enabled || total == 0 {
            Mode::Silent
        } else if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template(
                "{bar:40.cyan/blue} {pos}/{len} cases  {per_sec}  ETA {eta}  [{elapsed_precise}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            Mode::Bar(bar)
        } else {
            let now = Instant::now();
            Mode::Lines(Mutex::new(LineState { done: 0, started: now, last_line: now, last_percent_step: 0 }))
        };
        Progress { total, mode }
    }

    /// One more case finished.
    pub fn case_done(&self) {
        match &self.mode {
            Mode::Silent => {}
            Mode::Bar(bar) => bar.inc(1),
            Mode::Lines(state) => {
                let Ok(mut s) = state.lock() else { return };
                s.done += 1;
                let step = s.done * 20 / self.total; // 5 % steps
                let now = Instant::now();
                if step > s.last_percent_step || now - s.last_line >= LINE_INTERVAL || s.done == self.total {
                    s.last_percent_step = step;
                    s.last_line = now;
                    eprintln!("{}", line(s.done, self.total, now - s.started));
                }
            }
        }
    }

    /// The batch is over (clears the bar).
    pub fn finish(&self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

/// `radx batch: 40/100 cases (40 %), 3.2 cases/s, ETA 19 s`.
fn line(done: usize, total: usize, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { done as f64 / seconds } else { 0.0 };
    let eta = if rate > 0.0 { format!("{:.0} s", (total - done) as f64 / rate) } else { "?".into() };
    format!("radx batch: {done}/{total} cases ({} %), {rate:.2} cases/s, ETA {eta}", done * 100 / total)
}

/// The terminal's view of a batch: a [`Progress`] once the batch says how many cases it runs.
pub struct BatchProgress {
    enabled: bool,
    progress: std::sync::OnceLock<Progress>,
}

impl BatchProgress {
    /// Progress lines or a bar on standard error, unless `enabled` is false (`-q`).
    pub fn new(enabled: bool) -> Self {
        BatchProgress { enabled, progress: std::sync::OnceLock::new() }
    }
}

impl radx_cohort::batch::Progress for BatchProgress {
    fn started(&self, total: usize) {
        let _ = self.progress.set(Progress::new(total, self.enabled));
    }

    fn case_done(&self, _id: &str) {
        if let Some(p) = self.progress.get() {
            p.case_done();
        }
    }

    fn finished(&self) {
        if let Some(p) = self.progress.get() {
            p.finish();
        }
    }
}
