"""Write one small NRRD per `space` value radx reads, and their geometry as SimpleITK reads it.

An independent reader for radx-io's NRRD `space` handling: this script writes each header by
hand (an oblique direction, anisotropic spacing, a non-zero origin, raw int16 data), and
SimpleITK (ITK's NrrdImageIO, built on teem) reads it and reports the grid in LPS.
`spaces.json` keeps, per file, what SimpleITK read, or the error it gave. radx must read the
same grid and values (crates/radx-io/tests/it/mechanics_io.rs).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install SimpleITK numpy
    /tmp/venv/bin/python make_space_fixtures.py

Use SimpleITK 2.5 or later: 2.4.1 (ITK 5.4.0) turns `left-anterior-superior` into LPS by
negating x instead of y (its origin comes out (31.5, 12.25, 80) for LAS (-31.5, 12.25, 80));
2.5.7 negates y, as the space's definition says, and as pynrrd's LAS fixture beside this
one also shows.
"""

import json
import math
from pathlib import Path

import numpy as np
import SimpleITK as sitk

HERE = Path(__file__).parent / "spaces"
SPACES = [
    "left-posterior-superior",
    "right-anterior-superior",
    "left-anterior-superior",
    "LPS",
    "RAS",
    "LAS",
    "scanner-xyz",
    "3D-right-handed",
    "3D-left-handed",
]

# A rotation of 25° about y then 40° about z, columns scaled by the spacing (0.8, 1.7, 2.5).
ay, az = math.radians(25), math.radians(40)
ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
rotation = rz @ ry
spacing = np.array([0.8, 1.7, 2.5])
origin = np.array([-31.5, 12.25, 80.0])
dims = (3, 4, 2)
values = (np.arange(np.prod(dims)) * 7 - 40).astype("<i2")  # x fastest


def vector(v):
    return "(" + ",".join(repr(float(x)) for x in v) + ")"


def header(space):
    columns = rotation * spacing  # column c: index axis c's step, in the file's space
    directions = " ".join(vector(columns[:, c]) for c in range(3))
    return (
        "NRRD0004\ntype: short\ndimension: 3\n"
        f"space: {space}\nsizes: {dims[0]} {dims[1]} {dims[2]}\n"
        f"space directions: {directions}\nkinds: domain domain domain\n"
        f"endian: little\nencoding: raw\nspace origin: {vector(origin)}\n\n"
    )


HERE.mkdir(exist_ok=True)
result = {"read_by": f"SimpleITK {sitk.Version.VersionString()}", "files": {}}
for space in SPACES:
    name = space.lower() + ".nrrd"
    (HERE / name).write_bytes(header(space).encode() + values.tobytes())
    try:
        image = sitk.ReadImage(str(HERE / name))
    except RuntimeError as error:
        result["files"][name] = {"space": space, "error": str(error).strip().splitlines()[-1]}
        continue
    array = sitk.GetArrayFromImage(image)  # z, y, x
    result["files"][name] = {
        "space": space,
        "dims": list(image.GetSize()),
        "spacing": list(image.GetSpacing()),
        "origin_lps": list(image.GetOrigin()),
        "direction_lps": list(image.GetDirection()),  # row-major 3x3
        "values_x_fastest": [int(v) for v in array.transpose(2, 1, 0).flatten(order="F")],
        "world_lps_of_index_2_3_1": list(image.TransformIndexToPhysicalPoint((2, 3, 1))),
    }
(HERE.parent / "spaces.json").write_text(json.dumps(result, indent=1) + "\n")
for name, entry in result["files"].items():
    print(name, entry.get("error") or entry["origin_lps"])
