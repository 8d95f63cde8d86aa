"""Oracle for the example filter plugins (plugins/sobel, plugins/c-example's binomial_mean3)
on PyRadiomics' brain2 case: each filter written out in numpy from its definition,
independently of the plugins' loops and of radx's cropping.

- sobel_magnitude: per axis a, the 3x3x3 Sobel kernel (central difference along a,
  [1, 2, 1] along the two others) over the image padded by numpy's `symmetric` mode (IBSI-2
  `mirror`), divided by 32 and the spacing along a; the response is the gradient's norm.
- binomial_mean3: the outer product of [1, 2, 1] / 4 along each axis over the image padded
  by numpy's `edge` mode (IBSI-2 `nearest`).

Writes expected.csv beside this script: the whole response's sum and its values at chosen
voxels (corners, edges, the ROI), and first-order statistics of the response over the ROI
(label 1; radx's default settings do not process intensities), IBSI 3.3 definitions.
Run once, with numpy and SimpleITK (e.g. /tmp/radx-compare/venv/bin/python generate.py).
"""
import csv
import os

import numpy as np
import SimpleITK as sitk

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "pyradiomics", "data")


def shifted(padded, offset):
    """The padded array's window displaced by `offset` (-1, 0, 1 per numpy axis)."""
    z, y, x = (slice(1 + o, padded.shape[i] - 1 + o) for i, o in enumerate(offset))
    return padded[z, y, x]


def correlate3(image, weights, mode):
    """sum over the 27 offsets of weights[dz+1, dy+1, dx+1] * image[z+dz, y+dy, x+dx]."""
    padded = np.pad(image, 1, mode=mode)
    out = np.zeros_like(image)
    for dz in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                out += weights[dz + 1, dy + 1, dx + 1] * shifted(padded, (dz, dy, dx))
    return out


def sobel_magnitude(image, spacing_xyz):
    smooth, diff = np.array([1.0, 2.0, 1.0]), np.array([-1.0, 0.0, 1.0])
    total = np.zeros_like(image)
    # numpy axes are (z, y, x); the spacing is (x, y, z).
    for axis, spacing in zip((2, 1, 0), spacing_xyz):
        factors = [diff if a == axis else smooth for a in range(3)]
        kernel = np.einsum("i,j,k->ijk", *factors)
        g = correlate3(image, kernel, "symmetric") / (32.0 * spacing)
        total += g * g
    return np.sqrt(total)


def binomial_mean3(image):
    w = np.array([1.0, 2.0, 1.0]) / 4.0
    return correlate3(image, np.einsum("i,j,k->ijk", w, w, w), "edge")


def first_order(v):
    mean = v.mean()
    d = v - mean
    m2 = (d ** 2).mean()
    return {
        "mean_intensity": mean,
        "intensity_variance": m2,
        "intensity_skewness": (d ** 3).mean() / m2 ** 1.5,
        "intensity_kurtosis": (d ** 4).mean() / m2 ** 2 - 3.0,
        "median_intensity": np.median(v),
        "minimum_intensity": v.min(),
        "maximum_intensity": v.max(),
        "intensity_range": v.max() - v.min(),
        "mean_absolute_deviation": np.abs(d).mean(),
        "energy": (v ** 2).sum(),
        "root_mean_square": np.sqrt((v ** 2).mean()),
    }


def voxels(shape, roi):
    """Corners, edge and face voxels, and every 97th ROI voxel, as (x, y, z)."""
    nz, ny, nx = shape
    chosen = [(x, y, z) for x in (0, nx - 1) for y in (0, ny - 1) for z in (0, nz - 1)]
    chosen += [(nx // 2, 0, nz // 2), (0, ny // 2, 1), (nx - 1, ny // 3, nz - 1), (nx // 3, ny - 1, 0)]
    chosen += [(int(x), int(y), int(z)) for z, y, x in np.argwhere(roi)[::97]]
    return chosen


def main():
    image = sitk.ReadImage(os.path.join(DATA, "brain2_image.nrrd"))
    label = sitk.ReadImage(os.path.join(DATA, "brain2_label.nrrd"))
    values = sitk.GetArrayFromImage(image).astype(np.float64)  # (z, y, x)
    roi = sitk.GetArrayFromImage(label) == 1
    responses = {
        "sobel_magnitude": sobel_magnitude(values, image.GetSpacing()),
        "binomial_mean3": binomial_mean3(values),
    }
    with open(os.path.join(HERE, "expected.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["filter", "what", "key", "value"])
        for name, response in responses.items():
            out.writerow([name, "sum", "-", repr(float(response.sum()))])
            for x, y, z in voxels(values.shape, roi):
                out.writerow([name, "voxel", f"{x} {y} {z}", repr(float(response[z, y, x]))])
            for feature, value in first_order(response[roi]).items():
                out.writerow([name, "feature", feature, repr(float(value))])


if __name__ == "__main__":
    main()
