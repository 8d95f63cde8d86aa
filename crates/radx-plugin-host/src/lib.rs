//! Loading site plugins: shared libraries speaking the `radx-plugin` C ABI.
//!
//! A plugin exports `radx_plugin_entry` (see [`radx_plugin`]); this module opens it with
//! `libloading`, reads its ABI major version before anything else (2, or 1 for plugins
//! built before ABI 2: both load; an older or newer minor version of 2 loads too, read up
//! to the fields both know), validates and copies its descriptor into safe Rust values
//! ([`LoadedPlugin`], [`PluginFeature`], [`PluginSource`], [`PluginFilter`]), runs its optional `init` and
//! calls its functions on host-owned, borrowed views of a region of interest
//! ([`PluginInput`]) in the calling convention of its ABI. Libraries are never unloaded:
//! their code and static descriptors stay valid for the life of the process, so the
//! handles are `'static`; a plugin's `shutdown` runs when its last handle is dropped.
//!
//! Plugin directories come from `RADX_PLUGIN_PATH` (`:`-separated; every `.so`,
//! `.dylib` or `.dll` in each directory, in name order). Features are not IBSI-defined
//! unless the plugin says so with an IBSI tag (IBSI 1, ch. 3); sources feed the DSL like
//! the built-in texture matrices (IBSI 1, ch. 3.6–3.11).
//!
//! Failure policy: a plugin that cannot be loaded is a [`PluginError`] naming its file;
//! a feature that fails (C error return, or a Rust panic caught by `export_plugin!`)
//! returns `Err(message)` for that feature only. A plugin that crashes the process
//! (segfault, abort) cannot be caught: it runs in-process by design.

use std::borrow::Cow;
use std::ffi::{CStr, CString, c_char};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use ndarray::Array3;
use radx_core::Volume;
use radx_core::matrix::{DiscretisedRoi, TextureMatrix};
use radx_core::roi::Roi;
use radx_dsl::ParamValue;
use std::ffi::c_void;
use std::sync::Arc;

use radx_plugin::{
    RADX_ENTRY_SYMBOL, RADX_LOG_DEBUG, RADX_LOG_ERROR, RADX_LOG_INFO, RADX_LOG_WARN, RADX_MAX_MATRIX_DIMS, RADX_OK,
    RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, RadxBuildFn, RadxComputeFn, RadxEntryFn, RadxFeatureDesc, RadxGeometry,
    RadxHost, RadxImageView, RadxInput, RadxLastErrorFn, RadxLevelsView, RadxMaskView, RadxMatrixOut, RadxMatrixView,
    RadxPluginDesc, RadxRegionView, RadxShutdownFn, RadxSourceDesc, RadxValuesView, v1, v2_0,
};

pub use radx_plugin::LogLevel;

#[cfg(unix)]
mod in_flight;
#[cfg(unix)]
pub use in_flight::{CaseInFlight, install_crash_report};
/// Without POSIX signals there is no handler to install: a crash ends the process
/// without the line naming the plugin.
#[cfg(not(unix))]
pub fn install_crash_report() {}
#[cfg(not(unix))]
mod in_flight {
    /// No signal handler reads the record without POSIX signals.
    pub(crate) struct InFlight;
    impl InFlight {
        pub(crate) fn enter(_: &'static str, _: &str, _: &str, _: Option<&std::ffi::CStr>, _: i64) -> InFlight {
            InFlight
        }
    }
    /// No crash line to name the case in without POSIX signals.
    pub struct CaseInFlight<'a>(std::marker::PhantomData<&'a std::ffi::CStr>);
    impl<'a> CaseInFlight<'a> {
        /// Does nothing here.
        pub fn enter(_: Option<&'a std::ffi::CStr>, _: i64) -> CaseInFlight<'a> {
            CaseInFlight(std::marker::PhantomData)
        }
    }
}
#[cfg(not(unix))]
pub use in_flight::CaseInFlight;
mod filter;
pub use filter::{FILTER_BOUNDARIES, PluginFilter};
mod trust;
pub use trust::{PluginTrust, WritableBy};
mod feature_params;
pub use feature_params::{FeatureArgError, FeatureCall, ParamKind, ParamSpec};

/// The environment variable listing plugin directories, `:`-separated.
pub const PLUGIN_PATH_VAR: &str = "RADX_PLUGIN_PATH";

/// The ABI major version this radx speaks (re-exported for `radx plugins list`); it also
/// loads plugins of [`OLDEST_ABI`] up to this one, of any minor version.
pub const HOST_ABI: u32 = RADX_PLUGIN_ABI;

/// The ABI minor version this radx fills in its structs.
pub const HOST_ABI_MINOR: u32 = RADX_PLUGIN_ABI_MINOR;

/// The oldest ABI major version this radx still loads.
pub const OLDEST_ABI: u32 = v1::RADX_PLUGIN_ABI;

/// Why a plugin could not be loaded. Every message names the plugin file.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file does not exist.
    #[error("plugin {}: no such file", path.display())]
    NotFound { path: PathBuf },
    /// Other users can change the library or a folder above it, and opening it runs its
    /// code: refused before it is opened (Unix permissions; see [`PluginTrust`]).
    #[error(
        "plugin {}: refused: {} is writable by {who} (mode {mode:o}), so another user could replace the code \
         radx would run on opening it; make it writable by its owner only (chmod go-w {}), or allow such \
         plugins explicitly (radx: --allow-untrusted-plugins or RADX_ALLOW_UNTRUSTED_PLUGINS=1)",
        path.display(),
        writable.display(),
        writable.display()
    )]
    Untrusted {
        /// The library (canonical path).
        path: PathBuf,
        /// The library itself or the folder that others can write to.
        writable: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// Who besides its owner can write to it.
        who: WritableBy,
    },
    /// The library or a folder above it belongs to another user than root and the one
    /// running radx, who could replace the code run on opening it: refused before it is
    /// opened (Unix; see [`PluginTrust`]).
    #[error(
        "plugin {}: refused: {} is owned by user {owner}, neither you (user {user}) nor root, so that user could \
         replace the code radx would run on opening it; install the plugin in a folder you or root own, or allow \
         such plugins explicitly (radx: --allow-untrusted-plugins or RADX_ALLOW_UNTRUSTED_PLUGINS=1)",
        path.display(),
        owned.display()
    )]
    ForeignOwner {
        /// The library (canonical path).
        path: PathBuf,
        /// The library itself or the folder owned by another user.
        owned: PathBuf,
        /// Its owner's user id.
        owner: u32,
        /// The effective user id radx runs as.
        user: u32,
    },
    /// The file exists but the dynamic loader refused it.
    #[error("plugin {}: not a loadable shared library ({reason})", path.display())]
    NotALibrary { path: PathBuf, reason: String },
    /// The library does not export the entry symbol.
    #[error(
        "plugin {}: the library does not export `{RADX_ENTRY_SYMBOL}`; build it with radx_plugin::export_plugin! \
         or, in C, define `RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void)` from radx_plugin.h",
        path.display()
    )]
    MissingEntry { path: PathBuf },
    /// Built against an ABI major version this radx does not speak.
    #[error(
        "plugin {}: built for radx plugin ABI {plugin_abi}, but this radx speaks ABI {host_abi} (and loads \
         ABI {OLDEST_ABI} to {host_abi}); rebuild the plugin against this radx's radx-plugin crate \
         (or include/radx_plugin.h), whose RADX_PLUGIN_ABI is {host_abi}",
        path.display()
    )]
    AbiMismatch { path: PathBuf, plugin_abi: u32, host_abi: u32 },
    /// The plugin's `init` refused to start.
    #[error("plugin {}: its init failed: {message}", path.display())]
    InitFailed { path: PathBuf, message: String },
    /// The descriptor breaks the ABI's rules (null where a value is required, bad UTF-8…).
    #[error("plugin {}: invalid descriptor: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    /// A source's or filter's parameter declaration is not a JSON object of defaults (boxed: it is the
    /// largest cause, and every `Result` carrying a `PluginError` would be as large).
    #[error("plugin {}: invalid descriptor: {kind} `{name}`'s parameters {text}: {source}", path.display())]
    ParamDefaults { path: PathBuf, kind: &'static str, name: String, text: String, source: Box<ParamDefaultsError> },
    /// Another loaded plugin already has this name.
    #[error("plugin {}: a plugin named `{name}` is already loaded from {}", path.display(), first.display())]
    DuplicatePlugin { path: PathBuf, name: String, first: PathBuf },
    /// Two features (or two sources) of one plugin share a name.
    #[error("plugin {}: the {kind} name `{name}` is declared twice", path.display())]
    DuplicateName { path: PathBuf, kind: &'static str, name: String },
    /// A source name is already provided by another plugin.
    #[error("plugin {}: source `{name}` is already provided by plugin `{other}`", path.display())]
    DuplicateSource { path: PathBuf, name: String, other: String },
    /// A filter name is already provided by another plugin.
    #[error("plugin {}: filter `{name}` is already provided by plugin `{other}`; rename one of them", path.display())]
    DuplicateFilter { path: PathBuf, name: String, other: String },
    /// A plugin feature, source or filter clashes with a built-in or feature-file name.
    #[error("plugin {}: {message}", path.display())]
    Clash { path: PathBuf, message: String },
    /// A plugin directory could not be read.
    #[error("plugin directory {}: {source}", dir.display())]
    Directory { dir: PathBuf, source: std::io::Error },
    /// A name or tag holds characters a table cannot carry (see [`check_name`]).
    #[error(
        "plugin {}: the {what} {name:?} is not a valid name: use ASCII letters, digits, `_`, `-` and `.` \
         (starting with a letter or `_`, no `..`, not ending in `.`){extra}; rename it in the plugin",
        path.display(),
        extra = match *what {
            "source name" => ", and no `-` or `.` in a source name (feature files write it)".to_string(),
            "filter name" => ", and no `-` or `.` in a filter name (it names the filter's rows)".to_string(),
            "tag" => format!(", and at most {} characters in a tag", radx_dsl::check::MAX_TAG_LEN),
            _ => String::new(),
        }
    )]
    BadName { path: PathBuf, what: &'static str, name: String },
    /// Two plugin features would become the same table column `plugin.feature` (boxed:
    /// the largest cause, and every `Result` carrying a `PluginError` would be as large).
    #[error("plugin {path}: {clash}", path = .0.path.display(), clash = .0)]
    ColumnClash(Box<ColumnClash>),
}

/// Two plugin features that would be one table column, named both.
#[derive(Debug, thiserror::Error)]
#[error(
    "feature `{feature}` of plugin `{plugin}` and feature `{other_feature}` of plugin `{other_plugin}` (from {}) \
     would both be the column `{column}`; rename one of them",
    other_path.display()
)]
pub struct ColumnClash {
    /// The file of the plugin being loaded.
    pub path: PathBuf,
    /// Its name.
    pub plugin: String,
    /// Its feature.
    pub feature: String,
    /// The column both would be.
    pub column: String,
    /// The plugin loaded before.
    pub other_plugin: String,
    /// Its feature.
    pub other_feature: String,
    /// Its file.
    pub other_path: PathBuf,
}

/// Where a plugin was loaded from; it decides whether its problems stop a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginOrigin {
    /// Named explicitly (`--plugin PATH`, [`PluginRegistry::load`]): any problem is an error.
    Explicit,
    /// Found in a plugin directory (`RADX_PLUGIN_PATH`, [`PluginRegistry::load_dirs`]): a
    /// plugin that fails to load or clashes is skipped with a warning.
    Directory,
}

/// Something about the loaded plugins a user should hear about, which does not stop the
/// run. Library code returns these; front ends print them.
#[derive(Debug, thiserror::Error)]
pub enum PluginWarning {
    /// A plugin from a plugin directory was skipped.
    #[error("{0} (found through {PLUGIN_PATH_VAR}; skipped)")]
    Skipped(PluginError),
    /// A plugin feature carries the tag of another feature radx knows (an IBSI tag says
    /// the value *is* that feature).
    #[error(
        "plugin {}: feature `{plugin}.{feature}` uses the tag `{tag}` of `{known}` ({origin}); a tag names one \
         definition: give the plugin feature a site tag (e.g. `SITE-0001`) unless it computes exactly that feature",
        path.display()
    )]
    ReusedTag {
        path: PathBuf,
        plugin: String,
        feature: String,
        tag: String,
        /// `family.feature` of the feature that has the tag.
        known: String,
        /// Where that feature is defined.
        origin: String,
    },
}

/// Check a plugin, feature or source name, or a tag: ASCII letters, digits, `_`, `-`, `.`,
/// starting with a letter or `_` (a tag also with a digit; at most as long as a feature
/// file's tags may be), with no `..` and not ending in `.` (names become CSV
/// cells and `plugin.feature` column names). Source names are identifiers (letters,
/// digits, `_`): feature files write them.
pub fn check_name(name: &str, what: &'static str, path: &Path) -> Result<(), PluginError> {
    let bad = || PluginError::BadName { path: path.to_path_buf(), what, name: name.to_string() };
    let identifier = what == "source name" || what == "filter name";
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || (!identifier && (c == '-' || c == '.'));
    let first_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || (what == "tag" && c.is_ascii_digit());
    if !name.chars().next().is_some_and(first_ok)
        || !name.chars().all(allowed)
        || name.contains("..")
        || name.ends_with('.')
        || (what == "tag" && name.chars().count() > radx_dsl::check::MAX_TAG_LEN)
    {
        return Err(bad());
    }
    Ok(())
}

/// Why a matrix crossing the plugin boundary is not a valid [`DenseMatrix`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatrixError {
    /// A matrix built with no axis, or more than the ABI carries.
    #[error("a plugin matrix has 1 to {RADX_MAX_MATRIX_DIMS} axes, not {ndim}")]
    AxisCount { ndim: usize },
    /// A plugin's matrix view claims no axis, or more than the ABI carries.
    #[error("{ndim} axes (1 to {RADX_MAX_MATRIX_DIMS} allowed)")]
    ViewAxisCount { ndim: usize },
    /// The product of the axis lengths does not fit in memory's address range.
    #[error("shape overflows")]
    ShapeOverflow,
    /// A plugin's matrix view has entries but no data pointer.
    #[error("shape {shape:?} but no data")]
    NoData { shape: Vec<usize> },
    /// The entries are not as many as the shape has positions.
    #[error("a matrix of shape {shape:?} has {expected} entries, not {found}")]
    EntryCount { shape: Vec<usize>, expected: usize, found: usize },
    /// Axis values are given for an axis the matrix does not have.
    #[error("axis {axis} does not exist in shape {shape:?}")]
    NoSuchAxis { axis: usize, shape: Vec<usize> },
    /// The axis values are not one per position along the axis.
    #[error("axis {axis} has {len} positions, not {found}")]
    AxisValueCount { axis: usize, len: usize, found: usize },
}

/// Why a source's parameter declaration is not a JSON object of defaults.
#[derive(Debug, thiserror::Error)]
pub enum ParamDefaultsError {
    /// Not JSON text.
    #[error("not JSON ({0})")]
    NotJson(#[source] serde_json::Error),
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// A number JSON holds but an `f64` cannot (serde_json's arbitrary precision).
    #[error("`{name}`: {number} is not a number")]
    NotANumber { name: String, number: serde_json::Number },
    /// A default that is a list, an object or null, which says no kind.
    #[error("`{name}`: a default must be a flag, number or string, not {value}")]
    NoKind { name: String, value: serde_json::Value },
    /// A name a feature file cannot write.
    #[error("`{name}` is not a parameter name feature files can write (letters, digits, _)")]
    NotAnIdentifier { name: String },
}

/// A loaded plugin, as `radx plugins list` shows it.
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    /// Name from the descriptor.
    pub name: String,
    /// Version from the descriptor.
    pub version: String,
    /// The library file it was loaded from (canonical path).
    pub path: PathBuf,
    /// The ABI major version it was built against ([`OLDEST_ABI`] to [`HOST_ABI`]).
    pub abi: u32,
    /// The ABI minor version it was built against (0 for ABI 1).
    pub abi_minor: u32,
    /// Its features.
    pub features: Vec<PluginFeature>,
    /// Its sources.
    pub sources: Vec<PluginSource>,
    /// Its image filters (ABI 2.2; none for older plugins).
    pub filters: Vec<PluginFilter>,
    /// Named explicitly or found in a plugin directory.
    pub origin: PluginOrigin,
    /// Its context and lifecycle, held only so that a plugin with no feature or source is
    /// shut down when the plugin is dropped, not at once.
    _lifecycle: Arc<Instance>,
}

/// One feature of a loaded plugin; cheap to clone, callable from any thread.
#[derive(Debug, Clone)]
pub struct PluginFeature {
    /// Name of the plugin that provides it.
    pub plugin: String,
    /// Feature name (unique within the plugin).
    pub name: String,
    /// IBSI permanent tag or site tag.
    pub tag: String,
    /// One-line description.
    pub description: String,
    /// The source whose matrices the feature wants in [`PluginInput::matrices`], if any.
    pub source: Option<String>,
    /// How much of the processed image around the ROI the feature wants
    /// ([`PluginInput::region`]).
    pub margin: Margin,
    /// Its typed parameters, in declaration order (ABI 2.2; none for older plugins).
    pub params: Vec<ParamSpec>,
    /// Whether its result is a profile: any number of values, each a row `name[i]` (ABI 2.2).
    pub profile: bool,
    compute: Compute,
    compute_values: Option<radx_plugin::RadxComputeValuesFn>,
    instance: Arc<Instance>,
}

/// How much of the processed image around the ROI's box a plugin feature sees, as its
/// `margin_mm` declares (ABI 2.1; [`Margin::None`] for older plugins).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Margin {
    /// Only the ROI's box (`margin_mm` 0): the feature costs nothing more.
    None,
    /// The box grown by this many mm (positive, finite) along each axis.
    Mm(f64),
    /// The whole processed image (`margin_mm` negative or infinite).
    WholeImage,
}

impl Margin {
    /// The margin a descriptor's `margin_mm` declares; `None` for NaN, which declares nothing.
    pub fn from_mm(mm: f64) -> Option<Margin> {
        if mm.is_nan() {
            None
        } else if mm == 0.0 {
            Some(Margin::None)
        } else if mm < 0.0 || mm.is_infinite() {
            Some(Margin::WholeImage)
        } else {
            Some(Margin::Mm(mm))
        }
    }

    /// The wider of two margins.
    pub fn max(self, other: Margin) -> Margin {
        match (self, other) {
            (Margin::WholeImage, _) | (_, Margin::WholeImage) => Margin::WholeImage,
            (Margin::Mm(a), Margin::Mm(b)) => Margin::Mm(a.max(b)),
            (Margin::Mm(a), Margin::None) | (Margin::None, Margin::Mm(a)) => Margin::Mm(a),
            (Margin::None, Margin::None) => Margin::None,
        }
    }
}

/// A feature's function, in the calling convention of its plugin's ABI.
#[derive(Debug, Clone, Copy)]
enum Compute {
    V1(v1::RadxComputeFn),
    V2(RadxComputeFn),
}

/// A source's builder, in the calling convention of its plugin's ABI.
#[derive(Debug, Clone, Copy)]
enum Build {
    V1(v1::RadxBuildFn),
    V2(RadxBuildFn),
}

/// One initialised plugin: its context and callbacks, shared by its features and sources.
/// When the last handle goes (radx is done with the plugin), its `shutdown` runs.
#[derive(Debug)]
struct Instance {
    /// What the plugin's `init` stored (null without init).
    context: *mut c_void,
    last_error: Option<RadxLastErrorFn>,
    shutdown: Option<RadxShutdownFn>,
}

// SAFETY: the context is the plugin's; the threading contract (docs/plugins.md) makes the
// plugin accept calls with it from any thread, concurrently, and shutdown from any thread.
unsafe impl Send for Instance {}
// SAFETY: as above; the host never reads or writes through the context.
unsafe impl Sync for Instance {}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown {
            // SAFETY: the last handle on the plugin is going, so no call is in flight or will
            // follow; the context is the one init stored.
            unsafe { shutdown(self.context) };
        }
    }
}

/// One source (matrix family) of a loaded plugin.
#[derive(Debug, Clone)]
pub struct PluginSource {
    /// Name of the plugin that provides it.
    pub plugin: String,
    /// Source name, as feature files use it (`over NAME(...)`).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Number of axes of every matrix it builds (1 to 4).
    pub ndim: usize,
    /// Its parameters with their defaults, sorted by name; the
    /// kind of each is the kind of its default.
    pub params: Vec<(String, ParamValue)>,
    build: Build,
    instance: Arc<Instance>,
}

/// A dense matrix crossing the plugin boundary: row-major entries, a shape of 1 to 4
/// axes, and optionally the values naming positions along each axis.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseMatrix {
    shape: Vec<usize>,
    data: Vec<f64>,
    axis_values: Vec<Option<Vec<f64>>>,
}

impl DenseMatrix {
    /// A matrix from row-major `data`; `shape` has 1 to 4 axes whose product is `data.len()`.
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Result<Self, MatrixError> {
        if shape.is_empty() || shape.len() > RADX_MAX_MATRIX_DIMS {
            return Err(MatrixError::AxisCount { ndim: shape.len() });
        }
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(MatrixError::EntryCount { shape, expected, found: data.len() });
        }
        let axis_values = vec![None; shape.len()];
        Ok(DenseMatrix { shape, data, axis_values })
    }

    /// Name the positions along `axis`.
    pub fn with_axis_values(mut self, axis: usize, values: Vec<f64>) -> Result<Self, MatrixError> {
        match self.shape.get(axis) {
            Some(&len) if len == values.len() => {
                self.axis_values[axis] = Some(values);
                Ok(self)
            }
            Some(&len) => Err(MatrixError::AxisValueCount { axis, len, found: values.len() }),
            None => Err(MatrixError::NoSuchAxis { axis, shape: self.shape }),
        }
    }

    /// A texture matrix as a plugin sees it: rows are grey levels `1..=ng` (axis 0),
    /// columns the family's second index (axis 1, `col_values`).
    pub fn from_texture(matrix: &TextureMatrix) -> Self {
        let (rows, cols) = matrix.counts.dim();
        DenseMatrix {
            shape: vec![rows, cols],
            // `iter` walks in logical row-major order whatever the memory layout.
            data: matrix.counts.iter().copied().collect(),
            axis_values: vec![Some((1..=rows).map(|g| g as f64).collect()), Some(matrix.col_values.clone())],
        }
    }

    /// Length of each axis.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Entries, row-major.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// Values naming the positions along `axis`, if given.
    pub fn axis_values(&self, axis: usize) -> Option<&[f64]> {
        self.axis_values.get(axis).and_then(|v| v.as_deref())
    }

    fn view(&self) -> RadxMatrixView {
        let mut view = RadxMatrixView {
            data: if self.data.is_empty() { std::ptr::null() } else { self.data.as_ptr() },
            ndim: self.shape.len(),
            shape: [0; RADX_MAX_MATRIX_DIMS],
            axis_values: [std::ptr::null(); RADX_MAX_MATRIX_DIMS],
        };
        for (a, &len) in self.shape.iter().enumerate() {
            view.shape[a] = len;
            if let Some(values) = &self.axis_values[a] {
                view.axis_values[a] = values.as_ptr();
            }
        }
        view
    }
}

/// What the host shows a plugin of one region of interest (borrowed for the call).
#[derive(Debug, Clone, Copy)]
pub struct PluginInput<'a> {
    /// The image cropped to the ROI box (its grid gives dims and spacing).
    pub image: &'a Volume<f64>,
    /// Morphological mask on the image grid.
    pub morphological: &'a Array3<bool>,
    /// Intensity mask on the image grid.
    pub intensity: &'a Array3<bool>,
    /// Intensities of the intensity-mask voxels (x-fastest order).
    pub intensities: &'a [f64],
    /// Discretised grey levels on the image grid, when discretisation is configured.
    pub levels: Option<&'a Array3<u16>>,
    /// Number of grey levels (0 without discretisation).
    pub ng: usize,
    /// The matrices of the feature's declared source (empty when it declared none).
    pub matrices: &'a [DenseMatrix],
    /// The case the ROI belongs to (ABI 2 plugins see it; origin, direction and spacing
    /// come from `image.grid`).
    pub case: CaseInfo<'a>,
    /// The processed image and masks around the ROI's box (ABI 2.1), for a feature that
    /// declared a [`Margin`]; `None` otherwise.
    pub region: Option<PluginRegion<'a>>,
}

/// The processed image and the ROI's masks over a region around the ROI's box.
#[derive(Debug, Clone, Copy)]
pub struct PluginRegion<'a> {
    /// The processed image over the region (its grid gives dims and spacing).
    pub image: &'a Volume<f64>,
    /// Morphological mask on the region's grid.
    pub morphological: &'a Array3<bool>,
    /// Intensity mask on the region's grid.
    pub intensity: &'a Array3<bool>,
    /// Index of the region's voxel `[0, 0, 0]` in the processed image.
    pub offset: [usize; 3],
}

/// What an ABI 2 plugin learns of the case beyond the cropped box.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseInfo<'a> {
    /// Index of the box's voxel `[0, 0, 0]` in the processed image.
    pub box_offset: [usize; 3],
    /// Number of voxels of the processed image; `[0; 3]` when unknown (the box's own dims
    /// are passed then).
    pub image_dims: [usize; 3],
    /// The case's id, when the run has one.
    pub case_id: Option<&'a CStr>,
    /// The ROI's label (0: every non-zero label).
    pub label: i64,
    /// The case's effective settings as a JSON object (ABI 2.1), when known.
    pub settings_json: Option<&'a CStr>,
}

impl<'a> PluginInput<'a> {
    /// The input of a cropped ROI; `intensities` is usually `roi.intensities()`.
    pub fn from_roi(roi: &'a Roi, intensities: &'a [f64]) -> Self {
        PluginInput {
            image: &roi.image,
            morphological: &roi.morphological,
            intensity: &roi.intensity,
            intensities,
            levels: None,
            ng: 0,
            matrices: &[],
            case: CaseInfo::default(),
            region: None,
        }
    }

    /// Add the discretised grey levels.
    pub fn with_discretised(mut self, discretised: &'a DiscretisedRoi) -> Self {
        self.levels = Some(&discretised.levels);
        self.ng = discretised.ng;
        self
    }

    /// Add the matrices of the feature's source.
    pub fn with_matrices(mut self, matrices: &'a [DenseMatrix]) -> Self {
        self.matrices = matrices;
        self
    }

    /// Check shapes and lay the data out x-fastest (borrowed when it already is, as
    /// radx volumes are; copied otherwise).
    fn prepare(&self) -> Result<Prepared<'a>, PluginCallError> {
        let dims = self.image.grid.dims;
        let shape = |a: (usize, usize, usize)| [a.0, a.1, a.2];
        if shape(self.image.data.dim()) != dims {
            return Err(PluginCallError::Input(format!(
                "image data {:?} does not match its grid {dims:?}",
                self.image.data.dim()
            )));
        }
        for (what, d) in [("morphological mask", self.morphological.dim()), ("intensity mask", self.intensity.dim())] {
            if shape(d) != dims {
                return Err(PluginCallError::Input(format!("{what} {:?} does not match the image {dims:?}", shape(d))));
            }
        }
        if let Some(levels) = self.levels
            && shape(levels.dim()) != dims
        {
            return Err(PluginCallError::Input(format!(
                "grey levels {:?} do not match the image {dims:?}",
                shape(levels.dim())
            )));
        }
        Ok(Prepared {
            image: x_fastest(&self.image.data),
            morphological: x_fastest(self.morphological),
            intensity: x_fastest(self.intensity),
            levels: self.levels.map(x_fastest),
            matrices: self.matrices.iter().map(DenseMatrix::view).collect(),
            region: self.region.as_ref().map(PluginRegion::prepare).transpose()?,
        })
    }
}

impl<'a> PluginRegion<'a> {
    /// Check shapes and lay the region out x-fastest.
    fn prepare(&self) -> Result<PreparedRegion<'a>, PluginCallError> {
        let dims = self.image.grid.dims;
        let shape = |a: (usize, usize, usize)| [a.0, a.1, a.2];
        let parts = [("image", self.image.data.dim()), ("morphological mask", self.morphological.dim())];
        for (what, d) in parts.into_iter().chain([("intensity mask", self.intensity.dim())]) {
            if shape(d) != dims {
                return Err(PluginCallError::Input(format!(
                    "margin region {what} {:?} does not match {dims:?}",
                    shape(d)
                )));
            }
        }
        Ok(PreparedRegion {
            image: x_fastest(&self.image.data),
            morphological: x_fastest(self.morphological),
            intensity: x_fastest(self.intensity),
            grid: self.image.grid,
            offset: self.offset,
        })
    }
}

/// Host-side buffers behind one [`RadxRegionView`].
struct PreparedRegion<'a> {
    image: Cow<'a, [f64]>,
    morphological: Cow<'a, [bool]>,
    intensity: Cow<'a, [bool]>,
    grid: radx_core::Grid,
    offset: [usize; 3],
}

impl PreparedRegion<'_> {
    fn view(&self) -> RadxRegionView {
        let dims = self.grid.dims;
        RadxRegionView {
            image: RadxImageView { data: self.image.as_ptr(), dims, spacing: self.grid.spacing },
            // `bool` is one byte holding 0 or 1: exactly the ABI's mask byte.
            morphological_mask: RadxMaskView { data: self.morphological.as_ptr().cast::<u8>(), dims },
            intensity_mask: RadxMaskView { data: self.intensity.as_ptr().cast::<u8>(), dims },
            offset: self.offset,
        }
    }
}

/// No margin region: null data, zero dims.
const NO_REGION: RadxRegionView = RadxRegionView {
    image: RadxImageView { data: std::ptr::null(), dims: [0; 3], spacing: [0.0; 3] },
    morphological_mask: RadxMaskView { data: std::ptr::null(), dims: [0; 3] },
    intensity_mask: RadxMaskView { data: std::ptr::null(), dims: [0; 3] },
    offset: [0; 3],
};

/// Borrow the voxels in x-fastest order, or copy them into that order.
fn x_fastest<T: Clone>(a: &Array3<T>) -> Cow<'_, [T]> {
    // The reversed-axes view is in standard (C) order exactly when `a` is x-fastest.
    match a.t().to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.t().iter().cloned().collect()),
    }
}

/// Host-side buffers behind one [`RadxInput`].
struct Prepared<'a> {
    image: Cow<'a, [f64]>,
    morphological: Cow<'a, [bool]>,
    intensity: Cow<'a, [bool]>,
    levels: Option<Cow<'a, [u16]>>,
    matrices: Vec<RadxMatrixView>,
    region: Option<PreparedRegion<'a>>,
}

impl Prepared<'_> {
    /// The ABI 2 input.
    fn raw(&self, input: &PluginInput<'_>) -> RadxInput {
        let v1 = self.raw_v1(input);
        let grid = &input.image.grid;
        let d = grid.direction;
        let image_dims = if input.case.image_dims == [0; 3] { grid.dims } else { input.case.image_dims };
        RadxInput {
            struct_size: std::mem::size_of::<RadxInput>(),
            image: v1.image,
            morphological_mask: v1.morphological_mask,
            intensity_mask: v1.intensity_mask,
            intensities: v1.intensities,
            levels: v1.levels,
            matrices: v1.matrices,
            n_matrices: v1.n_matrices,
            geometry: RadxGeometry {
                origin: grid.origin,
                direction: [d[0][0], d[0][1], d[0][2], d[1][0], d[1][1], d[1][2], d[2][0], d[2][1], d[2][2]],
                box_offset: input.case.box_offset,
                image_dims,
            },
            case_id: input.case.case_id.map_or(std::ptr::null(), CStr::as_ptr),
            label: input.case.label,
            settings_json: input.case.settings_json.map_or(std::ptr::null(), CStr::as_ptr),
            margin: self.region.as_ref().map_or(NO_REGION, PreparedRegion::view),
        }
    }

    /// The ABI 1 input.
    fn raw_v1(&self, input: &PluginInput<'_>) -> v1::RadxInput {
        let dims = input.image.grid.dims;
        v1::RadxInput {
            image: RadxImageView { data: self.image.as_ptr(), dims, spacing: input.image.grid.spacing },
            // `bool` is one byte holding 0 or 1: exactly the ABI's mask byte.
            morphological_mask: RadxMaskView { data: self.morphological.as_ptr().cast::<u8>(), dims },
            intensity_mask: RadxMaskView { data: self.intensity.as_ptr().cast::<u8>(), dims },
            intensities: RadxValuesView { data: input.intensities.as_ptr(), len: input.intensities.len() },
            levels: RadxLevelsView {
                data: self.levels.as_ref().map_or(std::ptr::null(), |l| l.as_ptr()),
                dims,
                ng: if self.levels.is_some() { input.ng } else { 0 },
            },
            matrices: if self.matrices.is_empty() { std::ptr::null() } else { self.matrices.as_ptr() },
            n_matrices: self.matrices.len(),
        }
    }
}

/// Why a call into a plugin gave no value or matrix. The feature's or source's rows become
/// NaN with this as their note; the case goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginCallError {
    /// The host's input views disagree with each other (a host defect, not the plugin's).
    #[error("{0}")]
    Input(String),
    /// The plugin reported an error (or panicked): its own message.
    #[error("{0}")]
    Plugin(String),
    /// The source's parameters cannot be passed as a C string.
    #[error("source parameters contain a NUL byte")]
    NulInParameters,
    /// The matrix the source returned does not hold what it claims.
    #[error("source {plugin}.{source_name} returned an invalid matrix: {error}")]
    InvalidMatrix {
        /// Plugin name.
        plugin: String,
        /// Source name.
        source_name: String,
        /// What is wrong with it.
        error: MatrixError,
    },
}

/// The plugin's message after a failed call, read on the calling thread right away.
fn plugin_message(last_error: Option<RadxLastErrorFn>, what: &str) -> String {
    let message = last_error.and_then(|f| {
        // SAFETY: the ABI promises a NUL-terminated string or null, valid until the next call.
        let p = unsafe { f() };
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    });
    match message {
        Some(m) if !m.is_empty() => m,
        _ => format!("{what} failed without a message"),
    }
}

impl PluginFeature {
    /// Compute the feature on `input`. `Err` carries the plugin's message (a caught panic
    /// reads "the plugin panicked: …"); other features are unaffected.
    pub fn compute(&self, input: &PluginInput) -> Result<f64, PluginCallError> {
        let prepared = input.prepare()?;
        let mut value = f64::NAN;
        let _in_flight = self.enter(input);
        // SAFETY: the raw input points into `prepared` and `input`, alive for the whole call;
        // the function pointer comes from a library that is never unloaded; the context is
        // the one the plugin's init stored.
        let status = match self.compute {
            Compute::V2(compute) => unsafe { compute(self.instance.context, &prepared.raw(input), &mut value) },
            Compute::V1(compute) => unsafe { compute(&prepared.raw_v1(input), &mut value) },
        };
        if status == RADX_OK { Ok(value) } else { Err(self.failure()) }
    }

    /// Marks this feature in flight on `input`'s case (for the crash report).
    fn enter(&self, input: &PluginInput) -> in_flight::InFlight {
        in_flight::InFlight::enter("feature", &self.plugin, &self.name, input.case.case_id, input.case.label)
    }

    /// The context the plugin's init stored.
    fn context(&self) -> *mut c_void {
        self.instance.context
    }

    /// The plugin's message after a failed call on this thread.
    fn failure(&self) -> PluginCallError {
        PluginCallError::Plugin(plugin_message(
            self.instance.last_error,
            &format!("feature {}.{}", self.plugin, self.name),
        ))
    }

    /// `plugin.feature`, unique among loaded plugins.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.plugin, self.name)
    }
}

impl PluginSource {
    /// Build the source's matrix on `input`; `params_json` is a JSON object (`{}` for none).
    /// The plugin allocates it; it is copied here and released through the plugin.
    pub fn build(&self, input: &PluginInput, params_json: &str) -> Result<DenseMatrix, PluginCallError> {
        let params = CString::new(params_json).map_err(|_| PluginCallError::NulInParameters)?;
        let prepared = input.prepare()?;
        let mut out = MaybeUninit::<RadxMatrixOut>::zeroed();
        let context = self.instance.context;
        let _in_flight =
            in_flight::InFlight::enter("source", &self.plugin, &self.name, input.case.case_id, input.case.label);
        // SAFETY: as in `PluginFeature::compute`; `out` is a valid, zeroed place to write.
        let status = match self.build {
            Build::V2(build) => unsafe { build(context, &prepared.raw(input), params.as_ptr(), out.as_mut_ptr()) },
            Build::V1(build) => unsafe { build(&prepared.raw_v1(input), params.as_ptr(), out.as_mut_ptr()) },
        };
        if status != RADX_OK {
            let what = format!("source {}.{}", self.plugin, self.name);
            return Err(PluginCallError::Plugin(plugin_message(self.instance.last_error, &what)));
        }
        // SAFETY: zeroed is a valid RadxMatrixOut (null pointers, None), and the plugin wrote it.
        let mut out = unsafe { out.assume_init() };
        let copied = copy_matrix(&out.matrix);
        if let Some(release) = out.release {
            // SAFETY: released exactly once, by the plugin's own callback.
            unsafe { release(&mut out) };
        }
        copied.map_err(|error| PluginCallError::InvalidMatrix {
            plugin: self.plugin.clone(),
            source_name: self.name.clone(),
            error,
        })
    }
}

/// Copy a plugin-owned matrix into host memory, checking what it claims.
fn copy_matrix(view: &RadxMatrixView) -> Result<DenseMatrix, MatrixError> {
    if view.ndim == 0 || view.ndim > RADX_MAX_MATRIX_DIMS {
        return Err(MatrixError::ViewAxisCount { ndim: view.ndim });
    }
    let shape = view.shape[..view.ndim].to_vec();
    let len = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n)).ok_or(MatrixError::ShapeOverflow)?;
    let data = if len == 0 {
        Vec::new()
    } else if view.data.is_null() {
        return Err(MatrixError::NoData { shape });
    } else {
        // SAFETY: the plugin promises `len` entries until release.
        unsafe { std::slice::from_raw_parts(view.data, len) }.to_vec()
    };
    let mut matrix = DenseMatrix::new(shape.clone(), data)?;
    for (a, &n) in shape.iter().enumerate() {
        let p = view.axis_values[a];
        if !p.is_null() && n > 0 {
            // SAFETY: the plugin promises `shape[a]` values or null.
            let values = unsafe { std::slice::from_raw_parts(p, n) }.to_vec();
            matrix = matrix.with_axis_values(a, values)?;
        }
    }
    Ok(matrix)
}

/// A static, NUL-terminated, UTF-8 string from a descriptor.
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string that outlives the process
/// (descriptor strings are static in a library that is never unloaded).
unsafe fn descriptor_text(p: *const c_char, what: &str, path: &Path) -> Result<String, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    if p.is_null() {
        return Err(malformed(format!("{what} is null")));
    }
    // SAFETY: per the function's contract.
    let text = unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| malformed(format!("{what} is not UTF-8")))?;
    if text.is_empty() {
        return Err(malformed(format!("{what} is empty")));
    }
    Ok(text.to_string())
}

/// Load one plugin library; it stays loaded for the life of the process. A plugin of ABI
/// 2 with an `init` is initialised here (its `shutdown` runs when the last handle on the
/// returned plugin is dropped). A library other users could have replaced is refused
/// ([`PluginTrust::OwnerWritableOnly`]; see [`load_plugin_with`]).
pub fn load_plugin(path: &Path) -> Result<LoadedPlugin, PluginError> {
    load_plugin_with(path, PluginTrust::default())
}

/// [`load_plugin`] with a choice of which libraries to trust.
pub fn load_plugin_with(path: &Path, trust: PluginTrust) -> Result<LoadedPlugin, PluginError> {
    // A path with a directory part makes dlopen open exactly this file, never search; the
    // file checked is the file opened (symbolic links resolved once, here).
    let path = std::fs::canonicalize(path).map_err(|_| PluginError::NotFound { path: path.to_path_buf() })?;
    // Before dlopen: opening runs the library's constructors.
    trust::check(&path, trust)?;
    // SAFETY: loading a library runs its initialisers; plugins are trusted code by design.
    let library = unsafe { libloading::Library::new(&path) }
        .map_err(|e| PluginError::NotALibrary { path: path.clone(), reason: e.to_string() })?;
    // Never unload (see module docs): the descriptor and functions must stay valid.
    let library: &'static libloading::Library = Box::leak(Box::new(library));
    let symbol = format!("{RADX_ENTRY_SYMBOL}\0");
    // SAFETY: the symbol's type is the ABI's entry type.
    let entry: libloading::Symbol<'static, RadxEntryFn> =
        unsafe { library.get(symbol.as_bytes()) }.map_err(|_| PluginError::MissingEntry { path: path.clone() })?;
    // SAFETY: calling the entry point is the ABI's first step; it returns static data.
    let descriptor = unsafe { entry() };
    if descriptor.is_null() {
        return Err(PluginError::Malformed { path, reason: "radx_plugin_entry returned null".into() });
    }
    // In every ABI version the descriptor starts with a u32 abi_version: read only that
    // before knowing the layout of the rest.
    // SAFETY: non-null, and every ABI version begins with this field.
    let plugin_abi = unsafe { descriptor.cast::<u32>().read() };
    let raw = match plugin_abi {
        // SAFETY: ABI 2's layout (at least minor 0's fields, checked in `raw_v2`); static data.
        RADX_PLUGIN_ABI => raw_v2(unsafe { &*descriptor }, &path)?,
        // SAFETY: an ABI 1 descriptor has ABI 1's layout; static data.
        v1::RADX_PLUGIN_ABI => raw_v1(unsafe { &*descriptor.cast::<v1::RadxPluginDesc>() }, &path)?,
        _ => return Err(PluginError::AbiMismatch { path, plugin_abi, host_abi: RADX_PLUGIN_ABI }),
    };
    let mut plugin = read_descriptor(raw, path)?;
    if plugin_abi == RADX_PLUGIN_ABI {
        let instance = plugin._lifecycle.clone();
        plugin.filters = filter::read_filters(library, &plugin, &instance)?;
    }
    Ok(plugin)
}

/// A descriptor of any ABI version, before validation.
struct RawDescriptor {
    abi: u32,
    abi_minor: u32,
    name: *const c_char,
    version: *const c_char,
    features: Vec<RawFeature>,
    sources: Vec<RawSource>,
    last_error: Option<RadxLastErrorFn>,
    init: Option<radx_plugin::RadxInitFn>,
    shutdown: Option<RadxShutdownFn>,
}

struct RawFeature {
    name: *const c_char,
    tag: *const c_char,
    description: *const c_char,
    source: *const c_char,
    compute: Option<Compute>,
    /// `margin_mm` (ABI 2.1; 0 for older plugins).
    margin_mm: f64,
    /// Parameters and vector results (ABI 2.2; `None` for older plugins).
    ext: Option<feature_params::RawFeatureExt>,
}

struct RawSource {
    name: *const c_char,
    description: *const c_char,
    ndim: usize,
    params: *const c_char,
    build: Option<Build>,
}

/// The entries of a static table of `n` structs `stride` bytes apart (a newer minor
/// version's structs are larger: only the prefix this radx knows is read).
///
/// # Safety
/// `ptr` must be null (then `n` is 0, checked) or point to `n` entries `stride` bytes
/// apart, each starting with a `T`, living for the process.
unsafe fn table<T>(
    ptr: *const T,
    n: usize,
    stride: usize,
    what: &str,
    path: &Path,
) -> Result<Vec<&'static T>, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    if n == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() {
        return Err(malformed(format!("{n} {what} declared but the table is null")));
    }
    if stride < std::mem::size_of::<T>() || !stride.is_multiple_of(std::mem::align_of::<T>()) {
        return Err(malformed(format!(
            "the {what} are {stride} bytes apart, but an entry of this ABI takes {} bytes",
            std::mem::size_of::<T>()
        )));
    }
    // SAFETY: per the function's contract: entry i starts i·stride bytes in, aligned (checked).
    Ok((0..n).map(|i| unsafe { &*ptr.cast::<u8>().add(i * stride).cast::<T>() }).collect())
}

/// An ABI 2 descriptor, of this radx's minor version or any other.
fn raw_v2(d: &'static RadxPluginDesc, path: &Path) -> Result<RawDescriptor, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    // Minor 0 is the first of ABI 2: every ABI 2 descriptor has at least its fields.
    if d.struct_size < std::mem::size_of::<RadxPluginDesc>() {
        return Err(malformed(format!(
            "the descriptor is {} bytes, less than ABI 2.0's {}",
            d.struct_size,
            std::mem::size_of::<RadxPluginDesc>()
        )));
    }
    // SAFETY: the descriptor's tables are static, entries `feature_size`/`source_size` apart;
    // every entry has at least ABI 2.0's fields (the stride is checked against them).
    let first = d.features.cast::<v2_0::RadxFeatureDesc>();
    let features = unsafe { table(first, d.n_features, d.feature_size, "features", path) }?;
    let sources = unsafe { table(d.sources, d.n_sources, d.source_size, "sources", path) }?;
    let features = features
        .into_iter()
        .map(|f: &v2_0::RadxFeatureDesc| RawFeature {
            name: f.name,
            tag: f.tag,
            description: f.description,
            source: f.source,
            compute: f.compute.map(Compute::V2),
            // SAFETY: `f` is an entry of the table, `feature_size` bytes long.
            margin_mm: unsafe { appended_margin(f, d.feature_size) },
            // SAFETY: as above.
            ext: unsafe { feature_params::appended_ext(f, d.feature_size) },
        })
        .collect();
    let sources = sources
        .into_iter()
        .map(|s: &RadxSourceDesc| RawSource {
            name: s.name,
            description: s.description,
            ndim: s.ndim,
            params: s.params,
            build: s.build.map(Build::V2),
        })
        .collect();
    Ok(RawDescriptor {
        abi: d.abi_version,
        abi_minor: d.abi_minor,
        name: d.name,
        version: d.version,
        features,
        sources,
        last_error: d.last_error,
        init: d.init,
        shutdown: d.shutdown,
    })
}

/// A feature entry's `margin_mm` (ABI 2.1) when the entry has it (its `struct_size` and the
/// table's stride both cover it), else 0: an ABI 2.0 entry ends before it.
///
/// # Safety
/// `entry` must start a static entry of `stride` bytes.
unsafe fn appended_margin(entry: &v2_0::RadxFeatureDesc, stride: usize) -> f64 {
    let end = std::mem::offset_of!(RadxFeatureDesc, margin_mm) + std::mem::size_of::<f64>();
    if entry.struct_size.min(stride) < end {
        return 0.0;
    }
    // SAFETY: the entry is at least `end` bytes (checked) and laid out as this version's;
    // the table's entries are aligned for it (`table` checks the stride's alignment for the
    // 2.0 prefix, whose alignment an f64 field does not exceed).
    unsafe { (entry as *const v2_0::RadxFeatureDesc).cast::<RadxFeatureDesc>().read().margin_mm }
}

/// An ABI 1 descriptor: no sizes, no context, no lifecycle.
fn raw_v1(d: &'static v1::RadxPluginDesc, path: &Path) -> Result<RawDescriptor, PluginError> {
    let (feature_size, source_size) =
        (std::mem::size_of::<v1::RadxFeatureDesc>(), std::mem::size_of::<v1::RadxSourceDesc>());
    // SAFETY: ABI 1 tables are plain static arrays of ABI 1 structs.
    let features = unsafe { table(d.features, d.n_features, feature_size, "features", path) }?;
    let sources = unsafe { table(d.sources, d.n_sources, source_size, "sources", path) }?;
    Ok(RawDescriptor {
        abi: d.abi_version,
        abi_minor: 0,
        name: d.name,
        version: d.version,
        features: features
            .into_iter()
            .map(|f| RawFeature {
                name: f.name,
                tag: f.tag,
                description: f.description,
                source: f.source,
                compute: f.compute.map(Compute::V1),
                margin_mm: 0.0,
                ext: None,
            })
            .collect(),
        sources: sources
            .into_iter()
            .map(|s| RawSource {
                name: s.name,
                description: s.description,
                ndim: s.ndim,
                params: s.params,
                build: s.build.map(Build::V1),
            })
            .collect(),
        last_error: d.last_error,
        init: None,
        shutdown: None,
    })
}

/// A message a plugin logged through [`RadxHost::log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLog {
    /// The plugin's name.
    pub plugin: String,
    /// How serious it is.
    pub level: LogLevel,
    /// The message.
    pub message: String,
}

type LogSink = Box<dyn Fn(&PluginLog) + Send + Sync>;

/// Where plugin logs go: the front end's sink, else a bounded buffer ([`take_plugin_logs`]).
static LOG_SINK: std::sync::RwLock<Option<LogSink>> = std::sync::RwLock::new(None);
static LOG_BUFFER: std::sync::Mutex<Vec<PluginLog>> = std::sync::Mutex::new(Vec::new());
/// Messages kept without a sink; later ones are dropped.
const LOG_BUFFER_LIMIT: usize = 1000;

/// Send every later plugin log message to `sink` (the CLI prints them), from any thread.
pub fn set_plugin_log_sink(sink: impl Fn(&PluginLog) + Send + Sync + 'static) {
    if let Ok(mut slot) = LOG_SINK.write() {
        *slot = Some(Box::new(sink));
    }
}

/// The log messages plugins sent while no sink was set (at most the first 1000).
pub fn take_plugin_logs() -> Vec<PluginLog> {
    LOG_BUFFER.lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default()
}

/// Whether plugins are told the run is being cancelled ([`RadxHost::cancelled`]).
static CANCELLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tell every loaded plugin, from now on, that the run is (`true`) or is no longer
/// (`false`) being cancelled: their `cancelled()` callback returns 1 (0). Nothing in radx
/// cancels a run yet (Ctrl-C ends the process), so without a call it stays 0; a program
/// embedding the engine may call it to stop long plugin computations early.
pub fn set_plugins_cancelled(cancelled: bool) {
    CANCELLED.store(cancelled, std::sync::atomic::Ordering::Relaxed);
}

/// The host's cancellation callback: 1 while [`set_plugins_cancelled`] says so, else 0.
unsafe extern "C" fn host_cancelled(_host_data: *mut c_void) -> i32 {
    i32::from(CANCELLED.load(std::sync::atomic::Ordering::Relaxed))
}

/// The host's log callback; `host_data` is the plugin's leaked name.
unsafe extern "C" fn host_log(host_data: *mut c_void, level: i32, message: *const c_char) {
    if host_data.is_null() || message.is_null() {
        return;
    }
    // SAFETY: host_data is the `&'static String` given to this plugin's RadxHost; the plugin
    // passes a NUL-terminated message valid for the call.
    let (plugin, message) = unsafe { (&*host_data.cast::<String>(), CStr::from_ptr(message)) };
    let level = match level {
        RADX_LOG_ERROR => LogLevel::Error,
        RADX_LOG_WARN => LogLevel::Warn,
        RADX_LOG_INFO => LogLevel::Info,
        RADX_LOG_DEBUG => LogLevel::Debug,
        _ => LogLevel::Info,
    };
    let log = PluginLog { plugin: plugin.clone(), level, message: message.to_string_lossy().into_owned() };
    // A panic must not unwind into the plugin's C frames.
    let _ = std::panic::catch_unwind(|| {
        if let Ok(sink) = LOG_SINK.read()
            && let Some(sink) = sink.as_ref()
        {
            sink(&log);
        } else if let Ok(mut buffer) = LOG_BUFFER.lock()
            && buffer.len() < LOG_BUFFER_LIMIT
        {
            buffer.push(log);
        }
    });
}

/// Validate a descriptor of any ABI version, copy it into safe values and run its `init`.
fn read_descriptor(d: RawDescriptor, path: PathBuf) -> Result<LoadedPlugin, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.clone(), reason };
    // SAFETY (all `descriptor_text` calls): descriptor strings are static (ABI contract).
    let name = unsafe { descriptor_text(d.name, "the plugin name", &path) }?;
    check_name(&name, "plugin name", &path)?;
    let version = unsafe { descriptor_text(d.version, "the plugin version", &path) }?;

    let mut features = Vec::with_capacity(d.features.len());
    for (i, f) in d.features.iter().enumerate() {
        let what = |field: &str| format!("feature #{i}'s {field}");
        let fname = unsafe { descriptor_text(f.name, &what("name"), &path) }?;
        let tag = unsafe { descriptor_text(f.tag, &what("tag"), &path) }?;
        let description = unsafe { descriptor_text(f.description, &what("description"), &path) }?;
        let source =
            if f.source.is_null() { None } else { Some(unsafe { descriptor_text(f.source, &what("source"), &path) }?) };
        check_name(&fname, "feature name", &path)?;
        check_name(&tag, "tag", &path)?;
        let compute = f.compute.ok_or_else(|| malformed(format!("feature `{fname}` has no compute function")))?;
        let margin = Margin::from_mm(f.margin_mm)
            .ok_or_else(|| malformed(format!("feature `{fname}` declares a margin_mm of NaN (0 for none)")))?;
        if features.iter().any(|(g, ..): &(String, _, _, _, _, _, _)| *g == fname) {
            return Err(PluginError::DuplicateName { path, kind: "feature", name: fname });
        }
        let ext = feature_params::read_ext(f.ext, &fname, &path)?;
        features.push((fname, tag, description, source, compute, margin, ext));
    }
    let mut sources = Vec::with_capacity(d.sources.len());
    for (i, s) in d.sources.iter().enumerate() {
        let sname = unsafe { descriptor_text(s.name, &format!("source #{i}'s name"), &path) }?;
        let description = unsafe { descriptor_text(s.description, &format!("source #{i}'s description"), &path) }?;
        check_name(&sname, "source name", &path)?;
        let build = s.build.ok_or_else(|| malformed(format!("source `{sname}` has no build function")))?;
        if s.ndim == 0 || s.ndim > RADX_MAX_MATRIX_DIMS {
            return Err(malformed(format!(
                "source `{sname}` declares {} axes (1 to {RADX_MAX_MATRIX_DIMS} allowed)",
                s.ndim
            )));
        }
        let params = if s.params.is_null() {
            Vec::new()
        } else {
            let text = unsafe { descriptor_text(s.params, &format!("source `{sname}`'s parameters"), &path) }?;
            parse_param_defaults(&text).map_err(|source| PluginError::ParamDefaults {
                path: path.clone(),
                kind: "source",
                name: sname.clone(),
                text: text.clone(),
                source: Box::new(source),
            })?
        };
        if sources.iter().any(|(t, ..): &(String, _, _, _, _)| *t == sname) {
            return Err(PluginError::DuplicateName { path, kind: "source", name: sname });
        }
        sources.push((sname, description, s.ndim, params, build));
    }

    // Initialise only a plugin that is otherwise valid: a refused one never runs.
    let mut context: *mut c_void = std::ptr::null_mut();
    if let Some(init) = d.init {
        // Valid for the process, as the ABI promises: leaked once per loaded plugin.
        let host: &'static RadxHost = Box::leak(Box::new(RadxHost {
            struct_size: std::mem::size_of::<RadxHost>(),
            abi_major: RADX_PLUGIN_ABI,
            abi_minor: RADX_PLUGIN_ABI_MINOR,
            host_data: (Box::leak(Box::new(name.clone())) as *mut String).cast::<c_void>(),
            log: Some(host_log),
            cancelled: Some(host_cancelled),
        }));
        // SAFETY: the ABI's init call, once, before any other; `context` is a valid place.
        let status = unsafe { init(host, &mut context) };
        if status != RADX_OK {
            let message = plugin_message(d.last_error, &format!("plugin {name}'s init"));
            return Err(PluginError::InitFailed { path, message });
        }
    }
    let instance = Arc::new(Instance { context, last_error: d.last_error, shutdown: d.shutdown });
    let features = features
        .into_iter()
        .map(|(fname, tag, description, source, compute, margin, ext)| PluginFeature {
            plugin: name.clone(),
            name: fname,
            tag,
            description,
            source,
            margin,
            params: ext.params,
            profile: ext.profile,
            compute,
            compute_values: ext.compute_values,
            instance: instance.clone(),
        })
        .collect();
    let sources = sources
        .into_iter()
        .map(|(sname, description, ndim, params, build)| PluginSource {
            plugin: name.clone(),
            name: sname,
            description,
            ndim,
            params,
            build,
            instance: instance.clone(),
        })
        .collect();
    Ok(LoadedPlugin {
        name,
        version,
        path,
        abi: d.abi,
        abi_minor: d.abi_minor,
        features,
        sources,
        filters: Vec::new(),
        origin: PluginOrigin::Explicit,
        _lifecycle: instance,
    })
}

/// A source's parameter declaration, a JSON object of defaults, as (name, default) pairs
/// sorted by name. A default's JSON type gives the parameter's kind: `true`/`false`
/// a flag, an integer literal an integer, any other number a real, a string a string.
pub fn parse_param_defaults(json: &str) -> Result<Vec<(String, ParamValue)>, ParamDefaultsError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(ParamDefaultsError::NotJson)?;
    let serde_json::Value::Object(object) = value else {
        return Err(ParamDefaultsError::NotAnObject);
    };
    let mut params = Vec::with_capacity(object.len());
    for (name, default) in object {
        let value = match default {
            serde_json::Value::Bool(b) => ParamValue::Bool(b),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => ParamValue::Int(i),
                (None, Some(x)) => ParamValue::Float(x),
                (None, None) => return Err(ParamDefaultsError::NotANumber { name, number: n }),
            },
            serde_json::Value::String(s) => ParamValue::Str(s),
            value => return Err(ParamDefaultsError::NoKind { name, value }),
        };
        if !is_identifier(&name) {
            return Err(ParamDefaultsError::NotAnIdentifier { name });
        }
        params.push((name, value));
    }
    Ok(params)
}

/// Whether `name` can be written as a name in a feature file.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The JSON object of source parameters a builder receives.
pub fn params_to_json(params: &[(String, ParamValue)]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(name, value)| {
            let v = match value {
                ParamValue::Int(i) => serde_json::Value::from(*i),
                // A non-finite real has no JSON form; null lets the plugin say so.
                ParamValue::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
                ParamValue::Bool(b) => serde_json::Value::Bool(*b),
                ParamValue::Str(s) => serde_json::Value::String(s.clone()),
            };
            (name.clone(), v)
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// Whether `path` looks like a plugin library by its extension.
fn is_library(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("so" | "dylib" | "dll"))
}

/// Every plugin library in `dir`, in name order (deterministic loading).
pub fn plugin_files_in(dir: &Path) -> Result<Vec<PathBuf>, PluginError> {
    let entries = std::fs::read_dir(dir).map_err(|source| PluginError::Directory { dir: dir.to_path_buf(), source })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|source| PluginError::Directory { dir: dir.to_path_buf(), source })?.path();
        if path.is_file() && is_library(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The directories of a `:`-separated plugin path (empty entries skipped).
pub fn plugin_dirs(path_list: &str) -> Vec<PathBuf> {
    path_list.split(':').filter(|s| !s.is_empty()).map(PathBuf::from).collect()
}

/// Every plugin loaded so far, with names checked for uniqueness.
#[derive(Debug, Default, Clone)]
pub struct PluginRegistry {
    plugins: Vec<LoadedPlugin>,
    trust: PluginTrust,
}

impl PluginRegistry {
    /// No plugins; libraries other users could have replaced will be refused.
    pub fn new() -> Self {
        PluginRegistry::default()
    }

    /// No plugins; `trust` decides whether libraries other users could have replaced load.
    pub fn with_trust(trust: PluginTrust) -> Self {
        PluginRegistry { plugins: Vec::new(), trust }
    }

    /// Load the library at `path` and add it. Loading the same file again is harmless (the
    /// plugin loaded first is returned); two plugins with one name, a source name twice, or
    /// two features that would be one column `plugin.feature` are errors.
    pub fn load(&mut self, path: &Path) -> Result<&LoadedPlugin, PluginError> {
        self.load_as(path, PluginOrigin::Explicit)
    }

    fn load_as(&mut self, path: &Path, origin: PluginOrigin) -> Result<&LoadedPlugin, PluginError> {
        if let Some(at) = self.file_index(path) {
            return Ok(&self.plugins[at]);
        }
        let mut plugin = load_plugin_with(path, self.trust)?;
        plugin.origin = origin;
        if let Some(first) = self.plugins.iter().find(|p| p.name == plugin.name) {
            return Err(PluginError::DuplicatePlugin {
                path: plugin.path,
                name: plugin.name,
                first: first.path.clone(),
            });
        }
        for source in &plugin.sources {
            if let Some(other) = self.source(&source.name) {
                return Err(PluginError::DuplicateSource {
                    path: plugin.path.clone(),
                    name: source.name.clone(),
                    other: other.plugin.clone(),
                });
            }
        }
        for filter in &plugin.filters {
            if let Some(other) = self.filter(&filter.name) {
                return Err(PluginError::DuplicateFilter {
                    path: plugin.path.clone(),
                    name: filter.name.clone(),
                    other: other.plugin.clone(),
                });
            }
        }
        for feature in &plugin.features {
            let column = feature.qualified_name();
            if let Some(other) = self.features().find(|f| f.qualified_name() == column) {
                let other_path = self.plugin(&other.plugin).map(|p| p.path.clone()).unwrap_or_default();
                return Err(PluginError::ColumnClash(Box::new(ColumnClash {
                    path: plugin.path.clone(),
                    plugin: plugin.name.clone(),
                    feature: feature.name.clone(),
                    column,
                    other_plugin: other.plugin.clone(),
                    other_feature: other.name.clone(),
                    other_path,
                })));
            }
        }
        self.plugins.push(plugin);
        Ok(&self.plugins[self.plugins.len() - 1])
    }

    /// Take the plugin called `name` out of the registry (e.g. a plugin from a plugin
    /// directory that clashes with a built-in name).
    pub fn remove(&mut self, name: &str) -> Option<LoadedPlugin> {
        let at = self.plugins.iter().position(|p| p.name == name)?;
        Some(self.plugins.remove(at))
    }

    /// Load every library in each directory, skipping files loaded already (e.g. named
    /// explicitly too); returns the errors of those that failed (the others stay loaded).
    pub fn load_dirs(&mut self, dirs: &[PathBuf]) -> Vec<PluginError> {
        let mut errors = Vec::new();
        for dir in dirs {
            match plugin_files_in(dir) {
                Ok(files) => {
                    for file in files {
                        if self.has_file(&file) {
                            continue;
                        }
                        if let Err(e) = self.load_as(&file, PluginOrigin::Directory) {
                            errors.push(e);
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        errors
    }

    /// Whether the library at `file` is loaded already.
    fn has_file(&self, file: &Path) -> bool {
        self.file_index(file).is_some()
    }

    /// Which plugin was loaded from `file` (compared as canonical paths).
    fn file_index(&self, file: &Path) -> Option<usize> {
        let canonical = std::fs::canonicalize(file).ok()?;
        self.plugins.iter().position(|p| p.path == canonical)
    }

    /// The loaded plugins, in load order.
    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.plugins
    }

    /// A plugin by name.
    pub fn plugin(&self, name: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// A source by name, across plugins.
    pub fn source(&self, name: &str) -> Option<&PluginSource> {
        self.plugins.iter().flat_map(|p| &p.sources).find(|s| s.name == name)
    }

    /// A filter by name, across plugins.
    pub fn filter(&self, name: &str) -> Option<&PluginFilter> {
        self.filters().find(|f| f.name == name)
    }

    /// Every filter of every plugin, in load order.
    pub fn filters(&self) -> impl Iterator<Item = &PluginFilter> {
        self.plugins.iter().flat_map(|p| &p.filters)
    }

    /// Every feature of every plugin, in load order.
    pub fn features(&self) -> impl Iterator<Item = &PluginFeature> {
        self.plugins.iter().flat_map(|p| &p.features)
    }

    /// The widest margin any loaded feature declared: how much of the processed image
    /// around the ROI radx keeps for them ([`Margin::None`] when none asks).
    pub fn margin(&self) -> Margin {
        self.features().fold(Margin::None, |m, f| m.max(f.margin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};
    use radx_core::Grid;

    /// A plugin's tags obey the feature files' rule: at most 64 characters (they become
    /// table cells, and a feature file could not name a longer one).
    #[test]
    fn plugin_tags_are_at_most_as_long_as_feature_file_tags() {
        let path = Path::new("libp.so");
        assert!(check_name(&"T".repeat(64), "tag", path).is_ok());
        let error = check_name(&"T".repeat(65), "tag", path).expect_err("too long");
        assert!(error.to_string().contains("at most 64 characters in a tag"), "{error}");
        assert!(check_name("0001-SITE", "tag", path).is_ok(), "a tag may start with a digit");
        assert!(check_name(&"n".repeat(65), "feature name", path).is_ok(), "names have no such limit");
        assert!(check_name("a,b", "tag", path).is_err());
    }

    #[test]
    fn parameter_defaults_give_names_and_kinds() {
        let params = parse_param_defaults(r#"{"flag": true, "n": 2, "x": 0.5, "y": 1.0, "s": "a"}"#).unwrap();
        // serde_json objects are sorted by key.
        assert_eq!(
            params,
            vec![
                ("flag".to_string(), ParamValue::Bool(true)),
                ("n".to_string(), ParamValue::Int(2)),
                ("s".to_string(), ParamValue::Str("a".into())),
                ("x".to_string(), ParamValue::Float(0.5)),
                ("y".to_string(), ParamValue::Float(1.0)),
            ]
        );
        assert_eq!(parse_param_defaults("{}").unwrap(), vec![]);
        let refused = |json: &str| parse_param_defaults(json).unwrap_err();
        assert!(matches!(refused("[1]"), ParamDefaultsError::NotAnObject));
        assert!(matches!(refused("{"), ParamDefaultsError::NotJson(_)));
        assert!(refused("{").to_string().starts_with("not JSON ("));
        assert_eq!(refused(r#"{"a": [1]}"#).to_string(), "`a`: a default must be a flag, number or string, not [1]");
        assert_eq!(
            refused(r#"{"a-b": 1}"#).to_string(),
            "`a-b` is not a parameter name feature files can write (letters, digits, _)"
        );
        // Back to JSON as the builder receives it; a real stays a real.
        assert_eq!(params_to_json(&params), r#"{"flag":true,"n":2,"s":"a","x":0.5,"y":1.0}"#);
    }

    #[test]
    fn plugin_path_lists_split_on_colons() {
        assert_eq!(plugin_dirs("/a:/b/c::"), vec![PathBuf::from("/a"), PathBuf::from("/b/c")]);
        assert!(plugin_dirs("").is_empty());
    }

    #[test]
    fn x_fastest_borrows_fortran_and_copies_c_order() {
        // C-order 2×1×2 array with values = x + 2·z (x-fastest position) → copied in x-fastest order.
        let c_order = Array3::from_shape_fn((2, 1, 2), |(x, _, z)| x + 2 * z);
        assert!(matches!(x_fastest(&c_order), Cow::Owned(_)));
        assert_eq!(x_fastest(&c_order).as_ref(), &[0, 1, 2, 3]);
        let f_order = Array3::from_shape_fn((2, 1, 2).f(), |(x, _, z)| x + 2 * z);
        assert!(matches!(x_fastest(&f_order), Cow::Borrowed(_)));
        assert_eq!(x_fastest(&f_order).as_ref(), &[0, 1, 2, 3]);
    }

    #[test]
    fn texture_matrix_becomes_row_major_with_levels_and_columns() {
        // Rows are grey levels 1, 2; columns are run lengths 1 and 3.
        let t = TextureMatrix {
            counts: Array2::from_shape_vec((2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap(),
            col_values: vec![1.0, 3.0],
            n_voxels: 10.0,
        };
        let m = DenseMatrix::from_texture(&t);
        assert_eq!(m.shape(), &[2, 2]);
        assert_eq!(m.data(), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.axis_values(0), Some(&[1.0, 2.0][..]));
        assert_eq!(m.axis_values(1), Some(&[1.0, 3.0][..]));
    }

    #[test]
    fn dense_matrix_rejects_inconsistent_shapes() {
        assert!(DenseMatrix::new(vec![2, 2], vec![0.0; 3]).is_err());
        assert!(DenseMatrix::new(vec![1; 5], vec![0.0]).is_err());
        assert!(DenseMatrix::new(vec![3], vec![0.0; 3]).unwrap().with_axis_values(0, vec![1.0]).is_err());
    }

    #[test]
    fn mismatched_masks_are_refused_before_any_call() {
        let image = Volume::filled(Grid::new([2, 2, 2], [1.0; 3]), 0.0);
        let good = Array3::from_elem((2, 2, 2).f(), true);
        let bad = Array3::from_elem((2, 2, 1).f(), true);
        let input = PluginInput {
            image: &image,
            morphological: &good,
            intensity: &bad,
            intensities: &[],
            levels: None,
            ng: 0,
            matrices: &[],
            case: CaseInfo::default(),
            region: None,
        };
        let err = input.prepare().err().unwrap();
        assert!(matches!(&err, PluginCallError::Input(_)) && err.to_string().contains("intensity mask"), "{err}");
    }
}
