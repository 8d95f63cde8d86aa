"""PyRadiomics 3.0.1 with several `distances` on small generated cases: the first two cases of
each class of the differential set (../differential/cases.csv, those PyRadiomics extracts with
its base parameter file) with the parameter files `d2`, `d12`, `d112`, `d12_2d` and `d123_2d`
here (written by generate.py). Small ROIs test the angles that do not fit the ROI's box.

Writes `differential.csv` (`case,params,feature,value`: the texture classes' values, Python's
repr) and `differential_refused.csv` (`case,params,error`: where PyRadiomics raises).

Run with PyRadiomics 3.0.1, numpy 1.26.4, SimpleITK 2.5.7, from this folder:
    python generate_differential.py
"""
import csv
import os

from radiomics import featureextractor

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "differential")
PARAMS = ["d2", "d12", "d112", "d12_2d", "d123_2d"]


def chosen_cases():
    with open(os.path.join(CASES, "cases.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["params"] == "params.yaml" and r["pyradiomics_status"] == "ok"]
    per_class = {}
    for r in rows:
        per_class.setdefault(r["class"], [])
        if len(per_class[r["class"]]) < 2:
            per_class[r["class"]].append(r)
    return [r for chosen in per_class.values() for r in chosen]


def main():
    values, refused = [], []
    cases = chosen_cases()
    for name in PARAMS:
        extractor = featureextractor.RadiomicsFeatureExtractor(os.path.join(HERE, name + ".yaml"))
        for r in cases:
            image, mask = os.path.join(CASES, r["image"]), os.path.join(CASES, r["mask"])
            try:
                result = extractor.execute(image, mask, label=int(r["label"]))
            except Exception as e:  # PyRadiomics refuses the case: recorded, not compared
                refused.append([r["case"], name, str(e)])
                continue
            for key, value in result.items():
                if not key.startswith("diagnostics_"):
                    values.append([r["case"], name, key, repr(float(value))])
    with open(os.path.join(HERE, "differential.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "params", "feature", "value"])
        w.writerows(values)
    with open(os.path.join(HERE, "differential_refused.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "params", "error"])
        w.writerows(refused)
    print(len(cases), "cases,", len(values), "values,", len(refused), "refused")


if __name__ == "__main__":
    main()
