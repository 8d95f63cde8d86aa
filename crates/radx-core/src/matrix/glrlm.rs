//! Grey level run length matrices (IBSI 1, section 3.7 "Grey level run length based
//! features") for the six aggregation methods.
//!
//! A run is a maximal sequence of consecutive ROI voxels with the same grey level along a
//! direction **m** (one of each ± pair: a run and its reverse are the same run). It ends at a
//! change of grey level, at a voxel outside the ROI, or at the array border; in 2D it never
//! leaves its slice. Element `(i, j)` counts the runs of grey level `i` and length `j`.
//!
//! When matrices are merged, N_v (the number of ROI voxels, [`TextureMatrix::n_voxels`]) is
//! summed too, as the IBSI requires for consistent run percentages.

use ndarray::Array2;

use super::glcm::{Counts, Selection, checked_levels, dims_of, roi_voxels_per_slice};
use super::{Aggregation, DiscretisedRoi, TextureMatrix};

/// The run length matrices of `roi` for `aggregation`, in the same order as
/// [`glcm`](super::glcm::glcm): per slice then per [`DIRECTIONS_2D`](crate::iter::DIRECTIONS_2D)
/// direction (`2d_avg`), per slice (`2d_smrg`), per 2D direction (`2_5d_dmrg`), one
/// (`2_5d_mrg`), per [`DIRECTIONS_3D`](crate::iter::DIRECTIONS_3D) direction (`3d_avg`), one
/// (`3d_mrg`). Empty matrices (slices without ROI voxels) are left out.
///
/// `col_values` holds the run lengths that occur in that matrix, increasing. `n_voxels` is the
/// number of ROI voxels in the slice (2D) or volume (3D) of a directional matrix, summed over
/// the matrices merged into one: a `3d_mrg` matrix of a 74-voxel ROI has `n_voxels` 13 × 74.
///
/// # Panics
/// If a grey level in `roi.levels` exceeds `roi.ng` (a broken [`DiscretisedRoi`], not user input).
pub fn glrlm(roi: &DiscretisedRoi, aggregation: Aggregation) -> Vec<TextureMatrix> {
    glrlm_aggregations(roi, &[aggregation]).pop().unwrap_or_default()
}

/// [`glrlm`] for each of `aggregations` (in that order), counting the runs the aggregations
/// share once (see [`super::glcm::glcm_aggregations`]).
///
/// # Panics
/// As [`glrlm`].
pub fn glrlm_aggregations(roi: &DiscretisedRoi, aggregations: &[Aggregation]) -> Vec<Vec<TextureMatrix>> {
    glrlm_selected(roi, Selection::Aggregated(aggregations))
}

/// The GLRLM of one direction over one slice (`Some(z)`, 0-based) or the whole volume;
/// `None` when empty. See [`super::glcm::glcm_single`].
///
/// # Panics
/// As [`glrlm`].
pub fn glrlm_single(roi: &DiscretisedRoi, slice: Option<usize>, direction: [i32; 3]) -> Option<TextureMatrix> {
    glrlm_selected(roi, Selection::Single(slice, direction)).pop().and_then(|mut m| m.pop())
}

/// [`glrlm_single`] for each of `directions`, in that order, preparing the levels once and
/// counting the directions in parallel when `parallel` (PyRadiomics' one matrix per angle;
/// see [`super::glcm::glcm_directions`]).
///
/// # Panics
/// As [`glrlm`].
pub fn glrlm_directions(
    roi: &DiscretisedRoi,
    slice: Option<usize>,
    directions: &[[i32; 3]],
    parallel: bool,
) -> Vec<Option<TextureMatrix>> {
    let lists = glrlm_selected(roi, Selection::Directions(slice, directions, parallel));
    lists.into_iter().map(|mut list| list.pop()).collect()
}

fn glrlm_selected(roi: &DiscretisedRoi, selection: Selection) -> Vec<Vec<TextureMatrix>> {
    let levels = checked_levels(roi);
    let dims = dims_of(roi);
    let ng = roi.ng;
    let slice_voxels = roi_voxels_per_slice(&levels, dims);
    // No run is longer than the longest array axis.
    let max_length = dims.iter().copied().max().unwrap_or(0);
    let padded = PaddedLevels::new(&levels, dims);
    let unit = |slice: Option<usize>, direction: [i32; 3]| -> Counts {
        let (slices, n_voxels) = match slice {
            Some(z) => (z..z + 1, slice_voxels[z]),
            None => (0..dims[2], slice_voxels.iter().sum()),
        };
        let mut cells = vec![0u64; ng * max_length];
        count_runs(&padded, direction, slices, max_length, &mut cells);
        Counts { cells, n_voxels }
    };
    let finish = |counts: &Counts| -> TextureMatrix {
        // Keep only the run lengths that occur.
        let present: Vec<usize> =
            (0..max_length).filter(|&len| (0..ng).any(|g| counts.cells[g * max_length + len] > 0)).collect();
        let matrix =
            Array2::from_shape_fn((ng, present.len()), |(g, c)| counts.cells[g * max_length + present[c]] as f64);
        TextureMatrix {
            counts: matrix,
            col_values: present.iter().map(|&len| (len + 1) as f64).collect(),
            n_voxels: counts.n_voxels as f64,
        }
    };
    selection.build(dims, unit, finish)
}

/// The levels inside a one-voxel border of zeros (x-fastest, `dims + 2` per axis): a run
/// then ends at the array border as at any voxel outside the ROI, with no bounds tests.
struct PaddedLevels {
    levels: Vec<u16>,
    dims: [usize; 3],
}

impl PaddedLevels {
    fn new(levels: &[u16], dims: [usize; 3]) -> PaddedLevels {
        let mut padded = Vec::new();
        crate::iter::pad_with_zeros(levels, dims, &mut padded);
        PaddedLevels { levels: padded, dims }
    }
}

/// Adds the runs along `direction` inside slices `slices` (a run never crosses the slab's
/// first or last slice) to `cells` (`ng × max_length`, row `g - 1`, column `length - 1`).
///
/// One pass in memory order, with no branch on how the grey levels fall (with a few dozen
/// levels, whether a neighbour continues a run is a coin toss, and mispredicted branches
/// cost more than the counting): each ROI voxel's run length so far is its predecessor's
/// plus one, or one, and a voxel whose successor is not of its level ends a run of that
/// length. A run and its reverse are the same run, so the direction is taken with its
/// predecessor earlier in memory. Every voxel writes its cell to a list whose end moves on
/// only when the voxel ends a run; the list is counted per slice. Adding to the cells voxel
/// by voxel made each wait for the last where neighbours share a cell (smooth images).
fn count_runs(
    padded: &PaddedLevels,
    direction: [i32; 3],
    slices: std::ops::Range<usize>,
    max_length: usize,
    cells: &mut [u64],
) {
    let [nx, ny, _] = padded.dims;
    let [px, py] = [nx + 2, ny + 2];
    let levels = &padded.levels;
    let step = direction[0] as isize + px as isize * (direction[1] as isize + py as isize * direction[2] as isize);
    // Reverse a direction whose predecessor lies later in memory (no step is 0). With each
    // component -1, 0 or 1, the z component decides the step's sign: a direction that
    // crosses slices then always goes up in z.
    let crosses_slices = direction[2] != 0;
    let step = step.unsigned_abs();
    // Run lengths so far, in a ring indexed by the padded index: a voxel's is read only by
    // its successor, `step` indices on, and only when both are ROI voxels, so a ring longer
    // than `step` still holds it then (no index in between shares its slot). A power of two
    // (the slot is a mask away) that stays in cache, where one slot per voxel did not.
    let ring = (step + 1).next_power_of_two();
    let slot = ring - 1;
    let mut length_so_far = vec![0u32; ring];
    // One slot per voxel of a slice, plus one that a last voxel ending no run writes.
    let mut ended = vec![0usize; nx * ny + 1];
    for z in slices.clone() {
        // The border stops runs within a slice; across slices the slab's ends do.
        let has_predecessor = !crosses_slices || z > slices.start;
        let has_successor = !crosses_slices || z + 1 < slices.end;
        let mut n_ended = 0;
        for y in 0..ny {
            let row = 1 + px * (y + 1 + py * (z + 1));
            // The padding keeps the neighbours' rows inside the array, even where the slab's
            // ends make them no neighbours.
            let here = &levels[row..row + nx];
            let before = &levels[row - step..row - step + nx];
            let after = &levels[row + step..row + step + nx];
            for (x, ((&level, &previous), &next)) in here.iter().zip(before).zip(after).enumerate() {
                if level == 0 {
                    continue; // outside the ROI: whole stretches at a time, a predictable branch
                }
                let index = row + x;
                // Masks, not branches: the predecessor's length is read whether or not it counts.
                let continues = u32::from(has_predecessor && previous == level);
                let length = (length_so_far[(index - step) & slot] & continues.wrapping_neg()) + 1;
                length_so_far[index & slot] = length;
                let ends = !has_successor || next != level;
                ended[n_ended] = (usize::from(level) - 1) * max_length + length as usize - 1;
                n_ended += usize::from(ends);
            }
        }
        for &cell in &ended[..n_ended] {
            cells[cell] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, ShapeBuilder};

    /// Runs by definition: each ROI voxel whose predecessor along `direction` is outside the
    /// slab or of another level starts a run, as long as the voxels after it keep its level.
    fn naive_runs(
        levels: &Array3<u16>,
        direction: [i32; 3],
        slices: std::ops::Range<usize>,
        max_length: usize,
        ng: usize,
    ) -> Vec<u64> {
        let (nx, ny, _) = levels.dim();
        let level_at = |p: [i64; 3]| -> u16 {
            let inside = p[0] >= 0
                && p[1] >= 0
                && p[2] >= slices.start as i64
                && (p[0] as usize) < nx
                && (p[1] as usize) < ny
                && (p[2] as usize) < slices.end;
            if inside { levels[[p[0] as usize, p[1] as usize, p[2] as usize]] } else { 0 }
        };
        let d = direction.map(i64::from);
        let mut cells = vec![0u64; ng * max_length];
        for ((x, y, z), &level) in levels.indexed_iter() {
            let p = [x as i64, y as i64, z as i64];
            if level == 0 || !slices.contains(&z) || level_at([p[0] - d[0], p[1] - d[1], p[2] - d[2]]) == level {
                continue;
            }
            let mut length = 1;
            while level_at([p[0] + length * d[0], p[1] + length * d[1], p[2] + length * d[2]]) == level {
                length += 1;
            }
            cells[(usize::from(level) - 1) * max_length + length as usize - 1] += 1;
        }
        cells
    }

    proptest::proptest! {
        /// The one-pass counting finds the runs of the definition, for the 13 directions and their
        /// opposites, over the whole volume and over each slice alone.
        #[test]
        fn counted_runs_are_the_runs_of_the_definition(
            dims in (1usize..7, 1usize..6, 1usize..5),
            ng in 1usize..4,
            draws in proptest::collection::vec(0u16..5, 150),
        ) {
            let levels = Array3::from_shape_fn(dims.f(), |(x, y, z)| draws[x + 6 * y + 36 * z] % (ng as u16 + 1));
            let flat: Vec<u16> = levels.t().iter().copied().collect();
            let dims = [dims.0, dims.1, dims.2];
            let max_length = dims.iter().copied().max().unwrap_or(0);
            let slabs = std::iter::once(0..dims[2]).chain((0..dims[2]).map(|z| z..z + 1));
            for slices in slabs {
                for direction in crate::iter::DIRECTIONS_3D.iter().flat_map(|d| [*d, d.map(|c| -c)]) {
                    let mut cells = vec![0u64; ng * max_length];
                    count_runs(&PaddedLevels::new(&flat, dims), direction, slices.clone(), max_length, &mut cells);
                    proptest::prop_assert_eq!(
                        cells,
                        naive_runs(&levels, direction, slices.clone(), max_length, ng),
                        "direction {:?}, slices {:?}", direction, slices
                    );
                }
            }
        }
    }

    #[test]
    fn hand_worked_runs_in_a_row() {
        // One row along x: 2 2 0 2 1 1 1. Along (1,0,0): level 2 has runs of length 2 and 1
        // (the 0 is outside the ROI and breaks the run), level 1 one run of length 3.
        // Along (0,1,0) every ROI voxel is its own run of length 1: three of each level.
        let levels = Array3::from_shape_vec((7, 1, 1).f(), vec![2u16, 2, 0, 2, 1, 1, 1]).unwrap();
        let roi = DiscretisedRoi { morphological: levels.mapv(|g| g > 0), levels, ng: 2, spacing: [1.0; 3] };
        let mats = glrlm(&roi, Aggregation::Avg2d);
        assert_eq!(mats.len(), 4);
        assert_eq!(mats[0].nonzero(), vec![(1, 3.0, 1.0), (2, 1.0, 1.0), (2, 2.0, 1.0)]);
        assert_eq!(mats[0].col_values, vec![1.0, 2.0, 3.0]);
        assert_eq!(mats[0].n_voxels, 6.0);
        assert_eq!(mats[2].nonzero(), vec![(1, 1.0, 3.0), (2, 1.0, 3.0)]);
        // 3D merged: N_v summed over the 13 directions.
        let merged = glrlm(&roi, Aggregation::Merged3d);
        assert_eq!(merged[0].n_voxels, 13.0 * 6.0);
    }
}
