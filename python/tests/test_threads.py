"""One ``Extractor`` used from many threads gives the serial results, and extraction releases
the GIL (another Python thread runs meanwhile)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import SimpleITK as sitk

import radx
from conftest import CASES, PARAMS, assert_same_table

pytestmark = pytest.mark.filterwarnings("ignore::radx.RadxNoteWarning")


def inputs():
    """(image, mask) pairs of every kind over brain2 and breast1."""
    out = []
    for name in ("brain2", "breast1"):
        image, mask, _ = CASES[name]
        sitk_image, sitk_mask = sitk.ReadImage(str(image)), sitk.ReadImage(str(mask))
        out.append((str(image), str(mask)))
        out.append((sitk_image, sitk_mask))
        geo = dict(spacing=sitk_image.GetSpacing(), origin=sitk_image.GetOrigin(), direction=sitk_image.GetDirection())
        out.append(
            (
                radx.Volume(sitk.GetArrayFromImage(sitk_image), axes="zyx", **geo),
                radx.Volume(sitk.GetArrayFromImage(sitk_mask), axes="zyx", **geo),
            )
        )
    return out


@pytest.mark.parametrize("settings", [None, PARAMS], ids=["ibsi", "pyradiomics"])
def test_threads_sharing_one_extractor_get_the_serial_results(settings):
    extractor = radx.Extractor(settings)
    cases = inputs() * 3
    serial = [extractor.extract(image, mask) for image, mask in cases]
    with ThreadPoolExecutor(max_workers=6) as pool:
        parallel = list(pool.map(lambda c: extractor.extract(*c), cases))
    for s, p in zip(serial, parallel):
        assert_same_table(p, s)
    # Cases of one kind give one table whatever their input kind.
    for i in range(0, 6, 3):
        assert_same_table(serial[i + 1], serial[i])
        assert_same_table(serial[i + 2], serial[i])


def test_extraction_releases_the_gil():
    image = np.random.default_rng(1).integers(0, 200, size=(96, 96, 48)).astype(np.int16)
    mask = np.zeros(image.shape, np.uint8)
    mask[16:80, 16:80, 8:40] = 1
    volume, labels = radx.Volume(image, 1.0), radx.Volume(mask, 1.0)
    extractor = radx.Extractor()
    extractor.extract(volume, labels)  # warm up
    ticks = 0
    stop = threading.Event()

    def count():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    start = time.perf_counter()
    extractor.extract(volume, labels)
    elapsed = time.perf_counter() - start
    stop.set()
    counter.join()
    # With the GIL held for the whole extraction the counter would not tick at all.
    assert elapsed > 0.02, elapsed
    assert ticks >= 5, (ticks, elapsed)
