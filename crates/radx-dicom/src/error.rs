//! Typed errors of the DICOM readers.
//!
//! Every variant names the file (or folder) it is about and reads as "`<file>`: what is
//! wrong — what to do", so a batch log line is actionable on its own. Callers decide by
//! variant, never by the text.

use std::path::PathBuf;

/// What can go wrong while reading a DICOM series, an RTSTRUCT or a SEG.
#[derive(Debug, thiserror::Error)]
pub enum DicomError {
    /// The folder or file list holds no file.
    #[error("{}: no DICOM file found — pass a folder holding a series, or its files", path.display())]
    Empty {
        /// The folder (or first path) given.
        path: PathBuf,
    },
    /// The operating system refused a read (missing file, permissions…).
    #[error("{}: cannot read: {source}", path.display())]
    Unreadable {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Not a DICOM file, or a DICOM file too damaged to parse.
    #[error("{}: not a readable DICOM file ({reason})", path.display())]
    NotDicom {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// An attribute the reader needs is absent or malformed.
    #[error("{}: attribute {attribute} is missing or malformed{detail}", path.display())]
    Attribute {
        /// The file.
        path: PathBuf,
        /// The attribute's keyword, e.g. `ImagePositionPatient`.
        attribute: &'static str,
        /// Extra context (may be empty; starts with ": " otherwise).
        detail: String,
    },
    /// An element (or item) declares a value longer than the bytes left in the file: a
    /// damaged or crafted file, refused before anything is reserved for it.
    #[error(
        "{}: element {tag} at byte {offset} declares {declared} bytes but only {left} are left in the file — the file is truncated or damaged; export it again",
        path.display()
    )]
    DeclaredLengthBeyondFile {
        /// The file.
        path: PathBuf,
        /// The element's tag, as `(gggg,eeee)`.
        tag: String,
        /// Where the value starts (bytes from the file's start).
        offset: u64,
        /// The length the element declares.
        declared: u64,
        /// The bytes from `offset` to the end of the file.
        left: u64,
    },
    /// A value of a fixed-size type (US, FL, OV…) whose length is not a whole number of
    /// its elements: the standard forbids it, and dicom-rs would read past it out of step
    /// with the file, taking later bytes for headers.
    #[error(
        "{}: element {tag} at byte {offset} has VR {vr} and length {declared}, not a multiple of its {size}-byte values — the file is damaged; export it again",
        path.display()
    )]
    ValueLengthNotMultiple {
        /// The file.
        path: PathBuf,
        /// The element's tag, as `(gggg,eeee)`.
        tag: String,
        /// Where the value starts (bytes from the file's start).
        offset: u64,
        /// The element's value representation.
        vr: String,
        /// The length the element declares.
        declared: u64,
        /// The size of one value of that VR.
        size: u32,
    },
    /// The pixel data could not be decoded (unsupported transfer syntax, corrupt fragment…).
    #[error("{}: cannot decode the pixel data: {reason}", path.display())]
    Pixels {
        /// The file.
        path: PathBuf,
        /// The decoder's complaint.
        reason: String,
    },
    /// The input holds image slices of more than one series.
    #[error(
        "{}: {} series found ({}) — pick one with the series option or pass only its files",
        path.display(), series.len(), series.join(", ")
    )]
    SeveralSeries {
        /// The folder (or first file) given.
        path: PathBuf,
        /// Each series as `UID (n files)`.
        series: Vec<String>,
    },
    /// The series asked for is not among those found.
    #[error("{}: series {wanted} not found (found: {})", path.display(), found.join(", "))]
    SeriesNotFound {
        /// The folder (or first file) given.
        path: PathBuf,
        /// The SeriesInstanceUID asked for.
        wanted: String,
        /// The UIDs present.
        found: Vec<String>,
    },
    /// A slice disagrees with the first slice about something that must be constant.
    #[error("{}: {what} differs from {} — the files do not form one regular volume", path.display(), first.display())]
    Inconsistent {
        /// The disagreeing file.
        path: PathBuf,
        /// The series' first file.
        first: PathBuf,
        /// What differs (size, pixel spacing, orientation…), with both values.
        what: String,
    },
    /// Two slices at the same position.
    #[error("{}: duplicate slice: same position as {} — remove one of them", path.display(), other.display())]
    DuplicateSlice {
        /// One file.
        path: PathBuf,
        /// The other file at that position.
        other: PathBuf,
    },
    /// The gap between two neighbouring slices is a multiple of the series' spacing.
    #[error(
        "{}: about {missing} slice(s) missing between it and {} (gap {gap:.4} mm, spacing {spacing:.4} mm)",
        path.display(), next.display()
    )]
    MissingSlices {
        /// The slice before the gap.
        path: PathBuf,
        /// The slice after the gap.
        next: PathBuf,
        /// Estimated number of missing slices.
        missing: usize,
        /// The gap found (mm).
        gap: f64,
        /// The series' usual spacing (mm).
        spacing: f64,
    },
    /// Slice gaps vary beyond the tolerance.
    #[error(
        "{}: uneven slice spacing: {gap:.4} mm to {} where the series' spacing is {spacing:.4} mm — resample the series first",
        path.display(), next.display()
    )]
    UnevenSpacing {
        /// The slice before the odd gap.
        path: PathBuf,
        /// The slice after it.
        next: PathBuf,
        /// The odd gap (mm).
        gap: f64,
        /// The series' usual spacing (mm).
        spacing: f64,
    },
    /// Slices are shifted within their plane (gantry tilt) or not parallel.
    #[error(
        "{}: slice offset {offset:.4} mm off the slice normal (gantry tilt or sheared stack) — resample the series first",
        path.display()
    )]
    Tilted {
        /// The offending slice.
        path: PathBuf,
        /// How far its position lies off the line through the first slice along the normal (mm).
        offset: f64,
    },
    /// A DICOM feature this reader does not implement yet.
    #[error("{}: {what} is not supported yet", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        what: String,
    },
    /// The volume would exceed the memory budget.
    #[error("{}: the series needs {bytes} bytes of voxel data, over the budget of {max_bytes}", path.display())]
    TooLarge {
        /// The folder or first file.
        path: PathBuf,
        /// Bytes needed.
        bytes: u64,
        /// Bytes allowed.
        max_bytes: u64,
    },
    /// The file is DICOM but not an RTSTRUCT.
    #[error("{}: not an RTSTRUCT (Modality {modality}) — pass the structure set file as the mask", path.display())]
    NotRtstruct {
        /// The file.
        path: PathBuf,
        /// Its Modality.
        modality: String,
    },
    /// No ROI of that name in the structure set.
    #[error("{}: no ROI named {wanted:?}; ROIs here: {}", path.display(), names.join(", "))]
    UnknownRoi {
        /// The RTSTRUCT.
        path: PathBuf,
        /// The name asked for.
        wanted: String,
        /// The ROI names present.
        names: Vec<String>,
    },
    /// The RTSTRUCT or SEG was drawn on another frame of reference than the image.
    #[error(
        "{}: frame of reference {roi} is not the image's {image} — the segmentation belongs to another image",
        path.display()
    )]
    FrameOfReference {
        /// The RTSTRUCT or SEG.
        path: PathBuf,
        /// The ROI's (or the SEG's) FrameOfReferenceUID.
        roi: String,
        /// The image's FrameOfReferenceUID.
        image: String,
    },
    /// A contour cannot be placed on the image grid.
    #[error("{}: ROI {roi:?}, contour {contour}: {reason}", path.display())]
    Contour {
        /// The RTSTRUCT.
        path: PathBuf,
        /// The ROI's name.
        roi: String,
        /// The contour's position in its ROI's ContourSequence (0-based).
        contour: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A structure set of several ROIs, and none was named.
    #[error("{}: the structure set holds {} ROIs ({}) — name one", path.display(), names.len(), names.join(", "))]
    ChooseRoi {
        /// The RTSTRUCT.
        path: PathBuf,
        /// The ROI names present.
        names: Vec<String>,
    },
    /// The file is DICOM but not a segmentation (SEG).
    #[error("{}: not a DICOM SEG (Modality {modality}) — pass the segmentation file as the mask", path.display())]
    NotSeg {
        /// The file.
        path: PathBuf,
        /// Its Modality.
        modality: String,
    },
    /// No segment of that number or label in the SEG.
    #[error("{}: no segment {wanted:?}; segments here: {}", path.display(), segments.join(", "))]
    UnknownSegment {
        /// The SEG.
        path: PathBuf,
        /// The number or label asked for.
        wanted: String,
        /// The segments present, as `number "label"`.
        segments: Vec<String>,
    },
    /// A SEG of several segments, and none was chosen.
    #[error("{}: the segmentation holds {} segments ({}) — choose one by number or label", path.display(), segments.len(), segments.join(", "))]
    ChooseSegment {
        /// The SEG.
        path: PathBuf,
        /// The segments present, as `number "label"`.
        segments: Vec<String>,
    },
    /// A SEG whose pixel data holds no frame.
    #[error("{}: the segmentation holds no frame (no pixel data) — it segments nothing", path.display())]
    SegNoFrames {
        /// The SEG.
        path: PathBuf,
    },
    /// A SEG frame that cannot be placed on the image grid.
    #[error("{}: frame {frame}: {reason}", path.display())]
    SegFrame {
        /// The SEG.
        path: PathBuf,
        /// The frame (1-based, as DICOM counts frames).
        frame: usize,
        /// What is wrong with it.
        reason: String,
    },
}
