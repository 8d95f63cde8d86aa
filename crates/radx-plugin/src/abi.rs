//! The ABI 2 structs and calls, as this version (major 2, minor [`RADX_PLUGIN_ABI_MINOR`](crate::RADX_PLUGIN_ABI_MINOR))
//! lays them out; `include/radx_plugin.h` mirrors them field for field.

use std::ffi::{c_char, c_void};

use crate::{RADX_MAX_MATRIX_DIMS, RadxComputeValuesFn, RadxParamDesc};

/// The cropped image: `dims[0]·dims[1]·dims[2]` intensities, x-fastest.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxImageView {
    /// First intensity; x-fastest order.
    pub data: *const f64,
    /// Number of voxels along x, y, z.
    pub dims: [usize; 3],
    /// Voxel size in mm along x, y, z.
    pub spacing: [f64; 3],
}

/// A mask on the image grid: one byte per voxel, 0 (outside) or 1 (inside), x-fastest.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxMaskView {
    /// First voxel; x-fastest order.
    pub data: *const u8,
    /// Number of voxels along x, y, z (equal to the image's).
    pub dims: [usize; 3],
}

/// Discretised grey levels on the image grid: `1..=ng` inside the intensity mask, 0
/// outside, x-fastest. `data` is null and `ng` 0 when no discretisation was configured.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxLevelsView {
    /// First voxel; x-fastest order; may be null.
    pub data: *const u16,
    /// Number of voxels along x, y, z (equal to the image's).
    pub dims: [usize; 3],
    /// Number of grey levels Ng (levels absent from the ROI still count, IBSI 2.7).
    pub ng: usize,
}

/// A vector of `len` doubles.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxValuesView {
    /// First value; may be null when `len` is 0.
    pub data: *const f64,
    /// Number of values.
    pub len: usize,
}

/// A dense matrix of doubles with `ndim` axes, row-major (last index fastest).
///
/// `axis_values[a]` (may be null) holds `shape[a]` values naming the positions along axis
/// `a`, e.g. grey levels `1..=ng` or run lengths; null means positions `0..shape[a]`
/// (0-based, as codes and bin numbers usually are).
/// Entries of `shape`/`axis_values` beyond `ndim` are 0 / null.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxMatrixView {
    /// First entry; row-major; may be null when the matrix is empty.
    pub data: *const f64,
    /// Number of axes, `1..=RADX_MAX_MATRIX_DIMS`.
    pub ndim: usize,
    /// Length of each axis.
    pub shape: [usize; RADX_MAX_MATRIX_DIMS],
    /// Value of each position along each axis, or null.
    pub axis_values: [*const f64; RADX_MAX_MATRIX_DIMS],
}

/// Where the cropped box lies: in the world (mm) and in the processed image.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadxGeometry {
    /// World position (mm) of the centre of the box's voxel `[0, 0, 0]`.
    pub origin: [f64; 3],
    /// Direction cosines, row-major 3×3: column `c` is the world direction of index axis
    /// `c` (x, y, z). The identity for an axis-aligned image.
    pub direction: [f64; 9],
    /// Index of the box's voxel `[0, 0, 0]` in the processed (interpolated) image.
    pub box_offset: [usize; 3],
    /// Number of voxels of the processed image along x, y, z.
    pub image_dims: [usize; 3],
}

/// The processed image and the ROI's masks around the ROI's box, grown by the margin a
/// feature declared ([`RadxFeatureDesc::margin_mm`]); x-fastest like every volume.
///
/// `image.data` is null (and the dims 0) when the feature declared no margin, or the
/// host is older than ABI 2.1.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxRegionView {
    /// The processed image over the region: `image.dims` voxels of `image.spacing` mm.
    pub image: RadxImageView,
    /// The morphological mask over the region (0 outside the ROI).
    pub morphological_mask: RadxMaskView,
    /// The intensity mask over the region (0 outside the ROI).
    pub intensity_mask: RadxMaskView,
    /// Index of the region's voxel `[0, 0, 0]` in the processed image (the ROI's box starts
    /// at [`RadxGeometry::box_offset`]: `box_offset - offset` voxels into the region).
    pub offset: [usize; 3],
}

/// Everything a plugin may see of one region of interest; borrowed for one call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxInput {
    /// `size_of::<RadxInput>()` as the host built it: fields past it are absent.
    pub struct_size: usize,
    /// The image cropped to the ROI bounding box.
    pub image: RadxImageView,
    /// The morphological mask (shape features are computed on it, IBSI 2.6).
    pub morphological_mask: RadxMaskView,
    /// The intensity mask (after re-segmentation), a subset of the morphological one.
    pub intensity_mask: RadxMaskView,
    /// Intensities of the intensity-mask voxels, x-fastest order.
    pub intensities: RadxValuesView,
    /// Discretised grey levels (optional, see [`RadxLevelsView`]).
    pub levels: RadxLevelsView,
    /// The matrices of the source the feature declared (see [`RadxFeatureDesc::source`]),
    /// one per slice/direction or one merged, as the host's aggregation produced them.
    pub matrices: *const RadxMatrixView,
    /// Number of entries behind `matrices`.
    pub n_matrices: usize,
    /// Where the box lies in the world and in the processed image.
    pub geometry: RadxGeometry,
    /// The case's id (a batch's `id` column), NUL-terminated UTF-8, or null when the run
    /// has none (e.g. `radx extract`).
    pub case_id: *const c_char,
    /// The ROI's label in the mask; 0 when the ROI is every non-zero label.
    pub label: i64,
    /// ABI 2.1: the case's effective settings as a NUL-terminated JSON object (the settings
    /// file's keys, defaults filled in), or null when the host has none to give.
    pub settings_json: *const c_char,
    /// ABI 2.1: the image and masks around the ROI, when the feature declared a margin
    /// ([`RadxFeatureDesc::margin_mm`]); absent (null data) otherwise.
    pub margin: RadxRegionView,
}

/// A matrix built by a plugin source, owned by the plugin until `release` is called.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxMatrixOut {
    /// The matrix; valid until `release`.
    pub matrix: RadxMatrixView,
    /// The plugin's private handle on the allocation.
    pub owner: *mut c_void,
    /// Frees the allocation; the host calls it exactly once after copying the matrix.
    pub release: Option<RadxReleaseFn>,
}

/// What the host offers a plugin at [`RadxPluginDesc::init`]; valid for the life of the
/// process (a plugin may keep the pointer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxHost {
    /// `size_of::<RadxHost>()` as the host built it: fields past it are absent.
    pub struct_size: usize,
    /// The host's ABI major version ([`RADX_PLUGIN_ABI`](crate::RADX_PLUGIN_ABI)).
    pub abi_major: u32,
    /// The host's ABI minor version ([`RADX_PLUGIN_ABI_MINOR`](crate::RADX_PLUGIN_ABI_MINOR)).
    pub abi_minor: u32,
    /// The host's handle, passed back to `log`.
    pub host_data: *mut c_void,
    /// Log a NUL-terminated message at a level (`RADX_LOG_*`); callable from any thread,
    /// any time. radx shows it to the user, naming the plugin. Null when the host takes no logs.
    pub log: Option<RadxLogFn>,
    /// ABI 2.1: nonzero when the run is being cancelled, so that a long computation can
    /// stop early (returning [`RADX_ERROR`](crate::RADX_ERROR)); callable from any thread, any time, with
    /// `host_data`. Null when the host offers none.
    pub cancelled: Option<RadxCancelledFn>,
}

/// Computes one feature: writes the value to `*out` and returns [`RADX_OK`](crate::RADX_OK), or returns
/// [`RADX_ERROR`](crate::RADX_ERROR) with a message behind `last_error`. `context` is what `init` stored
/// (null without `init`).
pub type RadxComputeFn = unsafe extern "C" fn(context: *mut c_void, input: *const RadxInput, out: *mut f64) -> i32;

/// Builds one source matrix into `*out` (plugin-owned). `params` is a NUL-terminated JSON
/// object (`{}` when the feature file gave none).
pub type RadxBuildFn = unsafe extern "C" fn(
    context: *mut c_void,
    input: *const RadxInput,
    params: *const c_char,
    out: *mut RadxMatrixOut,
) -> i32;

/// Releases what a [`RadxBuildFn`] allocated.
pub type RadxReleaseFn = unsafe extern "C" fn(matrix: *mut RadxMatrixOut);

/// The message of the last call on this thread if it failed (NUL-terminated, owned by the
/// plugin, valid until the next call on the same thread), or null.
pub type RadxLastErrorFn = unsafe extern "C" fn() -> *const c_char;

/// Whether the run is being cancelled (see [`RadxHost::cancelled`]).
pub type RadxCancelledFn = unsafe extern "C" fn(host_data: *mut c_void) -> i32;

/// Logs a message for the host (see [`RadxHost::log`]).
pub type RadxLogFn = unsafe extern "C" fn(host_data: *mut c_void, level: i32, message: *const c_char);

/// Called once, after loading and before any other call: may store a context pointer in
/// `*context` (passed to every compute/build call and to shutdown). Returns [`RADX_OK`](crate::RADX_OK),
/// or [`RADX_ERROR`](crate::RADX_ERROR) with a message behind `last_error` (the plugin is then not loaded).
pub type RadxInitFn = unsafe extern "C" fn(host: *const RadxHost, context: *mut *mut c_void) -> i32;

/// Called once when radx is done with the plugin (no call is in flight or will follow).
pub type RadxShutdownFn = unsafe extern "C" fn(context: *mut c_void);

/// The exported entry point's type.
pub type RadxEntryFn = unsafe extern "C" fn() -> *const RadxPluginDesc;

/// One feature a plugin offers. All strings are static, NUL-terminated UTF-8.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxFeatureDesc {
    /// `size_of::<RadxFeatureDesc>()` as the plugin built it (equal to the descriptor's
    /// `feature_size`).
    pub struct_size: usize,
    /// Feature name, unique within the plugin, e.g. `fractal_dimension`.
    pub name: *const c_char,
    /// IBSI permanent tag when it is an IBSI feature, else a site tag, e.g. `RADX-FD01`.
    pub tag: *const c_char,
    /// One-line description.
    pub description: *const c_char,
    /// Name of the source whose matrices the host passes in [`RadxInput::matrices`], or
    /// null when the feature reads only the ROI.
    pub source: *const c_char,
    /// The computation.
    pub compute: Option<RadxComputeFn>,
    /// ABI 2.1: how far (mm) around the ROI's box the feature wants to see the processed
    /// image ([`RadxInput::margin`]): 0 for none (what a plugin of ABI 2.0 gets), a
    /// positive distance, or [`RADX_MARGIN_WHOLE_IMAGE`] (any negative value or infinity)
    /// for the whole processed image. NaN is refused at load.
    pub margin_mm: f64,
    /// ABI 2.2: the feature's typed parameters (`n_params` entries `param_size` bytes
    /// apart), or null; users set them in the settings (`docs/plugins.md`).
    pub params: *const RadxParamDesc,
    /// ABI 2.2: number of entries of `params`.
    pub n_params: usize,
    /// ABI 2.2: `size_of::<RadxParamDesc>()` as the plugin built it: `params`' stride.
    pub param_size: usize,
    /// ABI 2.2: nonzero when the feature is a profile: `compute_values` returns a vector
    /// of any length, each element a row `feature[i]`; zero when it returns one value.
    pub profile: u32,
    /// ABI 2.2: the computation with the parameters' values, or null (then radx calls
    /// `compute`, which must then compute with the parameters' defaults). A host older than
    /// 2.2 always calls `compute`.
    pub compute_values: Option<RadxComputeValuesFn>,
}

/// [`RadxFeatureDesc::margin_mm`] asking for the whole processed image.
pub const RADX_MARGIN_WHOLE_IMAGE: f64 = -1.0;

/// One new source (a matrix family) a plugin offers to feature files.
///
/// The host turns `ndim` and `params` into the source's schema for the feature language,
/// so that `.radx` files over it are checked when they are compiled, before any image is
/// read (see `docs/plugins.md`, "Sources in feature files").
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxSourceDesc {
    /// `size_of::<RadxSourceDesc>()` as the plugin built it (equal to the descriptor's
    /// `source_size`).
    pub struct_size: usize,
    /// Source name, used in feature files as `over NAME(...)`.
    pub name: *const c_char,
    /// One-line description, including the meaning of the matrix axes.
    pub description: *const c_char,
    /// Number of axes of every matrix the builder returns, `1..=RADX_MAX_MATRIX_DIMS`.
    pub ndim: usize,
    /// The parameters the builder accepts, with their defaults, as a NUL-terminated JSON
    /// object, e.g. `{"rotation_invariant": false}`; null or `{}` for none. A value's JSON
    /// type is the parameter's kind: `true`/`false` a flag, an integer (`1`) an integer,
    /// a number with a fraction or exponent (`0.5`, `1.0`) a real, a string a string.
    pub params: *const c_char,
    /// The builder.
    pub build: Option<RadxBuildFn>,
    /// ABI 2.3: how far (mm) around the ROI's box the builder wants to see the processed
    /// image ([`RadxInput::margin`]), as [`RadxFeatureDesc::margin_mm`]: 0 for none (what a
    /// plugin older than 2.3 gets), a positive distance, or [`RADX_MARGIN_WHOLE_IMAGE`] for
    /// the whole processed image. NaN is refused at load.
    pub margin_mm: f64,
}

/// What `radx_plugin_entry` returns: a static description of the plugin.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxPluginDesc {
    /// The ABI major version the plugin was built against; the first field in every ABI version.
    pub abi_version: u32,
    /// The ABI minor version the plugin was built against.
    pub abi_minor: u32,
    /// `size_of::<RadxPluginDesc>()` as the plugin built it: fields past it are absent.
    pub struct_size: usize,
    /// Plugin name, unique among loaded plugins.
    pub name: *const c_char,
    /// Plugin version (free text, semver recommended).
    pub version: *const c_char,
    /// The features, `n_features` of them, `feature_size` bytes apart.
    pub features: *const RadxFeatureDesc,
    /// Number of features.
    pub n_features: usize,
    /// Bytes from one feature to the next (`size_of::<RadxFeatureDesc>()` as built).
    pub feature_size: usize,
    /// The sources, `n_sources` of them, `source_size` bytes apart (may be null when 0).
    pub sources: *const RadxSourceDesc,
    /// Number of sources.
    pub n_sources: usize,
    /// Bytes from one source to the next (`size_of::<RadxSourceDesc>()` as built).
    pub source_size: usize,
    /// Reads the message of the last call on the calling thread, if it failed.
    pub last_error: Option<RadxLastErrorFn>,
    /// Optional: called once after loading (see [`RadxInitFn`]).
    pub init: Option<RadxInitFn>,
    /// Optional: called once when radx is done with the plugin (see [`RadxShutdownFn`]).
    pub shutdown: Option<RadxShutdownFn>,
}

// SAFETY: descriptors are immutable static data (strings and function pointers) that
// neither side ever writes through; sharing them between threads is sound.
unsafe impl Sync for RadxPluginDesc {}
// SAFETY: as above.
unsafe impl Sync for RadxFeatureDesc {}
// SAFETY: as above.
unsafe impl Sync for RadxSourceDesc {}
// SAFETY: as above; the host keeps descriptors in `Send` handles.
unsafe impl Send for RadxPluginDesc {}
// SAFETY: as above.
unsafe impl Send for RadxFeatureDesc {}
// SAFETY: as above.
unsafe impl Send for RadxSourceDesc {}
