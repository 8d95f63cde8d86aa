//! Declared lengths checked against the bytes a file holds, before the file is parsed.
//!
//! A DICOM element declares its value's length up front (up to 4 GiB), and dicom-rs
//! reserves that much before it reads the value — the meta group's UIDs are even filled
//! with zeros first. A crafted file of a few kilobytes could so make radx allocate
//! gigabytes (the fuzzer's `dicom-rtstruct-4gib-element.bin`: an element deep inside a
//! nested sequence declaring ~4 GiB). This walk reads only element headers, skips values
//! without keeping them, and refuses the first value that claims more bytes than are left.
//!
//! The walk only guards the parse: where it cannot follow a file (a damaged header, no
//! meta group, an unknown transfer syntax) it stops quietly and the parser itself
//! decides, so no file the parser reads is refused by the walk for another reason. A
//! deflated data set is not walked: its lengths count inflated bytes.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use dicom_core::header::DataElementHeader;
use dicom_core::{Length, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_encoding::decode::{Decode, file_header_decoder};
use dicom_encoding::{Codec, TransferSyntaxIndex};
use dicom_object::FileMetaTable;
use dicom_parser::StatefulDecode;
use dicom_parser::dataset::LazyDataToken;
use dicom_parser::dataset::lazy_read::LazyDataSetReader;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::error::DicomError;

/// Where a walk stops: the end of the file, or the first top-level element at or after
/// a tag (pixel data for a header-only read, which never reads that far).
#[derive(Clone, Copy, Debug)]
pub(crate) enum WalkUntil {
    End,
    Tag(Tag),
}

/// The tag of a sequence item (and of an encapsulated pixel data fragment).
const ITEM: Tag = Tag(0xFFFE, 0xE000);

/// Refuse `source` (named `path` in errors) if any element or item before `until` declares
/// a value longer than the bytes left after its header. `source` starts at the file's
/// preamble or at `DICM`.
pub(crate) fn check_declared_lengths<R: Read + Seek>(
    path: &Path,
    mut source: R,
    until: WalkUntil,
) -> Result<(), DicomError> {
    let unreadable = |source| DicomError::Unreadable { path: path.to_path_buf(), source };
    let total = source.seek(SeekFrom::End(0)).map_err(unreadable)?;
    let Some(magic_at) = magic_at(&mut source).map_err(unreadable)? else { return Ok(()) };
    source.seek(SeekFrom::Start(magic_at + 4)).map_err(unreadable)?;
    if !walk_meta(path, &mut source, total)? {
        return Ok(());
    }
    // The meta group's lengths fit, so dicom-object's own reader can read it safely; the
    // data set starts where that reader stops (not where the group's length says: a wrong
    // group length is read past by whole elements, and the parser goes on from there).
    source.seek(SeekFrom::Start(magic_at)).map_err(unreadable)?;
    let Ok(meta) = FileMetaTable::from_reader(&mut source) else { return Ok(()) };
    let Some(ts) = TransferSyntaxRegistry.get(meta.transfer_syntax()) else { return Ok(()) };
    if matches!(ts.codec(), Codec::Dataset(_)) {
        // A deflated data set: its lengths count inflated bytes, which this walk over the
        // file's own bytes cannot follow.
        return Ok(());
    }
    let Ok(reader) = LazyDataSetReader::new_with_ts(source, ts) else { return Ok(()) };
    walk_dataset(path, reader, total, until)
}

/// Where `DICM` is (at 128 after a preamble, or at 0), `None` without it.
fn magic_at<R: Read + Seek>(source: &mut R) -> std::io::Result<Option<u64>> {
    for at in [128u64, 0] {
        let mut magic = [0u8; 4];
        source.seek(SeekFrom::Start(at))?;
        if source.read_exact(&mut magic).is_ok() && &magic == b"DICM" {
            return Ok(Some(at));
        }
    }
    Ok(None)
}

/// Check the lengths in the file meta group the way dicom-object's meta reader reads it
/// (its own header decoder, element after element until the group length is consumed, any
/// tag), since that reader zero-fills a UID's declared length before reading it; `false`
/// where the group is too damaged for that reader too.
fn walk_meta<R: Read + Seek>(path: &Path, source: &mut R, total: u64) -> Result<bool, DicomError> {
    let decoder = file_header_decoder();
    let Ok((first, _)) = decoder.decode_header(source) else { return Ok(false) };
    if (first.tag, first.len) != (tags::FILE_META_INFORMATION_GROUP_LENGTH, Length(4)) {
        return Ok(false);
    }
    let mut group_length = [0u8; 4];
    if source.read_exact(&mut group_length).is_err() {
        return Ok(false);
    }
    let group_length = u64::from(u32::from_le_bytes(group_length));
    let mut read = 0u64;
    while read < group_length {
        let Ok((header, header_bytes)) = decoder.decode_header(source) else { return Ok(false) };
        let Some(len) = header.len.get() else { return Ok(false) };
        let Ok(at) = source.stream_position() else { return Ok(false) };
        check(path, header.tag, header.len, at, total)?;
        if source.seek(SeekFrom::Current(i64::from(len))).is_err() {
            return Ok(false);
        }
        read += header_bytes as u64 + u64::from(len);
    }
    Ok(true)
}

/// Skip a value of `len` bytes; `false` when its length is undefined or the file ends first.
fn skipped<D: StatefulDecode>(decoder: &mut D, len: Length) -> bool {
    len.get().is_some_and(|len| decoder.skip_bytes(len).is_ok())
}

/// Walk the data set's elements, items and fragments, checking each value's length.
fn walk_dataset<S: StatefulDecode>(
    path: &Path,
    mut reader: LazyDataSetReader<S>,
    total: u64,
    until: WalkUntil,
) -> Result<(), DicomError> {
    let mut depth = 0usize;
    // Every token but an end consumes at least 4 bytes, and each end closes a start: more
    // tokens than half the file's bytes means the reader no longer advances (it can loop
    // on a damaged delimiter), so the walk stops and leaves the file to the parser.
    let mut tokens_left = total / 2 + 64;
    while let Some(Ok(token)) = reader.advance() {
        if tokens_left == 0 {
            return Ok(());
        }
        tokens_left -= 1;
        match token {
            LazyDataToken::SequenceStart { tag, .. } if depth == 0 && stops(tag, until) => return Ok(()),
            LazyDataToken::SequenceStart { .. } | LazyDataToken::ItemStart { .. } => depth += 1,
            LazyDataToken::PixelSequenceStart if depth == 0 && matches!(until, WalkUntil::Tag(_)) => return Ok(()),
            LazyDataToken::PixelSequenceStart => depth += 1,
            LazyDataToken::SequenceEnd | LazyDataToken::ItemEnd => depth = depth.saturating_sub(1),
            LazyDataToken::ElementHeader(header) if depth == 0 && stops(header.tag, until) => return Ok(()),
            LazyDataToken::ElementHeader(_) => {}
            LazyDataToken::LazyValue { header, decoder } => {
                if depth == 0 && stops(header.tag, until) {
                    return Ok(());
                }
                check(path, header.tag, header.len, decoder.position(), total)?;
                check_whole_values(path, &header, decoder.position())?;
                if !skipped(decoder, header.len) {
                    return Ok(());
                }
            }
            LazyDataToken::LazyItemValue { len, decoder } => {
                check(path, ITEM, Length(len), decoder.position(), total)?;
                if decoder.skip_bytes(len).is_err() {
                    return Ok(());
                }
            }
            // Tokens a later dicom-parser may add carry no value to check.
            _ => {}
        }
    }
    Ok(())
}

fn stops(tag: Tag, until: WalkUntil) -> bool {
    matches!(until, WalkUntil::Tag(t) if tag >= t)
}

/// The size of one value of a fixed-size VR (`None` for text, bytes and sequences).
fn value_size(vr: VR) -> Option<u32> {
    match vr {
        VR::US | VR::SS | VR::OW => Some(2),
        VR::UL | VR::SL | VR::OL | VR::FL | VR::OF | VR::AT => Some(4),
        VR::FD | VR::OD | VR::SV | VR::UV | VR::OV => Some(8),
        _ => None,
    }
}

/// A fixed-size value must hold whole values: dicom-rs reads `len / size` of them, so a
/// remainder leaves its reader out of step with the file (and with this walk), reading
/// later bytes as headers — the fuzzer found a 4 GiB length hidden that way.
fn check_whole_values(path: &Path, header: &DataElementHeader, at: u64) -> Result<(), DicomError> {
    let (Some(size), Some(declared)) = (value_size(header.vr), header.len.get()) else { return Ok(()) };
    if declared % size == 0 {
        return Ok(());
    }
    Err(DicomError::ValueLengthNotMultiple {
        path: path.to_path_buf(),
        tag: tag_text(header.tag),
        offset: at,
        vr: header.vr.to_string().to_owned(),
        declared: u64::from(declared),
        size,
    })
}

fn tag_text(tag: Tag) -> String {
    format!("({:04X},{:04X})", tag.group(), tag.element())
}

/// A value of `len` bytes starting at `at` must end within the file's `total` bytes.
fn check(path: &Path, tag: Tag, len: Length, at: u64, total: u64) -> Result<(), DicomError> {
    let Some(declared) = len.get() else { return Ok(()) };
    let left = total.saturating_sub(at);
    if u64::from(declared) > left {
        return Err(DicomError::DeclaredLengthBeyondFile {
            path: path.to_path_buf(),
            tag: tag_text(tag),
            offset: at,
            declared: u64::from(declared),
            left,
        });
    }
    Ok(())
}
