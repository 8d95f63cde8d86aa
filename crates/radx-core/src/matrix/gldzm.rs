//! Grey level distance zone matrix, GLDZM (IBSI 1, section 3.10, `VMDZ`).
//!
//! The zones are those of the GLSZM (intensity mask, 8-connected in 2D, 26-connected in
//! 3D). Each zone is counted at its grey level and at its distance to the ROI edge: the
//! smallest value of the distance map over the zone's voxels. The distance map is built
//! on the *morphological* mask with the Manhattan norm (4-connected in a slice, 6-connected
//! in the volume), edge voxels have distance 1 and the border of the cropped image counts
//! as edge (see [`crate::components::distance_to_edge`]). Only the distances that occur
//! become columns. `n_voxels` is the number of intensity-mask voxels (summed on merging).

use super::glszm::{ZoneColumn, zone_matrices};
use super::{Aggregation, DiscretisedRoi, TextureMatrix};
use crate::components::{Connectivity, dims_of, distance_map_flat, x_fastest};
use crate::error::CoreError;

/// The GLDZM of `roi`: one matrix per slice with ROI voxels for [`Aggregation::Avg2d`],
/// their sum for [`Aggregation::Merged2_5d`], one 3D matrix for [`Aggregation::Merged3d`].
/// An ROI without voxels gives an empty list.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for any other aggregation, when a grey level exceeds
/// `roi.ng`, when the morphological mask's shape differs from the grey levels', or when an
/// intensity-mask voxel lies outside the morphological mask (the IBSI requires the
/// intensity mask to be a subset of it; such a voxel would have no distance).
pub fn gldzm(roi: &DiscretisedRoi, aggregation: Aggregation) -> Result<Vec<TextureMatrix>, CoreError> {
    let distances = distance_maps(roi)?;
    let mut out = zone_matrices(roi, &[aggregation], "GLDZM", Some(&distances), &[ZoneColumn::Distance])?;
    Ok(out.pop().and_then(|mut by_aggregation| by_aggregation.pop()).unwrap_or_default())
}

/// After checking the masks, the distance map of `roi`'s morphological mask for a given
/// connectivity (x-fastest, the shape of the grey levels).
pub(super) fn distance_maps(roi: &DiscretisedRoi) -> Result<impl Fn(Connectivity) -> Vec<u32> + Sync, CoreError> {
    let level_dims = dims_of(&roi.levels.view());
    let mask_dims = dims_of(&roi.morphological.view());
    if level_dims != mask_dims {
        return Err(CoreError::InvalidSetting {
            name: "morphological",
            reason: format!("the morphological mask has shape {mask_dims:?} but the grey levels have {level_dims:?}"),
        });
    }
    let mask = x_fastest(roi.morphological.view());
    let levels = x_fastest(roi.levels.view());
    if let Some(index) = levels.iter().zip(mask.iter()).position(|(&level, &inside)| level > 0 && !inside) {
        let [nx, ny, _] = level_dims;
        return Err(CoreError::InvalidSetting {
            name: "morphological",
            reason: format!(
                "voxel [{}, {}, {}] is in the intensity mask but not in the morphological mask",
                index % nx,
                (index / nx) % ny,
                index / (nx * ny)
            ),
        });
    }
    Ok(move |connectivity| distance_map_flat(&mask, level_dims, connectivity))
}
