//! Mechanics tests of radx-io: real phantom and clinical files, write→read round trips,
//! hand-built NIfTI-2 headers, and every error path naming its file.
//!
//! Expected values come from independent sources: the IBSI data README ("Verification",
//! computed with nibabel), the IBSI manual's digital phantom figure, and nibabel 5 / pynrrd 1.1
//! run once on the same files (numbers quoted in comments). None was printed by radx.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use radx_io::{
    Grid, ImageInfo, IoError, ReadOptions, Volume, VoxelType, read_info, read_volume, read_volume_with, write_nifti,
    write_nrrd,
};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn assert_close3(got: [f64; 3], want: [f64; 3], tol: f64, what: &str) {
    for i in 0..3 {
        assert!(close(got[i], want[i], tol), "{what}: got {got:?}, want {want:?}");
    }
}

fn count_equal(v: &Volume<f64>, value: f64) -> usize {
    v.data.iter().filter(|&&x| x == value).count()
}

fn stats(v: &Volume<f64>) -> (f64, f64, f64) {
    let min = v.data.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = v.data.iter().sum::<f64>() / v.data.len() as f64;
    (min, max, mean)
}

// ---------------------------------------------------------------- real files

#[test]
fn ibsi_digital_phantom() {
    let image = read_volume(&data("ibsi/digital_phantom/image.nii.gz")).unwrap();
    assert_eq!(image.grid.dims, [5, 4, 4]);
    assert_eq!(image.grid.spacing, [2.0, 2.0, 2.0]);
    // nibabel: sform diag(-2, -2, 2) in RAS+ → identity direction in LPS.
    assert_eq!(image.grid.direction, radx_core::grid::IDENTITY);
    assert_close3(image.grid.origin, [0.0; 3], 0.0, "origin");
    // First slice as printed in the IBSI manual's digital phantom figure (rows are y).
    let slice0 =
        [[1.0, 4.0, 4.0, 1.0, 1.0], [1.0, 4.0, 6.0, 1.0, 1.0], [4.0, 1.0, 6.0, 4.0, 1.0], [4.0, 4.0, 6.0, 4.0, 1.0]];
    for (y, row) in slice0.iter().enumerate() {
        for (x, &want) in row.iter().enumerate() {
            assert_eq!(image.data[[x, y, 0]], want, "voxel [{x}, {y}, 0]");
        }
    }
    // nibabel: sum 173, min 1, max 9.
    assert_eq!(image.data.sum(), 173.0);
    let mask = read_volume(&data("ibsi/digital_phantom/mask.nii.gz")).unwrap();
    assert_eq!(mask.grid, image.grid);
    assert_eq!(count_equal(&mask, 1.0), 74);
    assert_eq!(count_equal(&mask, 0.0), 80 - 74);

    let info = read_info(&data("ibsi/digital_phantom/image.nii.gz")).unwrap();
    assert_eq!(info.format, "NIfTI-1");
    assert_eq!(info.datatype, "int16");
    assert_eq!(info.orientation, "LPS");
    assert_eq!(info.scale, None); // scl_slope is NaN in this file: no scaling
}

#[test]
fn ibsi_ct_phantom() {
    let path = data("ibsi/ct_phantom/image.nii.gz");
    let image = read_volume(&path).unwrap();
    assert_eq!(image.grid.dims, [204, 201, 60]);
    assert_close3(image.grid.spacing, [0.977, 0.977, 3.0], 1e-6, "spacing");
    // nibabel RAS+ translation (174.3945, 79.6255, −100.4) → LPS (−174.3945, −79.6255, −100.4).
    assert_close3(image.grid.origin, [-174.3945, -79.6255, -100.4], 1e-3, "origin");
    let (min, max, mean) = stats(&image);
    assert_eq!((min, max), (-1000.0, 3065.0));
    assert!(close(mean, -266.5, 0.1), "mean {mean}");
    let info = read_info(&path).unwrap();
    assert_eq!((info.datatype.as_str(), info.orientation.as_str()), ("float32", "LPS"));

    let mask = read_volume(&data("ibsi/ct_phantom/mask.nii.gz")).unwrap();
    assert!(mask.grid.check_matches(&image.grid, 1e-9).is_ok());
    assert_eq!(count_equal(&mask, 1.0), 125_256);
}

#[test]
fn pyradiomics_brain2() {
    let path = data("pyradiomics/data/brain2_image.nrrd");
    let image = read_volume(&path).unwrap();
    let g = image.grid;
    assert_eq!(g.dims, [256, 256, 23]);
    assert_close3(g.spacing, [0.78125, 0.78125, 6.5], 1e-12, "spacing");
    assert_eq!(g.direction, [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
    // The header's text: (-109.99999999999999, 103.41874694824213, -62.700000762939432).
    assert_close3(g.origin, [-110.0, 103.418_746_948_242_13, -62.700_000_762_939_43], 1e-12, "origin");
    // pynrrd: image[10, 20, 5] = 9, max 1523, sum 356 034 155.
    assert_eq!(image.data[[10, 20, 5]], 9.0);
    assert_eq!(stats(&image).1, 1523.0);
    assert_eq!(image.data.sum(), 356_034_155.0);
    let info = read_info(&path).unwrap();
    assert_eq!((info.format, info.datatype.as_str(), info.orientation.as_str()), ("NRRD", "int16", "LAS"));

    let label = read_volume(&data("pyradiomics/data/brain2_label.nrrd")).unwrap();
    assert_eq!(label.grid, g);
    assert_eq!(count_equal(&label, 1.0), 453);
}

#[test]
fn pyradiomics_breast1() {
    let image = read_volume(&data("pyradiomics/data/breast1_image.nrrd")).unwrap();
    assert_eq!(image.grid.dims, [45, 120, 21]);
    assert_close3(image.grid.spacing, [0.664062, 0.664062, 2.1], 1e-12, "spacing");
    assert_close3(image.grid.origin, [-116.54304, -48.144_654, 9.45], 1e-12, "origin");
    // pynrrd: [10, 20, 5] = 69, [40, 100, 20] = 51, min 6, max 248, sum 7 187 342.
    assert_eq!(image.data[[10, 20, 5]], 69.0);
    assert_eq!(image.data[[40, 100, 20]], 51.0);
    let (min, max, _) = stats(&image);
    assert_eq!((min, max, image.data.sum()), (6.0, 248.0, 7_187_342.0));
    let label = read_volume(&data("pyradiomics/data/breast1_label.nrrd")).unwrap();
    assert_eq!(count_equal(&label, 1.0), 143);
}

// ---------------------------------------------------------------- round trips

/// A grid with an oblique, improper (det −1) direction and a non-trivial origin.
fn oblique_grid(dims: [usize; 3]) -> Grid {
    let (s, c) = (0.6, 0.8); // a rotation by atan(3/4) about z, then z flipped
    Grid {
        dims,
        spacing: [0.5, 1.25, 3.0],
        origin: [-12.5, 40.25, 7.0],
        direction: [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, -1.0]],
    }
}

/// Values exercising the type's whole range (both ends, zero, negatives, fractions for floats).
fn sample_values(kind: VoxelType, n: usize) -> Vec<f64> {
    let (lo, hi): (f64, f64) = match kind {
        VoxelType::U8 => (0.0, 255.0),
        VoxelType::I8 => (-128.0, 127.0),
        VoxelType::U16 => (0.0, 65535.0),
        VoxelType::I16 => (-32768.0, 32767.0),
        VoxelType::U32 => (0.0, 4_294_967_295.0),
        VoxelType::I32 => (-2_147_483_648.0, 2_147_483_647.0),
        // Stay inside the integers f64 represents exactly.
        VoxelType::U64 => (0.0, 9_007_199_254_740_992.0),
        VoxelType::I64 => (-9_007_199_254_740_992.0, 9_007_199_254_740_992.0),
        VoxelType::F32 => (-1.5 * 2f64.powi(100), 2f64.powi(120)), // exact in f32
        VoxelType::F64 => (-1e300, 1e300),
    };
    let mut v: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 - 50.0).collect();
    v[0] = lo;
    v[1] = hi;
    v[2] = 0.0;
    if matches!(kind, VoxelType::F32 | VoxelType::F64) {
        v[3] = 0.15625; // exact in f32
        v[4] = -7.75;
    }
    if matches!(kind, VoxelType::U8 | VoxelType::U16 | VoxelType::U32 | VoxelType::U64) {
        v.iter_mut().for_each(|x| *x = x.abs());
    }
    v
}

fn assert_grid_close(got: &Grid, want: &Grid, tol: f64) {
    assert_eq!(got.dims, want.dims);
    assert_close3(got.spacing, want.spacing, tol, "spacing");
    assert_close3(got.origin, want.origin, tol, "origin");
    for r in 0..3 {
        assert_close3(got.direction[r], want.direction[r], tol, "direction row");
    }
}

#[test]
fn round_trip_every_type_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let grid = oblique_grid([4, 3, 2]);
    for kind in VoxelType::ALL {
        let volume = Volume::from_x_fastest(grid, sample_values(kind, grid.len()));
        for name in ["v.nii", "v.nii.gz", "v.nrrd"] {
            let path = dir.path().join(format!("{}_{name}", kind.name()));
            if name.ends_with(".nrrd") {
                write_nrrd(&path, &volume, kind).unwrap();
            } else {
                write_nifti(&path, &volume, kind).unwrap();
            }
            let back = read_volume(&path).unwrap();
            assert_eq!(back.data, volume.data, "{}", path.display());
            // NIfTI-1 stores geometry as f32; NRRD prints shortest round-trip decimals.
            let tol = if name.ends_with(".nrrd") { 0.0 } else { 1e-5 };
            assert_grid_close(&back.grid, &grid, tol);
            let info = read_info(&path).unwrap();
            assert_eq!(info.datatype, kind.name());
            assert_eq!(info.orientation, "LPI");
        }
    }
    // Only the written files remain: no temporary files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3 * VoxelType::ALL.len());
}

#[test]
fn written_nifti_geometry_matches_independent_reader() {
    // The header written for oblique_grid, read by the `nifti` crate alone (not radx's reader):
    // srow_x must be the RAS+ first row −(0.8·0.5, −0.6·1.25, 0) and −origin.x.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.nii");
    write_nifti(&path, &Volume::filled(oblique_grid([2, 2, 2]), 1.0), VoxelType::U8).unwrap();
    let h = nifti::NiftiHeader::from_file(&path).unwrap();
    assert_eq!(h.sform_code, 1);
    assert_eq!(h.srow_x, [-0.4, 0.75, 0.0, 12.5]);
    assert_eq!(h.srow_y, [-0.3, -1.0, 0.0, -40.25]);
    assert_eq!(h.srow_z, [0.0, 0.0, -3.0, 7.0]);
    assert_eq!(&h.dim[..4], &[3, 2, 2, 2]);
}

/// Overwrite bytes of a file in place.
fn patch(path: &Path, at: usize, bytes: &[u8]) {
    let mut raw = std::fs::read(path).unwrap();
    raw[at..at + bytes.len()].copy_from_slice(bytes);
    std::fs::write(path, raw).unwrap();
}

#[test]
fn nifti_qform_and_pixdim_fallbacks() {
    let dir = tempfile::tempdir().unwrap();
    let grid = oblique_grid([3, 2, 2]);
    let path = dir.path().join("q.nii");
    write_nifti(&path, &Volume::filled(grid, 5.0), VoxelType::I16).unwrap();
    // sform_code (offset 254) = 0: the qform alone must give the same grid.
    patch(&path, 254, &0i16.to_le_bytes());
    assert_grid_close(&read_info(&path).unwrap().grid, &grid, 1e-5);
    // A negative pixdim (which makes the nifti crate's qform_affine panic) is read by magnitude.
    patch(&path, 80, &(-0.5f32).to_le_bytes());
    assert_grid_close(&read_info(&path).unwrap().grid, &grid, 1e-5);
    // qform_code (252) = 0 too: method 1, diag(pixdim) in RAS+ → LPS direction diag(−1, −1, 1).
    patch(&path, 252, &0i16.to_le_bytes());
    let g = read_info(&path).unwrap().grid;
    assert_close3(g.spacing, [0.5, 1.25, 3.0], 1e-6, "spacing");
    assert_eq!(g.direction, [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
    assert_eq!(g.origin, [0.0; 3]);
    assert_eq!(read_info(&path).unwrap().orientation, "RAS");
}

#[test]
fn nifti_scaling_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.nii");
    let volume = Volume::from_x_fastest(Grid::new([2, 2, 1], [1.0; 3]), vec![0.0, 1.0, 2.0, 3.0]);
    write_nifti(&path, &volume, VoxelType::U8).unwrap();
    patch(&path, 112, &2.0f32.to_le_bytes()); // scl_slope
    patch(&path, 116, &(-1.0f32).to_le_bytes()); // scl_inter
    // value·2 − 1
    assert_eq!(read_volume(&path).unwrap().to_x_fastest(), vec![-1.0, 1.0, 3.0, 5.0]);
    assert_eq!(read_info(&path).unwrap().scale, Some((2.0, -1.0)));
    patch(&path, 112, &0.0f32.to_le_bytes()); // slope 0: no scaling
    assert_eq!(read_volume(&path).unwrap().to_x_fastest(), vec![0.0, 1.0, 2.0, 3.0]);
    assert_eq!(read_info(&path).unwrap().scale, None);
}

#[test]
fn nifti_two_d_and_singleton_fourth_axis() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.nii");
    write_nifti(&path, &Volume::filled(Grid::new([3, 2, 1], [1.0; 3]), 7.0), VoxelType::F32).unwrap();
    patch(&path, 40, &2i16.to_le_bytes()); // dim[0] = 2: a 2D image
    let v = read_volume(&path).unwrap();
    assert_eq!(v.grid.dims, [3, 2, 1]);
    patch(&path, 40, &4i16.to_le_bytes()); // dim[0] = 4 with dim[4] = 1: still 3D
    assert_eq!(read_volume(&path).unwrap().grid.dims, [3, 2, 1]);
}

/// A hand-built single-file NIfTI-2 (`nifti2.h` layout): 540-byte header, 4-byte extension
/// flag, voxels at 544.
fn nifti2_file(big_endian: bool, dim: [i64; 8], datatype: i16, srow: [[f64; 4]; 3], voxels: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 544];
    let mut put = |at: usize, le: &[u8]| {
        let mut v = le.to_vec();
        if big_endian {
            v.reverse();
        }
        b[at..at + v.len()].copy_from_slice(&v);
    };
    put(0, &540i32.to_le_bytes());
    put(12, &datatype.to_le_bytes());
    put(14, &0i16.to_le_bytes());
    for (i, d) in dim.iter().enumerate() {
        put(16 + 8 * i, &d.to_le_bytes());
    }
    for i in 0..8 {
        put(104 + 8 * i, &1.0f64.to_le_bytes());
    }
    put(168, &544i64.to_le_bytes()); // vox_offset
    put(176, &0.0f64.to_le_bytes()); // scl_slope 0: none
    put(348, &1i32.to_le_bytes()); // sform_code
    for (r, row) in srow.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put(400 + 32 * r + 8 * c, &v.to_le_bytes());
        }
    }
    b[4..12].copy_from_slice(b"n+2\0\r\n\x1a\n");
    b.extend_from_slice(voxels);
    b
}

#[test]
fn nifti2_both_byte_orders() {
    let dir = tempfile::tempdir().unwrap();
    // RAS+ sform: x step 1.5 towards R (→ L negative), y step 2 towards A, z 4; origin (10, 20, 30).
    let srow = [[-1.5, 0.0, 0.0, 10.0], [0.0, 2.0, 0.0, 20.0], [0.0, 0.0, 4.0, 30.0]];
    let values: [i32; 4] = [-7, 0, 65536, 2_000_000_000];
    for big in [false, true] {
        let voxels: Vec<u8> = values.iter().flat_map(|v| if big { v.to_be_bytes() } else { v.to_le_bytes() }).collect();
        let bytes = nifti2_file(big, [3, 2, 2, 1, 1, 1, 1, 1], 8, srow, &voxels);
        let path = dir.path().join(if big { "be.nii" } else { "le.nii" });
        std::fs::write(&path, bytes).unwrap();
        let v = read_volume(&path).unwrap();
        assert_eq!(v.to_x_fastest(), values.map(f64::from).to_vec());
        assert_eq!(v.grid.spacing, [1.5, 2.0, 4.0]);
        // LPS: negate the first two rows → columns (1.5, 0, 0), (0, −2, 0), (0, 0, 4); origin (−10, −20, 30).
        assert_eq!(v.grid.direction, [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
        assert_eq!(v.grid.origin, [-10.0, -20.0, 30.0]);
        let info = read_info(&path).unwrap();
        assert_eq!((info.format, info.datatype.as_str(), info.orientation.as_str()), ("NIfTI-2", "int32", "LAS"));
    }
}

// ---------------------------------------------------------------- NRRD variants

fn write_text(path: &Path, header: &str, data: &[u8]) {
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn nrrd_detached_header_with_skips_and_big_endian() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    // Two junk lines, then 3 junk bytes, then 2×2×1 big-endian u16: 1, 258, 513, 65535.
    let mut raw = b"junk line 1\njunk line 2\nxyz".to_vec();
    raw.extend_from_slice(&[0, 1, 1, 2, 2, 1, 255, 255]);
    std::fs::write(dir.path().join("sub/data.raw"), raw).unwrap();
    let header = "NRRD0005\n# a comment\ntype: unsigned short\ndimension: 3\nsizes: 2 2 1\n\
                  spacings: 0.5 0.25 nan\nendian: big\nencoding: raw\nline skip: 2\nbyte skip: 3\n\
                  data file: sub/data.raw\nsome key:=some: value\n";
    let path = dir.path().join("d.nhdr");
    write_text(&path, header, b"");
    let v = read_volume(&path).unwrap();
    assert_eq!(v.to_x_fastest(), vec![1.0, 258.0, 513.0, 65535.0]);
    assert_eq!(v.grid.spacing, [0.5, 0.25, 1.0]);
    assert_eq!(v.grid.direction, radx_core::grid::IDENTITY);
}

#[test]
fn nrrd_raw_byte_skip_minus_one_and_ras_space() {
    let dir = tempfile::tempdir().unwrap();
    let header = "NRRD0004\ntype: int8\ndimension: 3\nsizes: 2 1 1\nspace: right-anterior-superior\n\
                  space directions: (2,0,0) (0, 3, 0) (0,0,4)\nspace origin: (1,2,3)\nencoding: raw\n\
                  byte skip: -1\n\n";
    let path = dir.path().join("r.nrrd");
    write_text(&path, header, &[0xAA, 0xBB, 0xFF, 0x05]); // the last two bytes are the data: −1, 5
    let v = read_volume(&path).unwrap();
    assert_eq!(v.to_x_fastest(), vec![-1.0, 5.0]);
    // RAS → LPS: x and y negated.
    assert_eq!(v.grid.origin, [-1.0, -2.0, 3.0]);
    assert_eq!(v.grid.direction, [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
    assert_eq!(read_info(&path).unwrap().orientation, "RAS");
}

#[test]
fn nrrd_non_spatial_axis_of_size_one_and_two_d() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.nrrd");
    let header = "NRRD0004\ntype: uint8\ndimension: 4\nsizes: 1 2 2 1\nspace: left-posterior-superior\n\
                  space directions: none (1,0,0) (0,1,0) (0,0,1)\nkinds: list domain domain domain\n\
                  encoding: raw\n\n";
    write_text(&path, header, &[1, 2, 3, 4]);
    assert_eq!(read_volume(&path).unwrap().grid.dims, [2, 2, 1]);
    // The same axis with two entries is a real 4th dimension.
    let header4 = header.replace("sizes: 1 2 2 1", "sizes: 2 2 2 1");
    write_text(&path, &header4, &[0; 8]);
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::NotThreeD { ref dims, .. } if dims == &vec![2, 2, 2, 1]), "{err}");
    // A 2D image without geometry is one slice.
    write_text(&path, "NRRD0001\ntype: uchar\ndimension: 2\nsizes: 3 2\nencoding: raw\n\n", &[0, 1, 2, 3, 4, 5]);
    let v = read_volume(&path).unwrap();
    assert_eq!(v.grid.dims, [3, 2, 1]);
    assert_eq!(v.data[[2, 1, 0]], 5.0);
}

// ---------------------------------------------------------------- errors

/// The error's message names the file.
fn assert_names(err: &IoError, path: &Path) {
    let text = err.to_string();
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(text.contains(&*name), "message does not name {name}: {text}");
    assert_eq!(err.path().file_name(), path.file_name());
}

#[test]
fn missing_file_and_unknown_format() {
    let path = Path::new("/nonexistent/dir/absent_image.nii.gz");
    let err = read_volume(path).unwrap_err();
    assert!(matches!(err, IoError::NotFound { .. }), "{err}");
    assert_names(&err, path);
    let path = Path::new("image.mha");
    let err = read_info(path).unwrap_err();
    assert!(matches!(err, IoError::UnknownFormat { .. }), "{err}");
    assert_names(&err, path);
}

#[test]
fn garbage_bytes_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for name in ["g.nii", "g.nii.gz", "g.nrrd", "g.nhdr"] {
        let path = dir.path().join(name);
        std::fs::write(&path, &garbage).unwrap();
        let err = read_volume(&path).unwrap_err();
        assert!(matches!(err, IoError::Corrupt { .. }), "{name}: {err}");
        assert_names(&err, &path);
    }
    // Shorter than any header.
    let path = dir.path().join("short.nii");
    std::fs::write(&path, 348i32.to_le_bytes()).unwrap();
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::Truncated { what: "header", expected: 348, got: 4, .. }), "{err}");
}

#[test]
fn truncated_gzip_is_an_error_not_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(data("ibsi/ct_phantom/image.nii.gz")).unwrap();
    let path = dir.path().join("half.nii.gz");
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::Truncated { .. } | IoError::Corrupt { .. }), "{err}");
    assert_names(&err, &path);
    // Cut inside the 8-byte gzip trailer: all voxels decompress, the CRC check must still fail.
    let path = dir.path().join("trailer.nii.gz");
    std::fs::write(&path, &full[..full.len() - 4]).unwrap();
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::Corrupt { ref reason, .. } if reason.contains("trailer")), "{err}");
    assert_names(&err, &path);
    // Same for a gzip NRRD.
    let full = std::fs::read(data("pyradiomics/data/breast1_image.nrrd")).unwrap();
    let path = dir.path().join("half.nrrd");
    std::fs::write(&path, &full[..full.len() * 2 / 3]).unwrap();
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::Truncated { .. } | IoError::Corrupt { .. }), "{err}");
    assert_names(&err, &path);
}

#[test]
fn truncated_raw_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.nii");
    write_nifti(&path, &Volume::filled(Grid::new([10, 10, 10], [1.0; 3]), 1.0), VoxelType::I16).unwrap();
    let raw = std::fs::read(&path).unwrap();
    std::fs::write(&path, &raw[..352 + 1500]).unwrap();
    let err = read_volume(&path).unwrap_err();
    // 1000 voxels × 2 bytes announced, 1500 present.
    assert!(matches!(err, IoError::Truncated { expected: 2000, got: 1500, .. }), "{err}");
    assert_names(&err, &path);
    // The header alone still reads.
    assert_eq!(read_info(&path).unwrap().grid.dims, [10, 10, 10]);

    let path = dir.path().join("cut.nrrd");
    write_text(&path, "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\nendian: little\nencoding: raw\n\n", &[0; 20]);
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::Truncated { expected: 32, got: 20, .. }), "{err}");
    assert_names(&err, &path);
}

#[test]
fn four_d_and_complex_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fourd.nii");
    write_nifti(&path, &Volume::filled(Grid::new([2, 2, 2], [1.0; 3]), 1.0), VoxelType::U8).unwrap();
    patch(&path, 40, &4i16.to_le_bytes());
    patch(&path, 48, &3i16.to_le_bytes()); // dim[4] = 3 time points
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::NotThreeD { ref dims, .. } if dims == &vec![2, 2, 2, 3]), "{err}");
    assert_names(&err, &path);

    let path = dir.path().join("complex.nii");
    write_nifti(&path, &Volume::filled(Grid::new([2, 2, 2], [1.0; 3]), 1.0), VoxelType::F64).unwrap();
    patch(&path, 70, &32i16.to_le_bytes()); // NIFTI_TYPE_COMPLEX64
    let err = read_info(&path).unwrap_err();
    assert!(matches!(err, IoError::UnsupportedDatatype { .. }), "{err}");
    assert!(err.to_string().contains("complex64"), "{err}");
    assert_names(&err, &path);
}

#[test]
fn huge_claims_are_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    // NIfTI-2 claiming 100000³ float64 voxels (8·10¹⁵ bytes) in a 544-byte file.
    let identity = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
    let path = dir.path().join("huge.nii");
    std::fs::write(&path, nifti2_file(false, [3, 100_000, 100_000, 100_000, 1, 1, 1, 1], 64, identity, &[])).unwrap();
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::TooLarge { needed: 8_000_000_000_000_000, .. }), "{err}");
    assert_names(&err, &path);
    // NIfTI-1's largest claim, 32767³ int16.
    let path = dir.path().join("huge1.nii");
    write_nifti(&path, &Volume::filled(Grid::new([1, 1, 1], [1.0; 3]), 1.0), VoxelType::I16).unwrap();
    for at in [42, 44, 46] {
        patch(&path, at, &32767i16.to_le_bytes());
    }
    assert!(matches!(read_volume(&path).unwrap_err(), IoError::TooLarge { .. }));
    // NRRD, same claim; and a small file against a small explicit budget.
    let path = dir.path().join("huge.nrrd");
    write_text(
        &path,
        "NRRD0004\ntype: double\ndimension: 3\nsizes: 100000 100000 100000\nendian: little\nencoding: gzip\n\n",
        &[],
    );
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::TooLarge { .. }), "{err}");
    assert_names(&err, &path);
    let err = read_volume_with(&data("ibsi/digital_phantom/image.nii.gz"), &ReadOptions::with_budget(639)).unwrap_err();
    assert!(matches!(err, IoError::TooLarge { needed: 640, budget: 639, .. }), "{err}");
    assert!(ReadOptions::default().max_bytes > 0);
}

#[test]
fn nrrd_bad_headers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.nrrd");
    type Check = fn(&IoError) -> bool;
    let cases: [(&str, Check); 6] = [
        (
            "type: short\ndimension: 3\nsizes: 2 2 2\nendian: little\nencoding: bzip2\n",
            |e| matches!(e, IoError::Unsupported { what, .. } if what.contains("bzip2")),
        ),
        (
            "type: short\ndimension: 3\nsizes: 2 2\nendian: little\nencoding: raw\n",
            |e| matches!(e, IoError::Corrupt { reason, .. } if reason.contains("sizes")),
        ),
        (
            "type: short\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n",
            |e| matches!(e, IoError::Corrupt { reason, .. } if reason.contains("endian")),
        ),
        ("type: block\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n", |e| {
            matches!(e, IoError::UnsupportedDatatype { .. })
        }),
        (
            "type: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\nspace directions: (1,0,0) (0,1,0)\n",
            |e| matches!(e, IoError::Corrupt { reason, .. } if reason.contains("space directions")),
        ),
        ("type: uchar\ndimension: 3\nsizes: 2 0 2\nencoding: raw\n", |e| matches!(e, IoError::Corrupt { .. })),
    ];
    for (fields, expected) in cases {
        write_text(&path, &format!("NRRD0004\n{fields}\n"), &[0; 16]);
        let err = read_volume(&path).unwrap_err();
        assert!(expected(&err), "{fields:?} gave {err}");
        assert_names(&err, &path);
    }
    // A detached header whose data file is missing names the data file.
    let path = dir.path().join("lost.nhdr");
    write_text(&path, "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: lost.raw\n", &[]);
    let err = read_volume(&path).unwrap_err();
    assert!(matches!(err, IoError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("lost.raw"), "{err}");
}

#[test]
fn writers_refuse_bad_input_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let volume = Volume::from_x_fastest(Grid::new([2, 1, 1], [1.0; 3]), vec![1.0, 300.0]);
    let path = dir.path().join("o.nii.gz");
    let err = write_nifti(&path, &volume, VoxelType::U8).unwrap_err();
    assert!(matches!(err, IoError::ValueOutOfRange { value: 300.0, .. }), "{err}");
    assert_names(&err, &path);
    let err = write_nrrd(&dir.path().join("o.nrrd"), &volume, VoxelType::I8).unwrap_err();
    assert!(matches!(err, IoError::ValueOutOfRange { .. }), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "temporary files were left behind");
    let err = write_nifti(&dir.path().join("o.img"), &volume, VoxelType::F32).unwrap_err();
    assert!(matches!(err, IoError::UnknownFormat { .. }), "{err}");
    let path = dir.path().join("no/such/dir/o.nii");
    let err = write_nifti(&path, &volume, VoxelType::F32).unwrap_err();
    assert!(matches!(err, IoError::Write { .. }), "{err}");
    assert_names(&err, &path);
}

#[test]
fn info_agrees_with_volume() {
    let path = data("pyradiomics/data/breast1_label.nrrd");
    let info: ImageInfo = read_info(&path).unwrap();
    assert_eq!(info.grid, read_volume(&path).unwrap().grid);
    assert_eq!(info.scale, None);
}

// ---------------------------------------------------------------- properties

fn arb_kind() -> impl Strategy<Value = VoxelType> {
    proptest::sample::select(VoxelType::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any small volume of in-range integers written in any type and format reads back
    /// bit-identically, with the geometry kept (exactly for NRRD, to f32 for NIfTI-1).
    #[test]
    fn write_read_round_trip(
        kind in arb_kind(),
        dims in (1usize..5, 1usize..5, 1usize..4),
        seed in any::<u64>(),
        spacing in proptest::array::uniform3(0.1f64..5.0),
        origin in proptest::array::uniform3(-500.0f64..500.0),
        format in 0usize..3,
    ) {
        let grid = Grid { dims: [dims.0, dims.1, dims.2], spacing, origin, direction: radx_core::grid::IDENTITY };
        let range: i64 = if kind.size() == 1 { 127 } else { 30000 };
        let values: Vec<f64> = (0..grid.len() as u64)
            .map(|i| {
                let r = (seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 40;
                let v = (r as i64 % (2 * range + 1)) - range;
                if matches!(kind, VoxelType::U8 | VoxelType::U16 | VoxelType::U32 | VoxelType::U64) { v.abs() as f64 } else { v as f64 }
            })
            .collect();
        let volume = Volume::from_x_fastest(grid, values);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(["p.nii", "p.nii.gz", "p.nrrd"][format]);
        if format == 2 { write_nrrd(&path, &volume, kind).unwrap() } else { write_nifti(&path, &volume, kind).unwrap() }
        let back = read_volume(&path).unwrap();
        prop_assert_eq!(&back.data, &volume.data);
        let tol = if format == 2 { 0.0 } else { 1e-4 };
        for a in 0..3 {
            prop_assert!(close(back.grid.spacing[a], spacing[a], tol * spacing[a]));
            prop_assert!(close(back.grid.origin[a], origin[a], tol * origin[a].abs().max(1.0)));
        }
    }
}

/// `tests/data/nrrd/las_oblique.nrrd`: written by pynrrd in `left-anterior-superior` space
/// with an oblique direction, read by SimpleITK into `las_oblique.json` (LPS), both by
/// `make_las_fixture.py` beside them. radx's LAS → LPS conversion (negating y) must agree.
#[test]
fn nrrd_las_space_matches_simpleitk() {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("nrrd/las_oblique.json")).unwrap()).unwrap();
    let floats =
        |key: &str| -> Vec<f64> { json[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect() };
    let v = read_volume(&data("nrrd/las_oblique.nrrd")).unwrap();
    let g = v.grid;
    assert_eq!(g.dims.map(|d| d as f64).to_vec(), floats("dims"));
    let spacing = floats("spacing");
    assert_close3(g.spacing, [spacing[0], spacing[1], spacing[2]], 1e-12, "spacing");
    let origin = floats("origin_lps");
    assert_close3(g.origin, [origin[0], origin[1], origin[2]], 1e-12, "origin");
    let d = floats("direction_lps");
    for r in 0..3 {
        assert_close3(g.direction[r], [d[3 * r], d[3 * r + 1], d[3 * r + 2]], 1e-12, "direction row");
    }
    let corner = floats("world_lps_of_index_3_2_1");
    assert_close3(g.index_to_world([3.0, 2.0, 1.0]), [corner[0], corner[1], corner[2]], 1e-9, "world point");
    assert_eq!(v.to_x_fastest(), floats("values_x_fastest"));
    assert_eq!(read_info(&data("nrrd/las_oblique.nrrd")).unwrap().orientation, "LAS");
}

/// `tests/data/nrrd/spaces/*.nrrd`: one header per `space` value radx reads (the three
/// anatomical spaces, their abbreviations, and the three without anatomical meaning), each
/// with an oblique direction and a non-zero origin, read by SimpleITK 2.5.7 into
/// `spaces.json` by `make_space_fixtures.py`. radx must read each as SimpleITK does.
#[test]
fn every_nrrd_space_reads_as_simpleitk_reads_it() {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("nrrd/spaces.json")).unwrap()).unwrap();
    let files = json["files"].as_object().unwrap();
    assert_eq!(files.len(), 9, "every space value radx reads has a fixture");
    for (name, expected) in files {
        let floats = |key: &str| -> Vec<f64> {
            expected[key]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: {key}"))
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let v = read_volume(&data(&format!("nrrd/spaces/{name}"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        let g = v.grid;
        assert_eq!(g.dims.map(|d| d as f64).to_vec(), floats("dims"), "{name}");
        let [spacing, origin, d] = [floats("spacing"), floats("origin_lps"), floats("direction_lps")];
        assert_close3(g.spacing, [spacing[0], spacing[1], spacing[2]], 1e-12, name);
        assert_close3(g.origin, [origin[0], origin[1], origin[2]], 1e-12, name);
        for r in 0..3 {
            assert_close3(g.direction[r], [d[3 * r], d[3 * r + 1], d[3 * r + 2]], 1e-12, name);
        }
        let corner = floats("world_lps_of_index_2_3_1");
        assert_close3(g.index_to_world([2.0, 3.0, 1.0]), [corner[0], corner[1], corner[2]], 1e-9, name);
        assert_eq!(v.to_x_fastest(), floats("values_x_fastest"), "{name}");
    }
}

#[test]
fn nibabel_big_endian_qform_fixture() {
    // Written by nibabel (see tests/data/README.md); expectations from nibabel's own reading.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nibabel_be_qform.nii");
    let v = read_volume(&path).unwrap();
    let g = v.grid;
    assert_eq!(g.dims, [3, 4, 2]);
    assert_close3(g.spacing, [0.9, 1.1, 2.5], 1e-6, "spacing");
    assert_close3(g.origin, [-5.5, 20.25, 33.0], 1e-6, "origin");
    // nibabel LPS affine columns divided by the spacing.
    let lps = [
        [-0.8426640019065637, 0.31859244552261645, -0.49667332237968237],
        [-0.24758626757875193, -1.0520676134166018, -0.24460848218054132],
        [0.19651558992073367, 0.04065271095391223, -2.4379258194788576],
    ];
    for (row, lps_row) in g.direction.iter().zip(&lps) {
        let want = [lps_row[0] / 0.9, lps_row[1] / 1.1, lps_row[2] / 2.5];
        assert_close3(*row, want, 1e-6, "direction row");
    }
    // (7·i − 50)·0.5 + 10: nibabel get_fdata gives [0,0,0] = −15, [1,2,0] = 9.5, [2,3,1] = 65.5, sum 606.
    assert_eq!(v.data[[0, 0, 0]], -15.0);
    assert_eq!(v.data[[1, 2, 0]], 9.5);
    assert_eq!(v.data[[2, 3, 1]], 65.5);
    assert_eq!(v.data.sum(), 606.0);
    let info = read_info(&path).unwrap();
    assert_eq!(info.scale, Some((0.5, 10.0)));
    assert_eq!(info.datatype, "int16");
    assert_eq!(info.orientation, "RAI"); // nibabel aff2axcodes: ('R', 'A', 'I')
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Damaged files (random bytes overwritten, random truncation) never panic: every
    /// outcome is a volume or an `IoError` naming the file.
    #[test]
    fn damaged_files_never_panic(
        format in 0usize..3,
        flips in proptest::collection::vec((0usize..400, any::<u8>()), 0..6),
        keep in 0.0f64..1.2,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let name = ["d.nii", "d.nii.gz", "d.nrrd"][format];
        let path = dir.path().join(name);
        let volume = Volume::from_x_fastest(oblique_grid([3, 2, 2]), (0..12).map(f64::from).collect());
        if format == 2 { write_nrrd(&path, &volume, VoxelType::I16).unwrap() } else { write_nifti(&path, &volume, VoxelType::I16).unwrap() }
        let mut bytes = std::fs::read(&path).unwrap();
        for (at, b) in flips {
            let n = bytes.len();
            bytes[at % n] = b;
        }
        let cut = ((bytes.len() as f64 * keep) as usize).min(bytes.len());
        bytes.truncate(cut);
        std::fs::write(&path, &bytes).unwrap();
        let opts = ReadOptions::with_budget(1 << 20);
        match read_volume_with(&path, &opts) {
            Ok(v) => prop_assert_eq!(v.data.len(), v.grid.len()),
            Err(e) => prop_assert_eq!(e.path(), path.as_path()),
        }
        if let Err(e) = read_info(&path) {
            prop_assert!(e.to_string().contains(name));
        }
    }
}
