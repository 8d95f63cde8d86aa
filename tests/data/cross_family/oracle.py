"""Independent numpy computation of the cross-family features of features.radx.

Reads the image and mask files themselves (NIfTI-1 and NRRD parsed here, no radx), then
discretises, builds the GLCMs and GLSZMs of every aggregation and computes each feature
from its IBSI definition (IBSI 1 reference manual, chapters 2 and 3). Writes expected.csv,
which crates/radx-engine/tests/it/oracle_cross_family.rs compares radx's output with.

    python3 -m pip install numpy
    python3 tests/data/cross_family/oracle.py      # from the repository's root
"""

import csv
import gzip
import itertools
import os
import re
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
AGGREGATIONS = ["2d_avg", "2d_smrg", "2_5d_dmrg", "2_5d_mrg", "3d_avg", "3d_mrg"]
ZONE_AGGREGATIONS = ["2d_avg", "2_5d_mrg", "3d_mrg"]


def read_nifti(path):
    """A NIfTI-1 file as a (z, y, x) array and its voxel spacing (x, y, z)."""
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    endian = "<" if struct.unpack("<i", raw[:4])[0] == 348 else ">"
    dims = struct.unpack(endian + "8h", raw[40:56])
    datatype = struct.unpack(endian + "h", raw[70:72])[0]
    pixdim = struct.unpack(endian + "8f", raw[76:108])
    offset = int(struct.unpack(endian + "f", raw[108:112])[0])
    slope, inter = struct.unpack(endian + "2f", raw[112:120])
    dtype = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4"}[datatype]
    nx, ny, nz = dims[1], dims[2], dims[3]
    data = np.frombuffer(raw, dtype=np.dtype(endian + dtype), count=nx * ny * nz, offset=offset)
    data = data.astype(np.float64).reshape(nz, ny, nx)
    if slope not in (0.0, 1.0) or inter != 0.0:
        data = data * (slope if slope != 0.0 else 1.0) + inter
    return data, (pixdim[1], pixdim[2], pixdim[3])


def read_nrrd(path):
    """A gzip-encoded NRRD file as a (z, y, x) array and its voxel spacing (x, y, z)."""
    raw = open(path, "rb").read()
    end = raw.index(b"\n\n")
    header = raw[:end].decode()
    field = lambda name: re.search(r"^" + name + r": (.*)$", header, re.M).group(1).strip()
    sizes = [int(s) for s in field("sizes").split()]
    dtype = {"short": "<i2", "unsigned char": "u1", "uchar": "u1", "unsigned short": "<u2", "int": "<i4"}[field("type")]
    assert field("encoding") == "gzip"
    data = np.frombuffer(gzip.decompress(raw[end + 2 :]), dtype=dtype).astype(np.float64)
    vectors = re.findall(r"\(([^)]*)\)", field("space directions"))
    spacing = tuple(float(np.linalg.norm([float(c) for c in v.split(",")])) for v in vectors)
    return data.reshape(sizes[::-1]), spacing


def glcm_counts(levels, roi, ng, direction):
    """Co-occurrence counts of (level at v, level at v + direction), symmetric, (ng, ng)."""
    dz, dy, dx = direction
    counts = np.zeros((ng, ng))
    nz, ny, nx = levels.shape
    for z, y, x in zip(*np.nonzero(roi)):
        z2, y2, x2 = z + dz, y + dy, x + dx
        if 0 <= z2 < nz and 0 <= y2 < ny and 0 <= x2 < nx and roi[z2, y2, x2]:
            a, b = levels[z, y, x] - 1, levels[z2, y2, x2] - 1
            counts[a, b] += 1
            counts[b, a] += 1
    return counts


def glcm_features(counts):
    p = counts / counts.sum()
    i, j = np.indices(p.shape) + 1
    contrast = float(np.sum((i - j) ** 2 * p))
    nz = p[p > 0]
    entropy = float(-np.sum(nz * np.log2(nz)))
    return {"contrast": contrast, "joint_entropy": entropy}


DIRECTIONS_2D = [(0, 0, 1), (0, 1, 1), (0, 1, 0), (0, 1, -1)]
DIRECTIONS_3D = [d for d in itertools.product((-1, 0, 1), repeat=3) if d > (0, 0, 0)]
assert len(DIRECTIONS_3D) == 13


def glcm_by_aggregation(levels, roi, ng):
    """Per aggregation, each GLCM feature averaged over the aggregation's matrices."""
    slices = [z for z in range(roi.shape[0]) if roi[z].any()]

    def in_slice(z):
        only = np.zeros_like(roi)
        only[z] = roi[z]
        return only

    per_slice = {z: [glcm_counts(levels, in_slice(z), ng, d) for d in DIRECTIONS_2D] for z in slices}
    volume = [glcm_counts(levels, roi, ng, d) for d in DIRECTIONS_3D]
    matrices = {
        "2d_avg": [m for z in slices for m in per_slice[z]],
        "2d_smrg": [sum(per_slice[z]) for z in slices],
        "2_5d_dmrg": [sum(per_slice[z][k] for z in slices) for k in range(4)],
        "2_5d_mrg": [sum(m for z in slices for m in per_slice[z])],
        "3d_avg": volume,
        "3d_mrg": [sum(volume)],
    }
    out = {}
    for aggregation, ms in matrices.items():
        values = [glcm_features(m) for m in ms]
        out[aggregation] = {k: float(np.mean([v[k] for v in values])) for k in values[0]}
    return out


def zones(levels, roi, neighbours):
    """Connected zones of equal level in `roi`: a list of (level, size)."""
    seen = np.zeros_like(roi)
    found = []
    shape = roi.shape
    for start in zip(*np.nonzero(roi)):
        if seen[start]:
            continue
        level = levels[start]
        seen[start] = True
        stack, size = [start], 0
        while stack:
            v = stack.pop()
            size += 1
            for d in neighbours:
                w = tuple(a + b for a, b in zip(v, d))
                if all(0 <= w[k] < shape[k] for k in range(3)) and roi[w] and not seen[w] and levels[w] == level:
                    seen[w] = True
                    stack.append(w)
        found.append((level, size))
    return found


NEIGHBOURS_2D = [(0, dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
NEIGHBOURS_3D = [d for d in itertools.product((-1, 0, 1), repeat=3) if d != (0, 0, 0)]


def glszm_by_aggregation(levels, roi):
    """Per zone aggregation: the zone count Ns and the zone percentage Ns / Nv of each
    matrix, averaged over the aggregation's matrices."""
    slices = [z for z in range(roi.shape[0]) if roi[z].any()]
    per_slice = []
    for z in slices:
        only = np.zeros_like(roi)
        only[z] = roi[z]
        per_slice.append((len(zones(levels, only, NEIGHBOURS_2D)), int(only.sum())))
    ns3d = len(zones(levels, roi, NEIGHBOURS_3D))
    nv = int(roi.sum())
    return {
        "2d_avg": {"Ns": np.mean([n for n, _ in per_slice]), "zone_percentage": np.mean([n / v for n, v in per_slice])},
        "2_5d_mrg": {"Ns": sum(n for n, _ in per_slice), "zone_percentage": sum(n for n, _ in per_slice) / nv},
        "3d_mrg": {"Ns": ns3d, "zone_percentage": ns3d / nv},
    }


def case_rows(name, image, mask, spacing, lower_bound, width):
    roi = mask == 1
    x = image[roi]
    levels = np.zeros(image.shape, dtype=np.int64)
    levels[roi] = np.floor((image[roi] - lower_bound) / width).astype(np.int64) + 1
    ng = int(levels[roi].max())
    # Intensity statistics and histogram (IBSI 3.3, 3.4).
    variance = float(np.mean((x - x.mean()) ** 2))
    intensity_range = float(x.max() - x.min())
    counts = np.bincount(levels[roi])[1:]
    h = counts[counts > 0] / counts.sum()
    histogram_entropy = float(-np.sum(h * np.log2(h)))
    # Intensity-volume histogram on the raw intensities (IBSI 3.5): V_f is the fraction of
    # the volume with at least the fraction f of the intensity range.
    v = lambda f: float(np.mean(x >= x.min() + f * intensity_range))
    # Approximate volume (IBSI 3.1.2): voxels times the voxel's volume.
    volume = float(roi.sum() * spacing[0] * spacing[1] * spacing[2])
    glcm = glcm_by_aggregation(levels, roi, ng)
    glszm = glszm_by_aggregation(levels, roi)
    rows = []
    for a in AGGREGATIONS:
        rows.append((name, "cross_glcm", "contrast_over_variance", a, glcm[a]["contrast"] / variance))
        rows.append((name, "cross_glcm", "entropy_gap", a, glcm[a]["joint_entropy"] - histogram_entropy))
    for a in ZONE_AGGREGATIONS:
        rows.append((name, "cross_szm", "zones_per_volume", a, glszm[a]["Ns"] / volume))
        rows.append(
            (name, "cross_szm", "zone_percentage_times_contrast", a, glszm[a]["zone_percentage"] * glcm[a]["contrast"])
        )
    rows.append((name, "cross_roi", "ivh_spread_over_range", "-", (v(0.10) - v(0.90)) / intensity_range))
    return rows


def main():
    phantom = os.path.join(ROOT, "tests", "data", "ibsi", "digital_phantom")
    image, spacing = read_nifti(os.path.join(phantom, "image.nii.gz"))
    mask, _ = read_nifti(os.path.join(phantom, "mask.nii.gz"))
    # tests/data/ibsi/digital_phantom.toml: fixed bin size 1 from 1 (levels are the intensities).
    rows = case_rows("digital_phantom", image, mask, spacing, 1.0, 1.0)
    data = os.path.join(ROOT, "tests", "data", "pyradiomics", "data")
    image, spacing = read_nrrd(os.path.join(data, "brain2_image.nrrd"))
    mask, _ = read_nrrd(os.path.join(data, "brain2_label.nrrd"))
    # brain2.toml: fixed bin size 25 from 0.
    rows += case_rows("brain2", image, mask, spacing, 0.0, 25.0)
    with open(os.path.join(HERE, "expected.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["case", "family", "feature", "aggregation", "value"])
        for case, family, feature, aggregation, value in rows:
            out.writerow([case, family, feature, aggregation, repr(float(value))])


if __name__ == "__main__":
    main()
