//! A PyRadiomics parameter file used with the IBSI library (`--library ibsi`): the
//! settings both libraries share carry over, PyRadiomics-only options are named as unused.

use radx_core::Aggregation;

use super::ParamsError;
use crate::compat::pyradiomics::options::PyradiomicsOptions;
use crate::settings::Settings;

/// The texture aggregations that follow PyRadiomics' `force2D`: the IBSI's 2D and 2.5D
/// ones for in-plane texture, its 3D ones otherwise. User families over the IBSI's texture
/// sources (`cm`, `rlm`, …) are computed for these.
pub fn aggregations(force_2d: bool) -> Vec<Aggregation> {
    if force_2d {
        vec![Aggregation::Avg2d, Aggregation::SliceMerged2d, Aggregation::DirectionMerged2_5d, Aggregation::Merged2_5d]
    } else {
        vec![Aggregation::Avg3d, Aggregation::Merged3d]
    }
}

/// `settings` from a PyRadiomics parameter file for the IBSI library: binning,
/// normalisation, resampling (on the IBSI's grid), re-segmentation, distances and the
/// aggregations `force2D` implies carry over; each PyRadiomics-only option set comes back
/// as a message naming it.
///
/// # Errors
/// [`ParamsError::NotForIbsi`] when `resampledPixelSpacing` keeps x or y (a 0 there): the
/// IBSI's grid keeps only z.
pub fn for_ibsi_library(mut settings: Settings) -> Result<(Settings, Vec<String>), ParamsError> {
    let Some(options) = settings.pyradiomics.take() else { return Ok((settings, Vec::new())) };
    if settings.resample.as_ref().is_some_and(|r| r.spacing[..2].contains(&0.0)) {
        return Err(ParamsError::NotForIbsi {
            key: "setting `resampledPixelSpacing`",
            reason: "a 0 for x or y keeps that axis in PyRadiomics, but the IBSI library's grid keeps only z; \
                     give the spacing, or use --library pyradiomics",
        });
    }
    let mut unused = unused_options(&options);
    if settings.resample.is_some() {
        unused.push("resampling follows the IBSI's grid centred on the image, not PyRadiomics' grid on the ROI".into());
    }
    Ok((settings, unused.into_iter().map(|m| format!("with the IBSI library, {m}")).collect()))
}

/// Each PyRadiomics-only option that differs from its default, named.
fn unused_options(options: &PyradiomicsOptions) -> Vec<String> {
    let default = PyradiomicsOptions::default();
    let mut unused = Vec::new();
    let mut unless_default = |differs: bool, what: &str| {
        if differs {
            unused.push(what.to_string());
        }
    };
    unless_default(options.voxel_array_shift != default.voxel_array_shift, "`voxelArrayShift` has no effect");
    unless_default(
        options.distances.len() > 1,
        "`distances` with several values has no effect: the IBSI's GLCM and NGLDM take one distance (1 is used)",
    );
    unless_default(options.weighting_norm.is_some(), "`weightingNorm` has no effect (the IBSI aggregations apply)");
    unless_default(
        options.minimum_roi_dimensions != default.minimum_roi_dimensions || options.minimum_roi_size.is_some(),
        "`minimumROIDimensions` and `minimumROISize` have no effect",
    );
    unless_default(
        options.feature_classes.is_some(),
        "`featureClass` has no effect: it selects PyRadiomics' classes, and every IBSI family is computed",
    );
    unless_default(options.voxel_setting.is_some(), "`voxelSetting` has no effect");
    unless_default(
        options.pre_crop,
        "`preCrop` has no effect: filters see the image the IBSI's chain keeps (PyRadiomics' image types are \
         computed as PyRadiomics computes them, on that image)",
    );
    unless_default(
        !options.original_image,
        "`imageType` without `Original` has no effect: the original image's families are computed too",
    );
    unused
}
