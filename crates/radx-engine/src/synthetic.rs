//! Deterministic synthetic CT-like cases (int16 image + ellipsoid mask) for benchmarks,
//! thread-invariance tests and side-by-side comparisons with other tools.
//!
//! The image is air-like noise (−700 HU ± 150) around a textured ellipsoidal lesion
//! (40 + 60·sin(0.3x)·cos(0.2y) ± 60), on a 0.8 × 0.8 × 2 mm grid; the mask is the
//! ellipsoid (semi-axes in ratio 1.3 : 1 : 0.8 in mm) scaled to hold about the requested
//! number of voxels. A SplitMix64 generator makes every run produce the same voxels.

use std::path::Path;

use radx_core::{Grid, Volume};
use radx_io::{IoError, NiftiType, write_nifti};

/// Voxel spacing of every synthetic case, in mm.
pub const SPACING: [f64; 3] = [0.8, 0.8, 2.0];

/// A small deterministic generator (SplitMix64), uniform in [0, 1).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The (image, mask) of a case of size `dims` whose ellipsoid holds about `roi_voxels` voxels.
/// Mask values are 0 and 1; image values are integers in the int16 range.
pub fn case(dims: [usize; 3], roi_voxels: f64) -> (Volume<f64>, Volume<f64>) {
    let spacing = SPACING;
    let volume_mm3 = roi_voxels * spacing.iter().product::<f64>();
    let r = (volume_mm3 / (4.0 / 3.0 * std::f64::consts::PI * 1.3 * 0.8)).cbrt();
    let semi = [1.3 * r, r, 0.8 * r];
    let centre = [dims[0] as f64 / 2.0, dims[1] as f64 / 2.0, dims[2] as f64 / 2.0];
    let mut rng = SplitMix(42);
    let len = dims[0] * dims[1] * dims[2];
    let mut image = Vec::with_capacity(len);
    let mut mask = Vec::with_capacity(len);
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                let d = [
                    (x as f64 - centre[0]) * spacing[0] / semi[0],
                    (y as f64 - centre[1]) * spacing[1] / semi[1],
                    (z as f64 - centre[2]) * spacing[2] / semi[2],
                ];
                let inside = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= 1.0;
                // Air-like background, a textured lesion.
                let base = if inside { 40.0 + 60.0 * (x as f64 * 0.3).sin() * (y as f64 * 0.2).cos() } else { -700.0 };
                let noise = (rng.next() - 0.5) * if inside { 120.0 } else { 300.0 };
                image.push((base + noise).round());
                mask.push(if inside { 1.0 } else { 0.0 });
            }
        }
    }
    let mut grid = Grid::new(dims, spacing);
    grid.origin = [-200.0, -200.0, -100.0];
    (Volume::from_x_fastest(grid, image), Volume::from_x_fastest(grid, mask))
}

/// Write [`case`] as `dir/image.nii.gz` (int16) and `dir/mask.nii.gz` (uint8), creating `dir`.
pub fn write_case(dir: &Path, dims: [usize; 3], roi_voxels: f64) -> Result<(), IoError> {
    std::fs::create_dir_all(dir).map_err(|source| IoError::Write { path: dir.to_path_buf(), source })?;
    let (image, mask) = case(dims, roi_voxels);
    write_nifti(&dir.join("image.nii.gz"), &image, NiftiType::I16)?;
    write_nifti(&dir.join("mask.nii.gz"), &mask, NiftiType::U8)
}
