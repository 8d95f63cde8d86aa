"""PyRadiomics 3.0.1's outputs for the example parameter files (and radx's own image-type
test files in ../image_types/) on brain2 and breast1: expected/<file>.<case>.csv
(`feature,value`, Python's repr of each value, diagnostics left out).

Run with PyRadiomics 3.0.1, numpy 1.26.4, SimpleITK 2.5.7, scikit-image and trimesh (for
LBP2D/LBP3D), from this folder:  python generate_expected.py
"""
import csv
import os
import sys

import yaml
from radiomics import featureextractor

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data")
FILES = [os.path.join(HERE, f) for f in sorted(os.listdir(HERE)) if f.endswith(".yaml")]
FILES += [os.path.join(HERE, "..", "image_types", f) for f in sorted(os.listdir(os.path.join(HERE, "..", "image_types")))
          if f.endswith(".yaml")]


def params_of(path):
    with open(path) as f:
        params = yaml.safe_load(f)
    name = os.path.splitext(os.path.basename(path))[0]
    if name == "MR_2D_extraction":
        # PyRadiomics refuses 2D shape on ROIs spanning several slices (ValueError).
        params["featureClass"].pop("shape2D", None)
    # exampleVoxel: a segment-based extraction (execute without voxelBased ignores voxelSetting).
    return name, params


def main(only=None):
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)
    for path in FILES:
        name, params = params_of(path)
        if only and name not in only:
            continue
        extractor = featureextractor.RadiomicsFeatureExtractor(params)
        for case in ["brain2", "breast1"]:
            image = os.path.join(DATA, case + "_image.nrrd")
            mask = os.path.join(DATA, case + "_label.nrrd")
            result = extractor.execute(image, mask)
            out = os.path.join(HERE, "expected", "%s.%s.csv" % (name, case))
            with open(out, "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["feature", "value"])
                for key, value in result.items():
                    if key.startswith("diagnostics_"):
                        continue
                    w.writerow([key, repr(float(value))])
            print(out, len(result))


if __name__ == "__main__":
    main(sys.argv[1:])
