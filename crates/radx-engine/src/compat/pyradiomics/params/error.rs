//! What can be wrong in a PyRadiomics parameter file.

use serde_json::Value;

/// Why a PyRadiomics parameter file does not map onto radx settings; the message names the
/// setting at fault, if one is, and what to write instead.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// The text is not YAML (JSON is YAML). Boxed, as the parser's error is large.
    #[error(transparent)]
    Yaml(#[from] Box<serde_saphyr::Error>),
    /// The document is a list or a scalar.
    #[error("a PyRadiomics parameter file is a mapping")]
    NotAMapping,
    /// A setting that takes a number has something else.
    #[error("setting `{key}`: expected a number, got {value}")]
    NotANumber {
        /// The setting.
        key: String,
        /// Its value.
        value: Value,
    },
    /// `resampledPixelSpacing` is not three numbers ≥ 0.
    #[error("setting `resampledPixelSpacing`: expected 3 numbers ≥ 0 (0 keeps that axis' spacing), got {value}")]
    Spacing {
        /// Its value.
        value: Value,
    },
    /// `resegmentRange` is not one or two numbers.
    /// `distances` is not a list of integers ≥ 1 (PyRadiomics' schema refuses the file).
    #[error(
        "setting `distances`: expected a list of integers ≥ 1 (PyRadiomics' schema refuses anything else), got {value}"
    )]
    Distances {
        /// Its value.
        value: Value,
    },
    #[error("setting `resegmentRange`: expected 1 or 2 numbers, got {value}")]
    ResegmentRange {
        /// Its value.
        value: Value,
    },
    /// `resegmentMode` names no mode PyRadiomics has.
    #[error("setting `resegmentMode`: unknown mode `{mode}` (PyRadiomics has absolute, relative and sigma)")]
    ResegmentMode {
        /// The mode given.
        mode: String,
    },
    /// `featureClass` is not a mapping of classes to feature lists.
    #[error("`featureClass`: expected a mapping of feature classes to lists of features, got {value}")]
    FeatureClass {
        /// Its value.
        value: Value,
    },
    /// A `featureClass` class PyRadiomics does not have.
    #[error("`featureClass`: PyRadiomics has no feature class `{class}`; its classes are {known}")]
    UnknownClass {
        /// The class given.
        class: String,
        /// PyRadiomics' classes, comma-separated.
        known: String,
    },
    /// A class's features are not a list of names.
    #[error("`featureClass` `{class}`: expected a list of feature names (or nothing for all), got {value}")]
    FeatureList {
        /// The class.
        class: String,
        /// Its value.
        value: Value,
    },
    /// A feature name the class does not have (PyRadiomics raises too).
    #[error(
        "`featureClass` `{class}`: PyRadiomics has no feature `{feature}` in class `{class}`; its features are {known}"
    )]
    UnknownFeature {
        /// The class.
        class: String,
        /// The feature name given.
        feature: String,
        /// The class's feature names, comma-separated.
        known: String,
    },
    /// A `voxelSetting` value of the wrong type or out of range.
    #[error("`voxelSetting` `{key}`: expected {expected}, got {value}")]
    VoxelSetting {
        /// The key.
        key: &'static str,
        /// What it takes.
        expected: &'static str,
        /// Its value.
        value: Value,
    },
    /// A setting the IBSI library cannot follow.
    #[error("{key}: {reason}")]
    NotForIbsi {
        /// The setting.
        key: &'static str,
        /// Why, and what to do.
        reason: &'static str,
    },
    /// `imageType` names a type PyRadiomics does not have (PyRadiomics refuses it too).
    #[error("`imageType`: PyRadiomics has no image type `{name}`; its image types are {known}")]
    UnknownImageType {
        /// The name given.
        name: String,
        /// PyRadiomics' image types, comma-separated.
        known: String,
    },
    /// An image type's setting has a value of the wrong type or out of range.
    #[error("`imageType` `{image_type}`: `{key}` expects {expected}, got {value}")]
    ImageTypeSetting {
        /// The image type.
        image_type: String,
        /// The setting.
        key: String,
        /// What it takes.
        expected: &'static str,
        /// Its value (boxed: it would make every error large).
        value: Box<Value>,
    },
    /// An image type's settings give no valid filter.
    #[error("`imageType` `{image_type}`: {source}")]
    ImageTypeFilter {
        /// The image type.
        image_type: String,
        /// Why (boxed: it would make every error large).
        source: Box<radx_filters::FilterError>,
    },
}
