//! The sources feature families are evaluated on: each built-in source's data built from
//! a processed case (texture matrices per aggregation, intensity vectors, histograms),
//! PyRadiomics' `pyr_*` sources (through its profile), and plugin sources ([`plugin`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use radx_core::Aggregation;
use radx_core::matrix::glcm::{GlcmSettings, glcm_aggregations};
use radx_core::matrix::ngldm::{NgldmSettings, ngldm};
use radx_core::matrix::{
    DiscretisedRoi, Ngtdm, TextureMatrix, gldzm::gldzm, glrlm::glrlm_aggregations, glszm::glszm,
    glszm::glszm_and_gldzm, ngtdm::ngtdm,
};
use radx_core::sources::{histogram, roi_levels};
use radx_dsl::{ParamValue, SourceData};

use crate::host::CaseHost;
use crate::library::LibraryFamily;
use crate::model::ProcessedCase;
use crate::settings::Settings;

pub mod plugin;

/// Which aggregations a texture source is computed for.
fn aggregations_for(source: &str, settings: &Settings) -> Vec<Aggregation> {
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

/// Source data of a GLCM (`cm`): probabilities p_ij.
fn cm_data(m: &TextureMatrix) -> SourceData {
    let ng = m.counts.nrows();
    SourceData::glcm_from_counts(ng, &m.counts.iter().copied().collect::<Vec<_>>())
}

/// Source data of a GLRLM / GLSZM / GLDZM / NGLDM: raw counts and N_v, N_s.
fn counts_data(m: &TextureMatrix, array: &str, second_axis: &str) -> SourceData {
    let ng = m.counts.nrows();
    let data: Vec<f64> = m.counts.iter().copied().collect();
    let ns = data.iter().sum();
    SourceData::new()
        .with_axis("level", levels_axis(ng))
        .with_axis(second_axis, m.col_values.clone())
        .with_array(array, vec![ng, m.col_values.len()], data)
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nv", m.n_voxels)
        .with_scalar("Ns", ns)
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

/// The source data one family is evaluated on, per aggregation (`None` = no aggregation).
pub(crate) type Instances = Vec<Instance>;

/// One aggregation's matrices of a source (or why there are none).
pub(crate) type Instance = (Option<Aggregation>, Result<Vec<SourceData>, String>);

/// Builds source data for a case.
pub(crate) struct SourceBuilder<'a, 'h> {
    pub(crate) case: &'a ProcessedCase,
    /// The case's levels cut to the ROI's box (see [`DiscretisedRoi::cropped_to_voxels`]).
    pub(crate) levels: Cow<'a, DiscretisedRoi>,
    /// The case's host: its shape, and its ROI intensities, which the `roi` source and
    /// builtins (the IVH, the integrated intensity) share.
    pub(crate) host: &'a CaseHost<'h>,
    pub(crate) settings: &'a Settings,
}

/// The cache key of a family's source: its name and parameters.
pub(crate) fn source_key(family: &LibraryFamily) -> String {
    format!("{}{:?}", family.family.source().name, family.family.params())
}

/// Runs and zones are 8-connected in a slice and 26-connected in the volume (IBSI 3.7, 3.8):
/// the aggregation decides which. The sources' `connectivity` parameter states that and
/// takes no other value, rather than being silently ignored.
fn unsupported_connectivity(params: &[(String, ParamValue)]) -> Option<String> {
    match param_int(params, "connectivity") {
        None | Some(26) => None,
        Some(other) => Some(format!(
            "connectivity = {other} is not supported: runs and zones are 8-connected in 2D and \
             26-connected in 3D (the aggregation decides), so the parameter takes only 26"
        )),
    }
}

impl SourceBuilder<'_, '_> {
    /// Every distinct built-in source the library uses, built concurrently (each source's
    /// aggregations too), keyed by [`source_key`]. Builders are deterministic, so the
    /// result does not depend on the thread count. Sources for which `skip` holds (those a
    /// plugin provides) are left out.
    pub(crate) fn build_all(
        &self,
        library: &[LibraryFamily],
        skip: impl Fn(&str) -> bool,
    ) -> HashMap<String, Arc<Instances>> {
        let mut distinct: Vec<(String, &LibraryFamily)> = Vec::new();
        for family in library {
            if skip(&family.family.source().name) {
                continue;
            }
            let key = source_key(family);
            if !distinct.iter().any(|(k, _)| *k == key) {
                distinct.push((key, family));
            }
        }
        // The GLSZM and the GLDZM count the same zones: when both are wanted with the same
        // parameters, one job finds the zones once and builds both.
        let zone_source = |name: &str| distinct.iter().find(|(_, f)| f.family.source().name == name);
        let zone_pair = match (zone_source("szm"), zone_source("dzm")) {
            (Some((szm, s)), Some((dzm, d)))
                if s.family.params() == d.family.params() && unsupported_connectivity(s.family.params()).is_none() =>
            {
                Some((szm.clone(), dzm.clone()))
            }
            _ => None,
        };
        distinct
            .into_par_iter()
            .flat_map_iter(|(key, family)| match &zone_pair {
                Some((szm, dzm)) if key == *dzm => Vec::new(),
                Some((szm, dzm)) if key == *szm => {
                    let (sizes, distances) = self.build_zones();
                    vec![(szm.clone(), Arc::new(sizes)), (dzm.clone(), Arc::new(distances))]
                }
                _ => vec![(key, Arc::new(self.build(&family.family.source().name, family.family.params())))],
            })
            .collect()
    }

    /// The GLSZM and GLDZM sources together (see [`SourceBuilder::build_all`]).
    fn build_zones(&self) -> (Instances, Instances) {
        let aggregations = aggregations_for("szm", self.settings);
        match glszm_and_gldzm(&self.levels, &aggregations) {
            Ok((sizes, distances)) => {
                let instances = |matrices: Vec<Vec<TextureMatrix>>, array: &str, axis: &str| -> Instances {
                    aggregations
                        .iter()
                        .zip(matrices)
                        .map(|(&a, ms)| (Some(a), Ok(ms.iter().map(|m| counts_data(m, array, axis)).collect())))
                        .collect()
                };
                (instances(sizes, "s", "size"), instances(distances, "d", "distance"))
            }
            // Built apart, each family reports its own error (the GLSZM has fewer to meet).
            Err(_) => (self.build("szm", &[]), self.build("dzm", &[])),
        }
    }

    fn build(&self, source: &str, params: &[(String, ParamValue)]) -> Instances {
        let levels = &*self.levels;
        if matches!(source, "rlm" | "szm" | "dzm")
            && let Some(reason) = unsupported_connectivity(params)
        {
            return vec![(None, Err(reason))];
        }
        let per_aggregation = |f: &(dyn Fn(Aggregation) -> Result<Vec<SourceData>, String> + Sync)| -> Instances {
            aggregations_for(source, self.settings).into_par_iter().map(|a| (Some(a), f(a))).collect()
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
                let aggregations = aggregations_for(source, self.settings);
                let matrices = glcm_aggregations(levels, &settings, &aggregations);
                aggregations
                    .into_iter()
                    .zip(matrices)
                    .map(|(a, ms)| (Some(a), Ok(ms.iter().map(cm_data).collect())))
                    .collect()
            }
            "rlm" => {
                let aggregations = aggregations_for(source, self.settings);
                let matrices = glrlm_aggregations(levels, &aggregations);
                aggregations
                    .into_iter()
                    .zip(matrices)
                    .map(|(a, ms)| (Some(a), Ok(ms.iter().map(|m| counts_data(m, "r", "run")).collect())))
                    .collect()
            }
            "szm" => per_aggregation(&|a| {
                glszm(levels, a)
                    .map(|ms| ms.iter().map(|m| counts_data(m, "s", "size")).collect())
                    .map_err(|e| e.to_string())
            }),
            "dzm" => per_aggregation(&|a| {
                gldzm(levels, a)
                    .map(|ms| ms.iter().map(|m| counts_data(m, "d", "distance")).collect())
                    .map_err(|e| e.to_string())
            }),
            "ngl" => {
                let alpha = params.iter().find(|(n, _)| n == "alpha").map(|(_, v)| match v {
                    ParamValue::Float(f) => *f,
                    ParamValue::Int(i) => *i as f64,
                    _ => 0.0,
                });
                let settings = NgldmSettings {
                    alpha: alpha.unwrap_or(0.0).max(0.0) as u16,
                    distance: param_int(params, "distance").unwrap_or(1).max(0) as usize,
                };
                per_aggregation(&|a| {
                    ngldm(levels, settings, a)
                        .map(|ms| ms.iter().map(|m| counts_data(m, "s", "dependence")).collect())
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
                let x = self.host.intensities().to_vec();
                let n = x.len();
                let data = SourceData::new()
                    .with_axis("voxel", (1..=n).map(|v| v as f64).collect())
                    .with_array("x", vec![n], x)
                    .with_scalar("N", n as f64);
                vec![(None, Ok(vec![data]))]
            }
            "ih" => {
                let x = roi_levels(levels);
                let h = histogram(levels);
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
            // PyRadiomics sources; builtin-only sources (the host computes everything).
            other => {
                match crate::compat::pyradiomics::sources::build_source(
                    other,
                    self.case,
                    &self.levels,
                    self.host.shape(),
                    self.settings,
                ) {
                    Some(data) => vec![(None, data)],
                    None => vec![(None, Ok(vec![SourceData::new()]))],
                }
            }
        }
    }
}
