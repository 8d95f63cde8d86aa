//! The engine's entry point: compile settings, feature files and plugins once into an
//! [`Extractor`], then extract any number of [`Case`]s with it, from any number of threads.
//!
//! ```
//! use radx_engine::core::{Grid, Volume};
//! use radx_engine::{Case, Extractor, Settings};
//!
//! // A 4×4×4 image (spacing 1 mm) and a label map whose label 1 is a 2×2×2 cube.
//! let grid = Grid::new([4, 4, 4], [1.0; 3]);
//! let (mut image, mut mask) = (Vec::new(), Vec::new());
//! for z in 0..4 {
//!     for y in 0..4 {
//!         for x in 0..4 {
//!             image.push((x + 2 * y + 3 * z) as f64);
//!             let inside = [x, y, z].iter().all(|i| (1..3).contains(i));
//!             mask.push(if inside { 1.0 } else { 0.0 });
//!         }
//!     }
//! }
//! let case = Case::new(Volume::from_x_fastest(grid, image), Volume::from_x_fastest(grid, mask));
//!
//! let extractor = Extractor::new(Settings::default(), &[], Default::default())?;
//! let features = extractor.extract(&case)?;
//! // 8 voxels of 1 mm³ (IBSI "approximate volume", YEKZ).
//! assert_eq!(features.value("morphology", "approximate_volume", None), Some(8.0));
//! # Ok::<(), radx_engine::Error>(())
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use radx_core::Volume;

use radx_plugin_host::PluginRegistry;

use crate::case::Case;
use crate::model::{FeatureKey, FeatureRow, Features, ProcessedCase};
use crate::settings::Settings;
use crate::shape::{Shape, ShapeNeeds};

/// Everything needed to extract features from many cases with one configuration:
/// validated settings, the compiled feature library and the loaded plugins. Cheap to share
/// across threads; it holds no per-case state.
#[derive(Debug, Clone)]
pub struct Extractor {
    /// The settings every case is processed with (their `label` is only the front ends'
    /// default ROI: the engine takes the ROI from the [`Case`]).
    pub settings: Settings,
    /// The compiled families, in output order.
    pub library: Vec<crate::library::LibraryFamily>,
    /// Loaded plugins: their sources feed `library`, their features add rows.
    pub plugins: PluginRegistry,
    /// Name rows of the PyRadiomics library `original_<class>_<Feature>`.
    pub pyradiomics_names: bool,
    /// The settings' filters, built, each with the families computed on its response.
    pub filters: Vec<crate::filtering::FilterStage>,
    /// What the front end should tell the user about the plugins: plugins from a plugin
    /// directory skipped for a clash, features reusing a known tag (see [`Extractor::new`]).
    pub plugin_warnings: Vec<Arc<radx_plugin_host::PluginWarning>>,
    /// What the feature files warn about (a user feature reusing a built-in feature's tag
    /// for another definition), per file, rendered as `radx check` shows them.
    pub library_warnings: Vec<radx_dsl::Diagnostics>,
}

impl Extractor {
    /// Settings, the library they call for (IBSI, or PyRadiomics' for a PyRadiomics
    /// parameter file) plus the feature files or folders `feature_paths`, and `plugins`.
    /// Plugin sources are registered before the feature files are compiled (so files may
    /// use them); a plugin name that clashes with a built-in source or a library feature is
    /// an error here, not at extraction.
    ///
    /// A clash of a plugin found in a plugin directory ([`radx_plugin_host::PluginOrigin::Directory`])
    /// is not an error: that plugin is left out and [`Extractor::plugin_warnings`] says why;
    /// a plugin feature reusing the tag of a library feature is a warning there too.
    ///
    /// The settings' `plugin_margin` becomes the widest margin the remaining plugins'
    /// features declare: the chain keeps that much of the image around each ROI for them.
    pub fn new(
        mut settings: Settings,
        feature_paths: &[PathBuf],
        mut plugins: PluginRegistry,
    ) -> Result<Self, crate::Error> {
        let mut library = crate::library::Library::for_settings(&settings);
        for path in feature_paths {
            library.add_path(path)?;
        }
        let mut warnings = Vec::new();
        crate::sources::plugin::screen_sources(&mut plugins, &mut warnings)?;
        crate::plugin_filters::screen(&mut plugins, &mut warnings)?;
        let mut registry = crate::sources::registry(&settings);
        crate::sources::plugin::register_sources(&mut registry, &plugins)?;
        let compiled = library.compile_linked(&registry, radx_dsl::Limits { eval_budget: settings.eval_budget })?;
        let (library, library_warnings) = (compiled.families, compiled.warnings);
        crate::sources::plugin::screen_features(&library, &mut plugins, &mut warnings)?;
        settings.plugin_margin = plugins.margin();
        crate::plugin_filters::resolve(&mut settings, &plugins).map_err(crate::filtering::FilterStageError::from)?;
        settings.plugin_calls =
            crate::sources::plugin_params::calls(&settings.plugin_features, &plugins).map_err(Box::new)?;
        let library = crate::profile::of(&settings).prune_library(library, &registry, &settings);
        let filters = crate::filtering::stages(&settings, &library)?;
        let plugin_warnings = warnings.into_iter().map(Arc::new).collect();
        Ok(Extractor {
            settings,
            library,
            plugins,
            pyradiomics_names: false,
            filters,
            plugin_warnings,
            library_warnings,
        })
    }

    /// Write PyRadiomics' `original_<class>_<Feature>` names (PyRadiomics library only).
    pub fn with_pyradiomics_names(mut self) -> Result<Self, crate::Error> {
        if !crate::profile::of(&self.settings).has_own_names() {
            return Err(crate::Error::Usage(
                "--names pyradiomics needs the PyRadiomics library (a PyRadiomics parameter file or --library pyradiomics)"
                    .into(),
            ));
        }
        self.pyradiomics_names = true;
        Ok(self)
    }

    /// Read, process and extract one case. While the image is read, the ROI's shape is
    /// computed on the core reading leaves idle.
    pub fn extract(&self, case: &Case) -> Result<Features, crate::Error> {
        let (processed, ()) = self.process_case(case, self.shape_needs(), || ());
        let (processed, shape) = processed?;
        self.features_of_case(case, &processed, shape)
    }

    /// [`Extractor::extract`] without computing the shape while the image is read: for cases
    /// run side by side on every core (a batch), where no core is idle while one case reads.
    /// Same features.
    pub fn extract_beside_other_cases(&self, case: &Case) -> Result<Features, crate::Error> {
        let (processed, ()) = self.process_case(case, ShapeNeeds::default(), || ());
        let (processed, shape) = processed?;
        self.features_of_case(case, &processed, shape)
    }

    /// Extract one case while the extractor is still to be compiled: `build` (which must
    /// give an extractor with `settings`, the library of `settings` and `feature_paths`) runs
    /// on the core that reading the image leaves idle (after the ROI's shape), so for one
    /// case the compilation costs no time. A failure to compile is reported before any
    /// failure to read. The case is read with `settings`: a caller that loaded the plugins
    /// first passes their margin as `settings.plugin_margin` (`PluginRegistry::margin`), so
    /// that the case is read once (`radx extract` does).
    pub fn extract_compiling(
        build: impl FnOnce() -> Result<Extractor, crate::Error> + Send,
        settings: &Settings,
        feature_paths: &[PathBuf],
        case: &Case,
    ) -> Result<Features, crate::Error> {
        // The shape's needs, from the feature files' text (the same builtin calls that
        // `shape_needs` finds in the compiled definitions, and perhaps a few in comments).
        let mut library = crate::library::Library::for_settings(settings);
        let needs = match feature_paths.iter().try_for_each(|p| library.add_path(p)) {
            Ok(()) => ShapeNeeds::of_texts(&library.texts()),
            // Unreadable: `build` reports it.
            Err(_) => ShapeNeeds::default(),
        };
        if settings.filters.iter().any(|f| f.spec.plugin().is_some()) {
            // A plugin filter's margin is known only once its plugin is loaded: load first,
            // then read the case once with it (rather than read, load, and read again).
            return build()?.extract(case);
        }
        let (processed, extractor) = process_case(case, settings, needs, build);
        let extractor = extractor?;
        if extractor.settings.plugin_margin != settings.plugin_margin {
            // The loaded plugins' features and sources want another margin around the ROI
            // than the case was read with (the caller did not pass theirs, or a plugin was
            // left out for a clash): the case again, with the extractor's settings.
            let (processed, ()) = extractor.process_case(case, ShapeNeeds::default(), || ());
            let (processed, shape) = processed?;
            return extractor.features_of_case(case, &processed, shape);
        }
        let (processed, shape) = processed?;
        extractor.check_texture(case, &processed)?;
        extractor.features_of_case(case, &processed, shape)
    }

    /// Like [`Extractor::extract`], followed by the IBSI processing diagnostics as rows of
    /// family `diagnostics` (feature = IBSI compliance key, no tag or aggregation). Reads
    /// both volumes whole.
    pub fn extract_with_diagnostics(&self, case: &Case) -> Result<Features, crate::Error> {
        let core = |source| crate::Error::Core { context: case.describe(), source };
        let [image, labels] = load_volumes(case, &self.settings)?;
        let pixel = case.image.pixel_type();
        let processed =
            crate::pipeline::process_typed(&image, pixel, &labels, case.roi, &self.settings).map_err(core)?;
        self.check_texture(case, &processed)?;
        let mut features = self.features_of_case(case, &processed, None)?;
        let diagnostics =
            crate::diagnostics::diagnostics(&image, &labels, case.roi, &self.settings, &processed).map_err(core)?;
        features.rows.extend(diagnostics.into_iter().map(|d| FeatureRow {
            key: FeatureKey::original("diagnostics", d.key, None),
            tag: None,
            value: d.value,
            note: None,
        }));
        Ok(features)
    }

    /// Read and process one case (no features); refused when the library's texture matrices
    /// would not fit the memory budget.
    pub fn process(&self, case: &Case) -> Result<ProcessedCase, crate::Error> {
        let (processed, ()) = self.process_case(case, ShapeNeeds::default(), || ());
        Ok(processed?.0)
    }

    /// Each filter's response on the case's processed ROI neighbourhood (the crop the
    /// features are computed on; its grid's origin is the crop's first voxel). A PyRadiomics
    /// image type PyRadiomics skips on this image has none.
    pub fn responses(&self, case: &Case) -> Result<Vec<(crate::model::ImageType, Volume<f64>)>, crate::Error> {
        let processed = self.process(case)?;
        let mut responses = Vec::new();
        for stage in &self.filters {
            if let Some(filtered) = crate::filtering::filtered_case(&processed, stage, &case.describe())? {
                responses.push((stage.image_type.clone(), filtered.roi.image));
            }
        }
        Ok(responses)
    }

    /// The features of a processed case (from [`Extractor::process`]): the original image's,
    /// then each filter's response's.
    pub fn features(&self, case: &ProcessedCase) -> Result<Features, crate::Error> {
        self.features_of(case, None, "processed case", &crate::sources::plugin::CaseMeta::default())
    }

    /// The parts of a ROI's shape the library uses.
    fn shape_needs(&self) -> ShapeNeeds {
        let texts: Vec<&str> =
            self.library.iter().flat_map(|f| f.family.features().map(|feature| feature.text.as_str())).collect();
        ShapeNeeds::of_texts(&texts)
    }

    /// [`process_case`] with this extractor's settings, then the texture budget check.
    fn process_case<T: Send>(
        &self,
        case: &Case,
        needs: ShapeNeeds,
        beside: impl FnOnce() -> T + Send,
    ) -> (Result<(ProcessedCase, Option<Shape>), crate::Error>, T) {
        let (processed, done) = process_case(case, &self.settings, needs, beside);
        let checked = processed.and_then(|(p, shape)| self.check_texture(case, &p).map(|()| (p, shape)));
        (checked, done)
    }

    /// Refuse a case whose texture matrices, intensity peaks, Moran's I or the ROI's shape
    /// would not fit the memory budget.
    fn check_texture(&self, case: &Case, processed: &ProcessedCase) -> Result<(), crate::Error> {
        let sources = || self.library.iter().map(|f| f.family.source().name.as_str());
        let autocorrelation = || match self.shape_needs().autocorrelation() {
            true => crate::limits::check_autocorrelation(&processed.roi, &self.settings),
            false => Ok(()),
        };
        crate::limits::check_texture(&processed.levels, &self.settings, &mut sources())
            .and_then(|()| crate::limits::check_peaks(&processed.roi, &self.settings, &mut sources()))
            .and_then(|()| autocorrelation())
            .and_then(|()| crate::limits::check_shape(&processed.roi, self.shape_needs(), &self.settings))
            .map_err(|source| crate::Error::Core { context: case.describe(), source })
    }

    fn features_of_case(
        &self,
        case: &Case,
        processed: &ProcessedCase,
        shape: Option<Shape>,
    ) -> Result<Features, crate::Error> {
        let meta = crate::sources::plugin::CaseMeta::of(case);
        self.features_of(processed, shape, &case.describe(), &meta)
    }

    /// The original image's rows, then each filter stage's (plugins run on the original
    /// image only). `describe` names the case in errors.
    fn features_of(
        &self,
        case: &ProcessedCase,
        shape: Option<Shape>,
        describe: &str,
        meta: &crate::sources::plugin::CaseMeta,
    ) -> Result<Features, crate::Error> {
        use rayon::prelude::*;
        // The original image's families and each filter's run side by side: one stage's
        // filter and matrices leave much of the machine idle (a recursive filter's lines
        // are short, a family's evaluation is serial). Each stage is computed on its own,
        // and the rows are joined in stage order, so the output is the same for any thread
        // count. With N threads up to N stages' crops, working arrays and responses are held
        // at once: the N largest are charged before any starts (`check_filters`).
        self.check_filters(case, describe)?;
        let (original, staged) = rayon::join(
            || crate::extract::extract_with_meta(case, &self.settings, &self.library, &self.plugins, shape, meta),
            || {
                self.filters
                    .par_iter()
                    .with_max_len(1)
                    .map(|stage| self.stage_rows(case, stage, describe, meta))
                    .collect::<Result<Vec<_>, crate::Error>>()
            },
        );
        let mut rows = original;
        for stage_rows in staged? {
            rows.extend(stage_rows);
        }
        Ok(Features {
            rows: crate::profile::of(&self.settings).output_rows(rows, &self.settings, self.pyradiomics_names),
        })
    }

    /// Refuse a case whose filter stages, run side by side on the pool's threads, would
    /// not fit the budget beside the processed ROI ([`crate::memory::filters`]).
    fn check_filters(&self, case: &ProcessedCase, describe: &str) -> Result<(), crate::Error> {
        if self.filters.is_empty() {
            return Ok(());
        }
        let stages: Vec<(u64, [usize; 3])> =
            self.filters.iter().map(|stage| crate::filtering::stage_bytes(case, stage)).collect();
        let concurrent = rayon::current_num_threads().min(stages.len());
        let processed = crate::memory::processed_bytes(case.roi.image.grid.dims);
        let [x, y, z] = stages.iter().map(|s| s.1).max_by_key(|d| d.iter().product::<usize>()).unwrap_or_default();
        let what =
            format!("{concurrent} of {} filters at once (the largest on a {x} × {y} × {z} voxel crop)", stages.len());
        crate::memory::Need::new(
            crate::memory::Phase::Filters,
            crate::memory::filters(processed, &stages, concurrent),
            what,
        )
        .check(self.settings.max_memory)
        .map_err(|source| crate::Error::Core { context: describe.to_string(), source })
    }

    /// The rows of one filter `stage`'s response (none when PyRadiomics skips it here).
    fn stage_rows(
        &self,
        case: &ProcessedCase,
        stage: &crate::filtering::FilterStage,
        describe: &str,
        meta: &crate::sources::plugin::CaseMeta,
    ) -> Result<Vec<FeatureRow>, crate::Error> {
        let in_flight = meta.in_flight(); // a plugin filter's crash line names the case
        let Some(filtered) = crate::filtering::filtered_case(case, stage, describe)? else { return Ok(Vec::new()) };
        drop(in_flight);
        crate::timings::mark("filtered");
        let sources = || stage.library.iter().map(|f| f.family.source().name.as_str());
        crate::limits::check_texture(&filtered.levels, &self.settings, &mut sources())
            .and_then(|()| crate::limits::check_peaks(&filtered.roi, &self.settings, &mut sources()))
            .map_err(|source| crate::Error::Core {
                context: format!("{describe}, filter {}", stage.image_type),
                source,
            })?;
        let mut rows = crate::extract::extract(&filtered, &self.settings, &stage.library);
        for row in &mut rows {
            row.key.image_type = stage.image_type.clone();
        }
        Ok(rows)
    }
}

/// Read and process `case` with `settings`, running `beside` exactly once: from two files,
/// on the core that reading the image leaves idle (see
/// [`crate::pipeline::process_files_beside`]); otherwise before the volumes are read whole.
fn process_case<T: Send>(
    case: &Case,
    settings: &Settings,
    needs: ShapeNeeds,
    beside: impl FnOnce() -> T + Send,
) -> (Result<(ProcessedCase, Option<Shape>), crate::Error>, T) {
    if let Some((image, mask)) = case.files() {
        return crate::pipeline::process_files_beside(image, mask, case.roi, settings, needs, beside);
    }
    let done = beside();
    if let Some([image, mask]) = case.arrays().filter(|_| !crate::pipeline::needs_whole_image(settings)) {
        return (crate::pipeline::process_arrays(image, mask, case.roi, settings).map(|p| (p, None)), done);
    }
    let processed = (|| {
        let [image, labels] = load_volumes(case, settings)?;
        crate::pipeline::process_typed(&image, case.image.pixel_type(), &labels, case.roi, settings)
            .map(|p| (p, None))
            .map_err(|source| crate::Error::Core { context: case.describe(), source })
    })();
    (processed, done)
}

/// The case's image and label map, whole, within `max_memory` together (as the file
/// pipeline charges them: each as `f64` voxels).
fn load_volumes(case: &Case, settings: &Settings) -> Result<[Arc<Volume<f64>>; 2], crate::Error> {
    let image = case.image.load(&settings.read_options(settings.max_memory))?;
    let left = settings.max_memory.saturating_sub((image.data.len() as u64).saturating_mul(8));
    Ok([image, case.mask.load(&settings.read_options(left))?])
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
