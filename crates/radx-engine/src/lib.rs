//! The radx extraction engine: settings → processing → sources → features, for one case
//! at a time, from many threads. It never prints and reads no environment variable:
//! warnings and notes come back as values. See ARCHITECTURE.md at the repository's top.
#![forbid(unsafe_code)]

pub use radx_core as core;
pub use radx_filters as filters;
pub use radx_io as io;
pub use radx_plugin_host as plugins;

pub mod arrays;
pub mod case;
pub mod compat;
pub mod diagnostics;
pub mod extract;
pub mod extractor;
pub mod feature_tests;
pub mod filtering;
pub mod host;
pub mod ibsi;
pub mod library;
pub mod limits;
mod link;
pub mod maps;
pub mod memory;
pub mod model;
pub mod pipeline;
pub mod plugin_filters;
pub mod profile;
pub mod settings;
pub mod shape;
pub mod sources;
pub mod synthetic;
pub mod timings;

pub use case::{Case, RoiSelector, VolumeSource};
pub use extractor::Extractor;
pub use model::{FeatureKey, FeatureRow, Features, ImageType, ProcessedCase};
pub use settings::Settings;

/// Anything a radx command can fail with; every message names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading an image or mask failed.
    #[error(transparent)]
    Io(#[from] radx_io::IoError),
    /// A settings file is unusable.
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    /// Processing the case failed (geometry, empty ROI, NaN voxels…).
    #[error("{context}: {source}")]
    Core {
        /// What was being processed (usually the image and mask files).
        context: String,
        /// The cause.
        source: radx_core::CoreError,
    },
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// A feature file does not compile or cannot be read.
    #[error(transparent)]
    Library(#[from] library::LibraryError),
    /// A plugin could not be loaded.
    #[error(transparent)]
    Plugin(#[from] plugins::PluginError),
    /// A `[[plugin_feature]]` table of the settings is refused (boxed: the largest cause,
    /// and every `Result` carrying an `Error` would be as large).
    #[error(transparent)]
    PluginFeature(#[from] Box<sources::plugin_params::PluginFeatureError>),
    /// An embedded IBSI reference table does not parse (a build defect).
    #[error("embedded IBSI reference table {table}: {message}")]
    Reference {
        /// The table's file name.
        table: String,
        /// The parser's message.
        message: String,
    },
    /// A filter's settings are refused, or it cannot filter this case's image.
    #[error(transparent)]
    Filter(#[from] filtering::FilterStageError),
    /// Writing an output failed.
    #[error("{path}: cannot write output: {source}")]
    Write {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether the case was refused for the memory budget (`--max-memory`): a phase's
    /// estimate, or an image file, over it. A larger budget would let it run.
    pub fn is_over_budget(&self) -> bool {
        matches!(
            self,
            Error::Core { source: radx_core::CoreError::MemoryBudget { .. }, .. }
                | Error::Io(radx_io::IoError::TooLarge { .. })
        )
    }
}
