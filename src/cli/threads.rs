//! Thread counts: `--jobs` and `RAYON_NUM_THREADS` are capped at [`PER_CORE`] threads per
//! core, with a warning. radx's work is CPU-bound, so more threads than that only cost
//! memory and start-up time (100 000 threads took 21 s to spawn before failing, and rayon
//! panicked when it could not start its global pool).

use std::io::Write;

use super::Error;

/// Threads allowed per core.
pub const PER_CORE: usize = 4;

/// The most threads radx starts: [`PER_CORE`] × the cores this process may use.
pub fn cap() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(PER_CORE)
}

/// `requested` threads within `cap`, and the warning to print when it was more.
pub fn capped(requested: usize, cap: usize, what: &str) -> (usize, Option<String>) {
    if requested <= cap {
        return (requested, None);
    }
    let warning = format!(
        "{what} asks for {requested} threads; using {cap} ({PER_CORE} per core): more only cost memory and start-up time"
    );
    (cap, Some(warning))
}

/// Start rayon's global pool within the cap when `RAYON_NUM_THREADS` asks for more (left to
/// rayon otherwise). A pool that cannot start is an error, not a panic later.
pub fn init_global_pool() -> Result<(), Error> {
    let Some(requested) = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok()) else {
        return Ok(());
    };
    let (threads, warning) = capped(requested, cap(), "RAYON_NUM_THREADS");
    let Some(warning) = warning else { return Ok(()) };
    warn(&warning);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| Error::usage(format!("cannot start {threads} worker threads: {e}; set RAYON_NUM_THREADS lower")))
}

/// `--jobs N` within the cap, warning when it was more.
pub fn jobs(requested: usize) -> usize {
    let (threads, warning) = capped(requested, cap(), "--jobs");
    if let Some(warning) = warning {
        warn(&warning);
    }
    threads
}

fn warn(message: &str) {
    // Not eprintln!: it panics when standard error is a closed pipe.
    let _ = writeln!(std::io::stderr(), "warning: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_above_the_cap_are_capped_with_a_warning() {
        assert_eq!(capped(8, 8, "--jobs"), (8, None));
        let (n, warning) = capped(100_000, 8, "--jobs");
        assert_eq!(n, 8);
        assert!(warning.unwrap().contains("--jobs asks for 100000 threads; using 8"));
    }
}
