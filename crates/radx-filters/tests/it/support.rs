//! Shared by the oracle tests: the IBSI-2 phantoms and reference maps (tests/data/ibsi2,
//! CC0) and the IBSI-2 phase 1 pass rule.

use std::path::PathBuf;

use ndarray::Array3;

/// The IBSI-2 test data folder.
pub fn ibsi2_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/ibsi2")
}

/// A digital phantom's image, `[i, j, k]`, and its spacing (2 mm).
pub fn phantom(name: &str) -> (Array3<f64>, [f64; 3]) {
    let path = ibsi2_dir().join("digital_phantoms").join(name).join("image.nii.gz");
    let volume = radx_io::read_volume(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (volume.data, volume.grid.spacing)
}

/// The consensus response map of a phase 1 test, e.g. `"2.b"`.
pub fn reference_map(test_id: &str) -> Array3<f64> {
    let path =
        ibsi2_dir().join("reference_response_maps").join(format!("{}-ValidCRM.nii.gz", test_id.replace('.', "_")));
    radx_io::read_volume(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).data
}

/// The IBSI-2 phase 1 score: the largest |computed − reference| over every voxel, divided
/// by the range of both maps together (`pairwise_diff_RMs_vs_CRM.m`). Passing is ≤ 0.01.
pub fn relative_difference(computed: &Array3<f64>, reference: &Array3<f64>) -> f64 {
    assert_eq!(computed.dim(), reference.dim(), "the response map has the phantom's grid");
    let (mut lo, mut hi, mut worst) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for (&c, &r) in computed.iter().zip(reference.iter()) {
        assert!(c.is_finite(), "the response map is finite");
        lo = lo.min(c).min(r);
        hi = hi.max(c).max(r);
        worst = worst.max((c - r).abs());
    }
    worst / (hi - lo)
}

/// Assert the IBSI-2 criterion for one test and a tighter goal (`goal`, relative), printing
/// the score so the test log reports how far below the criterion each map is.
pub fn assert_reproduces(test_id: &str, computed: &Array3<f64>, goal: f64) {
    let score = relative_difference(computed, &reference_map(test_id));
    eprintln!("IBSI-2 {test_id}: max |diff| / range = {score:.2e}");
    assert!(score <= 0.01, "{test_id}: {score:.3e} of the range, over the IBSI's 1 %");
    assert!(score <= goal, "{test_id}: {score:.3e} of the range, over the goal {goal:.1e}");
}
