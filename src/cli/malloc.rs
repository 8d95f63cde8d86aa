//! Allocator tuning for `radx extract` (glibc only).
//!
//! - **One arena.** glibc gives threads that allocate at once arenas of their own (up to
//!   eight per core), and what a thread frees stays resident in its arena for that arena's
//!   next allocations. One case's extraction allocates a few large, short-lived buffers from
//!   five threads (the main one, the image reader, the shape's thread and the rayon
//!   workers): in separate arenas, what one phase frees is not reused by the next, and the
//!   peak resident memory grows by the difference. With one arena, the 256×256×96 case
//!   peaks at 17.7 MiB instead of 19.3 and the 512×512×200 case at 60.6 instead of 68.2, at
//!   the same speed.
//! - **glibc's own thresholds.** glibc maps a buffer above a threshold on its own (the
//!   threshold starts at 128 KiB and rises to the largest buffer freed) and returns the
//!   heap's free top beyond twice that. Raising both far above one case's buffers (256 and
//!   512 MiB), so that every freed buffer is reused rather than faulted in afresh, was 4–6 %
//!   faster, but took the 256×256×96 case's peak (IBSI library) from 17.3 to 17.7 MiB on
//!   average and to 18.2 MiB at most, past its 18 MiB budget (1.5× the image). Fixed
//!   thresholds of 1 and 32 MiB kept the peak down but cost the 512×512×200 case 6 ms of
//!   CPU: a fixed threshold turns off glibc's rising one. So they stay glibc's.
//!
//! Batches keep glibc's defaults: their cases allocate side by side, one arena's lock cost
//! them 14 % of their throughput with two jobs, and a long batch should give memory back.

/// Use one malloc arena for the whole process, unless the user set the arena count
/// (`GLIBC_TUNABLES=glibc.malloc.arena_max=…` or `MALLOC_ARENA_MAX`). Call it before any
/// other thread starts.
pub fn one_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let user_set = std::env::var_os("MALLOC_ARENA_MAX").is_some()
            || std::env::var_os("GLIBC_TUNABLES").is_some_and(|t| t.to_string_lossy().contains("arena_max"));
        if !user_set {
            // SAFETY: `mallopt` only sets an allocator parameter, and no other thread exists yet
            // to be allocating while it does. A failure (return value 0) leaves the default.
            unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
        }
    }
}
