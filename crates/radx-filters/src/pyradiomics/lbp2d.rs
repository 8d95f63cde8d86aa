//! PyRadiomics' `LBP2D` image type (`getLBP2DImage`): scikit-image's `local_binary_pattern`
//! on every slice, with `lbp2DRadius` R (default 1), `lbp2DSamples` P (default 8) and
//! `lbp2DMethod` (default `uniform`), slices across `force2Ddimension` (default 0, z).
//!
//! scikit-image (0.24) samples P points (−R·sin(2πp/P), R·cos(2πp/P)) in (row, column),
//! each rounded to 5 decimals (R is first rounded to a 32-bit float: its Cython argument is a
//! `float`), by bilinear interpolation, 0 outside the slice; bit p is set when the sample is
//! ≥ the centre. Methods: `default` Σ bit_p·2^p; `ror` the smallest of its P rotations;
//! `uniform` the number of set bits when the pattern has at most 2 changes (reading p = 0 … P−1,
//! not circularly), else P + 1; `nri_uniform` scikit-image's code of a non-rotation-invariant
//! uniform pattern; `var` the population variance of the P samples (NaN when 0).
//!
//! **PyRadiomics' quirk**: it writes each slice's LBP back into the image's own numpy array,
//! so the response takes the *input's pixel type*: on an integer image `var` is truncated to
//! an integer, and codes beyond the type's range wrap ([`PixelStorage`]). The response is then
//! the LBP of the slices of numpy's axis `force2Ddimension`: z (rows y, columns x), y (rows z,
//! columns x) or x (rows y, columns z).
//!
//! Not an IBSI filter. The response at a voxel reads its slice within ⌈R⌉ voxels, so the
//! margin is ⌈R⌉ in-plane.

use ndarray::{Array3, ArrayView3, Axis, ShapeBuilder};
use rayon::prelude::*;

use super::numpy_sum;
use crate::error::{FilterError, require_positive};
use crate::{Filter, Margin};

/// scikit-image's LBP methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lbp2DMethod {
    /// `default`: the pattern's bits as a number.
    Default,
    /// `ror`: rotation invariant (smallest rotation).
    Ror,
    /// `uniform`: rotation-invariant uniform patterns (PyRadiomics' default).
    Uniform,
    /// `nri_uniform`: non-rotation-invariant uniform patterns.
    NriUniform,
    /// `var`: the variance of the samples.
    Var,
}

impl Lbp2DMethod {
    /// The method names scikit-image accepts.
    pub const NAMES: [&'static str; 5] = ["default", "ror", "uniform", "nri_uniform", "var"];

    /// Parse `lbp2DMethod` (any case, as scikit-image).
    pub fn parse(name: &str) -> Result<Self, FilterError> {
        match name.to_ascii_lowercase().as_str() {
            "default" => Ok(Lbp2DMethod::Default),
            "ror" => Ok(Lbp2DMethod::Ror),
            "uniform" => Ok(Lbp2DMethod::Uniform),
            "nri_uniform" => Ok(Lbp2DMethod::NriUniform),
            "var" => Ok(Lbp2DMethod::Var),
            _ => Err(FilterError::unknown("lbp2DMethod", "LBP method", name, &Self::NAMES)),
        }
    }
}

/// The pixel type of the image PyRadiomics filters, which its LBP 2D response takes
/// (numpy's cast from float64, as on x86-64: truncation toward zero through a 32-bit
/// integer, NaN and out-of-range values becoming i32::MIN, then the type's low bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelStorage {
    /// 64-bit float: the LBP as computed.
    Float64,
    /// 32-bit float.
    Float32,
    /// 8-bit unsigned integer.
    UInt8,
    /// 16-bit signed integer (CT and most MR images).
    Int16,
    /// 16-bit unsigned integer.
    UInt16,
    /// 32-bit signed integer.
    Int32,
    /// The type PyRadiomics would have read the image as, inferred from the values the
    /// filter receives ([`PixelStorage::of_image`]); resolved when the filter is applied.
    AsImage,
}

impl PixelStorage {
    /// The pixel type of an image holding these values, as radiology files store them:
    /// integers in the 16-bit signed range → [`PixelStorage::Int16`] (CT, most MR), other
    /// 32-bit integers → [`PixelStorage::Int32`], anything else → [`PixelStorage::Float64`].
    /// A file's own type is not known here: a uint8 or uint16 image whose values fit int16
    /// is taken as int16, which stores LBP values (non-negative, small) the same way.
    pub fn of_image(image: ArrayView3<'_, f64>) -> PixelStorage {
        // One pass; a cast, not `fract`, tells integers (NaN and ±∞ are not).
        let (mut integers, mut lo, mut hi) = (true, f64::INFINITY, f64::NEG_INFINITY);
        for &v in image.iter() {
            integers &= (v as i64) as f64 == v;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let within = |min: f64, max: f64| integers && (image.is_empty() || (min <= lo && hi <= max));
        if within(f64::from(i16::MIN), f64::from(i16::MAX)) {
            PixelStorage::Int16
        } else if within(f64::from(i32::MIN), f64::from(i32::MAX)) {
            PixelStorage::Int32
        } else {
            PixelStorage::Float64
        }
    }

    /// The range of an integer storage's values, `None` for a float one.
    pub fn integer_range(self) -> Option<[f64; 2]> {
        match self {
            PixelStorage::UInt8 => Some([0.0, f64::from(u8::MAX)]),
            PixelStorage::Int16 => Some([f64::from(i16::MIN), f64::from(i16::MAX)]),
            PixelStorage::UInt16 => Some([0.0, f64::from(u16::MAX)]),
            PixelStorage::Int32 => Some([f64::from(i32::MIN), f64::from(i32::MAX)]),
            PixelStorage::Float64 | PixelStorage::Float32 | PixelStorage::AsImage => None,
        }
    }

    /// This storage, with [`PixelStorage::AsImage`] resolved on `image`.
    pub fn resolve(self, image: ArrayView3<'_, f64>) -> PixelStorage {
        match self {
            PixelStorage::AsImage => PixelStorage::of_image(image),
            fixed => fixed,
        }
    }

    /// The value `v` stored in an array of this type, read back.
    pub fn store(self, v: f64) -> f64 {
        let int = || if v.is_nan() || !(-2147483648.0..2147483648.0).contains(&v) { i32::MIN } else { v as i32 };
        match self {
            PixelStorage::Float64 | PixelStorage::AsImage => v,
            PixelStorage::Float32 => v as f32 as f64,
            PixelStorage::UInt8 => int() as u8 as f64,
            PixelStorage::Int16 => int() as i16 as f64,
            PixelStorage::UInt16 => int() as u16 as f64,
            PixelStorage::Int32 => int() as f64,
        }
    }
}

/// PyRadiomics' slice-wise local binary pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Lbp2D {
    radius: f64,
    samples: usize,
    method: Lbp2DMethod,
    /// (slice axis, row axis, column axis), radx axes.
    axes: [usize; 3],
    storage: PixelStorage,
    /// The sample offsets (row, column), as scikit-image rounds them.
    offsets: Vec<(f64, f64)>,
}

impl Lbp2D {
    /// `lbp2DRadius` (> 0), `lbp2DSamples` (1 … 31 for the code-valued methods), `lbp2DMethod`,
    /// `force2Ddimension` (numpy axis: 0 = z, 1 = y, 2 = x) and the input image's pixel type.
    pub fn new(
        radius: f64,
        samples: usize,
        method: Lbp2DMethod,
        force2d_dimension: usize,
        storage: PixelStorage,
    ) -> Result<Self, FilterError> {
        require_positive("lbp2DRadius", radius)?;
        if samples == 0 || samples > 31 {
            return Err(FilterError::invalid("lbp2DSamples", format!("must be 1 to 31, got {samples}")));
        }
        let axes = match force2d_dimension {
            0 => [2, 1, 0],
            1 => [1, 2, 0],
            2 => [0, 1, 2],
            d => return Err(FilterError::invalid("force2Ddimension", format!("must be 0, 1 or 2, got {d}"))),
        };
        // numpy: np.round(±R * sin|cos(2π·arange(P)/P), 5), R a C float.
        let r = radius as f32 as f64;
        let round5 = |x: f64| (x * 1e5).round_ties_even() / 1e5;
        let offsets = (0..samples)
            .map(|p| {
                let angle = 2.0 * std::f64::consts::PI * p as f64 / samples as f64;
                (round5(-r * angle.sin()), round5(r * angle.cos()))
            })
            .collect();
        Ok(Lbp2D { radius, samples, method, axes, storage, offsets })
    }

    /// PyRadiomics' defaults: R 1, P 8, `uniform`, z slices, for an image of `storage`.
    pub fn pyradiomics_default(storage: PixelStorage) -> Self {
        Lbp2D::new(1.0, 8, Lbp2DMethod::Uniform, 0, storage).expect("the defaults are valid")
    }

    /// scikit-image's `_local_binary_pattern` on one slice, `rows` × `cols`, row-major.
    fn slice(&self, image: &[f64], rows: usize, cols: usize, out: &mut [f64]) {
        let p_count = self.samples;
        let pixel = |r: i64, c: i64| -> f64 {
            if r < 0 || c < 0 || r >= rows as i64 || c >= cols as i64 {
                0.0
            } else {
                image[r as usize * cols + c as usize]
            }
        };
        let mut texture = vec![0.0; p_count];
        let mut bits = vec![0u8; p_count];
        for r in 0..rows {
            for c in 0..cols {
                for (t, &(rp, cp)) in texture.iter_mut().zip(&self.offsets) {
                    let (y, x) = (r as f64 + rp, c as f64 + cp);
                    let (minr, minc, maxr, maxc) = (y.floor(), x.floor(), y.ceil(), x.ceil());
                    let (dr, dc) = (y - minr, x - minc);
                    let (minr, minc, maxr, maxc) = (minr as i64, minc as i64, maxr as i64, maxc as i64);
                    let top = (1.0 - dc) * pixel(minr, minc) + dc * pixel(minr, maxc);
                    let bottom = (1.0 - dc) * pixel(maxr, minc) + dc * pixel(maxr, maxc);
                    *t = (1.0 - dr) * top + dr * bottom;
                }
                let centre = image[r * cols + c];
                for (b, &t) in bits.iter_mut().zip(&texture) {
                    *b = u8::from(t - centre >= 0.0);
                }
                out[r * cols + c] = self.code(&bits, &texture);
            }
        }
    }

    /// The pattern's value for this method.
    fn code(&self, bits: &[u8], texture: &[f64]) -> f64 {
        let p = self.samples;
        match self.method {
            Lbp2DMethod::Default | Lbp2DMethod::Ror => {
                let value: u32 = bits.iter().enumerate().map(|(i, &b)| u32::from(b) << i).sum();
                if self.method == Lbp2DMethod::Default {
                    return value as f64;
                }
                let mut best = value;
                let mut rotated = value;
                for _ in 1..p {
                    rotated = (rotated >> 1) | ((rotated & 1) << (p - 1));
                    best = best.min(rotated);
                }
                best as f64
            }
            Lbp2DMethod::Uniform | Lbp2DMethod::NriUniform | Lbp2DMethod::Var => {
                let changes: usize = bits.windows(2).map(|w| usize::from(w[0] != w[1])).sum();
                match self.method {
                    Lbp2DMethod::NriUniform => {
                        if changes > 2 {
                            return (p * (p - 1) + 2) as f64;
                        }
                        let n_ones = bits.iter().filter(|&&b| b == 1).count();
                        if n_ones == 0 {
                            return 0.0;
                        }
                        if n_ones == p {
                            return (p * (p - 1) + 1) as f64;
                        }
                        let first_one = bits.iter().position(|&b| b == 1).expect("a set bit");
                        let first_zero = bits.iter().position(|&b| b == 0).expect("a clear bit");
                        let rot_index = if first_one == 0 { n_ones - first_zero } else { p - first_one };
                        (1 + (n_ones - 1) * p + rot_index) as f64
                    }
                    Lbp2DMethod::Uniform => {
                        if changes <= 2 {
                            bits.iter().map(|&b| b as usize).sum::<usize>() as f64
                        } else {
                            (p + 1) as f64
                        }
                    }
                    _ => {
                        // numpy's var: mean of squared deviations from the mean, both pairwise sums.
                        let n = texture.len() as f64;
                        let mean = numpy_sum(texture) / n;
                        let squares: Vec<f64> = texture.iter().map(|&t| (t - mean) * (t - mean)).collect();
                        let var = numpy_sum(&squares) / n;
                        if var != 0.0 { var } else { f64::NAN }
                    }
                }
            }
        }
    }
}

impl Filter for Lbp2D {
    fn image_type(&self) -> String {
        "lbp-2D".into()
    }

    fn margin(&self, _spacing: [f64; 3]) -> Margin {
        let mut margin = [0; 3];
        let reach = self.radius.ceil() as usize;
        margin[self.axes[1]] = reach;
        margin[self.axes[2]] = reach;
        Margin::Voxels(margin)
    }

    fn check_fits(&self, _dims: [usize; 3], _spacing: [f64; 3]) -> Result<(), FilterError> {
        // Samples outside the slice read 0: any size works.
        Ok(())
    }

    fn apply(&self, image: ArrayView3<'_, f64>, _spacing: [f64; 3]) -> Result<Array3<f64>, FilterError> {
        let [slice_axis, row_axis, col_axis] = self.axes;
        let storage = self.storage.resolve(image);
        let (rows, cols) = (image.len_of(Axis(row_axis)), image.len_of(Axis(col_axis)));
        let slices: Vec<Vec<f64>> = (0..image.len_of(Axis(slice_axis)))
            .into_par_iter()
            .map(|s| {
                let plane = image.index_axis(Axis(slice_axis), s);
                // The plane's axes keep their order: (row, col) or (col, row).
                let plane = if row_axis < col_axis { plane } else { plane.reversed_axes() };
                let data: Vec<f64> = plane.iter().copied().collect();
                let mut out = vec![0.0; rows * cols];
                self.slice(&data, rows, cols, &mut out);
                out.iter_mut().for_each(|v| *v = storage.store(*v));
                out
            })
            .collect();
        let mut response = Array3::zeros(image.raw_dim().f());
        for (s, values) in slices.into_iter().enumerate() {
            let plane = response.index_axis_mut(Axis(slice_axis), s);
            let mut plane = if row_axis < col_axis { plane } else { plane.reversed_axes() };
            plane.iter_mut().zip(values).for_each(|(o, v)| *o = v);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::approx_constant)] // scikit-image's 5-decimal rounding of 1/√2
    fn offsets_are_rounded_as_scikit_image_rounds_them() {
        let f = Lbp2D::new(1.0, 8, Lbp2DMethod::Uniform, 0, PixelStorage::Float64).unwrap();
        assert_eq!(f.offsets[0], (0.0, 1.0));
        assert_eq!(f.offsets[1], (-0.70711, 0.70711));
        assert_eq!(f.offsets[2], (-1.0, 0.0));
        assert!(Lbp2DMethod::parse("URI").is_err());
        assert_eq!(Lbp2DMethod::parse("NRI_uniform").unwrap(), Lbp2DMethod::NriUniform);
    }

    #[test]
    fn storage_truncates_as_numpy_on_x86() {
        assert_eq!(PixelStorage::Int16.store(2.9), 2.0);
        assert_eq!(PixelStorage::Int16.store(-2.9), -2.0);
        assert_eq!(PixelStorage::Int16.store(f64::NAN), 0.0);
        assert_eq!(PixelStorage::Int16.store(40000.0), -25536.0);
        assert_eq!(PixelStorage::Int32.store(f64::NAN), i32::MIN as f64);
    }
}
