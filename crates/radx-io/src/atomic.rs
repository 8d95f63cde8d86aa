//! Output files: written atomically, never over an input, never over something that is not
//! a regular file.
//!
//! A regular file (or a new name) is written to a temporary file in the target's folder,
//! synced, then renamed over the target, so a crash or error mid-write never leaves a
//! half-written file under the final name (a resumed batch would read it as valid). What
//! the destination already is decides the rest:
//!
//! | destination | what happens |
//! |---|---|
//! | absent | created; mode from the umask (0666 & ~umask), as any tool's output |
//! | regular file | replaced atomically; its permission bits are kept |
//! | symbolic link | followed: its target is replaced (the link stays); a dangling link is refused |
//! | character device, FIFO | written directly, not atomically (`-o /dev/stdout`, `-o /dev/null`, a pipe) |
//! | directory, block device, socket | refused |
//!
//! A kill (`kill -9`, power loss) during the write leaves the temporary file behind, named
//! `.<name>.<pid>-<n>.part`; the next write to the same name removes those whose process is
//! gone. [`check_not_input`] refuses an output that is one of the command's inputs (the same
//! file by device and inode, whatever the path says).

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::IoError;

/// Distinguishes temporary files of concurrent writes within one process.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Why an atomic write failed: the destination could not be written (I/O), or the body
/// that fills it failed with its own error.
#[derive(Debug)]
pub enum AtomicWriteError<E> {
    /// Creating, writing, syncing or renaming the file failed, or the destination is not
    /// something radx writes over (a directory, a block device…).
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

/// Refuse to write `output` when it is one of `inputs` (same device and inode: a hard link,
/// a symbolic link or another spelling of the path count too). Inputs that do not exist
/// are skipped, and so is an output that does not exist yet.
///
/// # Errors
/// [`IoError::OutputIsInput`] naming both paths.
pub fn check_not_input<P: AsRef<Path>>(output: &Path, inputs: &[P]) -> Result<(), IoError> {
    let Ok(out) = fs::metadata(output) else { return Ok(()) };
    // A device written directly (`/dev/stdout`) is not replaced; reading stdin is no conflict.
    if !out.is_file() {
        return Ok(());
    }
    for input in inputs {
        let input = input.as_ref();
        if fs::metadata(input).is_ok_and(|m| m.dev() == out.dev() && m.ino() == out.ino()) {
            return Err(IoError::OutputIsInput { path: output.to_path_buf(), input: input.to_path_buf() });
        }
    }
    Ok(())
}

/// Run `body` on a buffered writer to `path`: a regular file (or a new name) is written to
/// a temporary file next to it, flushed, synced and renamed over it; a character device or
/// FIFO is written directly; anything else is refused (see the module's table). On any
/// failure the temporary file is removed and `path` is left as it was.
///
/// # Errors
/// [`AtomicWriteError::Io`] when the file cannot be written, [`AtomicWriteError::Body`]
/// with the body's own error.
pub fn write_atomic_with<E>(
    path: &Path,
    body: impl FnOnce(&mut (dyn Write + Send)) -> Result<(), E>,
) -> Result<(), AtomicWriteError<E>> {
    match destination(path).map_err(AtomicWriteError::Io)? {
        Destination::Stream => write_directly(path, body),
        Destination::File { target, mode } => replace(&target, mode, body),
    }
}

/// What an output path names, once symbolic links are followed.
enum Destination {
    /// A character device or FIFO: written in place.
    Stream,
    /// A regular file (`mode` = its permission bits) or a new name (`mode` = `None`).
    File { target: PathBuf, mode: Option<u32> },
}

fn destination(path: &Path) -> std::io::Result<Destination> {
    let refuse = |what: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the output is {what}; radx replaces only regular files: give a file name"),
        )
    };
    let link = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Destination::File { target: path.to_path_buf(), mode: None });
        }
        Err(e) => return Err(e),
    };
    // Follow a symbolic link to what it names: replacing the link by a file would cut it.
    let (target, meta) = if link.file_type().is_symlink() {
        let target = fs::canonicalize(path).map_err(|_| refuse("a symbolic link to nothing"))?;
        let meta = fs::metadata(&target)?;
        (target, meta)
    } else {
        (path.to_path_buf(), link)
    };
    let kind = meta.file_type();
    if kind.is_file() {
        Ok(Destination::File { target, mode: Some(meta.mode() & 0o7777) })
    } else if kind.is_char_device() || kind.is_fifo() {
        Ok(Destination::Stream)
    } else if kind.is_dir() {
        Err(refuse("a directory"))
    } else if kind.is_block_device() {
        Err(refuse("a block device (a disk)"))
    } else {
        Err(refuse("a socket or another special file"))
    }
}

/// Write a character device or FIFO in place (no temporary file can be renamed over it).
fn write_directly<E>(
    path: &Path,
    body: impl FnOnce(&mut (dyn Write + Send)) -> Result<(), E>,
) -> Result<(), AtomicWriteError<E>> {
    let file = OpenOptions::new().write(true).open(path).map_err(AtomicWriteError::Io)?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    body(&mut out).map_err(AtomicWriteError::Body)?;
    out.flush().map_err(AtomicWriteError::Io)
}

/// Write `target` through a temporary file renamed over it, with the replaced file's
/// permission bits `mode` (the umask's when it is new).
fn replace<E>(
    target: &Path,
    mode: Option<u32>,
    body: impl FnOnce(&mut (dyn Write + Send)) -> Result<(), E>,
) -> Result<(), AtomicWriteError<E>> {
    let werr = AtomicWriteError::Io;
    let name = target
        .file_name()
        .ok_or_else(|| werr(std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path has no file name")))?;
    let name = name.to_string_lossy();
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    remove_stale_temporaries(dir, &name);
    let temp: PathBuf =
        dir.join(format!(".{name}.{}-{}.part", std::process::id(), NEXT_TEMP.fetch_add(1, Ordering::Relaxed)));
    let file = OpenOptions::new().write(true).create_new(true).open(&temp).map_err(werr)?;
    let result = keep_mode(&file, mode)
        .and_then(|()| fill_and_sync(file, body))
        .and_then(|()| fs::rename(&temp, target).map_err(werr));
    if result.is_err() {
        // Best effort: the temporary file is garbage now; the original error is what matters.
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Give the new file the replaced one's permission bits (a table shared with a group
/// stays shared); a new file keeps the umask's.
fn keep_mode<E>(file: &File, mode: Option<u32>) -> Result<(), AtomicWriteError<E>> {
    use std::os::unix::fs::PermissionsExt;
    match mode {
        Some(mode) => file.set_permissions(fs::Permissions::from_mode(mode)).map_err(AtomicWriteError::Io),
        None => Ok(()),
    }
}

/// Remove `.<name>.<pid>-<n>.part` files in `dir` left by killed writes: those whose
/// process no longer runs (`/proc/<pid>` is gone). Without `/proc` nothing is removed, and
/// a file of a live process (perhaps writing now) is left alone. Best effort: a file that
/// cannot be removed does not stop this write.
fn remove_stale_temporaries(dir: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{name}.");
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = temporary_pid(&file_name.to_string_lossy(), &prefix) else { continue };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The writer's process id in a temporary name `<prefix><pid>-<n>.part`, or `None` when
/// the name is not one of ours.
fn temporary_pid(file_name: &str, prefix: &str) -> Option<u32> {
    let rest = file_name.strip_prefix(prefix)?.strip_suffix(".part")?;
    let (pid, n) = rest.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names() {
        assert_eq!(temporary_pid(".t.csv.123-4.part", ".t.csv."), Some(123));
        assert_eq!(temporary_pid(".t.csv.x-4.part", ".t.csv."), None);
        assert_eq!(temporary_pid(".t.csv.123-4.tmp", ".t.csv."), None);
        assert_eq!(temporary_pid(".other.123-4.part", ".t.csv."), None);
    }
}
