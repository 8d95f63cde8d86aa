//! NRRD images (`.nrrd` with attached data, `.nhdr` with a detached data file).
//!
//! There is no maintained NRRD crate, so this is a careful reader of the teem format
//! specification (<http://teem.sourceforge.net/nrrd/format.html>): magic `NRRD000x`, one
//! `field: value` per line, `#` comments, `key:=value` pairs (ignored), a blank line, then
//! the data. Supported: scalar types of 1–8 bytes, `raw` and `gzip` encodings, `line skip`
//! and `byte skip` (−1 for raw data at the end of the file), `space`/`space dimension`,
//! `space directions` (with `none` for non-spatial axes of size 1), `space origin`, `kinds`,
//! and `spacings` as the geometry fallback. World coordinates become LPS (IBSI manual,
//! chapter 2: the image is a stack of slices on a regular grid with known spacing).
//!
//! As in pynrrd, `line skip` is applied to the file and `byte skip` to the decoded
//! (decompressed) stream.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use radx_core::Volume;

use crate::error::IoError;
use crate::geometry::{self, Affine};
use crate::gzip::GzipReader;
use crate::stream::VoxelStream;
use crate::voxel::{self, ByteOrder, VoxelType, WriteFailure};
use crate::{ImageInfo, ReadOptions};

/// A header longer than this is not an image header (guards against reading a big binary file as text).
const MAX_HEADER_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Raw,
    Gzip,
}

/// A parsed, validated NRRD header.
struct Header {
    info: ImageInfo,
    kind: VoxelType,
    order: ByteOrder,
    encoding: Encoding,
    count: usize,
    /// Detached data file as the header names it (relative to the header's folder), or
    /// `None` for attached data. [`detached_path`] resolves and checks it.
    data_file: Option<PathBuf>,
    line_skip: u64,
    byte_skip: i64,
    /// Bytes of header text, i.e. where attached data starts.
    header_len: u64,
}

/// The raw `field: value` pairs, in order.
struct Fields {
    pairs: Vec<(String, String)>,
    header_len: u64,
}

impl Fields {
    /// The value of field `key` (its canonical name, see [`canonical_name`]); fields are
    /// unique (checked by [`read_fields`]).
    fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The one name of a field the format spells two ways (teem accepts both spellings).
fn canonical_name(name: &str) -> &str {
    match name {
        "datafile" => "data file",
        "lineskip" => "line skip",
        "byteskip" => "byte skip",
        other => other,
    }
}

/// Add a `name: value` field, refusing a second one of the same name: teem refuses it too,
/// and silently taking either copy (`sizes: 2 2 2` then `sizes: 512 512 512`) lets a
/// header mean two things to two readers.
fn push_field(path: &Path, pairs: &mut Vec<(String, String)>, name: &str, value: &str) -> Result<(), IoError> {
    let name = canonical_name(name.trim()).to_string();
    if pairs.iter().any(|(k, _)| *k == name) {
        return Err(IoError::corrupt(
            path,
            format!("the field `{name}` appears twice in the header; keep only the right one"),
        ));
    }
    pairs.push((name, value.trim().to_string()));
    Ok(())
}

fn read_fields(path: &Path, reader: &mut impl BufRead) -> Result<Fields, IoError> {
    let corrupt = |reason: String| IoError::corrupt(path, reason);
    let mut line = Vec::new();
    let mut header_len = 0u64;
    let mut limited = reader.take(MAX_HEADER_BYTES);
    let n = limited.read_until(b'\n', &mut line).map_err(|e| IoError::from_read(path, e))?;
    header_len += n as u64;
    if line.len() < 8 || !line.starts_with(b"NRRD000") || !line[7].is_ascii_digit() {
        return Err(corrupt("not an NRRD file: it does not start with the magic `NRRD000x`".to_string()));
    }
    let mut pairs = Vec::new();
    loop {
        line.clear();
        let n = limited.read_until(b'\n', &mut line).map_err(|e| IoError::from_read(path, e))?;
        header_len += n as u64;
        if n == 0 {
            if limited.limit() == 0 {
                return Err(corrupt(format!("the header is longer than {MAX_HEADER_BYTES} bytes")));
            }
            break; // end of a detached header
        }
        let text = std::str::from_utf8(&line)
            .map_err(|_| corrupt(format!("header line {} is not text", pairs.len() + 2)))?
            .trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            break; // the blank line before attached data
        }
        if text.starts_with('#') {
            continue;
        }
        // `key:=value` pairs carry free-form metadata; a field is `name: value`.
        let field_sep = text.find(": ");
        let kv_sep = text.find(":=");
        match (field_sep, kv_sep) {
            (_, Some(k)) if field_sep.is_none_or(|f| k < f) => continue,
            (Some(f), _) => push_field(path, &mut pairs, &text[..f].to_ascii_lowercase(), &text[f + 2..])?,
            // `field:` with nothing after it: an empty value.
            (None, None) if text.ends_with(':') => {
                push_field(path, &mut pairs, &text[..text.len() - 1].to_ascii_lowercase(), "")?;
            }
            _ => return Err(corrupt(format!("header line `{text}` is neither `field: value` nor `key:=value`"))),
        }
    }
    Ok(Fields { pairs, header_len })
}

fn parse_type(path: &Path, name: &str) -> Result<VoxelType, IoError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "uchar" | "unsigned char" | "uint8" | "uint8_t" => VoxelType::U8,
        "signed char" | "int8" | "int8_t" => VoxelType::I8,
        "short" | "short int" | "signed short" | "signed short int" | "int16" | "int16_t" => VoxelType::I16,
        "ushort" | "unsigned short" | "unsigned short int" | "uint16" | "uint16_t" => VoxelType::U16,
        "int" | "signed int" | "int32" | "int32_t" => VoxelType::I32,
        "uint" | "unsigned int" | "uint32" | "uint32_t" => VoxelType::U32,
        "longlong"
        | "long long"
        | "long long int"
        | "signed long long"
        | "signed long long int"
        | "int64"
        | "int64_t" => VoxelType::I64,
        "ulonglong" | "unsigned long long" | "unsigned long long int" | "uint64" | "uint64_t" => VoxelType::U64,
        "float" => VoxelType::F32,
        "double" => VoxelType::F64,
        _ => return Err(IoError::UnsupportedDatatype { path: path.to_path_buf(), datatype: format!("`{name}`") }),
    })
}

/// Parse `(a,b,c)`; `None` for the word `none`.
fn parse_vector(text: &str) -> Result<Option<Vec<f64>>, String> {
    let t = text.trim();
    if t == "none" {
        return Ok(None);
    }
    let inner = t
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("`{t}` is not a vector like (1,0,0)"))?;
    inner
        .split(',')
        .map(|c| c.trim().parse::<f64>().map_err(|_| format!("`{}` in `{t}` is not a number", c.trim())))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Split `(1,0,0) none (0, 1, 0)` into its items (vectors may contain spaces).
fn split_vectors(text: &str) -> Result<Vec<&str>, String> {
    let mut items = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let end = if rest.starts_with('(') {
            rest.find(')').map(|i| i + 1).ok_or_else(|| format!("unclosed `(` in `{text}`"))?
        } else {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        };
        items.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Ok(items)
}

fn parse_header(path: &Path, fields: &Fields) -> Result<Header, IoError> {
    let corrupt = |reason: String| IoError::corrupt(path, reason);
    let require = |key: &str| fields.get(key).ok_or_else(|| corrupt(format!("the required field `{key}` is missing")));
    let kind = parse_type(path, require("type")?)?;
    let dimension: usize = require("dimension")?.parse().map_err(|_| {
        corrupt(format!("`dimension: {}` is not a positive integer", fields.get("dimension").unwrap_or("")))
    })?;
    if !(1..=16).contains(&dimension) {
        return Err(corrupt(format!("`dimension: {dimension}` is out of range")));
    }
    let sizes = require("sizes")?
        .split_whitespace()
        .map(|s| s.parse::<u64>().ok().filter(|&n| n >= 1))
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(|| corrupt(format!("`sizes: {}` must be positive integers", fields.get("sizes").unwrap_or(""))))?;
    if sizes.len() != dimension {
        return Err(corrupt(format!("`sizes` lists {} values but `dimension` is {dimension}", sizes.len())));
    }
    let encoding = match require("encoding")?.to_ascii_lowercase().as_str() {
        "raw" => Encoding::Raw,
        "gzip" | "gz" => Encoding::Gzip,
        other => {
            return Err(IoError::Unsupported {
                path: path.to_path_buf(),
                what: format!("encoding `{other}` (radx reads raw and gzip)"),
            });
        }
    };
    let order = match fields.get("endian").map(|e| e.to_ascii_lowercase()) {
        Some(e) if e == "little" => ByteOrder::Little,
        Some(e) if e == "big" => ByteOrder::Big,
        Some(e) => return Err(corrupt(format!("`endian: {e}` must be little or big"))),
        None if kind.size() == 1 => ByteOrder::Little,
        None => return Err(corrupt(format!("the field `endian` is required for {} data", kind.name()))),
    };

    // Which axes are spatial, and their world steps.
    let space = fields.get("space").map(|s| s.to_ascii_lowercase());
    let space_dimension = match (fields.get("space dimension"), &space) {
        (Some(d), _) => {
            Some(d.parse::<usize>().map_err(|_| corrupt(format!("`space dimension: {d}` is not an integer")))?)
        }
        (None, Some(s)) => Some(if s.ends_with("-time") { 4 } else { 3 }),
        (None, None) => None,
    };
    if let Some(d) = space_dimension.filter(|&d| d != 3) {
        return Err(IoError::Unsupported {
            path: path.to_path_buf(),
            what: format!("space dimension {d} (radx reads 3D space)"),
        });
    }
    // Sign flips that take the file's space to LPS.
    let to_lps: [f64; 3] = match space.as_deref() {
        None | Some("left-posterior-superior") | Some("lps") => [1.0, 1.0, 1.0],
        Some("right-anterior-superior") | Some("ras") => [-1.0, -1.0, 1.0],
        Some("left-anterior-superior") | Some("las") => [1.0, -1.0, 1.0],
        // No anatomical meaning is given; keep the coordinates as they are (as ITK does).
        Some("scanner-xyz") | Some("3d-right-handed") | Some("3d-left-handed") => [1.0, 1.0, 1.0],
        Some(other) => {
            return Err(IoError::Unsupported { path: path.to_path_buf(), what: format!("space `{other}`") });
        }
    };
    let kinds: Option<Vec<String>> =
        fields.get("kinds").map(|k| k.split_whitespace().map(|s| s.to_ascii_lowercase()).collect());
    let mut steps: Vec<Option<[f64; 3]>> = Vec::with_capacity(dimension);
    if let Some(text) = fields.get("space directions") {
        let items = split_vectors(text).map_err(|e| corrupt(format!("`space directions`: {e}")))?;
        if items.len() != dimension {
            return Err(corrupt(format!(
                "`space directions` lists {} vectors but `dimension` is {dimension}",
                items.len()
            )));
        }
        for item in items {
            match parse_vector(item).map_err(|e| corrupt(format!("`space directions`: {e}")))? {
                None => steps.push(None),
                Some(v) if v.len() == 3 => steps.push(Some([v[0] * to_lps[0], v[1] * to_lps[1], v[2] * to_lps[2]])),
                Some(v) => {
                    return Err(corrupt(format!(
                        "`space directions` vector {item} has {} components, expected 3",
                        v.len()
                    )));
                }
            }
        }
    } else {
        // No world directions: spatial axes are those `kinds` calls spatial (all when absent),
        // stepped by `spacings` (1 when the field is absent) along the identity directions.
        let spacings: Vec<f64> = match fields.get("spacings") {
            Some(s) => s
                .split_whitespace()
                .map(|v| v.parse::<f64>().map_err(|_| corrupt(format!("`spacings`: `{v}` is not a number"))))
                .collect::<Result<_, _>>()?,
            None => vec![1.0; dimension],
        };
        if spacings.len() != dimension {
            return Err(corrupt(format!("`spacings` lists {} values but `dimension` is {dimension}", spacings.len())));
        }
        let mut spatial_seen = 0;
        for (axis, (&spacing, &size)) in spacings.iter().zip(&sizes).enumerate() {
            // Unknown kinds (`???`, `none`) count as spatial; `time`, `list`, `vector`… do not.
            let spatial = kinds
                .as_ref()
                .is_none_or(|k| k.get(axis).is_none_or(|k| matches!(k.as_str(), "domain" | "space" | "???" | "none")));
            if spatial && spatial_seen < 3 {
                // A spatial axis needs a real size: 0, nan or inf used to become 1 mm, which
                // silently changes every volume and distance. (nan is fine on other axes,
                // and on a single-voxel axis, where any spacing is equivalent: 1 mm, as NIfTI.)
                let usable = spacing.is_finite() && spacing != 0.0;
                if !usable && size != 1 {
                    return Err(corrupt(format!(
                        "`spacings`: axis {axis} is spatial but its spacing is {spacing}; give the voxel size \
                         in mm (a finite, non-zero number)"
                    )));
                }
                let mut step = [0.0; 3];
                step[spatial_seen] = if usable { spacing.abs() } else { 1.0 };
                steps.push(Some(step));
                spatial_seen += 1;
            } else {
                steps.push(None);
            }
        }
    }
    let not_3d = || IoError::NotThreeD { path: path.to_path_buf(), dims: sizes.clone() };
    if steps.iter().zip(&sizes).any(|(s, &n)| s.is_none() && n != 1) {
        return Err(not_3d());
    }
    let spatial: Vec<([f64; 3], u64)> = steps.iter().zip(&sizes).filter_map(|(s, &n)| s.map(|s| (s, n))).collect();
    let (columns, dims64): (Vec<[f64; 3]>, Vec<u64>) = match spatial.len() {
        3 => spatial.into_iter().unzip(),
        2 => {
            // A single slice: its normal, unit length, completes the grid.
            let (a, b) = (spatial[0].0, spatial[1].0);
            let n = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            let normal = if len > 0.0 { [n[0] / len, n[1] / len, n[2] / len] } else { [0.0, 0.0, 1.0] };
            (vec![a, b, normal], vec![spatial[0].1, spatial[1].1, 1])
        }
        _ => return Err(not_3d()),
    };
    let origin = match fields.get("space origin") {
        Some(text) => match parse_vector(text).map_err(|e| corrupt(format!("`space origin`: {e}")))? {
            Some(v) if v.len() == 3 => [v[0] * to_lps[0], v[1] * to_lps[1], v[2] * to_lps[2]],
            _ => return Err(corrupt(format!("`space origin: {text}` must be a 3-vector"))),
        },
        None => [0.0; 3],
    };
    let affine: Affine = std::array::from_fn(|r| [columns[0][r], columns[1][r], columns[2][r], origin[r]]);
    let count = dims64.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).unwrap_or(u64::MAX);
    let too_large = || IoError::TooLarge { path: path.to_path_buf(), needed: count.saturating_mul(8), budget: 0 };
    let count = usize::try_from(count).map_err(|_| too_large())?;
    let dims = [dims64[0], dims64[1], dims64[2]].map(|d| d as usize);
    let grid = geometry::grid_from_affine(dims, &affine)
        .and_then(|g| geometry::check_orthonormal(&g.direction).map(|()| g))
        .map_err(|reason| corrupt(format!("bad `space directions`: {reason}")))?;

    let data_file = match fields.get("data file") {
        None => None,
        Some(name) if name.starts_with("LIST") || name.contains('%') || name.split_whitespace().count() > 1 => {
            return Err(IoError::Unsupported {
                path: path.to_path_buf(),
                what: format!("multi-file `data file: {name}` (radx reads one data file)"),
            });
        }
        Some(name) => Some(PathBuf::from(name)),
    };
    let parse_skip = |key: &str| -> Result<i64, IoError> {
        match fields.get(key) {
            None => Ok(0),
            Some(v) => v.parse::<i64>().map_err(|_| corrupt(format!("`{key}: {v}` is not an integer"))),
        }
    };
    let line_skip = parse_skip("line skip")?;
    let byte_skip = parse_skip("byte skip")?;
    if line_skip < 0 || byte_skip < -1 || (byte_skip == -1 && encoding != Encoding::Raw) {
        return Err(corrupt(format!(
            "`line skip: {line_skip}` / `byte skip: {byte_skip}` out of range (byte skip −1 is for raw data only)"
        )));
    }
    let info = ImageInfo {
        format: "NRRD",
        grid,
        datatype: kind.name().to_string(),
        orientation: geometry::orientation_code(&grid.direction),
        scale: None,
    };
    Ok(Header {
        info,
        kind,
        order,
        encoding,
        count,
        data_file,
        line_skip: line_skip as u64,
        byte_skip,
        header_len: fields.header_len,
    })
}

fn open_header(path: &Path) -> Result<(Header, BufReader<File>), IoError> {
    let file = crate::open_regular(path)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let header = header_from(path, &mut reader)?;
    Ok((header, reader))
}

/// Parse and validate the header at the start of `reader`, leaving `reader` just after it.
fn header_from(path: &Path, reader: &mut impl BufRead) -> Result<Header, IoError> {
    let fields = read_fields(path, reader)?;
    let header = parse_header(path, &fields)?;
    if header.data_file.is_none() && has_nhdr_suffix(path) {
        return Err(IoError::corrupt(path, "a detached header (.nhdr) needs a `data file` field"));
    }
    Ok(header)
}

fn has_nhdr_suffix(path: &Path) -> bool {
    crate::has_suffix(path, ".nhdr")
}

pub(crate) fn read_info(path: &Path) -> Result<ImageInfo, IoError> {
    Ok(open_header(path)?.0.info)
}

/// Something the voxel data can be read from: a file or an in-memory image.
trait DataStream: BufRead + Seek + Send {}
impl<T: BufRead + Seek + Send> DataStream for T {}

pub(crate) fn read_volume(path: &Path, opts: &ReadOptions) -> Result<Volume<f64>, IoError> {
    let stream = open_voxels(path, opts, |count, _| count.saturating_mul(8))?;
    whole_volume(stream)
}

/// Every voxel of `stream` as a volume on the file's grid.
fn whole_volume(stream: VoxelStream<'_>) -> Result<Volume<f64>, IoError> {
    let grid = stream.info.grid;
    let mut values = stream.read_all()?;
    values.shrink_to_fit();
    Ok(Volume::from_x_fastest(grid, values))
}

/// [`read_volume`] of an attached-header NRRD already in memory, named `name` in messages.
/// A detached data file is refused: bytes have no folder to find it in.
pub(crate) fn read_volume_bytes(name: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Volume<f64>, IoError> {
    let mut reader = io::Cursor::new(bytes);
    let h = header_from(name, &mut reader)?;
    if let Some(file) = &h.data_file {
        return Err(IoError::Unsupported {
            path: name.to_path_buf(),
            what: format!("detached `data file: {}` when reading from memory", file.display()),
        });
    }
    let stream = open_data(name, h, Box::new(reader), bytes.len() as u64, opts, |count, _| count.saturating_mul(8))?;
    whole_volume(stream)
}

/// Read and validate the header, check the memory budget (`needed(voxel count, bytes per
/// voxel)` bytes must fit `opts.max_bytes`), open the data (attached or detached, raw or
/// gzip) and return the stream positioned at the first voxel.
pub(crate) fn open_voxels(
    path: &Path,
    opts: &ReadOptions,
    needed: impl Fn(u64, u64) -> u64,
) -> Result<VoxelStream<'static>, IoError> {
    let (h, attached) = open_header(path)?;
    let attached_len = attached.get_ref().metadata().map_err(|e| IoError::from_read(path, e))?.len();
    open_data(path, h, Box::new(attached), attached_len, opts, needed)
}

/// Open the voxels `h` describes: in `attached` (positioned just after the header, of
/// total length `attached_len`) or in the header's detached data file.
fn open_data<'a>(
    path: &Path,
    h: Header,
    attached: Box<dyn DataStream + 'a>,
    attached_len: u64,
    opts: &ReadOptions,
    needed: impl Fn(u64, u64) -> u64,
) -> Result<VoxelStream<'a>, IoError> {
    let needed = needed(h.count as u64, h.kind.size() as u64);
    if needed > opts.max_bytes {
        return Err(IoError::TooLarge { path: path.to_path_buf(), needed, budget: opts.max_bytes });
    }
    // The data stream: the rest of this file, or the detached data file from its start.
    let (data_path, mut reader, mut pos, file_len): (PathBuf, Box<dyn DataStream + 'a>, u64, u64) = match &h.data_file {
        None => (path.to_path_buf(), attached, h.header_len, attached_len),
        Some(name) => {
            let p = detached_path(path, name, opts.allow_external_data)?;
            let f = crate::open_regular(&p)?;
            let len = f.metadata().map_err(|e| IoError::from_read(&p, e))?.len();
            (p, Box::new(BufReader::with_capacity(1 << 16, f)), 0, len)
        }
    };
    let dpath = data_path.as_path();
    let mut line = Vec::new();
    for _ in 0..h.line_skip {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| IoError::from_read(dpath, e))?;
        if n == 0 {
            return Err(IoError::corrupt(
                dpath,
                format!("`line skip: {}` skips past the end of the file", h.line_skip),
            ));
        }
        pos += n as u64;
    }
    let data_bytes = (h.count as u64).saturating_mul(h.kind.size() as u64);
    let truncated =
        |got: u64| IoError::Truncated { path: dpath.to_path_buf(), what: "voxel data", expected: data_bytes, got };
    let gzip = h.encoding == Encoding::Gzip;
    let mut skip_check = None;
    let (reader, reserve): (Box<dyn Read + Send + 'a>, usize) = match h.encoding {
        Encoding::Raw => {
            let start = if h.byte_skip == -1 {
                // The data are the last bytes of the file.
                if file_len < pos.saturating_add(data_bytes) {
                    return Err(truncated(file_len.saturating_sub(pos)));
                }
                file_len - data_bytes
            } else {
                pos.saturating_add(h.byte_skip as u64)
            };
            let present = file_len.saturating_sub(start);
            if present < data_bytes {
                return Err(truncated(present));
            }
            reader.seek(SeekFrom::Start(start)).map_err(|e| IoError::from_read(dpath, e))?;
            (Box::new(reader), h.count)
        }
        Encoding::Gzip => {
            let compressed = file_len.saturating_sub(pos);
            let skip = h.byte_skip as u64;
            if data_bytes.saturating_add(skip) > voxel::gzip_decoded_bound(compressed) {
                // No gzip stream this short can hold the data the header claims: refuse without decoding.
                return Err(IoError::corrupt(
                    dpath,
                    format!(
                        "the header claims {data_bytes} bytes of voxel data, more than {compressed} bytes of \
                         gzip data can hold"
                    ),
                ));
            }
            let (mut gz, switch) = GzipReader::new(reader);
            skip_check = Some(switch);
            let skipped = io::copy(&mut (&mut gz).take(skip), &mut io::sink()).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => truncated(0),
                io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => {
                    IoError::corrupt(dpath, format!("bad gzip stream in the voxel data: {e}"))
                }
                _ => IoError::Unreadable { path: dpath.to_path_buf(), source: e },
            })?;
            if skipped < skip {
                return Err(IoError::Truncated {
                    path: dpath.to_path_buf(),
                    what: "byte skip",
                    expected: skip,
                    got: skipped,
                });
            }
            let reserve = voxel::gzip_reserve(h.count, h.kind, compressed);
            (Box::new(gz), reserve)
        }
    };
    Ok(VoxelStream {
        info: h.info,
        kind: h.kind,
        order: h.order,
        count: h.count,
        reader,
        gzip,
        skip_check,
        data_path,
        gzip_context: "in the voxel data",
        reserve,
    })
}

/// The detached data file `name` of the header at `header`, resolved against the header's
/// folder. Unless `allow_external` it must stay in that folder or below: an absolute path,
/// a `..` step or a symbolic link leading out is refused, so that an untrusted header
/// cannot make radx read any file on the machine back as intensities.
fn detached_path(header: &Path, name: &Path, allow_external: bool) -> Result<PathBuf, IoError> {
    let folder = header.parent().unwrap_or(Path::new(""));
    let joined = folder.join(name);
    if allow_external {
        return Ok(joined);
    }
    let refuse = |why: &str| IoError::ExternalData {
        path: header.to_path_buf(),
        data_file: name.to_path_buf(),
        why: why.to_string(),
    };
    if name.is_absolute() {
        return Err(refuse("it is an absolute path"));
    }
    if name.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(refuse("it climbs out with `..`"));
    }
    // The names are inside; a symbolic link on the way may still lead out.
    let real_folder = folder_or_dot(folder).canonicalize().map_err(|e| IoError::from_read(header, e))?;
    let real_data = joined.canonicalize().map_err(|e| IoError::from_read(&joined, e))?;
    if !real_data.starts_with(&real_folder) {
        return Err(refuse(&format!("a symbolic link leads to {}", real_data.display())));
    }
    Ok(joined)
}

/// `folder`, or `.` for the empty parent of a bare file name.
fn folder_or_dot(folder: &Path) -> &Path {
    if folder.as_os_str().is_empty() { Path::new(".") } else { folder }
}

/// The NRRD type name written for each voxel type: teem's stdint-style aliases, which are
/// radx's own names except for the two floating-point types.
fn type_name(kind: VoxelType) -> &'static str {
    match kind {
        VoxelType::F32 => "float",
        VoxelType::F64 => "double",
        integer => integer.name(),
    }
}

/// Write an attached-header, gzip-encoded `.nrrd` in LPS space, atomically.
pub(crate) fn write(path: &Path, volume: &Volume<f64>, kind: VoxelType) -> Result<(), IoError> {
    let values = voxel::x_fastest(volume);
    write_with(path, &volume.grid, kind, |w| voxel::write_voxels(w, &values, kind))
}

/// [`write`] of voxels already encoded as `f32`.
pub(crate) fn write_f32(path: &Path, volume: &crate::F32Volume) -> Result<(), IoError> {
    if !crate::has_suffix(path, ".nrrd") {
        return Err(IoError::UnknownFormat { path: path.to_path_buf() });
    }
    let header = header(&volume.grid, VoxelType::F32);
    crate::atomic::write_atomically(path, |out| {
        let werr = |source| IoError::Write { path: path.to_path_buf(), source };
        out.write_all(header.as_bytes()).map_err(werr)?;
        volume.write_gzip(&[], out).map_err(werr)
    })
}

/// The attached header of a gzip-encoded `kind` volume on grid `g`, in LPS space.
fn header(g: &radx_core::Grid, kind: VoxelType) -> String {
    let affine = geometry::affine_from_grid(g);
    // `{}` prints the shortest decimal that parses back to the same f64.
    let vector = |v: [f64; 3]| format!("({},{},{})", v[0], v[1], v[2]);
    let column = |c: usize| vector([affine[0][c], affine[1][c], affine[2][c]]);
    format!(
        "NRRD0004\n# written by radx\ntype: {}\ndimension: 3\nspace: left-posterior-superior\nsizes: {} {} {}\n\
         space directions: {} {} {}\nkinds: domain domain domain\nendian: little\nencoding: gzip\n\
         space origin: {}\n\n",
        type_name(kind),
        g.dims[0],
        g.dims[1],
        g.dims[2],
        column(0),
        column(1),
        column(2),
        vector(g.origin),
    )
}

/// Write the header of a `kind` volume on grid `g`, then its voxels (gzip) with `voxels`.
fn write_with(
    path: &Path,
    g: &radx_core::Grid,
    kind: VoxelType,
    voxels: impl Fn(&mut dyn std::io::Write) -> Result<(), WriteFailure>,
) -> Result<(), IoError> {
    if !crate::has_suffix(path, ".nrrd") {
        return Err(IoError::UnknownFormat { path: path.to_path_buf() });
    }
    let header = header(g, kind);
    crate::atomic::write_atomically(path, |out| {
        let werr = |source| IoError::Write { path: path.to_path_buf(), source };
        out.write_all(header.as_bytes()).map_err(werr)?;
        let mut gz = GzEncoder::new(out, Compression::default());
        voxels(&mut gz).map_err(|f| match f {
            WriteFailure::OutOfRange(value) => {
                IoError::ValueOutOfRange { path: path.to_path_buf(), value, datatype: kind.name() }
            }
            WriteFailure::Io(e) => werr(e),
        })?;
        gz.finish().map_err(werr)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_with_spaces_and_none() {
        assert_eq!(split_vectors("(1,0,0) none ( 0 , 1, 0 )").unwrap(), vec!["(1,0,0)", "none", "( 0 , 1, 0 )"]);
        assert_eq!(parse_vector("( 0 , -1.5, 2e-1 )").unwrap(), Some(vec![0.0, -1.5, 0.2]));
        assert_eq!(parse_vector("none").unwrap(), None);
        assert!(parse_vector("(1,x,0)").is_err());
        assert!(split_vectors("(1,0,0").is_err());
    }

    #[test]
    fn type_aliases() {
        let p = Path::new("t.nrrd");
        assert_eq!(parse_type(p, "short").unwrap(), VoxelType::I16);
        assert_eq!(parse_type(p, "unsigned char").unwrap(), VoxelType::U8);
        assert_eq!(parse_type(p, "signed long long int").unwrap(), VoxelType::I64);
        assert_eq!(parse_type(p, "double").unwrap(), VoxelType::F64);
        assert!(matches!(parse_type(p, "block"), Err(IoError::UnsupportedDatatype { .. })));
    }
}
