//! PyRadiomics' 3D shape source (`pyr_shape`), computed from the ROI's IBSI shape parts.
//! Apart from the shape module, so the shape can call it without a circle of imports.

use std::collections::BTreeMap;

use radx_core::morphology::enclosing::max_squared_distance_2d;
use radx_dsl::SourceData;

/// `pyr_shape` data of the morphological `mask` from its IBSI surface mesh (the diameters
/// come from its vertices, which PyRadiomics' mesh shares), the mesh's largest vertex
/// distance and the voxel centres' covariance eigenvalues (radx's, divided by N − 1).
pub fn shape_source(
    mask: &ndarray::Array3<bool>,
    spacing: [f64; 3],
    mesh: &radx_core::morphology::Mesh,
    max_3d: f64,
    pca: [f64; 3],
) -> SourceData {
    let n = radx_core::volume::count_true(mask) as f64;
    // Volume and area as PyRadiomics sums them (its own case table).
    let (mesh_volume, mesh_area) = radx_core::morphology::mesh::pyradiomics_volume_area(mask, spacing);
    // radx's PCA divides by N − 1; PyRadiomics' by N.
    let lambda = pca.map(|l| l * (n - 1.0) / n);
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
