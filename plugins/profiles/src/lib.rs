//! Example radx plugin (Rust, no `unsafe`) for ABI 2.2: a feature with a parameter and a
//! feature whose result is a profile.
//!
//! - `percentile` (parameter `p`, 0 to 100, default 50): the `p`-th percentile of the
//!   intensities in the intensity mask, interpolated linearly between the two nearest ranks
//!   (numpy's default, `np.percentile(v, p)`): with the n values sorted, rank
//!   h = (n − 1)·p/100 gives v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋]). Its rows are named
//!   `percentile(p=90)`.
//! - `slice_mean` (parameter `axis`, 0 = x, 1 = y, 2 = z, default 2): the mean intensity of
//!   the intensity-mask voxels in each slice across `axis` of the ROI's box, one row per
//!   slice: `slice_mean(axis=2)[i]` is slice i of the box (slice `box_offset[axis] + i` of
//!   the processed image); NaN for a slice with no intensity-mask voxel.
//!
//! Not IBSI features: site tags `RADX-PR01` and `RADX-PR02`.

use radx_plugin::{Args, Input, export_plugin, voxel_index};

/// Why a feature of this plugin cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileError {
    /// The intensity mask has no voxel.
    NoIntensities,
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProfileError::NoIntensities => write!(f, "the intensity mask is empty"),
        }
    }
}

impl std::error::Error for ProfileError {}

/// The `p`-th percentile (0–100) of `values`, numpy's linear interpolation.
pub fn percentile_of(values: &[f64], p: f64) -> Result<f64, ProfileError> {
    if values.is_empty() {
        return Err(ProfileError::NoIntensities);
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let h = (sorted.len() - 1) as f64 * p / 100.0;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    Ok(sorted[below] + (h - below as f64) * (sorted[above] - sorted[below]))
}

/// Mean of the masked voxels of each slice across `axis` (0 x, 1 y, 2 z) of an x-fastest
/// volume of `dims`; NaN where a slice has none.
pub fn slice_means(image: &[f64], mask: &[u8], dims: [usize; 3], axis: usize) -> Vec<f64> {
    let mut sums = vec![0.0; dims[axis]];
    let mut counts = vec![0usize; dims[axis]];
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                let i = voxel_index(dims, x, y, z);
                if mask[i] != 0 {
                    let slice = [x, y, z][axis];
                    sums[slice] += image[i];
                    counts[slice] += 1;
                }
            }
        }
    }
    sums.iter().zip(&counts).map(|(&s, &n)| if n == 0 { f64::NAN } else { s / n as f64 }).collect()
}

fn percentile(input: &Input, args: &Args) -> Result<f64, ProfileError> {
    percentile_of(input.intensities(), args.float("p"))
}

fn slice_mean(input: &Input, args: &Args) -> Result<Vec<f64>, ProfileError> {
    let mask = input.intensity_mask();
    if mask.count() == 0 {
        return Err(ProfileError::NoIntensities);
    }
    // radx checked the range (0 to 2) before the run.
    Ok(slice_means(input.image(), mask.data, input.dims(), args.int("axis") as usize))
}

export_plugin! {
    name: "profiles",
    version: "0.1.0",
    features: [
        {
            name: "percentile",
            tag: "RADX-PR01",
            description: "The p-th percentile of the ROI's intensities (linear interpolation, as numpy's)",
            params: [ p: float = 50.0 in 0.0..=100.0 ],
            compute_with: percentile,
        },
        {
            name: "slice_mean",
            tag: "RADX-PR02",
            description: "Mean intensity of each slice of the ROI's box across `axis` (0 x, 1 y, 2 z)",
            params: [ axis: int = 2 in 0..=2 ],
            profile: slice_mean,
        },
    ],
    sources: [],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks_as_numpy_does() {
        // np.percentile([1, 2, 3, 4], [0, 50, 90, 100]) = [1, 2.5, 3.7, 4].
        let v = [4.0, 1.0, 3.0, 2.0];
        for (p, want) in [(0.0, 1.0), (50.0, 2.5), (90.0, 3.7), (100.0, 4.0)] {
            assert!((percentile_of(&v, p).unwrap() - want).abs() < 1e-12, "p = {p}");
        }
        assert_eq!(percentile_of(&[], 50.0), Err(ProfileError::NoIntensities));
    }

    #[test]
    fn slice_means_follow_the_axis() {
        // dims (2, 1, 2): values 1 2 / 3 4 (z = 0 / z = 1); the voxel 4 is outside.
        let image = [1.0, 2.0, 3.0, 4.0];
        let mask = [1, 1, 1, 0];
        assert_eq!(slice_means(&image, &mask, [2, 1, 2], 2), vec![1.5, 3.0]);
        assert_eq!(slice_means(&image, &mask, [2, 1, 2], 0), vec![2.0, 2.0]);
        assert!(slice_means(&image, &[0, 0, 1, 1], [2, 1, 2], 2)[0].is_nan());
    }
}
