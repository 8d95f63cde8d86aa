//! Example radx plugin (Rust, no `unsafe`): intensity statistics in the peritumoral ring,
//! the voxels outside the ROI whose centres lie within [`RING_MM`] of an ROI voxel's centre
//! (0 < distance ≤ 5 mm, Euclidean, in mm on the processed grid).
//!
//! It shows the margin region of ABI 2.1: each feature declares `margin_mm: RING_MM`, and
//! radx passes the processed image and masks around the ROI's box grown by 5 mm
//! ([`Input::margin`]). The ring is clipped where the image ends, as the image is; if radx
//! kept less than 5 mm where the image goes on (PyRadiomics' `preCrop`), the feature is an
//! error rather than a smaller ring.
//!
//! Distances are exact: the nearest ROI voxel to a voxel outside the ROI always has a face
//! neighbour outside the ROI (else the neighbour towards the voxel would be nearer), so a
//! ball of radius 5 mm around each such boundary voxel reaches every ring voxel. Not IBSI
//! features (IBSI 1 has no peritumoral region): site tags `RADX-PT01` to `RADX-PT03`.
//!
//! It also shows a *source* with a margin (ABI 2.3): `ring_profile` declares
//! `margin_mm: RING_MM` too, and its matrix counts the ring's voxels per slice along an
//! axis (parameter `axis`, 0–2; default 2, z), indexed by the slices' positions in the
//! processed image. `ring.radx` beside this crate measures it.

use radx_plugin::{Input, Matrix, Region, export_plugin};

/// The ring's outer radius in mm.
pub const RING_MM: f64 = 5.0;

/// Why the ring's statistics cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum RingError {
    /// radx passed no margin region (a radx older than ABI 2.1, or a run without one,
    /// such as a feature map's windows).
    NoMargin,
    /// The region stops short of the ring along `axis` where the image goes on.
    Truncated { axis: usize, needed: [usize; 2], got: [usize; 2] },
    /// No voxel lies in the ring (the ROI fills the image).
    EmptyRing,
}

impl std::fmt::Display for RingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RingError::NoMargin => {
                write!(f, "radx passed no margin region (radx 2.1 or later passes it to features declaring margin_mm)")
            }
            RingError::Truncated { axis, needed, got } => write!(
                f,
                "radx kept voxels {}..{} of the image along axis {axis}, but the {RING_MM} mm ring needs {}..{} \
                 (PyRadiomics' preCrop keeps only padDistance voxels: turn it off to use this plugin)",
                got[0], got[1], needed[0], needed[1]
            ),
            RingError::EmptyRing => write!(f, "no voxel of the image lies within {RING_MM} mm outside the ROI"),
        }
    }
}

impl std::error::Error for RingError {}

/// Whole voxels of `spacing` within `mm`.
fn reach(mm: f64, spacing: [f64; 3]) -> [usize; 3] {
    spacing.map(|s| (mm / s).ceil() as usize)
}

/// Check that `region` holds everything within `RING_MM` of the ROI's box where the image
/// has it: the box starts at `box_offset` and spans `box_dims` in an image of `image_dims`.
fn check_covers(
    region: &Region,
    box_offset: [usize; 3],
    box_dims: [usize; 3],
    image_dims: [usize; 3],
) -> Result<(), RingError> {
    let need = reach(RING_MM, region.spacing);
    for axis in 0..3 {
        let needed = [
            box_offset[axis].saturating_sub(need[axis]),
            (box_offset[axis] + box_dims[axis] + need[axis]).min(image_dims[axis]),
        ];
        let got = [region.offset[axis], region.offset[axis] + region.dims[axis]];
        if got[0] > needed[0] || got[1] < needed[1] {
            return Err(RingError::Truncated { axis, needed, got });
        }
    }
    Ok(())
}

/// Squared distance (mm²) of each region voxel to the nearest ROI voxel, when at most
/// `RING_MM`² and the voxel is outside the ROI; `None` elsewhere.
pub fn ring_distances(mask: &[u8], dims: [usize; 3], spacing: [f64; 3]) -> Vec<Option<f64>> {
    let [nx, ny, nz] = dims;
    let at = |x: usize, y: usize, z: usize| x + nx * (y + ny * z);
    let inside = |x: isize, y: isize, z: isize| {
        (0..nx as isize).contains(&x)
            && (0..ny as isize).contains(&y)
            && (0..nz as isize).contains(&z)
            && mask[at(x as usize, y as usize, z as usize)] != 0
    };
    let need = reach(RING_MM, spacing).map(|n| n as isize);
    let mut d2: Vec<Option<f64>> = vec![None; mask.len()];
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let (xi, yi, zi) = (x as isize, y as isize, z as isize);
                let faces = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)];
                if mask[at(x, y, z)] == 0 || faces.iter().all(|&(dx, dy, dz)| inside(xi + dx, yi + dy, zi + dz)) {
                    continue;
                }
                stamp_ball(&mut d2, mask, dims, spacing, [xi, yi, zi], need);
            }
        }
    }
    d2
}

/// Lower `d2` to the squared distance from `centre` for every voxel outside the ROI within
/// `RING_MM` of it.
fn stamp_ball(
    d2: &mut [Option<f64>],
    mask: &[u8],
    dims: [usize; 3],
    spacing: [f64; 3],
    centre: [isize; 3],
    need: [isize; 3],
) {
    let [nx, ny, nz] = dims.map(|n| n as isize);
    for dz in -need[2]..=need[2] {
        for dy in -need[1]..=need[1] {
            for dx in -need[0]..=need[0] {
                let (x, y, z) = (centre[0] + dx, centre[1] + dy, centre[2] + dz);
                if x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz {
                    continue;
                }
                let i = (x + nx * (y + ny * z)) as usize;
                let (ex, ey, ez) = (dx as f64 * spacing[0], dy as f64 * spacing[1], dz as f64 * spacing[2]);
                let d = ex * ex + ey * ey + ez * ez;
                if mask[i] == 0 && d <= RING_MM * RING_MM && d2[i].is_none_or(|old| d < old) {
                    d2[i] = Some(d);
                }
            }
        }
    }
}

/// The intensities of the ring's voxels, in x-fastest order of the region.
pub fn ring_intensities(input: &Input) -> Result<Vec<f64>, RingError> {
    let region = input.margin().ok_or(RingError::NoMargin)?;
    let g = input.geometry();
    check_covers(&region, g.box_offset, input.dims(), g.image_dims)?;
    let d2 = ring_distances(region.morphological_mask.data, region.dims, region.spacing);
    let values: Vec<f64> = d2.iter().zip(region.image).filter(|(d, _)| d.is_some()).map(|(_, &v)| v).collect();
    if values.is_empty() {
        return Err(RingError::EmptyRing);
    }
    Ok(values)
}

/// The ring's voxels as positions `[x, y, z]` in the processed image, and the region
/// they were found in.
pub fn ring_positions<'a>(input: &Input<'a>) -> Result<(Region<'a>, Vec<[usize; 3]>), RingError> {
    let region = input.margin().ok_or(RingError::NoMargin)?;
    let g = input.geometry();
    check_covers(&region, g.box_offset, input.dims(), g.image_dims)?;
    let d2 = ring_distances(region.morphological_mask.data, region.dims, region.spacing);
    let [nx, ny, _] = region.dims;
    let o = region.offset;
    let at = |i: usize| [o[0] + i % nx, o[1] + (i / nx) % ny, o[2] + i / (nx * ny)];
    let positions: Vec<[usize; 3]> = (0..d2.len()).filter(|&i| d2[i].is_some()).map(at).collect();
    if positions.is_empty() {
        return Err(RingError::EmptyRing);
    }
    Ok((region, positions))
}

/// Why the `ring_profile` source cannot build its matrix.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileError {
    /// The ring itself (see [`RingError`]).
    Ring(RingError),
    /// The parameters are not `{"axis": 0|1|2}` (radx fills in the default).
    Params(String),
    /// The SDK refused the matrix (a defect here).
    Matrix(String),
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProfileError::Ring(e) => e.fmt(f),
            ProfileError::Params(json) => {
                write!(f, "ring_profile: parameters {json}: expected {{\"axis\": 0, 1 or 2}}")
            }
            ProfileError::Matrix(e) => write!(f, "ring_profile: {e}"),
        }
    }
}

impl std::error::Error for ProfileError {}

/// The `axis` of `{"axis": N}` (the one parameter radx passes, defaults filled in).
fn axis_param(params_json: &str) -> Result<usize, ProfileError> {
    let refused = || ProfileError::Params(params_json.to_string());
    let body = params_json.trim().strip_prefix('{').and_then(|b| b.strip_suffix('}')).ok_or_else(refused)?;
    let (key, value) = body.split_once(':').ok_or_else(refused)?;
    if key.trim() != "\"axis\"" {
        return Err(refused());
    }
    value.trim().parse::<usize>().ok().filter(|&a| a < 3).ok_or_else(refused)
}

/// Source `ring_profile`: the number of ring voxels in each slice of the margin region
/// across `axis`; axis values are the slices' indices in the processed image.
fn ring_profile(input: &Input, params_json: &str) -> Result<Matrix, ProfileError> {
    let axis = axis_param(params_json)?;
    let (region, positions) = ring_positions(input).map_err(ProfileError::Ring)?;
    let (first, n) = (region.offset[axis], region.dims[axis]);
    let mut counts = vec![0.0; n];
    for p in positions {
        counts[p[axis] - first] += 1.0;
    }
    let slices = (first..first + n).map(|i| i as f64).collect();
    Matrix::new(vec![n], counts).and_then(|m| m.with_axis_values(0, slices)).map_err(ProfileError::Matrix)
}

fn ring_mean(input: &Input) -> Result<f64, RingError> {
    let v = ring_intensities(input)?;
    Ok(v.iter().sum::<f64>() / v.len() as f64)
}

/// The population standard deviation (divided by n, as IBSI's intensity variance).
fn ring_std(input: &Input) -> Result<f64, RingError> {
    let v = ring_intensities(input)?;
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Ok((v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64).sqrt())
}

fn ring_voxels(input: &Input) -> Result<f64, RingError> {
    Ok(ring_intensities(input)?.len() as f64)
}

export_plugin! {
    name: "peritumoral",
    version: "0.1.0",
    features: [
        {
            name: "ring_mean_5mm",
            tag: "RADX-PT01",
            description: "Mean intensity of the voxels within 5 mm outside the ROI",
            margin_mm: RING_MM,
            compute: ring_mean,
        },
        {
            name: "ring_std_5mm",
            tag: "RADX-PT02",
            description: "Standard deviation (population) of the intensities within 5 mm outside the ROI",
            margin_mm: RING_MM,
            compute: ring_std,
        },
        {
            name: "ring_voxels_5mm",
            tag: "RADX-PT03",
            description: "Number of voxels within 5 mm outside the ROI",
            margin_mm: RING_MM,
            compute: ring_voxels,
        },
    ],
    sources: [
        {
            name: "ring_profile",
            description: "Voxels within 5 mm outside the ROI per slice across `axis` (0 x, 1 y, 2 z); \
                          axis 0: the slice's index in the processed image",
            axes: 1,
            params: r#"{"axis": 2}"#,
            margin_mm: RING_MM,
            build: ring_profile,
        },
    ],
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One ROI voxel in the middle of a 1 mm grid: the ring is the voxels at 0 < d ≤ 5 mm,
    /// counted by hand as the integer points of a ball of radius 5 less the centre.
    #[test]
    fn one_voxel_roi_has_the_ball_of_lattice_points_as_ring() {
        let n = 13;
        let mut mask = vec![0u8; n * n * n];
        mask[6 + n * (6 + n * 6)] = 1;
        let d2 = ring_distances(&mask, [n; 3], [1.0; 3]);
        // Lattice points with x² + y² + z² ≤ 25: 515 (OEIS A000605 at 5), less the centre.
        assert_eq!(d2.iter().filter(|d| d.is_some()).count(), 514);
        assert_eq!(d2[11 + n * (6 + n * 6)], Some(25.0));
        assert_eq!(d2[6 + n * (6 + n * 6)], None);
    }

    #[test]
    fn the_profile_takes_one_axis_parameter() {
        assert_eq!(axis_param(r#"{"axis":0}"#), Ok(0));
        assert_eq!(axis_param(r#"{ "axis" : 2 }"#), Ok(2));
        for bad in [r#"{"axis":3}"#, r#"{"axis":-1}"#, r#"{"radius":1}"#, "{}", r#"{"axis":1.5}"#] {
            assert!(axis_param(bad).is_err(), "{bad}");
        }
    }

    /// Anisotropic voxels: along z (6 mm) nothing is within 5 mm, along x (2 mm) two voxels.
    #[test]
    fn spacing_is_in_mm() {
        let dims = [7, 1, 3];
        let at = |x: usize, z: usize| x + 7 * z;
        let mut mask = vec![0u8; 21];
        mask[at(3, 1)] = 1;
        let d2 = ring_distances(&mask, dims, [2.0, 1.0, 6.0]);
        let ring: Vec<usize> = (0..21).filter(|&i| d2[i].is_some()).collect();
        assert_eq!(ring, vec![at(1, 1), at(2, 1), at(4, 1), at(5, 1)]);
    }
}
