//! Invariants of the zone and neighbourhood matrices (GLSZM, GLDZM, NGTDM, NGLDM) on
//! small random volumes (up to 8×8×6 voxels, random masks, up to 5 grey levels):
//! voxel bookkeeping, invariance under rotations, flips and translation, 2.5D = Σ 2D,
//! identical results for 1 and 2 threads, and (with the GLCM and GLRLM too) no change
//! when the ROI is cut to its voxels' box.

use std::collections::BTreeMap;

use ndarray::{Array3, ShapeBuilder, s};
use proptest::prelude::*;
use radx_core::Aggregation;
use radx_core::matrix::gldzm::gldzm;
use radx_core::matrix::glszm::{glszm, glszm_and_gldzm};
use radx_core::matrix::ngldm::{NgldmSettings, ngldm, ngldm_over_offsets};
use radx_core::matrix::ngtdm::{ngtdm, ngtdm_over_offsets};
use radx_core::matrix::{DiscretisedRoi, Ngtdm, TextureMatrix};

/// A random ROI: levels `0..=ng` (0 = outside the intensity mask) and a morphological
/// mask that contains the intensity mask plus some extra voxels (as re-segmentation leaves it).
fn roi_strategy() -> impl Strategy<Value = DiscretisedRoi> {
    (1usize..=8, 1usize..=8, 1usize..=6, 1usize..=5).prop_flat_map(|(nx, ny, nz, ng)| {
        let n = nx * ny * nz;
        (proptest::collection::vec(0..=ng as u16, n), proptest::collection::vec(prop::bool::weighted(0.3), n)).prop_map(
            move |(levels, extra)| {
                let levels = Array3::from_shape_vec((nx, ny, nz).f(), levels).unwrap();
                let extra = Array3::from_shape_vec((nx, ny, nz).f(), extra).unwrap();
                let morphological = ndarray::Zip::from(&levels).and(&extra).map_collect(|&l, &e| l > 0 || e);
                DiscretisedRoi { levels, ng, morphological, spacing: [1.0, 1.0, 1.0] }
            },
        )
    })
}

fn roi_voxels(roi: &DiscretisedRoi) -> f64 {
    roi.levels.iter().filter(|&&l| l > 0).count() as f64
}

/// `roi` with axes permuted (`perm`), axes flipped (`flip`, after permuting), then padded
/// with `pad` empty voxels before each axis and `pad` after it.
fn transformed(roi: &DiscretisedRoi, perm: [usize; 3], flip: [bool; 3], pad: [usize; 3]) -> DiscretisedRoi {
    fn apply<T: Clone + Default>(a: &Array3<T>, perm: [usize; 3], flip: [bool; 3], pad: [usize; 3]) -> Array3<T> {
        let mut view = a.view().permuted_axes(perm);
        for (axis, &f) in flip.iter().enumerate() {
            if f {
                view.invert_axis(ndarray::Axis(axis));
            }
        }
        let (nx, ny, nz) = view.dim();
        let mut out = Array3::default((nx + 2 * pad[0], ny + 2 * pad[1], nz + 2 * pad[2]).f());
        out.slice_mut(s![pad[0]..pad[0] + nx, pad[1]..pad[1] + ny, pad[2]..pad[2] + nz]).assign(&view);
        out
    }
    DiscretisedRoi {
        levels: apply(&roi.levels, perm, flip, pad),
        ng: roi.ng,
        morphological: apply(&roi.morphological, perm, flip, pad),
        spacing: roi.spacing,
    }
}

const PERMUTATIONS: [[usize; 3]; 6] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

fn sparse(m: &TextureMatrix) -> BTreeMap<(usize, u64), f64> {
    m.nonzero().into_iter().map(|(i, j, c)| ((i, j as u64), c)).collect()
}

fn sum_sparse(ms: &[TextureMatrix]) -> BTreeMap<(usize, u64), f64> {
    let mut out = BTreeMap::new();
    for m in ms {
        for (key, count) in sparse(m) {
            *out.entry(key).or_default() += count;
        }
    }
    out
}

fn all_matrices(roi: &DiscretisedRoi, aggregation: Aggregation, settings: NgldmSettings) -> AllMatrices {
    AllMatrices {
        glszm: glszm(roi, aggregation).unwrap(),
        gldzm: gldzm(roi, aggregation).unwrap(),
        ngtdm: ngtdm(roi, aggregation).unwrap(),
        ngldm: ngldm(roi, settings, aggregation).unwrap(),
    }
}

#[derive(Debug, PartialEq)]
struct AllMatrices {
    glszm: Vec<TextureMatrix>,
    gldzm: Vec<TextureMatrix>,
    ngtdm: Vec<Ngtdm>,
    ngldm: Vec<TextureMatrix>,
}

/// NGTDMs agree: n exactly, s up to summation-order rounding.
fn ngtdm_close(a: &[Ngtdm], b: &[Ngtdm]) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        prop_assert_eq!(&x.n, &y.n);
        prop_assert_eq!(x.n_voxels, y.n_voxels);
        for (p, q) in x.s.iter().zip(&y.s) {
            prop_assert!((p - q).abs() <= 1e-9 * (1.0 + p.abs()), "s {} vs {}", p, q);
        }
    }
    Ok(())
}

/// ROI voxels with at least one ROI voxel at Chebyshev distance 1 (in their slice unless
/// `volumetric`): the NGTDM's N_v,c, counted directly.
fn with_a_neighbour(roi: &DiscretisedRoi, volumetric: bool) -> f64 {
    let (nx, ny, nz) = roi.levels.dim();
    let inside = |x: isize, y: isize, z: isize| {
        (0..nx as isize).contains(&x)
            && (0..ny as isize).contains(&y)
            && (0..nz as isize).contains(&z)
            && roi.levels[[x as usize, y as usize, z as usize]] > 0
    };
    let dz_reach: isize = if volumetric { 1 } else { 0 };
    let mut count = 0.0;
    for ((x, y, z), &level) in roi.levels.indexed_iter() {
        let (x, y, z) = (x as isize, y as isize, z as isize);
        let has_neighbour = (-dz_reach..=dz_reach).any(|dz| {
            (-1..=1).any(|dy| (-1..=1).any(|dx| (dx, dy, dz) != (0, 0, 0) && inside(x + dx, y + dy, z + dz)))
        });
        if level > 0 && has_neighbour {
            count += 1.0;
        }
    }
    count
}

fn settings_strategy() -> impl Strategy<Value = NgldmSettings> {
    (0u16..=2, 1usize..=2).prop_map(|(alpha, distance)| NgldmSettings { alpha, distance })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn voxel_bookkeeping(roi in roi_strategy(), settings in settings_strategy()) {
        let voxels = roi_voxels(&roi);
        for aggregation in Aggregation::ZONE {
            let all = all_matrices(&roi, aggregation, settings);
            // GLSZM: each zone's size counted once per zone covers every ROI voxel once.
            let mut covered = 0.0;
            for m in &all.glszm {
                let in_zones: f64 = m.nonzero().iter().map(|(_, size, count)| size * count).sum();
                prop_assert_eq!(in_zones, m.n_voxels);
                covered += m.n_voxels;
            }
            prop_assert_eq!(covered, voxels);
            // GLDZM counts the same zones, and the same voxels.
            prop_assert_eq!(all.gldzm.len(), all.glszm.len());
            for (d, z) in all.gldzm.iter().zip(&all.glszm) {
                prop_assert_eq!(d.total(), z.total());
                prop_assert_eq!(d.n_voxels, z.n_voxels);
                prop_assert!(d.col_values.first().is_none_or(|&first| first >= 1.0), "distances start at 1");
            }
            // NGLDM: every ROI voxel is a centre with dependence >= 1.
            let centres: f64 = all.ngldm.iter().map(|m| m.total()).sum();
            prop_assert_eq!(centres, voxels);
            for m in &all.ngldm {
                prop_assert_eq!(m.total(), m.n_voxels);
                prop_assert!(m.col_values.first().is_none_or(|&first| first >= 1.0));
            }
            // NGTDM: exactly the voxels with an ROI neighbour count (in the slice for 2D and
            // 2.5D, in the volume for 3D), by a direct scan.
            let counted: f64 = all.ngtdm.iter().map(|m| m.n_voxels).sum();
            prop_assert_eq!(counted, with_a_neighbour(&roi, aggregation == Aggregation::Merged3d));
            for m in &all.ngtdm {
                prop_assert_eq!(m.n_voxels, m.n.iter().sum::<f64>());
                prop_assert!(m.s.iter().all(|&s| s >= 0.0));
            }
        }
    }

    #[test]
    fn merged_2_5d_is_the_sum_of_the_2d_matrices(roi in roi_strategy(), settings in settings_strategy()) {
        let per_slice = all_matrices(&roi, Aggregation::Avg2d, settings);
        let merged = all_matrices(&roi, Aggregation::Merged2_5d, settings);
        for (slices, one, family) in [
            (&per_slice.glszm, &merged.glszm, "glszm"),
            (&per_slice.gldzm, &merged.gldzm, "gldzm"),
            (&per_slice.ngldm, &merged.ngldm, "ngldm"),
        ] {
            prop_assert_eq!(one.len(), usize::from(!slices.is_empty()), "{}", family);
            if let Some(m) = one.first() {
                prop_assert_eq!(sparse(m), sum_sparse(slices), "{}", family);
                prop_assert_eq!(m.n_voxels, slices.iter().map(|s| s.n_voxels).sum::<f64>());
            }
        }
        prop_assert_eq!(merged.ngtdm.len(), usize::from(!per_slice.ngtdm.is_empty()));
        if let Some(m) = merged.ngtdm.first() {
            for level in 0..roi.ng {
                // Summed in slice order, exactly as the builder does: bit-identical.
                prop_assert_eq!(m.n[level], per_slice.ngtdm.iter().map(|s| s.n[level]).sum::<f64>());
                prop_assert_eq!(m.s[level], per_slice.ngtdm.iter().fold(0.0, |acc, s| acc + s.s[level]));
            }
        }
    }

    #[test]
    fn volumetric_matrices_ignore_rotation_flip_and_translation(
        roi in roi_strategy(),
        settings in settings_strategy(),
        perm in proptest::sample::select(PERMUTATIONS.to_vec()),
        flip in any::<[bool; 3]>(),
        pad in [0usize..=2, 0usize..=2, 0usize..=2],
    ) {
        let moved = transformed(&roi, perm, flip, pad);
        let before = all_matrices(&roi, Aggregation::Merged3d, settings);
        let after = all_matrices(&moved, Aggregation::Merged3d, settings);
        prop_assert_eq!(&before.glszm, &after.glszm);
        prop_assert_eq!(&before.gldzm, &after.gldzm);
        prop_assert_eq!(&before.ngldm, &after.ngldm);
        ngtdm_close(&before.ngtdm, &after.ngtdm)?;
    }

    #[test]
    fn slice_matrices_ignore_in_plane_rotation_flip_and_translation(
        roi in roi_strategy(),
        settings in settings_strategy(),
        swap_xy in any::<bool>(),
        flip in any::<[bool; 2]>(),
        pad in [0usize..=2, 0usize..=2, 0usize..=2],
    ) {
        // Permuting x and y and flipping them maps each slice onto itself; padding z only
        // adds empty slices, which are left out.
        let perm = if swap_xy { [1, 0, 2] } else { [0, 1, 2] };
        let moved = transformed(&roi, perm, [flip[0], flip[1], false], pad);
        for aggregation in [Aggregation::Avg2d, Aggregation::Merged2_5d] {
            let before = all_matrices(&roi, aggregation, settings);
            let after = all_matrices(&moved, aggregation, settings);
            prop_assert_eq!(&before.glszm, &after.glszm);
            prop_assert_eq!(&before.gldzm, &after.gldzm);
            prop_assert_eq!(&before.ngldm, &after.ngldm);
            ngtdm_close(&before.ngtdm, &after.ngtdm)?;
        }
    }

    #[test]
    fn c_order_storage_gives_the_same_matrices(roi in roi_strategy(), settings in settings_strategy()) {
        let c_order = DiscretisedRoi {
            levels: roi.levels.as_standard_layout().into_owned(),
            morphological: roi.morphological.as_standard_layout().into_owned(),
            ..roi.clone()
        };
        for aggregation in Aggregation::ZONE {
            prop_assert_eq!(all_matrices(&roi, aggregation, settings), all_matrices(&c_order, aggregation, settings));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn one_and_two_threads_give_identical_results(roi in roi_strategy(), settings in settings_strategy()) {
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        for aggregation in Aggregation::ZONE {
            let a = one.install(|| all_matrices(&roi, aggregation, settings));
            let b = two.install(|| all_matrices(&roi, aggregation, settings));
            prop_assert_eq!(a, b);
        }
    }
}

#[test]
fn large_uniform_block_keeps_one_column_per_zone_size() {
    // A 40×40×40 block of one grey level is a single zone of 64 000 voxels: one column,
    // not 64 000. Its distance to the edge is 1 (its outer layer touches the border).
    let levels = Array3::from_elem((40, 40, 40).f(), 1u16);
    let morphological = Array3::from_elem((40, 40, 40).f(), true);
    let roi = DiscretisedRoi { levels, ng: 2, morphological, spacing: [1.0; 3] };
    let size = glszm(&roi, Aggregation::Merged3d).unwrap();
    assert_eq!((size[0].col_values.clone(), size[0].counts.shape()), (vec![64_000.0], &[2, 1][..]));
    let distance = gldzm(&roi, Aggregation::Merged3d).unwrap();
    assert_eq!(distance[0].col_values, vec![1.0]);
    // Interior voxels have all 26 neighbours dependent: k = 27; corners have 7 (+1 = 8).
    let dependence = ngldm(&roi, NgldmSettings::default(), Aggregation::Merged3d).unwrap();
    assert_eq!(dependence[0].col_values.first(), Some(&8.0));
    assert_eq!(dependence[0].col_values.last(), Some(&27.0));
    assert_eq!(dependence[0].counts[[0, dependence[0].col_values.len() - 1]], 38.0 * 38.0 * 38.0);
}

#[test]
fn grey_level_above_ng_is_an_error_not_a_panic() {
    let levels = Array3::from_elem((2, 2, 2).f(), 3u16);
    let morphological = Array3::from_elem((2, 2, 2).f(), true);
    let roi = DiscretisedRoi { levels, ng: 2, morphological, spacing: [1.0; 3] };
    for aggregation in Aggregation::ZONE {
        assert!(glszm(&roi, aggregation).is_err());
        assert!(gldzm(&roi, aggregation).is_err());
        assert!(ngtdm(&roi, aggregation).is_err());
        assert!(ngldm(&roi, NgldmSettings::default(), aggregation).is_err());
    }
    let zero_distance = NgldmSettings { alpha: 0, distance: 0 };
    let ok_roi = DiscretisedRoi { ng: 3, ..roi };
    assert!(ngldm(&ok_roi, zero_distance, Aggregation::Merged3d).is_err());
}

#[test]
fn intensity_voxel_outside_the_morphological_mask_is_an_error() {
    let levels = Array3::from_elem((2, 2, 2).f(), 1u16);
    let mut morphological = Array3::from_elem((2, 2, 2).f(), true);
    morphological[[1, 0, 1]] = false;
    let roi = DiscretisedRoi { levels, ng: 1, morphological, spacing: [1.0; 3] };
    let message = gldzm(&roi, Aggregation::Merged3d).unwrap_err().to_string();
    assert!(message.contains("[1, 0, 1]"), "{message}");
}

#[test]
fn empty_roi_gives_no_matrices() {
    let levels = Array3::<u16>::zeros((3, 3, 2).f());
    let morphological = Array3::from_elem((3, 3, 2).f(), false);
    let roi = DiscretisedRoi { levels, ng: 4, morphological, spacing: [1.0; 3] };
    for aggregation in Aggregation::ZONE {
        let all = all_matrices(&roi, aggregation, NgldmSettings::default());
        assert!(all.glszm.is_empty() && all.gldzm.is_empty() && all.ngtdm.is_empty() && all.ngldm.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The GLSZM and GLDZM built from one zone search equal each family built alone.
    #[test]
    fn zone_families_built_together_equal_built_alone(roi in roi_strategy()) {
        let wanted = Aggregation::ZONE.to_vec();
        let (sizes, distances) = glszm_and_gldzm(&roi, &wanted).unwrap();
        for (k, &a) in wanted.iter().enumerate() {
            prop_assert_eq!(&sizes[k], &glszm(&roi, a).unwrap(), "GLSZM {:?}", a);
            prop_assert_eq!(&distances[k], &gldzm(&roi, a).unwrap(), "GLDZM {:?}", a);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Cutting a ROI to the box of its voxels (as the extractor does before building
    /// textures) leaves every matrix of every family and aggregation bit for bit the same.
    #[test]
    fn cropping_to_the_voxels_changes_no_matrix(
        roi in roi_strategy(),
        pad in (0usize..3, 0usize..3, 0usize..3),
        settings in settings_strategy(),
    ) {
        use radx_core::matrix::glcm::{GlcmSettings, glcm};
        use radx_core::matrix::glrlm::glrlm;
        let padded = transformed(&roi, [0, 1, 2], [false; 3], [pad.0, pad.1, pad.2]);
        let cropped = padded.cropped_to_voxels();
        let voxels = padded.morphological.iter().filter(|&&m| m).count();
        if voxels > 0 {
            // The box of the voxels: at least one voxel on each face.
            let dims = cropped.levels.dim();
            prop_assert!(dims.0 <= roi.levels.dim().0 && dims.1 <= roi.levels.dim().1 && dims.2 <= roi.levels.dim().2);
        }
        for aggregation in Aggregation::ZONE {
            prop_assert_eq!(all_matrices(&cropped, aggregation, settings), all_matrices(&padded, aggregation, settings));
        }
        for aggregation in Aggregation::ALL {
            let glcm_settings = GlcmSettings::default();
            prop_assert_eq!(glcm(&cropped, &glcm_settings, aggregation), glcm(&padded, &glcm_settings, aggregation));
            prop_assert_eq!(glrlm(&cropped, aggregation), glrlm(&padded, aggregation));
        }
    }
}

/// Every offset of Chebyshev norm 1..=δ (both signs), as PyRadiomics lists its neighbourhoods.
fn box_offsets(distance: i32) -> Vec<[i32; 3]> {
    let mut out = Vec::new();
    for z in -distance..=distance {
        for y in -distance..=distance {
            for x in -distance..=distance {
                if [x, y, z] != [0, 0, 0] {
                    out.push([x, y, z]);
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The neighbourhood listed as offsets (PyRadiomics' `distances` 1..=δ) is the IBSI's box of
    /// radius δ; listing every offset twice doubles each dependence count and leaves the NGTDM.
    #[test]
    fn listed_offsets_reproduce_the_chebyshev_box(roi in roi_strategy(), settings in settings_strategy()) {
        let offsets = box_offsets(settings.distance as i32);
        let twice: Vec<[i32; 3]> = offsets.iter().chain(&offsets).copied().collect();
        for aggregation in [Aggregation::Avg2d, Aggregation::Merged2_5d, Aggregation::Merged3d] {
            let listed = ngldm_over_offsets(&roi, settings.alpha, aggregation, &offsets).unwrap();
            prop_assert_eq!(sum_sparse(&listed), sum_sparse(&ngldm(&roi, settings, aggregation).unwrap()));
            let doubled = ngldm_over_offsets(&roi, settings.alpha, aggregation, &twice).unwrap();
            let halved: Vec<Vec<f64>> = doubled.iter().map(|m| m.col_values.iter().map(|k| (k - 1.0) / 2.0 + 1.0).collect()).collect();
            let single: Vec<Vec<f64>> = listed.iter().map(|m| m.col_values.clone()).collect();
            prop_assert_eq!(halved, single);
            if settings.distance == 1 {
                let ngtdm_listed = ngtdm_over_offsets(&roi, aggregation, &twice).unwrap();
                ngtdm_close(&ngtdm_listed, &ngtdm(&roi, aggregation).unwrap())?;
            }
        }
    }
}
