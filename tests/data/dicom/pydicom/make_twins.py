"""Copy the pydicom test files radx uses and make the two twins pydicom does not ship.

    python3 -m venv venv && venv/bin/pip install pydicom==3.0.2 python-gdcm==3.2.6 numpy
    venv/bin/pip download --no-deps pydicom-data==1.0.0   # then unzip it; pass its data_store/data
    venv/bin/python tests/data/dicom/pydicom/make_twins.py PYDICOM_DATA_STORE_DATA

Copies from pydicom 3.0.2's bundled test files (pydicom/data/test_files): MR_small*.dcm,
rtdose*.dcm; from pydicom-data 1.0.0: liver.dcm. Writes:
  MR_small_deflated.dcm        MR_small.dcm re-encoded by pydicom as Deflated Explicit VR LE
  MR_small_jpeg_lossless.dcm   MR_small.dcm re-encoded by GDCM as JPEG Lossless, Process 14 SV1
Both must decode to MR_small.dcm's voxels (checked here with pydicom, and in radx's tests).
"""

import shutil
import sys
from pathlib import Path

import gdcm
import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import DeflatedExplicitVRLittleEndian

HERE = Path(__file__).resolve().parent
BUNDLED = [
    "MR_small.dcm",
    "MR_small_RLE.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_jp2klossless.dcm",
    "rtdose.dcm",
    "rtdose_rle.dcm",
    "rtdose_expb.dcm",
]


def main(data_store):
    for name in BUNDLED:
        shutil.copy(get_testdata_file(name), HERE / name)
    shutil.copy(Path(data_store) / "liver.dcm", HERE / "liver.dcm")

    source = HERE / "MR_small.dcm"
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(HERE / "MR_small_deflated.dcm", enforce_file_format=True)

    reader = gdcm.ImageReader()
    reader.SetFileName(str(source))
    assert reader.Read()
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
    change.SetInput(reader.GetImage())
    assert change.Change()
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(HERE / "MR_small_jpeg_lossless.dcm"))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    assert writer.Write()
    # GDCM adds SpacingBetweenSlices; drop it so that only the pixel encoding differs.
    twin = pydicom.dcmread(HERE / "MR_small_jpeg_lossless.dcm")
    del twin.SpacingBetweenSlices
    twin.save_as(HERE / "MR_small_jpeg_lossless.dcm")

    want = pydicom.dcmread(source).pixel_array
    for twin in ["MR_small_deflated.dcm"]:
        assert np.array_equal(pydicom.dcmread(HERE / twin).pixel_array, want), twin
    # pydicom needs a JPEG-lossless plugin to decode the GDCM twin; GDCM reads it back.
    reader = gdcm.ImageReader()
    reader.SetFileName(str(HERE / "MR_small_jpeg_lossless.dcm"))
    assert reader.Read()
    image = reader.GetImage()
    got = np.frombuffer(image.GetBuffer().encode("utf-8", "surrogateescape"), dtype="<i2").reshape(want.shape)
    assert np.array_equal(got, want), "JPEG lossless twin"
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
