//! Property tests of the IBSI processing steps: discretisation ranges, resampling
//! identities and thread-count independence.

use ndarray::{Array3, ShapeBuilder};
use proptest::prelude::*;
use radx_core::processing::discretise::{discretise_fixed_bin_number, discretise_fixed_bin_size};
use radx_core::processing::resample::{Interpolator, aligned_grid, resample_image, resample_mask};
use radx_core::roi::Roi;
use radx_core::{Grid, Volume};

const INTERPOLATORS: [Interpolator; 3] = [Interpolator::Nearest, Interpolator::Linear, Interpolator::CubicSpline];

/// A small random volume: dims 1..6 per axis, intensities in [−1000, 1000] and a mask.
fn volume_and_mask() -> impl Strategy<Value = (Volume<f64>, Array3<bool>)> {
    (1usize..6, 1usize..6, 1usize..5).prop_flat_map(|(nx, ny, nz)| {
        let n = nx * ny * nz;
        (
            prop::collection::vec(-1000.0f64..1000.0, n),
            prop::collection::vec(any::<bool>(), n),
            (0.5f64..3.0, 0.5f64..3.0, 0.5f64..4.0),
        )
            .prop_map(move |(values, inside, (sx, sy, sz))| {
                let grid = Grid::new([nx, ny, nz], [sx, sy, sz]);
                let mask = Volume::from_x_fastest(grid, inside).data;
                (Volume::from_x_fastest(grid, values), mask)
            })
    })
}

fn roi_of(image: Volume<f64>, mask: Array3<bool>) -> Roi {
    Roi { image, morphological: mask.clone(), intensity: mask }
}

fn assert_levels_in_range(roi: &Roi, levels: &Array3<u16>, ng: usize) -> Result<(), TestCaseError> {
    for (&level, &inside) in levels.iter().zip(roi.intensity.iter()) {
        if inside {
            prop_assert!(level >= 1 && level as usize <= ng, "level {level} outside 1..={ng}");
        } else {
            prop_assert_eq!(level, 0);
        }
    }
    Ok(())
}

/// The level the IBSI's formula gives at bin coordinate `t` (levels start at 1), clamped to
/// `1..=top`; both neighbouring levels when `t` lies on a bin edge up to rounding (the
/// formula and the code may round that one product differently).
fn formula_levels(t: f64, top: usize) -> [u16; 2] {
    let clamp = |l: f64| l.clamp(1.0, top as f64) as u16;
    let edge = t.round();
    if (t - edge).abs() <= 1e-9 * edge.abs().max(1.0) {
        [clamp(edge), clamp(edge + 1.0)]
    } else {
        let level = clamp(t.floor() + 1.0);
        [level, level]
    }
}

/// Every ROI voxel's level is the one `formula(intensity)` gives.
fn assert_levels_follow(
    roi: &Roi,
    levels: &Array3<u16>,
    formula: impl Fn(f64) -> [u16; 2],
) -> Result<(), TestCaseError> {
    let mut compared = 0;
    for ((&level, &inside), &x) in levels.iter().zip(roi.intensity.iter()).zip(roi.image.data.iter()) {
        if inside {
            let allowed = formula(x);
            prop_assert!(allowed.contains(&level), "intensity {x}: level {level}, the formula gives {allowed:?}");
            compared += 1;
        }
    }
    prop_assert_eq!(compared, roi.intensity_count());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Fixed bin number (IBSI K15C): X_d = ⌊N_g·(X − X_min)/(X_max − X_min)⌋ + 1, and N_g at
    /// X_max, for every voxel: pins every bin edge, not only the range of the levels.
    #[test]
    fn fixed_bin_number_follows_the_ibsi_formula((image, mask) in volume_and_mask(), bins in 1usize..300) {
        let roi = roi_of(image, mask);
        let values = roi.intensities();
        let (Some(min), Some(max)) = (values.iter().copied().reduce(f64::min), values.iter().copied().reduce(f64::max))
        else {
            return Ok(());
        };
        let d = discretise_fixed_bin_number(&roi, bins).expect("valid settings");
        assert_levels_follow(&roi, &d.levels, |x| {
            if x >= max || max == min {
                let top = if max == min { 1 } else { bins as u16 };
                [top, top]
            } else {
                formula_levels(bins as f64 * (x - min) / (max - min), bins)
            }
        })?;
    }

    /// Fixed bin size (IBSI Q3RU): X_d = ⌊(X − X_lower)/w⌋ + 1 for every voxel, with the
    /// lower bound below the ROI's minimum as re-segmentation leaves it.
    #[test]
    fn fixed_bin_size_follows_the_ibsi_formula(
        (image, mask) in volume_and_mask(),
        width in 0.5f64..200.0,
        below in 0.0f64..100.0,
    ) {
        let roi = roi_of(image, mask);
        let Some(min) = roi.intensities().into_iter().reduce(f64::min) else { return Ok(()) };
        let lower = min - below;
        let d = discretise_fixed_bin_size(&roi, width, lower).expect("valid settings");
        assert_levels_follow(&roi, &d.levels, |x| formula_levels((x - lower) / width, usize::from(u16::MAX)))?;
    }

    /// Counting in memory order gives the count in index order, for x-fastest masks (the
    /// pipeline's) and z-fastest ones alike.
    #[test]
    fn count_true_counts_every_true_voxel((_, mask) in volume_and_mask()) {
        let by_index = mask.iter().filter(|&&m| m).count();
        prop_assert_eq!(radx_core::volume::count_true(&mask), by_index);
        let z_fastest = Array3::from_shape_fn(mask.dim(), |p| mask[p]);
        prop_assert_eq!(radx_core::volume::count_true(&z_fastest), by_index);
    }

    #[test]
    fn fixed_bin_number_levels_lie_in_range((image, mask) in volume_and_mask(), bins in 1usize..300) {
        let roi = roi_of(image, mask);
        match discretise_fixed_bin_number(&roi, bins) {
            Ok(d) => {
                prop_assert_eq!(d.ng, bins);
                assert_levels_in_range(&roi, &d.levels, d.ng)?;
            }
            Err(_) => prop_assert_eq!(roi.intensity_count(), 0),
        }
    }

    #[test]
    fn fixed_bin_size_levels_lie_in_range((image, mask) in volume_and_mask(), width in 0.5f64..200.0) {
        let roi = roi_of(image, mask);
        let lower = roi.intensities().into_iter().reduce(f64::min);
        match lower {
            Some(lower) => {
                let d = discretise_fixed_bin_size(&roi, width, lower).expect("valid settings");
                assert_levels_in_range(&roi, &d.levels, d.ng)?;
                // N_g is the top level present.
                prop_assert_eq!(d.levels.iter().copied().max().map(usize::from), Some(d.ng));
            }
            None => prop_assert!(discretise_fixed_bin_size(&roi, width, 0.0).is_err()),
        }
    }

    #[test]
    fn fixed_bin_number_of_a_constant_roi_is_one((image, mask) in volume_and_mask(), value in -50.0f64..50.0,
                                                 bins in 1usize..64) {
        let roi = roi_of(image.map(|_| value), mask);
        if let Ok(d) = discretise_fixed_bin_number(&roi, bins) {
            for (&level, &inside) in d.levels.iter().zip(roi.intensity.iter()) {
                prop_assert_eq!(level, u16::from(inside));
            }
        }
    }

    #[test]
    fn resampling_onto_the_same_grid_is_the_identity((image, mask) in volume_and_mask()) {
        for interp in INTERPOLATORS {
            let out = resample_image(&image, &image.grid, interp).expect("resample");
            for (a, b) in out.data.iter().zip(image.data.iter()) {
                // The spline passes through its knots up to rounding of the prefilter.
                prop_assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "{interp:?}: {a} vs {b}");
            }
            let m = Volume { grid: image.grid, data: mask.clone() };
            if interp != Interpolator::CubicSpline {
                prop_assert_eq!(&resample_mask(&m, &image.grid, interp, 0.5).expect("mask").data, &mask);
            }
        }
    }

    #[test]
    fn resampling_is_independent_of_the_thread_count((image, _mask) in volume_and_mask(),
                                                    spacing in (0.4f64..3.0, 0.4f64..3.0, 0.4f64..3.0)) {
        let target = aligned_grid(&image.grid, [spacing.0, spacing.1, spacing.2], false).expect("grid");
        for interp in INTERPOLATORS {
            let run = |threads: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("thread pool")
                    .install(|| resample_image(&image, &target, interp).expect("resample"))
            };
            let one = run(1);
            let two = run(2);
            prop_assert!(one.data.iter().zip(two.data.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn interpolated_values_stay_within_the_data_range((image, _mask) in volume_and_mask(),
                                                     spacing in (0.4f64..3.0, 0.4f64..3.0, 0.4f64..3.0)) {
        // Nearest and linear are convex combinations of the data (edge-extended).
        let target = aligned_grid(&image.grid, [spacing.0, spacing.1, spacing.2], false).expect("grid");
        let min = image.data.iter().copied().fold(f64::INFINITY, f64::min);
        let max = image.data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for interp in [Interpolator::Nearest, Interpolator::Linear] {
            let out = resample_image(&image, &target, interp).expect("resample");
            prop_assert!(out.data.iter().all(|&v| v >= min - 1e-9 && v <= max + 1e-9));
        }
    }
}

/// The box of every `true` voxel, by definition: the extremes of their indices.
fn bounding_box_by_voxels(mask: &Array3<bool>) -> Option<radx_core::BoundingBox> {
    let inside: Vec<[usize; 3]> = mask.indexed_iter().filter(|(_, m)| **m).map(|((x, y, z), _)| [x, y, z]).collect();
    (!inside.is_empty()).then(|| radx_core::BoundingBox {
        min: [0, 1, 2].map(|a| inside.iter().map(|p| p[a]).min().unwrap()),
        max: [0, 1, 2].map(|a| inside.iter().map(|p| p[a]).max().unwrap()),
    })
}

proptest! {
    /// `BoundingBox::of_mask` scans x-lanes from both ends: the same box as the extremes of
    /// the voxels' indices, in either memory layout, for empty, sparse, half and full masks.
    #[test]
    fn bounding_box_is_the_extremes_of_the_voxels(
        (nx, ny, nz) in (1usize..9, 1usize..7, 1usize..6),
        density in prop_oneof![Just(0.0), Just(0.05), Just(0.5), Just(1.0)],
        seed in any::<u64>(),
        x_fastest in any::<bool>(),
    ) {
        let mut state = seed | 1;
        let mut coin = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 1000) as f64 / 1000.0 < density
        };
        let values: Vec<bool> = (0..nx * ny * nz).map(|_| coin()).collect();
        let mask = if x_fastest {
            Array3::from_shape_vec((nx, ny, nz).f(), values).unwrap()
        } else {
            Array3::from_shape_vec((nx, ny, nz), values).unwrap()
        };
        // Row-major masks have strided x-lanes: the scan's other branch.
        prop_assert_eq!(radx_core::BoundingBox::of_mask(&mask), bounding_box_by_voxels(&mask));
    }
}
