//! PyRadiomics' 3D shape source (`pyr_shape`): its marching-cubes volume and area, its
//! covariance eigenvalues, and the diameters of the ROI's IBSI surface mesh (whose vertices
//! PyRadiomics' mesh shares). Apart from the shape module, so the shape can call it without a
//! circle of imports.

use std::collections::BTreeMap;

use radx_core::morphology::contour::Contour2d;
use radx_core::morphology::enclosing::max_squared_distance_2d;
use radx_dsl::SourceData;

/// `pyr_shape` data of the morphological `mask`: PyRadiomics' mesh volume and area
/// ([`pyradiomics_volume_area`]), the diameters from the IBSI surface `mesh` (`max_3d` its
/// largest vertex distance) and PyRadiomics' covariance eigenvalues
/// ([`pyradiomics_eigenvalues`]; `pca` are radx's, of the sample covariance).
pub fn shape_source(
    mask: &ndarray::Array3<bool>,
    spacing: [f64; 3],
    mesh: &radx_core::morphology::Mesh,
    max_3d: f64,
    pca: [f64; 3],
) -> SourceData {
    let n = radx_core::volume::count_true(mask) as f64;
    let (signed_volume, mesh_area) = pyradiomics_volume_area(mask, spacing);
    // PyRadiomics reports the signed sum, which its table makes negative on some masks (three
    // voxels touching only at edges, for one): radx reports its magnitude, a documented
    // difference (tests/differential/DIFFERENCES.md).
    let mesh_volume = signed_volume.abs();
    let lambda = pyradiomics_eigenvalues(mask, spacing, pca);
    SourceData::new()
        .with_scalar("Np", n)
        .with_scalar("voxel_volume", spacing.iter().product())
        .with_scalar("mesh_volume", mesh_volume)
        .with_scalar("mesh_area", mesh_area)
        .with_scalar("lambda_major", lambda[0])
        .with_scalar("lambda_minor", lambda[1])
        .with_scalar("lambda_least", lambda[2])
        .with_scalar("max_3d", max_3d)
        .with_scalar("max_2d_slice", max_plane_diameter(mesh, 2))
        .with_scalar("max_2d_column", max_plane_diameter(mesh, 1))
        .with_scalar("max_2d_row", max_plane_diameter(mesh, 0))
}

/// Largest distance between two mesh vertices that share the doubled-index coordinate
/// `axis` (PyRadiomics' 2D diameters). Within a plane the distance is that of the other two
/// coordinates, so each plane's farthest pair is found among its 2D hull's vertices.
fn max_plane_diameter(mesh: &radx_core::morphology::Mesh, axis: usize) -> f64 {
    let keys = mesh.half_index_vertices();
    let [u, v] = match axis {
        0 => [1, 2],
        1 => [0, 2],
        _ => [0, 1],
    };
    let mut planes: BTreeMap<i64, Vec<[f64; 2]>> = BTreeMap::new();
    for (key, p) in keys.iter().zip(&mesh.vertices) {
        planes.entry(key[axis]).or_default().push([p[u], p[v]]);
    }
    planes.values().map(|points| max_squared_distance_2d(points)).fold(0.0f64, f64::max).sqrt()
}

/// PyRadiomics' covariance eigenvalues of the voxel centres (mm², descending): of the
/// *population* covariance (PyRadiomics divides by N; radx's `pca`, of the sample covariance,
/// is rescaled), and exactly 0 where the centres are collinear or coplanar.
///
/// PyRadiomics takes NumPy's eigenvalues and sets those in (−1e−10, 0) to 0, so on such ROIs
/// its zeros are exact (or LAPACK round-off); radx's Jacobi solver leaves ~1e−16 mm² there,
/// whose square root (LeastAxisLength = 4√λ ≈ 1e−7 mm) is far from 0 at PyRadiomics'
/// precision. So the affine rank of the centres is found exactly (integer indices), and for
/// rank < 3 the non-zero eigenvalues come from the exact integer moments in closed form.
pub fn pyradiomics_eigenvalues(mask: &ndarray::Array3<bool>, spacing: [f64; 3], pca: [f64; 3]) -> [f64; 3] {
    let points = || mask.indexed_iter().filter(|(_, m)| **m).map(|((x, y, z), _)| [x as i64, y as i64, z as i64]);
    let rank = affine_rank(points);
    let n = points().count() as i64;
    if n == 0 {
        return [f64::NAN; 3];
    }
    if rank == 3 {
        return pca.map(|l| l * (n - 1) as f64 / n as f64);
    }
    // Covariance numerators M_rs = n·Σ x_r x_s − Σ x_r · Σ x_s (exact), C = M / n² in mm².
    let mut first = [0i128; 3];
    let mut second = [[0i128; 3]; 3];
    for p in points() {
        for r in 0..3 {
            first[r] += i128::from(p[r]);
            for s in 0..3 {
                second[r][s] += i128::from(p[r] * p[s]);
            }
        }
    }
    let n128 = i128::from(n);
    let m: [[i128; 3]; 3] = std::array::from_fn(|r| std::array::from_fn(|s| n128 * second[r][s] - first[r] * first[s]));
    let n2 = (n as f64).powi(2);
    let trace: f64 = (0..3).map(|r| m[r][r] as f64 * spacing[r] * spacing[r] / n2).sum();
    if rank < 2 {
        return [trace, 0.0, 0.0];
    }
    // Rank 2: λ₁ + λ₂ = trace, λ₁·λ₂ = the sum of the principal 2×2 minors.
    let minors: f64 = [(0, 1), (0, 2), (1, 2)]
        .into_iter()
        .map(|(r, s)| {
            let minor = m[r][r]
                .checked_mul(m[s][s])
                .zip(m[r][s].checked_mul(m[r][s]))
                .map_or_else(|| m[r][r] as f64 * m[s][s] as f64 - (m[r][s] as f64).powi(2), |(a, b)| (a - b) as f64);
            minor * (spacing[r] * spacing[s]).powi(2) / (n2 * n2)
        })
        .sum();
    let major = trace / 2.0 + (trace * trace / 4.0 - minors).max(0.0).sqrt();
    [major, if major > 0.0 { (minors / major).max(0.0) } else { 0.0 }, 0.0]
}

/// Dimension of the affine hull of the points `points()` yields (0 for one point or none, 1
/// collinear, 2 coplanar, else 3), exactly; usually stops at the first points off a plane.
fn affine_rank<I: Iterator<Item = [i64; 3]>>(points: impl Fn() -> I) -> usize {
    let sub = |a: [i64; 3], b: [i64; 3]| [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    let cross =
        |a: [i64; 3], b: [i64; 3]| [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    let Some(p0) = points().next() else { return 0 };
    let Some(u) = points().map(|p| sub(p, p0)).find(|d| *d != [0; 3]) else { return 0 };
    let Some(normal) = points().map(|p| cross(u, sub(p, p0))).find(|c| *c != [0; 3]) else { return 1 };
    let off_plane = points().any(|p| {
        let d = sub(p, p0);
        normal[0] * d[0] + normal[1] * d[1] + normal[2] * d[2] != 0
    });
    if off_plane { 3 } else { 2 }
}

/// PyRadiomics' mesh volume (signed) and surface area (mm³, mm²) of `mask`, summed triangle by
/// triangle as its C shape code (`cshape.c`, `calculate_coefficients`) does; not an IBSI measure.
///
/// PyRadiomics crops the mask to its bounding box, pads it by one background voxel and marches
/// cubes over it in (z, y, x) order, with vertices at edge midpoints and coordinates
/// `(index + offset) · spacing` counted from the padding voxel. Its case table
/// ([`PYRADIOMICS_TRIANGLES`]) holds the 128 configurations without the cube corner
/// (z, y, x) + (1, 1, 0); a configuration with that corner in the ROI is looked up by its
/// complement and its tetrahedra counted with the opposite sign. The table joins or separates
/// diagonal ROI corners on a face depending on that corner, so neighbouring cubes can disagree
/// on their shared face: the surface is not closed, and the volume is the signed sum of the
/// triangles' tetrahedra with the padding voxel's corner, which can be smaller than the
/// ROI's, zero or negative (three voxels meeting only at edges: −1/12 voxel).
pub fn pyradiomics_volume_area(mask: &ndarray::Array3<bool>, spacing: [f64; 3]) -> (f64, f64) {
    let Some(bbox) = radx_core::BoundingBox::of_mask(mask) else { return (0.0, 0.0) };
    // PyRadiomics' arrays run (z, y, x); so do its coordinates and spacing.
    let s = [spacing[2], spacing[1], spacing[0]];
    let cubes = [bbox.dims()[2], bbox.dims()[1], bbox.dims()[0]].map(|d| d + 1);
    let inside = |z: usize, y: usize, x: usize| -> bool {
        // Padded index p is voxel bbox.min − 1 + p; the padding is background.
        let at = |p: usize, axis: usize| (p + bbox.min[axis]).checked_sub(1).filter(|&v| v <= bbox.max[axis]);
        match (at(x, 0), at(y, 1), at(z, 2)) {
            (Some(x), Some(y), Some(z)) => mask[[x, y, z]],
            _ => false,
        }
    };
    let (mut six_volume, mut double_area) = (0.0f64, 0.0f64);
    for iz in 0..cubes[0] {
        for iy in 0..cubes[1] {
            for ix in 0..cubes[2] {
                let mut case = 0usize;
                for (corner, [dz, dy, dx]) in PYRADIOMICS_CORNERS.iter().enumerate() {
                    if inside(iz + dz, iy + dy, ix + dx) {
                        case |= 1 << corner;
                    }
                }
                let sign = if case & 0x80 != 0 {
                    case ^= 0xff;
                    -1.0
                } else {
                    1.0
                };
                let base = [iz, iy, ix].map(|v| v as f64);
                for triangle in PYRADIOMICS_TRIANGLES[case] {
                    let [a, b, c] = triangle.map(|e| {
                        let offset = PYRADIOMICS_EDGE_MIDPOINTS[usize::from(e)];
                        [0, 1, 2].map(|d| (base[d] + offset[d]) * s[d])
                    });
                    // The same operations in the same order as PyRadiomics (same bits).
                    let ab = [a[1] * b[2] - b[1] * a[2], a[2] * b[0] - b[2] * a[0], a[0] * b[1] - b[0] * a[1]];
                    six_volume += sign * (ab[0] * c[0] + ab[1] * c[1] + ab[2] * c[2]);
                    let (a, b) = ([0, 1, 2].map(|d| a[d] - c[d]), [0, 1, 2].map(|d| b[d] - c[d]));
                    let ab = [a[1] * b[2] - b[1] * a[2], a[2] * b[0] - b[2] * a[0], a[0] * b[1] - b[0] * a[1]];
                    double_area += 0.5 * (ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2]).sqrt();
                }
            }
        }
    }
    (six_volume / 6.0, double_area)
}

/// PyRadiomics' 2D (`shape2D`) contour measures of the ROI pixels of `mask` (indexed [x, y]) on
/// a grid of `spacing` (x, y) mm, as its C shape code (`calculate_coefficients2D`) sums them:
/// marching squares over the ROI's box padded by one pixel, in (y, x) order, vertices at edge
/// midpoints, coordinates from the padding pixel; the perimeter is the segments' length, the
/// surface the shoelace sum `½ Σ a × b`, the diameter the largest distance between two
/// vertices. On both ambiguous squares (two ROI pixels on a diagonal) PyRadiomics 3.0.1's table
/// cuts the two ROI corners off: pixels touching only at a corner are not joined. `None` for
/// an empty mask.
pub fn pyradiomics_contour_2d(mask: &ndarray::Array2<bool>, spacing: [f64; 2]) -> Option<Contour2d> {
    let (nx, ny) = mask.dim();
    let pixels = || mask.indexed_iter().filter(|(_, m)| **m).map(|(p, _)| p);
    let lo = pixels().fold([usize::MAX; 2], |lo, (x, y)| [lo[0].min(x), lo[1].min(y)]);
    let hi = pixels().fold([0; 2], |hi, (x, y)| [hi[0].max(x), hi[1].max(y)]);
    if lo[0] == usize::MAX {
        return None;
    }
    // PyRadiomics' arrays run (y, x); so do its coordinates and spacing.
    let s = [spacing[1], spacing[0]];
    let inside = |y: usize, x: usize| -> bool {
        // Padded index p is pixel lo − 1 + p; the padding is background.
        match ((x + lo[0]).checked_sub(1), (y + lo[1]).checked_sub(1)) {
            (Some(x), Some(y)) => x <= hi[0] && y <= hi[1] && x < nx && y < ny && mask[[x, y]],
            _ => false,
        }
    };
    let (mut perimeter, mut double_surface) = (0.0f64, 0.0f64);
    let mut vertices: Vec<[f64; 2]> = Vec::new();
    for iy in 0..=hi[1] - lo[1] + 1 {
        for ix in 0..=hi[0] - lo[0] + 1 {
            let mut case = 0usize;
            for (corner, [dy, dx]) in PYRADIOMICS_SQUARE_CORNERS.iter().enumerate() {
                if inside(iy + dy, ix + dx) {
                    case |= 1 << corner;
                }
            }
            for segment in PYRADIOMICS_SEGMENTS[case] {
                let [a, b] = segment.map(|e| {
                    let offset = PYRADIOMICS_SQUARE_EDGE_MIDPOINTS[usize::from(e)];
                    [(iy as f64 + offset[0]) * s[0], (ix as f64 + offset[1]) * s[1]]
                });
                double_surface += a[0] * b[1] - b[0] * a[1];
                perimeter += ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1])).sqrt();
                vertices.push(a);
            }
        }
    }
    // Every vertex starts one segment: the segments' first points are all the vertices.
    let max_diameter = radx_core::morphology::enclosing::max_squared_distance_2d(&vertices).sqrt();
    Some(Contour2d { perimeter, area: (double_surface / 2.0).abs(), max_diameter })
}

// PyRadiomics' marching-cubes and marching-squares tables, from its `radiomics/src/cshape.c` (PyRadiomics 3.0.1):
// Copyright 2017 Harvard Medical School, BSD-3-Clause (the licence's text:
// tests/data/pyradiomics/data/LICENSE-pyradiomics.txt).

/// Cube corner `c` at offset (z, y, x) (PyRadiomics' `gridAngles`).
const PYRADIOMICS_CORNERS: [[usize; 3]; 8] =
    [[0, 0, 0], [0, 0, 1], [0, 1, 1], [0, 1, 0], [1, 0, 0], [1, 0, 1], [1, 1, 1], [1, 1, 0]];

/// Edge `e`'s midpoint as an offset (z, y, x) from the cube's first corner (`vertList`).
const PYRADIOMICS_EDGE_MIDPOINTS: [[f64; 3]; 12] = [
    [0.0, 0.0, 0.5],
    [0.0, 0.5, 1.0],
    [0.0, 1.0, 0.5],
    [0.0, 0.5, 0.0],
    [1.0, 0.0, 0.5],
    [1.0, 0.5, 1.0],
    [1.0, 1.0, 0.5],
    [1.0, 0.5, 0.0],
    [0.5, 0.0, 0.0],
    [0.5, 0.0, 1.0],
    [0.5, 1.0, 1.0],
    [0.5, 1.0, 0.0],
];

/// The triangles (edge triples) of configurations 0–127, bit `c` set when corner `c` is in the
/// ROI (`triTable`).
#[rustfmt::skip]
const PYRADIOMICS_TRIANGLES: [&[[u8; 3]]; 128] = [
    &[],
    &[[0, 8, 3]],
    &[[1, 9, 0]],
    &[[1, 8, 3], [1, 9, 8]],
    &[[1, 2, 10]],
    &[[0, 8, 3], [1, 2, 10]],
    &[[9, 2, 10], [0, 2, 9]],
    &[[2, 8, 3], [2, 10, 8], [10, 9, 8]],
    &[[11, 2, 3]],
    &[[11, 2, 0], [0, 8, 11]],
    &[[1, 9, 0], [11, 2, 3]],
    &[[11, 2, 1], [1, 9, 11], [9, 8, 11]],
    &[[3, 10, 1], [11, 10, 3]],
    &[[10, 1, 0], [0, 8, 10], [8, 11, 10]],
    &[[9, 0, 3], [3, 11, 9], [11, 10, 9]],
    &[[9, 8, 10], [11, 10, 8]],
    &[[4, 7, 8]],
    &[[0, 4, 3], [4, 7, 3]],
    &[[1, 9, 0], [4, 7, 8]],
    &[[1, 9, 4], [1, 4, 7], [1, 7, 3]],
    &[[1, 2, 10], [4, 7, 8]],
    &[[3, 4, 7], [3, 0, 4], [1, 2, 10]],
    &[[9, 2, 10], [9, 0, 2], [4, 7, 8]],
    &[[2, 10, 9], [2, 9, 7], [2, 7, 3], [4, 7, 9]],
    &[[4, 7, 8], [11, 2, 3]],
    &[[11, 4, 7], [11, 2, 4], [2, 0, 4]],
    &[[1, 9, 0], [4, 7, 8], [11, 2, 3]],
    &[[4, 7, 11], [9, 4, 11], [11, 2, 9], [1, 9, 2]],
    &[[3, 10, 1], [11, 10, 3], [4, 7, 8]],
    &[[11, 10, 1], [1, 4, 11], [1, 0, 4], [4, 7, 11]],
    &[[4, 7, 8], [9, 0, 3], [3, 11, 9], [11, 10, 9]],
    &[[4, 7, 11], [4, 11, 9], [9, 11, 10]],
    &[[9, 5, 4]],
    &[[9, 5, 4], [0, 8, 3]],
    &[[0, 5, 4], [0, 1, 5]],
    &[[8, 5, 4], [8, 3, 5], [3, 1, 5]],
    &[[1, 2, 10], [9, 5, 4]],
    &[[0, 8, 3], [1, 2, 10], [9, 5, 4]],
    &[[2, 10, 5], [5, 4, 2], [2, 4, 0]],
    &[[2, 10, 5], [3, 2, 5], [3, 5, 4], [8, 3, 4]],
    &[[9, 5, 4], [11, 2, 3]],
    &[[11, 2, 0], [0, 8, 11], [9, 5, 4]],
    &[[0, 5, 4], [0, 1, 5], [11, 2, 3]],
    &[[2, 1, 5], [2, 5, 8], [11, 2, 8], [5, 4, 8]],
    &[[3, 10, 1], [11, 10, 3], [9, 5, 4]],
    &[[5, 4, 9], [10, 1, 0], [0, 8, 10], [8, 11, 10]],
    &[[5, 4, 0], [5, 0, 11], [10, 5, 11], [11, 0, 3]],
    &[[5, 4, 8], [10, 5, 8], [11, 10, 8]],
    &[[7, 8, 9], [5, 7, 9]],
    &[[3, 0, 9], [5, 3, 9], [3, 5, 7]],
    &[[7, 8, 0], [0, 1, 7], [7, 1, 5]],
    &[[1, 5, 7], [1, 7, 3]],
    &[[7, 8, 9], [5, 7, 9], [1, 2, 10]],
    &[[1, 2, 10], [3, 0, 9], [3, 9, 5], [3, 5, 7]],
    &[[0, 2, 8], [8, 2, 5], [8, 5, 7], [2, 10, 5]],
    &[[2, 10, 5], [2, 5, 3], [3, 5, 7]],
    &[[5, 7, 9], [7, 8, 9], [11, 2, 3]],
    &[[5, 7, 9], [9, 7, 2], [2, 0, 9], [11, 2, 7]],
    &[[11, 2, 3], [0, 1, 8], [1, 7, 8], [1, 5, 7]],
    &[[2, 1, 11], [1, 7, 11], [1, 5, 7]],
    &[[7, 8, 9], [5, 7, 9], [3, 10, 1], [11, 10, 3]],
    &[[5, 7, 0], [5, 0, 9], [7, 11, 0], [10, 1, 0], [11, 10, 0]],
    &[[11, 10, 0], [0, 3, 11], [10, 5, 0], [0, 7, 8], [5, 7, 0]],
    &[[11, 10, 5], [5, 7, 11]],
    &[[6, 5, 10]],
    &[[0, 8, 3], [6, 5, 10]],
    &[[1, 9, 0], [6, 5, 10]],
    &[[1, 8, 3], [1, 9, 8], [6, 5, 10]],
    &[[1, 6, 5], [1, 2, 6]],
    &[[1, 6, 5], [1, 2, 6], [0, 8, 3]],
    &[[9, 6, 5], [9, 0, 6], [0, 2, 6]],
    &[[5, 9, 8], [5, 8, 2], [5, 2, 6], [8, 3, 2]],
    &[[11, 2, 3], [6, 5, 10]],
    &[[11, 2, 0], [0, 8, 11], [6, 5, 10]],
    &[[1, 9, 0], [11, 2, 3], [6, 5, 10]],
    &[[11, 2, 1], [1, 9, 11], [9, 8, 11], [6, 5, 10]],
    &[[6, 3, 11], [6, 5, 3], [5, 1, 3]],
    &[[0, 8, 11], [0, 11, 5], [0, 5, 1], [5, 11, 6]],
    &[[6, 3, 11], [0, 3, 6], [0, 6, 5], [0, 5, 9]],
    &[[6, 5, 9], [6, 9, 11], [11, 9, 8]],
    &[[4, 7, 8], [6, 5, 10]],
    &[[0, 4, 3], [4, 7, 3], [6, 5, 10]],
    &[[1, 9, 0], [4, 7, 8], [6, 5, 10]],
    &[[1, 9, 4], [1, 4, 7], [1, 7, 3], [6, 5, 10]],
    &[[4, 7, 8], [1, 6, 5], [1, 2, 6]],
    &[[0, 4, 3], [4, 7, 3], [1, 6, 5], [1, 2, 6]],
    &[[4, 7, 8], [9, 6, 5], [9, 0, 6], [0, 2, 6]],
    &[[7, 3, 9], [4, 7, 9], [3, 2, 9], [5, 9, 6], [2, 6, 9]],
    &[[11, 2, 3], [4, 7, 8], [6, 5, 10]],
    &[[11, 4, 7], [11, 2, 4], [2, 0, 4], [6, 5, 10]],
    &[[1, 9, 0], [11, 2, 3], [4, 7, 8], [6, 5, 10]],
    &[[4, 7, 11], [9, 4, 11], [11, 2, 9], [1, 9, 2], [6, 5, 10]],
    &[[4, 7, 8], [6, 3, 11], [6, 5, 3], [5, 1, 3]],
    &[[5, 1, 11], [5, 11, 6], [1, 0, 11], [4, 7, 11], [0, 4, 11]],
    &[[4, 7, 8], [6, 3, 11], [0, 3, 6], [0, 6, 5], [0, 5, 9]],
    &[[6, 5, 9], [6, 9, 11], [4, 7, 9], [7, 11, 9]],
    &[[10, 4, 9], [6, 4, 10]],
    &[[10, 4, 9], [6, 4, 10], [0, 8, 3]],
    &[[0, 1, 10], [10, 6, 0], [6, 4, 0]],
    &[[1, 8, 3], [1, 6, 8], [8, 6, 4], [6, 1, 10]],
    &[[1, 4, 9], [1, 2, 4], [2, 6, 4]],
    &[[1, 4, 9], [1, 2, 4], [2, 6, 4], [0, 8, 3]],
    &[[0, 2, 4], [4, 2, 6]],
    &[[8, 3, 2], [8, 2, 4], [4, 2, 6]],
    &[[11, 2, 3], [10, 4, 9], [6, 4, 10]],
    &[[11, 2, 0], [0, 8, 11], [10, 4, 9], [6, 4, 10]],
    &[[11, 2, 3], [0, 1, 10], [10, 6, 0], [6, 4, 0]],
    &[[6, 4, 1], [6, 1, 10], [1, 4, 8], [11, 2, 1], [1, 8, 11]],
    &[[9, 6, 4], [3, 6, 9], [1, 3, 9], [11, 6, 3]],
    &[[1, 8, 11], [0, 8, 1], [11, 6, 1], [1, 4, 9], [6, 4, 1]],
    &[[6, 3, 11], [0, 3, 6], [6, 4, 0]],
    &[[8, 6, 4], [6, 8, 11]],
    &[[6, 7, 10], [7, 8, 10], [8, 9, 10]],
    &[[6, 7, 10], [0, 10, 7], [0, 9, 10], [0, 7, 3]],
    &[[6, 7, 10], [1, 10, 7], [1, 7, 8], [0, 1, 8]],
    &[[6, 7, 10], [1, 10, 7], [1, 7, 3]],
    &[[1, 2, 6], [1, 6, 8], [1, 8, 9], [6, 7, 8]],
    &[[2, 6, 9], [1, 2, 9], [6, 7, 9], [3, 0, 9], [7, 3, 9]],
    &[[0, 7, 8], [7, 0, 6], [6, 0, 2]],
    &[[2, 7, 3], [2, 6, 7]],
    &[[11, 2, 3], [6, 7, 10], [7, 8, 10], [8, 9, 10]],
    &[[2, 0, 7], [11, 2, 7], [0, 9, 7], [6, 7, 10], [9, 10, 7]],
    &[[6, 7, 10], [1, 10, 7], [1, 7, 8], [0, 1, 8], [11, 2, 3]],
    &[[11, 2, 1], [1, 7, 11], [10, 6, 1], [1, 6, 7]],
    &[[8, 9, 6], [6, 7, 8], [1, 6, 9], [11, 6, 3], [1, 3, 6]],
    &[[0, 9, 1], [6, 7, 11]],
    &[[0, 7, 8], [7, 0, 6], [0, 3, 11], [11, 6, 0]],
    &[[6, 7, 11]],
];

/// Square corner `c` at offset (y, x) (`gridAngles2D`).
const PYRADIOMICS_SQUARE_CORNERS: [[usize; 2]; 4] = [[0, 0], [0, 1], [1, 1], [1, 0]];

/// Square edge `e`'s midpoint as an offset (y, x) (`vertList2D`).
const PYRADIOMICS_SQUARE_EDGE_MIDPOINTS: [[f64; 2]; 4] = [[0.0, 0.5], [0.5, 1.0], [1.0, 0.5], [0.5, 0.0]];

/// The segments (edge pairs) of square configurations 0–15, bit `c` set when corner `c` is in
/// the ROI (`lineTable2D`).
const PYRADIOMICS_SEGMENTS: [&[[u8; 2]]; 16] = [
    &[],
    &[[3, 0]],
    &[[0, 1]],
    &[[3, 1]],
    &[[1, 2]],
    &[[1, 2], [3, 0]],
    &[[0, 2]],
    &[[3, 2]],
    &[[2, 3]],
    &[[2, 0]],
    &[[0, 1], [2, 3]],
    &[[2, 1]],
    &[[1, 3]],
    &[[1, 0]],
    &[[0, 3]],
    &[],
];

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn mask(dims: (usize, usize, usize), voxels: &[[usize; 3]]) -> Array3<bool> {
        let mut m = Array3::from_elem(dims, false);
        for &[x, y, z] in voxels {
            m[[x, y, z]] = true;
        }
        m
    }

    #[test]
    fn one_voxel_is_the_octahedron() {
        // Six vertices at the face centres: volume (4/3)·(sx/2)(sy/2)(sz/2) = sx·sy·sz/6; each of
        // the 8 faces has area ½·|(a−c)×(b−c)| with edges from (sx/2, 0, 0) to (0, sy/2, 0), etc.
        let s = [1.0, 2.0, 3.0];
        let (volume, area) = pyradiomics_volume_area(&mask((3, 3, 3), &[[1, 1, 1]]), s);
        assert!((volume - 1.0).abs() < 1e-12, "{volume}");
        let face = 0.5 * ((s[0] * s[1]).powi(2) + (s[0] * s[2]).powi(2) + (s[1] * s[2]).powi(2)).sqrt() / 4.0;
        assert!((area - 8.0 * face).abs() < 1e-12, "{area}");
    }

    #[test]
    fn diagonal_pixels_are_not_joined_in_2d() {
        // Pixels touching at a corner, on either diagonal: two diamonds of ½ pixel each, 8 sides
        // of √2/2, farthest vertices ½ pixel beyond each centre along an axis: √(2² + 1²).
        for pixels in [[[0, 0], [1, 1]], [[1, 0], [0, 1]]] {
            let mut m = ndarray::Array2::from_elem((2, 2), false);
            for p in pixels {
                m[p] = true;
            }
            let c = pyradiomics_contour_2d(&m, [1.0, 1.0]).unwrap();
            assert_eq!(c.area, 1.0);
            assert!((c.perimeter - 4.0 * 2f64.sqrt()).abs() < 1e-12, "{c:?}");
            assert_eq!(c.max_diameter, 5f64.sqrt());
        }
    }

    #[test]
    fn eigenvalues_of_degenerate_rois_are_exact() {
        // Two voxels on a face diagonal, 1 mm apart along x and y: population variance ¼ in x
        // and y, covariance ¼: eigenvalues ½, 0, 0 exactly.
        let line = mask((2, 2, 1), &[[0, 0, 0], [1, 1, 0]]);
        assert_eq!(pyradiomics_eigenvalues(&line, [1.0; 3], [0.5, 1e-17, 1e-18]), [0.5, 0.0, 0.0]);
        // Three voxels always lie in a plane: (0,0,0), (1,0,0), (0,1,1) with spacing 1:
        // the smallest eigenvalue is 0 exactly, the two others sum to the trace.
        let three = mask((2, 2, 2), &[[0, 0, 0], [1, 0, 0], [0, 1, 1]]);
        let l = pyradiomics_eigenvalues(&three, [1.0; 3], [0.0; 3]);
        assert_eq!(l[2], 0.0);
        assert!((l[0] + l[1] - 6.0 / 9.0).abs() < 1e-15, "{l:?}");
        let tetrahedron = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]];
        assert_eq!(affine_rank(|| tetrahedron.into_iter()), 3);
        assert_eq!(affine_rank(|| tetrahedron[..3].iter().copied()), 2);
    }
}
