//! Linking the compiled feature files into one library: a family defined again replaces the
//! earlier one only when it says `override`; the aggregations a family names after `for`
//! are checked against its source; every `family.feature` a family reads is resolved, its
//! aggregations checked against the reader's, and the families ordered so that a family is
//! evaluated after those it reads (cycles are errors); a user feature that reuses a
//! built-in feature's tag for another definition is a warning.
//!
//! Families, not single features, are the unit of order: a family is evaluated whole, on
//! each matrix of an aggregation, so `a.x` reading `b.y` while `b.z` reads `a.w` is a cycle
//! even though no feature reads itself.

use radx_core::Aggregation;
use radx_dsl::ast::Span;
use radx_dsl::diag::did_you_mean;
use radx_dsl::{CompiledFamily, CompiledFile, Diagnostic, Diagnostics, ErrorKind};

use crate::model::LibraryFamily;

/// One compiled file as the linker sees it.
pub(crate) struct LinkFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
    /// Part of the settings' standard library (replacing its families needs `override`;
    /// its tags are the ones a user file should not reuse).
    pub builtin: bool,
    pub compiled: &'a CompiledFile,
}

/// The linked library and every diagnostic (errors and warnings), per file.
pub(crate) struct Linked {
    pub families: Vec<LibraryFamily>,
    pub diagnostics: Vec<Diagnostics>,
}

/// Where a family of the merged library was written.
struct Entry<'a> {
    file: usize,
    family: &'a CompiledFamily,
    /// The aggregations it runs for; `None` for a family computed once per ROI.
    runs: Option<Vec<Aggregation>>,
    /// What `for` named (`None`: no `for`).
    named: Option<Vec<Aggregation>>,
}

/// Links `files` (in order) for a run over the settings' `aggregations`.
pub(crate) fn link(files: &[LinkFile<'_>], aggregations: &[Aggregation]) -> Linked {
    let mut found: Vec<(usize, Diagnostic)> = Vec::new();
    let merged = merge(files, &mut found);
    let entries: Vec<Entry<'_>> = merged
        .into_iter()
        .map(|(file, family)| {
            let named = named_aggregations(family, &mut |d| found.push((file, d)));
            let runs = runs_for(family, named.as_deref(), aggregations);
            Entry { file, family, runs, named }
        })
        .collect();
    let reads = resolve(&entries, &mut found);
    let stages = order(&entries, &reads, &mut found);
    tag_warnings(files, &entries, &mut found);
    let families = entries
        .iter()
        .zip(stages)
        .map(|(e, stage)| LibraryFamily {
            family: e.family.clone(),
            origin: files[e.file].name.to_string(),
            stage,
            runs_for: e.named.clone(),
        })
        .collect();
    Linked { families, diagnostics: per_file(files, found) }
}

/// The families in library order: a later family of an earlier one's name replaces it (and
/// goes last) when it says `override`; without it, it is an error, as is an `override` that
/// replaces nothing.
fn merge<'a>(files: &[LinkFile<'a>], found: &mut Vec<(usize, Diagnostic)>) -> Vec<(usize, &'a CompiledFamily)> {
    let mut merged: Vec<(usize, &'a CompiledFamily)> = Vec::new();
    for (k, file) in files.iter().enumerate() {
        for family in file.compiled.families() {
            let earlier = merged.iter().position(|(_, f)| f.name() == family.name());
            match (earlier, family.overrides()) {
                (Some(e), Some(_)) => {
                    merged.remove(e);
                }
                (Some(e), None) => {
                    found.push((k, override_missing(family, &files[merged[e].0])));
                    continue;
                }
                (None, Some(span)) => found.push((k, override_nothing(family, span))),
                (None, None) => {}
            }
            merged.push((k, family));
        }
    }
    merged
}

fn override_missing(family: &CompiledFamily, earlier: &LinkFile<'_>) -> Diagnostic {
    let name = family.name().to_string();
    let what = if earlier.builtin { "built-in" } else { "earlier" }.to_string();
    Diagnostic::new(ErrorKind::OverrideMissing { name: name.clone(), what }, family.name_span(), "defined again")
        .with_help(format!(
            "`{name}` is defined in {}; to replace it, write `override family {name} …`; to add a family, give it another name",
            earlier.name
        ))
}

fn override_nothing(family: &CompiledFamily, span: Span) -> Diagnostic {
    Diagnostic::new(ErrorKind::OverrideNothing { name: family.name().to_string() }, span, "nothing to override")
        .with_help("remove `override`, or name the family it should replace")
}

/// The aggregations a texture source is computed for (`None`: once per ROI).
fn source_aggregations(source: &str) -> Option<&'static [Aggregation]> {
    match source {
        "cm" | "rlm" => Some(&Aggregation::ALL),
        "szm" | "dzm" | "ngl" | "ngt" => Some(&Aggregation::ZONE),
        _ => None,
    }
}

fn names(aggregations: &[Aggregation]) -> String {
    aggregations.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
}

/// What `for` names, checked against the family's source.
fn named_aggregations(family: &CompiledFamily, report: &mut dyn FnMut(Diagnostic)) -> Option<Vec<Aggregation>> {
    let written = family.aggregations();
    if written.is_empty() {
        return None;
    }
    let source = family.source().name.as_str();
    let Some(available) = source_aggregations(source) else {
        let (first, span) = &written[0];
        report(
            Diagnostic::new(
                ErrorKind::AggregationNotOfSource { source_name: source.to_string(), name: first.clone() },
                *span,
                "no aggregations here",
            )
            .with_help(format!("`{source}` is computed once per ROI; remove `for …`")),
        );
        return Some(Vec::new());
    };
    let mut named = Vec::new();
    for (name, span) in written {
        match name.parse::<Aggregation>() {
            Err(_) => report(
                Diagnostic::new(ErrorKind::UnknownAggregation { name: name.clone() }, *span, "not an aggregation")
                    .with_help(
                        did_you_mean(name, Aggregation::ALL.iter().map(|a| a.name()))
                            .unwrap_or_else(|| format!("aggregations are {}", names(&Aggregation::ALL))),
                    ),
            ),
            Ok(a) if !available.contains(&a) => report(
                Diagnostic::new(
                    ErrorKind::AggregationNotOfSource { source_name: source.to_string(), name: name.clone() },
                    *span,
                    "not computed for this source",
                )
                .with_help(format!("`{source}` is computed for {}", names(available))),
            ),
            Ok(a) if named.contains(&a) => report(
                Diagnostic::new(ErrorKind::DuplicateAggregation { name: name.clone() }, *span, "named again")
                    .with_help("name each aggregation once"),
            ),
            Ok(a) => named.push(a),
        }
    }
    Some(named)
}

/// The aggregations a family runs for in a run over `settings`' aggregations.
fn runs_for(
    family: &CompiledFamily,
    named: Option<&[Aggregation]>,
    settings: &[Aggregation],
) -> Option<Vec<Aggregation>> {
    let available = source_aggregations(&family.source().name)?;
    let wanted = named.unwrap_or(available);
    Some(settings.iter().copied().filter(|a| wanted.contains(a) && available.contains(a)).collect())
}

/// Per family, the families it reads (indices into `entries`, with the reference's number).
fn resolve(entries: &[Entry<'_>], found: &mut Vec<(usize, Diagnostic)>) -> Vec<Vec<(usize, usize)>> {
    let mut reads = vec![Vec::new(); entries.len()];
    for (k, e) in entries.iter().enumerate() {
        for (r, reference) in e.family.references().iter().enumerate() {
            match resolve_one(entries, e, reference) {
                Ok(g) => reads[k].push((g, r)),
                Err(d) => found.push((e.file, *d)),
            }
        }
    }
    reads
}

fn resolve_one(
    entries: &[Entry<'_>],
    reader: &Entry<'_>,
    reference: &radx_dsl::check::Reference,
) -> Result<usize, Box<Diagnostic>> {
    let (family, feature) = (reference.family.clone(), reference.feature.clone());
    let Some(g) = entries.iter().position(|e| e.family.name() == family) else {
        let help = did_you_mean(&family, entries.iter().map(|e| e.family.name()))
            .unwrap_or_else(|| "`radx features list` shows every family".into());
        let d = Diagnostic::new(ErrorKind::UnknownFamilyRef { family, feature }, reference.span, "no such family");
        return Err(Box::new(d.with_help(help)));
    };
    let target = entries[g].family;
    if !target.features().any(|f| f.name == feature) {
        let help = did_you_mean(&feature, target.features().map(|f| f.name.as_str()))
            .unwrap_or_else(|| format!("`radx features list` shows the features of `{family}`"));
        let d = Diagnostic::new(ErrorKind::UnknownFeatureRef { family, feature }, reference.span, "no such feature");
        return Err(Box::new(d.with_help(help)));
    }
    check_aggregations(reader, &entries[g], reference).map(|()| g)
}

/// A reader runs for aggregations the feature it reads has values for; a feature computed
/// once per ROI has the one value for every aggregation.
fn check_aggregations(
    reader: &Entry<'_>,
    target: &Entry<'_>,
    reference: &radx_dsl::check::Reference,
) -> Result<(), Box<Diagnostic>> {
    let Some(has) = &target.runs else { return Ok(()) };
    let (missing, help) = match &reader.runs {
        None => (
            "per-ROI".to_string(),
            format!(
                "`{}` has one value per aggregation ({}); read it from a family over a texture source, e.g. `over cm for 3d_mrg`",
                target.family.name(),
                names(has)
            ),
        ),
        Some(runs) => match runs.iter().find(|a| !has.contains(a)) {
            None => return Ok(()),
            Some(a) => (
                a.name().to_string(),
                format!(
                    "`{}` runs for {}; name those with `for` on `{}` (`family {} over … for {}`)",
                    target.family.name(),
                    if has.is_empty() { "no aggregation of this run".to_string() } else { names(has) },
                    reader.family.name(),
                    reader.family.name(),
                    names(has)
                ),
            ),
        },
    };
    Err(Box::new(
        Diagnostic::new(
            ErrorKind::AggregationMismatch {
                user: reader.family.name().to_string(),
                family: reference.family.clone(),
                feature: reference.feature.clone(),
                aggregation: missing,
            },
            reference.span,
            "read here",
        )
        .with_help(help),
    ))
}

/// Each family's stage: 0 when it reads no other family, else one more than the latest
/// stage it reads. A cycle is an error (its families get stage 0; nothing is evaluated).
fn order(entries: &[Entry<'_>], reads: &[Vec<(usize, usize)>], found: &mut Vec<(usize, Diagnostic)>) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done(usize),
    }
    fn visit(
        k: usize,
        reads: &[Vec<(usize, usize)>],
        marks: &mut [Mark],
        path: &mut Vec<(usize, usize)>,
    ) -> Result<usize, Vec<(usize, usize)>> {
        match marks[k] {
            Mark::Done(s) => return Ok(s),
            Mark::Open => {
                let start = path.iter().position(|(f, _)| *f == k).unwrap_or(0);
                return Err(path[start..].to_vec());
            }
            Mark::New => {}
        }
        marks[k] = Mark::Open;
        let mut stage = 0;
        for &(g, r) in &reads[k] {
            path.push((k, r));
            stage = stage.max(visit(g, reads, marks, path)? + 1);
            path.pop();
        }
        marks[k] = Mark::Done(stage);
        Ok(stage)
    }
    let mut marks = vec![Mark::New; entries.len()];
    let mut stages = vec![0; entries.len()];
    for (k, stage) in stages.iter_mut().enumerate() {
        let mut path = Vec::new();
        match visit(k, reads, &mut marks, &mut path) {
            Ok(s) => *stage = s,
            Err(cycle) => {
                found.push((entries[cycle[0].0].file, cycle_error(entries, &cycle)));
                // Every family of the cycle is reported once, through this one.
                for (f, _) in cycle {
                    marks[f] = Mark::Done(0);
                }
            }
        }
    }
    stages
}

fn cycle_error(entries: &[Entry<'_>], cycle: &[(usize, usize)]) -> Diagnostic {
    let step = |&(f, r): &(usize, usize)| {
        let reference = &entries[f].family.references()[r];
        format!("`{}` reads `{}.{}`", entries[f].family.name(), reference.family, reference.feature)
    };
    let path = cycle.iter().map(step).collect::<Vec<_>>().join(", ");
    let (f, r) = cycle[0];
    Diagnostic::new(ErrorKind::ReferenceCycle { path }, entries[f].family.references()[r].span, "starts here")
        .with_help("a family is evaluated after the families it reads; compute one of these values without the others")
}

/// A definition's text without comments or white space, to tell a copy from another definition.
fn normalised(text: &str) -> String {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// A feature of a user file whose tag is a built-in feature's, for another definition.
fn tag_warnings(files: &[LinkFile<'_>], entries: &[Entry<'_>], found: &mut Vec<(usize, Diagnostic)>) {
    let builtin: Vec<(&CompiledFamily, &radx_dsl::FeatureInfo)> = files
        .iter()
        .filter(|f| f.builtin)
        .flat_map(|f| f.compiled.families())
        .flat_map(|fam| fam.features().map(move |feature| (fam, feature)))
        .collect();
    for e in entries.iter().filter(|e| !files[e.file].builtin) {
        for feature in e.family.features() {
            let same = |(fam, f): &&(&CompiledFamily, &radx_dsl::FeatureInfo)| {
                fam.name() == e.family.name()
                    && f.name == feature.name
                    && normalised(&f.text) == normalised(&feature.text)
            };
            let Some((fam, f)) = builtin.iter().filter(|(_, f)| f.tag == feature.tag).find(|b| !same(b)) else {
                continue;
            };
            let d = Diagnostic::new(
                ErrorKind::TagReused {
                    tag: feature.tag.clone(),
                    feature: format!("{}.{}", e.family.name(), feature.name),
                    builtin: format!("{}.{}", fam.name(), f.name),
                },
                feature.tag_span,
                "the tag of a built-in feature",
            )
            .with_help(format!(
                "a tag names one definition; give this feature a tag of its own, or define it as `{}.{}` does",
                fam.name(),
                f.name
            ))
            .warning();
            found.push((e.file, d));
        }
    }
}

fn per_file(files: &[LinkFile<'_>], found: Vec<(usize, Diagnostic)>) -> Vec<Diagnostics> {
    let mut out = Vec::new();
    for (k, file) in files.iter().enumerate() {
        let mut items: Vec<Diagnostic> = found.iter().filter(|(f, _)| *f == k).map(|(_, d)| d.clone()).collect();
        if items.is_empty() {
            continue;
        }
        items.sort_by_key(|d| d.span.start);
        out.push(Diagnostics::new(file.name, file.text, items));
    }
    out
}
