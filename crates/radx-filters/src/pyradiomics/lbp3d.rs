//! PyRadiomics' `LBP3D` image type (`getLBP3DImage`): the 3-D local binary pattern by
//! spherical harmonics (Banerjee et al. 2013), with `lbp3DLevels` L (default 2),
//! `lbp3DIcosphereRadius` R (default 1) and `lbp3DIcosphereSubdivision` S (default 1).
//! PyRadiomics yields L + 1 images, `lbp-3D-m1` … `lbp-3D-mL` and the kurtosis `lbp-3D-k`;
//! radx models each as one filter ([`Lbp3DOutput`]).
//!
//! What PyRadiomics computes at each ROI voxel (numpy index (z, y, x)):
//! 1. the vertices v = (v0, v1, v2) of trimesh's icosphere (icosahedron (±a, ±b, 0) and its
//!    cyclic permutations, S times subdivided at the edges' midpoints and pushed out to
//!    radius R); **quirk**: v0 is added to the z index, v1 to y, v2 to x — the vertex's x
//!    offsets the z axis — in voxels (the spacing is ignored);
//! 2. the image at those points by scipy's `map_coordinates(order=3)`: cubic B-spline
//!    coefficients (the mirror-initialised recursive prefilter along z, y, x), the point
//!    read as 0 if it lies outside [0, N−1] along an axis, coefficients beyond the edge
//!    mirrored; **quirk**: the result takes the image's pixel type, so on an integer image
//!    each sample is rounded (half away from zero) to an integer ([`PixelStorage`]);
//! 3. `lbp-3D-k`: scipy's `kurtosis` of the samples (Fisher, biased: m4/m2² − 3; NaN when
//!    m2 ≤ (1e-15·mean)²);
//! 4. bits f(v) = sample ≥ the voxel's value; c_{n,m} = Σ_v f(v)·Y_n^m(v) with scipy's
//!    `sph_harm(m, n, θ, φ)` — **quirk**: θ = arccos(v2/R) (a polar angle) is passed as
//!    scipy's azimuth and φ = atan2(v1, v0) as its polar angle;
//! 5. `lbp-3D-m(n+1)` = Re √(Σ_v F_n(v)²), F_n(v) = Σ_m c_{n,m}·Y_n^m(v) — the complex
//!    square, not |F|², and the principal complex square root's real part.
//!
//! Outside the ROI PyRadiomics leaves uninitialised memory (`numpy.ndarray`); radx computes
//! every voxel (or those of a mask: [`Lbp3D::apply_masked`]), so the values inside the ROI
//! are PyRadiomics'. Not an IBSI filter. The spline prefilter is recursive over whole lines:
//! [`Margin::WholeImage`].

use std::collections::HashMap;

use ndarray::{Array3, ArrayView3, ShapeBuilder, Zip};
use rustfft::num_complex::Complex64;

use super::{PixelStorage, each_line, map_lines, numpy_sum};
use crate::error::{FilterError, require_positive};
use crate::{Filter, Margin};

/// Which of PyRadiomics' LBP 3D images a filter gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lbp3DOutput {
    /// `lbp-3D-m{level}`, level 1 … `lbp3DLevels`.
    Level(usize),
    /// `lbp-3D-k`, the kurtosis of the samples.
    Kurtosis,
}

/// One of PyRadiomics' LBP 3D images.
#[derive(Debug, Clone, PartialEq)]
pub struct Lbp3D {
    levels: usize,
    radius: f64,
    subdivision: usize,
    output: Lbp3DOutput,
    storage: PixelStorage,
}

/// The sampling sphere: offsets in numpy order (z, y, x) and the harmonics per vertex.
struct Sphere {
    offsets: Vec<[f64; 3]>,
    /// `harmonics[j][v]`: column j of PyRadiomics' Y (n = 0; then n = 1…L−1, m = −n…n).
    harmonics: Vec<Vec<Complex64>>,
    /// The degree n of each column.
    degree: Vec<usize>,
}

/// The cubic B-spline's pole, √3 − 2.
const POLE: f64 = -0.2679491924311227;

impl Lbp3D {
    /// `lbp3DLevels` (≥ 1), `lbp3DIcosphereRadius` (> 0), `lbp3DIcosphereSubdivision`, the
    /// output, and the image's pixel type in PyRadiomics (which the samples are rounded to).
    pub fn new(
        levels: usize,
        icosphere_radius: f64,
        icosphere_subdivision: usize,
        output: Lbp3DOutput,
        storage: PixelStorage,
    ) -> Result<Self, FilterError> {
        if levels == 0 {
            return Err(FilterError::invalid("lbp3DLevels", "must be at least 1"));
        }
        require_positive("lbp3DIcosphereRadius", icosphere_radius)?;
        if icosphere_subdivision > 6 {
            return Err(FilterError::invalid("lbp3DIcosphereSubdivision", "must be 0 to 6"));
        }
        if let Lbp3DOutput::Level(l) = output
            && !(1..=levels).contains(&l)
        {
            return Err(FilterError::invalid("lbp3DLevels", format!("level {l} is not 1 to {levels}")));
        }
        Ok(Lbp3D { levels, radius: icosphere_radius, subdivision: icosphere_subdivision, output, storage })
    }

    /// Every image PyRadiomics' `LBP3D` yields, in its order: `lbp-3D-m1` … `lbp-3D-mL`, `lbp-3D-k`.
    pub fn image_types(
        levels: usize,
        icosphere_radius: f64,
        icosphere_subdivision: usize,
        storage: PixelStorage,
    ) -> Result<Vec<Lbp3D>, FilterError> {
        let mut outputs: Vec<Lbp3DOutput> = (1..=levels).map(Lbp3DOutput::Level).collect();
        outputs.push(Lbp3DOutput::Kurtosis);
        outputs.into_iter().map(|o| Lbp3D::new(levels, icosphere_radius, icosphere_subdivision, o, storage)).collect()
    }

    /// The response at the voxels where `mask` is true, NaN elsewhere (PyRadiomics computes
    /// the ROI's voxels only; this saves the rest).
    pub fn apply_masked(
        &self,
        image: ArrayView3<'_, f64>,
        mask: ArrayView3<'_, bool>,
    ) -> Result<Array3<f64>, FilterError> {
        if mask.dim() != image.dim() {
            return Err(FilterError::invalid("mask", "the mask's grid differs from the image's"));
        }
        Ok(self.compute(image, Some(mask)))
    }

    fn compute(&self, image: ArrayView3<'_, f64>, mask: Option<ArrayView3<'_, bool>>) -> Array3<f64> {
        let storage = self.storage.resolve(image);
        let sphere = self.sphere();
        let coefficients = spline_coefficients(image);
        let (nx, ny, nz) = image.dim();
        let mut out = Array3::from_elem(image.raw_dim().f(), f64::NAN);
        Zip::indexed(&mut out).par_for_each(|(i, j, k), o| {
            if mask.is_some_and(|m| !m[[i, j, k]]) {
                return;
            }
            let samples: Vec<f64> = sphere
                .offsets
                .iter()
                .map(|d| {
                    let point = [k as f64 + d[0], j as f64 + d[1], i as f64 + d[2]];
                    storage.round(interpolate(&coefficients, [nz, ny, nx], point))
                })
                .collect();
            *o = match self.output {
                Lbp3DOutput::Kurtosis => kurtosis(&samples),
                Lbp3DOutput::Level(l) => level_norm(&sphere, &samples, image[[i, j, k]], l - 1),
            };
        });
        out
    }

    /// trimesh's icosphere and scipy's harmonics at its vertices.
    fn sphere(&self) -> Sphere {
        let offsets = icosphere(self.subdivision, self.radius);
        let mut columns: Vec<(i64, usize)> = vec![(0, 0)];
        for n in 1..self.levels {
            for m in -(n as i64)..=(n as i64) {
                columns.push((m, n));
            }
        }
        let harmonics = columns
            .iter()
            .map(|&(m, n)| {
                offsets
                    .iter()
                    .map(|v| {
                        let theta = (v[2] / self.radius).acos();
                        let phi = v[1].atan2(v[0]);
                        scipy_sph_harm(m, n, theta, phi)
                    })
                    .collect()
            })
            .collect();
        Sphere { offsets, harmonics, degree: columns.iter().map(|c| c.1).collect() }
    }
}

impl PixelStorage {
    /// A float stored by scipy's interpolation into an array of this type: integers round
    /// half away from zero (clamped to the type's range), floats as a cast.
    pub fn round(self, t: f64) -> f64 {
        let int = |lo: f64, hi: f64| {
            let t = if t > 0.0 { t + 0.5 } else { t - 0.5 };
            t.clamp(lo, hi).trunc()
        };
        match self {
            PixelStorage::Float64 | PixelStorage::AsImage => t,
            PixelStorage::Float32 => t as f32 as f64,
            PixelStorage::UInt8 => {
                let t = if t > 0.0 { t + 0.5 } else { 0.0 };
                t.clamp(0.0, 255.0).trunc()
            }
            PixelStorage::Int16 => int(-32768.0, 32767.0),
            PixelStorage::UInt16 => {
                let t = if t > 0.0 { t + 0.5 } else { 0.0 };
                t.clamp(0.0, 65535.0).trunc()
            }
            PixelStorage::Int32 => int(-2147483648.0, 2147483647.0),
        }
    }
}

/// trimesh's `icosphere(subdivisions, radius)` vertices (any order: every use sums over them).
fn icosphere(subdivisions: usize, radius: f64) -> Vec<[f64; 3]> {
    let (a, b) = (0.5257311121191336, 0.85065080835204);
    let mut vertices: Vec<[f64; 3]> = Vec::new();
    for (sa, sb) in [(-1.0, 1.0), (1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)] {
        vertices.push([sa * a, sb * b, 0.0]);
    }
    for (sa, sb) in [(-1.0, 1.0), (1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)] {
        vertices.push([0.0, sa * a, sb * b]);
    }
    for (sa, sb) in [(-1.0, 1.0), (1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)] {
        vertices.push([sb * b, 0.0, sa * a]);
    }
    // The faces: triples of mutually adjacent vertices (edge length 2a).
    let dist2 = |p: &[f64; 3], q: &[f64; 3]| (0..3).map(|d| (p[d] - q[d]).powi(2)).sum::<f64>();
    let adjacent = |p: usize, q: usize, v: &[[f64; 3]]| (dist2(&v[p], &v[q]) - 4.0 * a * a).abs() < 1e-9;
    let mut faces = Vec::new();
    for p in 0..12 {
        for q in p + 1..12 {
            for r in q + 1..12 {
                if adjacent(p, q, &vertices) && adjacent(q, r, &vertices) && adjacent(p, r, &vertices) {
                    faces.push([p, q, r]);
                }
            }
        }
    }
    let project = |vertices: &mut Vec<[f64; 3]>| {
        for v in vertices.iter_mut() {
            let scalar = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            let unit = [v[0] / scalar, v[1] / scalar, v[2] / scalar];
            for d in 0..3 {
                v[d] += unit[d] * (radius - scalar);
            }
        }
    };
    for _ in 0..subdivisions {
        let mut midpoints: HashMap<(usize, usize), usize> = HashMap::new();
        let mut new_faces = Vec::with_capacity(faces.len() * 4);
        for face in &faces {
            let mut mid = [0usize; 3];
            for e in 0..3 {
                let (p, q) = (face[e], face[(e + 1) % 3]);
                let key = (p.min(q), p.max(q));
                mid[e] = *midpoints.entry(key).or_insert_with(|| {
                    let (u, w) = (vertices[key.0], vertices[key.1]);
                    vertices.push([(u[0] + w[0]) / 2.0, (u[1] + w[1]) / 2.0, (u[2] + w[2]) / 2.0]);
                    vertices.len() - 1
                });
            }
            let [p, q, r] = *face;
            new_faces.extend([[p, mid[0], mid[2]], [q, mid[1], mid[0]], [r, mid[2], mid[1]], [mid[0], mid[1], mid[2]]]);
        }
        faces = new_faces;
        project(&mut vertices);
    }
    if subdivisions == 0 {
        project(&mut vertices);
    }
    vertices
}

/// Γ ratio (n − m)! / (n + m)! for |m| ≤ n (scipy's `poch(n + m + 1, −2m)`).
fn factorial_ratio(n: usize, m: i64) -> f64 {
    let (lo, hi) = ((n as i64 - m) as usize, (n as i64 + m) as usize);
    let f = |k: usize| (1..=k).fold(1.0f64, |acc, i| acc * i as f64);
    f(lo) / f(hi)
}

/// The associated Legendre function P_n^m(x), m ≥ 0, with the Condon–Shortley phase
/// (scipy's `lpmv`).
fn legendre(m: usize, n: usize, x: f64) -> f64 {
    let mut pmm = 1.0;
    let s = ((1.0 - x) * (1.0 + x)).sqrt();
    for i in 0..m {
        pmm *= -((2 * i + 1) as f64) * s;
    }
    if n == m {
        return pmm;
    }
    let mut pm1 = x * (2 * m + 1) as f64 * pmm;
    let mut pm2 = pmm;
    for l in m + 2..=n {
        let p = ((2 * l - 1) as f64 * x * pm1 - (l + m - 1) as f64 * pm2) / (l - m) as f64;
        pm2 = pm1;
        pm1 = p;
    }
    pm1
}

/// scipy's `sph_harm(m, n, theta, phi)`: theta the azimuth, phi the polar angle.
fn scipy_sph_harm(m: i64, n: usize, theta: f64, phi: f64) -> Complex64 {
    let x = phi.cos();
    let mp = m.unsigned_abs() as usize;
    let mut val = legendre(mp, n, x);
    if m < 0 {
        let sign = if mp % 2 == 1 { -1.0 } else { 1.0 };
        val *= sign * factorial_ratio(n, mp as i64);
    }
    val *= ((2 * n + 1) as f64 / 4.0 / std::f64::consts::PI).sqrt();
    val *= factorial_ratio(n, m).sqrt();
    let angle = m as f64 * theta;
    Complex64::new(val * angle.cos(), val * angle.sin())
}

/// scipy's cubic spline coefficients (`spline_filter(order=3, mode='constant')`): along numpy's
/// axes z, y, x in turn, each line of more than one voxel multiplied by the gain and run
/// through the causal and anti-causal recursions, initialised as for a mirrored line.
fn spline_coefficients(image: ArrayView3<'_, f64>) -> Array3<f64> {
    let z = POLE;
    let gain = (1.0 - z) * (1.0 - 1.0 / z);
    let line = |data: &[f64], c: &mut [f64]| {
        let n = c.len();
        c.copy_from_slice(data);
        if n < 2 {
            return;
        }
        c.iter_mut().for_each(|v| *v *= gain);
        // Causal initialisation (mirror).
        let z_n_1 = z.powf((n - 1) as f64);
        let mut z_i = z;
        c[0] += z_n_1 * c[n - 1];
        for i in 1..n - 1 {
            c[0] += z_i * (c[i] + z_n_1 * c[n - 1 - i]);
            z_i *= z;
        }
        c[0] /= 1.0 - z_n_1 * z_n_1;
        for i in 1..n {
            c[i] += z * c[i - 1];
        }
        // Anti-causal initialisation (mirror).
        c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1.0);
        for i in (0..n - 1).rev() {
            c[i] = z * (c[i + 1] - c[i]);
        }
    };
    let lines = |data: &[f64], out: &mut [f64], w: usize| each_line(data, out, w, line);
    let along_z = map_lines(image, 2, lines);
    let along_y = map_lines(along_z.view(), 1, lines);
    map_lines(along_y.view(), 0, lines)
}

/// scipy's `map_coordinates(order=3, mode='constant', cval=0)` at `point` (numpy order z, y, x)
/// from the coefficients (radx order x, y, z); `dims` in numpy order.
fn interpolate(c: &Array3<f64>, dims: [usize; 3], point: [f64; 3]) -> f64 {
    let mut index = [[0usize; 4]; 3];
    let mut weights = [[0.0f64; 4]; 3];
    for axis in 0..3 {
        let (cc, len) = (point[axis], dims[axis]);
        if cc < 0.0 || cc > (len - 1) as f64 {
            return 0.0;
        }
        let start = cc.floor() as i64 - 1;
        for (l, slot) in index[axis].iter_mut().enumerate() {
            let mut idx = start + l as i64;
            let len = len as i64;
            if len <= 1 {
                idx = 0;
            } else {
                let s2 = 2 * len - 2;
                if idx < 0 {
                    idx += s2 * (-idx / s2);
                    idx = if idx <= 1 - len { idx + s2 } else { -idx };
                } else if idx >= len {
                    idx -= s2 * (idx / s2);
                    if idx >= len {
                        idx = s2 - idx;
                    }
                }
            }
            *slot = idx as usize;
        }
        let x = cc - cc.floor();
        let (y, z) = (x, 1.0 - x);
        let w = &mut weights[axis];
        w[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
        w[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
        w[0] = z * z * z / 6.0;
        w[3] = 1.0;
        w[3] -= w[0];
        w[3] -= w[1];
        w[3] -= w[2];
    }
    let mut t = 0.0;
    for hz in 0..4 {
        for hy in 0..4 {
            for hx in 0..4 {
                let mut coeff = c[[index[2][hx], index[1][hy], index[0][hz]]];
                coeff *= weights[0][hz];
                coeff *= weights[1][hy];
                coeff *= weights[2][hx];
                t += coeff;
            }
        }
    }
    t
}

/// scipy.stats' `kurtosis` (Fisher, biased) of one voxel's samples.
fn kurtosis(samples: &[f64]) -> f64 {
    let n = samples.len() as f64;
    let mean = numpy_sum(samples) / n;
    let squares: Vec<f64> = samples.iter().map(|s| (s - mean) * (s - mean)).collect();
    let fourth: Vec<f64> = squares.iter().map(|s| s * s).collect();
    let m2 = numpy_sum(&squares) / n;
    let m4 = numpy_sum(&fourth) / n;
    if m2 <= (1e-15 * mean) * (1e-15 * mean) { f64::NAN } else { m4 / (m2 * m2) - 3.0 }
}

/// Re √(Σ_v F_n(v)²) for degree `n` (PyRadiomics' `lbp-3D-m(n+1)`).
fn level_norm(sphere: &Sphere, samples: &[f64], centre: f64, n: usize) -> f64 {
    let columns: Vec<usize> = (0..sphere.degree.len()).filter(|&j| sphere.degree[j] == n).collect();
    // c_j = Σ_v f(v)·Y_j(v), f the 0/1 bits.
    let c: Vec<Complex64> = columns
        .iter()
        .map(|&j| {
            let mut sum = Complex64::new(0.0, 0.0);
            for (y, &s) in sphere.harmonics[j].iter().zip(samples) {
                let bit = if s >= centre { 1.0 } else { 0.0 };
                sum += y * bit;
            }
            sum
        })
        .collect();
    let mut total = Complex64::new(0.0, 0.0);
    for v in 0..samples.len() {
        let mut f = Complex64::new(0.0, 0.0);
        for (cj, &j) in c.iter().zip(&columns) {
            f += cj * sphere.harmonics[j][v];
        }
        total += Complex64::new(f.re * f.re - f.im * f.im, f.re * f.im + f.im * f.re);
    }
    // The principal square root's real part.
    let modulus = total.re.hypot(total.im);
    if total.re >= 0.0 {
        ((modulus + total.re) * 0.5).sqrt()
    } else {
        let t = ((modulus - total.re) * 0.5).sqrt();
        if t == 0.0 { 0.0 } else { total.im.abs() / (2.0 * t) }
    }
}

impl Filter for Lbp3D {
    fn image_type(&self) -> String {
        match self.output {
            Lbp3DOutput::Level(l) => format!("lbp-3D-m{l}"),
            Lbp3DOutput::Kurtosis => "lbp-3D-k".into(),
        }
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        Margin::WholeImage
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        Ok(self.compute(image, None))
    }

    fn apply_where(
        &self,
        image: ArrayView3<'_, f64>,
        _spacing: [f64; 3],
        needed: ArrayView3<'_, bool>,
    ) -> Result<Array3<f64>, FilterError> {
        self.apply_masked(image, needed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icosphere_has_trimesh_vertex_counts_on_its_radius() {
        assert_eq!(icosphere(0, 1.0).len(), 12);
        assert_eq!(icosphere(1, 1.0).len(), 42);
        let two = icosphere(2, 2.0);
        assert_eq!(two.len(), 162);
        assert!(two.iter().all(|v| ((v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt() - 2.0).abs() < 1e-12));
    }

    #[test]
    fn harmonics_match_closed_forms() {
        // Y_0^0 = 1/(2√π); Y_1^0 = √(3/4π)·cos φ (φ scipy's polar angle).
        let y00 = scipy_sph_harm(0, 0, 0.3, 1.1);
        assert!((y00.re - 0.5 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
        let y10 = scipy_sph_harm(0, 1, 0.3, 1.1);
        assert!((y10.re - (3.0 / (4.0 * std::f64::consts::PI)).sqrt() * 1.1f64.cos()).abs() < 1e-15);
        // Y_1^{-1} = (−1)·conj(Y_1^1).
        let (p, q) = (scipy_sph_harm(1, 1, 0.3, 1.1), scipy_sph_harm(-1, 1, 0.3, 1.1));
        assert!((p.conj() * -1.0 - q).norm() < 1e-15);
        assert_eq!(Lbp3D::image_types(2, 1.0, 1, PixelStorage::Int16).unwrap().len(), 3);
    }

    #[test]
    fn interpolation_reproduces_the_image_at_its_voxels() {
        let image = Array3::from_shape_fn((5, 4, 6), |(i, j, k)| (i * 7 + j * 3 + k * k) as f64);
        let c = spline_coefficients(image.view());
        for (i, j, k) in [(0, 0, 0), (2, 3, 4), (4, 1, 5)] {
            let v = interpolate(&c, [6, 4, 5], [k as f64, j as f64, i as f64]);
            assert!((v - image[[i, j, k]]).abs() < 1e-9, "{v} vs {}", image[[i, j, k]]);
        }
        assert_eq!(interpolate(&c, [6, 4, 5], [-0.1, 1.0, 1.0]), 0.0);
    }
}
