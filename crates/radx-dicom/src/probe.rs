//! What a path holds, before reading it: a DICOM file at all, and which kind of object.
//!
//! Front ends accept a DICOM folder, an image file, an RTSTRUCT or a SEG wherever they accept
//! NIfTI; this module tells them apart by content (the `DICM` marker, then Modality), never
//! by the file name alone.

use std::io::Read;
use std::path::Path;

use dicom_dictionary_std::tags;

use crate::attrs::opt_str;
use crate::error::DicomError;
use crate::slice::{is_image, read_header};

/// The kind of object a DICOM file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DicomKind {
    /// An image (a slice of a series, or a multi-frame image).
    Image,
    /// An RTSTRUCT structure set.
    RtStruct,
    /// A DICOM SEG segmentation.
    Seg,
    /// Anything else, with its Modality (may be empty).
    Other(String),
}

/// True when `path` is a file that starts like a DICOM Part 10 file (128-byte preamble,
/// then `DICM`). Cheap: reads 132 bytes.
pub fn is_dicom_file(path: &Path) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else { return false };
    let mut head = [0u8; 132];
    file.read_exact(&mut head).is_ok() && &head[128..] == b"DICM"
}

/// The kind of object in a DICOM file (its header only is read).
pub fn probe(path: &Path) -> Result<DicomKind, DicomError> {
    std::fs::metadata(path).map_err(|source| DicomError::Unreadable { path: path.to_path_buf(), source })?;
    let obj = read_header(path)?;
    let modality = opt_str(&obj, tags::MODALITY).unwrap_or_default();
    Ok(match modality.as_str() {
        "RTSTRUCT" => DicomKind::RtStruct,
        "SEG" => DicomKind::Seg,
        _ if is_image(&obj) => DicomKind::Image,
        _ => DicomKind::Other(modality),
    })
}
