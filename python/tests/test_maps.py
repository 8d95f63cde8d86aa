"""radx.map: voxel-wise feature maps from Python, against the command line's map files and
against numpy (the unmasked mean of a cube), for numpy and SimpleITK outputs."""

from __future__ import annotations

import numpy as np
import pytest

import radx

from conftest import CASES, run_cli


def _case() -> "tuple[np.ndarray, np.ndarray]":
    """A 9×8×7 image of seeded integers and a ROI of a 4×4×3 box, indexed [x, y, z]."""
    rng = np.random.default_rng(7)
    image = rng.integers(-50, 200, size=(9, 8, 7)).astype(np.float64)
    mask = np.zeros((9, 8, 7), dtype=np.uint8)
    mask[3:7, 2:6, 2:5] = 1
    return image, mask


def test_unmasked_cube_mean_is_the_numpy_mean_of_the_cube():
    image, mask = _case()
    spacing = (1.0, 1.0, 2.0)
    maps = radx.map(
        image, mask, spacing=spacing, radius=1, masked=False, families=["intensity_statistics"]
    )
    mean = maps["original_intensity_statistics_mean_intensity"]
    assert mean.shape == image.shape
    inside = mask.astype(bool)
    assert np.isnan(mean[~inside]).all(), "NaN outside the ROI"
    for x, y, z in zip(*np.nonzero(inside)):
        expected = image[x - 1 : x + 2, y - 1 : y + 2, z - 1 : z + 2].mean()
        assert mean[x, y, z] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_sphere_and_zyx_axes_and_init_value():
    image, mask = _case()
    # A sphere of 1 mm on 1 mm voxels: the centre and its 6 face neighbours.
    maps = radx.map(
        image.transpose(2, 1, 0),
        mask.transpose(2, 1, 0),
        spacing=(1.0, 1.0, 1.0),
        axes="zyx",
        sphere_mm=1.0,
        masked=False,
        init_value=-1.0,
        families=["intensity_statistics"],
    )
    mean = maps["original_intensity_statistics_mean_intensity"]
    assert mean.shape == (7, 8, 9), "indexed [z, y, x] as asked"
    x, y, z = 4, 3, 3
    star = [image[x, y, z]] + [image[x + dx, y + dy, z + dz] for dx, dy, dz in
                               [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]]
    assert mean[z, y, x] == pytest.approx(np.mean(star), rel=1e-12)
    assert mean[0, 0, 0] == -1.0


def test_maps_equal_the_command_lines_map_files(cli, tmp_path):
    """NRRD files: SimpleITK 2.5 reads a NaN in a NIfTI file as 0 (its own NIfTI files too),
    NRRD keeps it."""
    sitk = pytest.importorskip("SimpleITK")
    image, mask, _ = CASES["breast1"]
    run_cli(
        cli, "map", "--image", image, "--mask", mask, "--family", "glcm", "--radius", "1", "--format", "nrrd",
        "-o", tmp_path,
    )
    maps = radx.map(str(image), str(mask), radius=1, families=["glcm"], output="sitk")
    files = sorted(p.name[: -len(".nrrd")] for p in tmp_path.glob("*.nrrd"))
    assert sorted(maps) == files
    for name, ours in maps.items():
        written = sitk.ReadImage(str(tmp_path / f"{name}.nrrd"))
        assert ours.GetSize() == written.GetSize()
        assert ours.GetSpacing() == pytest.approx(written.GetSpacing())
        assert ours.GetOrigin() == pytest.approx(written.GetOrigin())
        assert ours.GetDirection() == pytest.approx(written.GetDirection())
        a = sitk.GetArrayFromImage(ours).astype(np.float32)  # the files are float32
        b = sitk.GetArrayFromImage(written)
        assert np.array_equal(a, b, equal_nan=True), name


def test_bad_windows_are_value_errors():
    image, mask = _case()
    with pytest.raises(ValueError, match="radius"):
        radx.map(image, mask, spacing=(1.0, 1.0, 1.0), radius=0)
    with pytest.raises(ValueError, match="not both"):
        radx.map(image, mask, spacing=(1.0, 1.0, 1.0), radius=1, sphere_mm=2.0)
    with pytest.raises(ValueError, match="whole ROI"):
        radx.map(image, mask, spacing=(1.0, 1.0, 1.0), families=["morphology"])
    with pytest.raises(ValueError, match="output"):
        radx.map(image, mask, spacing=(1.0, 1.0, 1.0), output="png")
