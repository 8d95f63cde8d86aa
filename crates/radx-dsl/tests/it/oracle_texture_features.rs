//! IBSI digital phantom: the GLRLM, GLSZM, GLDZM, NGTDM and NGLDM families of `features/`
//! evaluated on the published 3D texture matrices (IBSI manual ch. 6) and compared with every
//! reference value of the matching aggregation (IBSI manual ch. 3 tables): IAZD (3D merged)
//! for the GLRLM, KOBO (one 3D matrix) for the zone and neighbourhood families.

use crate::common::*;
use radx_dsl::{CompiledFile, NoBuiltins, SourceData, compile};

/// The digital phantom has 74 ROI voxels and grey levels 1..6 (2 and 5 absent).
const PHANTOM_VOXELS: f64 = 74.0;
const PHANTOM_LEVELS: usize = 6;
/// Number of 3D directions merged into the IAZD run length matrix.
const DIRECTIONS_3D: f64 = 13.0;

fn compile_feature_file(name: &str) -> CompiledFile {
    let text = read_feature_file(name);
    compile(&format!("features/{name}"), &text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"))
}

/// Evaluates `family` of `file` on `source` and checks it against every reference row of
/// (`family`, `aggregation_id`): same number of features as rows, one feature per tag, each
/// within the published tolerance or print rounding.
fn assert_family_matches_reference(
    file: &str,
    family: &str,
    source: &SourceData,
    aggregation_id: &str,
    expected_rows: usize,
) {
    let compiled = compile_feature_file(file);
    let fam = compiled.family(family).unwrap_or_else(|| panic!("{file} defines family {family}"));
    let values = fam.evaluate(source, &NoBuiltins).expect("evaluates");
    let reference = reference_rows(family, aggregation_id);
    assert_eq!(reference.len(), expected_rows, "{family}/{aggregation_id}: reference rows");
    assert!(reference.iter().all(|r| !r.value.is_nan()), "{family}: every row has a reference value");
    assert_eq!(values.len(), expected_rows, "{family}: features defined");
    let mut failures = Vec::new();
    for row in &reference {
        let found: Vec<_> = values.iter().filter(|v| v.tag == row.tag).collect();
        match found.as_slice() {
            [v] if matches_reference(v.value, row) => {}
            [v] => failures
                .push(format!("{} [{}] ({}): got {}, reference {}", v.name, v.tag, row.feature, v.value, row.value)),
            [] => failures.push(format!("no feature tagged {} ({})", row.tag, row.feature)),
            _ => failures.push(format!("several features tagged {}", row.tag)),
        }
    }
    assert!(failures.is_empty(), "{family} mismatches:\n{}", failures.join("\n"));
}

fn phantom_glrlm_merged() -> SourceData {
    // Merging the 13 directional matrices sums their voxel counts too: Nv = 13 × 74 = 962.
    phantom_count_source("glrlm", "3D_directions_merged", "r", "run", PHANTOM_LEVELS, DIRECTIONS_3D * PHANTOM_VOXELS)
}

fn phantom_glszm() -> SourceData {
    phantom_count_source("glszm", "3D", "s", "size", PHANTOM_LEVELS, PHANTOM_VOXELS)
}

fn phantom_gldzm() -> SourceData {
    phantom_count_source("gldzm", "3D", "d", "distance", PHANTOM_LEVELS, PHANTOM_VOXELS)
}

fn phantom_ngldm() -> SourceData {
    phantom_count_source("ngldm", "3D", "s", "dependence", PHANTOM_LEVELS, PHANTOM_VOXELS)
}

/// NGTDM source from per-level (n_i, s_i): p_i = n_i / Nvc, Ngp = #{i : n_i > 0}.
fn ngtdm_source(n: &[f64], s: &[f64]) -> SourceData {
    let nvc: f64 = n.iter().sum();
    let ngp = n.iter().filter(|&&c| c > 0.0).count();
    SourceData::new()
        .with_axis("level", (1..=n.len()).map(|l| l as f64).collect())
        .with_array("n", vec![n.len()], n.to_vec())
        .with_array("s", vec![s.len()], s.to_vec())
        .with_array("p", vec![n.len()], n.iter().map(|c| c / nvc).collect())
        .with_scalar("Ng", n.len() as f64)
        .with_scalar("Nvc", nvc)
        .with_scalar("Ngp", ngp as f64)
}

fn phantom_ngtdm() -> SourceData {
    let mut n = vec![0.0; PHANTOM_LEVELS];
    let mut s = vec![0.0; PHANTOM_LEVELS];
    for (i, _, count, diff) in phantom_matrix("ngtdm", "3D") {
        n[i - 1] = count;
        s[i - 1] = diff;
    }
    ngtdm_source(&n, &s)
}

#[test]
fn glrlm_16_features_match_ibsi_3d_merged() {
    let source = phantom_glrlm_merged();
    // The published merged matrix holds 654 runs; run percentage 654 / 962 = 0.680.
    assert_eq!(source.scalar("Ns"), Some(654.0));
    assert_family_matches_reference("glrlm.radx", "glrlm", &source, "IAZD", 16);
}

#[test]
fn glszm_16_features_match_ibsi_3d() {
    assert_family_matches_reference("glszm.radx", "glszm", &phantom_glszm(), "KOBO", 16);
}

#[test]
fn gldzm_16_features_match_ibsi_3d() {
    assert_family_matches_reference("gldzm.radx", "gldzm", &phantom_gldzm(), "KOBO", 16);
}

#[test]
fn ngtdm_5_features_match_ibsi_3d() {
    let source = phantom_ngtdm();
    // Every ROI voxel of the phantom has an ROI neighbour, so Nvc = Nv = 74; levels 1, 3, 4, 6.
    assert_eq!(source.scalar("Nvc"), Some(PHANTOM_VOXELS));
    assert_eq!(source.scalar("Ngp"), Some(4.0));
    assert_family_matches_reference("ngtdm.radx", "ngtdm", &source, "KOBO", 5);
}

#[test]
fn ngldm_17_features_match_ibsi_3d() {
    let source = phantom_ngldm();
    // Every voxel is the centre of one neighbourhood: Ns = Nv = 74.
    assert_eq!(source.scalar("Ns"), Some(PHANTOM_VOXELS));
    assert_family_matches_reference("ngldm.radx", "ngldm", &source, "KOBO", 17);
}

#[test]
fn every_texture_file_compiles_with_the_standard_registry_and_is_documented() {
    for (file, family, source, count) in [
        ("glrlm.radx", "glrlm", "rlm", 16),
        ("glszm.radx", "glszm", "szm", 16),
        ("gldzm.radx", "gldzm", "dzm", 16),
        ("ngtdm.radx", "ngtdm", "ngt", 5),
        ("ngldm.radx", "ngldm", "ngl", 17),
    ] {
        let compiled = compile_feature_file(file);
        assert_eq!(compiled.families().len(), 1, "{file}: one family");
        let fam = compiled.family(family).unwrap_or_else(|| panic!("{file}: family {family}"));
        assert_eq!(fam.source().name, source, "{file}: source");
        let features: Vec<_> = fam.features().collect();
        assert_eq!(features.len(), count, "{file}: feature count");
        for f in features {
            assert_eq!(f.tag.len(), 4, "{file}: {} has a 4-character IBSI tag", f.name);
            assert!(f.doc.as_deref().is_some_and(|d| !d.trim().is_empty()), "{file}: {} has a doc line", f.name);
            assert!(f.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{}", f.name);
        }
    }
}

// ------------------------------------------------------------ hand-worked small matrices

/// The four count families over (level, second axis), in the order their files declare the
/// features (the NGLDM adds dependence count energy at the end).
const COUNT_FAMILIES: [(&str, &str, &str, &str, &str); 4] = [
    ("glrlm.radx", "glrlm", "rlm", "r", "run"),
    ("glszm.radx", "glszm", "szm", "s", "size"),
    ("gldzm.radx", "gldzm", "dzm", "d", "distance"),
    ("ngldm.radx", "ngldm", "ngl", "s", "dependence"),
];

/// A count source over levels 1..ng and the given second-axis values, counts row-major.
fn count_source(
    array: &'static str,
    second_axis: &'static str,
    ng: usize,
    second: &[f64],
    counts: &[f64],
    nv: f64,
) -> SourceData {
    SourceData::new()
        .with_axis("level", (1..=ng).map(|l| l as f64).collect())
        .with_axis(second_axis, second.to_vec())
        .with_array(array, vec![ng, second.len()], counts.to_vec())
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nv", nv)
        .with_scalar("Ns", counts.iter().sum())
}

fn evaluate(file: &str, family: &str, source: &SourceData) -> Vec<(String, f64)> {
    let compiled = compile_feature_file(file);
    let fam = compiled.family(family).expect("family");
    fam.evaluate(source, &NoBuiltins).expect("evaluates").into_iter().map(|v| (v.name, v.value)).collect()
}

#[test]
fn count_families_on_a_hand_worked_two_entry_matrix() {
    // The row "1 1 2" read along x: one run (zone, …) of level 1 with length (size, …) 2 and
    // one of level 2 with length 1. Nv = 3 voxels, Ns = 2.
    //   short emphasis    (1/2² + 1/1²)/2           = 0.625   long emphasis   (4 + 1)/2 = 2.5
    //   low grey level    (1/1² + 1/2²)/2           = 0.625   high grey level (1 + 4)/2 = 2.5
    //   short-low  (1/(1·4) + 1/(4·1))/2 = 0.25      short-high (1/4 + 4/1)/2 = 2.125
    //   long-low   (4/1 + 1/4)/2         = 2.125     long-high  (1·4 + 4·1)/2 = 4
    //   grey level non-uniformity (1² + 1²)/2 = 1, normalised 2/4 = 0.5; same over lengths
    //   percentage 2/3; grey level variance: μ = 1.5, (0.25 + 0.25)/2 = 0.25; same over lengths
    //   entropy −2·(½ log2 ½) = 1; (NGLDM) energy 2·(½)² = 0.5
    let expected =
        [0.625, 2.5, 0.625, 2.5, 0.25, 2.125, 2.125, 4.0, 1.0, 0.5, 1.0, 0.5, 2.0 / 3.0, 0.25, 0.25, 1.0, 0.5];
    // Level rows 1, 2; second-axis columns 1, 2: level 1 × length 2, level 2 × length 1.
    let counts = [0.0, 1.0, 1.0, 0.0];
    for (file, family, _, array, second_axis) in COUNT_FAMILIES {
        let values = evaluate(file, family, &count_source(array, second_axis, 2, &[1.0, 2.0], &counts, 3.0));
        assert_eq!(values.len(), if family == "ngldm" { 17 } else { 16 }, "{family}: feature count");
        // The expected values follow the shared declaration order; spot-check that order.
        assert!(values[12].0.ends_with("percentage"), "{family}: {}", values[12].0);
        assert!(values[15].0.ends_with("entropy"), "{family}: {}", values[15].0);
        for ((name, got), want) in values.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{family}.{name}: got {got}, want {want}");
        }
    }
}

/// Evaluates ngtdm.radx on per-level (n_i, s_i) and returns the 5 values in file order.
fn ngtdm_values(n: &[f64], s: &[f64]) -> [f64; 5] {
    let values = evaluate("ngtdm.radx", "ngtdm", &ngtdm_source(n, s));
    let names: Vec<_> = values.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["coarseness", "contrast", "busyness", "complexity", "strength"]);
    [values[0].1, values[1].1, values[2].1, values[3].1, values[4].1]
}

fn assert_close(got: [f64; 5], want: [f64; 5]) {
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-12, "feature {k}: got {g}, want {w} (all: {got:?})");
    }
}

#[test]
fn ngtdm_single_level_roi_takes_the_ibsi_degenerate_values() {
    // One level, every voxel's neighbours share it: Σ p s = 0 → coarseness 10^6; Ngp = 1 →
    // contrast 0, busyness 0; complexity has the single term |1 − 1|·… = 0; Σ s = 0 → strength 0.
    assert_close(ngtdm_values(&[10.0], &[0.0]), [1e6, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn ngtdm_two_levels_with_vanishing_busyness_denominator() {
    // n = (2, 1), s = (1, 2): Nvc = 3, p = (2/3, 1/3), Ngp = 2, Σ s = 3, Σ p s = 4/3.
    //   coarseness 1/(4/3) = 0.75
    //   contrast   [2·(2/3)(1/3)·1² / (2·1)] · (3/3) = 2/9
    //   busyness   1·(2/3) = 2·(1/3): denominator 0 with Ngp > 1 → 0
    //   complexity 2 pairs · |1−2|·((2/3)·1 + (1/3)·2)/(2/3 + 1/3) = 8/3, / Nvc → 8/9
    //   strength   2 pairs · (2/3 + 1/3)·1² = 2, / Σ s → 2/3
    assert_close(ngtdm_values(&[2.0, 1.0], &[1.0, 2.0]), [0.75, 2.0 / 9.0, 0.0, 8.0 / 9.0, 2.0 / 3.0]);
}

#[test]
fn ngtdm_double_sums_skip_absent_levels() {
    // Levels 1..3 with level 2 absent: n = (1, 0, 1), s = (2, 0, 2); Nvc = 2, p = (½, 0, ½),
    // Ngp = 2, Σ s = 4, Σ p s = 2.
    //   coarseness 1/2
    //   contrast   [2·(½·½)·2² / (2·1)] · (4/2) = 2
    //   busyness   2 / (|1·½ − 3·½| + |3·½ − 1·½|) = 2/2 = 1
    //   complexity 2 pairs · |1−3|·(½·2 + ½·2)/(½ + ½) = 8, / Nvc → 4
    //   strength   2 pairs · (½ + ½)·2² = 8, / Σ s → 2
    // Including the absent level 2 would add terms to busyness, complexity and strength.
    assert_close(ngtdm_values(&[1.0, 0.0, 1.0], &[2.0, 0.0, 2.0]), [0.5, 2.0, 1.0, 4.0, 2.0]);
}

// ------------------------------------------------------------------------- invariants

mod invariants {
    use super::*;
    use proptest::prelude::*;

    /// A random count matrix over levels 1..ng and second-axis values 1..m (at least one count).
    fn count_matrix() -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
        (1usize..6, 1usize..6).prop_flat_map(|(ng, m)| {
            prop::collection::vec(0u32..20, ng * m)
                .prop_filter("non-empty", |c| c.iter().any(|&x| x > 0))
                .prop_map(move |c| (ng, m, c.into_iter().map(f64::from).collect()))
        })
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Inserting second-axis values that never occur (zero columns) changes nothing: the
        /// host may pass only the lengths that occur, or all of 1..max.
        #[test]
        fn zero_columns_do_not_change_count_features((ng, m, counts) in count_matrix()) {
            // Spread the same columns over 1, 3, 5, … with empty columns 2, 4, … in between.
            let sparse: Vec<f64> = (1..=2 * m).map(|j| j as f64).collect();
            let mut spread = vec![0.0; ng * 2 * m];
            for i in 0..ng {
                for j in 0..m {
                    spread[i * 2 * m + 2 * j] = counts[i * m + j];
                }
            }
            let odd: Vec<f64> = (0..m).map(|j| (2 * j + 1) as f64).collect();
            let nv = counts.iter().sum::<f64>() * 2.0;
            for (file, family, _, array, axis) in COUNT_FAMILIES {
                let compact = evaluate(file, family, &count_source(array, axis, ng, &odd, &counts, nv));
                let padded = evaluate(file, family, &count_source(array, axis, ng, &sparse, &spread, nv));
                for ((name, a), (_, b)) in compact.iter().zip(&padded) {
                    prop_assert!(close(*a, *b), "{}.{}: {} vs {}", family, name, a, b);
                }
            }
        }

        /// Merging c identical matrices (counts and Nv times c) leaves every feature unchanged
        /// except the two un-normalised non-uniformities, which scale by c.
        #[test]
        fn merging_identical_matrices_scales_only_non_uniformity((ng, m, counts) in count_matrix(), c in 2u32..14) {
            let c = f64::from(c);
            let second: Vec<f64> = (1..=m).map(|j| j as f64).collect();
            let merged: Vec<f64> = counts.iter().map(|x| x * c).collect();
            let nv = counts.iter().sum::<f64>() + 3.0;
            for (file, family, _, array, axis) in COUNT_FAMILIES {
                let one = evaluate(file, family, &count_source(array, axis, ng, &second, &counts, nv));
                let many = evaluate(file, family, &count_source(array, axis, ng, &second, &merged, nv * c));
                for ((name, a), (_, b)) in one.iter().zip(&many) {
                    let un_normalised = name.ends_with("non_uniformity");
                    let want = if un_normalised { a * c } else { *a };
                    prop_assert!(close(want, *b), "{}.{}: {} × {} vs {}", family, name, a, c, b);
                }
            }
        }

        /// NGTDM features of any matrix with Nvc > 0 are finite and non-negative, and
        /// coarseness never exceeds the IBSI cap of 10^6.
        #[test]
        fn ngtdm_features_are_finite_and_non_negative(
            cells in prop::collection::vec((0u32..30, 0.0f64..50.0), 1..7)
                .prop_filter("some voxel", |c| c.iter().any(|&(n, _)| n > 0))
        ) {
            // s_i = 0 whenever n_i = 0: a level without voxels has no grey tone differences.
            let n: Vec<f64> = cells.iter().map(|&(n, _)| f64::from(n)).collect();
            let s: Vec<f64> = cells.iter().map(|&(n, s)| if n > 0 { s } else { 0.0 }).collect();
            let values = ngtdm_values(&n, &s);
            for v in values {
                prop_assert!(v.is_finite() && v >= 0.0, "{:?}", values);
            }
            prop_assert!(values[0] <= 1e6);
        }
    }
}
