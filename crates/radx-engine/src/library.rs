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

/// Feature files in the order they were added; a family defined again with `override`
/// replaces the earlier one of the same name (see [`Library::compile_linked`]).
#[derive(Debug, Clone)]
pub struct Library {
    files: Vec<(String, String)>,
    /// How many of the first files are the settings' standard library.
    builtin: usize,
    /// The settings' texture aggregations, against which `for` and references are checked.
    aggregations: Vec<radx_core::Aggregation>,
}

impl Default for Library {
    /// No files, checked against the default settings' aggregations.
    fn default() -> Self {
        Library { files: Vec::new(), builtin: 0, aggregations: Settings::default().texture.aggregations }
    }
}

/// A linked library: its families in output order, and what to warn about (a user feature
/// reusing a built-in tag), per file.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub families: Vec<LibraryFamily>,
    pub warnings: Vec<radx_dsl::Diagnostics>,
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
        Library {
            files: files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect(),
            builtin: files.len(),
            aggregations: settings.texture.aggregations.clone(),
        }
    }

    /// The library `radx check` (and Python's `radx.check`) compiles feature files or folders
    /// `given` in: the standard library first, since a user's file may read its features
    /// (`glcm.contrast`) and must say `override` to replace one of its families; less each
    /// standard file that is itself given (`radx check features/` checks those as given,
    /// not twice); PyRadiomics' standard library when one of its files is given, else the
    /// IBSI's; then the files given.
    ///
    /// # Errors
    /// A path that is not a readable `.radx` file or folder of them.
    pub fn for_checking(given: &[PathBuf]) -> Result<Self, LibraryError> {
        let mut files = Vec::new();
        for path in given {
            files.extend(feature_files(path)?);
        }
        let is_given = |name: &str| files.iter().any(|p| p.ends_with(name));
        let pyradiomics =
            Library::for_settings(&Settings { pyradiomics: Some(Default::default()), ..Default::default() });
        let standard = if pyradiomics.files[..pyradiomics.builtin].iter().any(|(name, _)| is_given(name)) {
            pyradiomics
        } else {
            Library::for_settings(&Settings::default())
        };
        let mut library = standard.without_builtin(is_given);
        for path in given {
            library.add_path(path)?;
        }
        Ok(library)
    }

    /// The library without the standard files for which `drop` holds (given their names,
    /// `features/glcm.radx`): for checking the standard library's own files, which are then
    /// added as ordinary files.
    fn without_builtin(mut self, drop: impl Fn(&str) -> bool) -> Self {
        let (kept, removed): (Vec<_>, Vec<_>) =
            self.files.drain(..self.builtin).partition(|(name, _)| !drop(name.as_str()));
        self.builtin -= removed.len();
        self.files.splice(0..0, kept);
        self
    }

    /// The name of file number `k` (in [`Self::texts`]' order), as diagnostics give it.
    pub fn name(&self, k: usize) -> String {
        self.files.get(k).map(|(n, _)| n.clone()).unwrap_or_default()
    }

    /// Whether file number `k` (in [`Self::texts`]' order) is part of the standard library.
    pub fn is_builtin(&self, k: usize) -> bool {
        k < self.builtin
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

    /// Compile every file; a later `override family` replaces an earlier family.
    pub fn compile(&self, registry: &Registry) -> Result<Vec<LibraryFamily>, LibraryError> {
        self.compile_with(registry, radx_dsl::Limits::default())
    }

    /// Every file's diagnostics (empty when all compile): `radx check` reports them all,
    /// where [`Self::compile`] stops at the first file that fails.
    /// Once every file compiles, the linker's errors and warnings (see [`Self::compile_linked`]).
    pub fn diagnostics(&self, registry: &Registry, limits: radx_dsl::Limits) -> Vec<radx_dsl::Diagnostics> {
        let files: Vec<(&str, &str)> = self.files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let (compiled, failed): (Vec<_>, Vec<_>) =
            radx_dsl::compile_files_with(&files, registry, limits).into_iter().partition(Result::is_ok);
        if !failed.is_empty() {
            return failed.into_iter().filter_map(Result::err).collect();
        }
        let compiled: Vec<radx_dsl::CompiledFile> = compiled.into_iter().filter_map(Result::ok).collect();
        self.link(&compiled).diagnostics
    }

    fn link(&self, compiled: &[radx_dsl::CompiledFile]) -> crate::link::Linked {
        let files: Vec<crate::link::LinkFile<'_>> = self
            .files
            .iter()
            .zip(compiled)
            .enumerate()
            .map(|(k, ((name, text), compiled))| crate::link::LinkFile {
                name,
                text,
                builtin: self.is_builtin(k),
                compiled,
            })
            .collect();
        crate::link::link(&files, &self.aggregations)
    }

    /// [`Self::compile`] with loops checked against `limits` (the settings' evaluation budget).
    pub fn compile_with(
        &self,
        registry: &Registry,
        limits: radx_dsl::Limits,
    ) -> Result<Vec<LibraryFamily>, LibraryError> {
        self.compile_linked(registry, limits).map(|c| c.families)
    }

    /// Compiles every file and links them: families merged in order (a later
    /// `override family` replaces an earlier one; a family defined again without `override`
    /// is an error), `for` checked against each family's source, every `family.feature`
    /// resolved with its aggregations checked and the families staged so that a family is
    /// evaluated after those it reads (a cycle is an error). The first file that does not
    /// compile, or every linking error, is the error; warnings come back with the families.
    pub fn compile_linked(&self, registry: &Registry, limits: radx_dsl::Limits) -> Result<Compiled, LibraryError> {
        let files: Vec<(&str, &str)> = self.files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let compiled = radx_dsl::compile_files_with(&files, registry, limits)
            .into_iter()
            .map(|r| r.map_err(|d| LibraryError::Compile(d.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let linked = self.link(&compiled);
        let (errors, warnings): (Vec<_>, Vec<_>) = linked.diagnostics.into_iter().partition(has_errors);
        if !errors.is_empty() {
            let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(LibraryError::Compile(rendered.join("\n")));
        }
        Ok(Compiled { families: linked.families, warnings })
    }
}

/// Whether a file's diagnostics hold an error (not only warnings). A file with both is
/// reported whole, its warnings with its errors.
fn has_errors(file: &radx_dsl::Diagnostics) -> bool {
    file.items.iter().any(|d| d.severity == radx_dsl::Severity::Error)
}
