//! `imageType`: PyRadiomics' image types as radx filters (the `pyradiomics_*` kinds of
//! [`FilterSpec`]), one filter per image PyRadiomics yields, in the file's order.
//!
//! As in PyRadiomics, an image type's settings are the `setting:` mapping updated with the
//! type's own mapping (`LoG: {sigma: [1.0], binWidth: 5}`): filter parameters (`sigma`,
//! `wavelet`, `lbp2DRadius`, …) may be given in either, and so may the discretisation
//! (`binWidth`, `binCount`), which then applies to that type's features only.

use serde_json::{Map, Value};

use super::ParamsError;
use crate::settings::{Binning, FilterSettings};
use radx_filters::FilterSpec;

/// PyRadiomics 3.0.1's image types (`imageoperations.get<Name>Image`).
pub const IMAGE_TYPES: &[&str] =
    &["Original", "LoG", "Wavelet", "Square", "SquareRoot", "Logarithm", "Exponential", "Gradient", "LBP2D", "LBP3D"];

/// Settings an image type reads (from `setting:` or its own mapping).
pub(super) const FILTER_KEYS: &[&str] = &[
    "sigma",
    "wavelet",
    "start_level",
    "level",
    "gradientUseSpacing",
    "lbp2DRadius",
    "lbp2DSamples",
    "lbp2DMethod",
    "lbp3DLevels",
    "lbp3DIcosphereRadius",
    "lbp3DIcosphereSubdivision",
];

/// What `imageType` asks for: whether the original image's features are computed (its
/// shape always is, as in PyRadiomics), and the filters.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ImageTypes {
    pub original: bool,
    pub filters: Vec<FilterSettings>,
}

/// One image type's settings: its own mapping over `setting:`.
struct Kwargs<'a> {
    image_type: &'a str,
    own: Option<&'a Map<String, Value>>,
    setting: &'a Map<String, Value>,
}

impl Kwargs<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        let own = self.own.and_then(|o| o.get(key)).filter(|v| !v.is_null());
        own.or_else(|| self.setting.get(key).filter(|v| !v.is_null()))
    }

    fn bad(&self, key: &str, expected: &'static str, value: &Value) -> ParamsError {
        ParamsError::ImageTypeSetting {
            image_type: self.image_type.to_string(),
            key: key.to_string(),
            expected,
            value: Box::new(value.clone()),
        }
    }

    fn number(&self, key: &str, default: f64) -> Result<f64, ParamsError> {
        self.get(key).map_or(Ok(default), |v| v.as_f64().ok_or_else(|| self.bad(key, "a number", v)))
    }

    fn count(&self, key: &str, default: usize) -> Result<usize, ParamsError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_u64().map(|n| n as usize).ok_or_else(|| self.bad(key, "an integer ≥ 0", v)),
        }
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, ParamsError> {
        self.get(key).map_or(Ok(default), |v| v.as_bool().ok_or_else(|| self.bad(key, "true or false", v)))
    }

    fn text(&self, key: &str, default: &str) -> Result<String, ParamsError> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(v) => v.as_str().map(str::to_string).ok_or_else(|| self.bad(key, "a name", v)),
        }
    }

    /// The type's discretisation when it differs from the file's: PyRadiomics' `binCount`
    /// wins over `binWidth` wherever each is given.
    fn binning(&self) -> Result<Option<Binning>, ParamsError> {
        let own = |key: &str| self.own.and_then(|o| o.get(key)).is_some_and(|v| !v.is_null());
        if !own("binWidth") && !own("binCount") {
            return Ok(None);
        }
        Ok(Some(match self.get("binCount") {
            Some(v) => {
                let bins = v.as_u64().filter(|b| *b > 0).ok_or_else(|| self.bad("binCount", "an integer ≥ 1", v))?;
                Binning::PyradiomicsBinCount { bins: bins as usize }
            }
            None => Binning::PyradiomicsBinWidth { width: self.number("binWidth", 25.0)? },
        }))
    }
}

/// The image types of `image_types` (keys in `order`, the file's order) with the settings
/// `setting`; `force_2d`: PyRadiomics' `force2D` and `force2Ddimension`. A per-type key that
/// neither the filter nor the discretisation reads is added to `unsupported`.
///
/// # Errors
/// [`ParamsError::UnknownImageType`], or a type's setting of the wrong type.
pub(super) fn image_types(
    image_types: &Map<String, Value>,
    order: &[String],
    setting: &Map<String, Value>,
    force_2d: Option<usize>,
    unsupported: &mut Vec<String>,
) -> Result<ImageTypes, ParamsError> {
    let mut names: Vec<&String> = order.iter().filter(|n| image_types.contains_key(*n)).collect();
    names.extend(image_types.keys().filter(|k| !order.contains(k)));
    let mut out = ImageTypes { original: false, filters: Vec::new() };
    for name in names {
        let own = match &image_types[name] {
            Value::Null => None,
            Value::Object(o) => Some(o),
            other => {
                return Err(ParamsError::ImageTypeSetting {
                    image_type: name.clone(),
                    key: name.clone(),
                    expected: "a mapping of settings ({} for none)",
                    value: Box::new(other.clone()),
                });
            }
        };
        let kwargs = Kwargs { image_type: name, own, setting };
        for key in own.into_iter().flat_map(Map::keys) {
            if !FILTER_KEYS.contains(&key.as_str()) && key != "binWidth" && key != "binCount" {
                unsupported.push(format!(
                    "imageType `{name}`: setting `{key}` per image type is not supported (only the filter's own \
                     settings and binWidth/binCount); the `setting:` value applies"
                ));
            }
        }
        let discretisation = kwargs.binning()?;
        let specs = match name.as_str() {
            "Original" => {
                out.original = true;
                continue;
            }
            "LoG" => log_specs(&kwargs)?,
            "Wavelet" => wavelet_specs(&kwargs, force_2d)?,
            "Square" => vec![FilterSpec::PyradiomicsSquare {}],
            "SquareRoot" => vec![FilterSpec::PyradiomicsSquareRoot {}],
            "Logarithm" => vec![FilterSpec::PyradiomicsLogarithm {}],
            "Exponential" => vec![FilterSpec::PyradiomicsExponential {}],
            "Gradient" => {
                vec![FilterSpec::PyradiomicsGradient { use_spacing: kwargs.flag("gradientUseSpacing", true)? }]
            }
            "LBP2D" => vec![FilterSpec::PyradiomicsLbp2d {
                radius: kwargs.number("lbp2DRadius", 1.0)?,
                samples: kwargs.count("lbp2DSamples", 8)?,
                method: kwargs.text("lbp2DMethod", "uniform")?,
                force_2d_dimension: force_2d.unwrap_or(0),
            }],
            "LBP3D" => lbp3d_specs(&kwargs)?,
            other => {
                return Err(ParamsError::UnknownImageType { name: other.to_string(), known: IMAGE_TYPES.join(", ") });
            }
        };
        for spec in specs {
            // Refused here, naming the type, rather than when the extractor is built.
            spec.build().map_err(|e| ParamsError::ImageTypeFilter { image_type: name.clone(), source: Box::new(e) })?;
            out.filters.push(FilterSettings { spec, families: None, discretisation: discretisation.clone() });
        }
    }
    Ok(out)
}

/// One filter per σ, in the list's order; a σ written as an integer keeps PyRadiomics'
/// integer name (`log-sigma-1-mm-3D`). σ ≤ 0 is skipped, as PyRadiomics skips it (with a
/// warning); a σ too large for the image is skipped per case, when the image is known.
fn log_specs(kwargs: &Kwargs) -> Result<Vec<FilterSpec>, ParamsError> {
    let Some(sigmas) = kwargs.get("sigma") else { return Ok(Vec::new()) };
    let list = sigmas.as_array().ok_or_else(|| kwargs.bad("sigma", "a list of numbers", sigmas))?;
    let mut specs = Vec::new();
    for sigma in list {
        let sigma_mm = sigma.as_f64().ok_or_else(|| kwargs.bad("sigma", "a list of numbers", sigmas))?;
        if sigma_mm > 0.0 {
            specs.push(FilterSpec::PyradiomicsLog { sigma_mm, sigma_written_as_integer: !sigma.is_f64() });
        }
    }
    Ok(specs)
}

/// Every sub-band of every level, in PyRadiomics' order.
fn wavelet_specs(kwargs: &Kwargs, force_2d: Option<usize>) -> Result<Vec<FilterSpec>, ParamsError> {
    let wavelet = kwargs.text("wavelet", "coif1")?;
    let (start_level, level) = (kwargs.count("start_level", 0)?, kwargs.count("level", 1)?);
    let bands = radx_filters::pyradiomics::Wavelet::image_types(&wavelet, start_level, level, force_2d)
        .map_err(|e| ParamsError::ImageTypeFilter { image_type: kwargs.image_type.to_string(), source: Box::new(e) })?;
    Ok(bands
        .iter()
        .map(|band| FilterSpec::PyradiomicsWavelet {
            wavelet: wavelet.clone(),
            subband: band.subband().to_string(),
            start_level,
            level: band.level_index(),
            force_2d_dimension: force_2d,
        })
        .collect())
}

/// `lbp-3D-m1` … `lbp-3D-m<levels>`, then the kurtosis `lbp-3D-k`.
fn lbp3d_specs(kwargs: &Kwargs) -> Result<Vec<FilterSpec>, ParamsError> {
    let levels = kwargs.count("lbp3DLevels", 2)?;
    let icosphere_radius = kwargs.number("lbp3DIcosphereRadius", 1.0)?;
    let icosphere_subdivision = kwargs.count("lbp3DIcosphereSubdivision", 1)?;
    let outputs = (1..=levels).map(|l| format!("m{l}")).chain(std::iter::once("k".to_string()));
    Ok(outputs
        .map(|output| FilterSpec::PyradiomicsLbp3d { levels, icosphere_radius, icosphere_subdivision, output })
        .collect())
}
