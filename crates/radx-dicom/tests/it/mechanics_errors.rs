//! Bad input: typed errors naming the file, no panic. Broken series are made from the CT
//! phantom's files (copied, dropped, duplicated or with a position rewritten).

use std::path::{Path, PathBuf};

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use radx_dicom::{
    Contour, ContourKind, DicomError, Roi, SeriesOptions, rasterise, read_rtstruct, read_rtstruct_mask, read_seg,
    read_series, read_series_with,
};

use crate::common::dicom;

fn phantom() -> PathBuf {
    dicom().join("ibsi_1_ct_radiomics_phantom/dicom")
}

fn sts002_ct() -> PathBuf {
    dicom().join("ibsi_validation/dicom/STS_002/CT/image")
}

/// Copy the phantom's slices into a fresh folder, except those `skip` says.
fn copy_phantom(skip: impl Fn(&str) -> bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(phantom().join("image")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !skip(&name) {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    dir
}

/// Rewrite one file's ImagePositionPatient, moved by `shift` mm.
fn shift_position(path: &Path, shift: [f64; 3]) {
    let mut obj = dicom_object::open_file(path).unwrap();
    let p = obj.element(tags::IMAGE_POSITION_PATIENT).unwrap().to_multi_float64().unwrap();
    let text = format!("{}\\{}\\{}", p[0] + shift[0], p[1] + shift[1], p[2] + shift[2]);
    obj.put(DataElement::new(tags::IMAGE_POSITION_PATIENT, VR::DS, PrimitiveValue::from(text)));
    obj.write_to_file(path).unwrap();
}

#[test]
fn two_series_in_one_folder_are_listed_and_one_can_be_chosen() {
    let dir = copy_phantom(|_| false);
    std::fs::copy(sts002_ct().join("000000.dcm"), dir.path().join("other.dcm")).unwrap();
    let err = read_series(dir.path()).unwrap_err();
    let DicomError::SeveralSeries { series, .. } = &err else { panic!("{err}") };
    assert_eq!(series.len(), 2, "{err}");
    assert!(err.to_string().contains("60 files") && err.to_string().contains("1 files"), "{err}");
    let uid = read_series(&phantom().join("image")).unwrap().series_uid;
    let opts = SeriesOptions { series_uid: Some(uid), ..SeriesOptions::default() };
    assert_eq!(read_series_with(dir.path(), &opts).unwrap().volume.grid.dims, [204, 201, 60]);
}

#[test]
fn a_missing_slice_is_refused_naming_its_neighbours() {
    let full = read_series(&phantom().join("image")).unwrap();
    let gone = full.files[30].file_name().unwrap().to_string_lossy().to_string();
    let dir = copy_phantom(|name| name == gone);
    let err = read_series(dir.path()).unwrap_err();
    let DicomError::MissingSlices { missing, path, next, .. } = &err else { panic!("{err}") };
    assert_eq!(*missing, 1);
    assert_eq!(path.file_name(), full.files[29].file_name());
    assert_eq!(next.file_name(), full.files[31].file_name());
}

#[test]
fn a_duplicate_slice_is_refused() {
    let dir = copy_phantom(|_| false);
    std::fs::copy(phantom().join("image/DCM_IMG_00010.dcm"), dir.path().join("copy.dcm")).unwrap();
    let err = read_series(dir.path()).unwrap_err();
    assert!(matches!(err, DicomError::DuplicateSlice { .. }), "{err}");
}

#[test]
fn uneven_spacing_and_tilt_are_refused() {
    let full = read_series(&phantom().join("image")).unwrap();
    let dz = full.volume.grid.spacing[2];
    let dir = copy_phantom(|_| false);
    let moved = dir.path().join(full.files[20].file_name().unwrap());
    shift_position(&moved, [0.0, 0.0, 0.3 * dz]);
    let err = read_series(dir.path()).unwrap_err();
    assert!(matches!(err, DicomError::UnevenSpacing { .. }), "{err}");

    let dir = copy_phantom(|_| false);
    for (k, file) in full.files.iter().enumerate() {
        shift_position(&dir.path().join(file.file_name().unwrap()), [0.0, 0.2 * k as f64, 0.0]);
    }
    let err = read_series(dir.path()).unwrap_err();
    assert!(matches!(err, DicomError::Tilted { .. }), "{err}");
}

#[test]
fn a_non_dicom_file_named_dcm_is_refused_by_name() {
    let dir = copy_phantom(|_| false);
    std::fs::write(dir.path().join("notes.dcm"), b"not a DICOM file at all").unwrap();
    let err = read_series(dir.path()).unwrap_err();
    let DicomError::NotDicom { path, .. } = &err else { panic!("{err}") };
    assert!(path.ends_with("notes.dcm"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(read_series(empty.path()).unwrap_err(), DicomError::Empty { .. }));
}

#[test]
fn rtstruct_errors_unknown_roi_other_frame_empty_contour() {
    let rs = phantom().join("mask/DCM_RS_00060.dcm");
    let series = read_series(&phantom().join("image")).unwrap();
    let err = read_rtstruct_mask(&rs, "GTV-2", &series).unwrap_err();
    let DicomError::UnknownRoi { names, .. } = &err else { panic!("{err}") };
    assert_eq!(names, &["GTV-1"]);

    let other = read_series(&sts002_ct()).unwrap();
    let err = read_rtstruct_mask(&rs, "GTV-1", &other).unwrap_err();
    assert!(matches!(err, DicomError::FrameOfReference { .. }), "{err}");

    let empty = Roi {
        number: "1".into(),
        name: "empty".into(),
        frame_of_reference_uid: None,
        contours: vec![Contour { kind: ContourKind::ClosedPlanar, points: vec![] }],
    };
    let err = rasterise(&rs, &empty, &series.volume.grid).unwrap_err();
    assert!(matches!(err, DicomError::Contour { contour: 0, .. }), "{err}");

    let err = read_rtstruct(&phantom().join("image/DCM_IMG_00000.dcm")).unwrap_err();
    assert!(matches!(err, DicomError::NotRtstruct { .. }), "{err}");
}

#[test]
fn contours_off_every_slice_are_refused() {
    let series = read_series(&phantom().join("image")).unwrap();
    let set = read_rtstruct(&phantom().join("mask/DCM_RS_00060.dcm")).unwrap();
    let mut roi = set.roi("GTV-1").unwrap().clone();
    let far = series.volume.grid.spacing[2] * 100.0;
    roi.contours[0].points.iter_mut().for_each(|p| p[2] += far);
    let err = rasterise(&set.path, &roi, &series.volume.grid).unwrap_err();
    assert!(matches!(err, DicomError::Contour { contour: 0, .. }), "{err}");
}

#[test]
fn a_seg_without_frames_and_a_non_dicom_seg_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = dicom().join("seg/seg_binary.dcm");
    let mut obj = dicom_object::open_file(&source).unwrap();
    obj.remove_element(tags::PIXEL_DATA);
    obj.remove_element(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    obj.put(DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, PrimitiveValue::from("0")));
    let empty = dir.path().join("empty_seg.dcm");
    obj.write_to_file(&empty).unwrap();
    let err = read_seg(&empty).unwrap_err();
    let DicomError::SegNoFrames { path } = &err else { panic!("{err}") };
    assert!(path.ends_with("empty_seg.dcm"), "{err}");

    let fake = dir.path().join("seg.dcm");
    std::fs::write(&fake, b"DICM? no: a text file").unwrap();
    let err = read_seg(&fake).unwrap_err();
    assert!(matches!(err, DicomError::NotDicom { .. }), "{err}");
    assert!(!radx_dicom::is_dicom_file(&fake));
    assert_eq!(radx_dicom::probe(&source).unwrap(), radx_dicom::DicomKind::Seg);
}

/// Every file of the test data, cut short at a few lengths, gives an error or a value,
/// never a panic (the fuzz target's property on known-interesting inputs).
#[test]
fn truncated_files_are_errors_not_panics() {
    let files = [
        dicom().join("seg/seg_binary.dcm"),
        dicom().join("seg/seg_fractional_rle.dcm"),
        dicom().join("seg/enhanced_ct.dcm"),
        dicom().join("pydicom/rtdose_rle.dcm"),
        dicom().join("pydicom/MR_small_jpeg_lossless.dcm"),
        phantom().join("mask/DCM_RS_00060.dcm"),
    ];
    let name = Path::new("cut.dcm");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for cut in [0, 100, 132, 400, bytes.len() / 2, bytes.len() - 7, bytes.len() - 1] {
            let part = &bytes[..cut];
            let _ = radx_dicom::read_series_bytes(name, part, &SeriesOptions::default());
            let _ = radx_dicom::read_rtstruct_bytes(name, part);
            let _ = radx_dicom::read_seg_bytes(name, part, 1 << 26);
        }
    }
}

/// The fuzzer's input (an element inside a nested sequence of an RTSTRUCT declaring
/// ~4 GiB) is refused by the declared-length walk, naming the element, before dicom-rs
/// reserves 4 GiB for it; it used to come out as a parse error only after that
/// reservation, which a memory-limited process does not survive.
#[test]
fn an_element_declaring_more_bytes_than_the_file_holds_is_refused_before_parsing() {
    let input = std::fs::read(dicom().join("fuzz/rtstruct-4gib-element.bin")).unwrap();
    let bytes = &input[1..]; // the fuzz target's first byte picks the reader
    let err = radx_dicom::read_rtstruct_bytes(Path::new("crafted.dcm"), bytes).unwrap_err();
    let DicomError::DeclaredLengthBeyondFile { declared, left, .. } = &err else { panic!("{err}") };
    assert!(*declared > 1 << 31 && *left < bytes.len() as u64, "{err}");
    let text = err.to_string();
    assert!(text.starts_with("crafted.dcm: element (") && text.contains("export it again"), "{text}");
}

/// The same walk guards files read from disk: a slice whose pixel data declares 4 GiB
/// stops a series read with that slice's name, not a 4 GiB reservation.
#[test]
fn a_slice_on_disk_declaring_4_gib_of_pixels_is_refused_by_name() {
    let dir = copy_phantom(|_| false);
    let victim = dir.path().join("DCM_IMG_00010.dcm");
    let mut bytes = std::fs::read(&victim).unwrap();
    // Pixel Data (7FE0,0010) is the last element: its tag, then (explicit VR OW) "OW" and
    // two reserved bytes, then a 4-byte length, which equals the bytes after it.
    let at = bytes.windows(4).rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00]).unwrap();
    let length_at = if &bytes[at + 4..at + 6] == b"OW" { at + 8 } else { at + 4 };
    let length = u32::from_le_bytes(bytes[length_at..length_at + 4].try_into().unwrap());
    assert_eq!(length as usize, bytes.len() - length_at - 4, "pixel data not found where expected");
    bytes[length_at..length_at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    std::fs::write(&victim, &bytes).unwrap();
    let err = read_series(dir.path()).unwrap_err();
    let DicomError::DeclaredLengthBeyondFile { path, tag, declared, .. } = &err else { panic!("{err}") };
    assert_eq!((path.as_path(), tag.as_str(), *declared), (victim.as_path(), "(7FE0,0010)", 0xFFFF_FFF0), "{err}");
}

/// The fuzzer's RLE image whose segment unpacks to fewer bytes than the frame has pixels:
/// dicom-rs's RLE decoder indexed past the segment and panicked; the fragment is now
/// checked first and refused as damaged pixel data, naming the file.
#[test]
fn an_rle_segment_shorter_than_its_frame_is_refused_not_a_panic() {
    let input = std::fs::read(dicom().join("fuzz/series-rle-short-segment.bin")).unwrap();
    let bytes = &input[1..]; // the fuzz target's first byte picks the reader
    let err = radx_dicom::read_series_bytes(Path::new("crafted.dcm"), bytes, &SeriesOptions::default()).unwrap_err();
    let DicomError::Pixels { reason, .. } = &err else { panic!("{err}") };
    assert!(reason.contains("is damaged: segment 1 unpacks to 27 bytes where the frame has 192 pixels"), "{err}");
    assert!(err.to_string().starts_with("crafted.dcm"), "{err}");
}

/// The fuzzer's image with a sequence's VR turned into OV (8-byte values) of length 890:
/// dicom-rs reads 111 values and goes on 2 bytes out of step, taking later bytes for an
/// element declaring 1.3 GB, which it reserved. Such a length is refused by name first.
#[test]
fn a_fixed_size_value_of_partial_length_is_refused_before_parsing() {
    let input = std::fs::read(dicom().join("fuzz/series-odd-length-ov.bin")).unwrap();
    let bytes = &input[1..]; // the fuzz target's first byte picks the reader
    let err = radx_dicom::read_series_bytes(Path::new("crafted.dcm"), bytes, &SeriesOptions::default()).unwrap_err();
    let DicomError::ValueLengthNotMultiple { tag, vr, declared, size, .. } = &err else { panic!("{err}") };
    assert_eq!((tag.as_str(), vr.as_str(), *declared, *size), ("(0008,1115)", "OV", 890, 8), "{err}");
}

/// The fuzzer's SEG whose meta group holds a damaged delimiter: dicom-parser's lazy reader
/// returned the same end token forever and the declared-length walk hung. The walk now
/// leaves the meta group at its first sequence token and bounds its tokens by the file's
/// size, so the file comes back as an error (before the fix this test never returned).
#[test]
fn a_damaged_delimiter_does_not_hang_the_length_walk() {
    let input = std::fs::read(dicom().join("fuzz/seg-meta-delimiter-loop.bin")).unwrap();
    let bytes = &input[1..]; // the fuzz target's first byte picks the reader
    let err = radx_dicom::read_seg_bytes(Path::new("crafted.dcm"), bytes, 1 << 26).unwrap_err();
    assert!(matches!(err, DicomError::NotDicom { .. }), "{err}");
}

/// The fuzzer's image whose meta group length ends inside an element: dicom-object reads
/// that element whole and starts the data set after it, where a 1.1 GB length waited; the
/// walk started where the group length pointed and saw other headers. It now starts where
/// dicom-object's meta reader stops, and refuses the length.
#[test]
fn the_length_walk_starts_the_data_set_where_the_parser_does() {
    let input = std::fs::read(dicom().join("fuzz/series-short-group-length.bin")).unwrap();
    let bytes = &input[1..]; // the fuzz target's first byte picks the reader
    let err = radx_dicom::read_series_bytes(Path::new("crafted.dcm"), bytes, &SeriesOptions::default()).unwrap_err();
    let DicomError::DeclaredLengthBeyondFile { tag, declared, .. } = &err else { panic!("{err}") };
    assert_eq!((tag.as_str(), *declared), ("(0004,00D4)", 1_112_473_601), "{err}");
}

/// The fuzzer's RTSTRUCT whose meta group holds an element of an unknown VR: dicom-object's
/// meta reader and dicom-parser's data-set reader decoded its header differently, so the
/// walk (then on dicom-parser) missed the length the meta reader zero-filled (a timeout).
/// The meta group is now walked with the meta reader's own decoder and loop.
#[test]
fn the_meta_group_is_walked_as_dicom_object_reads_it() {
    let input = std::fs::read(dicom().join("fuzz/rtstruct-meta-unknown-vr.bin")).unwrap();
    let bytes = &input[1..]; // the fuzz target's first byte picks the reader
    let err = radx_dicom::read_rtstruct_bytes(Path::new("crafted.dcm"), bytes).unwrap_err();
    assert!(matches!(err, DicomError::DeclaredLengthBeyondFile { .. }), "{err}");
}
