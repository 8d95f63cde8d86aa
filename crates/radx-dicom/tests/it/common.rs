//! Shared helpers: test data paths and voxel comparisons against NIfTI oracles.

use std::path::PathBuf;

use radx_dicom::{Grid, Volume};

/// `tests/data/` at the repository's top.
pub fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

/// The DICOM test data.
pub fn dicom() -> PathBuf {
    data().join("dicom")
}

/// Read a NIfTI oracle with radx-io.
pub fn nifti(path: &std::path::Path) -> Volume<f64> {
    radx_io::read_volume(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Assert same size and geometry within `tol` mm.
pub fn assert_same_grid(ours: &Grid, oracle: &Grid, tol: f64, what: &str) {
    if let Err(e) = ours.check_matches(oracle, tol) {
        panic!("{what}: grid differs from the oracle: {e}");
    }
}

/// Number of voxels where `|ours - oracle| > tol(oracle)`, and the worst difference.
pub fn mismatches(ours: &Volume<f64>, oracle: &Volume<f64>, tol: impl Fn(f64) -> f64) -> (usize, f64) {
    let mut count = 0;
    let mut worst = 0.0f64;
    for (a, b) in ours.data.iter().zip(oracle.data.iter()) {
        let d = (a - b).abs();
        worst = worst.max(d);
        if d > tol(*b) {
            count += 1;
        }
    }
    (count, worst)
}

/// Mask voxels that differ (oracle voxel > 0.5 is inside), and the oracle's ROI size.
pub fn mask_mismatches(ours: &Volume<bool>, oracle: &Volume<f64>) -> (usize, usize) {
    let mut differ = 0;
    let mut inside = 0;
    for (a, b) in ours.data.iter().zip(oracle.data.iter()) {
        let b = *b > 0.5;
        inside += usize::from(b);
        differ += usize::from(*a != b);
    }
    (differ, inside)
}
