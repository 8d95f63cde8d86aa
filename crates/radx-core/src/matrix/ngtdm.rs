//! Neighbourhood grey tone difference matrix, NGTDM (IBSI 1, section 3.9, `IPET`).
//!
//! For every intensity-mask voxel `k` of grey level `i`, the neighbourhood is the voxels
//! at Chebyshev distance 1 (8 in a slice, 26 in the volume) that lie in the ROI, centre
//! excluded. A voxel counts only if that neighbourhood is not empty (`W_k > 0`, the IBSI's
//! "valid neighbourhood"); then `n_i += 1` and `s_i += |i − mean of the neighbours|`.
//! 2.5D merging sums `n` and `s` over slices and recomputes `N_v,c = Σ n_i`.
//!
//! Floating-point sums run in a fixed order (voxels x-fastest within a slice, slices in
//! z order), so results are bit-identical for any number of threads.
//!
//! This module also defines `Neighbourhood`, the Chebyshev box (or a list of offsets, for
//! PyRadiomics' `distances`) shared with the NGLDM.

use rayon::prelude::*;

use super::glszm::{flat_levels, zone_family_connectivity};
use super::{Aggregation, DiscretisedRoi, Ngtdm};
use crate::components::Connectivity;
use crate::error::CoreError;

/// The NGTDM of `roi` (neighbourhood distance δ = 1): one per slice with at least one
/// valid neighbourhood for [`Aggregation::Avg2d`], their sum for
/// [`Aggregation::Merged2_5d`], one 3D NGTDM for [`Aggregation::Merged3d`]. An ROI in
/// which no voxel has a neighbour gives an empty list.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for any other aggregation, or when a grey level in the
/// ROI exceeds `roi.ng`.
pub fn ngtdm(roi: &DiscretisedRoi, aggregation: Aggregation) -> Result<Vec<Ngtdm>, CoreError> {
    ngtdm_with(roi, aggregation, |dims, connectivity| Neighbourhood::chebyshev(1, dims, connectivity))
}

/// [`ngtdm`] with the neighbourhood made of `offsets` (`[dx, dy, dz]`, both signs listed
/// when both are wanted), each counted as often as it is listed: PyRadiomics' NGTDM with several or larger
/// `distances`. For [`Aggregation::Avg2d`] and [`Aggregation::Merged2_5d`] only the in-plane
/// offsets (`dz = 0`) count.
///
/// # Errors
/// As [`ngtdm`].
pub fn ngtdm_over_offsets(
    roi: &DiscretisedRoi,
    aggregation: Aggregation,
    offsets: &[[i32; 3]],
) -> Result<Vec<Ngtdm>, CoreError> {
    ngtdm_with(roi, aggregation, |dims, connectivity| Neighbourhood::listed(offsets, dims, connectivity))
}

fn ngtdm_with(
    roi: &DiscretisedRoi,
    aggregation: Aggregation,
    neighbourhood: impl Fn([usize; 3], Connectivity) -> Neighbourhood,
) -> Result<Vec<Ngtdm>, CoreError> {
    let connectivity = zone_family_connectivity("NGTDM", aggregation)?;
    let flat = flat_levels(roi)?;
    if flat.is_empty() {
        return Ok(Vec::new());
    }
    let ng = roi.ng;
    let [nx, ny, nz] = flat.dims;
    let planes: Vec<Ngtdm> = match connectivity {
        Connectivity::InPlane => {
            let plane_dims = [nx, ny, 1];
            let hood = neighbourhood(plane_dims, Connectivity::InPlane);
            flat.levels
                .par_chunks(flat.plane_len())
                .map(|levels| ngtdm_plane(levels, plane_dims, 0, &hood, ng))
                .collect()
        }
        Connectivity::Volumetric => {
            let hood = neighbourhood(flat.dims, Connectivity::Volumetric);
            (0..nz).into_par_iter().map(|z| ngtdm_plane(&flat.levels, flat.dims, z, &hood, ng)).collect()
        }
    };
    let non_empty = planes.into_iter().filter(|m| m.n_voxels > 0.0);
    Ok(match aggregation {
        Aggregation::Avg2d => non_empty.collect(),
        _ => {
            // 2.5D: sum the slices; 3D: sum the partial sums of each plane of centres.
            let mut merged: Option<Ngtdm> = None;
            for part in non_empty {
                match merged.as_mut() {
                    None => merged = Some(part),
                    Some(total) => {
                        total.n.iter_mut().zip(&part.n).for_each(|(t, p)| *t += p);
                        total.s.iter_mut().zip(&part.s).for_each(|(t, p)| *t += p);
                        total.n_voxels += part.n_voxels;
                    }
                }
            }
            merged.into_iter().collect()
        }
    })
}

/// NGTDM contributions of the centre voxels in plane `z` of an x-fastest block.
fn ngtdm_plane(levels: &[u16], dims: [usize; 3], z: usize, hood: &Neighbourhood, ng: usize) -> Ngtdm {
    let [nx, ny, _] = dims;
    let mut n = vec![0.0; ng];
    let mut s = vec![0.0; ng];
    for y in 0..ny {
        for x in 0..nx {
            let level = levels[x + nx * (y + ny * z)];
            if level == 0 {
                continue;
            }
            let mut sum = 0u64;
            let mut count = 0u32;
            hood.for_each_in_roi(levels, dims, [x, y, z], |neighbour| {
                sum += u64::from(neighbour);
                count += 1;
            });
            if count > 0 {
                let row = usize::from(level) - 1;
                n[row] += 1.0;
                s[row] += (f64::from(level) - sum as f64 / f64::from(count)).abs();
            }
        }
    }
    let n_voxels = n.iter().sum();
    Ngtdm { n, s, n_voxels }
}

/// The voxels within Chebyshev distance δ of a centre, centre excluded (in a slice for
/// [`Connectivity::InPlane`]), as offsets for x-fastest buffers.
#[derive(Debug, Clone)]
pub(super) struct Neighbourhood {
    /// `([dx, dy, dz], flat offset)` for each neighbour position.
    offsets: Vec<([isize; 3], isize)>,
    /// How far the box reaches along each axis (δ, clipped to the array).
    reach: [usize; 3],
}

impl Neighbourhood {
    /// The Chebyshev box of radius `distance` for arrays of shape `dims`. Offsets that
    /// cannot land inside such an array are left out, so a large δ stays cheap.
    pub(super) fn chebyshev(distance: usize, dims: [usize; 3], connectivity: Connectivity) -> Self {
        let [nx, ny, nz] = dims;
        let reach_z = if connectivity == Connectivity::InPlane { 0 } else { distance.min(nz.saturating_sub(1)) };
        let reach = [distance.min(nx.saturating_sub(1)), distance.min(ny.saturating_sub(1)), reach_z];
        let signed = reach.map(|r| r as isize);
        let mut offsets = Vec::new();
        for dz in -signed[2]..=signed[2] {
            for dy in -signed[1]..=signed[1] {
                for dx in -signed[0]..=signed[0] {
                    if (dx, dy, dz) != (0, 0, 0) {
                        offsets.push(([dx, dy, dz], dx + nx as isize * (dy + ny as isize * dz)));
                    }
                }
            }
        }
        Neighbourhood { offsets, reach }
    }

    /// The positions `offsets`, each as often as listed, for arrays of shape `dims` (PyRadiomics' neighbourhoods: its angles of several distances). In-plane
    /// connectivity keeps the offsets with `dz = 0`; offsets that cannot land inside such an
    /// array are left out.
    pub(super) fn listed(offsets: &[[i32; 3]], dims: [usize; 3], connectivity: Connectivity) -> Self {
        let [nx, ny, _] = dims.map(|n| n as isize);
        let fits = |d: &[isize; 3]| (0..3).all(|k| d[k].unsigned_abs() < dims[k]);
        let in_plane = |d: &[isize; 3]| connectivity == Connectivity::Volumetric || d[2] == 0;
        let signed = offsets.iter().map(|d| d.map(|c| c as isize));
        let kept: Vec<[isize; 3]> = signed.filter(|d| fits(d) && in_plane(d) && *d != [0, 0, 0]).collect();
        let reach = std::array::from_fn(|k| kept.iter().map(|d| d[k].unsigned_abs()).max().unwrap_or(0));
        let offsets = kept.into_iter().map(|d @ [dx, dy, dz]| (d, dx + nx * (dy + ny * dz))).collect();
        Neighbourhood { offsets, reach }
    }

    /// How far the neighbourhood reaches along x, y and z.
    pub(super) fn reach(&self) -> [usize; 3] {
        self.reach
    }

    /// The neighbour positions `[dx, dy, dz]`, each as often as listed.
    pub(super) fn displacements(&self) -> impl Iterator<Item = [isize; 3]> + '_ {
        self.offsets.iter().map(|&(d, _)| d)
    }

    /// Calls `f` with the grey level of every neighbour of `centre` that lies in the
    /// array and in the ROI (level > 0).
    #[inline]
    pub(super) fn for_each_in_roi(&self, levels: &[u16], dims: [usize; 3], centre: [usize; 3], mut f: impl FnMut(u16)) {
        let [nx, ny, nz] = dims;
        let [x, y, z] = centre;
        let [rx, ry, rz] = self.reach;
        let index = x + nx * (y + ny * z);
        let interior = x >= rx && x + rx < nx && y >= ry && y + ry < ny && z >= rz && z + rz < nz;
        if interior {
            // The whole box is inside the array: plain flat offsets, no bounds tests.
            for &(_, offset) in &self.offsets {
                let level = levels[index.wrapping_add_signed(offset)];
                if level != 0 {
                    f(level);
                }
            }
        } else {
            for &([dx, dy, dz], offset) in &self.offsets {
                let inside = x.checked_add_signed(dx).is_some_and(|v| v < nx)
                    && y.checked_add_signed(dy).is_some_and(|v| v < ny)
                    && z.checked_add_signed(dz).is_some_and(|v| v < nz);
                if inside {
                    let level = levels[index.wrapping_add_signed(offset)];
                    if level != 0 {
                        f(level);
                    }
                }
            }
        }
    }
}
