"""PyRadiomics 3.0.1 on ROIs too small for some or all of the listed `distances`: no two ROI
voxels are that far apart along an angle, so the GLCM has no pair at that distance and the
GLDM and NGTDM neighbourhoods hold no ROI voxel there. Cases (written to too_small/, one
random 10×10×10 image, seed 7, intensities 0–199, spacing 1 mm):

- cube2: a 2×2×2 ROI, with distances [2] and [3] (no pair at all) and [1, 3] (only distance 1).
- square3: a 3×3×1 ROI, with force2D and distances [3] (no pair at all) and [2, 3].
- bar: a 2×6×1 ROI, force2D and distances [3]: pairs along the long axis only.

Writes too_small/expected.csv (`case,params,feature,value`) and too_small/refused.csv
(`case,params,error`) and the parameter files too_small/*.yaml.

Run with PyRadiomics 3.0.1, numpy 1.26.4, SimpleITK 2.5.7, from this folder:
    python generate_too_small.py
"""
import csv
import os

import numpy as np
import SimpleITK as sitk
from radiomics import featureextractor

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "too_small")
CLASSES = ["glcm", "glrlm", "glszm", "gldm", "ngtdm"]
# name: (distances, force2D)
PARAMS = {"d2": ([2], False), "d3": ([3], False), "d13": ([1, 3], False),
          "d3_2d": ([3], True), "d23_2d": ([2, 3], True)}
# case: (ROI box as z, y, x slices, parameter files)
CASES = {
    "cube2": ((slice(4, 6), slice(4, 6), slice(4, 6)), ["d2", "d3", "d13"]),
    "square3": ((slice(5, 6), slice(3, 6), slice(3, 6)), ["d3_2d", "d23_2d"]),
    "bar": ((slice(5, 6), slice(2, 8), slice(4, 6)), ["d3_2d"]),
}


def write_params(name, distances, force2d):
    lines = ["# Written by generate_too_small.py: distances %s%s." % (distances, ", force2D" if force2d else ""),
             "imageType:", "  Original: {}", "featureClass:"]
    lines += ["  %s:" % c for c in CLASSES]
    lines += ["setting:", "  binWidth: 25", "  label: 1", "  distances: %s" % distances]
    if force2d:
        lines.append("  force2D: true")
    path = os.path.join(HERE, name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def write_volume(array, path):
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((1.0, 1.0, 1.0))
    sitk.WriteImage(image, path, True)


def main():
    os.makedirs(HERE, exist_ok=True)
    rng = np.random.default_rng(7)
    write_volume(rng.integers(0, 200, size=(10, 10, 10)).astype(np.int16), os.path.join(HERE, "image.nrrd"))
    values, refused = [], []
    params = {name: write_params(name, *p) for name, p in PARAMS.items()}
    for case, (box, names) in CASES.items():
        mask = np.zeros((10, 10, 10), np.uint8)
        mask[box] = 1
        mask_path = os.path.join(HERE, case + "_mask.nrrd")
        write_volume(mask, mask_path)
        for name in names:
            extractor = featureextractor.RadiomicsFeatureExtractor(params[name])
            try:
                result = extractor.execute(os.path.join(HERE, "image.nrrd"), mask_path)
            except Exception as e:  # PyRadiomics refuses the case: recorded, not compared
                refused.append([case, name, str(e)])
                continue
            for key, value in result.items():
                if not key.startswith("diagnostics_"):
                    values.append([case, name, key, repr(float(value))])
    with open(os.path.join(HERE, "expected.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "params", "feature", "value"])
        w.writerows(values)
    with open(os.path.join(HERE, "refused.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "params", "error"])
        w.writerows(refused)
    print(len(values), "values,", len(refused), "refused")


if __name__ == "__main__":
    main()
