//! Neighbouring grey level dependence matrix, NGLDM (IBSI 1, section 3.11, `REK0`).
//!
//! For every intensity-mask voxel of grey level `i`, the dependence `k` is the number of
//! voxels within Chebyshev distance δ (in the slice for 2D, in the volume for 3D) that lie
//! in the ROI and whose grey level differs from `i` by at most the coarseness α, **plus
//! one for the centre voxel** (so `k >= 1`). Element `(i, k)` counts such voxels. Every
//! ROI voxel is a centre, so `n_voxels` = `N_s` = the number of ROI voxels (summed on
//! merging). Only the dependence values that occur become columns.

use ndarray::Array2;
use rayon::prelude::*;

use super::glszm::{flat_levels, zone_family_connectivity};
use super::ngtdm::Neighbourhood;
use super::{Aggregation, DiscretisedRoi, TextureMatrix};
use crate::components::Connectivity;
use crate::error::CoreError;

/// NGLDM parameters (IBSI 1, section 3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NgldmSettings {
    /// Coarseness α: neighbours with `|level − centre| <= alpha` are dependent. IBSI default 0.
    pub alpha: u16,
    /// Chebyshev neighbourhood distance δ (>= 1). IBSI default 1.
    pub distance: usize,
}

impl Default for NgldmSettings {
    fn default() -> Self {
        NgldmSettings { alpha: 0, distance: 1 }
    }
}

/// The NGLDM of `roi`: one matrix per slice with ROI voxels for [`Aggregation::Avg2d`],
/// their sum for [`Aggregation::Merged2_5d`], one 3D matrix for [`Aggregation::Merged3d`].
/// An ROI without voxels gives an empty list.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for any other aggregation, a distance of 0, or a grey
/// level in the ROI above `roi.ng`.
pub fn ngldm(
    roi: &DiscretisedRoi,
    settings: NgldmSettings,
    aggregation: Aggregation,
) -> Result<Vec<TextureMatrix>, CoreError> {
    if settings.distance == 0 {
        return Err(CoreError::InvalidSetting {
            name: "distance",
            reason: "the NGLDM neighbourhood distance must be at least 1".to_string(),
        });
    }
    ngldm_with(roi, settings.alpha, aggregation, |dims, connectivity| {
        Neighbourhood::chebyshev(settings.distance, dims, connectivity)
    })
}

/// [`ngldm`] with coarseness `alpha` and the neighbourhood made of `offsets` (`[dx, dy, dz]`,
/// both signs listed when both are wanted), each counted as often as it is listed: PyRadiomics' GLDM with several
/// or larger `distances` (its neighbourhood of `[2]` is the shell of norm 2, not the IBSI's
/// box of radius 2). For [`Aggregation::Avg2d`] and [`Aggregation::Merged2_5d`] only the
/// in-plane offsets (`dz = 0`) count.
///
/// # Errors
/// As [`ngldm`].
pub fn ngldm_over_offsets(
    roi: &DiscretisedRoi,
    alpha: u16,
    aggregation: Aggregation,
    offsets: &[[i32; 3]],
) -> Result<Vec<TextureMatrix>, CoreError> {
    ngldm_with(roi, alpha, aggregation, |dims, connectivity| Neighbourhood::listed(offsets, dims, connectivity))
}

fn ngldm_with(
    roi: &DiscretisedRoi,
    alpha: u16,
    aggregation: Aggregation,
    neighbourhood: impl Fn([usize; 3], Connectivity) -> Neighbourhood,
) -> Result<Vec<TextureMatrix>, CoreError> {
    let connectivity = zone_family_connectivity("NGLDM", aggregation)?;
    let flat = flat_levels(roi)?;
    if flat.is_empty() {
        return Ok(Vec::new());
    }
    let ng = roi.ng;
    let [nx, ny, nz] = flat.dims;
    let planes: Vec<DependenceCounts> = match connectivity {
        Connectivity::InPlane => {
            let hood = neighbourhood([nx, ny, 1], Connectivity::InPlane);
            let padded = PaddedHood::new(&flat.levels, flat.dims, &hood);
            (0..nz).into_par_iter().map(|z| padded.dependence_plane(z, alpha, ng)).collect()
        }
        Connectivity::Volumetric => {
            let hood = neighbourhood(flat.dims, Connectivity::Volumetric);
            let padded = PaddedHood::new(&flat.levels, flat.dims, &hood);
            // Integer counts: reducing in any order is exact, and it keeps one table per
            // thread instead of one per plane alive.
            (0..nz)
                .into_par_iter()
                .map(|z| padded.dependence_plane(z, alpha, ng))
                .reduce_with(|mut total, part| {
                    total.add(&part);
                    total
                })
                .into_iter()
                .collect()
        }
    };
    let non_empty = planes.into_iter().filter(|p| p.n_voxels > 0);
    Ok(match aggregation {
        Aggregation::Avg2d => non_empty.map(|p| p.into_matrix(ng)).collect(),
        _ => {
            let mut merged: Option<DependenceCounts> = None;
            for part in non_empty {
                match merged.as_mut() {
                    None => merged = Some(part),
                    Some(total) => total.add(&part),
                }
            }
            merged.into_iter().map(|m| m.into_matrix(ng)).collect()
        }
    })
}

/// Dense dependence counts: row `level - 1`, column `k - 1` for `k` in `1..=width`.
#[derive(Debug)]
struct DependenceCounts {
    counts: Vec<u64>,
    width: usize,
    n_voxels: u64,
}

impl DependenceCounts {
    fn add(&mut self, other: &DependenceCounts) {
        self.counts.iter_mut().zip(&other.counts).for_each(|(t, o)| *t += o);
        self.n_voxels += other.n_voxels;
    }

    /// Drops the dependence values that never occur.
    fn into_matrix(self, ng: usize) -> TextureMatrix {
        let used: Vec<usize> =
            (0..self.width).filter(|&k| (0..ng).any(|row| self.counts[row * self.width + k] > 0)).collect();
        let counts = Array2::from_shape_fn((ng, used.len()), |(row, j)| self.counts[row * self.width + used[j]] as f64);
        TextureMatrix {
            counts,
            col_values: used.iter().map(|&k| (k + 1) as f64).collect(),
            n_voxels: self.n_voxels as f64,
        }
    }
}

/// The grey levels (x-fastest) inside a border of zeros as wide as the neighbourhood reaches,
/// with the neighbourhood's offsets in that buffer: every neighbour of an array voxel is then
/// in the buffer, and one outside the array reads 0 (outside the ROI, never dependent), so a
/// row of centres is counted offset by offset with no bounds tests, a loop the compiler
/// vectorises (where a voxel at a time, neighbour by neighbour, was a branch per neighbour).
struct PaddedHood {
    levels: Vec<u16>,
    /// The array's `[nx, ny, nz]`, before padding.
    dims: [usize; 3],
    /// The buffer's `[nx, ny]` (with the border).
    padded: [usize; 2],
    reach: [usize; 3],
    /// Flat offsets of the neighbour positions in the buffer, each as often as listed.
    offsets: Vec<isize>,
}

impl PaddedHood {
    fn new(levels: &[u16], dims: [usize; 3], hood: &Neighbourhood) -> PaddedHood {
        let [nx, ny, _] = dims;
        let reach = hood.reach();
        let [px, py] = [nx + 2 * reach[0], ny + 2 * reach[1]];
        let mut padded = Vec::new();
        crate::iter::pad_with_zeros_by(levels, dims, reach, &mut padded);
        let offsets = hood.displacements().map(|[dx, dy, dz]| dx + px as isize * (dy + py as isize * dz)).collect();
        PaddedHood { levels: padded, dims, padded: [px, py], reach, offsets }
    }

    /// Dependence counts of the centre voxels in plane `z`.
    fn dependence_plane(&self, z: usize, alpha: u16, ng: usize) -> DependenceCounts {
        let [nx, ny, _] = self.dims;
        let [px, py] = self.padded;
        // k ranges over 1 (the centre alone) ..= every neighbour position + 1.
        let width = self.offsets.len() + 1;
        let mut counts = vec![0u64; ng * width];
        let mut n_voxels = 0;
        // Dependent neighbours of each centre of a row; wide enough for any neighbourhood.
        let mut dependent = vec![0u32; nx];
        for y in 0..ny {
            let start = self.reach[0] + px * (y + self.reach[1] + py * (z + self.reach[2]));
            let centres = &self.levels[start..start + nx];
            dependent.fill(0);
            for &offset in &self.offsets {
                let from = start.wrapping_add_signed(offset);
                count_dependent(centres, &self.levels[from..from + nx], alpha, &mut dependent);
            }
            for (&level, &k) in centres.iter().zip(&dependent) {
                if level != 0 {
                    // Column k - 1 with k = dependent + 1 (the centre counts itself).
                    counts[(usize::from(level) - 1) * width + k as usize] += 1;
                    n_voxels += 1;
                }
            }
        }
        DependenceCounts { counts, width, n_voxels }
    }
}

/// Adds 1 to `dependent[x]` where `neighbours[x]` is in the ROI and within `alpha` of
/// `centres[x]`. With α = 0 an equal level is enough: the centres that count are in the ROI.
fn count_dependent(centres: &[u16], neighbours: &[u16], alpha: u16, dependent: &mut [u32]) {
    let lanes = dependent.iter_mut().zip(centres.iter().zip(neighbours));
    if alpha == 0 {
        lanes.for_each(|(d, (&c, &n))| *d += u32::from(c == n));
    } else {
        lanes.for_each(|(d, (&c, &n))| *d += u32::from(n != 0 && n.abs_diff(c) <= alpha));
    }
}
