"""PyRadiomics 3.0.1 on images whose voxel type decides its numbers: SimpleITK resamples an
image into its own pixel type (an integer type clamps and truncates the B-spline's
overshoot, a float type keeps it) and PyRadiomics' LBP images take the input's dtype. The
cases are brain2 and breast1 (../data) converted with SimpleITK:

cropped to the ROI's box grown by 12 voxels in-plane and 3 slices (more than PyRadiomics'
resampling and padding reach), then

- `<case>_uint16.nrrd`: intensities minus the ROI's minimum plus 1, as uint16, so the
  B-spline's undershoot around the ROI's darkest voxels falls below 0 and uint16 clamps it;
- `<case>_float32.nrrd`: the same integers as float32, which SimpleITK keeps as floats
  after resampling (no truncation).

Each is extracted with `params.yaml` (B-spline resampling to 1.5 mm, LBP2D and Original,
every class) with the cropped label map `<case>_label.nrrd`; the outputs are written to `<case>_<type>.csv` (`feature,value`, Python's
repr, diagnostics left out).

Run with PyRadiomics 3.0.1, numpy 1.26.4, SimpleITK 2.5.7, scikit-image, from this folder:
    python generate.py
"""
import csv
import os

import numpy as np
import SimpleITK as sitk
from radiomics import featureextractor

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")


def convert(case):
    image = sitk.ReadImage(os.path.join(DATA, case + "_image.nrrd"))
    mask = sitk.ReadImage(os.path.join(DATA, case + "_label.nrrd"))
    labels = sitk.GetArrayFromImage(mask)
    z, y, x = np.nonzero(labels == 1)
    lo = [max(int(a.min()) - g, 0) for a, g in ((x, 12), (y, 12), (z, 3))]
    hi = [min(int(a.max()) + g + 1, n) for a, g, n in ((x, 12, labels.shape[2]), (y, 12, labels.shape[1]), (z, 3, labels.shape[0]))]
    image = image[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    mask = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    sitk.WriteImage(mask, os.path.join(HERE, "%s_label.nrrd" % case), True)
    values = sitk.GetArrayFromImage(image).astype(np.int64)
    lowest = values[sitk.GetArrayFromImage(mask) == 1].min()
    shifted = np.clip(values - lowest + 1, 0, 65535)
    out = {}
    for name, dtype in (("uint16", np.uint16), ("float32", np.float32)):
        converted = sitk.GetImageFromArray(shifted.astype(dtype))
        converted.CopyInformation(image)
        path = os.path.join(HERE, "%s_%s.nrrd" % (case, name))
        sitk.WriteImage(converted, path, True)
        out[name] = path
    return out


def main():
    extractor = featureextractor.RadiomicsFeatureExtractor(os.path.join(HERE, "params.yaml"))
    for case in ("brain2", "breast1"):
        mask = os.path.join(HERE, case + "_label.nrrd")
        for name, image in convert(case).items():
            result = extractor.execute(image, mask)
            out = os.path.join(HERE, "%s_%s.csv" % (case, name))
            with open(out, "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["feature", "value"])
                for key, value in result.items():
                    if not key.startswith("diagnostics_"):
                        w.writerow([key, repr(float(value))])
            print(out, len(result))


if __name__ == "__main__":
    main()
