//! Shared helpers: the test data stays in the repository's `tests/data`.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root (this crate is `crates/radx-engine`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tests/data` of the repository root.
pub fn test_data() -> PathBuf {
    repo_root().join("tests/data")
}
