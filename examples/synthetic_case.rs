//! Writes a deterministic synthetic CT-like case (int16 image + ellipsoid mask) as NIfTI,
//! for benchmarks and side-by-side comparisons with other tools.
//!
//! `cargo run --release --example synthetic_case -- NX NY NZ ROI_VOXELS OUT_DIR`
//! writes `OUT_DIR/image.nii.gz` and `OUT_DIR/mask.nii.gz` (spacing 0.8 × 0.8 × 2 mm).

use std::path::PathBuf;

use radx::core::{Grid, Volume};
use radx::io::{NiftiType, write_nifti};

/// A small deterministic generator (SplitMix64), so every run writes the same bytes.
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 5 {
        eprintln!("usage: synthetic_case NX NY NZ ROI_VOXELS OUT_DIR");
        std::process::exit(2);
    }
    let n: Vec<usize> = args[..4].iter().map(|a| a.parse().expect("a positive integer")).collect();
    let (dims, roi_voxels, out) = ([n[0], n[1], n[2]], n[3] as f64, PathBuf::from(&args[4]));
    std::fs::create_dir_all(&out).expect("output folder");
    let spacing = [0.8, 0.8, 2.0];
    // Ellipsoid with semi-axes in ratio 1.3 : 1 : 0.8 (mm), scaled to hold ~roi_voxels voxels.
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
                let q = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                let inside = q <= 1.0;
                // Air-like background, soft tissue body, a textured lesion.
                let base = if inside { 40.0 + 60.0 * (x as f64 * 0.3).sin() * (y as f64 * 0.2).cos() } else { -700.0 };
                let noise = (rng.next() - 0.5) * if inside { 120.0 } else { 300.0 };
                image.push((base + noise).round());
                mask.push(if inside { 1.0 } else { 0.0 });
            }
        }
    }
    let mut grid = Grid::new(dims, spacing);
    grid.origin = [-200.0, -200.0, -100.0];
    write_nifti(&out.join("image.nii.gz"), &Volume::from_x_fastest(grid, image), NiftiType::I16).expect("image");
    write_nifti(&out.join("mask.nii.gz"), &Volume::from_x_fastest(grid, mask), NiftiType::U8).expect("mask");
    let inside = roi_voxels.round();
    eprintln!("wrote {} ({}x{}x{}, ~{} ROI voxels)", out.display(), dims[0], dims[1], dims[2], inside);
}
