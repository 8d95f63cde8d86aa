//! Resampling as ITK's `ResampleImageFilter` does it (ITK 5.4, as SimpleITK 2.5 runs it with
//! an identity transform), so that PyRadiomics' resampled images are reproduced to the last
//! few ulps. radx's own [`super::resample_image`] follows the IBSI and MIRP instead; the
//! two differ in the spline's boundary conditions, in how target positions are computed
//! and in what happens outside the image.
//!
//! What ITK does, and this module with it:
//!
//! - **Target positions** (`ResampleImageFilter::LinearThreadedGenerateData`, the path ITK
//!   takes for a linear transform). For each output scan line (fixed y, z) ITK maps two
//!   output indices to the input's continuous index space: the line's first voxel
//!   `(0, y, z)` and the voxel one past its end `(n_x, y, z)`. Output voxel `x` is then
//!   `start + (x / n_x)·(end − start)`, computed per axis. An index is mapped by
//!   `ImageBase::TransformIndexToPhysicalPoint` (`p_i = o_i + Σ_j M_ij·k_j`, `M = D·diag(s)`,
//!   accumulated from the origin) and `TransformPhysicalPointToContinuousIndex`
//!   (`c_r = Σ_c P_rc·(p_c − o_c)` with `P = M⁻¹`). ITK inverts `M` by SVD; for the
//!   axis-aligned directions of radiology images (a diagonal of ±1) that gives exactly
//!   `±1/s`, as here; other directions are inverted by cofactors
//!   and may differ from ITK's SVD in the last bit of `P`.
//! - **Outside the image** (`ImageFunction::IsInsideBuffer`): a continuous index is inside
//!   when `−½ ≤ c < n − ½` on every axis (the buffer's start index minus ½ to its end index
//!   plus ½). Outside positions get the filter's default pixel value (SimpleITK: 0) — no
//!   extrapolation, no edge extension.
//! - **Nearest neighbour** (`NearestNeighborInterpolateImageFunction`): the voxel
//!   `Math::RoundHalfIntegerUp(c)`, on x86-64 `RoundHalfIntegerToEven(2c + ½) >> 1`.
//! - **Linear** (`LinearInterpolateImageFunction::EvaluateOptimized`): base voxel
//!   `max(Math::Floor(c), 0)` (x86-64: `RoundHalfIntegerToEven(2c − ½) >> 1`), distance
//!   `d = c − base`; an axis takes part only where `d > 0` and `base + 1` is inside the image,
//!   and the values are blended x, then y, then z as `a + (b − a)·d`.
//! - **B-spline** (`BSplineInterpolateImageFunction`, spline order 3, coefficients
//!   `double`, SimpleITK's `sitkBSpline`):
//!   - the coefficients come from `BSplineDecompositionImageFilter` run on the *whole*
//!     buffered input image, x lines first, then y, then z
//!     ([`bspline_decomposition_1d`], `DataToCoefficients1D`): gain `(1 − z)(1 − 1/z)` with
//!     the pole `z = √3 − 2`, causal initialisation for a mirror (whole-sample symmetric)
//!     boundary `SetInitialCausalCoefficient` — with the default tolerance 1e-10 the sum is
//!     cut at the horizon `⌈ln 1e-10 / ln|z|⌉ = 18` samples when the line is longer, else
//!     the exact closed form over the mirrored line —, the causal recursion, the
//!     anti-causal initialisation `c[n−1] = z/(z² − 1)·(z·c[n−2] + c[n−1])`, and the
//!     anti-causal recursion `c[k] = z·(c[k+1] − c[k])`. A line of one sample is left as it
//!     is (no gain);
//!   - evaluation (`EvaluateAtContinuousIndexInternal`): the support starts at
//!     `⌊(float)c⌋ − 1` (ITK floors the index *after casting it to `float`*,
//!     `DetermineRegionOfSupport`), the weights are `SetInterpolationWeights`' for
//!     `w = c − ⌊(float)c⌋`: `w₃ = w³/6`, `w₀ = 1/6 + w(w − 1)/2 − w₃`,
//!     `w₂ = w + w₀ − 2w₃`, `w₁ = 1 − w₀ − w₂ − w₃`; indices outside the image are
//!     mirrored (`ApplyMirrorBoundaryConditions`: `k < 0 → −k`, then `k ≥ n − 1 →
//!     2(n − 1) − k`; every index is 0 on an axis of one voxel), and the 64 products
//!     `((w_x·w_y)·w_z)·coefficient` are summed in order, x fastest;
//!   - `UseImageDirection` only matters for derivatives, not for values.
//!
//! The caller casts the interpolated values to the output pixel type as ITK does
//! ([`cast_to_integer_pixel`] for integer images).
//!
//! The coefficients are computed for the box of input voxels the target needs only
//! (every line still runs over the whole image, so each coefficient is the same number ITK
//! computes on the whole image), which keeps the memory to that box when a small grid
//! samples a large image.

use ndarray::{Array3, ShapeBuilder};
use rayon::prelude::*;

use crate::error::CoreError;
use crate::grid::Grid;
use crate::volume::Volume;

/// ITK's interpolators as SimpleITK names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItkInterpolator {
    /// `sitkNearestNeighbor` (`NearestNeighborInterpolateImageFunction`).
    NearestNeighbor,
    /// `sitkLinear` (`LinearInterpolateImageFunction`).
    Linear,
    /// `sitkBSpline` (`BSplineInterpolateImageFunction`, order 3).
    BSpline,
}

/// Resample `image` onto `target` as ITK's `ResampleImageFilter` with an identity
/// transform: positions outside the image get `default_value`, the others `interpolator`'s
/// value (as `double`; see [`cast_to_integer_pixel`] for an integer output type).
///
/// # Errors
/// [`CoreError::InvalidSetting`] when the image has no voxels, or a grid has a
/// non-positive spacing or a singular direction matrix.
pub fn resample_image(
    image: &Volume<f64>,
    target: &Grid,
    interpolator: ItkInterpolator,
    default_value: f64,
) -> Result<Volume<f64>, CoreError> {
    let values = x_fastest(&image.data);
    let dims = image.grid.dims;
    let input = Input { values: &values, dims, offset: [0; 3], whole: dims };
    resample_input(&input, &image.grid, target, interpolator, default_value)
}

/// Voxels a region read of the input can stop at, beyond what the target's positions and
/// the interpolation support reach, for the B-spline: its coefficients come from recursive
/// filters running along whole lines of the image, in which a sample `d` voxels away
/// weighs about `√3·|z|^d` (`z = √3 − 2`); at 48 voxels that is below 1e-27 of the
/// sample, under the last bit of any coefficient within 10 orders of magnitude of the
/// image's values. Past that point the recursions of the whole line and of the region's
/// agree to the last bit, so the result is ITK's.
pub const BSPLINE_REGION_MARGIN: usize = 48;

/// The box of input voxels (indices of `input`, the whole image's grid) that resampling
/// onto `target` with `interpolator` reads: the target positions' range widened by the
/// interpolator's support and a voxel of slack, and for the B-spline by
/// [`BSPLINE_REGION_MARGIN`], within the image. [`resample_image_region`] given this part
/// of the image gives [`resample_image`]'s result on the whole image.
///
/// # Errors
/// As [`resample_image`].
pub fn input_region(
    input: &Grid,
    target: &Grid,
    interpolator: ItkInterpolator,
) -> Result<crate::BoundingBox, CoreError> {
    let map = ContinuousIndexMap::new(target, input)?;
    if input.dims.contains(&0) {
        return Err(no_voxels());
    }
    let margin = if interpolator == ItkInterpolator::BSpline { BSPLINE_REGION_MARGIN } else { 0 };
    let bounds = map.input_box(target.dims, input.dims);
    Ok(crate::BoundingBox {
        min: std::array::from_fn(|a| bounds[a][0].saturating_sub(margin)),
        max: std::array::from_fn(|a| (bounds[a][1] + margin).min(input.dims[a] - 1)),
    })
}

/// Bytes [`resample_image_region`] and [`resample_mask_in_box`] hold at their peak besides
/// the region given (the [`input_region`] of `input` for `target`): for the B-spline, its
/// decomposition's passes over the region's lines (x lines kept to the footprint's x range,
/// then y, then z) and the footprint's coefficients beside the target's samples; then the
/// resampled image with the mask's samples (`f64`) and the mask (`bool`) on the target.
///
/// # Errors
/// As [`input_region`].
pub fn working_bytes(input: &Grid, target: &Grid, interpolator: ItkInterpolator) -> Result<u64, CoreError> {
    let region = input_region(input, target, interpolator)?.dims();
    let n = |dims: [usize; 3]| dims.iter().fold(8u64, |b, &d| b.saturating_mul(d as u64));
    let samples = n(target.dims);
    let mask = samples.saturating_mul(2).saturating_add(samples / 8);
    if interpolator != ItkInterpolator::BSpline {
        return Ok(mask);
    }
    let map = ContinuousIndexMap::new(target, input)?;
    let bounds = map.input_box(target.dims, input.dims);
    let [kx, ky, kz]: [usize; 3] = std::array::from_fn(|a| bounds[a][1] - bounds[a][0] + 1);
    let [_, ry, rz] = region;
    let x_and_y = n([kx, ry, rz]).saturating_add(n([kx, ky, rz]));
    let y_and_z = n([kx, ky, rz]).saturating_add(n([kx, ky, kz]).saturating_mul(2));
    let coefficients = n([kx, ky, kz]).saturating_add(samples);
    Ok(x_and_y.max(y_and_z).max(coefficients).max(mask))
}

/// [`resample_image`] of an image of which only `region` is at hand: the voxels of the
/// whole image (grid `whole`) from index `offset` on, holding [`input_region`]'s box.
/// Positions are mapped through the whole grid and its edges bound the image, exactly as
/// for the whole image.
///
/// # Errors
/// As [`resample_image`]; [`CoreError::InvalidSetting`] when the region does not fit in
/// the whole image.
pub fn resample_image_region(
    region: &Volume<f64>,
    offset: [usize; 3],
    whole: &Grid,
    target: &Grid,
    interpolator: ItkInterpolator,
    default_value: f64,
) -> Result<Volume<f64>, CoreError> {
    let dims = region.grid.dims;
    if (0..3).any(|a| offset[a] + dims[a] > whole.dims[a]) {
        return Err(CoreError::InvalidSetting {
            name: "image region",
            reason: format!("a {dims:?} region at {offset:?} does not fit in a {:?} image", whole.dims),
        });
    }
    let values = x_fastest(&region.data);
    let input = Input { values: &values, dims, offset, whole: whole.dims };
    resample_input(&input, whole, target, interpolator, default_value)
}

/// [`resample_image_region`] with the B-spline, given the region's z slices one at a time
/// (typically as a reader inflates them): the decomposition's x and y passes of a slice need
/// that slice only, so they run when it arrives, and once the last slice is in only the z
/// pass and the sampling remain ([`BSplineSlices::resample`]). The region itself is never
/// held; the result has [`resample_image_region`]'s bits (the same passes, line by line).
pub struct BSplineSlices {
    whole: Grid,
    target: Grid,
    /// The region (whole-image indices) and its dims.
    offset: [usize; 3],
    dims: [usize; 3],
    /// The coefficients' box, in region indices.
    local: IndexBox,
    /// The slices received after the x and y passes, `(bx, by)` each, x fastest.
    after_y: Vec<f64>,
    /// One slice after the x pass, `(bx, ny)`.
    plane: Vec<f64>,
    /// [`X_LANES`] x lines side by side.
    lanes: Vec<f64>,
    received: usize,
}

impl BSplineSlices {
    /// Ready for the slices of `region` (whole-image indices of the image on grid `whole`,
    /// holding [`input_region`]'s box for `target` and the B-spline), resampled onto `target`.
    ///
    /// # Errors
    /// As [`resample_image_region`].
    pub fn new(whole: &Grid, target: &Grid, region: &crate::BoundingBox) -> Result<BSplineSlices, CoreError> {
        let map = ContinuousIndexMap::new(target, whole)?;
        let (offset, dims) = (region.min, region.dims());
        if whole.dims.contains(&0) {
            return Err(no_voxels());
        }
        if (0..3).any(|a| region.min[a] > region.max[a] || offset[a] + dims[a] > whole.dims[a]) {
            return Err(CoreError::InvalidSetting {
                name: "image region",
                reason: format!("a {dims:?} region at {offset:?} does not fit in a {:?} image", whole.dims),
            });
        }
        let (local, _) = kept_box(map.input_box(target.dims, whole.dims), offset, dims);
        let [bx, by, _] = box_dims(&local);
        Ok(BSplineSlices {
            whole: *whole,
            target: *target,
            offset,
            dims,
            local,
            after_y: Vec::with_capacity(bx * by * dims[2]),
            plane: vec![0.0; bx * dims[1]],
            lanes: vec![0.0; dims[0] * X_LANES],
            received: 0,
        })
    }

    /// The grid the region is resampled onto.
    pub fn target(&self) -> &Grid {
        &self.target
    }

    /// Bytes held until [`BSplineSlices::resample`] (besides the slice being given): every
    /// slice after the x and y passes, one slice after the x pass, the x pass's lanes.
    pub fn bytes(&self) -> u64 {
        let f64s = self.after_y.capacity() + self.plane.len() + self.lanes.len();
        (f64s as u64).saturating_mul(8)
    }

    /// The x and y passes of the region's next z slice (`values`: its voxels, x fastest).
    ///
    /// # Errors
    /// [`CoreError::InvalidSetting`] when `values` is not a slice of the region, or every
    /// slice has been given already.
    pub fn push_slice(&mut self, values: &[f64]) -> Result<(), CoreError> {
        let [nx, ny, nz] = self.dims;
        if values.len() != nx * ny || self.received == nz {
            return Err(CoreError::InvalidSetting {
                name: "image region",
                reason: format!(
                    "slice {} of {nz} has {} voxels, a slice of the {:?} region {}",
                    self.received + 1,
                    values.len(),
                    self.dims,
                    nx * ny
                ),
            });
        }
        let [bx, by, _] = box_dims(&self.local);
        for (out, lines) in self.plane.chunks_mut(bx * X_LANES).zip(values.chunks(nx * X_LANES)) {
            x_lines(lines, nx, self.local[0][0], &mut self.lanes, out);
        }
        let start = self.after_y.len();
        self.after_y.resize(start + bx * by, 0.0);
        y_plane(&mut self.plane, bx, self.local[1], &mut self.after_y[start..]);
        self.received += 1;
        Ok(())
    }

    /// The z pass and the sampling: the image resampled onto the target, positions outside
    /// the image getting `default_value`.
    ///
    /// # Errors
    /// [`CoreError::InvalidSetting`] when some of the region's slices are missing.
    pub fn resample(self, default_value: f64) -> Result<Volume<f64>, CoreError> {
        if self.received != self.dims[2] {
            return Err(CoreError::InvalidSetting {
                name: "image region",
                reason: format!("{} of the {:?} region's {} slices were given", self.received, self.dims, self.dims[2]),
            });
        }
        let map = ContinuousIndexMap::new(&self.target, &self.whole)?;
        let values = z_pass(&self.after_y, self.dims, self.local);
        drop(self.after_y);
        let bounds = std::array::from_fn(|a| [self.local[a][0] + self.offset[a], self.local[a][1] + self.offset[a]]);
        let coefficients = BSplineCoefficients { values, bounds, data_length: self.whole.dims };
        let data = sample_bspline(&self.target, &map, &coefficients, default_value);
        Ok(Volume { grid: self.target, data })
    }
}

/// The part of `bounds` (whole-image indices) within a region of `dims` voxels at `offset`:
/// in region indices, and in whole-image indices.
fn kept_box(bounds: IndexBox, offset: [usize; 3], dims: [usize; 3]) -> (IndexBox, IndexBox) {
    let local: IndexBox = std::array::from_fn(|a| {
        let first = bounds[a][0].saturating_sub(offset[a]).min(dims[a] - 1);
        [first, (bounds[a][1].saturating_sub(offset[a])).clamp(first, dims[a] - 1)]
    });
    (local, std::array::from_fn(|a| [local[a][0] + offset[a], local[a][1] + offset[a]]))
}

/// Voxels along each axis of an inclusive index box.
fn box_dims(b: &IndexBox) -> [usize; 3] {
    std::array::from_fn(|a| b[a][1] - b[a][0] + 1)
}

fn no_voxels() -> CoreError {
    CoreError::InvalidSetting { name: "source image", reason: "cannot interpolate an image without voxels".to_string() }
}

/// The input's voxels at hand: `values` (x fastest) of a `dims` box of the whole image of
/// `whole` voxels, starting at voxel `offset`.
struct Input<'a> {
    values: &'a [f64],
    dims: [usize; 3],
    offset: [usize; 3],
    whole: [usize; 3],
}

impl Input<'_> {
    /// The value of whole-image voxel `v` (clamped into the box held: the box holds every
    /// voxel the target reads, so this only guards).
    fn at(&self, v: [usize; 3]) -> f64 {
        let k: [usize; 3] = std::array::from_fn(|a| v[a].saturating_sub(self.offset[a]).min(self.dims[a] - 1));
        self.values[k[0] + self.dims[0] * (k[1] + self.dims[1] * k[2])]
    }
}

fn resample_input(
    input: &Input,
    grid: &Grid,
    target: &Grid,
    interpolator: ItkInterpolator,
    default_value: f64,
) -> Result<Volume<f64>, CoreError> {
    let map = ContinuousIndexMap::new(target, grid)?;
    if input.dims.contains(&0) || input.whole.contains(&0) {
        return Err(no_voxels());
    }
    let data = match interpolator {
        ItkInterpolator::NearestNeighbor => {
            let nearest = |index: [f64; 3]| input.at(nearest_voxel(index, input.whole));
            sample(target, &map, input.whole, nearest, default_value)
        }
        ItkInterpolator::Linear => sample(target, &map, input.whole, |index| linear(input, index), default_value),
        ItkInterpolator::BSpline => {
            let coefficients = BSplineCoefficients::new(input, map.input_box(target.dims, input.whole));
            sample_bspline(target, &map, &coefficients, default_value)
        }
    };
    Ok(Volume { grid: *target, data })
}

/// Resample a mask onto `target` by nearest neighbour as ITK does (SimpleITK's
/// `sitkNearestNeighbor`); target voxels outside the mask's image are outside the mask
/// (ITK's default pixel value 0).
///
/// # Errors
/// As [`resample_image`].
pub fn resample_mask(mask: &Volume<bool>, target: &Grid) -> Result<Volume<bool>, CoreError> {
    let as_float = mask.map(|&inside| if inside { 1.0 } else { 0.0 });
    let resampled = resample_image(&as_float, target, ItkInterpolator::NearestNeighbor, 0.0)?;
    Ok(resampled.map(|&v| v != 0.0))
}

/// [`resample_mask`] of a mask given as its part inside `bbox` (voxel indices of `grid`, the
/// mask's whole grid; `inside` on the box's sub-grid, every voxel outside the box being
/// outside the mask): target positions are mapped through the whole grid, as ITK maps them
/// on the whole mask, so the result is the whole mask's bit for bit while only the box is
/// held in memory.
///
/// # Errors
/// As [`resample_image`]; [`CoreError::InvalidSetting`] when `inside` is not `bbox`'s size.
pub fn resample_mask_in_box(
    grid: &Grid,
    bbox: &crate::BoundingBox,
    inside: &Array3<bool>,
    target: &Grid,
) -> Result<Volume<bool>, CoreError> {
    let map = ContinuousIndexMap::new(target, grid)?;
    let dims = grid.dims;
    let [bx, by, bz] = bbox.dims();
    if dims.contains(&0) || inside.dim() != (bx, by, bz) || (0..3).any(|a| bbox.max[a] >= dims[a]) {
        return Err(CoreError::InvalidSetting {
            name: "mask box",
            reason: format!("a {:?} box of a {dims:?} mask cannot hold {:?} voxels", bbox.dims(), inside.dim()),
        });
    }
    let nearest = |index: [f64; 3]| {
        let voxel = nearest_voxel(index, dims);
        let within = (0..3).all(|a| (bbox.min[a]..=bbox.max[a]).contains(&voxel[a]));
        let set = within && inside[[voxel[0] - bbox.min[0], voxel[1] - bbox.min[1], voxel[2] - bbox.min[2]]];
        if set { 1.0 } else { 0.0 }
    };
    let data = sample(target, &map, dims, nearest, 0.0);
    Ok(Volume { grid: *target, data: data.mapv(|v| v != 0.0) })
}

/// ITK's cast of an interpolated value to an integer pixel type whose range is
/// `[min, max]` (`ResampleImageFilter::CastComponentWithBoundsChecking`): values at or
/// beyond a bound take the bound, the others are truncated toward zero (C++'s
/// `static_cast`).
pub fn cast_to_integer_pixel(value: f64, min: f64, max: f64) -> f64 {
    if value <= min {
        min
    } else if value >= max {
        max
    } else {
        value.trunc()
    }
}

/// The cubic B-spline coefficients of one line of samples, in place, as ITK's
/// `BSplineDecompositionImageFilter::DataToCoefficients1D` computes them (spline order 3,
/// mirror boundaries, tolerance 1e-10; see the module documentation). A line of one sample
/// is left unchanged.
pub fn bspline_decomposition_1d(scratch: &mut [f64]) {
    decompose_lanes(scratch, 1);
}

/// [`bspline_decomposition_1d`] of `lanes` lines at once, sample `k` of line `l` at
/// `data[k·lanes + l]`: every line goes through the same operations in the same order as
/// on its own (so to the same bits), while the recursion steps run across the lanes (in
/// cache, vectorised) instead of waiting on each other down one line.
fn decompose_lanes(data: &mut [f64], lanes: usize) {
    let n = data.len() / lanes;
    if n <= 1 {
        return;
    }
    let pole = spline_pole();
    // The overall gain, accumulated from 1 as ITK does.
    let gain = 1.0 * (1.0 - pole) * (1.0 - 1.0 / pole);
    for value in data.iter_mut() {
        *value *= gain;
    }
    set_initial_causal_coefficient(data, lanes, pole);
    for k in 1..n {
        let (before, rest) = data.split_at_mut(k * lanes);
        for (value, previous) in rest[..lanes].iter_mut().zip(&before[(k - 1) * lanes..]) {
            *value += pole * previous;
        }
    }
    // SetInitialAntiCausalCoefficient for mirror boundaries.
    let (before, last) = data.split_at_mut((n - 1) * lanes);
    for (value, previous) in last.iter_mut().zip(&before[(n - 2) * lanes..]) {
        *value = (pole / (pole * pole - 1.0)) * (pole * previous + *value);
    }
    for k in (0..n - 1).rev() {
        let (head, tail) = data.split_at_mut((k + 1) * lanes);
        for (value, next) in head[k * lanes..].iter_mut().zip(&tail[..lanes]) {
            *value = pole * (next - *value);
        }
    }
}

/// The pole of the cubic B-spline prefilter, computed as ITK does (`√3 − 2`).
fn spline_pole() -> f64 {
    3.0f64.sqrt() - 2.0
}

/// ITK's `BSplineDecompositionImageFilter::m_Tolerance` default.
const DECOMPOSITION_TOLERANCE: f64 = 1e-10;

/// `SetInitialCausalCoefficient` for mirror boundaries, on each of `lanes` lines (laid out
/// as in [`decompose_lanes`]): the truncated sum over the horizon when the line is longer
/// than it, else the exact sum over the mirrored line.
fn set_initial_causal_coefficient(data: &mut [f64], lanes: usize, z: f64) {
    let n = data.len() / lanes;
    let horizon = (DECOMPOSITION_TOLERANCE.ln() / z.abs().ln()).ceil() as usize;
    let (sum, rest) = data.split_at_mut(lanes);
    // Sample k (≥ 1) of every line.
    let row = |k: usize| &rest[(k - 1) * lanes..k * lanes];
    let mut zn = z;
    if horizon < n {
        for k in 1..horizon {
            for (s, value) in sum.iter_mut().zip(row(k)) {
                *s += zn * value;
            }
            zn *= z;
        }
    } else {
        let iz = 1.0 / z;
        let mut z2n = z.powf((n - 1) as f64);
        for (s, value) in sum.iter_mut().zip(row(n - 1)) {
            *s += z2n * value;
        }
        // ITK: `z2n *= z2n * iz`.
        z2n = z2n * (z2n * iz);
        for k in 1..n - 1 {
            for (s, value) in sum.iter_mut().zip(row(k)) {
                *s += (zn + z2n) * value;
            }
            zn *= z;
            z2n *= iz;
        }
        for s in sum.iter_mut() {
            *s /= 1.0 - zn * zn;
        }
    }
}

/// An inclusive box of input voxel indices per axis.
type IndexBox = [[usize; 2]; 3];

/// ITK's mapping of output indices to input continuous indices (identity transform).
struct ContinuousIndexMap {
    /// Output `M = D·diag(s)`.
    output_matrix: [[f64; 3]; 3],
    output_origin: [f64; 3],
    /// Input `P = (D·diag(s))⁻¹`.
    input_inverse: [[f64; 3]; 3],
    input_origin: [f64; 3],
}

impl ContinuousIndexMap {
    fn new(output: &Grid, input: &Grid) -> Result<ContinuousIndexMap, CoreError> {
        for grid in [output, input] {
            if grid.spacing.iter().any(|&s| !(s.is_finite() && s > 0.0)) {
                return Err(CoreError::InvalidSetting {
                    name: "grid spacing",
                    reason: format!("voxel spacing must be positive and finite, got {:?}", grid.spacing),
                });
            }
        }
        let index_to_physical = |g: &Grid| -> [[f64; 3]; 3] {
            std::array::from_fn(|r| std::array::from_fn(|c| g.direction[r][c] * g.spacing[c]))
        };
        let input_matrix = index_to_physical(input);
        let input_inverse = invert_index_to_physical(&input_matrix).ok_or_else(|| CoreError::InvalidSetting {
            name: "grid direction",
            reason: format!("the direction matrix {:?} cannot be inverted", input.direction),
        })?;
        Ok(ContinuousIndexMap {
            output_matrix: index_to_physical(output),
            output_origin: output.origin,
            input_inverse,
            input_origin: input.origin,
        })
    }

    /// `TransformPhysicalPointToContinuousIndex(TransformIndexToPhysicalPoint(index))`.
    fn continuous_index(&self, index: [i64; 3]) -> [f64; 3] {
        let mut point = self.output_origin;
        for (i, p) in point.iter_mut().enumerate() {
            for (j, &k) in index.iter().enumerate() {
                *p += self.output_matrix[i][j] * k as f64;
            }
        }
        let offset: [f64; 3] = std::array::from_fn(|k| point[k] - self.input_origin[k]);
        std::array::from_fn(|r| {
            let mut sum = 0.0;
            for (c, &v) in offset.iter().enumerate() {
                sum += self.input_inverse[r][c] * v;
            }
            sum
        })
    }

    /// The continuous indices of scan line (y, z): its first voxel and the vector to the
    /// voxel one past its end.
    fn scanline(&self, nx: usize, y: usize, z: usize) -> ([f64; 3], [f64; 3]) {
        let start = self.continuous_index([0, y as i64, z as i64]);
        let end = self.continuous_index([nx as i64, y as i64, z as i64]);
        (start, std::array::from_fn(|i| end[i] - start[i]))
    }

    /// The input voxels a B-spline evaluation of every target voxel can read: the
    /// positions' range (taken at the corners of the target, the map being affine) widened
    /// by the spline's support and a voxel of slack, within the image.
    fn input_box(&self, target: [usize; 3], input: [usize; 3]) -> IndexBox {
        let whole: IndexBox = std::array::from_fn(|a| [0, input[a] - 1]);
        if target.contains(&0) {
            return whole;
        }
        let mut low = [f64::INFINITY; 3];
        let mut high = [f64::NEG_INFINITY; 3];
        for y in [0, target[1] - 1] {
            for z in [0, target[2] - 1] {
                let (start, vector) = self.scanline(target[0], y, z);
                for x in [0, target[0] - 1] {
                    let alpha = x as f64 / target[0] as f64;
                    for a in 0..3 {
                        let c = start[a] + alpha * vector[a];
                        low[a] = low[a].min(c);
                        high[a] = high[a].max(c);
                    }
                }
            }
        }
        let mut bounds = whole;
        for a in 0..3 {
            if !(low[a].is_finite() && high[a].is_finite()) {
                return whole;
            }
            let last = input[a] as f64 - 1.0;
            let first = (low[a].floor() - 3.0).clamp(0.0, last);
            let end = (high[a].floor() + 4.0).clamp(0.0, last);
            bounds[a] = [first as usize, (end as usize).max(first as usize)];
        }
        bounds
    }
}

/// The inverse of an index-to-physical matrix. Axis-aligned matrices (one non-zero entry
/// per row and column) are inverted entry by entry (`1/m`), which is what ITK's SVD gives
/// for a diagonal; others by cofactors.
fn invert_index_to_physical(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let mut inverse = [[0.0; 3]; 3];
    let mut axis_aligned = true;
    for r in 0..3 {
        let nonzero: Vec<usize> = (0..3).filter(|&c| m[r][c] != 0.0).collect();
        let column_nonzero = nonzero.first().map(|&c| (0..3).filter(|&k| m[k][c] != 0.0).count());
        if nonzero.len() == 1 && column_nonzero == Some(1) {
            let c = nonzero[0];
            inverse[c][r] = 1.0 / m[r][c];
        } else {
            axis_aligned = false;
        }
    }
    if axis_aligned {
        return Some(inverse);
    }
    let cofactor = |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let adjugate = [
        [cofactor(1, 2, 1, 2), -cofactor(0, 2, 1, 2), cofactor(0, 1, 1, 2)],
        [-cofactor(1, 2, 0, 2), cofactor(0, 2, 0, 2), -cofactor(0, 1, 0, 2)],
        [cofactor(1, 2, 0, 1), -cofactor(0, 2, 0, 1), cofactor(0, 1, 0, 1)],
    ];
    let det = m[0][0] * adjugate[0][0] + m[0][1] * adjugate[1][0] + m[0][2] * adjugate[2][0];
    if !det.is_finite() || det == 0.0 {
        return None;
    }
    Some(std::array::from_fn(|r| std::array::from_fn(|c| adjugate[r][c] / det)))
}

/// Voxel values listed x-fastest, borrowed when the array already is in that order.
fn x_fastest(data: &Array3<f64>) -> std::borrow::Cow<'_, [f64]> {
    let transposed = data.t();
    match transposed.to_slice() {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(transposed.iter().copied().collect()),
    }
}

/// Evaluate every target voxel (one rayon task per z slice; each voxel is computed on its
/// own, so the result does not depend on the thread count).
fn sample(
    target: &Grid,
    map: &ContinuousIndexMap,
    input: [usize; 3],
    evaluate: impl Fn([f64; 3]) -> f64 + Sync,
    default_value: f64,
) -> Array3<f64> {
    let end = buffer_end(input);
    sample_lines(target, default_value, |y, z, row| {
        let (start, vector) = map.scanline(row.len(), y, z);
        sample_line(start, vector, end, row, &evaluate);
    })
}

/// `IsInsideBuffer`: start index − ½ ≤ c < end index + ½; the upper bounds.
fn buffer_end(input: [usize; 3]) -> [f64; 3] {
    std::array::from_fn(|a| (input[a] as i64 - 1) as f64 + 0.5)
}

/// Whether scan line `line` (start, vector) has, voxel for voxel, the x indices of scan line
/// `first` and the same y and z indices all along.
fn shares_x_indices(first: ([f64; 3], [f64; 3]), line: ([f64; 3], [f64; 3])) -> bool {
    let ((first_start, first_vector), (start, vector)) = (first, line);
    start[0].to_bits() == first_start[0].to_bits()
        && vector[0].to_bits() == first_vector[0].to_bits()
        && vector[1] == 0.0
        && vector[2] == 0.0
}

/// The target's voxels, `default_value` but where `line(y, z, row)` writes scan line (y, z)
/// (one rayon task per z slice).
fn sample_lines(target: &Grid, default_value: f64, line: impl Fn(usize, usize, &mut [f64]) + Sync) -> Array3<f64> {
    let [nx, ny, nz] = target.dims;
    let plane_len = nx * ny;
    let mut values = vec![default_value; plane_len * nz];
    if plane_len > 0 {
        values.par_chunks_mut(plane_len).enumerate().for_each(|(z, plane)| {
            for (y, row) in plane.chunks_mut(nx).enumerate() {
                line(y, z, row);
            }
        });
    }
    Array3::from_shape_vec((nx, ny, nz).f(), values).unwrap_or_else(|_| Array3::zeros((0, 0, 0).f()))
}

/// One scan line as ITK's `LinearThreadedGenerateData` computes it: voxel x at
/// `start + (x / n_x)·vector`, evaluated where inside the buffer.
fn sample_line(start: [f64; 3], vector: [f64; 3], end: [f64; 3], row: &mut [f64], evaluate: impl Fn([f64; 3]) -> f64) {
    let nx = row.len();
    for (x, value) in row.iter_mut().enumerate() {
        let alpha = x as f64 / nx as f64;
        let index: [f64; 3] = std::array::from_fn(|a| start[a] + alpha * vector[a]);
        if (0..3).all(|a| index[a] >= -0.5 && index[a] < end[a]) {
            *value = evaluate(index);
        }
    }
}

/// [`sample`] for the B-spline, sharing the x supports between scan lines where that is
/// exact: a line whose y and z indices do not move along it (its vector's y and z are 0,
/// so `start + α·vector` is the same number for every α) and whose x start and vector are
/// bit for bit those of the first line has, voxel for voxel, that line's x indices. Such a
/// line reads its x supports from a table made once and evaluates four voxels side by
/// side; any other line (oblique grids) is evaluated voxel by voxel.
fn sample_bspline(
    target: &Grid,
    map: &ContinuousIndexMap,
    coefficients: &BSplineCoefficients,
    default_value: f64,
) -> Array3<f64> {
    let end = buffer_end(coefficients.data_length);
    let nx = target.dims[0];
    let (first_start, first_vector) = map.scanline(nx, 0, 0);
    // The x supports of the voxels inside the buffer along x, with their x.
    let table: Vec<(usize, Support)> = (0..nx)
        .filter_map(|x| {
            let c = first_start[0] + (x as f64 / nx as f64) * first_vector[0];
            (c >= -0.5 && c < end[0]).then(|| (x, coefficients.support(0, c)))
        })
        .collect();
    sample_lines(target, default_value, |y, z, row| {
        let (start, vector) = map.scanline(nx, y, z);
        if !shares_x_indices((first_start, first_vector), (start, vector)) {
            return sample_line(start, vector, end, row, |index| coefficients.evaluate(index));
        }
        // α·0 is the same zero for every α ≥ 0.
        let [cy, cz] = [1, 2].map(|a| start[a] + 0.0 * vector[a]);
        if !(cy >= -0.5 && cy < end[1] && cz >= -0.5 && cz < end[2]) {
            return;
        }
        let (sy, sz) = (coefficients.support(1, cy), coefficients.support(2, cz));
        let mut quads = table.chunks_exact(4);
        for quad in quads.by_ref() {
            let sums: [f64; 4] = coefficients.sum(std::array::from_fn(|v| &quad[v].1), &sy, &sz);
            for ((x, _), sum) in quad.iter().zip(sums) {
                row[*x] = sum;
            }
        }
        for (x, sx) in quads.remainder() {
            row[*x] = coefficients.sum([sx], &sy, &sz)[0];
        }
    })
}

/// `NearestNeighborInterpolateImageFunction`'s voxel for continuous index `index` of an
/// image of `dims` voxels (clamped to the image, as ITK's buffer check leaves it).
fn nearest_voxel(index: [f64; 3], dims: [usize; 3]) -> [usize; 3] {
    std::array::from_fn(|a| round_half_integer_up(index[a]).clamp(0, dims[a] as i64 - 1) as usize)
}

/// `Math::RoundHalfIntegerUp` on x86-64: `RoundHalfIntegerToEven(2x + ½) >> 1`.
fn round_half_integer_up(x: f64) -> i64 {
    ((2.0 * x + 0.5).round_ties_even() as i64) >> 1
}

/// `Math::Floor` on x86-64: `RoundHalfIntegerToEven(2x − ½) >> 1`.
fn itk_floor(x: f64) -> i64 {
    ((2.0 * x - 0.5).round_ties_even() as i64) >> 1
}

/// `LinearInterpolateImageFunction::EvaluateOptimized` (3D): blend along the axes whose
/// distance is positive and whose next voxel exists, x first, then y, then z.
fn linear(input: &Input, index: [f64; 3]) -> f64 {
    let dims = input.whole;
    let mut base = [0usize; 3];
    let mut distance = [0.0; 3];
    let mut active = [false; 3];
    for a in 0..3 {
        let b = itk_floor(index[a]).max(0);
        distance[a] = index[a] - b as f64;
        let b = (b as usize).min(dims[a] - 1);
        base[a] = b;
        active[a] = distance[a] > 0.0 && b + 1 < dims[a];
    }
    let at = |dx: usize, dy: usize, dz: usize| input.at([base[0] + dx, base[1] + dy, base[2] + dz]);
    let blend = |a: f64, b: f64, d: f64| a + (b - a) * d;
    let along_x = |dy: usize, dz: usize| {
        let a = at(0, dy, dz);
        if active[0] { blend(a, at(1, dy, dz), distance[0]) } else { a }
    };
    let along_y = |dz: usize| {
        let a = along_x(0, dz);
        if active[1] { blend(a, along_x(1, dz), distance[1]) } else { a }
    };
    let a = along_y(0);
    if active[2] { blend(a, along_y(1), distance[2]) } else { a }
}

/// B-spline coefficients of the input image over a box of it (each computed from the
/// whole image's lines, as ITK computes them), and the image's size for the boundary rules.
struct BSplineCoefficients {
    /// Coefficients of the box, x fastest, then z, then y (the z pass's order): box voxel
    /// `(x, y, z)` at `x + bx·(z + bz·y)`.
    values: Vec<f64>,
    bounds: IndexBox,
    /// The whole image's size (ITK's `m_DataLength`).
    data_length: [usize; 3],
}

/// Lines the x pass decomposes together ([`decompose_lanes`]).
const X_LANES: usize = 8;

/// The four voxels of a support along one axis (indices into the coefficient box) and
/// their weights.
type Support = ([f64; 4], [usize; 4]);

impl BSplineCoefficients {
    /// `BSplineDecompositionImageFilter` on the input's lines (the whole image's, or a
    /// region's: see [`BSPLINE_REGION_MARGIN`]), keeping the coefficients inside `bounds`
    /// (whole-image indices, within the region).
    fn new(input: &Input, bounds: IndexBox) -> BSplineCoefficients {
        let (local, bounds) = kept_box(bounds, input.offset, input.dims);
        let after_x = x_pass(input.values, input.dims, local[0]);
        let after_y = y_pass(after_x, input.dims, local);
        let values = z_pass(&after_y, input.dims, local);
        BSplineCoefficients { values, bounds, data_length: input.whole }
    }

    /// The coefficients' box size.
    fn kept(&self) -> [usize; 3] {
        std::array::from_fn(|a| self.bounds[a][1] - self.bounds[a][0] + 1)
    }

    /// `DetermineRegionOfSupport` and `SetInterpolationWeights` along axis `a` at continuous
    /// index `c`, with `ApplyMirrorBoundaryConditions` on the support.
    fn support(&self, a: usize, c: f64) -> Support {
        // The index is floored as a float.
        let first = (c as f32).floor() as i64 - 1;
        let weights = interpolation_weights(c - (first + 1) as f64);
        let n = self.data_length[a] as i64;
        let offsets = std::array::from_fn(|k| {
            let mirrored = mirror(first + k as i64, n);
            // The box holds every index the target reads; clamping only guards images
            // of two voxels, where ITK's mirror can leave the image.
            let kept = (mirrored.clamp(0, n - 1) as usize).clamp(self.bounds[a][0], self.bounds[a][1]);
            kept - self.bounds[a][0]
        });
        (weights, offsets)
    }

    /// `BSplineInterpolateImageFunction::EvaluateAtContinuousIndexInternal` (order 3).
    fn evaluate(&self, index: [f64; 3]) -> f64 {
        let [x, y, z] = [0, 1, 2].map(|a| self.support(a, index[a]));
        self.sum([&x], &y, &z)[0]
    }

    /// The interpolated values at `L` positions of one scan line, which share their y and z
    /// supports: for each, ITK's 64 products `((w_x·w_y)·w_z)·coefficient` summed in order,
    /// x fastest. The `L` sums run side by side, each in that order.
    fn sum<const L: usize>(&self, x: [&Support; L], y: &Support, z: &Support) -> [f64; L] {
        let [bx, _, bz] = self.kept();
        let mut interpolated = [0.0; L];
        for kz in 0..4 {
            for ky in 0..4 {
                let row = bx * (z.1[kz] + bz * y.1[ky]);
                for kx in 0..4 {
                    for (sum, (wx, ox)) in interpolated.iter_mut().zip(x) {
                        let w = wx[kx] * y.0[ky] * z.0[kz];
                        *sum += w * self.values[row + ox[kx]];
                    }
                }
            }
        }
        interpolated
    }
}

/// The x pass: each line of the region decomposed ([`X_LANES`] lines at a time), keeping
/// the `keep` range of x: `(bx, ny, nz)`, x fastest.
fn x_pass(values: &[f64], dims: [usize; 3], keep: [usize; 2]) -> Vec<f64> {
    let nx = dims[0];
    let bx = keep[1] - keep[0] + 1;
    let mut after_x = vec![0.0; bx * dims[1] * dims[2]];
    after_x
        .par_chunks_mut(bx * X_LANES)
        .zip(values.par_chunks(nx * X_LANES))
        .for_each_init(|| vec![0.0; nx * X_LANES], |scratch, (out, lines)| x_lines(lines, nx, keep[0], scratch, out));
    after_x
}

/// The x pass of the lines of `lines` (whole lines of `nx` samples, back to back, at most
/// [`X_LANES`]) decomposed side by side in `scratch`, each line's kept samples (from `first`
/// on, `out.len()` / lines of them) written to `out`, line after line.
fn x_lines(lines: &[f64], nx: usize, first: usize, scratch: &mut [f64], out: &mut [f64]) {
    let lanes = lines.len() / nx;
    let bx = out.len() / lanes;
    let scratch = &mut scratch[..nx * lanes];
    for (l, line) in lines.chunks(nx).enumerate() {
        for (k, &value) in line.iter().enumerate() {
            scratch[k * lanes + l] = value;
        }
    }
    decompose_lanes(scratch, lanes);
    for (l, kept) in out.chunks_mut(bx).enumerate() {
        for (k, value) in kept.iter_mut().enumerate() {
            *value = scratch[(first + k) * lanes + l];
        }
    }
}

/// The y pass on the x pass's result (decomposed in place, a z plane at a time with x as
/// the lanes), keeping the box's y range: `(bx, by, nz)`, x fastest.
fn y_pass(mut after_x: Vec<f64>, dims: [usize; 3], keep: IndexBox) -> Vec<f64> {
    let bx = keep[0][1] - keep[0][0] + 1;
    let by = keep[1][1] - keep[1][0] + 1;
    let mut after_y = vec![0.0; bx * by * dims[2]];
    after_y.par_chunks_mut(bx * by).zip(after_x.par_chunks_mut(bx * dims[1])).for_each(|(out, plane)| {
        y_plane(plane, bx, keep[1], out);
    });
    after_y
}

/// The y pass of one z plane after the x pass (`bx` samples a row), in place, its rows
/// `keep` (inclusive) copied to `out`.
fn y_plane(plane: &mut [f64], bx: usize, keep: [usize; 2], out: &mut [f64]) {
    decompose_lanes(plane, bx);
    out.copy_from_slice(&plane[bx * keep[0]..bx * (keep[1] + 1)]);
}

/// The z pass on the y pass's result, a box row (fixed y) at a time with x as the lanes,
/// keeping the box's z range: `(bx, bz, by)`, x fastest ([`BSplineCoefficients::values`]).
fn z_pass(after_y: &[f64], dims: [usize; 3], keep: IndexBox) -> Vec<f64> {
    let [bx, by, bz]: [usize; 3] = std::array::from_fn(|a| keep[a][1] - keep[a][0] + 1);
    let nz = dims[2];
    let mut coefficients = vec![0.0; bx * by * bz];
    coefficients.par_chunks_mut(bx * bz).enumerate().for_each_init(
        || vec![0.0; bx * nz],
        |slab, (y, out)| {
            for (z, row) in slab.chunks_mut(bx).enumerate() {
                let start = bx * (y + by * z);
                row.copy_from_slice(&after_y[start..start + bx]);
            }
            decompose_lanes(slab, bx);
            out.copy_from_slice(&slab[bx * keep[2][0]..bx * (keep[2][1] + 1)]);
        },
    );
    coefficients
}

/// `SetInterpolationWeights` for spline order 3, `w` = index − the support's second index.
fn interpolation_weights(w: f64) -> [f64; 4] {
    let w3 = (1.0 / 6.0) * w * w * w;
    let w0 = (1.0 / 6.0) + 0.5 * w * (w - 1.0) - w3;
    let w2 = w + w0 - 2.0 * w3;
    let w1 = 1.0 - w0 - w2 - w3;
    [w0, w1, w2, w3]
}

/// `ApplyMirrorBoundaryConditions` on one index of an axis of `n` voxels (start index 0).
fn mirror(index: i64, n: i64) -> i64 {
    if n == 1 {
        return 0;
    }
    let end = n - 1;
    let mut k = index;
    if k < 0 {
        k = -k;
    }
    if k >= end {
        k = end - (k - end);
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Solve the mirror-boundary interpolation conditions `(c[k−1] + 4c[k] + c[k+1])/6 =
    /// s[k]`, `c[−1] = c[1]`, `c[n] = c[n−2]`, by Gaussian elimination.
    #[allow(clippy::needless_range_loop)]
    fn mirror_spline_coefficients(samples: &[f64]) -> Vec<f64> {
        let n = samples.len();
        let mut a = vec![vec![0.0; n]; n];
        for k in 0..n {
            a[k][k] += 4.0 / 6.0;
            let left = if k == 0 { 1 } else { k - 1 };
            let right = if k == n - 1 { n - 2 } else { k + 1 };
            a[k][left] += 1.0 / 6.0;
            a[k][right] += 1.0 / 6.0;
        }
        let mut b = samples.to_vec();
        for col in 0..n {
            for row in col + 1..n {
                let f = a[row][col] / a[col][col];
                for c in col..n {
                    a[row][c] -= f * a[col][c];
                }
                b[row] -= f * b[col];
            }
        }
        let mut x = vec![0.0; n];
        for row in (0..n).rev() {
            let s: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
            x[row] = (b[row] - s) / a[row][row];
        }
        x
    }

    #[test]
    fn horizon_is_eighteen_samples() {
        // ⌈ln 1e-10 / ln(2 − √3)⌉ = ⌈17.48⌉ = 18.
        let horizon = (DECOMPOSITION_TOLERANCE.ln() / spline_pole().abs().ln()).ceil();
        assert_eq!(horizon, 18.0);
    }

    #[test]
    fn decomposition_of_two_samples_by_hand() {
        // n = 2 (full loop, no interior term): gain 6 (up to rounding), c⁺[0] = (6a + 6bz)/(1 − z²),
        // c⁺[1] = 6b + z·c⁺[0], c[1] = z/(z² − 1)·(z·c⁺[0] + c⁺[1]), c[0] = z(c[1] − c⁺[0]).
        // The mirror conditions for n = 2 read (4c₀ + 2c₁)/6 = a, (2c₀ + 4c₁)/6 = b, so
        // c₀ = 2a − b, c₁ = 2b − a.
        let (a, b) = (3.0, -5.0);
        let mut line = [a, b];
        bspline_decomposition_1d(&mut line);
        assert!((line[0] - (2.0 * a - b)).abs() < 1e-13, "{line:?}");
        assert!((line[1] - (2.0 * b - a)).abs() < 1e-13, "{line:?}");
    }

    #[test]
    fn decomposition_solves_the_mirror_conditions() {
        // Short lines (≤ 18 samples) use ITK's exact closed form: the coefficients solve the
        // mirror-boundary system to rounding. Longer lines cut the causal sum at 18 samples
        // (tolerance 1e-10), so they solve it to ~1e-10 of the samples' scale.
        let samples: Vec<f64> = (0..40).map(|i| ((i * 37 % 23) as f64 - 11.0) * 7.5 + (i as f64).sin()).collect();
        for (n, tolerance) in [(3, 1e-12), (7, 1e-12), (18, 1e-12), (19, 1e-8), (40, 1e-8)] {
            let mut line = samples[..n].to_vec();
            bspline_decomposition_1d(&mut line);
            let exact = mirror_spline_coefficients(&samples[..n]);
            for (got, want) in line.iter().zip(&exact) {
                assert!((got - want).abs() <= tolerance * 100.0, "n = {n}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn decomposition_of_constant_and_linear_lines() {
        // A constant's coefficients are the constant (the kernel's knot values 1/6, 4/6, 1/6
        // sum to 1): to rounding on lines of up to 18 samples (ITK's exact closed form), to
        // ITK's tolerance on longer ones, whose causal sum stops after 18 samples
        // (|z|¹⁸ ≈ 1.9e-10 of the value).
        for (n, tolerance) in [(2, 1e-13), (5, 1e-13), (18, 1e-13), (30, 1e-8)] {
            let mut line = vec![42.5; n];
            bspline_decomposition_1d(&mut line);
            assert!(line.iter().all(|&c| (c - 42.5).abs() < tolerance), "n = {n}: {line:?}");
        }
        // A ramp: the mirror conditions make the ends bend (c[−1] = c[1]), so its
        // coefficients are the samples only away from the ends, the difference falling as
        // |z|^k = 0.27^k; they solve the mirror system exactly.
        let ramp: Vec<f64> = (0..15).map(|i| 3.0 * i as f64 - 4.0).collect();
        let mut line = ramp.clone();
        bspline_decomposition_1d(&mut line);
        let exact = mirror_spline_coefficients(&ramp);
        for (got, want) in line.iter().zip(&exact) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        let z = spline_pole().abs();
        for k in 1..14usize {
            let from_end = k.min(14 - k) as i32;
            assert!((line[k] - ramp[k]).abs() < 3.0 * z.powi(from_end), "coefficient {k}: {} vs {}", line[k], ramp[k]);
        }
    }

    #[test]
    fn one_sample_line_is_left_alone() {
        let mut line = [7.25];
        bspline_decomposition_1d(&mut line);
        assert_eq!(line, [7.25]);
    }

    #[test]
    fn weights_sum_to_one_and_match_the_cubic_bspline() {
        for w in [0.0, 0.25, 0.5, 0.9, -1e-9] {
            let weights = interpolation_weights(w);
            assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-15);
            let b3 = |t: f64| {
                let t = t.abs();
                if t < 1.0 {
                    2.0 / 3.0 - t * t + t * t * t / 2.0
                } else if t < 2.0 {
                    (2.0 - t).powi(3) / 6.0
                } else {
                    0.0
                }
            };
            for (k, weight) in weights.iter().enumerate() {
                assert!((weight - b3(w + 1.0 - k as f64)).abs() < 1e-15, "w = {w}, k = {k}");
            }
        }
    }

    #[test]
    fn mirror_is_whole_sample_symmetric() {
        assert_eq!([-2, -1, 0, 4, 5, 6].map(|k| mirror(k, 5)), [2, 1, 0, 4, 3, 2]);
        assert_eq!([-1, 0, 3].map(|k| mirror(k, 1)), [0, 0, 0]);
    }

    #[test]
    fn bspline_reproduces_samples_constants_and_ramps() {
        // At the knots the spline gives the samples back; a ramp along x is reproduced
        // between the knots far from the (mirrored) ends of a long line; a constant stays
        // constant. Lines longer than 18 samples carry ITK's truncated causal sum, an error
        // of about 1e-10 of the line's values (here up to 113): hence 1e-8 on the 60-voxel
        // line, rounding only on the short constant lines.
        let grid = Grid::new([60, 5, 4], [1.0; 3]);
        let values: Vec<f64> = (0..grid.len()).map(|i| 2.0 * (i % 60) as f64 - 7.0).collect();
        let image = Volume::from_x_fastest(grid, values);
        let same = resample_image(&image, &grid, ItkInterpolator::BSpline, 0.0).unwrap();
        for (got, want) in same.data.iter().zip(image.data.iter()) {
            assert!((got - want).abs() < 1e-8, "{got} vs {want}");
        }
        let mut target = Grid::new([13, 2, 2], [0.75, 1.0, 1.0]);
        target.origin = [25.3, 1.4, 0.6];
        let out = resample_image(&image, &target, ItkInterpolator::BSpline, 0.0).unwrap();
        for x in 0..13 {
            let want = 2.0 * (25.3 + 0.75 * x as f64) - 7.0;
            assert!((out.data[[x, 0, 0]] - want).abs() < 1e-8, "{x}: {} vs {want}", out.data[[x, 0, 0]]);
        }
        let constant = Volume::from_x_fastest(Grid::new([6, 7, 1], [1.0; 3]), vec![-3.5; 42]);
        let mut target = Grid::new([9, 9, 1], [0.6, 0.7, 1.0]);
        target.origin = [0.1, -0.2, 0.0];
        let out = resample_image(&constant, &target, ItkInterpolator::BSpline, 0.0).unwrap();
        assert!(out.data.iter().all(|&v| (v + 3.5).abs() < 1e-12), "{:?}", out.data);
    }

    #[test]
    fn outside_the_buffer_gets_the_default_value() {
        // 4 voxels of 1 mm: inside is −0.5 ≤ c < 3.5. Targets at c = −0.5, 3.4999, 3.5, −0.51.
        let image = Volume::from_x_fastest(Grid::new([4, 1, 1], [1.0; 3]), vec![1.0, 2.0, 3.0, 4.0]);
        let mut target = Grid::new([2, 1, 1], [4.0, 1.0, 1.0]);
        target.origin = [-0.5, 0.0, 0.0];
        for interpolator in [ItkInterpolator::NearestNeighbor, ItkInterpolator::Linear, ItkInterpolator::BSpline] {
            let out = resample_image(&image, &target, interpolator, -99.0).unwrap();
            assert_ne!(out.data[[0, 0, 0]], -99.0, "{interpolator:?}");
            assert_eq!(out.data[[1, 0, 0]], -99.0, "{interpolator:?}");
        }
        let out = resample_image(&image, &target, ItkInterpolator::NearestNeighbor, 0.0).unwrap();
        assert_eq!(out.data[[0, 0, 0]], 1.0);
        let mask = Volume::from_x_fastest(Grid::new([4, 1, 1], [1.0; 3]), vec![true; 4]);
        assert_eq!(resample_mask(&mask, &target).unwrap().to_x_fastest(), vec![true, false]);
    }

    #[test]
    fn nearest_rounds_halves_up_and_linear_blends() {
        let image = Volume::from_x_fastest(Grid::new([3, 1, 1], [1.0; 3]), vec![10.0, 20.0, 40.0]);
        let mut target = Grid::new([4, 1, 1], [0.5, 1.0, 1.0]);
        target.origin = [0.5, 0.0, 0.0];
        let nearest = resample_image(&image, &target, ItkInterpolator::NearestNeighbor, 0.0).unwrap();
        assert_eq!(nearest.to_x_fastest(), vec![20.0, 20.0, 40.0, 40.0]);
        let linear = resample_image(&image, &target, ItkInterpolator::Linear, 0.0).unwrap();
        assert_eq!(linear.to_x_fastest(), vec![15.0, 20.0, 30.0, 40.0]);
    }

    #[test]
    fn integer_cast_clamps_then_truncates() {
        let (lo, hi) = (f64::from(i16::MIN), f64::from(i16::MAX));
        assert_eq!(cast_to_integer_pixel(-2.7, lo, hi), -2.0);
        assert_eq!(cast_to_integer_pixel(2.7, lo, hi), 2.0);
        assert_eq!(cast_to_integer_pixel(-0.4, lo, hi), 0.0);
        assert_eq!(cast_to_integer_pixel(40000.0, lo, hi), hi);
        assert_eq!(cast_to_integer_pixel(-40000.5, lo, hi), lo);
        assert_eq!(cast_to_integer_pixel(-3.0, 0.0, 255.0), 0.0);
    }

    /// A 150×130×120 image of values from −1000 to 3000 (CT-like, with runs of zeros).
    fn ct_like_image() -> Volume<f64> {
        let mut grid = Grid::new([150, 130, 120], [0.8, 0.7, 1.5]);
        grid.origin = [-60.0, 12.5, 3.0];
        let values: Vec<f64> = (0..grid.len())
            .map(|i| if i % 997 < 40 { 0.0 } else { ((i * 7919) % 4001) as f64 - 1000.0 + 0.25 * (i % 3) as f64 })
            .collect();
        Volume::from_x_fastest(grid, values)
    }

    #[test]
    fn a_region_resamples_as_the_whole_image() {
        // A 150×130×120 image of values from −1000 to 3000 (CT-like, with a run of zeros)
        // resampled onto a small grid inside it: given input_region's part only, every
        // interpolator gives the whole image's values bit for bit (the B-spline's lines are
        // cut BSPLINE_REGION_MARGIN voxels beyond what the target reads on every side).
        let image = ct_like_image();
        let grid = image.grid;
        let mut target = Grid::new([20, 18, 15], [1.0, 1.0, 1.0]);
        target.origin = [-60.0 + 0.8 * 70.3, 12.5 + 0.7 * 55.1, 3.0 + 1.5 * 50.2];
        for interpolator in [ItkInterpolator::BSpline, ItkInterpolator::Linear, ItkInterpolator::NearestNeighbor] {
            let region = input_region(&grid, &target, interpolator).unwrap();
            assert!((0..3).all(|a| region.dims()[a] < grid.dims[a]), "{interpolator:?}: {region:?} is a part");
            let want = resample_image(&image, &target, interpolator, 0.0).unwrap();
            let part = image.crop(&region);
            let got = resample_image_region(&part, region.min, &grid, &target, interpolator, 0.0).unwrap();
            assert_eq!(got.grid, want.grid);
            let differing = got.data.iter().zip(&want.data).filter(|(g, w)| g.to_bits() != w.to_bits()).count();
            assert_eq!(differing, 0, "{interpolator:?}");
        }
        // A target reaching past the image's edge: the region stops at the edge, whose
        // mirror conditions are the image's.
        target.origin = [-61.0, 11.0, 2.0];
        let region = input_region(&grid, &target, ItkInterpolator::BSpline).unwrap();
        assert_eq!(region.min, [0, 0, 0]);
        let want = resample_image(&image, &target, ItkInterpolator::BSpline, 0.0).unwrap();
        let got =
            resample_image_region(&image.crop(&region), region.min, &grid, &target, ItkInterpolator::BSpline, 0.0);
        assert_eq!(got.unwrap(), want);
        let too_big = image.crop(&crate::BoundingBox { min: [10, 0, 0], max: [149, 129, 119] });
        assert!(resample_image_region(&too_big, [20, 0, 0], &grid, &target, ItkInterpolator::Linear, 0.0).is_err());
    }

    #[test]
    fn a_mask_box_resamples_as_the_whole_mask() {
        // A mask set inside a box, resampled onto grids that downsample by 2 (positions on
        // exact half-integers, where ITK rounds up) and upsample, with an origin shift.
        let mut grid = Grid::new([12, 10, 6], [0.5, 0.7, 2.0]);
        grid.origin = [-3.0, 4.25, 10.0];
        let bbox = crate::BoundingBox { min: [3, 2, 1], max: [8, 6, 4] };
        let mut whole = Volume::from_x_fastest(grid, vec![false; grid.len()]);
        for z in 1..=4 {
            for y in 2..=6 {
                for x in 3..=8 {
                    whole.data[[x, y, z]] = (x * 3 + y * 5 + z) % 4 != 0;
                }
            }
        }
        let inside = whole.crop(&bbox).data;
        for (spacing, origin) in [([1.0, 1.4, 4.0], [-2.75, 4.6, 11.0]), ([0.25, 0.35, 1.0], [-3.2, 4.0, 9.5])] {
            let mut target = Grid::new([14, 11, 7], spacing);
            target.origin = origin;
            let want = resample_mask(&whole, &target).unwrap();
            let got = resample_mask_in_box(&grid, &bbox, &inside, &target).unwrap();
            assert_eq!(got, want, "spacing {spacing:?}");
            assert!(got.data.iter().any(|&v| v), "the target meets the mask");
        }
        assert!(resample_mask_in_box(&grid, &bbox, &Array3::from_elem((2, 2, 2), true), &grid).is_err());
    }

    /// [`BSplineSlices`] given `image`'s `region` slice by slice.
    fn resampled_by_slices(
        image: &Volume<f64>,
        region: &crate::BoundingBox,
        target: &Grid,
        default_value: f64,
    ) -> Result<Volume<f64>, CoreError> {
        let mut slices = BSplineSlices::new(&image.grid, target, region)?;
        let part = x_fastest(&image.crop(region).data).into_owned();
        let [rx, ry, _] = region.dims();
        for slice in part.chunks(rx * ry) {
            slices.push_slice(slice)?;
        }
        slices.resample(default_value)
    }

    #[test]
    fn slices_resample_as_the_region() {
        // The 150×130×120 CT-like image of a_region_resamples_as_the_whole_image: its
        // B-spline region given a slice at a time gives resample_image_region's bits, for a
        // target inside the image and one reaching past its corner.
        let image = ct_like_image();
        let grid = image.grid;
        let mut target = Grid::new([20, 18, 15], [1.0, 1.0, 1.0]);
        for origin in [[-60.0 + 0.8 * 70.3, 12.5 + 0.7 * 55.1, 3.0 + 1.5 * 50.2], [-61.0, 11.0, 2.0]] {
            target.origin = origin;
            let region = input_region(&grid, &target, ItkInterpolator::BSpline).unwrap();
            let want =
                resample_image_region(&image.crop(&region), region.min, &grid, &target, ItkInterpolator::BSpline, 0.0)
                    .unwrap();
            let got = resampled_by_slices(&image, &region, &target, 0.0).unwrap();
            assert_eq!(got.grid, want.grid);
            let differing = got.data.iter().zip(&want.data).filter(|(g, w)| g.to_bits() != w.to_bits()).count();
            assert_eq!(differing, 0, "origin {origin:?}");
        }
    }

    #[test]
    fn slices_refuse_a_wrong_slice_a_missing_one_and_a_region_outside() {
        let grid = Grid::new([6, 5, 4], [1.0; 3]);
        let target = Grid::new([3, 3, 3], [1.5; 3]);
        let region = crate::BoundingBox { min: [0, 1, 0], max: [5, 4, 3] };
        let mut slices = BSplineSlices::new(&grid, &target, &region).unwrap();
        assert!(slices.push_slice(&[1.0; 30]).is_err(), "a slice of 24 voxels, not 30");
        for _ in 0..3 {
            slices.push_slice(&[1.0; 24]).unwrap();
        }
        assert!(slices.resample(0.0).is_err(), "3 of 4 slices");
        let mut full = BSplineSlices::new(&grid, &target, &region).unwrap();
        for _ in 0..4 {
            full.push_slice(&[1.0; 24]).unwrap();
        }
        assert!(full.push_slice(&[1.0; 24]).is_err(), "a fifth slice");
        let outside = crate::BoundingBox { min: [0, 1, 0], max: [6, 4, 3] };
        assert!(BSplineSlices::new(&grid, &target, &outside).is_err());
    }

    /// Coefficient (x, y, z) of the box (box indices).
    fn coefficient(c: &BSplineCoefficients, [x, y, z]: [usize; 3]) -> f64 {
        let [bx, _, bz] = c.kept();
        c.values[x + bx * (z + bz * y)]
    }

    #[test]
    fn lanes_decompose_as_lines_one_by_one() {
        // Lines of 1, 2, 5, 18 (ITK's closed form) and 19, 40 (the horizon) samples, 1 to 9
        // of them side by side: each lane's bits are its line's decomposed alone.
        for n in [1, 2, 5, 18, 19, 40] {
            for lanes in [1, 3, 8, 9] {
                let lines: Vec<Vec<f64>> = (0..lanes)
                    .map(|l| (0..n).map(|k| ((k * 31 + l * 17) % 29) as f64 * 1.5 - 20.0 + (k as f64).cos()).collect())
                    .collect();
                let mut data: Vec<f64> = (0..n * lanes).map(|i| lines[i % lanes][i / lanes]).collect();
                decompose_lanes(&mut data, lanes);
                for (l, line) in lines.iter().enumerate() {
                    let mut alone = line.clone();
                    bspline_decomposition_1d(&mut alone);
                    let lane: Vec<u64> = (0..n).map(|k| data[k * lanes + l].to_bits()).collect();
                    assert_eq!(lane, alone.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "n {n}, lanes {lanes}");
                }
            }
        }
    }

    #[test]
    fn coefficients_are_the_lines_decomposed_x_then_y_then_z() {
        // Decompose every x line, then every y line, then every z line of a 21×9×19 image
        // (lines above and below ITK's 18-sample horizon, more x lines than a block of
        // X_LANES), one line at a time: the passes' kept box holds those bits.
        let dims = [21, 9, 19];
        let mut image: Vec<f64> = (0..21 * 9 * 19).map(|i| ((i * 7919) % 1013) as f64 * 0.37 - 150.0).collect();
        let at = |[x, y, z]: [usize; 3]| x + 21 * (y + 9 * z);
        let input = Input { values: &image.clone(), dims, offset: [0; 3], whole: dims };
        let part = BSplineCoefficients::new(&input, [[3, 17], [2, 8], [0, 11]]);
        for a in 0..3 {
            let (u, v) = ([1, 0, 0][a], [2, 2, 1][a]);
            for i in 0..dims[u] {
                for j in 0..dims[v] {
                    let voxel = |k: usize| {
                        let mut p = [0; 3];
                        (p[a], p[u], p[v]) = (k, i, j);
                        at(p)
                    };
                    let mut line: Vec<f64> = (0..dims[a]).map(|k| image[voxel(k)]).collect();
                    bspline_decomposition_1d(&mut line);
                    for (k, value) in line.into_iter().enumerate() {
                        image[voxel(k)] = value;
                    }
                }
            }
        }
        for z in 0..=11 {
            for y in 2..=8 {
                for x in 3..=17 {
                    let got = coefficient(&part, [x - 3, y - 2, z]);
                    assert_eq!(got.to_bits(), image[at([x, y, z])].to_bits(), "({x}, {y}, {z})");
                }
            }
        }
    }

    #[test]
    fn axis_aligned_lines_share_their_x_indices() {
        // A target on a grid with a flipped axis and an origin off the input's: every scan
        // line's x start and vector are the first line's, and y and z do not move along it.
        let mut input = Grid::new([30, 20, 10], [0.7, 0.9, 2.5]);
        input.origin = [-11.3, 4.2, 7.9];
        let mut target = Grid::new([17, 12, 9], [1.0, 1.3, 1.7]);
        target.origin = [-3.1, 6.6, 30.0];
        target.direction = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]];
        let map = ContinuousIndexMap::new(&target, &input).unwrap();
        let first = map.scanline(17, 0, 0);
        assert!((0..12).all(|y| (0..9).all(|z| shares_x_indices(first, map.scanline(17, y, z)))));
        // An oblique target moves y along x.
        let turn = 0.3f64;
        target.direction = [[turn.cos(), -turn.sin(), 0.0], [turn.sin(), turn.cos(), 0.0], [0.0, 0.0, 1.0]];
        let map = ContinuousIndexMap::new(&target, &input).unwrap();
        assert!(!shares_x_indices(map.scanline(17, 0, 0), map.scanline(17, 0, 0)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The shared x supports give the bits of ITK's voxel-by-voxel evaluation, on random
        /// grids (partly outside the image, flipped axes, any spacing) and oblique ones.
        #[test]
        fn shared_x_supports_evaluate_as_each_voxel(
            dims in proptest::array::uniform3(1usize..14),
            spacing in proptest::array::uniform3(0.3f64..3.0),
            target_dims in proptest::array::uniform3(1usize..12),
            target_spacing in proptest::array::uniform3(0.2f64..2.5),
            origin in proptest::array::uniform3(-6.0f64..6.0),
            flips in proptest::array::uniform3(proptest::bool::ANY),
            turn in proptest::option::of(-0.5f64..0.5),
            seed in 0usize..1000,
        ) {
            let grid = Grid::new(dims, spacing);
            let values: Vec<f64> = (0..grid.len()).map(|i| ((i * 7919 + seed) % 2003) as f64 - 1000.5).collect();
            let image = Volume::from_x_fastest(grid, values);
            let mut target = Grid::new(target_dims, target_spacing);
            target.origin = origin;
            for (a, &flip) in flips.iter().enumerate() {
                target.direction[a][a] = if flip { -1.0 } else { 1.0 };
            }
            if let Some(t) = turn {
                target.direction[0] = [t.cos(), -t.sin(), 0.0];
                target.direction[1] = [t.sin(), t.cos(), 0.0];
            }
            let got = resample_image(&image, &target, ItkInterpolator::BSpline, -7.0).unwrap();
            let values = x_fastest(&image.data);
            let input = Input { values: &values, dims, offset: [0; 3], whole: dims };
            let map = ContinuousIndexMap::new(&target, &grid).unwrap();
            let coefficients = BSplineCoefficients::new(&input, map.input_box(target.dims, dims));
            let want = sample(&target, &map, dims, |index| coefficients.evaluate(index), -7.0);
            let differing = got.data.iter().zip(&want).filter(|(g, w)| g.to_bits() != w.to_bits()).count();
            proptest::prop_assert_eq!(differing, 0);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any region of a random image (lines shorter and longer than ITK's 18-sample
        /// horizon, slices of fewer and more lines than X_LANES) given slice by slice
        /// resamples to resample_image_region's bits, on grids partly outside the image.
        #[test]
        fn slices_resample_as_the_region_on_random_grids(
            dims in proptest::array::uniform3(1usize..26),
            corners in proptest::array::uniform3((0.0f64..1.0, 0.0f64..1.0)),
            target_dims in proptest::array::uniform3(1usize..10),
            target_spacing in proptest::array::uniform3(0.3f64..2.5),
            origin in proptest::array::uniform3(-4.0f64..20.0),
            seed in 0usize..1000,
        ) {
            let grid = Grid::new(dims, [0.9, 1.1, 2.0]);
            let values: Vec<f64> = (0..grid.len()).map(|i| ((i * 7919 + seed) % 2003) as f64 - 1000.5).collect();
            let image = Volume::from_x_fastest(grid, values);
            let ends: [[usize; 2]; 3] = std::array::from_fn(|a| {
                let [p, q] = [corners[a].0, corners[a].1].map(|t| (t * dims[a] as f64) as usize % dims[a]);
                [p.min(q), p.max(q)]
            });
            let region = crate::BoundingBox { min: ends.map(|e| e[0]), max: ends.map(|e| e[1]) };
            let mut target = Grid::new(target_dims, target_spacing);
            target.origin = origin;
            let part = image.crop(&region);
            let want = resample_image_region(&part, region.min, &grid, &target, ItkInterpolator::BSpline, -7.0).unwrap();
            let got = resampled_by_slices(&image, &region, &target, -7.0).unwrap();
            let bits = |v: &Volume<f64>| v.data.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            proptest::prop_assert_eq!(bits(&got), bits(&want));
        }
    }

    #[test]
    fn a_coefficient_box_gives_the_whole_image_result() {
        // The coefficients kept for a box equal those of the whole image (same lines).
        let dims = [9, 8, 7];
        let values: Vec<f64> = (0..9 * 8 * 7).map(|i| ((i * 53) % 97) as f64 - 40.0).collect();
        let input = Input { values: &values, dims, offset: [0; 3], whole: dims };
        let whole = BSplineCoefficients::new(&input, [[0, 8], [0, 7], [0, 6]]);
        let part = BSplineCoefficients::new(&input, [[2, 6], [1, 4], [3, 6]]);
        for z in 3..=6 {
            for y in 1..=4 {
                for x in 2..=6 {
                    let a = coefficient(&whole, [x, y, z]);
                    let b = coefficient(&part, [x - 2, y - 1, z - 3]);
                    assert_eq!(a.to_bits(), b.to_bits());
                }
            }
        }
    }
}
