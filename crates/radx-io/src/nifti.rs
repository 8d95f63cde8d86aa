//! NIfTI-1 and NIfTI-2 single-file images (`.nii`, `.nii.gz`): header, geometry, voxels.
//!
//! NIfTI-1 headers are parsed by the `nifti` crate; NIfTI-2 (540-byte header, 64-bit sizes,
//! which that crate does not read) is parsed here, in either byte order. Both end in the
//! same [`NiftiMeta`], so validation, geometry and voxel decoding are shared. The crate's
//! own affine and volume code is not used: it panics on negative `pixdim` and allocates
//! before checking sizes, and radx needs every bad input to come back as an [`IoError`].
//!
//! Geometry (NIfTI-1 standard, `nifti1.h`): the sform if `sform_code > 0`, else the qform
//! (quaternion, `pixdim`, `qfac`) if `qform_code > 0`, else `diag(pixdim)` (method 1).
//! All three are RAS+; radx converts them to LPS by negating the first two rows.

use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use radx_core::{Grid, Volume};

use crate::error::IoError;
use crate::geometry::{self, Affine};
use crate::gzip::{GzipReader, SkipCheck};
use crate::stream::VoxelStream;
use crate::voxel::{self, ByteOrder, VoxelType, WriteFailure};
use crate::{ImageInfo, ReadOptions};

/// NIfTI-1 header size and the first voxel byte of a `.nii` file (header + 4-byte extension flag).
const NIFTI1_HEADER: usize = 348;
const NIFTI1_MIN_OFFSET: u64 = 352;
/// NIfTI-2 header size.
const NIFTI2_HEADER: usize = 540;
/// The 8-byte NIfTI-2 magic of a single-file image (the `\r\n\x1a\n` tail detects text-mode damage).
const NIFTI2_MAGIC: &[u8; 8] = b"n+2\0\r\n\x1a\n";

/// The header fields radx uses, common to NIfTI-1 and NIfTI-2.
#[derive(Debug, Clone)]
struct NiftiMeta {
    version: u8,
    dim: [i64; 8],
    pixdim: [f64; 8],
    datatype: i16,
    vox_offset: u64,
    scl_slope: f64,
    scl_inter: f64,
    qform_code: i32,
    sform_code: i32,
    /// quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z.
    quatern: [f64; 6],
    srow: [[f64; 4]; 3],
    order: ByteOrder,
}

/// A validated header: where and what the voxels are.
struct Layout {
    info: ImageInfo,
    kind: VoxelType,
    order: ByteOrder,
    vox_offset: u64,
    header_len: u64,
    count: usize,
}

/// An open NIfTI stream (decompressed when the name ends in `.gz`).
struct Source<'a> {
    reader: Box<dyn Read + Send + 'a>,
    gzip: bool,
    /// Turns off the gzip stream's CRC-32 check (see [`crate::gzip`]).
    skip_check: Option<SkipCheck>,
    /// Length of the file (compressed, for gzip).
    file_len: u64,
}

fn open(path: &Path) -> Result<Source<'static>, IoError> {
    let file = crate::open_regular(path)?;
    let file_len = file.metadata().map_err(|e| IoError::from_read(path, e))?.len();
    let gzip = crate::has_suffix(path, ".gz");
    let buffered = BufReader::with_capacity(1 << 16, file);
    let (reader, skip_check): (Box<dyn Read + Send>, _) = if gzip {
        let (reader, skip) = GzipReader::new(buffered);
        (Box::new(reader), Some(skip))
    } else {
        (Box::new(buffered), None)
    };
    Ok(Source { reader, gzip, skip_check, file_len })
}

/// A NIfTI file already in memory; `name` (only used for messages and to tell `.gz`) stands for its path.
fn open_bytes<'a>(name: &Path, bytes: &'a [u8]) -> Source<'a> {
    let gzip = crate::has_suffix(name, ".gz");
    let (reader, skip_check): (Box<dyn Read + Send + 'a>, _) = if gzip {
        let (reader, skip) = GzipReader::new(bytes);
        (Box::new(reader), Some(skip))
    } else {
        (Box::new(bytes), None)
    };
    Source { reader, gzip, skip_check, file_len: bytes.len() as u64 }
}

/// Map an I/O error met while reading `what` after `got` of `expected` bytes.
fn stream_error(path: &Path, gzip: bool, what: &'static str, expected: u64, got: u64, e: io::Error) -> IoError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => IoError::Truncated { path: path.to_path_buf(), what, expected, got },
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput if gzip => {
            IoError::corrupt(path, format!("bad gzip stream while reading the {what}: {e}"))
        }
        _ => IoError::Unreadable { path: path.to_path_buf(), source: e },
    }
}

/// Fill `buf[start..]` (the bytes before `start` are already read) with the `what`,
/// reporting a short stream as truncation of the whole `buf`.
fn read_exact_or(
    path: &Path,
    src: &mut Source,
    buf: &mut [u8],
    start: usize,
    what: &'static str,
) -> Result<(), IoError> {
    let mut filled = start;
    while filled < buf.len() {
        match src.reader.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(IoError::Truncated {
                    path: path.to_path_buf(),
                    what,
                    expected: buf.len() as u64,
                    got: filled as u64,
                });
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(stream_error(path, src.gzip, what, buf.len() as u64, filled as u64, e)),
        }
    }
    Ok(())
}

/// Read and validate the header; leaves `src` just after the fixed-size header.
fn read_layout(path: &Path, src: &mut Source) -> Result<Layout, IoError> {
    let mut head = [0u8; NIFTI2_HEADER];
    read_exact_or(path, src, &mut head[..4], 0, "header")?;
    let size_le = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let size_be = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let meta = if size_le == NIFTI1_HEADER as i32 || size_be == NIFTI1_HEADER as i32 {
        read_exact_or(path, src, &mut head[..NIFTI1_HEADER], 4, "header")?;
        parse_nifti1(path, &head[..NIFTI1_HEADER])?
    } else if size_le == NIFTI2_HEADER as i32 || size_be == NIFTI2_HEADER as i32 {
        read_exact_or(path, src, &mut head, 4, "header")?;
        let order = if size_le == NIFTI2_HEADER as i32 { ByteOrder::Little } else { ByteOrder::Big };
        parse_nifti2(path, &head, order)?
    } else {
        return Err(IoError::corrupt(
            path,
            format!(
                "not a NIfTI file: the header size field is {size_le} (byte-swapped {size_be}), \
                 expected 348 (NIfTI-1) or 540 (NIfTI-2)"
            ),
        ));
    };
    let header_len = if meta.version == 1 { NIFTI1_HEADER } else { NIFTI2_HEADER } as u64;
    layout(path, &meta, header_len)
}

/// NIfTI-1 header via the `nifti` crate (which detects the byte order from `dim[0]`).
fn parse_nifti1(path: &Path, bytes: &[u8]) -> Result<NiftiMeta, IoError> {
    let h = nifti::NiftiHeader::from_reader(bytes)
        .map_err(|e| IoError::corrupt(path, format!("bad NIfTI-1 header: {e}")))?;
    if &h.magic == nifti::header::MAGIC_CODE_NI1 {
        return Err(IoError::corrupt(
            path,
            "the header's magic is `ni1` (a separate .hdr/.img pair); radx reads single-file .nii images",
        ));
    }
    let mut dim = [0i64; 8];
    for (d, &raw) in dim.iter_mut().zip(&h.dim) {
        // The crate reads dims as u16; on disk they are signed 16-bit.
        *d = raw as i16 as i64;
    }
    let f = |v: f32| v as f64;
    // A .nii image's data cannot start inside the header; writers that leave vox_offset at 0
    // (the IBSI phantoms do) mean "right after the header and extension flag" (as nibabel reads it).
    let vox_offset = if h.vox_offset.is_finite() && h.vox_offset as f64 >= NIFTI1_MIN_OFFSET as f64 {
        h.vox_offset as u64
    } else {
        NIFTI1_MIN_OFFSET
    };
    Ok(NiftiMeta {
        version: 1,
        dim,
        pixdim: h.pixdim.map(f),
        datatype: h.datatype,
        vox_offset,
        scl_slope: f(h.scl_slope),
        scl_inter: f(h.scl_inter),
        qform_code: h.qform_code as i32,
        sform_code: h.sform_code as i32,
        quatern: [h.quatern_b, h.quatern_c, h.quatern_d, h.quatern_x, h.quatern_y, h.quatern_z].map(f),
        srow: [h.srow_x.map(f), h.srow_y.map(f), h.srow_z.map(f)],
        order: match h.endianness {
            nifti::Endianness::Little => ByteOrder::Little,
            nifti::Endianness::Big => ByteOrder::Big,
        },
    })
}

/// NIfTI-2 header (`nifti2.h`): field offsets are fixed, all numbers in one byte order.
fn parse_nifti2(path: &Path, b: &[u8; NIFTI2_HEADER], order: ByteOrder) -> Result<NiftiMeta, IoError> {
    if &b[4..8] != b"n+2\0" {
        let reason = if &b[4..8] == b"ni2\0" {
            "the header's magic is `ni2` (a separate .hdr/.img pair); radx reads single-file .nii images".to_string()
        } else {
            format!("bad NIfTI-2 magic {:?}", String::from_utf8_lossy(&b[4..12]))
        };
        return Err(IoError::corrupt(path, reason));
    }
    if &b[4..12] != NIFTI2_MAGIC {
        return Err(IoError::corrupt(path, "damaged NIfTI-2 magic (was the file transferred in text mode?)"));
    }
    let i16_at = |o: usize| {
        let a = [b[o], b[o + 1]];
        if order == ByteOrder::Little { i16::from_le_bytes(a) } else { i16::from_be_bytes(a) }
    };
    let i32_at = |o: usize| {
        let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if order == ByteOrder::Little { i32::from_le_bytes(a) } else { i32::from_be_bytes(a) }
    };
    let i64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        if order == ByteOrder::Little { i64::from_le_bytes(a) } else { i64::from_be_bytes(a) }
    };
    let f64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        if order == ByteOrder::Little { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) }
    };
    let dim: [i64; 8] = std::array::from_fn(|i| i64_at(16 + 8 * i));
    let pixdim: [f64; 8] = std::array::from_fn(|i| f64_at(104 + 8 * i));
    let raw_offset = i64_at(168);
    let vox_offset = if raw_offset >= NIFTI2_HEADER as i64 + 4 {
        raw_offset as u64
    } else {
        return Err(IoError::corrupt(path, format!("vox_offset {raw_offset} points inside the 544-byte header")));
    };
    Ok(NiftiMeta {
        version: 2,
        dim,
        pixdim,
        datatype: i16_at(12),
        vox_offset,
        scl_slope: f64_at(176),
        scl_inter: f64_at(184),
        qform_code: i32_at(344),
        sform_code: i32_at(348),
        quatern: std::array::from_fn(|i| f64_at(352 + 8 * i)),
        srow: std::array::from_fn(|r| std::array::from_fn(|c| f64_at(400 + 32 * r + 8 * c))),
        order,
    })
}

/// NIfTI datatype code → voxel type, or the reason it is refused.
fn voxel_type(path: &Path, code: i16) -> Result<VoxelType, IoError> {
    let unsupported = |name: &str| IoError::UnsupportedDatatype {
        path: path.to_path_buf(),
        datatype: format!("{name} (NIfTI datatype code {code})"),
    };
    Ok(match code {
        2 => VoxelType::U8,
        4 => VoxelType::I16,
        8 => VoxelType::I32,
        16 => VoxelType::F32,
        64 => VoxelType::F64,
        256 => VoxelType::I8,
        512 => VoxelType::U16,
        768 => VoxelType::U32,
        1024 => VoxelType::I64,
        1280 => VoxelType::U64,
        1 => return Err(unsupported("binary (1 bit)")),
        32 => return Err(unsupported("complex64")),
        128 => return Err(unsupported("rgb24")),
        1536 => return Err(unsupported("float128")),
        1792 => return Err(unsupported("complex128")),
        2048 => return Err(unsupported("complex256")),
        2304 => return Err(unsupported("rgba32")),
        _ => return Err(unsupported("unknown")),
    })
}

/// Validate sizes, type, budget-independent geometry; compute the grid.
fn layout(path: &Path, m: &NiftiMeta, header_len: u64) -> Result<Layout, IoError> {
    let ndim = m.dim[0];
    if !(1..=7).contains(&ndim) {
        return Err(IoError::corrupt(path, format!("dim[0] = {ndim}, expected 1 to 7")));
    }
    let ndim = ndim as usize;
    let sizes = &m.dim[1..=ndim];
    if let Some(i) = sizes.iter().position(|&d| d < 1) {
        return Err(IoError::corrupt(path, format!("dim[{}] = {} (sizes must be at least 1)", i + 1, sizes[i])));
    }
    if ndim < 2 || sizes.iter().skip(3).any(|&d| d != 1) {
        return Err(IoError::NotThreeD { path: path.to_path_buf(), dims: sizes.iter().map(|&d| d as u64).collect() });
    }
    let dims64 = [sizes[0], sizes[1], if ndim >= 3 { sizes[2] } else { 1 }];
    let count = dims64.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64)).unwrap_or(u64::MAX);
    let count_usize = usize::try_from(count).map_err(|_| IoError::TooLarge {
        path: path.to_path_buf(),
        needed: count.saturating_mul(8),
        budget: 0,
    })?;
    let dims = dims64.map(|d| d as usize);
    let kind = voxel_type(path, m.datatype)?;

    let affine = nifti_affine(path, m, dims)?;
    let grid = geometry::grid_from_affine(dims, &geometry::flip_xy(affine))
        .map_err(|reason| IoError::corrupt(path, format!("bad geometry: {reason}")))?;
    let scale = (m.scl_slope.is_finite() && m.scl_slope != 0.0).then(|| {
        let inter = if m.scl_inter.is_finite() { m.scl_inter } else { 0.0 };
        (m.scl_slope, inter)
    });
    let info = ImageInfo {
        format: if m.version == 1 { "NIfTI-1" } else { "NIfTI-2" },
        grid,
        datatype: kind.name().to_string(),
        orientation: geometry::orientation_code(&grid.direction),
        // Identity scaling changes nothing; report only a real one.
        scale: scale.filter(|&s| s != (1.0, 0.0)),
    };
    Ok(Layout { info, kind, order: m.order, vox_offset: m.vox_offset, header_len, count: count_usize })
}

/// The RAS+ affine the header describes: the sform, else the qform, else the pixdim
/// diagonal. As in ITK, a sheared (non-orthonormal) sform gives way to the qform when there
/// is one, and is refused when there is not.
fn nifti_affine(path: &Path, m: &NiftiMeta, dims: [usize; 3]) -> Result<Affine, IoError> {
    if m.sform_code > 0 {
        if m.srow.iter().flatten().any(|v| !v.is_finite()) {
            return Err(IoError::corrupt(path, format!("the sform has non-finite entries {:?}", m.srow)));
        }
        match sform_shear(&m.srow) {
            None => return Ok(m.srow),
            Some(_) if m.qform_code > 0 => {} // the qform, orthonormal by construction, below
            Some(e) => return Err(IoError::corrupt(path, format!("the sform (and there is no qform): {e}"))),
        }
    }
    // pixdim may be negative in the wild (the crate panics on it); the qform's handedness
    // lives in qfac = pixdim[0], so the magnitudes are what count.
    let mut step = [0.0; 3];
    for k in 0..3 {
        let v = m.pixdim[k + 1].abs();
        step[k] = if v.is_finite() && v > 0.0 {
            v
        } else if dims[k] == 1 {
            1.0 // a single-voxel axis: any positive spacing is equivalent
        } else {
            return Err(IoError::corrupt(
                path,
                format!("pixdim[{}] = {} is not a usable voxel size", k + 1, m.pixdim[k + 1]),
            ));
        };
    }
    if m.qform_code > 0 {
        let [b, c, d, qx, qy, qz] = m.quatern;
        if [b, c, d, qx, qy, qz].iter().any(|v| !v.is_finite()) {
            return Err(IoError::corrupt(path, format!("the qform has non-finite entries {:?}", m.quatern)));
        }
        let rotation = geometry::quaternion_matrix(b, c, d);
        let qfac = if m.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
        let scale = [step[0], step[1], step[2] * qfac];
        let t = [qx, qy, qz];
        return Ok(std::array::from_fn(|r| {
            [rotation[r][0] * scale[0], rotation[r][1] * scale[1], rotation[r][2] * scale[2], t[r]]
        }));
    }
    Ok([[step[0], 0.0, 0.0, 0.0], [0.0, step[1], 0.0, 0.0], [0.0, 0.0, step[2], 0.0]])
}

/// Why the sform's axes are not orthonormal, or `None` when they are. A zero or
/// dependent column is left to [`geometry::grid_from_affine`] to report.
fn sform_shear(srow: &Affine) -> Option<geometry::GeometryError> {
    let grid = geometry::grid_from_affine([1, 1, 1], srow).ok()?;
    geometry::check_orthonormal(&grid.direction).err()
}

/// Header only.
pub(crate) fn read_info(path: &Path) -> Result<ImageInfo, IoError> {
    let mut src = open(path)?;
    Ok(read_layout(path, &mut src)?.info)
}

/// Header and voxels (scaled by `scl_slope`/`scl_inter`).
pub(crate) fn read_volume(path: &Path, opts: &ReadOptions) -> Result<Volume<f64>, IoError> {
    let stream = open_voxels(path, opts, |count, _| count.saturating_mul(8))?;
    let grid = stream.info.grid;
    Ok(Volume::from_x_fastest(grid, stream.read_all()?))
}

/// [`read_volume`] of a file already in memory, named `name` in messages.
pub(crate) fn read_volume_bytes(name: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Volume<f64>, IoError> {
    let stream = stream_from(name, open_bytes(name, bytes), opts, |count, _| count.saturating_mul(8))?;
    let grid = stream.info.grid;
    Ok(Volume::from_x_fastest(grid, stream.read_all()?))
}

/// Read and validate the header, check the memory budget (`needed(voxel count, bytes per
/// voxel)` bytes must fit `opts.max_bytes`), and return the stream positioned at the first voxel.
pub(crate) fn open_voxels(
    path: &Path,
    opts: &ReadOptions,
    needed: impl Fn(u64, u64) -> u64,
) -> Result<VoxelStream<'static>, IoError> {
    stream_from(path, open(path)?, opts, needed)
}

/// [`open_voxels`] on an open source (a file or bytes in memory).
fn stream_from<'a>(
    path: &Path,
    mut src: Source<'a>,
    opts: &ReadOptions,
    needed: impl Fn(u64, u64) -> u64,
) -> Result<VoxelStream<'a>, IoError> {
    let lay = read_layout(path, &mut src)?;
    let needed = needed(lay.count as u64, lay.kind.size() as u64);
    if needed > opts.max_bytes {
        return Err(IoError::TooLarge { path: path.to_path_buf(), needed, budget: opts.max_bytes });
    }
    let data_bytes = (lay.count as u64).saturating_mul(lay.kind.size() as u64);
    if !src.gzip {
        let present = src.file_len.saturating_sub(lay.vox_offset);
        if src.file_len < lay.vox_offset || present < data_bytes {
            return Err(IoError::Truncated {
                path: path.to_path_buf(),
                what: "voxel data",
                expected: data_bytes,
                got: present,
            });
        }
    } else if data_bytes.saturating_add(lay.vox_offset) > voxel::gzip_decoded_bound(src.file_len) {
        // No gzip stream this short can hold the data its header claims: refuse without decoding.
        return Err(IoError::corrupt(
            path,
            format!(
                "the header claims {data_bytes} bytes of voxel data, more than a {}-byte gzip file can hold",
                src.file_len
            ),
        ));
    }
    let reserve = if src.gzip { voxel::gzip_reserve(lay.count, lay.kind, src.file_len) } else { lay.count };
    // Skip the extensions between the fixed header and the voxels.
    let gap = lay.vox_offset - lay.header_len;
    let skipped = io::copy(&mut (&mut src.reader).take(gap), &mut io::sink())
        .map_err(|e| stream_error(path, src.gzip, "header extensions", gap, 0, e))?;
    if skipped < gap {
        return Err(IoError::Truncated {
            path: path.to_path_buf(),
            what: "header extensions",
            expected: gap,
            got: skipped,
        });
    }
    Ok(VoxelStream {
        info: lay.info,
        kind: lay.kind,
        order: lay.order,
        count: lay.count,
        reader: src.reader,
        gzip: src.gzip,
        skip_check: src.skip_check,
        data_path: path.to_path_buf(),
        gzip_context: "while reading the voxel data",
        reserve,
    })
}

/// NIfTI datatype code and bits per voxel of a voxel type.
fn nifti_code(kind: VoxelType) -> i16 {
    match kind {
        VoxelType::U8 => 2,
        VoxelType::I16 => 4,
        VoxelType::I32 => 8,
        VoxelType::F32 => 16,
        VoxelType::F64 => 64,
        VoxelType::I8 => 256,
        VoxelType::U16 => 512,
        VoxelType::U32 => 768,
        VoxelType::I64 => 1024,
        VoxelType::U64 => 1280,
    }
}

/// The 352 bytes (header + empty extension flag) of a little-endian NIfTI-1 file.
fn nifti1_header(path: &Path, grid: &Grid, kind: VoxelType) -> Result<Vec<u8>, IoError> {
    let mut dims = [0i16; 3];
    for (d, &n) in dims.iter_mut().zip(&grid.dims) {
        *d = i16::try_from(n).map_err(|_| IoError::Write {
            path: path.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("size {:?} does not fit NIfTI-1 (at most 32767 voxels per axis)", grid.dims),
            ),
        })?;
    }
    let ras = geometry::flip_xy(geometry::affine_from_grid(grid));
    // The direction in RAS+ (rows x and y negated), whose quaternion the qform stores.
    let ras_direction: [[f64; 3]; 3] = std::array::from_fn(|r| {
        std::array::from_fn(|c| if r < 2 { -grid.direction[r][c] } else { grid.direction[r][c] })
    });
    let quaternion = geometry::matrix_quaternion(&ras_direction);

    let mut h = vec![0u8; NIFTI1_MIN_OFFSET as usize];
    let put = |h: &mut Vec<u8>, at: usize, bytes: &[u8]| h[at..at + bytes.len()].copy_from_slice(bytes);
    put(&mut h, 0, &(NIFTI1_HEADER as i32).to_le_bytes());
    h[38] = b'r';
    let dim: [i16; 8] = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1];
    for (i, d) in dim.iter().enumerate() {
        put(&mut h, 40 + 2 * i, &d.to_le_bytes());
    }
    put(&mut h, 70, &nifti_code(kind).to_le_bytes());
    put(&mut h, 72, &((kind.size() * 8) as i16).to_le_bytes());
    let qfac = quaternion.map_or(1.0, |q| q.3);
    let pixdim = [qfac, grid.spacing[0], grid.spacing[1], grid.spacing[2], 1.0, 1.0, 1.0, 1.0];
    for (i, p) in pixdim.iter().enumerate() {
        put(&mut h, 76 + 4 * i, &(*p as f32).to_le_bytes());
    }
    put(&mut h, 108, &(NIFTI1_MIN_OFFSET as f32).to_le_bytes());
    put(&mut h, 112, &1.0f32.to_le_bytes()); // scl_slope 1, scl_inter 0: values stored as is
    h[123] = 2 | 8; // xyzt_units: millimetres, seconds
    put(&mut h, 148, b"radx");
    let (qform_code, [b, c, d]) = match quaternion {
        Some((b, c, d, _)) => (1i16, [b, c, d]),
        None => (0, [0.0; 3]),
    };
    put(&mut h, 252, &qform_code.to_le_bytes());
    put(&mut h, 254, &1i16.to_le_bytes()); // sform_code 1: scanner-based anatomical
    for (i, v) in [b, c, d, ras[0][3], ras[1][3], ras[2][3]].iter().enumerate() {
        put(&mut h, 256 + 4 * i, &(*v as f32).to_le_bytes());
    }
    for (r, row) in ras.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put(&mut h, 280 + 16 * r + 4 * c, &(*v as f32).to_le_bytes());
        }
    }
    put(&mut h, 344, nifti::header::MAGIC_CODE_NIP1);
    Ok(h)
}

/// Write a NIfTI-1 `.nii` or `.nii.gz` (chosen by the name), little-endian, atomically.
pub(crate) fn write(path: &Path, volume: &Volume<f64>, kind: VoxelType) -> Result<(), IoError> {
    let values = voxel::x_fastest(volume);
    write_with(path, &volume.grid, kind, |w| voxel::write_voxels(w, &values, kind))
}

/// [`write`] of voxels already encoded as `f32`.
pub(crate) fn write_f32(path: &Path, volume: &crate::F32Volume) -> Result<(), IoError> {
    if !crate::has_suffix(path, ".nii.gz") {
        return write_with(path, &volume.grid, VoxelType::F32, |w| volume.write_to(w));
    }
    let header = nifti1_header(path, &volume.grid, VoxelType::F32)?;
    crate::atomic::write_atomically(path, |out| {
        volume.write_gzip(&header, out).map_err(|source| IoError::Write { path: path.to_path_buf(), source })
    })
}

/// Write the header of a `kind` volume on `grid`, then its voxels with `voxels`.
fn write_with(
    path: &Path,
    grid: &radx_core::Grid,
    kind: VoxelType,
    voxels: impl Fn(&mut dyn Write) -> Result<(), WriteFailure>,
) -> Result<(), IoError> {
    let gzip = if crate::has_suffix(path, ".nii.gz") {
        true
    } else if crate::has_suffix(path, ".nii") {
        false
    } else {
        return Err(IoError::UnknownFormat { path: path.to_path_buf() });
    };
    let header = nifti1_header(path, grid, kind)?;
    crate::atomic::write_atomically(path, |out| {
        let werr = |source| IoError::Write { path: path.to_path_buf(), source };
        let body = |w: &mut dyn Write| -> Result<(), IoError> {
            w.write_all(&header).map_err(werr)?;
            voxels(w).map_err(|f| match f {
                WriteFailure::OutOfRange(value) => {
                    IoError::ValueOutOfRange { path: path.to_path_buf(), value, datatype: kind.name() }
                }
                WriteFailure::Io(e) => werr(e),
            })
        };
        if gzip {
            let mut gz = GzEncoder::new(out, Compression::default());
            body(&mut gz)?;
            gz.finish().map_err(werr)?;
            Ok(())
        } else {
            body(out)
        }
    })
}
