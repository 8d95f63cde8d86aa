//! Enclosing boxes and ellipsoids of the ROI (IBSI 3.1): axis-aligned bounding box
//! (`PBX1`, `R59B`), oriented minimum bounding box (`ZH1A`, `IQYR`), approximate enclosing ellipsoid
//! (`6BDE`, `RDD2`) and minimum-volume enclosing ellipsoid (`SWZ1`, `BRI8`).
//!
//! The OMBB and MVEE densities have no IBSI reference value ("should not be used"); they are
//! provided for completeness with the methods documented on each function.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::hull::ConvexHull;
use super::mesh::{Mesh, cross, dot, norm};

mod ellipsoid;

pub use ellipsoid::{
    Ellipsoid, MVEE_TOLERANCE, approximate_enclosing_ellipsoid_semi_axes, ellipsoid_volume,
    ibsi_ellipsoid_surface_area, minimum_volume_enclosing_ellipsoid, mvee_bytes,
};

/// A box given by three orthonormal axes and its edge lengths along them (mm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrientedBox {
    /// Unit edge directions.
    pub axes: [[f64; 3]; 3],
    /// Edge lengths along `axes` (mm).
    pub lengths: [f64; 3],
}

impl OrientedBox {
    /// Box volume `l₁·l₂·l₃` (mm³).
    pub fn volume(&self) -> f64 {
        self.lengths.iter().product()
    }

    /// Box surface `2(l₁l₂ + l₂l₃ + l₃l₁)` (mm²).
    pub fn area(&self) -> f64 {
        let [a, b, c] = self.lengths;
        2.0 * (a * b + b * c + c * a)
    }
}

/// Axis-aligned bounding box of the mesh vertices (IBSI 3.1 "Volume density (AABB)" (`PBX1`),
/// "Area density (AABB)" `R59B`). The hull's vertices give the same box. An empty mesh gives
/// zero lengths.
pub fn axis_aligned_bounding_box(mesh: &Mesh) -> OrientedBox {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for v in &mesh.vertices {
        for a in 0..3 {
            lo[a] = lo[a].min(v[a]);
            hi[a] = hi[a].max(v[a]);
        }
    }
    let lengths = if mesh.vertices.is_empty() { [0.0; 3] } else { [0, 1, 2].map(|a| hi[a] - lo[a]) };
    OrientedBox { axes: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], lengths }
}

/// Oriented minimum bounding box of the hull (IBSI 3.1 (`ZH1A`, `IQYR`); no reference value).
///
/// Method (an approximation from above, as the IBSI allows): every distinct hull face normal
/// and the three coordinate axes are tried as one box axis; for each, the hull is projected on
/// the perpendicular plane and the minimum-area enclosing rectangle of the projection is found
/// exactly (one of its sides is collinear with an edge of the 2D hull — Freeman & Shapira);
/// the box of least volume wins. This is exact whenever the optimal box has a face flush with a
/// hull face, which O'Rourke's theorem does not guarantee (it only guarantees two adjacent box
/// faces flush with hull *edges*), so the result is an upper bound on the true OMBB volume.
/// Returns `None` for a hull without vertices.
pub fn oriented_minimum_bounding_box(hull: &ConvexHull) -> Option<OrientedBox> {
    if hull.vertices.is_empty() {
        return None;
    }
    let normals = candidate_axes(hull);
    // A lower bound per axis first: the box along it of a few extreme vertices (a box holding
    // every vertex holds those). The axes are then tried from the least bound up, and an axis
    // whose bound already exceeds the least volume found (by a margin far above rounding) is
    // skipped: its box cannot be the least. The result is the least-volume box of the lowest
    // index, exactly as if every axis were tried, at any thread count.
    let sample = extreme_vertices(&hull.vertices);
    let bounds: Vec<f64> =
        normals.par_iter().map_init(Scratch::default, |scratch, n| box_along(&sample, *n, scratch).1).collect();
    let mut order: Vec<usize> = (0..normals.len()).collect();
    order.sort_by(|&a, &b| bounds[a].total_cmp(&bounds[b]).then(a.cmp(&b)));
    // Volumes are non-negative, so their bit patterns order as the numbers do.
    let least = AtomicU64::new(f64::INFINITY.to_bits());
    let best = order
        .par_iter()
        .map_init(Scratch::default, |scratch, &k| {
            if bounds[k] > f64::from_bits(least.load(Ordering::Relaxed)) * (1.0 + 1e-6) {
                return None;
            }
            let (boxed, volume) = box_along(&hull.vertices, normals[k], scratch);
            least.fetch_min(volume.to_bits(), Ordering::Relaxed);
            Some((k, boxed, volume))
        })
        .flatten()
        .reduce_with(|a, b| if b.2 < a.2 || (b.2 == a.2 && b.0 < a.0) { b } else { a });
    best.map(|(_, b, _)| b)
}

/// The vertices farthest along 64 directions spread over the sphere (a golden-angle spiral),
/// without repeats: a small polytope inside the hull, whose boxes bound the hull's from below.
fn extreme_vertices(vertices: &[[f64; 3]]) -> Vec<[f64; 3]> {
    const DIRECTIONS: usize = 64;
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    let mut chosen: Vec<usize> = (0..DIRECTIONS)
        .filter_map(|k| {
            let z = 1.0 - (2 * k + 1) as f64 / DIRECTIONS as f64;
            let r = (1.0 - z * z).sqrt();
            let d = [r * (golden * k as f64).cos(), r * (golden * k as f64).sin(), z];
            (0..vertices.len()).max_by(|&a, &b| dot(vertices[a], d).total_cmp(&dot(vertices[b], d)))
        })
        .collect();
    chosen.sort_unstable();
    chosen.dedup();
    chosen.into_iter().map(|i| vertices[i]).collect()
}

/// The candidate box axes: the three coordinate axes and every distinct hull face normal
/// (one representative per ±n, unit length), in a fixed order (sorted by their coordinates
/// rounded to 1e-9, duplicates at that resolution dropped).
fn candidate_axes(hull: &ConvexHull) -> Vec<[f64; 3]> {
    let mut normals: Vec<[f64; 3]> = vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for t in &hull.triangles {
        let [a, b, c] = t.map(|i| hull.vertices[i as usize]);
        let n = cross(super::mesh::sub(b, a), super::mesh::sub(c, a));
        let len = norm(n);
        if len > 0.0 {
            let mut n = n.map(|x| x / len);
            // One representative per direction ±n.
            let first = n.iter().copied().find(|x| x.abs() > 1e-12).unwrap_or(1.0);
            if first < 0.0 {
                n = n.map(|x| -x);
            }
            normals.push(n);
        }
    }
    let key = |n: &[f64; 3]| n.map(|x| (x * 1e9).round() as i64);
    normals.sort_by_key(key);
    normals.dedup_by_key(|n| key(n));
    normals
}

/// Buffers one worker reuses across candidate axes (no allocation per axis once warm).
#[derive(Default)]
struct Scratch {
    /// The hull's vertices projected on the plane perpendicular to the axis.
    projected: Vec<[f64; 2]>,
    /// `projected` in ascending (x, y) order, then deduplicated.
    sorted: Vec<[f64; 2]>,
    /// Bucket boundaries and each point's bucket for the bucket sort in [`sort_points`].
    buckets: Vec<u32>,
    /// The 2D hull, counter-clockwise.
    ring: Vec<[f64; 2]>,
}

/// The least-area box of `points` with one axis `n` (unit), and its volume.
fn box_along(points: &[[f64; 3]], n: [f64; 3], scratch: &mut Scratch) -> (OrientedBox, f64) {
    let (u, v) = perpendicular_basis(n);
    let heights = points.iter().map(|p| dot(*p, n));
    let (hmin, hmax) = heights.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), h| (lo.min(h), hi.max(h)));
    scratch.projected.clear();
    scratch.projected.extend(points.iter().map(|p| [dot(*p, u), dot(*p, v)]));
    hull_2d(&scratch.projected, &mut scratch.sorted, &mut scratch.buckets, &mut scratch.ring);
    let (rect_area, dir, sides) = min_area_rectangle(&scratch.ring);
    let e1 = [0, 1, 2].map(|c| dir[0] * u[c] + dir[1] * v[c]);
    let e2 = cross(n, e1);
    (OrientedBox { axes: [e1, e2, n], lengths: [sides[0], sides[1], hmax - hmin] }, rect_area * (hmax - hmin))
}

/// Two unit vectors completing `n` (unit) to a right-handed orthonormal basis.
fn perpendicular_basis(n: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let helper = if n[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] };
    let u = cross(n, helper);
    let u = u.map(|x| x / norm(u));
    (u, cross(n, u))
}

/// The largest squared distance `dx² + dy²` between two of `points` (0 for fewer than two).
/// Only the convex hull's vertices are compared, pair by pair: the two points farthest apart
/// are vertices of the hull, and each distance is computed as over all pairs.
pub fn max_squared_distance_2d(points: &[[f64; 2]]) -> f64 {
    let (mut sorted, mut buckets, mut ring) = (Vec::new(), Vec::new(), Vec::new());
    hull_2d(points, &mut sorted, &mut buckets, &mut ring);
    let mut best = 0.0f64;
    for (k, a) in ring.iter().enumerate() {
        for b in &ring[k + 1..] {
            best = best.max((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2));
        }
    }
    best
}

/// Convex hull of 2D points (Andrew's monotone chain) into `ring`, counter-clockwise, using
/// `sorted` and `buckets` as scratch.
///
/// Floating-point hulls of near-collinear and near-duplicate points (common here: hull vertices
/// that differ only along the projection axis) depend on the exact sequence of turn tests, so
/// the points are processed in exactly the order a full `(x, y)` sort gives, with exact
/// duplicates removed; only the sort itself is faster (see [`sort_points`]).
fn hull_2d(points: &[[f64; 2]], sorted: &mut Vec<[f64; 2]>, buckets: &mut Vec<u32>, ring: &mut Vec<[f64; 2]>) {
    sort_points(points, sorted, buckets);
    sorted.dedup();
    ring.clear();
    if sorted.len() < 3 {
        ring.extend_from_slice(sorted);
        return;
    }
    let turn = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    // The ring as a stack of `top` points in a buffer that holds both chains (each at most all
    // points): lower chain left to right, then upper chain right to left, each chain's last
    // point being the next chain's first.
    ring.resize(2 * sorted.len(), [0.0; 2]);
    let mut top = 0;
    for &p in sorted.iter() {
        while top >= 2 && turn(ring[top - 2], ring[top - 1], p) <= 0.0 {
            top -= 1;
        }
        ring[top] = p;
        top += 1;
    }
    top -= 1;
    let start = top;
    for &p in sorted.iter().rev() {
        while top >= start + 2 && turn(ring[top - 2], ring[top - 1], p) <= 0.0 {
            top -= 1;
        }
        ring[top] = p;
        top += 1;
    }
    ring.truncate(top - 1);
}

/// `points` into `sorted` in ascending `(x, y)` order by `f64::total_cmp`, the order of a
/// comparison sort, in expected linear time for the spread-out projections met here.
///
/// Bucket sort on x: `b(x) = ⌊(x − x_min)·(B / (x_max − x_min))⌋` (clamped to B − 1) is a
/// composition of correctly rounded monotone operations, so `x ≤ x'` implies `b(x) ≤ b(x')`
/// and the buckets, each sorted by the full comparison, concatenate to the sorted sequence.
/// Points with equal x (including −0 and +0) share a bucket. Non-finite or equal extremes fall
/// back to the comparison sort. (Points equal under `total_cmp` are bitwise equal, so unstable
/// sorts give the same sequence as a stable one.) `scratch` holds the bucket bounds and ids.
fn sort_points(points: &[[f64; 2]], sorted: &mut Vec<[f64; 2]>, scratch: &mut Vec<u32>) {
    let by_x_then_y = |a: &[f64; 2], b: &[f64; 2]| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1]));
    sorted.clear();
    let (lo, hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
    let buckets = points.len();
    let scale = buckets as f64 / (hi - lo);
    if points.len() < 64 || !scale.is_finite() || scale <= 0.0 || points.iter().any(|p| !p[0].is_finite()) {
        sorted.extend_from_slice(points);
        sorted.sort_unstable_by(by_x_then_y);
        return;
    }
    let bucket = |x: f64| (((x - lo) * scale) as usize).min(buckets - 1);
    // Counting sort by bucket: counts, then exclusive prefix sums as write cursors.
    scratch.clear();
    scratch.resize(2 * buckets + 1, 0);
    let (bucket_starts, bucket_of) = scratch.split_at_mut(buckets + 1);
    for (p, of) in points.iter().zip(bucket_of.iter_mut()) {
        let b = bucket(p[0]);
        *of = b as u32;
        bucket_starts[b + 1] += 1;
    }
    for b in 0..buckets {
        bucket_starts[b + 1] += bucket_starts[b];
    }
    sorted.resize(points.len(), [0.0; 2]);
    // bucket_starts[b] is now the start of bucket b; use it as the write cursor.
    for (p, &b) in points.iter().zip(bucket_of.iter()) {
        let b = b as usize;
        sorted[bucket_starts[b] as usize] = *p;
        bucket_starts[b] += 1;
    }
    // After the scatter, bucket_starts[b] is the end of bucket b (= start of b + 1).
    let mut begin = 0;
    for &bucket_end in &bucket_starts[..buckets] {
        let end = bucket_end as usize;
        let run = &mut sorted[begin..end];
        if run.len() > 16 {
            run.sort_unstable_by(by_x_then_y);
        } else {
            // Insertion sort: buckets hold one or two points on average.
            for i in 1..run.len() {
                let mut j = i;
                while j > 0 && by_x_then_y(&run[j - 1], &run[j]).is_gt() {
                    run.swap(j - 1, j);
                    j -= 1;
                }
            }
        }
        begin = end;
    }
}

/// Minimum-area enclosing rectangle of a convex polygon (counter-clockwise, as [`hull_2d`]
/// gives): (area, unit side direction, side lengths along that direction and its
/// perpendicular). Tries the x axis, then every polygon edge direction in order, keeping the
/// first of least area.
///
/// For each direction the extents are `max − min` of the projections `p·dir` and `p·perp`,
/// the very numbers a scan of all vertices would compare; the extreme vertices are found by
/// rotating calipers ([`caliper_max`]), which advance monotonically around the polygon, so the
/// whole search is O(P) (plus short checks near each extreme) instead of O(P²).
fn min_area_rectangle(polygon: &[[f64; 2]]) -> (f64, [f64; 2], [f64; 2]) {
    let mut best = {
        let s = extents_full_scan(polygon, [1.0, 0.0]);
        (s[0] * s[1], [1.0, 0.0], s)
    };
    // The slack of `caliper_max`: far above the rounding error of a projection (≈ 2⁻⁵² of
    // |x| + |y|) and of the chain's near-convexity, far below the spacing of distinct vertices.
    let scale = polygon.iter().fold(0.0f64, |m, p| m.max(p[0].abs() + p[1].abs()));
    let slack = 1e-6 * scale;
    // Caliper positions: vertex of largest p·dir, of smallest p·dir, of largest p·perp.
    let (mut a_max, mut a_min, mut b_max) = (0, 0, 0);
    for i in 0..polygon.len() {
        let (p, q) = (polygon[i], polygon[(i + 1) % polygon.len()]);
        let e = [q[0] - p[0], q[1] - p[1]];
        let len = (e[0] * e[0] + e[1] * e[1]).sqrt();
        if len == 0.0 {
            continue;
        }
        let dir = [e[0] / len, e[1] / len];
        let perp = [-dir[1], dir[0]];
        let along = |p: [f64; 2]| p[0] * dir[0] + p[1] * dir[1];
        let across = |p: [f64; 2]| p[0] * perp[0] + p[1] * perp[1];
        let a1;
        (a_max, a1) = caliper_max(polygon, a_max, along, slack);
        let neg_a0;
        (a_min, neg_a0) = caliper_max(polygon, a_min, |p| -along(p), slack);
        let b1;
        (b_max, b1) = caliper_max(polygon, b_max, across, slack);
        // perp points into the polygon, so the edge itself is the low side across.
        let (_, neg_b0) = caliper_max(polygon, i, |p| -across(p), slack);
        let s = [a1 - -neg_a0, b1 - -neg_b0];
        if s[0] * s[1] < best.0 {
            best = (s[0] * s[1], dir, s);
        }
    }
    best
}

/// `[max − min of p·dir, max − min of p·perp]` over all vertices.
fn extents_full_scan(polygon: &[[f64; 2]], dir: [f64; 2]) -> [f64; 2] {
    let perp = [-dir[1], dir[0]];
    let (mut a0, mut a1, mut b0, mut b1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for p in polygon {
        let a = p[0] * dir[0] + p[1] * dir[1];
        let b = p[0] * perp[0] + p[1] * perp[1];
        a0 = a0.min(a);
        a1 = a1.max(a);
        b0 = b0.min(b);
        b1 = b1.max(b);
    }
    [a1 - a0, b1 - b0]
}

/// The largest value of the computed linear function `f` over the polygon's vertices, and a
/// vertex attaining it, starting from the guess `start` (the caliper's previous position).
///
/// Climbs forward while `f` strictly increases, giving a vertex k with value M. Then every
/// vertex within `slack` of M is visited, walking both ways from k while `f ≥ M − slack`.
/// Why this finds the exact maximum of the *computed* values: let δ bound the rounding error
/// of `f` (|f − f_exact| ≤ δ) and of the polygon's convexity. Any vertex with `f ≥ M` has
/// `f_exact ≥ M − δ`; on a convex polygon the vertices with `f_exact ≥ M − δ` form one
/// contiguous arc containing k, and on that arc `f ≥ M − 2δ`; with `slack ≥ 2δ` both walks
/// run at least to the arc's ends. Correct from any start; a good start makes it O(1).
fn caliper_max(polygon: &[[f64; 2]], start: usize, f: impl Fn([f64; 2]) -> f64, slack: f64) -> (usize, f64) {
    let n = polygon.len();
    let mut k = start;
    let mut value = f(polygon[k]);
    for _ in 1..n {
        let next = if k + 1 == n { 0 } else { k + 1 };
        let next_value = f(polygon[next]);
        if next_value > value {
            (k, value) = (next, next_value);
        } else {
            break;
        }
    }
    let threshold = value - slack;
    let (mut best, mut best_value) = (k, value);
    let mut visited = 1;
    let mut j = k;
    while visited < n {
        j = if j + 1 == n { 0 } else { j + 1 };
        let fj = f(polygon[j]);
        if fj < threshold {
            break;
        }
        visited += 1;
        if fj > best_value {
            (best, best_value) = (j, fj);
        }
    }
    let mut j = k;
    while visited < n {
        j = if j == 0 { n - 1 } else { j - 1 };
        let fj = f(polygon[j]);
        if fj < threshold {
            break;
        }
        visited += 1;
        if fj > best_value {
            (best, best_value) = (j, fj);
        }
    }
    (best, best_value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::f64::consts::PI;

    /// The straightforward versions the fast ones must reproduce bit for bit: a full
    /// comparison sort before the monotone chain, and a scan of every vertex for every edge.
    mod reference {
        use super::*;

        pub fn hull_2d(mut pts: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
            pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
            pts.dedup();
            if pts.len() < 3 {
                return pts;
            }
            let turn =
                |o: [f64; 2], a: [f64; 2], b: [f64; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
            let mut ring: Vec<[f64; 2]> = Vec::new();
            for pass in 0..2 {
                let start = ring.len();
                let seq: Vec<[f64; 2]> = if pass == 0 { pts.clone() } else { pts.iter().rev().copied().collect() };
                for p in seq {
                    while ring.len() >= start + 2 && turn(ring[ring.len() - 2], ring[ring.len() - 1], p) <= 0.0 {
                        ring.pop();
                    }
                    ring.push(p);
                }
                ring.pop();
            }
            ring
        }

        pub fn min_area_rectangle(polygon: &[[f64; 2]]) -> (f64, [f64; 2], [f64; 2]) {
            let mut best = {
                let s = extents_full_scan(polygon, [1.0, 0.0]);
                (s[0] * s[1], [1.0, 0.0], s)
            };
            for i in 0..polygon.len() {
                let (p, q) = (polygon[i], polygon[(i + 1) % polygon.len()]);
                let e = [q[0] - p[0], q[1] - p[1]];
                let len = (e[0] * e[0] + e[1] * e[1]).sqrt();
                if len == 0.0 {
                    continue;
                }
                let dir = [e[0] / len, e[1] / len];
                let s = extents_full_scan(polygon, dir);
                if s[0] * s[1] < best.0 {
                    best = (s[0] * s[1], dir, s);
                }
            }
            best
        }

        /// The OMBB as computed before the fast paths, serially.
        pub fn oriented_minimum_bounding_box(hull: &ConvexHull) -> Option<OrientedBox> {
            let mut best: Option<(OrientedBox, f64)> = None;
            for n in candidate_axes(hull) {
                let (u, v) = perpendicular_basis(n);
                let heights = hull.vertices.iter().map(|p| dot(*p, n));
                let (hmin, hmax) =
                    heights.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), h| (lo.min(h), hi.max(h)));
                let projected: Vec<[f64; 2]> = hull.vertices.iter().map(|p| [dot(*p, u), dot(*p, v)]).collect();
                let (rect_area, dir, sides) = min_area_rectangle(&hull_2d(projected));
                let e1 = [0, 1, 2].map(|c| dir[0] * u[c] + dir[1] * v[c]);
                let candidate = OrientedBox { axes: [e1, cross(n, e1), n], lengths: [sides[0], sides[1], hmax - hmin] };
                let volume = rect_area * (hmax - hmin);
                if best.is_none_or(|(_, v)| volume < v) {
                    best = Some((candidate, volume));
                }
            }
            best.map(|(b, _)| b)
        }
    }

    fn bits2(p: [f64; 2]) -> [u64; 2] {
        p.map(f64::to_bits)
    }

    fn rectangle_bits(r: (f64, [f64; 2], [f64; 2])) -> (u64, [u64; 2], [u64; 2]) {
        (r.0.to_bits(), bits2(r.1), bits2(r.2))
    }

    fn box_bits(b: OrientedBox) -> ([[u64; 3]; 3], [u64; 3]) {
        (b.axes.map(|a| a.map(f64::to_bits)), b.lengths.map(f64::to_bits))
    }

    fn new_hull_2d(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
        let (mut sorted, mut starts, mut ring) = (Vec::new(), Vec::new(), Vec::new());
        hull_2d(points, &mut sorted, &mut starts, &mut ring);
        ring
    }

    /// A convex polygon, counter-clockwise: `angles` (sorted here) on an ellipse with semi-axes
    /// `semi`, rotated by `tilt` and shifted by `centre`; `extras[i]` after vertex i inserts
    /// nothing (0), a copy of vertex i (1, a duplicate) or the midpoint of edge i (2, collinear
    /// up to rounding) or three points evenly along edge i (3).
    fn convex_polygon(
        mut angles: Vec<f64>,
        semi: [f64; 2],
        tilt: f64,
        centre: [f64; 2],
        extras: &[u8],
    ) -> Vec<[f64; 2]> {
        angles.sort_by(f64::total_cmp);
        let (s, c) = tilt.sin_cos();
        let corners: Vec<[f64; 2]> = angles
            .iter()
            .map(|t| {
                let (x, y) = (semi[0] * t.cos(), semi[1] * t.sin());
                [centre[0] + c * x - s * y, centre[1] + s * x + c * y]
            })
            .collect();
        let mut polygon = Vec::new();
        for (i, &p) in corners.iter().enumerate() {
            polygon.push(p);
            let q = corners[(i + 1) % corners.len()];
            let along = |t: f64| [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
            match extras.get(i).copied().unwrap_or(0) % 4 {
                1 => polygon.push(p),
                2 => polygon.push(along(0.5)),
                3 => polygon.extend([along(0.25), along(0.5), along(0.75)]),
                _ => {}
            }
        }
        polygon
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn calipers_match_full_scan_on_convex_polygons(
            angles in proptest::collection::vec(0.0..2.0 * PI, 1..60),
            semi in (0.01f64..200.0, 0.01f64..200.0),
            tilt in 0.0..PI,
            centre in (-500.0f64..500.0, -500.0f64..500.0),
            extras in proptest::collection::vec(0u8..8, 0..60),
        ) {
            let polygon = convex_polygon(angles, [semi.0, semi.1], tilt, [centre.0, centre.1], &extras);
            prop_assert_eq!(
                rectangle_bits(min_area_rectangle(&polygon)),
                rectangle_bits(reference::min_area_rectangle(&polygon))
            );
        }

        #[test]
        fn calipers_match_full_scan_on_projected_lattice_hulls(
            points in proptest::collection::vec((0i32..6, 0i32..6, 0i32..6), 1..120),
            axis in (-1.0f64..1.0, -1.0f64..1.0, -1.0f64..1.0),
            spacing in (0.3f64..3.0, 0.3f64..3.0, 0.3f64..3.0),
        ) {
            // Lattice points project to many near-duplicates and near-collinear triples, the
            // inputs on which floating-point hulls are fragile.
            let len = (axis.0 * axis.0 + axis.1 * axis.1 + axis.2 * axis.2).sqrt();
            prop_assume!(len > 1e-3);
            let n = [axis.0 / len, axis.1 / len, axis.2 / len];
            let (u, v) = perpendicular_basis(n);
            let projected: Vec<[f64; 2]> = points
                .iter()
                .map(|&(x, y, z)| {
                    let p = [x as f64 * spacing.0 + 40.0, y as f64 * spacing.1 - 17.0, z as f64 * spacing.2];
                    [dot(p, u), dot(p, v)]
                })
                .collect();
            let polygon = new_hull_2d(&projected);
            prop_assert_eq!(
                polygon.iter().map(|p| bits2(*p)).collect::<Vec<_>>(),
                reference::hull_2d(projected).iter().map(|p| bits2(*p)).collect::<Vec<_>>()
            );
            prop_assert_eq!(
                rectangle_bits(min_area_rectangle(&polygon)),
                rectangle_bits(reference::min_area_rectangle(&polygon))
            );
        }

        #[test]
        fn bucket_sorted_hull_matches_comparison_sorted_hull(
            coords in proptest::collection::vec((-8i32..8, -8i32..8), 0..400),
            scale in prop_oneof![Just(1.0), 1e-3f64..1e3],
            cluster in 0usize..3,
        ) {
            // Small integer grids give exact duplicates, equal x (ties broken by y), ±0 and
            // exactly collinear runs; `cluster` squeezes part of the points together so that
            // some buckets overflow into the comparison-sort path.
            let points: Vec<[f64; 2]> = coords
                .iter()
                .enumerate()
                .map(|(i, &(x, y))| {
                    let squeeze = if cluster > 0 && i % (cluster + 1) == 0 { 1e-9 } else { 1.0 };
                    [x as f64 * scale * squeeze, y as f64 * scale]
                })
                .chain(std::iter::once([-0.0, 0.0]))
                .collect();
            let mut sorted = Vec::new();
            sort_points(&points, &mut sorted, &mut Vec::new());
            let mut expected = points.clone();
            expected.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
            prop_assert_eq!(
                sorted.iter().map(|p| bits2(*p)).collect::<Vec<_>>(),
                expected.iter().map(|p| bits2(*p)).collect::<Vec<_>>()
            );
            prop_assert_eq!(
                new_hull_2d(&points).iter().map(|p| bits2(*p)).collect::<Vec<_>>(),
                reference::hull_2d(points).iter().map(|p| bits2(*p)).collect::<Vec<_>>()
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn ombb_matches_reference_on_lattice_blobs(
            points in proptest::collection::vec((0i64..12, 0i64..12, 0i64..12), 4..150),
            spacing in (0.3f64..3.0, 0.3f64..3.0, 0.3f64..3.0),
        ) {
            let hull = ConvexHull::of_lattice(
                &points.iter().map(|&(x, y, z)| [x, y, z]).collect::<Vec<_>>(),
                [spacing.0, spacing.1, spacing.2],
            );
            prop_assert_eq!(
                oriented_minimum_bounding_box(&hull).map(box_bits),
                reference::oriented_minimum_bounding_box(&hull).map(box_bits)
            );
        }
    }

    #[test]
    fn ombb_matches_reference_on_an_anisotropic_ellipsoid() {
        // A voxelised ellipsoid on a 0.8 × 0.8 × 2 mm grid (the synthetic case's shape, smaller):
        // hundreds of hull vertices, with the coplanar faces and vertices that differ only along
        // a projection axis that voxel hulls are made of.
        use ndarray::ShapeBuilder;
        let spacing = [0.8, 0.8, 2.0];
        let semi = [13.0, 10.0, 8.0];
        let half = semi.map(|s| s as usize + 2);
        let dims = [0, 1, 2].map(|a| 2 * (half[a] as f64 / spacing[a]).ceil() as usize + 1);
        let centre = dims.map(|d| (d / 2) as f64);
        let mask = ndarray::Array3::from_shape_fn((dims[0], dims[1], dims[2]).f(), |(x, y, z)| {
            let p = [x, y, z];
            (0..3).map(|a| ((p[a] as f64 - centre[a]) * spacing[a] / semi[a]).powi(2)).sum::<f64>() <= 1.0
        });
        let hull = ConvexHull::of_mesh(&super::super::surface_mesh(&mask, spacing));
        assert!(hull.vertices.len() > 200, "{}", hull.vertices.len());
        let fast = oriented_minimum_bounding_box(&hull).unwrap();
        assert_eq!(box_bits(fast), box_bits(reference::oriented_minimum_bounding_box(&hull).unwrap()));
        // Sanity: the box encloses the ellipsoid (2·semi per axis, up to the half-voxel mesh).
        assert!(fast.volume() < 8.0 * semi.iter().product::<f64>() * 1.2, "{fast:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The hull's vertices hold the farthest pair: the same largest squared distance as
        /// every pair compared, on lattice points (with their collinear and repeated points)
        /// as on scattered ones.
        #[test]
        fn max_squared_distance_matches_all_pairs(
            lattice in proptest::collection::vec((0i64..15, 0i64..15), 0..80),
            scattered in proptest::collection::vec((-50.0f64..50.0, -50.0f64..50.0), 0..40),
            spacing in (0.3f64..3.0, 0.3f64..3.0),
        ) {
            let points: Vec<[f64; 2]> =
                lattice.iter().map(|&(x, y)| [x as f64 * spacing.0, y as f64 * spacing.1]).collect();
            for set in [points, scattered.iter().map(|&(x, y)| [x, y]).collect()] {
                let mut all = 0.0f64;
                for (k, a) in set.iter().enumerate() {
                    for b in &set[k + 1..] {
                        all = all.max((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2));
                    }
                }
                prop_assert_eq!(max_squared_distance_2d(&set).to_bits(), all.to_bits());
            }
        }
    }

    #[test]
    fn ombb_finds_a_rotated_box() {
        // Lattice box 8×4×2 (doubled units) rotated 45° about z: the hull of
        // x' = x − y, y' = x + y keeps the box shape scaled by √2 in-plane, so the OMBB has
        // sides 8√2, 4√2, 2 (volume 128) while the AABB is 12×12×2 (volume 288).
        let mut pts = Vec::new();
        for x in 0..=8i64 {
            for y in 0..=4i64 {
                for z in 0..=2i64 {
                    pts.push([x - y, x + y, z]);
                }
            }
        }
        let hull = ConvexHull::of_lattice(&pts, [1.0; 3]);
        let b = oriented_minimum_bounding_box(&hull).unwrap();
        assert!((b.volume() - 128.0).abs() < 1e-9, "{b:?}");
        let mut l = b.lengths;
        l.sort_by(|x, y| y.total_cmp(x));
        assert!((l[0] - 8.0 * 2f64.sqrt()).abs() < 1e-9 && (l[1] - 4.0 * 2f64.sqrt()).abs() < 1e-9);
    }
}
