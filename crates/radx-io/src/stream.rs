//! An open image positioned at its first voxel: what every reader hands the whole-volume
//! and region readers.

use std::io::{self, Read};
use std::path::PathBuf;

use crate::ImageInfo;
use crate::error::IoError;
use crate::gzip::SkipCheck;
use crate::voxel::{self, ByteOrder, ReadFailure, VoxelType};

/// An open image whose header is read and validated, positioned at its first voxel.
pub(crate) struct VoxelStream<'a> {
    pub(crate) info: ImageInfo,
    pub(crate) kind: VoxelType,
    pub(crate) order: ByteOrder,
    pub(crate) count: usize,
    pub(crate) reader: Box<dyn Read + Send + 'a>,
    pub(crate) gzip: bool,
    /// Turns off the gzip CRC-32 of a stream that will not be read to its end.
    pub(crate) skip_check: Option<SkipCheck>,
    /// The file the voxels come from (the detached data file of an `.nhdr`).
    pub(crate) data_path: PathBuf,
    /// How a bad gzip stream is described, e.g. "while reading the voxel data".
    pub(crate) gzip_context: &'static str,
    /// How many voxels may be allocated up front: `count` when the stream is known to hold
    /// them (a raw file of the right length), fewer for a gzip stream, whose header may claim
    /// far more than it can decode to (`voxel::gzip_reserve`); buffers grow as data arrives.
    pub(crate) reserve: usize,
}

impl VoxelStream<'_> {
    pub(crate) fn data_bytes(&self) -> u64 {
        (self.count as u64).saturating_mul(self.kind.size() as u64)
    }

    /// Map an I/O error met after `got` voxel bytes.
    pub(crate) fn error(&self, got: u64, e: io::Error) -> IoError {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => self.truncated(got),
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput if self.gzip => {
                IoError::corrupt(&self.data_path, format!("bad gzip stream {}: {e}", self.gzip_context))
            }
            _ => IoError::Unreadable { path: self.data_path.clone(), source: e },
        }
    }

    pub(crate) fn truncated(&self, got: u64) -> IoError {
        IoError::Truncated { path: self.data_path.clone(), what: "voxel data", expected: self.data_bytes(), got }
    }

    /// Verify the gzip trailer once the whole stream has been consumed.
    pub(crate) fn finish(&mut self) -> Result<(), IoError> {
        if self.gzip { voxel::finish_gzip(&self.data_path, &mut self.reader) } else { Ok(()) }
    }

    /// Apply the header's intensity scaling (NIfTI `scl_slope`/`scl_inter`).
    pub(crate) fn scale(&self, values: &mut [f64]) {
        if let Some((slope, inter)) = self.info.scale {
            for v in values {
                *v = *v * slope + inter;
            }
        }
    }

    /// Every voxel, x-fastest, scaled; the gzip trailer is checked.
    pub(crate) fn read_all(mut self) -> Result<Vec<f64>, IoError> {
        let mut values = voxel::read_voxels(&mut self.reader, self.kind, self.order, self.count, self.reserve)
            .map_err(|f| match f {
                ReadFailure::Short { got } => self.truncated(got),
                ReadFailure::Io { got, error } => self.error(got, error),
            })?;
        self.finish()?;
        self.scale(&mut values);
        Ok(values)
    }

    /// Bytes of one slice (plane of constant z).
    pub(crate) fn slice_bytes(&self) -> usize {
        let [nx, ny, _] = self.info.grid.dims;
        nx * ny * self.kind.size()
    }

    /// Fill `buf` with slice `z`'s bytes.
    pub(crate) fn read_slice(&mut self, z: usize, buf: &mut [u8]) -> Result<(), IoError> {
        let before = (z * buf.len()) as u64;
        let got = voxel::fill(&mut self.reader, buf).map_err(|e| self.error(before, e))?;
        if got < buf.len() {
            return Err(self.truncated(before + got as u64));
        }
        Ok(())
    }
}
