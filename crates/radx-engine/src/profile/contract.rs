//! What a profile decides. Apart from the profiles' list, so a profile elsewhere
//! (`compat/pyradiomics`) can implement it without a circle of imports.

use radx_core::roi::Roi;
use radx_core::{CoreError, Volume};
use radx_io::VoxelType;

use crate::model::FeatureRow;
use crate::settings::Settings;

/// An image and its ROI mask on a profile's own resampling grid.
pub type Resampled = (Volume<f64>, Volume<bool>);

/// The conventions a run follows where tools differ. Every method's default is the IBSI's.
pub trait Profile: Sync {
    /// The embedded feature library: (file name, text) of each `.radx` file.
    fn library(&self) -> &'static [(&'static str, &'static str)];

    /// Whether resampling (when the settings ask for it) uses this profile's own grid, which
    /// [`Profile::resample`] builds from the whole image, instead of the IBSI's grid aligned
    /// to the image (which the pipeline builds around the ROI's box only). The pipeline reads
    /// the whole image when this holds.
    fn resamples_on_own_grid(&self) -> bool {
        false
    }

    /// `image` and the ROI `mask` resampled onto this profile's own grid, or `None` when the
    /// profile has none or the settings ask for no resampling. `pixel` is the image's pixel
    /// type when known ([`crate::VolumeSource::pixel_type`]).
    fn resample(
        &self,
        image: &Volume<f64>,
        pixel: Option<VoxelType>,
        mask: &Volume<bool>,
        settings: &Settings,
    ) -> Option<Result<Resampled, CoreError>> {
        let _ = (image, pixel, mask, settings);
        None
    }

    /// Refuse a ROI the profile cannot extract (after re-segmentation).
    fn check_roi(&self, roi: &Roi, settings: &Settings) -> Result<(), CoreError> {
        let _ = (roi, settings);
        Ok(())
    }

    /// Whether the profile has names of its own for its rows ([`Profile::output_rows`]).
    fn has_own_names(&self) -> bool {
        false
    }

    /// The rows a run outputs: those the settings select, named by the profile when
    /// `own_names` is asked for (and [`Profile::has_own_names`]).
    fn output_rows(&self, rows: Vec<FeatureRow>, settings: &Settings, own_names: bool) -> Vec<FeatureRow> {
        let _ = (settings, own_names);
        rows
    }
}
