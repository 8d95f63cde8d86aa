"""Peritumoral-ring oracle for plugins/peritumoral: intensity statistics of the voxels
outside the ROI whose centres lie within 5 mm of an ROI voxel's centre (0 < d <= 5 mm).

Brute force, independent of the plugin's boundary-voxel balls: for every voxel of the ROI's
box grown by more than 5 mm (clamped to the image), the distance in mm to *every* ROI
voxel, the minimum kept. Label 1, the image as read (radx's default settings do not
process intensities). Writes expected.csv beside this script; run once, with numpy and
SimpleITK (e.g. /tmp/radx-compare/venv/bin/python generate.py).
"""
import csv
import math
import os

import numpy as np
import SimpleITK as sitk

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
RING_MM = 5.0


def ring(case):
    image = sitk.ReadImage(os.path.join(DATA, f"{case}_image.nrrd"))
    label = sitk.ReadImage(os.path.join(DATA, f"{case}_label.nrrd"))
    values = sitk.GetArrayFromImage(image).astype(np.float64)  # (z, y, x)
    roi = sitk.GetArrayFromImage(label) == 1
    sx, sy, sz = image.GetSpacing()
    inside = np.argwhere(roi)  # (z, y, x)
    reach = [math.ceil(RING_MM / s) + 1 for s in (sz, sy, sx)]
    lo = np.maximum(inside.min(axis=0) - reach, 0)
    hi = np.minimum(inside.max(axis=0) + reach + 1, roi.shape)
    zz, yy, xx = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij")
    candidates = np.stack([zz.ravel(), yy.ravel(), xx.ravel()], axis=1)
    candidates = candidates[~roi[tuple(candidates.T)]]
    best = np.full(len(candidates), np.inf)
    for z, y, x in inside:
        ex = (candidates[:, 2] - x) * sx
        ey = (candidates[:, 1] - y) * sy
        ez = (candidates[:, 0] - z) * sz
        best = np.minimum(best, ex * ex + ey * ey + ez * ez)
    in_ring = candidates[best <= RING_MM * RING_MM]
    v = values[tuple(in_ring.T)]
    return {"ring_mean_5mm": v.mean(), "ring_std_5mm": v.std(), "ring_voxels_5mm": float(len(v))}


def main():
    with open(os.path.join(HERE, "expected.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["case", "feature", "value"])
        for case in ("brain2", "breast1"):
            for feature, value in ring(case).items():
                out.writerow([case, feature, repr(float(value))])


if __name__ == "__main__":
    main()
