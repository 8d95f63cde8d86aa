"""Run PyRadiomics on one case and write `name,value` rows (the timing covers the whole process)."""
import csv
import logging
import sys
import time

from radiomics import featureextractor

logging.getLogger("radiomics").setLevel(logging.ERROR)
image, mask, params, out = sys.argv[1:5]
extractor = featureextractor.RadiomicsFeatureExtractor(params)
start = time.perf_counter()
result = extractor.execute(image, mask)
print(f"execute: {time.perf_counter() - start:.3f} s", file=sys.stderr)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    for k, v in result.items():
        if not k.startswith("diagnostics_"):
            w.writerow([k, float(v)])
