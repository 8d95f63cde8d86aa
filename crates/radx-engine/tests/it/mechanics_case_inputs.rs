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
    let encoded = Case { image: bytes(&image), mask: bytes(&mask), roi: RoiSelector::Label(1) };
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
        let case = Case { image: VolumeSource::Volume(Arc::clone(&image)), mask: labels.into(), roi };
        bits(&extractor.extract(&case).unwrap())
    };
    let two = run(relabel(|v| v), RoiSelector::Label(2));
    assert_eq!(two, run(relabel(|v| if v == 2.0 { 1.0 } else { 0.0 }), RoiSelector::Label(1)));
    assert_ne!(two, run(relabel(|v| v), RoiSelector::Label(1)));
    let union = run(relabel(|v| v), RoiSelector::NonZero);
    assert_eq!(union, run(relabel(|v| if v != 0.0 { 1.0 } else { 0.0 }), RoiSelector::Label(1)));

    let absent = Case { image: VolumeSource::Volume(image), mask: relabel(|v| v).into(), roi: RoiSelector::Label(7) };
    let message = extractor.extract(&absent).unwrap_err().to_string();
    assert!(message.contains("label 7 does not occur") && message.contains("labels present: 1, 2"), "{message}");
    assert!(message.contains("<in-memory volume>"), "{message}");
}
