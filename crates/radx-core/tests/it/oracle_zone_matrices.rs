//! Oracle: the GLSZM, GLDZM, NGTDM and NGLDM of the IBSI digital phantom must equal the
//! matrices published in the IBSI 1 manual (chapter "Digital phantom texture matrices"),
//! transcribed in `tests/data/ibsi/digital_phantom_texture_matrices.csv`.
//!
//! The phantom is used as it is: its intensities 1..6 are the grey levels (N_g = 6), the
//! morphological and intensity masks are the same, NGTDM/NGLDM use δ = 1 and NGLDM α = 0.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ndarray::{Array3, Ix3, ShapeBuilder};
use nifti::{IntoNdArray, NiftiObject, ReaderOptions};
use radx_core::Aggregation;
use radx_core::matrix::gldzm::gldzm;
use radx_core::matrix::glszm::glszm;
use radx_core::matrix::ngldm::{NgldmSettings, ngldm};
use radx_core::matrix::ngtdm::ngtdm;
use radx_core::matrix::{DiscretisedRoi, Ngtdm, TextureMatrix};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/ibsi")
}

fn read_nifti(name: &str) -> Array3<f64> {
    let path = data_dir().join("digital_phantom").join(name);
    let volume = ReaderOptions::new().read_file(&path).expect("phantom readable").into_volume();
    let dynamic = volume.into_ndarray::<f64>().expect("phantom converts to f64");
    let fixed = dynamic.into_dimensionality::<Ix3>().expect("phantom is 3D");
    // Store x-fastest, the radx convention.
    let mut out = Array3::zeros(fixed.dim().f());
    out.assign(&fixed);
    out
}

fn phantom() -> DiscretisedRoi {
    let image = read_nifti("image.nii.gz");
    let mask = read_nifti("mask.nii.gz");
    assert_eq!(image.dim(), (5, 4, 4), "phantom shape");
    let morphological = mask.mapv(|m| m > 0.5);
    let mut levels = Array3::<u16>::zeros((5, 4, 4).f());
    for ((index, &value), &inside) in image.indexed_iter().zip(morphological.iter()) {
        if inside {
            levels[index] = value as u16;
        }
    }
    assert_eq!(morphological.iter().filter(|&&m| m).count(), 74, "the phantom ROI has 74 voxels");
    DiscretisedRoi { levels, ng: 6, morphological, spacing: [2.0, 2.0, 2.0] }
}

/// One published matrix: `(i, j) -> count`, and for the NGTDM `i -> (n_i, s_i as printed)`.
#[derive(Debug, Default)]
struct Published {
    entries: BTreeMap<(usize, u64), f64>,
    ngtdm: BTreeMap<usize, (f64, String)>,
}

/// Published matrices of `family`, keyed by slice (1..=4) or `None` for 3D.
fn published(family: &str) -> BTreeMap<Option<usize>, Published> {
    let path = data_dir().join("digital_phantom_texture_matrices.csv");
    let mut reader = csv::Reader::from_path(path).expect("matrix table readable");
    let mut out: BTreeMap<Option<usize>, Published> = BTreeMap::new();
    for record in reader.records() {
        let r = record.expect("well-formed row");
        if &r[0] != family {
            continue;
        }
        let slice = match &r[1] {
            "2D" => Some(r[2].parse::<usize>().expect("slice number")),
            "3D" => None,
            other => panic!("unexpected kind {other} for {family}"),
        };
        let i: usize = r[6].parse().expect("grey level");
        let count: f64 = r[8].parse().expect("count");
        let matrix = out.entry(slice).or_default();
        if family == "ngtdm" {
            matrix.ngtdm.insert(i, (count, r[9].to_string()));
        } else {
            matrix.entries.insert((i, r[7].parse().expect("second index")), count);
        }
    }
    assert_eq!(out.len(), 5, "{family}: four slices and one 3D matrix are published");
    out
}

fn as_map(m: &TextureMatrix) -> BTreeMap<(usize, u64), f64> {
    m.nonzero().into_iter().map(|(i, j, c)| ((i, j as u64), c)).collect()
}

/// Checks 2D (per slice), 2.5D (published 2D matrices summed) and 3D for one family.
fn check_family(family: &str, build: impl Fn(Aggregation) -> Vec<TextureMatrix>) {
    let table = published(family);
    let per_slice = build(Aggregation::Avg2d);
    assert_eq!(per_slice.len(), 4, "{family}: every phantom slice holds ROI voxels");
    let mut summed: BTreeMap<(usize, u64), f64> = BTreeMap::new();
    for (k, matrix) in per_slice.iter().enumerate() {
        let expected = &table[&Some(k + 1)].entries;
        assert_eq!(&as_map(matrix), expected, "{family} 2D slice {}", k + 1);
        for (key, count) in expected {
            *summed.entry(*key).or_default() += count;
        }
    }
    let merged = build(Aggregation::Merged2_5d);
    assert_eq!(merged.len(), 1);
    assert_eq!(as_map(&merged[0]), summed, "{family} 2.5D = sum of the published 2D matrices");
    let volumetric = build(Aggregation::Merged3d);
    assert_eq!(volumetric.len(), 1);
    assert_eq!(as_map(&volumetric[0]), table[&None].entries, "{family} 3D");
    // Column values are increasing (the TextureMatrix contract).
    for m in per_slice.iter().chain(&merged).chain(&volumetric) {
        assert!(m.col_values.windows(2).all(|w| w[0] < w[1]), "{family}: columns increase");
    }
}

#[test]
fn glszm_matches_the_published_matrices() {
    let roi = phantom();
    check_family("glszm", |a| glszm(&roi, a).expect("GLSZM builds"));
    // N_v: 74 ROI voxels in 3D and for the merged slices; each zone's voxels add up to it.
    for aggregation in [Aggregation::Merged2_5d, Aggregation::Merged3d] {
        let m = &glszm(&roi, aggregation).unwrap()[0];
        assert_eq!(m.n_voxels, 74.0);
        let covered: f64 = m.nonzero().iter().map(|(_, size, count)| size * count).sum();
        assert_eq!(covered, 74.0);
    }
}

#[test]
fn gldzm_matches_the_published_matrices() {
    let roi = phantom();
    check_family("gldzm", |a| gldzm(&roi, a).expect("GLDZM builds"));
    assert_eq!(gldzm(&roi, Aggregation::Merged3d).unwrap()[0].n_voxels, 74.0);
}

#[test]
fn ngldm_matches_the_published_matrices() {
    let roi = phantom();
    check_family("ngldm", |a| ngldm(&roi, NgldmSettings::default(), a).expect("NGLDM builds"));
    // Every ROI voxel is a centre: N_s = N_v = 74.
    let m = &ngldm(&roi, NgldmSettings::default(), Aggregation::Merged3d).unwrap()[0];
    assert_eq!((m.total(), m.n_voxels), (74.0, 74.0));
}

/// `|computed − printed| <= half a unit in the printed last decimal`.
fn assert_printed(computed: f64, printed: &str, what: &str) {
    let value: f64 = printed.parse().expect("numeric s");
    let decimals = printed.split_once('.').map_or(0, |(_, frac)| frac.len());
    let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-12;
    assert!((computed - value).abs() <= tolerance, "{what}: computed {computed}, published {printed}");
}

fn check_ngtdm(matrix: &Ngtdm, published: &BTreeMap<usize, (f64, String)>, what: &str) {
    for level in 1..=6 {
        let (n, s) = (matrix.n[level - 1], matrix.s[level - 1]);
        match published.get(&level) {
            Some((count, printed)) => {
                assert_eq!(n, *count, "{what}: n_{level}");
                assert_printed(s, printed, &format!("{what}: s_{level}"));
            }
            None => assert_eq!((n, s), (0.0, 0.0), "{what}: level {level} is not published"),
        }
    }
    assert_eq!(matrix.n_voxels, matrix.n.iter().sum::<f64>(), "{what}: N_v,c = Σ n_i");
}

#[test]
fn ngtdm_matches_the_published_matrices() {
    let roi = phantom();
    let table = published("ngtdm");
    let per_slice = ngtdm(&roi, Aggregation::Avg2d).expect("NGTDM builds");
    assert_eq!(per_slice.len(), 4);
    for (k, matrix) in per_slice.iter().enumerate() {
        check_ngtdm(matrix, &table[&Some(k + 1)].ngtdm, &format!("ngtdm 2D slice {}", k + 1));
    }
    let volumetric = ngtdm(&roi, Aggregation::Merged3d).unwrap();
    assert_eq!(volumetric.len(), 1);
    check_ngtdm(&volumetric[0], &table[&None].ngtdm, "ngtdm 3D");
    // 2.5D: n and s summed over the published slices (s to the printed precision, summed).
    let merged = &ngtdm(&roi, Aggregation::Merged2_5d).unwrap()[0];
    for level in 1..=6 {
        let n: f64 = (1..=4).filter_map(|k| table[&Some(k)].ngtdm.get(&level)).map(|(n, _)| n).sum();
        let s: f64 =
            (1..=4).filter_map(|k| table[&Some(k)].ngtdm.get(&level)).map(|(_, s)| s.parse::<f64>().unwrap()).sum();
        assert_eq!(merged.n[level - 1], n, "ngtdm 2.5D n_{level}");
        assert!((merged.s[level - 1] - s).abs() < 4.0 * 0.5e-3, "ngtdm 2.5D s_{level}");
    }
    // Every phantom voxel has at least one ROI neighbour in 3D: N_v,c = N_v = 74.
    assert_eq!(volumetric[0].n_voxels, 74.0);
}

#[test]
fn directional_aggregations_are_rejected_with_their_name() {
    let roi = phantom();
    for aggregation in [Aggregation::SliceMerged2d, Aggregation::DirectionMerged2_5d, Aggregation::Avg3d] {
        let message = glszm(&roi, aggregation).unwrap_err().to_string();
        assert!(message.contains(aggregation.name()), "{message}");
        assert!(gldzm(&roi, aggregation).is_err());
        assert!(ngtdm(&roi, aggregation).is_err());
        assert!(ngldm(&roi, NgldmSettings::default(), aggregation).is_err());
    }
}
