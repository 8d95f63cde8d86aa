//! Oracle tests for the GLCM and GLRLM builders: the IBSI digital phantom's published texture
//! matrices (`tests/data/ibsi/digital_phantom_texture_matrices.csv`, transcribed from the IBSI
//! manual, section "Digital phantom texture matrices") must be reproduced exactly, and two
//! reference feature values that depend only on matrix totals (GLCM joint maximum, GLRLM run
//! percentage, from `reference_values_digital_phantom.csv`) must match for all six
//! aggregation methods.

use std::collections::BTreeMap;
use std::path::PathBuf;

use nifti::NiftiObject;

use ndarray::{Array3, ShapeBuilder, s};
use radx_core::Aggregation;
use radx_core::iter::{DIRECTIONS_2D, DIRECTIONS_3D};
use radx_core::matrix::glcm::{GlcmSettings, glcm};
use radx_core::matrix::glrlm::glrlm;
use radx_core::matrix::{DiscretisedRoi, TextureMatrix};

type Entries = Vec<(usize, f64, f64)>;
/// (family, kind, slice, direction) → non-zero entries, as listed in the CSV.
type Published = BTreeMap<(String, String, Option<usize>, Option<[i32; 3]>), Entries>;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/ibsi")
}

fn read_nifti(path: PathBuf) -> Array3<f64> {
    let volume = nifti::ReaderOptions::new().read_file(&path).expect("phantom readable").into_volume();
    let dynamic = nifti::IntoNdArray::into_ndarray::<f64>(volume).expect("phantom converts to f64");
    let shape = dynamic.shape().to_vec();
    assert_eq!(shape.len(), 3, "phantom is 3D");
    Array3::from_shape_fn((shape[0], shape[1], shape[2]).f(), |(x, y, z)| dynamic[[x, y, z]])
}

/// The digital phantom as a discretised ROI: its intensities are already the grey levels
/// 1..=6 (IBSI: no discretisation needed, N_g = 6).
fn phantom() -> DiscretisedRoi {
    let image = read_nifti(data_dir().join("digital_phantom/image.nii.gz"));
    let mask = read_nifti(data_dir().join("digital_phantom/mask.nii.gz"));
    assert_eq!(image.dim(), (5, 4, 4));
    // Loader sanity checks from the data README: the out-of-ROI 9 and the known hole.
    assert_eq!(image[[2, 2, 2]], 9.0);
    assert_eq!(mask[[2, 2, 2]], 0.0);
    assert_eq!(mask[[0, 2, 1]], 0.0);
    let levels = Array3::from_shape_fn(
        (5, 4, 4).f(),
        |(x, y, z)| {
            if mask[[x, y, z]] > 0.0 { image[[x, y, z]] as u16 } else { 0 }
        },
    );
    assert_eq!(levels.iter().filter(|&&g| g > 0).count(), 74);
    DiscretisedRoi { morphological: levels.mapv(|g| g > 0), levels, ng: 6, spacing: [2.0; 3] }
}

fn published() -> Published {
    let mut reader = csv::Reader::from_path(data_dir().join("digital_phantom_texture_matrices.csv")).expect("csv");
    let mut out = Published::new();
    for record in reader.records() {
        let r = record.expect("csv record");
        let family = r[0].to_string();
        if family != "glcm" && family != "glrlm" {
            continue;
        }
        let slice = (!r[2].is_empty()).then(|| r[2].parse::<usize>().expect("slice"));
        let direction = (!r[3].is_empty()).then(|| [3, 4, 5].map(|c| r[c].parse::<i32>().expect("direction")));
        let entry = (r[6].parse().expect("i"), r[7].parse().expect("j"), r[8].parse().expect("count"));
        out.entry((family, r[1].to_string(), slice, direction)).or_default().push(entry);
    }
    for entries in out.values_mut() {
        entries.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    }
    out
}

/// Compares each built matrix with the published one under the key `key(index)`; returns the
/// number of matrices compared.
fn compare(
    published: &Published,
    built: &[TextureMatrix],
    key: impl Fn(usize) -> (String, String, Option<usize>, Option<[i32; 3]>),
) -> usize {
    for (index, matrix) in built.iter().enumerate() {
        let k = key(index);
        let expected = published.get(&k).unwrap_or_else(|| panic!("no published matrix for {k:?}"));
        assert_eq!(&matrix.nonzero(), expected, "matrix {k:?}");
    }
    built.len()
}

fn check_family(family: &str, build: impl Fn(Aggregation) -> Vec<TextureMatrix>) {
    let published = published();
    let key = |kind: &str, slice: Option<usize>, direction: Option<[i32; 3]>| {
        (family.to_string(), kind.to_string(), slice, direction)
    };
    let avg2d = build(Aggregation::Avg2d);
    assert_eq!(avg2d.len(), 16, "4 slices × 4 directions, none empty");
    let mut compared = compare(&published, &avg2d, |n| key("2D", Some(n / 4 + 1), Some(DIRECTIONS_2D[n % 4])));
    let slice_merged = build(Aggregation::SliceMerged2d);
    assert_eq!(slice_merged.len(), 4);
    compared += compare(&published, &slice_merged, |n| key("2D_directions_merged", Some(n + 1), None));
    let avg3d = build(Aggregation::Avg3d);
    assert_eq!(avg3d.len(), 13);
    compared += compare(&published, &avg3d, |n| key("3D", None, Some(DIRECTIONS_3D[n])));
    let merged3d = build(Aggregation::Merged3d);
    assert_eq!(merged3d.len(), 1);
    compared += compare(&published, &merged3d, |_| key("3D_directions_merged", None, None));
    let published_count = published.keys().filter(|k| k.0 == family).count();
    assert_eq!(compared, published_count, "every published {family} matrix was compared");
}

#[test]
fn glcm_reproduces_every_published_matrix() {
    let roi = phantom();
    check_family("glcm", |aggregation| glcm(&roi, &GlcmSettings::default(), aggregation));
}

#[test]
fn glrlm_reproduces_every_published_matrix() {
    let roi = phantom();
    check_family("glrlm", |aggregation| glrlm(&roi, aggregation));
}

#[test]
fn glrlm_voxel_counts_per_slice_and_summed_when_merged() {
    // ROI voxels per slice counted by hand from the phantom printout in the data README:
    // slice 1 is full (20), slice 2 misses one voxel (19), slice 3 three (17), slice 4 two (18).
    let roi = phantom();
    let per_slice: Vec<f64> = glrlm(&roi, Aggregation::SliceMerged2d).iter().map(|m| m.n_voxels).collect();
    assert_eq!(per_slice, vec![4.0 * 20.0, 4.0 * 19.0, 4.0 * 17.0, 4.0 * 18.0]);
    let avg2d: Vec<f64> = glrlm(&roi, Aggregation::Avg2d).iter().map(|m| m.n_voxels).collect();
    assert_eq!(&avg2d[..5], &[20.0, 20.0, 20.0, 20.0, 19.0]);
    for m in glrlm(&roi, Aggregation::DirectionMerged2_5d) {
        assert_eq!(m.n_voxels, 74.0);
    }
    assert_eq!(glrlm(&roi, Aggregation::Merged2_5d)[0].n_voxels, 4.0 * 74.0);
    assert_eq!(glrlm(&roi, Aggregation::Merged3d)[0].n_voxels, 13.0 * 74.0);
}

/// Matrix counts per aggregation, including a slice with one isolated ROI voxel: it has no
/// GLCM pair in any direction (its GLCMs are empty and left out) but one run per direction.
#[test]
fn number_of_matrices_per_aggregation() {
    let roi = phantom();
    let expected = [
        (Aggregation::Avg2d, 16, 16),
        (Aggregation::SliceMerged2d, 4, 4),
        (Aggregation::DirectionMerged2_5d, 4, 4),
        (Aggregation::Merged2_5d, 1, 1),
        (Aggregation::Avg3d, 13, 13),
        (Aggregation::Merged3d, 1, 1),
    ];
    for (aggregation, n_glcm, n_glrlm) in expected {
        assert_eq!(glcm(&roi, &GlcmSettings::default(), aggregation).len(), n_glcm, "glcm {aggregation}");
        assert_eq!(glrlm(&roi, aggregation).len(), n_glrlm, "glrlm {aggregation}");
    }

    // Add two slices after the phantom: an empty one (z = 4) and one holding a single ROI
    // voxel (z = 5), far from the phantom so it has no 3D neighbour either.
    let mut levels = Array3::<u16>::zeros((5, 4, 6).f());
    levels.slice_mut(s![.., .., 0..4]).assign(&roi.levels);
    levels[[4, 3, 5]] = 2;
    let padded = DiscretisedRoi { morphological: levels.mapv(|g| g > 0), levels, ng: 6, spacing: [2.0; 3] };
    let expected = [
        (Aggregation::Avg2d, 16, 16 + 4),
        (Aggregation::SliceMerged2d, 4, 4 + 1),
        (Aggregation::DirectionMerged2_5d, 4, 4),
        (Aggregation::Merged2_5d, 1, 1),
        (Aggregation::Avg3d, 13, 13),
        (Aggregation::Merged3d, 1, 1),
    ];
    for (aggregation, n_glcm, n_glrlm) in expected {
        assert_eq!(glcm(&padded, &GlcmSettings::default(), aggregation).len(), n_glcm, "padded glcm {aggregation}");
        assert_eq!(glrlm(&padded, aggregation).len(), n_glrlm, "padded glrlm {aggregation}");
    }
}

/// Reference value and its rounding half-width (half a unit of the last printed digit).
fn reference(feature_key: &str) -> BTreeMap<Aggregation, (f64, f64)> {
    let path = data_dir().join("reference_values_digital_phantom.csv");
    let mut reader = csv::Reader::from_path(path).expect("reference csv");
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let (key, aggregation, value) = (column("feature_key"), column("aggregation"), column("value"));
    let mut out = BTreeMap::new();
    for record in reader.records() {
        let r = record.expect("record");
        if &r[key] != feature_key {
            continue;
        }
        let method = match &r[aggregation] {
            "2D averaged" => Aggregation::Avg2d,
            "2D slice-merged" => Aggregation::SliceMerged2d,
            "2.5D direction-merged" => Aggregation::DirectionMerged2_5d,
            "2.5D merged" => Aggregation::Merged2_5d,
            "3D averaged" => Aggregation::Avg3d,
            "3D merged" => Aggregation::Merged3d,
            other => panic!("unexpected aggregation {other}"),
        };
        let text = &r[value];
        let decimals = text.split('.').nth(1).map_or(0, str::len);
        out.insert(method, (text.parse::<f64>().expect("value"), 0.5 * 10f64.powi(-(decimals as i32))));
    }
    assert_eq!(out.len(), 6, "{feature_key} has a reference for each aggregation");
    out
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let all: Vec<f64> = values.collect();
    all.iter().sum::<f64>() / all.len() as f64
}

#[test]
fn joint_maximum_and_run_percentage_match_the_reference_values() {
    let roi = phantom();
    // Joint maximum (GYBY): max p_ij of each matrix, averaged over the matrices.
    for (aggregation, (value, half_width)) in reference("cm_joint_max") {
        let matrices = glcm(&roi, &GlcmSettings::default(), aggregation);
        let ours = mean(matrices.iter().map(|m| m.counts.fold(0.0f64, |a, &b| a.max(b)) / m.total()));
        assert!((ours - value).abs() <= half_width + 1e-12, "joint max {aggregation}: {ours} vs {value}");
    }
    // Run percentage (9ZK5): N_s / N_v — correct only when N_v is summed on merging.
    for (aggregation, (value, half_width)) in reference("rlm_r_perc") {
        let matrices = glrlm(&roi, aggregation);
        let ours = mean(matrices.iter().map(|m| m.total() / m.n_voxels));
        assert!((ours - value).abs() <= half_width + 1e-12, "run percentage {aggregation}: {ours} vs {value}");
    }
}
