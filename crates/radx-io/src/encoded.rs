//! A volume held as the bytes an image file stores its voxels in: a feature map's writer
//! sets the few voxels that differ from one map to the next and writes the same buffer
//! again, instead of converting every voxel of the grid for each map.

use std::io::Write;

use radx_core::Grid;

use crate::voxel::{VALUES_PER_WRITE, WriteFailure};

/// A volume of little-endian `f32` voxels, x-fastest, as NIfTI and NRRD files store them
/// ([`crate::write_nifti_f32`], [`crate::write_nrrd_f32`]): the same bytes, in the same writes,
/// as [`crate::write_nifti`] with [`crate::NiftiType::F32`] of the volume's values.
#[derive(Debug, Clone, PartialEq)]
pub struct F32Volume {
    /// The volume's grid.
    pub grid: Grid,
    bytes: Vec<u8>,
}

impl F32Volume {
    /// Every voxel `value` (converted to `f32` as the writers convert it).
    pub fn filled(grid: Grid, value: f64) -> F32Volume {
        let count: usize = grid.dims.iter().product();
        F32Volume { grid, bytes: (value as f32).to_le_bytes().repeat(count) }
    }

    /// Set the voxel at grid index `index` (inside the grid) to `value`.
    pub fn set(&mut self, index: [usize; 3], value: f64) {
        let [nx, ny, _] = self.grid.dims;
        let at = 4 * (index[0] + nx * (index[1] + ny * index[2]));
        self.bytes[at..at + 4].copy_from_slice(&(value as f32).to_le_bytes());
    }

    /// Write the voxels' bytes, cut into the writes [`crate::voxel`]'s writer makes: a
    /// compressor's output may depend on how its input is cut.
    pub(crate) fn write_to<W: Write + ?Sized>(&self, writer: &mut W) -> Result<(), WriteFailure> {
        for chunk in self.bytes.chunks(VALUES_PER_WRITE * 4) {
            writer.write_all(chunk).map_err(WriteFailure::Io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use radx_core::Volume;

    use super::*;
    use crate::{NiftiType, VoxelType};

    /// A grid of more voxels than one write holds, with NaN, a value `f32` rounds, and
    /// values on both sides of zero.
    fn volume() -> (Volume<f64>, F32Volume) {
        let grid = Grid::new([40, 30, 9], [0.8, 0.8, 2.5]);
        assert!(grid.dims.iter().product::<usize>() > VALUES_PER_WRITE);
        let mut values = Volume::filled(grid, f64::NAN);
        let mut encoded = F32Volume::filled(grid, f64::NAN);
        for (k, index) in [[0, 0, 0], [39, 29, 8], [7, 3, 4], [12, 20, 6]].into_iter().enumerate() {
            let value = [0.1, -3.5e7, 1.0 / 3.0, 0.0][k];
            values.data[index] = value;
            encoded.set(index, value);
        }
        (values, encoded)
    }

    #[test]
    fn an_encoded_volume_writes_the_bytes_of_its_values() {
        let dir = tempfile::tempdir().unwrap();
        let (values, encoded) = volume();
        for name in ["a.nii.gz", "a.nii"] {
            let (plain, fast) = (dir.path().join(format!("plain_{name}")), dir.path().join(format!("fast_{name}")));
            crate::write_nifti(&plain, &values, NiftiType::F32).unwrap();
            crate::write_nifti_f32(&fast, &encoded).unwrap();
            assert_eq!(std::fs::read(&plain).unwrap(), std::fs::read(&fast).unwrap(), "{name}");
        }
        let (plain, fast) = (dir.path().join("plain.nrrd"), dir.path().join("fast.nrrd"));
        crate::write_nrrd(&plain, &values, VoxelType::F32).unwrap();
        crate::write_nrrd_f32(&fast, &encoded).unwrap();
        assert_eq!(std::fs::read(&plain).unwrap(), std::fs::read(&fast).unwrap());
        // And the file reads back as the values (NaN where they are).
        let back = crate::read_volume(&dir.path().join("fast_a.nii.gz")).unwrap();
        for (a, b) in back.data.iter().zip(values.data.iter()) {
            assert!((a.is_nan() && b.is_nan()) || *a == f64::from(*b as f32));
        }
    }
}
