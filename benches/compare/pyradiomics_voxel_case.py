"""Run PyRadiomics' voxel-based mode on one case and write every map as NIfTI.

Usage: python pyradiomics_voxel_case.py IMAGE MASK PARAMS OUT_DIR
Prints `execute S` (PyRadiomics' own computation) and `write S` (sitk.WriteImage of every
map as .nii.gz) on stderr; the caller times the whole process too.
"""
import logging
import os
import sys
import time

import SimpleITK as sitk
from radiomics import featureextractor

logging.getLogger("radiomics").setLevel(logging.ERROR)
image, mask, params, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
extractor = featureextractor.RadiomicsFeatureExtractor(params)
start = time.perf_counter()
result = extractor.execute(image, mask, voxelBased=True)
computed = time.perf_counter()
maps = {k: v for k, v in result.items() if isinstance(v, sitk.Image)}
for name, m in maps.items():
    sitk.WriteImage(m, os.path.join(out, name + ".nii.gz"))
written = time.perf_counter()
print(f"execute {computed - start:.3f} write {written - computed:.3f} maps {len(maps)}", file=sys.stderr)
