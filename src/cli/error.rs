//! What a radx command can fail with: the engine's errors and the cohort's. Every message
//! names the file involved.

/// A command's failure; `main` prints it and exits with status 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Settings, reading, processing, feature files, plugins, usage.
    #[error(transparent)]
    Engine(#[from] radx_engine::Error),
    /// A batch or merge could not run or write its table.
    #[error(transparent)]
    Batch(#[from] radx_cohort::batch::BatchError),
    /// A DICOM series, RTSTRUCT or SEG could not be read.
    #[error(transparent)]
    Dicom(#[from] radx_dicom::DicomError),
    /// A case's image or mask could not be resolved (DICOM, or a ROI choice that does not fit).
    #[error(transparent)]
    Input(#[from] radx_input::InputError),
    /// A feature file's test blocks could not be run (a missing input, an unknown feature).
    #[error(transparent)]
    Test(#[from] radx_engine::feature_tests::TestError),
}

/// The engine's own error types arrive through [`radx_engine::Error`].
macro_rules! via_engine {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Engine(e.into())
            }
        }
    )*};
}

via_engine!(
    radx_io::IoError,
    radx_engine::settings::SettingsError,
    radx_engine::library::LibraryError,
    radx_engine::plugins::PluginError
);

impl Error {
    /// A command line that asks for something impossible.
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Engine(radx_engine::Error::Usage(message.into()))
    }
}
