"""Write `las_oblique.nrrd` (pynrrd) and its geometry as SimpleITK reads it (`las_oblique.json`).

An independent writer and reader for radx-io's NRRD `space: left-anterior-superior` support:
pynrrd writes the header exactly as given (LAS world coordinates, an oblique rotation, a
non-zero origin), SimpleITK (ITK's NrrdImageIO) reads it and reports the grid in LPS, and
numpy gives the voxel values. radx must read the same grid and values.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pynrrd SimpleITK numpy
    /tmp/venv/bin/python make_las_fixture.py
"""

import json
import math
from pathlib import Path

import nrrd
import numpy as np
import SimpleITK as sitk

HERE = Path(__file__).parent
NAME = "las_oblique.nrrd"

# A rotation of 20° about x then 35° about z, columns scaled by the spacing (0.7, 1.3, 2.1).
ax, az = math.radians(20), math.radians(35)
rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
rotation = rz @ rx
spacing = np.array([0.7, 1.3, 2.1])
directions = (rotation * spacing).T  # one row per index axis, in LAS
origin = np.array([12.5, -40.25, 7.0])  # LAS

dims = (4, 3, 2)
data = (np.arange(np.prod(dims)).reshape(dims, order="F") * 3 - 10).astype(np.int16)
header = {
    "space": "left-anterior-superior",
    "space directions": directions,
    "space origin": origin,
    "kinds": ["domain", "domain", "domain"],
    "encoding": "gzip",
    "endian": "little",
}
nrrd.write(str(HERE / NAME), data, header, index_order="F")

image = sitk.ReadImage(str(HERE / NAME))
# LAS -> LPS negates y; ITK does it on reading, and this checks pynrrd wrote what we meant.
flip = np.diag([1.0, -1.0, 1.0])
assert np.allclose(np.array(image.GetOrigin()), flip @ origin)
assert np.allclose(np.array(image.GetDirection()).reshape(3, 3), flip @ rotation)
array = sitk.GetArrayFromImage(image)  # z, y, x
expected = {
    "written_by": f"pynrrd {nrrd.__version__}, read back by SimpleITK {sitk.Version.VersionString()}",
    "dims": list(image.GetSize()),
    "spacing": list(image.GetSpacing()),
    "origin_lps": list(image.GetOrigin()),
    # Row-major 3x3: row r, column c = world axis r of index axis c's unit step.
    "direction_lps": list(image.GetDirection()),
    "values_x_fastest": [int(v) for v in array.transpose(2, 1, 0).flatten(order="F")],
    "world_lps_of_index_3_2_1": list(image.TransformIndexToPhysicalPoint((3, 2, 1))),
}
(HERE / "las_oblique.json").write_text(json.dumps(expected, indent=1) + "\n")
print(json.dumps(expected, indent=1))
