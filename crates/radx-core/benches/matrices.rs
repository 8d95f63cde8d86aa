//! Criterion benches of the texture-matrix builders on a synthetic CT-like case.
//!
//! The case stands for a 512×512×200 CT volume with an ellipsoidal ROI of about 200 000
//! voxels, cropped to the ROI's bounding box as the pipeline does before any texture work.
//! Only the cropped box is generated (intensities are a deterministic function of the
//! voxel's position in the full volume), so the bench does not allocate the full 420 MB.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array3, ShapeBuilder};
use radx_core::Aggregation;
use radx_core::matrix::DiscretisedRoi;
use radx_core::matrix::glcm::{GlcmSettings, glcm};
use radx_core::matrix::glrlm::glrlm;
use std::hint::black_box;

/// Number of grey levels of the synthetic case (fixed bin size 25 HU).
const NG: usize = 32;
/// Ellipsoid centre and semi-axes (voxels) inside the 512×512×200 volume:
/// 4/3·π·40·40·30 ≈ 201 000 voxels.
const CENTRE: [f64; 3] = [256.0, 240.0, 100.0];
const SEMI_AXES: [f64; 3] = [40.0, 40.0, 30.0];

/// A deterministic hash-based noise in [-1, 1) (one LCG step on the voxel's flat index).
fn noise(x: usize, y: usize, z: usize) -> f64 {
    let index = (x + 512 * (y + 512 * z)) as u64;
    let state = index.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    ((state >> 33) as f64 / (1u64 << 31) as f64) - 1.0
}

/// CT-like intensity (HU) of voxel (x, y, z) of the full volume: smooth soft-tissue
/// structure plus noise.
fn intensity(x: usize, y: usize, z: usize) -> f64 {
    let (xf, yf, zf) = (x as f64, y as f64, z as f64);
    40.0 + 120.0 * (xf * 0.07).sin() * (yf * 0.05).cos() + 60.0 * (zf * 0.11).sin() + 80.0 * noise(x, y, z)
}

/// The cropped, discretised synthetic ROI.
fn synthetic_roi() -> DiscretisedRoi {
    let lower: [usize; 3] = std::array::from_fn(|a| (CENTRE[a] - SEMI_AXES[a]).floor() as usize);
    let upper: [usize; 3] = std::array::from_fn(|a| (CENTRE[a] + SEMI_AXES[a]).ceil() as usize + 1);
    let dims = (upper[0] - lower[0], upper[1] - lower[1], upper[2] - lower[2]);
    let levels = Array3::from_shape_fn(dims.f(), |(i, j, k)| {
        let (x, y, z) = (i + lower[0], j + lower[1], k + lower[2]);
        let inside = [x, y, z]
            .iter()
            .zip(CENTRE.iter().zip(&SEMI_AXES))
            .map(|(&p, (&c, &r))| ((p as f64 - c) / r).powi(2))
            .sum::<f64>()
            <= 1.0;
        if !inside {
            return 0u16;
        }
        // Fixed bin size 25 HU, lowest bin at -200 HU.
        let bin = (intensity(x, y, z) / 25.0).floor() + 9.0;
        bin.clamp(1.0, NG as f64) as u16
    });
    DiscretisedRoi { morphological: levels.mapv(|g| g > 0), levels, ng: NG, spacing: [1.0; 3] }
}

/// GLCM and GLRLM, 3D merged, on the synthetic case.
fn bench_glcm_glrlm(c: &mut Criterion) {
    let roi = synthetic_roi();
    let voxels = roi.levels.iter().filter(|&&g| g > 0).count();
    eprintln!("synthetic ROI: {:?} box, {voxels} ROI voxels, Ng = {NG}", roi.levels.dim());
    let settings = GlcmSettings::default();
    c.bench_function("glcm_3d_mrg", |b| b.iter(|| glcm(black_box(&roi), &settings, Aggregation::Merged3d)));
    c.bench_function("glrlm_3d_mrg", |b| b.iter(|| glrlm(black_box(&roi), Aggregation::Merged3d)));
}

criterion_group!(glcm_glrlm, bench_glcm_glrlm);
criterion_main!(glcm_glrlm);
