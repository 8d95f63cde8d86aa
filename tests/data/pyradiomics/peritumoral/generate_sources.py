"""Oracle for the `ring_profile` source of plugins/peritumoral (ABI 2.3, a source with a
margin) and plugins/peritumoral/ring.radx over it: the voxels outside the ROI whose
centres lie within 5 mm of an ROI voxel's centre (0 < d <= 5 mm), counted per z slice and
per x column, and the feature file's values from those counts.

Numpy only (run with /tmp/pyvenv/bin/python generate_sources.py), independent of the
plugin: the NRRD files are read here (gzip, raw little-endian), and the ring is found by
brute force (every voxel of the ROI's box grown by more than 5 mm, clamped to the image,
against *every* ROI voxel). Label 1; radx's default settings leave the grid as read, so
the slice indices are the file's. Writes expected_sources.csv beside this script.
"""
import csv
import gzip
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
RING_MM = 5.0
TYPES = {"short": "<i2", "int": "<i4", "ushort": "<u2", "uchar": "u1", "float": "<f4", "double": "<f8"}


def read_nrrd(path):
    """(voxels as a (z, y, x) array, spacing (x, y, z) in mm) of a gzip NRRD file."""
    with open(path, "rb") as f:
        raw = f.read()
    header, body = raw.split(b"\n\n", 1)
    fields = {}
    for line in header.decode().splitlines()[1:]:
        if ":" in line and not line.startswith("#"):
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    assert fields["encoding"] == "gzip" and fields["endian"] == "little", fields
    sizes = [int(n) for n in fields["sizes"].split()]
    directions = [[float(c) for c in d.strip("()").split(",")] for d in fields["space directions"].split()]
    spacing = [math.sqrt(sum(c * c for c in d)) for d in directions]
    voxels = np.frombuffer(gzip.decompress(body), dtype=TYPES[fields["type"]])
    return voxels.reshape(sizes[::-1]), spacing


def ring_positions(case):
    """(z, y, x) indices of the ring's voxels."""
    _, spacing = read_nrrd(os.path.join(DATA, f"{case}_image.nrrd"))
    label, _ = read_nrrd(os.path.join(DATA, f"{case}_label.nrrd"))
    roi = label == 1
    sx, sy, sz = spacing
    inside = np.argwhere(roi)
    reach = [math.ceil(RING_MM / s) + 1 for s in (sz, sy, sx)]
    lo = np.maximum(inside.min(axis=0) - reach, 0)
    hi = np.minimum(inside.max(axis=0) + reach + 1, roi.shape)
    zz, yy, xx = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij")
    candidates = np.stack([zz.ravel(), yy.ravel(), xx.ravel()], axis=1)
    candidates = candidates[~roi[tuple(candidates.T)]]
    best = np.full(len(candidates), np.inf)
    for z, y, x in inside:
        d2 = ((candidates[:, 2] - x) * sx) ** 2 + ((candidates[:, 1] - y) * sy) ** 2 + ((candidates[:, 0] - z) * sz) ** 2
        best = np.minimum(best, d2)
    return candidates[best <= RING_MM * RING_MM]


def features(case):
    ring = ring_positions(case)
    z_index, z_counts = np.unique(ring[:, 0], return_counts=True)
    x_index, x_counts = np.unique(ring[:, 2], return_counts=True)
    n = float(len(ring))
    return [
        ("ring_z", "ring_z_voxels", n),
        ("ring_z", "ring_z_mean_index", float(np.sum(z_index * z_counts) / n)),
        ("ring_z", "ring_z_peak", float(z_counts.max())),
        ("ring_x", "ring_x_mean_index", float(np.sum(x_index * x_counts) / n)),
    ]


def main():
    with open(os.path.join(HERE, "expected_sources.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["case", "family", "feature", "value"])
        for case in ("brain2", "breast1"):
            for family, feature, value in features(case):
                out.writerow([case, family, feature, repr(value)])


if __name__ == "__main__":
    main()
