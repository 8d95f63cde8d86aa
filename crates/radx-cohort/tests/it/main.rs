//! radx-cohort integration tests, in one binary (one link instead of one per file).
//!
//! Modules are named by kind of test:
//! - `oracle_*`: IBSI reference values reproduced through the user-facing path; the CT
//!   phantom's test lives here because it writes the compliance registry
//!   (`tests/ibsi_coverage.csv` of the repository root) with the tables' number format.
//! - `mechanics_*`: the batch journal (lock, fingerprint, resume counts), the memory budget
//!   shared by cases run side by side.
//!
//! `common` holds the shared helpers (the repository root, where the test data stays).

mod common;

mod mechanics_budget;
mod mechanics_resume;

mod oracle_ibsi_ct;
