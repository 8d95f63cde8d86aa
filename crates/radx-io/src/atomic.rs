//! Atomic file output: write to a temporary file in the target's directory, then rename.
//!
//! A crash or error mid-write never leaves a half-written image under the final name
//! (a batch that resumes would otherwise read it as valid). The temporary file is created
//! with the process's ordinary permissions (umask applies) and removed on failure.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::IoError;

/// Distinguishes temporary files of concurrent writes within one process.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Run `body` on a buffered writer to a temporary file next to `path`, flush and sync it,
/// then rename it over `path`.
pub(crate) fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> Result<(), IoError>,
) -> Result<(), IoError> {
    let werr = |source| IoError::Write { path: path.to_path_buf(), source };
    let name = path
        .file_name()
        .ok_or_else(|| werr(std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path has no file name")))?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp: PathBuf = dir.join(format!(
        ".{}.{}-{}.part",
        name.to_string_lossy(),
        std::process::id(),
        NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
    ));
    let file = OpenOptions::new().write(true).create_new(true).open(&temp).map_err(werr)?;
    let result = fill_and_sync(file, body, werr).and_then(|()| fs::rename(&temp, path).map_err(werr));
    if result.is_err() {
        // Best effort: the temporary file is garbage now; the original error is what matters.
        let _ = fs::remove_file(&temp);
    }
    result
}

fn fill_and_sync(
    file: File,
    body: impl FnOnce(&mut dyn Write) -> Result<(), IoError>,
    werr: impl Fn(std::io::Error) -> IoError,
) -> Result<(), IoError> {
    let mut out = BufWriter::with_capacity(1 << 16, file);
    body(&mut out)?;
    let file = out.into_inner().map_err(|e| werr(e.into_error()))?;
    file.sync_all().map_err(werr)
}
