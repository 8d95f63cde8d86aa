//! Criterion benches of the ROI geometry (IBSI 3.1) and intensity peaks (IBSI 3.2) on a
//! ~200 000-voxel ellipsoid, as cut out of a 512×512×200 CT-like grid (0.9×0.9×1.2 mm) and
//! cropped to its bounding box (plus the peak sphere's margin for the image).
//! A small (~8 000-voxel) ellipsoid compares the direct and FFT pair sums for Moran/Geary.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array3, ShapeBuilder};
use radx_core::grid::Grid;
use radx_core::local_intensity::{global_intensity_peak, required_margin};
use radx_core::morphology::autocorrelation::spatial_autocorrelation_with;
use radx_core::morphology::enclosing::{
    MVEE_TOLERANCE, minimum_volume_enclosing_ellipsoid, oriented_minimum_bounding_box,
};
use radx_core::morphology::{AutocorrelationMethod, ConvexHull, MeshSize, surface_mesh};
use radx_core::volume::Volume;

const SPACING: [f64; 3] = [0.9, 0.9, 1.2];

/// Ellipsoid with semi-axes `semi` (mm) centred in its box, image = smooth gradient plus a
/// deterministic integer texture (xorshift), with `margin` background voxels around the ROI.
fn ellipsoid(semi: [f64; 3], margin: [usize; 3]) -> (Volume<f64>, Array3<bool>) {
    let half = [0, 1, 2].map(|a| (semi[a] / SPACING[a]).ceil() as usize);
    let dims = [0, 1, 2].map(|a| 2 * (half[a] + margin[a]) + 1);
    let centre = [0, 1, 2].map(|a| (half[a] + margin[a]) as f64);
    let mut mask = Array3::from_elem((dims[0], dims[1], dims[2]).f(), false);
    let mut image = Volume::filled(Grid::new(dims, SPACING), 0.0);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for ((x, y, z), m) in mask.indexed_iter_mut() {
        let p = [x, y, z];
        let r2: f64 = (0..3).map(|a| ((p[a] as f64 - centre[a]) * SPACING[a] / semi[a]).powi(2)).sum();
        *m = r2 <= 1.0;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        image.data[[x, y, z]] = 40.0 + 0.5 * x as f64 - 0.3 * z as f64 + (state % 50) as f64;
    }
    (image, mask)
}

/// Mask of the ellipsoid `radx::synthetic` draws for ~200 000 voxels on its 0.8×0.8×2 mm grid:
/// semi-axes 1.3r : r : 0.8r with 4/3·π·1.04·r³ = 200 000 · 1.28 mm³, r ≈ 38.9 mm.
fn synthetic_case_mask() -> (Array3<bool>, [f64; 3]) {
    let spacing = [0.8, 0.8, 2.0];
    let r = (200_000.0 * 1.28 / (4.0 / 3.0 * std::f64::consts::PI * 1.3 * 0.8)).cbrt();
    let semi = [1.3 * r, r, 0.8 * r];
    let half = [0, 1, 2].map(|a| (semi[a] / spacing[a]).ceil() as usize);
    let dims = half.map(|h| 2 * h + 3);
    let centre = half.map(|h| h as f64 + 1.0);
    let mask = Array3::from_shape_fn((dims[0], dims[1], dims[2]).f(), |(x, y, z)| {
        let p = [x, y, z];
        (0..3).map(|a| ((p[a] as f64 - centre[a]) * spacing[a] / semi[a]).powi(2)).sum::<f64>() <= 1.0
    });
    (mask, spacing)
}

fn benches(c: &mut Criterion) {
    let (ombb_mask, ombb_spacing) = synthetic_case_mask();
    let ombb_hull = ConvexHull::of_mesh(&surface_mesh(&ombb_mask, ombb_spacing));
    eprintln!(
        "OMBB ROI: {} voxels, hull {} vertices, {} triangles",
        ombb_mask.iter().filter(|&&m| m).count(),
        ombb_hull.vertices.len(),
        ombb_hull.triangles.len()
    );
    let mut g = c.benchmark_group("ombb_200k");
    g.sample_size(10);
    g.bench_function("oriented_minimum_bounding_box", |b| b.iter(|| oriented_minimum_bounding_box(&ombb_hull)));
    g.bench_function("minimum_volume_enclosing_ellipsoid", |b| {
        b.iter(|| minimum_volume_enclosing_ellipsoid(&ombb_hull.vertices, MVEE_TOLERANCE))
    });
    g.finish();

    let margin = required_margin(SPACING);
    // 4/3·π·40.5·32.4·36 ≈ 197 900 mm³ → ≈ 203 600 voxels of 0.972 mm³.
    let (image, mask) = ellipsoid([40.5, 32.4, 36.0], margin);
    let n = mask.iter().filter(|&&m| m).count();
    eprintln!("large ROI: {n} voxels, image {:?}", image.grid.dims);
    let mesh = surface_mesh(&mask, SPACING);
    let mut g = c.benchmark_group("morphology_200k");
    g.sample_size(10);
    g.bench_function("surface_mesh", |b| b.iter(|| surface_mesh(&mask, SPACING)));
    // Counted at every memory check that builds a mesh.
    g.bench_function("mesh_size", |b| b.iter(|| MeshSize::of(&mask, SPACING)));
    g.bench_function("hull_max_diameter", |b| b.iter(|| ConvexHull::of_mesh(&mesh).max_diameter()));
    g.bench_function("moran_geary_auto", |b| {
        b.iter(|| spatial_autocorrelation_with(&image, &mask, AutocorrelationMethod::Auto))
    });
    g.bench_function("global_intensity_peak", |b| b.iter(|| global_intensity_peak(&image, &mask)));
    g.finish();

    let (small_image, small_mask) = ellipsoid([12.0, 11.0, 13.0], [0; 3]);
    let n_small = small_mask.iter().filter(|&&m| m).count();
    eprintln!("small ROI: {n_small} voxels, box {:?}", small_image.grid.dims);
    let mut g = c.benchmark_group("moran_geary_small");
    g.sample_size(10);
    for method in [AutocorrelationMethod::Direct, AutocorrelationMethod::Fft] {
        g.bench_function(format!("{method:?}"), |b| {
            b.iter(|| spatial_autocorrelation_with(&small_image, &small_mask, method))
        });
    }
    g.finish();
}

criterion_group!(morphology, benches);
criterion_main!(morphology);
