//! Filters in the engine: bad `[[filter]]` settings are refused naming the setting, and the
//! response the features see (filtered on the ROI's neighbourhood only) equals the whole
//! image's response at the ROI's voxels, for ROIs inside the image and at its edge.

use radx_engine::core::{Grid, Volume};
use radx_engine::{Case, Extractor, Settings};

fn refused(toml: &str) -> String {
    let settings = Settings::from_toml_str(toml);
    match settings {
        Err(e) => e.to_string(),
        Ok(s) => s.validate().expect_err("refused").to_string(),
    }
}

#[test]
fn bad_filter_settings_are_refused_naming_the_setting() {
    let cases = [
        ("[[filter]]\nkind = \"lgo\"\nsigma_mm = 1.0\n", "lgo"),
        ("[[filter]]\nkind = \"log\"\nsigma = 1.0\n", "sigma"),
        ("[[filter]]\nkind = \"log\"\nsigma_mm = 0.0\n", "sigma_mm"),
        ("[[filter]]\nkind = \"log\"\nsigma_mm = -2.0\n", "sigma_mm"),
        ("[[filter]]\nkind = \"mean\"\nsupport = 4\n", "support"),
        ("[[filter]]\nkind = \"laws\"\nkernel = \"X5L5\"\n", "kernel"),
        ("[[filter]]\nkind = \"wavelet\"\nwavelet = \"db99\"\nsubband = \"LLH\"\n", "wavelet"),
        ("[[filter]]\nkind = \"wavelet\"\nwavelet = \"foo\"\nsubband = \"LLH\"\n", "wavelet"),
        ("[[filter]]\nkind = \"wavelet\"\nwavelet = \"db2\"\nsubband = \"LLH\"\nlevel = 0\n", "level"),
        ("[[filter]]\nkind = \"separable\"\nname = \"k\"\nkernels = [[1.0, nan, 1.0], [1.0]]\n", "kernel"),
        ("[[filter]]\nkind = \"gabor\"\nsigma_mm = 1.0\nlambda_mm = 1.0\ngamma = 1.0\n", "theta_deg"),
        ("[[filter]]\nkind = \"mean\"\nsupport = 3\nboundary = \"reflect\"\n", "reflect"),
        (
            "[[filter]]\nkind = \"riesz_log\"\nsigma_mm = 3.0\norder = [2, 0, 0]\nalign_sigma_mm = 0.0\n",
            "align_sigma_mm",
        ),
        (
            "[[filter]]\nkind = \"riesz_log\"\nsigma_mm = 3.0\norder = [2, 0, 0]\nalign_sigma_mm = -1.0\n",
            "align_sigma_mm",
        ),
        ("[[filter]]\nkind = \"riesz_simoncelli\"\norder = [0, 2, 0]\nalign_sigma_mm = nan\n", "align_sigma_mm"),
        ("[[filter]]\nkind = \"riesz_simoncelli\"\norder = [0, 2, 0]\nalign_sigma = 1.0\n", "align_sigma"),
        ("[[filter]]\nkind = \"mean\"\nsupport = 3\n[[filter]]\nkind = \"mean\"\nsupport = 3\n", "mean_support3"),
    ];
    for (toml, named) in cases {
        let message = refused(toml);
        assert!(message.contains(named), "{toml}\n→ {message}");
    }
}

#[test]
fn a_family_the_library_lacks_is_refused_when_the_extractor_is_built() {
    let settings =
        Settings::from_toml_str("[[filter]]\nkind = \"mean\"\nsupport = 3\nfamilies = [\"glcmm\"]\n").unwrap();
    let err = Extractor::new(settings, &[], Default::default()).expect_err("refused").to_string();
    assert!(err.contains("glcmm") && err.contains("intensity_statistics"), "{err}");
}

#[test]
fn a_support_larger_than_the_image_is_refused_for_that_case() {
    let grid = Grid::new([6, 6, 6], [1.0; 3]);
    let image = Volume::from_x_fastest(grid, (0..216).map(f64::from).collect());
    let mask = Volume::from_x_fastest(grid, (0..216).map(|i| f64::from(u8::from(i % 6 > 1))).collect());
    let settings = Settings::from_toml_str("[[filter]]\nkind = \"mean\"\nsupport = 9\n").unwrap();
    let extractor = Extractor::new(settings, &[], Default::default()).unwrap();
    let err = extractor.extract(&Case::new(image, mask)).expect_err("refused").to_string();
    assert!(err.contains("mean_support9") && err.contains("larger than the image"), "{err}");
}

/// A deterministic pseudo-random image (integer-valued, like CT).
fn image(grid: Grid) -> Volume<f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let values = (0..grid.len())
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 400) as f64 - 200.0
        })
        .collect();
    Volume::from_x_fastest(grid, values)
}

/// Also when a whole-image filter (Simoncelli) makes the chain keep the whole image, so the
/// compact filters are applied to a sub-box of it.
#[test]
fn features_see_the_whole_images_response_inside_the_roi() {
    let grid = Grid::new([40, 34, 18], [0.8, 0.8, 2.0]);
    let img = image(grid);
    let settings = Settings::from_toml_str(
        "[[filter]]\nkind = \"log\"\nsigma_mm = 1.5\nfamilies = [\"intensity_statistics\"]\n\
         [[filter]]\nkind = \"laws\"\nkernel = \"E5L5S5\"\nrotation = \"max\"\nenergy_delta = 3\nfamilies = [\"intensity_statistics\"]\n\
         [[filter]]\nkind = \"wavelet\"\nwavelet = \"db2\"\nsubband = \"LHL\"\nlevel = 2\nboundary = \"nearest\"\nfamilies = [\"intensity_statistics\"]\n\
         [[filter]]\nkind = \"mean\"\nsupport = 5\nboundary = \"zero\"\ndimensionality = \"2d\"\nfamilies = [\"intensity_statistics\"]\n\
         [[filter]]\nkind = \"simoncelli\"\nlevel = 1\nfamilies = [\"intensity_statistics\"]\n",
    )
    .unwrap();
    let extractor = Extractor::new(settings.clone(), &[], Default::default()).unwrap();
    // A ROI in the middle, and one touching the image's x = 0 and z = last faces.
    for (lo, hi) in [([15, 12, 7], [22, 19, 10]), ([0, 5, 14], [6, 12, 17])] {
        let inside = |x: usize, y: usize, z: usize| (0..3).all(|a| [x, y, z][a] >= lo[a] && [x, y, z][a] <= hi[a]);
        let mut labels = Vec::with_capacity(grid.len());
        for z in 0..grid.dims[2] {
            for y in 0..grid.dims[1] {
                for x in 0..grid.dims[0] {
                    labels.push(f64::from(u8::from(inside(x, y, z))));
                }
            }
        }
        let mask = Volume::from_x_fastest(grid, labels);
        let features = extractor.extract(&Case::new(img.clone(), mask.clone())).unwrap();
        for stage in &extractor.filters {
            let whole = radx_engine::filtering::whole_image_response(&img, stage, &settings, "test").unwrap();
            let at_roi: Vec<f64> =
                whole.data.indexed_iter().filter(|((x, y, z), _)| inside(*x, *y, *z)).map(|(_, v)| *v).collect();
            let max = at_roi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let min = at_roi.iter().copied().fold(f64::INFINITY, f64::min);
            let value = |feature: &str| {
                features
                    .rows
                    .iter()
                    .find(|r| r.key.image_type == stage.image_type && r.key.feature == feature)
                    .map(|r| r.value)
                    .unwrap_or_else(|| panic!("{} {feature}", stage.image_type))
            };
            assert_eq!(value("maximum_intensity"), max, "{} max, ROI {lo:?}", stage.image_type);
            assert_eq!(value("minimum_intensity"), min, "{} min, ROI {lo:?}", stage.image_type);
        }
    }
}

/// `FilterSpec::kind` names each filter as the settings' `kind` key does (the IBSI-2 table
/// uses all but `separable`, which the docs example covers, and PyRadiomics' image types,
/// which a parameter file with every one of them gives).
#[test]
fn a_filters_kind_is_its_settings_tag() {
    let mut seen = Vec::new();
    for test in radx_engine::ibsi::ibsi2::phase1_tests().unwrap() {
        let value = serde_json::to_value(&test.filter).unwrap();
        assert_eq!(value["kind"], test.filter.kind(), "{}", test.id);
        seen.push(test.filter.kind());
    }
    let separable =
        Settings::from_toml_str("[[filter]]\nkind = \"separable\"\nname = \"k\"\nkernels = [[1.0], [1.0]]\n").unwrap();
    seen.push(separable.filters[0].spec.kind());
    let plugin = Settings::from_toml_str("[[filter]]\nkind = \"plugin\"\nname = \"site_filter\"\n").unwrap();
    assert_eq!(plugin.filters[0].spec.plugin_image_type().as_deref(), Some("site_filter"));
    seen.push(plugin.filters[0].spec.kind());
    let every_image_type = "imageType:\n  LoG: {sigma: [1.0]}\n  Wavelet: {}\n  Square: {}\n  SquareRoot: {}\n  \
                            Logarithm: {}\n  Exponential: {}\n  Gradient: {}\n  LBP2D: {}\n  LBP3D: {}\n";
    let pyradiomics = radx_engine::compat::pyradiomics::parse_params(every_image_type).unwrap().settings;
    for filter in &pyradiomics.filters {
        assert_eq!(serde_json::to_value(&filter.spec).unwrap()["kind"], filter.spec.kind());
        seen.push(filter.spec.kind());
    }
    for kind in radx_engine::filters::FilterSpec::KINDS {
        assert!(seen.contains(&kind), "{kind}");
    }
}
