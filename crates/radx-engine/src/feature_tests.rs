//! `radx test`: run the `test` blocks of a `.radx` file (syntax in `docs/language.md`).
//!
//! Each block names an image, a mask and optionally settings and a label, with paths
//! relative to the `.radx` file's folder. The block's case is extracted with the settings'
//! library plus the file's own families (so an expectation may name a built-in feature or
//! one of the file's), and each `expect` line is compared with the value on the original
//! image: it passes when `|computed − expected| ≤ tolerance` (plus 1e-12 relative, so a
//! tolerance written in decimal is not missed by a rounding of the subtraction). Nothing is
//! printed here: the report comes back as a value.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use radx_core::Aggregation;
use radx_dsl::expect::{Expectation, FeatureTest, PathSetting};

use crate::case::{Case, RoiSelector};
use crate::extractor::Extractor;
use crate::model::{FeatureRow, Features};
use crate::settings::Settings;

/// One file's results.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// The `.radx` file.
    pub file: PathBuf,
    /// Its test blocks, in order.
    pub tests: Vec<TestReport>,
    /// What the settings files' loading had to say (ignored keys).
    pub warnings: Vec<String>,
}

impl FileReport {
    /// Whether every expectation passed.
    pub fn passed(&self) -> bool {
        self.tests.iter().all(|t| t.results.iter().all(|r| r.pass))
    }

    /// (passed, failed) expectations.
    pub fn counts(&self) -> (usize, usize) {
        let all = self.tests.iter().flat_map(|t| &t.results);
        let passed = all.clone().filter(|r| r.pass).count();
        (passed, all.count() - passed)
    }
}

/// One test block's results.
#[derive(Debug, Clone, PartialEq)]
pub struct TestReport {
    /// The block's name.
    pub name: String,
    /// Its line in the file (1-based).
    pub line: usize,
    /// One result per `expect` line, in order.
    pub results: Vec<ExpectationResult>,
}

/// One `expect` line and what radx computed.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectationResult {
    /// Its line in the file (1-based).
    pub line: usize,
    /// The target as written (`glcm.contrast.3d_avg`).
    pub target: String,
    /// The feature's family, feature and aggregation it resolved to.
    pub family: String,
    /// Feature name.
    pub feature: String,
    /// `None` for families computed once over the ROI.
    pub aggregation: Option<Aggregation>,
    /// The value written.
    pub expected: f64,
    /// The tolerance written.
    pub tolerance: f64,
    /// radx's value.
    pub computed: f64,
    /// Why the computed value is NaN or infinite, when it is.
    pub note: Option<String>,
    /// Within tolerance.
    pub pass: bool,
}

/// Why a test file could not be run (a failed expectation is a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// The file cannot be read.
    #[error("{file}: cannot read the feature file: {source}")]
    Read {
        /// The `.radx` file.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file does not parse, or a test block is malformed (the diagnostics say where).
    #[error("{0}")]
    Syntax(radx_dsl::Diagnostics),
    /// An image, mask or settings file named by a test block does not exist.
    #[error(
        "{file}:{line}: test \"{test}\": the {what} {path} does not exist; \
         paths in a test block are relative to the folder of the .radx file"
    )]
    MissingInput {
        /// The `.radx` file.
        file: String,
        /// Line of the setting.
        line: usize,
        /// The block's name.
        test: String,
        /// `image`, `mask` or `settings file`.
        what: &'static str,
        /// The path as resolved.
        path: String,
    },
    /// An `expect` line names no feature of the extraction.
    #[error("{file}:{line}: test \"{test}\": `{target}` {problem}")]
    UnknownTarget {
        /// The `.radx` file.
        file: String,
        /// Line of the `expect`.
        line: usize,
        /// The block's name.
        test: String,
        /// The target as written.
        target: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// Settings, compiling the file's families or extracting the case failed.
    #[error("{file}:{line}: test \"{test}\": {source}")]
    Extraction {
        /// The `.radx` file.
        file: String,
        /// Line of the test block.
        line: usize,
        /// The block's name.
        test: String,
        /// Cause.
        source: Box<crate::Error>,
    },
}

/// Runs every test block of `path`.
pub fn run_file(path: &Path) -> Result<FileReport, TestError> {
    let shown = path.display().to_string();
    let text = radx_io::read_text_limited(path, radx_io::TEXT_INPUT_LIMIT)
        .map_err(|source| TestError::Read { file: shown.clone(), source })?;
    let tests = radx_dsl::feature_tests(&shown, &text).map_err(TestError::Syntax)?;
    let folder = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let mut report = FileReport { file: path.to_path_buf(), tests: Vec::new(), warnings: Vec::new() };
    for test in &tests {
        let context = Context { file: &shown, text: &text, folder: &folder, test };
        report.tests.push(context.run(path, &mut report.warnings)?);
    }
    Ok(report)
}

/// One block being run, and where to point errors.
struct Context<'a> {
    file: &'a str,
    text: &'a str,
    folder: &'a Path,
    test: &'a FeatureTest,
}

impl Context<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    fn run(&self, radx_file: &Path, warnings: &mut Vec<String>) -> Result<TestReport, TestError> {
        let image = self.input(&self.test.image, "image")?;
        let mask = self.input(&self.test.mask, "mask")?;
        let settings = match &self.test.settings {
            Some(s) => {
                let path = self.input(s, "settings file")?;
                let loaded = crate::compat::pyradiomics::load_settings_for(&path, false, None)
                    .map_err(|e| self.extraction(e))?;
                warnings.extend(loaded.warnings);
                loaded.settings
            }
            None => Settings::default(),
        };
        let label = self.test.label.map_or(settings.label, |(l, _)| i64::from(l));
        let extractor =
            Extractor::new(settings, &[radx_file.to_path_buf()], Default::default()).map_err(|e| self.extraction(e))?;
        let case = Case::new(image, mask).with_roi(RoiSelector::Label(label));
        let features = extractor.extract(&case).map_err(|e| self.extraction(e))?;
        let results = self.test.expectations.iter().map(|e| self.compare(e, &features)).collect::<Result<_, _>>()?;
        Ok(TestReport { name: self.test.name.clone(), line: self.line(self.test.name_span.start), results })
    }

    fn input(&self, setting: &PathSetting, what: &'static str) -> Result<PathBuf, TestError> {
        let path = self.folder.join(&setting.path);
        if path.exists() {
            return Ok(path);
        }
        Err(TestError::MissingInput {
            file: self.file.into(),
            line: self.line(setting.span.start),
            test: self.test.name.clone(),
            what,
            path: path.display().to_string(),
        })
    }

    fn extraction(&self, source: crate::Error) -> TestError {
        TestError::Extraction {
            file: self.file.into(),
            line: self.line(self.test.name_span.start),
            test: self.test.name.clone(),
            source: Box::new(source),
        }
    }

    fn compare(&self, e: &Expectation, features: &Features) -> Result<ExpectationResult, TestError> {
        let row = self.resolve(e, features)?;
        let computed = row.value;
        let slack = 1e-12 * e.value.abs().max(e.tolerance).max(1.0);
        let pass = (computed - e.value).abs() <= e.tolerance + slack;
        Ok(ExpectationResult {
            line: self.line(e.span.start),
            target: e.target.to_string(),
            family: row.key.family.clone(),
            feature: row.key.feature.clone(),
            aggregation: row.key.aggregation,
            expected: e.value,
            tolerance: e.tolerance,
            computed,
            note: row.note.clone(),
            pass,
        })
    }

    /// The one row on the original image that `e` names.
    fn resolve<'f>(&self, e: &Expectation, features: &'f Features) -> Result<&'f FeatureRow, TestError> {
        let t = &e.target;
        let original: Vec<&FeatureRow> = features.rows.iter().filter(|r| r.key.image_type.is_original()).collect();
        let named: Vec<&FeatureRow> = original
            .iter()
            .copied()
            .filter(|r| r.key.feature == t.feature.name && t.family.as_ref().is_none_or(|f| f.name == r.key.family))
            .collect();
        let unknown = |problem: String| TestError::UnknownTarget {
            file: self.file.into(),
            line: self.line(e.span.start),
            test: self.test.name.clone(),
            target: t.to_string(),
            problem,
        };
        if named.is_empty() {
            return Err(unknown(no_such_feature(t, &original)));
        }
        let mut families: Vec<&str> = named.iter().map(|r| r.key.family.as_str()).collect();
        families.dedup();
        if families.len() > 1 {
            return Err(unknown(format!(
                "is a feature of the families {}; write FAMILY.{} (e.g. `{}.{}`)",
                families.join(", "),
                t.feature.name,
                families[0],
                t.feature.name
            )));
        }
        let available = || named.iter().map(|r| r.key.aggregation_name()).collect::<Vec<_>>().join(", ");
        match &t.aggregation {
            Some(a) => {
                let wanted = Aggregation::from_str(&a.name).ok();
                named.iter().copied().find(|r| wanted.is_some() && r.key.aggregation == wanted).ok_or_else(|| {
                    unknown(if named[0].key.aggregation.is_none() {
                        "has no aggregation: its family is computed once over the ROI; leave the aggregation out"
                            .to_string()
                    } else {
                        format!("names an aggregation this test does not compute; it has {}", available())
                    })
                })
            }
            None if named.len() == 1 => Ok(named[0]),
            None => Err(unknown(format!(
                "is computed for several aggregations ({}); name one, e.g. `{}.{}`",
                available(),
                t,
                named[0].key.aggregation_name()
            ))),
        }
    }
}

/// Why no row matched: the family is unknown, or the feature is not in it (with the
/// nearest name).
fn no_such_feature(t: &radx_dsl::expect::ExpectTarget, rows: &[&FeatureRow]) -> String {
    if let Some(family) = &t.family
        && !rows.iter().any(|r| r.key.family == family.name)
    {
        let mut names: Vec<&str> = rows.iter().map(|r| r.key.family.as_str()).collect();
        names.dedup();
        let hint = radx_dsl::diag::did_you_mean(&family.name, names).map_or(String::new(), |h| format!("; {h}"));
        return format!("names a family this extraction does not have{hint}");
    }
    let candidates = rows
        .iter()
        .filter(|r| t.family.as_ref().is_none_or(|f| f.name == r.key.family))
        .map(|r| r.key.feature.as_str());
    let hint = radx_dsl::diag::did_you_mean(&t.feature.name, candidates)
        .unwrap_or_else(|| "`radx features list` shows every feature".to_string());
    format!("names no feature of this extraction; {hint}")
}
