"""Write SimpleITK's resampling, as PyRadiomics 3.0.1 calls it, for radx's oracle test.

Each case is a small image and mask run through PyRadiomics' own
`radiomics.imageoperations.resampleImage` (SimpleITK's `ResampleImageFilter`: the image with
the case's interpolator in the image's pixel type, the mask by nearest neighbour, on a grid
aligned to the ROI's bounding box grown by `padDistance`). Inputs and outputs are written
as gzip NRRD with their full geometry into this folder, and `manifest.csv` lists them. The
Rust test `crates/radx-engine/tests/it/oracle_pyradiomics_resampling.rs` compares radx's
`compat::pyradiomics::processing::resample` with these files; it runs no Python.

Environment (outside the repository):

    ~/.pyenv/versions/3.9.18/bin/python -m venv /work/cmp/venv-pyr3
    /work/cmp/venv-pyr3/bin/pip install "numpy<2" pyradiomics==3.0.1
    /work/cmp/venv-pyr3/bin/python tests/data/pyradiomics/resampling/make_fixtures.py

(PyRadiomics 3.0.1, SimpleITK 2.5.7 / ITK 5.4, numpy 1.26.4, Python 3.9.18, x86-64 made
the checked-in files.)
"""

import csv
import os

import numpy as np
import SimpleITK as sitk

from radiomics import imageoperations as io

HERE = os.path.dirname(os.path.abspath(__file__))

FLIP_Y = (1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0)
FLIP_XZ = (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def image_of(array_zyx, spacing, origin, direction):
    image = sitk.GetImageFromArray(array_zyx)
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetOrigin(tuple(float(o) for o in origin))
    image.SetDirection(direction)
    return image


def box_mask(shape_zyx, lo_zyx, hi_zyx, rng, fill=0.8):
    """A random ROI inside the box [lo, hi] (inclusive, z y x) touching every face of it."""
    mask = np.zeros(shape_zyx, dtype=np.uint8)
    region = tuple(slice(l, h + 1) for l, h in zip(lo_zyx, hi_zyx))
    mask[region] = (rng.random([h - l + 1 for l, h in zip(lo_zyx, hi_zyx)]) < fill).astype(np.uint8)
    # Make the bounding box exactly [lo, hi].
    mask[lo_zyx[0], lo_zyx[1], lo_zyx[2]] = 1
    mask[hi_zyx[0], hi_zyx[1], hi_zyx[2]] = 1
    return mask


def cases():
    """(name, image, mask) of the inputs."""
    rng = np.random.default_rng(20250611)
    out = []

    # Integer image (int16, both signs), odd sizes, anisotropic spacing, ROI in the middle.
    shape = (9, 13, 17)  # z, y, x
    a = rng.integers(-300, 900, size=shape).astype(np.int16)
    m = box_mask(shape, (2, 3, 4), (6, 9, 12), rng)
    out.append(("int16", image_of(a, (0.7, 0.9, 2.3), (-10.3, 5.2, 30.1), IDENTITY), image_of(m, (0.7, 0.9, 2.3), (-10.3, 5.2, 30.1), IDENTITY)))

    # Integer image whose ROI touches the borders: the grid reaches beyond the image (ITK's
    # default value 0 there), and the spline's mirror boundary is used.
    shape = (7, 11, 9)
    a = rng.integers(-1000, 3000, size=shape).astype(np.int16)
    m = box_mask(shape, (0, 0, 1), (6, 8, 8), rng)
    out.append(("int16_border", image_of(a, (1.0, 1.0, 3.0), (0.0, 0.0, 0.0), IDENTITY), image_of(m, (1.0, 1.0, 3.0), (0.0, 0.0, 0.0), IDENTITY)))

    # Float image (float64, as PyRadiomics' normalised images), flipped y (as brain2),
    # brain2-like spacing.
    shape = (7, 16, 15)
    a = rng.normal(0.0, 100.0, size=shape)
    m = box_mask(shape, (1, 2, 3), (5, 12, 11), rng)
    sp, org = (0.78124999999999989, 0.78124999999999989, 6.4999999999999982), (-109.99999999999999, 103.41874694824213, -62.70000076293945)
    out.append(("float64_flip", image_of(a, sp, org, FLIP_Y), image_of(m, sp, org, FLIP_Y)))

    # Float image, x and z flipped, breast1-like spacing, ROI reaching the x faces.
    shape = (6, 10, 13)
    a = rng.normal(50.0, 30.0, size=shape)
    m = box_mask(shape, (1, 2, 0), (4, 7, 12), rng)
    sp, org = (0.664062, 0.664062, 2.1), (-116.54304, -48.14465400000001, 9.45000000000003)
    out.append(("float64_flip_xz", image_of(a, sp, org, FLIP_XZ), image_of(m, sp, org, FLIP_XZ)))

    # One slice thick image (z size 1: ITK's spline leaves that axis alone).
    shape = (1, 14, 19)
    a = rng.integers(0, 400, size=shape).astype(np.int16)
    m = box_mask(shape, (0, 3, 4), (0, 10, 14), rng)
    out.append(("int16_one_slice", image_of(a, (0.8, 0.8, 5.0), (3.0, -2.0, 1.0), IDENTITY), image_of(m, (0.8, 0.8, 5.0), (3.0, -2.0, 1.0), IDENTITY)))

    # ROI in one slice of a thicker image: PyRadiomics keeps that axis' spacing.
    shape = (6, 12, 11)
    a = rng.normal(0.0, 1.0, size=shape)
    m = box_mask(shape, (3, 2, 2), (3, 9, 8), rng)
    out.append(("float64_roi_one_slice", image_of(a, (0.9, 0.9, 2.5), (0.0, 0.0, 0.0), IDENTITY), image_of(m, (0.9, 0.9, 2.5), (0.0, 0.0, 0.0), IDENTITY)))
    return out


# (case, resampledPixelSpacing, interpolator, padDistance)
RUNS = [
    ("int16", (1.0, 1.0, 1.0), "sitkBSpline", 5),
    ("int16", (2.0, 2.0, 2.0), "sitkBSpline", 2),
    ("int16", (0.5, 0.5, 0.0), "sitkBSpline", 5),
    ("int16", (1.3, 0.6, 1.7), "sitkLinear", 3),
    ("int16", (1.3, 0.6, 1.7), "sitkNearestNeighbor", 3),
    ("int16_border", (2.0, 2.0, 2.0), "sitkBSpline", 5),
    ("int16_border", (0.7, 0.7, 1.1), "sitkBSpline", 5),
    ("int16_border", (2.0, 2.0, 2.0), "sitkLinear", 5),
    ("float64_flip", (3.0, 3.0, 3.0), "sitkBSpline", 5),
    ("float64_flip", (2.0, 2.0, 0.0), "sitkBSpline", 5),
    ("float64_flip", (1.0, 1.0, 1.0), "sitkBSpline", 1),
    ("float64_flip", (1.0, 1.0, 1.0), "sitkLinear", 1),
    ("float64_flip_xz", (1.0, 1.0, 1.0), "sitkBSpline", 5),
    ("float64_flip_xz", (0.5, 0.9, 3.3), "sitkBSpline", 0),
    ("int16_one_slice", (0.5, 0.5, 0.0), "sitkBSpline", 5),
    ("int16_one_slice", (1.5, 1.1, 2.0), "sitkBSpline", 5),
    ("float64_roi_one_slice", (1.0, 1.0, 1.0), "sitkBSpline", 5),
    ("float64_roi_one_slice", (0.9, 0.9, 2.5), "sitkBSpline", 2),
]


def write(image, name):
    sitk.WriteImage(image, os.path.join(HERE, name), True)
    return name


def main():
    inputs = {}
    for name, image, mask in cases():
        inputs[name] = (image, mask, write(image, name + "_image.nrrd"), write(mask, name + "_mask.nrrd"))
    rows = []
    for i, (case, spacing, interpolator, pad) in enumerate(RUNS):
        image, mask, image_file, mask_file = inputs[case]
        out_image, out_mask = io.resampleImage(
            image, mask, resampledPixelSpacing=list(spacing), interpolator=interpolator, padDistance=pad, label=1
        )
        tag = "%s_%02d" % (case, i)
        rows.append(
            {
                "case": case,
                "image": image_file,
                "mask": mask_file,
                "spacing": " ".join(repr(float(s)) for s in spacing),
                "interpolator": interpolator,
                "pad_distance": pad,
                "resampled_image": write(out_image, tag + "_resampled_image.nrrd"),
                "resampled_mask": write(out_mask, tag + "_resampled_mask.nrrd"),
                "pixel_type": out_image.GetPixelIDTypeAsString(),
                "size": " ".join(str(s) for s in out_image.GetSize()),
            }
        )
    with open(os.path.join(HERE, "manifest.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
