//! PyRadiomics' processing where it departs from the IBSI: whole-image normalisation, a
//! resampling grid aligned to the ROI, and re-segmentation bounds read on the ROI.

use radx_core::roi::Roi;
use radx_core::{CoreError, Volume};
use radx_io::VoxelType;

use crate::profile::contract::{BoxedMask, ImagePart, MaskOntoGrid, SliceResampling};
use crate::settings::{Interpolator, Normalise, Resample, ResegmentMode};

/// Whole-image normalisation as SimpleITK's `Normalize` (ITK's `NormalizeImageFilter`),
/// then PyRadiomics' outlier clipping and scale. ITK's `StatisticsImageFilter` sums the
/// values and their squares with Kahan's compensated summation (x fastest here; ITK sums
/// per thread and merges, which can move the last bit), `mean = Σv/N` and the *sample*
/// variance `(Σv² − (Σv)²/N)/(N − 1)`; `ShiftScaleImageFilter` then writes
/// `(v + (−mean))·(1/σ)`.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for a constant image (σ = 0).
pub fn normalise_image(image: &Volume<f64>, n: &Normalise) -> Result<Volume<f64>, CoreError> {
    let count = image.data.len() as f64;
    let mut sum = CompensatedSum::default();
    let mut sum_of_squares = CompensatedSum::default();
    for &v in image.data.t().iter() {
        sum.add(v);
        sum_of_squares.add(v * v);
    }
    let (sum, sum_of_squares) = (sum.sum, sum_of_squares.sum);
    let mean = sum / count;
    let variance = (sum_of_squares - (sum * sum / count)) / (count - 1.0);
    let sigma = variance.sqrt();
    if sigma.is_nan() || sigma <= 0.0 {
        return Err(CoreError::InvalidSetting {
            name: "normalise",
            reason: "the image is constant: it cannot be normalised (σ = 0)".into(),
        });
    }
    let (shift, scale) = (-mean, 1.0 / sigma);
    Ok(image.map(|&v| {
        let mut z = (v + shift) * scale;
        if let Some(o) = n.remove_outliers {
            z = z.clamp(-o, o);
        }
        z * n.scale
    }))
}

/// ITK's `CompensatedSummation` (Kahan): the running sum and the low-order part lost.
#[derive(Default)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    fn add(&mut self, element: f64) {
        let compensated_input = element - self.compensation;
        let temp_sum = self.sum + compensated_input;
        self.compensation = (temp_sum - self.sum) - compensated_input;
        self.sum = temp_sum;
    }
}

/// The grid PyRadiomics resamples onto (`imageoperations.resampleImage`) for a ROI whose
/// bounding box is `bbox`: spacing
/// [`resampled_spacing`], aligned to the *ROI's bounding box*, not to the image: in
/// new-grid units the box runs from `⌊(min − ½)·r − pad⌋` to `⌈(max + ½)·r + pad⌉`
/// (r = old / new spacing, `pad` = `padDistance` voxels), clipped to `[0, ⌈n·r⌉ − 1]`; new
/// voxel `i` sits at the original continuous index `½(new − old)/old + (lower + i)/r`, i.e.
/// the new grid's corner coincides with the image's.
///
/// # Errors
/// [`CoreError::InvalidSetting`] for a negative or non-finite spacing.
pub fn resampling_grid(
    image: &radx_core::Grid,
    bbox: &radx_core::BoundingBox,
    spacing: [f64; 3],
    pad_distance: f64,
) -> Result<radx_core::Grid, CoreError> {
    let old = image.spacing;
    let new = resampled_spacing(image, bbox, spacing)?;
    let mut dims = [0usize; 3];
    let mut origin_index = [0.0; 3];
    for k in 0..3 {
        let ratio = old[k] / new[k];
        let max_upper = (image.dims[k] as f64 * ratio).ceil() - 1.0;
        let lower = ((bbox.min[k] as f64 - 0.5) * ratio - pad_distance).floor().max(0.0);
        let upper = ((bbox.max[k] as f64 + 0.5) * ratio + pad_distance).ceil().min(max_upper);
        dims[k] = (upper - lower + 1.0).max(1.0) as usize;
        origin_index[k] = 0.5 * (new[k] - old[k]) / old[k] + lower / ratio;
    }
    Ok(radx_core::Grid { dims, spacing: new, origin: image.index_to_world(origin_index), direction: image.direction })
}

/// The spacing PyRadiomics resamples to: `spacing`, except that a 0 keeps the original
/// spacing and so does every axis along which the ROI spans a single voxel
/// (`resampleImage` does not resample there).
///
/// # Errors
/// [`CoreError::InvalidSetting`] for a negative or non-finite spacing.
pub fn resampled_spacing(
    image: &radx_core::Grid,
    roi: &radx_core::BoundingBox,
    spacing: [f64; 3],
) -> Result<[f64; 3], CoreError> {
    if spacing.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(CoreError::InvalidSetting {
            name: "resampledPixelSpacing",
            reason: format!("every spacing must be a finite number ≥ 0 (0 keeps the original), got {spacing:?}"),
        });
    }
    let roi_dims = roi.dims();
    Ok(std::array::from_fn(|k| if spacing[k] == 0.0 || roi_dims[k] == 1 { image.spacing[k] } else { spacing[k] }))
}

/// PyRadiomics' resampling (`imageoperations.resampleImage`), as SimpleITK's
/// `ResampleImageFilter` computes it ([`radx_core::processing::resample::itk`]): the image
/// with the settings' interpolator (`sitkBSpline`: ITK's cubic B-spline with mirror
/// boundaries; `sitkLinear`; `sitkNearestNeighbor`) and the mask by nearest neighbour, onto
/// [`resampling_grid`]; target voxels outside the image are 0 (ITK's default pixel value)
/// and outside the mask.
///
/// SimpleITK writes the image in its own pixel type `pixel` (the file's or the array's):
/// into an integer type the values are cast as ITK casts them — clamped to the type's
/// range, then truncated toward zero (a uint16 MR image's undershoot becomes 0); into
/// float32 they are rounded to single precision. An image of unknown type (`None`: `f64`
/// values given in memory) is taken to be int16 when every value is an integer within its
/// range, else int32 when within that one, else float64.
///
/// When the new spacing equals the image's (numpy's `allclose`), PyRadiomics does not
/// interpolate: image and mask are cropped to the ROI's box grown by `padDistance` voxels.
///
/// # Errors
/// As [`resampling_grid`] and `resample::itk::resample_image`.
pub fn resample(
    image: ImagePart<'_>,
    pixel: Option<VoxelType>,
    mask: &BoxedMask,
    r: &Resample,
    pad_distance: f64,
) -> Result<(Volume<f64>, Volume<bool>), CoreError> {
    use radx_core::processing::resample::itk;
    let whole = image.whole;
    let bbox = mask.bbox;
    let target = match resampling_target(whole, &bbox, r, pad_distance)? {
        Target::Crop(region) => return Ok((image.crop(&region), mask.within(whole, &region))),
        Target::Grid(target) => target,
    };
    let interpolator = itk_interpolator(r.image_interpolator);
    let resampled = itk::resample_image_region(image.voxels, image.offset, whole, &target, interpolator, 0.0)?;
    let pixel = pixel.unwrap_or_else(|| inferred_pixel_type(image.voxels));
    with_mask(resampled, pixel, whole, mask)
}

/// The resampled image cast to SimpleITK's `pixel` type, with the mask resampled onto its
/// grid (see [`resample`]).
fn with_mask(
    resampled: Volume<f64>,
    pixel: VoxelType,
    whole: &radx_core::Grid,
    mask: &BoxedMask,
) -> Result<(Volume<f64>, Volume<bool>), CoreError> {
    let resampled_mask = mask_onto(whole, &resampled.grid, mask)?;
    Ok((cast_to_pixel(resampled, pixel), resampled_mask))
}

/// The resampled image's values as SimpleITK stores them in `pixel` (see [`resample`]).
fn cast_to_pixel(mut resampled: Volume<f64>, pixel: VoxelType) -> Volume<f64> {
    use radx_core::processing::resample::itk;
    if let Some((min, max)) = pixel.integer_range() {
        resampled.data.mapv_inplace(|v| itk::cast_to_integer_pixel(v, min, max));
    } else if pixel == VoxelType::F32 {
        resampled.data.mapv_inplace(|v| f64::from(v as f32));
    }
    resampled
}

/// The ROI's mask (its box on the image's grid `whole`) on the resampled grid `target`, by
/// SimpleITK's nearest-neighbour resampling.
fn mask_onto(whole: &radx_core::Grid, target: &radx_core::Grid, mask: &BoxedMask) -> Result<Volume<bool>, CoreError> {
    radx_core::processing::resample::itk::resample_mask_in_box(whole, &mask.bbox, &mask.inside.data, target)
}

/// [`resample`] given the part of the image [`resampling_region`] names a z slice at a time
/// ([`SliceResampling`]): the B-spline's decomposition runs its x and y passes on each slice
/// as it comes ([`radx_core::processing::resample::itk::BSplineSlices`]). `None` unless the
/// image goes onto a new grid with `sitkBSpline` and its pixel type is known (otherwise
/// [`resample`] infers it from the values).
///
/// # Errors
/// As [`resampling_grid`].
pub fn slice_resampling(
    image: &radx_core::Grid,
    bbox: &radx_core::BoundingBox,
    pixel: Option<VoxelType>,
    r: &Resample,
    pad_distance: f64,
) -> Option<Result<Box<dyn SliceResampling>, CoreError>> {
    use radx_core::processing::resample::itk;
    let pixel = pixel?;
    if r.image_interpolator != Interpolator::CubicSpline {
        return None;
    }
    let slices = match resampling_target(image, bbox, r, pad_distance) {
        Err(e) => return Some(Err(e)),
        Ok(Target::Crop(_)) => return None,
        Ok(Target::Grid(target)) => itk::input_region(image, &target, itk::ItkInterpolator::BSpline)
            .and_then(|region| itk::BSplineSlices::new(image, &target, &region)),
    };
    Some(slices.map(|slices| Box::new(BSplineBySlice { slices, pixel, whole: *image }) as Box<dyn SliceResampling>))
}

/// [`slice_resampling`]'s B-spline.
struct BSplineBySlice {
    slices: radx_core::processing::resample::itk::BSplineSlices,
    pixel: VoxelType,
    whole: radx_core::Grid,
}

impl SliceResampling for BSplineBySlice {
    fn bytes(&self) -> u64 {
        self.slices.bytes()
    }

    fn push_slice(&mut self, values: &[f64]) -> Result<(), CoreError> {
        self.slices.push_slice(values)
    }

    fn mask_onto_grid(&self) -> MaskOntoGrid {
        let (whole, target) = (self.whole, *self.slices.target());
        Box::new(move |mask| mask_onto(&whole, &target, mask))
    }

    fn finish(self: Box<Self>, mask: Volume<bool>) -> Result<(Volume<f64>, Volume<bool>), CoreError> {
        let resampled = self.slices.resample(0.0)?;
        if mask.grid != resampled.grid {
            let reason = "the ROI's mask given is not on the resampled image's grid".to_string();
            return Err(CoreError::InvalidSetting { name: "mask", reason });
        }
        Ok((cast_to_pixel(resampled, self.pixel), mask))
    }
}

/// The box of image voxels [`resample`] reads for a ROI whose bounding box is `bbox`.
///
/// # Errors
/// As [`resampling_grid`].
pub fn resampling_region(
    image: &radx_core::Grid,
    bbox: &radx_core::BoundingBox,
    r: &Resample,
    pad_distance: f64,
) -> Result<radx_core::BoundingBox, CoreError> {
    match resampling_target(image, bbox, r, pad_distance)? {
        Target::Crop(region) => Ok(region),
        Target::Grid(target) => {
            radx_core::processing::resample::itk::input_region(image, &target, itk_interpolator(r.image_interpolator))
        }
    }
}

/// What [`resample`] holds for a ROI whose bounding box is `bbox`, before anything is read:
/// the part of the image it reads ([`resampling_region`]) as `f64` and, on a new grid, the
/// interpolation's arrays ([`crate::memory::pyradiomics_interpolation`]); with the dims of
/// the grid the result is on, for the message.
///
/// # Errors
/// As [`resampling_grid`].
pub fn resampling_bytes(
    image: &radx_core::Grid,
    bbox: &radx_core::BoundingBox,
    r: &Resample,
    pad_distance: f64,
) -> Result<(u64, [usize; 3]), CoreError> {
    let region = resampling_region(image, bbox, r, pad_distance)?.dims();
    Ok(match resampling_target(image, bbox, r, pad_distance)? {
        // The part read and its crop.
        Target::Crop(_) => (crate::memory::f64_bytes(region).saturating_mul(2), region),
        Target::Grid(target) => {
            let interpolator = itk_interpolator(r.image_interpolator);
            let working = radx_core::processing::resample::itk::working_bytes(image, &target, interpolator)?;
            (crate::memory::pyradiomics_interpolation(region, working), target.dims)
        }
    })
}

/// What PyRadiomics makes of the image: a crop, or a new grid.
enum Target {
    /// The spacing does not change: the ROI's box grown by `padDistance` voxels.
    Crop(radx_core::BoundingBox),
    Grid(radx_core::Grid),
}

fn resampling_target(
    image: &radx_core::Grid,
    bbox: &radx_core::BoundingBox,
    r: &Resample,
    pad_distance: f64,
) -> Result<Target, CoreError> {
    let spacing = resampled_spacing(image, bbox, r.spacing)?;
    // numpy.allclose(imageSpacing, resampledPixelSpacing): |a − b| ≤ 1e-8 + 1e-5·|b|.
    if image.spacing.iter().zip(&spacing).all(|(a, b)| (a - b).abs() <= 1e-8 + 1e-5 * b.abs()) {
        // cropToTumorMask: the box grown by padDistance voxels (an integer), within the image.
        let pad = pad_distance.max(0.0) as usize;
        return Ok(Target::Crop(bbox.grown([pad; 3], image.dims)));
    }
    Ok(Target::Grid(resampling_grid(image, bbox, r.spacing, pad_distance)?))
}

fn itk_interpolator(interpolator: Interpolator) -> radx_core::processing::resample::itk::ItkInterpolator {
    use radx_core::processing::resample::itk::ItkInterpolator;
    match interpolator {
        Interpolator::Nearest => ItkInterpolator::NearestNeighbor,
        Interpolator::Linear => ItkInterpolator::Linear,
        Interpolator::CubicSpline => ItkInterpolator::BSpline,
    }
}

/// The pixel type an image of these values is taken to have: int16, else int32 (the same
/// inference as PyRadiomics' LBP images), else float64.
fn inferred_pixel_type(image: &Volume<f64>) -> VoxelType {
    use radx_filters::pyradiomics::PixelStorage;
    match PixelStorage::of_image(image.data.view()) {
        PixelStorage::Int16 => VoxelType::I16,
        PixelStorage::Int32 => VoxelType::I32,
        _ => VoxelType::F64,
    }
}

/// The absolute re-segmentation bounds of `bounds` read in `mode` on the ROI's current
/// intensity mask (PyRadiomics `resegmentMask`).
pub fn resegment_bounds(roi: &Roi, bounds: [f64; 2], mode: ResegmentMode) -> [f64; 2] {
    match mode {
        ResegmentMode::Absolute => bounds,
        ResegmentMode::Relative => {
            let max = roi.intensities().into_iter().fold(f64::NEG_INFINITY, f64::max);
            bounds.map(|t| if t.is_finite() { t * max } else { t })
        }
        ResegmentMode::Sigma => {
            let x = roi.intensities();
            let n = x.len() as f64;
            let mean = x.iter().sum::<f64>() / n;
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            bounds.map(|t| if t.is_finite() { mean + sd * t } else { t })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_grid_is_aligned_to_the_roi_box() {
        use radx_core::Grid;
        // Image 10×10×5 voxels of 1×1×2 mm at origin (10, 20, 30); ROI = voxels (7, 3, 2) and
        // (8, 4, 2); new spacing (2, 2, 0 = keep 2), padDistance 1. Ratios r = old/new = (½, ½, 1).
        // x: lower ⌊(7 − ½)·½ − 1⌋ = 2, upper ⌈(8 + ½)·½ + 1⌉ = 6 clipped to ⌈10·½⌉ − 1 = 4:
        //    3 voxels; first centre at old index ½(2 − 1)/1 + 2/½ = 4.5 → 14.5 mm.
        // y: lower ⌊2.5·½ − 1⌋ = 0, upper ⌈4.5·½ + 1⌉ = 4: 5 voxels from index 0.5 → 20.5 mm.
        // z: lower ⌊1.5 − 1⌋ = 0, upper ⌈2.5 + 1⌉ = 4 (= ⌈5⌉ − 1): 5 voxels from index 0 → 30 mm.
        let mut image = Grid::new([10, 10, 5], [1.0, 1.0, 2.0]);
        image.origin = [10.0, 20.0, 30.0];
        let mut mask = Volume::from_x_fastest(image, vec![false; 500]);
        mask.data[[8, 4, 2]] = true;
        mask.data[[7, 3, 2]] = true;
        let bbox = BoxedMask::of(&mask).unwrap().bbox;
        let grid = resampling_grid(&image, &bbox, [2.0, 2.0, 0.0], 1.0).unwrap();
        assert_eq!(grid.dims, [3, 5, 5]);
        assert_eq!(grid.spacing, [2.0, 2.0, 2.0]);
        assert_eq!(grid.origin, [14.5, 20.5, 30.0]);
        assert!(resampling_grid(&image, &bbox, [-1.0, 2.0, 2.0], 1.0).is_err());
        // The ROI spans one slice in z: z keeps its 2 mm whatever is asked.
        let grid = resampling_grid(&image, &bbox, [2.0, 2.0, 0.5], 1.0).unwrap();
        assert_eq!(grid.spacing, [2.0, 2.0, 2.0]);
    }

    #[test]
    fn same_spacing_crops_instead_of_interpolating() {
        use radx_core::Grid;
        // PyRadiomics does not interpolate when the spacing does not change (here x and y are
        // asked at their own spacing, z is kept because the ROI lies in one slice): image and
        // mask are cropped to the ROI's box grown by padDistance (2) within the image.
        let image_grid = Grid::new([10, 9, 4], [0.8, 0.8, 3.0]);
        let values: Vec<f64> = (0..image_grid.len()).map(|i| (i % 17) as f64 + 0.25).collect();
        let image = Volume::from_x_fastest(image_grid, values);
        let mut mask = Volume::from_x_fastest(image_grid, vec![false; image_grid.len()]);
        mask.data[[1, 4, 2]] = true;
        mask.data[[3, 6, 2]] = true;
        let settings = Resample {
            spacing: [0.8, 0.800001, 1.0],
            in_plane_only: false,
            image_interpolator: Interpolator::CubicSpline,
            mask_interpolator: Interpolator::Nearest,
            mask_threshold: 0.5,
            round_intensities: false,
        };
        let (cropped, cropped_mask) =
            resample(ImagePart::whole(&image), None, &BoxedMask::of(&mask).unwrap(), &settings, 2.0).unwrap();
        let region = radx_core::BoundingBox { min: [0, 2, 0], max: [5, 8, 3] };
        assert_eq!(cropped, image.crop(&region));
        assert_eq!(cropped_mask, mask.crop(&region));
    }

    #[test]
    fn normalisation_is_simpleitks() {
        use radx_core::Grid;
        // 1, 2, 3, 6: Σv = 12, Σv² = 50, mean 3, sample variance (50 − 144/4)/3 = 14/3;
        // ITK writes (v + (−3))·(1/σ); PyRadiomics clips at ±1.2 (6 → 1.389) and scales by 100.
        let image = Volume::from_x_fastest(Grid::new([4, 1, 1], [1.0; 3]), vec![1.0, 2.0, 3.0, 6.0]);
        let n = Normalise { scale: 100.0, remove_outliers: Some(1.2) };
        let out = normalise_image(&image, &n).unwrap();
        let inverse_sigma = 1.0 / (14.0f64 / 3.0).sqrt();
        let want = [(1.0 - 3.0) * inverse_sigma * 100.0, (2.0 - 3.0) * inverse_sigma * 100.0, 0.0, 1.2 * 100.0];
        assert_eq!(out.to_x_fastest(), want);
        let constant = Volume::from_x_fastest(Grid::new([3, 1, 1], [1.0; 3]), vec![2.5; 3]);
        assert!(normalise_image(&constant, &n).is_err());
    }

    #[test]
    fn sigma_and_relative_bounds_are_read_on_the_roi() {
        use radx_core::Grid;
        // Intensities 1, 2, 3, 6: mean 3, population σ = √((4 + 1 + 0 + 9)/4) = √3.5.
        let grid = Grid::new([4, 1, 1], [1.0; 3]);
        let image = Volume::from_x_fastest(grid, vec![1.0, 2.0, 3.0, 6.0]);
        let mask = Volume::from_x_fastest(grid, vec![true; 4]).data;
        let roi = Roi { image, morphological: mask.clone(), intensity: mask };
        let [lo, hi] = resegment_bounds(&roi, [-1.0, 2.0], ResegmentMode::Sigma);
        assert!((lo - (3.0 - 3.5f64.sqrt())).abs() < 1e-12 && (hi - (3.0 + 2.0 * 3.5f64.sqrt())).abs() < 1e-12);
        assert_eq!(resegment_bounds(&roi, [0.5, f64::INFINITY], ResegmentMode::Relative), [3.0, f64::INFINITY]);
    }
}
