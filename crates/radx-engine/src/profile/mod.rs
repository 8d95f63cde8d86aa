//! Profiles: where tools differ (feature definitions, resampling grid, ROI checks, output
//! names), a run follows one profile. The IBSI's is the default; PyRadiomics' lives in
//! `compat/pyradiomics` and is chosen by its settings ([`Settings::pyradiomics`]).

pub mod contract;

pub use contract::Profile;

use crate::settings::Settings;

/// The IBSI's conventions: every default of [`Profile`].
pub struct Ibsi;

impl Profile for Ibsi {
    fn library(&self) -> &'static [(&'static str, &'static str)] {
        STANDARD
    }
}

/// The profile `settings` call for.
pub fn of(settings: &Settings) -> &'static dyn Profile {
    if settings.pyradiomics.is_some() { &crate::compat::pyradiomics::profile::Pyradiomics } else { &Ibsi }
}

/// The standard library, embedded: (file name, text).
const STANDARD: &[(&str, &str)] = &[
    ("features/morphology.radx", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/morphology.radx"))),
    (
        "features/local_intensity.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/local_intensity.radx")),
    ),
    (
        "features/intensity_statistics.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/intensity_statistics.radx")),
    ),
    (
        "features/intensity_histogram.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/intensity_histogram.radx")),
    ),
    (
        "features/intensity_volume_histogram.radx",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/intensity_volume_histogram.radx")),
    ),
    ("features/glcm.radx", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/glcm.radx"))),
    ("features/glrlm.radx", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/glrlm.radx"))),
    ("features/glszm.radx", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/glszm.radx"))),
    ("features/gldzm.radx", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/gldzm.radx"))),
    ("features/ngtdm.radx", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/ngtdm.radx"))),
    ("features/ngldm.radx", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/ngldm.radx"))),
];
