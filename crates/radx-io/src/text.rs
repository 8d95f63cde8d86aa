//! Bounded reads of text inputs (settings, feature files, case lists).
//!
//! A size check on `stat` alone does not bound a read: `/dev/zero`, a FIFO or a process
//! substitution report size 0 and then never end. The limit is therefore applied while
//! reading, and pipes stay usable (`--settings <(generate)` works) as long as they end.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The largest text input radx reads: 64 MiB, far above any real settings file, feature
/// library (the largest shipped one is a few kB) or case list (10 000 cases are about 1 MB).
pub const TEXT_INPUT_LIMIT: u64 = 64 << 20;

/// Read the UTF-8 text at `path`, refusing more than `limit` bytes while reading.
///
/// # Errors
/// The open or read error; [`io::ErrorKind::FileTooLarge`] when the input goes on past
/// `limit` bytes (the message says so and suggests a regular file); invalid UTF-8 as
/// [`io::ErrorKind::InvalidData`]. Callers wrap the error with the path they were given.
pub fn read_text_limited(path: &Path, limit: u64) -> io::Result<String> {
    let file = File::open(path)?;
    let mut bytes = Vec::new();
    // One byte more than allowed tells "exactly at the limit" from "beyond it".
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!(
                "the input goes on past {} MiB, the limit for a text input (a device such as /dev/zero, \
                 or a pipe that does not end?): give a regular file",
                limit >> 20
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
    })
}
