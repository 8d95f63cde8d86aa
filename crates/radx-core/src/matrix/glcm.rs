//! Grey level co-occurrence matrices (IBSI 1, section 3.6 "Grey level co-occurrence based
//! features") for the six aggregation methods, plus the directional aggregation driver that
//! the run-length builder (section 3.7) shares.
//!
//! Element `(i, j)` of the matrix for direction **m** and distance δ counts the voxels with
//! grey level `i` whose neighbour at `δ·m` has grey level `j`, both inside the ROI. The
//! symmetric matrix (the IBSI default) adds the opposite direction, i.e. `M + Mᵀ`.
//!
//! Directional building blocks are counted once — per (slice, in-plane direction) for the
//! 2D/2.5D methods, per 3D direction for the 3D methods — and every aggregation is derived
//! from them by summing integer counts, so the result is bit-identical for any thread count.

use ndarray::Array2;
use rayon::prelude::*;

use super::{Aggregation, DiscretisedRoi, TextureMatrix};
use crate::error::CoreError;
use crate::iter::{DIRECTIONS_2D, DIRECTIONS_3D, offsets, row_pairs, slice_span, x_fastest};

/// GLCM settings (IBSI 3.6 "Distances and distance weighting").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GlcmSettings {
    /// Chebyshev distance δ to the neighbour (default 1); must be at least 1.
    pub distance: usize,
    /// Count both `m` and `−m` (default `true`, as the IBSI requires).
    pub symmetric: bool,
}

impl Default for GlcmSettings {
    fn default() -> Self {
        GlcmSettings { distance: 1, symmetric: true }
    }
}

impl GlcmSettings {
    /// Check the settings before building: δ = 0 would pair each voxel with itself.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.distance == 0 {
            return Err(CoreError::InvalidSetting {
                name: "distance",
                reason: "the GLCM distance must be at least 1 voxel".to_string(),
            });
        }
        Ok(())
    }
}

/// The co-occurrence matrices of `roi` for `aggregation` (see [`Aggregation`]), in this order:
///
/// * `2d_avg`: per slice (z ascending), per direction of [`DIRECTIONS_2D`];
/// * `2d_smrg`: per slice, its 4 directions summed;
/// * `2_5d_dmrg`: per direction of [`DIRECTIONS_2D`], summed over slices;
/// * `2_5d_mrg`: one, everything summed;
/// * `3d_avg`: per direction of [`DIRECTIONS_3D`];
/// * `3d_mrg`: one, the 13 directions summed.
///
/// Matrices without any counted pair are left out. `col_values` is `1..=ng`. `n_voxels` is
/// the number of ROI voxels in the slice (2D) or volume (3D) a directional matrix covers,
/// summed over the non-empty matrices that are merged into one (for reference only: the
/// GLCM features do not use it).
///
/// # Panics
/// If `settings.distance` is 0 (check with [`GlcmSettings::validate`]) or a grey level in
/// `roi.levels` exceeds `roi.ng` (a broken [`DiscretisedRoi`], not user input).
pub fn glcm(roi: &DiscretisedRoi, settings: &GlcmSettings, aggregation: Aggregation) -> Vec<TextureMatrix> {
    glcm_aggregations(roi, settings, &[aggregation]).pop().unwrap_or_default()
}

/// [`glcm`] for each of `aggregations` (in that order), counting the co-occurrences the
/// aggregations share once (e.g. the 13 directions of `3d_avg` and `3d_mrg`).
///
/// # Panics
/// As [`glcm`].
pub fn glcm_aggregations(
    roi: &DiscretisedRoi,
    settings: &GlcmSettings,
    aggregations: &[Aggregation],
) -> Vec<Vec<TextureMatrix>> {
    glcm_selected(roi, settings, Selection::Aggregated(aggregations))
}

/// The GLCM of one direction, over one slice (`Some(z)`, 0-based) or the whole volume
/// (`None`; an in-plane direction then sums the slices, as 2.5D does). `None` when the
/// matrix is empty. For teaching and debugging (`radx matrix --slice --direction`).
///
/// # Panics
/// As [`glcm`].
pub fn glcm_single(
    roi: &DiscretisedRoi,
    settings: &GlcmSettings,
    slice: Option<usize>,
    direction: [i32; 3],
) -> Option<TextureMatrix> {
    glcm_selected(roi, settings, Selection::Single(slice, direction)).pop().and_then(|mut m| m.pop())
}

/// [`glcm_single`] for each of `directions`, in that order, preparing the levels once and
/// counting the directions in parallel when `parallel` (PyRadiomics' one matrix per angle;
/// a feature map's window counts them one after the other, its windows running in parallel).
/// A direction may be any offset, e.g. `(2, 1, 0)` with distance 1 (PyRadiomics' angles of
/// distance 2).
///
/// # Panics
/// As [`glcm`].
pub fn glcm_directions(
    roi: &DiscretisedRoi,
    settings: &GlcmSettings,
    slice: Option<usize>,
    directions: &[[i32; 3]],
    parallel: bool,
) -> Vec<Option<TextureMatrix>> {
    let lists = glcm_selected(roi, settings, Selection::Directions(slice, directions, parallel));
    lists.into_iter().map(|mut list| list.pop()).collect()
}

fn glcm_selected(roi: &DiscretisedRoi, settings: &GlcmSettings, selection: Selection) -> Vec<Vec<TextureMatrix>> {
    if let Err(error) = settings.validate() {
        panic!("{error}");
    }
    let levels = checked_levels(roi);
    let dims = dims_of(roi);
    let ng = roi.ng;
    let slice_voxels = roi_voxels_per_slice(&levels, dims);
    let unit = |slice: Option<usize>, direction: [i32; 3]| -> Counts {
        let offset = offsets(direction, settings.distance);
        let (slices, n_voxels) = match slice {
            Some(z) => (z..z + 1, slice_voxels[z]),
            None => (0..dims[2], slice_voxels.iter().sum()),
        };
        // Level 0 (outside the ROI) gets its own column (a neighbour outside), dropped below,
        // so the inner loop needs no branch on the neighbour's level. Row 0 stays unused (the
        // loop skips outside voxels) but spares the index a subtraction: ~5 % of the loop.
        let stride = ng + 1;
        let mut raw = vec![0u64; stride * stride];
        for row in row_pairs(dims, offset, slices) {
            let here = &levels[row.base..row.base + row.len];
            let there = &levels[row.neighbour..row.neighbour + row.len];
            for (&i, &j) in here.iter().zip(there) {
                // Voxels outside the ROI come in whole stretches (a predictable branch); counted,
                // they would increment the same (0, 0) cell in a row, each waiting for the last.
                if i != 0 {
                    raw[usize::from(i) * stride + usize::from(j)] += 1;
                }
            }
        }
        // Rows 1..=ng without their column 0, moved to the front in place (each row's target
        // starts before its source): the cells, without a second buffer.
        for i in 1..=ng {
            raw.copy_within(i * stride + 1..(i + 1) * stride, (i - 1) * ng);
        }
        raw.truncate(ng * ng);
        Counts { cells: raw, n_voxels }
    };
    let finish = |counts: &Counts| -> TextureMatrix {
        let matrix = Array2::from_shape_fn((ng, ng), |(i, j)| {
            let forward = counts.cells[i * ng + j];
            let backward = if settings.symmetric { counts.cells[j * ng + i] } else { 0 };
            (forward + backward) as f64
        });
        TextureMatrix {
            counts: matrix,
            col_values: (1..=ng).map(|g| g as f64).collect(),
            n_voxels: counts.n_voxels as f64,
        }
    };
    selection.build(dims, unit, finish)
}

/// Which directional matrices a builder returns: each aggregation's list, or (as one list of
/// at most one) a single matrix.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Selection<'a> {
    Aggregated(&'a [Aggregation]),
    Single(Option<usize>, [i32; 3]),
    /// One list per direction (empty when its matrix is), directions counted in parallel
    /// when the flag is set (the counts are the same either way).
    Directions(Option<usize>, &'a [[i32; 3]], bool),
}

impl Selection<'_> {
    pub(crate) fn build<U, F>(self, dims: [usize; 3], unit: U, finish: F) -> Vec<Vec<TextureMatrix>>
    where
        U: Fn(Option<usize>, [i32; 3]) -> Counts + Sync,
        F: Fn(&Counts) -> TextureMatrix,
    {
        match self {
            Selection::Aggregated(aggregations) => aggregate_directional_many(dims, aggregations, unit, finish),
            Selection::Single(slice, direction) => {
                let counts = unit(slice.filter(|&z| z < dims[2]), direction);
                vec![if counts.is_empty() { Vec::new() } else { vec![finish(&counts)] }]
            }
            Selection::Directions(slice, directions, parallel) => {
                let slice = slice.filter(|&z| z < dims[2]);
                let counts: Vec<Counts> = if parallel {
                    directions.par_iter().map(|&d| unit(slice, d)).collect()
                } else {
                    directions.iter().map(|&d| unit(slice, d)).collect()
                };
                counts.iter().map(|c| if c.is_empty() { Vec::new() } else { vec![finish(c)] }).collect()
            }
        }
    }
}

/// Integer counts of one directional matrix (row-major, family-specific width) and the
/// number of ROI voxels it covers. Merging adds both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) cells: Vec<u64>,
    pub(crate) n_voxels: u64,
}

impl Counts {
    pub(crate) fn is_empty(&self) -> bool {
        self.cells.iter().all(|&c| c == 0)
    }

    /// `self += other`, where an empty `other` contributes nothing (not even its voxels):
    /// only the matrices that exist are merged.
    fn merge(&mut self, other: &Counts) {
        if other.is_empty() {
            return;
        }
        if self.cells.is_empty() {
            self.cells.resize(other.cells.len(), 0);
        }
        for (mine, theirs) in self.cells.iter_mut().zip(&other.cells) {
            *mine += theirs;
        }
        self.n_voxels += other.n_voxels;
    }

    fn zero() -> Counts {
        Counts { cells: Vec::new(), n_voxels: 0 }
    }
}

/// Builds the directional matrices of a directional family (GLCM, GLRLM) and aggregates
/// them, for several aggregations at once. `unit(Some(z), m)` counts slice `z` along in-plane
/// direction `m`; `unit(None, m)` counts the whole volume along 3D direction `m`. `finish`
/// turns non-empty counts into the output matrix. Slices run in parallel for the 2D/2.5D
/// methods and directions for the 3D ones; integer counts make the merged result independent
/// of the scheduling. The directional counts the aggregations have in common are built
/// once: the 13 volume directions serve both 3D aggregations, and when `2d_avg` (which
/// keeps every slice's counts anyway) is wanted, its per-slice counts serve the other 2D and
/// 2.5D aggregations. Merged counts are integer sums, so each aggregation's matrices equal
/// those built alone.
pub(crate) fn aggregate_directional_many<U, F>(
    dims: [usize; 3],
    aggregations: &[Aggregation],
    unit: U,
    finish: F,
) -> Vec<Vec<TextureMatrix>>
where
    U: Fn(Option<usize>, [i32; 3]) -> Counts + Sync,
    F: Fn(&Counts) -> TextureMatrix,
{
    let per_slice = |z: usize| DIRECTIONS_2D.map(|direction| unit(Some(z), direction));
    let merged = |parts: &[Counts]| {
        let mut total = Counts::zero();
        for part in parts {
            total.merge(part);
        }
        total
    };
    // Per-direction totals over slices, merged in slice order.
    let by_direction_of = |units: &[[Counts; 4]]| {
        let mut totals = [(); 4].map(|_| Counts::zero());
        for unit in units {
            for (t, u) in totals.iter_mut().zip(unit) {
                t.merge(u);
            }
        }
        totals.to_vec()
    };
    let finished =
        |all: Vec<Counts>| -> Vec<TextureMatrix> { all.iter().filter(|c| !c.is_empty()).map(&finish).collect() };
    let slices = 0..dims[2];
    let slice_units: Option<Vec<[Counts; 4]>> =
        aggregations.contains(&Aggregation::Avg2d).then(|| slices.clone().into_par_iter().map(per_slice).collect());
    let volume_units: Option<Vec<Counts>> = aggregations
        .iter()
        .any(|a| matches!(a, Aggregation::Avg3d | Aggregation::Merged3d))
        .then(|| DIRECTIONS_3D.par_iter().map(|&d| unit(None, d)).collect());
    aggregations
        .iter()
        .map(|&aggregation| match (aggregation, &slice_units, &volume_units) {
            (Aggregation::Avg2d, Some(units), _) => finished(units.iter().flatten().cloned().collect()),
            (Aggregation::SliceMerged2d, Some(units), _) => finished(units.iter().map(|u| merged(u)).collect()),
            (Aggregation::DirectionMerged2_5d, Some(units), _) => finished(by_direction_of(units)),
            (Aggregation::Merged2_5d, Some(units), _) => finished(vec![merged(&by_direction_of(units))]),
            (Aggregation::SliceMerged2d, None, _) => {
                finished(slices.clone().into_par_iter().map(|z| merged(&per_slice(z))).collect())
            }
            (Aggregation::DirectionMerged2_5d | Aggregation::Merged2_5d, None, _) => {
                // Without the per-slice counts at hand, sum directions over slices as they come.
                let by_direction = slices
                    .clone()
                    .into_par_iter()
                    .map(per_slice)
                    .reduce(
                        || [(); 4].map(|_| Counts::zero()),
                        |mut left, right| {
                            for (l, r) in left.iter_mut().zip(&right) {
                                l.merge(r);
                            }
                            left
                        },
                    )
                    .to_vec();
                if aggregation == Aggregation::Merged2_5d {
                    finished(vec![merged(&by_direction)])
                } else {
                    finished(by_direction)
                }
            }
            (Aggregation::Avg3d, _, Some(units)) => finished(units.clone()),
            (Aggregation::Merged3d, _, Some(units)) => finished(vec![merged(units)]),
            // Each unit set above is built whenever an aggregation that reads it is wanted.
            (Aggregation::Avg2d, None, _) | (Aggregation::Avg3d | Aggregation::Merged3d, _, None) => Vec::new(),
        })
        .collect()
}

/// `roi.levels` x-fastest, after checking every level is at most `roi.ng`.
pub(crate) fn checked_levels(roi: &DiscretisedRoi) -> std::borrow::Cow<'_, [u16]> {
    let levels = x_fastest(&roi.levels);
    let highest = levels.iter().copied().max().unwrap_or(0);
    assert!(
        usize::from(highest) <= roi.ng,
        "discretised ROI holds grey level {highest} but declares only {} levels",
        roi.ng
    );
    levels
}

/// `roi.levels` dimensions as `[nx, ny, nz]`.
pub(crate) fn dims_of(roi: &DiscretisedRoi) -> [usize; 3] {
    let (nx, ny, nz) = roi.levels.dim();
    [nx, ny, nz]
}

/// ROI voxels (level > 0) in each slice of an x-fastest level array.
pub(crate) fn roi_voxels_per_slice(levels: &[u16], dims: [usize; 3]) -> Vec<u64> {
    (0..dims[2]).map(|z| levels[slice_span(dims, z)].iter().filter(|&&g| g > 0).count() as u64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, ShapeBuilder};

    fn roi_from(levels: Array3<u16>, ng: usize) -> DiscretisedRoi {
        let morphological = levels.mapv(|g| g > 0);
        DiscretisedRoi { levels, ng, morphological, spacing: [1.0; 3] }
    }

    #[test]
    fn hand_worked_row_non_symmetric() {
        // Row x = 0..3 with levels 1, 2, 3 (y = z = 0). Along (1,0,0) the ordered pairs are
        // (1→2) and (2→3): M[1,2] = M[2,3] = 1. Along (0,1,0) there is no neighbour.
        let levels = Array3::from_shape_vec((3, 1, 1).f(), vec![1u16, 2, 3]).unwrap();
        let roi = roi_from(levels, 3);
        let settings = GlcmSettings { distance: 1, symmetric: false };
        let mats = glcm(&roi, &settings, Aggregation::Avg2d);
        assert_eq!(mats.len(), 1, "only the (1,0,0) direction has pairs");
        assert_eq!(mats[0].nonzero(), vec![(1, 2.0, 1.0), (2, 3.0, 1.0)]);
        assert_eq!(mats[0].n_voxels, 3.0);
        // Symmetric: the transpose is added.
        let sym = glcm(&roi, &GlcmSettings::default(), Aggregation::Merged3d);
        assert_eq!(sym[0].nonzero(), vec![(1, 2.0, 1.0), (2, 1.0, 1.0), (2, 3.0, 1.0), (3, 2.0, 1.0)]);
    }

    #[test]
    fn distance_two_skips_the_direct_neighbour() {
        // Levels 1, 2, 1, 2 along x; at δ = 2 the pairs are (1→1) and (2→2).
        let levels = Array3::from_shape_vec((4, 1, 1).f(), vec![1u16, 2, 1, 2]).unwrap();
        let roi = roi_from(levels, 2);
        let mats = glcm(&roi, &GlcmSettings { distance: 2, symmetric: false }, Aggregation::Merged3d);
        assert_eq!(mats[0].nonzero(), vec![(1, 1.0, 1.0), (2, 2.0, 1.0)]);
    }

    #[test]
    fn voxels_outside_the_roi_break_pairs() {
        // 1, 0, 1: the middle voxel is outside the ROI, so no pair exists at δ = 1.
        let levels = Array3::from_shape_vec((3, 1, 1).f(), vec![1u16, 0, 1]).unwrap();
        assert!(glcm(&roi_from(levels, 1), &GlcmSettings::default(), Aggregation::Merged3d).is_empty());
    }

    #[test]
    fn zero_distance_is_rejected() {
        assert!(GlcmSettings { distance: 0, symmetric: true }.validate().is_err());
        assert!(GlcmSettings::default().validate().is_ok());
    }
}
