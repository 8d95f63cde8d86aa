//! Region and label-mask readers: they must give exactly what reading the whole file and
//! cropping (or selecting the label) gives, for every format and any box, and report bad
//! boxes and damaged files as typed errors.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use proptest::prelude::*;
use radx_core::roi::select_label;
use radx_core::{BoundingBox, Grid, Volume};
use radx_io::{
    IoError, RegionRead, RegionRequest, VoxelType, read_label_mask, read_region, read_region_as_requested,
    read_region_when_known, read_volume,
};

/// A 7×5×6 image whose voxel value encodes its index (x + 10y + 100z), on an oblique grid.
fn indexed_volume() -> Volume<f64> {
    let mut grid = Grid::new([7, 5, 6], [0.7, 0.9, 2.5]);
    grid.origin = [-12.0, 30.5, 4.0];
    let (c, s) = (0.8f64, 0.6f64);
    grid.direction = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
    let values = (0..6).flat_map(|z| (0..5).flat_map(move |y| (0..7).map(move |x| (x + 10 * y + 100 * z) as f64)));
    Volume::from_x_fastest(grid, values.collect())
}

/// The same image written in every container the readers handle.
fn files(dir: &Path) -> Vec<PathBuf> {
    let v = indexed_volume();
    let paths = ["a.nii", "a.nii.gz", "a.nrrd"].map(|n| dir.join(n));
    radx_io::write_nifti(&paths[0], &v, VoxelType::I16).unwrap();
    radx_io::write_nifti(&paths[1], &v, VoxelType::F32).unwrap();
    radx_io::write_nrrd(&paths[2], &v, VoxelType::U16).unwrap();
    paths.to_vec()
}

fn check_region(path: &Path, bbox: BoundingBox) {
    let whole = read_volume(path).unwrap();
    let (grid, got) = read_region(path, &bbox, &Default::default()).unwrap();
    assert_eq!(grid, whole.grid);
    assert_eq!(got, whole.crop(&bbox), "{} box {bbox:?}", path.display());
}

#[test]
fn region_equals_crop_of_whole_volume() {
    let dir = tempfile::tempdir().unwrap();
    let boxes = [
        BoundingBox { min: [0, 0, 0], max: [6, 4, 5] }, // everything: the gzip trailer is checked
        BoundingBox { min: [3, 2, 4], max: [3, 2, 4] }, // one voxel
        BoundingBox { min: [1, 0, 0], max: [5, 3, 0] }, // first slice only
        BoundingBox { min: [0, 1, 5], max: [6, 4, 5] }, // last slice only
    ];
    for path in files(dir.path()) {
        for b in boxes {
            check_region(&path, b);
        }
        // Voxel (3, 2, 4) holds 3 + 20 + 400 (written as is by every type used).
        let (_, one) = read_region(&path, &boxes[1], &Default::default()).unwrap();
        assert_eq!(one.data[[0, 0, 0]], 423.0);
    }
}

#[test]
fn box_sent_later_or_never() {
    let dir = tempfile::tempdir().unwrap();
    let path = &files(dir.path())[1];
    let bbox = BoundingBox { min: [2, 1, 2], max: [5, 3, 4] };
    let want = read_volume(path).unwrap().crop(&bbox);
    // Sent before reading starts, or after the reader has already passed the box.
    let (tx, rx) = mpsc::channel();
    tx.send(bbox).unwrap();
    assert_eq!(read_region_when_known(path, rx, &Default::default()).unwrap().unwrap().1, want);
    let (tx, rx) = mpsc::channel();
    let got = std::thread::scope(|s| {
        let reader = s.spawn(move || read_region_when_known(path, rx, &Default::default()));
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.send(bbox).unwrap();
        reader.join().unwrap()
    });
    assert_eq!(got.unwrap().unwrap().1, want);
    // Slices streamed while the box arrives after the reader has begun: the crop's slices.
    let (tx, rx) = mpsc::channel();
    let (slices, received) = mpsc::sync_channel(0);
    let got = std::thread::scope(|s| {
        let reader = s.spawn(move || read_region_as_requested(path, rx, &Default::default()));
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.send(RegionRequest::Stream(bbox, slices)).unwrap();
        let got: Vec<Vec<f64>> = received.iter().collect();
        assert!(matches!(reader.join().unwrap(), Ok(Some(RegionRead::Streamed(_)))));
        got
    });
    assert_eq!(got.concat(), want.to_x_fastest());
    // The slices' receiver goes away after one slice: the reader stops quietly.
    let (tx, rx) = mpsc::channel();
    let (slices, received) = mpsc::sync_channel(0);
    tx.send(RegionRequest::Stream(bbox, slices)).unwrap();
    let stopped = std::thread::scope(|s| {
        s.spawn(move || drop(received.recv()));
        read_region_as_requested(path, rx, &Default::default())
    });
    assert!(stopped.unwrap().is_none());
    // The mask reader failed: the sender is dropped and the image reader gives up quietly.
    let (tx, rx) = mpsc::channel::<BoundingBox>();
    drop(tx);
    assert!(read_region_when_known(path, rx, &Default::default()).unwrap().is_none());
}

#[test]
fn box_outside_the_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = &files(dir.path())[0];
    let err = read_region(path, &BoundingBox { min: [0, 0, 0], max: [7, 4, 5] }, &Default::default()).unwrap_err();
    assert!(matches!(err, IoError::RegionOutside { dims: [7, 5, 6], .. }), "{err}");
    assert!(err.to_string().contains("not inside the image of size [7, 5, 6]"), "{err}");
}

#[test]
fn truncation_inside_the_box_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = &files(dir.path())[0]; // .nii, int16: 352-byte header + 7·5·6·2 bytes
    let raw = std::fs::read(path).unwrap();
    std::fs::write(path, &raw[..raw.len() - 100]).unwrap();
    let err = read_region(path, &BoundingBox { min: [0, 0, 5], max: [6, 4, 5] }, &Default::default()).unwrap_err();
    assert!(matches!(err, IoError::Truncated { .. }), "{err}");
}

#[test]
fn label_mask_matches_label_selection() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::new([6, 4, 5], [1.0, 1.0, 2.0]);
    // Label 2 at (1,2,1), (4,1,3), (2,3,3); label 1 elsewhere on a few voxels.
    let mut labels = Volume::filled(grid, 0.0);
    for (x, y, z) in [(1, 2, 1), (4, 1, 3), (2, 3, 3)] {
        labels.data[[x, y, z]] = 2.0;
    }
    labels.data[[0, 0, 0]] = 1.0;
    labels.data[[5, 3, 4]] = 1.0;
    for name in ["m.nii.gz", "m.nrrd"] {
        let path = dir.path().join(name);
        if name.ends_with(".nrrd") {
            radx_io::write_nrrd(&path, &labels, VoxelType::U8).unwrap();
        } else {
            radx_io::write_nifti(&path, &labels, VoxelType::U8).unwrap();
        }
        let m = read_label_mask(&path, 2, &Default::default()).unwrap();
        assert_eq!(m.to_volume(), select_label(&read_volume(&path).unwrap(), 2).unwrap());
        // Hand-worked box of the three label-2 voxels.
        assert_eq!(m.bbox, Some(BoundingBox { min: [1, 1, 1], max: [4, 3, 3] }));
        let absent = read_label_mask(&path, 7, &Default::default()).unwrap();
        assert_eq!(absent.bbox, None);
        assert!(!absent.to_volume().data.iter().any(|&b| b));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any box inside the image reads as the crop of the whole image.
    #[test]
    fn any_box_reads_as_the_crop(a in (0usize..7, 0usize..5, 0usize..6), b in (0usize..7, 0usize..5, 0usize..6)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.nii.gz");
        radx_io::write_nifti(&path, &indexed_volume(), VoxelType::I16).unwrap();
        let bbox = BoundingBox {
            min: [a.0.min(b.0), a.1.min(b.1), a.2.min(b.2)],
            max: [a.0.max(b.0), a.1.max(b.1), a.2.max(b.2)],
        };
        let (_, got) = read_region(&path, &bbox, &Default::default()).unwrap();
        prop_assert_eq!(got, read_volume(&path).unwrap().crop(&bbox));
    }

    /// The mask reader's box is the box of the selected label.
    #[test]
    fn label_box_is_the_mask_box(points in proptest::collection::vec((0usize..6, 0usize..4, 0usize..5), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.nii.gz");
        let mut labels = Volume::filled(Grid::new([6, 4, 5], [1.0; 3]), 0.0);
        for &(x, y, z) in &points {
            labels.data[[x, y, z]] = 3.0;
        }
        radx_io::write_nifti(&path, &labels, VoxelType::I16).unwrap();
        let m = read_label_mask(&path, 3, &Default::default()).unwrap();
        let whole = m.to_volume();
        prop_assert_eq!(m.bbox, BoundingBox::of_mask(&whole.data));
        prop_assert_eq!(&whole, &select_label(&labels, 3).unwrap());
        // Any box of the mask reads as the crop of the whole mask.
        let b = BoundingBox { min: [1, 0, 2], max: [4, 3, 4] };
        prop_assert_eq!(m.crop(&b), whole.crop(&b));
    }
}

/// `fractional` names the first non-whole voxel in (x, y, z) index order, as a check of
/// the whole volume's `indexed_iter` would; whole-numbered label maps have none.
#[test]
fn label_mask_reports_the_first_fractional_value() {
    let dir = tempfile::tempdir().unwrap();
    for path in files(dir.path()) {
        assert_eq!(read_label_mask(&path, 423, &Default::default()).unwrap().fractional, None);
    }
    let mut v = indexed_volume();
    v.data[[5, 0, 0]] = 0.5; // first in x-fastest (file) order
    v.data[[2, 4, 5]] = f64::NAN; // first in (x, y, z) order
    v.data[[2, 4, 3]] = 7.25;
    let path = dir.path().join("soft.nii.gz");
    radx_io::write_nifti(&path, &v, VoxelType::F32).unwrap();
    let found = read_label_mask(&path, 423, &Default::default()).unwrap().fractional;
    assert_eq!(found, Some((7.25, [2, 4, 3])));
}

/// A 64×48×20 int16 image of smooth values (x + 3y + 50z − 700).
fn smooth_volume() -> Volume<f64> {
    let grid = Grid::new([64, 48, 20], [0.8, 0.8, 2.0]);
    let values =
        (0..20).flat_map(|z| (0..48).flat_map(move |y| (0..64).map(move |x| (x + 3 * y + 50 * z) as f64 - 700.0)));
    Volume::from_x_fastest(grid, values.collect())
}

fn gzip_members(parts: &[&[u8]]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    for part in parts {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(part).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

/// [`smooth_volume`] as gzip files: written by radx (`.nii.gz`, `.nrrd`: one gzip member), a
/// `.nii.gz` of two members (as bgzip or `cat a.gz b.gz` make; the first ends in slice 6)
/// and a gzip NRRD with a `byte skip` (made here).
fn gzip_files(dir: &Path) -> Vec<PathBuf> {
    let v = smooth_volume();
    let [single, nrrd, two, skip] = ["one.nii.gz", "one.nrrd", "two.nii.gz", "skip.nrrd"].map(|n| dir.join(n));
    radx_io::write_nifti(&single, &v, VoxelType::I16).unwrap();
    radx_io::write_nrrd(&nrrd, &v, VoxelType::I16).unwrap();
    let raw = dir.join("raw.nii");
    radx_io::write_nifti(&raw, &v, VoxelType::I16).unwrap();
    let raw = std::fs::read(raw).unwrap();
    std::fs::write(&two, gzip_members(&[&raw[..40_000], &raw[40_000..]])).unwrap();
    let voxels: Vec<u8> = v.to_x_fastest().iter().flat_map(|&x| (x as i16).to_le_bytes()).collect();
    let header = "NRRD0004\ntype: short\ndimension: 3\nsizes: 64 48 20\nspacings: 0.8 0.8 2\n\
                  encoding: gzip\nendian: little\nbyte skip: 16\n\n";
    std::fs::write(&skip, [header.as_bytes(), &gzip_members(&[&[9u8; 16], &voxels])].concat()).unwrap();
    vec![single, nrrd, two, skip]
}

/// The region reader's box sent before it reads.
fn region_when_known(path: &Path, bbox: BoundingBox) -> Result<Volume<f64>, IoError> {
    let (tx, rx) = mpsc::channel();
    tx.send(bbox).unwrap();
    Ok(read_region_when_known(path, rx, &Default::default())?.expect("the box was sent").1)
}

/// The region reader's box sent before it reads, its slices streamed to another thread
/// through a channel of one slice: the slices received, in order.
fn region_streamed(path: &Path, bbox: BoundingBox) -> Result<Vec<Vec<f64>>, IoError> {
    let (tx, rx) = mpsc::channel();
    let (slices, received) = mpsc::sync_channel(1);
    tx.send(RegionRequest::Stream(bbox, slices)).unwrap();
    let (read, got) = std::thread::scope(|s| {
        let consumer = s.spawn(move || received.iter().collect::<Vec<Vec<f64>>>());
        (read_region_as_requested(path, rx, &Default::default()), consumer.join().unwrap())
    });
    match read? {
        Some(RegionRead::Streamed(grid)) => assert_eq!(grid.dims, read_info_dims(path)),
        other => panic!("{other:?}"),
    }
    Ok(got)
}

fn read_info_dims(path: &Path) -> [usize; 3] {
    radx_io::read_info(path).unwrap().grid.dims
}

const SMOOTH_BOXES: [BoundingBox; 4] = [
    BoundingBox { min: [0, 0, 0], max: [63, 47, 19] },
    BoundingBox { min: [10, 5, 3], max: [40, 30, 12] },
    BoundingBox { min: [0, 0, 0], max: [63, 47, 0] },
    BoundingBox { min: [5, 5, 19], max: [6, 6, 19] },
];

/// Every gzip layout and box, also boxes that end before the last slice (reading stops
/// there, the CRC-32 uncomputed, across the end of a member too): both region readers give
/// the crop of the whole volume, whose values are known.
#[test]
fn gzip_members_and_byte_skip_read_as_the_crop() {
    let dir = tempfile::tempdir().unwrap();
    for path in gzip_files(dir.path()) {
        let whole = read_volume(&path).unwrap();
        assert_eq!(whole.data, smooth_volume().data, "{}", path.display());
        for bbox in SMOOTH_BOXES {
            let crop = whole.crop(&bbox);
            assert_eq!(region_when_known(&path, bbox).unwrap(), crop, "{} {bbox:?}", path.display());
            assert_eq!(read_region(&path, &bbox, &Default::default()).unwrap().1, crop);
            let [bx, by, bz] = bbox.dims();
            let slices = region_streamed(&path, bbox).unwrap();
            assert_eq!(slices.len(), bz);
            assert!(slices.iter().all(|s| s.len() == bx * by));
            assert_eq!(slices.concat(), crop.to_x_fastest(), "{} {bbox:?} streamed", path.display());
        }
    }
}

/// A damaged gzip file gives both region readers the same error, naming the file; damage
/// past the box's last slice goes unnoticed (reading stops there).
#[test]
fn damaged_gzip_files_give_both_region_readers_the_same_error() {
    let dir = tempfile::tempdir().unwrap();
    let files = gzip_files(dir.path());
    for source in [&files[0], &files[1]] {
        let bytes = std::fs::read(source).unwrap();
        let n = bytes.len();
        let mut damaged = vec![("cut", bytes[..n / 2].to_vec()), ("no trailer", bytes[..n - 5].to_vec())];
        for (what, at) in [("data byte", n / 2), ("CRC-32", n - 8), ("length", n - 2)] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x21;
            damaged.push((what, bad));
        }
        damaged.push(("junk after", [bytes.as_slice(), b"junk"].concat()));
        let name = source.file_name().unwrap().to_str().unwrap();
        let path = dir.path().join(format!("damaged.{}", if name.ends_with(".nrrd") { "nrrd" } else { "nii.gz" }));
        for (what, bad) in damaged {
            std::fs::write(&path, &bad).unwrap();
            let streamed = read_region(&path, &SMOOTH_BOXES[0], &Default::default()).map(|r| r.1);
            let region = region_when_known(&path, SMOOTH_BOXES[0]);
            let (Err(a), Err(b)) = (&streamed, &region) else { panic!("{name} {what}: {streamed:?} {region:?}") };
            assert_eq!(a.to_string(), b.to_string(), "{name} {what}");
            assert!(b.to_string().contains(&path.display().to_string()), "{b}");
            let sent = region_streamed(&path, SMOOTH_BOXES[0]);
            assert_eq!(sent.map(|_| ()).unwrap_err().to_string(), b.to_string(), "{name} {what} streamed");
            if what == "CRC-32" {
                // Reading stops after the first slice, before the trailer.
                let early = SMOOTH_BOXES[2];
                assert_eq!(region_when_known(&path, early).unwrap().data, smooth_volume().crop(&early).data);
            }
        }
    }
}
