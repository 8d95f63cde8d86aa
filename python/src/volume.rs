//! In-memory volumes over numpy arrays, read in place: a `Volume` keeps the array (and
//! what its memory belongs to) alive and hands the engine a view of its voxels in their own
//! type, any strides. The engine reads them as it reads files, with the GIL released: the
//! label map scanned once, only the ROI's box of the image converted to `f64`
//! (`radx_engine::arrays`). Copying whole arrays to `f64` first doubled memory (twice for an
//! int16 image) and cost 12 ms on a 256×256×96 case.

use std::sync::Arc;

use ndarray::{ArrayView3, Axis, Ix3, ShapeBuilder};
use numpy::{Element, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use radx_core::Grid;
use radx_engine::arrays::{VoxelArray, VoxelsView};
use radx_io::VoxelType;

/// An image or a label map in memory, on a grid in LPS world coordinates: what
/// `radx.Volume(array, spacing=..., ...)` makes once and every extraction then reads.
#[pyclass(frozen, subclass, module = "radx._radx", name = "Volume")]
pub struct Volume {
    /// The array and its grid, as the engine reads them.
    pub inner: Arc<NumpyVoxels>,
    /// How errors name it (`image`, `mask`, or the name given).
    pub name: String,
}

/// How the array's axes map onto x, y, z.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axes {
    /// `array[x, y, z]` (radx, nibabel).
    Xyz,
    /// `array[z, y, x]` (SimpleITK's `GetArrayFromImage`, pydicom stacks).
    Zyx,
}

impl Axes {
    fn parse(text: &str) -> PyResult<Axes> {
        match text {
            "xyz" => Ok(Axes::Xyz),
            "zyx" => Ok(Axes::Zyx),
            other => Err(PyValueError::new_err(format!("axes must be \"xyz\" or \"zyx\", got {other:?}"))),
        }
    }
}

#[pymethods]
impl Volume {
    /// Read `array` (3-D, or 2-D for one slice) in place on the grid given by `spacing`,
    /// `origin` (x, y, z, mm) and `direction` (9 direction cosines, row-major, column c the
    /// world direction of axis c). `owner` is kept alive with the array: what its memory
    /// belongs to when the array is a view (a SimpleITK image).
    #[new]
    #[pyo3(signature = (array, spacing, origin, direction, axes = "xyz", name = "array", owner = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        array: &Bound<'_, PyAny>,
        spacing: Vec<f64>,
        origin: Vec<f64>,
        direction: Vec<f64>,
        axes: &str,
        name: &str,
        owner: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let axes = Axes::parse(axes)?;
        let raw = raw_view(py, array, axes, name)?;
        let grid = grid(raw.dims, &spacing, &origin, &direction, name)?;
        let inner = NumpyVoxels { _owners: (array.clone().unbind(), owner), raw, grid };
        Ok(Volume { inner: Arc::new(inner), name: name.to_string() })
    }

    /// Voxels along x, y, z.
    #[getter]
    fn shape(&self) -> (usize, usize, usize) {
        let [x, y, z] = self.inner.grid.dims;
        (x, y, z)
    }

    /// Voxel size in mm along x, y, z.
    #[getter]
    fn spacing(&self) -> (f64, f64, f64) {
        let [x, y, z] = self.inner.grid.spacing;
        (x, y, z)
    }

    /// World position (LPS, mm) of voxel [0, 0, 0]'s centre.
    #[getter]
    fn origin(&self) -> (f64, f64, f64) {
        let [x, y, z] = self.inner.grid.origin;
        (x, y, z)
    }

    /// Direction cosines, row-major (SimpleITK's `GetDirection()` order).
    #[getter]
    fn direction(&self) -> Vec<f64> {
        self.inner.grid.direction.iter().flatten().copied().collect()
    }

    /// A copy of the voxels as a float64 array indexed `[x, y, z]` (`axes="zyx"`: `[z, y, x]`).
    #[pyo3(signature = (axes = "xyz"))]
    fn to_numpy<'py>(&self, py: Python<'py>, axes: &str) -> PyResult<Bound<'py, numpy::PyArray3<f64>>> {
        let axes = Axes::parse(axes)?;
        let volume = py.detach(|| radx_engine::arrays::to_volume(self.inner.as_ref()));
        let view = match axes {
            Axes::Xyz => volume.data.view(),
            Axes::Zyx => volume.data.view().reversed_axes(),
        };
        Ok(numpy::PyArray3::from_array(py, &view))
    }

    fn __repr__(&self) -> String {
        let g = &self.inner.grid;
        format!("radx.Volume(shape={:?}, spacing={:?}, origin={:?})", g.dims, g.spacing, g.origin)
    }
}

impl Volume {
    /// The engine's input for this volume.
    pub fn source(&self) -> radx_engine::VolumeSource {
        let array: Arc<dyn VoxelArray> = self.inner.clone();
        radx_engine::VolumeSource::Array { name: format!("{} (array)", self.name), array }
    }
}

/// A numpy array's voxels as the engine reads them, without the GIL.
#[derive(Debug)]
pub struct NumpyVoxels {
    /// What keeps the memory `raw` points into alive and in place: the array (numpy does not
    /// move or free the buffer of an array that is referenced: `resize` refuses) and, for a
    /// view of another object's memory (SimpleITK's `GetArrayViewFromImage`), that object.
    _owners: (Py<PyAny>, Option<Py<PyAny>>),
    raw: RawView,
    grid: Grid,
}

impl VoxelArray for NumpyVoxels {
    fn grid(&self) -> Grid {
        self.grid
    }

    fn voxels(&self) -> VoxelsView<'_> {
        let raw = &self.raw;
        match raw.dtype {
            VoxelType::U8 => VoxelsView::U8(raw.view()),
            VoxelType::I8 => VoxelsView::I8(raw.view()),
            VoxelType::U16 => VoxelsView::U16(raw.view()),
            VoxelType::I16 => VoxelsView::I16(raw.view()),
            VoxelType::U32 => VoxelsView::U32(raw.view()),
            VoxelType::I32 => VoxelsView::I32(raw.view()),
            VoxelType::U64 => VoxelsView::U64(raw.view()),
            VoxelType::I64 => VoxelsView::I64(raw.view()),
            VoxelType::F32 => VoxelsView::F32(raw.view()),
            VoxelType::F64 => VoxelsView::F64(raw.view()),
        }
    }
}

/// Where an array's voxels are: `address` is voxel [0, 0, 0] of the view with every stride
/// made non-negative (axes in `flipped` inverted back when viewed).
#[derive(Debug, Clone, Copy)]
struct RawView {
    address: usize,
    dtype: VoxelType,
    dims: [usize; 3],
    strides: [usize; 3],
    flipped: [bool; 3],
}

impl RawView {
    fn of<T>(view: &ArrayView3<'_, T>, dtype: VoxelType) -> RawView {
        let dims: [usize; 3] = std::array::from_fn(|a| view.shape()[a]);
        let mut address = view.as_ptr() as usize;
        let mut strides = [0; 3];
        let mut flipped = [false; 3];
        for (a, &stride) in view.strides().iter().enumerate() {
            if stride < 0 {
                // The last voxel along this axis is the lowest address.
                address = address.wrapping_sub(stride.unsigned_abs() * (dims[a] - 1) * std::mem::size_of::<T>());
                flipped[a] = true;
            }
            strides[a] = stride.unsigned_abs();
        }
        RawView { address, dtype, dims, strides, flipped }
    }

    /// The voxels as `T`, which must be the type this view was made of (`dtype`).
    fn view<T>(&self) -> ArrayView3<'_, T> {
        let shape = self.dims.strides(self.strides);
        // SAFETY: `address`, `dims` and `strides` describe the memory of a valid ndarray view
        // of `T` (made from numpy's own view by `RawView::of`, negative strides turned
        // around: every offset stays within the array's buffer, and the buffer is aligned for
        // `T`, checked in `raw_view`). `NumpyVoxels` owns a reference to the array (and to
        // the object a view's memory belongs to), so the buffer outlives the returned view,
        // which borrows `self`. Only reads are made; a Python thread writing the array while
        // an extraction reads it is a race the Python documentation warns against
        // (docs/python.md), as for numpy's own GIL-free functions.
        #[allow(unsafe_code)]
        let mut view = unsafe { ArrayView3::from_shape_ptr(shape, self.address as *const T) };
        for (a, &flip) in self.flipped.iter().enumerate() {
            if flip {
                view.invert_axis(Axis(a));
            }
        }
        view
    }
}

/// The array's voxels as radx reads them, indexed `[x, y, z]`.
fn raw_view(py: Python<'_>, array: &Bound<'_, PyAny>, axes: Axes, name: &str) -> PyResult<RawView> {
    let untyped = array.cast::<PyUntypedArray>().map_err(|_| {
        let kind = array.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!("{name}: expected a numpy array, got {kind}"))
    })?;
    let shape = untyped.shape().to_vec();
    if !(2..=3).contains(&shape.len()) {
        return Err(PyValueError::new_err(format!(
            "{name}: expected a 3-D array (or a 2-D one for a single slice), got a {}-D array of shape {}",
            shape.len(),
            python_shape(&shape)
        )));
    }
    if shape.contains(&0) {
        return Err(PyValueError::new_err(format!("{name}: the array is empty (shape {})", python_shape(&shape))));
    }
    let dtype = untyped.dtype();
    macro_rules! by_dtype {
        ($($t:ty => $d:ident),*) => {
            $(
                if dtype.is_equiv_to(&numpy::dtype::<$t>(py)) {
                    let typed = array.cast::<PyArrayDyn<$t>>().map_err(|e| PyTypeError::new_err(e.to_string()))?;
                    return typed_raw_view(typed, axes, name, VoxelType::$d);
                }
            )*
        };
    }
    by_dtype!(f64 => F64, f32 => F32, i16 => I16, u8 => U8, i32 => I32, u16 => U16, i8 => I8, u32 => U32,
        i64 => I64, u64 => U64);
    // numpy's bool is read as its bytes (u8, 0 or 1): no Rust `bool` is ever made from
    // memory Python code could have filled with other bytes.
    if dtype.is_equiv_to(&numpy::dtype::<bool>(py)) {
        let bytes = array.call_method1("view", (numpy::dtype::<u8>(py),))?;
        return raw_view(py, &bytes, axes, name);
    }
    Err(PyValueError::new_err(format!(
        "{name}: unsupported dtype {dtype} (radx reads bool, int8 to int64, uint8 to uint64, float32 and float64)"
    )))
}

fn typed_raw_view<T: Element>(
    array: &Bound<'_, PyArrayDyn<T>>,
    axes: Axes,
    name: &str,
    dtype: VoxelType,
) -> PyResult<RawView> {
    let misaligned = !(array.data() as usize).is_multiple_of(std::mem::align_of::<T>())
        || array.strides().iter().any(|s| s.unsigned_abs() % std::mem::size_of::<T>() != 0);
    if misaligned {
        return Err(PyValueError::new_err(format!(
            "{name}: the array's memory is not aligned for its dtype; pass a copy (numpy.ascontiguousarray)"
        )));
    }
    let readonly =
        array.try_readonly().map_err(|e| PyValueError::new_err(format!("{name}: the array cannot be read: {e}")))?;
    let view = readonly.as_array();
    let view: ArrayView3<T> = match view.ndim() {
        // One slice: z is the added axis.
        2 => view.insert_axis(Axis(if axes == Axes::Zyx { 0 } else { 2 })).into_dimensionality::<Ix3>(),
        _ => view.into_dimensionality::<Ix3>(),
    }
    .map_err(|e| PyValueError::new_err(format!("{name}: {e}")))?;
    let view = if axes == Axes::Zyx { view.reversed_axes() } else { view };
    Ok(RawView::of(&view, dtype))
}

/// A shape as Python prints it: `(2, 3, 4)`.
fn python_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// The grid of a `dims` array with this geometry, checked: 3 spacings > 0, 3 finite origin
/// coordinates, 9 finite direction cosines forming an orthonormal matrix.
pub fn grid(dims: [usize; 3], spacing: &[f64], origin: &[f64], direction: &[f64], name: &str) -> PyResult<Grid> {
    let bad = |message: String| Err(PyValueError::new_err(format!("{name}: {message}")));
    let Ok(spacing) = <[f64; 3]>::try_from(spacing) else {
        return bad(format!("spacing must have 3 values (x, y, z in mm), got {}", spacing.len()));
    };
    if !spacing.iter().all(|s| s.is_finite() && *s > 0.0) {
        return bad(format!("spacing must be > 0 mm along every axis, got {spacing:?}"));
    }
    let Ok(origin) = <[f64; 3]>::try_from(origin) else {
        return bad(format!("origin must have 3 values (x, y, z in mm), got {}", origin.len()));
    };
    if !origin.iter().all(|o| o.is_finite()) {
        return bad(format!("origin must be finite, got {origin:?}"));
    }
    let Ok(cosines) = <[f64; 9]>::try_from(direction) else {
        return bad(format!("direction must have 9 values (a 3×3 matrix, row-major), got {}", direction.len()));
    };
    let direction: [[f64; 3]; 3] = std::array::from_fn(|r| std::array::from_fn(|c| cosines[3 * r + c]));
    if !is_orthonormal(&direction) {
        return bad(format!(
            "direction must be an orthonormal matrix of direction cosines (column c the world direction of axis c), got {cosines:?}"
        ));
    }
    Ok(Grid { dims, spacing, origin, direction })
}

/// Columns of unit length and perpendicular, within 1e-4 (files store cosines to ~7 digits).
fn is_orthonormal(d: &[[f64; 3]; 3]) -> bool {
    (0..3).all(|a| {
        (0..3).all(|b| {
            let dot: f64 = (0..3).map(|r| d[r][a] * d[r][b]).sum();
            let expected = if a == b { 1.0 } else { 0.0 };
            dot.is_finite() && (dot - expected).abs() < 1e-4
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_cosines_must_be_orthonormal() {
        let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert!(is_orthonormal(&identity));
        let flipped = [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
        assert!(is_orthonormal(&flipped));
        let (c, s) = (0.6, 0.8);
        assert!(is_orthonormal(&[[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]));
        assert!(!is_orthonormal(&[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]));
        assert!(!is_orthonormal(&[[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]));
        assert!(!is_orthonormal(&[[f64::NAN, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]));
    }

    #[test]
    fn shapes_print_as_python_tuples() {
        assert_eq!(python_shape(&[2, 3, 4, 1]), "(2, 3, 4, 1)");
        assert_eq!(python_shape(&[5]), "(5,)");
    }
}
