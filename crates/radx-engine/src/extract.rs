//! Feature extraction: build each family's source data from a processed case (texture
//! matrices per aggregation, intensity vectors, histograms), evaluate the compiled
//! families on it, and average over the matrices of an aggregation (IBSI 3.6.2 ff.).

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::host::CaseHost;
use crate::library::LibraryFamily;
pub use crate::model::FeatureRow;
use crate::model::{FeatureKey, ProcessedCase};
use crate::settings::Settings;
use crate::shape::Shape;
use crate::sources::plugin::{CaseMeta, PluginCase};
use crate::sources::{Instance, Instances, Levels, SourceContext, source_key};
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
    extract_with_meta(case, settings, library, plugins, shape, &CaseMeta::default())
}

/// [`extract_with_shape`] telling plugins the case's id and label.
pub fn extract_with_meta(
    case: &ProcessedCase,
    settings: &Settings,
    library: &[LibraryFamily],
    plugins: &PluginRegistry,
    shape: Option<Shape>,
    meta: &CaseMeta,
) -> Vec<FeatureRow> {
    extract_on(case, settings, library, plugins, shape, Run::Case, Levels::All, meta)
}

/// [`extract_with_plugins`] for the many small cases of a feature map's windows: the
/// builtins' data (morphology, intensity peaks) are computed only when a feature asks for
/// them, not prefetched, and a non-finite value's cause is not looked for (see [`Run`]).
/// `grey_levels` says which levels the IBSI texture matrices' data span.
pub fn extract_window(
    case: &ProcessedCase,
    settings: &Settings,
    library: &[LibraryFamily],
    plugins: &PluginRegistry,
    grey_levels: Levels,
) -> Vec<FeatureRow> {
    extract_on(case, settings, library, plugins, None, Run::Window, grey_levels, &CaseMeta::default())
}

/// A family's values over one aggregation's matrices, and what made each non-finite one so.
struct Evaluated {
    values: Vec<f64>,
    causes: Vec<Option<radx_dsl::NonFinite>>,
}

/// Evaluates `family` on every matrix of an aggregation and averages each feature (IBSI).
/// One budget for all the matrices: the family's work on this case, whatever the thread
/// count. For a case ([`Run::Case`]), the first matrix that makes a feature NaN or infinite
/// is evaluated again to find out why (only then: most features are finite on most matrices).
/// `refs` are the values of the family's references for this aggregation.
fn evaluate_family(
    family: &radx_dsl::CompiledFamily,
    data: &[radx_dsl::SourceData],
    host: &CaseHost<'_>,
    eval_budget: u64,
    refs: &[f64],
    run: Run,
) -> Result<Evaluated, radx_dsl::EvalError> {
    let n = family.features().count();
    let mut sums = vec![0.0; n];
    let mut causes: Vec<Option<radx_dsl::NonFinite>> = vec![None; n];
    // Per feature: a cause was looked for (once, even when none was found).
    let mut explained = vec![false; n];
    let mut budget = radx_dsl::EvalBudget::new(eval_budget);
    for d in data {
        let values = family.evaluate_values_with_refs(d, host, &mut budget, refs)?;
        if run == Run::Case && values.iter().zip(&explained).any(|(v, done)| !v.is_finite() && !done) {
            // A copy of the budget: explaining is the host's work, not the feature's.
            let found = family.explain_nonfinite_with_refs(d, host, &mut budget.clone(), refs)?;
            for (k, cause) in found.into_iter().enumerate() {
                if !values[k].is_finite() && !explained[k] {
                    (causes[k], explained[k]) = (cause, true);
                }
            }
        }
        for (s, v) in sums.iter_mut().zip(&values) {
            *s += v;
        }
    }
    let values = sums.iter().map(|s| s / data.len() as f64).collect();
    Ok(Evaluated { values, causes })
}

/// The note of a NaN (`"undefined"`) or infinite value: what made it so, when known (a
/// feature of another family that `family` reads is named).
fn nonfinite_note(what: &str, cause: Option<radx_dsl::NonFinite>, family: &radx_dsl::CompiledFamily) -> String {
    match cause {
        Some(radx_dsl::NonFinite::Referenced { index }) => match family.references().get(index) {
            Some(r) => format!("{what} for this ROI: `{}.{}` is not finite", r.family, r.feature),
            None => format!("{what} for this ROI"),
        },
        Some(cause) => format!("{what} for this ROI: {cause}"),
        None => format!("{what} for this ROI"),
    }
}

/// A job: a family on one aggregation's matrices.
type Job<'a> = (&'a LibraryFamily, &'a Instance);

/// Evaluates every job, stage by stage ([`LibraryFamily::stage`]): the jobs of a stage
/// concurrently, each with the values of the features its family reads, from the stages
/// before (a feature computed once per ROI serves every aggregation). With no references
/// there is one stage, evaluated as one parallel sweep.
fn evaluate_jobs(
    jobs: &[Job<'_>],
    host: &CaseHost<'_>,
    settings: &Settings,
    run: Run,
) -> Vec<Result<Evaluated, String>> {
    let last = jobs.iter().map(|(f, _)| f.stage).max().unwrap_or(0);
    let mut outcomes: Vec<Option<Result<Evaluated, String>>> = (0..jobs.len()).map(|_| None).collect();
    for stage in 0..=last {
        let known = if stage == 0 { HashMap::new() } else { values_so_far(jobs, &outcomes) };
        let done: Vec<(usize, Result<Evaluated, String>)> = (0..jobs.len())
            .into_par_iter()
            .filter(|&k| jobs[k].0.stage == stage)
            .map(|k| (k, evaluate_job(jobs[k], host, settings, &known, run)))
            .collect();
        for (k, outcome) in done {
            outcomes[k] = Some(outcome);
        }
    }
    outcomes.into_iter().map(|o| o.unwrap_or_else(|| Err("not evaluated".into()))).collect()
}

/// Feature values by (family, feature, aggregation) of the jobs evaluated so far.
type Known<'a> = HashMap<(&'a str, &'a str, Option<radx_core::Aggregation>), f64>;

fn values_so_far<'a>(jobs: &[Job<'a>], outcomes: &[Option<Result<Evaluated, String>>]) -> Known<'a> {
    let mut known = HashMap::new();
    for ((family, (aggregation, _)), outcome) in jobs.iter().zip(outcomes) {
        let Some(outcome) = outcome else { continue };
        for (k, feature) in family.family.features().enumerate() {
            let value = outcome.as_ref().map_or(f64::NAN, |e| e.values[k]);
            known.insert((family.family.name(), feature.name.as_str(), *aggregation), value);
        }
    }
    known
}

fn evaluate_job(
    (family, (aggregation, data)): Job<'_>,
    host: &CaseHost<'_>,
    settings: &Settings,
    known: &Known<'_>,
    run: Run,
) -> Result<Evaluated, String> {
    let data = match data {
        Ok(d) if !d.is_empty() => d,
        Ok(_) => return Err("no matrix: nothing to count in this ROI".into()),
        Err(e) => return Err(e.clone()),
    };
    let refs = reference_values(&family.family, *aggregation, known)?;
    evaluate_family(&family.family, data, host, settings.eval_budget, &refs, run).map_err(|e| e.to_string())
}

/// The values `family` reads for `aggregation`: the referenced feature's value for the same
/// aggregation, or its one value when it is computed once per ROI. A feature not computed
/// on this image (its family is not in the run, e.g. a filter's) is an error naming it.
fn reference_values(
    family: &radx_dsl::CompiledFamily,
    aggregation: Option<radx_core::Aggregation>,
    known: &Known<'_>,
) -> Result<Vec<f64>, String> {
    family
        .references()
        .iter()
        .map(|r| {
            let key = |a| (r.family.as_str(), r.feature.as_str(), a);
            known.get(&key(aggregation)).or_else(|| known.get(&key(None))).copied().ok_or_else(|| {
                format!(
                    "`{}.{}` is not computed here{}",
                    r.family,
                    r.feature,
                    aggregation.map_or(String::new(), |a| format!(" for {a}"))
                )
            })
        })
        .collect()
}

/// Whether `family` runs for an instance of `aggregation` (its `for`, if it has one).
fn runs_for(family: &LibraryFamily, aggregation: Option<radx_core::Aggregation>) -> bool {
    match (&family.runs_for, aggregation) {
        (Some(named), Some(a)) => named.contains(&a),
        _ => true,
    }
}

/// What an extraction is for. Both give the same values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    /// A case's rows: the host's costly builtins are started alongside the matrices, and
    /// each non-finite value's note says what made it so.
    Case,
    /// A feature map's window: neither. Finding what to prefetch (a scan of every feature's
    /// text) would cost more than a window's matrices, and finding a cause evaluates the
    /// family again, which small windows, often NaN, would pay for notes maps never write.
    Window,
}

#[allow(clippy::too_many_arguments)]
fn extract_on(
    case: &ProcessedCase,
    settings: &Settings,
    library: &[LibraryFamily],
    plugins: &PluginRegistry,
    shape: Option<Shape>,
    run: Run,
    grey_levels: Levels,
    meta: &CaseMeta,
) -> Vec<FeatureRow> {
    let host = CaseHost::with_shape(case, settings, shape);
    // Plugin sources (a plugin's source shadows a built-in one of the same name) are built
    // on this thread, in library order: `PluginCase` caches with cells, not locks.
    let plugin_case = PluginCase::new(plugins, case, settings.max_memory, meta);
    let mut plugin_sources: HashMap<String, Arc<Instances>> = HashMap::new();
    for family in library {
        let source = &family.family.source().name;
        if plugin_case.provides(source) {
            plugin_sources
                .entry(source_key(family))
                .or_insert_with(|| Arc::new(plugin_case.instances(source, family.family.params())));
        }
    }
    let builder = SourceContext { case, levels: case.levels.cropped_to_voxels(), host: &host, settings, grey_levels };
    let (mut sources, ()) = rayon::join(
        || {
            let built = builder.build_all(library, |source| plugins.source(source).is_some());
            crate::timings::mark("texture matrices built");
            built
        },
        || {
            if run == Run::Case {
                host.prefetch(library.iter().flat_map(|f| f.family.features().map(|feature| feature.text.as_str())));
                crate::timings::mark("morphology and intensity peaks computed");
            }
        },
    );
    sources.extend(plugin_sources);
    // Evaluate every (family, aggregation) concurrently; rows are assembled afterwards in
    // library order, with notes that see every builtin failure, whatever the thread count.
    let jobs: Vec<Job<'_>> = library
        .iter()
        .filter_map(|family| sources.get(&source_key(family)).map(|instances| (family, instances)))
        .flat_map(|(family, instances)| {
            instances.iter().filter(|(a, _)| runs_for(family, *a)).map(move |instance| (family, instance))
        })
        .collect();
    let outcomes = evaluate_jobs(&jobs, &host, settings, run);
    crate::timings::mark("families evaluated");
    let mut rows = Vec::new();
    for ((family, (aggregation, _)), outcome) in jobs.iter().zip(outcomes) {
        let features: Vec<_> = family.family.features().collect();
        let (values, causes, note) = match outcome {
            Ok(Evaluated { values, causes }) => (values, causes, None),
            Err(e) => (vec![f64::NAN; features.len()], vec![None; features.len()], Some(e)),
        };
        for ((feature, value), cause) in features.iter().zip(values).zip(causes) {
            let note = if value.is_nan() {
                note.clone()
                    .or_else(|| host.failure_for(&feature.text))
                    .or_else(|| Some(nonfinite_note("undefined", cause, &family.family)))
            } else if value.is_infinite() {
                // JSON has no infinity (it is written as null): say why.
                Some(nonfinite_note("infinite", cause, &family.family))
            } else {
                None
            };
            rows.push(FeatureRow {
                key: FeatureKey::original(family.family.name(), feature.name.as_str(), *aggregation),
                tag: Some(feature.tag.clone()),
                value,
                note,
            });
        }
    }
    rows.extend(plugin_case.feature_rows());
    rows
}
