//! Mechanics tests of untrusted inputs (issue 27): an NRRD header's detached data file stays
//! in the header's folder unless allowed, strict NRRD headers (spacings, duplicate fields),
//! direction cosines orthonormal within ITK's tolerance (NRRD and NIfTI sform), and bounded
//! reads of text inputs. Expected deviations are worked by hand in the comments.

use std::io::ErrorKind;
use std::path::Path;

use radx_io::{
    Grid, IoError, ReadOptions, Volume, VoxelType, read_info, read_text_limited, read_volume, read_volume_with,
    write_nifti,
};

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// A 2×1×1 uchar detached header naming `data`.
fn detached(dir: &Path, name: &str, data: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    write(&path, &format!("NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 1 1\nencoding: raw\ndata file: {data}\n"));
    path
}

fn trusting() -> ReadOptions {
    ReadOptions { allow_external_data: true, ..ReadOptions::default() }
}

#[test]
fn detached_data_outside_the_header_folder_is_refused_unless_allowed() {
    let root = tempfile::tempdir().unwrap();
    let inner = root.path().join("upload");
    std::fs::create_dir_all(inner.join("sub")).unwrap();
    let secret = root.path().join("secret.raw");
    std::fs::write(&secret, [7u8, 9]).unwrap();
    std::fs::write(inner.join("sub/ok.raw"), [1u8, 2]).unwrap();
    std::os::unix::fs::symlink(&secret, inner.join("link.raw")).unwrap();

    // Beside or below the header: read.
    let below = detached(&inner, "below.nhdr", "sub/ok.raw");
    assert_eq!(read_volume(&below).unwrap().to_x_fastest(), vec![1.0, 2.0]);

    let cases = [
        (detached(&inner, "absolute.nhdr", &secret.display().to_string()), "absolute path"),
        (detached(&inner, "parent.nhdr", "../secret.raw"), "`..`"),
        (detached(&inner, "inner_parent.nhdr", "sub/../../secret.raw"), "`..`"),
        (detached(&inner, "link.nhdr", "link.raw"), "symbolic link"),
    ];
    for (header, why) in &cases {
        let err = read_volume(header).unwrap_err();
        assert!(matches!(err, IoError::ExternalData { .. }), "{}: {err}", header.display());
        let text = err.to_string();
        assert!(text.contains(&*header.to_string_lossy()), "names the header: {text}");
        assert!(text.contains(why), "says why ({why}): {text}");
        assert!(text.contains("--allow-external-data"), "says how to allow it: {text}");
        // Every reader refuses, not only the whole-volume one.
        let mask = radx_io::read_label_mask(header, 7, &ReadOptions::default()).unwrap_err();
        assert!(matches!(mask, IoError::ExternalData { .. }), "{mask}");
        // Allowed: the file outside is read.
        assert_eq!(read_volume_with(header, &trusting()).unwrap().to_x_fastest(), vec![7.0, 9.0]);
    }
}

fn nrrd_header(dir: &Path, name: &str, fields: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut bytes = format!("NRRD0004\ntype: uchar\ndimension: 3\nencoding: raw\n{fields}\n\n").into_bytes();
    bytes.extend_from_slice(&[0u8; 8]);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn corrupt_reason(path: &Path) -> String {
    match read_info(path).unwrap_err() {
        IoError::Corrupt { path: p, reason } => {
            assert_eq!(p, path);
            reason
        }
        other => panic!("{}: expected Corrupt, got {other}", path.display()),
    }
}

#[test]
fn nrrd_spacings_must_be_real_on_spatial_axes() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "nan", "inf", "-inf", "abc"] {
        let path = nrrd_header(dir.path(), "s.nrrd", &format!("sizes: 2 2 2\nspacings: 1 {bad} 1"));
        let reason = corrupt_reason(&path);
        assert!(reason.contains("spacings"), "{bad}: {reason}");
    }
    // A single-voxel axis may have any spacing (as in NIfTI); a negative one is a size.
    let path = nrrd_header(dir.path(), "ok.nrrd", "sizes: 2 2 2\nspacings: 0.5 -2 1");
    assert_eq!(read_info(&path).unwrap().grid.spacing, [0.5, 2.0, 1.0]);
}

#[test]
fn nrrd_duplicate_fields_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = nrrd_header(dir.path(), "d.nrrd", "sizes: 2 2 2\nsizes: 512 512 512");
    let reason = corrupt_reason(&path);
    assert!(reason.contains("`sizes` appears twice"), "{reason}");
    // The two spellings of one field are one field.
    let path = nrrd_header(dir.path(), "d2.nrrd", "sizes: 2 2 2\nbyte skip: 0\nbyteskip: 4");
    assert!(corrupt_reason(&path).contains("`byte skip` appears twice"));
    // Key/value pairs are free metadata, repeated or not.
    let path = nrrd_header(dir.path(), "kv.nrrd", "sizes: 2 2 2\nnote:=a\nnote:=b");
    assert!(read_info(&path).is_ok());
}

#[test]
fn nrrd_sheared_space_directions_are_refused_with_the_deviation() {
    let dir = tempfile::tempdir().unwrap();
    // Columns a = (1,0,0), b = (0.1,1,0)/√1.01, c = (0,0,1). D·Dᵀ − I has entries
    // 0.01/1.01 = 0.0099, 0.1/1.01 = 0.0990 and 1/1.01 − 1 = −0.0099: deviation 9.90e-2.
    let path = nrrd_header(
        dir.path(),
        "shear.nrrd",
        "sizes: 2 2 2\nspace: left-posterior-superior\nspace directions: (1,0,0) (0.1,1,0) (0,0,1)",
    );
    let reason = corrupt_reason(&path);
    assert!(reason.contains("9.90e-2"), "{reason}");
    assert!(reason.contains("1e-4"), "names ITK's tolerance: {reason}");
    // A shear far inside the tolerance (1e-6: deviation 1e-6) is rounding, and is read.
    let path = nrrd_header(
        dir.path(),
        "round.nrrd",
        "sizes: 2 2 2\nspace: left-posterior-superior\nspace directions: (1,0,0) (0.000001,1,0) (0,0,1)",
    );
    assert!(read_info(&path).is_ok());
}

/// A 2×2×2 grid rotated 30° about z, spacing (1, 2, 3).
fn rotated_grid() -> Grid {
    let (s, c) = (0.5f64, 3f64.sqrt() / 2.0);
    Grid {
        dims: [2, 2, 2],
        spacing: [1.0, 2.0, 3.0],
        origin: [4.0, 5.0, 6.0],
        direction: [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]],
    }
}

/// Overwrite bytes of a file in place.
fn patch(path: &Path, at: usize, bytes: &[u8]) {
    let mut raw = std::fs::read(path).unwrap();
    raw[at..at + bytes.len()].copy_from_slice(bytes);
    std::fs::write(path, raw).unwrap();
}

#[test]
fn nifti_sheared_sform_gives_way_to_the_qform_or_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shear.nii");
    let grid = rotated_grid();
    write_nifti(&path, &Volume::filled(grid, 1.0), VoxelType::U8).unwrap();
    // The sform (srow_x/y/z at offsets 280, 296, 312): identity with a 0.2 shear.
    let srow: [[f32; 4]; 3] = [[1.0, 0.2, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
    for (r, row) in srow.iter().enumerate() {
        let bytes: Vec<u8> = row.iter().flat_map(|v| v.to_le_bytes()).collect();
        patch(&path, 280 + 16 * r, &bytes);
    }
    // With its qform (written by radx for the rotated grid), ITK and radx use the qform.
    let g = read_info(&path).unwrap().grid;
    for r in 0..3 {
        for c in 0..3 {
            assert!((g.direction[r][c] - grid.direction[r][c]).abs() < 1e-6, "{:?}", g.direction);
        }
    }
    // Without one: refused, with the deviation. Column b = (0.2, 1, 0)/√1.04: D·Dᵀ entry
    // (0,1) = 0.2/1.04 = 0.1923.
    patch(&path, 252, &0i16.to_le_bytes());
    let err = read_info(&path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, IoError::Corrupt { .. }) && text.contains("1.92e-1"), "{text}");
    assert!(text.contains("not perpendicular") && text.contains("no qform"), "{text}");
}

#[test]
fn text_inputs_are_read_within_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.toml");
    std::fs::write(&file, "x = 1\n").unwrap(); // 6 bytes
    assert_eq!(read_text_limited(&file, 6).unwrap(), "x = 1\n");
    let err = read_text_limited(&file, 5).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FileTooLarge);
    // An endless device fails at the limit instead of filling memory.
    let err = read_text_limited(Path::new("/dev/zero"), 1 << 20).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FileTooLarge, "{err}");
    assert!(err.to_string().contains("regular file"), "{err}");
    // A pipe that ends is fine.
    let fifo = dir.path().join("fifo");
    if std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, "piped").unwrap())
        };
        assert_eq!(read_text_limited(&fifo, 1 << 20).unwrap(), "piped");
        writer.join().unwrap();
    }
    std::fs::write(&file, [0xffu8, 0xfe]).unwrap();
    assert_eq!(read_text_limited(&file, 100).unwrap_err().kind(), ErrorKind::InvalidData);
}
