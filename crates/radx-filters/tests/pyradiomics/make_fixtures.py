"""Write PyRadiomics 3.0.1's derived images (image types) for radx's oracle tests.

Runs PyRadiomics' own generators (`radiomics.imageoperations.get<Type>Image`) on two small
inputs and writes each response as a gzip-compressed NRRD into
`tests/data/pyradiomics/image_types/<case>/`, with `manifest.csv` listing them. The Rust
test `crates/radx-filters/tests/it/oracle_pyradiomics_image_types.rs` compares radx's
filters with these files; it runs no Python.

Environment (outside the repository):

    ~/.pyenv/versions/3.9.18/bin/python -m venv /work/cmp/venv-pyr3
    /work/cmp/venv-pyr3/bin/pip install "numpy<2" pyradiomics==3.0.1 scikit-image trimesh
    /work/cmp/venv-pyr3/bin/python crates/radx-filters/tests/pyradiomics/make_fixtures.py

(SimpleITK 2.5.7 / ITK 5.4, PyWavelets 1.6.0, scikit-image 0.24.0, SciPy 1.13.1 and
trimesh 4.12.2 made the checked-in files.)

Every file is written with an identity direction, origin 0 and the input's spacing, so
the voxel array is in ITK's index order (x, y, z) whatever reader opens it.
"""

import csv
import os
import sys

import numpy as np
import SimpleITK as sitk

import radiomics
from radiomics import imageoperations as io

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
OUT = os.path.join(ROOT, "tests", "data", "pyradiomics", "image_types")
BRAIN2 = os.path.join(ROOT, "tests", "data", "pyradiomics", "data")


def plain(array_zyx, spacing, pixel_id=None):
    """A SimpleITK image of a numpy (z, y, x) array, identity direction, origin 0."""
    image = sitk.GetImageFromArray(array_zyx)
    if pixel_id is not None:
        image = sitk.Cast(image, pixel_id)
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetOrigin((0.0, 0.0, 0.0))
    return image


def random_case():
    """23x20x11 voxels (two odd sizes: PyRadiomics' wavelet pads them), anisotropic
    spacing, integer intensities of both signs; the mask is a scattered 30 % of voxels,
    the border included."""
    rng = np.random.default_rng(20240522)
    nx, ny, nz = 23, 20, 11
    image = rng.integers(-300, 900, size=(nz, ny, nx)).astype(np.int16)
    mask = (rng.random((nz, ny, nx)) < 0.3).astype(np.uint8)
    spacing = (0.7, 0.9, 2.3)
    return plain(image, spacing), plain(mask, spacing)


def brain2_case():
    """A 32x27x7 crop of PyRadiomics' brain2 around its label 1 (int16, 0.78x0.78x6.5 mm)."""
    image = sitk.ReadImage(os.path.join(BRAIN2, "brain2_image.nrrd"))
    label = sitk.ReadImage(os.path.join(BRAIN2, "brain2_label.nrrd"))
    crop = (slice(6, 13), slice(149, 176), slice(199, 231))  # z, y, x
    a = sitk.GetArrayFromImage(image)[crop]
    m = (sitk.GetArrayFromImage(label)[crop] == 1).astype(np.uint8)
    return plain(a, image.GetSpacing()), plain(m, image.GetSpacing())


def write(image, case, name):
    folder = os.path.join(OUT, case)
    os.makedirs(folder, exist_ok=True)
    out = sitk.Image(image)
    out.SetDirection((1, 0, 0, 0, 1, 0, 0, 0, 1))
    out.SetOrigin((0.0, 0.0, 0.0))
    sitk.WriteImage(out, os.path.join(folder, name + ".nrrd"), True)
    return case + "/" + name + ".nrrd"


# (generator, settings label, settings): PyRadiomics' kwargs for that image type.
# The multi-level and y-slice wavelets run on the random case only (ONLY_RANDOM), to keep
# the fixtures small.
ONLY_RANDOM = {"haar_start1_level2", "sym2_2d_axis1"}
CONFIGS = [
    ("LoG", "sigma", {"sigma": [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0]}),
    ("Wavelet", "coif1", {}),
    ("Wavelet", "haar_start1_level2", {"wavelet": "haar", "start_level": 1, "level": 2}),
    ("Wavelet", "db3_2d", {"wavelet": "db3", "force2D": True, "force2Ddimension": 0}),
    ("Wavelet", "sym2_2d_axis1", {"wavelet": "sym2", "force2D": True, "force2Ddimension": 1}),
    ("Square", "", {}),
    ("SquareRoot", "", {}),
    ("Logarithm", "", {}),
    ("Exponential", "", {}),
    ("Gradient", "spacing", {}),
    ("Gradient", "nospacing", {"gradientUseSpacing": False}),
    ("LBP2D", "default", {"force2D": True}),
    ("LBP2D", "r2_p12_default_axis2", {"lbp2DRadius": 2, "lbp2DSamples": 12, "lbp2DMethod": "default",
                                       "force2D": True, "force2Ddimension": 2}),
    ("LBP2D", "r1.5_p8_ror", {"lbp2DRadius": 1.5, "lbp2DMethod": "ror", "force2D": True}),
    ("LBP2D", "r1_p8_nri", {"lbp2DMethod": "nri_uniform", "force2D": True}),
    ("LBP2D", "r1_p8_var", {"lbp2DMethod": "var", "force2D": True}),
    ("LBP3D", "default", {}),
    ("LBP3D", "l3_r2_s2", {"lbp3DLevels": 3, "lbp3DIcosphereRadius": 2, "lbp3DIcosphereSubdivision": 2}),
]


def main():
    rows = []
    for case, (image, mask) in (("random", random_case()), ("brain2", brain2_case())):
        rows.append([case, "input", "", "", write(image, case, "input"), image.GetPixelIDTypeAsString()])
        rows.append([case, "mask", "", "", write(mask, case, "mask"), mask.GetPixelIDTypeAsString()])
        for generator, label, settings in CONFIGS:
            if case != "random" and label in ONLY_RANDOM:
                continue
            kwargs = dict(settings, label=1)
            for response, image_type, _ in getattr(io, "get%sImage" % generator)(image, mask, **kwargs):
                name = image_type + ("_" + label if label else "")
                if generator == "LBP3D":
                    # Outside the mask PyRadiomics leaves numpy.ndarray's uninitialised memory:
                    # keep the ROI's values only.
                    a = sitk.GetArrayFromImage(response)
                    a[sitk.GetArrayFromImage(mask) != 1] = 0.0
                    spacing = response.GetSpacing()
                    response = sitk.GetImageFromArray(a)
                    response.SetSpacing(spacing)
                path = write(response, case, name)
                rows.append([case, generator, label, image_type, path, response.GetPixelIDTypeAsString()])
    with open(os.path.join(OUT, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "generator", "settings", "image_type", "file", "pixel_type"])
        w.writerows(rows)
    total = sum(os.path.getsize(os.path.join(OUT, r[4])) for r in rows)
    print("%d files, %.2f MB, PyRadiomics %s" % (len(rows), total / 1e6, radiomics.__version__), file=sys.stderr)


if __name__ == "__main__":
    main()
