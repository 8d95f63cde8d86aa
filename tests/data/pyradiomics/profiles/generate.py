"""Oracle for the ABI 2.2 example features (plugins/profiles and plugins/c-example) on
PyRadiomics' brain2 case, label 1, the image as read (radx's default settings do not
process intensities): numpy's percentile (linear interpolation), the mean intensity of
each slice of the ROI's bounding box along z and along x, the mean of the intensities
above a threshold, and the ROI voxels per z slice of the box.

Rows are named as radx names them (`docs/plugins.md`, "Parameters and profiles"):
`feature(param=value;...)`, then `[i]` for element i of a profile (i = slice of the box).
Writes expected.csv beside this script; run once with numpy and SimpleITK
(e.g. /tmp/radx-compare/venv/bin/python generate.py).
"""
import csv
import os

import numpy as np
import SimpleITK as sitk

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
CASE = "brain2"


def main():
    image = sitk.ReadImage(os.path.join(DATA, f"{CASE}_image.nrrd"))
    label = sitk.ReadImage(os.path.join(DATA, f"{CASE}_label.nrrd"))
    values = sitk.GetArrayFromImage(image).astype(np.float64)  # (z, y, x)
    roi = sitk.GetArrayFromImage(label) == 1
    inside = values[roi]
    rows = []
    for p, name in ((10.0, "10"), (50.0, "50"), (90.0, "90"), (2.5, "2.5")):
        rows.append(("profiles", f"percentile(p={name})", np.percentile(inside, p)))
    where = np.argwhere(roi)
    lo, hi = where.min(axis=0), where.max(axis=0)
    for i, z in enumerate(range(lo[0], hi[0] + 1)):
        rows.append(("profiles", f"slice_mean(axis=2)[{i}]", values[z][roi[z]].mean()))
        rows.append(("c-example", f"slice_voxels[{i}]", float(roi[z].sum())))
    for i, x in enumerate(range(lo[2], hi[2] + 1)):
        rows.append(("profiles", f"slice_mean(axis=0)[{i}]", values[:, :, x][roi[:, :, x]].mean()))
    t = float(np.median(inside))
    rows.append(("c-example", f"mean_above(t={t:g};strict=false)", inside[inside >= t].mean()))
    rows.append(("c-example", f"mean_above(t={t:g};strict=true)", inside[inside > t].mean()))
    with open(os.path.join(HERE, "expected.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["plugin", "row", "value"])
        for plugin, row, value in rows:
            out.writerow([plugin, row, repr(float(value))])


if __name__ == "__main__":
    main()
