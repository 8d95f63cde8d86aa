//! Shared helpers: the test data, the registry and the README stay at the repository root.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root (this crate is `crates/radx-cohort`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
