//! # radx-dsl — the radx feature language
//!
//! Radiomics features as text: a `.radx` file declares `family` blocks over a *source* (a
//! texture matrix, ROI intensities, a histogram, …), with `let` bindings and `feature`
//! definitions carrying their IBSI permanent tags (IBSI reference manual, chapter 3).
//!
//! ```text
//! family glcm over cm(distance = 1, symmetric = true) {
//!   let px[i] = sum(j, p[i,j])
//!   let mu    = sum(i, i * px[i])
//!   ## Probability of the most common grey level co-occurrence.
//!   feature joint_maximum  "GYBY" = max(i, j, p[i,j])
//!   feature joint_variance "UR99" = sum(i, j, (i - mu)^2 * p[i,j])
//! }
//! ```
//!
//! Pipeline: [`parser`] (pest grammar `grammar/radx.pest`) → [`ast`] with spans →
//! [`check`] (names, arity, index variables, cycles; [`diag`] renders rustc-like reports) →
//! [`ir`] (hash-consed DAG, canonical index variables) → [`eval`] (a staged plan of fused
//! loop nests, evaluated a row at a time). [`interp`] is the slow reference interpreter.
//! Beside the families a file may hold `test` blocks ([`expect`], checked by [`compile`],
//! listed by [`feature_tests`]); [`fmt`] prints a file in its canonical layout (`radx fmt`).
//!
//! Semantics in brief: every value is an `f64`; comparisons and `&&`/`||` give 1 or 0;
//! index variables take their axis's *values* (grey levels, run lengths, …); arithmetic is
//! IEEE 754 (division by zero gives ±inf or NaN, never an error); empty `sum` is 0, empty
//! `mean`/`max`/`min`/`argmax` is NaN.

pub mod ast;
pub mod check;
pub mod diag;
pub mod eval;
pub mod expect;
pub mod fmt;
pub mod interp;
pub mod ir;
pub mod linalg;
pub mod log2;
pub mod parser;
pub mod registry;
pub mod source;

pub use check::FeatureInfo;
pub use diag::{Diagnostic, Diagnostics, ErrorKind, Severity};
pub use eval::{CompiledFamily, DEFAULT_EVAL_BUDGET, EvalBudget, Evaluator, NonFinite};
pub use registry::{
    Allowed, ArgKind, BuiltinImpl, BuiltinSpec, ParamKind, ParamSpec, ParamValue, Registry, SourceSchema,
};
pub use source::{BuiltinError, BuiltinValue, Builtins, EvalError, FeatureValue, NoBuiltins, SourceData, SourceName};

/// A compiled `.radx` file.
#[derive(Debug, Clone)]
pub struct CompiledFile {
    pub file_name: String,
    families: Vec<CompiledFamily>,
}

impl CompiledFile {
    pub fn families(&self) -> &[CompiledFamily] {
        &self.families
    }
    pub fn family(&self, name: &str) -> Option<&CompiledFamily> {
        self.families.iter().find(|f| f.name() == name)
    }
}

/// Every `test` block of a file, validated (`radx test` runs them); parse and validation
/// errors as diagnostics.
pub fn feature_tests(file_name: &str, text: &str) -> Result<Vec<expect::FeatureTest>, Diagnostics> {
    let document = parser::parse_document(text).map_err(|items| Diagnostics::new(file_name, text, items))?;
    let mut errors = Vec::new();
    let tests: Vec<expect::FeatureTest> =
        document.tests.iter().filter_map(|b| expect::validate(b, &mut errors)).collect();
    errors.sort_by_key(|d| d.span.start);
    if errors.is_empty() { Ok(tests) } else { Err(Diagnostics::new(file_name, text, errors)) }
}

/// What a compilation checks loops against. Constant ranges and loops over them are checked
/// against the evaluation budget when compiled (a loop over `0..1e12` is refused by
/// `radx check`, not found out at run time); ranges computed from the data are charged to
/// it as they are evaluated ([`EvalBudget`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations a family may spend per case (see [`EvalBudget`]).
    pub eval_budget: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { eval_budget: DEFAULT_EVAL_BUDGET }
    }
}

/// Stack for parsing and checking: the pre-scan bounds recursion depth, and this bounds
/// what that depth can cost, independently of the caller's thread.
const COMPILER_STACK: usize = 64 * 1024 * 1024;

/// Parses, checks and plans a file. `file_name` is only used in diagnostics.
pub fn compile(file_name: &str, text: &str, registry: &Registry) -> Result<CompiledFile, Diagnostics> {
    compile_with(file_name, text, registry, Limits::default())
}

/// [`compile`] checking loops against `limits`.
pub fn compile_with(
    file_name: &str,
    text: &str,
    registry: &Registry,
    limits: Limits,
) -> Result<CompiledFile, Diagnostics> {
    let run = || compile_here(file_name, text, registry, limits);
    let spawned = std::thread::scope(|s| {
        std::thread::Builder::new().stack_size(COMPILER_STACK).spawn_scoped(s, run).map(|h| h.join())
    });
    match spawned {
        Ok(Ok(result)) => result,
        // Could not spawn (or the compiler panicked): compile on this thread instead.
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => compile_here(file_name, text, registry, limits),
    }
}

/// [`compile`] for several `(file name, text)` pairs, results in the files' order. The files
/// compile independently, so they are spread over a few compiler threads (one per core, at
/// most one per file; starting a thread costs more than a small file's compilation): the
/// shipped library is compiled at the start of every run, on its critical path for small
/// cases.
pub fn compile_files(files: &[(&str, &str)], registry: &Registry) -> Vec<Result<CompiledFile, Diagnostics>> {
    compile_files_with(files, registry, Limits::default())
}

/// [`compile_files`] checking loops against `limits`.
pub fn compile_files_with(
    files: &[(&str, &str)],
    registry: &Registry,
    limits: Limits,
) -> Vec<Result<CompiledFile, Diagnostics>> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let shares = balanced_shares(files, cores.min(files.len()).max(1));
    let compile = |share: &[usize]| {
        share.iter().map(|&k| (k, compile_here(files[k].0, files[k].1, registry, limits))).collect::<Vec<_>>()
    };
    let mut compiled: Vec<(usize, Result<CompiledFile, Diagnostics>)> = std::thread::scope(|s| {
        let spawned: Vec<_> = shares
            .iter()
            .map(|share| {
                let run = || compile(share);
                (share, std::thread::Builder::new().stack_size(COMPILER_STACK).spawn_scoped(s, run))
            })
            .collect();
        let mut compiled = Vec::with_capacity(files.len());
        for (share, thread) in spawned {
            match thread {
                Ok(handle) => compiled.extend(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))),
                // Could not spawn: compile this share on this thread instead.
                Err(_) => compiled.extend(compile(share)),
            }
        }
        compiled
    });
    // Every file is in exactly one share: its index orders the results.
    compiled.sort_unstable_by_key(|(k, _)| *k);
    compiled.into_iter().map(|(_, result)| result).collect()
}

/// The files' indices split into `threads` shares of about equal text length (longest file
/// first, each to the share with the least text so far).
fn balanced_shares(files: &[(&str, &str)], threads: usize) -> Vec<Vec<usize>> {
    let mut by_length: Vec<usize> = (0..files.len()).collect();
    by_length.sort_by_key(|&k| std::cmp::Reverse(files[k].1.len()));
    let mut shares = vec![(0usize, Vec::new()); threads];
    for k in by_length {
        let lightest = shares.iter_mut().min_by_key(|(length, _)| *length).expect("at least one share");
        lightest.0 += files[k].1.len();
        lightest.1.push(k);
    }
    shares.into_iter().map(|(_, share)| share).filter(|share| !share.is_empty()).collect()
}

fn compile_here(file_name: &str, text: &str, registry: &Registry, limits: Limits) -> Result<CompiledFile, Diagnostics> {
    let document = parser::parse_document(text).map_err(|items| Diagnostics::new(file_name, text, items))?;
    let mut errors = Vec::new();
    // Test blocks are not compiled, only checked, so `radx check` reports their mistakes.
    for block in &document.tests {
        expect::validate(block, &mut errors);
    }
    let ast = document.file;
    let mut checked = Vec::new();
    let mut seen: Vec<(&str, ast::Span)> = Vec::new();
    for fam in &ast.families {
        if let Some((_, prev)) = seen.iter().find(|(n, _)| *n == fam.name.name) {
            let line = text[..prev.start].matches('\n').count() + 1;
            errors.push(
                Diagnostic::new(
                    ErrorKind::DuplicateFamily { name: fam.name.name.clone() },
                    fam.name.span,
                    "defined again",
                )
                .with_help(format!("the first `{}` is on line {line}", fam.name.name)),
            );
            continue;
        }
        seen.push((&fam.name.name, fam.name.span));
        if let Some(c) = check::check_family(fam, text, registry, limits, &mut errors) {
            checked.push(c);
        }
    }
    // Drop the AST on this (big-stack) thread: its destructor recurses as deep as it nests.
    drop(ast);
    if !errors.is_empty() {
        errors.sort_by_key(|d| d.span.start);
        return Err(Diagnostics::new(file_name, text, errors));
    }
    let families =
        checked.into_iter().map(|c| CompiledFamily::plan(c, registry).with_budget(limits.eval_budget)).collect();
    Ok(CompiledFile { file_name: file_name.to_string(), families })
}
