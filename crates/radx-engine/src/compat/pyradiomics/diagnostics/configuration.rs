//! `Versions_*` and `Configuration_*`: what made the values, as PyRadiomics reports it for
//! itself, here for radx.

use super::python::{boolean, dict, list, literal, number, optional, string};
use crate::case::Case;
use crate::compat::pyradiomics::options::{PyradiomicsOptions, WeightingNorm};
use crate::extractor::Extractor;
use crate::settings::{Binning, Interpolator, ResegmentMode, Settings};

/// `Versions_PyRadiomics` holds radx's version; radx uses none of numpy, SimpleITK,
/// PyWavelets or Python, so their columns are empty.
pub fn versions() -> Vec<(String, String)> {
    let radx = format!("radx {}", env!("CARGO_PKG_VERSION"));
    let mut out = vec![("Versions_PyRadiomics".to_string(), radx)];
    out.extend(["Numpy", "SimpleITK", "PyWavelet", "Python"].map(|n| (format!("Versions_{n}"), String::new())));
    out
}

/// `Configuration_Settings` (radx's settings under PyRadiomics' keys, as a Python dict)
/// and `Configuration_EnabledImageTypes` (the original image and each filter's).
pub fn configuration(extractor: &Extractor, case: &Case) -> Vec<(String, String)> {
    let options = extractor.settings.pyradiomics.as_ref();
    let from_file = options.map(|o| &o.enabled_image_types).filter(|t| !t.is_empty());
    let image_types: Vec<(&str, String)> = match from_file {
        // The parameter file's `imageType`, as PyRadiomics echoes it.
        Some(types) => types.iter().map(|(name, value)| (name.as_str(), literal(value))).collect(),
        None => std::iter::once(("Original", "{}".to_string()))
            .chain(extractor.filters.iter().map(|f| (f.image_type.as_str(), "{}".to_string())))
            .collect(),
    };
    vec![
        ("Configuration_Settings".into(), dict(&setting_entries(&extractor.settings, case))),
        ("Configuration_EnabledImageTypes".into(), dict(&image_types)),
    ]
}

/// The settings as PyRadiomics' `setting:` keys: its defaults' keys first, in its order.
fn setting_entries(settings: &Settings, case: &Case) -> Vec<(&'static str, String)> {
    let options = settings.pyradiomics.clone().unwrap_or_default();
    let normalise = settings.normalise.as_ref();
    let resample = settings.resample.as_ref();
    let label = match case.roi {
        radx_core::roi::LabelSelection::Label(l) => l.to_string(),
        radx_core::roi::LabelSelection::NonZero => "None".into(),
    };
    let mut entries = vec![
        ("minimumROIDimensions", options.minimum_roi_dimensions.to_string()),
        ("minimumROISize", optional(options.minimum_roi_size.map(|n| n.to_string()))),
        ("normalize", boolean(normalise.is_some())),
        ("normalizeScale", number(normalise.map_or(1.0, |n| n.scale))),
        ("removeOutliers", optional(normalise.and_then(|n| n.remove_outliers).map(number))),
        ("resampledPixelSpacing", optional(resample.map(|r| list(&r.spacing)))),
        ("interpolator", string(interpolator(resample.map_or(Interpolator::CubicSpline, |r| r.image_interpolator)))),
        ("preCrop", boolean(options.pre_crop)),
        ("padDistance", number(options.pad_distance)),
        ("distances", list(&options.distances.iter().map(|&d| d as f64).collect::<Vec<_>>())),
        ("force2D", boolean(options.force_2d)),
        ("force2Ddimension", "0".into()),
        ("resegmentRange", optional(settings.resegment.range.map(|r| list(resegment_range(&r))))),
        ("label", label),
        ("additionalInfo", boolean(true)),
    ];
    entries.extend(binning(&settings.discretisation.texture));
    entries.extend(texture_entries(settings, &options));
    entries
}

fn texture_entries(settings: &Settings, options: &PyradiomicsOptions) -> Vec<(&'static str, String)> {
    vec![
        ("voxelArrayShift", number(options.voxel_array_shift)),
        ("symmetricalGLCM", boolean(settings.texture.glcm_symmetric)),
        ("weightingNorm", optional(options.weighting_norm.map(|w| string(weighting_norm(w))))),
        ("gldm_a", settings.texture.ngldm_alpha.to_string()),
        ("resegmentMode", string(resegment_mode(settings.resegment.mode))),
        ("resegmentShape", boolean(settings.resegment.shape)),
    ]
}

/// An upper bound of +∞ is PyRadiomics' one-value range.
fn resegment_range(range: &[f64; 2]) -> &[f64] {
    if range[1].is_infinite() { &range[..1] } else { &range[..] }
}

fn binning(binning: &Binning) -> Option<(&'static str, String)> {
    match binning {
        Binning::PyradiomicsBinWidth { width } => Some(("binWidth", number(*width))),
        Binning::PyradiomicsBinCount { bins } => Some(("binCount", bins.to_string())),
        _ => None,
    }
}

fn interpolator(i: Interpolator) -> &'static str {
    match i {
        Interpolator::Nearest => "sitkNearestNeighbor",
        Interpolator::Linear => "sitkLinear",
        Interpolator::CubicSpline => "sitkBSpline",
    }
}

fn weighting_norm(w: WeightingNorm) -> &'static str {
    match w {
        WeightingNorm::Infinity => "infinity",
        WeightingNorm::Euclidean => "euclidean",
        WeightingNorm::Manhattan => "manhattan",
        WeightingNorm::NoWeighting => "no_weighting",
    }
}

fn resegment_mode(m: ResegmentMode) -> &'static str {
    match m {
        ResegmentMode::Absolute => "absolute",
        ResegmentMode::Relative => "relative",
        ResegmentMode::Sigma => "sigma",
    }
}
