//! From file affines to a radx [`Grid`] in LPS world coordinates, and back.
//!
//! radx uses LPS world coordinates (x to the patient's left, y posterior, z superior), as
//! ITK, SimpleITK and PyRadiomics do. NIfTI affines are RAS+ and are converted by negating
//! their first two rows; NRRD `space` fields name their own convention.

use radx_core::Grid;

/// A 3×4 affine `[M | t]`: world = M · index + t, where column c of M is the world step of
/// one voxel along index axis c.
pub(crate) type Affine = [[f64; 4]; 3];

/// Negate the first two rows: RAS+ ↔ LPS (the map is its own inverse).
pub(crate) fn flip_xy(mut affine: Affine) -> Affine {
    for row in affine.iter_mut().take(2) {
        for v in row.iter_mut() {
            *v = -*v;
        }
    }
    affine
}

/// Why an affine describes no voxel grid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum GeometryError {
    /// A voxel step of zero length, or not finite.
    #[error("voxel axis {axis} has a zero or non-finite step in the affine ({}, {}, {})", step[0], step[1], step[2])]
    Step { axis: usize, step: [f64; 3] },
    /// The voxel axes span less than three dimensions.
    #[error("the voxel axes are linearly dependent (direction determinant {determinant:.3e})")]
    DependentAxes { determinant: f64 },
    /// The voxel axes are not perpendicular (a sheared grid), beyond [`ORTHONORMAL_TOLERANCE`].
    #[error(
        "the voxel axes are not perpendicular: the direction cosines deviate from orthonormal by {deviation:.2e} \
         (largest |D·Dᵀ − I| entry; ITK refuses more than {ORTHONORMAL_TOLERANCE:.0e}); resample the image onto a \
         rectangular grid, or fix the header"
    )]
    NotOrthonormal { deviation: f64 },
    /// The translation is not finite.
    #[error("the origin {origin:?} is not finite")]
    Origin { origin: [f64; 3] },
}

/// Split an (LPS) affine into spacing (column norms), direction (normalised columns)
/// and origin (translation). Refuses zero, non-finite or linearly dependent columns.
pub(crate) fn grid_from_affine(dims: [usize; 3], affine: &Affine) -> Result<Grid, GeometryError> {
    let mut spacing = [0.0; 3];
    let mut direction = [[0.0; 3]; 3];
    for c in 0..3 {
        let norm = (0..3).map(|r| affine[r][c] * affine[r][c]).sum::<f64>().sqrt();
        if !norm.is_finite() || norm == 0.0 {
            return Err(GeometryError::Step { axis: c, step: [affine[0][c], affine[1][c], affine[2][c]] });
        }
        spacing[c] = norm;
        for r in 0..3 {
            direction[r][c] = affine[r][c] / norm;
        }
    }
    let det = determinant(&direction);
    if det.abs() < 1e-6 {
        return Err(GeometryError::DependentAxes { determinant: det });
    }
    let origin = [affine[0][3], affine[1][3], affine[2][3]];
    if origin.iter().any(|v| !v.is_finite()) {
        return Err(GeometryError::Origin { origin });
    }
    Ok(Grid { dims, spacing, origin, direction })
}

/// How far unit direction columns may be from orthonormal: ITK's NIfTI reader tests
/// `D·Dᵀ` against the identity with `is_identity(1e-4)` (largest absolute entry error,
/// `itkNiftiImageIO.cxx`, `sform_decomposable_without_skew`). A sheared grid beyond it
/// has no rectangular voxels, so volumes and distances computed on it are wrong.
pub(crate) const ORTHONORMAL_TOLERANCE: f64 = 1e-4;

/// The largest entry of `|D·Dᵀ − I|` for a direction matrix with unit columns.
pub(crate) fn orthonormal_deviation(d: &[[f64; 3]; 3]) -> f64 {
    let mut worst = 0.0f64;
    for i in 0..3 {
        for j in 0..3 {
            let dot: f64 = (0..3).map(|k| d[i][k] * d[j][k]).sum();
            let want = if i == j { 1.0 } else { 0.0 };
            worst = worst.max((dot - want).abs());
        }
    }
    worst
}

/// Refuse direction cosines further than [`ORTHONORMAL_TOLERANCE`] from orthonormal.
pub(crate) fn check_orthonormal(d: &[[f64; 3]; 3]) -> Result<(), GeometryError> {
    let deviation = orthonormal_deviation(d);
    if deviation.is_nan() || deviation > ORTHONORMAL_TOLERANCE {
        return Err(GeometryError::NotOrthonormal { deviation });
    }
    Ok(())
}

/// The LPS affine of a grid (inverse of [`grid_from_affine`]).
pub(crate) fn affine_from_grid(grid: &Grid) -> Affine {
    let mut a = [[0.0; 4]; 3];
    for (r, row) in a.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().take(3).enumerate() {
            *v = grid.direction[r][c] * grid.spacing[c];
        }
        row[3] = grid.origin[r];
    }
    a
}

/// Determinant of a 3×3 matrix.
pub(crate) fn determinant(m: &[[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// Three letters, one per index axis: the world direction in which that index increases,
/// taken from the largest component of the (LPS) direction column. `L`/`R` for x, `P`/`A`
/// for y, `S`/`I` for z; an identity direction gives "LPS", a RAS+ identity gives "RAS"
/// (the same letters as nibabel's `aff2axcodes`).
pub(crate) fn orientation_code(direction: &[[f64; 3]; 3]) -> String {
    const LETTERS: [(char, char); 3] = [('L', 'R'), ('P', 'A'), ('S', 'I')];
    (0..3)
        .map(|c| {
            let mut best = 0;
            for r in 1..3 {
                if direction[r][c].abs() > direction[best][c].abs() {
                    best = r;
                }
            }
            if direction[best][c] >= 0.0 { LETTERS[best].0 } else { LETTERS[best].1 }
        })
        .collect()
}

/// Rotation matrix of the unit quaternion (a, b, c, d) (NIfTI-1 qform, `nifti1.h`).
pub(crate) fn quaternion_matrix(b: f64, c: f64, d: f64) -> [[f64; 3]; 3] {
    // nifti1_io computes a from b, c, d; when b²+c²+d² is (slightly) above 1 the quaternion
    // is renormalised and a = 0 (a 180° rotation).
    let (mut b, mut c, mut d) = (b, c, d);
    let bcd = b * b + c * c + d * d;
    let a = if 1.0 - bcd < 1e-7 {
        let s = 1.0 / bcd.sqrt();
        b *= s;
        c *= s;
        d *= s;
        0.0
    } else {
        (1.0 - bcd).sqrt()
    };
    [
        [a * a + b * b - c * c - d * d, 2.0 * (b * c - a * d), 2.0 * (b * d + a * c)],
        [2.0 * (b * c + a * d), a * a + c * c - b * b - d * d, 2.0 * (c * d - a * b)],
        [2.0 * (b * d - a * c), 2.0 * (c * d + a * b), a * a + d * d - c * c - b * b],
    ]
}

/// The NIfTI-1 quaternion (b, c, d, qfac) of an orthonormal (RAS) direction matrix, or
/// `None` when the matrix is not orthonormal (then only the sform can describe it).
/// Follows `nifti_mat44_to_quatern` for an already orthonormal matrix.
pub(crate) fn matrix_quaternion(m: &[[f64; 3]; 3]) -> Option<(f64, f64, f64, f64)> {
    // Orthonormality check: Mᵀ·M = I.
    for i in 0..3 {
        for j in 0..3 {
            let dot: f64 = (0..3).map(|r| m[r][i] * m[r][j]).sum();
            let want = if i == j { 1.0 } else { 0.0 };
            if (dot - want).abs() > 1e-6 {
                return None;
            }
        }
    }
    let mut r = *m;
    let qfac = if determinant(&r) < 0.0 {
        for row in r.iter_mut() {
            row[2] = -row[2];
        }
        -1.0
    } else {
        1.0
    };
    let trace = r[0][0] + r[1][1] + r[2][2] + 1.0;
    let (a, b, c, d);
    if trace > 0.5 {
        let aa = 0.5 * trace.sqrt();
        a = aa;
        b = 0.25 * (r[2][1] - r[1][2]) / aa;
        c = 0.25 * (r[0][2] - r[2][0]) / aa;
        d = 0.25 * (r[1][0] - r[0][1]) / aa;
    } else {
        let xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
        let yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
        let zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
        if xd > 1.0 {
            b = 0.5 * xd.sqrt();
            c = 0.25 * (r[0][1] + r[1][0]) / b;
            d = 0.25 * (r[0][2] + r[2][0]) / b;
            a = 0.25 * (r[2][1] - r[1][2]) / b;
        } else if yd > 1.0 {
            c = 0.5 * yd.sqrt();
            b = 0.25 * (r[0][1] + r[1][0]) / c;
            d = 0.25 * (r[1][2] + r[2][1]) / c;
            a = 0.25 * (r[0][2] - r[2][0]) / c;
        } else {
            d = 0.5 * zd.sqrt();
            b = 0.25 * (r[0][2] + r[2][0]) / d;
            c = 0.25 * (r[1][2] + r[2][1]) / d;
            a = 0.25 * (r[1][0] - r[0][1]) / d;
        }
    }
    // The NIfTI convention keeps a ≥ 0 (a is implied from b, c, d).
    let s = if a < 0.0 { -1.0 } else { 1.0 };
    Some((s * b, s * c, s * d, qfac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_letters() {
        let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(orientation_code(&identity), "LPS");
        let flipped_y = [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(orientation_code(&flipped_y), "LAS");
        // Axial RAS+ file seen in LPS: x and y negated.
        let ras = [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(orientation_code(&ras), "RAS");
        // Sagittal: index x runs posterior→anterior, y inferior→superior, z right→left.
        let sag = [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        assert_eq!(orientation_code(&sag), "ASL");
    }

    #[test]
    fn affine_splits_into_spacing_direction_origin() {
        // Columns (0, -2, 0), (3, 0, 0), (0, 0, 4): spacing 2, 3, 4.
        let a = [[0.0, 3.0, 0.0, 10.0], [-2.0, 0.0, 0.0, 20.0], [0.0, 0.0, 4.0, 30.0]];
        let g = grid_from_affine([2, 3, 4], &a).unwrap();
        assert_eq!(g.spacing, [2.0, 3.0, 4.0]);
        assert_eq!(g.direction, [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        assert_eq!(g.origin, [10.0, 20.0, 30.0]);
        assert_eq!(affine_from_grid(&g), a);
        let zero_column = [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
        let err = grid_from_affine([1, 1, 1], &zero_column).unwrap_err();
        assert_eq!(err, GeometryError::Step { axis: 1, step: [0.0, 0.0, 0.0] });
        assert_eq!(err.to_string(), "voxel axis 1 has a zero or non-finite step in the affine (0, 0, 0)");
    }

    #[test]
    fn quaternion_of_known_rotations() {
        // 90° about z: a = cos 45°, d = sin 45°; maps x→y, y→−x.
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let m = quaternion_matrix(0.0, 0.0, h);
        let want = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
        for r in 0..3 {
            for c in 0..3 {
                assert!((m[r][c] - want[r][c]).abs() < 1e-12, "{m:?}");
            }
        }
        // 180° about x: b = 1 (a = 0): y→−y, z→−z.
        let m = quaternion_matrix(1.0, 0.0, 0.0);
        assert_eq!(m, [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]);
    }

    #[test]
    fn matrix_to_quaternion_round_trips() {
        let cases: [[[f64; 3]; 3]; 4] = [
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]],
            [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]], // improper: qfac −1
        ];
        for m in cases {
            let (b, c, d, qfac) = matrix_quaternion(&m).unwrap();
            let mut r = quaternion_matrix(b, c, d);
            for row in r.iter_mut() {
                row[2] *= qfac;
            }
            for i in 0..3 {
                for j in 0..3 {
                    assert!((r[i][j] - m[i][j]).abs() < 1e-12, "{m:?} -> {r:?}");
                }
            }
        }
        assert!(matrix_quaternion(&[[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).is_none());
    }
}
