//! Loading site plugins: shared libraries speaking the `radx-plugin` C ABI.
//!
//! A plugin exports `radx_plugin_entry` (see [`radx_plugin`]); this module opens it with
//! `libloading`, checks its ABI version before reading anything else, validates and
//! copies its descriptor into safe Rust values ([`LoadedPlugin`], [`PluginFeature`],
//! [`PluginSource`]) and calls its functions on host-owned, borrowed views of a region of
//! interest ([`PluginInput`]). Libraries are never unloaded: their code and static
//! descriptors stay valid for the life of the process, so the handles are `'static`.
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
use radx_plugin::{
    RADX_ENTRY_SYMBOL, RADX_MAX_MATRIX_DIMS, RADX_OK, RADX_PLUGIN_ABI, RadxBuildFn, RadxComputeFn, RadxEntryFn,
    RadxImageView, RadxInput, RadxLastErrorFn, RadxLevelsView, RadxMaskView, RadxMatrixOut, RadxMatrixView,
    RadxPluginDesc, RadxValuesView,
};

/// The environment variable listing plugin directories, `:`-separated.
pub const PLUGIN_PATH_VAR: &str = "RADX_PLUGIN_PATH";

/// The ABI version this radx speaks (re-exported for `radx plugins list`).
pub const HOST_ABI: u32 = RADX_PLUGIN_ABI;

/// Why a plugin could not be loaded. Every message names the plugin file.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file does not exist.
    #[error("plugin {}: no such file", path.display())]
    NotFound { path: PathBuf },
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
    /// Built against another ABI version.
    #[error(
        "plugin {}: built for radx plugin ABI {plugin_abi}, but this radx speaks ABI {host_abi}; \
         rebuild the plugin against radx-plugin with RADX_PLUGIN_ABI = {host_abi}",
        path.display()
    )]
    AbiMismatch { path: PathBuf, plugin_abi: u32, host_abi: u32 },
    /// The descriptor breaks the ABI's rules (null where a value is required, bad UTF-8…).
    #[error("plugin {}: invalid descriptor: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    /// A source's parameter declaration is not a JSON object of defaults (boxed: it is the
    /// largest cause, and every `Result` carrying a `PluginError` would be as large).
    #[error("plugin {}: invalid descriptor: source `{name}`'s parameters {text}: {source}", path.display())]
    ParamDefaults { path: PathBuf, name: String, text: String, source: Box<ParamDefaultsError> },
    /// Another loaded plugin already has this name.
    #[error("plugin {}: a plugin named `{name}` is already loaded from {}", path.display(), first.display())]
    DuplicatePlugin { path: PathBuf, name: String, first: PathBuf },
    /// Two features (or two sources) of one plugin share a name.
    #[error("plugin {}: the {kind} name `{name}` is declared twice", path.display())]
    DuplicateName { path: PathBuf, kind: &'static str, name: String },
    /// A source name is already provided by another plugin.
    #[error("plugin {}: source `{name}` is already provided by plugin `{other}`", path.display())]
    DuplicateSource { path: PathBuf, name: String, other: String },
    /// A plugin feature or source clashes with a built-in or feature-file name.
    #[error("plugin {}: {message}", path.display())]
    Clash { path: PathBuf, message: String },
    /// A plugin directory could not be read.
    #[error("plugin directory {}: {source}", dir.display())]
    Directory { dir: PathBuf, source: std::io::Error },
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
    /// The ABI version it was built against (equal to [`HOST_ABI`] once loaded).
    pub abi: u32,
    /// Its features.
    pub features: Vec<PluginFeature>,
    /// Its sources.
    pub sources: Vec<PluginSource>,
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
    compute: RadxComputeFn,
    last_error: Option<RadxLastErrorFn>,
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
    build: RadxBuildFn,
    last_error: Option<RadxLastErrorFn>,
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
        })
    }
}

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
}

impl Prepared<'_> {
    fn raw(&self, input: &PluginInput<'_>) -> RadxInput {
        let dims = input.image.grid.dims;
        RadxInput {
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
        let raw = prepared.raw(input);
        let mut value = f64::NAN;
        // SAFETY: `raw` points into `prepared` and `input`, alive for the whole call; the
        // function pointer comes from a library that is never unloaded.
        let status = unsafe { (self.compute)(&raw, &mut value) };
        if status == RADX_OK {
            Ok(value)
        } else {
            Err(PluginCallError::Plugin(plugin_message(
                self.last_error,
                &format!("feature {}.{}", self.plugin, self.name),
            )))
        }
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
        let raw = prepared.raw(input);
        let mut out = MaybeUninit::<RadxMatrixOut>::zeroed();
        // SAFETY: as in `PluginFeature::compute`; `out` is a valid, zeroed place to write.
        let status = unsafe { (self.build)(&raw, params.as_ptr(), out.as_mut_ptr()) };
        if status != RADX_OK {
            let what = format!("source {}.{}", self.plugin, self.name);
            return Err(PluginCallError::Plugin(plugin_message(self.last_error, &what)));
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

/// Load one plugin library; it stays loaded for the life of the process.
pub fn load_plugin(path: &Path) -> Result<LoadedPlugin, PluginError> {
    // A path with a directory part makes dlopen open exactly this file, never search.
    let path = std::fs::canonicalize(path).map_err(|_| PluginError::NotFound { path: path.to_path_buf() })?;
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
    if plugin_abi != RADX_PLUGIN_ABI {
        return Err(PluginError::AbiMismatch { path, plugin_abi, host_abi: RADX_PLUGIN_ABI });
    }
    // SAFETY: same ABI version, so the layout is RadxPluginDesc; static data.
    let d: &'static RadxPluginDesc = unsafe { &*descriptor };
    read_descriptor(d, path)
}

/// Validate a same-ABI descriptor and copy it into safe values.
fn read_descriptor(d: &'static RadxPluginDesc, path: PathBuf) -> Result<LoadedPlugin, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.clone(), reason };
    // SAFETY (all `descriptor_text` calls): descriptor strings are static (ABI contract).
    let name = unsafe { descriptor_text(d.name, "the plugin name", &path) }?;
    let version = unsafe { descriptor_text(d.version, "the plugin version", &path) }?;
    let table = |ptr: *const u8, n: usize, what: &str| -> Result<(), PluginError> {
        if ptr.is_null() && n > 0 {
            Err(malformed(format!("{n} {what} declared but the table is null")))
        } else {
            Ok(())
        }
    };
    table(d.features.cast(), d.n_features, "features")?;
    table(d.sources.cast(), d.n_sources, "sources")?;

    let mut features = Vec::with_capacity(d.n_features);
    for i in 0..d.n_features {
        // SAFETY: i < n_features entries of a static, non-null table.
        let f = unsafe { &*d.features.add(i) };
        let what = |field: &str| format!("feature #{i}'s {field}");
        let fname = unsafe { descriptor_text(f.name, &what("name"), &path) }?;
        let tag = unsafe { descriptor_text(f.tag, &what("tag"), &path) }?;
        let description = unsafe { descriptor_text(f.description, &what("description"), &path) }?;
        let source =
            if f.source.is_null() { None } else { Some(unsafe { descriptor_text(f.source, &what("source"), &path) }?) };
        let compute = f.compute.ok_or_else(|| malformed(format!("feature `{fname}` has no compute function")))?;
        if features.iter().any(|g: &PluginFeature| g.name == fname) {
            return Err(PluginError::DuplicateName { path, kind: "feature", name: fname });
        }
        features.push(PluginFeature {
            plugin: name.clone(),
            name: fname,
            tag,
            description,
            source,
            compute,
            last_error: d.last_error,
        });
    }
    let mut sources = Vec::with_capacity(d.n_sources);
    for i in 0..d.n_sources {
        // SAFETY: i < n_sources entries of a static, non-null table.
        let s = unsafe { &*d.sources.add(i) };
        let sname = unsafe { descriptor_text(s.name, &format!("source #{i}'s name"), &path) }?;
        let description = unsafe { descriptor_text(s.description, &format!("source #{i}'s description"), &path) }?;
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
                name: sname.clone(),
                text: text.clone(),
                source: Box::new(source),
            })?
        };
        if sources.iter().any(|t: &PluginSource| t.name == sname) {
            return Err(PluginError::DuplicateName { path, kind: "source", name: sname });
        }
        sources.push(PluginSource {
            plugin: name.clone(),
            name: sname,
            description,
            ndim: s.ndim,
            params,
            build,
            last_error: d.last_error,
        });
    }
    Ok(LoadedPlugin { name, version, path, abi: d.abi_version, features, sources })
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
}

impl PluginRegistry {
    /// No plugins.
    pub fn new() -> Self {
        PluginRegistry::default()
    }

    /// Load the library at `path` and add it. Loading the same file twice, or two
    /// plugins with one name, or a source name twice, is an error.
    pub fn load(&mut self, path: &Path) -> Result<&LoadedPlugin, PluginError> {
        let plugin = load_plugin(path)?;
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
        self.plugins.push(plugin);
        Ok(&self.plugins[self.plugins.len() - 1])
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
                        if let Err(e) = self.load(&file) {
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
        std::fs::canonicalize(file).is_ok_and(|c| self.plugins.iter().any(|p| p.path == c))
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

    /// Every feature of every plugin, in load order.
    pub fn features(&self) -> impl Iterator<Item = &PluginFeature> {
        self.plugins.iter().flat_map(|p| &p.features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};
    use radx_core::Grid;

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
        };
        let err = input.prepare().err().unwrap();
        assert!(matches!(&err, PluginCallError::Input(_)) && err.to_string().contains("intensity mask"), "{err}");
    }
}
