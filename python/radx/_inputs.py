"""Images and masks as radx takes them: a file path, or a ``radx.Volume`` (a numpy array
read in place, in its own dtype). SimpleITK images, nibabel images and numpy arrays are
turned into ``Volume``s here without a copy (SimpleITK's voxels are read through
``GetArrayViewFromImage``, a view); the engine then converts only the ROI's box of the
image, as it reads files.

Geometry is radx's (and ITK's): spacing, origin and direction in (x, y, z) order, world
coordinates LPS, direction row-major with column c the world direction of axis c.
"""

from __future__ import annotations

import os

from . import _radx

TYPE_CHECKING = False  # `typing` and numpy are not imported with `radx`
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Sequence, Tuple, Union

    import numpy as np

    Geometry = Tuple[Tuple[float, float, float], Tuple[float, float, float], Tuple[float, ...]]

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


class Volume(_radx.Volume):
    """An image or label map in memory with its grid. The array is read in place, in its
    own dtype (no copy is made; only the ROI's box of an image is converted, per
    extraction): do not write to it while an extraction runs. Pass it to ``extract`` as
    the image or the mask, as often as needed.

    Args:
        array: a 3-D numpy array (or 2-D for one slice) of bool, int8 to int64, uint8 to
            uint64, float32 or float64; any strides.
        spacing: voxel size in mm, (x, y, z) (a single number: isotropic).
        origin: world position (LPS, mm) of voxel [0, 0, 0]'s centre; default (0, 0, 0).
        direction: 3×3 direction cosines (or 9 values, row-major), column c the world
            direction of axis c; default the identity.
        axes: ``"xyz"`` for ``array[x, y, z]`` (radx's and nibabel's order), ``"zyx"`` for
            ``array[z, y, x]`` (SimpleITK's ``GetArrayFromImage``).

    Raises:
        ValueError: an unsupported dtype, a 4-D array, spacing <= 0, a direction that is not
            orthonormal.
    """

    def __new__(
        cls,
        array: Any,
        spacing: Any = None,
        origin: Any = None,
        direction: Any = None,
        axes: str = "xyz",
        *,
        name: str = "array",
    ) -> "Volume":
        if axes not in ("xyz", "zyx"):
            raise ValueError(f'{name}: axes must be "xyz" or "zyx", got {axes!r}')
        data = _array(array, name)
        s, o, d = geometry(spacing, origin, direction, name)
        return _radx.Volume.__new__(cls, data, list(s), list(o), list(d), axes, name)

    def __repr__(self) -> str:
        return f"radx.Volume(shape={self.shape}, spacing={self.spacing}, origin={self.origin})"


def _volume(data: Any, spacing: Any, origin: Any, direction: Any, axes: str, name: str, owner: Any = None) -> Volume:
    return _radx.Volume.__new__(Volume, data, list(spacing), list(origin), list(direction), axes, name, owner)


def is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def _module(obj: Any) -> str:
    return type(obj).__module__ or ""


def is_simpleitk(obj: Any) -> bool:
    return _module(obj).startswith("SimpleITK") and type(obj).__name__ == "Image"


def is_nibabel(obj: Any) -> bool:
    return _module(obj).startswith("nibabel") and hasattr(obj, "affine") and hasattr(obj, "dataobj")


def _triple(values: Sequence[float], fill: float, what: str, name: str) -> Tuple[float, float, float]:
    triple = tuple(float(v) for v in values)
    if len(triple) == 2:
        triple = triple + (fill,)
    if len(triple) != 3:
        raise ValueError(f"{name}: {what} must have 3 values (x, y, z), got {len(triple)}")
    return triple  # type: ignore[return-value]


def _direction(direction: Any, name: str) -> Tuple[float, ...]:
    import numpy as np

    d = np.asarray(direction, dtype=float)
    if d.size == 4:
        d = d.reshape(2, 2)
        d = np.array([[d[0, 0], d[0, 1], 0.0], [d[1, 0], d[1, 1], 0.0], [0.0, 0.0, 1.0]])
    if d.size != 9:
        raise ValueError(f"{name}: direction must be a 3×3 matrix (or 9 values, row-major), got {d.size} values")
    return tuple(float(v) for v in d.reshape(9))


def geometry(spacing: Any, origin: Any, direction: Any, name: str) -> Geometry:
    """(spacing, origin, direction) checked for shape; values are checked by ``Volume``."""
    if spacing is None:
        raise ValueError(
            f"{name}: a numpy array needs its voxel spacing (x, y, z in mm): pass spacing=..., or give the other "
            "input as a SimpleITK or nibabel image or a radx.Volume to use its grid"
        )
    if isinstance(spacing, (int, float)):
        spacing = (spacing,) * 3
    return (
        _triple(spacing, 1.0, "spacing", name),
        _triple((0.0, 0.0, 0.0) if origin is None else origin, 0.0, "origin", name),
        IDENTITY if direction is None else _direction(direction, name),
    )


def _readable(array: "np.ndarray") -> "np.ndarray":
    """The array itself when radx can read its memory directly (native byte order, aligned,
    strides in whole elements); otherwise a copy that can be (the only case with an extra copy)."""
    import numpy as np

    itemsize = array.dtype.itemsize
    if array.dtype.isnative and array.flags.aligned and all(s % itemsize == 0 for s in array.strides):
        return array
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return np.array(array)


def _array(obj: Any, name: str) -> "np.ndarray":
    import numpy as np

    array = obj if isinstance(obj, np.ndarray) else np.asarray(obj)
    if array.ndim == 0 and not isinstance(obj, np.ndarray):
        raise TypeError(
            f"{name}: expected a file path, a SimpleITK or nibabel image, a radx.Volume or an array, "
            f"got {type(obj).__name__}"
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name}: unsupported dtype {array.dtype} (radx reads bool, int8 to int64, uint8 to uint64, "
            "float32 and float64)"
        )
    if array.dtype.kind == "f" and array.dtype.itemsize not in (4, 8):
        raise ValueError(f"{name}: unsupported dtype {array.dtype} (radx reads float32 and float64; convert it)")
    return _readable(array)


def from_simpleitk(image: Any, name: str) -> Volume:
    import SimpleITK as sitk

    if image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError(
            f"{name}: a SimpleITK image with {image.GetNumberOfComponentsPerPixel()} components per voxel; "
            "radx reads scalar images (select one component with SimpleITK.VectorIndexSelectionCast)"
        )
    dimension = image.GetDimension()
    if dimension not in (2, 3):
        raise ValueError(
            f"{name}: a {dimension}-D SimpleITK image of size {image.GetSize()}; radx reads 3-D images "
            "(or 2-D ones, a single slice)"
        )
    # A view of the image's buffer, [z, y, x] in C order: x fastest in memory, as radx stores
    # it. The view does not keep the image alive: the Volume keeps both.
    view = sitk.GetArrayViewFromImage(image)
    return _volume(
        _array(view, name),
        _triple(image.GetSpacing(), 1.0, "spacing", name),
        _triple(image.GetOrigin(), 0.0, "origin", name),
        _direction(image.GetDirection(), name),
        "zyx",
        name,
        owner=image,
    )


def from_nibabel(image: Any, name: str) -> Volume:
    import numpy as np

    affine = np.asarray(image.affine, dtype=float)
    # nibabel's affine maps voxel indices to RAS; radx's world is LPS.
    matrix = np.diag([-1.0, -1.0, 1.0]) @ affine[:3, :3]
    origin = np.array([-affine[0, 3], -affine[1, 3], affine[2, 3]])
    spacing = np.linalg.norm(matrix, axis=0)
    if not np.all(spacing > 0):
        raise ValueError(f"{name}: the nibabel image's affine has a zero column (spacing {tuple(spacing)})")
    data = np.asanyarray(image.dataobj)
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    return _volume(
        _array(data, name),
        [float(v) for v in spacing],
        [float(v) for v in origin],
        [float(v) for v in (matrix / spacing).reshape(9)],
        "xyz",
        name,
    )


def source(obj: Any, name: str) -> Union[str, _radx.Volume, None]:
    """A path or a Volume for anything but a plain array (None: an array, placed later)."""
    if isinstance(obj, _radx.Volume):
        return obj
    if is_path(obj):
        return os.fspath(obj)
    if is_simpleitk(obj):
        return from_simpleitk(obj, name)
    if is_nibabel(obj):
        return from_nibabel(obj, name)
    if isinstance(obj, (bytes, bytearray)):
        raise TypeError(f"{name}: expected a file path, an image or an array, got {type(obj).__name__}")
    return None


def case(
    image: Any,
    mask: Any,
    spacing: Any = None,
    origin: Any = None,
    direction: Any = None,
    axes: str = "xyz",
) -> Tuple[Union[str, _radx.Volume], Union[str, _radx.Volume]]:
    """The image and mask as paths or Volumes. A numpy array takes the geometry given, or
    else the other input's when that is an image or Volume of the same shape."""
    sources = [source(image, "image"), source(mask, "mask")]
    objects = [image, mask]
    for i, name in enumerate(("image", "mask")):
        if sources[i] is not None:
            continue
        other = sources[1 - i]
        if spacing is None and isinstance(other, _radx.Volume):
            volume = Volume(objects[i], other.spacing, other.origin, other.direction, axes, name=name)
            if volume.shape != other.shape:
                raise ValueError(
                    f"{name}: array of shape {volume.shape} (x, y, z) on the {('mask', 'image')[i]}'s grid of "
                    f"shape {other.shape}; give arrays of the same shape (axes={axes!r})"
                )
            sources[i] = volume
        else:
            sources[i] = Volume(objects[i], spacing, origin, direction, axes, name=name)
    return sources[0], sources[1]  # type: ignore[return-value]
