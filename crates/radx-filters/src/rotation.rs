//! Pseudo-rotation invariance: the right-handed orientations of the voxel grid and the
//! voxel-wise pooling of the responses filtered in each.

use ndarray::{Array3, Zip};

use crate::Dimensionality;
use crate::error::FilterError;

/// One orientation of a separable kernel: output axis `a` uses the 1-D kernel written for
/// axis `source[a]`, mirrored when `reversed[a]`. Rotating K(k) = Π_d h_d(k_d) by a signed
/// permutation matrix M gives K(Mᵀk), which is this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Orientation {
    /// Which original axis's kernel each output axis takes.
    pub source: [usize; 3],
    /// Whether that kernel is mirrored.
    pub reversed: [bool; 3],
}

impl Orientation {
    /// The orientation that changes nothing.
    pub const IDENTITY: Orientation = Orientation { source: [0, 1, 2], reversed: [false; 3] };
}

/// The right-handed orientations: 24 in 3D (the signed 3×3 permutation matrices with
/// determinant +1), 4 in 2D (the in-plane quarter turns, k untouched). The identity is first.
pub fn orientations(dimensionality: Dimensionality) -> Vec<Orientation> {
    const PERMUTATIONS: [([usize; 3], i32); 6] =
        [([0, 1, 2], 1), ([0, 2, 1], -1), ([1, 0, 2], -1), ([1, 2, 0], 1), ([2, 0, 1], 1), ([2, 1, 0], -1)];
    let mut out = Vec::new();
    for (source, parity) in PERMUTATIONS {
        if dimensionality == Dimensionality::TwoD && source[2] != 2 {
            continue;
        }
        for signs in 0..8u8 {
            let reversed = [signs & 1 != 0, signs & 2 != 0, signs & 4 != 0];
            if dimensionality == Dimensionality::TwoD && reversed[2] {
                continue;
            }
            let sign: i32 = reversed.iter().map(|&r| if r { -1 } else { 1 }).product();
            if sign * parity == 1 {
                out.push(Orientation { source, reversed });
            }
        }
    }
    out
}

/// How the responses of the orientations are combined voxel by voxel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The largest response (Laws).
    Max,
    /// The mean response (wavelets, Gabor).
    Mean,
}

impl Pooling {
    /// The token in image-type names: `rotmax`, `rotmean`.
    pub fn token(self) -> &'static str {
        match self {
            Pooling::Max => "rotmax",
            Pooling::Mean => "rotmean",
        }
    }
}

/// Filter in every orientation with `respond` and pool the responses voxel-wise.
///
/// Orientations are visited in a fixed order and summed sequentially, so the pooled map
/// has the same bits for any thread count (each response may itself be parallel).
pub fn pool_orientations(
    orientations: &[Orientation],
    pooling: Pooling,
    mut respond: impl FnMut(&Orientation) -> Result<Array3<f64>, FilterError>,
) -> Result<Array3<f64>, FilterError> {
    let (first, rest) = orientations.split_first().expect("at least one orientation");
    let mut pooled = respond(first)?;
    for orientation in rest {
        let response = respond(orientation)?;
        match pooling {
            Pooling::Max => Zip::from(&mut pooled).and(&response).for_each(|p, &r| *p = p.max(r)),
            Pooling::Mean => Zip::from(&mut pooled).and(&response).for_each(|p, &r| *p += r),
        }
    }
    if pooling == Pooling::Mean {
        let n = orientations.len() as f64;
        pooled.mapv_inplace(|p| p / n);
    }
    Ok(pooled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn determinant(o: &Orientation) -> i32 {
        let mut m = [[0i32; 3]; 3];
        for a in 0..3 {
            m[a][o.source[a]] = if o.reversed[a] { -1 } else { 1 };
        }
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    }

    #[test]
    fn there_are_24_distinct_right_handed_orientations_in_3d_and_4_in_2d() {
        let three = orientations(Dimensionality::ThreeD);
        assert_eq!(three.len(), 24);
        assert!(three.iter().all(|o| determinant(o) == 1));
        for (i, a) in three.iter().enumerate() {
            assert!(three[i + 1..].iter().all(|b| b != a));
        }
        assert_eq!(three[0], Orientation::IDENTITY);
        let two = orientations(Dimensionality::TwoD);
        assert_eq!(two.len(), 4);
        assert!(two.iter().all(|o| determinant(o) == 1 && o.source[2] == 2 && !o.reversed[2]));
    }
}
