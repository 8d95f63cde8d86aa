//! Feature extraction: build each family's source data from a processed case (texture
//! matrices per aggregation, intensity vectors, histograms), evaluate the compiled
//! families on it, and average over the matrices of an aggregation (IBSI 3.6.2 ff.).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use radx_core::Aggregation;
use radx_core::matrix::glcm::{GlcmSettings, glcm_aggregations};
use radx_core::matrix::ngldm::{NgldmSettings, ngldm};
use radx_core::matrix::{
    DiscretisedRoi, Ngtdm, TextureMatrix, gldzm::gldzm, glrlm::glrlm_aggregations, glszm::glszm,
    glszm::glszm_and_gldzm, ngtdm::ngtdm,
};
use radx_core::sources::{histogram, roi_levels};
use radx_dsl::{ParamValue, SourceData};

use crate::host::CaseHost;
use crate::library::LibraryFamily;
use crate::pipeline::ProcessedCase;
use crate::plugin_extract::PluginCase;
use crate::plugins::PluginRegistry;
use crate::settings::Settings;
use crate::shape::{Shape, ShapeNeeds};

/// One feature value in long format.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeatureRow {
    /// Family name (`glcm`, `morphology`, …).
    pub family: String,
    /// Feature name.
    pub feature: String,
    /// IBSI permanent tag (or a site tag).
    pub tag: String,
    /// Aggregation name, `-` for families computed once over the ROI.
    pub aggregation: String,
    /// The value; NaN when undefined (see `note`).
    pub value: f64,
    /// Why the value is NaN, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Which aggregations a texture source is computed for.
fn aggregations_for(source: &str, settings: &Settings) -> Vec<Aggregation> {
    let wanted = &settings.texture.aggregations;
    match source {
        "cm" | "rlm" => wanted.clone(),
        _ => Aggregation::ZONE.into_iter().filter(|a| wanted.contains(a)).collect(),
    }
}

fn param_int(params: &[(String, ParamValue)], name: &str) -> Option<i64> {
    params.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
        ParamValue::Int(i) => Some(*i),
        ParamValue::Float(f) => Some(*f as i64),
        _ => None,
    })
}

fn param_bool(params: &[(String, ParamValue)], name: &str) -> Option<bool> {
    params.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
        ParamValue::Bool(b) => Some(*b),
        _ => None,
    })
}

fn levels_axis(ng: usize) -> Vec<f64> {
    (1..=ng).map(|g| g as f64).collect()
}

/// Source data of a GLCM (`cm`): probabilities p_ij.
fn cm_data(m: &TextureMatrix) -> SourceData {
    let ng = m.counts.nrows();
    SourceData::glcm_from_counts(ng, &m.counts.iter().copied().collect::<Vec<_>>())
}

/// Source data of a GLRLM / GLSZM / GLDZM / NGLDM: raw counts and N_v, N_s.
fn counts_data(m: &TextureMatrix, array: &str, second_axis: &str) -> SourceData {
    let ng = m.counts.nrows();
    let data: Vec<f64> = m.counts.iter().copied().collect();
    let ns = data.iter().sum();
    SourceData::new()
        .with_axis("level", levels_axis(ng))
        .with_axis(second_axis, m.col_values.clone())
        .with_array(array, vec![ng, m.col_values.len()], data)
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nv", m.n_voxels)
        .with_scalar("Ns", ns)
}

fn ngt_data(m: &Ngtdm) -> SourceData {
    let ng = m.n.len();
    let nvc = m.n_voxels;
    let p: Vec<f64> = m.n.iter().map(|n| n / nvc).collect();
    let ngp = p.iter().filter(|&&v| v > 0.0).count() as f64;
    SourceData::new()
        .with_axis("level", levels_axis(ng))
        .with_array("n", vec![ng], m.n.clone())
        .with_array("s", vec![ng], m.s.clone())
        .with_array("p", vec![ng], p)
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nvc", nvc)
        .with_scalar("Ngp", ngp)
}

/// The source data one family is evaluated on, per aggregation (`None` = no aggregation).
pub(crate) type Instances = Vec<Instance>;

/// One aggregation's matrices of a source (or why there are none).
pub(crate) type Instance = (Option<Aggregation>, Result<Vec<SourceData>, String>);

/// Builds source data for a case.
struct SourceBuilder<'a, 'h> {
    case: &'a ProcessedCase,
    /// The case's levels cut to the ROI's box (see [`DiscretisedRoi::cropped_to_voxels`]).
    levels: Cow<'a, DiscretisedRoi>,
    /// The case's host: its shape, and its ROI intensities, which the `roi` source and
    /// builtins (the IVH, the integrated intensity) share.
    host: &'a CaseHost<'h>,
    settings: &'a Settings,
}

/// The cache key of a family's source: its name and parameters.
fn source_key(family: &LibraryFamily) -> String {
    format!("{}{:?}", family.family.source().name, family.family.params())
}

/// Runs and zones are 8-connected in a slice and 26-connected in the volume (IBSI 3.7, 3.8):
/// the aggregation decides which. The sources' `connectivity` parameter states that and
/// takes no other value, rather than being silently ignored.
fn unsupported_connectivity(params: &[(String, ParamValue)]) -> Option<String> {
    match param_int(params, "connectivity") {
        None | Some(26) => None,
        Some(other) => Some(format!(
            "connectivity = {other} is not supported: runs and zones are 8-connected in 2D and \
             26-connected in 3D (the aggregation decides), so the parameter takes only 26"
        )),
    }
}

impl SourceBuilder<'_, '_> {
    /// Every distinct built-in source the library uses, built concurrently (each source's
    /// aggregations too), keyed by [`source_key`]. Builders are deterministic, so the
    /// result does not depend on the thread count. Sources for which `skip` holds (those a
    /// plugin provides) are left out.
    fn build_all(&self, library: &[LibraryFamily], skip: impl Fn(&str) -> bool) -> HashMap<String, Arc<Instances>> {
        let mut distinct: Vec<(String, &LibraryFamily)> = Vec::new();
        for family in library {
            if skip(&family.family.source().name) {
                continue;
            }
            let key = source_key(family);
            if !distinct.iter().any(|(k, _)| *k == key) {
                distinct.push((key, family));
            }
        }
        // The GLSZM and the GLDZM count the same zones: when both are wanted with the same
        // parameters, one job finds the zones once and builds both.
        let zone_source = |name: &str| distinct.iter().find(|(_, f)| f.family.source().name == name);
        let zone_pair = match (zone_source("szm"), zone_source("dzm")) {
            (Some((szm, s)), Some((dzm, d)))
                if s.family.params() == d.family.params() && unsupported_connectivity(s.family.params()).is_none() =>
            {
                Some((szm.clone(), dzm.clone()))
            }
            _ => None,
        };
        distinct
            .into_par_iter()
            .flat_map_iter(|(key, family)| match &zone_pair {
                Some((szm, dzm)) if key == *dzm => Vec::new(),
                Some((szm, dzm)) if key == *szm => {
                    let (sizes, distances) = self.build_zones();
                    vec![(szm.clone(), Arc::new(sizes)), (dzm.clone(), Arc::new(distances))]
                }
                _ => vec![(key, Arc::new(self.build(&family.family.source().name, family.family.params())))],
            })
            .collect()
    }

    /// The GLSZM and GLDZM sources together (see [`SourceBuilder::build_all`]).
    fn build_zones(&self) -> (Instances, Instances) {
        let aggregations = aggregations_for("szm", self.settings);
        match glszm_and_gldzm(&self.levels, &aggregations) {
            Ok((sizes, distances)) => {
                let instances = |matrices: Vec<Vec<TextureMatrix>>, array: &str, axis: &str| -> Instances {
                    aggregations
                        .iter()
                        .zip(matrices)
                        .map(|(&a, ms)| (Some(a), Ok(ms.iter().map(|m| counts_data(m, array, axis)).collect())))
                        .collect()
                };
                (instances(sizes, "s", "size"), instances(distances, "d", "distance"))
            }
            // Built apart, each family reports its own error (the GLSZM has fewer to meet).
            Err(_) => (self.build("szm", &[]), self.build("dzm", &[])),
        }
    }

    fn build(&self, source: &str, params: &[(String, ParamValue)]) -> Instances {
        let levels = &*self.levels;
        if matches!(source, "rlm" | "szm" | "dzm")
            && let Some(reason) = unsupported_connectivity(params)
        {
            return vec![(None, Err(reason))];
        }
        let per_aggregation = |f: &(dyn Fn(Aggregation) -> Result<Vec<SourceData>, String> + Sync)| -> Instances {
            aggregations_for(source, self.settings).into_par_iter().map(|a| (Some(a), f(a))).collect()
        };
        match source {
            "cm" => {
                let settings = GlcmSettings {
                    distance: param_int(params, "distance").unwrap_or(1).max(0) as usize,
                    symmetric: param_bool(params, "symmetric").unwrap_or(true),
                };
                if let Err(e) = settings.validate() {
                    return vec![(None, Err(e.to_string()))];
                }
                let aggregations = aggregations_for(source, self.settings);
                let matrices = glcm_aggregations(levels, &settings, &aggregations);
                aggregations
                    .into_iter()
                    .zip(matrices)
                    .map(|(a, ms)| (Some(a), Ok(ms.iter().map(cm_data).collect())))
                    .collect()
            }
            "rlm" => {
                let aggregations = aggregations_for(source, self.settings);
                let matrices = glrlm_aggregations(levels, &aggregations);
                aggregations
                    .into_iter()
                    .zip(matrices)
                    .map(|(a, ms)| (Some(a), Ok(ms.iter().map(|m| counts_data(m, "r", "run")).collect())))
                    .collect()
            }
            "szm" => per_aggregation(&|a| {
                glszm(levels, a)
                    .map(|ms| ms.iter().map(|m| counts_data(m, "s", "size")).collect())
                    .map_err(|e| e.to_string())
            }),
            "dzm" => per_aggregation(&|a| {
                gldzm(levels, a)
                    .map(|ms| ms.iter().map(|m| counts_data(m, "d", "distance")).collect())
                    .map_err(|e| e.to_string())
            }),
            "ngl" => {
                let alpha = params.iter().find(|(n, _)| n == "alpha").map(|(_, v)| match v {
                    ParamValue::Float(f) => *f,
                    ParamValue::Int(i) => *i as f64,
                    _ => 0.0,
                });
                let settings = NgldmSettings {
                    alpha: alpha.unwrap_or(0.0).max(0.0) as u16,
                    distance: param_int(params, "distance").unwrap_or(1).max(0) as usize,
                };
                per_aggregation(&|a| {
                    ngldm(levels, settings, a)
                        .map(|ms| ms.iter().map(|m| counts_data(m, "s", "dependence")).collect())
                        .map_err(|e| e.to_string())
                })
            }
            "ngt" => {
                if param_int(params, "distance").unwrap_or(1) != 1 {
                    return vec![(None, Err("the NGTDM supports distance 1 only".into()))];
                }
                per_aggregation(&|a| {
                    ngtdm(levels, a).map(|ms| ms.iter().map(ngt_data).collect()).map_err(|e| e.to_string())
                })
            }
            "roi" => {
                let x = self.host.intensities().to_vec();
                let n = x.len();
                let data = SourceData::new()
                    .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
                    .with_array("x", vec![n], x)
                    .with_scalar("N", n as f64);
                vec![(None, Ok(vec![data]))]
            }
            "ih" => {
                let x = roi_levels(levels);
                let h = histogram(levels);
                let (n, ng) = (x.len(), h.len());
                let data = SourceData::new()
                    .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
                    .with_axis("level", levels_axis(ng))
                    .with_array("x", vec![n], x)
                    .with_array("h", vec![ng], h)
                    .with_scalar("N", n as f64)
                    .with_scalar("Ng", ng as f64);
                vec![(None, Ok(vec![data]))]
            }
            // PyRadiomics sources; builtin-only sources (the host computes everything).
            other => {
                match crate::pyradiomics::build_source(other, self.case, &self.levels, self.host.shape(), self.settings)
                {
                    Some(data) => vec![(None, data)],
                    None => vec![(None, Ok(vec![SourceData::new()]))],
                }
            }
        }
    }
}

/// Evaluate every family of `library` on a processed case. Families and features keep
/// the library's order; a failing family yields NaN rows with the reason.
///
/// Texture matrices (per source and aggregation) and the costly morphology (mesh, hull,
/// spatial autocorrelation, intensity peaks) are computed concurrently first; the
/// families are then evaluated in library order on those results, so the output is the
/// same for any number of threads.
pub fn extract(case: &ProcessedCase, settings: &Settings, library: &[LibraryFamily]) -> Vec<FeatureRow> {
    extract_with_plugins(case, settings, library, &PluginRegistry::new())
}

/// [`extract`] with plugins: families over plugin sources get the plugins' matrices, and
/// every plugin feature adds a row after the library's (family = plugin name, aggregation
/// `-`; NaN with the plugin's message when it fails).
pub fn extract_with_plugins(
    case: &ProcessedCase,
    settings: &Settings,
    library: &[LibraryFamily],
    plugins: &PluginRegistry,
) -> Vec<FeatureRow> {
    extract_with_shape(case, settings, library, plugins, None)
}

/// [`extract_with_plugins`] with the ROI's shape possibly computed already (see
/// [`crate::pipeline::process_files_with_shape`]); it is used only if it is the case's.
pub fn extract_with_shape(
    case: &ProcessedCase,
    settings: &Settings,
    library: &[LibraryFamily],
    plugins: &PluginRegistry,
    shape: Option<Shape>,
) -> Vec<FeatureRow> {
    let host = CaseHost::with_shape(case, settings, shape);
    // Plugin sources (a plugin's source shadows a built-in one of the same name) are built
    // on this thread, in library order: `PluginCase` caches with cells, not locks.
    let plugin_case = PluginCase::new(plugins, case);
    let mut plugin_sources: HashMap<String, Arc<Instances>> = HashMap::new();
    for family in library {
        let source = &family.family.source().name;
        if plugin_case.provides(source) {
            plugin_sources
                .entry(source_key(family))
                .or_insert_with(|| Arc::new(plugin_case.instances(source, family.family.params())));
        }
    }
    let builder = SourceBuilder { case, levels: case.levels.cropped_to_voxels(), host: &host, settings };
    let (mut sources, ()) = rayon::join(
        || {
            let built = builder.build_all(library, |source| plugins.source(source).is_some());
            crate::timings::mark("texture matrices built");
            built
        },
        || {
            host.prefetch(library.iter().flat_map(|f| f.family.features().map(|feature| feature.text.as_str())));
            crate::timings::mark("morphology and intensity peaks computed");
        },
    );
    sources.extend(plugin_sources);
    // Evaluate every (family, aggregation) concurrently; rows are assembled afterwards in
    // library order, with notes that see every builtin failure, whatever the thread count.
    let jobs: Vec<(&LibraryFamily, &Instance)> = library
        .iter()
        .filter_map(|family| sources.get(&source_key(family)).map(|instances| (family, instances)))
        .flat_map(|(family, instances)| instances.iter().map(move |instance| (family, instance)))
        .collect();
    let outcomes: Vec<Result<Vec<f64>, String>> = jobs
        .par_iter()
        .map(|(family, (_, data))| {
            let data = match data {
                Ok(d) if !d.is_empty() => d,
                Ok(_) => return Err("no matrix: nothing to count in this ROI".into()),
                Err(e) => return Err(e.clone()),
            };
            // Average each feature over the matrices of the aggregation (IBSI).
            let mut sums = vec![0.0; family.family.features().count()];
            for d in data {
                let values = family.family.evaluate_values(d, &host).map_err(|e| e.to_string())?;
                for (s, v) in sums.iter_mut().zip(&values) {
                    *s += v;
                }
            }
            Ok(sums.iter().map(|s| s / data.len() as f64).collect())
        })
        .collect();
    crate::timings::mark("families evaluated");
    let mut rows = Vec::new();
    for ((family, (aggregation, _)), outcome) in jobs.iter().zip(outcomes) {
        let aggregation_name = aggregation.map(|a| a.name().to_string()).unwrap_or_else(|| "-".into());
        let features: Vec<_> = family.family.features().collect();
        let (values, note) = match outcome {
            Ok(values) => (values, None),
            Err(e) => (vec![f64::NAN; features.len()], Some(e)),
        };
        for (feature, value) in features.iter().zip(values) {
            let note = if value.is_nan() {
                note.clone()
                    .or_else(|| host.failure_for(&feature.text))
                    .or_else(|| Some("undefined for this ROI (e.g. a division by zero)".into()))
            } else if value.is_infinite() {
                // JSON has no infinity (it is written as null): say why.
                Some("infinite for this ROI (a division by zero)".into())
            } else {
                None
            };
            rows.push(FeatureRow {
                family: family.family.name().to_string(),
                feature: feature.name.clone(),
                tag: feature.tag.clone(),
                aggregation: aggregation_name.clone(),
                value,
                note,
            });
        }
    }
    rows.extend(plugin_case.feature_rows());
    rows
}

/// Everything needed to extract features from many cases with one configuration:
/// validated settings and the compiled feature library. Cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Extractor {
    /// The settings every case is processed with.
    pub settings: Settings,
    /// The compiled families, in output order.
    pub library: Vec<LibraryFamily>,
    /// Loaded plugins: their sources feed `library`, their features add rows.
    pub plugins: PluginRegistry,
    /// Name rows of the PyRadiomics library `original_<class>_<Feature>`.
    pub pyradiomics_names: bool,
}

impl Extractor {
    /// Settings plus the standard library and the extra feature files or folders.
    pub fn new(settings: Settings, feature_paths: &[std::path::PathBuf]) -> Result<Self, crate::Error> {
        Self::new_with_plugins(settings, feature_paths, PluginRegistry::new())
    }

    /// [`Extractor::new`] with plugins: their sources are registered before the feature
    /// files are compiled (so files may use them), and a plugin name that clashes with a
    /// built-in source or a library feature is an error here, not at extraction.
    pub fn new_with_plugins(
        settings: Settings,
        feature_paths: &[std::path::PathBuf],
        plugins: PluginRegistry,
    ) -> Result<Self, crate::Error> {
        let mut library = crate::library::Library::for_settings(&settings);
        for path in feature_paths {
            library.add_path(path)?;
        }
        let mut registry = crate::library::registry(&settings);
        crate::plugin_extract::register_sources(&mut registry, &plugins)?;
        let library = library.compile(&registry)?;
        crate::plugin_extract::check_feature_clashes(&library, &plugins)?;
        Ok(Extractor { settings, library, plugins, pyradiomics_names: false })
    }

    /// Process one (image, mask) pair with the settings' label; refuse it when the
    /// library's texture matrices would not fit the memory budget.
    pub fn process(&self, image: &std::path::Path, mask: &std::path::Path) -> Result<ProcessedCase, crate::Error> {
        self.process_with_shape(image, mask, ShapeNeeds::default()).map(|(case, _)| case)
    }

    /// The parts of a ROI's shape the library uses.
    fn shape_needs(&self) -> ShapeNeeds {
        let texts: Vec<&str> =
            self.library.iter().flat_map(|f| f.family.features().map(|feature| feature.text.as_str())).collect();
        ShapeNeeds::of_texts(&texts)
    }

    /// [`Extractor::process`], computing the shape `needs` while the image is read.
    fn process_with_shape(
        &self,
        image: &std::path::Path,
        mask: &std::path::Path,
        needs: ShapeNeeds,
    ) -> Result<(ProcessedCase, Option<Shape>), crate::Error> {
        let processed = crate::pipeline::process_files_with_shape(image, mask, &self.settings, needs)?;
        self.check_texture(image, mask, processed)
    }

    /// Refuse a case whose texture matrices would not fit the memory budget.
    fn check_texture(
        &self,
        image: &std::path::Path,
        mask: &std::path::Path,
        (case, shape): (ProcessedCase, Option<Shape>),
    ) -> Result<(ProcessedCase, Option<Shape>), crate::Error> {
        let mut sources = self.library.iter().map(|f| f.family.source().name.as_str());
        crate::limits::check_texture(&case.levels, &self.settings, &mut sources).map_err(|source| {
            crate::Error::Core { context: format!("{} with mask {}", image.display(), mask.display()), source }
        })?;
        Ok((case, shape))
    }

    /// Extract one case while the extractor is still to be compiled: `build` (which must
    /// give an extractor with `settings`, the library of `settings` and `feature_paths`) runs
    /// on the core that reading the image leaves idle (after the ROI's shape), so for one
    /// case the compilation costs no time. A failure to compile is reported before any
    /// failure to read.
    pub fn run_compiling(
        build: impl FnOnce() -> Result<Extractor, crate::Error> + Send,
        settings: &Settings,
        feature_paths: &[std::path::PathBuf],
        image: &std::path::Path,
        mask: &std::path::Path,
    ) -> Result<Vec<FeatureRow>, crate::Error> {
        // The shape's needs, from the feature files' text (the same builtin calls that
        // `shape_needs` finds in the compiled definitions, and perhaps a few in comments).
        let mut library = crate::library::Library::for_settings(settings);
        let needs = match feature_paths.iter().try_for_each(|p| library.add_path(p)) {
            Ok(()) => ShapeNeeds::of_texts(&library.texts()),
            // Unreadable: `build` reports it.
            Err(_) => ShapeNeeds::default(),
        };
        let (processed, extractor) = crate::pipeline::process_files_beside(image, mask, settings, needs, build);
        let extractor = extractor?;
        let (case, shape) = extractor.check_texture(image, mask, processed?)?;
        Ok(extractor.features_with_shape(&case, shape))
    }

    /// The feature rows of a processed case.
    pub fn features(&self, case: &ProcessedCase) -> Vec<FeatureRow> {
        self.features_with_shape(case, None)
    }

    fn features_with_shape(&self, case: &ProcessedCase, shape: Option<Shape>) -> Vec<FeatureRow> {
        let mut rows = crate::pyradiomics::select_rows(
            extract_with_shape(case, &self.settings, &self.library, &self.plugins, shape),
            &self.settings,
        );
        if self.pyradiomics_names {
            crate::pyradiomics::rename_rows(&mut rows);
        }
        rows
    }

    /// Read, process and extract one case.
    pub fn run(&self, image: &std::path::Path, mask: &std::path::Path) -> Result<Vec<FeatureRow>, crate::Error> {
        let (case, shape) = self.process_with_shape(image, mask, self.shape_needs())?;
        Ok(self.features_with_shape(&case, shape))
    }

    /// [`Extractor::run`] without computing the shape while the image is read: for cases run
    /// side by side on every core (a batch), where no core is idle while one case reads.
    /// Same features.
    pub fn run_without_early_shape(
        &self,
        image: &std::path::Path,
        mask: &std::path::Path,
    ) -> Result<Vec<FeatureRow>, crate::Error> {
        let (case, shape) = self.process_with_shape(image, mask, ShapeNeeds::default())?;
        Ok(self.features_with_shape(&case, shape))
    }

    /// Like [`Extractor::run`], followed by the IBSI processing diagnostics as rows of
    /// family `diagnostics` (feature = IBSI compliance key, tag and aggregation `-`).
    pub fn run_with_diagnostics(
        &self,
        image: &std::path::Path,
        mask: &std::path::Path,
    ) -> Result<Vec<FeatureRow>, crate::Error> {
        let img = radx_io::read_volume(image)?;
        let labels = radx_io::read_volume(mask)?;
        let context = || format!("{} with mask {}", image.display(), mask.display());
        let core = |source| crate::Error::Core { context: context(), source };
        let case = crate::pipeline::process(&img, &labels, &self.settings).map_err(core)?;
        let mut rows = self.features(&case);
        for d in crate::diagnostics::diagnostics(&img, &labels, &self.settings, &case).map_err(core)? {
            rows.push(FeatureRow {
                family: "diagnostics".into(),
                feature: d.key,
                tag: "-".into(),
                aggregation: "-".into(),
                value: d.value,
                note: None,
            });
        }
        Ok(rows)
    }

    /// Write PyRadiomics' `original_<class>_<Feature>` names (PyRadiomics library only).
    pub fn with_pyradiomics_names(mut self) -> Result<Self, crate::Error> {
        if self.settings.pyradiomics.is_none() {
            return Err(crate::Error::Usage(
                "--names pyradiomics needs the PyRadiomics library (a PyRadiomics parameter file or --library pyradiomics)"
                    .into(),
            ));
        }
        self.pyradiomics_names = true;
        Ok(self)
    }

    /// The same extractor for another ROI label.
    pub fn with_label(&self, label: i64) -> Extractor {
        let mut e = self.clone();
        e.settings.label = label;
        e
    }
}
