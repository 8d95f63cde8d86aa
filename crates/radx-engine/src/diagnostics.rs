//! The IBSI's processing diagnostics (IBSI 1 compliance check): image and mask
//! dimensions, bounding boxes, voxel counts and intensity statistics after each step, so
//! users can see where their pipeline departs from another tool's. Keys follow the IBSI
//! compliance tags (`int_mask_vox_count_reseg_roi`, …).

use ndarray::Array3;
use radx_core::processing::resample;
use radx_core::{BoundingBox, CoreError, Grid, Volume};

use crate::model::ProcessedCase;

use crate::settings::Settings;

/// One diagnostic value.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// IBSI compliance tag, e.g. `int_mask_vox_count_interp_roi`.
    pub key: String,
    /// The value.
    pub value: f64,
}

fn stats(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let (mut sum, mut n, mut lo, mut hi) = (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        sum += v;
        n += 1.0;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (sum / n, lo, hi)
}

fn push_image(out: &mut Vec<Diagnostic>, stage: &str, grid: &Grid, data: &Array3<f64>) {
    let mut push = |key: String, value: f64| out.push(Diagnostic { key, value });
    for (a, axis) in ["x", "y", "z"].iter().enumerate() {
        push(format!("img_dim_{axis}_{stage}"), grid.dims[a] as f64);
    }
    for (a, axis) in ["x", "y", "z"].iter().enumerate() {
        push(format!("vox_dim_{axis}_{stage}"), grid.spacing[a]);
    }
    let (mean, min, max) = stats(data.iter().copied());
    push(format!("mean_int_{stage}"), mean);
    push(format!("min_int_{stage}"), min);
    push(format!("max_int_{stage}"), max);
}

/// Masks and intensities of one ROI stage; `dims` is the full grid the masks live on.
fn push_roi(
    out: &mut Vec<Diagnostic>,
    stage: &str,
    dims: [usize; 3],
    intensity: &Array3<bool>,
    morphological: &Array3<bool>,
    image: &Array3<f64>,
) {
    let mut push = |key: String, value: f64| out.push(Diagnostic { key, value });
    for (a, axis) in ["x", "y", "z"].iter().enumerate() {
        push(format!("int_mask_dim_{axis}_{stage}"), dims[a] as f64);
    }
    for (which, mask) in [("int", intensity), ("morph", morphological)] {
        let bb = BoundingBox::of_mask(mask).map(|b| b.dims()).unwrap_or([0; 3]);
        for (a, axis) in ["x", "y", "z"].iter().enumerate() {
            push(format!("{which}_mask_bb_dim_{axis}_{stage}"), bb[a] as f64);
        }
    }
    push(format!("int_mask_vox_count_{stage}"), intensity.iter().filter(|&&m| m).count() as f64);
    push(format!("morph_mask_vox_count_{stage}"), morphological.iter().filter(|&&m| m).count() as f64);
    let (mean, min, max) = stats(image.iter().zip(intensity.iter()).filter(|(_, m)| **m).map(|(v, _)| *v));
    push(format!("int_mask_mean_int_{stage}"), mean);
    push(format!("int_mask_min_int_{stage}"), min);
    push(format!("int_mask_max_int_{stage}"), max);
}

/// Diagnostics of every processing stage. `image` and `labels` are the volumes as read;
/// `case` is what [`crate::pipeline::process`] made of them. With resampling, the whole
/// image is interpolated once more here for the "interpolated image" statistics.
pub fn diagnostics(
    image: &Volume<f64>,
    labels: &Volume<f64>,
    selection: radx_core::roi::LabelSelection,
    settings: &Settings,
    case: &ProcessedCase,
) -> Result<Vec<Diagnostic>, CoreError> {
    let mut out = Vec::new();
    push_image(&mut out, "init_img", &image.grid, &image.data);
    match &settings.resample {
        Some(r) => {
            let full = resample::aligned_grid(&image.grid, r.spacing, r.in_plane_only)?;
            let mut img = resample::resample_image(image, &full, r.image_interpolator.kernel())?;
            if r.round_intensities {
                resample::round_intensities(&mut img);
            }
            push_image(&mut out, "interp_img", &full, &img.data);
        }
        None => push_image(&mut out, "interp_img", &image.grid, &image.data),
    }
    let mask = radx_core::roi::select_label(labels, selection)?;
    push_roi(&mut out, "init_roi", image.grid.dims, &mask.data, &mask.data, &image.data);
    let roi = &case.roi;
    let dims = case.interpolated_grid.dims;
    push_roi(&mut out, "interp_roi", dims, &roi.morphological, &roi.morphological, &roi.image.data);
    push_roi(&mut out, "reseg_roi", dims, &roi.intensity, &roi.morphological, &roi.image.data);
    Ok(out)
}
