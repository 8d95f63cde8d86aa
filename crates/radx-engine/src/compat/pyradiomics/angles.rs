//! PyRadiomics' angles: the offsets its C extension (`cmatrices.c`, `get_angle_count` and
//! `build_angles`) generates from `distances` for the GLCM (one of each ± pair) and for the
//! GLDM's and NGTDM's neighbourhoods (both signs).
//!
//! An angle is an offset whose Chebyshev norm is one of `distances`, that fits the image
//! (`|offset| < size` on every axis; PyRadiomics' texture classes see the ROI's box) and, with
//! `force2D`, does not move along z. PyRadiomics first counts the angles per listed distance,
//! then takes that many valid offsets in its enumeration order, cycling through the
//! enumeration again when a distance is listed twice: a repeated distance repeats its angles.

/// PyRadiomics' angles as `[dx, dy, dz]` offsets, in its order: `size` is the ROI box's extent
/// in voxels along x, y, z; `bidirectional` keeps both offsets of each ± pair (GLDM, NGTDM),
/// otherwise the first of each pair in PyRadiomics' order (first non-zero of z, y, x positive;
/// GLCM). Empty when no angle fits (PyRadiomics raises "Error getting angle count"), or when
/// a distance is 0 (its schema refuses that).
pub fn angles(size: [usize; 3], distances: &[usize], force_2d: bool, bidirectional: bool) -> Vec<[i32; 3]> {
    if distances.contains(&0) {
        return Vec::new();
    }
    let count = angle_count(size, distances, force_2d, bidirectional);
    let mut one_pass = enumeration(size, distances, force_2d);
    if count <= one_pass.len() {
        // The first `count` of the cycle: no second list (a feature map lists them per window).
        one_pass.truncate(count);
        return one_pass;
    }
    one_pass.iter().copied().cycle().take(if one_pass.is_empty() { 0 } else { count }).collect()
}

/// How many angles [`angles`] gives, without listing them (a memory estimate before a large
/// ROI's enumeration): PyRadiomics' `get_angle_count`.
pub fn angle_count(size: [usize; 3], distances: &[usize], force_2d: bool, bidirectional: bool) -> usize {
    if distances.contains(&0) {
        return 0;
    }
    let total: usize = distances.iter().map(|&d| count_of_distance(size, d, force_2d)).sum();
    if bidirectional { total } else { total / 2 }
}

/// `get_angle_count` for one distance (both signs): offsets of norm `distance` that fit `size`,
/// `(2d + 1)^n − (2d − 1)^n` over the axes in use, an axis too short for `d` reaching its size.
fn count_of_distance(size: [usize; 3], distance: usize, force_2d: bool) -> usize {
    let axes = if force_2d { &size[..2] } else { &size[..] };
    let (outer, inner) = axes.iter().fold((1usize, 1usize), |(outer, inner), &n| {
        if distance < n {
            (outer * (2 * distance + 1), inner * (2 * distance - 1))
        } else {
            // Every offset along a short axis is within reach of both terms.
            let reach = 2 * n.saturating_sub(1) + 1;
            (outer * reach, inner * reach)
        }
    });
    outer - inner
}

/// One pass of `build_angles`' enumeration, valid offsets only: z, then y, then x, each from
/// +max to −max (PyRadiomics' arrays are z, y, x). The range is clipped to the box: offsets
/// beyond it are never valid, so the order of the valid ones is unchanged.
fn enumeration(size: [usize; 3], distances: &[usize], force_2d: bool) -> Vec<[i32; 3]> {
    let longest = size.iter().copied().max().unwrap_or(0).saturating_sub(1);
    let reach = distances.iter().copied().max().unwrap_or(0).min(longest) as i32;
    let fits = |c: i32, n: usize| (c.unsigned_abs() as usize) < n;
    let z_reach = if force_2d { 0 } else { reach };
    // Room for every offset of the range: a feature map lists the angles in every window.
    let side = (2 * reach + 1) as usize;
    let mut out = Vec::with_capacity(side * side * (2 * z_reach + 1) as usize);
    for dz in (-z_reach..=z_reach).rev() {
        for dy in (-reach..=reach).rev() {
            for dx in (-reach..=reach).rev() {
                let norm = dx.abs().max(dy.abs()).max(dz.abs()) as usize;
                let inside = fits(dx, size[0]) && fits(dy, size[1]) && fits(dz, size[2]);
                if inside && norm >= 1 && distances.contains(&norm) {
                    out.push([dx, dy, dz]);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LARGE: [usize; 3] = [20, 20, 20];

    /// Counts and first angles as PyRadiomics 3.0.1's `_cmatrices.generate_angles` gives them
    /// (size 20³), converted from its (z, y, x) to (x, y, z).
    #[test]
    fn counts_and_order_follow_pyradiomics() {
        for (distances, three_d, in_plane) in [
            (&[1][..], 13, 4),
            (&[2], 49, 8),
            (&[3], 109, 12),
            (&[1, 2], 62, 12),
            (&[2, 1], 62, 12),
            (&[1, 2, 3], 171, 24),
            (&[1, 1], 26, 8),
        ] {
            assert_eq!(angles(LARGE, distances, false, false).len(), three_d, "{distances:?}");
            assert_eq!(angles(LARGE, distances, false, true).len(), 2 * three_d, "{distances:?}");
            assert_eq!(angles(LARGE, distances, true, false).len(), in_plane, "{distances:?} force2D");
            assert_eq!(angle_count(LARGE, distances, false, false), three_d, "{distances:?}");
        }
        assert_eq!(angles(LARGE, &[1, 2, 3], false, false)[..3], [[3, 3, 3], [2, 3, 3], [1, 3, 3]]);
        assert_eq!(angles(LARGE, &[1, 2, 3], true, false)[..3], [[3, 3, 0], [2, 3, 0], [1, 3, 0]]);
    }

    #[test]
    fn distance_one_is_the_thirteen_directions() {
        let mut got = angles(LARGE, &[1], false, false);
        let mut want = radx_core::iter::DIRECTIONS_3D.to_vec();
        // radx's directions have their first non-zero of x, y, z positive; PyRadiomics' of z, y, x.
        want.iter_mut().filter(|d| d.iter().rev().find(|&&c| c != 0) < Some(&0)).for_each(|d| *d = d.map(|c| -c));
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_repeated_distance_repeats_its_angles_and_the_box_limits_them() {
        let twice = angles(LARGE, &[1, 1], false, false);
        // One pass of the enumeration holds both halves, the second mirroring the first.
        let mirrored: Vec<[i32; 3]> = twice[13..].iter().rev().map(|d| d.map(|c| -c)).collect();
        assert_eq!(twice[..13], mirrored[..]);
        // PyRadiomics: generate_angles((2, 5, 5), [2], ...) gives 24 angles (z, y, x sizes).
        assert_eq!(angles([5, 5, 2], &[2], false, false).len(), 24);
        assert!(angles([2, 2, 2], &[2], false, false).is_empty());
        assert!(angles(LARGE, &[0, 1], false, false).is_empty());
    }
}
