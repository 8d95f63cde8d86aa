//! Grey level size zone matrix, GLSZM (IBSI 1, section 3.8, `9SAK`).
//!
//! Element `(i, j)` counts the zones (8-connected in 2D, 26-connected in 3D groups of
//! equal grey level, see [`crate::components`]) of grey level `i` and size `j` voxels.
//! Only the zone sizes that occur become columns, so one very large zone costs one
//! column. `n_voxels` is the number of intensity-mask voxels (summed on merging).
//!
//! This module also holds the plumbing shared by the zone and neighbourhood families
//! (GLSZM, GLDZM, NGTDM, NGLDM): the aggregation check, the validated flat view of the
//! grey levels and the sparse-to-dense matrix conversion.

use std::borrow::Cow;

use ndarray::Array2;
use rayon::prelude::*;

use super::{Aggregation, DiscretisedRoi, TextureMatrix};
use crate::components::{Connectivity, Zone, ZoneScanner, dims_of, x_fastest};
use crate::error::CoreError;

/// The GLSZM of `roi` for one of the zone-family aggregations:
/// [`Aggregation::Avg2d`] gives one matrix per slice that holds ROI voxels (slice order),
/// [`Aggregation::Merged2_5d`] the sum of those, [`Aggregation::Merged3d`] one 3D matrix.
/// An ROI without voxels gives an empty list.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for any other aggregation, or when a grey level in the
/// ROI exceeds `roi.ng`.
pub fn glszm(roi: &DiscretisedRoi, aggregation: Aggregation) -> Result<Vec<TextureMatrix>, CoreError> {
    zone_matrices(roi, aggregation, "GLSZM", None, |zone| zone.size as u64)
}

/// How a zone-family `aggregation` builds its matrices: in slices or in the volume.
pub(super) fn zone_family_connectivity(
    family: &'static str,
    aggregation: Aggregation,
) -> Result<Connectivity, CoreError> {
    match aggregation {
        Aggregation::Avg2d | Aggregation::Merged2_5d => Ok(Connectivity::InPlane),
        Aggregation::Merged3d => Ok(Connectivity::Volumetric),
        other => Err(CoreError::InvalidSetting {
            name: "aggregation",
            reason: format!(
                "`{other}` does not apply to the {family}: the zone and neighbourhood families (GLSZM, GLDZM, \
                 NGTDM, NGLDM) are aggregated as 2d_avg, 2_5d_mrg or 3d_mrg"
            ),
        }),
    }
}

/// The grey levels of an ROI as one x-fastest buffer, checked against `ng`.
pub(super) struct FlatLevels<'a> {
    /// Grey levels, `index = x + nx·(y + ny·z)`; `0` outside the intensity mask.
    pub levels: Cow<'a, [u16]>,
    /// `[nx, ny, nz]`.
    pub dims: [usize; 3],
}

impl FlatLevels<'_> {
    /// Voxels in one slice of constant z.
    pub fn plane_len(&self) -> usize {
        self.dims[0] * self.dims[1]
    }

    /// True when the array has no voxels at all (some dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
}

/// Flattens `roi.levels` and checks that every level lies in `0..=ng`, so that the
/// builders can index rows `level - 1` without further checks.
pub(super) fn flat_levels(roi: &DiscretisedRoi) -> Result<FlatLevels<'_>, CoreError> {
    let view = roi.levels.view();
    let dims = dims_of(&view);
    let levels = x_fastest(view);
    if let Some(&highest) = levels.iter().max()
        && usize::from(highest) > roi.ng
    {
        return Err(CoreError::InvalidSetting {
            name: "ng",
            reason: format!("grey level {highest} occurs in the ROI but the number of grey levels is {}", roi.ng),
        });
    }
    Ok(FlatLevels { levels, dims })
}

/// Zones of one slice (or of the volume) reduced to `(column value, grey level)` pairs,
/// one per zone, plus the number of intensity-mask voxels they cover.
#[derive(Debug, Default)]
pub(super) struct ZoneTally {
    entries: Vec<(u64, u16)>,
    n_voxels: usize,
}

impl ZoneTally {
    fn add(&mut self, other: ZoneTally) {
        self.entries.extend(other.entries);
        self.n_voxels += other.n_voxels;
    }

    /// The dense matrix: rows are grey levels `1..=ng`, columns the column values that
    /// occur, increasing.
    fn into_matrix(self, ng: usize) -> TextureMatrix {
        // Zone sizes and distances never exceed the voxel count, so a dense lookup table
        // from column value to column index is no larger than the slice and avoids
        // sorting one entry per zone.
        let largest = self.entries.iter().map(|&(column, _)| column as usize).max().unwrap_or(0);
        let mut column_index = vec![u32::MAX; largest + 1];
        for &(column, _) in &self.entries {
            column_index[column as usize] = 0;
        }
        let mut col_values = Vec::new();
        for (value, index) in column_index.iter_mut().enumerate() {
            if *index == 0 {
                *index = col_values.len() as u32;
                col_values.push(value as f64);
            }
        }
        let mut counts = Array2::<f64>::zeros((ng, col_values.len()));
        for (column, level) in self.entries {
            counts[[usize::from(level) - 1, column_index[column as usize] as usize]] += 1.0;
        }
        TextureMatrix { counts, col_values, n_voxels: self.n_voxels as f64 }
    }
}

/// Zones of an x-fastest block of shape `dims`, tallied by `column(zone)`.
fn tally_zones(
    scanner: &mut ZoneScanner,
    levels: &[u16],
    dims: [usize; 3],
    distances: Option<&[u32]>,
    column: fn(&Zone) -> u64,
) -> ZoneTally {
    let mut tally = ZoneTally::default();
    scanner.scan(levels, dims, distances, |zone| {
        tally.n_voxels += zone.size;
        tally.entries.push((column(&zone), zone.level));
    });
    tally
}

/// The zone matrices (GLSZM, GLDZM) of `roi`: zones found with the connectivity that
/// `aggregation` implies, each counted in row `level` and column `column(zone)`.
/// `distances` (x-fastest, the shape of `roi.levels`) feeds [`Zone::distance`].
pub(super) fn zone_matrices(
    roi: &DiscretisedRoi,
    aggregation: Aggregation,
    family: &'static str,
    distances: Option<&[u32]>,
    column: fn(&Zone) -> u64,
) -> Result<Vec<TextureMatrix>, CoreError> {
    let connectivity = zone_family_connectivity(family, aggregation)?;
    let flat = flat_levels(roi)?;
    if flat.is_empty() {
        return Ok(Vec::new());
    }
    let slice_tallies = match connectivity {
        Connectivity::Volumetric => {
            let tally = tally_zones(&mut ZoneScanner::default(), &flat.levels, flat.dims, distances, column);
            return Ok(if tally.n_voxels == 0 { Vec::new() } else { vec![tally.into_matrix(roi.ng)] });
        }
        Connectivity::InPlane => {
            let plane = flat.plane_len();
            let plane_dims = [flat.dims[0], flat.dims[1], 1];
            // Collecting an indexed parallel iterator keeps slice order, whatever the threads.
            let tallies: Vec<ZoneTally> = flat
                .levels
                .par_chunks(plane)
                .enumerate()
                .map_init(ZoneScanner::default, |scanner, (z, levels)| {
                    let slice_distances = distances.map(|d| &d[z * plane..(z + 1) * plane]);
                    tally_zones(scanner, levels, plane_dims, slice_distances, column)
                })
                .collect();
            tallies
        }
    };
    let non_empty = slice_tallies.into_iter().filter(|t| t.n_voxels > 0);
    Ok(match aggregation {
        Aggregation::Merged2_5d => {
            let mut merged = ZoneTally::default();
            let mut any = false;
            for tally in non_empty {
                merged.add(tally);
                any = true;
            }
            if any { vec![merged.into_matrix(roi.ng)] } else { Vec::new() }
        }
        _ => non_empty.map(|t| t.into_matrix(roi.ng)).collect(),
    })
}
