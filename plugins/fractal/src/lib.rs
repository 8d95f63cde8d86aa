//! Example radx plugin (Rust): the box-counting fractal dimension of the ROI.
//!
//! Not an IBSI feature (IBSI 1 ch. 3 has none), hence the site tag `RADX-FD01`. The
//! morphological mask is covered by a grid of cubic boxes of side s = 1, 2, 4, … voxels
//! (aligned with the first voxel of the crop box, while s ≤ the largest crop dimension);
//! N(s) is the number of boxes holding at least one ROI voxel, and the dimension is the
//! least-squares slope of ln N(s) against ln(1/s). Boxes are counted in voxel units, so
//! the value is meaningful for isotropic voxels (resample first, IBSI 2.4).
//!
//! Counting is hierarchical: the occupancy grid at box side 2s is the OR of 2×2×2 blocks
//! of the grid at side s, so all sizes together cost O(voxels).

use radx_plugin::{Input, export_plugin};

/// Why the fractal dimension cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FractalError {
    /// The mask has no voxel inside.
    EmptyMask,
    /// The crop box is smaller than 2 voxels along every axis: only one box size fits.
    TooSmall { dims: [usize; 3] },
    /// The mask's length does not match its dimensions.
    LengthMismatch { len: usize, dims: [usize; 3] },
}

impl std::fmt::Display for FractalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FractalError::EmptyMask => write!(f, "the morphological mask is empty"),
            FractalError::TooSmall { dims } => write!(
                f,
                "the ROI box {}×{}×{} is too small for box counting: at least 2 voxels along one axis are needed",
                dims[0], dims[1], dims[2]
            ),
            FractalError::LengthMismatch { len, dims } => {
                write!(f, "mask has {len} voxels but its dimensions {dims:?} say otherwise")
            }
        }
    }
}

impl std::error::Error for FractalError {}

/// Box counts N(s) for s = 1, 2, 4, … ≤ the largest of `dims`, of an x-fastest mask
/// (non-zero = inside). Returns `(s, N(s))` pairs.
pub fn box_counts(mask: &[u8], dims: [usize; 3]) -> Result<Vec<(usize, usize)>, FractalError> {
    if mask.len() != dims.iter().product::<usize>() {
        return Err(FractalError::LengthMismatch { len: mask.len(), dims });
    }
    let max_dim = dims.iter().copied().max().unwrap_or(0);
    let mut occupied: Vec<bool> = mask.iter().map(|&b| b != 0).collect();
    let mut d = dims;
    let mut counts = Vec::new();
    let mut side = 1usize;
    loop {
        let n = occupied.iter().filter(|&&b| b).count();
        if side == 1 && n == 0 {
            return Err(FractalError::EmptyMask);
        }
        counts.push((side, n));
        if side * 2 > max_dim {
            break;
        }
        // Next level: boxes of twice the side; each covers a 2×2×2 block of this level.
        let next = [d[0].div_ceil(2), d[1].div_ceil(2), d[2].div_ceil(2)];
        let mut coarse = vec![false; next.iter().product()];
        for z in 0..d[2] {
            for y in 0..d[1] {
                let row = d[0] * (y + d[1] * z);
                let coarse_row = next[0] * (y / 2 + next[1] * (z / 2));
                for x in 0..d[0] {
                    if occupied[row + x] {
                        coarse[coarse_row + x / 2] = true;
                    }
                }
            }
        }
        occupied = coarse;
        d = next;
        side *= 2;
    }
    if counts.len() < 2 {
        return Err(FractalError::TooSmall { dims });
    }
    Ok(counts)
}

/// Box-counting dimension of an x-fastest mask: least-squares slope of ln N(s) vs ln(1/s).
pub fn box_counting_dimension(mask: &[u8], dims: [usize; 3]) -> Result<f64, FractalError> {
    let counts = box_counts(mask, dims)?;
    let points: Vec<(f64, f64)> = counts.iter().map(|&(s, n)| (-(s as f64).ln(), (n as f64).ln())).collect();
    let k = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / k;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / k;
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    Ok(sxy / sxx)
}

fn fractal_dimension(input: &Input) -> Result<f64, FractalError> {
    let mask = input.morphological_mask();
    box_counting_dimension(mask.data, mask.dims)
}

export_plugin! {
    name: "fractal",
    version: "0.1.0",
    features: [
        {
            name: "fractal_dimension",
            tag: "RADX-FD01",
            description: "Box-counting fractal dimension of the morphological mask (boxes 1, 2, 4, ... voxels)",
            compute: fractal_dimension,
        },
    ],
    sources: [],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube(dims: [usize; 3], inside: impl Fn(usize, usize, usize) -> bool) -> Vec<u8> {
        let mut m = vec![0u8; dims.iter().product()];
        for z in 0..dims[2] {
            for y in 0..dims[1] {
                for x in 0..dims[0] {
                    m[x + dims[0] * (y + dims[1] * z)] = u8::from(inside(x, y, z));
                }
            }
        }
        m
    }

    #[test]
    fn full_cube_is_three_dimensional() {
        // 8³ cube: N(1)=512=8³, N(2)=64=4³, N(4)=8=2³, N(8)=1, i.e. N(s) = (8/s)³ exactly,
        // so ln N = 3 ln(1/s) + 3 ln 8 and the slope is 3.
        let m = cube([8, 8, 8], |_, _, _| true);
        assert_eq!(box_counts(&m, [8, 8, 8]).unwrap(), vec![(1, 512), (2, 64), (4, 8), (8, 1)]);
        assert!((box_counting_dimension(&m, [8, 8, 8]).unwrap() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn plane_and_line() {
        // 8×8 plane: N(s) = (8/s)²: 64, 16, 4, 1 → slope 2. 8-voxel line: 8, 4, 2, 1 → 1.
        let plane = cube([8, 8, 1], |_, _, _| true);
        assert_eq!(box_counts(&plane, [8, 8, 1]).unwrap(), vec![(1, 64), (2, 16), (4, 4), (8, 1)]);
        assert!((box_counting_dimension(&plane, [8, 8, 1]).unwrap() - 2.0).abs() < 1e-12);
        let line = cube([1, 1, 8], |_, _, _| true);
        assert!((box_counting_dimension(&line, [1, 1, 8]).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn plane_inside_a_cube_box() {
        // The plane z = 5 of an 8³ box: boxes of side s cover it with (8/s)² boxes again.
        let m = cube([8, 8, 8], |_, _, z| z == 5);
        assert_eq!(box_counts(&m, [8, 8, 8]).unwrap(), vec![(1, 64), (2, 16), (4, 4), (8, 1)]);
    }

    #[test]
    fn two_point_fit_by_hand() {
        // 3×1×1 box, voxels 0 and 2 set: sizes 1, 2 (4 > 3). N(1) = 2; boxes of 2 are
        // {0,1} and {2}: N(2) = 2. Two points with equal N → slope 0.
        let m = vec![1u8, 0, 1];
        assert_eq!(box_counts(&m, [3, 1, 1]).unwrap(), vec![(1, 2), (2, 2)]);
        assert_eq!(box_counting_dimension(&m, [3, 1, 1]).unwrap(), 0.0);
    }

    #[test]
    fn errors() {
        assert_eq!(box_counting_dimension(&[0u8; 8], [2, 2, 2]), Err(FractalError::EmptyMask));
        assert_eq!(box_counting_dimension(&[1u8], [1, 1, 1]), Err(FractalError::TooSmall { dims: [1, 1, 1] }));
        assert!(matches!(box_counting_dimension(&[1u8; 3], [2, 2, 1]), Err(FractalError::LengthMismatch { .. })));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Box counts never grow with the box size, never exceed the number of boxes that
        /// fit, and N(1) is the voxel count; the slope of a non-empty mask lies in [0, 3].
        #[test]
        fn box_counts_are_monotone_and_bounded(
            dims in proptest::array::uniform3(1usize..9),
            seed in proptest::collection::vec(proptest::bool::weighted(0.4), 512),
        ) {
            let n: usize = dims.iter().product();
            let mut mask: Vec<u8> = seed[..n].iter().map(|&b| u8::from(b)).collect();
            mask[0] = 1;
            match box_counts(&mask, dims) {
                Ok(counts) => {
                    proptest::prop_assert_eq!(counts[0], (1, mask.iter().filter(|&&b| b != 0).count()));
                    for w in counts.windows(2) {
                        proptest::prop_assert!(w[1].1 <= w[0].1);
                    }
                    for &(s, count) in &counts {
                        let fit: usize = dims.iter().map(|d| d.div_ceil(s)).product();
                        proptest::prop_assert!(count >= 1 && count <= fit);
                    }
                    let d = box_counting_dimension(&mask, dims).unwrap();
                    proptest::prop_assert!((-1e-12..=3.0 + 1e-12).contains(&d), "{}", d);
                }
                Err(e) => proptest::prop_assert!(dims.iter().all(|&d| d < 2), "{}", e),
            }
        }
    }
}
