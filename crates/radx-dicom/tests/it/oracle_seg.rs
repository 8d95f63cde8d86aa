//! DICOM SEG against the masks they were made from: highdicom wrote the SEGs of
//! `tests/data/dicom/seg/` from masks given by formulas (`make_seg.py` beside them), which
//! these tests compute again; and pydicom's SEG test file (`liver.dcm`) against the frame
//! counts and positions pydicom reads from it.

use std::path::PathBuf;

use radx_dicom::{DicomError, Grid, SegmentChoice, SegmentationType, Volume, read_seg, read_seg_mask, read_series};

use crate::common::dicom;

fn seg_dir() -> PathBuf {
    dicom().join("seg")
}

/// The formulas of make_seg.py, in voxel indices of the series.
fn sphere(x: f64, y: f64, z: f64) -> bool {
    (x - 7.5).powi(2) / 36.0 + (y - 5.5).powi(2) / 16.0 + (z - 3.0).powi(2) / 4.0 <= 1.0
}

fn in_box(x: usize, y: usize, z: usize) -> bool {
    (4..=11).contains(&x) && (2..=6).contains(&y) && (1..=4).contains(&z)
}

fn ramp(x: usize, y: usize, z: usize) -> f64 {
    let inside = (2..=13).contains(&x) && (1..=10).contains(&y) && (1..=5).contains(&z);
    if inside { ((7 * x + 13 * y + 29 * z) % 256) as f64 / 255.0 } else { 0.0 }
}

/// `expected(x, y, z)` at every voxel of `mask`; returns the number of non-zero voxels.
fn assert_equals(mask: &Volume<f64>, expected: impl Fn(usize, usize, usize) -> f64, what: &str) -> usize {
    let mut inside = 0;
    for ((x, y, z), got) in mask.data.indexed_iter() {
        let want = expected(x, y, z);
        assert_eq!(*got, want, "{what}: voxel ({x}, {y}, {z})");
        inside += usize::from(want != 0.0);
    }
    inside
}

fn series_grid() -> (Grid, Option<String>) {
    let series = read_series(&seg_dir().join("series")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(series.volume.grid.dims, [16, 12, 7]);
    (series.volume.grid, series.frame_of_reference_uid)
}

#[test]
fn binary_seg_reads_back_both_overlapping_segments_exactly() {
    let (grid, frame) = series_grid();
    let path = seg_dir().join("seg_binary.dcm");
    let seg = read_seg(&path).unwrap();
    assert_eq!(seg.kind, SegmentationType::Binary);
    let labels: Vec<(u16, &str)> = seg.segments.iter().map(|s| (s.number, s.label.as_str())).collect();
    assert_eq!(labels, [(1, "sphere"), (2, "box")]);
    let one = |b: bool| if b { 1.0 } else { 0.0 };
    let by_number = read_seg_mask(&path, Some(&SegmentChoice::Number(1)), &grid, frame.as_deref()).unwrap();
    let n = assert_equals(&by_number, |x, y, z| one(sphere(x as f64, y as f64, z as f64)), "sphere");
    assert!(n > 100, "{n}");
    let by_label = read_seg_mask(&path, Some(&SegmentChoice::parse("box")), &grid, frame.as_deref()).unwrap();
    assert_eq!(assert_equals(&by_label, |x, y, z| one(in_box(x, y, z)), "box"), 8 * 5 * 4);
    // They overlap, and each keeps the voxels they share.
    let shared = by_number.data.iter().zip(by_label.data.iter()).filter(|(a, b)| **a == 1.0 && **b == 1.0).count();
    assert!(shared > 50, "{shared}");
}

#[test]
fn fractional_seg_reads_back_its_fractions_exactly_uncompressed_and_rle() {
    let (grid, frame) = series_grid();
    for name in ["seg_fractional.dcm", "seg_fractional_rle.dcm"] {
        let path = seg_dir().join(name);
        let seg = read_seg(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seg.kind, SegmentationType::Fractional { max: 255, fractional_type: "PROBABILITY".into() });
        let mask = read_seg_mask(&path, None, &grid, frame.as_deref()).unwrap_or_else(|e| panic!("{e}"));
        let n = assert_equals(&mask, ramp, name);
        assert!(n > 500, "{name}: {n}");
    }
}

#[test]
fn labelmap_seg_reads_each_label() {
    let (grid, frame) = series_grid();
    let path = seg_dir().join("seg_labelmap.dcm");
    let seg = read_seg(&path).unwrap();
    assert_eq!(seg.kind, SegmentationType::Labelmap);
    let sphere_mask = read_seg_mask(&path, Some(&SegmentChoice::Number(1)), &grid, frame.as_deref()).unwrap();
    let one = |b: bool| if b { 1.0 } else { 0.0 };
    assert_equals(&sphere_mask, |x, y, z| one(sphere(x as f64, y as f64, z as f64)), "label 1");
    let rest = read_seg_mask(&path, Some(&SegmentChoice::Number(2)), &grid, frame.as_deref()).unwrap();
    assert_equals(&rest, |x, y, z| one(in_box(x, y, z) && !sphere(x as f64, y as f64, z as f64)), "label 2");
}

/// The frames are placed by their positions: on a grid whose slice axis is reversed (origin
/// at the last slice) the same segment lands on the mirrored slices; on a grid grown by a
/// margin of voxels it lands shifted by that margin.
#[test]
fn frames_are_placed_by_their_positions_on_any_matching_grid() {
    let (grid, _) = series_grid();
    let path = seg_dir().join("seg_binary.dcm");
    let seg = read_seg(&path).unwrap();
    let straight = seg.mask(2, &grid).unwrap();

    let mut flipped = grid;
    let n = [grid.direction[0][2], grid.direction[1][2], grid.direction[2][2]];
    let last = (grid.dims[2] - 1) as f64 * grid.spacing[2];
    flipped.origin = std::array::from_fn(|a| grid.origin[a] + last * n[a]);
    for row in &mut flipped.direction {
        row[2] = -row[2];
    }
    let mirrored = seg.mask(2, &flipped).unwrap();
    for ((x, y, z), v) in straight.data.indexed_iter() {
        assert_eq!(*v, mirrored.data[[x, y, grid.dims[2] - 1 - z]], "({x}, {y}, {z})");
    }

    let mut grown = grid;
    grown.dims = [grid.dims[0] + 4, grid.dims[1] + 6, grid.dims[2] + 2];
    let shift = [-2.0, -3.0, -1.0];
    grown.origin = std::array::from_fn(|a| {
        grid.origin[a] + (0..3).map(|k| grid.direction[a][k] * shift[k] * grid.spacing[k]).sum::<f64>()
    });
    let shifted = seg.mask(2, &grown).unwrap();
    for ((x, y, z), v) in straight.data.indexed_iter() {
        assert_eq!(*v, shifted.data[[x + 2, y + 3, z + 1]], "({x}, {y}, {z})");
    }
    assert_eq!(shifted.data.iter().filter(|v| **v != 0.0).count(), 160);
}

/// pydicom's SEG test file (dcmqi's liver segmentation, 3 binary frames of 512×512): on the
/// grid its functional groups document (origin (-235.2, -226.8, -128.69) mm, 0.810547 mm
/// pixels, 1 mm apart, identity orientation) each frame's voxel count equals pydicom's.
#[test]
fn pydicom_liver_seg_reads_with_its_documented_geometry() {
    let path = dicom().join("pydicom/liver.dcm");
    let seg = read_seg(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((seg.rows, seg.cols, seg.frames.len()), (512, 512, 3));
    assert_eq!(seg.segments.len(), 1);
    assert_eq!(seg.segments[0].label, "Liver");
    assert_eq!(seg.frames[2].position, [-235.2, -226.8, -126.69]);
    let mut grid = Grid::new([512, 512, 3], [0.810547, 0.810547, 1.0]);
    grid.origin = [-235.2, -226.8, -128.69];
    let mask = read_seg_mask(&path, Some(&SegmentChoice::parse("Liver")), &grid, None).unwrap();
    let per_slice: Vec<usize> =
        (0..3).map(|z| mask.data.slice(ndarray::s![.., .., z]).iter().filter(|v| **v == 1.0).count()).collect();
    assert_eq!(per_slice, [36_233, 35_645, 35_220]);
    // pydicom: the first pixel set in frame 2 is row 146, column 254.
    assert_eq!(mask.data[[254, 146, 1]], 1.0);
    assert_eq!(mask.data[[253, 146, 1]], 0.0);
}

#[test]
fn seg_errors_unknown_segment_other_frame_of_reference_no_frames_off_grid() {
    let (grid, frame) = series_grid();
    let path = seg_dir().join("seg_binary.dcm");
    let err = read_seg_mask(&path, Some(&SegmentChoice::Number(3)), &grid, frame.as_deref()).unwrap_err();
    let DicomError::UnknownSegment { segments, .. } = &err else { panic!("{err}") };
    assert_eq!(segments, &["1 \"sphere\"", "2 \"box\""]);
    let err = read_seg_mask(&path, None, &grid, frame.as_deref()).unwrap_err();
    assert!(matches!(err, DicomError::ChooseSegment { .. }), "{err}");
    let err = read_seg_mask(&path, Some(&SegmentChoice::Number(1)), &grid, Some("1.2.3.4")).unwrap_err();
    assert!(matches!(err, DicomError::FrameOfReference { .. }), "{err}");

    // A grid the frames do not fall on (half a voxel off), and one too small for them.
    let mut off = grid;
    off.origin[0] += 0.5 * grid.spacing[0] * grid.direction[0][0];
    off.origin[1] += 0.5 * grid.spacing[0] * grid.direction[1][0];
    let err = read_seg(&path).unwrap().mask(1, &off).unwrap_err();
    assert!(matches!(err, DicomError::SegFrame { .. }), "{err}");
    let mut small = grid;
    small.dims = [8, 12, 7];
    let err = read_seg(&path).unwrap().mask(1, &small).unwrap_err();
    let DicomError::SegFrame { reason, .. } = &err else { panic!("{err}") };
    assert!(reason.contains("outside the image"), "{err}");

    // An image file is not a SEG.
    let err = read_seg(&seg_dir().join("series/CT_000.dcm")).unwrap_err();
    assert!(matches!(err, DicomError::NotSeg { .. }), "{err}");
}
