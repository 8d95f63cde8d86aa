//! Resource limits: the memory budget (`--max-memory`) and the checks that refuse a case
//! *before* a big allocation, with a message naming what would not fit and the setting
//! that caused it.
//!
//! Three places can need far more memory than the inputs suggest: reading an image whose
//! header claims a huge grid (checked in `radx_io` against [`radx_io::ReadOptions`]),
//! interpolation to a fine grid (IBSI 2.4: the target grid's size follows the new
//! spacing), and texture matrices (IBSI 3.6–3.11), whose size follows the number of grey
//! levels N_g that discretisation (IBSI 2.7) produces: a GLCM is N_g × N_g per slice and
//! direction, so a fixed bin size of 0.001 on CT intensities asks for terabytes.
//! The estimates here are lower bounds of what the code would allocate, so a refused
//! case would certainly not have fitted.

use radx_core::local_intensity::PeakPlan;
use radx_core::matrix::DiscretisedRoi;
use radx_core::roi::Roi;
use radx_core::{CoreError, Grid};

use crate::settings::{Binning, Settings};

/// A memory size that does not parse (`--max-memory`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// No number before the unit.
    #[error("`{0}` is not a size: expected a number with an optional unit, e.g. 2G or 512M")]
    NotANumber(String),
    /// A unit other than K, M, G, T.
    #[error("unknown size unit `{unit}` in `{text}` (use K, M, G or T)")]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// The whole text.
        text: String,
    },
    /// Zero, negative or beyond 2^64 bytes.
    #[error("`{0}` is not a usable memory size (at least 1 byte)")]
    Unusable(String),
}

/// Parse a memory size: a number of bytes with an optional binary unit suffix
/// `K`, `M`, `G`, `T` (also `KB`/`KiB`…, case-insensitive), e.g. `2G`, `512M`, `1.5G`.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| SizeError::NotANumber(text.to_string()))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => return Err(SizeError::UnknownUnit { unit: other.to_string(), text: text.to_string() }),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(SizeError::Unusable(text.to_string()));
    }
    Ok(bytes as u64)
}

fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// Refuse `needed` bytes for `what` when they exceed `budget`.
pub fn check(what: impl FnOnce() -> String, needed: u64, budget: u64) -> Result<(), CoreError> {
    if needed > budget {
        return Err(CoreError::MemoryBudget { what: what(), needed_mib: mib(needed), budget_mib: mib(budget) });
    }
    Ok(())
}

/// Before the target grid is even computed: the part of the interpolation grid `full`
/// covering `region` holds about Π (extent / new spacing) voxels. Computed in floating point,
/// so a spacing of 1e-300 mm is refused here instead of overflowing index arithmetic.
pub fn check_resampling_extent(region: &Grid, full: &Grid, settings: &Settings) -> Result<(), CoreError> {
    let voxels: f64 =
        (0..3).map(|a| region.dims[a] as f64 * region.spacing[a] / full.spacing[a] + 1.0).product::<f64>();
    let needed = voxels * 17.0;
    if needed < settings.max_memory as f64 {
        return Ok(());
    }
    let dims = (0..3).map(|a| format!("{:.3e}", region.dims[a] as f64 * region.spacing[a] / full.spacing[a] + 1.0));
    let dims: Vec<String> = dims.collect();
    check(
        || {
            format!(
                "interpolation to `resample.spacing` {:?} mm (about {} voxels around the ROI)",
                full.spacing,
                dims.join(" × ")
            )
        },
        if needed >= u64::MAX as f64 { u64::MAX } else { needed as u64 },
        settings.max_memory,
    )
}

/// Interpolating the ROI onto `target` holds the resampled image (f64), the mask
/// interpolated as f64 and thresholded to bool, and the source values as f64.
pub fn check_resampling(target: &Grid, settings: &Settings) -> Result<(), CoreError> {
    let voxels = target.dims.iter().fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
    let needed = voxels.saturating_mul(8 + 8 + 1);
    let spacing = settings.resample.as_ref().map(|r| r.spacing).unwrap_or_default();
    check(
        || {
            format!(
                "interpolation to `resample.spacing` {spacing:?} mm (a {} × {} × {} voxel grid around the ROI)",
                target.dims[0], target.dims[1], target.dims[2]
            )
        },
        needed,
        settings.max_memory,
    )
}

/// Bytes the matrices of the families over `sources` need at least on `levels`, by their
/// providers' estimates: the largest single source's need and that source's name. Plugin
/// sources have no estimate before they are built; the plugin host checks each matrix a
/// plugin returns against the budget instead.
fn texture_need<'a>(
    levels: &DiscretisedRoi,
    settings: &Settings,
    sources: impl IntoIterator<Item = &'a str>,
) -> Option<(u64, &'a str)> {
    let extent = crate::sources::RoiExtent::of(levels);
    let mut worst: Option<(u64, &str)> = None;
    for source in sources {
        let Some(provider) = crate::sources::provider(source) else { continue };
        let bytes = provider.matrix_bytes(source, &extent, settings);
        if bytes > 0 && worst.is_none_or(|(b, _)| bytes > b) {
            worst = Some((bytes, source));
        }
    }
    worst
}

/// The setting that decides N_g, for the message.
fn binning_setting(settings: &Settings) -> String {
    match &settings.discretisation.texture {
        Binning::FixedBinNumber { bins } => format!("`discretisation.texture.bins` = {bins}"),
        Binning::FixedBinSize { width, .. } => format!("`discretisation.texture.width` = {width}"),
        Binning::PyradiomicsBinWidth { width } => format!("PyRadiomics `binWidth` = {width}"),
        Binning::PyradiomicsBinCount { bins } => format!("PyRadiomics `binCount` = {bins}"),
    }
}

/// Refuse a case whose texture matrices (for the families over `sources`) would not fit
/// the memory budget, naming the discretisation setting and N_g.
pub fn check_texture(
    levels: &DiscretisedRoi,
    settings: &Settings,
    sources: &mut dyn Iterator<Item = &str>,
) -> Result<(), CoreError> {
    let Some((needed, source)) = texture_need(levels, settings, sources) else { return Ok(()) };
    check(
        || {
            format!(
                "the `{source}` texture matrices ({} grey levels from {}; use a coarser discretisation or fewer \
                 `texture.aggregations`)",
                levels.ng,
                binning_setting(settings)
            )
        },
        needed,
        settings.max_memory,
    )
}

/// Refuse a case whose intensity peaks (the `li` source, IBSI 3.2) would take the FFT path
/// ([`radx_core::local_intensity::PeakPlan`]: fine spacings) with more memory than the
/// budget. The run method needs nothing beyond the image's size, so it is never refused; a
/// ROI the peaks cannot use (empty, bad spacing) is left to the features to report.
pub fn check_peaks(
    roi: &Roi,
    settings: &Settings,
    mut sources: &mut dyn Iterator<Item = &str>,
) -> Result<(), CoreError> {
    if !Iterator::any(&mut sources, |s| s == "li") {
        return Ok(());
    }
    let Ok(plan) = PeakPlan::of(&roi.image, &roi.intensity) else { return Ok(()) };
    check(
        || {
            format!(
                "the local intensity peaks' FFT at {:?} mm spacing (a {} × {} × {} voxel image; use a coarser \
                 `resample.spacing` or a larger `--max-memory`)",
                roi.image.grid.spacing, roi.image.grid.dims[0], roi.image.grid.dims[1], roi.image.grid.dims[2]
            )
        },
        plan.fft_bytes,
        settings.max_memory,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use radx_core::Aggregation;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10 KB"), Ok(10 << 10));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2X").unwrap_err().to_string().contains("unit"));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1G").is_err());
    }

    #[test]
    fn matrices_per_aggregation() {
        use crate::sources::ibsi::matrix_count;
        // 10 slices: 2D averaging has one GLCM per slice and in-plane direction.
        assert_eq!(matrix_count("cm", Aggregation::Avg2d, 10), 40);
        assert_eq!(matrix_count("szm", Aggregation::Avg2d, 10), 10);
        assert_eq!(matrix_count("cm", Aggregation::Avg3d, 10), 13);
        assert_eq!(matrix_count("rlm", Aggregation::Merged3d, 10), 1);
    }

    /// Every built-in source is charged, PyRadiomics' `pyr_*` ones too: a 20³ ROI with 400
    /// grey levels has 13 PyRadiomics GLCMs of 400² doubles (16.6 MB); with a 10 MB budget the
    /// case is refused naming the source, as the IBSI GLCM (`cm`) is. Plugin sources have no
    /// estimate (the plugin host checks what they return).
    #[test]
    fn pyradiomics_sources_are_charged_like_the_ibsi_ones() {
        let levels = DiscretisedRoi {
            levels: ndarray::Array3::from_shape_fn((20, 20, 20), |(x, y, z)| ((x + 20 * y + 400 * z) % 400 + 1) as u16),
            ng: 400,
            morphological: ndarray::Array3::from_elem((20, 20, 20), true),
            spacing: [1.0; 3],
        };
        let settings = Settings {
            max_memory: 10 << 20,
            texture: crate::settings::Texture { aggregations: vec![Aggregation::Merged3d], ..Default::default() },
            pyradiomics: Some(Default::default()),
            ..Settings::default()
        };
        let refused = |source: &str| check_texture(&levels, &settings, &mut std::iter::once(source)).is_err();
        assert!(refused("pyr_glcm"));
        let message = check_texture(&levels, &settings, &mut ["pyr_glcm", "pyr_ngtdm"].into_iter()).unwrap_err();
        assert!(message.to_string().contains("`pyr_glcm`"), "{message}");
        // One merged IBSI GLCM of 400² doubles (1.3 MB) fits.
        assert!(!refused("cm"));
        assert!(!refused("my_plugin_source"));
    }

    /// A ball of radius 22 voxels at 0.25 mm in an 80³ image: 44 600 centres × 1 930 runs,
    /// so the global peak takes the FFT, whose signal alone is at least 16 · 80³ bytes
    /// (7.8 MiB). A 2 MiB budget refuses it naming the peaks and the spacing; 64 MiB lets it
    /// run; without the `li` source nothing is charged.
    #[test]
    fn the_peaks_fft_is_charged() {
        let n = 80;
        let image = radx_core::Volume::filled(Grid::new([n; 3], [0.25; 3]), 1.0);
        let c = n as f64 / 2.0;
        let intensity = ndarray::Array3::from_shape_fn((n, n, n), |(x, y, z)| {
            (x as f64 - c).powi(2) + (y as f64 - c).powi(2) + (z as f64 - c).powi(2) <= 22f64.powi(2)
        });
        let roi = Roi { image, morphological: intensity.clone(), intensity };
        let plan = PeakPlan::of(&roi.image, &roi.intensity).expect("a ROI");
        assert_eq!(plan.global, radx_core::local_intensity::PeakMethod::Fft, "{plan:?}");
        assert!(plan.fft_bytes >= 16 * 80u64.pow(3), "{plan:?}");
        let budget = |mib: u64| Settings { max_memory: mib << 20, ..Settings::default() };
        let message = check_peaks(&roi, &budget(2), &mut ["ih", "li"].into_iter()).unwrap_err().to_string();
        assert!(message.contains("local intensity peaks") && message.contains("[0.25, 0.25, 0.25]"), "{message}");
        assert!(check_peaks(&roi, &budget(64), &mut std::iter::once("li")).is_ok());
        assert!(check_peaks(&roi, &budget(2), &mut std::iter::once("ih")).is_ok());
    }
}
