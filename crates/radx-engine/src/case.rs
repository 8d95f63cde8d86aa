//! What one extraction works on: an image, a label map, and which of its voxels are the ROI.
//! Each input is a file, a volume already in memory (with its geometry), the caller's own
//! array (read by region, as a file is), or an encoded file's bytes, so callers that hold images in memory (the Python package, DICOM readers,
//! a server) need no temporary files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use radx_core::Volume;

use radx_io::VoxelType;

use crate::arrays::VoxelArray;
pub use radx_core::roi::LabelSelection as RoiSelector;

/// An image or a label map.
#[derive(Debug, Clone)]
pub enum VolumeSource {
    /// A NIfTI or NRRD file (format by its suffix). From a file, only the ROI's box of the
    /// image is decoded.
    Path(PathBuf),
    /// A volume in memory, intensities (or labels) indexed `[x, y, z]` on a grid in LPS
    /// world coordinates.
    Volume(Arc<Volume<f64>>),
    /// A volume in memory read from a source radx-io does not parse (a DICOM series, an
    /// RTSTRUCT ROI or a SEG segment on the image's grid: `radx-input`); `name` names it in
    /// errors, as a path would.
    Named {
        /// How errors name it, e.g. the DICOM folder.
        name: String,
        /// The voxels, as for [`VolumeSource::Volume`].
        volume: Arc<Volume<f64>>,
    },
    /// Voxels the caller holds in their own type (a numpy array): from two such arrays the
    /// engine scans the label map once and converts only the ROI's box of the image, as it
    /// reads files. `name` names it in errors.
    Array {
        /// How errors name it, e.g. `image` or `<numpy array>`.
        name: String,
        /// The voxels and their grid.
        array: Arc<dyn VoxelArray>,
    },
    /// An encoded NIfTI or NRRD file in memory; `name` gives its format by suffix
    /// (`scan.nii.gz`) and names it in errors.
    Bytes {
        /// Stands for the file's path.
        name: String,
        /// The file's bytes.
        bytes: Arc<[u8]>,
    },
}

impl VolumeSource {
    /// How errors name this input: the path, the bytes' name, or `<in-memory volume>`.
    pub fn describe(&self) -> String {
        match self {
            VolumeSource::Path(path) => path.display().to_string(),
            VolumeSource::Volume(_) => "<in-memory volume>".to_string(),
            VolumeSource::Named { name, .. } | VolumeSource::Bytes { name, .. } | VolumeSource::Array { name, .. } => {
                name.clone()
            }
        }
    }

    /// The pixel type SimpleITK would read this input in: a file's voxel type (float32 for a
    /// NIfTI file with intensity scaling, as ITK applies it), an array's own type; `None` for
    /// a volume given as `f64` values, whose type is not known. PyRadiomics' numbers depend
    /// on it: SimpleITK resamples into the image's own type.
    pub fn pixel_type(&self) -> Option<VoxelType> {
        let path = match self {
            VolumeSource::Path(path) => path,
            VolumeSource::Array { array, .. } => return Some(array.voxels().voxel_type()),
            VolumeSource::Volume(_) | VolumeSource::Named { .. } | VolumeSource::Bytes { .. } => return None,
        };
        pixel_type_of(&radx_io::read_info(path).ok()?)
    }

    /// The whole volume, read with `opts` (its budget of voxel data and whether an NRRD
    /// header may name a data file outside its folder: the settings'
    /// [`crate::Settings::read_options`], so `--allow-external-data` reaches every read).
    pub(crate) fn load(&self, opts: &radx_io::ReadOptions) -> Result<Arc<Volume<f64>>, radx_io::IoError> {
        let max_bytes = opts.max_bytes;
        match self {
            VolumeSource::Path(path) => radx_io::read_volume_with(path, opts).map(Arc::new),
            VolumeSource::Volume(volume) | VolumeSource::Named { volume, .. } => Ok(Arc::clone(volume)),
            VolumeSource::Bytes { name, bytes } => {
                radx_io::read_volume_bytes(Path::new(name), bytes, opts).map(Arc::new)
            }
            VolumeSource::Array { name, array } => {
                let needed = array.grid().dims.iter().fold(8u64, |n, &d| n.saturating_mul(d as u64));
                if needed > max_bytes {
                    return Err(radx_io::IoError::TooLarge { path: name.into(), needed, budget: max_bytes });
                }
                Ok(Arc::new(crate::arrays::to_volume(array.as_ref())))
            }
        }
    }
}

impl From<PathBuf> for VolumeSource {
    fn from(path: PathBuf) -> Self {
        VolumeSource::Path(path)
    }
}

impl From<&Path> for VolumeSource {
    fn from(path: &Path) -> Self {
        VolumeSource::Path(path.to_path_buf())
    }
}

impl From<Volume<f64>> for VolumeSource {
    fn from(volume: Volume<f64>) -> Self {
        VolumeSource::Volume(Arc::new(volume))
    }
}

impl From<Arc<Volume<f64>>> for VolumeSource {
    fn from(volume: Arc<Volume<f64>>) -> Self {
        VolumeSource::Volume(volume)
    }
}

/// One extraction's inputs. The ROI is part of the case, not of the settings: one compiled
/// [`crate::Extractor`] serves every label of every case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The image.
    pub image: VolumeSource,
    /// The label map, on the image's grid (within the settings' `geometry_tolerance`).
    pub mask: VolumeSource,
    /// Which voxels of the label map are the ROI.
    pub roi: RoiSelector,
    /// The case's id (a batch's `id` column), passed to plugins; `None` for a lone case.
    pub id: Option<String>,
}

impl Case {
    /// A case of an image and a label map, with the ROI label 1.
    pub fn new(image: impl Into<VolumeSource>, mask: impl Into<VolumeSource>) -> Self {
        Case { image: image.into(), mask: mask.into(), roi: RoiSelector::Label(1), id: None }
    }

    /// The same case with an id (plugins see it).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The same case with the ROI `roi` (a label, or every non-zero label).
    pub fn with_roi(mut self, roi: impl Into<RoiSelector>) -> Self {
        self.roi = roi.into();
        self
    }

    /// How errors name the case: `IMAGE with mask MASK`.
    pub fn describe(&self) -> String {
        format!("{} with mask {}", self.image.describe(), self.mask.describe())
    }

    /// Both inputs' paths when both are files (the streaming read applies).
    pub(crate) fn files(&self) -> Option<(&Path, &Path)> {
        match (&self.image, &self.mask) {
            (VolumeSource::Path(image), VolumeSource::Path(mask)) => Some((image, mask)),
            _ => None,
        }
    }

    /// Both inputs when both are the caller's arrays (read by region).
    pub(crate) fn arrays(&self) -> Option<[(&str, &dyn VoxelArray); 2]> {
        match (&self.image, &self.mask) {
            (VolumeSource::Array { name: i, array: image }, VolumeSource::Array { name: m, array: mask }) => {
                Some([(i.as_str(), image.as_ref()), (m.as_str(), mask.as_ref())])
            }
            _ => None,
        }
    }
}

/// The pixel type SimpleITK gives a file with header `info`: the on-disk type, or float32
/// (float64 for float64 data) when a NIfTI scaling applies.
pub(crate) fn pixel_type_of(info: &radx_io::ImageInfo) -> Option<VoxelType> {
    let on_disk = VoxelType::ALL.into_iter().find(|t| t.name() == info.datatype)?;
    Some(match (info.scale, on_disk) {
        (Some(_), VoxelType::F64) => VoxelType::F64,
        (Some(_), _) => VoxelType::F32,
        (None, t) => t,
    })
}
