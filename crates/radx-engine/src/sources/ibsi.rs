//! The IBSI's sources (manual chapter 3): texture matrices per aggregation (`cm`, `rlm`,
//! `szm`, `dzm`, `ngl`, `ngt`), the ROI's intensities (`roi`), its intensity histogram
//! (`ih`), and the builtin-only sources (`morph`, `li`, `ivh`) whose values the case host
//! computes. Each source's builder and memory estimate live here, side by side.

use rayon::prelude::*;

use radx_core::Aggregation;
use radx_core::matrix::glcm::{GlcmSettings, glcm_aggregations};
use radx_core::matrix::ngldm::{NgldmSettings, ngldm};
use radx_core::matrix::{
    Ngtdm, TextureMatrix, gldzm::gldzm, glrlm::glrlm_aggregations, glszm::glszm, glszm::glszm_and_gldzm, ngtdm::ngtdm,
};
use radx_core::sources::{histogram, roi_levels};
use radx_dsl::{ParamValue, Registry, SourceData};

use super::provider::{Instances, Levels, RoiExtent, SourceContext, SourceProvider};
use crate::settings::Settings;

/// The IBSI's sources.
pub struct IbsiSources;

/// Names of the sources [`IbsiSources`] builds.
const NAMES: [&str; 11] = ["cm", "rlm", "szm", "dzm", "ngl", "ngt", "roi", "ih", "morph", "li", "ivh"];

impl SourceProvider for IbsiSources {
    fn provides(&self, source: &str) -> bool {
        NAMES.contains(&source)
    }

    fn register(&self, registry: &mut Registry, settings: &Settings) {
        super::ibsi_schemas::register(registry, settings);
    }

    fn shape_only(&self, source: &str) -> bool {
        source == "morph"
    }

    fn matrix_bytes(&self, source: &str, extent: &RoiExtent, settings: &Settings) -> u64 {
        let columns = match source {
            "cm" => extent.ng,
            "rlm" => extent.longest,
            "szm" => extent.max_zone_sizes(),
            "dzm" => extent.longest.div_ceil(2) + 1,
            "ngl" => 27,
            "ngt" => 2,
            _ => return 0,
        };
        let matrices: u64 =
            aggregations_for(source, settings).into_iter().map(|a| matrix_count(source, a, extent.slices)).sum();
        extent.ng.saturating_mul(columns).saturating_mul(8).saturating_mul(matrices)
    }

    fn build(&self, ctx: &SourceContext<'_, '_>, source: &str, params: &[(String, ParamValue)]) -> Instances {
        let alpha = params.iter().find(|(n, _)| n == "alpha").map(|(_, v)| match v {
            ParamValue::Float(f) => *f,
            ParamValue::Int(i) => *i as f64,
            _ => 0.0,
        });
        let alpha = alpha.unwrap_or(0.0).max(0.0) as u16;
        // The NGLDM with α > 0 compares levels' differences, which renumbering would change;
        // the NGTDM's data keep every level.
        let renumbered = match source {
            "cm" | "rlm" | "szm" | "dzm" => LevelRows::of(ctx),
            "ngl" if alpha == 0 => LevelRows::of(ctx),
            _ => LevelRows::roi(ctx),
        };
        let (levels, rows) = (&renumbered.levels, &renumbered.rows);
        if matches!(source, "rlm" | "szm" | "dzm")
            && let Some(reason) = unsupported_connectivity(params)
        {
            return vec![(None, Err(reason))];
        }
        let per_aggregation = |f: &(dyn Fn(Aggregation) -> Result<Vec<SourceData>, String> + Sync)| -> Instances {
            let aggregations = aggregations_for(source, ctx.settings);
            if ctx.parallel {
                aggregations.into_par_iter().map(|a| (Some(a), f(a))).collect()
            } else {
                aggregations.into_iter().map(|a| (Some(a), f(a))).collect()
            }
        };
        match source {
            "cm" => {
                let settings = GlcmSettings {
                    distance: param_int(params, "distance").unwrap_or(1).max(0) as usize,
                    symmetric: param_bool(params, "symmetric").unwrap_or(true),
                };
                if let Err(e) = settings.validate() {
                    return vec![(None, Err(e.to_string()))];
                }
                let aggregations = aggregations_for(source, ctx.settings);
                let matrices = glcm_aggregations(levels, &settings, &aggregations);
                aggregations
                    .into_iter()
                    .zip(matrices)
                    .map(|(a, ms)| (Some(a), Ok(ms.iter().map(|m| cm_data(m, ctx.grey_levels, rows)).collect())))
                    .collect()
            }
            "rlm" => {
                let aggregations = aggregations_for(source, ctx.settings);
                let matrices = glrlm_aggregations(levels, &aggregations);
                aggregations
                    .into_iter()
                    .zip(matrices)
                    .map(|(a, ms)| {
                        (Some(a), Ok(ms.iter().map(|m| counts_data(m, "r", "run", ctx.grey_levels, rows)).collect()))
                    })
                    .collect()
            }
            "szm" => per_aggregation(&|a| {
                glszm(levels, a)
                    .map(|ms| ms.iter().map(|m| counts_data(m, "s", "size", ctx.grey_levels, rows)).collect())
                    .map_err(|e| e.to_string())
            }),
            "dzm" => per_aggregation(&|a| {
                gldzm(levels, a)
                    .map(|ms| ms.iter().map(|m| counts_data(m, "d", "distance", ctx.grey_levels, rows)).collect())
                    .map_err(|e| e.to_string())
            }),
            "ngl" => {
                let settings =
                    NgldmSettings { alpha, distance: param_int(params, "distance").unwrap_or(1).max(0) as usize };
                per_aggregation(&|a| {
                    ngldm(levels, settings, a)
                        .map(|ms| ms.iter().map(|m| counts_data(m, "s", "dependence", ctx.grey_levels, rows)).collect())
                        .map_err(|e| e.to_string())
                })
            }
            "ngt" => {
                if param_int(params, "distance").unwrap_or(1) != 1 {
                    return vec![(None, Err("the NGTDM supports distance 1 only".into()))];
                }
                per_aggregation(&|a| {
                    ngtdm(levels, a).map(|ms| ms.iter().map(ngt_data).collect()).map_err(|e| e.to_string())
                })
            }
            "roi" => {
                let x = ctx.host.intensities().to_vec();
                let n = x.len();
                let data = SourceData::new()
                    .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
                    .with_array("x", vec![n], x)
                    .with_scalar("N", n as f64);
                vec![(None, Ok(vec![data]))]
            }
            "ih" => {
                let x = roi_levels(&ctx.levels);
                let h = histogram(&ctx.levels);
                let (n, ng) = (x.len(), h.len());
                let data = SourceData::new()
                    .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
                    .with_axis("level", levels_axis(ng))
                    .with_array("x", vec![n], x)
                    .with_array("h", vec![ng], h)
                    .with_scalar("N", n as f64)
                    .with_scalar("Ng", ng as f64);
                vec![(None, Ok(vec![data]))]
            }
            // Builtin-only sources (`morph`, `li`, `ivh`): the host computes everything.
            _ => vec![(None, Ok(vec![SourceData::new()]))],
        }
    }
}

impl IbsiSources {
    /// The GLSZM and GLDZM sources together (see [`super::build_all`]).
    pub(crate) fn build_zones(&self, ctx: &SourceContext<'_, '_>) -> (Instances, Instances) {
        let aggregations = aggregations_for("szm", ctx.settings);
        let renumbered = LevelRows::of(ctx);
        let rows = &renumbered.rows;
        match glszm_and_gldzm(&renumbered.levels, &aggregations) {
            Ok((sizes, distances)) => {
                let instances =
                    |matrices: Vec<Vec<TextureMatrix>>, array: &'static str, axis: &'static str| -> Instances {
                        aggregations
                            .iter()
                            .zip(matrices)
                            .map(|(&a, ms)| {
                                (
                                    Some(a),
                                    Ok(ms.iter().map(|m| counts_data(m, array, axis, ctx.grey_levels, rows)).collect()),
                                )
                            })
                            .collect()
                    };
                (instances(sizes, "s", "size"), instances(distances, "d", "distance"))
            }
            // Built apart, each family reports its own error (the GLSZM has fewer to meet).
            Err(_) => (self.build(ctx, "szm", &[]), self.build(ctx, "dzm", &[])),
        }
    }
}

/// How many matrices an aggregation builds for a family over `source` on a ROI that
/// spans `slices` slices (IBSI 3.6.2 ff.: 4 in-plane and 13 volumetric directions).
pub(crate) fn matrix_count(source: &str, aggregation: Aggregation, slices: u64) -> u64 {
    let directional = matches!(source, "cm" | "rlm");
    match aggregation {
        Aggregation::Avg2d if directional => 4 * slices,
        Aggregation::Avg2d | Aggregation::SliceMerged2d => slices,
        Aggregation::DirectionMerged2_5d => 4,
        Aggregation::Merged2_5d | Aggregation::Merged3d => 1,
        Aggregation::Avg3d => 13,
    }
}

/// Runs and zones are 8-connected in a slice and 26-connected in the volume (IBSI 3.7, 3.8):
/// the aggregation decides which. The sources' `connectivity` parameter states that and
/// takes no other value, rather than being silently ignored.
pub(crate) fn unsupported_connectivity(params: &[(String, ParamValue)]) -> Option<String> {
    match param_int(params, "connectivity") {
        None | Some(26) => None,
        Some(other) => Some(format!(
            "connectivity = {other} is not supported: runs and zones are 8-connected in 2D and \
             26-connected in 3D (the aggregation decides), so the parameter takes only 26"
        )),
    }
}

/// Which aggregations a texture source is computed for.
pub(crate) fn aggregations_for(source: &str, settings: &Settings) -> Vec<Aggregation> {
    let wanted = &settings.texture.aggregations;
    match source {
        "cm" | "rlm" => wanted.clone(),
        _ => Aggregation::ZONE.into_iter().filter(|a| wanted.contains(a)).collect(),
    }
}

fn param_int(params: &[(String, ParamValue)], name: &str) -> Option<i64> {
    params.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
        ParamValue::Int(i) => Some(*i),
        ParamValue::Float(f) => Some(*f as i64),
        _ => None,
    })
}

fn param_bool(params: &[(String, ParamValue)], name: &str) -> Option<bool> {
    params.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
        ParamValue::Bool(b) => Some(*b),
        _ => None,
    })
}

fn levels_axis(ng: usize) -> Vec<f64> {
    (1..=ng).map(|g| g as f64).collect()
}

/// Source data of a GLCM (`cm`): probabilities p_ij. With `levels` = [`Levels::Present`], only
/// the grey levels with a count (in a row or a column) are kept, on a `level` axis holding
/// their values, and `Ng` stays the ROI's: the features sum over the matrix's entries, and
/// an absent level's entries are all 0, so they add nothing (a window of a feature map has a
/// few of the ROI's levels: dropping the others makes its matrices several times smaller).
fn cm_data(m: &TextureMatrix, levels: Levels, rows: &Rows) -> SourceData {
    let ng = rows.ng;
    let kept = kept_levels(m, levels, true);
    if kept.len() == ng {
        // Every level of the ROI: the matrix is not renumbered ([`LevelRows::of`]).
        return SourceData::glcm_from_counts(ng, &m.counts.iter().copied().collect::<Vec<_>>());
    }
    let counts: Vec<f64> = kept.iter().flat_map(|&i| kept.iter().map(move |&j| m.counts[[i, j]])).collect();
    // Counts are integers: their sum is exact in any order, so p is the full matrix's.
    let total: f64 = counts.iter().sum();
    SourceData::new()
        .with_axis("level", kept.iter().map(|&i| rows.level(i)).collect())
        .with_array("p", vec![kept.len(), kept.len()], counts.iter().map(|c| c / total).collect())
        .with_scalar("Ng", ng as f64)
}

/// Source data of a GLRLM / GLSZM / GLDZM / NGLDM: raw counts and N_v, N_s; with
/// [`Levels::Present`], the rows of absent grey levels (all 0) are left out, as in [`cm_data`].
fn counts_data(
    m: &TextureMatrix,
    array: &'static str,
    second_axis: &'static str,
    levels: Levels,
    rows: &Rows,
) -> SourceData {
    let ng = rows.ng;
    let kept = kept_levels(m, levels, false);
    let data: Vec<f64> = kept.iter().flat_map(|&i| m.counts.row(i).to_vec()).collect();
    let ns = data.iter().sum();
    let axis = if kept.len() == ng { levels_axis(ng) } else { kept.iter().map(|&i| rows.level(i)).collect() };
    SourceData::new()
        .with_axis("level", axis)
        .with_axis(second_axis, m.col_values.clone())
        .with_array(array, vec![kept.len(), m.col_values.len()], data)
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nv", m.n_voxels)
        .with_scalar("Ns", ns)
}

/// The rows (0-based) of `m` its source data keep: all, or those with a count (in the row,
/// or with `columns_too` in the column of a square matrix).
fn kept_levels(m: &TextureMatrix, levels: Levels, columns_too: bool) -> Vec<usize> {
    let ng = m.counts.nrows();
    match levels {
        Levels::All => (0..ng).collect(),
        Levels::Present => (0..ng)
            .filter(|&i| {
                m.counts.row(i).iter().any(|&c| c != 0.0)
                    || (columns_too && m.counts.column(i).iter().any(|&c| c != 0.0))
            })
            .collect(),
    }
}

/// The levels a source's matrices are built on, and the ROI's grey level of each matrix row.
/// With [`Levels::Present`] (a feature map's window), the levels the window holds are
/// renumbered 1..=k in order before the matrices are built: the builders size their
/// matrices by the number of levels, and a window holds a few of the ROI's. Counting
/// compares levels only for equality (α = 0), so the counts are the same, on the rows of
/// the levels present; [`kept_levels`] keeps those rows either way, and the source data are
/// the same bits.
struct LevelRows<'a> {
    levels: std::borrow::Cow<'a, radx_core::matrix::DiscretisedRoi>,
    rows: Rows,
}

/// The grey level (1-based) of each matrix row: row `i` is level `i + 1`, or `present[i]`.
struct Rows {
    /// The ROI's number of grey levels (`Ng` in the source data).
    ng: usize,
    present: Option<Vec<u16>>,
}

impl Rows {
    fn level(&self, row: usize) -> f64 {
        self.present.as_ref().map_or(row + 1, |p| usize::from(p[row])) as f64
    }
}

impl<'a> LevelRows<'a> {
    /// The case's levels as they are.
    fn roi(ctx: &'a SourceContext<'_, '_>) -> Self {
        LevelRows { levels: std::borrow::Cow::Borrowed(&*ctx.levels), rows: Rows { ng: ctx.levels.ng, present: None } }
    }

    /// The levels renumbered when the data keep only the present levels (see the type's text).
    fn of(ctx: &'a SourceContext<'_, '_>) -> Self {
        let roi = &*ctx.levels;
        if ctx.grey_levels == Levels::All {
            return LevelRows::roi(ctx);
        }
        let mut seen = vec![false; roi.ng + 1];
        for &l in &roi.levels {
            seen[usize::from(l)] = true;
        }
        let present: Vec<u16> = (1..=roi.ng).filter(|&l| seen[l]).map(|l| l as u16).collect();
        if present.len() == roi.ng {
            return LevelRows::roi(ctx);
        }
        let renumbered = roi.renumbered(&present);
        LevelRows { levels: std::borrow::Cow::Owned(renumbered), rows: Rows { ng: roi.ng, present: Some(present) } }
    }
}

fn ngt_data(m: &Ngtdm) -> SourceData {
    let ng = m.n.len();
    let nvc = m.n_voxels;
    let p: Vec<f64> = m.n.iter().map(|n| n / nvc).collect();
    let ngp = p.iter().filter(|&&v| v > 0.0).count() as f64;
    SourceData::new()
        .with_axis("level", levels_axis(ng))
        .with_array("n", vec![ng], m.n.clone())
        .with_array("s", vec![ng], m.s.clone())
        .with_array("p", vec![ng], p)
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nvc", nvc)
        .with_scalar("Ngp", ngp)
}
