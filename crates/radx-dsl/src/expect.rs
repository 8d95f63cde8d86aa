//! `test` blocks: expectations on feature values, written beside the features they check.
//!
//! ```text
//! test "IBSI digital phantom" {
//!   image = "../tests/data/ibsi/digital_phantom/image.nii.gz"
//!   mask = "../tests/data/ibsi/digital_phantom/mask.nii.gz"
//!   settings = "../tests/data/ibsi/digital_phantom.toml"
//!   expect glcm.joint_maximum.3d_avg = 0.503 ± 0.001
//!   expect mean_intensity = 2.15 +- 0.005
//! }
//! ```
//!
//! This module holds their syntax tree (built by [`crate::parser`]) and their validation
//! ([`validate`]: known settings, given once, with the right kind of value);
//! [`crate::feature_tests`] does both for a file.
//! Extraction ignores test blocks; `radx test` (the engine's `feature_tests`) runs them.

use std::fmt;

use crate::ast::{Ident, Span};
use crate::diag::{Diagnostic, ErrorKind};

/// `test "NAME" { settings and expect lines }`, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct TestBlock {
    pub doc: Option<String>,
    pub name: String,
    pub name_span: Span,
    pub items: Vec<TestItem>,
    pub span: Span,
}

/// One line of a test block.
#[derive(Debug, Clone, PartialEq)]
pub enum TestItem {
    Setting(TestSetting),
    Expect(Expectation),
}

impl TestItem {
    pub fn span(&self) -> Span {
        match self {
            TestItem::Setting(s) => s.span,
            TestItem::Expect(e) => e.span,
        }
    }
}

/// `key = "text"` or `key = number`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestSetting {
    pub key: Ident,
    pub value: SettingValue,
    pub value_span: Span,
    pub span: Span,
}

/// A setting's value.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    Str(String),
    Number(f64),
}

/// `expect TARGET = VALUE ± TOLERANCE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub target: ExpectTarget,
    pub value: f64,
    pub value_span: Span,
    pub tolerance: f64,
    pub tolerance_span: Span,
    /// Written `+-` rather than `±` (the formatter keeps the spelling).
    pub ascii_plus_minus: bool,
    pub span: Span,
}

/// `[FAMILY.]FEATURE[.AGGREGATION]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectTarget {
    pub family: Option<Ident>,
    pub feature: Ident,
    pub aggregation: Option<Ident>,
    pub span: Span,
}

impl fmt::Display for ExpectTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(family) = &self.family {
            write!(f, "{}.", family.name)?;
        }
        write!(f, "{}", self.feature.name)?;
        if let Some(aggregation) = &self.aggregation {
            write!(f, ".{}", aggregation.name)?;
        }
        Ok(())
    }
}

/// A path setting with where it was written (errors about the file point at it).
#[derive(Debug, Clone, PartialEq)]
pub struct PathSetting {
    pub path: String,
    pub span: Span,
}

/// A validated test block: what `radx test` runs.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTest {
    pub name: String,
    /// The block, its `##` lines included.
    pub span: Span,
    /// Its name (errors about the whole block point here).
    pub name_span: Span,
    pub image: PathSetting,
    pub mask: PathSetting,
    pub settings: Option<PathSetting>,
    /// The mask's label; `None`: the settings' label.
    pub label: Option<(u32, Span)>,
    pub expectations: Vec<Expectation>,
}

/// The keys a test block accepts, for messages.
const KEYS: &str = "`image`, `mask`, `settings` and `label`";

/// Checks a block's settings: `image` and `mask` given, every key known and given once,
/// paths as strings, the label a whole number from 1, and at least one `expect` line.
pub fn validate(block: &TestBlock, errors: &mut Vec<Diagnostic>) -> Option<FeatureTest> {
    let before = errors.len();
    let mut image = None;
    let mut mask = None;
    let mut settings = None;
    let mut label = None;
    let mut seen: Vec<&str> = Vec::new();
    for setting in block.items.iter().filter_map(|i| match i {
        TestItem::Setting(s) => Some(s),
        TestItem::Expect(_) => None,
    }) {
        let key = setting.key.name.as_str();
        if seen.contains(&key) {
            errors.push(
                Diagnostic::new(ErrorKind::DuplicateTestSetting { key: key.into() }, setting.key.span, "given again")
                    .with_help("give each setting once per test block"),
            );
            continue;
        }
        seen.push(key);
        match key {
            "image" => image = path_value(setting, errors),
            "mask" => mask = path_value(setting, errors),
            "settings" => settings = path_value(setting, errors),
            "label" => label = label_value(setting, errors),
            _ => {
                let guess = crate::diag::did_you_mean(key, ["image", "mask", "settings", "label"])
                    .map_or(String::new(), |g| format!("{g} "));
                errors.push(
                    Diagnostic::new(
                        ErrorKind::UnknownTestSetting { key: key.into() },
                        setting.key.span,
                        "not a test setting",
                    )
                    .with_help(format!("{guess}a test block takes {KEYS}, then `expect` lines")),
                )
            }
        }
    }
    let expectations: Vec<Expectation> = block
        .items
        .iter()
        .filter_map(|i| match i {
            TestItem::Expect(e) => Some(e.clone()),
            TestItem::Setting(_) => None,
        })
        .collect();
    for (key, value) in [("image", &image), ("mask", &mask)] {
        if value.is_none() && !seen.contains(&key) {
            errors.push(
                Diagnostic::new(
                    ErrorKind::MissingTestSetting { key: key.into(), test: block.name.clone() },
                    block.name_span,
                    "in this test",
                )
                .with_help(format!("add `{key} = \"PATH\"` (relative to this file)")),
            );
        }
    }
    if expectations.is_empty() {
        errors.push(
            Diagnostic::new(ErrorKind::EmptyTest { test: block.name.clone() }, block.name_span, "in this test")
                .with_help("add lines such as `expect glcm.contrast.3d_avg = 5.28 ± 0.01`"),
        );
    }
    if errors.len() > before {
        return None;
    }
    Some(FeatureTest {
        name: block.name.clone(),
        span: block.span,
        name_span: block.name_span,
        image: image?,
        mask: mask?,
        settings,
        label,
        expectations,
    })
}

fn path_value(setting: &TestSetting, errors: &mut Vec<Diagnostic>) -> Option<PathSetting> {
    match &setting.value {
        SettingValue::Str(path) if !path.is_empty() => {
            Some(PathSetting { path: path.clone(), span: setting.value_span })
        }
        _ => {
            errors.push(
                Diagnostic::new(
                    ErrorKind::TestSettingKind {
                        key: setting.key.name.clone(),
                        expected: "a file path in quotes".into(),
                    },
                    setting.value_span,
                    "not a path",
                )
                .with_help(format!("write `{} = \"PATH\"`, the path relative to this file", setting.key.name)),
            );
            None
        }
    }
}

fn label_value(setting: &TestSetting, errors: &mut Vec<Diagnostic>) -> Option<(u32, Span)> {
    match setting.value {
        SettingValue::Number(v) if v >= 1.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) => {
            Some((v as u32, setting.value_span))
        }
        _ => {
            errors.push(
                Diagnostic::new(
                    ErrorKind::TestSettingKind { key: "label".into(), expected: "a whole number from 1".into() },
                    setting.value_span,
                    "not a label",
                )
                .with_help("write the mask's label value, e.g. `label = 1`"),
            );
            None
        }
    }
}
