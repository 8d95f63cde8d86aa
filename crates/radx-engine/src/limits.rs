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

use radx_core::matrix::DiscretisedRoi;
use radx_core::{Aggregation, CoreError, Grid};

use crate::settings::{Binning, Settings};

/// Parse a memory size: a number of bytes with an optional binary unit suffix
/// `K`, `M`, `G`, `T` (also `KB`/`KiB`…, case-insensitive), e.g. `2G`, `512M`, `1.5G`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: expected a number with an optional unit, e.g. 2G or 512M"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => return Err(format!("unknown size unit `{other}` in `{text}` (use K, M, G or T)")),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` is not a usable memory size (at least 1 byte)"));
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

/// How many matrices an aggregation builds for a family over `source` on a ROI that
/// spans `slices` slices (IBSI 3.6.2 ff.: 4 in-plane and 13 volumetric directions).
fn matrix_count(source: &str, aggregation: Aggregation, slices: u64) -> u64 {
    let directional = matches!(source, "cm" | "rlm");
    match aggregation {
        Aggregation::Avg2d if directional => 4 * slices,
        Aggregation::Avg2d | Aggregation::SliceMerged2d => slices,
        Aggregation::DirectionMerged2_5d => 4,
        Aggregation::Merged2_5d | Aggregation::Merged3d => 1,
        Aggregation::Avg3d => 13,
    }
}

/// Bytes the texture matrices of the families over `sources` need at least on `levels`:
/// returns the largest single source's need and that source's name.
fn texture_need<'a>(
    levels: &DiscretisedRoi,
    settings: &Settings,
    sources: impl IntoIterator<Item = &'a str>,
) -> Option<(u64, &'a str)> {
    let ng = levels.ng as u64;
    let dims = levels.levels.dim();
    let longest = dims.0.max(dims.1).max(dims.2) as u64;
    // Folds visit memory order (x fastest here); `iter` would stride through it.
    let slices = (0..dims.2)
        .filter(|&z| levels.levels.index_axis(ndarray::Axis(2), z).fold(false, |any, &l| any | (l > 0)))
        .count() as u64;
    let voxels = levels.levels.fold(0u64, |n, &l| n + u64::from(l > 0));
    // Distinct zone sizes s_1 < s_2 < … < s_k in one matrix sum to at most N: k(k+1)/2 ≤ N.
    let zone_sizes = ((2.0 * voxels as f64).sqrt().ceil() as u64).max(1);
    let mut worst: Option<(u64, &str)> = None;
    for source in sources {
        let columns = match source {
            "cm" => ng,
            "rlm" => longest,
            "szm" => zone_sizes,
            "dzm" => longest.div_ceil(2) + 1,
            "ngl" => 27,
            "ngt" => 2,
            _ => continue,
        };
        let aggregations = settings
            .texture
            .aggregations
            .iter()
            .filter(|a| matches!(source, "cm" | "rlm") || Aggregation::ZONE.contains(a));
        let matrices: u64 = aggregations.map(|&a| matrix_count(source, a, slices)).sum();
        let bytes = ng.saturating_mul(columns).saturating_mul(8).saturating_mul(matrices);
        if worst.is_none_or(|(b, _)| bytes > b) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10 KB"), Ok(10 << 10));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2X").unwrap_err().contains("unit"));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1G").is_err());
    }

    #[test]
    fn matrices_per_aggregation() {
        // 10 slices: 2D averaging has one GLCM per slice and in-plane direction.
        assert_eq!(matrix_count("cm", Aggregation::Avg2d, 10), 40);
        assert_eq!(matrix_count("szm", Aggregation::Avg2d, 10), 10);
        assert_eq!(matrix_count("cm", Aggregation::Avg3d, 10), 13);
        assert_eq!(matrix_count("rlm", Aggregation::Merged3d, 10), 1);
    }
}
