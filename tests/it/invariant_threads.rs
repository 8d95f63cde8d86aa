//! `radx extract` output does not depend on the number of threads: texture matrices,
//! morphology, filters and the concurrent image/mask reading must all be deterministic, so the
//! bytes written with `RAYON_NUM_THREADS=1` and `=2` are identical.

use std::process::Command;

fn extract(dir: &std::path::Path, threads: &str, settings: &std::path::Path) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_radx"))
        .env("RAYON_NUM_THREADS", threads)
        .args(["extract", "--image"])
        .arg(dir.join("image.nii.gz"))
        .arg("--mask")
        .arg(dir.join("mask.nii.gz"))
        .arg("--settings")
        .arg(settings)
        .output()
        .expect("radx runs");
    assert!(out.status.success(), "radx failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn output_bytes_do_not_depend_on_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    // ~1 500 ROI voxels: above the FFT threshold of Moran's I, several texture sources.
    radx_engine::synthetic::write_case(dir.path(), [48, 40, 14], 1500.0).unwrap();
    let settings = dir.path().join("s.toml");
    std::fs::write(
        &settings,
        "[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = 25.0\n\
         [texture]\naggregations = [\"2d_avg\", \"2d_smrg\", \"2_5d_dmrg\", \"2_5d_mrg\", \"3d_avg\", \"3d_mrg\"]\n\
         [[filter]]\nkind = \"laws\"\nkernel = \"L5E5E5\"\nrotation = \"max\"\nenergy_delta = 2\nfamilies = [\"intensity_statistics\", \"glcm\"]\n\
         [[filter]]\nkind = \"wavelet\"\nwavelet = \"coif1\"\nsubband = \"LLH\"\nrotation = \"mean\"\nfamilies = [\"intensity_statistics\"]\n\
         [[filter]]\nkind = \"gabor\"\nsigma_mm = 2.0\nlambda_mm = 3.0\ngamma = 1.0\norientation_step_deg = 45.0\nfamilies = [\"intensity_statistics\"]\n\
         [[filter]]\nkind = \"simoncelli\"\nlevel = 1\nfamilies = [\"intensity_statistics\"]\n",
    )
    .unwrap();
    let one = extract(dir.path(), "1", &settings);
    let two = extract(dir.path(), "2", &settings);
    let text = String::from_utf8_lossy(&one);
    // Every standard family is present, Moran's I is a number.
    for family in ["morphology", "local_intensity", "glcm", "glrlm", "glszm", "gldzm", "ngtdm", "ngldm"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("original,{family},"))), "no {family} rows");
    }
    assert!(text.lines().any(|l| l.starts_with("original,morphology,morans_i,") && !l.contains("NaN")), "{text}");
    // And the filters' image types (separable with pooling, Fourier-domain, whole-image).
    for image_type in ["laws_l5e5e5_energy2_rotmax", "wavelet_coif1_llh_l1_rotmean", "simoncelli_l1"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("{image_type},"))), "no {image_type} rows");
    }
    assert!(one == two, "output differs between 1 and 2 threads");
    // And again with two threads: no run-to-run variation either.
    assert!(two == extract(dir.path(), "2", &settings));
}
