//! Property tests for the GLCM and GLRLM builders (IBSI 1, sections 3.6 and 3.7) on random
//! small volumes and masks: symmetry, pair and run totals against direct counts, merged
//! matrices equal to sums of directional ones, invariance of the merged matrices under
//! rotations, flips, axis swaps, translation and memory layout, and independence from the
//! number of rayon threads.

use std::collections::BTreeMap;

use ndarray::{Array3, ArrayView3, Axis, ShapeBuilder, s};
use proptest::prelude::*;
use radx_core::Aggregation;
use radx_core::iter::{DIRECTIONS_2D, DIRECTIONS_3D, offsets};
use radx_core::matrix::glcm::{GlcmSettings, glcm, glcm_aggregations, glcm_directions, glcm_single};
use radx_core::matrix::glrlm::{glrlm, glrlm_aggregations, glrlm_directions, glrlm_single};
use radx_core::matrix::{DiscretisedRoi, TextureMatrix};

fn roi_of(levels: Array3<u16>, ng: usize) -> DiscretisedRoi {
    DiscretisedRoi { morphological: levels.mapv(|g| g > 0), levels, ng, spacing: [1.0; 3] }
}

/// A Fortran-layout copy of any view (the radx storage convention).
fn fortran(view: ArrayView3<'_, u16>) -> Array3<u16> {
    Array3::from_shape_fn(view.dim().f(), |index| view[index])
}

/// Random volumes up to 8×8×6 with Ng ≤ 6; level 0 marks voxels outside the ROI (about a
/// third of them, so masks have holes, islands and empty slices).
fn volumes() -> impl Strategy<Value = DiscretisedRoi> {
    (1usize..=8, 1usize..=8, 1usize..=6, 1usize..=6).prop_flat_map(|(nx, ny, nz, ng)| {
        let level = prop_oneof![1 => Just(0u16), 2 => 1..=ng as u16];
        proptest::collection::vec(level, nx * ny * nz).prop_map(move |values| {
            let levels = Array3::from_shape_vec((nx, ny, nz).f(), values).expect("shape matches");
            roi_of(levels, ng)
        })
    })
}

/// Direct count of the ordered pairs (p, p + δ·m) inside the ROI, by plain indexing:
/// `pairs[(i-1)*ng + (j-1)]`; restricted to slice `z` when given.
fn naive_pairs(roi: &DiscretisedRoi, direction: [i32; 3], distance: usize, slice: Option<usize>) -> Vec<f64> {
    let ng = roi.ng;
    let mut pairs = vec![0.0; ng * ng];
    let offset = offsets(direction, distance);
    for ((x, y, z), &a) in roi.levels.indexed_iter() {
        if a == 0 || slice.is_some_and(|k| k != z) {
            continue;
        }
        let neighbour = [x as isize + offset[0], y as isize + offset[1], z as isize + offset[2]];
        let Some(&b) = (neighbour.iter().all(|&c| c >= 0))
            .then(|| roi.levels.get([neighbour[0] as usize, neighbour[1] as usize, neighbour[2] as usize]))
            .flatten()
        else {
            continue;
        };
        if b > 0 {
            pairs[(a as usize - 1) * ng + b as usize - 1] += 1.0;
        }
    }
    pairs
}

/// Direct count of the runs along `direction`: ROI voxels whose predecessor is outside the
/// array, outside the ROI or of another level (restricted to slice `z` when given).
fn naive_run_count(roi: &DiscretisedRoi, direction: [i32; 3], slice: Option<usize>) -> f64 {
    let mut runs = 0.0;
    for ((x, y, z), &a) in roi.levels.indexed_iter() {
        if a == 0 || slice.is_some_and(|k| k != z) {
            continue;
        }
        let previous = [
            x as isize - direction[0] as isize,
            y as isize - direction[1] as isize,
            z as isize - direction[2] as isize,
        ];
        let same = previous.iter().all(|&c| c >= 0)
            && roi.levels.get([previous[0] as usize, previous[1] as usize, previous[2] as usize]) == Some(&a);
        if !same {
            runs += 1.0;
        }
    }
    runs
}

/// Every run along `direction`, found by walking from each run's first voxel (restricted to
/// slice `z` when given): `(grey level, length) → count`.
fn naive_runs(roi: &DiscretisedRoi, direction: [i32; 3], slice: Option<usize>) -> BTreeMap<(usize, u64), f64> {
    let level_at = |p: [isize; 3]| -> u16 {
        if p.iter().any(|&c| c < 0) || slice.is_some_and(|k| p[2] != k as isize) {
            return 0;
        }
        roi.levels.get([p[0] as usize, p[1] as usize, p[2] as usize]).copied().unwrap_or(0)
    };
    let step = |p: [isize; 3], sign: isize| [0, 1, 2].map(|a| p[a] + sign * direction[a] as isize);
    let mut runs = BTreeMap::new();
    for ((x, y, z), &a) in roi.levels.indexed_iter() {
        let here = [x as isize, y as isize, z as isize];
        if a == 0 || slice.is_some_and(|k| k != z) || level_at(step(here, -1)) == a {
            continue;
        }
        let (mut length, mut next) = (1u64, step(here, 1));
        while level_at(next) == a {
            length += 1;
            next = step(next, 1);
        }
        *runs.entry((a as usize, length)).or_insert(0.0) += 1.0;
    }
    runs
}

fn roi_voxels(roi: &DiscretisedRoi, slice: Option<usize>) -> f64 {
    roi.levels.indexed_iter().filter(|&((_, _, z), &g)| g > 0 && slice.is_none_or(|k| k == z)).count() as f64
}

/// Matrices summed as `(grey level, column value) → count`, plus N_v summed: comparable
/// across matrices whose compressed columns differ.
type Summed = (BTreeMap<(usize, u64), f64>, f64);

fn as_map(matrices: &[TextureMatrix]) -> Summed {
    let mut map = BTreeMap::new();
    let mut n_voxels = 0.0;
    for m in matrices {
        for (i, j, count) in m.nonzero() {
            *map.entry((i, j as u64)).or_insert(0.0) += count;
        }
        n_voxels += m.n_voxels;
    }
    (map, n_voxels)
}

fn merged3d(roi: &DiscretisedRoi) -> [Summed; 2] {
    [as_map(&glcm(roi, &GlcmSettings::default(), Aggregation::Merged3d)), as_map(&glrlm(roi, Aggregation::Merged3d))]
}

fn merged25d(roi: &DiscretisedRoi) -> [Summed; 2] {
    [
        as_map(&glcm(roi, &GlcmSettings::default(), Aggregation::Merged2_5d)),
        as_map(&glrlm(roi, Aggregation::Merged2_5d)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn glcm_matches_direct_pair_counts(roi in volumes(), distance in 1usize..=2, symmetric in any::<bool>()) {
        let settings = GlcmSettings { distance, symmetric };
        let ng = roi.ng;
        let expected = |direction, slice| {
            let forward = naive_pairs(&roi, direction, distance, slice);
            let matrix: Vec<f64> = (0..ng * ng)
                .map(|c| forward[c] + if symmetric { forward[(c % ng) * ng + c / ng] } else { 0.0 })
                .collect();
            matrix
        };
        // 3D: one matrix per direction with at least one pair, in DIRECTIONS_3D order.
        let want: Vec<Vec<f64>> =
            DIRECTIONS_3D.iter().map(|&d| expected(d, None)).filter(|m| m.iter().any(|&c| c > 0.0)).collect();
        let got: Vec<Vec<f64>> =
            glcm(&roi, &settings, Aggregation::Avg3d).iter().map(|m| m.counts.iter().copied().collect()).collect();
        prop_assert_eq!(&got, &want);
        // 2D: per slice, per in-plane direction.
        let want: Vec<Vec<f64>> = (0..roi.levels.dim().2)
            .flat_map(|z| DIRECTIONS_2D.iter().map(move |&d| (d, z)))
            .map(|(d, z)| expected(d, Some(z)))
            .filter(|m| m.iter().any(|&c| c > 0.0))
            .collect();
        let got: Vec<Vec<f64>> =
            glcm(&roi, &settings, Aggregation::Avg2d).iter().map(|m| m.counts.iter().copied().collect()).collect();
        prop_assert_eq!(&got, &want);
    }

    #[test]
    fn symmetric_glcm_is_symmetric_with_twice_the_pair_count(roi in volumes()) {
        for aggregation in Aggregation::ALL {
            for m in glcm(&roi, &GlcmSettings::default(), aggregation) {
                prop_assert_eq!(&m.counts, &m.counts.t());
                prop_assert!(m.total() > 0.0 && m.total() % 2.0 == 0.0);
                prop_assert_eq!(m.col_values.len(), roi.ng);
            }
        }
        for (m, d) in glcm(&roi, &GlcmSettings::default(), Aggregation::Avg3d).iter().zip(
            DIRECTIONS_3D.iter().filter(|&&d| naive_pairs(&roi, d, 1, None).iter().sum::<f64>() > 0.0),
        ) {
            prop_assert_eq!(m.total(), 2.0 * naive_pairs(&roi, *d, 1, None).iter().sum::<f64>());
        }
    }

    #[test]
    fn run_length_matrices_match_runs_walked_one_by_one(roi in volumes()) {
        for (m, &d) in glrlm(&roi, Aggregation::Avg3d).iter().zip(&DIRECTIONS_3D) {
            prop_assert_eq!(as_map(std::slice::from_ref(m)).0, naive_runs(&roi, d, None), "direction {:?}", d);
        }
        let slices: Vec<usize> = (0..roi.levels.dim().2).filter(|&z| roi_voxels(&roi, Some(z)) > 0.0).collect();
        for (n, m) in glrlm(&roi, Aggregation::Avg2d).iter().enumerate() {
            let (z, d) = (slices[n / 4], DIRECTIONS_2D[n % 4]);
            prop_assert_eq!(as_map(std::slice::from_ref(m)).0, naive_runs(&roi, d, Some(z)), "slice {} direction {:?}", z, d);
        }
    }

    #[test]
    fn directions_built_together_equal_built_one_by_one(roi in volumes(), slice in proptest::option::of(0usize..6)) {
        let settings = GlcmSettings::default();
        let (directions, slice) = match slice {
            Some(z) => (&DIRECTIONS_2D[..], Some(z)),
            None => (&DIRECTIONS_3D[..], None),
        };
        let alone: Vec<_> = directions.iter().map(|&d| glcm_single(&roi, &settings, slice, d)).collect();
        for parallel in [true, false] {
            prop_assert_eq!(&glcm_directions(&roi, &settings, slice, directions, parallel), &alone);
        }
        let alone: Vec<_> = directions.iter().map(|&d| glrlm_single(&roi, slice, d)).collect();
        for parallel in [true, false] {
            prop_assert_eq!(&glrlm_directions(&roi, slice, directions, parallel), &alone);
        }
    }

    #[test]
    fn runs_cover_every_roi_voxel_once_per_direction(roi in volumes()) {
        let covered = |m: &TextureMatrix| -> f64 {
            m.counts.outer_iter().map(|row| row.iter().zip(&m.col_values).map(|(c, len)| c * len).sum::<f64>()).sum()
        };
        // 3D: every direction's runs tile the ROI.
        let all = roi_voxels(&roi, None);
        let mats = glrlm(&roi, Aggregation::Avg3d);
        prop_assert_eq!(mats.len(), if all > 0.0 { 13 } else { 0 });
        for (m, &d) in mats.iter().zip(&DIRECTIONS_3D) {
            prop_assert_eq!(covered(m), all);
            prop_assert_eq!(m.n_voxels, all);
            prop_assert_eq!(m.total(), naive_run_count(&roi, d, None));
            prop_assert!(m.col_values.windows(2).all(|w| w[0] < w[1]));
        }
        // 2D: per non-empty slice, per in-plane direction.
        let slices: Vec<usize> = (0..roi.levels.dim().2).filter(|&z| roi_voxels(&roi, Some(z)) > 0.0).collect();
        let mats = glrlm(&roi, Aggregation::Avg2d);
        prop_assert_eq!(mats.len(), 4 * slices.len());
        for (n, m) in mats.iter().enumerate() {
            let z = slices[n / 4];
            prop_assert_eq!(covered(m), roi_voxels(&roi, Some(z)));
            prop_assert_eq!(m.n_voxels, roi_voxels(&roi, Some(z)));
            prop_assert_eq!(m.total(), naive_run_count(&roi, DIRECTIONS_2D[n % 4], Some(z)));
        }
    }

    #[test]
    fn merged_matrices_are_sums_of_directional_ones(roi in volumes()) {
        let families: [&dyn Fn(Aggregation) -> Vec<TextureMatrix>; 2] =
            [&|a| glcm(&roi, &GlcmSettings::default(), a), &|a| glrlm(&roi, a)];
        for build in families {
            prop_assert_eq!(as_map(&build(Aggregation::Merged3d)), as_map(&build(Aggregation::Avg3d)));
            let merged = as_map(&build(Aggregation::Merged2_5d));
            prop_assert_eq!(&merged, &as_map(&build(Aggregation::Avg2d)));
            prop_assert_eq!(&merged, &as_map(&build(Aggregation::SliceMerged2d)));
            prop_assert_eq!(&merged, &as_map(&build(Aggregation::DirectionMerged2_5d)));
            prop_assert!(build(Aggregation::Merged3d).len() <= 1 && build(Aggregation::Merged2_5d).len() <= 1);
        }
    }

    #[test]
    fn merged_matrices_are_invariant_under_rotation_flip_translation_and_layout(
        roi in volumes(),
        pad in [0usize..3, 0..3, 0..3, 0..3, 0..3, 0..3],
    ) {
        let reference3d = merged3d(&roi);
        let reference25d = merged25d(&roi);
        let levels = roi.levels.view();
        let ng = roi.ng;
        // In-plane 90° rotation: swap x and y, then flip the new x.
        let mut rotated = levels.permuted_axes([1, 0, 2]);
        rotated.invert_axis(Axis(0));
        let rotated = roi_of(fortran(rotated), ng);
        prop_assert_eq!(&merged3d(&rotated), &reference3d);
        prop_assert_eq!(&merged25d(&rotated), &reference25d);
        // Flips of each axis.
        for axis in 0..3 {
            let mut flipped = levels;
            flipped.invert_axis(Axis(axis));
            let flipped = roi_of(fortran(flipped), ng);
            prop_assert_eq!(&merged3d(&flipped), &reference3d);
            prop_assert_eq!(&merged25d(&flipped), &reference25d);
        }
        // Swapping x and z maps the 13 directions onto themselves (3D only).
        let swapped = roi_of(fortran(levels.permuted_axes([2, 1, 0])), ng);
        prop_assert_eq!(&merged3d(&swapped), &reference3d);
        // Translation: zero padding (outside the ROI) on every side.
        let (nx, ny, nz) = roi.levels.dim();
        let mut padded = Array3::<u16>::zeros((nx + pad[0] + pad[1], ny + pad[2] + pad[3], nz + pad[4] + pad[5]).f());
        padded.slice_mut(s![pad[0]..pad[0] + nx, pad[2]..pad[2] + ny, pad[4]..pad[4] + nz]).assign(&roi.levels);
        let padded = roi_of(padded, ng);
        prop_assert_eq!(&merged3d(&padded), &reference3d);
        prop_assert_eq!(&merged25d(&padded), &reference25d);
        // Memory layout: the same voxels stored z-fastest give the same matrices, bit for bit.
        let c_order = roi_of(Array3::from_shape_fn(roi.levels.dim(), |index| roi.levels[index]), ng);
        for aggregation in Aggregation::ALL {
            prop_assert_eq!(glcm(&c_order, &GlcmSettings::default(), aggregation), glcm(&roi, &GlcmSettings::default(), aggregation));
            prop_assert_eq!(glrlm(&c_order, aggregation), glrlm(&roi, aggregation));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn results_do_not_depend_on_the_thread_count(roi in volumes()) {
        let pool = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        let (one, two) = (pool(1), pool(2));
        for aggregation in Aggregation::ALL {
            let settings = GlcmSettings::default();
            prop_assert_eq!(one.install(|| glcm(&roi, &settings, aggregation)), two.install(|| glcm(&roi, &settings, aggregation)));
            prop_assert_eq!(one.install(|| glrlm(&roi, aggregation)), two.install(|| glrlm(&roi, aggregation)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Building several aggregations at once (sharing their directional counts) gives each
    /// aggregation's matrices exactly as building it alone, for any subset and order.
    #[test]
    fn aggregations_built_together_equal_built_alone(
        roi in volumes(),
        picks in proptest::sample::subsequence(Aggregation::ALL.to_vec(), 1..=6),
        reversed in any::<bool>(),
    ) {
        let mut wanted = picks;
        if reversed {
            wanted.reverse();
        }
        let settings = GlcmSettings { distance: 1, symmetric: true };
        let together = glcm_aggregations(&roi, &settings, &wanted);
        let runs = glrlm_aggregations(&roi, &wanted);
        for (k, &a) in wanted.iter().enumerate() {
            prop_assert_eq!(&together[k], &glcm(&roi, &settings, a), "GLCM {:?}", a);
            prop_assert_eq!(&runs[k], &glrlm(&roi, a), "GLRLM {:?}", a);
        }
    }
}
