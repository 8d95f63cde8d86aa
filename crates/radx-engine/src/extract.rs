//! Feature extraction: build each family's source data from a processed case (texture
//! matrices per aggregation, intensity vectors, histograms), evaluate the compiled
//! families on it, and average over the matrices of an aggregation (IBSI 3.6.2 ff.).

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::host::CaseHost;
use crate::library::LibraryFamily;
pub use crate::model::FeatureRow;
use crate::model::ProcessedCase;
use crate::settings::Settings;
use crate::shape::{Shape, ShapeNeeds};
use crate::sources::plugin::PluginCase;
use crate::sources::{Instance, Instances, SourceBuilder, source_key};
use radx_plugin_host::PluginRegistry;

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
        crate::sources::plugin::register_sources(&mut registry, &plugins)?;
        let library = library.compile(&registry)?;
        crate::sources::plugin::check_feature_clashes(&library, &plugins)?;
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

    /// Process and extract a case whose image and label map are in memory; `context` names
    /// them in errors (e.g. their files).
    pub fn run_volumes(
        &self,
        image: &radx_core::Volume<f64>,
        labels: &radx_core::Volume<f64>,
        context: &str,
    ) -> Result<Vec<FeatureRow>, crate::Error> {
        let core = |source| crate::Error::Core { context: context.to_string(), source };
        let case = crate::pipeline::process(image, labels, &self.settings).map_err(core)?;
        let mut sources = self.library.iter().map(|f| f.family.source().name.as_str());
        crate::limits::check_texture(&case.levels, &self.settings, &mut sources).map_err(core)?;
        Ok(self.features(&case))
    }

    /// The feature rows of a processed case.
    pub fn features(&self, case: &ProcessedCase) -> Vec<FeatureRow> {
        self.features_with_shape(case, None)
    }

    fn features_with_shape(&self, case: &ProcessedCase, shape: Option<Shape>) -> Vec<FeatureRow> {
        let mut rows = crate::compat::pyradiomics::names::select_rows(
            extract_with_shape(case, &self.settings, &self.library, &self.plugins, shape),
            &self.settings,
        );
        if self.pyradiomics_names {
            crate::compat::pyradiomics::names::rename_rows(&mut rows);
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

#[cfg(test)]
mod tests {
    #[test]
    fn extractors_with_plugins_can_be_shared_across_threads() {
        // Batch mode extracts cases in parallel from one Extractor.
        fn shareable<T: Send + Sync>() {}
        shareable::<super::Extractor>();
    }
}
