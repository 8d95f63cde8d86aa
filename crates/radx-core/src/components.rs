//! Connected components of equal grey level ("zones") and distance-to-ROI-edge maps.
//!
//! These are the two maps behind the zone families: the grey level size zone matrix
//! (IBSI 1, section 3.8, GLSZM) counts zones by size, and the grey level distance zone
//! matrix (IBSI 1, section 3.10, GLDZM) counts them by their distance to the ROI edge.
//!
//! * **Zones** link voxels of identical discretised grey level: 8-connected inside a
//!   slice (2D) and 26-connected in the volume (3D). Voxels with level `0` are outside
//!   the intensity mask and never belong to a zone.
//! * **Distance to edge** is measured on the *morphological* mask with the Manhattan
//!   norm (4-connected in a slice, 6-connected in the volume): the number of voxel
//!   faces that must be crossed to leave the ROI. A voxel on the ROI edge has distance
//!   1, and the border of the (cropped) image counts as ROI edge. This equals the
//!   IBSI's iterative erosion with a cross-shaped structuring element.
//!
//! All work happens on flat x-fastest buffers (`index = x + nx·(y + ny·z)`), so a
//! slice of constant z is one contiguous run of `nx·ny` voxels.

use std::borrow::Cow;

use ndarray::{Array3, ArrayView3, ShapeBuilder};

/// Whether connectivity is taken inside each slice (2D) or across the volume (3D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Connectivity {
    /// Each plane of constant z on its own: zones are 8-connected, distances 4-connected,
    /// and nothing links or measures across slices.
    InPlane,
    /// The whole volume: zones are 26-connected, distances 6-connected.
    Volumetric,
}

/// One zone: a maximal connected group of voxels sharing a grey level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone {
    /// The zone's discretised grey level (`>= 1`).
    pub level: u16,
    /// Number of voxels in the zone.
    pub size: usize,
    /// Smallest distance-map value over the zone's voxels, when a distance map was
    /// given (GLDZM); `None` otherwise.
    pub distance: Option<u32>,
}

/// All zones of `levels` (voxels with level `0` are outside the intensity mask), in the
/// order of each zone's first voxel in x-fastest order (for [`Connectivity::InPlane`]:
/// slice by slice). With a `distance_map` of the same shape (see [`distance_to_edge`]),
/// each zone also carries its minimum distance.
///
/// # Errors
/// [`crate::CoreError::InvalidSetting`] if `distance_map` does not have the shape of `levels`.
pub fn find_zones(
    levels: ArrayView3<'_, u16>,
    connectivity: Connectivity,
    distance_map: Option<ArrayView3<'_, u32>>,
) -> Result<Vec<Zone>, crate::CoreError> {
    let dims = dims_of(&levels);
    if let Some(map) = &distance_map
        && dims_of(map) != dims
    {
        return Err(crate::CoreError::InvalidSetting {
            name: "distance_map",
            reason: format!("shape {:?} differs from the grey-level volume's {:?}", dims_of(map), dims),
        });
    }
    let flat_levels = x_fastest(levels);
    let flat_distances = distance_map.map(x_fastest);
    let mut scanner = ZoneScanner::default();
    let mut zones = Vec::new();
    match connectivity {
        Connectivity::Volumetric => {
            scanner.scan(&flat_levels, dims, flat_distances.as_deref(), |zone| zones.push(zone));
        }
        Connectivity::InPlane => {
            let plane = dims[0] * dims[1];
            for z in 0..dims[2] {
                let range = z * plane..(z + 1) * plane;
                let distances = flat_distances.as_deref().map(|d| &d[range.clone()]);
                scanner.scan(&flat_levels[range], [dims[0], dims[1], 1], distances, |zone| zones.push(zone));
            }
        }
    }
    Ok(zones)
}

/// Manhattan distance of every voxel of `mask` to the ROI edge (IBSI 1, section 3.10):
/// `0` outside the mask, `1` for mask voxels with a face neighbour outside the mask or
/// on the array border, and so on inwards. The result has the shape of `mask` and is
/// stored x-fastest.
pub fn distance_to_edge(mask: ArrayView3<'_, bool>, connectivity: Connectivity) -> Array3<u32> {
    let dims = dims_of(&mask);
    let flat = x_fastest(mask);
    let distances = distance_map_flat(&flat, dims, connectivity);
    Array3::from_shape_vec((dims[0], dims[1], dims[2]).f(), distances)
        .expect("distance map has one entry per voxel of the mask")
}

/// `[nx, ny, nz]` of a 3D view.
pub(crate) fn dims_of<T>(a: &ArrayView3<'_, T>) -> [usize; 3] {
    let (nx, ny, nz) = a.dim();
    [nx, ny, nz]
}

/// The voxels of `a` in x-fastest order: borrowed when `a` is already stored that way
/// (the radx convention), copied otherwise.
pub(crate) fn x_fastest<'a, T: Clone>(a: ArrayView3<'a, T>) -> Cow<'a, [T]> {
    // Reversing the axes of an x-fastest (Fortran) array gives a C-contiguous view.
    let reversed = a.reversed_axes();
    match reversed.to_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(reversed.iter().cloned().collect()),
    }
}

/// Flood-fill zone finder with buffers that are reused from one call to the next, so
/// scanning many slices allocates only when a slice is larger than any before it.
#[derive(Debug, Default)]
pub(crate) struct ZoneScanner {
    /// The levels inside a one-voxel border of zeros (so that no neighbour needs a bounds
    /// check); a voxel is set to 0 once its zone has claimed it.
    padded: Vec<u16>,
    /// The distance map in the layout of `padded`, when one is given: a zone's voxels are
    /// then known by their padded index alone.
    padded_distances: Vec<u32>,
    /// The current zone's voxels in visiting order, as padded indices: a neighbour that holds
    /// the zone's level is inside the array, so it lies a fixed offset away.
    queue: Vec<u32>,
}

impl ZoneScanner {
    /// Calls `emit` once per 26-connected zone of `levels` (x-fastest, shape `dims`), in
    /// the order of each zone's first voxel. With `dims[2] == 1` this is exactly
    /// 8-connectivity in the plane.
    pub(crate) fn scan(
        &mut self,
        levels: &[u16],
        dims: [usize; 3],
        distances: Option<&[u32]>,
        mut emit: impl FnMut(Zone),
    ) {
        let [nx, ny, nz] = dims;
        debug_assert_eq!(levels.len(), nx * ny * nz);
        let [px, py] = [nx + 2, ny + 2];
        crate::iter::pad_with_zeros(levels, dims, &mut self.padded);
        if let Some(map) = distances {
            crate::iter::pad_with_zeros(map, dims, &mut self.padded_distances);
        }
        let distances = distances.map(|_| self.padded_distances.as_slice());
        // The 26 neighbours as index offsets in the padded array: one bit each in the mask of
        // the neighbours that join a zone (below).
        let mut offsets = [0isize; 26];
        let deltas = (-1isize..=1)
            .flat_map(|dz| (-1isize..=1).flat_map(move |dy| (-1isize..=1).map(move |dx| (dx, dy, dz))))
            .filter(|&d| d != (0, 0, 0));
        for (offset, (dx, dy, dz)) in offsets.iter_mut().zip(deltas) {
            *offset = dx + px as isize * (dy + py as isize * dz);
        }
        let padded = self.padded.as_mut_slice();
        let queue = &mut self.queue;
        for z in 0..nz {
            for y in 0..ny {
                let row = 1 + px * (y + 1 + py * (z + 1));
                for start in row..row + nx {
                    let level = padded[start];
                    if level == 0 {
                        continue;
                    }
                    padded[start] = 0;
                    queue.clear();
                    queue.push(start as u32);
                    let mut head = 0;
                    while let Some(&voxel) = queue.get(head) {
                        head += 1;
                        // In range: every voxel here is inside the border of zeros. Which
                        // neighbours join is a coin toss on textured images: gathered into a
                        // mask without branches, then visited in offset order.
                        let voxel = voxel as usize;
                        let mut joining = 0u32;
                        for (bit, &offset) in offsets.iter().enumerate() {
                            joining |= u32::from(padded[voxel.wrapping_add_signed(offset)] == level) << bit;
                        }
                        while joining != 0 {
                            let neighbour = voxel.wrapping_add_signed(offsets[joining.trailing_zeros() as usize]);
                            joining &= joining - 1;
                            padded[neighbour] = 0;
                            queue.push(neighbour as u32);
                        }
                    }
                    let distance = distances.map(|d| queue.iter().map(|&v| d[v as usize]).min().unwrap_or(u32::MAX));
                    emit(Zone { level, size: queue.len(), distance });
                }
            }
        }
    }
}

/// Manhattan distance-to-edge of an x-fastest mask of shape `dims`.
///
/// Two raster passes of the city-block chamfer (Rosenfeld & Pfaltz, 1966), which is exact
/// for the Manhattan norm: the forward pass takes the minimum over the already visited
/// face neighbours (−x, −y, −z), the backward pass over (+x, +y, +z). Positions outside
/// the array have distance 0, which makes the array border an ROI edge.
pub(crate) fn distance_map_flat(mask: &[bool], dims: [usize; 3], connectivity: Connectivity) -> Vec<u32> {
    let [nx, ny, nz] = dims;
    let plane = nx * ny;
    let across_slices = connectivity == Connectivity::Volumetric;
    let mut d = vec![0u32; mask.len()];
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let i = x + nx * y + plane * z;
                if !mask[i] {
                    continue;
                }
                let mut nearest = if x > 0 { d[i - 1] } else { 0 };
                nearest = nearest.min(if y > 0 { d[i - nx] } else { 0 });
                if across_slices {
                    nearest = nearest.min(if z > 0 { d[i - plane] } else { 0 });
                }
                d[i] = nearest + 1;
            }
        }
    }
    for z in (0..nz).rev() {
        for y in (0..ny).rev() {
            for x in (0..nx).rev() {
                let i = x + nx * y + plane * z;
                if !mask[i] {
                    continue;
                }
                let mut nearest = if x + 1 < nx { d[i + 1] } else { 0 };
                nearest = nearest.min(if y + 1 < ny { d[i + nx] } else { 0 });
                if across_slices {
                    nearest = nearest.min(if z + 1 < nz { d[i + plane] } else { 0 });
                }
                d[i] = d[i].min(nearest + 1);
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;
    use proptest::prelude::*;

    /// Distance by definition: the smallest Manhattan distance from `p` to a voxel outside
    /// the mask, where every position beyond the array border is outside.
    fn brute_force_distance(mask: &Array3<bool>, p: [usize; 3], connectivity: Connectivity) -> u32 {
        let (nx, ny, nz) = mask.dim();
        if !mask[p] {
            return 0;
        }
        // Leaving through the array border along one axis: index + 1 steps down, n - index up.
        let mut best = (p[0] + 1).min(nx - p[0]).min(p[1] + 1).min(ny - p[1]);
        if connectivity == Connectivity::Volumetric {
            best = best.min(p[2] + 1).min(nz - p[2]);
        }
        for ((x, y, z), &inside) in mask.indexed_iter() {
            if inside || (connectivity == Connectivity::InPlane && z != p[2]) {
                continue;
            }
            best = best.min(x.abs_diff(p[0]) + y.abs_diff(p[1]) + z.abs_diff(p[2]));
        }
        best as u32
    }

    fn mask_strategy() -> impl Strategy<Value = Array3<bool>> {
        (1usize..7, 1usize..7, 1usize..5).prop_flat_map(|(nx, ny, nz)| {
            proptest::collection::vec(prop::bool::weighted(0.8), nx * ny * nz)
                .prop_map(move |v| Array3::from_shape_vec((nx, ny, nz).f(), v).unwrap())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn chamfer_equals_brute_force_manhattan(mask in mask_strategy()) {
            for connectivity in [Connectivity::InPlane, Connectivity::Volumetric] {
                let map = distance_to_edge(mask.view(), connectivity);
                for ((x, y, z), &d) in map.indexed_iter() {
                    prop_assert_eq!(d, brute_force_distance(&mask, [x, y, z], connectivity));
                }
            }
        }
    }

    /// Zones by definition, with a union-find over every pair of same-level voxels within
    /// Chebyshev distance 1 (in the same slice for `InPlane`), listed in the x-fastest order
    /// of their first voxels, each with its smallest distance.
    fn naive_zones(levels: &Array3<u16>, distances: &Array3<u32>, connectivity: Connectivity) -> Vec<Zone> {
        let (nx, ny, nz) = levels.dim();
        let index = |x: usize, y: usize, z: usize| x + nx * (y + ny * z);
        let mut parent: Vec<usize> = (0..nx * ny * nz).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                i = parent[i];
            }
            i
        }
        let voxels: Vec<(usize, usize, usize)> = levels.indexed_iter().map(|(p, _)| p).collect();
        for &(x, y, z) in &voxels {
            for &(u, v, w) in &voxels {
                let near = x.abs_diff(u) <= 1 && y.abs_diff(v) <= 1 && z.abs_diff(w) <= 1;
                let linked = near && (connectivity == Connectivity::Volumetric || z == w);
                if linked && levels[[x, y, z]] > 0 && levels[[x, y, z]] == levels[[u, v, w]] {
                    let (a, b) = (root(&mut parent, index(x, y, z)), root(&mut parent, index(u, v, w)));
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
        let mut zones: Vec<(usize, Zone)> = Vec::new();
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let level = levels[[x, y, z]];
                    if level == 0 {
                        continue;
                    }
                    let r = root(&mut parent, index(x, y, z));
                    let d = distances[[x, y, z]];
                    match zones.iter_mut().find(|(id, _)| *id == r) {
                        Some((_, zone)) => {
                            zone.size += 1;
                            zone.distance = zone.distance.map(|m| m.min(d));
                        }
                        None => zones.push((r, Zone { level, size: 1, distance: Some(d) })),
                    }
                }
            }
        }
        zones.into_iter().map(|(_, zone)| zone).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn flood_fill_finds_the_zones_of_the_definition(
            dims in (1usize..7, 1usize..6, 1usize..5),
            draws in proptest::collection::vec((0u16..4, 0u32..9), 150),
        ) {
            let levels = Array3::from_shape_fn(dims.f(), |(x, y, z)| draws[x + 6 * y + 36 * z].0);
            let distances = Array3::from_shape_fn(dims.f(), |(x, y, z)| draws[x + 6 * y + 36 * z].1);
            for connectivity in [Connectivity::InPlane, Connectivity::Volumetric] {
                let found = find_zones(levels.view(), connectivity, Some(distances.view())).unwrap();
                prop_assert_eq!(&found, &naive_zones(&levels, &distances, connectivity));
                let without: Vec<Zone> = found.iter().map(|z| Zone { distance: None, ..*z }).collect();
                prop_assert_eq!(find_zones(levels.view(), connectivity, None).unwrap(), without);
            }
        }
    }

    #[test]
    fn solid_block_distances_follow_the_onion() {
        // A full 5×5×5 block: the distance is 1 + the number of layers peeled in 3D, so the
        // centre (2,2,2) is 3, a face centre (0,2,2) is 1, and (1,2,2) is 2. In-plane the
        // slice z = 0 is no edge, so (2,2,0) is also 3.
        let mask = Array3::from_elem((5, 5, 5).f(), true);
        let d3 = distance_to_edge(mask.view(), Connectivity::Volumetric);
        assert_eq!((d3[[2, 2, 2]], d3[[0, 2, 2]], d3[[1, 2, 2]], d3[[2, 2, 0]]), (3, 1, 2, 1));
        let d2 = distance_to_edge(mask.view(), Connectivity::InPlane);
        assert_eq!((d2[[2, 2, 0]], d2[[1, 1, 4]], d2[[0, 3, 2]]), (3, 2, 1));
    }

    #[test]
    fn diagonal_voxels_form_one_zone_in_plane_but_not_across_levels() {
        // Slice z = 0:   1 . 2      (x to the right, y down)
        //                . 1 2
        // The two 1s touch diagonally (8-connected): one zone of size 2. The two 2s share
        // a face: one zone of size 2. Total 4 voxels in 2 zones.
        let mut levels = Array3::<u16>::zeros((3, 2, 1).f());
        levels[[0, 0, 0]] = 1;
        levels[[1, 1, 0]] = 1;
        levels[[2, 0, 0]] = 2;
        levels[[2, 1, 0]] = 2;
        let zones = find_zones(levels.view(), Connectivity::InPlane, None).unwrap();
        assert_eq!(zones, vec![Zone { level: 1, size: 2, distance: None }, Zone { level: 2, size: 2, distance: None }]);
    }

    #[test]
    fn in_plane_zones_do_not_link_slices() {
        // A 1×1×3 column of level 4: three zones of one voxel in 2D, one of three in 3D.
        let levels = Array3::from_elem((1, 1, 3).f(), 4u16);
        assert_eq!(find_zones(levels.view(), Connectivity::InPlane, None).unwrap().len(), 3);
        let zones = find_zones(levels.view(), Connectivity::Volumetric, None).unwrap();
        assert_eq!(zones, vec![Zone { level: 4, size: 3, distance: None }]);
    }

    #[test]
    fn c_order_input_gives_the_same_zones() {
        let f_order = Array3::from_shape_fn((3, 4, 2).f(), |(x, y, z)| ((x * 7 + y * 3 + z) % 3) as u16);
        let c_order = Array3::from_shape_fn((3, 4, 2), |(x, y, z)| ((x * 7 + y * 3 + z) % 3) as u16);
        for connectivity in [Connectivity::InPlane, Connectivity::Volumetric] {
            assert_eq!(
                find_zones(f_order.view(), connectivity, None).unwrap(),
                find_zones(c_order.view(), connectivity, None).unwrap()
            );
        }
    }

    #[test]
    fn mismatched_distance_map_is_an_error() {
        let levels = Array3::from_elem((2, 2, 2).f(), 1u16);
        let map = Array3::from_elem((2, 2, 1).f(), 1u32);
        assert!(find_zones(levels.view(), Connectivity::Volumetric, Some(map.view())).is_err());
    }
}
