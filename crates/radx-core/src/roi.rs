//! From an image and a label map to a cropped region of interest.

use std::borrow::Cow;

use ndarray::Array3;

use crate::error::CoreError;
pub use crate::label::LabelSelection;
use crate::volume::{BoundingBox, Volume};

/// A region of interest cropped to its bounding box (plus margin), ready for processing.
///
/// The IBSI keeps two masks: the *morphological* mask (shape features, GLDZM distances)
/// and the *intensity* mask (everything else), which re-segmentation may shrink.
#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    /// Image intensities inside the crop box.
    pub image: Volume<f64>,
    /// Morphological mask, same grid as `image`.
    pub morphological: Array3<bool>,
    /// Intensity mask, same grid as `image`; a subset of `morphological`.
    pub intensity: Array3<bool>,
}

impl Roi {
    /// Number of voxels in the intensity mask.
    pub fn intensity_count(&self) -> usize {
        crate::volume::count_true(&self.intensity)
    }

    /// Intensities of the intensity-mask voxels, in x-fastest order (deterministic).
    pub fn intensities(&self) -> Vec<f64> {
        let image = crate::iter::x_fastest(&self.image.data);
        let mask = crate::iter::x_fastest(&self.intensity);
        // Over plain slices: the ROI's voxels come in stretches, so the branch is predictable.
        let mut out = Vec::with_capacity(self.intensity_count());
        out.extend(image.iter().zip(mask.iter()).filter(|(_, m)| **m).map(|(v, _)| *v));
        out
    }
}

/// Binary mask of the voxels `selection` picks (see [`LabelSelection::matches`]). A
/// selection that picks nothing is an error listing the labels that are present.
pub fn select_label(labels: &Volume<f64>, selection: impl Into<LabelSelection>) -> Result<Volume<bool>, CoreError> {
    let selection = selection.into();
    let mask = labels.map(|&v| selection.matches(v));
    if !mask.data.iter().any(|&m| m) {
        return Err(CoreError::LabelAbsent { label: selection, present: present_labels(labels) });
    }
    Ok(mask)
}

/// Distinct non-zero labels in a label map, comma-separated (at most 20 listed).
pub fn present_labels(labels: &Volume<f64>) -> String {
    let mut seen: Vec<i64> = Vec::new();
    for &v in labels.data.iter() {
        if v != 0.0 && v.is_finite() {
            let l = v.round() as i64;
            if !seen.contains(&l) {
                seen.push(l);
                if seen.len() > 20 {
                    break;
                }
            }
        }
    }
    seen.sort_unstable();
    if seen.is_empty() { "none".to_string() } else { seen.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ") }
}

/// Check geometry, crop image and mask to the mask's bounding box grown by `margin`
/// voxels, and refuse NaN/infinite intensities inside the ROI.
///
/// `tolerance` is the geometry tolerance in mm (see [`crate::Grid::check_matches`]).
pub fn crop_to_roi(
    image: &Volume<f64>,
    mask: &Volume<bool>,
    margin: [usize; 3],
    tolerance: f64,
) -> Result<Roi, CoreError> {
    roi_of(Cow::Borrowed(image), Cow::Borrowed(mask), margin, tolerance)
}

/// [`crop_to_roi`] that takes the volumes: when the grown box is the whole volume (e.g. an
/// image region read with that box already), they become the ROI without a copy.
pub fn into_roi(image: Volume<f64>, mask: Volume<bool>, margin: [usize; 3], tolerance: f64) -> Result<Roi, CoreError> {
    roi_of(Cow::Owned(image), Cow::Owned(mask), margin, tolerance)
}

/// The box [`crop_to_roi`] crops to: the mask's bounding box grown by `margin` voxels,
/// within its grid; `None` for an empty mask.
pub fn crop_box(mask: &Volume<bool>, margin: [usize; 3]) -> Option<BoundingBox> {
    Some(BoundingBox::of_mask(&mask.data)?.grown(margin, mask.grid.dims))
}

fn roi_of(
    image: Cow<'_, Volume<f64>>,
    mask: Cow<'_, Volume<bool>>,
    margin: [usize; 3],
    tolerance: f64,
) -> Result<Roi, CoreError> {
    image.grid.check_matches(&mask.grid, tolerance)?;
    let bbox = crop_box(&mask, margin).ok_or_else(|| CoreError::EmptyRoi(String::new()))?;
    let whole = bbox.min == [0; 3] && bbox.dims() == image.grid.dims;
    let (image, morphological) =
        if whole { (image.into_owned(), mask.into_owned().data) } else { (image.crop(&bbox), mask.crop(&bbox).data) };
    // Counted in memory order; the voxel reported is the first in index order (z fastest).
    let bad = ndarray::Zip::from(&image.data)
        .and(&morphological)
        .fold(0usize, |n, &v, &inside| n + usize::from(inside && !v.is_finite()));
    let first = (bad > 0)
        .then(|| image.data.indexed_iter().zip(morphological.iter()).find(|((_, v), m)| **m && !v.is_finite()))
        .flatten();
    if let Some((((x, y, z), _), _)) = first {
        return Err(CoreError::NonFinite { count: bad, x: x + bbox.min[0], y: y + bbox.min[1], z: z + bbox.min[2] });
    }
    let intensity = morphological.clone();
    Ok(Roi { image, morphological, intensity })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;

    fn labels() -> Volume<f64> {
        let grid = Grid::new([4, 3, 2], [1.0; 3]);
        let mut v = vec![0.0; 24];
        v[5] = 1.0;
        v[6] = 2.0;
        v[17] = 1.0;
        Volume::from_x_fastest(grid, v)
    }

    #[test]
    fn label_selection_and_absent_label() {
        let m = select_label(&labels(), 1).unwrap();
        assert_eq!(m.data.iter().filter(|&&b| b).count(), 2);
        let err = select_label(&labels(), 7).unwrap_err();
        assert_eq!(err.to_string(), "label 7 does not occur in the mask (labels present: 1, 2)");
    }

    #[test]
    fn crop_refuses_nan_inside_roi_but_not_outside() {
        let l = labels();
        let mask = select_label(&l, 1).unwrap();
        let mut img = l.map(|_| 1.0);
        img.data[[0, 0, 0]] = f64::NAN; // outside the ROI: fine
        let roi = crop_to_roi(&img, &mask, [0; 3], 1e-6).unwrap();
        assert_eq!(roi.intensity_count(), 2);
        img.data[[1, 1, 0]] = f64::NAN; // index 5 = (1,1,0): inside
        let err = crop_to_roi(&img, &mask, [0; 3], 1e-6).unwrap_err();
        assert!(matches!(err, CoreError::NonFinite { count: 1, x: 1, y: 1, z: 0 }), "{err}");
    }

    proptest::proptest! {
        /// The intensities, over plain slices, are those of the mask's voxels in x-fastest
        /// order, as walking the volume's indices z, y, x gives them.
        #[test]
        fn intensities_follow_the_mask_x_fastest(
            dims in (1usize..6, 1usize..5, 1usize..4),
            inside in proptest::collection::vec(proptest::bool::ANY, 120),
        ) {
            let grid = Grid::new([dims.0, dims.1, dims.2], [1.0; 3]);
            let n = grid.len();
            let image = Volume::from_x_fastest(grid, (0..n).map(|k| k as f64 * 0.5 - 3.0).collect());
            let mask = Volume::from_x_fastest(grid, inside[..n].to_vec()).data;
            let roi = Roi { image, morphological: mask.clone(), intensity: mask };
            let mut want = Vec::new();
            for z in 0..dims.2 {
                for y in 0..dims.1 {
                    for x in 0..dims.0 {
                        if roi.intensity[[x, y, z]] {
                            want.push(roi.image.data[[x, y, z]]);
                        }
                    }
                }
            }
            proptest::prop_assert_eq!(roi.intensities(), want);
        }
    }

    #[test]
    fn empty_mask_is_an_error() {
        let grid = Grid::new([2, 2, 2], [1.0; 3]);
        let img = Volume::filled(grid, 0.0);
        let mask = Volume::filled(grid, false);
        assert!(matches!(crop_to_roi(&img, &mask, [0; 3], 1e-6), Err(CoreError::EmptyRoi(_))));
    }
}
