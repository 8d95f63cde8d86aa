//! Oracle: PyRadiomics 3.0.1's resampling (`imageoperations.resampleImage`, SimpleITK 2.5.7's
//! `ResampleImageFilter`) on small images (tests/data/pyradiomics/resampling/, made by the
//! `make_fixtures.py` beside them): radx's `compat::pyradiomics::processing::resample` gives
//! the same grid, the same mask and the same intensities — integers exactly, floats within
//! 1e-12 of the image's largest magnitude. Given the part of the image it reads a slice at a
//! time (`slice_resampling`, the B-spline's path from files), it gives the same bits.

use std::path::{Path, PathBuf};

use radx_core::Volume;
use radx_engine::compat::pyradiomics::processing::{resample, resampling_region, slice_resampling};
use radx_engine::settings::{Interpolator, Resample};

fn fixtures() -> PathBuf {
    crate::common::test_data().join("pyradiomics/resampling")
}

fn read(name: &str) -> Volume<f64> {
    let path = fixtures().join(name);
    radx_io::read_volume(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Run {
    case: String,
    image: String,
    mask: String,
    spacing: [f64; 3],
    interpolator: Interpolator,
    pad_distance: f64,
    resampled_image: String,
    resampled_mask: String,
    integer: bool,
}

fn manifest(path: &Path) -> Vec<Run> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|row| {
            let row = row.expect("row");
            let spacing: Vec<f64> = row["spacing"].split(' ').map(|s| s.parse().expect("a number")).collect();
            Run {
                case: row["case"].clone(),
                image: row["image"].clone(),
                mask: row["mask"].clone(),
                spacing: [spacing[0], spacing[1], spacing[2]],
                interpolator: match row["interpolator"].as_str() {
                    "sitkBSpline" => Interpolator::CubicSpline,
                    "sitkLinear" => Interpolator::Linear,
                    "sitkNearestNeighbor" => Interpolator::Nearest,
                    other => panic!("interpolator {other}"),
                },
                pad_distance: row["pad_distance"].parse().expect("a number"),
                resampled_image: row["resampled_image"].clone(),
                resampled_mask: row["resampled_mask"].clone(),
                integer: row["pixel_type"].contains("integer"),
            }
        })
        .collect()
}

#[test]
fn resampling_matches_simpleitk() {
    let runs = manifest(&fixtures().join("manifest.csv"));
    // manifest.csv lists 18 runs; every one is compared (a run whose grid differs fails).
    assert_eq!(runs.len(), 18, "runs in the manifest");
    let mut failures = Vec::new();
    let mut sliced_runs = 0;
    for run in &runs {
        let label = format!("{} → {:?} {:?} pad {}", run.case, run.spacing, run.interpolator, run.pad_distance);
        let image = read(&run.image);
        let mask = read(&run.mask).map(|&v| v != 0.0);
        let settings = Resample {
            spacing: run.spacing,
            in_plane_only: false,
            image_interpolator: run.interpolator,
            mask_interpolator: Interpolator::Nearest,
            mask_threshold: 0.5,
            round_intensities: false,
        };
        // The file's own pixel type, as SimpleITK reads it.
        let pixel = radx_engine::VolumeSource::Path(fixtures().join(&run.image)).pixel_type();
        assert!(pixel.is_some(), "{label}: a known pixel type");
        let boxed = radx_engine::profile::contract::BoxedMask::of(&mask).expect("a ROI");
        let (got, got_mask) = resample(
            radx_engine::profile::contract::ImagePart::whole(&image),
            pixel,
            &boxed,
            &settings,
            run.pad_distance,
        )
        .expect("resamples");
        if let Some(by_slice) = sliced(&image, pixel, &boxed, &settings, run.pad_distance) {
            let bits = |v: &Volume<f64>| v.data.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            if bits(&by_slice.0) != bits(&got) || by_slice.1 != got_mask || by_slice.0.grid != got.grid {
                failures.push(format!("{label}: resampled by slice differs from the whole image's"));
            }
            sliced_runs += 1;
        }
        let want = read(&run.resampled_image);
        let want_mask = read(&run.resampled_mask).map(|&v| v != 0.0);

        let (g, w) = (got.grid, want.grid);
        let origin_error = (0..3).map(|k| (g.origin[k] - w.origin[k]).abs()).fold(0.0, f64::max);
        if g.dims != w.dims || g.spacing != w.spacing || g.direction != w.direction || origin_error > 1e-9 {
            failures.push(format!("{label}: grid {g:?}, SimpleITK {w:?}"));
            continue;
        }
        if got_mask.data != want_mask.data {
            let differing = got_mask.data.iter().zip(want_mask.data.iter()).filter(|(a, b)| a != b).count();
            failures.push(format!("{label}: {differing} mask voxels differ"));
        }
        let scale = image.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = got.data.iter().zip(want.data.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!("{label}: largest difference {worst:e} ({:e} of the largest |intensity|)", worst / scale);
        let allowed = if run.integer { 0.0 } else { 1e-12 * scale };
        if worst > allowed {
            failures.push(format!("{label}: intensities differ by up to {worst:e} (allowed {allowed:e})"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(sliced_runs > 0, "some runs resample by slice");
}

/// The image resampled by [`slice_resampling`], given the part [`resampling_region`] names a
/// slice at a time; `None` when the resampling does not go by slice.
fn sliced(
    image: &Volume<f64>,
    pixel: Option<radx_io::VoxelType>,
    boxed: &radx_engine::profile::contract::BoxedMask,
    settings: &Resample,
    pad_distance: f64,
) -> Option<(Volume<f64>, Volume<bool>)> {
    let mut resampling = slice_resampling(&image.grid, &boxed.bbox, pixel, settings, pad_distance)?.expect("a plan");
    let region = resampling_region(&image.grid, &boxed.bbox, settings, pad_distance).expect("a region");
    let part = image.crop(&region).to_x_fastest();
    let [x, y, _] = region.dims();
    // The mask goes onto the grid before the slices, as on the pipeline's side thread.
    let mask = resampling.mask_onto_grid()(boxed).expect("the mask onto the grid");
    for slice in part.chunks(x * y) {
        resampling.push_slice(slice).expect("a slice of the part");
    }
    Some(resampling.finish(mask).expect("every slice given"))
}
