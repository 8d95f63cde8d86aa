//! scratch
use radx_core::morphology::*;
use nifti::{NiftiObject, IntoNdArray};
use ndarray::{Array3, ShapeBuilder};

fn phantom() -> (Array3<f64>, Array3<bool>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi/digital_phantom");
    let img = nifti::ReaderOptions::new().read_file(format!("{dir}/image.nii.gz")).unwrap().into_volume().into_ndarray::<f64>().unwrap();
    let msk = nifti::ReaderOptions::new().read_file(format!("{dir}/mask.nii.gz")).unwrap().into_volume().into_ndarray::<f64>().unwrap();
    let to3 = |a: ndarray::ArrayD<f64>| { let s = a.shape().to_vec(); let mut o = Array3::zeros((s[0], s[1], s[2]).f()); for ((i,j,k), v) in o.indexed_iter_mut() { *v = a[[i,j,k]]; } o };
    let img = to3(img); let msk = to3(msk);
    (img, msk.map(|&v| v > 0.5))
}

#[test]
fn scratch() {
    let (_img, m) = phantom();
    let mesh = surface_mesh(&m, [2.0; 3]);
    println!("V={} A={} nv={} nt={}", mesh.volume(), mesh.area(), mesh.vertices.len(), mesh.triangles.len());
    let l = pca_eigenvalues(&m, [2.0;3]);
    println!("{:?}", l.map(|v| 4.0*v.sqrt()));
}
