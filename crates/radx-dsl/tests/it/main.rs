//! radx-dsl integration tests, in one binary (one link instead of one per file).
//!
//! Modules are named by kind of test:
//! - `oracle_*`: IBSI reference values for the feature files in `features/`;
//! - `invariant_*`: properties that must hold on any input (round trips, evaluator equals
//!   interpreter, results independent of buffer reuse);
//! - `mechanics_*`: how the compiler, planner and evaluator behave (plans, caches, hostile input);
//! - `regression_*`: pinned outputs (insta snapshots of the diagnostics, `snapshots/`).
//!
//! `common` holds the shared helpers (feature files, the IBSI digital phantom tables).

mod common;

mod invariant_fmt;
mod invariant_properties;
mod invariant_scratch_reuse;
mod mechanics_builtin_cache;
mod mechanics_compile_files;
mod mechanics_eval_budget;
mod mechanics_plan;
mod mechanics_plan_schedule;
mod mechanics_references;
mod mechanics_robustness;
mod oracle_ibsi_glcm;
mod oracle_ibsi_glrlm;
mod oracle_texture_features;
mod regression_error_snapshots;
