//! Typed 3D volumes on a [`Grid`], bounding boxes and cropping.

use ndarray::{Array3, ShapeBuilder, s};

use crate::grid::Grid;

/// A 3D array of voxels on a world grid. `data` is indexed `[x, y, z]` and stored
/// x-fastest (Fortran layout); `data.dim()` always equals `grid.dims`.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume<T> {
    /// Where the voxels are.
    pub grid: Grid,
    /// The voxel values, `[x, y, z]`.
    pub data: Array3<T>,
}

impl<T: Clone> Volume<T> {
    /// A volume filled with `value`.
    pub fn filled(grid: Grid, value: T) -> Self {
        let [nx, ny, nz] = grid.dims;
        Volume { grid, data: Array3::from_elem((nx, ny, nz).f(), value) }
    }

    /// Build from voxels listed x-fastest (as stored in NIfTI/NRRD files).
    ///
    /// # Panics
    /// If `values.len()` is not the grid's voxel count (a caller bug, not bad input).
    pub fn from_x_fastest(grid: Grid, values: Vec<T>) -> Self {
        let [nx, ny, nz] = grid.dims;
        let data = Array3::from_shape_vec((nx, ny, nz).f(), values).expect("voxel count matches the grid");
        Volume { grid, data }
    }

    /// Voxels in x-fastest order.
    pub fn to_x_fastest(&self) -> Vec<T> {
        // Iterating the reversed-axes view visits z outermost and x innermost.
        self.data.t().iter().cloned().collect()
    }

    /// Same grid, values mapped voxel by voxel.
    pub fn map<U>(&self, f: impl FnMut(&T) -> U) -> Volume<U> {
        Volume { grid: self.grid, data: self.data.map(f) }
    }

    /// The sub-volume inside `bbox`; its grid origin moves to the box's first voxel.
    pub fn crop(&self, bbox: &BoundingBox) -> Volume<T> {
        let d = self.data.slice(s![bbox.min[0]..=bbox.max[0], bbox.min[1]..=bbox.max[1], bbox.min[2]..=bbox.max[2]]);
        let mut data = Array3::from_elem(d.dim().f(), d[[0, 0, 0]].clone());
        data.assign(&d);
        let mut grid = self.grid;
        grid.dims = [data.dim().0, data.dim().1, data.dim().2];
        grid.origin = self.grid.index_to_world([bbox.min[0] as f64, bbox.min[1] as f64, bbox.min[2] as f64]);
        Volume { grid, data }
    }
}

/// An inclusive box of voxel indices, `[x, y, z]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundingBox {
    /// First voxel inside the box.
    pub min: [usize; 3],
    /// Last voxel inside the box (inclusive).
    pub max: [usize; 3],
}

/// Number of `true` voxels, counted in memory order: `iter` walks index order (z fastest),
/// which on the pipeline's x-fastest arrays strides through memory, 4× slower on a
/// 550 000-voxel box.
pub fn count_true(mask: &Array3<bool>) -> usize {
    mask.fold(0, |n, &m| n + usize::from(m))
}

impl BoundingBox {
    /// The smallest box holding every `true` voxel, or `None` when there is none.
    pub fn of_mask(mask: &Array3<bool>) -> Option<BoundingBox> {
        BoundingBox::of_where(mask, |&m| m)
    }

    /// The smallest box holding every voxel for which `inside` holds (e.g. the voxels with a
    /// grey level, `|&l| l > 0`), or `None` when there is none.
    pub fn of_where<T>(mask: &Array3<T>, inside: impl Fn(&T) -> bool) -> Option<BoundingBox> {
        let mut ends = LaneEnds::default();
        // Lane by lane along x: only a lane's first and last `true` matter, and finding them
        // is a scan from each end, not six comparisons per voxel (this runs several times per
        // case, over boxes of up to millions of voxels).
        let (nx, ny, nz) = mask.dim();
        // x-fastest (the pipeline's layout): the lanes are the memory's consecutive runs of
        // `nx`, read without a view per lane (3-10x faster on a cropped ROI's box).
        let memory = if mask.t().is_standard_layout() { mask.as_slice_memory_order() } else { None };
        if let Some(memory) = memory.filter(|_| nx > 0) {
            for (lane, xs) in memory.chunks_exact(nx).enumerate() {
                ends.add_lane(xs, &inside, lane % ny, lane / ny);
            }
            return ends.bounding_box();
        }
        for z in 0..nz {
            for y in 0..ny {
                let lane = mask.slice(ndarray::s![.., y, z]);
                match lane.as_slice() {
                    Some(xs) => ends.add_lane(xs, &inside, y, z),
                    None => {
                        if let (Some(first), Some(last)) =
                            (lane.iter().position(&inside), lane.iter().rposition(&inside))
                        {
                            ends.add_ends(first, last, y, z);
                        }
                    }
                }
            }
        }
        ends.bounding_box()
    }

    /// Grow by `margin` voxels on every side, clamped to `dims`.
    pub fn grown(&self, margin: [usize; 3], dims: [usize; 3]) -> BoundingBox {
        let mut b = *self;
        for a in 0..3 {
            b.min[a] = b.min[a].saturating_sub(margin[a]);
            b.max[a] = (b.max[a] + margin[a]).min(dims[a] - 1);
        }
        b
    }

    /// Size of the box in voxels.
    pub fn dims(&self) -> [usize; 3] {
        [self.max[0] - self.min[0] + 1, self.max[1] - self.min[1] + 1, self.max[2] - self.min[2] + 1]
    }
}

/// The box of the `true` voxels seen so far, lane by lane (see [`BoundingBox::of_mask`]).
struct LaneEnds {
    min: [usize; 3],
    max: [usize; 3],
}

impl Default for LaneEnds {
    fn default() -> LaneEnds {
        LaneEnds { min: [usize::MAX; 3], max: [0; 3] }
    }
}

impl LaneEnds {
    /// An x-lane at `(y, z)`.
    fn add_lane<T>(&mut self, xs: &[T], inside: &impl Fn(&T) -> bool, y: usize, z: usize) {
        // Most lanes of a cropped box hold no voxel: an OR over the lane vectorises (a scan
        // that stops at the first `true` does not), and only lanes that hold one are scanned.
        if !xs.iter().fold(false, |any, m| any | inside(m)) {
            return;
        }
        let first = xs.iter().position(inside).unwrap_or(0);
        let last = xs.iter().rposition(inside).unwrap_or(0);
        self.add_ends(first, last, y, z);
    }

    /// An x-lane at `(y, z)` whose first and last `true` are at `first` and `last`.
    fn add_ends(&mut self, first: usize, last: usize, y: usize, z: usize) {
        self.min = [self.min[0].min(first), self.min[1].min(y), self.min[2].min(z)];
        self.max = [self.max[0].max(last), self.max[1].max(y), self.max[2].max(z)];
    }

    fn bounding_box(&self) -> Option<BoundingBox> {
        (self.min[0] != usize::MAX).then_some(BoundingBox { min: self.min, max: self.max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_fastest_round_trip_and_indexing() {
        let grid = Grid::new([3, 2, 2], [1.0; 3]);
        let v = Volume::from_x_fastest(grid, (0..12).collect::<Vec<i32>>());
        assert_eq!(v.data[[1, 0, 0]], 1);
        assert_eq!(v.data[[0, 1, 0]], 3);
        assert_eq!(v.data[[0, 0, 1]], 6);
        assert_eq!(v.to_x_fastest(), (0..12).collect::<Vec<i32>>());
    }

    #[test]
    fn crop_moves_origin_to_first_voxel() {
        let mut grid = Grid::new([4, 4, 4], [2.0, 2.0, 3.0]);
        grid.origin = [1.0, 1.0, 1.0];
        let v = Volume::from_x_fastest(grid, (0..64).collect::<Vec<i32>>());
        let bbox = BoundingBox { min: [1, 2, 3], max: [2, 3, 3] };
        let c = v.crop(&bbox);
        assert_eq!(c.grid.dims, [2, 2, 1]);
        assert_eq!(c.grid.origin, [3.0, 5.0, 10.0]);
        assert_eq!(c.data[[0, 0, 0]], v.data[[1, 2, 3]]);
        assert_eq!(c.data[[1, 1, 0]], v.data[[2, 3, 3]]);
    }

    #[test]
    fn bounding_box_of_mask_and_margin() {
        let mut m = Array3::from_elem((5, 5, 5).f(), false);
        m[[1, 2, 3]] = true;
        m[[3, 2, 4]] = true;
        let b = BoundingBox::of_mask(&m).unwrap();
        assert_eq!(b, BoundingBox { min: [1, 2, 3], max: [3, 2, 4] });
        assert_eq!(b.grown([1, 1, 1], [5, 5, 5]), BoundingBox { min: [0, 1, 2], max: [4, 3, 4] });
        assert!(BoundingBox::of_mask(&Array3::from_elem((2, 2, 2).f(), false)).is_none());
    }
}
