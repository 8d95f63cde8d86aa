//! Where command output goes: standard output, or a file written atomically.

use std::io::Write;
use std::path::Path;

use super::Error;

/// Write `text` to standard output in one go. A reader that went away (`radx … | head`)
/// ends the output quietly instead of panicking as `print!` would; other failures (a full
/// disk behind a redirection) are errors.
pub fn write_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(radx_engine::Error::Write { path: "<standard output>".into(), source: e }.into())
        }
        _ => Ok(()),
    }
}

/// Refuse an `output` that is one of the command's `inputs` (the same file, by device and
/// inode), before any work: `-o image.nii` would otherwise replace the image by the table.
pub fn check_output<P: AsRef<Path>>(output: &Path, inputs: &[P]) -> Result<(), Error> {
    Ok(radx_io::check_not_input(output, inputs)?)
}

/// Write `bytes` to `path` atomically (a temporary file in the same folder, synced, then
/// renamed), so a failed or killed run leaves the old file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    Ok(radx_io::write_atomic(path, bytes)?)
}
