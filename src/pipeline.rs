//! From (image, mask, settings) to a processed case: the IBSI processing chain of
//! `radx_core::processing`, applied in the IBSI's order (manual fig. 2.1).

use std::path::Path;

use radx_core::matrix::DiscretisedRoi;
use radx_core::processing::{discretise, resample, resegment};
use radx_core::roi::{self, Roi};
use radx_core::{BoundingBox, CoreError, Volume};

use crate::Error;
use crate::settings::{Binning, Interpolator, Settings};

/// A case after processing: the ROI (image cropped with a margin, both masks) and its
/// discretised grey levels, plus what the steps reported for `--diagnostics`.
#[derive(Debug, Clone)]
pub struct ProcessedCase {
    /// Cropped image, morphological and intensity masks.
    pub roi: Roi,
    /// Grey levels for texture and intensity-histogram features.
    pub levels: DiscretisedRoi,
    /// Lower bound used for fixed-bin-size discretisation, when it applies.
    pub bin_lower_bound: Option<f64>,
    /// The whole image's grid after interpolation (the original grid without it).
    pub interpolated_grid: radx_core::Grid,
    /// ROI voxels after interpolation, before re-segmentation.
    pub interpolated_count: usize,
}

/// Voxels of margin kept around the ROI when cropping: enough for the local-intensity
/// sphere (radius 6.2 mm) and for interpolation kernels to see the same neighbours as
/// on the whole image.
fn crop_margin(spacing: [f64; 3], resampling: bool) -> [usize; 3] {
    // The cubic-spline prefilter is an IIR filter whose influence decays as 0.268^n:
    // 12 voxels bring it below 1e-6 of an intensity step.
    let extra = if resampling { resample::SPLINE_PAD + 2 } else { 1 };
    spacing.map(|s| (6.2035 / s).ceil() as usize + extra)
}

fn core_err(image: &Path, mask: &Path) -> impl Fn(CoreError) -> Error {
    let context = format!("{} with mask {}", image.display(), mask.display());
    move |source| Error::Core { context: context.clone(), source }
}

/// Read image and mask and run the processing chain.
pub fn process_files(image: &Path, mask: &Path, settings: &Settings) -> Result<ProcessedCase, Error> {
    let img = radx_io::read_volume(image)?;
    let labels = radx_io::read_volume(mask)?;
    process(&img, &labels, settings).map_err(core_err(image, mask))
}

/// Run the processing chain on volumes already in memory.
pub fn process(image: &Volume<f64>, labels: &Volume<f64>, settings: &Settings) -> Result<ProcessedCase, CoreError> {
    image.grid.check_matches(&labels.grid, settings.geometry_tolerance)?;
    let mask = roi::select_label(labels, settings.label)?;
    let normalised;
    let image = match &settings.normalise {
        Some(n) => {
            normalised = crate::pyradiomics::normalise_image(image, n)?;
            &normalised
        }
        None => image,
    };
    let margin = crop_margin(image.grid.spacing, settings.resample.is_some());
    let mut roi = roi::crop_to_roi(image, &mask, margin, settings.geometry_tolerance)?;

    let mut interpolated_grid = image.grid;
    if let (Some(r), Some(p)) = (&settings.resample, &settings.pyradiomics) {
        // PyRadiomics aligns the new grid to the ROI's bounding box, not the image.
        let (img, m) = crate::pyradiomics::resample(image, &mask, r, p.pad_distance)?;
        interpolated_grid = img.grid;
        roi = roi::crop_to_roi(&img, &m, crop_margin(img.grid.spacing, false), settings.geometry_tolerance)
            .map_err(|_| CoreError::EmptyRoi(" after interpolation".into()))?;
    } else if let Some(r) = &settings.resample {
        let full = resample::aligned_grid(&image.grid, r.spacing, r.in_plane_only)?;
        interpolated_grid = full;
        // Resample only the part of the aligned grid that covers the (unmargined) ROI box;
        // the crop margin gives the kernels the same neighbours as the whole image.
        // Keep the local-intensity margin around the ROI in the resampled image too.
        let roi_box = BoundingBox::of_mask(&roi.morphological)
            .ok_or_else(|| CoreError::EmptyRoi(String::new()))?
            .grown(crop_margin(roi.image.grid.spacing, false), roi.image.grid.dims);
        let roi_region = resample::sub_grid(&roi.image.grid, &roi_box);
        let bbox = resample::covering_box(&full, &roi_region)
            .ok_or_else(|| CoreError::EmptyRoi(" after interpolation".into()))?;
        let target = resample::sub_grid(&full, &bbox);
        let mut img = resample::resample_image(&roi.image, &target, kernel(r.image_interpolator))?;
        let cropped_mask = Volume { grid: roi.image.grid, data: roi.morphological.clone() };
        let m = resample::resample_mask(&cropped_mask, &target, kernel(r.mask_interpolator), r.mask_threshold)?;
        if r.round_intensities {
            resample::round_intensities(&mut img);
        }
        roi = roi::crop_to_roi(&img, &m, crop_margin(target.spacing, false), settings.geometry_tolerance)
            .map_err(|_| CoreError::EmptyRoi(" after interpolation".into()))?;
    }
    let interpolated_count = roi.morphological.iter().filter(|&&m| m).count();

    let range = settings
        .resegment
        .range
        .map(|bounds| crate::pyradiomics::resegment_bounds(&roi, bounds, settings.resegment.mode))
        .map(|[lo, hi]| (lo.is_finite().then_some(lo), hi.is_finite().then_some(hi)));
    resegment::resegment(&mut roi, range, settings.resegment.outlier_sigma)?;
    if settings.resegment.shape {
        roi.morphological.clone_from(&roi.intensity);
    }
    if let Some(p) = &settings.pyradiomics {
        p.check_roi_size(&roi)?;
    }
    if roi.intensity_count() == 0 {
        return Err(CoreError::EmptyRoi(" after re-segmentation".into()));
    }

    let (levels, bin_lower_bound) = match &settings.discretisation.texture {
        Binning::FixedBinNumber { bins } => (discretise::discretise_fixed_bin_number(&roi, *bins)?, None),
        Binning::FixedBinSize { width, lower_bound } => {
            let lb = lower_bound
                .or(settings.resegment.range.map(|r| r[0]).filter(|v| v.is_finite()))
                .unwrap_or_else(|| roi.intensities().into_iter().fold(f64::INFINITY, f64::min));
            (discretise::discretise_fixed_bin_size(&roi, *width, lb)?, Some(lb))
        }
        Binning::PyradiomicsBinWidth { width } => (discretise::discretise_pyradiomics_bin_width(&roi, *width)?, None),
        Binning::PyradiomicsBinCount { bins } => (discretise::discretise_pyradiomics_bin_count(&roi, *bins)?, None),
    };
    Ok(ProcessedCase { roi, levels, bin_lower_bound, interpolated_grid, interpolated_count })
}

pub(crate) fn kernel(i: Interpolator) -> resample::Interpolator {
    match i {
        Interpolator::Nearest => resample::Interpolator::Nearest,
        Interpolator::Linear => resample::Interpolator::Linear,
        Interpolator::CubicSpline => resample::Interpolator::CubicSpline,
    }
}
