//! PyRadiomics' conventions as a [`Profile`]: its feature library, its resampling grid
//! aligned to the ROI, its ROI size checks, its `featureClass` selection and names.

use radx_core::roi::Roi;
use radx_core::{CoreError, Volume};
use radx_io::VoxelType;

use crate::model::FeatureRow;
use crate::profile::contract::{Profile, Resampled};
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
    fn resample(
        &self,
        image: &Volume<f64>,
        pixel: Option<VoxelType>,
        mask: &Volume<bool>,
        settings: &Settings,
    ) -> Option<Result<Resampled, CoreError>> {
        let r = settings.resample.as_ref()?;
        let pad = settings.pyradiomics.clone().unwrap_or_default().pad_distance;
        Some(super::processing::resample(image, pixel, mask, r, pad))
    }

    fn check_roi(&self, roi: &Roi, settings: &Settings) -> Result<(), CoreError> {
        settings.pyradiomics.as_ref().map_or(Ok(()), |p| p.check_roi_size(roi))
    }

    fn has_own_names(&self) -> bool {
        true
    }

    fn output_rows(&self, rows: Vec<FeatureRow>, settings: &Settings, own_names: bool) -> Vec<FeatureRow> {
        let mut rows = super::names::select_rows(rows, settings);
        if own_names {
            super::names::order_rows(&mut rows, settings);
            super::names::rename_rows(&mut rows);
        }
        rows
    }
}
