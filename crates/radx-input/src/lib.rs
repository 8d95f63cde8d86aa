//! radx-input: a case as users name it — an image path and a mask path, with the ROI chosen
//! by label, ROI name or segment — resolved into an engine [`Case`].
//!
//! An image is a NIfTI/NRRD file, a DICOM series folder or a DICOM image file (one slice, or
//! a multi-frame image); a mask is a NIfTI/NRRD label map, an RTSTRUCT (a ROI by name) or a
//! DICOM SEG (a segment by number or label). NIfTI and NRRD pass through as paths, so the
//! engine still streams only the ROI's box of a large image; DICOM is read here with
//! radx-dicom into named in-memory volumes ([`VolumeSource::Named`]), the mask placed on the
//! image's grid (a DICOM series' grid, or a NIfTI/NRRD image's header grid). The command
//! line (`radx extract`, `radx ibsi`) and radx-cohort (`radx batch`) resolve cases here, so
//! the rules are written once:
//!
//! - a file named `.nii`, `.nii.gz`, `.nrrd` or `.nhdr` is read by radx-io; a folder is a
//!   DICOM series; a file with the DICOM marker (`DICM` after the 128-byte preamble) or
//!   named `.dcm`, `.dicom` or `.ima` is DICOM (one that does not parse is an error naming
//!   it); any other file is left to radx-io, which names the formats it reads;
//! - an RTSTRUCT mask takes a ROI name (the only ROI when there is one), a SEG a segment
//!   (the only segment when there is one), a label map a label; a choice that does not fit
//!   the mask is an error, not ignored;
//! - the ROI of an RTSTRUCT or SEG becomes a binary mask (label 1); a fractional SEG's voxel
//!   belongs to the ROI when its fraction is at least 0.5 (the IBSI's partial-volume
//!   threshold for masks);
//! - frames of reference are checked when both the image and the mask state one (a NIfTI
//!   image states none).
//!
//! Nothing here prints or reads the environment.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use radx_core::{Grid, Volume};
use radx_dicom::{DicomError, DicomKind, SegmentChoice, SeriesOptions};
use radx_engine::{Case, RoiSelector, VolumeSource};

/// A fractional SEG voxel belongs to the ROI from this fraction on.
pub const PARTIAL_VOLUME_THRESHOLD: f64 = 0.5;

/// A case's inputs that cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A DICOM series, RTSTRUCT or SEG could not be read or placed.
    #[error(transparent)]
    Dicom(#[from] DicomError),
    /// A NIfTI or NRRD header could not be read.
    #[error(transparent)]
    Io(#[from] radx_io::IoError),
    /// An input is not what its role needs, or the ROI choice does not fit the mask.
    #[error("{}: {message}", path.display())]
    Choice {
        /// The input concerned.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
}

impl InputError {
    /// Whether an input was refused for the memory budget: a larger budget would let it be read.
    pub fn is_over_budget(&self) -> bool {
        matches!(
            self,
            InputError::Io(radx_io::IoError::TooLarge { .. }) | InputError::Dicom(DicomError::TooLarge { .. })
        )
    }
}

fn choice_error(path: &Path, message: impl Into<String>) -> InputError {
    InputError::Choice { path: path.to_path_buf(), message: message.into() }
}

/// What a path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// A NIfTI or NRRD file (by its name).
    VolumeFile,
    /// A folder: a DICOM series.
    DicomFolder,
    /// A DICOM file, and which kind of object it holds.
    DicomFile(DicomKind),
}

/// What `path` holds: a `.nii`/`.nii.gz`/`.nrrd`/`.nhdr` name is a volume file (whatever
/// it is: radx-io reports what is wrong with it); a folder is a DICOM series; a file that
/// starts like a DICOM file (the `DICM` marker after its preamble) or is named `.dcm`,
/// `.dicom` or `.ima` is probed as DICOM (its header read); any other file is left to
/// radx-io, which refuses an unknown format by name.
pub fn classify(path: &Path) -> Result<InputKind, InputError> {
    if radx_io::knows_format(path) {
        return Ok(InputKind::VolumeFile);
    }
    if path.is_dir() {
        return Ok(InputKind::DicomFolder);
    }
    let dicom_name = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| matches!(e.as_str(), "dcm" | "dicom" | "ima"));
    if dicom_name || radx_dicom::is_dicom_file(path) {
        return Ok(InputKind::DicomFile(radx_dicom::probe(path)?));
    }
    Ok(InputKind::VolumeFile)
}

/// How the ROI is chosen in the mask. Each field fits one kind of mask; one given for
/// another kind is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskChoice {
    /// The label of a NIfTI/NRRD label map (default: [`ResolveOptions::default_label`]).
    pub label: Option<i64>,
    /// The ROI name of an RTSTRUCT (default: its only ROI).
    pub roi: Option<String>,
    /// The segment of a SEG, a number or a label (default: its only segment).
    pub segment: Option<String>,
}

/// A case as named on a command line or in a case list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInput {
    /// Image: NIfTI/NRRD file, DICOM folder or DICOM file.
    pub image: PathBuf,
    /// Mask: NIfTI/NRRD label map, RTSTRUCT or SEG.
    pub mask: PathBuf,
    /// Which ROI of the mask.
    pub choice: MaskChoice,
    /// The SeriesInstanceUID to read from a DICOM folder holding several series.
    pub series: Option<String>,
}

/// Defaults and limits of resolving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolveOptions {
    /// A label map's ROI label when the choice names none (the settings' label).
    pub default_label: i64,
    /// Largest DICOM volume read, in bytes of `f64` voxels (the settings' memory budget).
    pub max_bytes: u64,
}

/// What the mask was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaskKind {
    /// A NIfTI/NRRD label map.
    LabelMap,
    /// An RTSTRUCT, and the ROI read from it.
    Rtstruct {
        /// The ROI's name.
        roi: String,
    },
    /// A SEG, and the segment read from it.
    Seg {
        /// SegmentNumber.
        number: u16,
        /// SegmentLabel.
        label: String,
    },
}

/// A resolved case.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The engine's case: paths for NIfTI/NRRD, named volumes for DICOM; the ROI set (a
    /// label map's label, 1 for an RTSTRUCT or SEG mask).
    pub case: Case,
    /// What the mask was.
    pub mask: MaskKind,
}

/// The image side once read: its source, and the grid and frame of reference a DICOM mask
/// is placed with.
struct Image {
    source: VolumeSource,
    grid: Option<Grid>,
    frame_of_reference: Option<String>,
}

impl Image {
    /// The grid masks are placed on: the series', or the NIfTI/NRRD header's.
    fn grid(&self, path: &Path) -> Result<Grid, InputError> {
        match self.grid {
            Some(grid) => Ok(grid),
            None => Ok(radx_io::read_info(path)?.grid),
        }
    }
}

/// Resolve a case: classify both inputs, read what is DICOM, place the mask on the image's
/// grid, and check that the ROI choice fits the mask.
pub fn resolve(input: &CaseInput, opts: &ResolveOptions) -> Result<Resolved, InputError> {
    let image = read_image(input, opts)?;
    let mask_kind = classify(&input.mask)?;
    let choice = &input.choice;
    let misplaced =
        |what: &str, fits: &str| choice_error(&input.mask, format!("{what} given, but this mask is {fits}"));
    match mask_kind {
        InputKind::VolumeFile => {
            if choice.roi.is_some() {
                return Err(misplaced("an RTSTRUCT ROI name", "a label map: choose its ROI by label"));
            }
            if choice.segment.is_some() {
                return Err(misplaced("a SEG segment", "a label map: choose its ROI by label"));
            }
            let roi = RoiSelector::Label(choice.label.unwrap_or(opts.default_label));
            let case = Case { image: image.source, mask: VolumeSource::Path(input.mask.clone()), roi, id: None };
            Ok(Resolved { case, mask: MaskKind::LabelMap })
        }
        InputKind::DicomFile(DicomKind::RtStruct) => {
            if choice.label.is_some() {
                return Err(misplaced("a label", "an RTSTRUCT: choose its ROI by name"));
            }
            if choice.segment.is_some() {
                return Err(misplaced("a SEG segment", "an RTSTRUCT: choose its ROI by name"));
            }
            let set = radx_dicom::read_rtstruct(&input.mask)?;
            let roi = set.choose(choice.roi.as_deref())?;
            set.check_frame_of_reference(roi, image.frame_of_reference.as_deref())?;
            let mask = radx_dicom::rasterise(&input.mask, roi, &image.grid(&input.image)?)?;
            let name = format!("{} (ROI {:?})", input.mask.display(), roi.name);
            let volume = mask.map(|inside| if *inside { 1.0 } else { 0.0 });
            Ok(binary_case(image, name, volume, MaskKind::Rtstruct { roi: roi.name.clone() }))
        }
        InputKind::DicomFile(DicomKind::Seg) => {
            if choice.label.is_some() {
                return Err(misplaced("a label", "a DICOM SEG: choose its segment by number or label"));
            }
            if choice.roi.is_some() {
                return Err(misplaced("an RTSTRUCT ROI name", "a DICOM SEG: choose its segment by number or label"));
            }
            let seg = radx_dicom::read_seg(&input.mask)?;
            seg.check_frame_of_reference(image.frame_of_reference.as_deref())?;
            let wanted = choice.segment.as_deref().map(SegmentChoice::parse);
            let segment = seg.segment(wanted.as_ref())?;
            let fractions = seg.mask(segment.number, &image.grid(&input.image)?)?;
            let name = format!("{} (segment {})", input.mask.display(), segment.describe());
            let volume = fractions.map(|f| if *f >= PARTIAL_VOLUME_THRESHOLD { 1.0 } else { 0.0 });
            let kind = MaskKind::Seg { number: segment.number, label: segment.label.clone() };
            Ok(binary_case(image, name, volume, kind))
        }
        InputKind::DicomFolder => Err(choice_error(
            &input.mask,
            "a folder is not a mask: pass an RTSTRUCT or SEG file, or a NIfTI/NRRD label map",
        )),
        InputKind::DicomFile(DicomKind::Image) => Err(choice_error(
            &input.mask,
            "a DICOM image, not a mask: pass an RTSTRUCT or SEG file, or a NIfTI/NRRD label map",
        )),
        InputKind::DicomFile(DicomKind::Other(modality)) => Err(choice_error(
            &input.mask,
            format!(
                "a DICOM object of Modality {modality:?}, not a mask: pass an RTSTRUCT or SEG file, or a NIfTI/NRRD label map"
            ),
        )),
    }
}

fn binary_case(image: Image, name: String, volume: Volume<f64>, mask: MaskKind) -> Resolved {
    let mask_source = VolumeSource::Named { name, volume: Arc::new(volume) };
    Resolved { case: Case { image: image.source, mask: mask_source, roi: RoiSelector::Label(1), id: None }, mask }
}

fn read_image(input: &CaseInput, opts: &ResolveOptions) -> Result<Image, InputError> {
    let path = &input.image;
    let dicom = match classify(path)? {
        InputKind::VolumeFile => false,
        InputKind::DicomFolder | InputKind::DicomFile(DicomKind::Image) => true,
        InputKind::DicomFile(DicomKind::RtStruct | DicomKind::Seg) => {
            return Err(choice_error(path, "a segmentation, not an image: pass it as the mask"));
        }
        InputKind::DicomFile(DicomKind::Other(modality)) => {
            return Err(choice_error(path, format!("a DICOM object of Modality {modality:?}, not an image")));
        }
    };
    if !dicom {
        if input.series.is_some() {
            return Err(choice_error(
                path,
                "a series UID given, but the image is a NIfTI/NRRD file, not a DICOM folder",
            ));
        }
        return Ok(Image { source: VolumeSource::Path(path.clone()), grid: None, frame_of_reference: None });
    }
    let series_opts =
        SeriesOptions { series_uid: input.series.clone(), max_bytes: opts.max_bytes, ..SeriesOptions::default() };
    let series = radx_dicom::read_series_with(path, &series_opts)?;
    let grid = series.volume.grid;
    Ok(Image {
        source: VolumeSource::Named { name: path.display().to_string(), volume: Arc::new(series.volume) },
        grid: Some(grid),
        frame_of_reference: series.frame_of_reference_uid,
    })
}
