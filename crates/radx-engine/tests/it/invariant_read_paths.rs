//! `pipeline::process_files` reads only the ROI's box of the image (and the mask as a
//! compact boolean mask); it must give exactly what `pipeline::process` gives on the whole
//! volumes, including the reliability checks (label maps, NaN voxels, `exclude_nonfinite`),
//! PyRadiomics normalisation (whole-image statistics) and the memory budget.

use std::path::{Path, PathBuf};

use radx_core::{Grid, Volume};
use radx_engine::Settings;
use radx_engine::pipeline::{process, process_files};
use radx_engine::settings::Normalise;
use radx_engine::{Case, Extractor, Features};
use radx_io::VoxelType;

const DIMS: [usize; 3] = [20, 16, 12];

/// An image with an off-centre ROI (label 2), far enough from the edges that the cropped
/// box (ROI + margin) does not start at the origin, and a second label (1) elsewhere.
fn case() -> (Volume<f64>, Volume<f64>) {
    let mut grid = Grid::new(DIMS, [2.0, 2.0, 4.0]);
    grid.origin = [-3.0, 7.5, 11.0];
    let [nx, ny, nz] = DIMS;
    let mut image = Vec::new();
    let mut labels = Vec::new();
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                image.push(((x * 7 + y * 13 + z * 29) % 41) as f64 * 3.5 - 20.0);
                let roi = (10..14).contains(&x) && (8..12).contains(&y) && (6..9).contains(&z);
                labels.push(if roi {
                    2.0
                } else if x < 2 && y < 2 {
                    1.0
                } else {
                    0.0
                });
            }
        }
    }
    (Volume::from_x_fastest(grid, image), Volume::from_x_fastest(grid, labels))
}

fn write(dir: &Path, name: &str, volume: &Volume<f64>) -> PathBuf {
    let path = dir.join(name);
    radx_io::write_nifti(&path, volume, VoxelType::F32).unwrap();
    path
}

/// Both paths on the same files: equal results, or errors with the same message.
fn same(image: &Path, mask: &Path, settings: &Settings) -> Result<(), String> {
    let img = radx_io::read_volume(image).unwrap();
    let labels = radx_io::read_volume(mask).unwrap();
    let roi = settings.label.into();
    let whole = process(&img, &labels, roi, settings);
    let streamed = process_files(image, mask, roi, settings);
    match (whole, streamed) {
        (Ok(a), Ok(b)) => {
            let bits = |v: &Volume<f64>| (v.grid, v.data.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
            assert_eq!(bits(&a.roi.image), bits(&b.roi.image));
            assert_eq!(a.roi.morphological, b.roi.morphological);
            assert_eq!(a.roi.intensity, b.roi.intensity);
            assert_eq!(a.levels, b.levels);
            assert_eq!(a.bin_lower_bound.map(f64::to_bits), b.bin_lower_bound.map(f64::to_bits));
            assert_eq!(a.interpolated_grid, b.interpolated_grid);
            assert_eq!(a.interpolated_count, b.interpolated_count);
            Ok(())
        }
        (Err(a), Err(radx_engine::Error::Core { source: b, .. })) => {
            assert_eq!(a.to_string(), b.to_string());
            Err(a.to_string())
        }
        (a, b) => panic!("process gave {a:?}, process_files gave {b:?}"),
    }
}

/// `Extractor::extract` (the shape computed while the image is read) gives the bits of
/// processing first and extracting after, and a row of `feature`.
fn same_features_early_and_late(image: PathBuf, mask: PathBuf, settings: Settings, feature: &str) {
    let case = Case::new(image, mask).with_roi(settings.label);
    let extractor = Extractor::new(settings, &[], Default::default()).unwrap();
    let early = feature_bits(extractor.extract(&case).unwrap());
    let late = feature_bits(extractor.features(&extractor.process(&case).unwrap()).unwrap());
    assert!(early.iter().any(|(f, _, _)| f == feature), "no {feature} row");
    assert_eq!(early, late);
}

/// Each row's feature, aggregation and value's bits.
fn feature_bits(features: Features) -> Vec<(String, Option<radx_core::Aggregation>, u64)> {
    features.rows.into_iter().map(|r| (r.key.feature, r.key.aggregation, r.value.to_bits())).collect()
}

fn settings() -> Settings {
    Settings { label: 2, ..Settings::default() }
}

#[test]
fn streamed_reading_matches_whole_volumes() {
    let dir = tempfile::tempdir().unwrap();
    let (image, labels) = case();
    let (img, mask) = (write(dir.path(), "image.nii.gz", &image), write(dir.path(), "mask.nii.gz", &labels));
    same(&img, &mask, &settings()).unwrap();
    // PyRadiomics normalisation uses the whole image's mean and σ, not the ROI box's.
    let normalise = Settings { normalise: Some(Normalise { scale: 100.0, remove_outliers: Some(2.0) }), ..settings() };
    same(&img, &mask, &normalise).unwrap();
    let absent = Settings { label: 5, ..settings() };
    let message = same(&img, &mask, &absent).unwrap_err();
    assert!(message.contains("1, 2"), "{message}");
}

#[test]
fn nonfinite_voxels_and_fractional_labels_as_process() {
    let dir = tempfile::tempdir().unwrap();
    let (mut image, mut labels) = case();
    // NaN inside the ROI (reported at whole-image indices) and outside it.
    image.data[[11, 9, 7]] = f64::NAN;
    image.data[[0, 9, 0]] = f64::INFINITY;
    let img = write(dir.path(), "nan.nii.gz", &image);
    let mask = write(dir.path(), "mask.nii.gz", &labels);
    let message = same(&img, &mask, &settings()).unwrap_err();
    assert!(message.contains("[11, 9, 7]"), "{message}");
    same(&img, &mask, &Settings { exclude_nonfinite: true, ..settings() }).unwrap();
    // Every ROI voxel NaN: empty once excluded.
    let mut all_nan = image.clone();
    for (v, &l) in all_nan.data.iter_mut().zip(labels.data.iter()) {
        if l == 2.0 {
            *v = f64::NAN;
        }
    }
    let all_nan = write(dir.path(), "all_nan.nii.gz", &all_nan);
    let message = same(&all_nan, &mask, &Settings { exclude_nonfinite: true, ..settings() }).unwrap_err();
    assert!(message.contains("NaN"), "{message}");
    // A probability map: the first fractional voxel in (x, y, z) order is named.
    labels.data[[19, 0, 11]] = 0.5;
    labels.data[[3, 15, 1]] = 0.25;
    let soft = write(dir.path(), "soft.nii.gz", &labels);
    let message = same(&write(dir.path(), "image.nii.gz", &case().0), &soft, &settings()).unwrap_err();
    assert!(message.contains("0.25"), "{message}");
}

/// The streamed read holds the image reader's slices (one 20×16 float32 slice, 1280 bytes,
/// and at most every slice, 15 360 bytes, before the mask's box is known), the label map's
/// rows and the box's voxels as `f64` and `bool`: the ROI (x 10–13, y 8–11, z 6–8) grown by
/// the local-intensity margin (⌈6.2035/2⌉ + 1 = 5 voxels in-plane, ⌈6.2035/4⌉ + 1 = 3 along
/// z, clipped to y ≤ 15) is 14 × 13 × 9 voxels. A budget of exactly that runs, a byte less is
/// refused naming the phase, and less than the reader's slices refuses the image file.
#[test]
fn memory_budget_is_charged_what_the_streamed_read_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (image, labels) = case();
    let (img, mask) = (write(dir.path(), "image.nii.gz", &image), write(dir.path(), "mask.nii.gz", &labels));
    let reader = 1280 + 15_360;
    assert_eq!(radx_io::region_reader_bytes(DIMS, 4), reader);
    let rows = radx_io::read_label_mask(&mask, 2i64, &Default::default()).unwrap().bytes();
    let need = reader + rows + 14 * 13 * 9 * 9;
    let run =
        |max_memory: u64| process_files(&img, &mask, settings().label.into(), &Settings { max_memory, ..settings() });
    assert!(run(need).is_ok());
    match run(need - 1) {
        Err(radx_engine::Error::Core { source: radx_core::CoreError::MemoryBudget { phase, what, .. }, .. }) => {
            assert_eq!(phase, "reading");
            assert!(what.contains("14 × 13 × 9 voxel box"), "{what}");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    match run(reader - 1) {
        Err(radx_engine::Error::Io(radx_io::IoError::TooLarge { path, needed, .. })) => {
            assert_eq!((path, needed), (img.clone(), reader));
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

/// `Extractor::extract` computes the ROI's shape while the image is read; the features must be
/// those of processing first and extracting after, bit for bit, also when dropping NaN
/// voxels changes the mask after the shape was started (the early shape is then not used).
#[test]
fn shape_computed_while_reading_gives_the_same_features() {
    let dir = tempfile::tempdir().unwrap();
    let (mut image, labels) = case();
    let mask = write(dir.path(), "mask.nii.gz", &labels);
    let clean = write(dir.path(), "image.nii.gz", &image);
    image.data[[11, 9, 7]] = f64::NAN;
    let nan = write(dir.path(), "nan.nii.gz", &image);
    for (img, settings) in [(&clean, settings()), (&nan, Settings { exclude_nonfinite: true, ..settings() })] {
        same_features_early_and_late(img.clone(), mask.clone(), settings, "volume");
    }
}

/// The mask's half of Moran's I / Geary's C is computed while the image is read when reading
/// takes longer than the shape, else with the intensities: either way the same bits. Here on
/// a ROI large enough for the FFT method, with the weights computed ahead on the shape or not.
#[test]
fn autocorrelation_weights_computed_ahead_give_the_same_values() {
    use radx_dsl::Builtins;
    use radx_engine::host::CaseHost;
    use radx_engine::shape::Shape;
    let grid = Grid::new([26, 24, 14], [0.8, 0.8, 2.0]);
    let (mut image, mut labels) = (Vec::new(), Vec::new());
    for z in 0..14 {
        for y in 0..24 {
            for x in 0..26 {
                image.push(((x * 37 + y * 11 + z * 53) % 97) as f64 - 30.0);
                let d = |v: usize, c: f64, r: f64| ((v as f64 - c) / r).powi(2);
                labels.push(if d(x, 12.5, 10.0) + d(y, 11.5, 9.0) + d(z, 6.5, 5.0) <= 1.0 { 2.0 } else { 0.0 });
            }
        }
    }
    let case = process(
        &Volume::from_x_fastest(grid, image),
        &Volume::from_x_fastest(grid, labels),
        settings().label.into(),
        &settings(),
    )
    .expect("a valid case");
    assert!(case.roi.intensities().len() > 1000, "the FFT method needs a larger ROI");
    let mask = Volume { grid: case.roi.image.grid, data: case.roi.morphological.clone() };
    let ahead = Shape::new(mask);
    ahead.autocorrelation_weights().expect("weights of a non-empty mask");
    let settings = settings();
    let value = |host: &CaseHost, name: &str| host.call(name, &[]).map(f64::to_bits);
    let with_ahead = CaseHost::with_shape(&case, &settings, Some(ahead));
    let without = CaseHost::new(&case, &settings);
    for name in ["morans_i", "gearys_c"] {
        assert_eq!(value(&with_ahead, name), value(&without, name), "{name}");
    }
}

/// With PyRadiomics settings the `pyr_shape` source is computed while the image is read (on
/// the shape's caches) or, failing that, during extraction on its own: the same bits both
/// ways, and the same features from `Extractor::extract` as from processing then extracting.
#[test]
fn pyradiomics_shape_computed_while_reading_gives_the_same_source() {
    use radx_engine::shape::{Shape, ShapeNeeds};
    let pyradiomics = Settings { pyradiomics: Some(Default::default()), ..settings() };
    let (image, labels) = case();
    let case = process(&image, &labels, pyradiomics.label.into(), &pyradiomics).expect("a valid case");
    let mask = Volume { grid: case.roi.image.grid, data: case.roi.morphological.clone() };
    let needs = ShapeNeeds::of_texts(&["family shape over pyr_shape {"]);
    assert!(needs.any());
    assert_eq!(ShapeNeeds::of_texts(&["family shape2D over pyr_shape2D {"]), ShapeNeeds::default());
    let ahead = Shape::new(mask.clone());
    assert!(ahead.prefetch_while(needs, || true));
    let source = |shape: &Shape| {
        let data =
            radx_engine::compat::pyradiomics::build_source("pyr_shape", &case, &case.levels, shape, &pyradiomics, true)
                .expect("a pyr_ source")
                .expect("shape data");
        let names = ["Np", "mesh_volume", "mesh_area", "lambda_major", "lambda_minor", "lambda_least", "max_3d"];
        let more = ["max_2d_slice", "max_2d_column", "max_2d_row", "voxel_volume"];
        names.iter().chain(&more).map(|n| data[0].scalar(n).expect(n).to_bits()).collect::<Vec<_>>()
    };
    assert!(ahead.pyradiomics_if_computed().is_some());
    assert_eq!(source(&ahead), source(&Shape::new(mask)));

    let dir = tempfile::tempdir().unwrap();
    let (img, msk) = (write(dir.path(), "image.nii.gz", &image), write(dir.path(), "mask.nii.gz", &labels));
    same_features_early_and_late(img, msk, pyradiomics, "Maximum2DDiameterSlice");
}

/// With PyRadiomics' B-spline resampling onto a new spacing the image is resampled slice by
/// slice as it is read, and the ROI's mask is put on the new grid and its shape computed on a
/// thread of their own meanwhile: that shape is of the processed case's mask (so the features
/// use it), and extracting gives the bits of processing first and extracting after.
#[test]
fn pyradiomics_shape_of_the_resampled_mask_computed_while_reading() {
    use radx_engine::pipeline::process_files_with_shape;
    use radx_engine::shape::ShapeNeeds;
    let dir = tempfile::tempdir().unwrap();
    let (image, labels) = case();
    let (img, msk) = (write(dir.path(), "image.nii.gz", &image), write(dir.path(), "mask.nii.gz", &labels));
    let params = dir.path().join("params.yaml");
    let yaml = "setting:\n  label: 2\n  interpolator: sitkBSpline\n  resampledPixelSpacing: [1.5, 1.5, 3]\n";
    std::fs::write(&params, yaml).unwrap();
    let pyradiomics = radx_engine::compat::pyradiomics::load_settings(&params, true).unwrap().settings;
    let needs = ShapeNeeds::of_texts(&["family shape over pyr_shape {"]);
    let (case, shape) = process_files_with_shape(&img, &msk, 2.into(), &pyradiomics, needs).expect("a valid case");
    let shape = shape.expect("the shape computed while the image was read");
    assert_ne!(case.roi.image.grid.spacing, image.grid.spacing, "resampled onto a new grid");
    assert!(shape.is_of(&Volume { grid: case.roi.image.grid, data: case.roi.morphological.clone() }));

    same_features_early_and_late(img, msk, pyradiomics, "Maximum2DDiameterSlice");
}
