"""PyRadiomics 3.0.1 with `distances` other than [1]: its GLCM takes one matrix per angle of
every listed distance (the offsets whose Chebyshev norm is listed, one of each ± pair, that fit
the ROI's box; features averaged over the angles), its GLDM and NGTDM take the same offsets,
both signs, as each voxel's neighbourhood; GLRLM and GLSZM ignore `distances`.

For each parameter file `d*.yaml` here (written by this script) and each case, brain2 and
breast1 (../data, label 1), the texture classes' values are written to `expected.csv`
(`case,params,feature,value`, Python's repr).

Run with PyRadiomics 3.0.1, numpy 1.26.4, SimpleITK 2.5.7, from this folder:
    python generate.py
"""
import csv
import os

from radiomics import featureextractor

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")

# name: (distances, extra settings)
PARAMS = {
    "d2": ([2], {}),
    "d12": ([1, 2], {}),
    "d123": ([1, 2, 3], {}),
    # A repeated distance: PyRadiomics' C code counts its angles twice.
    "d112": ([1, 1, 2], {}),
    "d12_asymmetric": ([1, 2], {"symmetricalGLCM": False}),
    "d12_euclidean": ([1, 2], {"weightingNorm": "euclidean"}),
    "d2_2d": ([2], {"force2D": True}),
    "d12_2d": ([1, 2], {"force2D": True}),
    "d123_2d": ([1, 2, 3], {"force2D": True}),
}
CLASSES = ["glcm", "glrlm", "glszm", "gldm", "ngtdm"]


def write_params(name, distances, extra):
    lines = ["# Written by generate.py: distances %s%s." % (distances, "".join(", %s: %s" % kv for kv in extra.items())),
             "imageType:", "  Original: {}", "featureClass:"]
    lines += ["  %s:" % c for c in CLASSES]
    lines += ["setting:", "  binWidth: 25", "  label: 1", "  distances: [%s]" % ", ".join(map(str, distances))]
    for key, value in extra.items():
        lines.append("  %s: %s" % (key, str(value).lower() if isinstance(value, bool) else value))
    path = os.path.join(HERE, name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def main():
    rows = []
    for name, (distances, extra) in PARAMS.items():
        extractor = featureextractor.RadiomicsFeatureExtractor(write_params(name, distances, extra))
        for case in ("brain2", "breast1"):
            image = os.path.join(DATA, case + "_image.nrrd")
            mask = os.path.join(DATA, case + "_label.nrrd")
            result = extractor.execute(image, mask)
            for key, value in result.items():
                if not key.startswith("diagnostics_"):
                    rows.append([case, name, key, repr(float(value))])
            print(name, case, len(result))
    with open(os.path.join(HERE, "expected.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "params", "feature", "value"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
