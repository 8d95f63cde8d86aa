"""PyRadiomics' first bin edge for fixed bin width: floor(min / width) * width over the ROI."""
import sys

import numpy as np
import SimpleITK as sitk

image = sitk.GetArrayFromImage(sitk.ReadImage(sys.argv[1]))
mask = sitk.GetArrayFromImage(sitk.ReadImage(sys.argv[2]))
width = float(sys.argv[3])
low = image[mask == 1].min()
print(float(np.floor(low / width) * width))
