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
    let mut out = zone_matrices(roi, &[aggregation], "GLSZM", None, &[ZoneColumn::Size])?;
    Ok(out.pop().and_then(|mut by_aggregation| by_aggregation.pop()).unwrap_or_default())
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

/// What a zone matrix's columns count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ZoneColumn {
    /// Zone size in voxels (GLSZM).
    Size,
    /// Distance of the zone to the ROI edge (GLDZM).
    Distance,
}

impl ZoneColumn {
    fn of(self, zone: &Zone) -> u64 {
        match self {
            ZoneColumn::Size => zone.size as u64,
            ZoneColumn::Distance => u64::from(zone.distance.unwrap_or(0)),
        }
    }
}

/// The zones of one slice (or of the volume) and the number of intensity-mask voxels they
/// cover.
#[derive(Debug, Default)]
pub(super) struct ZoneTally {
    zones: Vec<Zone>,
    n_voxels: usize,
}

impl ZoneTally {
    /// The dense matrix of zones (of one or several tallies): rows are grey levels
    /// `1..=ng`, columns the values of `column` that occur, increasing.
    fn matrix<'t>(
        tallies: impl Iterator<Item = &'t ZoneTally> + Clone,
        ng: usize,
        column: ZoneColumn,
    ) -> TextureMatrix {
        let zones = tallies.clone().flat_map(|t| t.zones.iter());
        // Zone sizes and distances never exceed the voxel count, so a dense lookup table
        // from column value to column index is no larger than the slice and avoids
        // sorting one entry per zone.
        let largest = zones.clone().map(|zone| column.of(zone) as usize).max().unwrap_or(0);
        let mut column_index = vec![u32::MAX; largest + 1];
        for zone in zones.clone() {
            column_index[column.of(zone) as usize] = 0;
        }
        let mut col_values = Vec::new();
        for (value, index) in column_index.iter_mut().enumerate() {
            if *index == 0 {
                *index = col_values.len() as u32;
                col_values.push(value as f64);
            }
        }
        let mut counts = Array2::<f64>::zeros((ng, col_values.len()));
        for zone in zones {
            counts[[usize::from(zone.level) - 1, column_index[column.of(zone) as usize] as usize]] += 1.0;
        }
        let n_voxels = tallies.map(|t| t.n_voxels).sum::<usize>();
        TextureMatrix { counts, col_values, n_voxels: n_voxels as f64 }
    }
}

/// Zones of an x-fastest block of shape `dims`, with their distances when a map is given.
fn tally_zones(scanner: &mut ZoneScanner, levels: &[u16], dims: [usize; 3], distances: Option<&[u32]>) -> ZoneTally {
    let mut tally = ZoneTally::default();
    scanner.scan(levels, dims, distances, |zone| {
        tally.n_voxels += zone.size;
        tally.zones.push(zone);
    });
    tally
}

/// Zone matrices (GLSZM, GLDZM) of `roi`, `[column][aggregation]`: zones found with the
/// connectivity each aggregation implies, each counted in row `level` and the column its
/// [`ZoneColumn`] gives. `distances(connectivity)` (x-fastest, the shape of `roi.levels`)
/// feeds [`Zone::distance`]. Zones are found once per connectivity, whatever the number of
/// aggregations and columns.
pub(super) fn zone_matrices(
    roi: &DiscretisedRoi,
    aggregations: &[Aggregation],
    family: &'static str,
    distances: Option<&(dyn Fn(Connectivity) -> Vec<u32> + Sync)>,
    columns: &[ZoneColumn],
) -> Result<Vec<Vec<Vec<TextureMatrix>>>, CoreError> {
    let connectivities =
        aggregations.iter().map(|&a| zone_family_connectivity(family, a)).collect::<Result<Vec<_>, _>>()?;
    let flat = flat_levels(roi)?;
    if flat.is_empty() {
        return Ok(columns.iter().map(|_| aggregations.iter().map(|_| Vec::new()).collect()).collect());
    }
    let tallies_for = |connectivity: Connectivity| -> Vec<ZoneTally> {
        let map = distances.map(|d| d(connectivity));
        let map = map.as_deref();
        match connectivity {
            Connectivity::Volumetric => vec![tally_zones(&mut ZoneScanner::default(), &flat.levels, flat.dims, map)],
            Connectivity::InPlane => {
                let plane = flat.plane_len();
                let plane_dims = [flat.dims[0], flat.dims[1], 1];
                // Collecting an indexed parallel iterator keeps slice order, whatever the threads.
                flat.levels
                    .par_chunks(plane)
                    .enumerate()
                    .map_init(ZoneScanner::default, |scanner, (z, levels)| {
                        let slice_distances = map.map(|d| &d[z * plane..(z + 1) * plane]);
                        tally_zones(scanner, levels, plane_dims, slice_distances)
                    })
                    .collect()
            }
        }
    };
    let in_plane = connectivities.contains(&Connectivity::InPlane).then(|| tallies_for(Connectivity::InPlane));
    let volume = connectivities.contains(&Connectivity::Volumetric).then(|| tallies_for(Connectivity::Volumetric));
    let ng = roi.ng;
    let matrices = |column: ZoneColumn, aggregation: Aggregation| -> Vec<TextureMatrix> {
        let tallies = match aggregation {
            Aggregation::Merged3d => volume.as_deref(),
            _ => in_plane.as_deref(),
        };
        let non_empty = tallies.unwrap_or_default().iter().filter(|t| t.n_voxels > 0);
        match aggregation {
            Aggregation::Merged2_5d if non_empty.clone().next().is_some() => {
                vec![ZoneTally::matrix(non_empty, ng, column)]
            }
            Aggregation::Merged2_5d => Vec::new(),
            _ => non_empty.map(|t| ZoneTally::matrix(std::iter::once(t), ng, column)).collect(),
        }
    };
    Ok(columns.iter().map(|&c| aggregations.iter().map(|&a| matrices(c, a)).collect()).collect())
}

/// The GLSZM and the GLDZM of `roi` for each of `aggregations` (`[aggregation]` each), from
/// one zone search per connectivity: the two families count the same zones, by size and by
/// distance to the ROI edge. Equal to [`glszm`] and [`super::gldzm::gldzm`] called apart.
///
/// # Errors
/// As [`super::gldzm::gldzm`].
#[allow(clippy::type_complexity)]
pub fn glszm_and_gldzm(
    roi: &DiscretisedRoi,
    aggregations: &[Aggregation],
) -> Result<(Vec<Vec<TextureMatrix>>, Vec<Vec<TextureMatrix>>), CoreError> {
    let distances = super::gldzm::distance_maps(roi)?;
    let mut out =
        zone_matrices(roi, aggregations, "GLDZM", Some(&distances), &[ZoneColumn::Size, ZoneColumn::Distance])?;
    let gldzm = out.pop().unwrap_or_default();
    let glszm = out.pop().unwrap_or_default();
    Ok((glszm, gldzm))
}
