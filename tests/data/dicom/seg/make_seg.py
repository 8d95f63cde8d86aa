"""Make the SEG test data of radx-dicom from a known mask (run it to regenerate; the files
are checked in, so the Rust tests need no Python).

    python3 -m venv venv && venv/bin/pip install highdicom==0.28.2 pydicom==3.0.2 numpy
    venv/bin/python tests/data/dicom/seg/make_seg.py

Writes, beside this script:
  series/       a small synthetic CT series, 16 x 12 pixels x 7 slices, oblique orientation
                (rows 30 degrees about z, columns tilted 10 degrees), 0.8 x 0.7 mm pixels,
                2.5 mm apart; files named in an order unrelated to their positions
  enhanced_ct.dcm       the same series as one Enhanced (legacy-converted) CT multi-frame file
  enhanced_ct_rle.dcm   the same, its frames RLE Lossless (pydicom's encoder)
  seg_binary.dcm        BINARY SEG: segment 1 "sphere", segment 2 "box" (they overlap)
  seg_fractional.dcm    FRACTIONAL (PROBABILITY, max 255) SEG: segment 1 "ramp"
  seg_fractional_rle.dcm  the same, RLE Lossless
  seg_labelmap.dcm      LABELMAP SEG: 1 "sphere", 2 "box" outside the sphere
Every SEG is written from the source images in a shuffled order (frames are not in slice
order) and omits empty frames (highdicom's default).

The known masks, in voxel indices of the series (x = column, y = row, z = slice along the
normal), are formulas that crates/radx-dicom/tests/it/oracle_seg.rs computes too:
  sphere: (x - 7.5)^2 / 36 + (y - 5.5)^2 / 16 + (z - 3)^2 / 4 <= 1
  box:    4 <= x <= 11, 2 <= y <= 6, 1 <= z <= 4
  ramp:   (7x + 13y + 29z) mod 256, divided by 255, where 2 <= x <= 13, 1 <= y <= 10, 1 <= z <= 5
CT values: stored = 3x + 50y + 700z - 2000 (int16), RescaleIntercept -1024, slope 1.
"""

import math
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

HERE = Path(__file__).resolve().parent
NX, NY, NZ = 16, 12, 7
SPACING = (0.8, 0.7, 2.5)  # x (between columns), y (between rows), z


def uid(name):
    return generate_uid(entropy_srcs=["radx-dicom test seg", name])


def ds_str(v):
    return f"{v:.10f}".rstrip("0").rstrip(".") if v != 0 else "0"


def axes():
    t, p = math.radians(30), math.radians(10)
    r = np.array([math.cos(t), math.sin(t), 0.0])
    c = np.array([-math.sin(t) * math.cos(p), math.cos(t) * math.cos(p), math.sin(p)])
    return r, c, np.cross(r, c)


def stored(x, y, z):
    return 3 * x + 50 * y + 700 * z - 2000


def index_grids():
    z, y, x = np.meshgrid(np.arange(NZ), np.arange(NY), np.arange(NX), indexing="ij")
    return x, y, z


def sphere():
    x, y, z = index_grids()
    return (x - 7.5) ** 2 / 36 + (y - 5.5) ** 2 / 16 + (z - 3) ** 2 / 4 <= 1


def box():
    x, y, z = index_grids()
    return (4 <= x) & (x <= 11) & (2 <= y) & (y <= 6) & (1 <= z) & (z <= 4)


def ramp():
    x, y, z = index_grids()
    inside = (2 <= x) & (x <= 13) & (1 <= y) & (y <= 10) & (1 <= z) & (z <= 5)
    return np.where(inside, ((7 * x + 13 * y + 29 * z) % 256) / 255.0, 0.0)


def series():
    r, c, n = axes()
    origin = np.array([-20.0, 35.5, 112.25])
    files = []
    names = [f"CT_{k:03d}.dcm" for k in (4, 1, 6, 0, 3, 5, 2)]  # file k is slice names.index(...)
    for z in range(NZ):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = pydicom.uid.CTImageStorage
        meta.MediaStorageSOPInstanceUID = uid(f"ct {z}")
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID = uid("study")
        ds.SeriesInstanceUID = uid("ct series")
        ds.FrameOfReferenceUID = uid("frame of reference")
        ds.PositionReferenceIndicator = ""
        ds.Modality = "CT"
        ds.PatientName = "Phantom^Seg"
        ds.PatientID = "RADX-SEG"
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.StudyDate = "20240101"
        ds.StudyTime = "120000"
        ds.ContentDate = "20240101"
        ds.ContentTime = "120000"
        ds.AccessionNumber = ""
        ds.ReferringPhysicianName = ""
        ds.StudyID = "1"
        ds.SeriesNumber = 1
        ds.InstanceNumber = 7 - z  # deliberately unrelated to the position
        ds.Manufacturer = "radx"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.KVP = "120"
        ds.AcquisitionNumber = 1
        ds.ImageOrientationPatient = [ds_str(v) for v in (*r, *c)]
        ds.ImagePositionPatient = [f"{v:.6f}" for v in origin + z * SPACING[2] * n]
        ds.PixelSpacing = [ds_str(SPACING[1]), ds_str(SPACING[0])]
        ds.SliceThickness = ds_str(SPACING[2])
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = NY, NX
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        y, x = np.meshgrid(np.arange(NY), np.arange(NX), indexing="ij")
        ds.PixelData = stored(x, y, z).astype("<i2").tobytes()
        path = HERE / "series" / names[z]
        path.parent.mkdir(exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return [pydicom.dcmread(f) for f in files]


def write_seg(sources, array, kind, descriptions, name, **extra):
    order = [3, 0, 5, 2, 6, 1, 4]  # shuffled source images, and their frames with them
    shuffled = [sources[k] for k in order]
    seg = hd.seg.Segmentation(
        source_images=shuffled,
        pixel_array=array[order],
        segmentation_type=kind,
        segment_descriptions=descriptions,
        series_instance_uid=uid(f"seg series {name}"),
        series_number=100,
        sop_instance_uid=uid(f"seg {name}"),
        instance_number=1,
        manufacturer="radx",
        manufacturer_model_name="make_seg.py",
        software_versions="1",
        device_serial_number="1",
        **extra,
    )
    seg.save_as(HERE / name)


def description(number, label):
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=hd.sr.CodedConcept("91723000", "SCT", "Anatomical Structure"),
        segmented_property_type=hd.sr.CodedConcept("4147007", "SCT", "Mass"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )


def main():
    sources = series()
    enhanced = hd.legacy.LegacyConvertedEnhancedCTImage(
        legacy_datasets=sources,
        series_instance_uid=uid("enhanced series"),
        series_number=2,
        sop_instance_uid=uid("enhanced"),
        instance_number=1,
    )
    enhanced.save_as(HERE / "enhanced_ct.dcm")
    enhanced = pydicom.dcmread(HERE / "enhanced_ct.dcm")
    enhanced.compress(RLELossless)
    enhanced.save_as(HERE / "enhanced_ct_rle.dcm")

    both = np.stack([sphere(), box()], axis=-1).astype(np.uint8)
    two = [description(1, "sphere"), description(2, "box")]
    write_seg(sources, both, hd.seg.SegmentationTypeValues.BINARY, two, "seg_binary.dcm")

    one = [description(1, "ramp")]
    fractional = dict(fractional_type=hd.seg.SegmentationFractionalTypeValues.PROBABILITY, max_fractional_value=255)
    write_seg(sources, ramp()[..., None], hd.seg.SegmentationTypeValues.FRACTIONAL, one, "seg_fractional.dcm", **fractional)
    write_seg(
        sources,
        ramp()[..., None],
        hd.seg.SegmentationTypeValues.FRACTIONAL,
        one,
        "seg_fractional_rle.dcm",
        transfer_syntax_uid=RLELossless,
        **fractional,
    )

    labels = np.where(sphere(), 1, np.where(box(), 2, 0)).astype(np.uint8)
    write_seg(sources, labels, hd.seg.SegmentationTypeValues.LABELMAP, two, "seg_labelmap.dcm")


if __name__ == "__main__":
    main()
