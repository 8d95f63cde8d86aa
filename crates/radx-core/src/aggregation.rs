//! The IBSI's texture-feature aggregation methods and their radx names.

use std::fmt;
use std::str::FromStr;

/// How texture matrices are combined before (merged) or after (averaged) features are
/// computed (IBSI 1, section "Feature aggregation"). The names are used everywhere in radx.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Aggregation {
    /// `2d_avg` (IBSI `BTW3`; for zone/neighbourhood families `8QNN`): one matrix per slice
    /// (and per in-plane direction), features averaged.
    #[serde(rename = "2d_avg")]
    Avg2d,
    /// `2d_smrg` (`SUJT`): per slice, the 4 directional matrices merged; features averaged over slices.
    #[serde(rename = "2d_smrg")]
    SliceMerged2d,
    /// `2_5d_dmrg` (`JJUI`): per direction, matrices merged over slices; features averaged over directions.
    #[serde(rename = "2_5d_dmrg")]
    DirectionMerged2_5d,
    /// `2_5d_mrg` (`ZW7Z`; for zone/neighbourhood families `62GR`): every 2D matrix merged into one.
    #[serde(rename = "2_5d_mrg")]
    Merged2_5d,
    /// `3d_avg` (`ITBB`): one matrix per 3D direction (13), features averaged.
    #[serde(rename = "3d_avg")]
    Avg3d,
    /// `3d_mrg` (`IAZD`; for zone/neighbourhood families `KOBO`): one volumetric matrix.
    #[serde(rename = "3d_mrg")]
    Merged3d,
}

impl Aggregation {
    /// All six, in the IBSI's order.
    pub const ALL: [Aggregation; 6] = [
        Aggregation::Avg2d,
        Aggregation::SliceMerged2d,
        Aggregation::DirectionMerged2_5d,
        Aggregation::Merged2_5d,
        Aggregation::Avg3d,
        Aggregation::Merged3d,
    ];

    /// The three that the zone and neighbourhood families (GLSZM, GLDZM, NGTDM, NGLDM) use.
    pub const ZONE: [Aggregation; 3] = [Aggregation::Avg2d, Aggregation::Merged2_5d, Aggregation::Merged3d];

    /// radx's name: `2d_avg, 2d_smrg, 2_5d_dmrg, 2_5d_mrg, 3d_avg, 3d_mrg`.
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Avg2d => "2d_avg",
            Aggregation::SliceMerged2d => "2d_smrg",
            Aggregation::DirectionMerged2_5d => "2_5d_dmrg",
            Aggregation::Merged2_5d => "2_5d_mrg",
            Aggregation::Avg3d => "3d_avg",
            Aggregation::Merged3d => "3d_mrg",
        }
    }

    /// True for the slice-wise (2D and 2.5D) methods.
    pub fn is_slice_wise(self) -> bool {
        !matches!(self, Aggregation::Avg3d | Aggregation::Merged3d)
    }

    /// The IBSI aggregation identifier for a directional family (GLCM, GLRLM) or, with
    /// `zone_family`, for GLSZM/GLDZM/NGTDM/NGLDM (which have only 2D, 2.5D, 3D).
    pub fn ibsi_id(self, zone_family: bool) -> Option<&'static str> {
        Some(match (self, zone_family) {
            (Aggregation::Avg2d, false) => "BTW3",
            (Aggregation::SliceMerged2d, false) => "SUJT",
            (Aggregation::DirectionMerged2_5d, false) => "JJUI",
            (Aggregation::Merged2_5d, false) => "ZW7Z",
            (Aggregation::Avg3d, false) => "ITBB",
            (Aggregation::Merged3d, false) => "IAZD",
            (Aggregation::Avg2d, true) => "8QNN",
            (Aggregation::Merged2_5d, true) => "62GR",
            (Aggregation::Merged3d, true) => "KOBO",
            _ => return None,
        })
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An aggregation name that radx does not know.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown aggregation `{0}` (expected one of 2d_avg, 2d_smrg, 2_5d_dmrg, 2_5d_mrg, 3d_avg, 3d_mrg)")]
pub struct UnknownAggregation(pub String);

impl FromStr for Aggregation {
    type Err = UnknownAggregation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Aggregation::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| UnknownAggregation(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Aggregation::ALL {
            assert_eq!(a.name().parse::<Aggregation>().unwrap(), a);
        }
        assert!("3d".parse::<Aggregation>().is_err());
    }
}
