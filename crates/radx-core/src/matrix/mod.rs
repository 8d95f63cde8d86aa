//! Texture-matrix builders: GLCM, GLRLM, GLSZM, GLDZM, NGTDM, NGLDM (IBSI 1, ch. 3.6–3.11).
//!
//! Every builder takes a [`DiscretisedRoi`] and an [`Aggregation`] and returns the list
//! of matrices that the features are computed on: feature values are then averaged over
//! that list (one entry for the merged methods). Empty matrices (a slice or direction
//! without any counted element) are left out, as the IBSI does. Counts are stored as
//! `f64` holding exact integers, so merging by addition is exact and the result is the
//! same for any thread count.

use std::borrow::Cow;

use ndarray::{Array2, Array3, ShapeBuilder, Zip, s};

use crate::volume::BoundingBox;

pub use crate::aggregation::Aggregation;

pub mod glcm;
pub mod gldzm;
pub mod glrlm;
pub mod glszm;
pub mod ngldm;
pub mod ngtdm;

/// A region of interest after discretisation: what every texture builder reads.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscretisedRoi {
    /// Grey level of each voxel, `1..=ng` inside the intensity mask, `0` outside.
    /// Indexed `[x, y, z]` like every radx volume.
    pub levels: Array3<u16>,
    /// Number of grey levels Ng. Levels absent from the ROI still count (IBSI).
    pub ng: usize,
    /// The morphological mask (GLDZM distances are measured on it).
    pub morphological: Array3<bool>,
    /// Voxel spacing in mm, (x, y, z).
    pub spacing: [f64; 3],
}

impl DiscretisedRoi {
    /// The same ROI with its grey levels `present` (ascending, every level it holds)
    /// renumbered `1..=present.len()`, which becomes its N_g (0, outside the ROI, stays 0).
    /// Matrices that compare levels only for equality count the same on it, on
    /// `present.len()` rows instead of N_g: what sources that keep only the present levels
    /// build on (a map's window holds a few of the ROI's levels).
    pub fn renumbered(&self, present: &[u16]) -> DiscretisedRoi {
        let mut renumber = vec![0u16; self.ng + 1];
        for (i, &l) in present.iter().enumerate() {
            renumber[usize::from(l)] = i as u16 + 1;
        }
        DiscretisedRoi {
            levels: self.levels.mapv(|l| renumber[usize::from(l)]),
            ng: present.len(),
            morphological: self.morphological.clone(),
            spacing: self.spacing,
        }
    }

    /// The same ROI cut to the box of its voxels (morphological mask and levels). Every
    /// texture matrix is the same on it: voxels outside both take part in none, and the box's
    /// faces are ROI edges as the array's are. The builders then scan fewer voxels than the
    /// box the pipeline keeps for the local-intensity sphere (2–6 times fewer on typical CT).
    /// Borrowed when the box is already the whole array or there is no voxel.
    pub fn cropped_to_voxels(&self) -> Cow<'_, DiscretisedRoi> {
        let inside = Zip::from(&self.morphological).and(&self.levels).map_collect(|&m, &l| m || l > 0);
        let dims = self.levels.dim();
        match BoundingBox::of_mask(&inside) {
            Some(b) if b.dims() != [dims.0, dims.1, dims.2] => {
                let window = s![b.min[0]..=b.max[0], b.min[1]..=b.max[1], b.min[2]..=b.max[2]];
                // x-fastest, as the pipeline's arrays.
                let shape = (b.dims()[0], b.dims()[1], b.dims()[2]).f();
                let mut levels = Array3::zeros(shape);
                levels.assign(&self.levels.slice(window));
                let mut morphological = Array3::from_elem(shape, false);
                morphological.assign(&self.morphological.slice(window));
                Cow::Owned(DiscretisedRoi { levels, ng: self.ng, morphological, spacing: self.spacing })
            }
            _ => Cow::Borrowed(self),
        }
    }
}

/// A texture matrix with grey level `g` on row `g - 1` (rows span `1..=ng` even where a
/// level is absent) and a second axis whose meaning depends on the family: the
/// neighbour's grey level (GLCM), run length (GLRLM), zone size (GLSZM), distance to
/// the ROI edge (GLDZM) or dependence count (NGLDM).
#[derive(Debug, Clone, PartialEq)]
pub struct TextureMatrix {
    /// Raw counts (not normalised), `ng × col_values.len()`.
    pub counts: Array2<f64>,
    /// The value of the second index for each column, increasing. GLCM: `1..=ng`. For the
    /// other families only values that occur somewhere in the merged set are kept, so a
    /// 200 000-voxel zone does not cost 200 000 columns.
    pub col_values: Vec<f64>,
    /// The IBSI's N_v for this matrix: voxels that took part (GLRLM, GLSZM, GLDZM, NGLDM:
    /// number of ROI voxels; summed when matrices are merged). For the GLCM it is the
    /// number of ROI voxels too, for reference only.
    pub n_voxels: f64,
}

impl TextureMatrix {
    /// Sum of all counts.
    pub fn total(&self) -> f64 {
        self.counts.sum()
    }

    /// Non-zero entries as `(i, j_value, count)`, row-major; `i` is the grey level.
    pub fn nonzero(&self) -> Vec<(usize, f64, f64)> {
        let mut out = Vec::new();
        for ((r, c), &v) in self.counts.indexed_iter() {
            if v != 0.0 {
                out.push((r + 1, self.col_values[c], v));
            }
        }
        out
    }
}

/// The neighbourhood grey tone difference matrix (IBSI 3.9): for each grey level `i`,
/// `n[i-1]` voxels with a valid neighbourhood and `s[i-1] = Σ |i − mean of neighbours|`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ngtdm {
    /// n_i per grey level (row `i - 1`).
    pub n: Vec<f64>,
    /// s_i per grey level.
    pub s: Vec<f64>,
    /// N_v,c: voxels with a valid neighbourhood (Σ n_i).
    pub n_voxels: f64,
}
