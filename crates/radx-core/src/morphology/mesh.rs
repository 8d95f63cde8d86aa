//! Marching-cubes surface mesh of the morphological mask (IBSI 3.1, "Mesh-based
//! representation"), with the mesh volume (`RNU0`) and surface area (`C0JK`).
//!
//! The mask is treated as a 0/1 field padded by one background voxel on every side and cut
//! at iso-level 0.5, so every mesh vertex sits at the midpoint of a grid edge joining an ROI
//! voxel centre to a background voxel centre. Vertices shared by neighbouring cubes are
//! stored once.
//!
//! # How the case table is built (and why the mesh is always closed)
//! Instead of a hand-typed 256-entry table, the table is derived at first use from one rule
//! per cube *face*: on each face the iso-contour joins the crossed face edges, and on an
//! ambiguous face (two ROI corners on a diagonal, the other two background) the contour cuts
//! off the two ROI corners, i.e. diagonal-only neighbours are *not* joined through that face.
//! (For a binary field the asymptotic decider of Lewiner et al. ties exactly on such faces, so a
//! convention is needed; this one treats the ROI as face-connected.) Both cubes sharing a
//! face see the same four corner values and apply the same rule, so their contour segments on
//! that face coincide: every mesh edge lying on a cube face is used by exactly two triangles,
//! with opposite directions. Inside a cube the segments chain into closed loops (directed so
//! that normals point out of the ROI); each loop is triangulated without ever drawing a diagonal
//! between two vertices on the same cube face (such a diagonal would lie in the face and be
//! shared with the neighbouring cube).
//!
//! # Which triangulation of a loop (and why it is ranked in voxel units)
//! For planar loops every triangulation has the same area; the non-planar pentagons and
//! hexagons need a choice. Candidates are ranked lexicographically by
//! 1. area in *voxel units* (largest first), then enclosed volume in voxel units (largest first):
//!    this alone fixes the triangulation of almost every loop, independently of the spacing,
//!    as a hand-typed case table does;
//! 2. area, then volume, in mm (largest first): only to break the remaining ties between
//!    triangulations that are mirror images of each other in voxel units.
//!
//! For every case without an ambiguous face this reproduces, cube by cube, the mesh area of
//! scikit-image's `measure.marching_cubes` (Lorensen and Lewiner tables), which most IBSI teams
//! used, at isotropic and anisotropic spacings (checked during development at 1×1×1,
//! 0.977×0.977×3, 1×2×3 and 2×2×3 mm). Ranking by the area in mm instead, as an earlier
//! version did, picks other, larger pentagon and hexagon triangulations on anisotropic voxels
//! (see the `three_corner_pentagon_…` test): the same mesh on isotropic grids, but on the CT
//! phantom's 0.977×0.977×3 mm voxels (configuration A) it made
//! the area 35979 mm² instead of 35702 mm² (reference 35700 ± 300) and failed compactness,
//! sphericity, asphericity and the AABB area density. With this rule: digital phantom
//! 556.33 mm³ / 388.07 mm² (references 556 ± 4, 388 ± 3); CT configuration A 358415 mm³ /
//! 35702 mm² (scikit-image Lewiner 358418 / 35706, Lorensen 358408 / 35702; the small rest
//! comes from cubes with ambiguous faces, which those tables resolve their own way).
//!
//! Every criterion is invariant under the cube's rotations and reflections (with the spacing
//! permuted alike), so symmetric cases get symmetric triangulations and the mesh volume and area
//! are invariant under flips and axis permutations of the ROI. The table is built once per
//! spacing and cached.

use std::sync::{Arc, Mutex, OnceLock};

use ndarray::Array3;

use crate::volume::BoundingBox;

/// A closed, consistently oriented triangle mesh in millimetres.
///
/// Triangles are counter-clockwise seen from outside the ROI (normals by the right-hand rule
/// point outwards), every edge is shared by exactly two triangles, and vertex `v` has
/// coordinates `half_index(v) / 2 · spacing` where `half_index` is an integer triple, i.e.
/// vertices lie on the half-voxel lattice of the mask (index 0 is the first voxel of the mask
/// array, so the padding makes coordinates as low as −0.5 voxel).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mesh {
    /// Vertex positions in mm, `(i·sx, j·sy, k·sz)` with half-integer or integer indices.
    pub vertices: Vec<[f64; 3]>,
    /// Triangles as indices into `vertices`, oriented outwards.
    pub triangles: Vec<[u32; 3]>,
    /// The voxel spacing (mm) the mesh was built with.
    pub spacing: [f64; 3],
}

impl Mesh {
    /// Mesh volume (IBSI 3.1.1, `RNU0`): `|Σ a·(b×c)| / 6` over the faces, the signed
    /// tetrahedra spanned by each face and the origin.
    ///
    /// The vertices are first shifted by the first vertex, which leaves the sum unchanged on a
    /// closed mesh but keeps the terms small (less cancellation far from the origin).
    pub fn volume(&self) -> f64 {
        let Some(&o) = self.vertices.first() else { return 0.0 };
        let rel = |v: [f64; 3]| [v[0] - o[0], v[1] - o[1], v[2] - o[2]];
        let six_v: f64 = self
            .triangles
            .iter()
            .map(|t| {
                let [a, b, c] = t.map(|i| rel(self.vertices[i as usize]));
                dot(a, cross(b, c))
            })
            .sum();
        (six_v / 6.0).abs()
    }

    /// Mesh surface area (IBSI 3.1.3, `C0JK`): `Σ |ab × ac| / 2` over the faces.
    pub fn area(&self) -> f64 {
        triangle_area(&self.vertices, &self.triangles)
    }

    /// Vertex positions on the doubled index lattice: `round(2·v / spacing)`, exact integers.
    /// Exact coordinates let the convex hull use exact orientation tests.
    pub fn half_index_vertices(&self) -> Vec<[i64; 3]> {
        let s = self.spacing;
        self.vertices.iter().map(|v| [0, 1, 2].map(|a| (2.0 * v[a] / s[a]).round() as i64)).collect()
    }
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

/// Total area `Σ |ab × ac| / 2` of `triangles` over `vertices` (mesh and convex hull).
pub(crate) fn triangle_area(vertices: &[[f64; 3]], triangles: &[[u32; 3]]) -> f64 {
    triangles
        .iter()
        .map(|t| {
            let [a, b, c] = t.map(|i| vertices[i as usize]);
            0.5 * norm(cross(sub(b, a), sub(c, a)))
        })
        .sum()
}

/// Marching-cubes surface mesh of `mask` (IBSI 3.1 mesh-based representation): the mask is
/// padded by one background voxel, cut at iso-level 0.5 with vertices at edge midpoints,
/// coordinates `index × spacing` in mm. An empty mask gives an empty mesh.
///
/// Only the cubes around the mask's bounding box are visited, so an uncropped mask costs a
/// bounding-box scan plus work proportional to the box.
pub fn surface_mesh(mask: &Array3<bool>, spacing: [f64; 3]) -> Mesh {
    let Some(bbox) = BoundingBox::of_mask(mask) else {
        return Mesh { vertices: Vec::new(), triangles: Vec::new(), spacing };
    };
    let table = case_table(spacing);
    // Cube (x, y, z) has corners at voxels (x + dx, y + dy, z + dz), dx, dy, dz ∈ {0, 1};
    // cubes start one voxel before the box so the padding ring is meshed.
    let lo = bbox.min.map(|m| m as i64 - 1);
    let hi = bbox.max.map(|m| m as i64);
    // Keys identify grid edges globally: (corner voxel shifted by the padding) × 3 + axis.
    let key_dims = [hi[0] - lo[0] + 2, hi[1] - lo[1] + 2];
    let mut corner_keys: Vec<u64> = Vec::new();
    for_each_cube(mask, lo, hi, |x, y, z, case| {
        for tri in &table[case] {
            for &e in tri {
                let (corner, axis) = EDGES[e as usize];
                let off = CORNERS[corner];
                let p = [x + off[0] - lo[0], y + off[1] - lo[1], z + off[2] - lo[2]];
                let lin = (p[2] * key_dims[1] + p[1]) * key_dims[0] + p[0];
                corner_keys.push(lin as u64 * 3 + axis as u64);
            }
        }
    });
    // Each triangle corner's vertex is its key's rank among the distinct keys: sorting the
    // keys with their positions gives the ranks in one sweep (a search per corner was half
    // of this function's time).
    let mut by_key: Vec<(u64, u32)> = corner_keys.iter().enumerate().map(|(at, &k)| (k, at as u32)).collect();
    by_key.sort_unstable();
    let mut unique: Vec<u64> = Vec::new();
    let mut corners = vec![0u32; corner_keys.len()];
    for &(key, at) in &by_key {
        if unique.last() != Some(&key) {
            unique.push(key);
        }
        corners[at as usize] = (unique.len() - 1) as u32;
    }
    let vertices = unique
        .iter()
        .map(|&k| {
            let axis = (k % 3) as usize;
            let lin = (k / 3) as i64;
            let p = [lin % key_dims[0], (lin / key_dims[0]) % key_dims[1], lin / (key_dims[0] * key_dims[1])];
            let mut v = [0.0; 3];
            for a in 0..3 {
                let half = if a == axis { 0.5 } else { 0.0 };
                v[a] = ((p[a] + lo[a]) as f64 + half) * spacing[a];
            }
            v
        })
        .collect();
    let triangles = corners.chunks_exact(3).map(|t| [t[0], t[1], t[2]]).collect();
    Mesh { vertices, triangles, spacing }
}

/// The size of the mesh [`surface_mesh`] builds on a mask, counted without building it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MeshSize {
    /// Vertices: the grid edges the surface crosses, i.e. the face-adjacent pairs of a mask
    /// voxel and a background voxel (outside the array is background).
    pub vertices: u64,
    /// Triangles, from the case table cube by cube.
    pub triangles: u64,
}

/// A mask's bounding box with one background voxel on every side, as a flat `x`-fastest array.
struct PaddedMask {
    dims: [usize; 3],
    inside: Vec<bool>,
}

impl PaddedMask {
    fn of(mask: &Array3<bool>, bbox: &BoundingBox) -> PaddedMask {
        let view =
            mask.slice(ndarray::s![bbox.min[0]..=bbox.max[0], bbox.min[1]..=bbox.max[1], bbox.min[2]..=bbox.max[2]]);
        let mut inside = Vec::new();
        crate::iter::pad_with_zeros(&crate::components::x_fastest(view), bbox.dims(), &mut inside);
        PaddedMask { dims: bbox.dims().map(|n| n + 2), inside }
    }

    fn index(&self, x: usize, y: usize, z: usize) -> usize {
        x + self.dims[0] * (y + self.dims[1] * z)
    }
}

/// Capacity of a `Vec` grown by pushes to `n` elements (doubling from 4).
fn grown(n: u64) -> u64 {
    if n == 0 { 0 } else { n.next_power_of_two().max(4) }
}

impl MeshSize {
    /// The mesh of `mask` at `spacing` (the triangulation of ambiguous cubes depends on it).
    pub fn of(mask: &Array3<bool>, spacing: [f64; 3]) -> MeshSize {
        let Some(bbox) = BoundingBox::of_mask(mask) else { return MeshSize::default() };
        // The box padded by one background voxel, x fastest, so that neither count needs a
        // bounds check: counted at every memory check that builds a mesh, through
        // `Array3::get` and per-neighbour bounds tests it took 11 ms on the morphology
        // bench's 200k-voxel ROI (now ~4 ms).
        let padded = PaddedMask::of(mask, &bbox);
        let [nx, ny, nz] = padded.dims;
        let table = case_table(spacing);
        let offsets = CORNERS.map(|[x, y, z]| padded.index(x as usize, y as usize, z as usize));
        let (mut triangles, mut vertices) = (0u64, 0u64);
        let neighbours = [1, nx, nx * ny];
        for z in 0..nz - 1 {
            for y in 0..ny - 1 {
                let row = padded.index(0, y, z);
                for at in row..row + nx - 1 {
                    let mut case = 0usize;
                    for (c, &off) in offsets.iter().enumerate() {
                        case |= usize::from(padded.inside[at + off]) << c;
                    }
                    triangles += table[case].len() as u64;
                    // Each face between an ROI and a background voxel is a vertex; the pad
                    // makes every ROI voxel's six neighbours addressable.
                    if padded.inside[at] {
                        for step in neighbours {
                            vertices += u64::from(!padded.inside[at - step]) + u64::from(!padded.inside[at + step]);
                        }
                    }
                }
            }
        }
        MeshSize { vertices, triangles }
    }

    /// Bytes the finished mesh holds: three `f64` a vertex, three `u32` a triangle.
    pub fn bytes(&self) -> u64 {
        self.vertices.saturating_mul(24).saturating_add(self.triangles.saturating_mul(12))
    }

    /// Bytes [`surface_mesh`] holds at its end, the mesh included: each triangle corner's
    /// edge key (`u64`, pushed), the keys with their positions (16 bytes each), each
    /// corner's vertex number (`u32`), the distinct keys (`u64`, pushed), and the mesh.
    pub fn building_bytes(&self) -> u64 {
        let corners = self.triangles.saturating_mul(3);
        grown(corners)
            .saturating_mul(8)
            .saturating_add(corners.saturating_mul(16 + 4))
            .saturating_add(grown(self.vertices).saturating_mul(8))
            .saturating_add(self.bytes())
    }
}

/// Calls `visit(x, y, z, case)` for every marching cube `lo..=hi`: cube (x, y, z) has corners
/// at voxels (x + dx, y + dy, z + dz), dx, dy, dz ∈ {0, 1}; voxels outside `mask` are
/// background (the padding ring). `case` has bit `c` set when corner [`CORNERS`]`[c]` is in
/// the mask.
fn for_each_cube(mask: &Array3<bool>, lo: [i64; 3], hi: [i64; 3], mut visit: impl FnMut(i64, i64, i64, usize)) {
    let inside = |x: i64, y: i64, z: i64| -> bool {
        if x < 0 || y < 0 || z < 0 {
            return false;
        }
        mask.get((x as usize, y as usize, z as usize)).copied().unwrap_or(false)
    };
    for z in lo[2]..=hi[2] {
        for y in lo[1]..=hi[1] {
            for x in lo[0]..=hi[0] {
                let mut case = 0usize;
                for (c, off) in CORNERS.iter().enumerate() {
                    if inside(x + off[0], y + off[1], z + off[2]) {
                        case |= 1 << c;
                    }
                }
                visit(x, y, z, case);
            }
        }
    }
}

/// PyRadiomics-compatible mesh volume and surface area (mm³, mm²) of `mask`, as
/// PyRadiomics' shape class measures them (its `cshape.c`); not an IBSI measure.
///
/// PyRadiomics marches cubes over the mask cropped to its bounding box and padded by one
/// background voxel, with vertices at edge midpoints like [`surface_mesh`], but it does not
/// build a mesh: it sums the triangles' areas and signed tetrahedron volumes cube by cube.
/// Its case table covers only the configurations without the cube corner at offset
/// (x, y, z) = (0, 1, 1); a configuration with that corner in the ROI is looked up by its
/// complement, with the sign of the volume flipped. So on an ambiguous face (two ROI corners
/// on a diagonal) the ROI corners are cut off, as in the IBSI mesh, when that corner is
/// background, but joined when it is in the ROI. Neighbouring cubes can then disagree on a
/// shared face and the surface has small gaps, which is why the result differs from the
/// closed IBSI mesh by a few tenths of a percent. Loops are triangulated as in the IBSI
/// table (largest area in voxel units) except where several largest-area triangulations
/// enclose different volumes (the non-planar hexagon of four ROI corners in a chain): there
/// PyRadiomics' table takes the median volume, where the IBSI table takes the largest (on
/// PyRadiomics' resampled baselines at 2 mm isotropic this is 1/12 voxel per such cube).
/// Because the surface may be open, the
/// volume depends on the origin of the coordinates: like PyRadiomics, coordinates start at
/// the padding voxel before the bounding box.
pub fn pyradiomics_volume_area(mask: &Array3<bool>, spacing: [f64; 3]) -> (f64, f64) {
    let Some(bbox) = BoundingBox::of_mask(mask) else { return (0.0, 0.0) };
    let table = pyradiomics_case_table(spacing);
    let lo = bbox.min.map(|m| m as i64 - 1);
    let hi = bbox.max.map(|m| m as i64);
    let (mut six_volume, mut double_area) = (0.0, 0.0);
    for_each_cube(mask, lo, hi, |x, y, z, case| {
        // Cube position relative to the padding voxel before the box, in voxels.
        let base = [x - lo[0], y - lo[1], z - lo[2]].map(|v| v as f64);
        for tri in &table[case] {
            let [a, b, c] = tri.map(|e| {
                let m = edge_midpoint(e);
                [0, 1, 2].map(|k| (base[k] + m[k]) * spacing[k])
            });
            six_volume += dot(a, cross(b, c));
            double_area += norm(cross(sub(b, a), sub(c, a)));
        }
    });
    ((six_volume / 6.0).abs(), double_area / 2.0)
}

/// The cube corner whose membership decides, in PyRadiomics' table, whether a configuration
/// is looked up directly or by its complement: offset (x, y, z) = (0, 1, 1).
const PYRADIOMICS_FLIP_CORNER: usize = 6;

/// PyRadiomics' case table (see [`pyradiomics_volume_area`]): configurations without the
/// flip corner are triangulated directly (loops as in the IBSI table, median-volume choice
/// among equal-area triangulations); the others as their complement with every triangle
/// reversed, so normals still point out of the ROI.
fn pyradiomics_case_table(spacing: [f64; 3]) -> Arc<CaseTable> {
    cached_case_table(spacing, VolumeChoice::Median)
}

/// Corner `c` of a cube sits at offset `(c & 1, c >> 1 & 1, c >> 2 & 1)`.
const CORNERS: [[i64; 3]; 8] = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1]];

/// The 12 cube edges as (lower corner, axis); the upper corner is `lower | 1 << axis`.
const EDGES: [(usize, usize); 12] =
    [(0, 0), (2, 0), (4, 0), (6, 0), (0, 1), (1, 1), (4, 1), (5, 1), (0, 2), (1, 2), (2, 2), (3, 2)];

fn edge_between(a: usize, b: usize) -> usize {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    let axis = (hi ^ lo).trailing_zeros() as usize;
    EDGES.iter().position(|&(c, ax)| c == lo && ax == axis).unwrap_or(usize::MAX)
}

/// The six cube faces, corners listed counter-clockwise seen from outside the cube.
fn faces() -> [[usize; 4]; 6] {
    let mut out = [[0; 4]; 6];
    for axis in 0..3 {
        let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
        for side in 0..2 {
            // (u, v) in the cyclic order (0,0), (1,0), (1,1), (0,1) turns about +axis.
            let mut ring =
                [(0, 0), (1, 0), (1, 1), (0, 1)].map(|(du, dv): (usize, usize)| (side << axis) | (du << u) | (dv << v));
            if side == 0 {
                ring.reverse();
            }
            out[axis * 2 + side] = ring;
        }
    }
    out
}

/// Triangles (triples of cube-edge ids) for each of the 256 corner configurations, each
/// built on first use: enumerating a loop's triangulations is costly and a ROI meets only
/// some of the configurations.
struct CaseTable {
    spacing: [f64; 3],
    /// `Largest` for the IBSI table, `Median` for PyRadiomics'.
    choice: VolumeChoice,
    cases: [OnceLock<Vec<[u8; 3]>>; 256],
}

impl CaseTable {
    fn new(spacing: [f64; 3], choice: VolumeChoice) -> CaseTable {
        CaseTable { spacing, choice, cases: std::array::from_fn(|_| OnceLock::new()) }
    }
}

impl std::ops::Index<usize> for CaseTable {
    type Output = Vec<[u8; 3]>;

    fn index(&self, case: usize) -> &Vec<[u8; 3]> {
        self.cases[case].get_or_init(|| match self.choice {
            VolumeChoice::Largest => build_case(case, self.spacing, VolumeChoice::Largest),
            // PyRadiomics' table holds only configurations without the flip corner.
            VolumeChoice::Median if case >> PYRADIOMICS_FLIP_CORNER & 1 == 1 => {
                build_case(case ^ 0xff, self.spacing, VolumeChoice::Median).iter().map(|&[a, b, c]| [a, c, b]).collect()
            }
            VolumeChoice::Median => build_case(case, self.spacing, VolumeChoice::Median),
        })
    }
}

/// The IBSI case table for `spacing`, built on first use. The spacing only breaks ties between loop triangulations that are equally good
/// in voxel units (see the module docs).
fn case_table(spacing: [f64; 3]) -> Arc<CaseTable> {
    cached_case_table(spacing, VolumeChoice::Largest)
}

/// One cache for both tables, found by choice and spacing (a handful occur in one process).
fn cached_case_table(spacing: [f64; 3], choice: VolumeChoice) -> Arc<CaseTable> {
    static CACHE: Mutex<Vec<Arc<CaseTable>>> = Mutex::new(Vec::new());
    let key = spacing.map(f64::to_bits);
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(table) = cache.iter().find(|t| t.choice == choice && t.spacing.map(f64::to_bits) == key) {
        return Arc::clone(table);
    }
    let table = Arc::new(CaseTable::new(spacing, choice));
    if cache.len() >= 64 {
        cache.remove(0);
    }
    cache.push(Arc::clone(&table));
    table
}

/// Bit mask of the faces each edge lies on.
fn edge_face_masks() -> [u8; 12] {
    let mut masks = [0u8; 12];
    for (f, ring) in faces().iter().enumerate() {
        for i in 0..4 {
            masks[edge_between(ring[i], ring[(i + 1) % 4])] |= 1 << f;
        }
    }
    masks
}

fn build_case(case: usize, spacing: [f64; 3], choice: VolumeChoice) -> Vec<[u8; 3]> {
    let inside = |c: usize| case >> c & 1 == 1;
    // succ[e] = the edge where the contour leaves the face on which it enters through e.
    let mut succ = [usize::MAX; 12];
    for ring in faces() {
        let edge = |i: usize| edge_between(ring[i % 4], ring[(i + 1) % 4]);
        let ins: Vec<bool> = ring.iter().map(|&c| inside(c)).collect();
        let n_inside = ins.iter().filter(|&&b| b).count();
        let ambiguous = n_inside == 2 && ins[0] == ins[2];
        if ambiguous {
            // Cut off each ROI corner i: enter through edge i−1, leave through edge i.
            for i in 0..4 {
                if ins[i] {
                    succ[edge(i + 3)] = edge(i);
                }
            }
        } else if n_inside == 1 || n_inside == 2 || n_inside == 3 {
            // One entry edge (background → ROI walking counter-clockwise) and one exit edge.
            let entry = (0..4).find(|&i| !ins[i] && ins[(i + 1) % 4]);
            let exit = (0..4).find(|&i| ins[i] && !ins[(i + 1) % 4]);
            if let (Some(en), Some(ex)) = (entry, exit) {
                succ[edge(en)] = edge(ex);
            }
        }
    }
    let masks = edge_face_masks();
    let mut visited = [false; 12];
    let mut triangles = Vec::new();
    for start in 0..12 {
        if succ[start] == usize::MAX || visited[start] {
            continue;
        }
        let mut ring = Vec::new();
        let mut e = start;
        while !visited[e] {
            visited[e] = true;
            ring.push(e as u8);
            e = succ[e];
        }
        match choice {
            VolumeChoice::Largest => triangles.extend(largest_triangulation(&ring, &masks, spacing)),
            VolumeChoice::Median => triangles.extend(median_volume_triangulation(&ring, &masks, spacing)),
        }
    }
    triangles
}

/// Which of the largest-area triangulations of a loop (in voxel units) a table takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VolumeChoice {
    /// The one enclosing the largest volume (the IBSI table, see the module docs).
    Largest,
    /// The one whose enclosed volume is the median of the candidates' distinct volumes
    /// (PyRadiomics' table; see [`pyradiomics_volume_area`]).
    Median,
}

/// Every ear-clipping triangulation of `ring` whose diagonals never join two vertices on a
/// common cube face, with its [`rank`], in enumeration order.
fn all_triangulations(
    ring: &[u8],
    masks: &[u8; 12],
    spacing: [f64; 3],
    acc: &mut Vec<[u8; 3]>,
    out: &mut Vec<([f64; 4], Vec<[u8; 3]>)>,
) {
    let n = ring.len();
    if n == 3 {
        acc.push([ring[0], ring[1], ring[2]]);
        out.push((rank(acc, spacing), acc.clone()));
        acc.pop();
        return;
    }
    for i in 0..n {
        let prev = ring[(i + n - 1) % n];
        let next = ring[(i + 1) % n];
        if masks[prev as usize] & masks[next as usize] != 0 {
            continue;
        }
        acc.push([prev, ring[i], next]);
        let rest: Vec<u8> = ring.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, &e)| e).collect();
        all_triangulations(&rest, masks, spacing, acc, out);
        acc.pop();
    }
}

/// Among the triangulations of `ring` with the largest area in voxel units, those whose
/// volume in voxel units is the median of their distinct volumes (the upper one of an even
/// count); of these the first with the largest area, then volume, in mm.
fn median_volume_triangulation(ring: &[u8], masks: &[u8; 12], spacing: [f64; 3]) -> Vec<[u8; 3]> {
    const EPS: f64 = 1e-9;
    let mut candidates = Vec::new();
    all_triangulations(ring, masks, spacing, &mut Vec::new(), &mut candidates);
    let largest_area = candidates.iter().map(|(r, _)| r[0]).fold(f64::NEG_INFINITY, f64::max);
    candidates.retain(|(r, _)| r[0] > largest_area - EPS);
    let mut volumes: Vec<f64> = candidates.iter().map(|(r, _)| r[1]).collect();
    volumes.sort_by(f64::total_cmp);
    volumes.dedup_by(|a, b| (*a - *b).abs() < EPS);
    let Some(&median) = volumes.get(volumes.len() / 2) else { return Vec::new() };
    let mut best: Option<&([f64; 4], Vec<[u8; 3]>)> = None;
    for candidate in candidates.iter().filter(|(r, _)| (r[1] - median).abs() < EPS) {
        let better = match best {
            None => true,
            Some((b, _)) => {
                let (r, _) = candidate;
                r[2] > b[2] + EPS || (r[2] > b[2] - EPS && r[3] > b[3] + EPS)
            }
        };
        if better {
            best = Some(candidate);
        }
    }
    best.map(|(_, tris)| tris.clone()).unwrap_or_default()
}

/// Position of the midpoint of cube edge `e` in a unit cube (voxel units).
fn edge_midpoint(e: u8) -> [f64; 3] {
    let (corner, axis) = EDGES[e as usize];
    let mut p = CORNERS[corner].map(|c| c as f64);
    p[axis] += 0.5;
    p
}

/// How a candidate triangulation of one loop ranks (larger is better), compared
/// lexicographically: area and enclosed volume in voxel units, then area and volume in mm.
///
/// The volume is the signed volume of the cone from the cube corner 0 over the triangles; the
/// difference between two triangulations of one loop (the volume between them) does not depend
/// on that apex. Areas are doubled; a common factor does not change the ranking.
fn rank(triangles: &[[u8; 3]], spacing: [f64; 3]) -> [f64; 4] {
    let (mut area, mut volume, mut area_mm, mut volume_mm) = (0.0, 0.0, 0.0, 0.0);
    let mm = |p: [f64; 3]| [p[0] * spacing[0], p[1] * spacing[1], p[2] * spacing[2]];
    for t in triangles {
        let [a, b, c] = t.map(edge_midpoint);
        area += norm(cross(sub(b, a), sub(c, a)));
        volume += dot(a, cross(b, c));
        let [a, b, c] = [a, b, c].map(mm);
        area_mm += norm(cross(sub(b, a), sub(c, a)));
        volume_mm += dot(a, cross(b, c));
    }
    [area, volume, area_mm, volume_mm]
}

/// The triangulation of `ring` that ranks best by [`rank`] (lexicographically, with a 1e-9
/// tolerance; the first in enumeration order on a tie).
fn largest_triangulation(ring: &[u8], masks: &[u8; 12], spacing: [f64; 3]) -> Vec<[u8; 3]> {
    const EPS: f64 = 1e-9;
    let mut candidates = Vec::new();
    all_triangulations(ring, masks, spacing, &mut Vec::new(), &mut candidates);
    let better = |score: &[f64; 4], best: &[f64; 4]| {
        for (s, b) in score.iter().zip(best) {
            if *s > b + EPS {
                return true;
            }
            if *s < b - EPS {
                return false;
            }
        }
        false
    };
    let mut best: Option<&([f64; 4], Vec<[u8; 3]>)> = None;
    for candidate in &candidates {
        if best.is_none_or(|(b, _)| better(&candidate.0, b)) {
            best = Some(candidate);
        }
    }
    best.map(|(_, tris)| tris.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ShapeBuilder;

    #[test]
    fn every_case_triangulates_and_closes() {
        // Every crossed cube edge appears in the case's triangles.
        for case in 1..255usize {
            let tris = &case_table([1.0, 2.0, 3.0])[case];
            for (e, &(corner, axis)) in EDGES.iter().enumerate() {
                let crossed = (case >> corner & 1) != (case >> (corner | 1 << axis) & 1);
                let used = tris.iter().any(|t| t.contains(&(e as u8)));
                assert_eq!(crossed, used, "case {case} edge {e}");
            }
        }
    }

    /// One voxel: 6 vertices (its faces), 8 triangles. A 2 × 2 × 2 block: 24 faces, and a
    /// closed surface of one piece without holes has 2V − 4 triangles (Euler): 44. A ring
    /// of 8 voxels around an empty centre (one hole): 32 faces and 2V = 64 triangles. Random
    /// masks: the counts of the mesh built.
    #[test]
    fn the_mesh_size_is_counted_without_building_the_mesh() {
        let mut voxel = Array3::from_elem((1, 1, 1).f(), false);
        voxel[[0, 0, 0]] = true;
        assert_eq!(MeshSize::of(&voxel, [1.0; 3]), MeshSize { vertices: 6, triangles: 8 });
        let block = Array3::from_elem((2, 2, 2).f(), true);
        assert_eq!(MeshSize::of(&block, [1.0; 3]), MeshSize { vertices: 24, triangles: 44 });
        let ring = Array3::from_shape_fn((3, 3, 1).f(), |(x, y, _)| (x, y) != (1, 1));
        assert_eq!(MeshSize::of(&ring, [1.0; 3]), MeshSize { vertices: 32, triangles: 64 });
        let mut seed = 7u64;
        for _ in 0..20 {
            let mask = Array3::from_shape_fn((6, 5, 4).f(), |_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                seed >> 62 == 0
            });
            let mesh = surface_mesh(&mask, [0.8, 1.0, 2.5]);
            let counted = MeshSize { vertices: mesh.vertices.len() as u64, triangles: mesh.triangles.len() as u64 };
            assert_eq!(MeshSize::of(&mask, [0.8, 1.0, 2.5]), counted);
        }
        // Building the one-voxel mesh: 24 corner keys pushed (capacity 32, 8 bytes each), 24
        // keys with positions (16) and vertex numbers (4), 6 distinct keys pushed (capacity
        // 8), and the mesh (6 × 24 + 8 × 12).
        assert_eq!(MeshSize::of(&voxel, [1.0; 3]).building_bytes(), 32 * 8 + 24 * 20 + 8 * 8 + 6 * 24 + 8 * 12);
    }

    #[test]
    fn single_voxel_is_an_octahedron() {
        // One voxel: 6 vertices at ±0.5 along each axis, 8 faces; volume of the octahedron
        // with half-diagonals 0.5·s: (4/3)·(0.5·sx)(0.5·sy)(0.5·sz) = sx·sy·sz / 6.
        let mut m = Array3::from_elem((1, 1, 1).f(), false);
        m[[0, 0, 0]] = true;
        let mesh = surface_mesh(&m, [1.0, 2.0, 3.0]);
        assert_eq!(mesh.vertices.len(), 6);
        assert_eq!(mesh.triangles.len(), 8);
        assert!((mesh.volume() - 6.0 / 6.0).abs() < 1e-12);
        // Each face: triangle with vertices (0.5,0,0), (0,1,0), (0,0,1.5): area = |ab×ac|/2.
        let face = 0.5 * norm(cross([-0.5, 1.0, 0.0], [-0.5, 0.0, 1.5]));
        assert!((mesh.area() - 8.0 * face).abs() < 1e-12);
    }

    #[test]
    fn pyradiomics_single_voxel_is_the_octahedron() {
        // Same octahedron as above: volume sx·sy·sz / 6 = 1, area 8 faces of |(-½,1,0)×(-½,0,3/2)|/2.
        let mut m = Array3::from_elem((3, 3, 3).f(), false);
        m[[1, 1, 1]] = true;
        let (volume, area) = pyradiomics_volume_area(&m, [1.0, 2.0, 3.0]);
        let face = 0.5 * norm(cross([-0.5, 1.0, 0.0], [-0.5, 0.0, 1.5]));
        assert!((volume - 1.0).abs() < 1e-12, "{volume}");
        assert!((area - 8.0 * face).abs() < 1e-12, "{area}");
    }

    #[test]
    fn pyradiomics_measure_equals_the_ibsi_mesh_without_ambiguous_faces() {
        // A solid 3×4×2 box has no ambiguous face, so both tables give the same closed surface:
        // volume = box (3·4·2 voxels) minus the cut edges and corners, the same for both.
        let mut m = Array3::from_elem((5, 6, 4).f(), false);
        for x in 1..4 {
            for y in 1..5 {
                for z in 1..3 {
                    m[[x, y, z]] = true;
                }
            }
        }
        let spacing = [0.7, 1.3, 2.9];
        let mesh = surface_mesh(&m, spacing);
        let (volume, area) = pyradiomics_volume_area(&m, spacing);
        assert!((volume - mesh.volume()).abs() < 1e-9 * volume, "{volume} vs {}", mesh.volume());
        assert!((area - mesh.area()).abs() < 1e-9 * area, "{area} vs {}", mesh.area());
    }

    #[test]
    fn pyradiomics_joins_diagonal_voxels_when_the_flip_corner_is_set() {
        // Voxels (0,0,0) and (0,1,1) are diagonal neighbours on a face x = const. In the cube
        // starting at (0,0,0) they are corners 0 and 6 (the flip corner), so PyRadiomics joins
        // them by a tunnel (a larger area than the two cut-off corners of the IBSI mesh, which
        // keeps them apart); for the mirror pair (0,1,0), (0,0,1) no cube has the flip
        // corner set on that face and both measures agree.
        let spacing = [1.0, 1.0, 1.0];
        let pair = |a: [usize; 3], b: [usize; 3]| {
            let mut m = Array3::from_elem((2, 2, 2).f(), false);
            m[a] = true;
            m[b] = true;
            m
        };
        let joined = pair([0, 0, 0], [0, 1, 1]);
        let (_, area) = pyradiomics_volume_area(&joined, spacing);
        assert!(area > surface_mesh(&joined, spacing).area() + 1e-6);
        let apart = pair([0, 1, 0], [0, 0, 1]);
        let (volume, area) = pyradiomics_volume_area(&apart, spacing);
        let mesh = surface_mesh(&apart, spacing);
        assert!((volume - mesh.volume()).abs() < 1e-12 && (area - mesh.area()).abs() < 1e-12);
    }

    #[test]
    fn pyradiomics_chair_hexagon_takes_a_middle_volume() {
        // Case 163: ROI corners (0,0,0), (1,0,0), (1,0,1), (1,1,1), a chain whose loop is the
        // skew ("chair") hexagon through P2 = (½,0,1), P3 = (½,1,1), P11 = (1,1,½),
        // P5 = (1,½,0), P4 = (0,½,0), P8 = (0,0,½), all √½ from the cube centre. Several
        // triangulations share the largest area; the IBSI table keeps the largest volume, so
        // PyRadiomics' (middle) choice has the same area and a smaller volume.
        let measure = |tris: &[[u8; 3]]| {
            let r = rank(tris, [1.0; 3]);
            (r[0], r[1])
        };
        let (ibsi_area, ibsi_volume) = measure(&case_table([1.0; 3])[163]);
        let (pyr_area, pyr_volume) = measure(&pyradiomics_case_table([1.0; 3])[163]);
        assert!((ibsi_area - pyr_area).abs() < 1e-12);
        assert!(pyr_volume < ibsi_volume - 1e-6, "{pyr_volume} vs {ibsi_volume}");
    }

    /// Area (mm) of the triangles of `case` in a cube of the given spacing.
    fn case_area(case: usize, spacing: [f64; 3]) -> f64 {
        let mm = |p: [f64; 3]| [p[0] * spacing[0], p[1] * spacing[1], p[2] * spacing[2]];
        case_table(spacing)[case]
            .iter()
            .map(|t| {
                let [a, b, c] = t.map(|e| mm(edge_midpoint(e)));
                0.5 * norm(cross(sub(b, a), sub(c, a)))
            })
            .sum()
    }

    #[test]
    fn three_corner_pentagon_is_ranked_in_voxel_units() {
        // Case 7: ROI corners (0,0,0), (1,0,0), (0,1,0). The loop is the pentagon through the
        // edge midpoints P8 = (0,0,½), P9 = (1,0,½), P5 = (1,½,0), P1 = (½,1,0), P10 = (0,1,½)
        // (voxel units). In voxel units the fans from P9 and from P10 (mirror images) have the
        // largest area: for P9, ½ (the triangle P9 P10 P8 in z = ½) + √3/8 (P9 P5 P1, cross
        // product (¼,¼,¼)) + √3/4 (P9 P1 P10, cross product (½,½,½)) = ½ + 3√3/8 ≈ 1.1495,
        // against ≈ 1.1291 for the fans from P5 or P1 and ≈ 1.1217 from P8. At spacing 1×1×3
        // the fan from P9 is, with P9 = (1,0,1.5),
        // P5 = (1,0.5,0), P1 = (0.5,1,0), P10 = (0,1,1.5), P8 = (0,0,1.5):
        //   (P9,P10,P8): right triangle in z = 1.5 with legs 1, 1 → ½;
        //   (P9,P5,P1): (0,½,−3/2)×(−½,1,−3/2) = (¾,¾,¼), |·| = √19/4 → √19/8;
        //   (P9,P1,P10): (−½,1,−3/2)×(−1,1,0) = (3/2,3/2,½), |·| = √19/2 → √19/4;
        // total ½ + 3√19/8 ≈ 2.1346. (The fan from P5, the largest in mm, has ≈ 2.2368.)
        let want = 0.5 + 3.0 * 19f64.sqrt() / 8.0;
        assert!((case_area(7, [1.0, 1.0, 3.0]) - want).abs() < 1e-12, "{}", case_area(7, [1.0, 1.0, 3.0]));
    }

    #[test]
    fn voxel_unit_area_of_every_case_ignores_the_spacing() {
        // The spacing only breaks ties, so in voxel units every case keeps the area it has in
        // the isotropic table.
        for spacing in [[0.977, 0.977, 3.0], [1.0, 2.0, 3.0], [3.0, 0.5, 0.5]] {
            let table = case_table(spacing);
            for case in 0..256 {
                let vox = |tris: &[[u8; 3]]| -> f64 {
                    tris.iter()
                        .map(|t| {
                            let [a, b, c] = t.map(edge_midpoint);
                            norm(cross(sub(b, a), sub(c, a)))
                        })
                        .sum()
                };
                let iso = vox(&case_table([1.0; 3])[case]);
                assert!((vox(&table[case]) - iso).abs() < 1e-9, "case {case} at {spacing:?}");
            }
        }
    }

    /// Diagonal neighbours (through a face diagonal or the body diagonal) are not joined: on
    /// an ambiguous face each ROI corner is cut off alone, so the mesh is two separate
    /// octahedra. One octahedron has half-diagonals sx/2, sy/2, sz/2: volume
    /// (4/3)·(sx/2)(sy/2)(sz/2) = sx·sy·sz/6; each of its 8 faces has corners (sx/2,0,0),
    /// (0,sy/2,0), (0,0,sz/2), area ½·|(−sx/2,sy/2,0)×(−sx/2,0,sz/2)| = ⅛·|(sy·sz, sx·sz, sx·sy)|.
    /// At 0.5 × 1 × 2 mm: volume 2 · 1/6 = 1/3 mm³, area 16 · ⅛ · √(4 + 1 + 0.25) = 2√5.25 mm².
    #[test]
    fn diagonal_voxels_are_two_octahedra() {
        let spacing = [0.5, 1.0, 2.0];
        for other in [[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]] {
            let mut m = Array3::from_elem((2, 2, 2).f(), false);
            m[[0, 0, 0]] = true;
            m[other] = true;
            let mesh = surface_mesh(&m, spacing);
            assert_eq!((mesh.vertices.len(), mesh.triangles.len()), (12, 16), "{other:?}");
            assert!((mesh.volume() - 1.0 / 3.0).abs() < 1e-12, "{other:?}: {}", mesh.volume());
            assert!((mesh.area() - 2.0 * 5.25f64.sqrt()).abs() < 1e-12, "{other:?}: {}", mesh.area());
        }
    }

    /// Case 163 (ROI corners (0,0,0), (1,0,0), (1,0,1), (1,1,1): a chain of face neighbours
    /// around the cube) at 1 mm, worked by hand. The loop is the skew hexagon P2 = (½,0,1),
    /// P3 = (½,1,1), P11 = (1,1,½), P5 = (1,½,0), P4 = (0,½,0), P8 = (0,0,½); no two
    /// non-adjacent vertices share a cube face, so all 14 triangulations are candidates. Doubled
    /// triangle areas are |ab × ac|: a triangle of three consecutive vertices has √½ (e.g.
    /// (P11,P5,P4): (0,−½,−½)×(−1,−½,−½) = (0,½,−½)) and the largest total, √2 + √3 ≈ 3.1463,
    /// is reached by six triangulations, with two such triangles and two of √¾. Their volumes
    /// Σ a·(b × c) (six times the cone from corner 0) are ½, 0, 0, 0, 0 and −½. The largest,
    /// ½, is the fan-free one with diagonals P11–P4, P11–P8, P3–P8:
    ///   (P11,P5,P4): P5×P4 = (0,0,½), P11·it = ¼;   (P11,P4,P8): P4×P8 = (¼,0,0), ¼;
    ///   (P3,P11,P8): P11×P8 = (½,−½,0), −¼;         (P2,P3,P8): P3×P8 = (½,−¼,0), ¼.
    /// A table taking another of the equal-area candidates encloses 1/12 or 1/6 mm³ less.
    #[test]
    fn chair_hexagon_takes_the_hand_worked_triangulation() {
        let (p2, p3, p4, p5, p8, p11) = (2u8, 3u8, 4u8, 5u8, 8u8, 11u8);
        assert_eq!([p2, p3, p4, p5, p8, p11].map(edge_midpoint)[0], [0.5, 0.0, 1.0]);
        let sorted = |tris: &[[u8; 3]]| {
            let mut out: Vec<[u8; 3]> = tris
                .iter()
                .map(|t| {
                    let mut t = *t;
                    t.sort();
                    t
                })
                .collect();
            out.sort();
            out
        };
        let table = case_table([1.0; 3]);
        let want = sorted(&[[p11, p5, p4], [p11, p4, p8], [p3, p11, p8], [p2, p3, p8]]);
        assert_eq!(sorted(&table[163]), want);
        let [area, volume, _, _] = rank(&table[163], [1.0; 3]);
        assert!((area - (2f64.sqrt() + 3f64.sqrt())).abs() < 1e-12, "{area}");
        assert!((volume - 0.5).abs() < 1e-12, "{volume}");
    }
}
