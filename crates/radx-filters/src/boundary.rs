//! Boundary conditions: which image value stands in for an index outside the image.

use crate::error::FilterError;

/// How an image is extended past its edges before convolving (IBSI-2 names).
///
/// For an axis of length N the value read at index −1, −2, … and N, N+1, … is:
/// zero → 0; nearest → x[0] / x[N−1]; periodic → x[N−1], x[N−2] / x[0], x[1];
/// mirror → x[0], x[1] / x[N−1], x[N−2] (the edge voxel is repeated: numpy's `symmetric`,
/// scipy.ndimage's `reflect`). An extension wider than the image repeats the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Boundary {
    /// Zero padding ("constant").
    #[serde(alias = "constant")]
    Zero,
    /// The edge value repeated ("replicate", "edge").
    Nearest,
    /// The image wraps around ("wrap", "circular").
    #[serde(alias = "wrap")]
    Periodic,
    /// Mirrored about the edge, the edge voxel repeated ("symmetric").
    #[serde(alias = "symmetric")]
    Mirror,
}

impl Boundary {
    /// Every boundary condition's name, as settings write it.
    pub const NAMES: [&'static str; 4] = ["zero", "nearest", "periodic", "mirror"];

    /// Parse a name as the settings write it (the aliases `constant`, `wrap`, `symmetric` too).
    pub fn parse(setting: &str, name: &str) -> Result<Boundary, FilterError> {
        match name.to_ascii_lowercase().as_str() {
            "zero" | "constant" => Ok(Boundary::Zero),
            "nearest" | "edge" | "replicate" => Ok(Boundary::Nearest),
            "periodic" | "wrap" | "circular" => Ok(Boundary::Periodic),
            "mirror" | "symmetric" => Ok(Boundary::Mirror),
            _ => Err(FilterError::unknown(setting, "boundary condition", name, &Self::NAMES)),
        }
    }

    /// The name settings use.
    pub fn name(self) -> &'static str {
        match self {
            Boundary::Zero => "zero",
            Boundary::Nearest => "nearest",
            Boundary::Periodic => "periodic",
            Boundary::Mirror => "mirror",
        }
    }

    /// The in-image index read for index `n` on an axis of `len` voxels (`len > 0`), or
    /// `None` when the value is zero.
    #[inline]
    pub fn resolve(self, n: isize, len: usize) -> Option<usize> {
        let len_i = len as isize;
        if (0..len_i).contains(&n) {
            return Some(n as usize);
        }
        match self {
            Boundary::Zero => None,
            Boundary::Nearest => Some(n.clamp(0, len_i - 1) as usize),
            Boundary::Periodic => Some(n.rem_euclid(len_i) as usize),
            Boundary::Mirror => {
                let m = n.rem_euclid(2 * len_i);
                Some(if m < len_i { m } else { 2 * len_i - 1 - m } as usize)
            }
        }
    }

    /// True when the response near one edge depends on the far side of the image, so a
    /// crop of the image is not filtered like the whole image.
    pub fn reads_far_side(self) -> bool {
        matches!(self, Boundary::Periodic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_condition_reads_the_values_of_the_ibsi_table() {
        // Axis of 4 voxels: indices −2, −1 and 4, 5 (FILTERS.md section 0's table).
        let read = |b: Boundary| [-2, -1, 4, 5].map(|n| b.resolve(n, 4));
        assert_eq!(read(Boundary::Zero), [None, None, None, None]);
        assert_eq!(read(Boundary::Nearest), [Some(0), Some(0), Some(3), Some(3)]);
        assert_eq!(read(Boundary::Periodic), [Some(2), Some(3), Some(0), Some(1)]);
        assert_eq!(read(Boundary::Mirror), [Some(1), Some(0), Some(3), Some(2)]);
    }

    #[test]
    fn an_extension_wider_than_the_image_repeats_the_rule() {
        // numpy.pad([a, b], 5, mode="symmetric") = a a b b a | a b | b a a b b
        let mirror: Vec<_> = (-5..7).map(|n| Boundary::Mirror.resolve(n, 2).unwrap()).collect();
        assert_eq!(mirror, [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
        let periodic: Vec<_> = (-3..5).map(|n| Boundary::Periodic.resolve(n, 2).unwrap()).collect();
        assert_eq!(periodic, [1, 0, 1, 0, 1, 0, 1, 0]);
    }

    #[test]
    fn names_and_aliases_parse_and_unknown_names_are_refused() {
        assert_eq!(Boundary::parse("boundary", "symmetric").unwrap(), Boundary::Mirror);
        assert_eq!(Boundary::parse("boundary", "Constant").unwrap(), Boundary::Zero);
        let err = Boundary::parse("boundary", "reflect").unwrap_err().to_string();
        assert!(err.contains("`boundary`") && err.contains("reflect") && err.contains("mirror"), "{err}");
    }
}
