//! What can be wrong in a PyRadiomics parameter file.

use serde_json::Value;

/// Why a PyRadiomics parameter file does not map onto radx settings; the message names the
/// setting at fault, if one is.
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
    /// `resampledPixelSpacing` is not three numbers.
    #[error("setting `resampledPixelSpacing`: expected 3 numbers, got {value}")]
    Spacing {
        /// Its value.
        value: Value,
    },
    /// `resegmentRange` is not one or two numbers.
    #[error("setting `resegmentRange`: expected 1 or 2 numbers, got {value}")]
    ResegmentRange {
        /// Its value.
        value: Value,
    },
    /// `resegmentMode` names no mode PyRadiomics has.
    #[error("setting `resegmentMode`: unknown mode `{mode}`")]
    ResegmentMode {
        /// The mode given.
        mode: String,
    },
}
