//! Neighbour offsets and slice helpers for the texture-matrix builders (IBSI 1, section 3.6
//! "Grey level co-occurrence based features": direction vectors and Chebyshev distance δ;
//! section 3.1.4 "Neighbourhoods"; section 3.1.7 "Aggregating features" for slices).
//!
//! Every helper here works on flat indices into an `[x, y, z]` array stored x-fastest
//! (Fortran layout), so builders can run tight loops over `as_slice_memory_order()`
//! instead of three-way ndarray indexing. A 2D slice is a plane of constant z.
//!
//! Connected components and distance maps live in their own module.

use std::borrow::Cow;
use std::ops::Range;

use ndarray::Array3;

/// The 4 in-plane directions of a 2D slice (Chebyshev distance 1, 8-connected), one of
/// each ± pair, in the IBSI's order: 0°, 45°, 90°, 135°.
///
/// The IBSI lists the 135° direction as `(-1, 1, 0)`; radx stores its opposite `(1, -1, 0)`
/// so that every direction's first non-zero component is positive, as in the 3D list and in
/// the IBSI's published digital-phantom matrices. The sign matters only for a non-symmetric
/// GLCM, which is then the transpose of the one along the opposite direction.
pub const DIRECTIONS_2D: [[i32; 3]; 4] = [[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, -1, 0]];

/// The 13 directions of a 3D volume (Chebyshev distance 1, 26-connected), one of each ± pair
/// (the one whose first non-zero component is positive), in the order the IBSI lists them.
pub const DIRECTIONS_3D: [[i32; 3]; 13] = [
    [0, 0, 1],
    [0, 1, 0],
    [1, 0, 0],
    [0, 1, 1],
    [0, 1, -1],
    [1, 0, 1],
    [1, 0, -1],
    [1, 1, 0],
    [1, -1, 0],
    [1, 1, 1],
    [1, 1, -1],
    [1, -1, 1],
    [1, -1, -1],
];

/// The index offset `(Δx, Δy, Δz)` of the neighbour at Chebyshev distance `distance` along
/// `direction` (a unit direction such as those in [`DIRECTIONS_3D`]): `distance · direction`.
///
/// For δ = 3 and direction `(1, -1, 0)` this is `(3, -3, 0)`, as in the IBSI's example.
pub fn offsets(direction: [i32; 3], distance: usize) -> [isize; 3] {
    let distance = distance as isize;
    direction.map(|component| component as isize * distance)
}

/// `values` (x-fastest, dimensions `dims`) inside a one-voxel border of zeros, into `out`
/// (x-fastest, `dims + 2` per axis; its buffer is reused): every neighbour of a voxel then
/// exists, and a voxel outside the original array reads as 0 (outside the ROI).
pub fn pad_with_zeros<T: Copy + Default>(values: &[T], dims: [usize; 3], out: &mut Vec<T>) {
    pad_with_zeros_by(values, dims, [1; 3], out);
}

/// [`pad_with_zeros`] with a border `border[a]` voxels wide on each side of axis `a` (`out`
/// has `dims + 2·border` per axis): for neighbourhoods that reach further than one voxel.
pub fn pad_with_zeros_by<T: Copy + Default>(
    values: &[T],
    [nx, ny, nz]: [usize; 3],
    border: [usize; 3],
    out: &mut Vec<T>,
) {
    let [bx, by, bz] = border;
    let [px, py, pz] = [nx + 2 * bx, ny + 2 * by, nz + 2 * bz];
    out.clear();
    out.resize(px * py * pz, T::default());
    for (row, (y, z)) in values.chunks(nx.max(1)).zip((0..nz).flat_map(|z| (0..ny).map(move |y| (y, z)))) {
        let start = bx + px * (y + by + py * (z + bz));
        out[start..start + nx].copy_from_slice(row);
    }
}

/// Flat-index strides of an x-fastest array with dimensions `dims`: `[1, nx, nx·ny]`.
pub fn strides_x_fastest(dims: [usize; 3]) -> [usize; 3] {
    [1, dims[0], dims[0] * dims[1]]
}

/// The flat indices (x-fastest) of the voxels of slice `z`.
pub fn slice_span(dims: [usize; 3], z: usize) -> Range<usize> {
    let plane = dims[0] * dims[1];
    z * plane..(z + 1) * plane
}

/// The positions `i` in `0..n` whose neighbour `i + offset` is also in `0..n`.
pub fn overlap(n: usize, offset: isize) -> Range<usize> {
    let shift = offset.unsigned_abs();
    if shift >= n {
        0..0
    } else if offset >= 0 {
        0..n - shift
    } else {
        shift..n
    }
}

/// The voxels of `array` in x-fastest order: borrowed when the array is already stored that
/// way (the radx convention), copied once otherwise.
pub fn x_fastest<T: Clone>(array: &Array3<T>) -> Cow<'_, [T]> {
    // The transposed view is in standard (C) order exactly when the array is in Fortran order.
    match array.t().to_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(array.t().iter().cloned().collect()),
    }
}

/// A run of voxel pairs that are contiguous in memory: the voxels `base..base + len` and
/// their neighbours `neighbour..neighbour + len` (flat x-fastest indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowPair {
    /// Flat index of the first voxel of the row.
    pub base: usize,
    /// Flat index of that voxel's neighbour.
    pub neighbour: usize,
    /// Number of pairs in the row.
    pub len: usize,
}

/// Every ordered pair (voxel, voxel + `offset`) with both voxels inside an array of
/// dimensions `dims` and the first voxel in one of the slices `slices`, grouped into x-rows.
///
/// With `offset[2] == 0` and a single slice this enumerates the in-plane pairs of that
/// slice; with `slices = 0..nz` it enumerates the volume's pairs. No allocation.
pub fn row_pairs(dims: [usize; 3], offset: [isize; 3], slices: Range<usize>) -> impl Iterator<Item = RowPair> {
    let [nx, ny, nz] = dims;
    let xs = overlap(nx, offset[0]);
    let ys = overlap(ny, offset[1]);
    let zs = overlap(nz, offset[2]);
    let zs = zs.start.max(slices.start)..zs.end.min(slices.end);
    let len = xs.len();
    let [_, stride_y, stride_z] = strides_x_fastest(dims);
    // Shift of the neighbour relative to its voxel, as a flat index; may be negative.
    let shift = offset[0] + offset[1] * stride_y as isize + offset[2] * stride_z as isize;
    let rows = if len == 0 { 0..0 } else { zs };
    rows.flat_map(move |z| ys.clone().map(move |y| (y, z))).map(move |(y, z)| {
        let base = xs.start + y * stride_y + z * stride_z;
        // In range by construction of xs/ys/zs, so the sum is a valid index.
        let neighbour = (base as isize + shift) as usize;
        RowPair { base, neighbour, len }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ShapeBuilder;

    #[test]
    fn directions_are_distinct_halves_of_the_neighbourhood() {
        // 26 neighbours in 3D, 8 in 2D: each direction and its opposite, counted once.
        let mut all: Vec<[i32; 3]> = DIRECTIONS_3D.iter().flat_map(|d| [*d, d.map(|c| -c)]).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 26);
        assert!(!all.contains(&[0, 0, 0]));
        for d in DIRECTIONS_2D {
            assert_eq!(d[2], 0);
            assert!(DIRECTIONS_3D.contains(&d));
        }
    }

    #[test]
    fn offsets_scale_by_distance() {
        assert_eq!(offsets([1, -1, 0], 3), [3, -3, 0]);
        assert_eq!(offsets([0, 1, 1], 1), [0, 1, 1]);
    }

    #[test]
    fn overlap_ranges() {
        assert_eq!(overlap(5, 0), 0..5);
        assert_eq!(overlap(5, 2), 0..3);
        assert_eq!(overlap(5, -2), 2..5);
        assert_eq!(overlap(2, 3), 0..0);
        assert_eq!(overlap(2, -2), 0..0);
    }

    #[test]
    fn row_pairs_enumerate_every_pair_once() {
        // 3×2×2 array: direction (1, -1, 1) pairs (x, 1, 0) with (x+1, 0, 1) for x in 0..2,
        // i.e. flat 3+x with 6+x+1: one row of length 2.
        let rows: Vec<RowPair> = row_pairs([3, 2, 2], [1, -1, 1], 0..2).collect();
        assert_eq!(rows, vec![RowPair { base: 3, neighbour: 7, len: 2 }]);
        // In-plane direction (0, 1, 0), slice 1 only: row y=0 of slice 1 pairs with y=1.
        let rows: Vec<RowPair> = row_pairs([3, 2, 2], [0, 1, 0], 1..2).collect();
        assert_eq!(rows, vec![RowPair { base: 6, neighbour: 9, len: 3 }]);
        // No pairs when the offset leaves the array.
        assert_eq!(row_pairs([3, 2, 2], [3, 0, 0], 0..2).count(), 0);
    }

    #[test]
    fn x_fastest_borrows_fortran_arrays_and_copies_others() {
        let fortran = Array3::from_shape_fn((2, 3, 2).f(), |(x, y, z)| x + 10 * y + 100 * z);
        let c_order = Array3::from_shape_fn((2, 3, 2), |(x, y, z)| x + 10 * y + 100 * z);
        assert!(matches!(x_fastest(&fortran), Cow::Borrowed(_)));
        assert_eq!(x_fastest(&fortran), x_fastest(&c_order));
        assert_eq!(&x_fastest(&c_order)[..4], &[0, 1, 10, 11]);
        assert_eq!(slice_span([2, 3, 2], 1), 6..12);
    }
}
