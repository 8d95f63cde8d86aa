//! The maps' definition (docs/maps.md), checked on random cases: in masked mode a map's value
//! at a voxel is the ordinary extraction of the processed case with its ROI cut down to that
//! voxel's window (window ∩ ROI, the grey levels still the whole ROI's), for every feature row.
//! The maps go another way (a small case cut around each window, matrices over the levels it
//! holds, renumbered, the rows named once), so this checks that way against the plain one.

use proptest::prelude::*;
use radx_engine::core::{Aggregation, Grid, Volume};
use radx_engine::maps::{MapOptions, Window, feature_maps};
use radx_engine::{Case, Extractor, ProcessedCase, Settings};

/// A `dims` image of integer intensities (`values` cycled) and a ROI of the voxels whose bit
/// of `inside` (cycled) is set, on 1 × 1 × 1.5 mm voxels.
fn case(dims: [usize; 3], values: &[i16], inside: &[bool]) -> Case {
    let grid = Grid::new(dims, [1.0, 1.0, 1.5]);
    let n = dims.iter().product::<usize>();
    let image = (0..n).map(|i| f64::from(values[i % values.len()])).collect();
    let mask = (0..n).map(|i| if inside[i % inside.len()] { 1.0 } else { 0.0 }).collect();
    Case::new(Volume::from_x_fastest(grid, image), Volume::from_x_fastest(grid, mask))
}

/// Settings of the IBSI library: fixed bin number or fixed bin size, some aggregations, GLCM
/// (distance, symmetry), NGLDM α (α > 0 keeps the windows' levels in their own numbering).
fn settings(bins: Option<u32>, width: f64, aggregations: &[Aggregation], glcm: (u32, bool), alpha: u32) -> Settings {
    let method = match bins {
        Some(b) => format!("method = \"fixed_bin_number\"\nbins = {b}"),
        None => format!("method = \"fixed_bin_size\"\nwidth = {width}\nlower_bound = -100"),
    };
    let names: Vec<String> = aggregations.iter().map(|a| format!("\"{}\"", a.name())).collect();
    let toml = format!(
        "[discretisation.texture]\n{method}\n[texture]\naggregations = [{}]\nglcm_distance = {distance}\n\
         glcm_symmetric = {}\nngldm_alpha = {alpha}\n",
        names.join(", "),
        glcm.1,
        distance = glcm.0
    );
    Settings::from_toml_str(&toml).expect("settings")
}

/// `processed` with its ROI (both masks and the grey levels) cut down to the voxels of
/// `window` around `centre` (crop indices): the window's mask on the whole crop.
fn window_masked(processed: &ProcessedCase, centre: [usize; 3], window: Window) -> ProcessedCase {
    let spacing = processed.roi.image.grid.spacing;
    let inside = |i: [usize; 3]| {
        let d = [0, 1, 2].map(|a| i[a] as f64 - centre[a] as f64);
        match window {
            Window::Cube(r) => d.iter().all(|x| x.abs() <= r as f64),
            Window::Square(r) => d[2] == 0.0 && d[..2].iter().all(|x| x.abs() <= r as f64),
            Window::Sphere(mm) => (0..3).map(|a| (d[a] * spacing[a]).powi(2)).sum::<f64>() <= mm * mm * (1.0 + 1e-12),
        }
    };
    let mut cut = processed.clone();
    for ((x, y, z), level) in cut.levels.levels.indexed_iter_mut() {
        if !inside([x, y, z]) {
            *level = 0;
            cut.roi.intensity[[x, y, z]] = false;
            cut.roi.morphological[[x, y, z]] = false;
            cut.levels.morphological[[x, y, z]] = false;
        }
    }
    cut.interpolated_count = cut.roi.morphological.iter().filter(|m| **m).count();
    cut.plugin_region = None;
    cut
}

/// Equal within 1e-9 relative (1e-9 absolute near 0), NaN equal to NaN: the two ways sum the
/// same terms in other orders (levels renumbered, absent levels left out).
fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn aggregations() -> impl Strategy<Value = Vec<Aggregation>> {
    prop::sample::subsequence(Aggregation::ALL.to_vec(), 1..=3)
}

fn window() -> impl Strategy<Value = Window> {
    prop_oneof![
        (1usize..3).prop_map(Window::Cube),
        (1usize..3).prop_map(Window::Square),
        (1.4f64..2.6).prop_map(Window::Sphere)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]
    #[test]
    fn a_map_value_is_the_extraction_of_its_window_mask(
        values in prop::collection::vec(-40i16..200, 7..40),
        inside in prop::collection::vec(prop::bool::weighted(0.7), 5..23),
        bins in prop::option::of(3u32..12),
        width in prop::sample::select(vec![10.0, 25.0]),
        aggregations in aggregations(),
        distance in 1u32..3,
        symmetric in any::<bool>(),
        alpha in 0u32..2,
        window in window(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 3),
    ) {
        let extractor = Extractor::new(settings(bins, width, &aggregations, (distance, symmetric), alpha), &[], Default::default())
            .expect("extractor");
        let case = case([6, 5, 4], &values, &inside);
        // A ROI the pipeline refuses (empty, or one grey level where that is an error) has no maps.
        let Ok(processed) = extractor.process(&case) else { return Ok(()) };
        let options = MapOptions { window, ..MapOptions::default() };
        let maps = feature_maps(&extractor, &case, &options).expect("maps");
        let families: Vec<_> = extractor
            .library
            .iter()
            .filter(|f| maps.keys.iter().any(|k| k.family == f.family.name()))
            .cloned()
            .collect();
        prop_assert!(maps.keys.iter().any(|k| k.family == "intensity_statistics"));
        prop_assert!(maps.keys.iter().any(|k| k.family == "glcm"));
        // The crop's first voxel on the image's grid (no interpolation: same spacing, axes).
        let crop = processed.roi.image.grid.origin;
        let offset = [0, 1, 2].map(|a| ((crop[a] - maps.grid.origin[a]) / maps.grid.spacing[a]).round() as usize);
        for pick in &picks {
            let voxel = maps.voxels[pick.index(maps.voxels.len())];
            let centre = [0, 1, 2].map(|a| voxel[a] - offset[a]);
            let rows = radx_engine::extract::extract(&window_masked(&processed, centre, window), &extractor.settings, &families);
            for (f, key) in maps.keys.iter().enumerate() {
                let expected = rows.iter().find(|r| &r.key == key).unwrap_or_else(|| panic!("{key:?} extracted")).value;
                let got = maps.value_at(f, voxel).expect("a ROI voxel");
                prop_assert!(same(got, expected), "{:?} at {:?} ({:?}): map {}, extraction {}", key, voxel, window, got, expected);
            }
        }
    }
}
