//! A case's inputs — files, volumes in memory, encoded bytes — and its ROI selector give
//! the same features; the ROI is the case's, not the settings'.

use std::sync::Arc;

use radx_engine::core::{Grid, Volume};
use radx_engine::{Case, Extractor, Features, RoiSelector, Settings, VolumeSource};

fn bits(features: &Features) -> Vec<(String, String, Option<&'static str>, u64)> {
    features
        .rows
        .iter()
        .map(|r| (r.key.family.clone(), r.key.feature.clone(), r.key.aggregation.map(|a| a.name()), r.value.to_bits()))
        .collect()
}

fn digital_phantom() -> (std::path::PathBuf, std::path::PathBuf, Settings) {
    let data = crate::common::test_data().join("ibsi");
    let settings = Settings::from_file(&data.join("digital_phantom.toml")).unwrap();
    (data.join("digital_phantom/image.nii.gz"), data.join("digital_phantom/mask.nii.gz"), settings)
}

#[test]
fn files_volumes_and_bytes_give_the_same_features() {
    let (image, mask, settings) = digital_phantom();
    let extractor = Extractor::new(settings, &[], Default::default()).unwrap();
    let from_files = extractor.extract(&Case::new(image.clone(), mask.clone())).unwrap();
    assert!(from_files.rows.len() > 400, "{} rows", from_files.rows.len());

    let volumes =
        Case::new(radx_engine::io::read_volume(&image).unwrap(), radx_engine::io::read_volume(&mask).unwrap());
    assert_eq!(bits(&extractor.extract(&volumes).unwrap()), bits(&from_files));

    let bytes = |path: &std::path::Path| VolumeSource::Bytes {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        bytes: Arc::from(std::fs::read(path).unwrap()),
    };
    let encoded = Case { image: bytes(&image), mask: bytes(&mask), roi: RoiSelector::Label(1), id: None };
    assert_eq!(bits(&extractor.extract(&encoded).unwrap()), bits(&from_files));

    // One input a file, the other in memory.
    let mixed = Case::new(image, radx_engine::io::read_volume(&mask).unwrap());
    assert_eq!(bits(&extractor.extract(&mixed).unwrap()), bits(&from_files));
}

/// A label map with labels 1 and 2; the same geometry with label 2 moved to 1, and the two
/// merged: one extractor serves every ROI, and `NonZero` is the union of the labels.
#[test]
fn the_roi_is_chosen_by_the_case() {
    let grid = Grid::new([8, 8, 4], [1.0, 1.0, 2.0]);
    let (mut image, mut labels) = (Vec::new(), Vec::new());
    for z in 0..4 {
        for y in 0..8 {
            for x in 0..8 {
                image.push(((x * 7 + y * 3 + z * 5) % 11) as f64);
                labels.push(match (x, y) {
                    (1..=3, 1..=5) => 1.0,
                    (5..=6, 2..=6) => 2.0,
                    _ => 0.0,
                });
            }
        }
    }
    let relabel = |f: fn(f64) -> f64| Volume::from_x_fastest(grid, labels.iter().map(|&v| f(v)).collect());
    let image = Arc::new(Volume::from_x_fastest(grid, image));
    let extractor = Extractor::new(Settings::default(), &[], Default::default()).unwrap();
    let run = |labels: Volume<f64>, roi: RoiSelector| {
        let case = Case { image: VolumeSource::Volume(Arc::clone(&image)), mask: labels.into(), roi, id: None };
        bits(&extractor.extract(&case).unwrap())
    };
    let two = run(relabel(|v| v), RoiSelector::Label(2));
    assert_eq!(two, run(relabel(|v| if v == 2.0 { 1.0 } else { 0.0 }), RoiSelector::Label(1)));
    assert_ne!(two, run(relabel(|v| v), RoiSelector::Label(1)));
    let union = run(relabel(|v| v), RoiSelector::NonZero);
    assert_eq!(union, run(relabel(|v| if v != 0.0 { 1.0 } else { 0.0 }), RoiSelector::Label(1)));

    let absent =
        Case { image: VolumeSource::Volume(image), mask: relabel(|v| v).into(), roi: RoiSelector::Label(7), id: None };
    let message = extractor.extract(&absent).unwrap_err().to_string();
    assert!(message.contains("label 7 does not occur") && message.contains("labels present: 1, 2"), "{message}");
    assert!(message.contains("<in-memory volume>"), "{message}");
}

/// The caller's arrays (read by region: the label map scanned in its own type, the image's
/// ROI box converted) give the features the files give, in any voxel type and layout, with
/// resampling too; a case that needs the whole image (PyRadiomics' normalisation) reads them
/// whole and still agrees.
#[test]
fn arrays_in_their_own_type_give_the_files_features() {
    use radx_engine::arrays::OwnedArray;
    let (image, mask, settings) = digital_phantom();
    let image_volume = radx_engine::io::read_volume(&image).unwrap();
    let labels = radx_engine::io::read_volume(&mask).unwrap();
    let array =
        |name: &str, array: Arc<dyn radx_engine::arrays::VoxelArray>| VolumeSource::Array { name: name.into(), array };
    // The phantom's intensities are whole numbers: i16 holds them exactly.
    let as_i16 = OwnedArray { grid: image_volume.grid, data: Arc::new(image_volume.data.mapv(|v| v as i16)) };
    let as_f32 = OwnedArray { grid: image_volume.grid, data: Arc::new(image_volume.data.mapv(|v| v as f32)) };
    // A z-fastest layout (numpy's C-ordered [x, y, z]).
    let c_order = ndarray::Array3::from_shape_fn(labels.data.dim(), |i| labels.data[i] as u8);
    let as_u8 = OwnedArray { grid: labels.grid, data: Arc::new(c_order) };
    let resampling = Settings::from_file(&crate::common::test_data().join("ibsi/config_b.toml")).unwrap();
    assert!(resampling.resample.is_some());
    for settings in [settings, resampling] {
        let extractor = Extractor::new(settings, &[], Default::default()).unwrap();
        let from_files = bits(&extractor.extract(&Case::new(image.clone(), mask.clone())).unwrap());
        for image in [array("image", Arc::new(as_i16.clone())), array("image", Arc::new(as_f32.clone()))] {
            let case = Case::new(image, array("mask", Arc::new(as_u8.clone())));
            assert_eq!(bits(&extractor.extract(&case).unwrap()), from_files);
        }
    }
}

#[test]
fn arrays_are_refused_as_files_are() {
    use radx_engine::arrays::OwnedArray;
    let grid = Grid::new([6, 5, 4], [1.0, 1.0, 2.0]);
    let image =
        OwnedArray { grid, data: Arc::new(ndarray::Array3::from_shape_fn((6, 5, 4), |(x, y, z)| (x + y + z) as u16)) };
    let labels = |f: fn(usize, usize, usize) -> f32| OwnedArray {
        grid,
        data: Arc::new(ndarray::Array3::from_shape_fn((6, 5, 4), |(x, y, z)| f(x, y, z))),
    };
    let case = |labels: OwnedArray<f32>, roi| Case {
        image: VolumeSource::Array { name: "scan".into(), array: Arc::new(image.clone()) },
        mask: VolumeSource::Array { name: "seg".into(), array: Arc::new(labels) },
        roi,
        id: None,
    };
    let extractor = Extractor::new(Settings::default(), &[], Default::default()).unwrap();
    let two_labels = labels(|x, _, z| if z == 1 { [0.0, 2.0, 2.0, 5.0, 0.0, 0.0][x] } else { 0.0 });
    let error = extractor.extract(&case(two_labels.clone(), RoiSelector::Label(1))).unwrap_err().to_string();
    assert!(error.contains("scan with mask seg") && error.contains("labels present: 2, 5"), "{error}");
    let fractional = labels(|x, y, z| if (x, y, z) == (3, 2, 1) { 0.4 } else { 1.0 });
    let error = extractor.extract(&case(fractional, RoiSelector::Label(1))).unwrap_err().to_string();
    assert!(error.contains("not a label map") && error.contains("[3, 2, 1]"), "{error}");
    let small = Settings { max_memory: 6 * 5 * 4 * 8 + 100, ..Default::default() };
    let small = Extractor::new(small, &[], Default::default()).unwrap();
    let error = small.extract(&case(two_labels, RoiSelector::Label(2))).unwrap_err().to_string();
    assert!(error.contains("seg"), "the mask no longer fits the budget: {error}");
}
