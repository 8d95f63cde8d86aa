//! radx-io: medical image files in, radx-core [`Volume`]s out.
//!
//! Reads NIfTI-1 and NIfTI-2 (`.nii`, `.nii.gz`) and NRRD (`.nrrd`, `.nhdr` + detached data,
//! raw or gzip encoding) scalar images into `Volume<f64>` on a [`Grid`] in **LPS** world
//! coordinates (the ITK / SimpleITK / PyRadiomics convention), and writes NIfTI-1 and NRRD
//! files for tests and data generators. This is the entry of the IBSI image-processing
//! chain (reference manual, chapter 2 "Image processing"): an image is a 3D stack of 2D
//! slices along z on a regular grid, and the interpolation grid (§ "Interpolation grid",
//! UMPJ) needs the voxel spacing, origin and orientation exactly as the file states them.
//!
//! Every failure is an [`IoError`] naming the file; no input can make a reader panic or
//! allocate more than [`ReadOptions::max_bytes`] for voxel data: sizes are checked
//! against the budget (and, for uncompressed files, against the file length) before any
//! voxel buffer exists.
//!
//! Label maps are read with [`read_volume`] too (radx keeps labels as `f64`, exactly), or as
//! one label's compact boolean mask with [`read_label_mask`]; [`read_region`] decodes only a
//! box of an image (the ROI and its margin), which is what the extraction pipeline reads.
#![forbid(unsafe_code)]

mod atomic;
mod encoded;
mod error;
mod format;
mod geometry;
mod gzip;
pub mod memory;
mod nifti;
mod nrrd;
mod picture;
mod region;
mod stream;
mod synced;
mod text;
mod voxel;

use std::path::Path;
use std::sync::OnceLock;

use format::format_of;

pub use atomic::{AtomicWriteError, check_not_input, write_atomic, write_atomic_with};
pub use encoded::F32Volume;
pub use error::IoError;
pub use picture::{RgbPicture, write_png};
pub use radx_core::{Grid, Volume};
pub use region::{
    EARLY_SLICES_BYTES, LabelMask, RegionRead, RegionRequest, read_label_mask, read_region, read_region_as_requested,
    read_region_when_known, region_reader_bytes,
};
pub use text::{TEXT_INPUT_LIMIT, read_text_limited};
pub use voxel::{NiftiType, VoxelType};

/// Limits applied while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Largest decoded volume accepted, in bytes (8 bytes per voxel). Files claiming more are
    /// refused with [`IoError::TooLarge`] before any voxel buffer is allocated.
    pub max_bytes: u64,
    /// Let an NRRD header's `data file:` name a file outside the header's folder (an
    /// absolute path, `../`, or a symbolic link leading out). Off by default: a header is
    /// often an untrusted upload, and following its path would read any file the process
    /// can (`/etc/passwd` back as intensities). Only turn it on for headers you wrote.
    pub allow_external_data: bool,
}

impl ReadOptions {
    /// The default options with a voxel-data budget of `max_bytes`.
    pub const fn with_budget(max_bytes: u64) -> ReadOptions {
        ReadOptions { max_bytes, allow_external_data: false }
    }
}

impl Default for ReadOptions {
    /// The default memory budget ([`memory::MemoryLimits::budget`]: the least of half the
    /// physical memory, the cgroup limit and `RLIMIT_AS`); detached data only beside the
    /// header.
    fn default() -> Self {
        static BUDGET: OnceLock<u64> = OnceLock::new();
        ReadOptions::with_budget(*BUDGET.get_or_init(|| memory::MemoryLimits::of_this_process().budget()))
    }
}

/// What a file's header says, without its voxels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInfo {
    /// "NIfTI-1", "NIfTI-2" or "NRRD".
    pub format: &'static str,
    /// Voxel grid in LPS world coordinates.
    pub grid: Grid,
    /// On-disk voxel type: "uint8", "int16", "float32"… (see [`VoxelType::name`]).
    pub datatype: String,
    /// One letter per index axis naming the world direction it increases towards
    /// (`L`/`R`, `P`/`A`, `S`/`I`): "LPS" for an identity direction, "RAS" for a RAS+ NIfTI.
    pub orientation: String,
    /// NIfTI intensity scaling `(slope, intercept)` applied on read (`value·slope + intercept`);
    /// `None` when absent, disabled (slope 0) or the identity.
    pub scale: Option<(f64, f64)>,
}

/// True when `path`'s file name ends with `suffix` (ASCII case-insensitive).
pub(crate) fn has_suffix(path: &Path, suffix: &str) -> bool {
    path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).is_some_and(|n| n.ends_with(suffix))
}

/// Open `path` for reading if it is a regular file. A directory, FIFO or device is refused
/// before opening: opening a FIFO blocks until a writer appears, and a device such as
/// `/dev/zero` is an endless stream.
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File, IoError> {
    let meta = std::fs::metadata(path).map_err(|e| IoError::from_read(path, e))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() { "a directory" } else { "not a regular file (a pipe or device)" };
        return Err(IoError::Unreadable {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("{kind}, not an image file")),
        });
    }
    std::fs::File::open(path).map_err(|e| IoError::from_read(path, e))
}

/// Read a scalar 3D (or 2D, as one slice) image with the default memory budget.
/// The format follows the name: `.nii`, `.nii.gz`, `.nrrd`, `.nhdr`.
pub fn read_volume(path: &Path) -> Result<Volume<f64>, IoError> {
    read_volume_with(path, &ReadOptions::default())
}

/// Read a scalar 3D (or 2D) image under explicit [`ReadOptions`].
pub fn read_volume_with(path: &Path, opts: &ReadOptions) -> Result<Volume<f64>, IoError> {
    format_of(path)?.read_volume(path, opts)
}

/// Read an image file that is already in memory (a network upload, a fuzzer's input…).
/// `name_hint` stands for its path: the format follows its suffix as in [`read_volume`]
/// (`.nii`, `.nii.gz`, `.nrrd`), and errors name it. A detached NRRD header (`.nhdr`, or a
/// `data file` field) is refused: there is no folder to find the data file in.
pub fn read_volume_bytes(name_hint: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Volume<f64>, IoError> {
    format_of(name_hint)?.read_volume_bytes(name_hint, bytes, opts)
}

/// True when `path`'s name is one of the formats radx-io reads (`.nii`, `.nii.gz`, `.nrrd`,
/// `.nhdr`), whatever the file holds.
pub fn knows_format(path: &Path) -> bool {
    format_of(path).is_ok()
}

/// Read only the header: grid, voxel type, orientation and scaling (no voxel data is decoded).
pub fn read_info(path: &Path) -> Result<ImageInfo, IoError> {
    format_of(path)?.read_info(path)
}

/// Write a little-endian NIfTI-1 file (`.nii`, or gzip-compressed when the name ends in
/// `.nii.gz`) with sform and (for orthonormal directions) qform set, atomically.
/// Integer types store values rounded to the nearest integer; values outside the type's
/// range, NaN and infinities are refused with [`IoError::ValueOutOfRange`]. Geometry is
/// stored in single precision, as NIfTI-1 requires.
pub fn write_nifti(path: &Path, volume: &Volume<f64>, datatype: NiftiType) -> Result<(), IoError> {
    nifti::write(path, volume, datatype)
}

/// Write an NRRD file (`.nrrd`, attached header, gzip encoding, LPS space), atomically.
/// Value conversion as for [`write_nifti`]; geometry is written with full `f64` precision.
pub fn write_nrrd(path: &Path, volume: &Volume<f64>, datatype: VoxelType) -> Result<(), IoError> {
    nrrd::write(path, volume, datatype)
}

/// [`write_nifti`] of a volume held as `f32` voxels: the same file as `write_nifti` of its
/// values as [`NiftiType::F32`].
pub fn write_nifti_f32(path: &Path, volume: &F32Volume) -> Result<(), IoError> {
    nifti::write_f32(path, volume)
}

/// [`write_nrrd`] of a volume held as `f32` voxels: the same file as `write_nrrd` of its
/// values as [`VoxelType::F32`].
pub fn write_nrrd_f32(path: &Path, volume: &F32Volume) -> Result<(), IoError> {
    nrrd::write_f32(path, volume)
}
