//! IBSI processing checks on the phantoms: the digital phantom's IVH reference values and
//! the CT phantom's processing diagnostics (voxel counts, intensity statistics after
//! interpolation and re-segmentation) and IVH reference values for configurations A–E.
//!
//! Expected values come from `tests/data/ibsi/` (transcribed from the IBSI manual and the
//! IBSI-1 comparison tables), never from radx output.

use std::collections::HashMap;
use std::path::PathBuf;

use ndarray::{Array3, ShapeBuilder};
use nifti::{IntoNdArray, NiftiObject, ReaderOptions};
use radx_core::processing::resample::{
    Interpolator, aligned_grid, covering_box, resample_image, resample_mask, round_intensities, sub_grid,
};
use radx_core::processing::resegment::resegment;
use radx_core::roi::{Roi, crop_to_roi};
use radx_core::sources::{IvhDiscretisation, intensity_volume_histogram};
use radx_core::{BoundingBox, Grid, Volume};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/ibsi")
}

/// A NIfTI volume as `[x, y, z]` with its voxel spacing (origin 0, identity direction:
/// only relative geometry matters here).
fn read_nifti(path: PathBuf) -> Volume<f64> {
    let object = ReaderOptions::new().read_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pixdim = object.header().pixdim;
    let array = object.into_volume().into_ndarray::<f64>().expect("numeric volume");
    let shape = array.shape().to_vec();
    let data = Array3::from_shape_fn((shape[0], shape[1], shape[2]).f(), |(x, y, z)| array[[x, y, z]]);
    let grid = Grid::new([shape[0], shape[1], shape[2]], [pixdim[1] as f64, pixdim[2] as f64, pixdim[3] as f64]);
    Volume { grid, data }
}

/// Reference rows of one data set: feature key (or compliance tag) → (value, tolerance).
fn reference_values(file: &str, data_set: &str, key_column: &str, value_column: &str) -> HashMap<String, (f64, f64)> {
    let mut reader = csv::Reader::from_path(data_dir().join(file)).expect("reference csv");
    let headers = reader.headers().expect("header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let (set, key, value) = (column("data_set"), column(key_column), column(value_column));
    let tolerance = headers.iter().position(|h| h == "tolerance");
    let mut out = HashMap::new();
    for record in reader.records() {
        let record = record.expect("row");
        if &record[set] != data_set {
            continue;
        }
        let Ok(v) = record[value].parse::<f64>() else { continue };
        let tol = tolerance.and_then(|t| record[t].parse::<f64>().ok()).unwrap_or(0.0);
        out.insert(record[key].to_string(), (v, tol));
    }
    out
}

/// Pass rule of the IBSI tables: within the tolerance, or equal at 3 significant digits
/// when none is given (tests/data/ibsi README).
fn matches_reference(value: f64, reference: f64, tolerance: f64) -> bool {
    let allowed = if tolerance > 0.0 {
        tolerance
    } else if reference == 0.0 {
        1e-12
    } else {
        0.5 * 10f64.powf(reference.abs().log10().floor() - 2.0)
    };
    (value - reference).abs() <= allowed + 1e-12
}

/// Compares the six IVH features with `references` (every one must be there).
fn check_ivh(intensities: &[f64], discretisation: IvhDiscretisation, references: &HashMap<String, (f64, f64)>) {
    let ivh = intensity_volume_histogram(intensities, discretisation).expect("ivh");
    let computed = [
        ("ivh_v10", ivh.volume_at_intensity_fraction(0.1)),
        ("ivh_v90", ivh.volume_at_intensity_fraction(0.9)),
        ("ivh_i10", ivh.intensity_at_volume_fraction(0.1)),
        ("ivh_i90", ivh.intensity_at_volume_fraction(0.9)),
        ("ivh_diff_v10_v90", ivh.volume_at_intensity_fraction(0.1) - ivh.volume_at_intensity_fraction(0.9)),
        ("ivh_diff_i10_i90", ivh.intensity_at_volume_fraction(0.1) - ivh.intensity_at_volume_fraction(0.9)),
    ];
    for (key, value) in computed {
        let (reference, tolerance) = references[key];
        assert!(
            matches_reference(value, reference, tolerance),
            "{key}: {value} vs reference {reference} ± {tolerance}"
        );
    }
}

#[test]
fn digital_phantom_ivh_matches_reference() {
    let image = read_nifti(data_dir().join("digital_phantom/image.nii.gz"));
    let mask = read_nifti(data_dir().join("digital_phantom/mask.nii.gz")).map(|&v| v > 0.5);
    let roi = crop_to_roi(&image, &mask, [0; 3], 1e-6).expect("roi");
    let intensities = roi.intensities();
    assert_eq!(intensities.len(), 74);
    // No discretisation, G = ROI min..max = [1, 6]; absent levels 2 and 5 still count.
    let discretisation = IvhDiscretisation::roi_range(&intensities).expect("non-empty");
    assert_eq!(discretisation, IvhDiscretisation::None { min: 1.0, max: 6.0 });
    let references =
        reference_values("reference_values_digital_phantom.csv", "digital_phantom", "feature_key", "value");
    check_ivh(&intensities, discretisation, &references);
}

/// One CT configuration's processing settings (ct_phantom_configurations.json).
struct Config {
    name: &'static str,
    /// In-plane only (2D) or isotropic 2 mm; `None`: no interpolation.
    interpolation: Option<(bool, Interpolator)>,
    range: Option<(Option<f64>, Option<f64>)>,
    outlier_sigma: Option<f64>,
}

/// Crop → interpolate around the ROI only → round → re-segment, as the pipeline will.
/// Returns the ROI after interpolation and after re-segmentation.
fn process(image: &Volume<f64>, mask: &Volume<bool>, config: &Config) -> (Roi, Roi) {
    let interpolated = match config.interpolation {
        None => crop_to_roi(image, mask, [0; 3], 1e-6).expect("roi"),
        Some((in_plane_only, interpolator)) => {
            let full_target = aligned_grid(&image.grid, [2.0, 2.0, 2.0], in_plane_only).expect("grid");
            let roi_box = BoundingBox::of_mask(&mask.data).expect("mask");
            let target = sub_grid(&full_target, &covering_box(&full_target, &sub_grid(&image.grid, &roi_box)).unwrap());
            // Enough margin for the spline prefilter to forget the crop (see resample.rs).
            let source_box = roi_box.grown([14, 14, 14], image.grid.dims);
            let resampled_mask =
                resample_mask(&mask.crop(&source_box), &target, Interpolator::Linear, 0.5).expect("mask");
            let mut resampled = resample_image(&image.crop(&source_box), &target, interpolator).expect("image");
            round_intensities(&mut resampled);
            crop_to_roi(&resampled, &resampled_mask, [0; 3], 1e-6).expect("roi")
        }
    };
    let mut roi = interpolated.clone();
    resegment(&mut roi, config.range, config.outlier_sigma).expect("re-segmentation");
    (interpolated, roi)
}

/// Voxel counts and intensity statistics at one stage, keyed by the diagnostics' tags.
fn stage_statistics(roi: &Roi, stage: &str) -> Vec<(String, f64, bool)> {
    let intensities = roi.intensities();
    let morphological_count = roi.morphological.iter().filter(|&&m| m).count() as f64;
    let min = intensities.iter().copied().fold(f64::INFINITY, f64::min);
    let max = intensities.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    vec![
        (format!("morph_mask_vox_count_{stage}"), morphological_count, true),
        (format!("int_mask_vox_count_{stage}"), intensities.len() as f64, true),
        (format!("int_mask_mean_int_{stage}"), mean(&intensities), false),
        (format!("int_mask_min_int_{stage}"), min, false),
        (format!("int_mask_max_int_{stage}"), max, false),
    ]
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn ct_phantom_processing_matches_diagnostics_and_ivh_references() {
    let image = read_nifti(data_dir().join("ct_phantom/image.nii.gz"));
    let mask = read_nifti(data_dir().join("ct_phantom/mask.nii.gz")).map(|&v| v > 0.5);
    assert_eq!(image.grid.dims, [204, 201, 60]);
    let configs = [
        Config { name: "A", interpolation: None, range: Some((Some(-500.0), Some(400.0))), outlier_sigma: None },
        Config {
            name: "B",
            interpolation: Some((true, Interpolator::Linear)),
            range: Some((Some(-500.0), Some(400.0))),
            outlier_sigma: None,
        },
        Config {
            name: "C",
            interpolation: Some((false, Interpolator::Linear)),
            range: Some((Some(-1000.0), Some(400.0))),
            outlier_sigma: None,
        },
        Config { name: "D", interpolation: Some((false, Interpolator::Linear)), range: None, outlier_sigma: Some(3.0) },
        Config {
            name: "E",
            interpolation: Some((false, Interpolator::CubicSpline)),
            range: Some((Some(-1000.0), Some(400.0))),
            outlier_sigma: Some(3.0),
        },
    ];
    let mut failures = Vec::new();
    let mut compared = 0;
    for config in &configs {
        let data_set = format!("config_{}", config.name);
        let diagnostics = reference_values("diagnostics_ct_phantom.csv", &data_set, "compliance_tag", "modal_value");
        let (interpolated, roi) = process(&image, &mask, config);
        let mut checks = stage_statistics(&interpolated, "interp_roi");
        checks.extend(stage_statistics(&roi, "reseg_roi"));
        for (tag, value, exact) in checks {
            let Some(&(modal, _)) = diagnostics.get(&tag) else {
                failures.push(format!("config {}: no modal value for {tag}", config.name));
                continue;
            };
            compared += 1;
            // Counts must be equal; statistics are reported with 3 significant digits.
            let ok = if exact { value == modal } else { matches_reference(value, modal, 0.0) };
            if !ok {
                failures.push(format!("config {}: {tag} = {value}, modal value {modal}", config.name));
            }
        }
        let intensities = roi.intensities();
        let references = reference_values("reference_values_ct_phantom.csv", &data_set, "feature_key", "value");
        let discretisation = match config.name {
            "A" | "B" => IvhDiscretisation::None { min: -500.0, max: 400.0 },
            "C" => IvhDiscretisation::FixedBinSize { width: 2.5, min: -1000.0, max: 400.0 },
            "D" => IvhDiscretisation::roi_range(&intensities).expect("non-empty"),
            _ => IvhDiscretisation::FixedBinNumber { bins: 1000 },
        };
        compared += 6;
        let result = std::panic::catch_unwind(|| check_ivh(&intensities, discretisation, &references));
        if let Err(panic) = result {
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            failures.push(format!("config {}: {message}", config.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // diagnostics_ct_phantom.csv has a modal value for each of the 10 tags (5 statistics at
    // 2 stages) in each of the 5 configurations; plus 6 IVH references per configuration.
    assert_eq!(compared, 5 * (10 + 6), "values compared");
}
