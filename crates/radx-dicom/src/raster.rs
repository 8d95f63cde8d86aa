//! RTSTRUCT contours to a voxel mask on an image grid.
//!
//! The conventions, which reproduce MIRP's NIfTI masks of the IBSI data voxel for voxel:
//!
//! 1. Contour points (LPS mm) are mapped to continuous voxel indices with the image's
//!    geometry (origin, direction cosines, spacing).
//! 2. A contour belongs to the slice nearest its plane (the mean of its points' z indices,
//!    rounded): every contour is within half a slice of the slice it fills. A contour whose
//!    points span more than half a slice (not parallel to the slices), or whose plane lies
//!    off every slice of the image, is refused.
//! 3. A voxel is inside when its **centre** is inside the polygon (crossing test along the
//!    row, half-open in y: an edge counts when its ends lie on either side of `y > row`).
//! 4. All contours on one slice are combined **even-odd**: a contour inside another is a hole.
//!
//! Only CLOSED_PLANAR contours enclose voxels; open polylines and points are ignored, and a
//! contour of fewer than three points encloses nothing. A contour with no point is refused.

use std::path::Path;

use radx_core::{Grid, Volume};

use crate::error::DicomError;
use crate::rtstruct::{ContourKind, Roi};

/// Largest spread of a contour's points across slices, in slices.
const PLANE_SPREAD: f64 = 0.5;

/// Inverse of a 3×3 matrix (`None` when singular).
fn inverse(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let det = m[0][0] * c(1, 1, 2, 2) - m[0][1] * c(1, 0, 2, 2) + m[0][2] * c(1, 0, 2, 1);
    if det.abs() < 1e-12 {
        return None;
    }
    let adj = [
        [c(1, 1, 2, 2), -c(0, 1, 2, 2), c(0, 1, 1, 2)],
        [-c(1, 0, 2, 2), c(0, 0, 2, 2), -c(0, 0, 1, 2)],
        [c(1, 0, 2, 1), -c(0, 0, 2, 1), c(0, 0, 1, 1)],
    ];
    Some(adj.map(|row| row.map(|v| v / det)))
}

/// World (mm) to continuous voxel index on `grid`.
pub(crate) struct ToIndex {
    inverse: [[f64; 3]; 3],
    origin: [f64; 3],
    spacing: [f64; 3],
}

impl ToIndex {
    /// `None` when the grid's direction cosines are singular.
    pub(crate) fn new(grid: &Grid) -> Option<Self> {
        Some(ToIndex { inverse: inverse(&grid.direction)?, origin: grid.origin, spacing: grid.spacing })
    }

    /// The continuous index of the point `p`.
    pub(crate) fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        self.vector([p[0] - self.origin[0], p[1] - self.origin[1], p[2] - self.origin[2]])
    }

    /// The index step of the displacement `d` (mm).
    pub(crate) fn vector(&self, d: [f64; 3]) -> [f64; 3] {
        let m = &self.inverse;
        std::array::from_fn(|r| (m[r][0] * d[0] + m[r][1] * d[1] + m[r][2] * d[2]) / self.spacing[r])
    }
}

/// A polygon in continuous in-plane indices, on slice `k`.
struct Placed {
    k: usize,
    polygon: Vec<[f64; 2]>,
}

/// Rasterise `roi`'s closed contours on `grid`; `path` (the RTSTRUCT) names errors.
pub fn rasterise(path: &Path, roi: &Roi, grid: &Grid) -> Result<Volume<bool>, DicomError> {
    let error = |contour: usize, reason: String| DicomError::Contour {
        path: path.to_path_buf(),
        roi: roi.name.clone(),
        contour,
        reason,
    };
    let to_index = ToIndex::new(grid).ok_or_else(|| error(0, "the image's direction cosines are singular".into()))?;
    let mut by_slice: Vec<Vec<Vec<[f64; 2]>>> = vec![Vec::new(); grid.dims[2]];
    for (n, contour) in roi.contours.iter().enumerate() {
        if contour.kind != ContourKind::ClosedPlanar {
            continue;
        }
        if let Some(placed) = place(&contour.points, &to_index, grid.dims[2]).map_err(|reason| error(n, reason))? {
            by_slice[placed.k].push(placed.polygon);
        }
    }
    let mut mask = Volume::filled(*grid, false);
    for (k, polygons) in by_slice.iter().enumerate() {
        if !polygons.is_empty() {
            fill_slice(&mut mask, k, polygons);
        }
    }
    Ok(mask)
}

/// Map a contour to its slice; `Ok(None)` for fewer than three points.
fn place(points: &[[f64; 3]], to_index: &ToIndex, nz: usize) -> Result<Option<Placed>, String> {
    if points.is_empty() {
        return Err("empty contour (no points) — remove it from the structure set".into());
    }
    if points.len() < 3 {
        return Ok(None);
    }
    let indices: Vec<[f64; 3]> = points.iter().map(|p| to_index.apply(*p)).collect();
    let (lo, hi) = indices.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p[2]), hi.max(p[2])));
    if hi - lo > PLANE_SPREAD {
        return Err(format!("points span slices {lo:.2}..{hi:.2}: the contour is not parallel to the image's slices"));
    }
    let z = indices.iter().map(|p| p[2]).sum::<f64>() / indices.len() as f64;
    let k = z.round();
    if !(0.0..nz as f64).contains(&k) {
        return Err(format!(
            "its plane (slice {z:.2}) lies off the image's slices 0..{} — is this the right image?",
            nz - 1
        ));
    }
    Ok(Some(Placed { k: k as usize, polygon: indices.iter().map(|p| [p[0], p[1]]).collect() }))
}

/// Set the voxels of slice `k` whose centres lie inside an odd number of `polygons`.
fn fill_slice(mask: &mut Volume<bool>, k: usize, polygons: &[Vec<[f64; 2]>]) {
    let [nx, ny, _] = mask.grid.dims;
    let (y_lo, y_hi) =
        polygons.iter().flatten().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p[1]), hi.max(p[1])));
    let first_row = y_lo.ceil().max(0.0) as usize;
    let last_row = (y_hi.floor().min(ny as f64 - 1.0)).max(-1.0);
    if last_row < 0.0 {
        return;
    }
    let mut crossings = Vec::new();
    for j in first_row..=last_row as usize {
        crossings.clear();
        let y = j as f64;
        for polygon in polygons {
            row_crossings(polygon, y, &mut crossings);
        }
        crossings.sort_by(f64::total_cmp);
        for pair in crossings.chunks_exact(2) {
            // Centre i is inside when pair[0] <= i < pair[1] (an odd count of crossings right of it).
            let start = pair[0].ceil().max(0.0);
            let end = pair[1].ceil().min(nx as f64);
            for i in (start as usize)..(end.max(start) as usize) {
                mask.data[[i, j, k]] = true;
            }
        }
    }
}

/// The x of each polygon edge crossing row `y` (edges closing back to the first point too).
fn row_crossings(polygon: &[[f64; 2]], y: f64, out: &mut Vec<f64>) {
    let n = polygon.len();
    for e in 0..n {
        let (a, b) = (polygon[e], polygon[(e + 1) % n]);
        if (a[1] > y) != (b[1] > y) {
            out.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtstruct::Contour;

    fn square(lo: f64, hi: f64, z: f64) -> Contour {
        let points = vec![[lo, lo, z], [hi, lo, z], [hi, hi, z], [lo, hi, z]];
        Contour { kind: ContourKind::ClosedPlanar, points }
    }

    fn roi(contours: Vec<Contour>) -> Roi {
        Roi { number: "1".into(), name: "r".into(), frame_of_reference_uid: None, contours }
    }

    /// Hand-worked: on a unit grid a square from 1.5 to 5.5 holds the centres 2..=5 (16
    /// voxels); a second square from 2.5 to 4.5 inside it is a hole of centres 3..=4 (4).
    #[test]
    fn voxel_centres_inside_and_holes_even_odd() {
        let grid = Grid::new([8, 8, 3], [1.0, 1.0, 1.0]);
        let mask = rasterise(Path::new("rs.dcm"), &roi(vec![square(1.5, 5.5, 1.2)]), &grid).unwrap();
        assert_eq!(mask.data.iter().filter(|v| **v).count(), 16);
        assert!(mask.data[[2, 2, 1]] && mask.data[[5, 5, 1]] && !mask.data[[6, 5, 1]] && !mask.data[[2, 2, 0]]);
        let holed =
            rasterise(Path::new("rs.dcm"), &roi(vec![square(1.5, 5.5, 1.0), square(2.5, 4.5, 1.0)]), &grid).unwrap();
        assert_eq!(holed.data.iter().filter(|v| **v).count(), 12);
        assert!(!holed.data[[3, 3, 1]] && holed.data[[2, 3, 1]]);
    }

    /// Spacing, origin and a flipped axis are honoured: 2 mm voxels, origin 10 mm, y reversed.
    #[test]
    fn geometry_maps_points_to_indices() {
        let mut grid = Grid::new([6, 6, 2], [2.0, 2.0, 3.0]);
        grid.origin = [10.0, 10.0, 0.0];
        grid.direction = [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
        // x from 11 to 15 mm: indices 0.5..2.5, centres 1, 2; y from 9 to 5 mm: indices 0.5..2.5.
        let points = vec![[11.0, 9.0, 3.1], [15.0, 9.0, 3.1], [15.0, 5.0, 3.1], [11.0, 5.0, 3.1]];
        let c = Contour { kind: ContourKind::ClosedPlanar, points };
        let mask = rasterise(Path::new("rs.dcm"), &roi(vec![c]), &grid).unwrap();
        let inside: Vec<_> = mask.data.indexed_iter().filter(|(_, v)| **v).map(|(i, _)| i).collect();
        assert_eq!(inside, vec![(1, 1, 1), (1, 2, 1), (2, 1, 1), (2, 2, 1)]);
    }
}
