//! The `pyr_*` sources PyRadiomics' feature library is written over, and the library itself.

use radx_core::matrix::glcm::{GlcmSettings, glcm_directions};
use radx_core::matrix::glrlm::glrlm_directions;
use radx_core::matrix::ngldm::ngldm_over_offsets;
use radx_core::matrix::{Aggregation, DiscretisedRoi, TextureMatrix, glszm::glszm, ngtdm::ngtdm_over_offsets};
use radx_core::sources::histogram;
use radx_dsl::{BuiltinImpl, BuiltinSpec, ParamValue, Registry, SourceData, SourceSchema};

use super::angles::{angle_count, angles};
use super::options::WeightingNorm;
use super::shape::shape_source;
use crate::model::ProcessedCase;
use crate::settings::Settings;
use crate::sources::provider::{Instances, RoiExtent, SourceContext, SourceProvider};

/// PyRadiomics' `pyr_*` sources, as a [`SourceProvider`].
pub struct PyradiomicsSources;

/// Names of the sources [`PyradiomicsSources`] builds.
const NAMES: [&str; 8] =
    ["pyr_glcm", "pyr_glrlm", "pyr_glszm", "pyr_gldm", "pyr_ngtdm", "pyr_firstorder", "pyr_shape", "pyr_shape2D"];

impl SourceProvider for PyradiomicsSources {
    fn shape_only(&self, source: &str) -> bool {
        matches!(source, "pyr_shape" | "pyr_shape2D")
    }

    fn provides(&self, source: &str) -> bool {
        NAMES.contains(&source)
    }

    fn register(&self, registry: &mut Registry, _settings: &Settings) {
        register_sources(registry);
    }

    /// One matrix per angle for the GLCM (those of every distance) and the GLRLM (13, or 4
    /// with `force2D`), one over the ROI for the others; N_g rows at most (absent levels are
    /// deleted).
    fn matrix_bytes(&self, source: &str, extent: &RoiExtent, settings: &Settings) -> u64 {
        let options = settings.pyradiomics.clone().unwrap_or_default();
        // The angles that fit a box as long as the ROI's longest side on every axis: at least
        // as many as fit the ROI's own box.
        let side = usize::try_from(extent.longest).unwrap_or(usize::MAX);
        let count = |distances: &[usize]| angle_count([side; 3], distances, options.force_2d, false) as u64;
        let (matrices, columns) = match source {
            "pyr_glcm" => (count(&options.distances), extent.ng),
            "pyr_glrlm" => (count(&[1]), extent.longest),
            "pyr_glszm" => (1, extent.max_zone_sizes()),
            "pyr_gldm" => (1, 27),
            "pyr_ngtdm" => (1, 2),
            _ => return 0,
        };
        extent.ng.saturating_mul(columns).saturating_mul(8).saturating_mul(matrices)
    }

    fn build(&self, ctx: &SourceContext<'_, '_>, source: &str, _params: &[(String, ParamValue)]) -> Instances {
        match build_source(source, ctx.case, &ctx.levels, ctx.host.shape(), ctx.settings, ctx.parallel) {
            Some(data) => vec![(None, data)],
            None => vec![(None, Ok(vec![SourceData::new()]))],
        }
    }
}

/// The PyRadiomics library, embedded: (file name, text).
pub const LIBRARY: &[(&str, &str)] = &[
    (
        "features/pyradiomics/firstorder.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/pyradiomics/firstorder.radx")),
    ),
    (
        "features/pyradiomics/shape.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/pyradiomics/shape.radx")),
    ),
    (
        "features/pyradiomics/shape2D.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/pyradiomics/shape2D.radx")),
    ),
    (
        "features/pyradiomics/glcm.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/pyradiomics/glcm.radx")),
    ),
    (
        "features/pyradiomics/glrlm.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/pyradiomics/glrlm.radx")),
    ),
    (
        "features/pyradiomics/glszm.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/pyradiomics/glszm.radx")),
    ),
    (
        "features/pyradiomics/gldm.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/pyradiomics/gldm.radx")),
    ),
    (
        "features/pyradiomics/ngtdm.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/pyradiomics/ngtdm.radx")),
    ),
];

/// Declare the `pyr_*` sources.
pub fn register_sources(r: &mut Registry) {
    let level = "grey level present in the ROI (PyRadiomics deletes absent levels); values are the levels";
    r.register_source(
        SourceSchema::new("pyr_glcm", "PyRadiomics GLCM: one normalised matrix per angle (features averaged)")
            .axis("level", level)
            .array("p", &["level", "level"], "joint probability p(i,j) of the angle")
            .scalar("Ng", "highest grey level of the ROI (PyRadiomics' N_g; a map's window keeps the whole ROI's)"),
    );
    for (name, array, second, what) in [
        ("pyr_glrlm", "r", "run", "PyRadiomics GLRLM: one matrix per angle (features averaged)"),
        ("pyr_glszm", "s", "size", "PyRadiomics GLSZM: one matrix over the ROI"),
        ("pyr_gldm", "d", "dependence", "PyRadiomics GLDM: one matrix over the ROI"),
    ] {
        r.register_source(
            SourceSchema::new(name, what)
                .axis("level", level)
                .axis(second, "values of the second index that occur")
                .array(array, &["level", second], "raw counts P(i,j)")
                .scalar("Nz", "sum of all counts (N_r runs, N_z zones)")
                .scalar("Np", "number of voxels the matrix covers (Σ P(i,j)·j for runs)"),
        );
    }
    r.register_source(
        SourceSchema::new("pyr_ngtdm", "PyRadiomics NGTDM: one matrix over the ROI")
            .axis("level", level)
            .array("n", &["level"], "ROI voxels of level i (PyRadiomics counts those without neighbours too)")
            .array("s", &["level"], "Σ |i − mean neighbour level| (0 for a voxel without neighbours)")
            .array("p", &["level"], "n_i / Nvp")
            .scalar("Nvp", "ROI voxels (PyRadiomics' N_vp)")
            .scalar("Ngp", "grey levels present"),
    );
    r.register_source(
        SourceSchema::new(
            "pyr_firstorder",
            "PyRadiomics first order: raw ROI intensities and the discretised histogram",
        )
        .axis("voxel", "ROI voxel; values 1..N")
        .axis("level", "discretised grey level present")
        .array("x", &["voxel"], "intensity of each ROI voxel")
        .array("h", &["level"], "voxels per discretised level")
        .scalar("N", "number of ROI voxels")
        .scalar("shift", "voxelArrayShift")
        .scalar("voxel_volume", "volume of one voxel (mm³)"),
    );
    r.register_source(
        SourceSchema::new(
            "pyr_shape",
            "PyRadiomics shape: mesh, voxel and PCA quantities of the ROI (builtins as scalars)",
        )
        .scalar("Np", "number of ROI voxels")
        .scalar("voxel_volume", "volume of one voxel (mm³)")
        .scalar("mesh_volume", "marching-cubes volume as PyRadiomics sums it cube by cube (mm³)")
        .scalar("mesh_area", "marching-cubes area as PyRadiomics sums it cube by cube (mm²)")
        .scalar("lambda_major", "largest eigenvalue of the population covariance of the voxel centres (mm²)")
        .scalar("lambda_minor", "second eigenvalue")
        .scalar("lambda_least", "smallest eigenvalue")
        .scalar("max_3d", "largest distance between mesh vertices (mm)")
        .scalar("max_2d_slice", "largest distance between mesh vertices of one axial plane (constant z)")
        .scalar("max_2d_column", "largest distance between mesh vertices of one coronal plane (constant y)")
        .scalar("max_2d_row", "largest distance between mesh vertices of one sagittal plane (constant x)"),
    );
    r.register_source(
        SourceSchema::new(
            "pyr_shape2D",
            "PyRadiomics shape2D: marching-squares contour and PCA of a ROI in one slice (force2D)",
        )
        .scalar("Np", "number of ROI pixels")
        .scalar("pixel_area", "area of one pixel (mm²)")
        .scalar("mesh_surface", "area enclosed by the marching-squares contour (mm²)")
        .scalar("perimeter", "length of the marching-squares contour (mm)")
        .scalar("max_diameter", "largest distance between contour vertices (mm)")
        .scalar("lambda_major", "larger eigenvalue of the population covariance of the pixel centres (mm²)")
        .scalar("lambda_minor", "smaller eigenvalue"),
    );
    register_builtins(r);
}

/// `pyr_shape2D` data: PyRadiomics' 2D shape of a ROI lying in one slice of constant z.
fn shape_2d_source(case: &ProcessedCase) -> Result<Vec<SourceData>, String> {
    let mask = &case.roi.morphological;
    let [sx, sy, _] = case.roi.image.grid.spacing;
    let bbox = radx_core::BoundingBox::of_mask(mask).ok_or("the ROI is empty")?;
    let slices = bbox.dims()[2];
    if slices != 1 {
        return Err(format!(
            "PyRadiomics' shape2D needs a ROI in one slice of constant z (force2D), but this ROI spans {slices} slices"
        ));
    }
    let slice = mask.index_axis(ndarray::Axis(2), bbox.min[2]).to_owned();
    let contour = super::shape::pyradiomics_contour_2d(&slice, [sx, sy]).ok_or("the ROI is empty")?;
    // Population covariance of the pixel centres (PyRadiomics divides by N), then the
    // eigenvalues of the symmetric 2×2 matrix in closed form.
    let points: Vec<[f64; 2]> =
        slice.indexed_iter().filter(|(_, m)| **m).map(|((x, y), _)| [x as f64 * sx, y as f64 * sy]).collect();
    let n = points.len() as f64;
    let mean = [0, 1].map(|k| points.iter().map(|p| p[k]).sum::<f64>() / n);
    let cov = |i: usize, j: usize| points.iter().map(|p| (p[i] - mean[i]) * (p[j] - mean[j])).sum::<f64>() / n;
    let (cxx, cxy, cyy) = (cov(0, 0), cov(0, 1), cov(1, 1));
    let half_trace = (cxx + cyy) / 2.0;
    let spread = (((cxx - cyy) / 2.0).powi(2) + cxy * cxy).sqrt();
    Ok(vec![
        SourceData::new()
            .with_scalar("Np", n)
            .with_scalar("pixel_area", sx * sy)
            .with_scalar("mesh_surface", contour.area)
            .with_scalar("perimeter", contour.perimeter)
            .with_scalar("max_diameter", contour.max_diameter)
            .with_scalar("lambda_major", half_trace + spread)
            // Rounding can make a zero eigenvalue slightly negative (PyRadiomics sets those to 0).
            .with_scalar("lambda_minor", (half_trace - spread).max(0.0)),
    ])
}

/// Declare the builtins of the `pyr_*` sources.
fn register_builtins(r: &mut Registry) {
    r.register_builtin(BuiltinSpec {
        name: "mcc".into(),
        args: Vec::new(),
        doc: "maximal correlation coefficient of this angle's p: √(second largest eigenvalue of Q)".into(),
        source: Some("pyr_glcm".into()),
        implementation: BuiltinImpl::GlcmMcc,
    });
}

/// Grey levels present in the intensity mask, ascending, from its histogram (`counts[l - 1]`
/// voxels of level `l`, [`histogram`]).
fn present_levels(counts: &[f64]) -> Vec<u16> {
    (1..=counts.len()).filter(|&l| counts[l - 1] > 0.0).map(|l| l as u16).collect()
}

fn axis(values: &[u16]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

/// Source data of a `pyr_*` source, `None` for another source. `Err` when a matrix cannot
/// be built. Texture matrices are built on `levels`: the case's, or the same cut to the
/// ROI's box ([`DiscretisedRoi::cropped_to_voxels`]). `pyr_shape` is taken from `shape` (the
/// case's) when it was computed while the image was read. The GLCM's and GLRLM's angles are
/// counted concurrently when `parallel` (a case's, not a feature map's window).
pub fn build_source(
    source: &str,
    case: &ProcessedCase,
    levels: &DiscretisedRoi,
    shape: &crate::shape::Shape,
    settings: &Settings,
    parallel: bool,
) -> Option<Result<Vec<SourceData>, String>> {
    // Every source here is named pyr_…; the others (builtin-only sources) skip the scans below.
    if !source.starts_with("pyr_") {
        return None;
    }
    // Borrowed: a feature map builds every source once per window.
    let default_options;
    let options = match &settings.pyradiomics {
        Some(options) => options,
        None => {
            default_options = super::options::PyradiomicsOptions::default();
            &default_options
        }
    };
    let roi = levels;
    let level_counts = histogram(roi);
    let present = present_levels(&level_counts);
    // The texture matrices keep only the present levels: built on them renumbered
    // (`matrix_levels[i]` is `present[i]`'s level there), they count the same on fewer rows.
    // Renumbered only for the sources that count matrices (a window builds each source).
    let some_absent = present.len() < roi.ng;
    let renumbered = std::cell::OnceCell::new();
    let matrix_roi = || if some_absent { renumbered.get_or_init(|| roi.renumbered(&present)) } else { roi };
    let matrix_levels: Vec<u16> = if some_absent { (1..=present.len() as u16).collect() } else { present.clone() };
    let zone_aggregation = if options.force_2d { Aggregation::Merged2_5d } else { Aggregation::Merged3d };
    // PyRadiomics' angles: its texture classes see the image cropped to the ROI's box, and its
    // C code generates only the angles whose offset fits in that image (|offset| < size).
    // Computed for the sources that need angles only.
    let extent = std::cell::OnceCell::new();
    let angles = |distances: &[usize], bidirectional: bool| {
        angles(*extent.get_or_init(|| roi_extent(&roi.levels)), distances, options.force_2d, bidirectional)
    };
    let result = match source {
        "pyr_glcm" => {
            // Each angle is a whole offset (e.g. (2, 1, 0) for distance 2), counted at distance 1.
            let glcm_settings = GlcmSettings { distance: 1, symmetric: settings.texture.glcm_symmetric };
            let directions = angles(&options.distances, false);
            let per_angle: Vec<([i32; 3], Vec<f64>)> = directions
                .iter()
                .zip(glcm_directions(matrix_roi(), &glcm_settings, None, &directions, parallel))
                .map(|(&d, m)| {
                    let present_square = |m: TextureMatrix| square_present(m, &matrix_levels);
                    (d, m.map(present_square).unwrap_or_else(|| vec![0.0; present.len().pow(2)]))
                })
                .collect();
            // A single empty GLCM, which PyRadiomics keeps, gives NaN for every feature, as no
            // matrix does here (radx's MCC, Imc2 and MaximumProbability of a zero matrix are not).
            let matrices: Vec<Vec<f64>> =
                weighted(per_angle, options.weighting_norm.map(|norm| move |d: [i32; 3]| norm.weight(d, roi.spacing)))
                    .into_iter()
                    .filter(|m| m.iter().any(|&v| v > 0.0))
                    .collect();
            Ok(matrices
                .into_iter()
                .map(|mut p| {
                    // Counts to probabilities in place: a map's every window and angle has one.
                    let total: f64 = p.iter().sum();
                    p.iter_mut().for_each(|c| *c /= total);
                    SourceData::new()
                        .with_axis("level", axis(&present))
                        .with_array("p", vec![present.len(), present.len()], p)
                        .with_scalar("Ng", roi.ng as f64)
                })
                .collect())
        }
        "pyr_glrlm" => {
            let max_run = roi.levels.dim().0.max(roi.levels.dim().1).max(roi.levels.dim().2);
            let directions = angles(&[1], false);
            let per_angle: Vec<([i32; 3], Vec<f64>)> = directions
                .iter()
                .zip(glrlm_directions(matrix_roi(), None, &directions, parallel))
                .map(|(&d, m)| {
                    let mut dense = vec![0.0; present.len() * max_run];
                    // PyRadiomics drops a direction in which no line holds two ROI voxels.
                    if let Some(m) = m.filter(|_| pyradiomics_multi_element(&roi.levels, d)) {
                        // The non-zero entries, row-major (as `TextureMatrix::nonzero`, without its list).
                        for ((r, c), &count) in m.counts.indexed_iter().filter(|(_, v)| **v != 0.0) {
                            if let Some(row) = matrix_levels.iter().position(|&l| usize::from(l) == r + 1) {
                                dense[row * max_run + m.col_values[c] as usize - 1] += count;
                            }
                        }
                    }
                    (d, dense)
                })
                .collect();
            let matrices =
                weighted(per_angle, options.weighting_norm.map(|norm| move |d| glrlm_weight(norm, d, roi.spacing)));
            // Keep the run lengths that occur in some angle (PyRadiomics deletes the others).
            let runs: Vec<usize> = (0..max_run)
                .filter(|&c| matrices.iter().any(|m| (0..present.len()).any(|r| m[r * max_run + c] > 0.0)))
                .collect();
            let level_axis = axis(&present);
            let run_axis: Vec<f64> = runs.iter().map(|&c| (c + 1) as f64).collect();
            Ok(matrices
                .into_iter()
                .map(|mut data| {
                    let np: f64 = (0..present.len())
                        .flat_map(|r| runs.iter().map(move |&c| (r, c)))
                        .map(|(r, c)| data[r * max_run + c] * (c + 1) as f64)
                        .sum();
                    // The kept runs' columns, moved to the front of the angle's own matrix (a
                    // map's every window and angle has one): each cell's place is at or before
                    // where it is read from (`runs[k] >= k`), and places are written in order.
                    let mut kept = 0;
                    for r in 0..present.len() {
                        for &c in &runs {
                            data[kept] = data[r * max_run + c];
                            kept += 1;
                        }
                    }
                    data.truncate(kept);
                    let nr: f64 = data.iter().sum();
                    SourceData::new()
                        .with_axis("level", level_axis.clone())
                        .with_axis("run", run_axis.clone())
                        .with_array("r", vec![present.len(), runs.len()], data)
                        .with_scalar("Nz", nr)
                        .with_scalar("Np", np)
                })
                .collect())
        }
        "pyr_glszm" => glszm(matrix_roi(), zone_aggregation)
            .map_err(|e| e.to_string())
            .map(|ms| ms.iter().map(|m| zone_data(m, &matrix_levels, &present, "s", "size")).collect()),
        // PyRadiomics' GLDM and NGTDM neighbourhood: the angles of `distances`, both signs
        // (for [2] the shell of norm 2, not the box of radius 2).
        "pyr_gldm" => {
            // α > 0 compares levels' differences, which renumbering would change.
            let alpha = settings.texture.ngldm_alpha;
            let (gldm_roi, rows) = if alpha == 0 { (matrix_roi(), &matrix_levels) } else { (roi, &present) };
            ngldm_over_offsets(gldm_roi, alpha, zone_aggregation, &angles(&options.distances, true))
                .map_err(|e| e.to_string())
                .map(|ms| ms.iter().map(|m| zone_data(m, rows, &present, "d", "dependence")).collect())
        }
        // PyRadiomics' NGTDM counts every ROI voxel in n_i, a voxel without ROI neighbours with
        // s = 0 (its C code, `calculate_ngtdm`), where the IBSI's counts only voxels with a valid
        // neighbourhood: n_i is the ROI's histogram and N_vp its voxel count.
        "pyr_ngtdm" => ngtdm_over_offsets(roi, zone_aggregation, &angles(&options.distances, true))
            .map_err(|e| e.to_string())
            .map(|ms| {
                let n: Vec<f64> = present.iter().map(|&l| level_counts[usize::from(l) - 1]).collect();
                let s: Vec<f64> =
                    present.iter().map(|&l| ms.first().map_or(0.0, |m| m.s[usize::from(l) - 1])).collect();
                let nvp: f64 = n.iter().sum();
                let p: Vec<f64> = n.iter().map(|v| v / nvp).collect();
                vec![
                    SourceData::new()
                        .with_axis("level", axis(&present))
                        .with_array("n", vec![present.len()], n)
                        .with_array("s", vec![present.len()], s)
                        .with_array("p", vec![present.len()], p)
                        .with_scalar("Nvp", nvp)
                        .with_scalar("Ngp", present.len() as f64),
                ]
            }),
        "pyr_firstorder" => {
            let x = case.roi.intensities();
            let h: Vec<f64> = present.iter().map(|&l| level_counts[usize::from(l) - 1]).collect();
            let n = x.len();
            let spacing = case.roi.image.grid.spacing;
            Ok(vec![
                SourceData::new()
                    .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
                    .with_axis("level", axis(&present))
                    .with_array("x", vec![n], x)
                    .with_array("h", vec![present.len()], h)
                    .with_scalar("N", n as f64)
                    .with_scalar("shift", options.voxel_array_shift)
                    .with_scalar("voxel_volume", spacing.iter().product()),
            ])
        }
        "pyr_shape" => Ok(vec![match shape.pyradiomics_if_computed() {
            Some(data) => data.clone(),
            None => {
                let mask = &case.roi.morphological;
                let spacing = case.roi.image.grid.spacing;
                let mesh = radx_core::morphology::surface_mesh(mask, spacing);
                let max_3d = radx_core::morphology::ConvexHull::of_mesh(&mesh).max_diameter();
                shape_source(mask, spacing, &mesh, max_3d, radx_core::morphology::pca_eigenvalues(mask, spacing))
            }
        }]),
        "pyr_shape2D" => shape_2d_source(case),
        _ => return None,
    };
    Some(result)
}

/// PyRadiomics' `multiElement` check (its C GLRLM, `calculate_glrlm`): a direction counts only
/// if some line along it holds two or more ROI voxels (adjacent or not); otherwise PyRadiomics
/// zeroes the direction's matrix, and then deletes it as empty. Two voxels share a line along
/// `d` (components −1, 0, 1) when one is the other moved by a multiple of `d`, so each ROI
/// voxel looks ahead along `d` only: no set of lines to hash (a feature map asks this for
/// every direction of every window).
fn pyradiomics_multi_element(levels: &ndarray::Array3<u16>, d: [i32; 3]) -> bool {
    if d == [0; 3] {
        return false;
    }
    let (nx, ny, nz) = levels.dim();
    let dims = [nx as i64, ny as i64, nz as i64];
    let step = d.map(i64::from);
    levels.indexed_iter().filter(|(_, l)| **l > 0).any(|((x, y, z), _)| {
        let mut q = [x as i64, y as i64, z as i64];
        loop {
            q = [0, 1, 2].map(|k| q[k] + step[k]);
            if (0..3).any(|k| q[k] < 0 || q[k] >= dims[k]) {
                return false;
            }
            if levels[[q[0] as usize, q[1] as usize, q[2] as usize]] > 0 {
                return true;
            }
        }
    })
}

/// The GLCM rows and columns of the present grey levels, row-major.
fn square_present(m: TextureMatrix, present: &[u16]) -> Vec<f64> {
    // Levels 1..=n of an n × n row-major matrix (the levels renumbered, or all present): the
    // matrix's own cells, without a copy (a feature map takes one per angle of every window).
    let whole = m.counts.nrows() == present.len() && present.iter().zip(1..).all(|(&l, k)| l == k);
    if whole && m.counts.is_square() && m.counts.is_standard_layout() {
        let (cells, offset) = m.counts.into_raw_vec_and_offset();
        debug_assert_eq!((offset, cells.len()), (Some(0), present.len().pow(2)), "a fresh row-major matrix");
        return cells;
    }
    let mut out = Vec::with_capacity(present.len().pow(2));
    for &i in present {
        for &j in present {
            out.push(m.counts[[usize::from(i) - 1, usize::from(j) - 1]]);
        }
    }
    out
}

/// Per-angle matrices, or with a weighting norm (`weight` of each direction) their weighted
/// sum. As PyRadiomics, empty angles are deleted only when there are several matrices: a single
/// one (one angle fits the ROI's box, or the weighted sum) is kept even when empty.
fn weighted(per_angle: Vec<([i32; 3], Vec<f64>)>, weight: Option<impl Fn([i32; 3]) -> f64>) -> Vec<Vec<f64>> {
    match weight {
        None if per_angle.len() > 1 => {
            per_angle.into_iter().map(|(_, m)| m).filter(|m| m.iter().any(|&v| v > 0.0)).collect()
        }
        None => per_angle.into_iter().map(|(_, m)| m).collect(),
        Some(weight) => {
            let Some(len) = per_angle.first().map(|(_, m)| m.len()) else { return Vec::new() };
            let mut sum = vec![0.0; len];
            for (d, m) in &per_angle {
                let w = weight(*d);
                for (s, v) in sum.iter_mut().zip(m) {
                    *s += w * v;
                }
            }
            vec![sum]
        }
    }
}

/// Number of voxels the box of the ROI's voxels (`levels > 0`) spans along x, y, z.
fn roi_extent(levels: &ndarray::Array3<u16>) -> [usize; 3] {
    radx_core::BoundingBox::of_where(levels, |&l| l > 0).map_or([0; 3], |b| b.dims())
}

/// PyRadiomics' GLRLM weight of direction `d` (`glrlm.py`): the direction's length in mm under
/// the norm, not the GLCM's exp(−length²) ([`WeightingNorm::weight`]).
fn glrlm_weight(norm: WeightingNorm, d: [i32; 3], spacing: [f64; 3]) -> f64 {
    let a: [f64; 3] = std::array::from_fn(|k| (f64::from(d[k]) * spacing[k]).abs());
    match norm {
        WeightingNorm::Infinity => a.iter().fold(0.0f64, |m, &v| m.max(v)),
        WeightingNorm::Euclidean => a.iter().map(|v| v * v).sum::<f64>().sqrt(),
        WeightingNorm::Manhattan => a.iter().sum(),
        WeightingNorm::NoWeighting => 1.0,
    }
}

/// GLSZM / GLDM source data on the present grey levels (`rows[i]` is `present[i]`'s row
/// level in `m`).
fn zone_data(
    m: &TextureMatrix,
    rows: &[u16],
    present: &[u16],
    array: &'static str,
    second: &'static str,
) -> SourceData {
    let cols = m.col_values.len();
    let data: Vec<f64> = rows
        .iter()
        .flat_map(|&l| (0..cols).map(move |c| (usize::from(l) - 1, c)))
        .map(|(r, c)| m.counts[[r, c]])
        .collect();
    SourceData::new()
        .with_axis("level", axis(present))
        .with_axis(second, m.col_values.clone())
        .with_array(array, vec![present.len(), cols], data)
        .with_scalar("Nz", m.counts.sum())
        .with_scalar("Np", m.n_voxels)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array3, ShapeBuilder};

    /// A 3 × 3 GLCM with cells 1..=9 (row-major), as counts, or as a column-major array.
    fn glcm_of(column_major: bool) -> radx_core::matrix::TextureMatrix {
        let cells = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
        radx_core::matrix::TextureMatrix {
            counts: ndarray::Array2::from_shape_fn((3, 3).set_f(column_major), |(i, j)| cells[i][j]),
            col_values: vec![1.0, 2.0, 3.0],
            n_voxels: 0.0,
        }
    }

    #[test]
    fn square_present_takes_the_present_rows_and_columns() {
        let all = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        // Every level: the matrix's own cells (the row-major one moved, the other copied).
        assert_eq!(super::square_present(glcm_of(false), &[1, 2, 3]), all);
        assert_eq!(super::square_present(glcm_of(true), &[1, 2, 3]), all);
        // Levels 1 and 3: rows and columns 0 and 2.
        assert_eq!(super::square_present(glcm_of(false), &[1, 3]), [1.0, 3.0, 7.0, 9.0]);
        assert_eq!(super::square_present(glcm_of(false), &[2]), [5.0]);
    }

    #[test]
    fn roi_extent_spans_the_voxels_with_a_level() {
        // Levels at (1, 2, 0), (3, 1, 2) and (2, 2, 2) in a 5 × 4 × 3 array: x 1..=3, y 1..=2, z 0..=2.
        let mut levels = Array3::<u16>::zeros((5, 4, 3).f());
        levels[[1, 2, 0]] = 2;
        levels[[3, 1, 2]] = 1;
        levels[[2, 2, 2]] = 4;
        assert_eq!(super::roi_extent(&levels), [3, 2, 3]);
        levels[[4, 3, 1]] = 1;
        assert_eq!(super::roi_extent(&levels), [4, 3, 3]);
        assert_eq!(super::roi_extent(&Array3::<u16>::zeros((5, 4, 3).f())), [0, 0, 0]);
    }

    /// PyRadiomics' C check as it is written (`calculate_glrlm`): voxels on one line along
    /// `d` share the key `p − (p_m·d_m)·d`, `m` the first axis `d` moves along.
    fn multi_element_by_line_keys(levels: &Array3<u16>, d: [i32; 3]) -> bool {
        let Some(m) = (0..3).find(|&k| d[k] != 0) else { return false };
        let mut lines = std::collections::HashSet::new();
        levels.indexed_iter().filter(|(_, l)| **l > 0).any(|((x, y, z), _)| {
            let p = [x as i64, y as i64, z as i64];
            let t = p[m] * i64::from(d[m]);
            !lines.insert([0, 1, 2].map(|k| p[k] - t * i64::from(d[k])))
        })
    }

    proptest::proptest! {
        /// Looking ahead along each direction finds a line with two ROI voxels exactly when
        /// grouping the voxels by line does, for every one of the 26 directions.
        #[test]
        fn multi_element_looks_ahead_as_lines_group(
            dims in (1usize..5, 1usize..5, 1usize..4),
            bits in proptest::collection::vec(proptest::bool::weighted(0.15), 80),
        ) {
            let levels = Array3::from_shape_fn(dims.f(), |(x, y, z)| u16::from(bits[x + 4 * y + 16 * z]));
            for d in (0..27).map(|k| [k % 3 - 1, k / 3 % 3 - 1, k / 9 - 1]) {
                proptest::prop_assert_eq!(
                    super::pyradiomics_multi_element(&levels, d),
                    multi_element_by_line_keys(&levels, d),
                    "direction {:?}", d
                );
            }
        }
    }
}
