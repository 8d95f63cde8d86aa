//! `radx map`: voxel-wise feature maps (a feature in the window around every ROI voxel),
//! one float32 image per feature. The computation is `radx_engine::maps`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Error;
use radx_engine::maps::{FeatureMaps, MapOptions, Window, feature_maps};
use radx_engine::{Extractor, Settings};

/// Map file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MapFormat {
    /// `.nii.gz`, float32.
    Nifti,
    /// `.nrrd` (gzip), float32.
    Nrrd,
}

/// Arguments of `radx map`.
#[derive(Debug, clap::Args)]
pub struct MapArgs {
    /// Image and mask, as for `radx extract` (NIfTI/NRRD, or DICOM with an RTSTRUCT or SEG).
    #[command(flatten)]
    case: super::extract::CaseArgs,
    /// Settings file (radx's, or a PyRadiomics parameter file: its `voxelSetting` gives the
    /// radius, masked mode and init value unless given here, and the maps get PyRadiomics' names).
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Feature files or folders (.radx) added to the library.
    #[arg(long = "features")]
    features: Vec<PathBuf>,
    /// Plugin library to load (repeatable; with those of `RADX_PLUGIN_PATH`).
    #[arg(long = "plugin")]
    plugins: Vec<PathBuf>,
    /// Map only this family (repeatable; default: every family that can be computed in a window).
    #[arg(long = "family")]
    families: Vec<String>,
    /// Window radius in voxels: a (2R+1)³ cube around every ROI voxel (a (2R+1)² square in its
    /// slice with a PyRadiomics parameter file that sets `force2D`).
    #[arg(long)]
    radius: Option<usize>,
    /// Window: the voxels within this many mm of every ROI voxel (a sphere), instead of a cube.
    #[arg(long, conflicts_with = "radius")]
    sphere_mm: Option<f64>,
    /// Count every image voxel of the window, not only the ROI's (PyRadiomics' `maskedKernel: false`).
    #[arg(long)]
    unmasked: bool,
    /// Value of the maps outside the ROI (default NaN; PyRadiomics' `initValue` with its parameter files).
    #[arg(long)]
    init_value: Option<f64>,
    /// Output folder (created if missing).
    #[arg(short, long)]
    output: PathBuf,
    /// Map file format.
    #[arg(long, value_enum, default_value_t = MapFormat::Nifti)]
    format: MapFormat,
    /// Also draw the ROI's middle slice into this PNG: the image with the ROI's outline, then
    /// every map with its colour bar (docs/maps.md).
    #[arg(long, value_name = "FILE.png")]
    preview: Option<PathBuf>,
    #[command(flatten)]
    read: super::extract::ReadArgs,
}

pub fn run(args: &MapArgs) -> Result<ExitCode, Error> {
    let mut settings = match &args.settings {
        Some(path) => radx_engine::compat::pyradiomics::load_settings(path, false)?.settings,
        None => Settings::default(),
    };
    args.read.apply(&mut settings);
    let pyradiomics = settings.pyradiomics.is_some();
    let mut options = MapOptions::from_voxel_setting(&settings).unwrap_or_default();
    if let Some(r) = args.radius {
        options.window = options.window.with_radius(r);
    }
    if let Some(mm) = args.sphere_mm {
        options.window = Window::Sphere(mm);
    }
    if args.unmasked {
        options.masked = false;
    }
    if let Some(v) = args.init_value {
        options.init_value = v;
    }
    options.families.clone_from(&args.families);
    let plugins = super::plugins::load_registry(&args.plugins)?;
    let mut extractor = Extractor::new(settings, &args.features, plugins)?;
    super::plugins::report(&extractor);
    if pyradiomics {
        extractor = extractor.with_pyradiomics_names()?;
    }
    let case = args.case.resolve(&extractor.settings)?;
    let maps = feature_maps(&extractor, &case, &options)?;
    // A map named like an input in the output folder would replace it: refuse first.
    let inputs = args.case.paths();
    for index in 0..maps.keys.len() {
        super::output::check_output(&args.output.join(file_name(&maps, index, args.format)), &inputs)?;
    }
    if let Some(path) = &args.preview {
        super::output::check_output(path, &inputs)?;
    }
    std::fs::create_dir_all(&args.output)
        .map_err(|source| radx_engine::Error::Write { path: args.output.display().to_string(), source })?;
    write_maps(&maps, &args.output, args.format)?;
    radx_engine::timings::mark_with(|| format!("{} maps written", maps.keys.len()));
    if let Some(path) = &args.preview {
        radx_io::write_png(path, &radx_engine::maps::preview(&maps))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The file name of map `index`: its name ([`FeatureMaps::name`]) and the format's extension.
pub fn file_name(maps: &FeatureMaps, index: usize, format: MapFormat) -> String {
    let name = maps.name(index);
    match format {
        MapFormat::Nifti => name + ".nii.gz",
        MapFormat::Nrrd => name + ".nrrd",
    }
}

/// Write every map, each file atomically by radx-io. Compressing is most of the time (less
/// since radx-io compresses the init value's long runs once per volume), so a few workers
/// write in turn (maps `w`, `w + workers`, …), each reusing one volume that holds the init
/// value and the ROI voxels' `f32` values (12 bytes a voxel, nothing the size of the
/// grid): each map converts only its ROI voxels (every map has the init value elsewhere).
fn write_maps(maps: &FeatureMaps, dir: &Path, format: MapFormat) -> Result<(), Error> {
    let n = maps.keys.len();
    let workers = std::thread::available_parallelism().map_or(1, |p| p.get()).clamp(1, 4).min(n.max(1));
    let write_from = |first: usize| -> Result<(), radx_io::IoError> {
        if first >= n {
            return Ok(());
        }
        let mut volume = radx_io::F32Volume::filled(maps.grid, maps.init_value);
        for index in (first..n).step_by(workers) {
            for (voxel, value) in maps.values_of(index) {
                volume.set(voxel, value);
            }
            let path = dir.join(file_name(maps, index, format));
            match format {
                MapFormat::Nifti => radx_io::write_nifti_f32(&path, &volume)?,
                MapFormat::Nrrd => radx_io::write_nrrd_f32(&path, &volume)?,
            }
        }
        Ok(())
    };
    let write_from = &write_from;
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|w| s.spawn(move || write_from(w))).collect();
        handles.into_iter().map(|h| h.join().expect("a map writer panicked")).collect()
    });
    // The first failure in worker order, so the message does not depend on timing.
    results.into_iter().collect::<Result<(), _>>()?;
    Ok(())
}
