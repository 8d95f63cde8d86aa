"""A large synthetic CT series and RTSTRUCT for the DICOM read-speed measurement (not a
test; see benches/dicom/run.sh and docs/dicom.md).

    venv/bin/python benches/dicom/make_ct_series.py OUT_DIR [SLICES]

Writes OUT_DIR/image/CT_*.dcm (512 x 512 x SLICES, default 300, int16, 0.8 x 0.8 x 1.5 mm,
Explicit VR Little Endian, one file per slice) and OUT_DIR/RS.dcm, an RTSTRUCT with one
large ROI "body": an ellipse per slice (radii 180 x 140 mm, 360 points) on the middle
80 % of the slices. Values are a smooth deterministic pattern plus noise (seed 24).
"""

import math
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

N, SPACING, DZ = 512, 0.8, 1.5


def uid(name):
    return generate_uid(entropy_srcs=["radx dicom speed", name])


def base(modality, sop_class, sop_uid):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.StudyInstanceUID = uid("study")
    ds.FrameOfReferenceUID = uid("frame")
    ds.Modality = modality
    ds.PatientName, ds.PatientID = "Speed^Test", "RADX-SPEED"
    return ds


def main(out, slices):
    out = Path(out)
    (out / "image").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(24)
    y, x = np.mgrid[0:N, 0:N]
    origin = np.array([-(N - 1) * SPACING / 2, -(N - 1) * SPACING / 2, -200.0])
    for z in range(slices):
        ds = base("CT", pydicom.uid.CTImageStorage, uid(f"ct {z}"))
        ds.SeriesInstanceUID = uid("series")
        ds.InstanceNumber = z + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [f"{v:.4f}" for v in origin + [0, 0, z * DZ]]
        ds.PixelSpacing = [SPACING, SPACING]
        ds.SliceThickness = DZ
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows = ds.Columns = N
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        body = ((x - 256) / 230) ** 2 + ((y - 256) / 180) ** 2 <= 1
        pattern = 1000 + 60 * np.sin(x / 17 + z / 9) * np.cos(y / 23)
        values = np.where(body, pattern + rng.normal(0, 20, (N, N)), 0).astype("<i2")
        ds.PixelData = values.tobytes()
        ds.save_as(out / "image" / f"CT_{z:04d}.dcm", enforce_file_format=True)

    rs = base("RTSTRUCT", pydicom.uid.RTStructureSetStorage, uid("rs"))
    rs.SeriesInstanceUID = uid("rs series")
    rs.StructureSetLabel = "speed"
    frame = Dataset()
    frame.FrameOfReferenceUID = rs.FrameOfReferenceUID
    rs.ReferencedFrameOfReferenceSequence = Sequence([frame])
    roi = Dataset()
    roi.ROINumber, roi.ROIName = 1, "body"
    roi.ReferencedFrameOfReferenceUID = rs.FrameOfReferenceUID
    rs.StructureSetROISequence = Sequence([roi])
    contours = []
    for z in range(int(slices * 0.1), int(slices * 0.9)):
        c = Dataset()
        c.ContourGeometricType = "CLOSED_PLANAR"
        points = []
        for k in range(360):
            a = 2 * math.pi * k / 360
            points += [f"{180 * math.cos(a):.3f}", f"{140 * math.sin(a):.3f}", f"{origin[2] + z * DZ:.4f}"]
        c.NumberOfContourPoints = 360
        c.ContourData = points
        contours.append(c)
    entry = Dataset()
    entry.ReferencedROINumber = 1
    entry.ContourSequence = Sequence(contours)
    rs.ROIContourSequence = Sequence([entry])
    rs.save_as(out / "RS.dcm", enforce_file_format=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300)
