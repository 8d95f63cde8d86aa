//! `radx convert`: a DICOM series, and optionally an RTSTRUCT ROI rasterised on its grid,
//! written as NIfTI for other tools, geometry kept (conventions: `docs/dicom.md`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use radx_dicom::{SeriesOptions, Volume, read_rtstruct_mask, read_series_with};
use radx_io::VoxelType;

use super::Error;

/// Arguments of `radx convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// DICOM series: a folder holding one series (or pick it with --series), or one file.
    #[arg(long)]
    image: PathBuf,
    /// RTSTRUCT file whose ROI (--roi) becomes the mask.
    #[arg(long, requires_all = ["roi", "output_mask"])]
    mask: Option<PathBuf>,
    /// Name of the ROI in the RTSTRUCT.
    #[arg(long)]
    roi: Option<String>,
    /// SeriesInstanceUID to read when the folder holds several series.
    #[arg(long)]
    series: Option<String>,
    /// NIfTI file for the image (.nii or .nii.gz), written atomically.
    #[arg(long)]
    output_image: PathBuf,
    /// NIfTI file for the mask (uint8, 1 inside the ROI).
    #[arg(long, requires = "mask")]
    output_mask: Option<PathBuf>,
}

/// The smallest NIfTI type that holds every value exactly: int16, else float32, else float64.
fn exact_type(volume: &Volume<f64>) -> VoxelType {
    let fits_i16 = |v: f64| v.fract() == 0.0 && (f64::from(i16::MIN)..=f64::from(i16::MAX)).contains(&v);
    if volume.data.iter().all(|v| fits_i16(*v)) {
        VoxelType::I16
    } else if volume.data.iter().all(|v| f64::from(*v as f32) == *v) {
        VoxelType::F32
    } else {
        VoxelType::F64
    }
}

/// Refuse outputs that would replace an input (a slice of the series, the RTSTRUCT) or
/// each other, before anything is written: the series is read into memory first, so
/// `--output-image` naming one of its files would otherwise replace it silently.
fn check_outputs(args: &ConvertArgs, series_files: &[PathBuf]) -> Result<(), Error> {
    let mut inputs: Vec<&Path> = series_files.iter().map(PathBuf::as_path).collect();
    inputs.push(&args.image);
    inputs.extend(args.mask.as_deref());
    super::output::check_output(&args.output_image, &inputs)?;
    if let Some(output_mask) = &args.output_mask {
        super::output::check_output(output_mask, &inputs)?;
        let same_file = std::fs::canonicalize(output_mask)
            .ok()
            .is_some_and(|m| std::fs::canonicalize(&args.output_image).is_ok_and(|i| i == m));
        if output_mask == &args.output_image || same_file {
            return Err(radx_engine::Error::Usage(format!(
                "--output-mask and --output-image are the same file ({}): the mask would replace the image",
                output_mask.display()
            ))
            .into());
        }
    }
    Ok(())
}

pub fn run(args: &ConvertArgs) -> Result<ExitCode, Error> {
    let opts = SeriesOptions { series_uid: args.series.clone(), ..SeriesOptions::default() };
    let series = read_series_with(&args.image, &opts)?;
    // The mask first: nothing is written when the ROI cannot be read.
    let mask = match (&args.mask, &args.roi, &args.output_mask) {
        (Some(rs), Some(roi), Some(output)) => Some((rs, roi, output, read_rtstruct_mask(rs, roi, &series)?)),
        _ => None,
    };
    check_outputs(args, &series.files)?;
    let datatype = exact_type(&series.volume);
    radx_io::write_nifti(&args.output_image, &series.volume, datatype)?;
    let mut out = String::new();
    let (dims, files) = (series.volume.grid.dims, series.files.len());
    let (image, output) = (args.image.display(), args.output_image.display());
    outln!(out, "{image}: {dims:?} {} voxels, {files} slices -> {output}", datatype.name());
    if let Some((rs, roi, output, mask)) = mask {
        let inside = mask.data.iter().filter(|v| **v).count();
        radx_io::write_nifti(output, &mask.map(|v| if *v { 1.0 } else { 0.0 }), VoxelType::U8)?;
        outln!(out, "{}: ROI {roi:?}, {inside} voxels -> {}", rs.display(), output.display());
    }
    super::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
