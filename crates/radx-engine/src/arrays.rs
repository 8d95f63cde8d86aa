//! Volumes a caller keeps in memory in their own voxel type (the numpy arrays behind the
//! Python package), read as files are read: the label map is scanned once in its own type,
//! and only the ROI's box (plus the chain's margin) of the image becomes `f64`. Converting
//! both arrays to `f64` first doubled the caller's memory and took longer than the rest of
//! a small case's extraction.

use std::fmt::Debug;
use std::sync::Arc;

use ndarray::{Array3, ArrayView3, Axis, ShapeBuilder, Slice, Zip};
use radx_core::roi::LabelSelection;
use radx_core::{BoundingBox, Grid, Volume};
use radx_io::VoxelType;

/// Borrowed voxels indexed `[x, y, z]`, any strides, in one of the types images come in.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum VoxelsView<'a> {
    Bool(ArrayView3<'a, bool>),
    U8(ArrayView3<'a, u8>),
    I8(ArrayView3<'a, i8>),
    U16(ArrayView3<'a, u16>),
    I16(ArrayView3<'a, i16>),
    U32(ArrayView3<'a, u32>),
    I32(ArrayView3<'a, i32>),
    U64(ArrayView3<'a, u64>),
    I64(ArrayView3<'a, i64>),
    F32(ArrayView3<'a, f32>),
    F64(ArrayView3<'a, f64>),
}

/// Run `$body` with `$v` bound to the typed view, whatever its type.
macro_rules! each_type {
    ($view:expr, $v:ident => $body:expr) => {
        match $view {
            VoxelsView::Bool($v) => $body,
            VoxelsView::U8($v) => $body,
            VoxelsView::I8($v) => $body,
            VoxelsView::U16($v) => $body,
            VoxelsView::I16($v) => $body,
            VoxelsView::U32($v) => $body,
            VoxelsView::I32($v) => $body,
            VoxelsView::U64($v) => $body,
            VoxelsView::I64($v) => $body,
            VoxelsView::F32($v) => $body,
            VoxelsView::F64($v) => $body,
        }
    };
}

impl VoxelsView<'_> {
    /// Voxels along x, y, z.
    pub fn dims(&self) -> [usize; 3] {
        each_type!(self, v => { let (x, y, z) = v.dim(); [x, y, z] })
    }

    /// The type a file of these voxels would store (a boolean mask as `u8`): what
    /// SimpleITK's hash of the image is computed in.
    pub fn voxel_type(&self) -> VoxelType {
        match self {
            VoxelsView::Bool(_) | VoxelsView::U8(_) => VoxelType::U8,
            VoxelsView::I8(_) => VoxelType::I8,
            VoxelsView::U16(_) => VoxelType::U16,
            VoxelsView::I16(_) => VoxelType::I16,
            VoxelsView::U32(_) => VoxelType::U32,
            VoxelsView::I32(_) => VoxelType::I32,
            VoxelsView::U64(_) => VoxelType::U64,
            VoxelsView::I64(_) => VoxelType::I64,
            VoxelsView::F32(_) => VoxelType::F32,
            VoxelsView::F64(_) => VoxelType::F64,
        }
    }
}

/// Voxels held outside the engine, on a grid. Implementations only hand out a view; the
/// engine decides what to read of it.
pub trait VoxelArray: Send + Sync + Debug {
    /// The grid the voxels lie on (its `dims` are the view's).
    fn grid(&self) -> Grid;
    /// The voxels.
    fn voxels(&self) -> VoxelsView<'_>;
}

/// A voxel value as the engine computes with it.
trait Voxel: Copy + Send + Sync {
    /// Whether every value is a whole number (no label-map check needed).
    const WHOLE: bool;
    fn to_f64(self) -> f64;
}

macro_rules! voxel {
    ($whole:expr => $($t:ty),*) => {
        $(impl Voxel for $t {
            const WHOLE: bool = $whole;
            fn to_f64(self) -> f64 { self as f64 }
        })*
    };
}
voxel!(true => u8, i8, u16, i16, u32, i32, u64, i64);
voxel!(false => f32, f64);

impl Voxel for bool {
    const WHOLE: bool = true;
    fn to_f64(self) -> f64 {
        if self { 1.0 } else { 0.0 }
    }
}

/// The whole array as the engine's `f64` volume (x fastest).
pub fn to_volume(array: &dyn VoxelArray) -> Volume<f64> {
    let all = whole_box(array.grid().dims);
    Volume { grid: array.grid(), data: each_type!(array.voxels(), v => region_f64(&v, &all)) }
}

/// The image inside `bbox` (whole-grid indices), on that box's sub-grid.
pub fn region(array: &dyn VoxelArray, bbox: &BoundingBox) -> Volume<f64> {
    let data = each_type!(array.voxels(), v => region_f64(&v, bbox));
    Volume { grid: sub_grid(&array.grid(), bbox), data }
}

/// What one pass over a label map finds.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelScan {
    /// The smallest box holding every selected voxel; `None` when none is.
    pub bbox: Option<BoundingBox>,
    /// The first voxel in `(x, y, z)` index order (x slowest, as [`radx_core::roi`]'s
    /// whole-volume check reports it) whose value is not within 1e-3 of a whole number, with
    /// that value: a label map holds whole numbers.
    pub fractional: Option<(f64, [usize; 3])>,
}

/// Scan a label map once for the voxels `selection` picks, in memory order when x is the
/// fastest axis (numpy's C-ordered `[z, y, x]`, as SimpleITK gives it).
pub fn scan_labels(array: &dyn VoxelArray, selection: LabelSelection) -> LabelScan {
    each_type!(array.voxels(), v => scan(&v, selection))
}

/// The selected voxels inside `bbox`, on that box's sub-grid.
pub fn selected_in(array: &dyn VoxelArray, selection: LabelSelection, bbox: &BoundingBox) -> Volume<bool> {
    let data = each_type!(array.voxels(), v => {
        let mut out = Array3::from_elem(bbox.dims().f(), false);
        Zip::from(&mut out).and(&in_box(&v, bbox)).for_each(|o, &x| *o = selection.matches(x.to_f64()));
        out
    });
    Volume { grid: sub_grid(&array.grid(), bbox), data }
}

/// The array's voxels as a label map (`f64`), for the error that lists the labels present.
pub fn labels_present(array: &dyn VoxelArray) -> String {
    radx_core::roi::present_labels(&to_volume(array))
}

fn scan<T: Voxel>(view: &ArrayView3<'_, T>, selection: LabelSelection) -> LabelScan {
    let (nx, ny, nz) = view.dim();
    let mut lo = [usize::MAX; 3];
    let mut hi = [0usize; 3];
    let mut fractional: Option<(f64, [usize; 3])> = None;
    let selected = |v: &T| selection.matches(v.to_f64());
    for z in 0..nz {
        for y in 0..ny {
            let row = view.index_axis(Axis(2), z).index_axis_move(Axis(1), y);
            if let Some(first) = row.iter().position(selected) {
                let last = row.iter().rposition(selected).unwrap_or(first);
                for (a, (l, h)) in [(first, last), (y, y), (z, z)].into_iter().enumerate() {
                    lo[a] = lo[a].min(l);
                    hi[a] = hi[a].max(h);
                }
            }
            if !T::WHOLE {
                // NaN fails the comparison too.
                let whole = |v: &T| (v.to_f64() - v.to_f64().round()).abs() < 1e-3;
                if let Some(x) = row.iter().position(|v| !whole(v)) {
                    let at = [x, y, z];
                    if fractional.is_none_or(|(_, seen)| at < seen) {
                        fractional = Some((row[x].to_f64(), at));
                    }
                }
            }
        }
    }
    let bbox = (lo[0] < nx).then_some(BoundingBox { min: lo, max: hi });
    LabelScan { bbox, fractional }
}

fn region_f64<T: Voxel>(view: &ArrayView3<'_, T>, bbox: &BoundingBox) -> Array3<f64> {
    let mut out = Array3::zeros(bbox.dims().f());
    Zip::from(&mut out).and(&in_box(view, bbox)).for_each(|o, &v| *o = v.to_f64());
    out
}

/// The part of `view` inside `bbox`.
fn in_box<'a, T>(view: &ArrayView3<'a, T>, bbox: &BoundingBox) -> ArrayView3<'a, T> {
    let mut part = *view;
    part.slice_each_axis_inplace(|axis| {
        let a = axis.axis.index();
        Slice::from(bbox.min[a]..=bbox.max[a])
    });
    part
}

fn whole_box(dims: [usize; 3]) -> BoundingBox {
    BoundingBox { min: [0; 3], max: dims.map(|d| d.saturating_sub(1)) }
}

/// `grid` restricted to `bbox`, as [`Volume::crop`] places a crop.
fn sub_grid(grid: &Grid, bbox: &BoundingBox) -> Grid {
    let mut sub = *grid;
    sub.dims = bbox.dims();
    sub.origin = grid.index_to_world(bbox.min.map(|i| i as f64));
    sub
}

/// An owned array as a [`VoxelArray`] (tests, and callers that build volumes in Rust).
#[derive(Debug, Clone)]
pub struct OwnedArray<T> {
    /// The grid.
    pub grid: Grid,
    /// The voxels, indexed `[x, y, z]`.
    pub data: Arc<Array3<T>>,
}

macro_rules! owned_array {
    ($($t:ty => $variant:ident),*) => {
        $(impl VoxelArray for OwnedArray<$t> {
            fn grid(&self) -> Grid { self.grid }
            fn voxels(&self) -> VoxelsView<'_> { VoxelsView::$variant(self.data.view()) }
        })*
    };
}
owned_array!(bool => Bool, u8 => U8, i8 => I8, u16 => U16, i16 => I16, u32 => U32, i32 => I32,
    u64 => U64, i64 => I64, f32 => F32, f64 => F64);

#[cfg(test)]
mod tests {
    use super::*;

    fn array<T: Clone>(dims: [usize; 3], f: impl Fn([usize; 3]) -> T) -> OwnedArray<T> {
        let data = Array3::from_shape_fn(dims.f(), |(x, y, z)| f([x, y, z]));
        OwnedArray { grid: Grid::new(dims, [0.5, 0.7, 2.0]), data: Arc::new(data) }
    }

    #[test]
    fn the_scan_finds_the_box_and_the_first_fractional_voxel_in_index_order() {
        let labels = array([5, 4, 3], |[x, y, z]| match (x, y, z) {
            (1, 2, 0) | (3, 1, 2) => 2.0_f32,
            (4, 0, 0) => 0.5,
            (2, 3, 2) => f32::NAN,
            _ => 0.0,
        });
        let scan = scan_labels(&labels, LabelSelection::Label(2));
        assert_eq!(scan.bbox, Some(BoundingBox { min: [1, 1, 0], max: [3, 2, 2] }));
        // (2, 3, 2) comes before (4, 0, 0) with x slowest, although later in memory.
        let (value, at) = scan.fractional.unwrap();
        assert!(value.is_nan());
        assert_eq!(at, [2, 3, 2]);
        assert_eq!(scan_labels(&labels, LabelSelection::Label(7)).bbox, None);
    }

    #[test]
    fn regions_and_crops_equal_the_whole_volume_cropped() {
        let image = array([6, 5, 4], |[x, y, z]| (x * 100 + y * 10 + z) as i16 - 200);
        let labels = array([6, 5, 4], |[x, y, z]| u8::from((1..4).contains(&x) && y == 2 && z > 0));
        let bbox = BoundingBox { min: [1, 1, 1], max: [4, 3, 3] };
        let whole = to_volume(&image);
        assert_eq!(region(&image, &bbox), whole.crop(&bbox));
        let mask = to_volume(&labels).map(|&v| LabelSelection::Label(1).matches(v));
        assert_eq!(selected_in(&labels, LabelSelection::Label(1), &bbox), mask.crop(&bbox));
        assert_eq!(whole.data[[3, 2, 1]], 100.0 * 3.0 + 20.0 + 1.0 - 200.0);
    }

    #[test]
    fn a_z_fastest_layout_reads_the_same_voxels() {
        // [x, y, z] stored z fastest (numpy's C order for an [x, y, z] array).
        let c_order = Array3::from_shape_fn((4, 3, 2), |(x, y, z)| (x + 4 * y + 12 * z) as u16);
        let f_order = array([4, 3, 2], |[x, y, z]| (x + 4 * y + 12 * z) as u16);
        let strided = OwnedArray { grid: f_order.grid, data: Arc::new(c_order) };
        assert_eq!(to_volume(&strided), to_volume(&f_order));
        let bbox = BoundingBox { min: [1, 0, 1], max: [3, 2, 1] };
        assert_eq!(scan_labels(&strided, LabelSelection::Label(13)), scan_labels(&f_order, LabelSelection::Label(13)));
        assert_eq!(region(&strided, &bbox), region(&f_order, &bbox));
    }
}
