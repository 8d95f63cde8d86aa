//! Typed errors of the image readers and writers.
//!
//! Every variant carries the path of the file it is about, and its message reads as
//! "`<file>`: what is wrong", so a batch log line is actionable on its own.

use std::path::PathBuf;

/// What can go wrong while reading or writing an image file.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The file does not exist.
    #[error("{}: file not found", path.display())]
    NotFound {
        /// The file asked for.
        path: PathBuf,
    },
    /// The operating system refused or failed a read (permissions, I/O error, bad gzip stream…).
    #[error("{}: cannot read: {source}", path.display())]
    Unreadable {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file (or its decompressed stream) ends before the data its header announces.
    #[error("{}: truncated {what}: expected {expected} bytes, got {got}", path.display())]
    Truncated {
        /// The file being read.
        path: PathBuf,
        /// Which part was cut short ("header", "voxel data"…).
        what: &'static str,
        /// Bytes the header announces.
        expected: u64,
        /// Bytes actually present.
        got: u64,
    },
    /// The header is malformed or self-contradictory.
    #[error("{}: invalid or corrupt file: {reason}", path.display())]
    Corrupt {
        /// The file being read.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The voxel type is valid in the format but not a real scalar radx can read (complex, RGB…).
    #[error(
        "{}: unsupported voxel data type {datatype} (radx reads u8, i8, u16, i16, u32, i32, u64, i64, f32, f64)",
        path.display()
    )]
    UnsupportedDatatype {
        /// The file being read.
        path: PathBuf,
        /// The type's name as the file states it.
        datatype: String,
    },
    /// An NRRD encoding or layout this reader does not implement.
    #[error("{}: unsupported NRRD {what}", path.display())]
    Unsupported {
        /// The file being read.
        path: PathBuf,
        /// What is not supported, e.g. "encoding `bzip2` (supported: raw, gzip)".
        what: String,
    },
    /// The image is not a 3D (or 2D) scalar volume.
    #[error("{}: not a 3D image: dimensions {dims:?} (a 4th axis must have size 1)", path.display())]
    NotThreeD {
        /// The file being read.
        path: PathBuf,
        /// Every dimension the header states.
        dims: Vec<u64>,
    },
    /// Reading the image would exceed the memory budget of [`crate::ReadOptions`].
    #[error(
        "{}: reading: the image needs {} MiB ({needed} bytes), more than the memory budget of {} MiB; \
         raise the budget (`--max-memory`) or read a smaller image",
        path.display(), needed.div_ceil(1 << 20), budget.div_ceil(1 << 20)
    )]
    TooLarge {
        /// The file being read.
        path: PathBuf,
        /// Bytes the decoded volume would take.
        needed: u64,
        /// The budget in bytes.
        budget: u64,
    },
    /// The file name does not end in a known image extension.
    #[error("{}: unknown image format (expected .nii, .nii.gz, .nrrd or .nhdr)", path.display())]
    UnknownFormat {
        /// The file asked for.
        path: PathBuf,
    },
    /// A region asked of [`crate::read_region`] does not lie inside the image.
    #[error(
        "{}: the region {min:?}..={max:?} (voxel indices) is not inside the image of size {dims:?}",
        path.display()
    )]
    RegionOutside {
        /// The file being read.
        path: PathBuf,
        /// First voxel of the region.
        min: [usize; 3],
        /// Last voxel of the region (inclusive).
        max: [usize; 3],
        /// The image's size.
        dims: [usize; 3],
    },
    /// An NRRD header names a detached data file outside its own folder, and
    /// [`crate::ReadOptions::allow_external_data`] is off.
    #[error(
        "{}: the detached `data file: {}` is outside the header's folder ({why}); move the data file next \
         to the header, or allow external data files (radx --allow-external-data) if you trust this header",
        path.display(), data_file.display()
    )]
    ExternalData {
        /// The header.
        path: PathBuf,
        /// The data file as the header names it.
        data_file: PathBuf,
        /// Why it counts as outside.
        why: String,
    },
    /// The output path names one of the command's inputs (the same file by device and inode).
    #[error(
        "{}: the output is the input {} (the same file); writing it would destroy the input: choose another \
         output name",
        path.display(), input.display()
    )]
    OutputIsInput {
        /// The output asked for.
        path: PathBuf,
        /// The input it is.
        input: PathBuf,
    },
    /// Writing the output failed.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A voxel value does not fit the requested on-disk type.
    #[error("{}: voxel value {value} cannot be stored as {datatype}", path.display())]
    ValueOutOfRange {
        /// The file being written.
        path: PathBuf,
        /// The offending value.
        value: f64,
        /// The on-disk type requested.
        datatype: &'static str,
    },
}

impl IoError {
    /// The file this error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            IoError::NotFound { path }
            | IoError::Unreadable { path, .. }
            | IoError::Truncated { path, .. }
            | IoError::Corrupt { path, .. }
            | IoError::UnsupportedDatatype { path, .. }
            | IoError::Unsupported { path, .. }
            | IoError::NotThreeD { path, .. }
            | IoError::TooLarge { path, .. }
            | IoError::UnknownFormat { path }
            | IoError::RegionOutside { path, .. }
            | IoError::ExternalData { path, .. }
            | IoError::OutputIsInput { path, .. }
            | IoError::Write { path, .. }
            | IoError::ValueOutOfRange { path, .. } => path,
        }
    }

    /// Map an error from opening or reading `path`: a missing file becomes [`IoError::NotFound`].
    pub(crate) fn from_read(path: &std::path::Path, source: std::io::Error) -> IoError {
        if source.kind() == std::io::ErrorKind::NotFound {
            IoError::NotFound { path: path.to_path_buf() }
        } else {
            IoError::Unreadable { path: path.to_path_buf(), source }
        }
    }

    /// A [`IoError::Corrupt`] for `path`.
    pub(crate) fn corrupt(path: &std::path::Path, reason: impl Into<String>) -> IoError {
        IoError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
    }
}
