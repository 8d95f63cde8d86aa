//! Voxel-wise feature maps (`radx_engine::maps`): a map value is the segment-based extraction
//! of its window's ROI, the maps are the same bits at any thread count, and bad requests are
//! errors.

use radx_engine::core::{Grid, Volume};
use radx_engine::maps::{MapOptions, Window, feature_maps};
use radx_engine::{Case, Extractor, Settings};

/// A 10×9×8 image of pseudo-random intensities and a ROI inside the box x 3..=6, y 2..=5,
/// z 2..=5 (a few corners left out), from `seed`.
fn case(seed: u64) -> Case {
    case_with_spacing(seed, [1.0, 1.0, 1.5])
}

fn case_with_spacing(seed: u64, spacing: [f64; 3]) -> Case {
    let grid = Grid::new([10, 9, 8], spacing);
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as f64 / f64::from(1u32 << 31)
    };
    let (mut image, mut mask) = (Vec::new(), Vec::new());
    for z in 0..8 {
        for y in 0..9 {
            for x in 0..10 {
                image.push((next() * 60.0).round() + 10.0 * f64::from(x as u32));
                let inside = (3..=6).contains(&x) && (2..=5).contains(&y) && (2..=5).contains(&z);
                let corner = [x == 3 || x == 6, y == 2 || y == 5, z == 2 || z == 5].iter().all(|c| *c);
                mask.push(if inside && !(corner && next() < 0.5) { 1.0 } else { 0.0 });
            }
        }
    }
    Case::new(Volume::from_x_fastest(grid, image), Volume::from_x_fastest(grid, mask))
}

fn ibsi_settings() -> Settings {
    Settings::from_toml_str("[discretisation.texture]\nmethod = \"fixed_bin_number\"\nbins = 8\n").expect("settings")
}

#[test]
fn a_window_covering_the_whole_roi_gives_the_segment_based_values() {
    // With a radius that reaches every ROI voxel from every ROI voxel, each window's ROI is the
    // whole ROI (masked mode): every map value is the case's own feature value, for every family
    // that can be mapped, IBSI and PyRadiomics libraries alike.
    for (settings, seed) in [(Settings::default(), 1), (ibsi_settings(), 2)] {
        let extractor = Extractor::new(settings, &[], Default::default()).unwrap();
        let case = case(seed);
        let whole = extractor.extract(&case).unwrap();
        let options = MapOptions { window: Window::Cube(4), ..MapOptions::default() };
        let maps = feature_maps(&extractor, &case, &options).unwrap();
        assert!(!maps.keys.is_empty());
        assert!(maps.keys.iter().all(|k| k.family != "morphology" && k.family != "local_intensity"));
        let n = maps.keys.len();
        for (f, key) in maps.keys.iter().enumerate() {
            let expected = whole.get(key).unwrap_or_else(|| panic!("{key:?} in the extraction")).value;
            for v in 0..maps.voxels.len() {
                let got = maps.values[v * n + f];
                let same = (got.is_nan() && expected.is_nan())
                    || got == expected
                    || (got - expected).abs() <= 1e-12 * expected.abs();
                assert!(same, "{key:?} at {:?}: map {got}, extraction {expected}", maps.voxels[v]);
            }
        }
    }
}

#[test]
fn pyradiomics_window_covering_the_roi_gives_the_segment_based_values() {
    let settings = radx_engine::compat::pyradiomics::load_settings(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/pyradiomics/voxel/brain2_r1.yaml"),
        false,
    )
    .unwrap()
    .settings;
    let extractor = Extractor::new(settings, &[], Default::default()).unwrap().with_pyradiomics_names().unwrap();
    let case = case(3);
    let whole = extractor.extract(&case).unwrap();
    let maps =
        feature_maps(&extractor, &case, &MapOptions { window: Window::Cube(4), ..MapOptions::default() }).unwrap();
    let n = maps.keys.len();
    assert!(maps.keys.iter().any(|k| k.feature == "original_glcm_JointEntropy"));
    for (f, key) in maps.keys.iter().enumerate() {
        let expected = whole.get(key).unwrap().value;
        for v in 0..maps.voxels.len() {
            let got = maps.values[v * n + f];
            let same = (got.is_nan() && expected.is_nan()) || (got - expected).abs() <= 1e-12 * expected.abs().max(1.0);
            assert!(same, "{key:?}: map {got}, extraction {expected}");
        }
    }
}

#[test]
fn maps_are_the_same_bits_at_any_thread_count() {
    let extractor = Extractor::new(Settings::default(), &[], Default::default()).unwrap();
    let case = case(7);
    let options = MapOptions { window: Window::Cube(1), ..MapOptions::default() };
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| feature_maps(&extractor, &case, &options).unwrap())
    };
    let (one, three) = (run(1), run(3));
    assert_eq!(one.keys, three.keys);
    assert_eq!(one.voxels, three.voxels);
    let bits = |m: &radx_engine::maps::FeatureMaps| m.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert!(bits(&one) == bits(&three), "maps differ between 1 and 3 threads");
}

#[test]
fn maps_lie_on_the_image_grid_with_the_init_value_outside_the_roi() {
    let extractor = Extractor::new(Settings::default(), &[], Default::default()).unwrap();
    let case = case(11);
    let options = MapOptions { window: Window::Cube(1), init_value: -7.0, families: vec!["glcm".into()], masked: true };
    let maps = feature_maps(&extractor, &case, &options).unwrap();
    assert!(maps.keys.iter().all(|k| k.family == "glcm"));
    let volume = maps.volume(0);
    assert_eq!(volume.grid.dims, [10, 9, 8]);
    let roi = maps.voxels.len();
    let outside = volume.data.iter().filter(|v| **v == -7.0).count();
    assert_eq!(outside + roi, 10 * 9 * 8);
    assert!(maps.voxels.iter().all(|i| (3..=6).contains(&i[0]) && (2..=5).contains(&i[1])));
}

#[test]
fn unmasked_windows_count_the_voxels_around_the_roi() {
    let extractor = Extractor::new(Settings::default(), &[], Default::default()).unwrap();
    let case = case(5);
    let families = vec!["intensity_statistics".to_string()];
    let masked = MapOptions { window: Window::Cube(1), families: families.clone(), ..MapOptions::default() };
    let unmasked = MapOptions { masked: false, ..masked.clone() };
    let a = feature_maps(&extractor, &case, &masked).unwrap();
    let b = feature_maps(&extractor, &case, &unmasked).unwrap();
    assert_eq!(a.voxels, b.voxels);
    // The mean of the full 3×3×3 cube around an ROI voxel, computed here from the image.
    let image = match &case.image {
        radx_engine::VolumeSource::Volume(v) => v.clone(),
        _ => unreachable!(),
    };
    let f = b.keys.iter().position(|k| k.feature == "mean_intensity").expect("mean");
    let c = b.voxels[0];
    assert!(b.keys.iter().all(|k| k.family == "intensity_statistics"));
    let mut sum = 0.0;
    for dz in 0..3 {
        for dy in 0..3 {
            for dx in 0..3 {
                sum += image.data[[c[0] + dx - 1, c[1] + dy - 1, c[2] + dz - 1]];
            }
        }
    }
    let got = b.value_at(f, c).unwrap();
    assert!((got - sum / 27.0).abs() < 1e-9, "unmasked mean {got}, expected {}", sum / 27.0);
    assert_ne!(a.values, b.values);
}

#[test]
fn bad_requests_are_errors() {
    let extractor = Extractor::new(Settings::default(), &[], Default::default()).unwrap();
    let case = case(1);
    let err = |options: MapOptions| feature_maps(&extractor, &case, &options).unwrap_err().to_string();
    assert!(err(MapOptions { window: Window::Cube(0), ..MapOptions::default() }).contains("radius"));
    assert!(err(MapOptions { window: Window::Cube(12), ..MapOptions::default() }).contains("larger than the image"));
    let sphere = |mm| err(MapOptions { window: Window::Sphere(mm), ..MapOptions::default() });
    assert!(sphere(0.9).contains("only its centre voxel"), "{}", sphere(0.9));
    assert!(sphere(f64::NAN).contains("only its centre voxel"));
    assert!(sphere(20.0).contains("larger than the image"));
    let whole = err(MapOptions { families: vec!["morphology".into()], ..MapOptions::default() });
    assert!(whole.contains("whole ROI"), "{whole}");
    assert!(err(MapOptions { families: vec!["nope".into()], ..MapOptions::default() }).contains("no family `nope`"));
}

/// On 1 mm voxels a sphere of 1.9 mm reaches the cube's corners (√3 mm) and not the next
/// voxels along the axes (2 mm): it holds exactly the 3×3×3 cube, so its maps are the cube's,
/// bit for bit, masked and unmasked.
#[test]
fn a_sphere_through_the_cube_corners_maps_as_the_cube() {
    let extractor = Extractor::new(ibsi_settings(), &[], Default::default()).unwrap();
    let case = case_with_spacing(13, [1.0; 3]);
    for masked in [true, false] {
        let cube = MapOptions { window: Window::Cube(1), masked, ..MapOptions::default() };
        let sphere = MapOptions { window: Window::Sphere(1.9), ..cube.clone() };
        let (a, b) =
            (feature_maps(&extractor, &case, &cube).unwrap(), feature_maps(&extractor, &case, &sphere).unwrap());
        assert_eq!(a.keys, b.keys);
        let bits = |m: &radx_engine::maps::FeatureMaps| m.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert!(bits(&a) == bits(&b), "masked {masked}: sphere and cube maps differ");
    }
}

/// A sphere of 1.5 mm on 1×1×1.5 mm voxels: the 3×3 square of the centre's slice (corners
/// √2 mm away) and the voxels straight above and below (1.5 mm), 11 voxels, worked out by
/// hand; the unmasked mean is their mean.
#[test]
fn an_unmasked_sphere_mean_is_the_mean_of_the_voxels_within_its_radius() {
    let extractor = Extractor::new(Settings::default(), &[], Default::default()).unwrap();
    let case = case(17);
    let options = MapOptions {
        window: Window::Sphere(1.5),
        masked: false,
        families: vec!["intensity_statistics".into()],
        ..MapOptions::default()
    };
    let maps = feature_maps(&extractor, &case, &options).unwrap();
    let image = match &case.image {
        radx_engine::VolumeSource::Volume(v) => v.clone(),
        _ => unreachable!(),
    };
    let f = maps.keys.iter().position(|k| k.feature == "mean_intensity").expect("mean");
    let mut offsets: Vec<[isize; 3]> = Vec::new();
    for dy in -1..=1 {
        for dx in -1..=1 {
            offsets.push([dx, dy, 0]);
        }
    }
    offsets.extend([[0, 0, -1], [0, 0, 1]]);
    assert_eq!(offsets.len(), 11);
    for &c in maps.voxels.iter().take(20) {
        let at = |o: [isize; 3]| image.data[[0, 1, 2].map(|a| (c[a] as isize + o[a]) as usize)];
        let expected = offsets.iter().map(|&o| at(o)).sum::<f64>() / 11.0;
        let got = maps.value_at(f, c).unwrap();
        assert!((got - expected).abs() < 1e-9, "at {c:?}: sphere mean {got}, expected {expected}");
    }
}
