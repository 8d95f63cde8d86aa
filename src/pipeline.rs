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
    // Capped: a header's absurd spacing (1e-40 mm) must not overflow; the box is clamped
    // to the image anyway.
    spacing.map(|s| (6.2035 / s).ceil().min(1e6) as usize + extra)
}

fn core_err(image: &Path, mask: &Path) -> impl Fn(CoreError) -> Error {
    let context = format!("{} with mask {}", image.display(), mask.display());
    move |source| Error::Core { context: context.clone(), source }
}

/// Read image and mask (within `settings.max_memory` together) and run the processing chain.
pub fn process_files(image: &Path, mask: &Path, settings: &Settings) -> Result<ProcessedCase, Error> {
    let img = radx_io::read_volume_with(image, &radx_io::ReadOptions { max_bytes: settings.max_memory })?;
    let left = settings.max_memory.saturating_sub((img.data.len() as u64).saturating_mul(8));
    let labels = radx_io::read_volume_with(mask, &radx_io::ReadOptions { max_bytes: left })?;
    process(&img, &labels, settings).map_err(core_err(image, mask))
}

/// A label map holds whole numbers (within the 1e-3 that `select_label` allows for float
/// masks): a fractional value means a probability map, which would silently select nothing
/// or the wrong voxels.
fn check_label_map(labels: &Volume<f64>) -> Result<(), CoreError> {
    for ((x, y, z), &value) in labels.data.indexed_iter() {
        // NaN fails the comparison too.
        let whole = (value - value.round()).abs() < 1e-3;
        if !whole {
            return Err(CoreError::NotLabelMap { value, x, y, z });
        }
    }
    Ok(())
}

/// Name the settings key behind a discretisation error of the core.
fn name_binning_key(e: CoreError) -> CoreError {
    match e {
        CoreError::InvalidSetting { name: "bin width", reason } => {
            CoreError::InvalidSetting { name: "discretisation.texture.width", reason }
        }
        CoreError::InvalidSetting { name: "bin lower bound", reason } => {
            CoreError::InvalidSetting { name: "discretisation.texture.lower_bound", reason }
        }
        other => other,
    }
}

/// With `exclude_nonfinite`, take NaN and infinite voxels out of `mask` (IBSI 2.5 treats
/// re-segmentation the same way: voxels without a usable intensity leave the ROI).
fn drop_nonfinite(image: &Volume<f64>, mask: &mut Volume<bool>, settings: &Settings) {
    if settings.exclude_nonfinite {
        mask.data.zip_mut_with(&image.data, |m, v| *m &= v.is_finite());
    }
}

/// Run the processing chain on volumes already in memory.
pub fn process(image: &Volume<f64>, labels: &Volume<f64>, settings: &Settings) -> Result<ProcessedCase, CoreError> {
    image.grid.check_matches(&labels.grid, settings.geometry_tolerance)?;
    check_label_map(labels)?;
    let mut mask = roi::select_label(labels, settings.label)?;
    drop_nonfinite(image, &mut mask, settings);
    if settings.exclude_nonfinite && !mask.data.iter().any(|&m| m) {
        return Err(CoreError::EmptyRoi(" after excluding NaN and infinite voxels".into()));
    }
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
        crate::limits::check_resampling_extent(&roi_region, &full, settings)?;
        let bbox = resample::covering_box(&full, &roi_region)
            .ok_or_else(|| CoreError::EmptyRoi(" after interpolation".into()))?;
        let target = resample::sub_grid(&full, &bbox);
        crate::limits::check_resampling(&target, settings)?;
        let mut img = resample::resample_image(&roi.image, &target, kernel(r.image_interpolator))?;
        let cropped_mask = Volume { grid: roi.image.grid, data: roi.morphological.clone() };
        let mut m = resample::resample_mask(&cropped_mask, &target, kernel(r.mask_interpolator), r.mask_threshold)?;
        // Interpolation spreads a NaN to its neighbours: drop those too.
        drop_nonfinite(&img, &mut m, settings);
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
            (discretise::discretise_fixed_bin_size(&roi, *width, lb).map_err(name_binning_key)?, Some(lb))
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
