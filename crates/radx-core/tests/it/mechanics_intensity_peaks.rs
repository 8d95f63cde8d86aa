//! Which method the intensity peaks take (issue 27, item 8): fine spacings, where the run
//! method's cost per centre grows as 1/spacing² and the global peak became quadratic, take the
//! FFT path; coarse ones keep the runs; both give the same bits whatever the thread count.

use ndarray::{Array3, ShapeBuilder};
use radx_core::grid::Grid;
use radx_core::local_intensity::{IntensityPeaks, PeakMethod, PeakPlan, required_margin};
use radx_core::volume::Volume;

/// An IBSI resampling to 0.05 mm of a 1 cm cube ROI: 200³ = 8·10⁶ centres, 124 voxels of
/// margin, about 48 000 runs per sphere — 4·10¹¹ run sums (minutes to hours) before. The plan
/// is computed from the geometry alone, so the test allocates nothing of that size.
#[test]
fn a_fine_resampling_takes_the_fft_for_the_global_peak() {
    let spacing = [0.05; 3];
    let margin = required_margin(spacing);
    assert_eq!(margin, [124; 3], "6.2035 / 0.05 = 124.07");
    let dims = [200 + 2 * 124; 3];
    let roi = [[124, 323]; 3];
    let plan = PeakPlan::of_geometry(dims, spacing, roi, 200u64.pow(3), 1);
    assert_eq!(plan.global, PeakMethod::Fft);
    // One brightest voxel: 48 000 run sums, far less than any transform.
    assert_eq!(plan.local, PeakMethod::Runs);
    // The window is the image (full margins): 448 is 2^6·7, so the padded length is the next
    // 5-smooth one, 450, and the signal is 16 · 450 · 450 · 448 bytes, plus the spectrum's
    // octant 8 · 226³ and the means 8 · 200³.
    let want = 16 * 450 * 450 * 448 + 8 * 226u64.pow(3) + 8 * 200u64.pow(3) + 16 * 450 * 450;
    assert_eq!(plan.fft_bytes, want);
}

/// The IBSI digital phantom's geometry (5 × 4 × 4 voxels of 2 × 2 × 2 mm, 74 ROI voxels) and
/// a lung CT-like ROI at 2 mm keep the run method: there the runs are cheaper.
#[test]
fn coarse_spacings_keep_the_runs() {
    let phantom = PeakPlan::of_geometry([5, 4, 4], [2.0; 3], [[0, 4], [0, 3], [0, 3]], 74, 1);
    assert_eq!((phantom.global, phantom.local, phantom.fft_bytes), (PeakMethod::Runs, PeakMethod::Runs, 0));
    let ct = PeakPlan::of_geometry([40, 40, 30], [2.0; 3], [[3, 36], [3, 36], [3, 26]], 12_000, 2);
    assert_eq!((ct.global, ct.local), (PeakMethod::Runs, PeakMethod::Runs));
}

/// A ball of radius 16.7 voxels at 0.25 mm (19 000 centres, 1 900 runs each) in a 56³ image:
/// the plan takes the FFT for the global peak, whose value equals the run method's, and a
/// constant-intensity ROI (every voxel the brightest) takes it for the local peak too.
#[test]
fn a_fine_case_takes_the_fft_and_agrees_with_the_runs() {
    let (image, mask) = ball(56, 0.25, |i| ((i * 7919) % 1000) as f64 - 1000.0);
    let peaks = IntensityPeaks::new(&image, &mask).expect("non-empty");
    assert_eq!((peaks.plan().global, peaks.plan().local), (PeakMethod::Fft, PeakMethod::Runs));
    let runs = IntensityPeaks::with_method(&image, &mask, PeakMethod::Runs).expect("non-empty");
    assert!((peaks.global() - runs.global()).abs() <= 1e-9 * 1000.0, "{} vs {}", peaks.global(), runs.global());
    assert_eq!(peaks.local(), runs.local());

    let (flat, mask) = ball(56, 0.25, |_| 5.0);
    let peaks = IntensityPeaks::new(&flat, &mask).expect("non-empty");
    assert_eq!(peaks.plan().local, PeakMethod::Fft);
    // Every sphere averages fives.
    assert!((peaks.local() - 5.0).abs() < 1e-12 && (peaks.global() - 5.0).abs() < 1e-12);
}

/// The FFT path's peaks are the same bits on one thread and on several.
#[test]
fn fft_peaks_do_not_depend_on_the_thread_count() {
    let (image, mask) = ball(40, 0.4, |i| ((i * 104_729) % 2001) as f64 * 0.37 - 400.0);
    let peaks_on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        pool.install(|| {
            let peaks = IntensityPeaks::with_method(&image, &mask, PeakMethod::Fft).expect("non-empty");
            (peaks.global().to_bits(), peaks.local().to_bits())
        })
    };
    assert_eq!(peaks_on(1), peaks_on(3));
}

/// A cube image of `n` voxels a side at `spacing` mm, values `value(i)` (x fastest), and a
/// ball mask of radius n/3 − 2 voxels in its middle.
fn ball(n: usize, spacing: f64, value: impl Fn(usize) -> f64) -> (Volume<f64>, Array3<bool>) {
    let image = Volume::from_x_fastest(Grid::new([n; 3], [spacing; 3]), (0..n * n * n).map(value).collect());
    let (c, r) = (n as f64 / 2.0, n as f64 / 3.0 - 2.0);
    let mask = Array3::from_shape_fn((n, n, n).f(), |(x, y, z)| {
        (x as f64 - c).powi(2) + (y as f64 - c).powi(2) + (z as f64 - c).powi(2) <= r * r
    });
    (image, mask)
}
