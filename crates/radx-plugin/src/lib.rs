//! radx-plugin: the stable C ABI between radx and site plugins, and a safe way to export it.
//!
//! A plugin is a shared library (`cdylib`) exporting ONE symbol, [`RADX_ENTRY_SYMBOL`]
//! (`radx_plugin_entry`), a function returning a pointer to a static [`RadxPluginDesc`]:
//! the plugin's name and version, its features (name, tag, description, compute
//! function) and optionally new *sources* (matrices the plugin builds, that `.radx`
//! feature files can use by name like a built-in source such as `cm`). Since ABI 2.2 a
//! plugin may also export image *filters* (a second, optional symbol: see [`filter`]),
//! which settings files select like the built-in IBSI-2 filters.
//!
//! The ABI follows the Polars expression-plugin model (thin, versioned FFI boundary):
//! - **Versioned, designed to grow.** [`RadxPluginDesc::abi_version`] (the major version,
//!   [`RADX_PLUGIN_ABI`]) is the descriptor's first field in every ABI version, so a host
//!   reads it before trusting anything else. Within a major version fields are only
//!   appended ([`RADX_PLUGIN_ABI_MINOR`]): every struct carries its size (`struct_size`,
//!   and the tables their stride), and each side reads only the fields both have. Hosts
//!   still load plugins of major 1 ([`v1`]).
//! - **Lifecycle.** Optional `init` (with the host's log callback, [`RadxHost`]) storing a
//!   context pointer passed to every call, and `shutdown`.
//! - **Host-owned, borrowed, read-only views.** The host passes [`RadxInput`]: the cropped
//!   image, both masks, the ROI intensity vector, the discretised grey levels, any
//!   matrices, the case (box geometry, case id, label, settings as JSON) and, for a
//!   feature declaring `margin_mm`, the processed image around the ROI, all valid only
//!   for the duration of the call; calls run concurrently on many threads. Volumes are x-fastest
//!   (`index = x + nx·(y + ny·z)`, the radx axis convention and the NIfTI file order);
//!   matrices are row-major (last index fastest).
//! - **Nothing freed by the other side.** A source's matrix is allocated by the plugin
//!   and released by the plugin's own [`RadxMatrixOut::release`] callback after the host
//!   copied it.
//! - **Errors are values.** Every call returns [`RADX_OK`] or [`RADX_ERROR`]; on error the
//!   host reads a message from [`RadxPluginDesc::last_error`] (thread-local in the plugin,
//!   null after a successful call) on the same thread, right away.
//!
//! Rust plugin authors use [`export_plugin!`] and the safe views [`Input`], [`Mask`],
//! [`Levels`], [`MatrixRef`] and [`Matrix`]: no `unsafe` on their side, and every
//! boundary is wrapped in `catch_unwind` so a panic becomes an error for that feature,
//! saying where it happened (the panic itself is not printed: radx reports it per case).
//! C authors include `include/radx_plugin.h`, which mirrors these types exactly (a test
//! compiles it and checks every size and offset).
//!
//! The features themselves are site-defined; IBSI-style permanent tags (IBSI 1, ch. 3)
//! are encouraged when a feature is an IBSI one, otherwise a site tag such as `RADX-FD01`.

use std::cell::{Cell, RefCell};
use std::ffi::{CString, c_char, c_void};
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub mod filter;
pub use filter::{
    Boundary, FilterImage, RADX_FILTERS_SYMBOL, RadxFilterDesc, RadxFilterFn, RadxFilterInput, RadxFilterTable,
    RadxFiltersFn,
};
mod feature_params;
pub use feature_params::{
    Args, FeatureValues, RADX_PARAM_BOOL, RADX_PARAM_FLOAT, RADX_PARAM_INT, RadxComputeValuesFn, RadxParamDesc,
    RadxValuesOut, RadxValuesReleaseFn,
};

/// The ABI's major version: bumped only on a change that old plugins or old hosts cannot
/// read (a field removed, moved or retyped, a calling convention changed). Every
/// descriptor's first field, in every major version; the host refuses a major it does not
/// speak (this radx speaks 2, and still loads plugins of major 1: see [`v1`]).
pub const RADX_PLUGIN_ABI: u32 = 2;

/// The ABI's minor version: bumped when fields are appended to a struct. A struct's
/// `struct_size` says how much of it the other side filled; fields past it are absent
/// (a newer plugin on an older host, or the reverse), and each side reads only what both
/// have. Minor 0 is the first of major 2; minor 1 appended the settings and the margin
/// region to [`RadxInput`] and [`RadxFeatureDesc::margin_mm`]; minor 2 added filter
/// plugins, behind their own optional symbol ([`filter`], [`RADX_FILTERS_SYMBOL`]), and
/// appended typed parameters and vector results to [`RadxFeatureDesc`]
/// ([`RadxParamDesc`], [`RadxFeatureDesc::compute_values`]).
pub const RADX_PLUGIN_ABI_MINOR: u32 = 2;

/// The one symbol a plugin exports: `const RadxPluginDesc *radx_plugin_entry(void)`.
pub const RADX_ENTRY_SYMBOL: &str = "radx_plugin_entry";

/// Return value of a successful compute/build/init call.
pub const RADX_OK: i32 = 0;

/// Return value of a failed compute/build/init call; the message is behind `last_error`.
pub const RADX_ERROR: i32 = 1;

/// Largest number of axes a matrix crossing the boundary may have.
pub const RADX_MAX_MATRIX_DIMS: usize = 4;

/// Log levels of [`RadxHost::log`].
pub const RADX_LOG_ERROR: i32 = 1;
/// A warning: something the user should fix, the run goes on.
pub const RADX_LOG_WARN: i32 = 2;
/// Information (e.g. the plugin's configuration at init).
pub const RADX_LOG_INFO: i32 = 3;
/// Detail for debugging a plugin.
pub const RADX_LOG_DEBUG: i32 = 4;

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
    /// The host's ABI major version ([`RADX_PLUGIN_ABI`]).
    pub abi_major: u32,
    /// The host's ABI minor version ([`RADX_PLUGIN_ABI_MINOR`]).
    pub abi_minor: u32,
    /// The host's handle, passed back to `log`.
    pub host_data: *mut c_void,
    /// Log a NUL-terminated message at a level (`RADX_LOG_*`); callable from any thread,
    /// any time. radx shows it to the user, naming the plugin. Null when the host takes no logs.
    pub log: Option<RadxLogFn>,
    /// ABI 2.1: nonzero when the run is being cancelled, so that a long computation can
    /// stop early (returning [`RADX_ERROR`]); callable from any thread, any time, with
    /// `host_data`. Null when the host offers none.
    pub cancelled: Option<RadxCancelledFn>,
}

/// Computes one feature: writes the value to `*out` and returns [`RADX_OK`], or returns
/// [`RADX_ERROR`] with a message behind `last_error`. `context` is what `init` stored
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
/// `*context` (passed to every compute/build call and to shutdown). Returns [`RADX_OK`],
/// or [`RADX_ERROR`] with a message behind `last_error` (the plugin is then not loaded).
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

/// ABI major version 1, as plugins built before ABI 2 export it: the host still reads these
/// descriptors and calls these functions (no context, no geometry, no struct sizes). New
/// plugins use the types at the crate root.
pub mod v1 {
    use super::{RadxImageView, RadxLastErrorFn, RadxLevelsView, RadxMaskView, RadxMatrixOut, RadxMatrixView};
    use super::{RadxValuesView, c_char};

    /// ABI 1's version number.
    pub const RADX_PLUGIN_ABI: u32 = 1;

    /// ABI 1's input: ABI 2's without `struct_size`, geometry, case id and label.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct RadxInput {
        /// The image cropped to the ROI bounding box.
        pub image: RadxImageView,
        /// The morphological mask.
        pub morphological_mask: RadxMaskView,
        /// The intensity mask.
        pub intensity_mask: RadxMaskView,
        /// Intensities of the intensity-mask voxels.
        pub intensities: RadxValuesView,
        /// Discretised grey levels.
        pub levels: RadxLevelsView,
        /// The matrices of the feature's source.
        pub matrices: *const RadxMatrixView,
        /// Number of entries behind `matrices`.
        pub n_matrices: usize,
    }

    /// ABI 1's feature computation.
    pub type RadxComputeFn = unsafe extern "C" fn(input: *const RadxInput, out: *mut f64) -> i32;

    /// ABI 1's source builder.
    pub type RadxBuildFn =
        unsafe extern "C" fn(input: *const RadxInput, params: *const c_char, out: *mut RadxMatrixOut) -> i32;

    /// ABI 1's feature description.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct RadxFeatureDesc {
        /// Feature name.
        pub name: *const c_char,
        /// Tag.
        pub tag: *const c_char,
        /// One-line description.
        pub description: *const c_char,
        /// The source whose matrices the feature wants, or null.
        pub source: *const c_char,
        /// The computation.
        pub compute: Option<RadxComputeFn>,
    }

    /// ABI 1's source description.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct RadxSourceDesc {
        /// Source name.
        pub name: *const c_char,
        /// One-line description.
        pub description: *const c_char,
        /// Number of axes.
        pub ndim: usize,
        /// Parameters and defaults as a JSON object, or null.
        pub params: *const c_char,
        /// The builder.
        pub build: Option<RadxBuildFn>,
    }

    /// ABI 1's plugin descriptor.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct RadxPluginDesc {
        /// 1.
        pub abi_version: u32,
        /// Plugin name.
        pub name: *const c_char,
        /// Plugin version.
        pub version: *const c_char,
        /// The features.
        pub features: *const RadxFeatureDesc,
        /// Number of features.
        pub n_features: usize,
        /// The sources.
        pub sources: *const RadxSourceDesc,
        /// Number of sources.
        pub n_sources: usize,
        /// The last failure's message on this thread.
        pub last_error: Option<RadxLastErrorFn>,
    }

    // SAFETY: immutable static data, as for the ABI 2 descriptors.
    unsafe impl Sync for RadxPluginDesc {}
    // SAFETY: as above.
    unsafe impl Sync for RadxFeatureDesc {}
    // SAFETY: as above.
    unsafe impl Sync for RadxSourceDesc {}
}

/// ABI 2.0, the first minor version of major 2: the structs later minor versions appended
/// fields to, as plugins and hosts of 2.0 build them. A host reads a 2.0 plugin's feature
/// table through these (a 2.0 entry is smaller than this version's); a plugin given a 2.0
/// host's input sees the appended fields as absent.
pub mod v2_0 {
    use super::{RadxComputeFn, RadxGeometry, RadxImageView, RadxLevelsView, RadxMaskView, RadxMatrixView};
    use super::{RadxValuesView, c_char};

    /// ABI 2.0's feature description: this version's without `margin_mm`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct RadxFeatureDesc {
        /// `size_of` the feature description as the plugin built it.
        pub struct_size: usize,
        /// Feature name.
        pub name: *const c_char,
        /// Tag.
        pub tag: *const c_char,
        /// One-line description.
        pub description: *const c_char,
        /// The source whose matrices the feature wants, or null.
        pub source: *const c_char,
        /// The computation.
        pub compute: Option<RadxComputeFn>,
    }

    /// ABI 2.0's input: this version's without `settings_json` and `margin`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct RadxInput {
        /// `size_of` the input as the host built it.
        pub struct_size: usize,
        /// The image cropped to the ROI bounding box.
        pub image: RadxImageView,
        /// The morphological mask.
        pub morphological_mask: RadxMaskView,
        /// The intensity mask.
        pub intensity_mask: RadxMaskView,
        /// Intensities of the intensity-mask voxels.
        pub intensities: RadxValuesView,
        /// Discretised grey levels.
        pub levels: RadxLevelsView,
        /// The matrices of the feature's source.
        pub matrices: *const RadxMatrixView,
        /// Number of entries behind `matrices`.
        pub n_matrices: usize,
        /// Where the box lies.
        pub geometry: RadxGeometry,
        /// The case's id, or null.
        pub case_id: *const c_char,
        /// The ROI's label.
        pub label: i64,
    }

    // SAFETY: immutable static data, as for this version's descriptors.
    unsafe impl Sync for RadxFeatureDesc {}
    // SAFETY: as above.
    unsafe impl Send for RadxFeatureDesc {}
}

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

/// Where the box a plugin sees lies (see [`RadxGeometry`]).
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

/// Whether radx is cancelling the run ([`RadxHost::cancelled`], ABI 2.1): a long feature
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
    shape: Vec<usize>,
    data: Vec<f64>,
    axis_values: Vec<Vec<f64>>,
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

/// Glue the [`export_plugin!`] expansion calls; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    use super::*;
    pub use crate::feature_params::{release_values, run_feature_defaults, run_feature_values};

    thread_local! {
        /// The message of this thread's last call, when it failed; `None` after a success.
        static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
    }

    /// Remember `message` as this thread's last error.
    pub fn set_last_error(message: &str) {
        // An interior NUL would truncate the C string; show it instead of losing the tail.
        let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
        LAST_ERROR.with(|e| *e.borrow_mut() = Some(c));
    }

    /// Forget this thread's last error: every call starts with none, so `last_error` never
    /// reports the message of an earlier call.
    pub fn clear_last_error() {
        LAST_ERROR.with(|e| {
            if let Ok(mut e) = e.try_borrow_mut()
                && e.is_some()
            {
                *e = None;
            }
        });
    }

    /// The plugin's `last_error` callback: the message of the last call on this thread if
    /// it failed, else null.
    pub unsafe extern "C" fn last_error() -> *const c_char {
        // The CString lives in the thread-local until the next call on this thread, which
        // is exactly the validity the ABI promises.
        LAST_ERROR.with(|e| e.borrow().as_ref().map_or(std::ptr::null(), |m| m.as_ptr()))
    }

    /// The host's callbacks, stored by [`run_init`].
    struct HostCallbacks {
        data: usize,
        log: Option<RadxLogFn>,
        cancelled: Option<RadxCancelledFn>,
    }

    /// Whether the host says the run is being cancelled (false when it cannot say).
    pub fn cancelled() -> bool {
        let Some(HostCallbacks { data, cancelled: Some(cancelled), .. }) = HOST.get() else { return false };
        // SAFETY: the host promised a callback valid for the life of the process, callable
        // from any thread, with its own `host_data`.
        unsafe { cancelled(*data as *mut c_void) != 0 }
    }

    static HOST: std::sync::OnceLock<HostCallbacks> = std::sync::OnceLock::new();

    /// Forward a message to the host's log callback, if it gave one.
    pub fn log(level: LogLevel, message: &str) {
        let Some(HostCallbacks { data, log: Some(log), .. }) = HOST.get() else { return };
        let level = match level {
            LogLevel::Error => RADX_LOG_ERROR,
            LogLevel::Warn => RADX_LOG_WARN,
            LogLevel::Info => RADX_LOG_INFO,
            LogLevel::Debug => RADX_LOG_DEBUG,
        };
        let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
        // SAFETY: the host promised a callback valid for the life of the process, callable
        // from any thread, with its own `host_data`.
        unsafe { log(*data as *mut c_void, level, c.as_ptr()) };
    }

    /// The plugin's `init`: keep the host's callbacks, then run the author's `init`
    /// (panics caught). The SDK keeps no context: Rust plugins use statics.
    ///
    /// # Safety
    /// `host` must be null or a valid [`RadxHost`] living for the process.
    pub unsafe fn run_init<E: Display>(host: *const RadxHost, init: impl FnOnce() -> Result<(), E>) -> i32 {
        clear_last_error();
        if !host.is_null() {
            // SAFETY: per the caller's contract; a field is read only when the host's
            // struct_size covers it (an older host's struct is smaller), through the raw
            // pointer, never as a reference to a whole struct the host may not have built.
            let callbacks = unsafe {
                let size = (*host).struct_size;
                let has = |end: usize| size >= end;
                let log_end = std::mem::offset_of!(RadxHost, log) + std::mem::size_of::<Option<RadxLogFn>>();
                let cancelled_end =
                    std::mem::offset_of!(RadxHost, cancelled) + std::mem::size_of::<Option<RadxCancelledFn>>();
                HostCallbacks {
                    data: (*host).host_data as usize,
                    log: if has(log_end) { (*host).log } else { None },
                    cancelled: if has(cancelled_end) { (*host).cancelled } else { None },
                }
            };
            let _ = HOST.set(callbacks);
        }
        match catch_quietly(init) {
            Ok(Ok(())) => RADX_OK,
            Ok(Err(e)) => {
                set_last_error(&e.to_string());
                RADX_ERROR
            }
            Err(panic) => {
                set_last_error(&panic.to_string());
                RADX_ERROR
            }
        }
    }

    /// The plugin's `shutdown`: the author's function, panics caught (there is no one to
    /// report them to: radx is done with the plugin).
    pub fn run_shutdown(shutdown: impl FnOnce()) {
        let _ = catch_quietly(shutdown);
    }

    /// No initialisation.
    pub fn no_init() -> Result<(), std::convert::Infallible> {
        Ok(())
    }

    /// No shutdown.
    pub fn no_shutdown() {}

    thread_local! {
        /// Set while a feature or source of this plugin runs on this thread.
        static IN_CALL: Cell<bool> = const { Cell::new(false) };
        /// Where the last panic of such a call happened (`file:line`).
        static PANIC_AT: Cell<Option<String>> = const { Cell::new(None) };
    }

    /// `f`, with a panic caught and turned into an error message that says where it happened.
    /// The panic is not printed as well: radx reports it for that feature of that case, and
    /// a cohort of thousands of cases would otherwise print it thousands of times (with
    /// `RUST_BACKTRACE` set, a symbolised backtrace each time). Panics outside these calls
    /// still go to the hook that was there before.
    pub(crate) fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, CaughtPanic> {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if IN_CALL.with(Cell::get) {
                    PANIC_AT.with(|at| at.set(info.location().map(|l| format!("{}:{}", l.file(), l.line()))));
                } else {
                    previous(info);
                }
            }));
        });
        let was_in_call = IN_CALL.with(|c| c.replace(true));
        let result = catch_unwind(AssertUnwindSafe(f));
        IN_CALL.with(|c| c.set(was_in_call));
        result
            .map_err(|payload| CaughtPanic { message: panic_message(payload.as_ref()), at: PANIC_AT.with(Cell::take) })
    }

    /// A panic caught in a feature or source call; radx reads it, as text, through `last_error`.
    pub(crate) struct CaughtPanic {
        /// The panic's message, when it is text.
        message: Option<String>,
        /// Where it happened (`file:line`), when the hook saw it.
        at: Option<String>,
    }

    impl Display for CaughtPanic {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the plugin panicked")?;
            if let Some(message) = &self.message {
                write!(f, ": {message}")?;
            }
            if let Some(at) = &self.at {
                write!(f, " (at {at})")?;
            }
            Ok(())
        }
    }

    fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
        if let Some(s) = payload.downcast_ref::<&str>() {
            Some(s.to_string())
        } else {
            payload.downcast_ref::<String>().cloned()
        }
    }

    /// The host's input as far as the host filled it. A host of an older minor version
    /// builds a smaller [`RadxInput`] (its `struct_size` says how much): the fields it
    /// lacks are absent here, zero (null pointers), in a copy; a current host's input is
    /// borrowed as it is.
    pub(crate) enum HostInput<'a> {
        Whole(&'a RadxInput),
        Completed(Box<RadxInput>),
    }

    impl<'a> HostInput<'a> {
        /// # Safety
        /// `input` must be non-null and point to `struct_size` bytes of a [`RadxInput`]
        /// as its host built it, valid for `'a`.
        pub(crate) unsafe fn read(input: *const RadxInput) -> Result<Self, String> {
            // SAFETY: every ABI 2 input starts with its size (the caller's contract).
            let size = unsafe { input.cast::<usize>().read() };
            let whole = std::mem::size_of::<RadxInput>();
            if size >= whole {
                // SAFETY: at least this version's struct (the caller's contract).
                return Ok(HostInput::Whole(unsafe { &*input }));
            }
            let first = std::mem::size_of::<v2_0::RadxInput>();
            if size < first {
                return Err(format!("radx passed an input of {size} bytes, less than ABI 2.0's {first}"));
            }
            // SAFETY: all-zero bytes are a valid RadxInput (null pointers, zero sizes).
            let mut completed: Box<RadxInput> = Box::new(unsafe { std::mem::zeroed() });
            // SAFETY: the host filled `size` bytes (< the struct's), copied into a distinct box.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    input.cast::<u8>(),
                    (&mut *completed as *mut RadxInput).cast::<u8>(),
                    size,
                )
            };
            Ok(HostInput::Completed(completed))
        }

        pub(crate) fn get(&self) -> &RadxInput {
            match self {
                HostInput::Whole(raw) => raw,
                HostInput::Completed(raw) => raw,
            }
        }
    }

    /// Run a feature function behind the C boundary: null checks, catch_unwind, errors.
    ///
    /// # Safety
    /// `input` must be null or a valid [`RadxInput`] (see [`Input::from_raw`]); `out` must
    /// be null or valid for a write.
    pub unsafe fn run_feature<F, E>(input: *const RadxInput, out: *mut f64, compute: F) -> i32
    where
        F: Fn(&Input<'_>) -> Result<f64, E>,
        E: Display,
    {
        clear_last_error();
        if input.is_null() || out.is_null() {
            set_last_error("radx passed a null input or output pointer");
            return RADX_ERROR;
        }
        // SAFETY: non-null and valid per the caller's contract.
        let raw = match unsafe { HostInput::read(input) } {
            Ok(raw) => raw,
            Err(message) => {
                set_last_error(&message);
                return RADX_ERROR;
            }
        };
        // SAFETY: the host's views are valid for the call (the caller's contract).
        let input = unsafe { Input::from_raw(raw.get()) };
        match catch_quietly(|| compute(&input)) {
            Ok(Ok(value)) => {
                // SAFETY: non-null and valid per the caller's contract.
                unsafe { out.write(value) };
                RADX_OK
            }
            Ok(Err(e)) => {
                set_last_error(&e.to_string());
                RADX_ERROR
            }
            Err(panic) => {
                set_last_error(&panic.to_string());
                RADX_ERROR
            }
        }
    }

    /// Run a source builder behind the C boundary; the matrix is boxed and handed out
    /// with [`release_matrix`] as its release callback.
    ///
    /// # Safety
    /// As [`run_feature`]; `params` must be null or NUL-terminated.
    pub unsafe fn run_build<F, E>(
        input: *const RadxInput,
        params: *const c_char,
        out: *mut RadxMatrixOut,
        build: F,
    ) -> i32
    where
        F: Fn(&Input<'_>, &str) -> Result<Matrix, E>,
        E: Display,
    {
        clear_last_error();
        if input.is_null() || out.is_null() {
            set_last_error("radx passed a null input or output pointer");
            return RADX_ERROR;
        }
        let params = if params.is_null() {
            "{}"
        } else {
            // SAFETY: NUL-terminated per the caller's contract.
            match unsafe { std::ffi::CStr::from_ptr(params) }.to_str() {
                Ok(p) => p,
                Err(_) => {
                    set_last_error("source parameters are not valid UTF-8");
                    return RADX_ERROR;
                }
            }
        };
        // SAFETY: non-null and valid per the caller's contract.
        let raw = match unsafe { HostInput::read(input) } {
            Ok(raw) => raw,
            Err(message) => {
                set_last_error(&message);
                return RADX_ERROR;
            }
        };
        // SAFETY: the host's views are valid for the call (the caller's contract).
        let input = unsafe { Input::from_raw(raw.get()) };
        let matrix = match catch_quietly(|| build(&input, params)) {
            Ok(Ok(m)) => Box::new(m),
            Ok(Err(e)) => {
                set_last_error(&e.to_string());
                return RADX_ERROR;
            }
            Err(panic) => {
                set_last_error(&panic.to_string());
                return RADX_ERROR;
            }
        };
        let mut view = RadxMatrixView {
            data: matrix.data.as_ptr(),
            ndim: matrix.shape.len(),
            shape: [0; RADX_MAX_MATRIX_DIMS],
            axis_values: [std::ptr::null(); RADX_MAX_MATRIX_DIMS],
        };
        for (a, &len) in matrix.shape.iter().enumerate() {
            view.shape[a] = len;
            if !matrix.axis_values[a].is_empty() {
                view.axis_values[a] = matrix.axis_values[a].as_ptr();
            }
        }
        let owner = Box::into_raw(matrix).cast::<c_void>();
        // SAFETY: non-null and valid per the caller's contract.
        unsafe { out.write(RadxMatrixOut { matrix: view, owner, release: Some(release_matrix) }) };
        RADX_OK
    }

    /// Frees a matrix handed out by [`run_build`].
    ///
    /// # Safety
    /// `out` must be null or a [`RadxMatrixOut`] filled by [`run_build`] and not yet released.
    pub unsafe extern "C" fn release_matrix(out: *mut RadxMatrixOut) {
        // SAFETY: per the contract, `owner` came from Box::into_raw in run_build.
        unsafe {
            if let Some(out) = out.as_mut()
                && !out.owner.is_null()
            {
                drop(Box::from_raw(out.owner.cast::<Matrix>()));
                out.owner = std::ptr::null_mut();
                out.matrix.data = std::ptr::null();
                out.matrix.axis_values = [std::ptr::null(); RADX_MAX_MATRIX_DIMS];
            }
        }
    }
}

/// Turn a string literal into a static NUL-terminated C string pointer.
#[doc(hidden)]
#[macro_export]
macro_rules! __radx_cstr {
    ($s:literal) => {
        concat!($s, "\0").as_ptr().cast::<::std::ffi::c_char>()
    };
}

/// Export a plugin: generates the static descriptor and the `radx_plugin_entry` symbol.
///
/// Feature functions are ordinary Rust: `fn(&Input) -> Result<f64, E>` with `E: Display`;
/// source builders are `fn(&Input, params_json: &str) -> Result<Matrix, E>`. Panics are
/// caught and reported as that call's error. Use it once per `cdylib`.
///
/// ```
/// use radx_plugin::{Input, export_plugin};
///
/// fn voxel_count(input: &Input) -> Result<f64, String> {
///     Ok(input.morphological_mask().count() as f64)
/// }
///
/// export_plugin! {
///     name: "counting",
///     version: "0.1.0",
///     features: [
///         { name: "voxel_count", tag: "SITE-0001", description: "Voxels in the ROI", compute: voxel_count },
///     ],
///     sources: [],
/// }
/// ```
/// A feature may add `source: "name",` before `compute:` to receive that source's matrices,
/// and `margin_mm: 5.0,` (after `source:`, before `compute:`) to see the processed image
/// that far around the ROI's box ([`Input::margin`]; [`RADX_MARGIN_WHOLE_IMAGE`] for all of it).
/// A source states the number of axes of its matrices (`axes: 1` to `4`) and, when it
/// takes parameters, their defaults as a JSON object (`params: r#"{"radius": 1}"#,`,
/// before `build:`); feature files can then write `over name(radius = 2)`.
/// After `sources: [...]`, optionally `init: f` (`fn() -> Result<(), E>`, called once
/// after loading; an `Err` refuses the load with its message) and `shutdown: g` (`fn()`,
/// called when radx is done with the plugin). [`log`] works from `init` on.
///
/// ABI 2.2: a feature with typed parameters writes, after `source:`/`margin_mm:`,
/// `params: [ p: float = 50.0 in 0.0..=100.0, n: int = 3, strict: bool = false ],` (kinds
/// `int`, `float`, `bool`; the range is optional) and then either `compute_with: f`
/// (`fn(&Input, &Args) -> Result<f64, E>`) or, for a profile (one row per value),
/// `profile: f` (`fn(&Input, &Args) -> Result<Vec<f64>, E>`; `params: []` when it has
/// none). [`Args`] reads the values radx checked against the declaration.
#[macro_export]
macro_rules! export_plugin {
    (
        name: $name:literal,
        version: $version:literal,
        features: [ $( { $( $fbody:tt )* } ),* $(,)? ],
        sources: [ $( {
            name: $sname:literal,
            description: $sdesc:literal,
            axes: $saxes:literal,
            $( params: $sparams:literal, )?
            build: $sbuild:path $(,)?
        } ),* $(,)? ]
        $(, init: $init:path )?
        $(, shutdown: $shutdown:path )?
        $(,)?
    ) => {
        // A panic must unwind to the wrapper's catch_unwind: with `panic = "abort"` it
        // kills radx and every case in flight, with no word of which plugin or case.
        #[cfg(panic = "abort")]
        compile_error!(
            "radx-plugin: this plugin is built with `panic = \"abort\"`, which turns any panic in it into \
             an abort of radx itself; remove `panic = \"abort\"` from the plugin's Cargo profile \
             (and `-C panic=abort` from RUSTFLAGS)"
        );
        const _: () = {
            static RADX_FEATURES: &[$crate::RadxFeatureDesc] =
                &[ $( $crate::export_plugin!(@feature $( $fbody )*) ),* ];
            static RADX_SOURCES: &[$crate::RadxSourceDesc] = &[ $( {
                unsafe extern "C" fn build(
                    _context: *mut ::std::ffi::c_void,
                    input: *const $crate::RadxInput,
                    params: *const ::std::ffi::c_char,
                    out: *mut $crate::RadxMatrixOut,
                ) -> i32 {
                    // SAFETY: radx calls with a valid input, parameters and output (the ABI contract).
                    unsafe { $crate::__private::run_build(input, params, out, $sbuild) }
                }
                $crate::RadxSourceDesc {
                    struct_size: ::std::mem::size_of::<$crate::RadxSourceDesc>(),
                    name: $crate::__radx_cstr!($sname),
                    description: $crate::__radx_cstr!($sdesc),
                    ndim: $saxes,
                    params: $crate::export_plugin!(@params $( $sparams )?),
                    build: Some(build),
                }
            } ),* ];
            unsafe extern "C" fn init(
                host: *const $crate::RadxHost,
                _context: *mut *mut ::std::ffi::c_void,
            ) -> i32 {
                // SAFETY: radx passes a host description valid for the process (the ABI contract).
                unsafe { $crate::__private::run_init(host, $crate::export_plugin!(@init $( $init )?)) }
            }
            unsafe extern "C" fn shutdown(_context: *mut ::std::ffi::c_void) {
                $crate::__private::run_shutdown($crate::export_plugin!(@shutdown $( $shutdown )?))
            }
            static RADX_DESCRIPTOR: $crate::RadxPluginDesc = $crate::RadxPluginDesc {
                abi_version: $crate::RADX_PLUGIN_ABI,
                abi_minor: $crate::RADX_PLUGIN_ABI_MINOR,
                struct_size: ::std::mem::size_of::<$crate::RadxPluginDesc>(),
                name: $crate::__radx_cstr!($name),
                version: $crate::__radx_cstr!($version),
                features: RADX_FEATURES.as_ptr(),
                n_features: RADX_FEATURES.len(),
                feature_size: ::std::mem::size_of::<$crate::RadxFeatureDesc>(),
                sources: RADX_SOURCES.as_ptr(),
                n_sources: RADX_SOURCES.len(),
                source_size: ::std::mem::size_of::<$crate::RadxSourceDesc>(),
                last_error: Some($crate::__private::last_error),
                init: Some(init),
                shutdown: Some(shutdown),
            };
            /// The plugin's entry point (see `radx_plugin::RADX_ENTRY_SYMBOL`).
            #[unsafe(no_mangle)]
            pub extern "C" fn radx_plugin_entry() -> *const $crate::RadxPluginDesc {
                &RADX_DESCRIPTOR
            }
        };
    };
    (@feature
        name: $fname:literal,
        tag: $ftag:literal,
        description: $fdesc:literal,
        $( source: $fsource:literal, )?
        $( margin_mm: $fmargin:expr, )?
        compute: $fcompute:path $(,)?
    ) => { {
        unsafe extern "C" fn compute(
            _context: *mut ::std::ffi::c_void,
            input: *const $crate::RadxInput,
            out: *mut f64,
        ) -> i32 {
            // SAFETY: radx calls with a valid input and output (the ABI contract).
            unsafe { $crate::__private::run_feature(input, out, $fcompute) }
        }
        $crate::RadxFeatureDesc {
            struct_size: ::std::mem::size_of::<$crate::RadxFeatureDesc>(),
            name: $crate::__radx_cstr!($fname),
            tag: $crate::__radx_cstr!($ftag),
            description: $crate::__radx_cstr!($fdesc),
            source: $crate::export_plugin!(@source $( $fsource )?),
            compute: Some(compute),
            margin_mm: $crate::export_plugin!(@margin $( $fmargin )?),
            params: ::std::ptr::null(),
            n_params: 0,
            param_size: ::std::mem::size_of::<$crate::RadxParamDesc>(),
            profile: 0,
            compute_values: None,
        }
    } };
    (@feature
        name: $fname:literal,
        tag: $ftag:literal,
        description: $fdesc:literal,
        $( source: $fsource:literal, )?
        $( margin_mm: $fmargin:expr, )?
        params: [ $( $pname:ident : $pkind:ident = $pdefault:literal $( in $pmin:literal ..= $pmax:literal )? ),* $(,)? ],
        $how:ident : $fcompute:path $(,)?
    ) => { {
        static PARAMS: &[$crate::RadxParamDesc] = &[ $( $crate::RadxParamDesc {
            struct_size: ::std::mem::size_of::<$crate::RadxParamDesc>(),
            name: concat!(stringify!($pname), "\0").as_ptr().cast::<::std::ffi::c_char>(),
            kind: $crate::export_plugin!(@kind $pkind),
            default_value: $crate::export_plugin!(@value $pkind $pdefault),
            min: $crate::export_plugin!(@min $( $pmin )?),
            max: $crate::export_plugin!(@max $( $pmax )?),
        } ),* ];
        static NAMES: &[&str] = &[ $( stringify!($pname) ),* ];
        // What a host older than ABI 2.2 calls: the parameters' defaults.
        static DEFAULTS: &[f64] = &[ $( $crate::export_plugin!(@value $pkind $pdefault) ),* ];
        unsafe extern "C" fn compute(
            _context: *mut ::std::ffi::c_void,
            input: *const $crate::RadxInput,
            out: *mut f64,
        ) -> i32 {
            // SAFETY: radx calls with a valid input and output (the ABI contract).
            unsafe {
                $crate::__private::run_feature_defaults(input, out, NAMES, DEFAULTS, $crate::export_plugin!(@profile $how), $fcompute)
            }
        }
        unsafe extern "C" fn compute_values(
            _context: *mut ::std::ffi::c_void,
            input: *const $crate::RadxInput,
            args: *const f64,
            n_args: usize,
            out: *mut $crate::RadxValuesOut,
        ) -> i32 {
            // SAFETY: radx calls with a valid input, `n_args` values and an output (the ABI contract).
            unsafe { $crate::__private::run_feature_values(input, args, n_args, out, NAMES, $fcompute) }
        }
        $crate::RadxFeatureDesc {
            struct_size: ::std::mem::size_of::<$crate::RadxFeatureDesc>(),
            name: $crate::__radx_cstr!($fname),
            tag: $crate::__radx_cstr!($ftag),
            description: $crate::__radx_cstr!($fdesc),
            source: $crate::export_plugin!(@source $( $fsource )?),
            compute: Some(compute),
            margin_mm: $crate::export_plugin!(@margin $( $fmargin )?),
            params: PARAMS.as_ptr(),
            n_params: PARAMS.len(),
            param_size: ::std::mem::size_of::<$crate::RadxParamDesc>(),
            profile: $crate::export_plugin!(@profile $how) as u32,
            compute_values: Some(compute_values),
        }
    } };
    (@profile compute_with) => { false };
    (@profile profile) => { true };
    (@profile $other:ident) => {
        compile_error!(
            "a feature with `params` computes with `compute_with: f` (fn(&Input, &Args) -> Result<f64, E>) \
             or `profile: f` (fn(&Input, &Args) -> Result<Vec<f64>, E>)"
        )
    };
    (@kind int) => { $crate::RADX_PARAM_INT };
    (@kind float) => { $crate::RADX_PARAM_FLOAT };
    (@kind bool) => { $crate::RADX_PARAM_BOOL };
    (@value bool $v:literal) => { ($v as u8) as f64 };
    (@value $kind:ident $v:literal) => { ($v) as f64 };
    (@min $v:literal) => { ($v) as f64 };
    (@min) => { f64::NEG_INFINITY };
    (@max $v:literal) => { ($v) as f64 };
    (@max) => { f64::INFINITY };
    (@source $s:literal) => { $crate::__radx_cstr!($s) };
    (@source) => { ::std::ptr::null() };
    (@margin $m:expr) => { $m };
    (@margin) => { 0.0 };
    (@params $p:literal) => { $crate::__radx_cstr!($p) };
    (@params) => { $crate::__radx_cstr!("{}") };
    (@init $f:path) => { $f };
    (@init) => { $crate::__private::no_init };
    (@shutdown $f:path) => { $f };
    (@shutdown) => { $crate::__private::no_shutdown };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_checks_shape_and_axis_values() {
        assert!(Matrix::new(vec![2, 3], vec![0.0; 6]).is_ok());
        assert!(Matrix::new(vec![2, 3], vec![0.0; 5]).unwrap_err().contains("needs 6 entries"));
        assert!(Matrix::new(vec![], vec![]).is_err());
        assert!(Matrix::new(vec![1; 5], vec![0.0]).is_err());
        let m = Matrix::new(vec![2, 3], vec![0.0; 6]).unwrap();
        assert!(m.clone().with_axis_values(1, vec![1.0, 2.0]).is_err());
        assert!(m.clone().with_axis_values(2, vec![]).is_err());
        let m = m.with_axis_values(1, vec![1.0, 2.0, 4.0]).unwrap();
        assert_eq!(m.axis_values(1), Some(&[1.0, 2.0, 4.0][..]));
        assert_eq!(m.axis_values(0), None);
    }

    #[test]
    fn voxel_index_is_x_fastest() {
        // dims (3, 2, 2): [1,0,0] -> 1, [0,1,0] -> 3, [0,0,1] -> 6 (3·2).
        assert_eq!(voxel_index([3, 2, 2], 1, 0, 0), 1);
        assert_eq!(voxel_index([3, 2, 2], 0, 1, 0), 3);
        assert_eq!(voxel_index([3, 2, 2], 0, 0, 1), 6);
        assert_eq!(voxel_index([3, 2, 2], 2, 1, 1), 11);
    }
}
