//! An RTSTRUCT (structure set) file: its ROIs, by name, with their contours.
//!
//! Structure sets keep names and frames of reference in StructureSetROISequence and the
//! polygons in ROIContourSequence, linked by ROI number; this module joins the two so that
//! a caller asks for a ROI by the name a clinician sees. Points stay in patient (LPS)
//! millimetres; placing them on an image grid is `raster.rs`' job.

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;

use crate::attrs::{Object, items, opt_str};
use crate::error::DicomError;
use crate::slice::{open, parse};

/// The geometric type of a contour (ContourGeometricType).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContourKind {
    /// A closed polygon in one plane: the only kind that encloses voxels.
    ClosedPlanar,
    /// An open polyline.
    OpenPlanar,
    /// A single point.
    Point,
    /// Anything else, as written in the file.
    Other(String),
}

/// One contour: its kind and its points in LPS millimetres.
#[derive(Debug, Clone, PartialEq)]
pub struct Contour {
    /// ContourGeometricType.
    pub kind: ContourKind,
    /// ContourData, as (x, y, z) triples.
    pub points: Vec<[f64; 3]>,
}

/// One ROI of a structure set.
#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    /// ROINumber.
    pub number: String,
    /// ROIName.
    pub name: String,
    /// ReferencedFrameOfReferenceUID (else the structure set's only frame of reference).
    pub frame_of_reference_uid: Option<String>,
    /// Its contours, in file order.
    pub contours: Vec<Contour>,
}

/// A parsed RTSTRUCT file.
#[derive(Debug, Clone, PartialEq)]
pub struct StructureSet {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its ROIs, in StructureSetROISequence order.
    pub rois: Vec<Roi>,
}

impl StructureSet {
    /// The ROI named `name` (exactly); the error lists the names there are.
    pub fn roi(&self, name: &str) -> Result<&Roi, DicomError> {
        self.rois.iter().find(|r| r.name == name).ok_or_else(|| DicomError::UnknownRoi {
            path: self.path.clone(),
            wanted: name.to_string(),
            names: self.rois.iter().map(|r| r.name.clone()).collect(),
        })
    }

    /// The ROI named `name`; without a name, the only ROI (an error listing the names when
    /// there are several).
    pub fn choose(&self, name: Option<&str>) -> Result<&Roi, DicomError> {
        match name {
            Some(name) => self.roi(name),
            None if self.rois.len() == 1 => Ok(&self.rois[0]),
            None => Err(DicomError::ChooseRoi {
                path: self.path.clone(),
                names: self.rois.iter().map(|r| r.name.clone()).collect(),
            }),
        }
    }

    /// An error when `roi` and the image (`image`, when stated) are on different frames of
    /// reference.
    pub fn check_frame_of_reference(&self, roi: &Roi, image: Option<&str>) -> Result<(), DicomError> {
        match (image, &roi.frame_of_reference_uid) {
            (Some(image), Some(of_roi)) if image != of_roi => Err(DicomError::FrameOfReference {
                path: self.path.clone(),
                roi: of_roi.clone(),
                image: image.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

/// Read an RTSTRUCT file.
pub fn read_rtstruct(path: &Path) -> Result<StructureSet, DicomError> {
    structure_set(&open(path)?.into_inner(), path)
}

/// Read an RTSTRUCT held in memory; `name` names it in errors.
pub fn read_rtstruct_bytes(name: &Path, bytes: &[u8]) -> Result<StructureSet, DicomError> {
    structure_set(&parse(name, bytes)?.into_inner(), name)
}

fn structure_set(obj: &Object, path: &Path) -> Result<StructureSet, DicomError> {
    let modality = opt_str(obj, tags::MODALITY).unwrap_or_default();
    if modality != "RTSTRUCT" {
        return Err(DicomError::NotRtstruct { path: path.to_path_buf(), modality });
    }
    let default_frame = items(obj, tags::REFERENCED_FRAME_OF_REFERENCE_SEQUENCE)
        .first()
        .and_then(|item| opt_str(item, tags::FRAME_OF_REFERENCE_UID));
    let mut rois = Vec::new();
    for item in items(obj, tags::STRUCTURE_SET_ROI_SEQUENCE) {
        let number = opt_str(item, tags::ROI_NUMBER).unwrap_or_default();
        let contours = contours_of(obj, &number, path)?;
        rois.push(Roi {
            name: opt_str(item, tags::ROI_NAME).unwrap_or_default(),
            frame_of_reference_uid: opt_str(item, tags::REFERENCED_FRAME_OF_REFERENCE_UID).or(default_frame.clone()),
            number,
            contours,
        });
    }
    Ok(StructureSet { path: path.to_path_buf(), rois })
}

/// The contours of ROI `number` from ROIContourSequence (none when it has no entry).
fn contours_of(obj: &Object, number: &str, path: &Path) -> Result<Vec<Contour>, DicomError> {
    let entry = items(obj, tags::ROI_CONTOUR_SEQUENCE)
        .iter()
        .find(|item| opt_str(item, tags::REFERENCED_ROI_NUMBER).as_deref() == Some(number));
    let Some(entry) = entry else { return Ok(Vec::new()) };
    items(entry, tags::CONTOUR_SEQUENCE).iter().map(|c| contour(c, path)).collect()
}

fn contour(item: &Object, path: &Path) -> Result<Contour, DicomError> {
    let kind = match opt_str(item, tags::CONTOUR_GEOMETRIC_TYPE).as_deref() {
        Some("CLOSED_PLANAR") => ContourKind::ClosedPlanar,
        Some("OPEN_PLANAR") => ContourKind::OpenPlanar,
        Some("POINT") => ContourKind::Point,
        other => ContourKind::Other(other.unwrap_or("").to_string()),
    };
    let bad = |detail: String| DicomError::Attribute { path: path.to_path_buf(), attribute: "ContourData", detail };
    let values = match item.get(tags::CONTOUR_DATA) {
        None => Vec::new(),
        Some(element) => element.to_multi_float64().map_err(|e| bad(format!(": {e}")))?,
    };
    if values.len() % 3 != 0 || values.iter().any(|v| !v.is_finite()) {
        return Err(bad(format!(": {} values, not finite (x, y, z) triples", values.len())));
    }
    let points = values.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    Ok(Contour { kind, points })
}
