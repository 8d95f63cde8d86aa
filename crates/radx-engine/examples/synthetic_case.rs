//! Writes a deterministic synthetic CT-like case (int16 image + ellipsoid mask) as NIfTI,
//! for benchmarks and side-by-side comparisons with other tools (see `radx_engine::synthetic`).
//!
//! `cargo run --release --example synthetic_case -- NX NY NZ ROI_VOXELS OUT_DIR`
//! writes `OUT_DIR/image.nii.gz` and `OUT_DIR/mask.nii.gz` (spacing 0.8 × 0.8 × 2 mm).

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Option<Vec<usize>> = args.get(..4).map(|a| a.iter().filter_map(|s| s.parse().ok()).collect());
    let (Some(n), Some(out)) = (numbers.filter(|n| n.len() == 4), args.get(4).filter(|_| args.len() == 5)) else {
        eprintln!("usage: synthetic_case NX NY NZ ROI_VOXELS OUT_DIR (positive integers, then a folder)");
        std::process::exit(2);
    };
    let out = PathBuf::from(out);
    if let Err(e) = radx_engine::synthetic::write_case(&out, [n[0], n[1], n[2]], n[3] as f64) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    eprintln!("wrote {} ({}x{}x{}, ~{} ROI voxels)", out.display(), n[0], n[1], n[2], n[3]);
}
