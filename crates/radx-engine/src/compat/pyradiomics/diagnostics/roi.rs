//! What PyRadiomics reports of an image and of a ROI mask (`generalinfo.py`'s
//! `addImageElements` and `addMaskElements`), computed by radx.

use ndarray::Array3;
use radx_core::components::{Connectivity, find_zones};
use radx_core::{BoundingBox, Grid, Volume};

use super::python;

/// `<prefix>_Spacing`, `_Size`, `_Mean`, `_Minimum`, `_Maximum` of a whole image.
pub fn image_elements(prefix: &str, image: &Volume<f64>) -> Vec<(String, String)> {
    let values: Vec<f64> = image.data.t().iter().copied().collect();
    let mut out = geometry(prefix, &image.grid);
    out.extend(statistics(prefix, &values));
    out
}

/// `<prefix>_Spacing` and `_Size`.
fn geometry(prefix: &str, grid: &Grid) -> Vec<(String, String)> {
    vec![
        (format!("{prefix}_Spacing"), python::float_tuple(&grid.spacing)),
        (format!("{prefix}_Size"), python::int_tuple(&grid.dims)),
    ]
}

/// `<prefix>_Mean`, `_Minimum`, `_Maximum` (numpy's mean: its summation, then ÷ n).
fn statistics(prefix: &str, values: &[f64]) -> Vec<(String, String)> {
    let mean = python::numpy_sum(values) / values.len() as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    vec![
        (format!("{prefix}_Mean"), python::float(mean)),
        (format!("{prefix}_Minimum"), python::float(min)),
        (format!("{prefix}_Maximum"), python::float(max)),
    ]
}

/// `<prefix>_Spacing`, `_Size`, `_BoundingBox` (first voxel x y z, then sizes),
/// `_VoxelNum`, `_VolumeNum` (26-connected parts), `_CenterOfMassIndex` (mean voxel index,
/// x y z) and `_CenterOfMass` (that index in world coordinates, as ITK transforms it);
/// with `image`, the ROI's `_Mean`, `_Minimum` and `_Maximum`.
pub fn mask_elements(prefix: &str, mask: &Volume<bool>, image: Option<&Volume<f64>>) -> Vec<(String, String)> {
    let mut out = geometry(prefix, &mask.grid);
    let Some(bbox) = BoundingBox::of_mask(&mask.data) else { return out };
    let start = bbox.min.iter().chain(&bbox.dims()).copied().collect::<Vec<_>>();
    out.push((format!("{prefix}_BoundingBox"), python::int_tuple(&start)));
    let (count, centre) = count_and_centre(&mask.data);
    out.push((format!("{prefix}_VoxelNum"), count.to_string()));
    out.push((format!("{prefix}_VolumeNum"), volumes(&mask.data, &bbox).to_string()));
    out.push((format!("{prefix}_CenterOfMassIndex"), python::float_tuple(&centre)));
    out.push((format!("{prefix}_CenterOfMass"), python::float_tuple(&itk_index_to_world(&mask.grid, centre))));
    if let Some(image) = image {
        let values: Vec<f64> =
            image.data.t().iter().zip(mask.data.t().iter()).filter(|(_, m)| **m).map(|(v, _)| *v).collect();
        out.extend(statistics(prefix, &values));
    }
    out
}

/// Number of voxels and their mean index (x, y, z).
fn count_and_centre(mask: &Array3<bool>) -> (usize, [f64; 3]) {
    let (mut count, mut sums) = (0usize, [0.0f64; 3]);
    for ((x, y, z), _) in mask.indexed_iter().filter(|(_, m)| **m) {
        count += 1;
        for (s, i) in sums.iter_mut().zip([x, y, z]) {
            *s += i as f64;
        }
    }
    (count, sums.map(|s| s / count as f64))
}

/// Number of 26-connected parts of the mask (SimpleITK's fully connected components).
fn volumes(mask: &Array3<bool>, bbox: &BoundingBox) -> usize {
    let cropped = Volume { grid: Grid::new(mask.dim().into(), [1.0; 3]), data: mask.clone() }.crop(bbox);
    let levels = cropped.data.map(|&m| u16::from(m));
    find_zones(levels.view(), Connectivity::Volumetric, None).map_or(0, |zones| zones.len())
}

/// ITK's `TransformContinuousIndexToPhysicalPoint`: origin + (direction · diag(spacing)) ·
/// index, the matrix formed first (so the last bits are ITK's).
fn itk_index_to_world(grid: &Grid, index: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| (0..3).fold(grid.origin[i], |p, j| p + grid.direction[i][j] * grid.spacing[j] * index[j]))
}
