//! Reading from memory ([`read_volume_bytes`], the fuzz targets' entry) agrees with reading
//! files, and every input the fuzzers (fuzz/, see fuzz/README.md) found to misbehave is
//! kept here as a regression test: it must come back as an `IoError`, quickly.

use std::io::Write;
use std::path::{Path, PathBuf};

use radx_io::{IoError, ReadOptions, read_volume, read_volume_bytes};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut out).unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

const SMALL: ReadOptions = ReadOptions::with_budget(64 << 20);

#[test]
fn bytes_and_files_read_the_same_volumes() {
    let nii_gz = data("ibsi/digital_phantom/image.nii.gz");
    let from_file = read_volume(&nii_gz).unwrap();
    let bytes = std::fs::read(&nii_gz).unwrap();
    assert_eq!(read_volume_bytes(Path::new("x.nii.gz"), &bytes, &SMALL).unwrap(), from_file);
    assert_eq!(read_volume_bytes(Path::new("x.nii"), &gunzip(&bytes), &SMALL).unwrap(), from_file);

    let nrrd = data("pyradiomics/data/breast1_label.nrrd");
    let bytes = std::fs::read(&nrrd).unwrap();
    assert_eq!(read_volume_bytes(Path::new("x.nrrd"), &bytes, &SMALL).unwrap(), read_volume(&nrrd).unwrap());
}

#[test]
fn bytes_refuse_detached_data_and_name_the_hint() {
    let header = b"NRRD0004\ntype: uchar\ndimension: 3\nsizes: 1 1 1\nencoding: raw\ndata file: other.raw\n\n";
    let err = read_volume_bytes(Path::new("upload.nrrd"), header, &SMALL).unwrap_err();
    assert!(matches!(err, IoError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("upload.nrrd") && err.to_string().contains("other.raw"), "{err}");
    let err = read_volume_bytes(Path::new("upload.mha"), header, &SMALL).unwrap_err();
    assert!(matches!(err, IoError::UnknownFormat { .. }), "{err}");
}

/// A 352-byte NIfTI-1 header of `dims` uint8 voxels (identity pixdim), no voxels.
fn nifti1_header(dims: [i16; 3]) -> Vec<u8> {
    let mut h = vec![0u8; 352];
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    for (i, d) in [3, dims[0], dims[1], dims[2], 1, 1, 1, 1].iter().enumerate() {
        h[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    h[70..72].copy_from_slice(&2i16.to_le_bytes()); // uint8
    for i in 0..4 {
        h[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes());
    }
    h[108..112].copy_from_slice(&352f32.to_le_bytes());
    h[344..348].copy_from_slice(b"n+1\0");
    h
}

/// A few dozen gzip bytes must not make the reader reserve what their header claims:
/// 2048 × 2048 × 64 uint8 voxels are 268 MB on disk and 2.1 GB as f64, within a 16 GiB
/// budget, but deflate expands at most 1032-fold, so < 200 bytes cannot hold 268 MB:
/// refused before decoding.
#[test]
fn tiny_gzip_claiming_gigabytes_is_refused_without_allocating() {
    let file = gzip(&nifti1_header([2048, 2048, 64]));
    assert!(file.len() < 200, "{}", file.len());
    let budget = ReadOptions::with_budget(16 << 30);
    let err = read_volume_bytes(Path::new("claim.nii.gz"), &file, &budget).unwrap_err();
    assert!(matches!(err, IoError::Corrupt { ref reason, .. } if reason.contains("gzip")), "{err}");
    let nrrd =
        [b"NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2048 2048 64\nencoding: gzip\n\n".as_slice(), &gzip(&[0u8; 16])]
            .concat();
    let err = read_volume_bytes(Path::new("claim.nrrd"), &nrrd, &budget).unwrap_err();
    assert!(matches!(err, IoError::Corrupt { ref reason, .. } if reason.contains("gzip")), "{err}");
}

/// A FIFO would block `open` until a writer appears, `/dev/zero` never ends, and a
/// directory is no image: all refused at once as unreadable, naming the path.
#[test]
fn pipes_devices_and_directories_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.nii");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    let zero = dir.path().join("zero.nii");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let mut paths = vec![dir.path().join("folder.nii.gz"), zero];
    std::fs::create_dir(&paths[0]).unwrap();
    if made {
        paths.push(fifo);
    }
    for path in &paths {
        let err = read_volume(path).unwrap_err();
        assert!(matches!(err, IoError::Unreadable { .. }), "{err}");
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
    }
    // A detached NRRD header whose data file is a device.
    let header = dir.path().join("dev.nhdr");
    std::fs::write(
        &header,
        "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: /dev/zero\n\n",
    )
    .unwrap();
    // Refused twice over: outside the header's folder, and (when allowed) a device.
    let err = read_volume(&header).unwrap_err();
    assert!(matches!(err, IoError::ExternalData { .. }), "{err}");
    let trusting = ReadOptions { allow_external_data: true, ..ReadOptions::default() };
    let err = radx_io::read_volume_with(&header, &trusting).unwrap_err();
    assert!(matches!(err, IoError::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("/dev/zero"), "{err}");
    let folder_err = read_volume(&paths[0]).unwrap_err();
    assert!(matches!(folder_err, IoError::Unreadable { .. }) && folder_err.to_string().contains("directory"));
}

/// The streaming readers (ROI box, label mask, box sent later) open files the same way:
/// pipes, devices, directories and a detached data file that is a device are refused.
#[test]
fn streaming_readers_refuse_pipes_devices_and_directories() {
    use radx_core::BoundingBox;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.nii");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    let zero = dir.path().join("zero.nii");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let header = dir.path().join("dev.nhdr");
    std::fs::write(
        &header,
        "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: /dev/zero\n\n",
    )
    .unwrap();
    let mut paths = vec![dir.path().join("folder.nii.gz"), zero, header];
    std::fs::create_dir(&paths[0]).unwrap();
    if made {
        paths.push(fifo);
    }
    // External data allowed, so that the detached device is refused as a device.
    let opts = ReadOptions { allow_external_data: true, ..ReadOptions::default() };
    let one = BoundingBox { min: [0, 0, 0], max: [0, 0, 0] };
    for path in &paths {
        let (_, rx) = std::sync::mpsc::channel();
        for err in [
            radx_io::read_region(path, &one, &opts).unwrap_err(),
            radx_io::read_label_mask(path, 1, &opts).unwrap_err(),
            radx_io::read_region_when_known(path, rx, &opts).unwrap_err(),
        ] {
            assert!(matches!(err, IoError::Unreadable { .. }), "{}: {err}", path.display());
        }
    }
}

/// The gzip claim bound holds for the streaming readers too: refused before decoding.
#[test]
fn streaming_readers_refuse_tiny_gzip_claiming_gigabytes() {
    use radx_core::BoundingBox;
    let dir = tempfile::tempdir().unwrap();
    let nii = dir.path().join("claim.nii.gz");
    std::fs::write(&nii, gzip(&nifti1_header([2048, 2048, 64]))).unwrap();
    let nrrd = dir.path().join("claim.nrrd");
    std::fs::write(
        &nrrd,
        [b"NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2048 2048 64\nencoding: gzip\n\n".as_slice(), &gzip(&[0u8; 16])]
            .concat(),
    )
    .unwrap();
    let budget = ReadOptions::with_budget(16 << 30);
    let one = BoundingBox { min: [0, 0, 0], max: [0, 0, 0] };
    for path in [&nii, &nrrd] {
        let (_, rx) = std::sync::mpsc::channel();
        for err in [
            radx_io::read_region(path, &one, &budget).unwrap_err(),
            radx_io::read_label_mask(path, 1, &budget).unwrap_err(),
            radx_io::read_region_when_known(path, rx, &budget).unwrap_err(),
            radx_io::read_volume_with(path, &budget).unwrap_err(),
        ] {
            assert!(matches!(err, IoError::Corrupt { ref reason, .. } if reason.contains("gzip")), "{err}");
        }
    }
}
