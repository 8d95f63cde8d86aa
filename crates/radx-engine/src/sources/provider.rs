//! The contract between the engine and a set of sources: [`SourceProvider`], what its
//! builders see of a case ([`SourceContext`]) and what its memory estimates see of a ROI
//! ([`RoiExtent`]). Apart from the providers' list, so a provider elsewhere (a
//! compatibility profile) can implement it without a circle of imports.

use std::borrow::Cow;

use radx_core::Aggregation;
use radx_core::matrix::DiscretisedRoi;
use radx_dsl::{ParamValue, Registry, SourceData};

use crate::host::CaseHost;
use crate::model::ProcessedCase;
use crate::settings::Settings;

/// The source data one family is evaluated on, per aggregation (`None` = no aggregation).
pub type Instances = Vec<Instance>;

/// One aggregation's matrices of a source (or why there are none).
pub type Instance = (Option<Aggregation>, Result<Vec<SourceData>, String>);

/// A set of sources feature families can be written over.
pub trait SourceProvider: Sync {
    /// Whether this provider builds `source`.
    fn provides(&self, source: &str) -> bool;
    /// Register the sources' schemas (and their builtins) for the language's checker, with
    /// the defaults `settings` give their parameters.
    fn register(&self, registry: &mut Registry, settings: &Settings);
    /// A lower bound of the bytes `source`'s matrices take on a ROI of `extent` (0 when
    /// they are small); a case whose largest need exceeds the budget is refused before any
    /// matrix is built.
    fn matrix_bytes(&self, source: &str, extent: &RoiExtent, settings: &Settings) -> u64;
    /// The data of `source` with `params`, per aggregation.
    fn build(&self, ctx: &SourceContext<'_, '_>, source: &str, params: &[(String, ParamValue)]) -> Instances;

    /// True for a source that describes only the ROI's shape: its families give the same
    /// values on every image type, so they are computed on the original image only.
    fn shape_only(&self, source: &str) -> bool {
        let _ = source;
        false
    }
}

/// What the memory estimates need of a discretised ROI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoiExtent {
    /// Number of grey levels N_g.
    pub ng: u64,
    /// The ROI box's longest side, in voxels (the longest possible run).
    pub longest: u64,
    /// Slices holding ROI voxels.
    pub slices: u64,
    /// ROI voxels.
    pub voxels: u64,
}

impl RoiExtent {
    /// The most distinct zone sizes one zone matrix can have: sizes s_1 < s_2 < … < s_k of
    /// zones of one level sum to at most N voxels, so k(k+1)/2 ≤ N.
    pub fn max_zone_sizes(&self) -> u64 {
        ((2.0 * self.voxels as f64).sqrt().ceil() as u64).max(1)
    }

    /// The extent of `levels` (voxels with a level > 0).
    pub fn of(levels: &DiscretisedRoi) -> Self {
        let dims = levels.levels.dim();
        // Folds visit memory order (x fastest here); `iter` would stride through it.
        let slices = (0..dims.2)
            .filter(|&z| levels.levels.index_axis(ndarray::Axis(2), z).fold(false, |any, &l| any | (l > 0)))
            .count() as u64;
        RoiExtent {
            ng: levels.ng as u64,
            longest: dims.0.max(dims.1).max(dims.2) as u64,
            slices,
            voxels: levels.levels.fold(0u64, |n, &l| n + u64::from(l > 0)),
        }
    }
}

/// What a source's builder sees of one case.
pub struct SourceContext<'a, 'h> {
    /// The processed case.
    pub case: &'a ProcessedCase,
    /// The case's levels cut to the ROI's box (see [`DiscretisedRoi::cropped_to_voxels`]).
    pub levels: Cow<'a, DiscretisedRoi>,
    /// The case's host: its shape, and its ROI intensities, which the `roi` source and
    /// builtins (the IVH, the integrated intensity) share.
    pub host: &'a CaseHost<'h>,
    /// The settings the case is extracted with.
    pub settings: &'a Settings,
    /// Which grey levels the IBSI texture sources' data keep (see [`Levels`]).
    pub grey_levels: Levels,
    /// Whether sources are built concurrently, and each one's parts (aggregations,
    /// directions): a case's are; a feature map's window builds them one after the other,
    /// as its windows already run in parallel. The data are the same either way.
    pub parallel: bool,
}

/// Which grey levels a texture matrix's source data span. The features' values are the same
/// (within rounding: sums run over fewer zero terms) either way; `Ng` is the case's in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Levels {
    /// Every level 1..=N_g, as the IBSI writes the matrices (and feature files may assume).
    All,
    /// Only the levels the matrix counts (feature maps' windows: a few of the ROI's levels).
    Present,
}
