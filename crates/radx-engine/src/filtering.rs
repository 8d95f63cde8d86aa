//! Filtered images (IBSI-2): each `[[filter]]` of the settings gives an image type. Its
//! response is computed on the processed image (after interpolation and rounding, on the
//! crop the pipeline keeps wide enough for the filter: see `pipeline::Reach`), the ROI's
//! masks stay the original image's (re-segmentation is decided on the unfiltered
//! intensities, as IBSI-2 phase 2 does), and the chosen families are computed on it.

use std::sync::Arc;

use radx_core::roi::Roi;
use radx_core::{BoundingBox, Volume};
use radx_filters::{Filter, Margin};

use crate::library::LibraryFamily;
use crate::model::{ImageType, ProcessedCase};
use crate::settings::{Binning, FilterSettings, Settings};

/// One filter, built, with the families computed on its response.
#[derive(Clone)]
pub struct FilterStage {
    /// The response's image type (the filter's name, e.g. `log_sigma_1.5mm`).
    pub image_type: ImageType,
    /// The filter.
    pub filter: Arc<dyn Filter>,
    /// The families computed on the response, in library order.
    pub library: Vec<LibraryFamily>,
    /// How the response is discretised.
    pub binning: Binning,
    /// One of PyRadiomics' image types: on an image the filter does not fit it is skipped
    /// rather than the case refused (PyRadiomics skips it with a warning), and it may be
    /// computed on the ROI's voxels only (PyRadiomics' LBP 3D computes nothing else; the
    /// PyRadiomics library reads nothing else).
    pub pyradiomics: bool,
}

impl std::fmt::Debug for FilterStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterStage")
            .field("image_type", &self.image_type)
            .field("families", &self.library.len())
            .finish()
    }
}

/// Why a filter stage cannot be set up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterStageError {
    /// The filter's settings are refused.
    #[error("filter {index}: {source}")]
    Filter {
        /// 1-based position among the `[[filter]]` tables.
        index: usize,
        /// Why.
        source: radx_filters::FilterError,
    },
    /// The filter cannot filter this case's image (its support is larger than the image…).
    #[error("{context}: {source}")]
    Apply {
        /// The case and the filter.
        context: String,
        /// Why.
        source: radx_filters::FilterError,
    },
    /// A `kind = "plugin"` filter that no loaded plugin provides, or with parameters it
    /// does not declare.
    #[error(transparent)]
    Plugin(#[from] crate::plugin_filters::PluginFilterError),
    /// `families` names a family the library does not have.
    #[error("filter `{image_type}`: no family `{family}` in the feature library; known: {known}")]
    UnknownFamily {
        /// The filter's image type.
        image_type: String,
        /// The name given.
        family: String,
        /// The library's families.
        known: String,
    },
}

/// Build every filter of `settings` and pick the families computed on each response from
/// the compiled `library`: those named in `families`, else every family whose source is not
/// shape-only (see [`crate::sources::SourceProvider::shape_only`]).
pub fn stages(settings: &Settings, library: &[LibraryFamily]) -> Result<Vec<FilterStage>, FilterStageError> {
    settings.filters.iter().enumerate().map(|(i, f)| stage(i + 1, f, settings, library)).collect()
}

fn stage(
    index: usize,
    f: &FilterSettings,
    settings: &Settings,
    library: &[LibraryFamily],
) -> Result<FilterStage, FilterStageError> {
    let filter: Arc<dyn Filter> =
        Arc::from(f.spec.build().map_err(|source| FilterStageError::Filter { index, source })?);
    let image_type = filter.image_type();
    let chosen: Vec<LibraryFamily> = match &f.families {
        Some(names) => {
            for name in names {
                if !library.iter().any(|l| l.family.name() == name) {
                    let known: Vec<&str> = library.iter().map(|l| l.family.name()).collect();
                    return Err(FilterStageError::UnknownFamily {
                        image_type,
                        family: name.clone(),
                        known: known.join(", "),
                    });
                }
            }
            library.iter().filter(|l| names.iter().any(|n| n == l.family.name())).cloned().collect()
        }
        None => library
            .iter()
            .filter(|l| {
                !crate::sources::provider(&l.family.source().name)
                    .is_some_and(|p| p.shape_only(&l.family.source().name))
            })
            .cloned()
            .collect(),
    };
    let binning = f.discretisation.clone().unwrap_or_else(|| settings.discretisation.texture.clone());
    Ok(FilterStage {
        image_type: ImageType::named(image_type),
        filter,
        library: chosen,
        binning,
        pyradiomics: f.spec.is_pyradiomics(),
    })
}

/// The processed case of `stage`'s response: `original`'s masks, the response's
/// intensities, discretised with the stage's binning (a fixed bin size without its own
/// lower bound starts at the response's ROI minimum). `None` when the stage is one of
/// PyRadiomics' image types and PyRadiomics skips it on this image (a LoG σ too large for
/// it): that image type then has no features, as in PyRadiomics.
///
/// The crop the chain kept is as wide as the widest filter needs (the whole image when one
/// filter's response depends on it); a filter of compact support is applied to the part
/// that it and the features need — the ROI's box grown by its margin and the
/// local-intensity margin — so one whole-image filter does not make every filter filter
/// the whole image. `case` names the case in errors.
pub fn filtered_case(
    original: &ProcessedCase,
    stage: &FilterStage,
    case: &str,
) -> Result<Option<ProcessedCase>, crate::Error> {
    let context = || format!("{case}, filter {}", stage.image_type);
    let apply_error = |source| FilterStageError::Apply { context: context(), source };
    let spacing = original.roi.image.grid.spacing;
    let margin = stage.filter.margin(spacing);
    let cropped = match margin {
        Margin::Voxels(margin) => crop_roi(&original.roi, margin),
        Margin::WholeImage => None,
    };
    let source = cropped.as_ref().unwrap_or(&original.roi);
    // A whole-image filter sees the image the chain kept (PyRadiomics' filters: the image,
    // its resampled crop or its pre-crop, which is what PyRadiomics checks); a compact one
    // is checked on the whole image's grid, as the crop may be smaller at an edge.
    let checked = match margin {
        Margin::WholeImage => source.image.grid.dims,
        Margin::Voxels(_) => original.interpolated_grid.dims,
    };
    if let Err(source) = stage.filter.check_fits(checked, spacing) {
        return if stage.pyradiomics { Ok(None) } else { Err(apply_error(source).into()) };
    }
    let image = source.image.data.view();
    let response = if stage.pyradiomics {
        stage.filter.apply_where(image, spacing, source.intensity.view())
    } else {
        stage.filter.apply(image, spacing)
    }
    .map_err(apply_error)?;
    let roi = Roi {
        image: Volume { grid: source.image.grid, data: response },
        morphological: source.morphological.clone(),
        intensity: source.intensity.clone(),
    };
    let (levels, bin_lower_bound) = crate::pipeline::discretise_roi(&roi, &stage.binning, None)
        .map_err(|source| crate::Error::Core { context: context(), source })?;
    Ok(Some(ProcessedCase {
        roi,
        levels,
        bin_lower_bound,
        interpolated_grid: original.interpolated_grid,
        interpolated_count: original.interpolated_count,
        // Plugins run on the original image only.
        plugin_region: None,
    }))
}

/// What [`filtered_case`] holds for `stage` beyond `original`: the crop it filters (a copy
/// of the image and masks, `None` for a whole-image filter), the filter's working arrays
/// ([`radx_filters::Filter::working_bytes`], the response included), with the dims
/// filtered (the response's processed ROI is [`crate::memory::filters`]' to add).
pub fn stage_bytes(original: &ProcessedCase, stage: &FilterStage) -> (u64, [usize; 3]) {
    let roi = &original.roi;
    let spacing = roi.image.grid.spacing;
    let (dims, copied) = match stage.filter.margin(spacing) {
        Margin::Voxels(margin) => match crop_box(roi, margin) {
            Some(bbox) => (bbox.dims(), true),
            None => (roi.image.grid.dims, false),
        },
        Margin::WholeImage => (roi.image.grid.dims, false),
    };
    let copy = if copied { crate::memory::f64_bytes(dims) / 8 * 10 } else { 0 };
    (stage.filter.working_bytes(dims, spacing).saturating_add(copy), dims)
}

/// The box [`crop_roi`] cuts, or `None` when that is all of `roi`.
fn crop_box(roi: &Roi, margin: [usize; 3]) -> Option<BoundingBox> {
    let local = crate::pipeline::local_intensity_margin(roi.image.grid.spacing);
    let grow: [usize; 3] = std::array::from_fn(|a| margin[a].max(local[a]));
    let dims = roi.image.grid.dims;
    let bbox = BoundingBox::of_mask(&roi.morphological)?.grown(grow, dims);
    (bbox.dims() != dims).then_some(bbox)
}

/// `roi` cut to its ROI's box grown by `margin` and the local-intensity margin, or `None`
/// when that is all of it.
fn crop_roi(roi: &Roi, margin: [usize; 3]) -> Option<Roi> {
    let bbox = crop_box(roi, margin)?;
    let cut = |mask: &ndarray::Array3<bool>| Volume { grid: roi.image.grid, data: mask.clone() }.crop(&bbox).data;
    Some(Roi { image: roi.image.crop(&bbox), morphological: cut(&roi.morphological), intensity: cut(&roi.intensity) })
}

/// The image as the chain sees it before filtering, whole: interpolated to the settings'
/// grid (intensities rounded when they say so), or as it is.
pub fn processed_whole_image(image: &Volume<f64>, settings: &Settings) -> Result<Volume<f64>, radx_core::CoreError> {
    use radx_core::processing::resample;
    let Some(r) = &settings.resample else { return Ok(image.clone()) };
    let full = resample::aligned_grid(&image.grid, r.spacing, r.in_plane_only)?;
    crate::limits::check_resampling(image.grid.dims, &full, settings)?;
    let mut interpolated = resample::resample_image(image, &full, r.image_interpolator.kernel())?;
    if r.round_intensities {
        resample::round_intensities(&mut interpolated);
    }
    Ok(interpolated)
}

/// `stage`'s response on the whole of `image` (see [`processed_whole_image`]).
pub fn whole_image_response(
    image: &Volume<f64>,
    stage: &FilterStage,
    settings: &Settings,
    name: &str,
) -> Result<Volume<f64>, crate::Error> {
    let processed = processed_whole_image(image, settings)
        .map_err(|source| crate::Error::Core { context: name.to_string(), source })?;
    let apply_error =
        |source| FilterStageError::Apply { context: format!("{name}, filter {}", stage.image_type), source };
    stage.filter.check_fits(processed.grid.dims, processed.grid.spacing).map_err(apply_error)?;
    let data = stage.filter.apply(processed.data.view(), processed.grid.spacing).map_err(apply_error)?;
    Ok(Volume { grid: processed.grid, data })
}
