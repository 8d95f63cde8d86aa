"""Bad inputs raise Python exceptions with radx's messages; none crashes the interpreter
(each case also runs in a child interpreter that must exit normally)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import radx
from conftest import CASES

pytestmark = pytest.mark.filterwarnings("ignore::radx.RadxNoteWarning")

IMAGE = np.arange(6 * 7 * 8, dtype=np.int16).reshape(6, 7, 8) % 50
MASK = np.zeros((6, 7, 8), dtype=np.uint8)
MASK[1:5, 2:6, 2:7] = 1


def test_wrong_dtypes():
    for bad in (IMAGE.astype(np.complex128), IMAGE.astype(np.float16), IMAGE.astype(object), IMAGE.astype("U3")):
        with pytest.raises(ValueError, match=r"unsupported dtype"):
            radx.extract(bad, MASK, spacing=1.0)
    with pytest.raises(ValueError, match=r"mask: unsupported dtype"):
        radx.extract(IMAGE, MASK.astype(np.complex64), spacing=1.0)


def test_four_dimensional_and_empty_arrays():
    with pytest.raises(ValueError, match=r"image: expected a 3-D array .* got a 4-D array of shape \(6, 7, 8, 2\)"):
        radx.extract(np.stack([IMAGE, IMAGE], axis=-1), MASK, spacing=1.0)
    with pytest.raises(ValueError, match=r"expected a 3-D array .* 1-D"):
        radx.extract(IMAGE.ravel(), MASK, spacing=1.0)
    with pytest.raises(ValueError, match=r"empty"):
        radx.extract(np.zeros((0, 7, 8)), MASK, spacing=1.0)


def test_mismatched_shapes():
    with pytest.raises(ValueError) as error:
        radx.extract(IMAGE, MASK[:, :, :7], spacing=1.0)
    message = str(error.value)
    assert "(6, 7, 8)" in message.replace("[", "(").replace("]", ")") and "7" in message, message
    # An array placed on the other input's grid must have its shape.
    with pytest.raises(ValueError, match=r"shape \(8, 7, 6\)"):
        radx.extract(radx.Volume(IMAGE, 1.0), MASK, axes="zyx")


def test_spacing_must_be_positive_and_finite():
    for spacing in (0.0, -1.0, (1.0, 0.0, 1.0), (1.0, float("nan"), 1.0), (1.0, 1.0, float("inf"))):
        with pytest.raises(ValueError, match=r"image: spacing must be > 0 mm"):
            radx.extract(IMAGE, MASK, spacing=spacing)
    with pytest.raises(ValueError, match=r"spacing must have 3 values"):
        radx.extract(IMAGE, MASK, spacing=(1.0, 1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match=r"needs its voxel spacing"):
        radx.extract(IMAGE, MASK)


def test_bad_geometry():
    with pytest.raises(ValueError, match=r"orthonormal"):
        radx.extract(IMAGE, MASK, spacing=1.0, direction=[[2, 0, 0], [0, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match=r"direction must be a 3×3 matrix"):
        radx.extract(IMAGE, MASK, spacing=1.0, direction=[1, 0, 0])
    with pytest.raises(ValueError, match=r"origin must be finite"):
        radx.extract(IMAGE, MASK, spacing=1.0, origin=(0, float("nan"), 0))
    with pytest.raises(ValueError, match=r'axes must be "xyz" or "zyx"'):
        radx.extract(IMAGE, MASK, spacing=1.0, axes="yxz")


def test_missing_files(tmp_path):
    image, mask, settings = CASES["digital"]
    missing = tmp_path / "nothere.nii.gz"
    with pytest.raises(FileNotFoundError, match=r"nothere.nii.gz: file not found"):
        radx.extract(missing, mask, settings=settings)
    with pytest.raises(FileNotFoundError, match=r"nothere.nii.gz"):
        radx.extract(image, missing, settings=settings)
    with pytest.raises(FileNotFoundError, match=r"nothere.toml"):
        radx.extract(image, mask, settings=tmp_path / "nothere.toml")
    with pytest.raises(FileNotFoundError, match=r"nothere.radx"):
        radx.extract(image, mask, features=[tmp_path / "nothere.radx"])
    with pytest.raises(FileNotFoundError, match=r"no such file"):
        radx.Extractor(plugins=[tmp_path / "libnothere.so"])
    with pytest.raises(FileNotFoundError, match=r"case list not found"):
        radx.batch(tmp_path / "cases.csv", progress=False)


def test_unreadable_and_corrupt_files(tmp_path):
    corrupt = tmp_path / "corrupt.nii.gz"
    corrupt.write_bytes(b"not a gzip stream at all")
    _, mask, _ = CASES["digital"]
    with pytest.raises((ValueError, OSError), match=r"corrupt.nii.gz"):
        radx.extract(corrupt, mask)
    with pytest.raises(ValueError, match=r"unknown image format"):
        radx.extract(tmp_path / "image.png", mask)


def test_empty_roi_absent_label_and_nan_voxels():
    with pytest.raises(ValueError, match=r"label 3|ROI"):
        radx.extract(IMAGE, MASK, spacing=1.0, label=3)
    with pytest.raises(ValueError):
        radx.extract(IMAGE, np.zeros_like(MASK), spacing=1.0)
    nan = IMAGE.astype(float)
    nan[2, 3, 4] = np.nan
    with pytest.raises(ValueError, match=r"(?i)nan|finite"):
        radx.extract(nan, MASK, spacing=1.0)
    table = radx.extract(nan, MASK, spacing=1.0, exclude_nonfinite=True)
    assert len(table) > 0


def test_bad_settings(tmp_path):
    _, _, _ = CASES["digital"]
    with pytest.raises(ValueError, match=r"binWidth"):
        radx.Extractor({"setting": {"binWidth": "wide"}})
    with pytest.raises(ValueError, match=r"Contrsat"):
        radx.Extractor({"featureClass": {"glcm": ["Contrsat"]}})
    with pytest.raises(ValueError, match=r"<settings mapping>"):
        radx.Extractor({"discretisation": {"texture": {"method": "no such method"}}})
    bad = tmp_path / "bad.toml"
    bad.write_text("label = [\n")
    with pytest.raises(ValueError, match=r"bad.toml"):
        radx.Extractor(bad)
    with pytest.raises(ValueError, match=r'library must be "ibsi" or "pyradiomics"'):
        radx.Extractor(library="other")
    with pytest.raises(ValueError, match=r'names="pyradiomics" needs'):
        radx.Extractor(names="pyradiomics")
    with pytest.raises(ValueError, match=r"max_memory"):
        radx.Extractor(max_memory="lots")
    with pytest.raises(TypeError, match=r"settings must be a file path or a mapping"):
        radx.Extractor(42)


def test_feature_file_errors_name_the_line():
    with pytest.raises(ValueError, match=r"<text>"):
        radx.check('family broken over cm {\n  feature x "X1" = sum(i, \n}\n')
    table = radx.check('family my_glcm over cm {\n  feature joint_max "MY01" = max(i, j, p[i,j])\n}\n')
    assert table.to_dict("list") == {"family": ["my_glcm"], "feature": ["joint_max"], "tag": ["MY01"]}


def test_wrong_input_types():
    with pytest.raises(TypeError):
        radx.extract(42, MASK, spacing=1.0)
    with pytest.raises(TypeError):
        radx.extract(b"bytes", MASK, spacing=1.0)


def test_memory_budget_is_a_clear_error():
    with pytest.raises(ValueError, match=r"(?i)memory|budget"):
        radx.extract(
            *(CASES["brain2"][:2]),
            max_memory="1K",
        )


BAD_CALLS = [
    "radx.extract(np.zeros((4, 4, 4), complex), np.ones((4, 4, 4)), spacing=1)",
    "radx.extract(np.zeros((4, 4, 4, 2)), np.ones((4, 4, 4)), spacing=1)",
    "radx.extract(np.zeros((4, 4, 4)), np.ones((4, 4, 3)), spacing=1)",
    "radx.extract(np.zeros((4, 4, 4)), np.ones((4, 4, 4)), spacing=-1)",
    "radx.extract('missing.nii.gz', 'missing.nii.gz')",
    "radx.extract(np.zeros((4, 4, 4)), np.zeros((4, 4, 4)), spacing=1)",
    "radx.extract(np.full((4, 4, 4), np.nan), np.ones((4, 4, 4)), spacing=1)",
    "radx.Volume(np.zeros((4, 4, 4)), spacing=1, direction=np.zeros((3, 3)))",
]


def test_bad_inputs_never_crash_the_interpreter():
    script = textwrap.dedent(
        """
        import sys, warnings
        import numpy as np
        import radx
        warnings.simplefilter("ignore")
        for call in sys.argv[1:]:
            try:
                eval(call)
            except (ValueError, TypeError, OSError) as error:
                print(type(error).__name__, str(error).splitlines()[0][:80])
            else:
                print("no error:", call)
                sys.exit(3)
        """
    )
    done = subprocess.run([sys.executable, "-c", script, *BAD_CALLS], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(done.stdout.splitlines()) == len(BAD_CALLS), done.stdout


def test_eval_budget_stops_costly_features_with_a_note():
    full = radx.extract(IMAGE, MASK, spacing=1.0, notes=True)
    limited = radx.extract(IMAGE, MASK, spacing=1.0, notes=True, eval_budget=1)
    assert full["value"].notna().sum() > limited["value"].notna().sum()
    stopped = limited[limited["value"].isna() & full["value"].notna()]
    assert len(stopped) > 0 and stopped["note"].str.contains("budget").all(), stopped["note"].tolist()[:3]
    with pytest.raises(ValueError, match=r"eval_budget must be at least 1"):
        radx.Extractor(eval_budget=0)


def test_plugins_other_users_could_replace_are_refused_unless_allowed(tmp_path):
    import os
    import shutil

    from conftest import REPO

    built = REPO / "target" / "tmp" / "plugin-target" / "debug" / "libradx_plugin_fractal.so"
    if not built.is_file():
        pytest.skip("the example plugins are built by .ci/run (cargo build -p radx-plugin-fractal …)")
    shared = tmp_path / "shared"
    shared.mkdir()
    library = shared / built.name
    shutil.copy(built, library)
    os.chmod(library, 0o755)
    os.chmod(shared, 0o777)
    with pytest.raises(ValueError, match=r"refused: .*shared is writable by"):
        radx.Extractor(plugins=[library])
    extractor = radx.Extractor(plugins=[library], allow_untrusted_plugins=True)
    assert repr(extractor)
    os.chmod(shared, 0o755)
    radx.Extractor(plugins=[library])
