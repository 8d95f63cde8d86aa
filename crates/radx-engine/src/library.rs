//! Feature libraries: the standard IBSI library embedded in the binary (`features/*.radx`)
//! plus user files added at run time, compiled against a registry that carries the
//! settings' texture parameters as source defaults.

use std::path::{Path, PathBuf};

use radx_dsl::Registry;

use crate::settings::Settings;

/// A feature file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The file or folder could not be read.
    #[error("{path}: cannot read feature file: {source}")]
    Read {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file does not compile; the diagnostics name file, line and column.
    #[error("{0}")]
    Compile(String),
}

/// Feature files in the order they were added; a family defined again replaces the
/// earlier one of the same name.
#[derive(Debug, Clone, Default)]
pub struct Library {
    files: Vec<(String, String)>,
}

pub use crate::model::LibraryFamily;

/// The files a feature path stands for: the file itself, or every `.radx` file of a
/// folder, sorted by name (also what `radx batch` fingerprints, so the two never disagree).
pub fn feature_files(path: &Path) -> Result<Vec<PathBuf>, LibraryError> {
    let read_err = |source| LibraryError::Read { path: path.display().to_string(), source };
    let mut paths: Vec<PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)
            .map_err(read_err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "radx"))
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    paths.sort();
    Ok(paths)
}

impl Library {
    /// The library the settings call for: their profile's ([`crate::profile::of`]).
    pub fn for_settings(settings: &Settings) -> Self {
        let files = crate::profile::of(settings).library();
        Library { files: files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect() }
    }

    /// The text of every file, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.files.iter().map(|(_, text)| text.as_str()).collect()
    }

    /// Add a `.radx` file, or every `.radx` file of a folder (sorted by name).
    pub fn add_path(&mut self, path: &Path) -> Result<(), LibraryError> {
        for p in feature_files(path)? {
            // Bounded while reading: a feature path may be a pipe or a device.
            let text = radx_io::read_text_limited(&p, radx_io::TEXT_INPUT_LIMIT)
                .map_err(|source| LibraryError::Read { path: p.display().to_string(), source })?;
            self.files.push((p.display().to_string(), text));
        }
        Ok(())
    }

    /// Add text under a file name (tests, plugins).
    pub fn add_text(&mut self, name: &str, text: &str) {
        self.files.push((name.to_string(), text.to_string()));
    }

    /// Compile every file; later definitions of a family name replace earlier ones.
    pub fn compile(&self, registry: &Registry) -> Result<Vec<LibraryFamily>, LibraryError> {
        self.compile_with(registry, radx_dsl::Limits::default())
    }

    /// Every file's diagnostics (empty when all compile): `radx check` reports them all,
    /// where [`Self::compile`] stops at the first file that fails.
    pub fn diagnostics(&self, registry: &Registry, limits: radx_dsl::Limits) -> Vec<radx_dsl::Diagnostics> {
        let files: Vec<(&str, &str)> = self.files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        radx_dsl::compile_files_with(&files, registry, limits).into_iter().filter_map(Result::err).collect()
    }

    /// [`Self::compile`] with loops checked against `limits` (the settings' evaluation budget).
    pub fn compile_with(
        &self,
        registry: &Registry,
        limits: radx_dsl::Limits,
    ) -> Result<Vec<LibraryFamily>, LibraryError> {
        // Merged in order, so that a later file's family replaces an earlier one's.
        let files: Vec<(&str, &str)> = self.files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let compiled = radx_dsl::compile_files_with(&files, registry, limits);
        let mut out: Vec<LibraryFamily> = Vec::new();
        for (result, (name, _)) in compiled.into_iter().zip(&self.files) {
            let compiled = result.map_err(|d| LibraryError::Compile(d.to_string()))?;
            for family in compiled.families() {
                out.retain(|f| f.family.name() != family.name());
                out.push(LibraryFamily { family: family.clone(), origin: name.clone() });
            }
        }
        Ok(out)
    }
}
