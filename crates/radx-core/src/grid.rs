//! The voxel grid of a volume: dimensions, spacing, origin and direction cosines.

use std::fmt;

/// Where a volume's voxels sit in the world (millimetres, patient coordinates).
///
/// All arrays are in (x, y, z) order. `direction` is row-major 3×3; its *columns* are
/// the world directions of the x, y and z index axes, so
/// `world = origin + direction · (index ∘ spacing)`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Grid {
    /// Number of voxels along x, y, z.
    pub dims: [usize; 3],
    /// Voxel size in mm along x, y, z.
    pub spacing: [f64; 3],
    /// World position (mm) of the centre of voxel [0, 0, 0].
    pub origin: [f64; 3],
    /// Direction cosines, row-major; column c is the world direction of index axis c.
    pub direction: [[f64; 3]; 3],
}

/// Identity direction cosines.
pub const IDENTITY: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

impl Grid {
    /// A grid with identity direction and zero origin.
    pub fn new(dims: [usize; 3], spacing: [f64; 3]) -> Self {
        Grid { dims, spacing, origin: [0.0; 3], direction: IDENTITY }
    }

    /// Total number of voxels (saturating: an absurd grid, e.g. from interpolation to a
    /// tiny spacing, reports `usize::MAX` instead of overflowing, and is then refused).
    pub fn len(&self) -> usize {
        self.dims[0].saturating_mul(self.dims[1]).saturating_mul(self.dims[2])
    }

    /// True when the grid holds no voxel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Volume of one voxel in mm³.
    pub fn voxel_volume(&self) -> f64 {
        self.spacing[0] * self.spacing[1] * self.spacing[2]
    }

    /// World coordinates (mm) of the centre of voxel `index` (may be fractional).
    pub fn index_to_world(&self, index: [f64; 3]) -> [f64; 3] {
        let s = [index[0] * self.spacing[0], index[1] * self.spacing[1], index[2] * self.spacing[2]];
        let mut w = self.origin;
        for (r, wr) in w.iter_mut().enumerate() {
            *wr += self.direction[r][0] * s[0] + self.direction[r][1] * s[1] + self.direction[r][2] * s[2];
        }
        w
    }

    /// Compare two grids; sizes must be equal, spacing/origin/direction equal within
    /// `tolerance` (absolute, mm for spacing and origin, unitless for direction).
    /// The error lists every property that differs.
    pub fn check_matches(&self, other: &Grid, tolerance: f64) -> Result<(), GeometryMismatch> {
        let mut differences = Vec::new();
        if self.dims != other.dims {
            differences.push(format!("size {:?} vs {:?}", self.dims, other.dims));
        }
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance);
        if !close(&self.spacing, &other.spacing) {
            differences.push(format!("spacing {:?} vs {:?}", self.spacing, other.spacing));
        }
        if !close(&self.origin, &other.origin) {
            differences.push(format!("origin {:?} vs {:?}", self.origin, other.origin));
        }
        let flat = |d: &[[f64; 3]; 3]| d.iter().flatten().copied().collect::<Vec<_>>();
        if !close(&flat(&self.direction), &flat(&other.direction)) {
            differences.push(format!("direction {:?} vs {:?}", self.direction, other.direction));
        }
        if differences.is_empty() { Ok(()) } else { Err(GeometryMismatch { differences, tolerance }) }
    }
}

/// The properties in which two grids differ (first value: the image, second: the mask).
#[derive(Debug, Clone, PartialEq)]
pub struct GeometryMismatch {
    /// One human-readable line per differing property.
    pub differences: Vec<String>,
    /// The tolerance that was applied.
    pub tolerance: f64,
}

impl fmt::Display for GeometryMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (tolerance {})", self.differences.join("; "), self.tolerance)
    }
}

impl std::error::Error for GeometryMismatch {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_lists_every_difference() {
        let a = Grid::new([4, 4, 4], [1.0, 1.0, 1.0]);
        let mut b = a;
        b.dims = [4, 4, 5];
        b.origin = [0.0, 0.5, 0.0];
        let err = a.check_matches(&b, 1e-3).unwrap_err();
        assert_eq!(err.differences.len(), 2);
        let text = err.to_string();
        assert!(text.contains("size [4, 4, 4] vs [4, 4, 5]"), "{text}");
        assert!(text.contains("origin"), "{text}");
        assert!(a.check_matches(&a, 1e-6).is_ok());
    }

    #[test]
    fn index_to_world_applies_direction_and_spacing() {
        let mut g = Grid::new([2, 2, 2], [2.0, 3.0, 4.0]);
        g.origin = [10.0, 20.0, 30.0];
        g.direction = [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(g.index_to_world([1.0, 1.0, 1.0]), [12.0, 17.0, 34.0]);
    }
}
