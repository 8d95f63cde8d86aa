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
use crate::sources::{Instance, Instances, Levels, SourceContext, SourcePlan, source_key};
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
    extract_on(case, settings, library, plugins, shape, meta)
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
    let plan = WindowPlan::new(library, plugins);
    let mut rows = Vec::new();
    let plugin_rows = window_into(&plan, case, settings, plugins, grey_levels, &mut |r| rows.push(r.into_row()));
    rows.extend(plugin_rows);
    rows
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
    // One evaluator for every matrix: its buffers are taken from the family's pool once.
    let mut evaluator = family.evaluator();
    for d in data {
        let values = evaluator.values_with_refs(d, host, &mut budget, refs)?;
        if run == Run::Case && values.iter().zip(&explained).any(|(v, done)| !v.is_finite() && !done) {
            // A copy of the budget: explaining is the host's work, not the feature's.
            let found = family.explain_nonfinite_with_refs(d, host, &mut budget.clone(), refs)?;
            for (k, cause) in found.into_iter().enumerate() {
                if !values[k].is_finite() && !explained[k] {
                    (causes[k], explained[k]) = (cause, true);
                }
            }
        }
        for (s, v) in sums.iter_mut().zip(values) {
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
type Job<'l, 'a> = (&'l LibraryFamily, &'a Instance);

/// Evaluates every job, stage by stage ([`LibraryFamily::stage`]): the jobs of a stage
/// concurrently (for a case; see [`Run::Window`]), each with the values of the features its family reads, from the stages
/// before (a feature computed once per ROI serves every aggregation). With no references
/// there is one stage, evaluated as one parallel sweep.
fn evaluate_jobs(
    jobs: &[Job<'_, '_>],
    host: &CaseHost<'_>,
    settings: &Settings,
    run: Run,
) -> Vec<Result<Evaluated, String>> {
    let last = jobs.iter().map(|(f, _)| f.stage).max().unwrap_or(0);
    let mut outcomes: Vec<Option<Result<Evaluated, String>>> = (0..jobs.len()).map(|_| None).collect();
    for stage in 0..=last {
        let known = if stage == 0 { HashMap::new() } else { values_so_far(jobs, &outcomes) };
        let in_stage = |k: &usize| jobs[*k].0.stage == stage;
        let evaluate = |k: usize| (k, evaluate_job(jobs[k], host, settings, &known, run));
        let done: Vec<(usize, Result<Evaluated, String>)> = match run {
            Run::Case => (0..jobs.len()).into_par_iter().filter(in_stage).map(evaluate).collect(),
            Run::Window => (0..jobs.len()).filter(in_stage).map(evaluate).collect(),
        };
        for (k, outcome) in done {
            outcomes[k] = Some(outcome);
        }
    }
    outcomes.into_iter().map(|o| o.unwrap_or_else(|| Err("not evaluated".into()))).collect()
}

/// Feature values by (family, feature, aggregation) of the jobs evaluated so far.
type Known<'a> = HashMap<(&'a str, &'a str, Option<radx_core::Aggregation>), f64>;

fn values_so_far<'a>(jobs: &[Job<'a, '_>], outcomes: &[Option<Result<Evaluated, String>>]) -> Known<'a> {
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
    (family, (aggregation, data)): Job<'_, '_>,
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
    /// Its sources are built and its families evaluated one after the other: the windows
    /// are what runs in parallel.
    Window,
}

/// One row of a family as an extraction gives it, before it is a [`FeatureRow`]: a feature
/// map keeps only the value and note of every window's rows.
struct FamilyRow<'a> {
    family: &'a LibraryFamily,
    feature: &'a radx_dsl::FeatureInfo,
    aggregation: Option<radx_core::Aggregation>,
    value: f64,
    note: Option<String>,
}

impl FamilyRow<'_> {
    fn into_row(self) -> FeatureRow {
        FeatureRow {
            key: FeatureKey::original(self.family.family.name(), self.feature.name.as_str(), self.aggregation),
            tag: Some(self.feature.tag.clone()),
            value: self.value,
            note: self.note,
        }
    }
}

fn extract_on(
    case: &ProcessedCase,
    settings: &Settings,
    library: &[LibraryFamily],
    plugins: &PluginRegistry,
    shape: Option<Shape>,
    meta: &CaseMeta,
) -> Vec<FeatureRow> {
    let mut rows = Vec::new();
    let plugin_rows = extract_into(case, settings, library, plugins, shape, meta, &mut |r| rows.push(r.into_row()));
    rows.extend(plugin_rows);
    rows
}

/// What every window of a feature map shares, worked out once per map run rather than per
/// window: the distinct sources to build (the providers' and the plugins') and where each
/// family's data are among them, so a window keys nothing by strings.
pub(crate) struct WindowPlan<'l> {
    library: &'l [LibraryFamily],
    /// The sources the built-in providers build.
    builtin: SourcePlan<'l>,
    /// The sources a plugin provides (a plugin's source shadows a built-in one of its name).
    plugin: SourcePlan<'l>,
    /// Per family of `library`: its source's data.
    source_of: Vec<PlannedSource>,
}

/// Where a family's source data are: a position in [`WindowPlan`]'s built-in or plugin sources.
#[derive(Clone, Copy)]
enum PlannedSource {
    Builtin(usize),
    Plugin(usize),
}

impl<'l> WindowPlan<'l> {
    /// The plan of `library`'s windows, with `plugins`.
    pub(crate) fn new(library: &'l [LibraryFamily], plugins: &PluginRegistry) -> Self {
        let by_plugin = |source: &str| plugins.source(source).is_some();
        let builtin = SourcePlan::of(library, by_plugin);
        let plugin = SourcePlan::of(library, |source| !by_plugin(source));
        let source_of = library
            .iter()
            .map(|family| match builtin.position(family) {
                Some(k) => PlannedSource::Builtin(k),
                None => PlannedSource::Plugin(plugin.position(family).expect("a family's source is planned")),
            })
            .collect();
        WindowPlan { library, builtin, plugin, source_of }
    }
}

/// The values and notes of the rows [`extract_window`] gives, in its order, to `sink`,
/// without their keys and tags: a feature map's windows all have the rows of its first
/// window, so naming each window's rows again would only allocate.
pub(crate) fn window_values(
    plan: &WindowPlan<'_>,
    case: &ProcessedCase,
    settings: &Settings,
    plugins: &PluginRegistry,
    grey_levels: Levels,
    sink: &mut dyn FnMut(f64, Option<String>),
) {
    let plugin_rows = window_into(plan, case, settings, plugins, grey_levels, &mut |r| sink(r.value, r.note));
    for row in plugin_rows {
        sink(row.value, row.note);
    }
}

/// [`extract_into`] for a feature map's window ([`Run::Window`]), its sources found by `plan`.
fn window_into<'l>(
    plan: &WindowPlan<'l>,
    case: &ProcessedCase,
    settings: &Settings,
    plugins: &PluginRegistry,
    grey_levels: Levels,
    sink: &mut dyn FnMut(FamilyRow<'l>),
) -> Vec<FeatureRow> {
    let host = CaseHost::new(case, settings);
    let meta = CaseMeta::default();
    let plugin_case = PluginCase::new(plugins, case, settings, &meta);
    let levels = case.levels.cropped_to_voxels();
    let builder = SourceContext { case, levels, host: &host, settings, grey_levels, parallel: false };
    let builtin = builder.build_planned(&plan.builtin);
    let plugin: Vec<Instances> = plan
        .plugin
        .sources()
        .iter()
        .map(|(_, f)| plugin_case.instances(&f.family.source().name, f.family.params()))
        .collect();
    let of_family = plan.source_of.iter().map(|s| match *s {
        PlannedSource::Builtin(k) => &*builtin[k],
        PlannedSource::Plugin(k) => &plugin[k],
    });
    let families = plan.library.iter().zip(of_family).map(|(family, instances)| (family, Some(instances)));
    evaluate_rows(families, &host, settings, Run::Window, sink);
    plugin_case.feature_rows(true)
}

/// Evaluates the library on `case`, giving each family's rows to `sink` in library order;
/// returns the plugins' own feature rows, which come after them.
fn extract_into<'l>(
    case: &ProcessedCase,
    settings: &Settings,
    library: &'l [LibraryFamily],
    plugins: &PluginRegistry,
    shape: Option<Shape>,
    meta: &CaseMeta,
    sink: &mut dyn FnMut(FamilyRow<'l>),
) -> Vec<FeatureRow> {
    let host = CaseHost::with_shape(case, settings, shape);
    // Plugin sources (a plugin's source shadows a built-in one of the same name) are built
    // on this thread, in library order: `PluginCase` caches with cells, not locks.
    let plugin_case = PluginCase::new(plugins, case, settings, meta);
    let mut plugin_sources: HashMap<String, Arc<Instances>> = HashMap::new();
    for family in library {
        let source = &family.family.source().name;
        if plugin_case.provides(source) {
            plugin_sources
                .entry(source_key(family))
                .or_insert_with(|| Arc::new(plugin_case.instances(source, family.family.params())));
        }
    }
    let builder = SourceContext {
        case,
        levels: case.levels.cropped_to_voxels(),
        host: &host,
        settings,
        grey_levels: Levels::All,
        parallel: true,
    };
    let skip = |source: &str| plugins.source(source).is_some();
    let (mut sources, ()) = rayon::join(
        || {
            let built = builder.build_all(library, skip);
            crate::timings::mark("texture matrices built");
            built
        },
        || {
            host.prefetch(library.iter().flat_map(|f| f.family.features().map(|feature| feature.text.as_str())));
            crate::timings::mark("morphology and intensity peaks computed");
        },
    );
    sources.extend(plugin_sources);
    let families = library.iter().map(|family| (family, sources.get(&source_key(family)).map(|i| &**i)));
    evaluate_rows(families, &host, settings, Run::Case, sink);
    plugin_case.feature_rows(false)
}

/// Evaluates every family on its source's data (`None`: none, the family is left out),
/// giving each family's rows to `sink` in the families' order.
fn evaluate_rows<'l, 'a>(
    families: impl Iterator<Item = (&'l LibraryFamily, Option<&'a Instances>)>,
    host: &CaseHost<'_>,
    settings: &Settings,
    run: Run,
    sink: &mut dyn FnMut(FamilyRow<'l>),
) {
    // Evaluate every (family, aggregation) concurrently; rows are assembled afterwards in
    // library order, with notes that see every builtin failure, whatever the thread count.
    let jobs: Vec<Job<'l, 'a>> = families
        .filter_map(|(family, instances)| instances.map(|instances| (family, instances)))
        .flat_map(|(family, instances)| {
            instances.iter().filter(|(a, _)| runs_for(family, *a)).map(move |instance| (family, instance))
        })
        .collect();
    let outcomes = evaluate_jobs(&jobs, host, settings, run);
    // A map marks once when all its windows are done, not once per window.
    if run == Run::Case {
        crate::timings::mark("families evaluated");
    }
    for (&(family, (aggregation, _)), outcome) in jobs.iter().zip(outcomes) {
        let (values, causes, note) = match outcome {
            Ok(Evaluated { values, causes }) => (values, causes, None),
            Err(e) => {
                let n = family.family.features().count();
                (vec![f64::NAN; n], vec![None; n], Some(e))
            }
        };
        for ((feature, value), cause) in family.family.features().zip(values).zip(causes) {
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
            sink(FamilyRow { family, feature, aggregation: *aggregation, value, note });
        }
    }
}
