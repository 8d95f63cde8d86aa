//! radx example filter plugin: a site's own 3-D kernel filter, the Sobel gradient
//! magnitude, exported with `export_filters!` (ABI 2.2) and selected in settings files as
//!
//! ```toml
//! [[filter]]
//! kind = "plugin"
//! name = "sobel_magnitude"
//! params = { use_spacing = false }   # optional; default true
//! ```
//!
//! Along each axis a, the derivative is the 3×3×3 Sobel kernel: the central difference
//! `I[a+1] − I[a−1]` along a, smoothed by `[1, 2, 1]` along the two other axes, divided by
//! 32 (2 for the difference, 16 for the smoothing weights) and, with `use_spacing`, by the
//! spacing along a (intensity per mm). The response is `sqrt(gx² + gy² + gz²)`. Past the
//! image's edges it reads the image mirrored, the edge voxel repeated (IBSI-2 `mirror`,
//! numpy's `symmetric`), so it declares that boundary and a margin of one voxel.
//!
//! No `unsafe`: the SDK's safe [`FilterImage`] view and the caught panics do the boundary.
#![forbid(unsafe_code)]

use radx_plugin::{Boundary, FilterImage, export_filters, export_plugin, voxel_index};

/// Where each position along an axis of `len` voxels reads its neighbours −1, 0, +1.
fn neighbours(len: usize) -> Vec<[usize; 3]> {
    let at = |n: isize| Boundary::Mirror.index(n, len).expect("mirror reads inside a non-empty axis");
    (0..len as isize).map(|i| [at(i - 1), at(i), at(i + 1)]).collect()
}

/// Whether to divide by the spacing (the `use_spacing` parameter; radx always passes it).
fn use_spacing(params: &str) -> Result<bool, String> {
    let value: serde_json::Value =
        serde_json::from_str(params).map_err(|e| format!("sobel parameters are not JSON ({e}): {params}"))?;
    value
        .get("use_spacing")
        .and_then(serde_json::Value::as_bool)
        .ok_or_else(|| format!("sobel parameters lack the flag `use_spacing`: {params}"))
}

/// The three Sobel derivatives at one voxel, per voxel (before the spacing).
fn derivatives(image: &FilterImage, nb: [&[usize; 3]; 3]) -> [f64; 3] {
    const SMOOTH: [f64; 3] = [1.0, 2.0, 1.0];
    const DIFF: [f64; 3] = [-1.0, 0.0, 1.0];
    let mut g = [0.0; 3];
    for (c, &z) in nb[2].iter().enumerate() {
        for (b, &y) in nb[1].iter().enumerate() {
            for (a, &x) in nb[0].iter().enumerate() {
                let v = image.data[voxel_index(image.dims, x, y, z)];
                g[0] += DIFF[a] * SMOOTH[b] * SMOOTH[c] * v;
                g[1] += SMOOTH[a] * DIFF[b] * SMOOTH[c] * v;
                g[2] += SMOOTH[a] * SMOOTH[b] * DIFF[c] * v;
            }
        }
    }
    g
}

/// The Sobel gradient magnitude of `image` into `out`.
pub fn sobel_magnitude(image: &FilterImage, out: &mut [f64]) -> Result<(), String> {
    let scale: [f64; 3] = if use_spacing(image.params_json)? { image.spacing.map(|s| 32.0 * s) } else { [32.0; 3] };
    let [nx, ny, nz] = image.dims;
    let (xs, ys, zs) = (neighbours(nx), neighbours(ny), neighbours(nz));
    for (z, zn) in zs.iter().enumerate() {
        for (y, yn) in ys.iter().enumerate() {
            for (x, xn) in xs.iter().enumerate() {
                let g = derivatives(image, [xn, yn, zn]);
                let squares: f64 = (0..3).map(|a| (g[a] / scale[a]).powi(2)).sum();
                out[voxel_index(image.dims, x, y, z)] = squares.sqrt();
            }
        }
    }
    Ok(())
}

export_plugin! {
    name: "sobel",
    version: "0.1.0",
    features: [],
    sources: [],
}

export_filters! {
    filters: [
        {
            name: "sobel_magnitude",
            description: "3-D Sobel gradient magnitude (intensity per mm with use_spacing), mirror boundary",
            boundary: "mirror",
            margin_voxels: [1, 1, 1],
            params: r#"{"use_spacing": true}"#,
            apply: sobel_magnitude,
        },
    ],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(dims: [usize; 3], spacing: [f64; 3], data: &[f64], params: &'static str) -> Vec<f64> {
        let input = FilterImage { data, dims, spacing, params_json: params };
        let mut out = vec![f64::NAN; data.len()];
        sobel_magnitude(&input, &mut out).unwrap();
        out
    }

    #[test]
    fn a_ramp_has_its_slope_inside_and_half_at_the_mirrored_edges() {
        // I = 3x on 4×3×3 voxels of 2 mm along x: inside, (I[x+1] − I[x−1]) · 16 / 32 / 2 mm
        // = 6 · 16 / 64 = 1.5 per mm; at x = 0 the mirror reads I[−1] = I[0]: half of it.
        let dims = [4, 3, 3];
        let data: Vec<f64> = (0..36).map(|i| 3.0 * (i % 4) as f64).collect();
        let out = image(dims, [2.0, 1.0, 1.0], &data, r#"{"use_spacing": true}"#);
        assert_eq!(out[voxel_index(dims, 1, 1, 1)], 1.5);
        assert_eq!(out[voxel_index(dims, 0, 2, 0)], 0.75);
        let per_voxel = image(dims, [2.0, 1.0, 1.0], &data, r#"{"use_spacing": false}"#);
        assert_eq!(per_voxel[voxel_index(dims, 2, 0, 2)], 3.0);
    }

    #[test]
    fn a_missing_parameter_is_an_error() {
        let input = FilterImage { data: &[1.0], dims: [1, 1, 1], spacing: [1.0; 3], params_json: "{}" };
        let err = sobel_magnitude(&input, &mut [0.0]).unwrap_err();
        assert!(err.contains("use_spacing"), "{err}");
    }
}
