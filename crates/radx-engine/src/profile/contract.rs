//! What a profile decides. Apart from the profiles' list, so a profile elsewhere
//! (`compat/pyradiomics`) can implement it without a circle of imports.

use ndarray::ShapeBuilder;
use radx_core::roi::Roi;
use radx_core::{CoreError, Volume};
use radx_io::VoxelType;

use crate::model::{FeatureKey, FeatureRow, LibraryFamily};
use crate::settings::Settings;

/// An image and its ROI mask on a profile's own resampling grid.
pub type Resampled = (Volume<f64>, Volume<bool>);

/// An image, or the part of it at hand: `voxels` are those of the whole image (grid
/// `whole`) from voxel index `offset` on. A profile's resampling reads only the part its
/// [`Profile::resampling_region`] names.
#[derive(Debug, Clone, Copy)]
pub struct ImagePart<'a> {
    /// The whole image's grid.
    pub whole: &'a radx_core::Grid,
    /// Index of the part's first voxel in the whole image.
    pub offset: [usize; 3],
    /// The part's voxels, on its sub-grid.
    pub voxels: &'a Volume<f64>,
}

impl<'a> ImagePart<'a> {
    /// A whole image as its own part.
    pub fn whole(image: &'a Volume<f64>) -> ImagePart<'a> {
        ImagePart { whole: &image.grid, offset: [0; 3], voxels: image }
    }

    /// The voxels inside `region` (a box of the whole image, inside the part) on `region`'s
    /// sub-grid: what cropping the whole image to `region` gives.
    pub fn crop(&self, region: &radx_core::BoundingBox) -> Volume<f64> {
        let local = radx_core::BoundingBox {
            min: std::array::from_fn(|a| region.min[a] - self.offset[a]),
            max: std::array::from_fn(|a| region.max[a] - self.offset[a]),
        };
        let data = self.voxels.crop(&local).data;
        Volume { grid: radx_core::processing::resample::sub_grid(self.whole, region), data }
    }
}

/// A ROI mask held as its bounding box: the box (voxel indices of the image's grid) and
/// the mask inside it, on the box's sub-grid; every voxel outside the box is outside the
/// ROI. What a file's label map is read into without a whole `f64` copy of it.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxedMask {
    /// The smallest box holding the ROI.
    pub bbox: radx_core::BoundingBox,
    /// The mask inside `bbox`.
    pub inside: Volume<bool>,
}

impl BoxedMask {
    /// The box of a mask on the image's grid; `None` when the mask is empty.
    pub fn of(mask: &Volume<bool>) -> Option<BoxedMask> {
        let bbox = radx_core::BoundingBox::of_mask(&mask.data)?;
        Some(BoxedMask { bbox, inside: mask.crop(&bbox) })
    }

    /// The mask inside `region` (a box of `image_grid`, the grid the mask lies on, holding
    /// [`BoxedMask::bbox`]) on `region`'s sub-grid: what cropping the whole mask to `region`
    /// gives.
    pub fn within(&self, image_grid: &radx_core::Grid, region: &radx_core::BoundingBox) -> Volume<bool> {
        let grid = radx_core::processing::resample::sub_grid(image_grid, region);
        let dims = region.dims();
        let mut data = ndarray::Array3::from_elem((dims[0], dims[1], dims[2]).f(), false);
        let offset: [usize; 3] = std::array::from_fn(|a| self.bbox.min[a] - region.min[a]);
        for ((x, y, z), &set) in self.inside.data.indexed_iter() {
            data[[x + offset[0], y + offset[1], z + offset[2]]] = set;
        }
        Volume { grid, data }
    }
}

/// A profile's resampling fed its part of the image a z slice at a time
/// ([`Profile::slice_resampling`]), typically on a thread beside the one reading the image.
pub trait SliceResampling: Send {
    /// Bytes held from the first slice to [`SliceResampling::finish`], besides the slice given.
    fn bytes(&self) -> u64;

    /// Work on the part's next z slice (its voxels, x fastest).
    ///
    /// # Errors
    /// [`CoreError::InvalidSetting`] when `values` is not a slice of the part, or every
    /// slice has been given.
    fn push_slice(&mut self, values: &[f64]) -> Result<(), CoreError>;

    /// What puts the ROI's mask on the profile's grid: it needs no image voxel, so it can
    /// run on another thread while the slices are pushed (and the ROI's shape be computed
    /// from its result before the image is read).
    fn mask_onto_grid(&self) -> MaskOntoGrid;

    /// The image on the profile's grid, once every slice is given, with the ROI's `mask`
    /// that [`SliceResampling::mask_onto_grid`] put there.
    ///
    /// # Errors
    /// [`CoreError::InvalidSetting`] when slices are missing.
    fn finish(self: Box<Self>, mask: Volume<bool>) -> Result<Resampled, CoreError>;
}

/// A ROI's mask (its box) put on a [`SliceResampling`]'s grid.
pub type MaskOntoGrid = Box<dyn FnOnce(&BoxedMask) -> Result<Volume<bool>, CoreError> + Send>;

/// The conventions a run follows where tools differ. Every method's default is the IBSI's.
pub trait Profile: Sync {
    /// The embedded feature library: (file name, text) of each `.radx` file.
    fn library(&self) -> &'static [(&'static str, &'static str)];

    /// Whether resampling (when the settings ask for it) uses this profile's own grid, which
    /// [`Profile::resample`] builds from the image's grid and the ROI's box, instead of the
    /// IBSI's grid aligned to the image (which the pipeline builds around the ROI's box
    /// only). From files the pipeline then reads the label map as the ROI's box and the part
    /// of the image [`Profile::resampling_region`] names; in-memory volumes go whole.
    fn resamples_on_own_grid(&self) -> bool {
        false
    }

    /// The part of an image (grid `image`) that [`Profile::resample`] reads for a ROI whose
    /// bounding box is `bbox`, or `None` when the profile has no grid of its own or the
    /// settings ask for no resampling.
    fn resampling_region(
        &self,
        image: &radx_core::Grid,
        bbox: &radx_core::BoundingBox,
        settings: &Settings,
    ) -> Option<Result<radx_core::BoundingBox, CoreError>> {
        let _ = (image, bbox, settings);
        None
    }

    /// `image` (whole, or a part holding [`Profile::resampling_region`]'s) and the ROI
    /// `mask` resampled onto this profile's own grid, or `None` when the profile has none or
    /// the settings ask for no resampling. `pixel` is the image's pixel type when known
    /// ([`crate::VolumeSource::pixel_type`]).
    fn resample(
        &self,
        image: ImagePart<'_>,
        pixel: Option<VoxelType>,
        mask: &BoxedMask,
        settings: &Settings,
    ) -> Option<Result<Resampled, CoreError>> {
        let _ = (image, pixel, mask, settings);
        None
    }

    /// [`Profile::resample`] taking the part of the image that [`Profile::resampling_region`]
    /// names a z slice at a time, while the image is read, when the profile's resampling of
    /// this ROI works slice by slice (`pixel` as for [`Profile::resample`]); `None` when it
    /// needs the part whole. The result is [`Profile::resample`]'s, bit for bit.
    fn slice_resampling(
        &self,
        image: &radx_core::Grid,
        bbox: &radx_core::BoundingBox,
        pixel: Option<VoxelType>,
        settings: &Settings,
    ) -> Option<Result<Box<dyn SliceResampling>, CoreError>> {
        let _ = (image, bbox, pixel, settings);
        None
    }

    /// Refuse a ROI the profile cannot extract (after re-segmentation).
    fn check_roi(&self, roi: &Roi, settings: &Settings) -> Result<(), CoreError> {
        let _ = (roi, settings);
        Ok(())
    }

    /// The compiled library without what the settings' selection would drop from every
    /// case's rows ([`Profile::output_selection`]), so that it is never computed.
    fn prune_library(
        &self,
        library: Vec<LibraryFamily>,
        registry: &radx_dsl::Registry,
        settings: &Settings,
    ) -> Vec<LibraryFamily> {
        let _ = (registry, settings);
        library
    }

    /// Whether the profile has names of its own for its rows ([`Profile::output_selection`]).
    fn has_own_names(&self) -> bool {
        false
    }

    /// Which of an extraction's `rows` a run outputs, in output order, and under which keys:
    /// those the settings select, named by the profile when `own_names` is asked for (and
    /// [`Profile::has_own_names`]). Each row is output at most once, its value, tag and note
    /// unchanged. Maps work this out once and apply it to every window's values.
    fn output_selection(&self, rows: &[FeatureRow], settings: &Settings, own_names: bool) -> Vec<OutputRow> {
        let _ = (settings, own_names);
        rows.iter().enumerate().map(|(row, r)| OutputRow { row, key: r.key.clone() }).collect()
    }

    /// The rows a run outputs: [`Profile::output_selection`] applied to `rows`.
    fn output_rows(&self, rows: Vec<FeatureRow>, settings: &Settings, own_names: bool) -> Vec<FeatureRow> {
        let selection = self.output_selection(&rows, settings, own_names);
        let mut rows: Vec<Option<FeatureRow>> = rows.into_iter().map(Some).collect();
        selection
            .into_iter()
            .filter_map(|out| rows[out.row].take().map(|row| FeatureRow { key: out.key, ..row }))
            .collect()
    }
}

/// One row a run outputs ([`Profile::output_selection`]): which of the extraction's rows it
/// is, and its key in the output (the profile's name for it, when asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct OutputRow {
    /// The index of the extraction's row.
    pub row: usize,
    /// The row's key in the output.
    pub key: FeatureKey,
}
