//! Compressed and multi-frame files decode to the same voxels as their uncompressed twins
//! (pydicom's test files, `tests/data/dicom/pydicom/`, README there), and the enhanced
//! multi-frame CT highdicom converted from the synthetic series (`tests/data/dicom/seg/`)
//! equals that series. Syntaxes dicom-pixeldata's pure-Rust decoders lack (JPEG-LS, JPEG
//! 2000) are refused with a clear error, not a panic.

use std::path::PathBuf;

use radx_dicom::{DicomError, read_series};

use crate::common::dicom;

fn pydicom(name: &str) -> PathBuf {
    dicom().join("pydicom").join(name)
}

#[test]
fn mr_small_in_every_decodable_syntax_equals_the_uncompressed_file() {
    let reference = read_series(&pydicom("MR_small.dcm")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reference.volume.grid.dims, [64, 64, 1]);
    // pydicom: int16, sum 2 125 338, range 127 .. 2145, no rescale.
    assert_eq!(reference.volume.data.sum(), 2_125_338.0);
    let (lo, hi) = reference.volume.data.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    assert_eq!((lo, hi), (127.0, 2145.0));
    for twin in [
        "MR_small_RLE.dcm",           // RLE Lossless
        "MR_small_bigendian.dcm",     // Explicit VR Big Endian
        "MR_small_implicit.dcm",      // Implicit VR Little Endian
        "MR_small_deflated.dcm",      // Deflated Explicit VR Little Endian
        "MR_small_jpeg_lossless.dcm", // JPEG Lossless, Process 14, SV1
    ] {
        let got = read_series(&pydicom(twin)).unwrap_or_else(|e| panic!("{twin}: {e}"));
        assert_eq!(got.volume.grid, reference.volume.grid, "{twin}");
        assert_eq!(got.volume.data, reference.volume.data, "{twin}");
    }
}

#[test]
fn jpeg_ls_and_jpeg_2000_are_refused_naming_the_file() {
    for name in ["MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm"] {
        let err = read_series(&pydicom(name)).unwrap_err();
        let DicomError::Pixels { path, .. } = &err else { panic!("{name}: {err}") };
        assert!(path.ends_with(name), "{err}");
    }
}

/// RTDOSE: 15 frames of 10×10 uint32 placed by GridFrameOffsetVector (0, 5, … 70 mm),
/// scaled by DoseGridScaling 1e-6; uncompressed and big endian alike. Its RLE twin is
/// refused: dicom-rs' RLE decoder takes 8- and 16-bit samples only.
#[test]
fn multi_frame_rtdose_decodes_alike_in_three_syntaxes() {
    let reference = read_series(&pydicom("rtdose.dcm")).unwrap_or_else(|e| panic!("{e}"));
    let grid = reference.volume.grid;
    assert_eq!(grid.dims, [10, 10, 15]);
    assert_eq!(grid.spacing, [10.0, 10.0, 5.0]);
    assert_eq!(grid.origin, [189.43125, 199.43125, -761.87]);
    // pydicom: the stored values sum to 1 519 910 000.
    let stored: f64 = reference.volume.data.iter().map(|v| (v * 1e6).round()).sum();
    assert_eq!(stored, 1_519_910_000.0);
    assert_eq!(reference.files.len(), 15);
    let twin = read_series(&pydicom("rtdose_expb.dcm")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(twin.volume.grid, grid);
    assert_eq!(twin.volume.data, reference.volume.data);
    let err = read_series(&pydicom("rtdose_rle.dcm")).unwrap_err();
    let DicomError::Pixels { reason, .. } = &err else { panic!("{err}") };
    assert!(reason.contains("RLE Lossless") && reason.contains("32-bit"), "{err}");
}

/// An enhanced (legacy-converted) multi-frame CT, its frames stored in descending position,
/// placed by its per-frame PlanePositionSequence and rescaled by its shared
/// PixelValueTransformationSequence, equals the single-frame series it was made from; so
/// does its RLE twin (multi-frame, encapsulated).
#[test]
fn enhanced_multi_frame_ct_equals_its_single_frame_series() {
    let seg = dicom().join("seg");
    let series = read_series(&seg.join("series")).unwrap_or_else(|e| panic!("{e}"));
    for name in ["enhanced_ct.dcm", "enhanced_ct_rle.dcm"] {
        let enhanced = read_series(&seg.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(enhanced.volume.grid.dims, [16, 12, 7], "{name}");
        if let Err(e) = enhanced.volume.grid.check_matches(&series.volume.grid, 1e-4) {
            panic!("{name}: {e}");
        }
        assert_eq!(enhanced.volume.data, series.volume.data, "{name}");
        assert_eq!(enhanced.modality.as_deref(), Some("CT"));
        assert_eq!(enhanced.files.len(), 7);
    }
    // make_seg.py: stored = 3x + 50y + 700z - 2000, rescale intercept -1024.
    assert_eq!(series.volume.data[[5, 7, 3]], (3 * 5 + 50 * 7 + 700 * 3 - 2000 - 1024) as f64);
}
