//! PyRadiomics' image types (`radx_filters::pyradiomics`) against PyRadiomics 3.0.1's own
//! responses: `tests/data/pyradiomics/image_types/`, written by
//! `crates/radx-filters/tests/pyradiomics/make_fixtures.py` (PyRadiomics' generators on a
//! 23×20×11 random int16 image and a crop of brain2). Every response is compared at every
//! voxel (LBP 3D: inside the mask, the only voxels PyRadiomics computes), as
//! max |radx − PyRadiomics| / max |PyRadiomics|.

use std::collections::HashMap;
use std::path::PathBuf;

use ndarray::Array3;
use radx_filters::Filter;
use radx_filters::pyradiomics::{
    Exponential, Gradient, Lbp2D, Lbp2DMethod, Lbp3D, LoG, Logarithm, PixelStorage, Square, SquareRoot, Wavelet,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/pyradiomics/image_types")
}

fn read(file: &str) -> (Array3<f64>, [f64; 3]) {
    let path = fixtures().join(file);
    let volume = radx_io::read_volume(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (volume.data, volume.grid.spacing)
}

/// The filters of one configuration of `make_fixtures.py` (both inputs are int16).
fn filters(generator: &str, settings: &str) -> Vec<Box<dyn Filter>> {
    let int16 = PixelStorage::Int16;
    let boxed = |v: Vec<Wavelet>| v.into_iter().map(|w| Box::new(w) as Box<dyn Filter>).collect();
    match (generator, settings) {
        ("LoG", "sigma") => [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0]
            .iter()
            .map(|&s| Box::new(LoG::new(s).unwrap()) as Box<dyn Filter>)
            .collect(),
        ("Wavelet", "coif1") => boxed(Wavelet::image_types("coif1", 0, 1, None).unwrap()),
        ("Wavelet", "haar_start1_level2") => boxed(Wavelet::image_types("haar", 1, 2, None).unwrap()),
        ("Wavelet", "db3_2d") => boxed(Wavelet::image_types("db3", 0, 1, Some(0)).unwrap()),
        ("Wavelet", "sym2_2d_axis1") => boxed(Wavelet::image_types("sym2", 0, 1, Some(1)).unwrap()),
        ("Square", "") => vec![Box::new(Square)],
        ("SquareRoot", "") => vec![Box::new(SquareRoot)],
        ("Logarithm", "") => vec![Box::new(Logarithm)],
        ("Exponential", "") => vec![Box::new(Exponential)],
        ("Gradient", "spacing") => vec![Box::new(Gradient::new(true))],
        ("Gradient", "nospacing") => vec![Box::new(Gradient::new(false))],
        ("LBP2D", "default") => vec![Box::new(Lbp2D::pyradiomics_default(int16))],
        ("LBP2D", "r2_p12_default_axis2") => {
            vec![Box::new(Lbp2D::new(2.0, 12, Lbp2DMethod::Default, 2, int16).unwrap())]
        }
        ("LBP2D", "r1.5_p8_ror") => vec![Box::new(Lbp2D::new(1.5, 8, Lbp2DMethod::Ror, 0, int16).unwrap())],
        ("LBP2D", "r1_p8_nri") => vec![Box::new(Lbp2D::new(1.0, 8, Lbp2DMethod::NriUniform, 0, int16).unwrap())],
        ("LBP2D", "r1_p8_var") => vec![Box::new(Lbp2D::new(1.0, 8, Lbp2DMethod::Var, 0, int16).unwrap())],
        ("LBP3D", "default") => {
            Lbp3D::image_types(2, 1.0, 1, int16).unwrap().into_iter().map(|f| Box::new(f) as Box<dyn Filter>).collect()
        }
        ("LBP3D", "l3_r2_s2") => {
            Lbp3D::image_types(3, 2.0, 2, int16).unwrap().into_iter().map(|f| Box::new(f) as Box<dyn Filter>).collect()
        }
        other => panic!("no filters for {other:?}: update this test with make_fixtures.py"),
    }
}

/// One row of `manifest.csv`.
struct Row {
    case: String,
    generator: String,
    settings: String,
    image_type: String,
    file: String,
}

fn manifest() -> Vec<Row> {
    let mut reader = csv::Reader::from_path(fixtures().join("manifest.csv")).expect("manifest.csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("a manifest row");
            Row {
                case: r[0].into(),
                generator: r[1].into(),
                settings: r[2].into(),
                image_type: r[3].into(),
                file: r[4].into(),
            }
        })
        .collect()
}

/// max |a − b| / max |b| over the voxels `keep` selects; NaN must meet NaN.
fn relative_difference(computed: &Array3<f64>, reference: &Array3<f64>, keep: impl Fn(usize) -> bool) -> f64 {
    assert_eq!(computed.dim(), reference.dim());
    let (mut worst, mut scale) = (0.0f64, 0.0f64);
    for (n, (&c, &r)) in computed.iter().zip(reference.iter()).enumerate() {
        if !keep(n) {
            continue;
        }
        if r.is_nan() || c.is_nan() {
            assert!(r.is_nan() && c.is_nan(), "voxel {n}: radx {c}, PyRadiomics {r}");
            continue;
        }
        worst = worst.max((c - r).abs());
        scale = scale.max(r.abs());
    }
    if worst == 0.0 { 0.0 } else { worst / scale }
}

/// Check every fixture of `generators`: `fixtures` of them, as counted in the manifest.
fn check(generators: &[&str], goal: f64, fixtures: usize) {
    let rows = manifest();
    // Per case: the image, its spacing and the mask.
    type Input = (Array3<f64>, [f64; 3], Array3<f64>);
    let mut inputs: HashMap<String, Input> = HashMap::new();
    for row in rows.iter().filter(|r| r.generator == "input") {
        let (image, spacing) = read(&row.file);
        let mask_file = rows.iter().find(|m| m.case == row.case && m.generator == "mask").expect("a mask").file.clone();
        inputs.insert(row.case.clone(), (image, spacing, read(&mask_file).0));
    }
    let mut checked = 0;
    let mut worst: HashMap<String, f64> = HashMap::new();
    let mut configs: Vec<(String, String, String)> = Vec::new();
    for row in rows.iter().filter(|r| generators.contains(&r.generator.as_str())) {
        let key = (row.case.clone(), row.generator.clone(), row.settings.clone());
        if !configs.contains(&key) {
            configs.push(key);
        }
    }
    for (case, generator, settings) in configs {
        let (image, spacing, mask) = &inputs[&case];
        let expected: Vec<&Row> =
            rows.iter().filter(|r| r.case == case && r.generator == generator && r.settings == settings).collect();
        let filters = filters(&generator, &settings);
        let names: Vec<String> = filters.iter().map(|f| f.image_type()).collect();
        let pyradiomics_names: Vec<&str> = expected.iter().map(|r| r.image_type.as_str()).collect();
        assert_eq!(names, pyradiomics_names, "{case} {generator} {settings}: PyRadiomics' image types, in its order");
        for (filter, row) in filters.iter().zip(&expected) {
            filter.check_fits(image.dim().into(), *spacing).unwrap();
            let response = filter.apply(image.view(), *spacing).unwrap();
            let (reference, _) = read(&row.file);
            let roi: Vec<bool> = mask.iter().map(|&m| m == 1.0).collect();
            let d = if generator == "LBP3D" {
                relative_difference(&response, &reference, |n| roi[n])
            } else {
                relative_difference(&response, &reference, |_| true)
            };
            eprintln!("{case:7} {generator:11} {settings:22} {:22} max |diff| / max |ref| = {d:.2e}", row.image_type);
            assert!(d <= goal, "{case} {} ({settings}): {d:.3e} over {goal:.0e}", row.image_type);
            let w = worst.entry(generator.clone()).or_insert(0.0);
            *w = w.max(d);
            checked += 1;
        }
    }
    assert_eq!(checked, fixtures, "fixtures of {generators:?} compared");
    eprintln!("worst: {worst:?}");
}

#[test]
fn log_matches_simpleitk_laplacian_recursive_gaussian() {
    check(&["LoG"], 1e-7, 14);
}

#[test]
fn wavelet_matches_pyradiomics_swt3() {
    check(&["Wavelet"], 1e-13, 43);
}

#[test]
fn square_squareroot_logarithm_exponential_match() {
    check(&["Square", "SquareRoot", "Logarithm", "Exponential"], 1e-15, 8);
}

#[test]
fn gradient_matches_simpleitk_gradient_magnitude() {
    check(&["Gradient"], 1e-7, 4);
}

#[test]
fn lbp2d_matches_scikit_image_local_binary_pattern() {
    check(&["LBP2D"], 0.0, 10);
}

#[test]
fn lbp3d_matches_pyradiomics_spherical_harmonics() {
    check(&["LBP3D"], 1e-12, 14);
}
