//! Command-line parsing and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::Error;

mod batch;
mod error;
mod output;
/// Append one formatted line to a `String`; commands collect their standard output this
/// way and write it with `super::output::write_stdout` (no `println!`: it panics on a closed pipe).
macro_rules! outln {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

mod convert;
mod extract;
mod feature_test;
mod features;
mod filter;
mod fmt;
mod ibsi;
mod ibsi2;
mod info;
mod malloc;
mod map;
mod matrix;
mod merge;
mod plugins;
mod threads;

/// radx — IBSI-exact radiomics: image + mask → features.
#[derive(Debug, Parser)]
#[command(name = "radx", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Load plugin libraries that other users could have replaced (the library, or a folder
    /// above it, writable by its group or by everyone); also RADX_ALLOW_UNTRUSTED_PLUGINS=1.
    /// Refused by default: opening a library runs its code.
    #[arg(long, global = true)]
    allow_untrusted_plugins: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe an image (dimensions, spacing, datatype, orientation, intensity range), a DICOM
    /// series, an RTSTRUCT (its ROIs and contours) or a DICOM SEG (its segments).
    Info {
        /// Image file (.nii, .nii.gz, .nrrd, .nhdr), DICOM folder or file, RTSTRUCT or SEG.
        image: PathBuf,
        #[command(flatten)]
        read: extract::ReadArgs,
    },
    /// Print a texture matrix as a sparse table (non-zero entries only).
    Matrix(MatrixArgs),
    /// Extract features of one case as a long table: image_type,family,feature,tag,aggregation,value,note.
    Extract(extract::ExtractArgs),
    /// Extract a cohort: a case list (id,image,mask[,label], or PyRadiomics' Image,Mask[,Label]) in parallel, one wide table out.
    Batch(batch::BatchArgs),
    /// Join wide tables (e.g. `radx batch --shard` outputs) into one.
    Merge(merge::MergeArgs),
    /// List or show the features radx knows.
    Features {
        #[command(subcommand)]
        action: FeaturesAction,
    },
    /// List loaded plugins (from --plugin and $RADX_PLUGIN_PATH) with their features, sources and filters.
    Plugins {
        #[command(subcommand)]
        action: PluginsAction,
    },
    /// Parse and check feature files; exit non-zero with diagnostics on error.
    Check {
        /// .radx files or folders.
        #[arg(required_unless_present = "settings")]
        files: Vec<PathBuf>,
        /// Plugin library whose sources the files may use (repeatable), in addition to $RADX_PLUGIN_PATH.
        #[arg(long = "plugin")]
        plugins: Vec<PathBuf>,
        /// Settings file whose `[[plugin_feature]]` tables are checked against the loaded
        /// plugins' parameters (names, kinds, ranges).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Evaluation budget that loops over constant ranges are checked against (default 2^40).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        eval_budget: Option<u64>,
        /// `text`: rustc-like reports on stderr; `json`: one JSON object per diagnostic on
        /// stdout (file, line, column, end_line, end_column, severity, message, label, hint), for editors.
        #[arg(long, value_enum, default_value_t = features::CheckFormat::Text)]
        format: features::CheckFormat,
    },
    /// Run the `test` blocks of feature files: each expectation's computed value against
    /// its expected value and tolerance (exit code 1 if any fails).
    Test(feature_test::TestArgs),
    /// Rewrite feature files in the canonical layout (`--check`: only list those that would change).
    Fmt(fmt::FmtArgs),
    /// Write a filter's response map (float32 NIfTI) for inspection.
    Filter(filter::FilterArgs),
    /// Write voxel-wise feature maps: features in the window around every ROI voxel, one image each.
    Map(map::MapArgs),
    /// Run the IBSI-2 filter tests: phase 1 response maps, phase 2 feature values.
    Ibsi2(ibsi2::Ibsi2Args),
    /// Write a DICOM series (and an RTSTRUCT ROI on its grid) as NIfTI, geometry kept.
    Convert(convert::ConvertArgs),
    /// Run the IBSI phantoms and compare every feature with the IBSI reference values.
    Ibsi {
        /// Which phantom.
        #[arg(long, value_enum, default_value = "digital")]
        phantom: Phantom,
        /// CT-phantom configurations, comma-separated.
        #[arg(long, default_value = "A,B,C,D,E")]
        config: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: IbsiFormat,
        /// Folder with the CT phantom: its image.nii.gz and mask.nii.gz, or its DICOM export
        /// (image/ holding the series, mask/ the RTSTRUCT) (default: $RADX_CT_PHANTOM, else
        /// tests/data/ibsi/ct_phantom).
        #[arg(long)]
        ct_phantom: Option<PathBuf>,
    },
}

/// `radx features` subcommands.
#[derive(Debug, Subcommand)]
enum FeaturesAction {
    /// Every feature: family, name, tag, source file.
    List {
        /// Extra feature files or folders.
        #[arg(long = "features")]
        features: Vec<PathBuf>,
        /// Plugin library to load (repeatable), in addition to those in $RADX_PLUGIN_PATH.
        #[arg(long = "plugin")]
        plugins: Vec<PathBuf>,
    },
    /// A feature's definition and description, by name, `family.name` or tag.
    Show {
        /// Feature name, `family.name` or IBSI tag.
        name: String,
        /// Extra feature files or folders.
        #[arg(long = "features")]
        features: Vec<PathBuf>,
        /// Plugin library to load (repeatable), in addition to those in $RADX_PLUGIN_PATH.
        #[arg(long = "plugin")]
        plugins: Vec<PathBuf>,
    },
    /// How a family is evaluated: its stages and the sweeps (passes) over its source.
    Explain {
        /// Family name, e.g. `glcm`.
        family: String,
        /// Extra feature files or folders.
        #[arg(long = "features")]
        features: Vec<PathBuf>,
        /// Plugin library to load (repeatable), in addition to those in $RADX_PLUGIN_PATH.
        #[arg(long = "plugin")]
        plugins: Vec<PathBuf>,
    },
}

/// `radx plugins` subcommands.
#[derive(Debug, Subcommand)]
enum PluginsAction {
    /// Every loaded plugin: name, version, ABI, file, features and sources.
    List {
        /// Plugin library to load (repeatable), in addition to those in $RADX_PLUGIN_PATH.
        #[arg(long = "plugin")]
        plugins: Vec<PathBuf>,
    },
}

/// IBSI phantoms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Phantom {
    /// The 5×4×4 digital phantom (embedded).
    Digital,
    /// The CT phantom, configurations A–E.
    Ct,
    /// Both.
    All,
}

/// Output formats of `radx ibsi` and `radx ibsi2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IbsiFormat {
    /// Aligned columns and a summary.
    Table,
    /// Comma-separated values.
    Csv,
    /// JSON array.
    Json,
    /// Markdown tables (summary, then values) for a paper's supplement.
    Markdown,
}

/// Arguments of `radx matrix`.
#[derive(Debug, clap::Args)]
pub struct MatrixArgs {
    /// Matrix family.
    #[arg(value_enum)]
    family: MatrixFamily,
    /// Image file.
    #[arg(long)]
    image: PathBuf,
    /// Mask (label map) file.
    #[arg(long)]
    mask: PathBuf,
    /// ROI label in the mask (overrides the settings file; default 1).
    #[arg(long)]
    label: Option<i64>,
    /// Settings file (TOML or YAML) for processing and discretisation.
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Aggregation: 2d_avg, 2d_smrg, 2_5d_dmrg, 2_5d_mrg, 3d_avg, 3d_mrg.
    #[arg(long, default_value = "3d_mrg")]
    aggregation: radx_engine::core::Aggregation,
    /// Only this slice (1-based, in the processed ROI's grid).
    #[arg(long)]
    slice: Option<usize>,
    /// Only this direction, e.g. `1,0,0` (GLCM and GLRLM).
    #[arg(long)]
    direction: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
    /// Memory budget, e.g. `2G` or `512M` (default: the least of half the physical memory, the cgroup memory limit and `ulimit -v`).
    #[arg(long, value_parser = radx_engine::limits::parse_size)]
    max_memory: Option<u64>,
}

/// Texture-matrix families.
/// Table file formats (`radx batch`, `radx merge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormatArg {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line (`.jsonl`, also `.ndjson`).
    Jsonl,
    /// Apache Parquet, one optional DOUBLE column per feature.
    Parquet,
}

impl From<TableFormatArg> for radx_cohort::table::TableFormat {
    fn from(arg: TableFormatArg) -> Self {
        match arg {
            TableFormatArg::Csv => Self::Csv,
            TableFormatArg::Jsonl => Self::Jsonl,
            TableFormatArg::Parquet => Self::Parquet,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixFamily {
    /// Grey level co-occurrence matrix.
    Glcm,
    /// Grey level run length matrix.
    Glrlm,
    /// Grey level size zone matrix.
    Glszm,
    /// Grey level distance zone matrix.
    Gldzm,
    /// Neighbourhood grey tone difference matrix.
    Ngtdm,
    /// Neighbouring grey level dependence matrix.
    Ngldm,
}

/// Table output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Aligned columns for reading.
    Table,
    /// Comma-separated values.
    Csv,
}

/// Run one parsed command line; `Ok` carries the process exit code.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    plugins::print_plugin_logs();
    plugins::set_trust(cli.allow_untrusted_plugins);
    threads::init_global_pool()?;
    match cli.command {
        Command::Info { image, read } => info::run(&image, read.max_memory, read.allow_external_data),
        Command::Matrix(args) => matrix::run(&args),
        Command::Extract(args) => {
            malloc::one_arena();
            extract::run(&args)
        }
        Command::Features { action: FeaturesAction::List { features, plugins } } => features::list(&features, &plugins),
        Command::Features { action: FeaturesAction::Show { name, features, plugins } } => {
            features::show(&name, &features, &plugins)
        }
        Command::Features { action: FeaturesAction::Explain { family, features, plugins } } => {
            features::explain(&family, &features, &plugins)
        }
        Command::Plugins { action: PluginsAction::List { plugins } } => plugins::list(&plugins),
        Command::Check { files, plugins, settings, eval_budget, format } => {
            features::check(&files, &plugins, settings.as_deref(), eval_budget, format)
        }
        Command::Batch(args) => batch::run(&args),
        Command::Test(args) => feature_test::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Filter(args) => filter::run(&args),
        Command::Map(args) => map::run(&args),
        Command::Ibsi2(args) => ibsi2::run(&args),
        Command::Ibsi { phantom, config, format, ct_phantom } => {
            ibsi::run(phantom, &config, format, ct_phantom.as_ref())
        }
    }
}
