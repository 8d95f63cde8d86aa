//! Allocator tuning for `radx extract` (glibc only).
//!
//! glibc gives threads that allocate at once arenas of their own (up to eight per core), and
//! what a thread frees stays resident in its arena for that arena's next allocations. One
//! case's extraction allocates a few large, short-lived buffers from five threads (the main
//! one, the image reader, the shape's thread and the rayon workers): in separate arenas, what
//! one phase frees is not reused by the next, and the peak resident memory grows by the
//! difference. With one arena, the 256×256×96 case peaks at 17.7 MiB instead of 19.3 and
//! the 512×512×200 case at 60.6 instead of 68.2, at the same speed. Batches keep glibc's
//! default: their cases allocate side by side, and one arena's lock cost them 14 % of their
//! throughput with two jobs.

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
