//! Plugins in extraction: plugin *sources* as feature-language sources, and plugin
//! *features* as rows of the feature table.
//!
//! A plugin source becomes a DSL source with a fixed schema (documented in
//! `docs/plugins.md`, "Sources in feature files"): axes `a`, `b`, `c`, `d` (as many as the
//! source declares; index values are the matrix's axis values, or `0..n−1`), the array
//! `m` of raw entries and `p = m / N` (normalised to sum 1, as the IBSI normalises its
//! texture matrices, IBSI 1 §3.6 ff.), the scalar `N = Σ m` and one length scalar per axis
//! (`Na`, `Nb`, `Nc`, `Nd`). The parameters a family header gives
//! (`over lbp(rotation_invariant = true)`) reach the plugin's builder as a JSON object.
//!
//! Plugins see the ROI cropped to the morphological mask's bounding box (the ABI's
//! "image cropped to the ROI bounding box"), not the processing margin the pipeline keeps
//! for local-intensity features (IBSI 3.2): a plugin's result must not depend on that margin.
//! A feature (ABI 2.1) or source (ABI 2.3) declaring a margin (`margin_mm`) also sees the
//! processed image around that box, cut from the region the chain kept for the plugins
//! ([`ProcessedCase::plugin_region`]), and every call gets the settings as JSON.
//!
//! Failure policy: a plugin feature or source that fails (error return or caught panic)
//! gives NaN rows with the plugin's message as the note; the case goes on.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::rc::Rc;

use ndarray::Array3;
use radx_core::roi::Roi;
use radx_core::{BoundingBox, Volume};
use radx_dsl::{ParamKind, ParamValue, Registry, SourceData, SourceSchema};

use crate::library::LibraryFamily;
use crate::model::ProcessedCase;
use crate::model::{FeatureKey, FeatureRow};
use crate::settings::Settings;
use crate::sources::Instances;
use radx_plugin_host::{
    CaseInfo, DenseMatrix, FeatureCall, LoadedPlugin, Margin, PluginCallError, PluginError, PluginFeature, PluginInput,
    PluginOrigin, PluginRegion, PluginRegistry, PluginSource, PluginWarning, params_to_json,
};

/// Names of a plugin source's axes in feature files, in matrix-axis order.
pub const PLUGIN_AXES: [&str; 4] = ["a", "b", "c", "d"];

/// Names of the per-axis length scalars, in matrix-axis order.
const AXIS_LENGTHS: [&str; 4] = ["Na", "Nb", "Nc", "Nd"];

/// The feature-language schema of a plugin source (see the module docs).
pub fn source_schema(source: &PluginSource) -> SourceSchema {
    let doc = format!("{} (plugin {})", source.description, source.plugin);
    schema_for(&source.name, &doc, source.ndim, &source.params)
}

/// The schema of a plugin source called `name` with `ndim` axes and these parameters.
fn schema_for(name: &str, doc: &str, ndim: usize, params: &[(String, ParamValue)]) -> SourceSchema {
    let mut schema = SourceSchema::new(name, doc);
    for (name, default) in params {
        let kind = match default {
            ParamValue::Int(_) => ParamKind::Int,
            ParamValue::Float(_) => ParamKind::Float,
            ParamValue::Bool(_) => ParamKind::Bool,
            ParamValue::Str(_) => ParamKind::Str,
        };
        schema = schema.param(name, kind, default.clone(), "passed to the plugin's builder");
    }
    let axes = &PLUGIN_AXES[..ndim.min(PLUGIN_AXES.len())];
    for (i, axis) in axes.iter().enumerate() {
        schema = schema.axis(axis, &format!("matrix axis {i}; values are the plugin's axis values, or 0..n-1"));
    }
    schema = schema
        .array("m", axes, "the matrix's raw entries")
        .array("p", axes, "the entries normalised to sum 1 (m / N)")
        .scalar("N", "sum of all entries");
    for (i, name) in AXIS_LENGTHS.iter().take(axes.len()).enumerate() {
        schema = schema.scalar(name, &format!("number of positions along axis {}", PLUGIN_AXES[i]));
    }
    schema
}

/// Register every plugin source in `registry` (the settings' registry), refusing a
/// plugin source named like a built-in one.
pub fn register_sources(registry: &mut Registry, plugins: &PluginRegistry) -> Result<(), PluginError> {
    for plugin in plugins.plugins() {
        for source in &plugin.sources {
            if super::provider(&source.name).is_some() {
                return Err(PluginError::Clash {
                    path: plugin.path.clone(),
                    message: format!(
                        "source `{}` has the name of a built-in source; rename it in the plugin",
                        source.name
                    ),
                });
            }
            registry.register_source(source_schema(source));
        }
    }
    Ok(())
}

/// Refuse a plugin feature whose row (family = plugin name, feature name) a family of the
/// compiled library would also produce, or whose column `plugin.feature` is a column of
/// the library's (`family.feature`, or `family.feature.aggregation`): the table could not
/// tell the two apart.
pub fn check_feature_clashes(library: &[LibraryFamily], plugins: &PluginRegistry) -> Result<(), PluginError> {
    for plugin in plugins.plugins() {
        feature_clash(library, plugin).map_or(Ok(()), Err)?;
    }
    Ok(())
}

/// The first clash of `plugin`'s features with the library (see [`check_feature_clashes`]).
fn feature_clash(library: &[LibraryFamily], plugin: &LoadedPlugin) -> Option<PluginError> {
    for feature in &plugin.features {
        let column = feature.qualified_name();
        for family in library {
            let same_row = |g: &radx_dsl::FeatureInfo| family.family.name() == plugin.name && g.name == feature.name;
            let same_column = |g: &radx_dsl::FeatureInfo| {
                let base = format!("{}.{}", family.family.name(), g.name);
                column == base || column.strip_prefix(base.as_str()).is_some_and(|rest| rest.starts_with('.'))
            };
            if let Some(g) = family.family.features().find(|g| same_row(g) || same_column(g)) {
                return Some(PluginError::Clash {
                    path: plugin.path.clone(),
                    message: format!(
                        "feature `{column}` clashes with `{}.{}` defined in {}; rename the feature or the plugin",
                        family.family.name(),
                        g.name,
                        family.origin
                    ),
                });
            }
        }
    }
    None
}

/// The first plugin source of `plugin` named like a built-in source.
fn source_clash(plugin: &LoadedPlugin) -> Option<PluginError> {
    plugin.sources.iter().find(|s| super::provider(&s.name).is_some()).map(|source| PluginError::Clash {
        path: plugin.path.clone(),
        message: format!("source `{}` has the name of a built-in source; rename it in the plugin", source.name),
    })
}

/// Take out of `plugins` each plugin that `clash` finds at fault: one named explicitly is
/// an error; one found in a plugin directory is skipped with a warning (the run goes on
/// without it).
pub(crate) fn drop_clashing(
    plugins: &mut PluginRegistry,
    warnings: &mut Vec<PluginWarning>,
    clash: impl Fn(&LoadedPlugin) -> Option<PluginError>,
) -> Result<(), PluginError> {
    let found: Vec<(String, PluginOrigin, PluginError)> =
        plugins.plugins().iter().filter_map(|p| clash(p).map(|e| (p.name.clone(), p.origin, e))).collect();
    for (name, origin, error) in found {
        match origin {
            PluginOrigin::Explicit => return Err(error),
            PluginOrigin::Directory => {
                plugins.remove(&name);
                warnings.push(PluginWarning::Skipped(error));
            }
        }
    }
    Ok(())
}

/// Before the library is compiled: plugins whose sources are named like built-in ones
/// (an error, or a warning for a plugin from a plugin directory, which is dropped).
pub fn screen_sources(plugins: &mut PluginRegistry, warnings: &mut Vec<PluginWarning>) -> Result<(), PluginError> {
    drop_clashing(plugins, warnings, source_clash)
}

/// After the library is compiled: plugin features that clash with the library's (an error,
/// or a warning for a plugin from a plugin directory, which is dropped), and plugin
/// features that reuse the tag of a library feature (a warning).
pub fn screen_features(
    library: &[LibraryFamily],
    plugins: &mut PluginRegistry,
    warnings: &mut Vec<PluginWarning>,
) -> Result<(), PluginError> {
    drop_clashing(plugins, warnings, |p| feature_clash(library, p))?;
    let mut tags: HashMap<&str, (String, &str)> = HashMap::new();
    for family in library {
        for g in family.family.features() {
            tags.entry(g.tag.as_str())
                .or_insert_with(|| (format!("{}.{}", family.family.name(), g.name), family.origin.as_str()));
        }
    }
    for plugin in plugins.plugins() {
        for feature in &plugin.features {
            if let Some((known, origin)) = tags.get(feature.tag.as_str()) {
                warnings.push(PluginWarning::ReusedTag {
                    path: plugin.path.clone(),
                    plugin: plugin.name.clone(),
                    feature: feature.name.clone(),
                    tag: feature.tag.clone(),
                    known: known.clone(),
                    origin: origin.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Where a loaded plugin feature comes from, as `radx features list` shows it.
pub fn origin(plugin: &str, path: &std::path::Path) -> String {
    format!("plugin {plugin} ({})", path.display())
}

/// The source data a plugin matrix gives the feature language (see the module docs).
pub fn source_data(matrix: &DenseMatrix) -> SourceData {
    let total: f64 = matrix.data().iter().sum();
    let mut data = SourceData::new();
    for (a, &len) in matrix.shape().iter().enumerate().take(PLUGIN_AXES.len()) {
        let values = matrix.axis_values(a).map_or_else(|| (0..len).map(|i| i as f64).collect(), <[f64]>::to_vec);
        data = data.with_axis(PLUGIN_AXES[a], values).with_scalar(AXIS_LENGTHS[a], len as f64);
    }
    let shape = matrix.shape().to_vec();
    data.with_array("p", shape.clone(), matrix.data().iter().map(|v| v / total).collect())
        .with_array("m", shape, matrix.data().to_vec())
        .with_scalar("N", total)
}

/// What plugins are told of the case beyond its processed ROI: its id and label.
#[derive(Debug, Clone, Default)]
pub struct CaseMeta {
    /// The case's id, NUL-terminated for the ABI (`None` for a lone case).
    id: Option<CString>,
    /// The ROI's label (0: every non-zero label).
    label: i64,
}

impl CaseMeta {
    /// Names this case on the current thread until dropped, for the crash line of a plugin
    /// call that is not told its case (a plugin filter's).
    pub fn in_flight(&self) -> radx_plugin_host::CaseInFlight<'_> {
        radx_plugin_host::CaseInFlight::enter(self.id.as_deref(), self.label)
    }

    /// The id and label of `case`.
    pub fn of(case: &crate::case::Case) -> Self {
        let label = match case.roi {
            crate::case::RoiSelector::Label(l) => l,
            crate::case::RoiSelector::NonZero => 0,
        };
        // An id with a NUL byte cannot cross the ABI: plugins see none rather than a cut one.
        CaseMeta { id: case.id.as_deref().and_then(|id| CString::new(id).ok()), label }
    }
}

/// The ROI as plugins see it: cropped to the morphological mask's bounding box.
struct CroppedCase {
    image: Volume<f64>,
    morphological: Array3<bool>,
    intensity: Array3<bool>,
    intensities: Vec<f64>,
    levels: Array3<u16>,
    ng: usize,
    /// Index of the box's first voxel in the processed image.
    box_offset: [usize; 3],
    /// The processed image's dims.
    image_dims: [usize; 3],
}

impl CroppedCase {
    fn new(case: &ProcessedCase) -> Result<Self, PluginValueError> {
        let roi = &case.roi;
        let bbox = BoundingBox::of_mask(&roi.morphological).ok_or(PluginValueError::EmptyRoi)?;
        let grid = roi.image.grid;
        let whole = case.interpolated_grid;
        let crop_mask = |m: &Array3<bool>| Volume { grid, data: m.clone() }.crop(&bbox).data;
        let image = roi.image.crop(&bbox);
        let intensity = crop_mask(&roi.intensity);
        // x-fastest order, as `Roi::intensities` lists them.
        let intensities =
            image.data.t().iter().zip(intensity.t().iter()).filter(|(_, m)| **m).map(|(v, _)| *v).collect();
        let levels = Volume { grid, data: case.levels.levels.clone() }.crop(&bbox).data;
        Ok(CroppedCase {
            morphological: crop_mask(&roi.morphological),
            intensity,
            intensities,
            levels,
            ng: case.levels.ng,
            box_offset: index_in(&whole, image.grid.origin),
            image_dims: whole.dims,
            image,
        })
    }

    fn input<'a>(
        &'a self,
        matrices: &'a [DenseMatrix],
        meta: &'a CaseMeta,
        settings_json: Option<&'a CStr>,
    ) -> PluginInput<'a> {
        PluginInput {
            image: &self.image,
            morphological: &self.morphological,
            intensity: &self.intensity,
            intensities: &self.intensities,
            levels: Some(&self.levels),
            ng: self.ng,
            matrices,
            case: CaseInfo {
                box_offset: self.box_offset,
                image_dims: self.image_dims,
                case_id: meta.id.as_deref(),
                label: meta.label,
                settings_json,
            },
            region: None,
        }
    }
}

/// The processed image and masks around the ROI's box as one feature's margin asks.
struct MarginRegion<'a> {
    /// Borrowed when it is all the chain kept.
    roi: Cow<'a, Roi>,
    /// Index of the region's first voxel in the processed image.
    offset: [usize; 3],
}

impl<'a> MarginRegion<'a> {
    /// The part of `around` (the region the chain kept for every plugin, on the grid of
    /// `whole`) within `margin` of the ROI's box; `None` when it has no ROI voxel.
    fn new(around: &'a Roi, margin: Margin, whole: &radx_core::Grid) -> Option<Self> {
        let dims = around.image.grid.dims;
        let spacing = around.image.grid.spacing;
        let roi = match margin {
            Margin::Mm(mm) => {
                let bbox = BoundingBox::of_mask(&around.morphological)?;
                let grown = bbox.grown(spacing.map(|s| crate::pipeline::voxels_within(mm, s)), dims);
                if grown.min == [0; 3] && grown.dims() == dims {
                    Cow::Borrowed(around)
                } else {
                    Cow::Owned(crate::pipeline::crop_roi(around, &grown))
                }
            }
            Margin::WholeImage | Margin::None => Cow::Borrowed(around),
        };
        Some(MarginRegion { offset: index_in(whole, roi.image.grid.origin), roi })
    }

    fn view(&self) -> PluginRegion<'_> {
        PluginRegion {
            image: &self.roi.image,
            morphological: &self.roi.morphological,
            intensity: &self.roi.intensity,
            offset: self.offset,
        }
    }
}

/// The index in `grid` of the voxel whose centre is at world position `p` (rounded; the
/// crop's grid shares the image's spacing and direction, so it is a whole number).
fn index_in(grid: &radx_core::Grid, p: [f64; 3]) -> [usize; 3] {
    let d = [p[0] - grid.origin[0], p[1] - grid.origin[1], p[2] - grid.origin[2]];
    let mut index = [0; 3];
    for (axis, slot) in index.iter_mut().enumerate() {
        // Direction cosines are orthonormal: the inverse is the transpose (column `axis`).
        let along: f64 = (0..3).map(|r| grid.direction[r][axis] * d[r]).sum();
        *slot = (along / grid.spacing[axis]).round().max(0.0) as usize;
    }
    index
}

/// Why a plugin feature or source gave no value for a case; its rows become NaN with this
/// as their note.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginValueError {
    /// The ROI has no voxel to crop to.
    #[error("the morphological mask is empty")]
    EmptyRoi,
    /// No loaded plugin provides the source a family or feature names.
    #[error("{user} needs source `{source_name}`, which no loaded plugin provides")]
    NoSource {
        /// Who asked for it (`source` or `feature p.f`).
        user: String,
        /// The source's name.
        source_name: String,
    },
    /// The call into the plugin failed.
    #[error(transparent)]
    Call(#[from] PluginCallError),
    /// A profile's length may differ from window to window; a map's windows share one list of rows.
    #[error("a profile feature (one row per value) has no feature map")]
    ProfileInMap,
    /// The matrix has another number of axes than the source declares.
    #[error("source {plugin}.{source_name} declares {ndim} axes but built a matrix of shape {shape:?}")]
    Axes {
        /// Plugin name.
        plugin: String,
        /// Source name.
        source_name: String,
        /// Declared axes.
        ndim: usize,
        /// What was built.
        shape: Vec<usize>,
    },
    /// The matrix's source data would pass the memory budget.
    #[error(
        "source {plugin}.{source_name} built a matrix of shape {shape:?}: its source data needs {needed_mib} MiB, \
         over the memory budget of {budget_mib} MiB (--max-memory)"
    )]
    OverBudget {
        /// Plugin name.
        plugin: String,
        /// Source name.
        source_name: String,
        /// What was built.
        shape: Vec<usize>,
        /// MiB its data needs.
        needed_mib: u64,
        /// The budget in MiB.
        budget_mib: u64,
    },
}

/// The plugins' view of one processed case: builds plugin sources (each (source,
/// parameters) once) and computes plugin features.
pub(crate) struct PluginCase<'a> {
    plugins: &'a PluginRegistry,
    case: &'a ProcessedCase,
    meta: &'a CaseMeta,
    settings: &'a Settings,
    /// The settings as JSON for the ABI, made on the first call (`None`: not expressible).
    settings_json: OnceCell<Option<CString>>,
    cropped: OnceCell<Result<CroppedCase, PluginValueError>>,
    matrices: RefCell<HashMap<(String, String), Result<DenseMatrix, PluginValueError>>>,
    /// Margin regions by the margin's bits (`None`: the whole image), made when a feature
    /// or source declaring that margin is computed or built.
    regions: RefCell<HashMap<Option<u64>, Rc<Option<MarginRegion<'a>>>>>,
}

impl<'a> PluginCase<'a> {
    pub(crate) fn new(
        plugins: &'a PluginRegistry,
        case: &'a ProcessedCase,
        settings: &'a Settings,
        meta: &'a CaseMeta,
    ) -> Self {
        PluginCase {
            plugins,
            case,
            meta,
            settings,
            settings_json: OnceCell::new(),
            cropped: OnceCell::new(),
            matrices: RefCell::new(HashMap::new()),
            regions: RefCell::new(HashMap::new()),
        }
    }

    /// The case's settings as a JSON object, NUL-terminated for the ABI.
    fn settings_json(&self) -> Option<&CStr> {
        let json = || serde_json::to_string(self.settings).ok().and_then(|text| CString::new(text).ok());
        self.settings_json.get_or_init(json).as_deref()
    }

    /// The region `margin` asks for (`None` without a margin, or when the chain kept no
    /// region for plugins: a processed case from elsewhere, a map's window).
    fn region(&self, margin: Margin) -> Rc<Option<MarginRegion<'a>>> {
        let key = match margin {
            Margin::None => return Rc::new(None),
            Margin::Mm(mm) => Some(mm.to_bits()),
            Margin::WholeImage => None,
        };
        let make = || {
            let around = self.case.plugin_region.as_ref()?;
            MarginRegion::new(around, margin, &self.case.interpolated_grid)
        };
        self.regions.borrow_mut().entry(key).or_insert_with(|| Rc::new(make())).clone()
    }

    /// Whether a loaded plugin provides `source`.
    pub(crate) fn provides(&self, source: &str) -> bool {
        self.plugins.source(source).is_some()
    }

    fn cropped(&self) -> &Result<CroppedCase, PluginValueError> {
        self.cropped.get_or_init(|| CroppedCase::new(self.case))
    }

    /// The matrix of `source` built with `params_json`, checked against its declared axes.
    fn matrix(&self, source: &PluginSource, params_json: &str) -> Result<DenseMatrix, PluginValueError> {
        let key = (source.name.clone(), params_json.to_string());
        if let Some(hit) = self.matrices.borrow().get(&key) {
            return hit.clone();
        }
        let built = match self.cropped() {
            Ok(c) => {
                let region = self.region(source.margin);
                let mut input = c.input(&[], self.meta, self.settings_json());
                input.region = region.as_ref().as_ref().map(MarginRegion::view);
                source.build(&input, params_json).map_err(PluginValueError::from).and_then(|m| self.checked(source, m))
            }
            Err(e) => Err(e.clone()),
        };
        self.matrices.borrow_mut().insert(key, built.clone());
        built
    }

    /// `m` if it has the source's axes and its source data fits the budget. A plugin
    /// matrix has no size estimate before it is built: one whose data (the raw matrix,
    /// p = m / N and this copy) would pass the budget is refused here.
    fn checked(&self, source: &PluginSource, m: DenseMatrix) -> Result<DenseMatrix, PluginValueError> {
        let entries = m.shape().iter().fold(1u64, |n, &d| n.saturating_mul(d as u64));
        let bytes = entries.saturating_mul(3 * 8);
        let (plugin, source_name, shape) = (source.plugin.clone(), source.name.clone(), m.shape().to_vec());
        let budget = self.settings.max_memory;
        if bytes > budget {
            let (needed_mib, budget_mib) = (bytes.div_ceil(1 << 20), budget.div_ceil(1 << 20));
            Err(PluginValueError::OverBudget { plugin, source_name, shape, needed_mib, budget_mib })
        } else if m.shape().len() != source.ndim {
            Err(PluginValueError::Axes { plugin, source_name, ndim: source.ndim, shape })
        } else {
            Ok(m)
        }
    }

    /// The source data of a family over a plugin source: one matrix for the whole ROI.
    pub(crate) fn instances(&self, source: &str, params: &[(String, ParamValue)]) -> Instances {
        let Some(plugin_source) = self.plugins.source(source) else {
            let missing = PluginValueError::NoSource { user: "a family".into(), source_name: source.into() };
            return vec![(None, Err(missing.to_string()))];
        };
        let built = self.matrix(plugin_source, &params_to_json(params));
        // The instance's reason becomes the rows' note.
        vec![(None, built.map(|m| vec![source_data(&m)]).map_err(|e| e.to_string()))]
    }

    /// The plugin features' rows, call by call ([`Settings::plugin_calls`]; each loaded
    /// feature with its defaults when there are none): one row per call, named with its
    /// parameter values, or one per value of a profile, `name[i]`. Failures are NaN rows
    /// with a note (a profile's: one row, `name[0]`). A feature map's windows (`window`)
    /// give a profile no rows of its own: every window must have the first one's rows.
    pub(crate) fn feature_rows(&self, window: bool) -> Vec<FeatureRow> {
        let defaults;
        let calls = if self.settings.plugin_calls.is_empty() {
            defaults = self.plugins.features().map(PluginFeature::default_call).collect::<Vec<_>>();
            &defaults
        } else {
            &self.settings.plugin_calls
        };
        let mut rows = Vec::new();
        for call in calls {
            let Some(feature) = self.plugins.features().find(|f| f.plugin == call.plugin && f.name == call.feature)
            else {
                continue;
            };
            let result = if window && call.profile {
                Err(PluginValueError::ProfileInMap)
            } else {
                self.compute(feature, &call.args)
            };
            push_rows(&mut rows, feature, call, result);
        }
        rows
    }

    fn compute(&self, feature: &PluginFeature, args: &[f64]) -> Result<Vec<f64>, PluginValueError> {
        let matrices = match &feature.source {
            None => Vec::new(),
            Some(name) => {
                let source = self.plugins.source(name).ok_or_else(|| PluginValueError::NoSource {
                    user: format!("feature {}", feature.qualified_name()),
                    source_name: name.clone(),
                })?;
                vec![self.matrix(source, &params_to_json(&source.params))?]
            }
        };
        let cropped = self.cropped().as_ref().map_err(Clone::clone)?;
        let region = self.region(feature.margin);
        let mut input = cropped.input(&matrices, self.meta, self.settings_json());
        input.region = region.as_ref().as_ref().map(MarginRegion::view);
        Ok(feature.compute_values(&input, args)?)
    }
}

/// The rows of one call: one per value (`name[i]` for a profile), or one NaN row with the
/// reason as its note.
fn push_rows(rows: &mut Vec<FeatureRow>, feature: &PluginFeature, call: &FeatureCall, result: ValuesResult) {
    let row = |name: String, value: f64, note: Option<String>| FeatureRow {
        key: FeatureKey::original(feature.plugin.as_str(), name.as_str(), None),
        tag: Some(feature.tag.clone()),
        value,
        note,
    };
    let indexed = |i: usize| if call.profile { format!("{}[{i}]", call.row_name) } else { call.row_name.clone() };
    match result {
        Ok(values) => {
            for (i, v) in values.into_iter().enumerate() {
                let note = v.is_nan().then(|| "the plugin returned NaN".to_string());
                rows.push(row(indexed(i), v, note));
            }
        }
        Err(e) => rows.push(row(indexed(0), f64::NAN, Some(e.to_string()))),
    }
}

type ValuesResult = Result<Vec<f64>, PluginValueError>;

#[cfg(test)]
mod tests {
    use super::*;
    use radx_dsl::NoBuiltins;

    fn demo_registry() -> Registry {
        let params = [("scale".to_string(), ParamValue::Float(1.0)), ("flip".to_string(), ParamValue::Bool(false))];
        let mut registry = Registry::empty();
        registry.register_source(schema_for("demo", "a 2-axis test source", 2, &params));
        registry
    }

    #[test]
    fn source_data_follows_the_plugin_source_convention() {
        // 2×3 matrix [[1, 0, 2], [3, 0, 2]], axis b named 10, 20, 40; axis a unnamed → 0, 1.
        let m = DenseMatrix::new(vec![2, 3], vec![1.0, 0.0, 2.0, 3.0, 0.0, 2.0])
            .unwrap()
            .with_axis_values(1, vec![10.0, 20.0, 40.0])
            .unwrap();
        let d = source_data(&m);
        assert_eq!(d.axis("a"), Some(&[0.0, 1.0][..]));
        assert_eq!(d.axis("b"), Some(&[10.0, 20.0, 40.0][..]));
        assert_eq!(d.array("m"), Some((&[2, 3][..], &[1.0, 0.0, 2.0, 3.0, 0.0, 2.0][..])));
        // N = 8: p = m / 8.
        assert_eq!(d.array("p").map(|(_, p)| p.to_vec()), Some(vec![0.125, 0.0, 0.25, 0.375, 0.0, 0.25]));
        assert_eq!(
            (d.scalar("N"), d.scalar("Na"), d.scalar("Nb"), d.scalar("Nc")),
            (Some(8.0), Some(2.0), Some(3.0), None)
        );
    }

    #[test]
    fn feature_files_compile_and_evaluate_over_a_plugin_schema() {
        let text = r#"
family demo_features over demo(scale = 2.5) {
  feature mean_b "T1" = sum(i, j, j * p[i,j])
  feature shape "T2" = N * Na / Nb
}
"#;
        let file = radx_dsl::compile("demo.radx", text, &demo_registry()).unwrap();
        let family = &file.families()[0];
        assert_eq!(
            family.params(),
            &[("scale".to_string(), ParamValue::Float(2.5)), ("flip".to_string(), ParamValue::Bool(false))]
        );
        let m = DenseMatrix::new(vec![2, 3], vec![1.0, 0.0, 2.0, 3.0, 0.0, 2.0])
            .unwrap()
            .with_axis_values(1, vec![10.0, 20.0, 40.0])
            .unwrap();
        let values = family.evaluate(&source_data(&m), &NoBuiltins).unwrap();
        // Σ j·p = 10·(1+3)/8 + 20·0 + 40·(2+2)/8 = 5 + 20 = 25; N·Na/Nb = 8·2/3.
        assert!((values[0].value - 25.0).abs() < 1e-12, "{}", values[0].value);
        assert!((values[1].value - 16.0 / 3.0).abs() < 1e-12, "{}", values[1].value);
        assert_eq!(params_to_json(family.params()), r#"{"flip":false,"scale":2.5}"#);
    }

    #[test]
    fn unknown_parameters_and_axes_beyond_ndim_are_compile_errors() {
        let registry = demo_registry();
        let err = radx_dsl::compile("x.radx", "family f over demo(radius = 1) { feature v \"T\" = N }", &registry)
            .unwrap_err()
            .to_string();
        assert!(err.contains("radius") && err.contains("scale"), "{err}");
        // A 2-axis source has no third index.
        let three = "family f over demo { feature v \"T\" = sum(i, j, k, p[i,j,k]) }";
        assert!(radx_dsl::compile("x.radx", three, &registry).is_err());
        let wrong_kind = "family f over demo(flip = 1) { feature v \"T\" = N }";
        assert!(radx_dsl::compile("x.radx", wrong_kind, &registry).is_err());
    }
}
