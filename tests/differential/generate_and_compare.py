#!/usr/bin/env python3
"""Differential harness: radx's PyRadiomics profile against live PyRadiomics 3.0.1.

Steps (each a subcommand; `all` runs the three in turn):

  generate     write the generated cases (compressed NRRD) and their manifest `cases.csv`
               into DATA (needs numpy and SimpleITK)
  pyradiomics  run PyRadiomics on every case with its parameter file (DATA/params*.yaml); write
               DATA/pyradiomics.csv (case,feature,value) and each case's status into the
               manifest (needs pyradiomics)
  compare      run `radx extract --settings PARAMS --names pyradiomics --format csv`
               on every case and report every value differing from DATA/pyradiomics.csv by more
               than 1e-6 relative and 1e-9 absolute, grouped by feature and cause (standard
               library only: it runs wherever radx builds)

DATA defaults to tests/data/pyradiomics/differential (the checked-in fixtures). See README.md.
"""

import argparse
import csv
import math
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DATA = os.path.join(REPO, "tests", "data", "pyradiomics", "differential")
DEFAULT_RADX = os.path.join(REPO, "target", "release", "radx")
RELATIVE = 1e-6
ABSOLUTE = 1e-9

# The 13 directions of 3-D texture matrices (x, y, z offsets; one of each ± pair).
DIRECTIONS = [
    (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, -1, 0), (1, 0, 1), (1, 0, -1),
    (0, 1, 1), (0, 1, -1), (1, 1, 1), (1, 1, -1), (1, -1, 1), (-1, 1, 1),
]

# ---------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------

ANISOTROPIC = (0.78125, 0.78125, 6.5)  # brain2's spacing (x, y, z), mm

# The parameter file of the cases: brain2's baseline settings (tests/data/pyradiomics/params/
# brain2.yaml): original image, every feature class, binWidth 25 (PyRadiomics' default), no
# resampling, no normalisation, 3D. The label is given per case.
PARAMS = """\
# PyRadiomics parameter file of the differential cases (written by
# tests/differential/generate_and_compare.py): brain2's baseline settings
# (tests/data/pyradiomics/params/brain2.yaml): the original image, %(classes)s,
# binWidth 25 (PyRadiomics' default), no resampling, no normalisation, %(what)s.
# The ROI's label is given per case (cases.csv); `label` below is only the default.
imageType:
  Original: {}
setting:
  distances: [1]
  voxelArrayShift: 2000
  additionalInfo: true
  force2D: %(force2D)s
  interpolator:
  resampledPixelSpacing:
  gldm_a: 0
  weightingNorm:%(weightingNorm)s
  normalizeScale: 1
  normalize: false
  force2Ddimension: 0
  removeOutliers:
  minimumROISize:
  binWidth: 25
  label: 1
  minimumROIDimensions: 1
  preCrop: false
  resegmentRange:
  padDistance: 5
%(featureClass)s"""

# Variants: (parameter file, settings, feature classes, base cases they are run on). Their
# cases are named `<variant>_<base case>` and reuse the base case's files.
WEIGHTING_CASES = ["sparse_000", "sparse_001", "sparse_004", "patch_000", "patch_001", "line_003", "line_016",
                   "blob_000", "blob_001", "aniso_000"]
FORCE2D_TEXTURE_CASES = (["patch_%03d" % k for k in range(8)] + ["blob_%03d" % k for k in range(8)]
                         + ["sparse_%03d" % k for k in range(8)] + ["aniso_000", "aniso_001", "multilabel_000",
                                                                     "direction_000", "border_000", "levels_000"]
                         + ["cube_017", "cube_020", "cube_060", "cube_195"])
FORCE2D_SHAPE_CASES = (["oneslice_%03d" % k for k in range(30)]
                       + ["cube_%03d" % p for p in (3, 5, 6, 7, 9, 11, 15)] + ["line_000", "line_003", "line_013"])


def variants():
    """(name, what, PARAMS values, feature classes, base cases) of each variant."""
    texture = ["glcm", "glrlm", "glszm", "gldm", "ngtdm"]
    out = []
    for norm in ["infinity", "euclidean", "manhattan", "no_weighting"]:
        out.append(("weighting-" + norm.replace("_", "-"), "weightingNorm " + norm, {"weightingNorm": " " + norm},
                    ["glcm", "glrlm"], WEIGHTING_CASES))
    out.append(("force2d", "force2D", {"force2D": "true"}, texture, FORCE2D_TEXTURE_CASES))
    out.append(("force2d-shape", "force2D", {"force2D": "true"}, ["shape2D"] + texture, FORCE2D_SHAPE_CASES))
    return out


def params_text(what="3D", settings=None, classes=None):
    values = {"force2D": "false", "weightingNorm": "", "classes": "every feature class", "what": what,
              "featureClass": ""}
    values.update(settings or {})
    if classes:
        values["classes"] = "feature classes " + ", ".join(classes)
        values["featureClass"] = "featureClass:\n" + "".join("  %s:\n" % c for c in classes)
    return PARAMS % values
SPACINGS = [(1.0, 1.0, 1.0), ANISOTROPIC, (0.664, 0.664, 2.1), (0.5, 2.0, 3.0), (3.0, 1.0, 1.0), (1.2, 0.7, 0.7)]


def generate(data, seed=22):
    import numpy as np
    import SimpleITK as sitk

    rng = np.random.RandomState(seed)
    cases_dir = os.path.join(data, "cases")
    os.makedirs(cases_dir, exist_ok=True)
    for f in os.listdir(cases_dir):
        if f.endswith(".nrrd"):
            os.remove(os.path.join(cases_dir, f))
    rows = []

    def write(array_zyx, name, spacing, direction=None, origin=(0.0, 0.0, 0.0)):
        img = sitk.GetImageFromArray(array_zyx)
        img.SetSpacing([float(s) for s in spacing])
        img.SetOrigin([float(o) for o in origin])
        if direction is not None:
            img.SetDirection([float(d) for d in direction])
        path = os.path.join(cases_dir, name)
        sitk.WriteImage(img, path, True)
        return "cases/" + name

    def image_int(shape, low=0, high=300):
        return rng.randint(low, high, size=shape).astype(np.int16)

    def image_float(shape):
        # CT-like: negative and fractional values, a smooth trend plus noise.
        base = rng.uniform(-120.0, 180.0)
        return (base + smooth(rng.normal(0.0, 60.0, size=shape), 1) + rng.normal(0.0, 20.0, size=shape)).astype(
            np.float32
        )

    def smooth(field, passes):
        for _ in range(passes):
            for axis in range(3):
                if field.shape[axis] < 3:
                    continue
                padded = np.concatenate(
                    [field.take([0], axis=axis), field, field.take([-1], axis=axis)], axis=axis
                )
                n = field.shape[axis]
                field = (
                    padded.take(range(0, n), axis=axis)
                    + padded.take(range(1, n + 1), axis=axis)
                    + padded.take(range(2, n + 2), axis=axis)
                ) / 3.0
        return field

    def blob(shape, fraction, passes=2):
        field = smooth(rng.normal(size=shape), passes)
        threshold = np.quantile(field, 1.0 - fraction)
        return field >= threshold

    def add(case, klass, image, mask, label=1, note=""):
        rows.append({"case": case, "class": klass, "image": image, "mask": mask, "label": label, "note": note})

    def add_case(case, klass, img, msk, spacing, label=1, note="", direction=None, origin=(0.0, 0.0, 0.0)):
        if not (msk == label).any():
            raise RuntimeError(case + ": empty ROI")
        image = write(img, case + "_image.nrrd", spacing, direction, origin)
        mask = write(msk.astype(np.uint8), case + "_mask.nrrd", spacing, direction, origin)
        add(case, klass, image, mask, label, note)

    # 1. Every 2×2×2 single-cube pattern, at brain2's anisotropic spacing, in a 4×4×4 volume
    #    sharing one image. Bit b of the pattern is voxel (x, y, z) = (b & 1, b >> 1 & 1, b >> 2 & 1)
    #    of the cube at (1, 1, 1).
    shared = write(image_int((4, 4, 4)), "cube_image.nrrd", ANISOTROPIC)
    for pattern in range(1, 256):
        mask = np.zeros((4, 4, 4), np.uint8)
        for b in range(8):
            if pattern >> b & 1:
                mask[1 + (b >> 2 & 1), 1 + (b >> 1 & 1), 1 + (b & 1)] = 1
        case = "cube_%03d" % pattern
        add(case, "cube", shared, write(mask, case + "_mask.nrrd", ANISOTROPIC), 1, "pattern %d" % pattern)

    # 2. Random 3×3×3 patches (neighbouring cubes of several configurations), various spacings.
    for k in range(40):
        shape = (5, 5, 5)
        mask = np.zeros(shape, np.uint8)
        mask[1:4, 1:4, 1:4] = rng.uniform(size=(3, 3, 3)) < rng.uniform(0.3, 0.8)
        if mask.sum() < 2:
            mask[2, 2, 2] = mask[2, 2, 3] = 1
        add_case("patch_%03d" % k, "patch", image_int(shape), mask, SPACINGS[k % len(SPACINGS)])

    # 3. Sparse ROIs: isolated voxels (no two 26-neighbours) and random scattered voxels.
    for k in range(40):
        shape = (8, 10, 11)
        mask = np.zeros(shape, np.uint8)
        target = rng.randint(2, 25)
        isolated = k % 2 == 0
        tries = 0
        while mask.sum() < target and tries < 5000:
            tries += 1
            z, y, x = (rng.randint(0, s) for s in shape)
            if isolated and mask[max(z - 1, 0):z + 2, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].any():
                continue
            mask[z, y, x] = 1
        add_case(
            "sparse_%03d" % k, "sparse", image_int(shape), mask, SPACINGS[k % len(SPACINGS)],
            note="isolated voxels" if isolated else "scattered voxels",
        )

    # 4. Lines: voxels along one of the 13 directions, with or without gaps, single or parallel.
    for k in range(26):
        shape = (7, 7, 7)
        mask = np.zeros(shape, np.uint8)
        dx, dy, dz = DIRECTIONS[k % 13]
        lines = 1 if k < 13 else 2
        for line in range(lines):
            start = [3 - dx * 3, 3 - dy * 3, 3 - dz * 3]
            if line == 1:
                # A parallel line, shifted in an axis the direction does not move along (or by 2).
                free = [a for a, d in enumerate((dx, dy, dz)) if d == 0]
                start[free[0] if free else 0] += 2 if free else 0
            for t in range(7):
                if k >= 13 and t % 3 == 2:
                    continue  # gaps
                x, y, z = start[0] + dx * t, start[1] + dy * t, start[2] + dz * t
                if 0 <= x < 7 and 0 <= y < 7 and 0 <= z < 7:
                    mask[z, y, x] = 1
        add_case("line_%03d" % k, "line", image_int(shape, 0, 120), mask, SPACINGS[k % 3],
                 note="direction %s" % (DIRECTIONS[k % 13],))

    # 5. ROIs touching the image's borders: each face, an edge, a corner, the whole image.
    shape = (8, 9, 10)
    faces = [(axis, side) for axis in range(3) for side in (0, 1)]
    for k in range(24):
        mask = blob(shape, 0.25).astype(np.uint8)
        if k < 12:
            axis, side = faces[k % 6]
            index = [slice(None)] * 3
            index[axis] = 0 if side == 0 else shape[axis] - 1
            sub = mask[tuple(index)]
            sub[...] = np.maximum(sub, blob(sub.shape + (1,), 0.5)[..., 0])
            note = "touches face axis %d side %d" % (2 - axis, side)
        elif k < 20:
            z, y, x = (k & 1) * (shape[0] - 1), (k >> 1 & 1) * (shape[1] - 1), (k >> 2 & 1) * (shape[2] - 1)
            mask[max(z - 1, 0):z + 2, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] = 1
            note = "touches a corner"
        elif k < 23:
            mask[:, :, :] = 0
            mask[:, 2:5, :] = 1
            mask[:, :, 3:6] = 1
            note = "spans the image"
        else:
            mask[:, :, :] = 1
            note = "the whole image"
        add_case("border_%03d" % k, "border", image_int(shape), mask, SPACINGS[k % len(SPACINGS)], note=note)

    # 6. Multi-label masks: labels 1-4 side by side, the ROI is label 1, 2 or 3.
    for k in range(30):
        shape = (9, 10, 11)
        labels = np.zeros(shape, np.uint8)
        for label in (4, 3, 2, 1):
            labels[blob(shape, 0.2)] = label
        chosen = 1 + k % 3
        if not (labels == chosen).any():
            labels[4, 5, 5] = chosen
        add_case("multilabel_%03d" % k, "multilabel", image_int(shape), labels, SPACINGS[k % len(SPACINGS)],
                 label=chosen, note="label %d of 4" % chosen)

    # 7. Flipped and permuted direction cosines (and origins away from 0).
    flips = [(-1, 1, 1), (1, -1, 1), (1, 1, -1), (-1, -1, 1), (-1, -1, -1)]
    perms = [(0, 1, 2), (1, 0, 2), (2, 1, 0), (0, 2, 1), (1, 2, 0), (2, 0, 1)]
    for k in range(40):
        shape = (7, 9, 8)
        perm = perms[k % len(perms)]
        flip = flips[k % len(flips)] if k % 4 else (1, 1, 1)
        matrix = [[0.0] * 3 for _ in range(3)]
        for col, row in enumerate(perm):
            matrix[row][col] = float(flip[col])
        direction = [matrix[r][c] for r in range(3) for c in range(3)]
        origin = tuple(rng.uniform(-200, 200, size=3))
        add_case("direction_%03d" % k, "direction", image_int(shape), blob(shape, 0.3), SPACINGS[k % len(SPACINGS)],
                 note="direction %s" % direction, direction=direction, origin=origin)

    # 8. Anisotropic spacing: blobs at brain2's and other anisotropic spacings.
    aniso = [ANISOTROPIC, (0.5, 2.0, 3.0), (3.0, 1.0, 1.0), (0.664, 0.664, 2.1), (2.0, 0.4, 1.0)]
    for k in range(30):
        shape = (6, 12, 12)
        add_case("aniso_%03d" % k, "aniso", image_int(shape), blob(shape, rng.uniform(0.1, 0.5)),
                 aniso[k % len(aniso)])

    # 9. One-slice ROIs: in one z slice (most), one y or one x slice.
    for k in range(40):
        shape = (5, 11, 12)
        mask = np.zeros(shape, np.uint8)
        plane = blob((1,) + shape[1:], rng.uniform(0.1, 0.6))[0]
        axis = 0 if k < 30 else (1 if k < 35 else 2)
        if axis == 0:
            mask[2] = plane
        elif axis == 1:
            mask[:, 4, :] = plane[: shape[0], :]
        else:
            mask[:, :, 5] = plane[: shape[0], : shape[1]]
        if k % 5 == 4:
            mask &= (rng.uniform(size=shape) < 0.5).astype(np.uint8)  # sparse within the slice
        if mask.sum() < 2:
            mask[2, 4:6, 5] = 1
        add_case("oneslice_%03d" % k, "oneslice", image_int(shape), mask, SPACINGS[k % len(SPACINGS)],
                 note="one slice of axis %s" % "zyx"[axis])

    # 10. Random blobs, integer and floating-point images.
    for k in range(40):
        shape = (10, 12, 12)
        img = image_float(shape) if k % 2 else image_int(shape, -100, 400)
        add_case("blob_%03d" % k, "blob", img, blob(shape, rng.uniform(0.05, 0.5), passes=1 + k % 3),
                 SPACINGS[k % len(SPACINGS)])

    # 11. Few grey levels: a flat ROI (one level), two levels, values exactly on bin edges.
    for k in range(20):
        shape = (6, 7, 8)
        mask = blob(shape, 0.4)
        if k < 7:
            img = np.full(shape, 100 + 25 * k, np.int16)
            note = "flat ROI"
        elif k < 14:
            img = (25 * rng.randint(-2, 3, size=shape)).astype(np.int16)
            note = "values on bin edges"
        else:
            img = rng.choice([0, 24, 25, 49, 50], size=shape).astype(np.int16)
            note = "two or three levels"
        add_case("levels_%03d" % k, "levels", img, mask, SPACINGS[k % len(SPACINGS)], note=note)

    for r in rows:
        r["params"] = "params.yaml"
    with open(os.path.join(data, "params.yaml"), "w") as f:
        f.write(params_text())
    by_case = {r["case"]: r for r in rows}
    for name, what, settings, classes, cases in variants():
        params = "params_%s.yaml" % name
        with open(os.path.join(data, params), "w") as f:
            f.write(params_text(what, settings, classes))
        for case in cases:
            rows.append(dict(by_case[case], case="%s_%s" % (name, case), params=params))

    with open(os.path.join(data, "cases.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, ["case", "class", "params", "image", "mask", "label", "pyradiomics_status", "properties",
                               "note"])
        w.writeheader()
        for r in rows:
            r["properties"] = ";".join(properties(data, r))
            r["pyradiomics_status"] = ""
            w.writerow(r)
    print("generated %d cases in %s" % (len(rows), data))


def properties(data, row):
    """Properties of a case's ROI that explain known differences (kept in the manifest)."""
    import numpy as np
    import SimpleITK as sitk

    mask = sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(data, row["mask"]))) == int(row["label"])
    zyx = np.argwhere(mask)
    lo, hi = zyx.min(0), zyx.max(0)
    roi = mask[lo[0]:hi[0] + 1, lo[1]:hi[1] + 1, lo[2]:hi[2] + 1]
    out = []
    # Directions in which no line through the ROI holds two ROI voxels (PyRadiomics drops them
    # from its GLRLM: its C code's `multiElement` check).
    coords = set(map(tuple, np.argwhere(roi)))
    single = 0
    for dx, dy, dz in DIRECTIONS:
        if not any((z + dz * t, y + dy * t, x + dx * t) in coords
                   for (z, y, x) in coords for t in range(1, max(roi.shape))):
            single += 1
    if single:
        out.append("single-element-directions=%d" % single)
    # Voxels without any 26-neighbour in the ROI (PyRadiomics' NGTDM counts them).
    padded = np.pad(roi, 1)
    isolated = 0
    for z, y, x in np.argwhere(roi):
        if padded[z:z + 3, y:y + 3, x:x + 3].sum() == 1:
            isolated += 1
    if isolated:
        out.append("isolated-voxels=%d" % isolated)
    dims = int((hi - lo > 0).sum())
    out.append("dims=%d" % dims)
    out.append("extent=%d,%d,%d" % tuple((hi - lo + 1)[::-1]))  # x, y, z
    return out


# ---------------------------------------------------------------------------------------------
# pyradiomics
# ---------------------------------------------------------------------------------------------


def read_manifest(data):
    with open(os.path.join(data, "cases.csv"), newline="") as f:
        return list(csv.DictReader(f))


def write_manifest(data, rows):
    with open(os.path.join(data, "cases.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


def _pyradiomics_one(args):
    data, row = args
    params = os.path.join(data, row["params"])
    import logging
    import radiomics
    from radiomics import featureextractor

    radiomics.setVerbosity(logging.CRITICAL)
    extractor = featureextractor.RadiomicsFeatureExtractor(params)
    try:
        result = extractor.execute(
            os.path.join(data, row["image"]), os.path.join(data, row["mask"]), label=int(row["label"])
        )
    except Exception as e:  # PyRadiomics refuses the case (e.g. a single-voxel ROI)
        return row["case"], "error: " + str(e).replace("\n", " ").replace(",", ";"), []
    values = [(k, float(v)) for k, v in result.items() if not k.startswith("diagnostics_")]
    return row["case"], "ok", values


def run_pyradiomics(data, jobs):
    import radiomics
    from multiprocessing import Pool

    rows = read_manifest(data)
    started = time.time()
    with Pool(jobs) as pool:
        results = pool.map(_pyradiomics_one, [(data, r) for r in rows], chunksize=8)
    status = {case: s for case, s, _ in results}
    for r in rows:
        r["pyradiomics_status"] = status[r["case"]]
    write_manifest(data, rows)
    with open(os.path.join(data, "pyradiomics.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "feature", "value"])
        for case, _, values in results:
            for name, value in values:
                w.writerow([case, name, repr(value)])
    print("PyRadiomics %s on %d cases: %.1f s (%d jobs)" % (radiomics.__version__, len(rows), time.time() - started,
                                                             jobs))


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------


def _radx_one(args):
    radx, data, row = args
    cmd = [radx, "extract", "--image", os.path.join(data, row["image"]), "--mask", os.path.join(data, row["mask"]),
           "--label", row["label"], "--settings", os.path.join(data, row["params"]), "--names", "pyradiomics",
           "--format", "csv"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        return row["case"], "error: " + p.stderr.strip().replace("\n", " "), {}
    values = {}
    for r in csv.DictReader(p.stdout.splitlines()):
        values[r["feature"]] = float(r["value"])
    return row["case"], "ok", values


SHAPE_MESH = {"MeshVolume", "SurfaceArea", "SurfaceVolumeRatio", "Sphericity", "Compactness1", "Compactness2",
              "SphericalDisproportion"}
SHAPE_PCA = {"LeastAxisLength", "MinorAxisLength", "Flatness", "Elongation"}


def cause(feature, props, want, got, values):
    """The known cause a difference of `feature` (PyRadiomics `want`, radx `got`) on a case with
    ROI properties `props` and PyRadiomics values `values` most likely has."""
    cls, name = feature.split("_")[1], feature.split("_", 2)[2]
    if cls == "shape" and name in SHAPE_MESH:
        if values.get("original_shape_MeshVolume", 1.0) <= 0:
            return "mesh: PyRadiomics' signed volume is negative or 0 (radx: its magnitude)"
        return "mesh: PyRadiomics' marching-cubes table (cshape.c)"
    if cls == "shape" and name in SHAPE_PCA and got == 0 and 0 <= want <= 1e-6 * max(
            1.0, values.get("original_shape_MajorAxisLength", 1.0)):
        return "shape: PyRadiomics' eigenvalue round-off on collinear or coplanar voxel centres (radx: 0)"
    if cls == "glcm" and name == "MCC" and want == 1 and math.isnan(got):
        return "GLCM: PyRadiomics' MCC is 1 for one grey level even when the GLCM is empty"
    if cls == "glrlm" and "single-element-directions" in props:
        return "GLRLM: PyRadiomics drops directions without a line of 2+ ROI voxels (multiElement)"
    if cls == "ngtdm" and "isolated-voxels" in props:
        return "NGTDM: PyRadiomics counts voxels without neighbours (s = 0)"
    return "unexplained"


def differs(want, got):
    if math.isnan(want) or math.isnan(got):
        return not (math.isnan(want) and math.isnan(got))
    if math.isinf(want) or math.isinf(got):
        return want != got
    diff = abs(want - got)
    return not (diff <= RELATIVE * abs(want) or diff <= ABSOLUTE)


def compare(data, radx, jobs, report):
    rows = read_manifest(data)
    expected = defaultdict(dict)
    with open(os.path.join(data, "pyradiomics.csv"), newline="") as f:
        for r in csv.DictReader(f):
            expected[r["case"]][r["feature"]] = float(r["value"])
    started = time.time()
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(_radx_one, [(radx, data, r) for r in rows]))
    elapsed = time.time() - started
    by_case = {r["case"]: r for r in rows}
    groups = defaultdict(list)  # (cause, feature) -> [(case, want, got)]
    status_mismatch = []
    compared = 0
    for case, status, got in results:
        row = by_case[case]
        want_status = row["pyradiomics_status"]
        if (status == "ok") != (want_status == "ok"):
            status_mismatch.append((case, want_status, status))
            continue
        for feature, want in expected[case].items():
            compared += 1
            if feature not in got:
                groups[("missing from radx's output", feature)].append((case, want, float("nan")))
            elif differs(want, got[feature]):
                why = cause(feature, row["properties"], want, got[feature], expected[case])
                groups[(why, feature)].append((case, want, got[feature]))
        for feature in got:
            if feature not in expected[case]:
                groups[("not in PyRadiomics' output", feature)].append((case, float("nan"), got[feature]))
    out = []
    n_diff = sum(len(v) for v in groups.values())
    n_cases = len({c for v in groups.values() for c, _, _ in v})
    out.append("# radx vs PyRadiomics 3.0.1: %d cases, %d values compared (%.1f s for radx, %d jobs)" % (
        len(rows), compared, elapsed, jobs))
    out.append("")
    out.append("%d values differ beyond %g relative / %g absolute, in %d cases; %d cases where one tool refuses "
               "the case and the other does not." % (n_diff, RELATIVE, ABSOLUTE, n_cases, len(status_mismatch)))
    per_cause = Counter()
    for (c, _), v in groups.items():
        per_cause[c] += len(v)
    out.append("")
    out.append("| cause | values |")
    out.append("|---|---|")
    for c, n in per_cause.most_common():
        out.append("| %s | %d |" % (c, n))
    for c, _ in per_cause.most_common():
        out.append("")
        out.append("## " + c)
        for (cc, feature), v in sorted(groups.items()):
            if cc != c:
                continue
            classes = Counter(case.rsplit("_", 1)[0] for case, _, _ in v)
            worst = max(v, key=lambda t: abs(t[1] - t[2]) / max(abs(t[1]), 1e-300)
                        if not (math.isnan(t[1]) or math.isnan(t[2])) else float("inf"))
            out.append("- %s: %d cases (%s); e.g. %s: PyRadiomics %r, radx %r" % (
                feature, len(v), ", ".join("%s %d" % kv for kv in sorted(classes.items())), worst[0], worst[1],
                worst[2]))
    if status_mismatch:
        out.append("")
        out.append("## Refused by one tool only")
        for case, want, got in status_mismatch:
            out.append("- %s: PyRadiomics %s; radx %s" % (case, want, got))
    text = "\n".join(out) + "\n"
    if report:
        with open(report, "w") as f:
            f.write(text)
    sys.stdout.write(text)
    return 1 if (n_diff or status_mismatch) else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["generate", "pyradiomics", "compare", "all"])
    parser.add_argument("--data", default=DEFAULT_DATA, help="fixture folder (default: %(default)s)")
    parser.add_argument("--radx", default=DEFAULT_RADX, help="radx binary (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--report", help="also write the comparison report (Markdown) here")
    a = parser.parse_args()
    if a.step in ("generate", "all"):
        generate(a.data)
    if a.step in ("pyradiomics", "all"):
        run_pyradiomics(a.data, a.jobs)
    if a.step in ("compare", "all"):
        sys.exit(compare(a.data, a.radx, a.jobs, a.report))


if __name__ == "__main__":
    main()
