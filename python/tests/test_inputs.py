"""Every input kind gives the command line's values on the same case: file paths, SimpleITK
images, nibabel images, numpy arrays in either axis order and any dtype or layout, and
``radx.Volume``s."""

from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

import radx
from conftest import CASES, PARAMS, assert_same_table, cli_extract

pytestmark = pytest.mark.filterwarnings("ignore::radx.RadxNoteWarning")


def sitk_case(name):
    image, mask, _ = CASES[name]
    return sitk.ReadImage(str(image)), sitk.ReadImage(str(mask))


def geometry(image):
    return {"spacing": image.GetSpacing(), "origin": image.GetOrigin(), "direction": image.GetDirection()}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request, cli):
    """A case and the command line's table for it."""
    image, mask, settings = CASES[request.param]
    return request.param, image, mask, settings, cli_extract(cli, image, mask, settings)


def test_paths(case):
    name, image, mask, settings, expected = case
    assert_same_table(radx.extract(str(image), str(mask), settings=settings), expected)
    # With the notes: the command line's note column, as it writes it.
    assert_same_table(radx.extract(str(image), str(mask), settings=settings, notes=True), expected)
    # os.PathLike too
    assert_same_table(radx.extract(Path(image), Path(mask), settings=settings), expected)


def test_simpleitk_images(case):
    name, image, mask, settings, expected = case
    sitk_image, sitk_mask = sitk_case(name)
    assert_same_table(radx.extract(sitk_image, sitk_mask, settings=settings), expected)


def test_numpy_arrays_zyx_as_simpleitk_gives_them(case):
    name, image, mask, settings, expected = case
    sitk_image, sitk_mask = sitk_case(name)
    array, labels = sitk.GetArrayFromImage(sitk_image), sitk.GetArrayFromImage(sitk_mask)
    table = radx.extract(array, labels, settings=settings, axes="zyx", **geometry(sitk_image))
    assert_same_table(table, expected)


def test_numpy_arrays_xyz_any_dtype_and_layout(case):
    name, image, mask, settings, expected = case
    sitk_image, sitk_mask = sitk_case(name)
    zyx, labels = sitk.GetArrayFromImage(sitk_image), sitk.GetArrayFromImage(sitk_mask)
    geo = geometry(sitk_image)
    xyz = zyx.transpose()  # a Fortran-ordered view, read in place
    variants = {
        "view": (xyz, labels.transpose()),
        "c_order_copy": (np.ascontiguousarray(xyz), np.ascontiguousarray(labels.transpose())),
        "float64": (xyz.astype(np.float64), labels.transpose().astype(np.uint8)),
        "float32_bool_mask": (xyz.astype(np.float32), labels.transpose() == 1),
        "big_endian": (xyz.astype(">f8"), labels.transpose().astype(">i4")),
    }
    for variant, (a, m) in variants.items():
        if variant == "float32_bool_mask" and not np.array_equal(a.astype(np.float64), xyz):
            continue  # float32 would round this image's intensities
        table = radx.extract(a, m, settings=settings, **geo)
        assert_same_table(table, expected)
    # A strided view: every other voxel of an array twice the size along x.
    wide = np.zeros((2 * xyz.shape[0],) + xyz.shape[1:], dtype=xyz.dtype)
    wide[::2] = xyz
    assert_same_table(radx.extract(wide[::2], labels.transpose(), settings=settings, **geo), expected)


def test_a_mask_array_takes_the_image_grid(case):
    name, image, mask, settings, expected = case
    sitk_image, sitk_mask = sitk_case(name)
    labels = sitk.GetArrayFromImage(sitk_mask)
    assert_same_table(radx.extract(sitk_image, labels, settings=settings, axes="zyx"), expected)


def test_volumes_are_converted_once_and_reused(case):
    name, image, mask, settings, expected = case
    sitk_image, sitk_mask = sitk_case(name)
    volume = radx.Volume(sitk.GetArrayViewFromImage(sitk_image), axes="zyx", **geometry(sitk_image))
    labels = radx.Volume(sitk.GetArrayViewFromImage(sitk_mask), axes="zyx", **geometry(sitk_image))
    assert volume.shape == sitk_image.GetSize()
    assert volume.spacing == pytest.approx(sitk_image.GetSpacing(), rel=0, abs=0)
    extractor = radx.Extractor(settings)
    for _ in range(2):
        assert_same_table(extractor.extract(volume, labels), expected)
    np.testing.assert_array_equal(volume.to_numpy(axes="zyx"), sitk.GetArrayFromImage(sitk_image))


def test_nibabel_images(cli, tmp_path):
    """nibabel reads NIfTI: the digital phantom as it is, brain2 and breast1 converted."""
    for name in sorted(CASES):
        image, mask, settings = CASES[name]
        if not str(image).endswith(".nii.gz"):
            sitk_image, sitk_mask = sitk_case(name)
            image, mask = tmp_path / f"{name}_image.nii.gz", tmp_path / f"{name}_mask.nii.gz"
            sitk.WriteImage(sitk_image, str(image))
            sitk.WriteImage(sitk_mask, str(mask))
        expected = cli_extract(cli, image, mask, settings)
        table = radx.extract(nib.load(str(image)), nib.load(str(mask)), settings=settings)
        assert_same_table(table, expected)


def test_pyradiomics_names_and_library_as_the_command_line(cli):
    image, mask, _ = CASES["brain2"]
    expected = cli_extract(cli, image, mask, PARAMS, "--names", "pyradiomics")
    sitk_image, sitk_mask = sitk_case("brain2")
    assert_same_table(radx.extract(sitk_image, sitk_mask, settings=PARAMS, names="pyradiomics"), expected)
    expected = cli_extract(cli, image, mask, PARAMS, "--library", "ibsi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", radx.RadxWarning)
        assert_same_table(radx.extract(image, mask, settings=PARAMS, library="ibsi"), expected)


def test_diagnostics_as_the_command_line(cli):
    image, mask, settings = CASES["digital"]
    expected = cli_extract(cli, image, mask, settings, "--diagnostics")
    assert_same_table(radx.extract(image, mask, settings=settings, diagnostics=True), expected)


def test_settings_as_a_mapping_equal_the_file():
    image, mask, _ = CASES["breast1"]
    params = {
        "setting": {"binWidth": 25, "label": 1, "interpolator": "sitkBSpline", "resampledPixelSpacing": None},
        "imageType": {"Original": {}},
        "featureClass": {"firstorder": [], "glcm": None},
    }
    from_mapping = radx.extract(image, mask, settings=params)
    assert set(from_mapping["family"]) == {"firstorder", "glcm"}
    radx_settings = {"discretisation": {"texture": {"method": "fixed_bin_number", "bins": 16}}}
    try:
        table = radx.extract(image, mask, settings=radx_settings)
    except ValueError as error:  # the schema's spelling is radx's; the message says which key
        pytest.fail(str(error))
    assert len(table) > 100


def test_notes_explain_nan_values_through_warnings():
    # A 1-voxel ROI has no texture: its values are NaN, and radx says why.
    image = np.arange(5 * 5 * 5, dtype=np.int16).reshape(5, 5, 5)
    mask = np.zeros_like(image, dtype=np.uint8)
    mask[2, 2, 2] = 1
    with pytest.warns(radx.RadxNoteWarning, match="NaN"):
        table = radx.extract(image, mask, spacing=1.0, notes=True)
    assert table["value"].isna().any()
    assert table.loc[table["value"].isna(), "note"].notna().all()


def test_feature_names_are_the_batch_columns():
    extractor = radx.Extractor(CASES["digital"][2])
    names = extractor.feature_names()
    image, mask, _ = CASES["digital"]
    row = extractor.extract_row(image, mask, id="x")
    assert list(row)[:4] == ["id", "label", "status", "error"]
    assert list(row)[4:] == names
    assert len(names) == len(set(names)) > 400
    assert extractor.feature_names(image, mask) == names
    assert radx.Extractor(PARAMS, names="pyradiomics").feature_names()[0] == "original_shape_Elongation"


def test_arrays_are_read_in_place(case):
    """A Volume reads its array where it lies, in its own dtype: negative strides, a
    SimpleITK image that is only referenced by the Volume, and later writes are seen."""
    import gc

    name, image, mask, settings, expected = case
    sitk_image, sitk_mask = sitk_case(name)
    geo = geometry(sitk_image)
    zyx, labels = sitk.GetArrayFromImage(sitk_image), sitk.GetArrayFromImage(sitk_mask)
    # The same voxels stored back to front along every axis: a view with negative strides.
    flipped = np.flip(np.ascontiguousarray(np.flip(zyx)))
    assert all(s < 0 for s in flipped.strides)
    assert_same_table(radx.extract(flipped, labels, settings=settings, axes="zyx", **geo), expected)
    # The SimpleITK images are referenced only by the Volumes made from their buffers.
    volume = radx._inputs.from_simpleitk(sitk.ReadImage(str(image)), "image")
    labels_volume = radx._inputs.from_simpleitk(sitk.ReadImage(str(mask)), "mask")
    gc.collect()
    assert_same_table(radx.extract(volume, labels_volume, settings=settings), expected)
    # In place: a write to the array is what the Volume reads next.
    writable = zyx.copy()
    in_place = radx.Volume(writable, axes="zyx", **geo)
    writable[0, 0, 0] += 1
    assert in_place.to_numpy(axes="zyx")[0, 0, 0] == zyx[0, 0, 0] + 1


PHANTOM_DICOM = Path(__file__).resolve().parents[2] / "tests" / "data" / "dicom" / "ibsi_1_ct_radiomics_phantom" / "dicom"


def test_dicom_series_and_rtstruct_as_the_command_line(cli):
    """A DICOM series folder with its RTSTRUCT, as `radx extract` reads them; the ROI by name."""
    image, mask = PHANTOM_DICOM / "image", PHANTOM_DICOM / "mask" / "DCM_RS_00060.dcm"
    expected = cli_extract(cli, image, mask, None, "--roi", "GTV-1")
    assert_same_table(radx.extract(image, mask, roi="GTV-1"), expected)
    assert_same_table(radx.extract(str(image), str(mask)), expected)  # its only ROI
    row = radx.Extractor().extract_row(image, mask, id="phantom")
    assert row["status"] == "ok" and row["label"] == 1, row
    with pytest.raises(ValueError, match="GTV-1"):
        radx.extract(image, mask, roi="no such ROI")
    with pytest.raises(ValueError, match="RTSTRUCT"):
        radx.extract(image, mask, label=2)


def test_dicom_choices_need_paths():
    image, mask, _ = CASES["digital"]
    with pytest.raises(ValueError, match="label map"):
        radx.extract(image, mask, roi="GTV")
    array = np.ones((4, 4, 4), np.int16)
    with pytest.raises(ValueError, match="as paths"):
        radx.extract(array, array, spacing=1.0, segment="1")
