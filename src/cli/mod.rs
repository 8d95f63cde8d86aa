//! Command-line parsing and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use radx::Error;

mod info;
mod matrix;

/// radx — IBSI-exact radiomics: image + mask → features.
#[derive(Debug, Parser)]
#[command(name = "radx", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print an image's dimensions, spacing, datatype, orientation and intensity range.
    Info {
        /// Image file (.nii, .nii.gz, .nrrd, .nhdr).
        image: PathBuf,
    },
    /// Print a texture matrix as a sparse table (non-zero entries only).
    Matrix(MatrixArgs),
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
    aggregation: radx::core::Aggregation,
    /// Only this slice (1-based, in the processed ROI's grid).
    #[arg(long)]
    slice: Option<usize>,
    /// Only this direction, e.g. `1,0,0` (GLCM and GLRLM).
    #[arg(long)]
    direction: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
}

/// Texture-matrix families.
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
    match cli.command {
        Command::Info { image } => info::run(&image),
        Command::Matrix(args) => matrix::run(&args),
    }
}
