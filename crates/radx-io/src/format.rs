//! The image formats radx reads, each behind one trait: a reader is picked by the file's
//! name, and every entry point (whole volume, bytes in memory, header, region) goes through
//! it. Another format (DICOM) is another implementation of [`ImageFormat`].

use std::path::Path;

use radx_core::Volume;

use crate::error::IoError;
use crate::stream::VoxelStream;
use crate::{ImageInfo, ReadOptions, has_suffix, nifti, nrrd};

/// One file format's readers.
pub(crate) trait ImageFormat: Sync {
    /// Whether a file of this name is in this format (by its suffix).
    fn claims(&self, path: &Path) -> bool;
    /// The whole image, validated to its end.
    fn read_volume(&self, path: &Path, opts: &ReadOptions) -> Result<Volume<f64>, IoError>;
    /// The whole image from bytes in memory; `name` stands for its path.
    fn read_volume_bytes(&self, name: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Volume<f64>, IoError>;
    /// The header only.
    fn read_info(&self, path: &Path) -> Result<ImageInfo, IoError>;
    /// The file opened at its first voxel; `needed(voxels, voxel_bytes)` is the memory the
    /// caller will allocate for them, checked against `opts`.
    fn open_voxels(
        &self,
        path: &Path,
        opts: &ReadOptions,
        needed: &dyn Fn(u64, u64) -> u64,
    ) -> Result<VoxelStream<'static>, IoError>;
}

/// An [`ImageFormat`] whose readers are the functions of one module (`nifti`, `nrrd`).
macro_rules! module_format {
    ($name:ident, $module:ident, $($suffix:literal),+) => {
        struct $name;

        impl ImageFormat for $name {
            fn claims(&self, path: &Path) -> bool {
                $(has_suffix(path, $suffix))||+
            }
            fn read_volume(&self, path: &Path, opts: &ReadOptions) -> Result<Volume<f64>, IoError> {
                $module::read_volume(path, opts)
            }
            fn read_volume_bytes(&self, name: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Volume<f64>, IoError> {
                $module::read_volume_bytes(name, bytes, opts)
            }
            fn read_info(&self, path: &Path) -> Result<ImageInfo, IoError> {
                $module::read_info(path)
            }
            fn open_voxels(
                &self,
                path: &Path,
                opts: &ReadOptions,
                needed: &dyn Fn(u64, u64) -> u64,
            ) -> Result<VoxelStream<'static>, IoError> {
                $module::open_voxels(path, opts, needed)
            }
        }
    };
}

module_format!(Nifti, nifti, ".nii", ".nii.gz");
module_format!(Nrrd, nrrd, ".nrrd", ".nhdr");

/// Every format radx reads, in the order their names are tried.
const FORMATS: [&dyn ImageFormat; 2] = [&Nifti, &Nrrd];

/// The format of `path`, by its name.
pub(crate) fn format_of(path: &Path) -> Result<&'static dyn ImageFormat, IoError> {
    FORMATS.into_iter().find(|f| f.claims(path)).ok_or_else(|| IoError::UnknownFormat { path: path.to_path_buf() })
}
