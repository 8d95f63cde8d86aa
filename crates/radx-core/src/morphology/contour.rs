//! Marching-squares contour of a one-slice ROI, as PyRadiomics' `shape2D` class measures it
//! (not an IBSI feature: the IBSI defines morphology in 3D only, section 3.1; this is the 2D
//! analogue of its mesh-based representation, used by radx's PyRadiomics library).
//!
//! The slice is padded by one background pixel and cut at level 0.5, so every contour vertex
//! is the midpoint of a grid edge joining an ROI pixel centre to a background one. Each
//! marching square contributes one or two segments, oriented counter-clockwise around the ROI
//! (ROI on the left, x to the right and y up). PyRadiomics sums, square by square,
//! - the perimeter: the segments' lengths;
//! - the mesh surface: the signed areas `½ a × b` of the triangles from the origin over the
//!   segments (the shoelace formula on a closed contour);
//! - the maximum diameter: the largest distance between two contour vertices.
//!
//! On an ambiguous square (two ROI pixels on a diagonal, the other two background) the
//! contour either cuts off the two ROI corners or joins them. Like its 3D table
//! ([`super::mesh::pyradiomics_volume_area`]), PyRadiomics' 2D table holds only the
//! configurations without the corner at offset (x, y) = (0, 1) and looks the others up by
//! their complement: the ROI corners are cut off when that corner is background and joined
//! when it is in the ROI. As in PyRadiomics, coordinates start at the padding pixel before
//! the ROI's bounding box (the sum depends on that origin only if the contour is open).

use ndarray::Array2;

/// Contour measures of a one-slice ROI (mm, mm²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contour2d {
    /// Length of the contour (PyRadiomics `Perimeter`).
    pub perimeter: f64,
    /// Area enclosed by the contour (PyRadiomics `MeshSurface`).
    pub area: f64,
    /// Largest distance between two contour vertices (PyRadiomics `MaximumDiameter`).
    pub max_diameter: f64,
}

/// Square corners counter-clockwise: (0,0), (1,0), (1,1), (0,1). Edge `i` joins corner `i`
/// to corner `i + 1 (mod 4)`.
const SQUARE_CORNERS: [[usize; 2]; 4] = [[0, 0], [1, 0], [1, 1], [0, 1]];

/// The corner whose membership selects the complement rule on ambiguous squares: (0, 1).
const FLIP_CORNER: usize = 3;

/// Midpoint of square edge `e` in pixel units.
fn edge_midpoint(e: usize) -> [f64; 2] {
    let [a, b] = [SQUARE_CORNERS[e], SQUARE_CORNERS[(e + 1) % 4]];
    [(a[0] + b[0]) as f64 / 2.0, (a[1] + b[1]) as f64 / 2.0]
}

/// Oriented segments (from edge, to edge) of the square configuration `case` (bit `i` =
/// corner `i` in the ROI).
fn square_segments(case: usize) -> Vec<[usize; 2]> {
    let inside = |c: usize| case >> (c % 4) & 1 == 1;
    let ambiguous = case == 0b0101 || case == 0b1010;
    let join = ambiguous && inside(FLIP_CORNER);
    // Leaving the ROI through edge i (corner i in, corner i + 1 out) the contour turns
    // back into the square; it ends on the edge where the ROI is entered again.
    (0..4)
        .filter(|&i| inside(i) && !inside(i + 1))
        .map(|exit| {
            let entry = if join {
                // Around the background corner exit + 1: ROI re-entered on the next edge.
                (exit + 1) % 4
            } else {
                // Around the run of ROI corners ending at `exit`, back to where it began.
                let mut start = exit;
                while inside(start + 3) && (start + 3) % 4 != exit {
                    start = (start + 3) % 4;
                }
                (start + 3) % 4
            };
            [exit, entry]
        })
        .collect()
}

/// PyRadiomics-compatible contour measures of the ROI pixels of `mask` (indexed `[x, y]`) on
/// a grid of `spacing` (x, y) mm. `None` when the mask selects no pixel.
pub fn pyradiomics_contour_2d(mask: &Array2<bool>, spacing: [f64; 2]) -> Option<Contour2d> {
    let (nx, ny) = mask.dim();
    let mut lo = [usize::MAX; 2];
    let mut hi = [0usize; 2];
    for ((x, y), &m) in mask.indexed_iter() {
        if m {
            lo = [lo[0].min(x), lo[1].min(y)];
            hi = [hi[0].max(x), hi[1].max(y)];
        }
    }
    if lo[0] == usize::MAX {
        return None;
    }
    let inside =
        |x: i64, y: i64| x >= 0 && y >= 0 && (x as usize) < nx && (y as usize) < ny && mask[[x as usize, y as usize]];
    // Squares start one pixel before the box so the padding ring is contoured.
    let lo = lo.map(|v| v as i64 - 1);
    let hi = hi.map(|v| v as i64);
    let table: Vec<Vec<[usize; 2]>> = (0..16).map(square_segments).collect();
    let (mut perimeter, mut double_area) = (0.0, 0.0);
    let mut vertices: Vec<[f64; 2]> = Vec::new();
    for y in lo[1]..=hi[1] {
        for x in lo[0]..=hi[0] {
            let mut case = 0;
            for (c, off) in SQUARE_CORNERS.iter().enumerate() {
                if inside(x + off[0] as i64, y + off[1] as i64) {
                    case |= 1 << c;
                }
            }
            let base = [(x - lo[0]) as f64, (y - lo[1]) as f64];
            for &[from, to] in &table[case] {
                let [a, b] = [from, to].map(|e| {
                    let m = edge_midpoint(e);
                    [(base[0] + m[0]) * spacing[0], (base[1] + m[1]) * spacing[1]]
                });
                perimeter += ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
                double_area += a[0] * b[1] - a[1] * b[0];
                vertices.push(a);
            }
        }
    }
    // Every vertex starts one segment, so the segments' first points are all the vertices
    // (repeated where two squares share them, which does not change the maximum).
    vertices.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    vertices.dedup();
    let mut max_d2 = 0.0f64;
    for (k, a) in vertices.iter().enumerate() {
        for b in &vertices[k + 1..] {
            max_d2 = max_d2.max((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2));
        }
    }
    Some(Contour2d { perimeter, area: (double_area / 2.0).abs(), max_diameter: max_d2.sqrt() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(dims: (usize, usize), pixels: &[[usize; 2]]) -> Array2<bool> {
        let mut m = Array2::from_elem(dims, false);
        for &p in pixels {
            m[p] = true;
        }
        m
    }

    #[test]
    fn single_pixel_is_a_diamond() {
        // Vertices (±½ sx, 0), (0, ±½ sy): perimeter 4·√((sx/2)² + (sy/2)²), area sx·sy/2,
        // diameter max(sx, sy).
        let c = pyradiomics_contour_2d(&mask((3, 3), &[[1, 1]]), [2.0, 3.0]).unwrap();
        assert!((c.perimeter - 4.0 * (1.0f64 + 2.25).sqrt()).abs() < 1e-12, "{c:?}");
        assert!((c.area - 3.0).abs() < 1e-12, "{c:?}");
        assert!((c.max_diameter - 3.0).abs() < 1e-12, "{c:?}");
    }

    #[test]
    fn rectangle_is_the_pixel_area_minus_the_cut_corners() {
        // 3×2 pixels of 1×1: the contour runs through the outer edge midpoints; the polygon is
        // the 3×2 rectangle minus four corner triangles of area ⅛: 6 − ½ = 5.5. Perimeter:
        // straight runs (3 − 1)·2 + (2 − 1)·2 = 6 plus four diagonals √½: 6 + 2√2.
        // Diameter: between (−½, 0) and (2.5, 1) = √(9 + 1) (or the mirror pair).
        let c =
            pyradiomics_contour_2d(&mask((5, 4), &[[1, 1], [2, 1], [3, 1], [1, 2], [2, 2], [3, 2]]), [1.0; 2]).unwrap();
        assert!((c.area - 5.5).abs() < 1e-12, "{c:?}");
        assert!((c.perimeter - (6.0 + 2.0 * 2f64.sqrt())).abs() < 1e-12, "{c:?}");
        assert!((c.max_diameter - 10f64.sqrt()).abs() < 1e-12, "{c:?}");
    }

    #[test]
    fn every_square_configuration_has_consistent_segments() {
        for case in 1..15usize {
            let segments = square_segments(case);
            let crossed: Vec<usize> = (0..4).filter(|&e| (case >> e & 1) != (case >> ((e + 1) % 4) & 1)).collect();
            let mut used: Vec<usize> = segments.iter().flatten().copied().collect();
            used.sort_unstable();
            assert_eq!(used, crossed, "case {case}");
        }
        // Ambiguous squares: cut off when the flip corner (0, 1) is background, joined when not.
        assert_eq!(square_segments(0b0101), vec![[0, 3], [2, 1]]);
        assert_eq!(square_segments(0b1010), vec![[1, 2], [3, 0]]);
    }

    #[test]
    fn diagonal_pixels_touch_only_through_the_flip_corner() {
        // Pixels (0,0) and (1,1): the square between them has ROI corners 0 and 2, so they
        // stay two diamonds: area 2 · ½. Pixels (1,0) and (0,1): ROI corners 1 and 3, the flip
        // corner is in the ROI, so they are joined: the two diamonds plus the square's
        // central diamond of area ½ minus nothing (the two cut triangles become ROI): the
        // joined contour around both encloses 1 + ½.
        let apart = pyradiomics_contour_2d(&mask((4, 4), &[[1, 1], [2, 2]]), [1.0; 2]).unwrap();
        assert!((apart.area - 1.0).abs() < 1e-12, "{apart:?}");
        let joined = pyradiomics_contour_2d(&mask((4, 4), &[[2, 1], [1, 2]]), [1.0; 2]).unwrap();
        assert!((joined.area - 1.5).abs() < 1e-12, "{joined:?}");
    }
}
