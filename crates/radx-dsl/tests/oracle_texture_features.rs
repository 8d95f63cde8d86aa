//! IBSI digital phantom: the GLRLM, GLSZM, GLDZM, NGTDM and NGLDM families of `features/`
//! evaluated on the published 3D texture matrices (IBSI manual ch. 6) and compared with every
//! reference value of the matching aggregation (IBSI manual ch. 3 tables): IAZD (3D merged)
//! for the GLRLM, KOBO (one 3D matrix) for the zone and neighbourhood families.

mod common;
use common::*;
use radx_dsl::{CompiledFile, NoBuiltins, Registry, SourceData, compile};

/// The digital phantom has 74 ROI voxels and grey levels 1..6 (2 and 5 absent).
const PHANTOM_VOXELS: f64 = 74.0;
const PHANTOM_LEVELS: usize = 6;
/// Number of 3D directions merged into the IAZD run length matrix.
const DIRECTIONS_3D: f64 = 13.0;

fn compile_feature_file(name: &str) -> CompiledFile {
    let text = read_feature_file(name);
    compile(&format!("features/{name}"), &text, &Registry::standard()).unwrap_or_else(|d| panic!("{d}"))
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
