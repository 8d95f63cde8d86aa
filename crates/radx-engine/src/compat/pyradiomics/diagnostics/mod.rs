//! PyRadiomics' `diagnostics_*` values of one case (its `generalinfo.py`), each with
//! radx's value, in PyRadiomics' order: versions, configuration, the original image and
//! mask, the interpolated image and mask (with resampling), the re-segmented mask (with
//! re-segmentation). Values are text as PyRadiomics' batch CSV writes them.

mod configuration;
mod hash;
pub mod python;
mod roi;

use radx_core::roi::{Roi, select_label};
use radx_core::{CoreError, Volume};

use crate::case::Case;
use crate::extractor::Extractor;

/// One diagnostic: PyRadiomics' column name and radx's value as text.
pub type Diagnostic = (String, String);

const PREFIX: &str = "diagnostics_";

/// The diagnostics of `case` extracted by `extractor` (which must hold PyRadiomics'
/// settings for the interpolated and re-segmented values to be PyRadiomics'). Reads both
/// volumes whole.
///
/// # Errors
/// [`crate::Error`] when a volume cannot be read or the ROI is empty.
pub fn diagnostics(extractor: &Extractor, case: &Case) -> Result<Vec<Diagnostic>, crate::Error> {
    let settings = &extractor.settings;
    let core = |source| crate::Error::Core { context: case.describe(), source };
    let read = |source: &crate::case::VolumeSource| {
        source.load(&settings.read_options(settings.max_memory)).map_err(crate::Error::Io)
    };
    let (image, labels) = (read(&case.image)?, read(&case.mask)?);
    let mask = select_label(&labels, case.roi).map_err(core)?;
    let mut out = configuration::versions();
    out.extend(configuration::configuration(extractor, case));
    out.push(("Image-original_Hash".into(), hash::image_hash(&case.image, &image)));
    out.push(("Image-original_Dimensionality".into(), "3D".into()));
    out.extend(roi::image_elements("Image-original", &image));
    out.push(("Mask-original_Hash".into(), hash::mask_hash(&labels)));
    out.extend(roi::mask_elements("Mask-original", &mask, None));
    out.extend(processed(&image, case.image.pixel_type(), mask, settings).map_err(core)?);
    Ok(out.into_iter().map(|(name, value)| (format!("{PREFIX}{name}"), value)).collect())
}

/// The interpolated image and mask and the re-segmented mask, as PyRadiomics makes them:
/// normalised, then resampled onto its grid (into the pixel type `pixel`, when known), then
/// re-segmented.
fn processed(
    image: &Volume<f64>,
    pixel: Option<radx_io::VoxelType>,
    mask: Volume<bool>,
    settings: &crate::settings::Settings,
) -> Result<Vec<Diagnostic>, CoreError> {
    let mut out = Vec::new();
    let (mut image, pixel) = match &settings.normalise {
        // SimpleITK's Normalize gives float64.
        Some(n) => (super::processing::normalise_image(image, n)?, Some(radx_io::VoxelType::F64)),
        None => (image.clone(), pixel),
    };
    let mut mask = mask;
    // An empty mask has failed the extraction before its diagnostics are asked for.
    let boxed = crate::profile::contract::BoxedMask::of(&mask);
    let profile = crate::profile::of(settings);
    if let Some(resampled) =
        boxed.and_then(|b| profile.resample(crate::profile::contract::ImagePart::whole(&image), pixel, &b, settings))
    {
        (image, mask) = resampled?;
        out.extend(roi::image_elements("Image-interpolated", &image));
        out.extend(roi::mask_elements("Mask-interpolated", &mask, Some(&image)));
    }
    if let Some(bounds) = settings.resegment.range {
        let roi = Roi { image, morphological: mask.data.clone(), intensity: mask.data };
        let [lo, hi] = super::processing::resegment_bounds(&roi, bounds, settings.resegment.mode);
        let kept = Volume {
            grid: roi.image.grid,
            data: ndarray::Zip::from(&roi.intensity).and(&roi.image.data).map_collect(|&m, &v| m && v >= lo && v <= hi),
        };
        out.extend(roi::mask_elements("Mask-resegmented", &kept, Some(&roi.image)));
    }
    Ok(out)
}
