"""What the Python binding costs over the engine: extraction from numpy arrays against the
engine alone on the same volumes, on radx's synthetic 256×256×96 case (~30 000 ROI voxels,
the medium case of benches/compare), and the peak memory of an extraction from arrays.

    python python/bench/overhead.py [--settings FILE] [--repeat 21]

The engine-alone time is measured inside the extension (``Extractor._bench_extract``: the
same compiled code, volumes already converted, no table). The Python time is
``Extractor.extract(array, mask, spacing=..., axes="zyx")`` from int16/uint8 arrays in
SimpleITK's [z, y, x] order: conversion into the engine's float64 volumes, extraction, the
pandas table. Runs alternate so that both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

import radx
from radx import _radx

DIMS = [256, 256, 96]
ROI = 30000.0
SPACING = (0.8, 0.8, 2.0)


def case():
    image, mask = _radx._synthetic_case(DIMS, ROI)  # float64, [x, y, z], x fastest
    # As SimpleITK gives them: [z, y, x], C order, the file's voxel types.
    return np.ascontiguousarray(image.T).astype(np.int16), np.ascontiguousarray(mask.T).astype(np.uint8)


def _peak_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory(settings):
    """Resident memory (MiB, Linux): with the arrays made, then the peak of one extraction
    from them (the high-water mark reset in between: ``/proc/self/clear_refs``)."""
    image, mask = case()
    extractor = radx.Extractor(settings)
    extractor.extract(image[44:52], mask[44:52], spacing=SPACING, axes="zyx")  # load code, start threads
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = _peak_mib()
    extractor.extract(image, mask, spacing=SPACING, axes="zyx")
    print(json.dumps({"before_mib": before, "after_mib": _peak_mib()}))


def file_timings(extractor, image, mask, repeat):
    """(engine alone, Python) seconds from the case written as NIfTI (needs nibabel)."""
    try:
        import nibabel
    except ImportError:
        return None
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        affine = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])
        paths = [f"{folder}/image.nii.gz", f"{folder}/mask.nii.gz"]
        for array, path in zip((image, mask), paths):
            nibabel.save(nibabel.Nifti1Image(np.asfortranarray(array.T), affine), path)
        extractor.extract(*paths)
        engine, binding = [], []
        for _ in range(repeat):
            engine += extractor._native._bench_extract(*paths, None, 1)
            start = time.perf_counter()
            extractor.extract(*paths)
            binding.append(time.perf_counter() - start)
    return engine, binding


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default=None)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore", radx.RadxWarning)
    if args.memory:
        return memory(args.settings)

    image, mask = case()
    extractor = radx.Extractor(args.settings)
    volume = radx.Volume(image, SPACING, axes="zyx")
    labels = radx.Volume(mask, SPACING, axes="zyx")
    extractor.extract(volume, labels)  # warm up: pages, thread pool
    engine, binding, convert, table = [], [], [], []
    for _ in range(args.repeat):
        engine += extractor._native._bench_extract(volume, labels, None, 1)
        start = time.perf_counter()
        extractor.extract(image, mask, spacing=SPACING, axes="zyx")
        binding.append(time.perf_counter() - start)
        start = time.perf_counter()
        radx.Volume(image, SPACING, axes="zyx")
        radx.Volume(mask, SPACING, axes="zyx")
        convert.append(time.perf_counter() - start)
        start = time.perf_counter()
        extractor.extract(volume, labels)
        table.append(time.perf_counter() - start)
    med = statistics.median
    overhead = med(binding) - med(engine)
    files = file_timings(extractor, image, mask, args.repeat)
    voxel_mib = image.size * 8 / 2**20
    peak = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--memory"] + (["--settings", args.settings] if args.settings else []),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    settings = args.settings or "radx defaults (IBSI)"
    print(f"case: {DIMS[0]}×{DIMS[1]}×{DIMS[2]}, {int(mask.sum())} ROI voxels; settings: {settings}")
    print(f"engine alone (volumes in memory)     median {med(engine) * 1e3:7.2f} ms  (min {min(engine) * 1e3:.2f})")
    print(f"extract(numpy arrays) -> DataFrame   median {med(binding) * 1e3:7.2f} ms  (min {min(binding) * 1e3:.2f})")
    print(f"  of which converting both arrays    median {med(convert) * 1e3:7.2f} ms")
    print(f"extract(Volumes) -> DataFrame        median {med(table) * 1e3:7.2f} ms")
    print(f"overhead of numpy input: {overhead * 1e3:.2f} ms ({overhead / med(engine) * 100:.1f} %)")
    if files:
        engine_files, binding_files = files
        extra = med(binding_files) - med(engine_files)
        print(f"engine alone, NIfTI files            median {med(engine_files) * 1e3:7.2f} ms")
        print(f"extract(paths) -> DataFrame          median {med(binding_files) * 1e3:7.2f} ms")
        print(f"overhead with file paths: {extra * 1e3:.2f} ms ({extra / med(engine_files) * 100:.1f} %)")
    print(
        f"resident memory: {peak['before_mib']:.0f} MiB with the int16/uint8 arrays, peak {peak['after_mib']:.0f} MiB "
        f"during one extraction (+{peak['after_mib'] - peak['before_mib']:.0f} MiB; the image is "
        f"{image.nbytes / 2**20:.0f} MiB as int16, {voxel_mib:.0f} MiB as float64)"
    )


if __name__ == "__main__":
    main()
