//! The six IBSI validation patients × CT, T1 MR and PET: DICOM series + RTSTRUCT against
//! the NIfTI images and masks MIRP made from the same DICOM (theibsi/data_sets).

use radx_dicom::{read_rtstruct_mask, read_series};

use crate::common::{assert_same_grid, dicom, mask_mismatches, mismatches, nifti};

const PATIENTS: [&str; 6] = ["STS_002", "STS_008", "STS_019", "STS_024", "STS_025", "STS_042"];

/// Distance in float32 units in the last place (MIRP's PET is float32, computed in float32).
fn f32_ulps(a: f64, b: f64) -> u32 {
    (a as f32).to_bits().abs_diff((b as f32).to_bits())
}

/// One patient's one modality; returns the oracle's ROI voxel count.
fn check(patient: &str, modality: &str) -> usize {
    let root = dicom().join("ibsi_validation");
    let case = format!("{patient} {modality}");
    let series =
        read_series(&root.join(format!("dicom/{patient}/{modality}/image"))).unwrap_or_else(|e| panic!("{case}: {e}"));
    let image = nifti(&root.join(format!("nifti/{patient}/{modality}_image.nii.gz")));
    assert_same_grid(&series.volume.grid, &image.grid, 1e-3, &case);
    if modality == "PET" {
        // SUV in float32: every voxel within one float32 ulp.
        let worst = series.volume.data.iter().zip(image.data.iter()).map(|(a, b)| f32_ulps(*a, *b)).max();
        assert!(worst <= Some(1), "{case}: PET voxels differ by up to {worst:?} float32 ulps");
    } else {
        let (bad, worst) = mismatches(&series.volume, &image, |_| 0.0);
        assert_eq!(bad, 0, "{case}: {bad} image voxels differ (worst {worst:e})");
    }
    let roi = format!("GTV_Mass_{modality}");
    let rs = root.join(format!("dicom/{patient}/{modality}/mask/RS.dcm"));
    let mask = read_rtstruct_mask(&rs, &roi, &series).unwrap_or_else(|e| panic!("{case}: {e}"));
    let oracle = nifti(&root.join(format!("nifti/{patient}/{modality}_mask.nii.gz")));
    assert_same_grid(&mask.grid, &oracle.grid, 1e-3, &case);
    let (differ, inside) = mask_mismatches(&mask, &oracle);
    assert_eq!(differ, 0, "{case}: {differ} mask voxels differ from MIRP's ({inside} inside)");
    inside
}

#[test]
fn ct_series_and_masks_equal_mirp() {
    let inside: Vec<usize> = PATIENTS.iter().map(|p| check(p, "CT")).collect();
    // The data's README: STS_024's CT mask holds 24 892 voxels.
    assert_eq!(inside[3], 24_892);
}

#[test]
fn mr_t1_series_and_masks_equal_mirp() {
    let inside: Vec<usize> = PATIENTS.iter().map(|p| check(p, "MR_T1")).collect();
    assert!(inside.iter().all(|&n| n > 0));
}

#[test]
fn pet_series_and_masks_equal_mirp() {
    let inside: Vec<usize> = PATIENTS.iter().map(|p| check(p, "PET")).collect();
    // The data's README: PET masks hold 239–786 voxels.
    assert_eq!(inside.iter().min(), Some(&239));
    assert_eq!(inside.iter().max(), Some(&786));
}
