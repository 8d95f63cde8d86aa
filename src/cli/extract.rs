//! `radx extract`: one case, long-format feature table.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Error;
use super::output::write_atomic;
use radx_cohort::rows::{RowFormat, render_rows};
use radx_engine::Settings;
use radx_engine::{Case, Extractor};
use radx_input::{CaseInput, MaskChoice, ResolveOptions};

/// Settings file (or defaults) + `--features` paths + `--plugin` libraries (each must load)
/// and those of `RADX_PLUGIN_PATH` → an extractor (shared with `features`).
pub fn load_with_plugins(
    settings: Option<&PathBuf>,
    features: &[PathBuf],
    plugins: &[PathBuf],
) -> Result<Extractor, Error> {
    let path = settings;
    let settings = match settings {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    let plugins = super::plugins::load_registry(plugins)?;
    let extractor = Extractor::new(settings, features, plugins).map_err(|e| in_settings(e, path))?;
    super::plugins::report(&extractor);
    Ok(extractor)
}

/// A `[[plugin_feature]]` table's error, naming the settings file it is in.
pub fn in_settings(e: radx_engine::Error, path: Option<&PathBuf>) -> radx_engine::Error {
    match (e, path) {
        (radx_engine::Error::PluginFeature(e), Some(path)) => {
            radx_engine::Error::Usage(format!("{}: {e}", path.display()))
        }
        (e, _) => e,
    }
}

/// Feature library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LibraryChoice {
    /// The IBSI library (default for radx settings files).
    Ibsi,
    /// The PyRadiomics library (default for PyRadiomics parameter files).
    Pyradiomics,
}

/// Output naming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Names {
    /// radx's / the IBSI's feature names.
    Radx,
    /// PyRadiomics' `original_<class>_<Feature>` names (PyRadiomics library only).
    Pyradiomics,
}

/// PyRadiomics-compatibility options of `radx extract`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompatArgs {
    /// Feature library; default: PyRadiomics' for a PyRadiomics parameter file, else the IBSI's.
    #[arg(long, value_enum)]
    library: Option<LibraryChoice>,
    /// Output feature names.
    #[arg(long, value_enum, default_value = "radx")]
    names: Names,
    /// Refuse (instead of warning about) PyRadiomics settings radx does not support.
    #[arg(long)]
    strict: bool,
}

/// How images are read: the memory budget and whether NRRD headers may point outside their
/// folder. Shared by every command that reads images, so no read escapes either choice.
#[derive(Debug, Clone, clap::Args)]
pub struct ReadArgs {
    /// Memory budget, e.g. `2G` or `512M` (default: the least of half the physical memory, the cgroup memory limit and `ulimit -v`); a case that
    /// would need more is refused with a message naming what does not fit.
    #[arg(long, value_parser = radx_engine::limits::parse_size)]
    pub max_memory: Option<u64>,
    /// Let NRRD headers name a detached data file outside their own folder (an absolute
    /// path, `../`, a symbolic link leading out). Off by default: only for headers you trust.
    #[arg(long)]
    pub allow_external_data: bool,
}

impl ReadArgs {
    /// Put the command line's choices into `settings`.
    pub fn apply(&self, settings: &mut Settings) {
        if let Some(bytes) = self.max_memory {
            settings.max_memory = bytes;
        }
        settings.allow_external_data |= self.allow_external_data;
    }
}

/// What to compute and how: shared by `radx extract` and `radx batch`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExtractorArgs {
    /// Settings file: radx's TOML/YAML schema, or a PyRadiomics parameter file (YAML).
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Extra feature file or folder of .radx files (repeatable); a family defined again replaces the built-in one.
    #[arg(long = "features")]
    features: Vec<PathBuf>,
    /// Plugin library to load (repeatable), in addition to those in $RADX_PLUGIN_PATH.
    #[arg(long = "plugin")]
    plugins: Vec<PathBuf>,
    /// Drop NaN and infinite voxels from the ROI instead of refusing the case.
    #[arg(long)]
    exclude_nonfinite: bool,
    #[command(flatten)]
    read: ReadArgs,
    /// Operations each feature family may spend per case and aggregation (default 2^40): a
    /// feature whose loops need more gets a note naming it and its line instead of running on.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    eval_budget: Option<u64>,
    #[command(flatten)]
    compat: CompatArgs,
}

impl ExtractorArgs {
    /// Settings (either schema), library choice, feature files and plugins → an extractor.
    pub fn build(&self) -> Result<Extractor, Error> {
        Ok(self.build_with(self.settings()?)?)
    }

    /// The settings: the file's (either schema) for the library asked for, with the command
    /// line's overrides.
    pub fn settings(&self) -> Result<Settings, Error> {
        use radx_engine::compat::pyradiomics::{LibraryChoice as Library, load_settings_for};
        if self.compat.names == Names::Pyradiomics && self.compat.library == Some(LibraryChoice::Ibsi) {
            return Err(Error::usage(
                "--names pyradiomics names the features of PyRadiomics' library, and --library ibsi computes the \
                 IBSI's: drop --library ibsi, or write radx's names (--names radx)",
            ));
        }
        let library = self.compat.library.map(|l| match l {
            LibraryChoice::Ibsi => Library::Ibsi,
            LibraryChoice::Pyradiomics => Library::Pyradiomics,
        });
        let mut settings = match &self.settings {
            Some(path) => {
                let loaded = load_settings_for(path, self.compat.strict, library)?;
                for warning in &loaded.warnings {
                    eprintln!("warning: {warning}");
                }
                loaded.settings
            }
            None => Settings::default(),
        };
        if library == Some(Library::Pyradiomics) && settings.pyradiomics.is_none() {
            settings.pyradiomics = Some(Default::default());
        }
        settings.exclude_nonfinite |= self.exclude_nonfinite;
        self.read.apply(&mut settings);
        if let Some(ops) = self.eval_budget {
            settings.eval_budget = ops;
        }
        Ok(settings)
    }

    /// The files this extractor reads: settings, feature files, plugins.
    pub fn inputs(&self) -> Vec<PathBuf> {
        self.settings.iter().chain(&self.features).chain(&self.plugins).cloned().collect()
    }

    /// The settings and feature files, which a batch's journal fingerprints.
    pub fn run_files(&self) -> radx_cohort::batch::RunFiles {
        radx_cohort::batch::RunFiles { settings: self.settings.clone(), features: self.features.clone() }
    }

    /// Library choice, feature files and plugins with `settings` (see [`Self::settings`])
    /// → an extractor.
    pub fn build_with(&self, settings: Settings) -> Result<Extractor, radx_engine::Error> {
        self.build_with_plugins(settings, super::plugins::load_registry(&self.plugins)?)
    }

    /// [`Self::build_with`] with the plugins already loaded.
    pub fn build_with_plugins(
        &self,
        settings: Settings,
        plugins: radx_engine::plugins::PluginRegistry,
    ) -> Result<Extractor, radx_engine::Error> {
        let extractor =
            Extractor::new(settings, &self.features, plugins).map_err(|e| in_settings(e, self.settings.as_ref()))?;
        super::plugins::report(&extractor);
        match self.compat.names {
            Names::Pyradiomics => extractor.with_pyradiomics_names(),
            Names::Radx => Ok(extractor),
        }
    }
}

/// The case's inputs: an image and a mask, NIfTI/NRRD or DICOM, and which ROI of the mask
/// (`radx extract`; `radx batch` takes the same from its case list's columns).
#[derive(Debug, Clone, clap::Args)]
pub struct CaseArgs {
    /// Image: NIfTI/NRRD file, DICOM series folder, or DICOM file (one slice or a multi-frame image).
    #[arg(long)]
    image: PathBuf,
    /// Mask: NIfTI/NRRD label map (ROI by --label), RTSTRUCT (ROI by --roi) or DICOM SEG (by --segment).
    #[arg(long)]
    mask: PathBuf,
    /// ROI label of a label-map mask (overrides the settings; default 1).
    #[arg(long, conflicts_with_all = ["roi", "segment"])]
    label: Option<i64>,
    /// ROI name in an RTSTRUCT mask (default: its only ROI).
    #[arg(long, conflicts_with = "segment")]
    roi: Option<String>,
    /// Segment of a DICOM SEG mask, by number or label (default: its only segment).
    #[arg(long)]
    segment: Option<String>,
    /// SeriesInstanceUID to read when the image folder holds several DICOM series.
    #[arg(long)]
    series: Option<String>,
}

impl CaseArgs {
    /// The image and mask paths as given (files or DICOM folders): what outputs must not replace.
    pub fn paths(&self) -> [&std::path::Path; 2] {
        [&self.image, &self.mask]
    }

    /// The engine's case: DICOM read and the mask placed on the image's grid
    /// (`radx_input::resolve`), NIfTI/NRRD kept as paths.
    pub fn resolve(&self, settings: &Settings) -> Result<Case, Error> {
        let input = CaseInput {
            image: self.image.clone(),
            mask: self.mask.clone(),
            choice: MaskChoice { label: self.label, roi: self.roi.clone(), segment: self.segment.clone() },
            series: self.series.clone(),
        };
        let opts = ResolveOptions { default_label: settings.label, max_bytes: settings.max_memory };
        Ok(radx_input::resolve(&input, &opts)?.case)
    }
}

/// Arguments of `radx extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    case: CaseArgs,
    #[command(flatten)]
    extractor: ExtractorArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: ExtractFormat,
    /// Output file (written atomically); standard output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Add the IBSI processing diagnostics (dimensions, voxel counts, intensities after each step).
    #[arg(long)]
    diagnostics: bool,
}

/// Output formats of `radx extract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExtractFormat {
    /// Comma-separated values.
    Csv,
    /// JSON array.
    Json,
}

pub fn run(args: &ExtractArgs) -> Result<ExitCode, Error> {
    radx_engine::timings::mark("start");
    if let Some(output) = &args.output {
        let mut inputs = args.extractor.inputs();
        inputs.extend([args.case.image.clone(), args.case.mask.clone()]);
        super::output::check_output(output, &inputs)?;
    }
    let settings = args.extractor.settings()?;
    let case = args.case.resolve(&settings)?;
    let features = if args.diagnostics {
        args.extractor.build_with(settings)?.extract_with_diagnostics(&case)?
    } else {
        // Plugins load before the image is read: the margin a plugin feature or source
        // asks for around the ROI is known only once it is loaded, and the case is then
        // read once, with it. The library compiles while the image is read.
        let plugins = super::plugins::load_registry(&args.extractor.plugins)?;
        let mut read_with = settings.clone();
        read_with.plugin_margin = plugins.margin();
        let build = || {
            let extractor = args.extractor.build_with_plugins(settings.clone(), plugins);
            radx_engine::timings::mark("library compiled");
            extractor
        };
        Extractor::extract_compiling(build, &read_with, &args.extractor.features, &case)?
    };
    let format = match args.format {
        ExtractFormat::Csv => RowFormat::Csv,
        ExtractFormat::Json => RowFormat::Json,
    };
    let text = render_rows(&features.rows, format);
    match &args.output {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => super::output::write_stdout(&text)?,
    }
    radx_engine::timings::mark("output written");
    Ok(ExitCode::SUCCESS)
}
