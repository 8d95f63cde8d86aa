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

/// Why an atomic write failed: the destination could not be written (I/O), or the body
/// that fills it failed with its own error.
#[derive(Debug)]
pub enum AtomicWriteError<E> {
    /// Creating, writing, syncing or renaming the file failed.
    Io(std::io::Error),
    /// The body failed; the destination was left as it was.
    Body(E),
}

/// Write `bytes` to `path` atomically (see [`write_atomic_with`]).
///
/// # Errors
/// [`IoError::Write`] naming `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_with(path, |out| out.write_all(bytes)).map_err(|e| match e {
        AtomicWriteError::Io(source) | AtomicWriteError::Body(source) => {
            IoError::Write { path: path.to_path_buf(), source }
        }
    })
}

/// Run `body` on a buffered writer to a temporary file next to `path` (created with the
/// process's umask), flush and sync it, then rename it over `path`. On any failure the
/// temporary file is removed and `path` is left as it was.
///
/// # Errors
/// [`AtomicWriteError::Io`] when the file cannot be written, [`AtomicWriteError::Body`]
/// with the body's own error.
pub fn write_atomic_with<E>(
    path: &Path,
    body: impl FnOnce(&mut (dyn Write + Send)) -> Result<(), E>,
) -> Result<(), AtomicWriteError<E>> {
    let werr = AtomicWriteError::Io;
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
    let result = fill_and_sync(file, body).and_then(|()| fs::rename(&temp, path).map_err(werr));
    if result.is_err() {
        // Best effort: the temporary file is garbage now; the original error is what matters.
        let _ = fs::remove_file(&temp);
    }
    result
}

/// [`write_atomic_with`] for radx-io's own writers, whose bodies fail with [`IoError`].
pub(crate) fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> Result<(), IoError>,
) -> Result<(), IoError> {
    write_atomic_with(path, |out| body(out)).map_err(|e| match e {
        AtomicWriteError::Io(source) => IoError::Write { path: path.to_path_buf(), source },
        AtomicWriteError::Body(e) => e,
    })
}

fn fill_and_sync<E>(
    file: File,
    body: impl FnOnce(&mut (dyn Write + Send)) -> Result<(), E>,
) -> Result<(), AtomicWriteError<E>> {
    let mut out = BufWriter::with_capacity(1 << 16, file);
    body(&mut out).map_err(AtomicWriteError::Body)?;
    let file = out.into_inner().map_err(|e| AtomicWriteError::Io(e.into_error()))?;
    file.sync_all().map_err(AtomicWriteError::Io)
}
