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
//! - **Freed buffers kept for reuse.** By default glibc maps every buffer above 128 KiB (a
//!   threshold that rises with the largest freed) on its own and unmaps it when freed, and
//!   returns the top of the heap to the system once 128 KiB of it is free. Each phase of an
//!   extraction (crop, discretisation, each texture matrix's padded levels, the FFTs of
//!   Moran's I) then faults its buffers in afresh, page by page. Keeping freed memory for
//!   the next allocation took the 256×256×96 case with the IBSI library from ~3 750 page
//!   faults to ~2 800 and from 36.5 to 34.1 ms (median wall time, runs interleaved), the
//!   256×256×25 one from 15.0 to 14.1 ms and the 512×512×200 one from 218 to 210 ms. The
//!   peaks grew by 0.2 MiB (256×256×96) and 1.2 MiB (512×512×200).
//!
//! Batches keep glibc's defaults: their cases allocate side by side, one arena's lock cost
//! them 14 % of their throughput with two jobs, and a long batch should give memory back.

/// Tune glibc's allocator for one case (see the module documentation), leaving alone any
/// parameter the user set (`GLIBC_TUNABLES=glibc.malloc.…` or the `MALLOC_…` variables).
/// Call it before any other thread starts.
pub fn tune_for_one_case() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var_os("GLIBC_TUNABLES").map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
        let user_set =
            |tunable: &str, variable: &str| tunables.contains(tunable) || std::env::var_os(variable).is_some();
        // Above these, a buffer is mapped on its own and the heap's free top returned: far
        // above any one case's buffers, which are all reused instead.
        const MMAP_THRESHOLD: libc::c_int = 256 << 20;
        const TRIM_THRESHOLD: libc::c_int = 512 << 20;
        let settings = [
            ("arena_max", "MALLOC_ARENA_MAX", libc::M_ARENA_MAX, 1),
            ("mmap_threshold", "MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            ("trim_threshold", "MALLOC_TRIM_THRESHOLD_", libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        ];
        for (tunable, variable, parameter, value) in settings {
            if !user_set(tunable, variable) {
                // SAFETY: `mallopt` only sets an allocator parameter, and no other thread
                // exists yet to be allocating while it does. A failure (return value 0)
                // leaves the default.
                unsafe { libc::mallopt(parameter, value) };
            }
        }
    }
}
