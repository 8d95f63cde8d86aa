//! PyRadiomics parameter files (YAML or JSON) mapped onto radx's settings: `setting`
//! ([`setting`]), `featureClass` and `voxelSetting` ([`feature_class`]), `imageType`; and
//! the same file for the IBSI library ([`ibsi`]).

use serde_json::Value;

use crate::settings::Settings;

// Its own module so that `settings`, which names it, does not import this one, which
// imports `settings`.
pub mod error;
mod feature_class;
pub mod ibsi;
mod image_type;
pub use image_type::IMAGE_TYPES;
mod setting;
pub use error::ParamsError;

/// A PyRadiomics parameter file mapped onto radx settings, with what could not be mapped.
#[derive(Debug, Clone)]
pub struct ParamsFile {
    /// The settings (with [`Settings::pyradiomics`] set).
    pub settings: Settings,
    /// One message per key or value radx does not support, naming it.
    pub unsupported: Vec<String>,
    /// What the file asks for that PyRadiomics itself would warn about (deprecated features
    /// that give no value), each named.
    pub notes: Vec<String>,
}

/// True when YAML/JSON text uses PyRadiomics' schema (a top-level `setting`,
/// `featureClass` or `imageType` key).
pub fn is_params_schema(text: &str) -> bool {
    serde_saphyr::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.as_object().map(|o| ["setting", "featureClass", "imageType"].iter().any(|k| o.contains_key(*k)))
        })
        .unwrap_or(false)
}

/// Map a PyRadiomics parameter file onto radx settings.
///
/// # Errors
/// A [`ParamsError`] naming the key when the text is not YAML, a supported key has a value
/// of the wrong type, or `featureClass` names a class or feature PyRadiomics does not have.
pub fn parse_params(text: &str) -> Result<ParamsFile, ParamsError> {
    let doc: Value = serde_saphyr::from_str(text).map_err(Box::new)?;
    let top = doc.as_object().ok_or(ParamsError::NotAMapping)?;
    let mut settings = Settings::default();
    let mut options = crate::compat::pyradiomics::options::PyradiomicsOptions::default();
    let (mut unsupported, mut notes) = (Vec::new(), Vec::new());
    for key in top.keys() {
        if !["setting", "featureClass", "imageType", "voxelSetting"].contains(&key.as_str()) {
            unsupported.push(format!("top-level key `{key}` is not part of PyRadiomics' schema"));
        }
    }
    if let Some(classes) = top.get("featureClass") {
        options.feature_classes = Some(feature_class::feature_classes(classes, &mut notes)?);
        options.feature_class_order = feature_class::keys_in_order(text, "featureClass");
    }
    if let Some(voxel) = top.get("voxelSetting") {
        options.voxel_setting = Some(feature_class::voxel_setting(voxel, &mut unsupported)?);
    }
    let no_setting = serde_json::Map::new();
    let setting = top.get("setting").and_then(Value::as_object).unwrap_or(&no_setting);
    setting::apply(setting, &mut settings, &mut options, &mut unsupported)?;
    // Without `imageType`, PyRadiomics computes the original image only.
    if let Some(types) = top.get("imageType") {
        let types = types.as_object().ok_or_else(|| ParamsError::ImageTypeSetting {
            image_type: "imageType".into(),
            key: "imageType".into(),
            expected: "a mapping of image types to their settings",
            value: Box::new(types.clone()),
        })?;
        let order = feature_class::keys_in_order(text, "imageType");
        let force_2d = options.force_2d.then(|| setting.get("force2Ddimension").and_then(Value::as_u64).unwrap_or(0));
        let parsed = image_type::image_types(types, &order, setting, force_2d.map(|d| d as usize), &mut unsupported)?;
        options.original_image = parsed.original;
        let in_file_order = order.iter().filter_map(|name| types.get(name).map(|v| (name.clone(), v.clone())));
        options.enabled_image_types = in_file_order.collect();
        settings.filters = parsed.filters;
    }
    settings.texture.aggregations = ibsi::aggregations(options.force_2d);
    settings.pyradiomics = Some(options);
    Ok(ParamsFile { settings, unsupported, notes })
}

/// A settings file read, with the warnings the caller should show (unsupported PyRadiomics
/// keys, each named).
#[derive(Debug, Clone)]
pub struct LoadedSettings {
    /// The validated settings.
    pub settings: Settings,
    /// One sentence per key that was ignored, naming the file and the key.
    pub warnings: Vec<String>,
}

/// The feature library a run asks for (`--library`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibraryChoice {
    /// The IBSI library (`features/*.radx`).
    Ibsi,
    /// PyRadiomics' library (`features/pyradiomics/*.radx`).
    Pyradiomics,
}

/// Read a settings file: PyRadiomics' schema when the file is YAML/JSON with a `setting`,
/// `featureClass` or `imageType` key, radx's own otherwise. Every PyRadiomics key radx does
/// not support comes back as a warning naming it, or with `strict` is an error.
///
/// # Errors
/// [`crate::Error::Settings`] when the file cannot be read or parsed, a value is invalid,
/// or (`strict`) a key is not supported.
pub fn load_settings(path: &std::path::Path, strict: bool) -> Result<LoadedSettings, crate::Error> {
    load_settings_for(path, strict, None)
}

/// [`load_settings`] for a library: `None` = the file's own (PyRadiomics' for a PyRadiomics
/// parameter file, else the IBSI's). A PyRadiomics parameter file for the IBSI library keeps
/// the settings both share and names each PyRadiomics-only option as a warning
/// ([`ibsi::for_ibsi_library`]); radx settings for the PyRadiomics library get PyRadiomics'
/// default options.
///
/// # Errors
/// As [`load_settings`]; also when the IBSI library cannot follow the file's resampling.
pub fn load_settings_for(
    path: &std::path::Path,
    strict: bool,
    library: Option<LibraryChoice>,
) -> Result<LoadedSettings, crate::Error> {
    use crate::settings::SettingsError;
    let shown = path.display().to_string();
    let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"));
    let text = if is_yaml {
        Some(
            radx_io::read_text_limited(path, radx_io::TEXT_INPUT_LIMIT)
                .map_err(|source| SettingsError::Read { path: shown.clone(), source })?,
        )
    } else {
        None
    };
    let Some(text) = text.filter(|t| is_params_schema(t)) else {
        let mut settings = Settings::from_file(path)?;
        if library == Some(LibraryChoice::Pyradiomics) && settings.pyradiomics.is_none() {
            settings.pyradiomics = Some(Default::default());
        } else if library == Some(LibraryChoice::Ibsi) {
            settings.pyradiomics = None;
        }
        return Ok(LoadedSettings { settings, warnings: Vec::new() });
    };
    let params = |source| SettingsError::Params { path: shown.clone(), source };
    let mut parsed = parse_params(&text).map_err(params)?;
    if library == Some(LibraryChoice::Ibsi) {
        let (settings, unused) = ibsi::for_ibsi_library(parsed.settings).map_err(params)?;
        parsed.settings = settings;
        parsed.unsupported.extend(unused);
    }
    if strict && !parsed.unsupported.is_empty() {
        return Err(SettingsError::Unsupported { path: shown, unsupported: parsed.unsupported }.into());
    }
    validate(&parsed.settings).map_err(|source| SettingsError::Invalid { path: shown.clone(), source })?;
    let warnings = parsed.unsupported.iter().map(|m| format!("{shown}: {m}; ignored"));
    let notes = parsed.notes.iter().map(|m| format!("{shown}: {m}"));
    Ok(LoadedSettings { settings: parsed.settings, warnings: warnings.chain(notes).collect() })
}

/// [`Settings::validate`], reading a 0 in the resampling spacing as PyRadiomics does (that
/// axis keeps its spacing) rather than as a spacing of 0 mm.
fn validate(settings: &Settings) -> Result<(), crate::settings::InvalidSetting> {
    let mut checked = settings.clone();
    if let Some(r) = checked.resample.as_mut() {
        r.spacing = r.spacing.map(|s| if s == 0.0 { 1.0 } else { s });
    }
    checked.validate()
}

#[cfg(test)]
mod tests {
    use super::super::options::{PyradiomicsOptions, WeightingNorm};
    use super::*;
    use crate::settings::{Binning, Interpolator, Normalise, ResegmentMode};

    fn parse(text: &str) -> ParamsFile {
        parse_params(text).unwrap()
    }

    #[test]
    fn schema_is_detected_by_its_top_level_keys() {
        assert!(is_params_schema("setting:\n  binWidth: 10\n"));
        assert!(is_params_schema("imageType:\n  Original: {}\n"));
        assert!(is_params_schema("featureClass:\n  glcm:\n"));
        assert!(!is_params_schema("label: 2\ntexture: {glcm_distance: 1}\n"));
    }

    #[test]
    fn every_supported_key_maps_onto_radx_settings() {
        let p = parse(
            "setting:
  binWidth: 10
  label: 3
  interpolator: sitkLinear
  resampledPixelSpacing: [1, 2, 3]
  padDistance: 5
  normalize: true
  normalizeScale: 100
  removeOutliers: 3
  resegmentRange: [-100, 200]
  resegmentMode: relative
  resegmentShape: true
  force2D: true
  force2Ddimension: 0
  distances: [2]
  symmetricalGLCM: false
  weightingNorm: manhattan
  gldm_a: 1
  voxelArrayShift: 1000
  minimumROIDimensions: 2
  minimumROISize: 50
featureClass:
  glcm: [Contrast, Idmn]
  firstorder:
imageType:
  Original: {}
",
        );
        assert!(p.unsupported.is_empty(), "{:?}", p.unsupported);
        let s = &p.settings;
        assert_eq!(s.discretisation.texture, Binning::PyradiomicsBinWidth { width: 10.0 });
        assert_eq!(s.label, 3);
        let r = s.resample.as_ref().unwrap();
        assert_eq!(r.spacing, [1.0, 2.0, 3.0]);
        assert_eq!(r.image_interpolator, Interpolator::Linear);
        assert_eq!(s.normalise, Some(Normalise { scale: 100.0, remove_outliers: Some(3.0) }));
        assert_eq!(s.resegment.range, Some([-100.0, 200.0]));
        assert_eq!(s.resegment.mode, ResegmentMode::Relative);
        assert!(s.resegment.shape);
        assert_eq!((s.texture.glcm_distance, s.texture.ngldm_distance), (2, 2));
        assert!(!s.texture.glcm_symmetric);
        assert_eq!(s.texture.ngldm_alpha, 1);
        let o = s.pyradiomics.as_ref().unwrap();
        assert!(o.force_2d);
        assert_eq!(o.weighting_norm, Some(WeightingNorm::Manhattan));
        assert_eq!(o.voxel_array_shift, 1000.0);
        assert_eq!(o.minimum_roi_dimensions, 2);
        assert_eq!(o.minimum_roi_size, Some(50));
        assert_eq!(o.pad_distance, 5.0);
        let classes = o.feature_classes.as_ref().unwrap();
        assert_eq!(classes["glcm"], vec!["Contrast".to_string(), "Idmn".to_string()]);
        assert!(classes["firstorder"].is_empty());
        assert!(!classes.contains_key("glrlm"));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn bin_count_single_bound_range_sigma_mode_and_defaults() {
        let p = parse("setting:\n  binCount: 64\n  resegmentRange: [0]\n  resegmentMode: sigma\n");
        let s = &p.settings;
        assert_eq!(s.discretisation.texture, Binning::PyradiomicsBinCount { bins: 64 });
        assert_eq!(s.resegment.range, Some([0.0, f64::INFINITY]));
        assert_eq!(s.resegment.mode, ResegmentMode::Sigma);
        // PyRadiomics defaults: bin width 25, no shift, 3D, no weighting, 26-neighbourhoods.
        let d = parse("imageType:\n  Original: {}\n").settings;
        assert_eq!(d.discretisation.texture, Binning::PyradiomicsBinWidth { width: 25.0 });
        let mut options = d.pyradiomics.clone().unwrap();
        assert_eq!(options.enabled_image_types, vec![("Original".to_string(), serde_json::json!({}))]);
        options.enabled_image_types.clear();
        assert_eq!(options, PyradiomicsOptions::default());
        assert!(d.resample.is_none() && d.normalise.is_none() && d.resegment.range.is_none());
    }

    #[test]
    fn unsupported_keys_are_reported_by_name() {
        let p = parse(
            "setting:\n  binWidth: 25\n  correctMask: true\n  geometryTolerance: 0.1\n\
             imageType:\n  Original: {}\n  LoG: {sigma: [1.0], voxelArrayShift: 5}\nvoxelSetting:\n  kernelRadius: 2\n  kernelShape: ball\n",
        );
        let all = p.unsupported.join("\n");
        for name in ["correctMask", "geometryTolerance", "voxelArrayShift", "kernelShape"] {
            assert!(all.contains(name), "`{name}` not reported in:\n{all}");
        }
        let err = parse_params("setting:\n  binWidth: wide\n").unwrap_err();
        assert!(matches!(&err, ParamsError::NotANumber { key, .. } if key == "binWidth"), "{err:?}");
        assert_eq!(err.to_string(), "setting `binWidth`: expected a number, got \"wide\"");
    }

    #[test]
    fn image_types_become_filters_in_the_files_order() {
        use radx_filters::FilterSpec;
        let p = parse(
            "imageType:\n  Wavelet: {level: 2, binCount: 8}\n  LoG: {sigma: [1, 2.5, 0]}\n  Gradient: {}\n\
             setting:\n  binWidth: 10\n  gradientUseSpacing: false\n  start_level: 1\n  preCrop: true\n",
        );
        assert!(p.unsupported.is_empty(), "{:?}", p.unsupported);
        let kinds: Vec<&str> = p.settings.filters.iter().map(|f| f.spec.kind()).collect();
        // 7 sub-bands of 2 levels and the last approximation, then the σ > 0, then Gradient.
        assert_eq!(kinds.len(), 15 + 2 + 1, "{kinds:?}");
        assert!(kinds[..15].iter().all(|k| *k == "pyradiomics_wavelet") && kinds[17] == "pyradiomics_gradient");
        let names: Vec<String> =
            p.settings.filters.iter().map(|f| f.spec.build().expect("valid").image_type()).collect();
        assert_eq!(names[0], "wavelet-LLH");
        assert_eq!(names[7], "wavelet2-LLH");
        assert_eq!(names[14], "wavelet2-LLL");
        assert_eq!(&names[15..17], ["log-sigma-1-mm-3D", "log-sigma-2-5-mm-3D"]);
        // Settings of `setting:` reach the image types; binning per type where the type has its own.
        assert!(matches!(p.settings.filters[0].spec, FilterSpec::PyradiomicsWavelet { start_level: 1, .. }));
        assert_eq!(p.settings.filters[17].spec, FilterSpec::PyradiomicsGradient { use_spacing: false });
        assert_eq!(p.settings.filters[0].discretisation, Some(Binning::PyradiomicsBinCount { bins: 8 }));
        assert_eq!(p.settings.filters[15].discretisation, None);
        let o = p.settings.pyradiomics.unwrap();
        assert!(o.pre_crop && !o.original_image, "no `Original`: only its shape");
        let err = parse_params("imageType:\n  Laplacian: {}\n").unwrap_err();
        assert!(matches!(&err, ParamsError::UnknownImageType { name, .. } if name == "Laplacian"), "{err:?}");
        assert!(err.to_string().contains("LoG, Wavelet"), "{err}");
        let err = parse_params("imageType:\n  LoG: {sigma: 1.0}\n").unwrap_err();
        assert!(matches!(&err, ParamsError::ImageTypeSetting { key, .. } if key == "sigma"), "{err:?}");
        let err = parse_params("imageType:\n  Wavelet: {wavelet: db99}\n").unwrap_err();
        assert!(err.to_string().contains("Wavelet") && err.to_string().contains("db99"), "{err}");
    }

    #[test]
    fn a_zero_spacing_keeps_that_axis() {
        let r = parse("setting:\n  resampledPixelSpacing: [2, 2, 0]\n").settings.resample.unwrap();
        assert_eq!(r.spacing, [2.0, 2.0, 0.0]);
        assert!(r.in_plane_only, "z kept: the IBSI's in-plane interpolation");
        let r = parse("setting:\n  resampledPixelSpacing: [0, 2, 3]\n").settings.resample.unwrap();
        assert!(!r.in_plane_only);
        for bad in ["[2, 2]", "[2, -1, 2]", "[2, x, 2]"] {
            let err = parse_params(&format!("setting:\n  resampledPixelSpacing: {bad}\n")).unwrap_err();
            assert!(matches!(err, ParamsError::Spacing { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn feature_class_names_are_checked_as_pyradiomics_does() {
        let err = parse_params("featureClass:\n  glcm: [Contrast, Contrsat]\n").unwrap_err();
        assert!(
            matches!(&err, ParamsError::UnknownFeature { class, feature, .. } if class == "glcm" && feature == "Contrsat")
        );
        let message = err.to_string();
        assert!(
            message.contains("no feature `Contrsat` in class `glcm`") && message.contains("Autocorrelation"),
            "{message}"
        );
        let err = parse_params("featureClass:\n  gldzm:\n").unwrap_err();
        assert!(matches!(&err, ParamsError::UnknownClass { class, .. } if class == "gldzm"), "{err:?}");
        assert!(err.to_string().contains("firstorder, shape, shape2D"), "{err}");
        let err = parse_params("featureClass:\n  glcm: Contrast\n").unwrap_err();
        assert!(matches!(&err, ParamsError::FeatureList { class, .. } if class == "glcm"), "{err:?}");
        assert!(matches!(parse_params("featureClass:\n").unwrap_err(), ParamsError::FeatureClass { .. }));
        // Deprecated: accepted; the ones PyRadiomics gives no value for are noted.
        let p = parse("featureClass:\n  shape: [Compactness1]\n  glcm: [SumVariance]\n");
        assert!(p.unsupported.is_empty());
        assert_eq!(p.notes.len(), 1);
        assert!(p.notes[0].contains("SumVariance") && p.notes[0].contains("ClusterTendency"), "{:?}", p.notes);
    }

    #[test]
    fn voxel_setting_is_stored() {
        use super::super::options::VoxelSetting;
        let p =
            parse("voxelSetting:\n  kernelRadius: 2\n  maskedKernel: false\n  initValue: nan\n  voxelBatch: 10000\n");
        assert!(p.unsupported.is_empty(), "{:?}", p.unsupported);
        let v = p.settings.pyradiomics.unwrap().voxel_setting.unwrap();
        assert_eq!((v.kernel_radius, v.masked_kernel, v.voxel_batch), (2, false, Some(10000)));
        assert!(v.init_value.is_nan());
        let d = parse("voxelSetting:\n  initValue: 0\n").settings.pyradiomics.unwrap().voxel_setting.unwrap();
        assert_eq!(d, VoxelSetting::default());
        let err = parse_params("voxelSetting:\n  kernelRadius: 0\n").unwrap_err();
        assert!(matches!(err, ParamsError::VoxelSetting { key: "kernelRadius", .. }), "{err:?}");
    }

    #[test]
    fn several_distances_are_kept_in_order_with_repeats_and_others_refused() {
        let p = parse("setting:\n  distances: [1, 2, 3, 1]\n");
        assert!(p.unsupported.is_empty(), "{:?}", p.unsupported);
        assert_eq!(p.settings.pyradiomics.as_ref().unwrap().distances, vec![1, 2, 3, 1]);
        // The IBSI library's single distance stays at its default.
        assert_eq!((p.settings.texture.glcm_distance, p.settings.texture.ngldm_distance), (1, 1));
        let (_, unused) = ibsi::for_ibsi_library(p.settings).unwrap();
        assert!(unused.join("\n").contains("`distances` with several values"), "{unused:?}");
        // PyRadiomics' schema: integers > 0, a non-empty list.
        for bad in ["[0]", "[1, -2]", "[1.5]", "[]", "2", "[one]"] {
            let text = format!("setting:\n  distances: {bad}\n");
            assert!(matches!(parse_params(&text), Err(ParamsError::Distances { .. })), "{bad}");
        }
    }

    #[test]
    fn for_the_ibsi_library_pyradiomics_only_options_are_named() {
        use radx_core::Aggregation;
        let p = parse(
            "setting:\n  binWidth: 10\n  force2D: true\n  voxelArrayShift: 300\n  resampledPixelSpacing: [2, 2, 0]\n\
             featureClass:\n  glcm:\n",
        );
        let (s, unused) = ibsi::for_ibsi_library(p.settings).unwrap();
        assert!(s.pyradiomics.is_none());
        assert_eq!(s.discretisation.texture, Binning::PyradiomicsBinWidth { width: 10.0 });
        assert_eq!(
            s.texture.aggregations,
            vec![
                Aggregation::Avg2d,
                Aggregation::SliceMerged2d,
                Aggregation::DirectionMerged2_5d,
                Aggregation::Merged2_5d
            ]
        );
        let all = unused.join("\n");
        for name in ["voxelArrayShift", "featureClass", "IBSI's grid"] {
            assert!(all.contains(name), "`{name}` not named in:\n{all}");
        }
        let p = parse("setting:\n  resampledPixelSpacing: [0, 2, 2]\n");
        assert!(matches!(ibsi::for_ibsi_library(p.settings), Err(ParamsError::NotForIbsi { .. })));
        let plain = parse("setting:\n  binWidth: 25\n").settings;
        assert_eq!(plain.texture.aggregations, vec![Aggregation::Avg3d, Aggregation::Merged3d]);
        assert!(ibsi::for_ibsi_library(plain).unwrap().1.is_empty());
    }
}
