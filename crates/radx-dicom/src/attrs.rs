//! Reading single attributes out of a parsed DICOM object, with typed errors.
//!
//! dicom-rs hands back values as text or numbers with their own error types; these helpers
//! turn "absent" and "malformed" into [`DicomError::Attribute`] naming the file and the
//! attribute's keyword, and trim the space/NUL padding DICOM puts on strings and UIDs.

use std::path::Path;

use dicom_core::VR;
use dicom_object::mem::InMemElement;
use dicom_object::{InMemDicomObject, Tag};

use crate::error::DicomError;

/// A DICOM data set (a file's body or a sequence item).
pub(crate) type Object = InMemDicomObject;

fn missing(path: &Path, attribute: &'static str, detail: String) -> DicomError {
    DicomError::Attribute { path: path.to_path_buf(), attribute, detail }
}

/// The text of a string-valued element. Elements some writers store with VR `UN` (unknown,
/// e.g. GDCM's RLE transcoder) hold their text as raw bytes; they are read as the text the
/// dictionary says they are, as pydicom does.
fn text(element: &InMemElement) -> Option<std::borrow::Cow<'_, str>> {
    if element.vr() == VR::UN {
        let bytes = element.to_bytes().ok()?;
        return Some(std::borrow::Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()));
    }
    element.to_str().ok()
}

/// A string attribute, trimmed; `None` when absent or empty.
pub(crate) fn opt_str(obj: &Object, tag: Tag) -> Option<String> {
    let text = text(obj.get(tag)?)?;
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!text.is_empty()).then(|| text.to_string())
}

/// A string attribute that must be present.
pub(crate) fn req_str(obj: &Object, tag: Tag, name: &'static str, path: &Path) -> Result<String, DicomError> {
    opt_str(obj, tag).ok_or_else(|| missing(path, name, String::new()))
}

/// A numeric attribute with `n` values (DS, FD, FL…), all finite.
pub(crate) fn floats(
    obj: &Object,
    tag: Tag,
    n: usize,
    name: &'static str,
    path: &Path,
) -> Result<Vec<f64>, DicomError> {
    let element = obj.get(tag).ok_or_else(|| missing(path, name, String::new()))?;
    let values = if element.vr() == VR::UN {
        let text = text(element).unwrap_or_default();
        let parsed: Result<Vec<f64>, _> = text
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .split('\\')
            .map(|v| v.trim().parse::<f64>())
            .collect();
        parsed.map_err(|e| missing(path, name, format!(": {e}")))?
    } else {
        element.to_multi_float64().map_err(|e| missing(path, name, format!(": {e}")))?
    };
    if values.len() != n || values.iter().any(|v| !v.is_finite()) {
        return Err(missing(path, name, format!(": expected {n} finite numbers, found {values:?}")));
    }
    Ok(values)
}

/// An optional single number; `Ok(None)` when absent or empty, an error when malformed.
pub(crate) fn opt_float(obj: &Object, tag: Tag, name: &'static str, path: &Path) -> Result<Option<f64>, DicomError> {
    if opt_str(obj, tag).is_none() {
        return Ok(None);
    }
    floats(obj, tag, 1, name, path).map(|v| Some(v[0]))
}

/// A whole-number attribute (US, IS…) that must be present.
pub(crate) fn req_uint(obj: &Object, tag: Tag, name: &'static str, path: &Path) -> Result<u32, DicomError> {
    let element = obj.get(tag).ok_or_else(|| missing(path, name, String::new()))?;
    element.to_int::<u32>().map_err(|e| missing(path, name, format!(": {e}")))
}

/// The items of a sequence attribute; empty when absent.
pub(crate) fn items(obj: &Object, tag: Tag) -> &[Object] {
    obj.get(tag).and_then(|e| e.items()).unwrap_or(&[])
}
