//! `radx filter`: a filter's response map, written as float32 NIfTI for inspection.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Error;
use radx_engine::core::Volume;
use radx_engine::model::ImageType;
use radx_engine::{Case, Extractor, Settings};

/// Arguments of `radx filter`.
#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// Image file.
    #[arg(long)]
    image: PathBuf,
    /// Mask file: filter only the ROI's neighbourhood, as extraction does (the output covers
    /// that crop, placed in world coordinates); without it the whole image is filtered.
    #[arg(long)]
    mask: Option<PathBuf>,
    /// ROI label in the mask (default: the settings' label).
    #[arg(long)]
    label: Option<i64>,
    /// Settings file with the [[filter]] tables (and any interpolation to apply first).
    #[arg(long)]
    settings: PathBuf,
    /// Which filter, by image type (e.g. `log_sigma_1.5mm`), when the settings have several.
    #[arg(long)]
    filter: Option<String>,
    /// Output NIfTI file (.nii or .nii.gz), float32.
    #[arg(short, long)]
    output: PathBuf,
    /// Plugin library whose filters the settings may select (`kind = "plugin"`;
    /// repeatable), in addition to $RADX_PLUGIN_PATH.
    #[arg(long = "plugin")]
    plugins: Vec<PathBuf>,
    #[command(flatten)]
    read: super::extract::ReadArgs,
}

pub fn run(args: &FilterArgs) -> Result<ExitCode, Error> {
    let inputs: Vec<&PathBuf> = [&args.image, &args.settings].into_iter().chain(&args.mask).collect();
    super::output::check_output(&args.output, &inputs)?;
    let mut settings = Settings::from_file(&args.settings)?;
    args.read.apply(&mut settings);
    let label = args.label.unwrap_or(settings.label);
    let plugins = super::plugins::load_registry(&args.plugins)?;
    let extractor = Extractor::new(settings, &[], plugins)?;
    super::plugins::report(&extractor);
    let stage = pick(&extractor, args.filter.as_deref(), &args.settings)?;
    let response = match &args.mask {
        Some(mask) => {
            let case = Case::new(args.image.clone(), mask.clone()).with_roi(label);
            let responses = extractor.responses(&case)?;
            responses.into_iter().find(|(t, _)| *t == stage).map(|(_, v)| v).expect("every stage has a response")
        }
        None => {
            let image = radx_io::read_volume_with(
                &args.image,
                &extractor.settings.read_options(extractor.settings.max_memory),
            )?;
            let stage = extractor.filters.iter().find(|s| s.image_type == stage).expect("picked among the stages");
            radx_engine::filtering::whole_image_response(
                &image,
                stage,
                &extractor.settings,
                &args.image.display().to_string(),
            )?
        }
    };
    write_float32(&args.output, &response)?;
    eprintln!("{}: {} response, {:?} voxels", args.output.display(), stage, response.grid.dims);
    Ok(ExitCode::SUCCESS)
}

/// The image type of the filter to write: the one asked for, or the settings' only one.
fn pick(extractor: &Extractor, asked: Option<&str>, settings: &std::path::Path) -> Result<ImageType, Error> {
    let names: Vec<String> = extractor.filters.iter().map(|s| s.image_type.to_string()).collect();
    let usage = |message: String| Error::Engine(radx_engine::Error::Usage(message));
    match (asked, names.as_slice()) {
        (_, []) => Err(usage(format!("{}: no [[filter]] table; add one (see docs/filters.md)", settings.display()))),
        (None, [only]) => Ok(ImageType::named(only.clone())),
        (None, _) => Err(usage(format!(
            "{} has {} filters: choose one with --filter ({})",
            settings.display(),
            names.len(),
            names.join(", ")
        ))),
        (Some(name), _) if names.iter().any(|n| n == name) => Ok(ImageType::named(name)),
        (Some(name), _) => {
            Err(usage(format!("no filter `{name}` in {}; its filters: {}", settings.display(), names.join(", "))))
        }
    }
}

fn write_float32(path: &std::path::Path, volume: &Volume<f64>) -> Result<(), Error> {
    Ok(radx_io::write_nifti(path, volume, radx_io::NiftiType::F32).map_err(radx_engine::Error::from)?)
}
