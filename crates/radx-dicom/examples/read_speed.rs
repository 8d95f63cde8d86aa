//! The DICOM read-speed measurement of docs/dicom.md (not a test): a series read and an
//! RTSTRUCT ROI rasterised on its grid, against the same image and mask read from .nii.gz
//! by radx-io. Run by `benches/dicom/run.sh`:
//!
//!     cargo run --release -p radx-dicom --example read_speed -- SERIES_DIR RS.dcm ROI image.nii.gz mask.nii.gz [RUNS]
//!
//! Prints the median and the range of RUNS (default 7) wall-clock runs of each, alternating.

use std::path::PathBuf;
use std::time::Instant;

fn median(mut times: Vec<f64>) -> (f64, f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0], times[times.len() - 1])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!("usage: read_speed SERIES_DIR RS.dcm ROI image.nii.gz mask.nii.gz [RUNS]");
        std::process::exit(2);
    }
    let (series, rs, roi) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]), args[2].clone());
    let (image, mask) = (PathBuf::from(&args[3]), PathBuf::from(&args[4]));
    let runs: usize = args.get(5).and_then(|r| r.parse().ok()).unwrap_or(7);
    let (mut dicom, mut nifti, mut raster) = (Vec::new(), Vec::new(), Vec::new());
    let mut sizes = (0, 0, 0, 0);
    for _ in 0..runs {
        let start = Instant::now();
        let s = radx_dicom::read_series(&series).unwrap_or_else(|e| panic!("{e}"));
        let read = Instant::now();
        let m = radx_dicom::read_rtstruct_mask(&rs, &roi, &s).unwrap_or_else(|e| panic!("{e}"));
        dicom.push(start.elapsed().as_secs_f64());
        raster.push(read.elapsed().as_secs_f64());
        sizes.0 = s.volume.data.len();
        sizes.1 = m.data.iter().filter(|v| **v).count();

        let start = Instant::now();
        let i = radx_io::read_volume(&image).unwrap_or_else(|e| panic!("{e}"));
        let k = radx_io::read_volume(&mask).unwrap_or_else(|e| panic!("{e}"));
        nifti.push(start.elapsed().as_secs_f64());
        sizes.2 = i.data.len();
        sizes.3 = k.data.iter().filter(|v| **v > 0.5).count();
    }
    assert_eq!((sizes.0, sizes.1), (sizes.2, sizes.3), "the DICOM and NIfTI data differ");
    let (d, dl, dh) = median(dicom);
    let (n, nl, nh) = median(nifti);
    let (r, _, _) = median(raster);
    println!("voxels {}, ROI voxels {}, runs {runs}", sizes.0, sizes.1);
    println!(
        "DICOM series + RTSTRUCT rasterised: median {d:.3} s (range {dl:.3}-{dh:.3}; RTSTRUCT read and rasterised: {r:.3} s)"
    );
    println!("image.nii.gz + mask.nii.gz:         median {n:.3} s (range {nl:.3}-{nh:.3})");
}
