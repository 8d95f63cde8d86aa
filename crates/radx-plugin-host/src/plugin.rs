//! A loaded plugin, its features and sources, as safe values holding the plugin's functions.

use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::Arc;

use radx_core::matrix::TextureMatrix;
use radx_dsl::ParamValue;
use radx_plugin::{
    RADX_MAX_MATRIX_DIMS, RadxBuildFn, RadxComputeFn, RadxLastErrorFn, RadxMatrixView, RadxShutdownFn, v1,
};

use crate::{MatrixError, ParamSpec, PluginFilter, PluginOrigin};

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
    pub(crate) _lifecycle: Arc<Instance>,
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
    pub(crate) compute: Compute,
    pub(crate) compute_values: Option<radx_plugin::RadxComputeValuesFn>,
    pub(crate) instance: Arc<Instance>,
}

/// How much of the processed image around the ROI's box a plugin feature (ABI 2.1) or
/// source (ABI 2.3) sees, as its `margin_mm` declares ([`Margin::None`] for older plugins).
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
pub(crate) enum Compute {
    V1(v1::RadxComputeFn),
    V2(RadxComputeFn),
}

/// A source's builder, in the calling convention of its plugin's ABI.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Build {
    V1(v1::RadxBuildFn),
    V2(RadxBuildFn),
}

/// One initialised plugin: its context and callbacks, shared by its features and sources.
/// When the last handle goes (radx is done with the plugin), its `shutdown` runs.
#[derive(Debug)]
pub(crate) struct Instance {
    /// What the plugin's `init` stored (null without init).
    pub(crate) context: *mut c_void,
    pub(crate) last_error: Option<RadxLastErrorFn>,
    pub(crate) shutdown: Option<RadxShutdownFn>,
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
    /// How much of the processed image around the ROI the builder wants
    /// ([`PluginInput::region`](crate::PluginInput::region); ABI 2.3, [`Margin::None`] for
    /// older plugins).
    pub margin: Margin,
    pub(crate) build: Build,
    pub(crate) instance: Arc<Instance>,
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

    pub(crate) fn view(&self) -> RadxMatrixView {
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
