//! `radx._radx.Extractor`: settings (a file, or a mapping's text), feature files and plugins
//! compiled once into the engine's `Extractor`, shared by every Python thread; each
//! extraction runs with the GIL released.

use std::path::PathBuf;
use std::sync::Arc;

use numpy::PyArray1;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use radx_engine::compat::pyradiomics::{LibraryChoice, load_settings_for};
use radx_engine::plugins::{PLUGIN_PATH_VAR, PluginRegistry, PluginTrust, plugin_dirs};
use radx_engine::settings::SettingsError;
use radx_engine::{Case, Features, Settings, VolumeSource};

use crate::errors::{engine, guard, input_error};
use crate::volume::Volume;

/// A compiled extractor (see `radx.Extractor`).
#[pyclass(frozen, module = "radx._radx", name = "Extractor")]
pub struct Extractor {
    pub inner: Arc<radx_engine::Extractor>,
    /// What loading the settings and plugins warned about, for `warnings.warn`.
    warnings: Vec<String>,
    /// The settings file and feature files it was made from, which a resumed batch's
    /// journal fingerprints (settings given as text are fingerprinted as effective settings).
    pub run_files: radx_cohort::batch::RunFiles,
}

#[pymethods]
impl Extractor {
    /// Settings from the file `settings`, or from `settings_text` (YAML or JSON, either
    /// schema; `text_name` names it in messages), or radx's defaults; then the library
    /// (`library` "ibsi" or "pyradiomics", default the settings'), the `features` files and
    /// the `plugins` (and those in `RADX_PLUGIN_PATH`'s folders).
    #[new]
    #[pyo3(signature = (
        settings = None, settings_text = None, text_name = None, features = Vec::new(), plugins = Vec::new(),
        library = None, names = "radx", strict = false, exclude_nonfinite = false, max_memory = None,
        eval_budget = None, allow_untrusted_plugins = false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        settings: Option<PathBuf>,
        settings_text: Option<String>,
        text_name: Option<String>,
        features: Vec<PathBuf>,
        plugins: Vec<PathBuf>,
        library: Option<&str>,
        names: &str,
        strict: bool,
        exclude_nonfinite: bool,
        max_memory: Option<&Bound<'_, PyAny>>,
        eval_budget: Option<u64>,
        allow_untrusted_plugins: bool,
    ) -> PyResult<Self> {
        if eval_budget == Some(0) {
            return Err(PyValueError::new_err("eval_budget must be at least 1 operation"));
        }
        let trust = if allow_untrusted_plugins { PluginTrust::AllowWritable } else { PluginTrust::OwnerWritableOnly };
        let library = match library {
            None => None,
            Some("ibsi") => Some(LibraryChoice::Ibsi),
            Some("pyradiomics") => Some(LibraryChoice::Pyradiomics),
            Some(other) => {
                return Err(PyValueError::new_err(format!(
                    "library must be \"ibsi\" or \"pyradiomics\" (default: the settings'), got {other:?}"
                )));
            }
        };
        let pyradiomics_names = match names {
            "radx" => false,
            "pyradiomics" => true,
            other => {
                return Err(PyValueError::new_err(format!("names must be \"radx\" or \"pyradiomics\", got {other:?}")));
            }
        };
        if pyradiomics_names && library == Some(LibraryChoice::Ibsi) {
            return Err(PyValueError::new_err(
                "names=\"pyradiomics\" names the features of PyRadiomics' library, and library=\"ibsi\" computes the \
                 IBSI's: drop library=\"ibsi\", or keep radx's names (names=\"radx\")",
            ));
        }
        let max_memory = max_memory.map(memory_budget).transpose()?;
        let run_files = radx_cohort::batch::RunFiles { settings: settings.clone(), features: features.clone() };
        let source = match (settings, settings_text) {
            (Some(_), Some(_)) => return Err(PyValueError::new_err("give settings as a file or as text, not both")),
            (Some(path), None) => SettingsSource::File(path),
            (None, Some(text)) => SettingsSource::Text { text, name: text_name.unwrap_or_else(|| "<settings>".into()) },
            (None, None) => SettingsSource::Defaults,
        };
        py.detach(|| {
            guard("compiling the extractor", || {
                let (mut settings, mut warnings) = source.load(strict, library)?;
                if library == Some(LibraryChoice::Pyradiomics) && settings.pyradiomics.is_none() {
                    settings.pyradiomics = Some(Default::default());
                }
                settings.exclude_nonfinite |= exclude_nonfinite;
                if let Some(bytes) = max_memory {
                    settings.max_memory = bytes;
                }
                if let Some(ops) = eval_budget {
                    settings.eval_budget = ops;
                }
                if pyradiomics_names && !radx_engine::profile::of(&settings).has_own_names() {
                    return Err(PyValueError::new_err(
                        "names=\"pyradiomics\" needs PyRadiomics' library: PyRadiomics settings (a parameter file or \
                         mapping with setting/featureClass/imageType), or library=\"pyradiomics\"",
                    ));
                }
                let registry = load_plugins(&plugins, trust, &mut warnings)?;
                let mut extractor = radx_engine::Extractor::new(settings, &features, registry).map_err(engine)?;
                warnings.extend(extractor.library_warnings.iter().map(ToString::to_string));
                if pyradiomics_names {
                    extractor = extractor.with_pyradiomics_names().map_err(engine)?;
                }
                Ok(Extractor { inner: Arc::new(extractor), warnings, run_files })
            })
        })
    }

    /// What loading the settings and plugins warned about (unsupported PyRadiomics keys…).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// The settings' ROI label (the default of `extract`).
    #[getter]
    fn label(&self) -> i64 {
        self.inner.settings.label
    }

    /// Whether features are named as PyRadiomics names them.
    #[getter]
    fn pyradiomics_names(&self) -> bool {
        self.inner.pyradiomics_names
    }

    /// The features of one case as columns (`image_type`, `family`, `feature`, `tag`,
    /// `aggregation`: lists of str, `-` for none; `value`: float64 array; `note`: why a value
    /// is NaN or infinite, else None). `diagnostics` adds the IBSI processing diagnostics.
    #[pyo3(signature = (image, mask, label = None, diagnostics = false, roi = None, segment = None, series = None))]
    #[allow(clippy::too_many_arguments)]
    fn extract<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        mask: &Bound<'py, PyAny>,
        label: Option<i64>,
        diagnostics: bool,
        roi: Option<String>,
        segment: Option<String>,
        series: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let case = self.dicom_case(image, mask, label, &DicomChoice { roi, segment, series })?;
        let features = self.run(py, &case, diagnostics)?;
        let rows = &features.rows;
        let out = PyDict::new(py);
        out.set_item("image_type", rows.iter().map(|r| r.key.image_type.as_str()).collect::<Vec<_>>())?;
        out.set_item("family", rows.iter().map(|r| r.key.family.as_str()).collect::<Vec<_>>())?;
        out.set_item("feature", rows.iter().map(|r| r.key.feature.as_str()).collect::<Vec<_>>())?;
        out.set_item("tag", rows.iter().map(|r| r.tag_or_dash()).collect::<Vec<_>>())?;
        out.set_item("aggregation", rows.iter().map(|r| r.key.aggregation_name()).collect::<Vec<_>>())?;
        out.set_item("value", PyArray1::from_vec(py, rows.iter().map(|r| r.value).collect()))?;
        out.set_item("note", rows.iter().map(|r| r.note.as_deref()).collect::<Vec<_>>())?;
        Ok(out)
    }

    /// The features of one case as one row of `radx batch`'s wide table: the case's label,
    /// the column names (`family.feature[.aggregation]`, or PyRadiomics' names) and the
    /// values, in the table's order.
    #[pyo3(signature = (image, mask, label = None, roi = None, segment = None, series = None))]
    #[allow(clippy::too_many_arguments)]
    fn extract_row<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        mask: &Bound<'py, PyAny>,
        label: Option<i64>,
        roi: Option<String>,
        segment: Option<String>,
        series: Option<String>,
    ) -> PyResult<(i64, Vec<String>, Bound<'py, PyArray1<f64>>)> {
        let case = self.dicom_case(image, mask, label, &DicomChoice { roi, segment, series })?;
        let features = self.run(py, &case, false)?;
        // The case's label: 1 for an RTSTRUCT or SEG mask, as `radx batch` writes it.
        let label = match case.roi {
            radx_engine::RoiSelector::Label(label) => label,
            radx_engine::RoiSelector::NonZero => self.inner.settings.label,
        };
        let row = radx_cohort::table::Row::extracted("", label, &features.rows);
        Ok((label, row.columns.to_vec(), PyArray1::from_vec(py, row.values)))
    }

    /// Voxel-wise feature maps of one case (`radx map`): the window is a cube of `radius`
    /// voxels or, with `sphere_mm`, a sphere in mm (default: the settings' `voxelSetting`, else
    /// a cube of radius 1); `masked`, `init_value` and `families` as `radx map`. Returns the
    /// maps' names, one float64 array per map indexed `[x, y, z]` (the init value outside the
    /// ROI), and the maps' grid: spacing, origin and the direction matrix row-major (column c
    /// along axis c), as SimpleITK takes them.
    #[pyo3(signature = (
        image, mask, label = None, roi = None, segment = None, series = None, radius = None, sphere_mm = None,
        masked = None, init_value = None, families = Vec::new()
    ))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn map<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        mask: &Bound<'py, PyAny>,
        label: Option<i64>,
        roi: Option<String>,
        segment: Option<String>,
        series: Option<String>,
        radius: Option<usize>,
        sphere_mm: Option<f64>,
        masked: Option<bool>,
        init_value: Option<f64>,
        families: Vec<String>,
    ) -> PyResult<(Vec<String>, Vec<Bound<'py, numpy::PyArray3<f64>>>, MapGrid)> {
        use radx_engine::maps::{MapOptions, Window, feature_maps};
        if radius.is_some() && sphere_mm.is_some() {
            return Err(PyValueError::new_err("give radius (a cube) or sphere_mm (a sphere), not both"));
        }
        let case = self.dicom_case(image, mask, label, &DicomChoice { roi, segment, series })?;
        let mut options = MapOptions::from_voxel_setting(&self.inner.settings).unwrap_or_default();
        if let Some(r) = radius {
            options.window = options.window.with_radius(r);
        }
        if let Some(mm) = sphere_mm {
            options.window = Window::Sphere(mm);
        }
        options.masked = masked.unwrap_or(options.masked);
        options.init_value = init_value.unwrap_or(options.init_value);
        options.families = families;
        let extractor = &self.inner;
        let maps =
            py.detach(|| guard("computing feature maps", || feature_maps(extractor, &case, &options).map_err(engine)))?;
        let names = (0..maps.keys.len()).map(|i| maps.name(i)).collect();
        let arrays = (0..maps.keys.len()).map(|i| numpy::PyArray3::from_owned_array(py, maps.volume(i).data)).collect();
        let g = maps.grid;
        let direction = g.direction.concat();
        Ok((names, arrays, (g.spacing, g.origin, direction)))
    }

    /// PyRadiomics' `diagnostics_*` entries of one case (name, value as PyRadiomics'
    /// batch CSV writes it), as `radx batch --names pyradiomics` writes them.
    #[pyo3(signature = (image, mask, label = None))]
    fn pyradiomics_diagnostics(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        mask: &Bound<'_, PyAny>,
        label: Option<i64>,
    ) -> PyResult<Vec<(String, String)>> {
        let case = self.case(image, mask, label)?;
        let extractor = &self.inner;
        py.detach(|| {
            guard("computing PyRadiomics' diagnostics", || {
                radx_engine::compat::pyradiomics::diagnostics::diagnostics(extractor, &case).map_err(engine)
            })
        })
    }

    /// The column names of `radx batch`'s table for this extractor, in order. Every case
    /// gets the same columns: without a case they are those of a small synthetic one,
    /// extracted with the settings' data-dependent bounds (re-segmentation range, bins' lower
    /// bound, minimum ROI size, resampling) left out, which change values, never columns.
    #[pyo3(signature = (image = None, mask = None, label = None))]
    fn feature_names(
        &self,
        py: Python<'_>,
        image: Option<&Bound<'_, PyAny>>,
        mask: Option<&Bound<'_, PyAny>>,
        label: Option<i64>,
    ) -> PyResult<Vec<String>> {
        let (features, label) = match (image, mask) {
            (Some(image), Some(mask)) => {
                let case = self.case(image, mask, label)?;
                (self.run(py, &case, false)?, label.unwrap_or(self.inner.settings.label))
            }
            (None, None) => {
                let probe = unconstrained(&self.inner);
                let (image, mask) = radx_engine::synthetic::case([24, 24, 12], 800.0);
                let case = Case::new(image, mask).with_roi(1);
                let features = py.detach(|| guard("listing feature names", || probe.extract(&case).map_err(engine)));
                let features = features.map_err(|e| {
                    PyValueError::new_err(format!(
                        "cannot list the feature names on a synthetic case ({e}); give a case: feature_names(image, mask)"
                    ))
                })?;
                (features, 1)
            }
            _ => return Err(PyValueError::new_err("give both an image and a mask, or neither")),
        };
        Ok(radx_cohort::table::Row::extracted("", label, &features.rows).columns.to_vec())
    }

    /// Seconds taken by each of `repeat` extractions of the case by the engine alone (no
    /// conversion, no table): the baseline of `python/bench/overhead.py`.
    #[pyo3(name = "_bench_extract", signature = (image, mask, label = None, repeat = 10))]
    fn bench_extract(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        mask: &Bound<'_, PyAny>,
        label: Option<i64>,
        repeat: usize,
    ) -> PyResult<Vec<f64>> {
        let case = self.case(image, mask, label)?;
        let extractor = &self.inner;
        py.detach(|| {
            guard("timing extractions", || {
                (0..repeat)
                    .map(|_| {
                        let start = std::time::Instant::now();
                        extractor.extract(&case).map_err(engine)?;
                        Ok(start.elapsed().as_secs_f64())
                    })
                    .collect()
            })
        })
    }

    fn __repr__(&self) -> String {
        let s = &self.inner.settings;
        let library = if radx_engine::profile::of(s).has_own_names() { "pyradiomics" } else { "ibsi" };
        let families = self.inner.library.len();
        format!("radx.Extractor(library={library:?}, families={families}, filters={})", self.inner.filters.len())
    }
}

/// A map's grid for Python: spacing, origin, direction row-major.
type MapGrid = ([f64; 3], [f64; 3], Vec<f64>);

/// Which ROI of a DICOM mask, and which series of a DICOM folder (radx-input's choice).
#[derive(Debug, Clone, Default)]
pub struct DicomChoice {
    /// An RTSTRUCT's ROI name.
    pub roi: Option<String>,
    /// A SEG's segment, by number or label.
    pub segment: Option<String>,
    /// The SeriesInstanceUID to read from a folder of several series.
    pub series: Option<String>,
}

impl Extractor {
    /// The case of two inputs (paths or `Volume`s) and a label (the settings' by default).
    fn case(&self, image: &Bound<'_, PyAny>, mask: &Bound<'_, PyAny>, label: Option<i64>) -> PyResult<Case> {
        self.dicom_case(image, mask, label, &DicomChoice::default())
    }

    /// The case of two inputs as `radx extract` resolves them: two paths may be DICOM (a
    /// series folder or file; an RTSTRUCT or SEG mask, its ROI chosen by `dicom`), read here
    /// with the GIL released; NIfTI and NRRD paths and `Volume`s are read by the engine.
    fn dicom_case(
        &self,
        image: &Bound<'_, PyAny>,
        mask: &Bound<'_, PyAny>,
        label: Option<i64>,
        dicom: &DicomChoice,
    ) -> PyResult<Case> {
        let settings = &self.inner.settings;
        let py = image.py();
        match (volume_source(image, "image")?, volume_source(mask, "mask")?) {
            (VolumeSource::Path(image), VolumeSource::Path(mask)) => {
                let choice = radx_input::MaskChoice { label, roi: dicom.roi.clone(), segment: dicom.segment.clone() };
                let input = radx_input::CaseInput { image, mask, choice, series: dicom.series.clone() };
                let options =
                    radx_input::ResolveOptions { default_label: settings.label, max_bytes: settings.max_memory };
                py.detach(|| {
                    guard("reading the case", || radx_input::resolve(&input, &options).map_err(input_error))
                        .map(|resolved| resolved.case)
                })
            }
            (image, mask) => {
                if dicom.roi.is_some() || dicom.segment.is_some() || dicom.series.is_some() {
                    return Err(PyValueError::new_err(
                        "roi, segment and series choose within DICOM files: give the image and the mask as paths",
                    ));
                }
                Ok(Case::new(image, mask).with_roi(label.unwrap_or(settings.label)))
            }
        }
    }

    /// Extract `case` with the GIL released.
    fn run(&self, py: Python<'_>, case: &Case, diagnostics: bool) -> PyResult<Features> {
        let extractor = &self.inner;
        py.detach(|| {
            guard("extracting features", || {
                if diagnostics { extractor.extract_with_diagnostics(case) } else { extractor.extract(case) }
                    .map_err(engine)
            })
        })
    }
}

/// `extractor` without the settings that only bound the data (they may refuse a synthetic
/// case, and change values, never which rows come out).
fn unconstrained(extractor: &radx_engine::Extractor) -> radx_engine::Extractor {
    use radx_engine::settings::Binning;
    let mut probe = extractor.clone();
    let settings = &mut probe.settings;
    settings.resegment.range = None;
    settings.resegment.outlier_sigma = None;
    settings.resample = None;
    settings.exclude_nonfinite = true;
    if let Binning::FixedBinSize { lower_bound, .. } = &mut settings.discretisation.texture {
        *lower_bound = None;
    }
    if let Some(options) = settings.pyradiomics.as_mut() {
        options.minimum_roi_size = None;
    }
    probe
}

/// A path (str or `os.PathLike`) or a `radx.Volume`.
pub fn volume_source(object: &Bound<'_, PyAny>, what: &str) -> PyResult<VolumeSource> {
    if let Ok(volume) = object.cast::<Volume>() {
        return Ok(volume.get().source());
    }
    object.extract::<PathBuf>().map(VolumeSource::Path).map_err(|_| {
        let kind = object.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!("{what}: expected a file path or a radx.Volume, got {kind}"))
    })
}

/// `max_memory`: bytes as an int, or a size as text (`"2G"`, `"512M"`).
fn memory_budget(value: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(bytes) = value.extract::<u64>() {
        return Ok(bytes);
    }
    let text: String = value
        .extract()
        .map_err(|_| PyTypeError::new_err("max_memory must be a number of bytes or a size such as \"2G\""))?;
    radx_engine::limits::parse_size(&text).map_err(|e| PyValueError::new_err(format!("max_memory: {e}")))
}

/// Where the settings come from.
enum SettingsSource {
    File(PathBuf),
    /// YAML or JSON text in either schema (a mapping from Python).
    Text {
        text: String,
        name: String,
    },
    Defaults,
}

impl SettingsSource {
    /// The settings and the warnings to show, read as the command line reads `--settings`
    /// (`load_settings_for`: PyRadiomics' schema or radx's). Text goes through a temporary
    /// `.yaml` file, so it takes exactly the path a file takes; messages name it `name`.
    fn load(&self, strict: bool, library: Option<LibraryChoice>) -> PyResult<(Settings, Vec<String>)> {
        match self {
            SettingsSource::Defaults => Ok((Settings::default(), Vec::new())),
            SettingsSource::File(path) => {
                let loaded = load_settings_for(path, strict, library).map_err(engine)?;
                Ok((loaded.settings, loaded.warnings))
            }
            SettingsSource::Text { text, name } => {
                let dir = tempfile::tempdir()
                    .map_err(|e| crate::errors::os_error(&e, format!("cannot create a temporary folder: {e}")))?;
                let path = dir.path().join("settings.yaml");
                std::fs::write(&path, text)
                    .map_err(|e| crate::errors::os_error(&e, format!("{}: cannot write: {e}", path.display())))?;
                let shown = path.display().to_string();
                let loaded = load_settings_for(&path, strict, library).map_err(|e| engine(renamed(e, &shown, name)))?;
                let warnings = loaded.warnings.iter().map(|w| w.replace(&shown, name)).collect();
                Ok((loaded.settings, warnings))
            }
        }
    }
}

/// A settings error on the temporary file `shown`, naming `name` instead.
fn renamed(e: radx_engine::Error, shown: &str, name: &str) -> radx_engine::Error {
    let rename = |path: &mut String| {
        if path == shown {
            *path = name.to_string();
        }
    };
    match e {
        radx_engine::Error::Settings(mut s) => {
            match &mut s {
                SettingsError::Read { path, .. }
                | SettingsError::Parse { path, .. }
                | SettingsError::Params { path, .. }
                | SettingsError::Unsupported { path, .. }
                | SettingsError::Invalid { path, .. } => rename(path),
            }
            radx_engine::Error::Settings(s)
        }
        other => other,
    }
}

/// The plugin files given (each must load), then those in `RADX_PLUGIN_PATH`'s folders (a
/// broken one there is a warning), as the command line loads them.
fn load_plugins(explicit: &[PathBuf], trust: PluginTrust, warnings: &mut Vec<String>) -> PyResult<PluginRegistry> {
    let mut registry = PluginRegistry::with_trust(trust);
    for path in explicit {
        registry.load(path).map_err(|e| crate::errors::plugin(&e, e.to_string()))?;
    }
    if let Ok(list) = std::env::var(PLUGIN_PATH_VAR) {
        for e in registry.load_dirs(&plugin_dirs(&list)) {
            warnings.push(format!("{e} (found through {PLUGIN_PATH_VAR}; skipped)"));
        }
    }
    Ok(registry)
}
