//! Mechanics: PyRadiomics' image types from a parameter file — which image types a case
//! gets (PyRadiomics skips a LoG σ too large for the image, and every σ on an image under 4
//! voxels along an axis), the original image without `Original`, and the same rows for any
//! thread count.

use radx_engine::compat::pyradiomics::parse_params;
use radx_engine::core::{Grid, Volume};
use radx_engine::{Case, Extractor};

/// An `nx`×`ny`×`nz` image of 1 mm voxels with a smooth pattern and a box ROI two voxels in
/// from every face.
fn case(dims: [usize; 3]) -> Case {
    let grid = Grid::new(dims, [1.0; 3]);
    let (mut image, mut mask) = (Vec::new(), Vec::new());
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                image.push(((x * 7 + y * 3 + z * 5) % 17) as f64 * 10.0);
                let inside = [x, y, z].iter().zip(dims).all(|(i, n)| *i >= 1 && *i + 1 < n);
                mask.push(if inside { 1.0 } else { 0.0 });
            }
        }
    }
    Case::new(Volume::from_x_fastest(grid, image), Volume::from_x_fastest(grid, mask))
}

fn image_types(params: &str, case: &Case) -> Vec<String> {
    let settings = parse_params(params).expect("parameter file").settings;
    let extractor = Extractor::new(settings, &[], Default::default()).expect("compiles");
    let mut types: Vec<String> =
        extractor.extract(case).expect("extracts").rows.iter().map(|r| r.key.image_type.to_string()).collect();
    types.dedup();
    types
}

#[test]
fn a_sigma_too_large_for_the_image_is_skipped_as_pyradiomics_skips_it() {
    // 6 voxels along z: σ = 6 mm needs ⌈6/1⌉ + 1 = 7, σ = 2 mm fits.
    let params = "imageType:\n  Original: {}\n  LoG: {sigma: [2.0, 6.0]}\n";
    assert_eq!(image_types(params, &case([12, 12, 6])), ["original", "log-sigma-2-0-mm-3D"]);
    // 3 voxels along z: PyRadiomics computes no LoG at all; the wavelets still come.
    let params = "imageType:\n  Original: {}\n  LoG: {sigma: [1.0]}\n  Wavelet: {}\n";
    let types = image_types(params, &case([12, 12, 3]));
    assert_eq!(types.len(), 1 + 8, "{types:?}");
    assert!(!types.iter().any(|t| t.starts_with("log")), "{types:?}");
}

#[test]
fn without_original_the_original_image_gives_its_shape_only() {
    let params = "imageType:\n  Square: {}\nfeatureClass:\n  shape:\n  firstorder:\n";
    let settings = parse_params(params).expect("parameter file").settings;
    let extractor = Extractor::new(settings, &[], Default::default())
        .and_then(Extractor::with_pyradiomics_names)
        .expect("compiles");
    let rows = extractor.extract(&case([10, 10, 8])).expect("extracts").rows;
    let names: Vec<&str> = rows.iter().map(|r| r.key.feature.as_str()).collect();
    assert!(names.iter().any(|n| n.starts_with("original_shape_")), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("original_firstorder_")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("square_firstorder_")), "{names:?}");
}

#[test]
fn image_type_rows_do_not_depend_on_the_thread_count() {
    let params = "imageType:\n  LoG: {sigma: [1.0]}\n  Wavelet: {}\n  LBP3D: {binWidth: 0.5}\n";
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        pool.install(|| {
            let settings = parse_params(params).expect("parameter file").settings;
            let extractor = Extractor::new(settings, &[], Default::default()).expect("compiles");
            let rows = extractor.extract(&case([14, 13, 9])).expect("extracts").rows;
            rows.iter().map(|r| (format!("{:?}", r.key), r.value.to_bits())).collect::<Vec<_>>()
        })
    };
    assert_eq!(run(1), run(2));
}
