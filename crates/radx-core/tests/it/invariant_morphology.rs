//! Property tests of the ROI geometry (IBSI 3.1) and intensity peaks (IBSI 3.2) on random
//! small masks: closed meshes, a hand-derived box volume, symmetry invariance, the FFT pair sums
//! against the O(N²) definition, hull/diameter consistency.

use std::collections::HashMap;

use ndarray::{Array3, ShapeBuilder};
use proptest::prelude::*;
use radx_core::grid::Grid;
use radx_core::local_intensity::{
    IntensityPeaks, PeakMethod, global_intensity_peak, local_intensity_peak, peak_sphere_radius_mm,
};
use radx_core::morphology::autocorrelation::spatial_autocorrelation_with;
use radx_core::morphology::{AutocorrelationMethod, ConvexHull, surface_mesh};
use radx_core::volume::Volume;

/// A random non-empty mask up to 5×5×4 with random spacing.
fn mask_strategy() -> impl Strategy<Value = (Array3<bool>, [f64; 3])> {
    let spacing = prop::sample::select(vec![0.7, 1.0, 2.0, 3.0]);
    (1usize..=5, 1usize..=5, 1usize..=4, [spacing.clone(), spacing.clone(), spacing]).prop_flat_map(
        |(nx, ny, nz, spacing)| {
            (prop::collection::vec(any::<bool>(), nx * ny * nz), 0..nx * ny * nz).prop_map(move |(bits, seed)| {
                let mut m = Array3::from_shape_vec((nx, ny, nz).f(), bits).expect("sized");
                let (x, y, z) = (seed % nx, (seed / nx) % ny, seed / (nx * ny));
                m[[x, y, z]] = true;
                (m, spacing)
            })
        },
    )
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

/// An image larger than the 1 cm³ sphere with a random mask in a random sub-box, so that
/// some centres have their whole sphere inside the image and some are cut by its border.
fn peak_case_strategy() -> impl Strategy<Value = (Array3<bool>, [f64; 3], Vec<f64>)> {
    let spacing = prop::sample::select(vec![0.8, 1.0, 2.0, 3.0]);
    (6usize..=18, 6usize..=18, 3usize..=10, [spacing.clone(), spacing.clone(), spacing]).prop_flat_map(
        |(nx, ny, nz, spacing)| {
            let n = nx * ny * nz;
            (prop::collection::vec(0u8..4, n), prop::collection::vec(-100i32..200, n)).prop_map(
                move |(bits, values)| {
                    // About a third of the voxels, none within one voxel of the x-border.
                    let mask = Array3::from_shape_fn((nx, ny, nz).f(), |(x, y, z)| {
                        x > 0 && x + 1 < nx && bits[x + nx * (y + ny * z)] == 0
                    });
                    (mask, spacing, values.into_iter().map(f64::from).collect())
                },
            )
        },
    )
}

/// Random images with values around −1000 (CT air) or 1000, spacings from 0.4 to 3 mm per
/// axis (sphere reaches from 2 to 15 voxels) and masks in a random sub-box.
fn fft_peak_case_strategy() -> impl Strategy<Value = (Array3<bool>, [f64; 3], Vec<f64>)> {
    let spacing = prop::sample::select(vec![0.4, 0.7, 1.0, 1.3, 2.0, 3.0]);
    (4usize..=20, 4usize..=20, 1usize..=12, [spacing.clone(), spacing.clone(), spacing], -1000.0..1000.0f64)
        .prop_flat_map(|(nx, ny, nz, spacing, offset)| {
            let n = nx * ny * nz;
            let corner = (0..nx, 0..ny, 0..nz);
            (prop::collection::vec(0u8..3, n), prop::collection::vec(-300.0..300.0f64, n), corner).prop_map(
                move |(bits, values, (cx, cy, cz))| {
                    let mask = Array3::from_shape_fn((nx, ny, nz).f(), |(x, y, z)| {
                        x >= cx && y >= cy && z >= cz && bits[x + nx * (y + ny * z)] == 0
                    });
                    (mask, spacing, values.into_iter().map(|v| v + offset).collect())
                },
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The global peak is the highest mean over every masked voxel of the image voxels within
    /// the sphere's radius, written out; the local peak is that mean at the brightest voxel.
    #[test]
    fn intensity_peaks_equal_the_sphere_means_written_out((mask, spacing, values) in peak_case_strategy()) {
        let (nx, ny, nz) = mask.dim();
        let image = Volume::from_x_fastest(Grid::new([nx, ny, nz], spacing), values);
        let r2 = peak_sphere_radius_mm().powi(2);
        let mean_at = |c: (usize, usize, usize)| {
            let (mut sum, mut count) = (0.0, 0.0);
            for ((x, y, z), &v) in image.data.indexed_iter() {
                let d = |a: usize, b: usize, s: f64| ((a as f64 - b as f64) * s).powi(2);
                if d(x, c.0, spacing[0]) + d(y, c.1, spacing[1]) + d(z, c.2, spacing[2]) <= r2 {
                    sum += v;
                    count += 1.0;
                }
            }
            sum / count
        };
        let centres: Vec<_> = mask.indexed_iter().filter(|&(_, &m)| m).map(|(p, _)| p).collect();
        prop_assume!(!centres.is_empty());
        let global = centres.iter().map(|&c| mean_at(c)).fold(f64::NEG_INFINITY, f64::max);
        let brightest = centres.iter().map(|&c| image.data[c]).fold(f64::NEG_INFINITY, f64::max);
        let local = centres.iter().filter(|&&c| image.data[c] == brightest).map(|&c| mean_at(c))
            .fold(f64::NEG_INFINITY, f64::max);
        let got_global = global_intensity_peak(&image, &mask).expect("non-empty");
        prop_assert!(close(got_global, global, 1e-12), "global {got_global} vs {global}");
        let got_local = local_intensity_peak(&image, &mask).expect("non-empty");
        prop_assert!(close(got_local, local, 1e-12), "local {got_local} vs {local}");
    }

    /// The FFT path gives the run path's means: the same peaks within 1e-9 of the values' scale
    /// (both round off; the FFT's error grows with the spread of the image's values, not with
    /// the peak, so the scale is the largest |value| or the peak, whichever is larger), on
    /// random images, masks (some cut by the image's border) and anisotropic spacings, with
    /// CT-like values far from zero.
    #[test]
    fn fft_peaks_equal_run_peaks((mask, spacing, values) in fft_peak_case_strategy()) {
        let (nx, ny, nz) = mask.dim();
        prop_assume!(mask.iter().any(|&m| m));
        let image = Volume::from_x_fastest(Grid::new([nx, ny, nz], spacing), values);
        let runs = IntensityPeaks::with_method(&image, &mask, PeakMethod::Runs).expect("non-empty");
        let fft = IntensityPeaks::with_method(&image, &mask, PeakMethod::Fft).expect("non-empty");
        let scale = image.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (what, a, b) in [("global", runs.global(), fft.global()), ("local", runs.local(), fft.local())] {
            prop_assert!((a - b).abs() <= 1e-9 * scale.max(a.abs()), "{what}: runs {a} vs fft {b}");
        }
    }

    /// Every directed edge is used once and its reverse once: the mesh is closed, 2-manifold
    /// along edges and consistently oriented; volume is positive.
    #[test]
    fn mesh_is_closed_and_oriented((mask, spacing) in mask_strategy()) {
        let mesh = surface_mesh(&mask, spacing);
        let mut directed: HashMap<(u32, u32), u32> = HashMap::new();
        for t in &mesh.triangles {
            prop_assert!(t[0] != t[1] && t[1] != t[2] && t[0] != t[2]);
            for k in 0..3 {
                *directed.entry((t[k], t[(k + 1) % 3])).or_default() += 1;
            }
        }
        for (&(a, b), &count) in &directed {
            prop_assert_eq!(count, 1, "edge {}->{} used {} times", a, b, count);
            prop_assert_eq!(directed.get(&(b, a)).copied(), Some(1), "edge {}->{} has no twin", a, b);
        }
        // Every stored vertex is used; V − E + F is even (= 2·Σ(1 − genus) over components).
        let edges = directed.len() / 2;
        let chi = mesh.vertices.len() as i64 - edges as i64 + mesh.triangles.len() as i64;
        prop_assert_eq!(chi.rem_euclid(2), 0);
        let n = mask.iter().filter(|&&m| m).count() as f64;
        let voxel = spacing[0] * spacing[1] * spacing[2];
        // Each voxel keeps at least its own octahedron (1/6) and the mesh never exceeds the voxels.
        prop_assert!(mesh.volume() > 0.0 && mesh.volume() <= n * voxel + 1e-9);
    }

    /// Box of k×l×m voxels. With voxel centres at integers, the mesh is the box
    /// [−½, k−½]×[−½, l−½]×[−½, m−½] cut along each of its 12 edges by a plane like x + y = −½
    /// (a right triangle with legs ½, area 1/8, over the edge's length − 1 voxels between the
    /// corner cubes) and at each of the 8 corners by x + y + z = −½, which removes the corner
    /// cube [−½, 0]³ (1/8) except the simplex u + v + w ≥ 1 of legs ½ (1/48): 5/48 per corner.
    /// V = klm − (4(k−1) + 4(l−1) + 4(m−1))/8 − 8·5/48 = klm − (k+l+m−3)/2 − 5/6, in voxel units.
    #[test]
    fn box_volume_matches_the_chamfer_formula(k in 1usize..6, l in 1usize..6, m in 1usize..5, sx in 0.5f64..3.0) {
        let mask = Array3::from_elem((k, l, m).f(), true);
        let spacing = [sx, 1.0, 2.0];
        let (kf, lf, mf) = (k as f64, l as f64, m as f64);
        let expected = (kf * lf * mf - (kf + lf + mf - 3.0) / 2.0 - 5.0 / 6.0) * sx * 2.0;
        prop_assert!(close(surface_mesh(&mask, spacing).volume(), expected, 1e-12));
    }

    /// Flips and axis permutations (with the spacing permuted alike) are rigid motions of the
    /// ROI: volume, area and diameter do not change.
    #[test]
    fn geometry_is_invariant_under_flips_and_rotations((mask, spacing) in mask_strategy(), axis in 0usize..3) {
        let mesh = surface_mesh(&mask, spacing);
        let (v, a, d) = (mesh.volume(), mesh.area(), ConvexHull::of_mesh(&mesh).max_diameter());
        let mut flipped = mask.clone();
        flipped.invert_axis(ndarray::Axis(axis));
        let fm = surface_mesh(&flipped.as_standard_layout().to_owned(), spacing);
        prop_assert!(close(fm.volume(), v, 1e-12) && close(fm.area(), a, 1e-12));
        prop_assert!(close(ConvexHull::of_mesh(&fm).max_diameter(), d, 1e-12));
        // Cyclic axis permutation (x, y, z) → (y, z, x), spacing permuted alike.
        let perm = mask.view().permuted_axes([1, 2, 0]).to_owned();
        let rm = surface_mesh(&perm, [spacing[1], spacing[2], spacing[0]]);
        prop_assert!(close(rm.volume(), v, 1e-12) && close(rm.area(), a, 1e-12));
        prop_assert!(close(ConvexHull::of_mesh(&rm).max_diameter(), d, 1e-12));
    }

    /// The hull contains every mesh vertex, encloses at least the mesh volume, and its diameter
    /// equals the brute-force maximum over all mesh vertex pairs.
    #[test]
    fn hull_and_diameter_are_consistent((mask, spacing) in mask_strategy()) {
        let mesh = surface_mesh(&mask, spacing);
        let hull = ConvexHull::of_mesh(&mesh);
        prop_assert!(hull.volume() >= mesh.volume() * (1.0 - 1e-12));
        for t in &hull.triangles {
            let [a, b, c] = t.map(|i| hull.vertices[i as usize]);
            let n = cross(sub(b, a), sub(c, a));
            for &p in &mesh.vertices {
                prop_assert!(dot(n, sub(p, a)) <= 1e-9 * (1.0 + dot(n, n).sqrt()));
            }
        }
        let mut brute = 0.0f64;
        for (i, &p) in mesh.vertices.iter().enumerate() {
            for &q in &mesh.vertices[i + 1..] {
                brute = brute.max(dot(sub(p, q), sub(p, q)).sqrt());
            }
        }
        prop_assert!(close(hull.max_diameter(), brute, 1e-12));
    }

    /// The FFT pair sums equal the O(N²) definition; the local peak never exceeds the global one.
    #[test]
    fn fft_autocorrelation_equals_direct((mask, spacing) in mask_strategy(), seed in any::<u64>()) {
        let (nx, ny, nz) = mask.dim();
        // Deterministic pseudo-random intensities (xorshift), integer-valued like CT.
        let mut state = seed | 1;
        let values: Vec<f64> = (0..nx * ny * nz).map(|_| {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            (state % 200) as f64 - 100.0
        }).collect();
        let image = Volume::from_x_fastest(Grid::new([nx, ny, nz], spacing), values);
        let direct = spatial_autocorrelation_with(&image, &mask, AutocorrelationMethod::Direct);
        let fft = spatial_autocorrelation_with(&image, &mask, AutocorrelationMethod::Fft);
        match (direct, fft) {
            (Ok(d), Ok(f)) => {
                prop_assert!(close(d.morans_i, f.morans_i, 1e-9), "I {} vs {}", d.morans_i, f.morans_i);
                prop_assert!(close(d.gearys_c, f.gearys_c, 1e-9), "C {} vs {}", d.gearys_c, f.gearys_c);
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (d, f) => prop_assert!(false, "methods disagree: {:?} vs {:?}", d, f),
        }
        let local = local_intensity_peak(&image, &mask).expect("non-empty");
        let global = global_intensity_peak(&image, &mask).expect("non-empty");
        prop_assert!(local <= global);
    }
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
