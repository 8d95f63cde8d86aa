//! Resolving cases: which inputs stay paths, which are read, and what is refused.

use std::path::{Path, PathBuf};

use radx_engine::{RoiSelector, VolumeSource};
use radx_input::{CaseInput, InputError, InputKind, MaskChoice, MaskKind, ResolveOptions, classify, resolve};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

const OPTS: ResolveOptions = ResolveOptions { default_label: 1, max_bytes: 1 << 30 };

fn input(image: &Path, mask: &Path, choice: MaskChoice) -> CaseInput {
    CaseInput { image: image.to_path_buf(), mask: mask.to_path_buf(), choice, series: None }
}

fn volume(source: &VolumeSource) -> &radx_core::Volume<f64> {
    match source {
        VolumeSource::Named { volume, .. } => volume,
        other => panic!("expected a named volume, got {}", other.describe()),
    }
}

fn phantom() -> PathBuf {
    data("dicom/ibsi_1_ct_radiomics_phantom/dicom")
}

#[test]
fn nifti_stays_a_path_and_keeps_its_label() {
    let (image, mask) = (data("ibsi/ct_phantom/image.nii.gz"), data("ibsi/ct_phantom/mask.nii.gz"));
    let choice = MaskChoice { label: Some(3), ..MaskChoice::default() };
    let resolved = resolve(&input(&image, &mask, choice), &OPTS).unwrap();
    assert!(matches!(resolved.case.image, VolumeSource::Path(_)));
    assert!(matches!(resolved.case.mask, VolumeSource::Path(_)));
    assert_eq!(resolved.case.roi, RoiSelector::Label(3));
    assert_eq!(resolved.mask, MaskKind::LabelMap);
    assert_eq!(classify(&image).unwrap(), InputKind::VolumeFile);
    assert_eq!(classify(&phantom().join("image")).unwrap(), InputKind::DicomFolder);
}

/// The CT phantom's series and RTSTRUCT resolve to named volumes equal to its NIfTI image
/// and mask; the same RTSTRUCT on the NIfTI image (no frame of reference to check) gives the
/// same mask.
#[test]
fn dicom_series_and_rtstruct_equal_the_nifti_phantom() {
    let rs = phantom().join("mask/DCM_RS_00060.dcm");
    let resolved = resolve(&input(&phantom().join("image"), &rs, MaskChoice::default()), &OPTS).unwrap();
    assert_eq!(resolved.mask, MaskKind::Rtstruct { roi: "GTV-1".into() });
    assert_eq!(resolved.case.roi, RoiSelector::Label(1));
    assert!(resolved.case.describe().contains("DCM_RS_00060.dcm (ROI \"GTV-1\")"), "{}", resolved.case.describe());
    let nifti_image = radx_io::read_volume(&data("ibsi/ct_phantom/image.nii.gz")).unwrap();
    let nifti_mask = radx_io::read_volume(&data("ibsi/ct_phantom/mask.nii.gz")).unwrap();
    assert_eq!(volume(&resolved.case.image).data, nifti_image.data);
    assert_eq!(volume(&resolved.case.mask).data, nifti_mask.data);
    assert_eq!(nifti_mask.data.sum(), 125_256.0);

    let on_nifti = resolve(&input(&data("ibsi/ct_phantom/image.nii.gz"), &rs, MaskChoice::default()), &OPTS).unwrap();
    assert!(matches!(on_nifti.case.image, VolumeSource::Path(_)));
    assert_eq!(volume(&on_nifti.case.mask).data, nifti_mask.data);
}

/// A fractional SEG's ROI: the voxels whose fraction is at least one half.
#[test]
fn fractional_seg_is_thresholded_at_one_half() {
    let seg = data("dicom/seg");
    let resolved =
        resolve(&input(&seg.join("series"), &seg.join("seg_fractional.dcm"), MaskChoice::default()), &OPTS).unwrap();
    assert_eq!(resolved.mask, MaskKind::Seg { number: 1, label: "ramp".into() });
    let mask = volume(&resolved.case.mask);
    for ((x, y, z), v) in mask.data.indexed_iter() {
        let inside = (2..=13).contains(&x) && (1..=10).contains(&y) && (1..=5).contains(&z);
        let fraction = if inside { ((7 * x + 13 * y + 29 * z) % 256) as f64 / 255.0 } else { 0.0 };
        assert_eq!(*v, if fraction >= 0.5 { 1.0 } else { 0.0 }, "({x}, {y}, {z})");
    }
}

#[test]
fn choices_that_do_not_fit_the_mask_are_refused() {
    let rs = phantom().join("mask/DCM_RS_00060.dcm");
    let image = phantom().join("image");
    let nifti_mask = data("ibsi/ct_phantom/mask.nii.gz");
    let choice_error = |image: &Path, mask: &Path, choice: MaskChoice| match resolve(&input(image, mask, choice), &OPTS)
    {
        Err(InputError::Choice { path, message }) => (path, message),
        other => panic!("expected a choice error, got {other:?}"),
    };
    let (path, message) = choice_error(&image, &rs, MaskChoice { label: Some(1), ..MaskChoice::default() });
    assert!(path.ends_with("DCM_RS_00060.dcm") && message.contains("RTSTRUCT"), "{message}");
    let (_, message) =
        choice_error(&image, &nifti_mask, MaskChoice { roi: Some("GTV-1".into()), ..MaskChoice::default() });
    assert!(message.contains("label map"), "{message}");
    let (_, message) =
        choice_error(&image, &nifti_mask, MaskChoice { segment: Some("1".into()), ..MaskChoice::default() });
    assert!(message.contains("label map"), "{message}");
    let (path, message) = choice_error(&rs, &nifti_mask, MaskChoice::default());
    assert!(path.ends_with("DCM_RS_00060.dcm") && message.contains("not an image"), "{message}");
    let (_, message) = choice_error(&image, &image, MaskChoice::default());
    assert!(message.contains("folder is not a mask"), "{message}");
    let (_, message) = choice_error(&image, &image.join("DCM_IMG_00000.dcm"), MaskChoice::default());
    assert!(message.contains("DICOM image, not a mask"), "{message}");
    let with_series = CaseInput {
        series: Some("1.2.3".into()),
        ..input(&data("ibsi/ct_phantom/image.nii.gz"), &nifti_mask, MaskChoice::default())
    };
    assert!(matches!(resolve(&with_series, &OPTS), Err(InputError::Choice { .. })));
    // The memory budget applies to DICOM series.
    let tight = ResolveOptions { default_label: 1, max_bytes: 1 << 20 };
    let err = resolve(&input(&image, &rs, MaskChoice::default()), &tight).unwrap_err();
    assert!(matches!(err, InputError::Dicom(radx_dicom::DicomError::TooLarge { .. })), "{err}");
}
