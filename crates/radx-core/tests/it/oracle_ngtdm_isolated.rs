//! Oracle: the NGTDM of hand-worked ROIs with isolated voxels (IBSI 1, 3.9: a voxel counts
//! only when its neighbourhood holds at least one ROI voxel). Every value below is worked
//! out in the comments from the ROI drawn there, not printed by radx.

use ndarray::{Array3, ShapeBuilder};
use radx_core::Aggregation;
use radx_core::matrix::DiscretisedRoi;
use radx_core::matrix::ngtdm::ngtdm;

/// An ROI of `dims` with the listed `(x, y, z, level)` voxels, 3 grey levels.
fn roi(dims: (usize, usize, usize), voxels: &[(usize, usize, usize, u16)]) -> DiscretisedRoi {
    let mut levels = Array3::zeros(dims.f());
    for &(x, y, z, level) in voxels {
        levels[[x, y, z]] = level;
    }
    let morphological = levels.mapv(|l| l > 0);
    DiscretisedRoi { levels, ng: 3, morphological, spacing: [1.0; 3] }
}

/// One slice, 4×3:
/// ```text
///   y=0:  1 2 . .
///   y=1:  . . . 2     (3,1) has no ROI voxel among its 8 neighbours
///   y=2:  3 . . .     (0,2) neither
/// ```
/// (0,0)=1 sees only (1,0)=2: s₁ = |1 − 2| = 1; (1,0)=2 sees only (0,0)=1: s₂ = |2 − 1| = 1.
/// The two isolated voxels count nowhere: n = (1, 1, 0), s = (1, 1, 0), N_v,c = 2 of 4.
#[test]
fn two_d_slice_with_isolated_voxels() {
    let r = roi((4, 3, 1), &[(0, 0, 0, 1), (1, 0, 0, 2), (3, 1, 0, 2), (0, 2, 0, 3)]);
    for aggregation in [Aggregation::Avg2d, Aggregation::Merged2_5d, Aggregation::Merged3d] {
        let m = ngtdm(&r, aggregation).unwrap();
        assert_eq!(m.len(), 1, "{aggregation:?}");
        assert_eq!(m[0].n, vec![1.0, 1.0, 0.0], "{aggregation:?}");
        assert_eq!(m[0].s, vec![1.0, 1.0, 0.0], "{aggregation:?}");
        assert_eq!(m[0].n_voxels, 2.0, "{aggregation:?}");
    }
}

/// 3×3×3, five voxels: A=(0,0,0)=1, B=(1,1,0)=2, C=(2,0,1)=3, D=(2,2,2)=3, E=(0,0,2)=1.
///
/// In 3D (26 neighbours): A sees B → s₁ += |1 − 2| = 1. B sees A and C (offset (1,−1,1))
/// → mean 2, s₂ += 0. C sees B → s₃ += |3 − 2| = 1. D is 2 from every other voxel along
/// some axis, and so is E: both isolated. n = (1, 1, 1), s = (1, 0, 1), N_v,c = 3 of 5.
///
/// In 2D (8 neighbours in the slice): slice 0 has A and B, diagonal neighbours: n = (1, 1, 0),
/// s = (1, 1, 0), N_v,c = 2; slice 1 holds C alone and slice 2 D and E two apart: no valid
/// voxel, no matrix. 2.5D merges slice 0 only: the same n, s, N_v,c.
#[test]
fn three_d_volume_with_voxels_isolated_in_plane_or_in_space() {
    let r = roi((3, 3, 3), &[(0, 0, 0, 1), (1, 1, 0, 2), (2, 0, 1, 3), (2, 2, 2, 3), (0, 0, 2, 1)]);
    let volume = ngtdm(&r, Aggregation::Merged3d).unwrap();
    assert_eq!(volume.len(), 1);
    assert_eq!(volume[0].n, vec![1.0, 1.0, 1.0]);
    assert_eq!(volume[0].s, vec![1.0, 0.0, 1.0]);
    assert_eq!(volume[0].n_voxels, 3.0);
    for aggregation in [Aggregation::Avg2d, Aggregation::Merged2_5d] {
        let slices = ngtdm(&r, aggregation).unwrap();
        assert_eq!(slices.len(), 1, "{aggregation:?}: only slice 0 has a valid voxel");
        assert_eq!(slices[0].n, vec![1.0, 1.0, 0.0], "{aggregation:?}");
        assert_eq!(slices[0].s, vec![1.0, 1.0, 0.0], "{aggregation:?}");
        assert_eq!(slices[0].n_voxels, 2.0, "{aggregation:?}");
    }
}

/// Every voxel isolated: no matrix at all (not a matrix of zeros).
#[test]
fn an_roi_of_isolated_voxels_has_no_ngtdm() {
    let r = roi((5, 5, 5), &[(0, 0, 0, 1), (2, 2, 2, 2), (4, 4, 4, 3), (0, 4, 0, 1)]);
    for aggregation in [Aggregation::Avg2d, Aggregation::Merged2_5d, Aggregation::Merged3d] {
        assert!(ngtdm(&r, aggregation).unwrap().is_empty(), "{aggregation:?}");
    }
}
