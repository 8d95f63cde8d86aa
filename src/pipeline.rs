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
///
/// Only the ROI's box (plus the crop margin) of the image is kept: the mask is read first
/// as a compact boolean mask, and the image, inflated concurrently on a second thread,
/// keeps the slices' rows inside the box (see [`radx_io::read_region_when_known`]). The
/// result is identical to [`process`] on the whole volumes.
pub fn process_files(image: &Path, mask: &Path, settings: &Settings) -> Result<ProcessedCase, Error> {
    let (image_grid, roi) = read_roi(image, mask, settings)?;
    process_roi(roi, image_grid, settings).map_err(core_err(image, mask))
}

/// The cropped ROI of an (image, mask) pair and the image's whole grid, reading only the
/// voxels the chain needs.
fn read_roi(image: &Path, mask: &Path, settings: &Settings) -> Result<(radx_core::Grid, Roi), Error> {
    let core = core_err(image, mask);
    let opts = radx_io::ReadOptions::default();
    let image_grid = radx_io::read_info(image)?.grid;
    let mask_grid = radx_io::read_info(mask)?.grid;
    image_grid.check_matches(&mask_grid, settings.geometry_tolerance).map_err(|e| core(e.into()))?;
    let margin = crop_margin(image_grid.spacing, settings.resample.is_some());
    let (sender, receiver) = std::sync::mpsc::channel();
    let (region, labels) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || radx_io::read_region_when_known(image, receiver, &opts));
        let labels = radx_io::read_label_mask(mask, settings.label, &opts);
        if let Ok(radx_io::LabelMask { bbox: Some(b), .. }) = &labels {
            // The receiver only goes away when the image reader failed; its error is reported below.
            let _ = sender.send(b.grown(margin, image_grid.dims));
        }
        drop(sender);
        (reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), labels)
    });
    let (labels, region) = match (labels, region) {
        (_, Err(e)) => return Err(e.into()),
        (Err(e), _) => return Err(e.into()),
        (Ok(l), Ok(Some((_, region)))) => (l, region),
        (Ok(_), Ok(None)) => {
            // The label is absent: read the whole label map once, to list the labels present.
            let all = radx_io::read_volume(mask)?;
            return Err(core(CoreError::LabelAbsent { label: settings.label, present: roi::present_labels(&all) }));
        }
    };
    let bbox = labels.bbox.ok_or_else(|| core(CoreError::EmptyRoi(String::new())))?.grown(margin, image_grid.dims);
    let cropped_mask = labels.mask.crop(&bbox);
    drop(labels);
    // Cropping again with the same margin keeps the whole region (the box is already the
    // ROI's box plus margin) and applies crop_to_roi's checks (non-finite intensities).
    let roi = roi::crop_to_roi(&region, &cropped_mask, margin, settings.geometry_tolerance).map_err(core)?;
    Ok((image_grid, roi))
}

/// Run the processing chain on volumes already in memory.
pub fn process(image: &Volume<f64>, labels: &Volume<f64>, settings: &Settings) -> Result<ProcessedCase, CoreError> {
    image.grid.check_matches(&labels.grid, settings.geometry_tolerance)?;
    let mask = roi::select_label(labels, settings.label)?;
    let margin = crop_margin(image.grid.spacing, settings.resample.is_some());
    let roi = roi::crop_to_roi(image, &mask, margin, settings.geometry_tolerance)?;
    process_roi(roi, image.grid, settings)
}

/// The chain after cropping: interpolation, re-segmentation, discretisation.
/// `image_grid` is the whole image's grid (the interpolation grid is aligned to it).
fn process_roi(mut roi: Roi, image_grid: radx_core::Grid, settings: &Settings) -> Result<ProcessedCase, CoreError> {
    let mut interpolated_grid = image_grid;
    if let Some(r) = &settings.resample {
        let full = resample::aligned_grid(&image_grid, r.spacing, r.in_plane_only)?;
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

    let range = settings.resegment.range.map(|[lo, hi]| (lo.is_finite().then_some(lo), hi.is_finite().then_some(hi)));
    resegment::resegment(&mut roi, range, settings.resegment.outlier_sigma)?;
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
