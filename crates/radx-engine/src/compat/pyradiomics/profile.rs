//! PyRadiomics' conventions as a [`Profile`]: its feature library, its resampling grid
//! aligned to the ROI, its ROI size checks, its `featureClass` selection and names.

use radx_core::CoreError;
use radx_core::roi::Roi;
use radx_io::VoxelType;

use crate::model::{FeatureRow, LibraryFamily};
use crate::profile::contract::{BoxedMask, ImagePart, OutputRow, Profile, Resampled, SliceResampling};
use crate::settings::Settings;

/// PyRadiomics' conventions (the settings carry its options, [`Settings::pyradiomics`]).
pub struct Pyradiomics;

impl Profile for Pyradiomics {
    fn library(&self) -> &'static [(&'static str, &'static str)] {
        super::sources::LIBRARY
    }

    fn resamples_on_own_grid(&self) -> bool {
        true
    }

    /// PyRadiomics aligns the new grid to the ROI's bounding box, not the image.
    fn resampling_region(
        &self,
        image: &radx_core::Grid,
        bbox: &radx_core::BoundingBox,
        settings: &Settings,
    ) -> Option<Result<radx_core::BoundingBox, CoreError>> {
        let r = settings.resample.as_ref()?;
        let pad = settings.pyradiomics.clone().unwrap_or_default().pad_distance;
        Some(
            check_resampling(image, bbox, settings)
                .and_then(|()| super::processing::resampling_region(image, bbox, r, pad)),
        )
    }

    fn resample(
        &self,
        image: ImagePart<'_>,
        pixel: Option<VoxelType>,
        mask: &BoxedMask,
        settings: &Settings,
    ) -> Option<Result<Resampled, CoreError>> {
        let r = settings.resample.as_ref()?;
        let pad = settings.pyradiomics.clone().unwrap_or_default().pad_distance;
        if let Err(e) = check_resampling(image.whole, &mask.bbox, settings) {
            return Some(Err(e));
        }
        Some(super::processing::resample(image, pixel, mask, r, pad))
    }

    fn slice_resampling(
        &self,
        image: &radx_core::Grid,
        bbox: &radx_core::BoundingBox,
        pixel: Option<VoxelType>,
        settings: &Settings,
    ) -> Option<Result<Box<dyn SliceResampling>, CoreError>> {
        let r = settings.resample.as_ref()?;
        let pad = settings.pyradiomics.clone().unwrap_or_default().pad_distance;
        if let Err(e) = check_resampling(image, bbox, settings) {
            return Some(Err(e));
        }
        super::processing::slice_resampling(image, bbox, pixel, r, pad)
    }

    fn check_roi(&self, roi: &Roi, settings: &Settings) -> Result<(), CoreError> {
        settings.pyradiomics.as_ref().map_or(Ok(()), |p| p.check_roi_size(roi))
    }

    fn prune_library(
        &self,
        library: Vec<LibraryFamily>,
        registry: &radx_dsl::Registry,
        settings: &Settings,
    ) -> Vec<LibraryFamily> {
        super::names::prune_library(library, registry, settings)
    }

    fn has_own_names(&self) -> bool {
        true
    }

    fn output_selection(&self, rows: &[FeatureRow], settings: &Settings, own_names: bool) -> Vec<OutputRow> {
        super::names::output_selection(rows, settings, own_names)
    }
}

/// Refuse a resampling ([`super::processing::resampling_bytes`]) over the memory budget
/// before the image is read for it.
fn check_resampling(
    image: &radx_core::Grid,
    bbox: &radx_core::BoundingBox,
    settings: &Settings,
) -> Result<(), CoreError> {
    let Some(r) = settings.resample.as_ref() else { return Ok(()) };
    let pad = settings.pyradiomics.clone().unwrap_or_default().pad_distance;
    let (bytes, [x, y, z]) = super::processing::resampling_bytes(image, bbox, r, pad)?;
    let what = format!("`resampledPixelSpacing` {:?} mm (a {x} × {y} × {z} voxel grid around the ROI)", r.spacing);
    crate::memory::Need::new(crate::memory::Phase::Interpolation, bytes, what).check(settings.max_memory)
}
