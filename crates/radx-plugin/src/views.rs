//! The safe views a Rust plugin's functions receive ([`Input`] and its parts) and the
//! [`Matrix`] a source returns, over the raw ABI structs.

use crate::{__private, RADX_MAX_MATRIX_DIMS, RadxInput, RadxMaskView, RadxMatrixView};

/// A slice from a (pointer, length) pair that may be null when empty.
///
/// # Safety
/// When `ptr` is non-null it must point to `len` initialised values living for `'a`.
unsafe fn slice_or_empty<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// Linear index of voxel `[x, y, z]` in an x-fastest volume of `dims`.
#[inline]
pub fn voxel_index(dims: [usize; 3], x: usize, y: usize, z: usize) -> usize {
    x + dims[0] * (y + dims[1] * z)
}

/// A mask seen from the plugin: one byte per voxel, x-fastest.
#[derive(Debug, Clone, Copy)]
pub struct Mask<'a> {
    /// The voxels, 0 outside and non-zero inside.
    pub data: &'a [u8],
    /// Number of voxels along x, y, z.
    pub dims: [usize; 3],
}

impl Mask<'_> {
    /// Whether voxel `[x, y, z]` is inside; false outside the volume.
    #[inline]
    pub fn get(&self, x: usize, y: usize, z: usize) -> bool {
        if x >= self.dims[0] || y >= self.dims[1] || z >= self.dims[2] {
            return false;
        }
        self.data.get(voxel_index(self.dims, x, y, z)).is_some_and(|&b| b != 0)
    }

    /// Number of voxels inside.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&b| b != 0).count()
    }
}

/// Discretised grey levels seen from the plugin.
#[derive(Debug, Clone, Copy)]
pub struct Levels<'a> {
    /// Level per voxel, `1..=ng` inside the intensity mask, 0 outside, x-fastest.
    pub data: &'a [u16],
    /// Number of voxels along x, y, z.
    pub dims: [usize; 3],
    /// Number of grey levels Ng.
    pub ng: usize,
}

/// A host matrix seen from the plugin (row-major).
#[derive(Debug, Clone, Copy)]
pub struct MatrixRef<'a> {
    /// The entries, row-major.
    pub data: &'a [f64],
    /// Length of each axis.
    pub shape: &'a [usize],
    axis_values: [&'a [f64]; RADX_MAX_MATRIX_DIMS],
}

impl<'a> MatrixRef<'a> {
    /// Values naming the positions along `axis`, or `None` when the host gave none
    /// (positions are then `0..shape[axis]`).
    pub fn axis_values(&self, axis: usize) -> Option<&'a [f64]> {
        self.axis_values.get(axis).copied().filter(|v| !v.is_empty())
    }
}

/// Where the box a plugin sees lies (see [`RadxGeometry`](crate::RadxGeometry)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Voxel size in mm along x, y, z.
    pub spacing: [f64; 3],
    /// World position (mm) of the centre of the box's voxel `[0, 0, 0]`.
    pub origin: [f64; 3],
    /// Direction cosines, row-major: column `c` is the world direction of index axis `c`.
    pub direction: [[f64; 3]; 3],
    /// Index of the box's voxel `[0, 0, 0]` in the processed image.
    pub box_offset: [usize; 3],
    /// Number of voxels of the processed image along x, y, z.
    pub image_dims: [usize; 3],
}

impl Geometry {
    /// World position (mm) of the centre of box voxel `[x, y, z]`.
    pub fn world(&self, x: usize, y: usize, z: usize) -> [f64; 3] {
        let step = [x as f64 * self.spacing[0], y as f64 * self.spacing[1], z as f64 * self.spacing[2]];
        let mut p = self.origin;
        for (r, row) in self.direction.iter().enumerate() {
            p[r] += row[0] * step[0] + row[1] * step[1] + row[2] * step[2];
        }
        p
    }
}

/// The processed image and masks around the ROI, as far as the feature's `margin_mm`
/// asked ([`Input::margin`]); x-fastest like every volume.
#[derive(Debug, Clone, Copy)]
pub struct Region<'a> {
    /// The processed image over the region.
    pub image: &'a [f64],
    /// The morphological mask over the region (the ROI; 0 elsewhere).
    pub morphological_mask: Mask<'a>,
    /// The intensity mask over the region.
    pub intensity_mask: Mask<'a>,
    /// Number of voxels along x, y, z.
    pub dims: [usize; 3],
    /// Voxel size in mm along x, y, z (the cropped box's).
    pub spacing: [f64; 3],
    /// Index of the region's voxel `[0, 0, 0]` in the processed image.
    pub offset: [usize; 3],
}

/// How serious a message to the host is ([`log`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// An error.
    Error,
    /// A warning.
    Warn,
    /// Information.
    Info,
    /// Debugging detail.
    Debug,
}

/// Send a message to radx, which shows it naming the plugin. Does nothing before radx
/// initialised the plugin or when radx takes no logs. Callable from any thread.
pub fn log(level: LogLevel, message: &str) {
    __private::log(level, message);
}

/// Whether radx is cancelling the run ([`RadxHost::cancelled`](crate::RadxHost::cancelled), ABI 2.1): a long feature
/// may check it now and then and return an error early. False before radx initialised
/// the plugin, or on a radx that cannot say (older than 2.1). Callable from any thread.
pub fn cancelled() -> bool {
    __private::cancelled()
}

/// The safe view of a [`RadxInput`] a Rust plugin's functions receive.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    raw: &'a RadxInput,
}

impl<'a> Input<'a> {
    /// Wrap a raw input.
    ///
    /// # Safety
    /// Every pointer in `raw` must be null or valid for the lengths its dims/len/shape
    /// fields state, for `'a` (the host guarantees this for the duration of a call).
    pub unsafe fn from_raw(raw: &'a RadxInput) -> Self {
        Input { raw }
    }

    /// Where the box lies in the world and in the processed image.
    pub fn geometry(&self) -> Geometry {
        let g = &self.raw.geometry;
        let d = g.direction;
        Geometry {
            spacing: self.raw.image.spacing,
            origin: g.origin,
            direction: [[d[0], d[1], d[2]], [d[3], d[4], d[5]], [d[6], d[7], d[8]]],
            box_offset: g.box_offset,
            image_dims: g.image_dims,
        }
    }

    /// The case's id (a batch's `id` column), when the run has one.
    pub fn case_id(&self) -> Option<&'a str> {
        if self.raw.case_id.is_null() {
            return None;
        }
        // SAFETY: the host passes a NUL-terminated string valid for the call (from_raw).
        unsafe { std::ffi::CStr::from_ptr(self.raw.case_id) }.to_str().ok()
    }

    /// The ROI's label in the mask; 0 when the ROI is every non-zero label.
    pub fn label(&self) -> i64 {
        self.raw.label
    }

    /// The case's effective settings as a JSON object (ABI 2.1), when the host gave them.
    pub fn settings_json(&self) -> Option<&'a str> {
        if self.raw.settings_json.is_null() {
            return None;
        }
        // SAFETY: the host passes a NUL-terminated string valid for the call (from_raw).
        unsafe { std::ffi::CStr::from_ptr(self.raw.settings_json) }.to_str().ok()
    }

    /// The processed image and masks around the ROI's box, grown by the feature's
    /// `margin_mm` (clamped to what the host has), or `None` when the feature declared no
    /// margin or the host is older than ABI 2.1.
    pub fn margin(&self) -> Option<Region<'a>> {
        let r = &self.raw.margin;
        if r.image.data.is_null() {
            return None;
        }
        let len = r.image.dims.iter().product();
        // SAFETY: the host gives `dims` voxels behind each non-null pointer (from_raw).
        let image = unsafe { slice_or_empty(r.image.data, len) };
        Some(Region {
            image,
            morphological_mask: self.mask(&r.morphological_mask),
            intensity_mask: self.mask(&r.intensity_mask),
            dims: r.image.dims,
            spacing: r.image.spacing,
            offset: r.offset,
        })
    }

    /// Number of voxels along x, y, z of the cropped image.
    pub fn dims(&self) -> [usize; 3] {
        self.raw.image.dims
    }

    /// Voxel size in mm along x, y, z.
    pub fn spacing(&self) -> [f64; 3] {
        self.raw.image.spacing
    }

    /// Number of voxels of the cropped image.
    pub fn voxel_count(&self) -> usize {
        self.dims().iter().product()
    }

    /// The cropped image, x-fastest (see [`voxel_index`]).
    pub fn image(&self) -> &'a [f64] {
        // SAFETY: the host guarantees `dims` voxels behind a non-null pointer (from_raw).
        unsafe { slice_or_empty(self.raw.image.data, self.voxel_count()) }
    }

    fn mask(&self, view: &RadxMaskView) -> Mask<'a> {
        let len = view.dims.iter().product();
        // SAFETY: as for `image`.
        Mask { data: unsafe { slice_or_empty(view.data, len) }, dims: view.dims }
    }

    /// The morphological mask.
    pub fn morphological_mask(&self) -> Mask<'a> {
        self.mask(&self.raw.morphological_mask)
    }

    /// The intensity mask.
    pub fn intensity_mask(&self) -> Mask<'a> {
        self.mask(&self.raw.intensity_mask)
    }

    /// Intensities of the intensity-mask voxels.
    pub fn intensities(&self) -> &'a [f64] {
        // SAFETY: as for `image`.
        unsafe { slice_or_empty(self.raw.intensities.data, self.raw.intensities.len) }
    }

    /// Discretised grey levels, or `None` when the host configured no discretisation.
    pub fn levels(&self) -> Option<Levels<'a>> {
        let v = &self.raw.levels;
        if v.data.is_null() {
            return None;
        }
        let len = v.dims.iter().product();
        // SAFETY: as for `image`.
        Some(Levels { data: unsafe { slice_or_empty(v.data, len) }, dims: v.dims, ng: v.ng })
    }

    /// Number of matrices passed for the feature's source.
    pub fn matrix_count(&self) -> usize {
        if self.raw.matrices.is_null() { 0 } else { self.raw.n_matrices }
    }

    /// Matrix `i` of the feature's source, if there is one.
    pub fn matrix(&self, i: usize) -> Option<MatrixRef<'a>> {
        if i >= self.matrix_count() {
            return None;
        }
        // SAFETY: `i < n_matrices` and the pointer is non-null (checked above).
        let view: &'a RadxMatrixView = unsafe { &*self.raw.matrices.add(i) };
        let ndim = view.ndim.min(RADX_MAX_MATRIX_DIMS);
        let shape = &view.shape[..ndim];
        let len = shape.iter().product();
        let mut axis_values: [&'a [f64]; RADX_MAX_MATRIX_DIMS] = [&[]; RADX_MAX_MATRIX_DIMS];
        for (a, values) in axis_values.iter_mut().enumerate().take(ndim) {
            // SAFETY: the host gives `shape[a]` values or null.
            *values = unsafe { slice_or_empty(view.axis_values[a], shape[a]) };
        }
        // SAFETY: the host gives `product(shape)` entries or null.
        Some(MatrixRef { data: unsafe { slice_or_empty(view.data, len) }, shape, axis_values })
    }

    /// All matrices of the feature's source.
    pub fn matrices(&self) -> impl Iterator<Item = MatrixRef<'a>> + '_ {
        (0..self.matrix_count()).filter_map(|i| self.matrix(i))
    }
}

/// A dense matrix a Rust plugin's source builds (row-major), with optional axis values.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<f64>,
    pub(crate) axis_values: Vec<Vec<f64>>,
}

impl Matrix {
    /// A matrix of `shape` from row-major `data`; 1 to [`RADX_MAX_MATRIX_DIMS`] axes.
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Result<Self, String> {
        if shape.is_empty() || shape.len() > RADX_MAX_MATRIX_DIMS {
            return Err(format!("a matrix needs 1 to {RADX_MAX_MATRIX_DIMS} axes, got {}", shape.len()));
        }
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(format!("matrix of shape {shape:?} needs {expected} entries, got {}", data.len()));
        }
        let axis_values = vec![Vec::new(); shape.len()];
        Ok(Matrix { shape, data, axis_values })
    }

    /// Name the positions along `axis` (e.g. grey levels, codes).
    pub fn with_axis_values(mut self, axis: usize, values: Vec<f64>) -> Result<Self, String> {
        let Some(&len) = self.shape.get(axis) else {
            return Err(format!("axis {axis} does not exist in a matrix of shape {:?}", self.shape));
        };
        if values.len() != len {
            return Err(format!("axis {axis} has {len} positions but {} axis values were given", values.len()));
        }
        self.axis_values[axis] = values;
        Ok(self)
    }

    /// Length of each axis.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Entries, row-major.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// Values along `axis`, if set.
    pub fn axis_values(&self, axis: usize) -> Option<&[f64]> {
        self.axis_values.get(axis).map(Vec::as_slice).filter(|v| !v.is_empty())
    }
}
