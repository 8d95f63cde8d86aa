//! The memory model's estimates on hand-worked sizes, and its checks at their boundary: a
//! budget of exactly the estimate runs, a byte less is refused naming the phase.

use radx_core::{CoreError, Grid, Volume};
use radx_engine::Settings;
use radx_engine::pipeline::process;

/// A 100 × 100 × 10 image at 1 mm, every voxel in the ROI, interpolated to 0.5 mm: the IBSI
/// grid keeps the centre, so it has ⌈100·1/0.5⌉ = 200 × 200 × 20 voxels, every one of whose
/// centres (−0.25 … 99.25 mm) lies within the image's extent (−0.5 … 99.5 mm). The source
/// crop (the whole image) holds 27 bytes a voxel (image, two masks, the mask's copy, the mask
/// as `f64`, spline coefficients), the target 17 (image, mask as `f64`, mask):
/// 100 000 × 27 + 800 000 × 17 = 16 300 000 bytes.
#[test]
fn interpolation_to_half_the_spacing_by_hand() {
    let grid = Grid::new([100, 100, 10], [1.0; 3]);
    let image = Volume::from_x_fastest(grid, (0..100_000).map(|i| (i % 97) as f64).collect());
    let labels = Volume::filled(grid, 1.0);
    let need = 100_000 * 27 + 200 * 200 * 20 * 17;
    assert_eq!(need, 16_300_000);
    let settings = |max_memory: u64| Settings {
        max_memory,
        ..Settings::from_toml_str("[resample]\nspacing = [0.5, 0.5, 0.5]\n").expect("settings")
    };
    let processed = process(&image, &labels, 1.into(), &settings(need)).expect("the estimate fits");
    assert_eq!(processed.interpolated_grid.dims, [200, 200, 20]);
    let refused = process(&image, &labels, 1.into(), &settings(need - 1)).unwrap_err();
    let CoreError::MemoryBudget { phase, ref what, needed_mib, .. } = refused else { panic!("{refused}") };
    assert_eq!((phase, needed_mib), ("interpolation", 16_300_000u64.div_ceil(1 << 20)));
    // The check before the target grid exists already counts its 200 × 200 × 20 voxels.
    assert!(
        what.contains("`resample.spacing` [0.5, 0.5, 0.5] mm") && what.contains("2.000e2 × 2.000e2 × 2.000e1"),
        "{what}"
    );
    let message = refused.to_string();
    assert!(message.contains("coarser `resample.spacing`") && message.contains("--max-memory"), "{message}");
}

/// Two Simoncelli filters (levels 1 and 2, mirror boundary) on a 40 × 40 × 20 image: both
/// depend on the whole image, so nothing is cropped (32 000 voxels, 13 bytes each processed:
/// 416 000). Each pads every axis by max(32, min(2^(level+3), length)) = 32 voxels, a
/// 104 × 104 × 84 complex grid (16 bytes a voxel: 14 536 704), and crops its response
/// (256 000); its response's processed ROI is another 416 000. One thread holds one stage at
/// a time: 416 000 + 15 208 704; two threads hold both.
#[test]
fn filters_side_by_side_are_charged_per_thread() {
    use radx_engine::{Case, Extractor};
    let grid = Grid::new([40, 40, 20], [1.0; 3]);
    let image = Volume::from_x_fastest(grid, (0..32_000).map(|i| ((i * 7) % 53) as f64).collect());
    let labels = Volume::from_x_fastest(
        grid,
        (0..32_000)
            .map(|i| if (10..30).contains(&(i % 40)) && (10..30).contains(&(i / 40 % 40)) { 1.0 } else { 0.0 })
            .collect(),
    );
    let case = Case::new(image, labels);
    let stage = 14_536_704 + 256_000 + 416_000;
    let one_at_a_time = 416_000 + stage;
    let toml = "[[filter]]\nkind = \"simoncelli\"\nlevel = 1\nboundary = \"mirror\"\nfamilies = [\"intensity_statistics\"]\n\
                [[filter]]\nkind = \"simoncelli\"\nlevel = 2\nboundary = \"mirror\"\nfamilies = [\"intensity_statistics\"]\n";
    let extract = |threads: usize, max_memory: u64| {
        let settings = Settings { max_memory, ..Settings::from_toml_str(toml).expect("settings") };
        let extractor = Extractor::new(settings, &[], Default::default()).expect("extractor");
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        pool.install(|| extractor.extract(&case))
    };
    let phase = |result: Result<radx_engine::Features, radx_engine::Error>| match result {
        Err(radx_engine::Error::Core { source: CoreError::MemoryBudget { phase, .. }, .. }) => Some(phase),
        Err(e) => panic!("{e}"),
        Ok(_) => None,
    };
    assert_eq!(phase(extract(1, one_at_a_time)), None);
    assert_eq!(phase(extract(1, one_at_a_time - 1)), Some("filters"));
    assert_eq!(phase(extract(2, one_at_a_time)), Some("filters"));
    assert_eq!(phase(extract(2, 416_000 + 2 * stage)), None);
}
