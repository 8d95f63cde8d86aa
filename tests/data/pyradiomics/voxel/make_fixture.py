"""Voxel-based maps of PyRadiomics 3.0.1 on a case of tests/data/pyradiomics/data as CSV.

Run with PyRadiomics 3.0.1's Python:  python make_fixture.py CASE PARAMS OUT
(e.g. `python make_fixture.py brain2 brain2_r1.yaml brain2_r1.csv`; PARAMS relative to this
folder).
One row per ROI voxel: its index x,y,z (NRRD/radx order, x fastest) then every map's value
at it (repr of the float64; `nan` where PyRadiomics left the init value).
"""
import csv
import os
import sys

import numpy
import SimpleITK as sitk
from radiomics import featureextractor, setVerbosity

setVerbosity(60)
here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, '..', 'data')
case, params, out = sys.argv[1], sys.argv[2], sys.argv[3]
extractor = featureextractor.RadiomicsFeatureExtractor(os.path.join(here, params))
image = os.path.join(data, case + '_image.nrrd')
mask = os.path.join(data, case + '_label.nrrd')
result = extractor.execute(image, mask, voxelBased=True)
maps = {k: v for k, v in result.items() if isinstance(v, sitk.Image)}
label = sitk.GetArrayFromImage(sitk.ReadImage(mask))  # z, y, x
names = sorted(maps)
arrays = {}
for name in names:
    # Maps cover the ROI's box grown by the kernel radius: place them on the mask's grid.
    m = maps[name]
    full = sitk.Resample(m, sitk.ReadImage(mask), sitk.Transform(), sitk.sitkNearestNeighbor, float('nan'))
    arrays[name] = sitk.GetArrayFromImage(full)
zs, ys, xs = numpy.where(label == extractor.settings.get('label', 1))
order = numpy.lexsort((xs, ys, zs))
with open(os.path.join(here, out), 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['x', 'y', 'z'] + names)
    for i in order:
        z, y, x = zs[i], ys[i], xs[i]
        w.writerow([x, y, z] + [repr(float(arrays[n][z, y, x])) for n in names])
