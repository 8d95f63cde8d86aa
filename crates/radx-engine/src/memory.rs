//! The memory model: what each phase of an extraction holds at its peak, in bytes, from the
//! sizes the code allocates (not lower bounds), checked against the budget (`--max-memory`)
//! before the phase allocates. One model for every path: streamed and whole reads,
//! interpolation (IBSI and PyRadiomics), the processed ROI, texture matrices, the intensity
//! peaks' FFT, Moran's I, the ROI's mesh, convex hull and MVEE, filters run side by side,
//! and maps.
//!
//! A phase's need includes what stays held from earlier phases (the processed ROI while the
//! matrices are built), so the case's peak is the largest need. The process's own memory
//! (code, the compiled library, the allocator's arenas: [`PROCESS_BASE_BYTES`]) is not charged
//! to the budget; `RADX_TIMINGS=1` reports each need as it is checked, and the estimated peak
//! resident set is the largest need plus that base (docs/settings.md tabulates it against
//! measured peaks).

use radx_core::morphology::MeshSize;
use radx_core::{CoreError, Grid};

/// The resident memory of a `radx` process before any case (code pages, the compiled feature
/// library, thread stacks, allocator arenas): measured 10–13 MiB on the compare cases.
pub const PROCESS_BASE_BYTES: u64 = 10 << 20;

/// The processed ROI per voxel of its crop: the image (`f64`), the morphological and
/// intensity masks (`bool` each), the grey levels (`u16`) and their mask (`bool`).
pub const PROCESSED_BYTES_PER_VOXEL: u64 = 8 + 1 + 1 + 2 + 1;

/// The phases of an extraction that the model charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Reading image and mask (streamed as the ROI's box, or whole).
    Read,
    /// Interpolation to `resample.spacing` (IBSI) or PyRadiomics' `resampledPixelSpacing`.
    Interpolation,
    /// The texture matrices of the families' sources.
    Texture,
    /// The local and global intensity peaks' FFT (IBSI 3.2).
    Peaks,
    /// Moran's I and Geary's C weights by FFT (IBSI 3.1).
    Autocorrelation,
    /// The ROI's surface mesh, convex hull and minimum-volume enclosing ellipsoid (IBSI 3.1).
    Shape,
    /// Filter responses, computed side by side.
    Filters,
    /// Voxel-wise feature maps.
    Maps,
}

impl Phase {
    /// The phase as error messages and reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Read => "reading",
            Phase::Interpolation => "interpolation",
            Phase::Texture => "texture matrices",
            Phase::Peaks => "intensity peaks",
            Phase::Autocorrelation => "Moran's I / Geary's C",
            Phase::Shape => "morphology (mesh, convex hull, MVEE)",
            Phase::Filters => "filters",
            Phase::Maps => "feature maps",
        }
    }

    /// How to make the phase fit, besides a larger budget.
    fn fix(self) -> &'static str {
        match self {
            Phase::Read => "read a smaller image",
            Phase::Interpolation => "use a coarser `resample.spacing` (PyRadiomics: `resampledPixelSpacing`)",
            Phase::Texture => "use a coarser discretisation or fewer `texture.aggregations`",
            Phase::Peaks => "use a coarser `resample.spacing` or leave out the local intensity family",
            Phase::Autocorrelation => "use a coarser `resample.spacing` or leave out Moran's I and Geary's C",
            Phase::Shape => {
                "smooth the mask (a ragged ROI has a large surface), use a coarser `resample.spacing` or leave out the mesh-based morphological features"
            }
            Phase::Filters => "run fewer filters at once (`--jobs`, RAYON_NUM_THREADS) or fewer filters",
            Phase::Maps => "map fewer families or a smaller ROI",
        }
    }
}

/// What one phase holds at its peak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The phase.
    pub phase: Phase,
    /// Bytes held at the phase's peak, with what earlier phases still hold.
    pub bytes: u64,
    /// What is held, naming the sizes and the setting behind them.
    pub what: String,
}

impl Need {
    /// A need of `bytes` for `phase`.
    pub fn new(phase: Phase, bytes: u64, what: impl Into<String>) -> Need {
        Need { phase, bytes, what: what.into() }
    }

    /// Refuse the need when it exceeds `budget`, naming the phase, the estimate, the budget
    /// and how to fix it; report it to the phase timings (`RADX_TIMINGS`) either way.
    pub fn check(self, budget: u64) -> Result<(), CoreError> {
        crate::timings::mark_with(|| {
            format!("memory estimate: {} {} MiB ({})", self.phase.name(), mib(self.bytes), self.what)
        });
        if self.bytes <= budget {
            return Ok(());
        }
        Err(CoreError::MemoryBudget {
            phase: self.phase.name(),
            what: self.what,
            needed_mib: mib(self.bytes),
            budget_mib: mib(budget),
            fix: format!("{}, or raise the budget (`--max-memory`)", self.phase.fix()),
        })
    }
}

/// Bytes as MiB, rounded up.
pub fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

fn voxels(dims: [usize; 3]) -> u64 {
    dims.iter().fold(1u64, |n, &d| n.saturating_mul(d as u64))
}

/// Bytes of an `f64` volume of `dims` voxels.
pub fn f64_bytes(dims: [usize; 3]) -> u64 {
    voxels(dims).saturating_mul(8)
}

/// The processed ROI on a crop of `dims` voxels ([`PROCESSED_BYTES_PER_VOXEL`]).
pub fn processed_bytes(dims: [usize; 3]) -> u64 {
    voxels(dims).saturating_mul(PROCESSED_BYTES_PER_VOXEL)
}

/// Reading the ROI's box of an image streamed from a file: the reader's slices
/// ([`radx_io::region_reader_bytes`] for `image` voxels of `image_voxel_bytes`), the label
/// map's kept rows (`mask_bytes`, [`radx_io::LabelMask::bytes`]), the box's voxels as `f64`
/// and its mask as `bool`.
pub fn streamed_read(image: [usize; 3], image_voxel_bytes: u64, mask_bytes: u64, crop: [usize; 3]) -> u64 {
    radx_io::region_reader_bytes(image, image_voxel_bytes)
        .saturating_add(mask_bytes)
        .saturating_add(voxels(crop).saturating_mul(8 + 1))
}

/// Reading the part of an image a profile resamples slice by slice as it is read
/// (`Profile::slice_resampling`): the reader's slices ([`radx_io::region_reader_bytes`]),
/// the label map's kept rows (`mask_bytes`), the resampling's own arrays (`resampling`) and
/// `slices` of the part's z slices (`part` voxels) as `f64` in flight between them.
pub fn sliced_read(
    image: [usize; 3],
    image_voxel_bytes: u64,
    mask_bytes: u64,
    resampling: u64,
    part: [usize; 3],
    slices: usize,
) -> u64 {
    let slice = f64_bytes([part[0], part[1], 1]);
    radx_io::region_reader_bytes(image, image_voxel_bytes)
        .saturating_add(mask_bytes)
        .saturating_add(resampling)
        .saturating_add(slice.saturating_mul(slices as u64))
}

/// Interpolating a crop of `source` voxels onto `target` (IBSI 2.4,
/// `radx_core::processing::resample`): the crop held (image, two masks), the mask copied,
/// the mask as `f64`, the spline coefficients of the image or the mask (`f64`, one per
/// source voxel); on the target the image, the interpolated mask (`f64`) and its threshold
/// (`bool`).
pub fn ibsi_interpolation(source: [usize; 3], target: [usize; 3]) -> u64 {
    let source_bytes = voxels(source).saturating_mul(8 + 1 + 1 + 1 + 8 + 8);
    source_bytes.saturating_add(voxels(target).saturating_mul(8 + 8 + 1))
}

/// PyRadiomics' resampling (`compat::pyradiomics::processing::resample`) of an image
/// `region` read as `f64`, with the interpolation's own arrays (`working`, from
/// `radx_core::processing::resample::itk::working_bytes`).
pub fn pyradiomics_interpolation(region: [usize; 3], working: u64) -> u64 {
    f64_bytes(region).saturating_add(working)
}

/// At least how many voxels of the grid `full` a crop `region` covers: Π (extent / new
/// spacing) (the covering box has at most one more per axis), in floating point so that an
/// absurd spacing saturates instead of overflowing.
pub fn covered_voxels(region: &Grid, full: &Grid) -> f64 {
    (0..3).map(|a| region.dims[a] as f64 * region.spacing[a] / full.spacing[a]).product()
}

/// `f64` bytes as `u64`, saturating.
pub fn saturating_bytes(bytes: f64) -> u64 {
    if bytes >= u64::MAX as f64 { u64::MAX } else { bytes.max(0.0) as u64 }
}

/// The filters' phase: the processed ROI held, and `concurrent` stages at once, each
/// holding its filter's working arrays (`working`, from [`radx_filters::Filter::working_bytes`]
/// on the stage's crop) and its response's processed ROI. `stages` are (working bytes, crop
/// dims) per stage; the `concurrent` largest are charged.
pub fn filters(processed: u64, stages: &[(u64, [usize; 3])], concurrent: usize) -> u64 {
    let mut each: Vec<u64> =
        stages.iter().map(|&(working, dims)| working.saturating_add(processed_bytes(dims))).collect();
    each.sort_unstable_by(|a, b| b.cmp(a));
    each.iter().take(concurrent.max(1)).fold(processed, |sum, &b| sum.saturating_add(b))
}

/// The ROI's shape ([`crate::shape::Shape`]): the processed ROI held (`processed`), the
/// shape's copy of the morphological mask (a byte a voxel of `mask_voxels`), then the
/// largest of: building the mesh; the mesh and its convex hull being built (`hull`); the
/// mesh, the hull and the minimum-volume enclosing ellipsoid's arrays (`mvee`). The hull's
/// corners are counted as the mesh's vertices, among which they are (an upper bound).
pub fn shape(processed: u64, mask_voxels: u64, mesh: MeshSize, hull: bool, mvee: bool) -> u64 {
    use radx_core::morphology::{enclosing::mvee_bytes, hull_building_bytes, hull_bytes};
    let mut peak = mesh.building_bytes();
    if hull {
        peak = peak.max(mesh.bytes().saturating_add(hull_building_bytes(mesh.vertices)));
    }
    if mvee {
        let corners = mesh.vertices;
        peak = peak.max(mesh.bytes().saturating_add(hull_bytes(corners)).saturating_add(mvee_bytes(corners)));
    }
    processed.saturating_add(mask_voxels).saturating_add(peak)
}

/// The maps' phase: the processed ROI held (`processed`), each centre's `features` values
/// (`f64`, written by the windows straight into one table) and its list of notes (an empty
/// `Vec`, 24 bytes; notes themselves are rare), and the output volume on `grid` the maps are
/// written through.
pub fn maps(processed: u64, centres: u64, features: u64, grid: [usize; 3]) -> u64 {
    let per_centre = features.saturating_mul(8).saturating_add(24);
    processed.saturating_add(centres.saturating_mul(per_centre)).saturating_add(f64_bytes(grid))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 100×100×10 crop interpolated to half its spacing covers 199×199×19 target voxels
    /// (IBSI grid alignment keeps the corners): the source holds 27 bytes a voxel (100 000
    /// voxels: 2.7 MB), the target 17 (752 419 voxels: 12.8 MB).
    #[test]
    fn interpolation_by_hand() {
        assert_eq!(ibsi_interpolation([100, 100, 10], [199, 199, 19]), 100_000 * 27 + 199 * 199 * 19 * 17);
    }

    /// A 100×80×30 int16 image: its reader holds one 16 000-byte slice and, before the box is
    /// known, at most all 30 slices (480 000 bytes, under 16 MiB); then the mask's 5 000
    /// bytes, the resampling's 70 000, and 4 slices of a 40×30 part (9 600 bytes each).
    #[test]
    fn sliced_read_by_hand() {
        assert_eq!(sliced_read([100, 80, 30], 2, 5_000, 70_000, [40, 30, 12], 4), 16_000 + 480_000 + 75_000 + 38_400);
    }

    /// Two of three stages at once: the two largest are charged beside the processed ROI.
    #[test]
    fn concurrent_filters_charge_the_largest_stages() {
        let stages = [(1000, [10, 1, 1]), (5000, [10, 1, 1]), (3000, [10, 1, 1])];
        assert_eq!(filters(77, &stages, 2), 77 + 5000 + 130 + 3000 + 130);
        assert_eq!(filters(77, &stages, 8), 77 + 9000 + 3 * 130);
        assert_eq!(filters(77, &stages, 1), 77 + 5130);
        assert_eq!(filters(77, &[], 4), 77);
    }

    /// 1000 centres × 50 features: 8 bytes a value and 24 a centre, and the 64³ output volume.
    #[test]
    fn maps_by_hand() {
        assert_eq!(maps(0, 1000, 50, [64, 64, 64]), 1000 * (50 * 8 + 24) + 64 * 64 * 64 * 8);
    }

    /// One voxel (a 1-voxel crop: 13 bytes processed, 1 for the shape's mask), whose mesh is
    /// an octahedron of 6 vertices and 8 triangles (240 bytes). Building it: 24 corner keys
    /// pushed (capacity 32 × 8), 24 × 20 for the sorted keys and vertex numbers, 6 distinct
    /// keys pushed (capacity 8 × 8), the mesh: 1040. The hull being built beside the mesh:
    /// 6 × 57 + 8 × 24 = 534. The MVEE beside mesh and hull (6 corners: 6 × 24 + 12 × 12):
    /// 240 + 288 + 6 × 128 = 1296.
    #[test]
    fn shape_by_hand() {
        let mesh = MeshSize { vertices: 6, triangles: 8 };
        assert_eq!(shape(13, 1, mesh, false, false), 14 + 1040);
        assert_eq!(shape(13, 1, mesh, true, false), 14 + 1040);
        assert_eq!(shape(13, 1, mesh, true, true), 14 + 1296);
        assert_eq!(shape(0, 0, MeshSize { vertices: 1000, triangles: 0 }, true, false), 24_000 + 57_000 + 1024 * 24);
    }

    #[test]
    fn a_need_over_the_budget_names_phase_estimate_budget_and_fix() {
        let need = Need::new(Phase::Interpolation, 3 << 20, "a 100 × 100 × 40 grid");
        assert!(need.clone().check(3 << 20).is_ok());
        let message = need.check((3 << 20) - 1).unwrap_err().to_string();
        for part in [
            "interpolation:",
            "a 100 × 100 × 40 grid needs 3 MiB",
            "budget of 3 MiB",
            "resample.spacing",
            "--max-memory",
        ] {
            assert!(message.contains(part), "{part}: {message}");
        }
    }
}
