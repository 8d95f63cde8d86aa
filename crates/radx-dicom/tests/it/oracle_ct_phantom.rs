//! The IBSI CT phantom: DICOM series + RTSTRUCT against the phantom's NIfTI image and mask
//! (`tests/data/ibsi/ct_phantom/`, from theibsi/data_sets, not made by radx).

use radx_dicom::{read_rtstruct_mask, read_series};

use crate::common::{assert_same_grid, data, dicom, mask_mismatches, mismatches, nifti};

#[test]
fn ct_phantom_image_and_mask_equal_the_nifti_phantom() {
    let root = dicom().join("ibsi_1_ct_radiomics_phantom/dicom");
    let series = read_series(&root.join("image")).unwrap_or_else(|e| panic!("{e}"));
    let image = nifti(&data().join("ibsi/ct_phantom/image.nii.gz"));
    assert_eq!(series.volume.grid.dims, [204, 201, 60]);
    assert_same_grid(&series.volume.grid, &image.grid, 1e-3, "CT phantom image");
    assert_eq!(mismatches(&series.volume, &image, |_| 0.0), (0, 0.0), "image voxels differ");

    let mask =
        read_rtstruct_mask(&root.join("mask/DCM_RS_00060.dcm"), "GTV-1", &series).unwrap_or_else(|e| panic!("{e}"));
    let oracle = nifti(&data().join("ibsi/ct_phantom/mask.nii.gz"));
    assert_same_grid(&mask.grid, &oracle.grid, 1e-3, "CT phantom mask");
    assert_eq!(mask_mismatches(&mask, &oracle), (0, 125_256));
}
