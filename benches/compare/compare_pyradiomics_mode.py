"""radx run with PyRadiomics' parameter file (`--names pyradiomics`) against PyRadiomics:
every feature by name, the largest relative difference, and any feature one side lacks."""
import csv
import sys

case, radx_csv, py_csv = sys.argv[1:4]
with open(radx_csv) as f:
    radx = {row["feature"]: float(row["value"]) for row in csv.DictReader(f)}
with open(py_csv) as f:
    py = {name: float(value) for name, value in csv.reader(f)}


def rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a)


common = sorted(set(radx) & set(py))
worst = max(common, key=lambda k: rel(radx[k], py[k]))
print(f"{case:7s} {len(common)} features in common, largest relative difference "
      f"{rel(radx[worst], py[worst]):.1e} ({worst})")
for name in sorted(set(py) - set(radx)):
    print(f"        only PyRadiomics: {name}")
for name in sorted(set(radx) - set(py)):
    print(f"        only radx: {name}")
