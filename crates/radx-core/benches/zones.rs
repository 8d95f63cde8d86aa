//! Criterion benches of the zone and neighbourhood builders (GLSZM, GLDZM, NGTDM, NGLDM)
//! on a CT-sized case.
//!
//! The case is a synthetic 512×512×200 CT-like image (soft-tissue base, smooth structure,
//! deterministic noise) with an ellipsoid ROI of about 200 000 voxels (semi-axes 40, 40,
//! 30 voxels). The image is a function of the voxel index, so only the ROI's bounding box
//! is materialised — which is exactly what radx keeps after cropping, and saves the
//! 400 MB a full f64 volume would take. Levels are a fixed-bin-number discretisation
//! (48 bins) computed here by hand.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array3, ShapeBuilder};
use radx_core::Aggregation;
use radx_core::matrix::DiscretisedRoi;
use radx_core::matrix::gldzm::gldzm;
use radx_core::matrix::glszm::glszm;
use radx_core::matrix::ngldm::{NgldmSettings, ngldm};
use radx_core::matrix::ngtdm::ngtdm;

const DIMS: [usize; 3] = [512, 512, 200];
const CENTRE: [f64; 3] = [256.0, 250.0, 100.0];
const SEMI_AXES: [f64; 3] = [40.0, 40.0, 30.0];
const BINS: usize = 48;

/// Deterministic noise in [-1, 1) from a voxel index (SplitMix64 finaliser).
fn noise(x: usize, y: usize, z: usize) -> f64 {
    let mut h = (x as u64) | ((y as u64) << 20) | ((z as u64) << 40);
    h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// CT-like intensity in HU at a voxel of the 512×512×200 grid.
fn hounsfield(x: usize, y: usize, z: usize) -> f64 {
    let (fx, fy, fz) = (x as f64, y as f64, z as f64);
    40.0 + 80.0 * (fx / 9.0).sin() * (fy / 11.0).cos() + 40.0 * (fz / 6.0).sin() + 25.0 * noise(x, y, z)
}

fn inside_ellipsoid(x: usize, y: usize, z: usize) -> bool {
    let q: f64 = [x, y, z].iter().zip(CENTRE).zip(SEMI_AXES).map(|((&i, c), a)| ((i as f64 - c) / a).powi(2)).sum();
    q <= 1.0
}

fn ct_like_case() -> DiscretisedRoi {
    // Bounding box of the ellipsoid, clipped to the image.
    let lo: [usize; 3] = std::array::from_fn(|a| (CENTRE[a] - SEMI_AXES[a]).floor().max(0.0) as usize);
    let hi: [usize; 3] = std::array::from_fn(|a| ((CENTRE[a] + SEMI_AXES[a]).ceil() as usize).min(DIMS[a] - 1));
    let shape = (hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1);
    let morphological = Array3::from_shape_fn(shape.f(), |(i, j, k)| inside_ellipsoid(lo[0] + i, lo[1] + j, lo[2] + k));
    let image = Array3::from_shape_fn(shape.f(), |(i, j, k)| hounsfield(lo[0] + i, lo[1] + j, lo[2] + k));
    // Fixed bin number (IBSI 2.7): level = floor(BINS · (v − min) / (max − min)) + 1, max → BINS.
    let roi_values = image.iter().zip(&morphological).filter(|(_, m)| **m).map(|(v, _)| *v);
    let (min, max) = roi_values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let levels = ndarray::Zip::from(&image).and(&morphological).map_collect(|&v, &inside| {
        if !inside {
            return 0u16;
        }
        let bin = (BINS as f64 * (v - min) / (max - min)).floor() as usize + 1;
        bin.min(BINS) as u16
    });
    DiscretisedRoi { levels, ng: BINS, morphological, spacing: [0.8, 0.8, 2.0] }
}

fn zone_builders(c: &mut Criterion) {
    let roi = ct_like_case();
    let voxels = roi.levels.iter().filter(|&&l| l > 0).count();
    eprintln!("zones bench: bbox {:?}, {voxels} ROI voxels, ng = {}", roi.levels.dim(), roi.ng);
    let mut group = c.benchmark_group("zones");
    group.sample_size(10);
    for aggregation in [Aggregation::Avg2d, Aggregation::Merged3d] {
        let name = aggregation.name();
        group.bench_function(format!("glszm_{name}"), |b| b.iter(|| glszm(black_box(&roi), aggregation)));
        group.bench_function(format!("gldzm_{name}"), |b| b.iter(|| gldzm(black_box(&roi), aggregation)));
        group.bench_function(format!("ngtdm_{name}"), |b| b.iter(|| ngtdm(black_box(&roi), aggregation)));
        group.bench_function(format!("ngldm_{name}"), |b| {
            b.iter(|| ngldm(black_box(&roi), NgldmSettings::default(), aggregation))
        });
    }
    group.finish();
}

criterion_group!(benches, zone_builders);
criterion_main!(benches);
