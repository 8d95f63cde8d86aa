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
//! The estimates are those of the memory model ([`crate::memory`]): what the code
//! allocates, phase by phase, with what earlier phases still hold.

use radx_core::local_intensity::PeakPlan;
use radx_core::matrix::DiscretisedRoi;
use radx_core::morphology::MeshSize;
use radx_core::roi::Roi;
use radx_core::{CoreError, Grid};

use crate::memory::{self, Need, Phase};
use crate::settings::{Binning, Settings};
use crate::shape::ShapeNeeds;

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

/// Before the target grid is even computed: interpolating a crop of `source` voxels whose
/// part `region` covers at least [`memory::covered_voxels`] of the grid `full`. Computed in
/// floating point, so a spacing of 1e-300 mm is refused here instead of overflowing index
/// arithmetic.
pub fn check_resampling_extent(
    source: [usize; 3],
    region: &Grid,
    full: &Grid,
    settings: &Settings,
) -> Result<(), CoreError> {
    let target = memory::covered_voxels(region, full);
    let bytes = memory::ibsi_interpolation(source, [0; 3]) as f64 + target * 17.0;
    let dims: Vec<String> =
        (0..3).map(|a| format!("{:.3e}", region.dims[a] as f64 * region.spacing[a] / full.spacing[a])).collect();
    Need::new(
        Phase::Interpolation,
        memory::saturating_bytes(bytes),
        format!("`resample.spacing` {:?} mm (about {} voxels around the ROI)", full.spacing, dims.join(" × ")),
    )
    .check(settings.max_memory)
}

/// Interpolating a crop of `source` voxels onto `target` ([`memory::ibsi_interpolation`]).
pub fn check_resampling(source: [usize; 3], target: &Grid, settings: &Settings) -> Result<(), CoreError> {
    let spacing = settings.resample.as_ref().map(|r| r.spacing).unwrap_or_default();
    let [x, y, z] = target.dims;
    Need::new(
        Phase::Interpolation,
        memory::ibsi_interpolation(source, target.dims),
        format!("`resample.spacing` {spacing:?} mm (a {x} × {y} × {z} voxel grid from {source:?} voxels)"),
    )
    .check(settings.max_memory)
}

/// Bytes the matrices of the families over `sources` need on `levels`, by their providers'
/// estimates: the sum over the sources (built side by side and held while the families are
/// evaluated) and the largest source's name. Plugin sources have no estimate before they
/// are built; the plugin host checks each matrix a plugin returns against the budget instead.
fn texture_need<'a>(
    levels: &DiscretisedRoi,
    settings: &Settings,
    sources: impl IntoIterator<Item = &'a str>,
) -> Option<(u64, &'a str)> {
    let extent = crate::sources::RoiExtent::of(levels);
    let mut seen = std::collections::BTreeSet::new();
    let (mut sum, mut worst): (u64, Option<(u64, &str)>) = (0, None);
    for source in sources {
        let Some(provider) = crate::sources::provider(source) else { continue };
        if !seen.insert(source) {
            continue;
        }
        let bytes = provider.matrix_bytes(source, &extent, settings);
        sum = sum.saturating_add(bytes);
        if bytes > 0 && worst.is_none_or(|(b, _)| bytes > b) {
            worst = Some((bytes, source));
        }
    }
    worst.map(|(_, source)| (sum, source))
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

/// Refuse a case whose texture matrices (for the families over `sources`), with its
/// processed ROI, would not fit the memory budget, naming the discretisation setting and N_g.
pub fn check_texture(
    levels: &DiscretisedRoi,
    settings: &Settings,
    sources: &mut dyn Iterator<Item = &str>,
) -> Result<(), CoreError> {
    let Some((needed, source)) = texture_need(levels, settings, sources) else { return Ok(()) };
    let processed = memory::processed_bytes(dims_of(&levels.levels));
    Need::new(
        Phase::Texture,
        processed.saturating_add(needed),
        format!("the `{source}` and other matrices ({} grey levels from {})", levels.ng, binning_setting(settings)),
    )
    .check(settings.max_memory)
}

fn dims_of<T>(array: &ndarray::Array3<T>) -> [usize; 3] {
    let (x, y, z) = array.dim();
    [x, y, z]
}

/// Refuse a case whose intensity peaks (the `li` source, IBSI 3.2) would take the FFT path
/// ([`radx_core::local_intensity::PeakPlan`]: fine spacings) with more memory than the
/// budget (with the processed ROI). The run method needs nothing beyond the image's size,
/// so it is never refused; a ROI the peaks cannot use (empty, bad spacing) is left to the
/// features to report.
pub fn check_peaks(
    roi: &Roi,
    settings: &Settings,
    mut sources: &mut dyn Iterator<Item = &str>,
) -> Result<(), CoreError> {
    if !Iterator::any(&mut sources, |s| s == "li") {
        return Ok(());
    }
    let Ok(plan) = PeakPlan::of(&roi.image, &roi.intensity) else { return Ok(()) };
    if plan.fft_bytes == 0 {
        return Ok(());
    }
    let [x, y, z] = roi.image.grid.dims;
    Need::new(
        Phase::Peaks,
        memory::processed_bytes(roi.image.grid.dims).saturating_add(plan.fft_bytes),
        format!("the FFT at {:?} mm spacing (a {x} × {y} × {z} voxel image)", roi.image.grid.spacing),
    )
    .check(settings.max_memory)
}

/// Refuse a case whose Moran's I and Geary's C (IBSI 3.1), computed by FFT for large ROIs
/// ([`radx_core::morphology::autocorrelation_bytes`]), would not fit the budget beside the
/// processed ROI. Only called when the library uses them.
pub fn check_autocorrelation(roi: &Roi, settings: &Settings) -> Result<(), CoreError> {
    let bytes = radx_core::morphology::autocorrelation_bytes(&roi.morphological);
    let [x, y, z] = roi.image.grid.dims;
    Need::new(
        Phase::Autocorrelation,
        memory::processed_bytes(roi.image.grid.dims).saturating_add(bytes),
        format!("the weights of a ROI in a {x} × {y} × {z} voxel crop at {:?} mm", roi.image.grid.spacing),
    )
    .check(settings.max_memory)
}

/// The shape's need ([`memory::shape`]) for a morphological `mask` (the whole crop) at
/// `spacing`, its mesh counted first ([`MeshSize::of`]): `None` when `needs` builds no mesh.
pub fn shape_need(mask: &ndarray::Array3<bool>, spacing: [f64; 3], needs: ShapeNeeds) -> Option<Need> {
    if !needs.mesh() {
        return None;
    }
    let (x, y, z) = mask.dim();
    let voxels = (x * y * z) as u64;
    let mesh = MeshSize::of(mask, spacing);
    let bytes = memory::shape(memory::processed_bytes([x, y, z]), voxels, mesh, needs.hull(), needs.mvee());
    let what = format!(
        "the ROI's surface ({} mesh vertices, {} triangles in a {x} × {y} × {z} voxel crop)",
        mesh.vertices, mesh.triangles
    );
    Some(Need::new(Phase::Shape, bytes, what))
}

/// Refuse a case whose surface mesh, convex hull and enclosing ellipsoid (those `needs`
/// asks for) would not fit the budget beside the processed ROI.
pub fn check_shape(roi: &Roi, needs: ShapeNeeds, settings: &Settings) -> Result<(), CoreError> {
    shape_need(&roi.morphological, roi.image.grid.spacing, needs).map_or(Ok(()), |need| need.check(settings.max_memory))
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
        assert!(message.contains("intensity peaks:") && message.contains("[0.25, 0.25, 0.25]"), "{message}");
        assert!(check_peaks(&roi, &budget(64), &mut std::iter::once("li")).is_ok());
        assert!(check_peaks(&roi, &budget(2), &mut std::iter::once("ih")).is_ok());
    }

    /// A checkerboard of 20³ voxels: 4000 isolated voxels, each an octahedron (24 000 mesh
    /// vertices, 32 000 triangles). With the MVEE: the mesh (960 000 bytes), a hull of at most
    /// as many corners (1 152 000) and the MVEE's arrays (3 072 000), beside the processed
    /// ROI (104 000) and the mask (8000): 5 296 000 bytes, 6 MiB. A 5 MiB budget refuses it
    /// naming the phase and the mesh; 6 MiB lets it run; a library without mesh-based
    /// features is not charged.
    #[test]
    fn a_ragged_surface_is_charged() {
        let mask = ndarray::Array3::from_shape_fn((20, 20, 20), |(x, y, z)| (x + y + z) % 2 == 0);
        let image = radx_core::Volume::filled(Grid::new([20; 3], [1.0; 3]), 1.0);
        let roi = Roi { image, morphological: mask.clone(), intensity: mask };
        let mvee = ShapeNeeds::of_texts(&["mvee_volume() / mesh_volume()"]);
        let need = shape_need(&roi.morphological, [1.0; 3], mvee).expect("a mesh");
        assert_eq!(need.bytes, 5_296_000);
        let budget = |mib: u64| Settings { max_memory: mib << 20, ..Settings::default() };
        let message = check_shape(&roi, mvee, &budget(5)).unwrap_err().to_string();
        assert!(message.contains("morphology (mesh, convex hull, MVEE):") && message.contains("24000 mesh vertices"));
        assert!(
            message.contains("needs 6 MiB") && message.contains("budget of 5 MiB") && message.contains("--max-memory")
        );
        assert!(check_shape(&roi, mvee, &budget(6)).is_ok());
        assert!(check_shape(&roi, ShapeNeeds::of_texts(&["n_voxels()"]), &budget(1)).is_ok());
    }
}
