//! From slice headers to one regular grid: order, spacing and the LPS frame.
//!
//! DICOM stores each slice's own position; a volume needs them to be one regular stack.
//! Slices are ordered by their position along the slice normal (row direction × column
//! direction) — never by file name or InstanceNumber — and the slice spacing is measured
//! from those positions, not read from SliceThickness. Whatever would make the stack
//! irregular is refused, naming the file: different sizes, pixel spacings or orientations,
//! two slices at one position, a gap of whole missing slices, gaps that vary beyond the
//! tolerance, and positions that drift off the normal (gantry tilt, sheared stacks).

use radx_core::Grid;

use crate::error::DicomError;
use crate::slice::Slice;

/// Limits of what still counts as one regular stack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Largest deviation of a slice gap from the series' spacing, as a fraction of it.
    pub spacing: f64,
    /// Largest difference of direction cosines (unitless) between slices, and of their
    /// deviation from orthonormal.
    pub orientation: f64,
}

impl Default for Tolerances {
    /// 1 % of the slice spacing; 1e-4 on direction cosines.
    fn default() -> Self {
        Tolerances { spacing: 0.01, orientation: 1e-4 }
    }
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// The unit row, column and normal directions of a slice, checked to be orthonormal.
fn axes(slice: &Slice, tol: f64) -> Result<[[f64; 3]; 3], DicomError> {
    let o = slice.orientation;
    let (r, c) = ([o[0], o[1], o[2]], [o[3], o[4], o[5]]);
    let (nr, nc) = (dot(r, r).sqrt(), dot(c, c).sqrt());
    if (nr - 1.0).abs() > 10.0 * tol || (nc - 1.0).abs() > 10.0 * tol || dot(r, c).abs() > 10.0 * tol {
        let detail = format!(": {o:?} are not two orthogonal unit vectors");
        return Err(DicomError::Attribute { path: slice.name(), attribute: "ImageOrientationPatient", detail });
    }
    let r = r.map(|v| v / nr);
    let c = c.map(|v| v / nc);
    Ok([r, c, cross(r, c)])
}

/// Every slice must share the first one's size, pixel spacing and orientation.
fn check_consistent(slices: &[Slice], tol: &Tolerances) -> Result<(), DicomError> {
    let first = &slices[0];
    for s in &slices[1..] {
        let what = if (s.rows, s.cols) != (first.rows, first.cols) {
            Some(format!("size {}×{} vs {}×{}", s.cols, s.rows, first.cols, first.rows))
        } else if s.pixel_spacing.iter().zip(&first.pixel_spacing).any(|(a, b)| (a - b).abs() > 1e-4 * b.abs().max(1.0))
        {
            Some(format!("pixel spacing {:?} vs {:?}", s.pixel_spacing, first.pixel_spacing))
        } else if s.orientation.iter().zip(&first.orientation).any(|(a, b)| (a - b).abs() > tol.orientation) {
            Some(format!("orientation {:?} vs {:?} (non-parallel slices)", s.orientation, first.orientation))
        } else {
            None
        };
        if let Some(what) = what {
            return Err(DicomError::Inconsistent { path: s.name(), first: first.name(), what });
        }
    }
    Ok(())
}

/// Check each gap between neighbouring slices against the median gap; returns the spacing.
fn check_gaps(slices: &[Slice], heights: &[f64], tol: &Tolerances) -> Result<f64, DicomError> {
    let mut gaps: Vec<f64> = heights.windows(2).map(|w| w[1] - w[0]).collect();
    for (k, gap) in gaps.iter().enumerate() {
        if *gap <= 1e-6 {
            return Err(DicomError::DuplicateSlice { path: slices[k + 1].name(), other: slices[k].name() });
        }
    }
    let sorted = {
        gaps.sort_by(f64::total_cmp);
        gaps
    };
    let reference = sorted[sorted.len() / 2];
    for (k, w) in heights.windows(2).enumerate() {
        let gap = w[1] - w[0];
        if (gap - reference).abs() <= tol.spacing * reference {
            continue;
        }
        let (path, next) = (slices[k].name(), slices[k + 1].name());
        let multiple = (gap / reference).round();
        if multiple >= 2.0 && (gap - multiple * reference).abs() <= tol.spacing * reference * multiple {
            let missing = multiple as usize - 1;
            return Err(DicomError::MissingSlices { path, next, missing, gap, spacing: reference });
        }
        return Err(DicomError::UnevenSpacing { path, next, gap, spacing: reference });
    }
    Ok((heights[heights.len() - 1] - heights[0]) / (heights.len() - 1) as f64)
}

/// Slice positions must lie on the line through the first one along the normal.
fn check_tilt(slices: &[Slice], normal: [f64; 3], limit: f64) -> Result<(), DicomError> {
    let p0 = slices[0].position;
    for s in &slices[1..] {
        let v = sub(s.position, p0);
        let along = dot(v, normal);
        let off = sub(v, normal.map(|n| n * along));
        let offset = dot(off, off).sqrt();
        if offset > limit {
            return Err(DicomError::Tilted { path: s.name(), offset });
        }
    }
    Ok(())
}

/// Order `slices` along their normal (in place) and return the volume's grid.
///
/// `single_spacing` is the slice spacing used when there is only one slice.
pub(crate) fn order_and_grid(slices: &mut [Slice], tol: &Tolerances, single_spacing: f64) -> Result<Grid, DicomError> {
    check_consistent(slices, tol)?;
    let [r, c, n] = axes(&slices[0], tol.orientation)?;
    slices.sort_by(|a, b| dot(a.position, n).total_cmp(&dot(b.position, n)));
    let heights: Vec<f64> = slices.iter().map(|s| dot(s.position, n)).collect();
    let dz = if slices.len() > 1 { check_gaps(slices, &heights, tol)? } else { single_spacing };
    let in_plane = slices[0].pixel_spacing[0].min(slices[0].pixel_spacing[1]);
    check_tilt(slices, n, (tol.spacing * in_plane).max(1e-3))?;
    let first = &slices[0];
    Ok(Grid {
        dims: [first.cols as usize, first.rows as usize, slices.len()],
        spacing: [first.pixel_spacing[1], first.pixel_spacing[0], dz],
        origin: first.position,
        direction: [[r[0], c[0], n[0]], [r[1], c[1], n[1]], [r[2], c[2], n[2]]],
    })
}
