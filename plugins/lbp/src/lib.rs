//! Example radx plugin (Rust) that supplies a new *source*: a 3D local binary pattern
//! (LBP) histogram, for feature files to use like a built-in matrix (`over lbp(...)`).
//!
//! Not an IBSI source (IBSI 1 ch. 3 defines none such); the features over it carry site
//! tags. Definition, on the 6-connected (face) neighbourhood in 3D:
//! for every voxel c of the intensity mask, bit b of its code is 1 when face neighbour
//! n_b lies inside the intensity mask and I(n_b) ≥ I(c), with bits
//! 0: +x, 1: −x, 2: +y, 3: −y, 4: +z, 5: −z. Neighbours outside the mask or the crop box
//! give 0 bits (the ROI edge reads as "darker"). The source is the histogram of codes:
//! a 1-axis matrix of raw counts, 64 bins with axis values 0..63; with
//! `rotation_invariant = true` it is 7 bins (axis values 0..6) counting the set bits,
//! which no 90° rotation or reflection of the volume changes.
//!
//! The plugin also offers one feature computed over its own source, `lbp_entropy`, to
//! show how a feature receives the matrices of a declared source.

use radx_plugin::{Input, Matrix, export_plugin};

/// Bits per code: one per face neighbour.
const BITS: usize = 6;

/// Face-neighbour offsets in bit order: +x, −x, +y, −y, +z, −z.
const OFFSETS: [[isize; 3]; BITS] = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];

/// Histogram of LBP codes of an x-fastest image and intensity mask (non-zero = inside):
/// 64 bins by code, or 7 bins by number of set bits when `rotation_invariant`.
pub fn lbp_histogram(
    image: &[f64],
    mask: &[u8],
    dims: [usize; 3],
    rotation_invariant: bool,
) -> Result<Vec<f64>, String> {
    let n: usize = dims.iter().product();
    if image.len() != n || mask.len() != n {
        return Err(format!("image ({}) and mask ({}) must both hold {n} voxels", image.len(), mask.len()));
    }
    let mut counts = vec![0.0; if rotation_invariant { BITS + 1 } else { 1 << BITS }];
    let inside = |x: isize, y: isize, z: isize| -> Option<usize> {
        let (x, y, z) = (usize::try_from(x).ok()?, usize::try_from(y).ok()?, usize::try_from(z).ok()?);
        if x >= dims[0] || y >= dims[1] || z >= dims[2] {
            return None;
        }
        let i = radx_plugin::voxel_index(dims, x, y, z);
        (mask[i] != 0).then_some(i)
    };
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                let c = radx_plugin::voxel_index(dims, x, y, z);
                if mask[c] == 0 {
                    continue;
                }
                let mut code = 0usize;
                for (bit, o) in OFFSETS.iter().enumerate() {
                    let neighbour = inside(x as isize + o[0], y as isize + o[1], z as isize + o[2]);
                    if neighbour.is_some_and(|i| image[i] >= image[c]) {
                        code |= 1 << bit;
                    }
                }
                let bin = if rotation_invariant { code.count_ones() as usize } else { code };
                counts[bin] += 1.0;
            }
        }
    }
    Ok(counts)
}

/// Read `{"rotation_invariant": bool}` (every key optional); unknown keys are an error.
fn rotation_invariant_param(params: &str) -> Result<bool, String> {
    let value: serde_json::Value =
        serde_json::from_str(params).map_err(|e| format!("lbp parameters are not JSON ({e}): {params}"))?;
    let object = value.as_object().ok_or_else(|| format!("lbp parameters must be an object, got {params}"))?;
    let mut rotation_invariant = false;
    for (key, v) in object {
        match key.as_str() {
            "rotation_invariant" => {
                rotation_invariant =
                    v.as_bool().ok_or_else(|| format!("lbp: rotation_invariant must be true or false, got {v}"))?;
            }
            other => return Err(format!("lbp has no parameter `{other}` (known: rotation_invariant)")),
        }
    }
    Ok(rotation_invariant)
}

fn build_lbp(input: &Input, params: &str) -> Result<Matrix, String> {
    let rotation_invariant = rotation_invariant_param(params)?;
    let mask = input.intensity_mask();
    let counts = lbp_histogram(input.image(), mask.data, input.dims(), rotation_invariant)?;
    let codes = (0..counts.len()).map(|c| c as f64).collect();
    Matrix::new(vec![counts.len()], counts)?.with_axis_values(0, codes)
}

/// Shannon entropy (bits) of a histogram normalised to probabilities; `None` when empty.
pub fn histogram_entropy(counts: &[f64]) -> Option<f64> {
    let total: f64 = counts.iter().sum();
    (total > 0.0).then(|| -counts.iter().filter(|&&c| c > 0.0).map(|&c| (c / total) * (c / total).log2()).sum::<f64>())
}

fn lbp_entropy(input: &Input) -> Result<f64, String> {
    // Average over the matrices the host passes (one per slice/direction, or one merged),
    // as the IBSI averages texture features over matrices.
    let entropies: Vec<f64> = input.matrices().filter_map(|m| histogram_entropy(m.data)).collect();
    if entropies.is_empty() {
        return Err("no non-empty lbp histogram was passed".to_string());
    }
    Ok(entropies.iter().sum::<f64>() / entropies.len() as f64)
}

export_plugin! {
    name: "lbp",
    version: "0.1.0",
    features: [
        {
            name: "lbp_entropy",
            tag: "RADX-LBP1",
            description: "Entropy (bits) of the 3D local binary pattern histogram",
            source: "lbp",
            compute: lbp_entropy,
        },
    ],
    sources: [
        {
            name: "lbp",
            description: "3D 6-neighbour local binary pattern histogram: counts by code 0..63 (or set-bit count 0..6 with rotation_invariant = true)",
            axes: 1,
            params: r#"{"rotation_invariant": false}"#,
            build: build_lbp,
        },
    ],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_rising_intensities() {
        // Intensities 1, 2, 3 along x, all inside. Voxel 0: +x is 2 ≥ 1 → bit 0 → code 1;
        // −x outside → 0. Voxel 1: +x 3 ≥ 2 → code 1; −x 1 < 2. Voxel 2: −x 2 < 3 → code 0.
        let h = lbp_histogram(&[1.0, 2.0, 3.0], &[1, 1, 1], [3, 1, 1], false).unwrap();
        assert_eq!(h.len(), 64);
        assert_eq!((h[0], h[1]), (1.0, 2.0));
        assert_eq!(h.iter().sum::<f64>(), 3.0);
        let ri = lbp_histogram(&[1.0, 2.0, 3.0], &[1, 1, 1], [3, 1, 1], true).unwrap();
        assert_eq!(ri, vec![1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn flat_square_codes_by_hand() {
        // 2×2×1, all 5: every in-mask neighbour is ≥. (0,0): +x,+y → bits 0,2 → 5;
        // (1,0): −x,+y → bits 1,2 → 6; (0,1): +x,−y → bits 0,3 → 9; (1,1): −x,−y → 10.
        let h = lbp_histogram(&[5.0; 4], &[1; 4], [2, 2, 1], false).unwrap();
        for code in [5, 6, 9, 10] {
            assert_eq!(h[code], 1.0, "code {code}");
        }
        assert_eq!(h.iter().sum::<f64>(), 4.0);
        // Two set bits each.
        let ri = lbp_histogram(&[5.0; 4], &[1; 4], [2, 2, 1], true).unwrap();
        assert_eq!(ri[2], 4.0);
    }

    #[test]
    fn masked_voxels_neither_count_nor_set_bits() {
        // Same square, (1,1) outside: (0,0) keeps +x,+y → 5; (1,0) loses +y → −x only → 2;
        // (0,1) loses +x → −y only → 8. Three voxels counted.
        let h = lbp_histogram(&[5.0; 4], &[1, 1, 1, 0], [2, 2, 1], false).unwrap();
        assert_eq!((h[5], h[2], h[8]), (1.0, 1.0, 1.0));
        assert_eq!(h.iter().sum::<f64>(), 3.0);
    }

    #[test]
    fn entropy_by_hand() {
        // p = 1/3, 2/3: H = log2 3 − 2/3.
        let h = histogram_entropy(&[1.0, 2.0, 0.0]).unwrap();
        assert!((h - (3f64.log2() - 2.0 / 3.0)).abs() < 1e-12);
        assert_eq!(histogram_entropy(&[0.0; 3]), None);
    }

    #[test]
    fn parameters() {
        assert_eq!(rotation_invariant_param("{}"), Ok(false));
        assert_eq!(rotation_invariant_param(r#"{"rotation_invariant": true}"#), Ok(true));
        assert!(rotation_invariant_param(r#"{"radius": 2}"#).unwrap_err().contains("no parameter `radius`"));
        assert!(rotation_invariant_param("[").is_err());
    }

    #[test]
    fn size_mismatch_is_an_error() {
        assert!(lbp_histogram(&[1.0; 3], &[1; 4], [2, 2, 1], false).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Every mask voxel gets exactly one code, and the rotation-invariant histogram is
        /// the full one summed by number of set bits.
        #[test]
        fn histograms_count_every_voxel_once(
            dims in proptest::array::uniform3(1usize..6),
            values in proptest::collection::vec(0u8..4, 125),
            inside in proptest::collection::vec(proptest::bool::weighted(0.7), 125),
        ) {
            let n: usize = dims.iter().product();
            let image: Vec<f64> = values[..n].iter().map(|&v| f64::from(v)).collect();
            let mask: Vec<u8> = inside[..n].iter().map(|&b| u8::from(b)).collect();
            let full = lbp_histogram(&image, &mask, dims, false).unwrap();
            let ri = lbp_histogram(&image, &mask, dims, true).unwrap();
            let count = mask.iter().filter(|&&b| b != 0).count() as f64;
            proptest::prop_assert_eq!(full.iter().sum::<f64>(), count);
            let mut by_bits = vec![0.0; BITS + 1];
            for (code, &c) in full.iter().enumerate() {
                by_bits[code.count_ones() as usize] += c;
            }
            proptest::prop_assert_eq!(ri, by_bits);
        }
    }
}
