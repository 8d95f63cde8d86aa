//! Exact convex hull of the mesh vertices (IBSI 3.1, "Maximum 3D diameter" (`L0JK`),
//! "Volume density (convex hull)" (`R3ER`), "Area density (convex hull)" `7T7F`).
//!
//! Marching-cubes vertices lie on the half-voxel lattice, so their doubled index coordinates
//! are integers. The hull is computed on those integers with exact (`i128`) orientation
//! tests, then scaled to mm — an axis scaling maps the hull of the lattice points onto the hull
//! of the mm points. Exactness matters: voxel meshes are full of coplanar and collinear
//! vertices, exactly the input on which floating-point quickhull breaks down. Points lying on
//! a hull face but not at one of its corners are dropped; volume, area and diameter do not
//! depend on them.
//!
//! Degenerate inputs (not possible for a mesh of a non-empty mask, which always spans ±½ voxel
//! on every axis, but possible through [`ConvexHull::of_lattice`]):
//! - coplanar points: the hull is the flat convex polygon, stored as two oppositely oriented
//!   triangle fans, so [`ConvexHull::volume`] is 0 and [`ConvexHull::area`] is *twice* the
//!   polygon area (the limit of a slab of vanishing thickness);
//! - collinear points: the two end points, no triangles (volume and area 0);
//! - one distinct point: that point; no points: an empty hull (diameter 0).

use std::collections::HashMap;

use rayon::prelude::*;

use super::mesh::{Mesh, dot, sub};

/// A convex hull in mm: outward-oriented triangles over its corner vertices.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConvexHull {
    /// Hull corner positions in mm.
    pub vertices: Vec<[f64; 3]>,
    /// Outward-oriented faces (indices into `vertices`); empty for fewer than 3 dimensions
    /// except the flat case described in the module docs.
    pub triangles: Vec<[u32; 3]>,
    /// Affine dimension of the input: 3 solid, 2 flat polygon, 1 segment, 0 point; `None` for
    /// no input points.
    pub dimension: Option<u8>,
}

/// Maximum 3D diameter (IBSI 3.1 `L0JK`) of a mesh: the largest distance between two mesh
/// vertices, found among the convex hull's corners.
pub fn max_diameter(mesh: &Mesh) -> f64 {
    ConvexHull::of_mesh(mesh).max_diameter()
}

/// Bytes [`ConvexHull::of_mesh`] holds at its peak beside a mesh of `vertices`: the doubled
/// lattice coordinates (three `i64` a vertex) and, while the candidate corners are picked,
/// a sorted copy of them, a flag byte and an index (`usize`) each, and the candidates (at
/// most as many, pushed). The quickhull then holds the candidates' outside lists (a `u32`
/// each, at most doubled by growth) and faces and edges that grow with the hull's corners
/// (far fewer than the mesh's vertices), within what picking the candidates freed.
pub fn hull_building_bytes(vertices: u64) -> u64 {
    let pushed = if vertices == 0 { 0 } else { vertices.next_power_of_two().max(4) };
    vertices.saturating_mul(24 + 24 + 1 + 8).saturating_add(pushed.saturating_mul(24))
}

/// Bytes a finished hull of `corners` holds: three `f64` a corner and, a closed triangulated
/// surface having 2·corners − 4 faces, three `u32` for each.
pub fn hull_bytes(corners: u64) -> u64 {
    corners.saturating_mul(24).saturating_add(corners.saturating_mul(2).saturating_mul(12))
}

impl ConvexHull {
    /// Hull of a marching-cubes mesh's vertices (exact, via the half-voxel lattice).
    pub fn of_mesh(mesh: &Mesh) -> ConvexHull {
        ConvexHull::of_lattice(&mesh.half_index_vertices(), mesh.spacing.map(|s| s / 2.0))
    }

    /// Hull of integer lattice points; the result's vertices are `point ∘ scale` in mm.
    /// Coordinates must stay within ±2⁴⁰ so the exact determinants fit in `i128`.
    pub fn of_lattice(points: &[[i64; 3]], scale: [f64; 3]) -> ConvexHull {
        let pts = candidate_corners(points);
        let to_mm = |p: [i64; 3]| [p[0] as f64 * scale[0], p[1] as f64 * scale[1], p[2] as f64 * scale[2]];
        let (dimension, corner_ids, triangles) = exact_hull(&pts);
        ConvexHull { vertices: corner_ids.iter().map(|&i| to_mm(pts[i])).collect(), triangles, dimension }
    }

    /// Volume enclosed by the hull (mm³), by signed tetrahedra as for the mesh volume; 0 for a
    /// hull of fewer than 3 dimensions.
    pub fn volume(&self) -> f64 {
        if self.dimension != Some(3) {
            return 0.0;
        }
        let mesh = Mesh { vertices: self.vertices.clone(), triangles: self.triangles.clone(), spacing: [1.0; 3] };
        mesh.volume()
    }

    /// Surface area of the hull (mm²); twice the polygon area for a flat hull (see module docs).
    pub fn area(&self) -> f64 {
        super::mesh::triangle_area(&self.vertices, &self.triangles)
    }

    /// Largest distance between two hull corners (mm): the maximum 3D diameter of the point set.
    /// All corner pairs are compared (O(h²), in parallel); the maximum does not depend on the
    /// order of evaluation, so the result is deterministic.
    pub fn max_diameter(&self) -> f64 {
        let v = &self.vertices;
        let best_sq = (0..v.len())
            .into_par_iter()
            .map(|i| {
                let a = v[i];
                v[i + 1..].iter().map(|&b| dot(sub(a, b), sub(a, b))).fold(0.0f64, f64::max)
            })
            .reduce(|| 0.0, f64::max);
        best_sq.sqrt()
    }
}

/// Distinct points that can be hull corners. A hull corner is the unique maximiser of some
/// linear functional, and the set of such functionals is open, so it contains one with a
/// non-zero component along each axis; the corner must then be the lowest or highest point of
/// its axis-parallel line of lattice points, for each of the three axes. Points failing that
/// test for any axis are dropped (exactly, it is a necessary condition).
fn candidate_corners(points: &[[i64; 3]]) -> Vec<[i64; 3]> {
    let mut pts = points.to_vec();
    pts.sort_unstable();
    pts.dedup();
    let mut keep = vec![0u8; pts.len()];
    let mut order: Vec<usize> = (0..pts.len()).collect();
    for axis in 0..3 {
        let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
        order.sort_unstable_by_key(|&i| (pts[i][u], pts[i][v], pts[i][axis]));
        let mut start = 0;
        while start < order.len() {
            let line = (pts[order[start]][u], pts[order[start]][v]);
            let mut end = start + 1;
            while end < order.len() && (pts[order[end]][u], pts[order[end]][v]) == line {
                end += 1;
            }
            keep[order[start]] |= 1 << axis;
            keep[order[end - 1]] |= 1 << axis;
            start = end;
        }
    }
    pts.iter().zip(&keep).filter(|&(_, &k)| k == 0b111).map(|(&p, _)| p).collect()
}

type P = [i64; 3];

fn d(a: P, b: P) -> [i128; 3] {
    [(a[0] - b[0]) as i128, (a[1] - b[1]) as i128, (a[2] - b[2]) as i128]
}

fn cross_i(a: [i128; 3], b: [i128; 3]) -> [i128; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn dot_i(a: [i128; 3], b: [i128; 3]) -> i128 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Six times the signed volume of tetrahedron (a, b, c, p): positive when p lies on the side
/// the right-hand normal of (a, b, c) points to.
fn orient(a: P, b: P, c: P, p: P) -> i128 {
    dot_i(cross_i(d(b, a), d(c, a)), d(p, a))
}

struct Face {
    v: [u32; 3],
    outside: Vec<u32>,
    alive: bool,
}

/// Exact quickhull. Returns (dimension, corner point ids, triangles over positions in the
/// corner list).
fn exact_hull(pts: &[P]) -> (Option<u8>, Vec<usize>, Vec<[u32; 3]>) {
    let n = pts.len();
    if n == 0 {
        return (None, Vec::new(), Vec::new());
    }
    // `pts` is sorted, so pts[0] is the lexicographic minimum: an extreme point.
    let i0 = 0;
    let i1 = (0..n).max_by_key(|&i| dot_i(d(pts[i], pts[i0]), d(pts[i], pts[i0]))).unwrap_or(0);
    if pts[i1] == pts[i0] {
        return (Some(0), vec![i0], Vec::new());
    }
    let line = d(pts[i1], pts[i0]);
    let i2 = (0..n)
        .max_by_key(|&i| {
            let c = cross_i(line, d(pts[i], pts[i0]));
            dot_i(c, c)
        })
        .unwrap_or(0);
    let normal = cross_i(line, d(pts[i2], pts[i0]));
    if normal == [0, 0, 0] {
        // Collinear: the farthest point from an extreme point is the other extreme.
        return (Some(1), vec![i0, i1], Vec::new());
    }
    let i3 = (0..n).max_by_key(|&i| orient(pts[i0], pts[i1], pts[i2], pts[i]).abs()).unwrap_or(0);
    if orient(pts[i0], pts[i1], pts[i2], pts[i3]) == 0 {
        return flat_hull(pts, normal);
    }

    let mut faces: Vec<Face> = Vec::new();
    let mut edges: HashMap<(u32, u32), u32> = HashMap::new();
    let add_face = |faces: &mut Vec<Face>, edges: &mut HashMap<(u32, u32), u32>, v: [u32; 3]| -> u32 {
        let id = faces.len() as u32;
        for k in 0..3 {
            edges.insert((v[k], v[(k + 1) % 3]), id);
        }
        faces.push(Face { v, outside: Vec::new(), alive: true });
        id
    };
    let simplex = [i0, i1, i2, i3].map(|i| i as u32);
    for skip in 0..4 {
        let mut tri: Vec<u32> = simplex.iter().enumerate().filter(|&(k, _)| k != skip).map(|(_, &v)| v).collect();
        let apex = pts[simplex[skip] as usize];
        if orient(pts[tri[0] as usize], pts[tri[1] as usize], pts[tri[2] as usize], apex) > 0 {
            tri.swap(1, 2);
        }
        add_face(&mut faces, &mut edges, [tri[0], tri[1], tri[2]]);
    }
    let face_orient = |faces: &[Face], f: usize, p: usize| {
        let [a, b, c] = faces[f].v.map(|v| pts[v as usize]);
        orient(a, b, c, pts[p])
    };
    for p in 0..n {
        if simplex.contains(&(p as u32)) {
            continue;
        }
        if let Some(f) = (0..4).find(|&f| face_orient(&faces, f, p) > 0) {
            faces[f].outside.push(p as u32);
        }
    }
    let mut stack: Vec<u32> = (0..4).filter(|&f| !faces[f].outside.is_empty()).map(|f| f as u32).collect();
    // Per-face stamps of the current step: 1 = visible, 2 = checked and not visible.
    let mut stamp: Vec<(u32, u8)> = vec![(0, 0); 4];
    let mut step = 0u32;
    while let Some(f0) = stack.pop() {
        let f0 = f0 as usize;
        if !faces[f0].alive || faces[f0].outside.is_empty() {
            continue;
        }
        step += 1;
        let apex = faces[f0]
            .outside
            .iter()
            .copied()
            .max_by_key(|&p| face_orient(&faces, f0, p as usize))
            .unwrap_or(faces[f0].outside[0]) as usize;
        // Breadth-first search of the faces the apex sees; collect the horizon edges.
        let mut visible = vec![f0];
        stamp.resize(faces.len(), (0, 0));
        stamp[f0] = (step, 1);
        let mut horizon: Vec<(u32, u32)> = Vec::new();
        let mut head = 0;
        while head < visible.len() {
            let f = visible[head];
            head += 1;
            let v = faces[f].v;
            for k in 0..3 {
                let (a, b) = (v[k], v[(k + 1) % 3]);
                let Some(&g) = edges.get(&(b, a)) else { continue };
                let g = g as usize;
                let seen = if stamp[g].0 == step { stamp[g].1 } else { 0 };
                let is_visible = match seen {
                    1 => true,
                    2 => false,
                    _ => {
                        let vis = face_orient(&faces, g, apex) > 0;
                        stamp[g] = (step, if vis { 1 } else { 2 });
                        if vis {
                            visible.push(g);
                        }
                        vis
                    }
                };
                if !is_visible {
                    horizon.push((a, b));
                }
            }
        }
        let mut orphans: Vec<u32> = Vec::new();
        for &f in &visible {
            faces[f].alive = false;
            orphans.append(&mut faces[f].outside);
            let v = faces[f].v;
            for k in 0..3 {
                edges.remove(&(v[k], v[(k + 1) % 3]));
            }
        }
        let new_faces: Vec<u32> =
            horizon.iter().map(|&(a, b)| add_face(&mut faces, &mut edges, [a, b, apex as u32])).collect();
        for p in orphans {
            if p as usize == apex {
                continue;
            }
            if let Some(&f) = new_faces.iter().find(|&&f| face_orient(&faces, f as usize, p as usize) > 0) {
                faces[f as usize].outside.push(p);
            }
        }
        stack.extend(new_faces.iter().copied().filter(|&f| !faces[f as usize].outside.is_empty()));
    }
    // Keep the corners used by live faces, in input order (deterministic).
    let mut remap = vec![u32::MAX; n];
    let live: Vec<[u32; 3]> = faces.iter().filter(|f| f.alive).map(|f| f.v).collect();
    for t in &live {
        for &v in t {
            remap[v as usize] = 0;
        }
    }
    let mut corners = Vec::new();
    for (i, r) in remap.iter_mut().enumerate() {
        if *r == 0 {
            *r = corners.len() as u32;
            corners.push(i);
        }
    }
    let triangles = live.iter().map(|t| t.map(|v| remap[v as usize])).collect();
    (Some(3), corners, triangles)
}

/// Hull of coplanar points: exact 2D monotone chain in the projection that drops the axis
/// the plane normal is most aligned with, stored as a two-sided triangle fan.
fn flat_hull(pts: &[P], normal: [i128; 3]) -> (Option<u8>, Vec<usize>, Vec<[u32; 3]>) {
    let drop = (0..3).max_by_key(|&a| normal[a].abs()).unwrap_or(2);
    let (u, v) = ((drop + 1) % 3, (drop + 2) % 3);
    let mut order: Vec<usize> = (0..pts.len()).collect();
    order.sort_unstable_by_key(|&i| (pts[i][u], pts[i][v]));
    order.dedup_by_key(|i| (pts[*i][u], pts[*i][v]));
    let turn = |o: usize, a: usize, b: usize| -> i128 {
        let (ox, oy) = (pts[o][u] as i128, pts[o][v] as i128);
        (pts[a][u] as i128 - ox) * (pts[b][v] as i128 - oy) - (pts[a][v] as i128 - oy) * (pts[b][u] as i128 - ox)
    };
    let mut ring: Vec<usize> = Vec::new();
    for pass in 0..2 {
        let start = ring.len();
        let iter: Box<dyn Iterator<Item = &usize>> =
            if pass == 0 { Box::new(order.iter()) } else { Box::new(order.iter().rev()) };
        for &i in iter {
            while ring.len() >= start + 2 && turn(ring[ring.len() - 2], ring[ring.len() - 1], i) <= 0 {
                ring.pop();
            }
            ring.push(i);
        }
        ring.pop();
    }
    let k = ring.len() as u32;
    let mut triangles = Vec::new();
    for i in 1..k.saturating_sub(1) {
        triangles.push([0, i, i + 1]);
        triangles.push([0, i + 1, i]);
    }
    (Some(2), ring, triangles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube_points(n: i64) -> Vec<[i64; 3]> {
        let mut v = Vec::new();
        for x in 0..=n {
            for y in 0..=n {
                for z in 0..=n {
                    v.push([x, y, z]);
                }
            }
        }
        v
    }

    #[test]
    fn lattice_cube_hull_is_the_cube() {
        // All (n+1)³ lattice points of a cube of side 4 (scaled by 0.5 → side 2 mm): the hull
        // has the 8 corners, volume 8, area 24, diameter 2√3.
        let hull = ConvexHull::of_lattice(&cube_points(4), [0.5; 3]);
        assert_eq!(hull.dimension, Some(3));
        assert_eq!(hull.vertices.len(), 8);
        assert!((hull.volume() - 8.0).abs() < 1e-12);
        assert!((hull.area() - 24.0).abs() < 1e-12);
        assert!((hull.max_diameter() - 12f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn flat_and_collinear_inputs() {
        // Square 0..3 × 0..2 in the plane z = 5 (all interior points too): area counted on
        // both sides = 2 · 6 = 12, volume 0, diameter √13.
        let mut pts = Vec::new();
        for x in 0..=3 {
            for y in 0..=2 {
                pts.push([x, y, 5]);
            }
        }
        let hull = ConvexHull::of_lattice(&pts, [1.0; 3]);
        assert_eq!(hull.dimension, Some(2));
        assert_eq!(hull.vertices.len(), 4);
        assert_eq!(hull.volume(), 0.0);
        assert!((hull.area() - 12.0).abs() < 1e-12);
        assert!((hull.max_diameter() - 13f64.sqrt()).abs() < 1e-12);

        let line: Vec<[i64; 3]> = (0..5).map(|t| [t, 2 * t, 3 * t]).collect();
        let hull = ConvexHull::of_lattice(&line, [1.0; 3]);
        assert_eq!(hull.dimension, Some(1));
        assert!((hull.max_diameter() - (16.0f64 + 64.0 + 144.0).sqrt()).abs() < 1e-12);
        assert_eq!(ConvexHull::of_lattice(&[[1, 1, 1], [1, 1, 1]], [1.0; 3]).dimension, Some(0));
        assert_eq!(ConvexHull::of_lattice(&[], [1.0; 3]).dimension, None);
    }

    #[test]
    fn octahedron_plus_interior_points() {
        // Octahedron |x|+|y|+|z| ≤ 2 with all its lattice points: volume (4/3)·2³ = 32/3.
        let mut pts = Vec::new();
        for x in -2i64..=2 {
            for y in -2i64..=2 {
                for z in -2i64..=2 {
                    if x.abs() + y.abs() + z.abs() <= 2 {
                        pts.push([x, y, z]);
                    }
                }
            }
        }
        let hull = ConvexHull::of_lattice(&pts, [1.0; 3]);
        assert_eq!(hull.vertices.len(), 6);
        assert!((hull.volume() - 32.0 / 3.0).abs() < 1e-12);
        // Eight faces, each equilateral with side 2√2: area (√3/4)·8 = 2√3.
        assert!((hull.area() - 8.0 * 2.0 * 3f64.sqrt()).abs() < 1e-12);
    }
}
