//! Helpers every command-line test uses: run `radx`, find the test data, turn paths and
//! output bytes into text.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run the `radx` built for these tests with `args`.
pub fn radx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_radx")).args(args).output().expect("radx runs")
}

/// `tests/data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// `tests/data/<rel>` as an argument.
pub fn data_arg(rel: &str) -> String {
    s(&data(rel))
}

/// A path as an argument.
pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
