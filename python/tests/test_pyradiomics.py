"""``radx.pyradiomics.RadiomicsFeatureExtractor`` gives PyRadiomics 3.0.1's keys, in its order,
for the ways users configure it (fixtures made by PyRadiomics itself:
``data/pyradiomics/generate.py``), and the values of ``radx extract --names pyradiomics``."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

import radx
from conftest import PARAMS, cli_extract
from pyradiomics_scenarios import CASES, FILTERED, SCENARIOS
from radx.pyradiomics import featureextractor

FIXTURES = Path(__file__).parent / "data" / "pyradiomics"

pytestmark = pytest.mark.filterwarnings("ignore::radx.RadxNoteWarning")


def fixture(scenario, case):
    return json.loads((FIXTURES / f"execute_{scenario}_{case}.json").read_text())


def make(scenario):
    return SCENARIOS[scenario](featureextractor.RadiomicsFeatureExtractor)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_keys_are_pyradiomics(scenario, case):
    expected = fixture(scenario, case)
    extractor = make(scenario)
    image, mask = CASES[case]
    result = extractor.execute(str(image), str(mask))
    assert list(result) == expected["keys"]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_values_and_types_are_pyradiomics(scenario, case):
    """Features within 1e-9 of PyRadiomics' (1e-6 on filtered images, as the Rust suite checks
    them), and the diagnostics PyRadiomics computes from the data with its values and types."""
    tolerance = 1e-6 if scenario in FILTERED else 1e-9
    expected = fixture(scenario, case)
    image, mask = CASES[case]
    result = make(scenario).execute(str(image), str(mask))
    for key, kind, text in zip(expected["keys"], expected["types"], expected["values"]):
        value = result[key]
        if key.startswith("diagnostics_"):
            if key.startswith(("diagnostics_Versions", "diagnostics_Configuration")):
                continue
            want = ast.literal_eval(text) if kind in ("tuple", "int", "str", "dict") else float(text)
            assert type(value).__name__ == ("float" if kind == "float64" else kind), (key, value)
            if isinstance(want, tuple):
                np.testing.assert_allclose(value, want, rtol=1e-12, err_msg=key)
            elif isinstance(want, float):
                assert value == pytest.approx(want, rel=1e-12), key
            else:
                assert value == want, key
        else:
            assert isinstance(value, np.float64), (key, type(value))
            want = float(text)
            if math.isnan(want):
                assert math.isnan(value), key
            else:
                assert value == pytest.approx(want, rel=tolerance, abs=1e-12), key


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_are_the_command_line_s(cli, case):
    image, mask = CASES[case]
    expected = cli_extract(cli, image, mask, PARAMS, "--names", "pyradiomics")
    result = featureextractor.RadiomicsFeatureExtractor(str(PARAMS)).execute(str(image), str(mask))
    features = {k: v for k, v in result.items() if not k.startswith("diagnostics_")}
    assert list(features) == expected["feature"].tolist()
    np.testing.assert_array_equal(np.array(list(features.values())), expected["value"].to_numpy())


def test_simpleitk_inputs_and_label():
    image, mask = CASES["breast1"]
    extractor = featureextractor.RadiomicsFeatureExtractor(str(PARAMS))
    from_files = extractor.execute(str(image), str(mask), label=1)
    from_images = extractor.execute(sitk.ReadImage(str(image)), sitk.ReadImage(str(mask)), label=1)
    assert list(from_images) == list(from_files)
    for key, value in from_files.items():
        # The hash too: an array is hashed in its own dtype, as SimpleITK hashes the file.
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(from_images[key])
        else:
            assert from_images[key] == value, key
    with pytest.raises(ValueError, match=r"label 2|ROI"):
        extractor.execute(str(image), str(mask), label=2)


def test_state_and_methods_as_pyradiomics():
    extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=10)
    assert extractor.settings["binWidth"] == 10 and extractor.settings["label"] == 1
    assert extractor.enabledImagetypes == {"Original": {}}
    assert "shape2D" not in extractor.enabledFeatures and "glcm" in extractor.enabledFeatures
    extractor.enableAllFeatures()
    assert extractor.enabledFeatures["shape2D"] == []
    extractor.enableImageTypeByName("LoG", customArgs={"sigma": [1.0]})
    assert extractor.enabledImagetypes["LoG"] == {"sigma": [1.0]}
    extractor.enableImageTypeByName("LoG", enabled=False)
    assert "LoG" not in extractor.enabledImagetypes
    with pytest.warns(radx.RadxWarning, match="not recognized"):
        extractor.enableFeatureClassByName("gldzm")
    with pytest.warns(radx.RadxWarning, match="not recognized"):
        extractor.enableImageTypeByName("Fourier")
    extractor.loadJSONParams('{"setting": {"binCount": 16}, "featureClass": {"firstorder": ["Mean"]}}')
    assert extractor.settings["binCount"] == 16 and extractor.enabledFeatures == {"firstorder": ["Mean"]}
    image, mask = CASES["brain2"]
    result = extractor.execute(str(image), str(mask))
    assert [k for k in result if not k.startswith("diagnostics_")] == ["original_firstorder_Mean"]
    extractor.disableAllFeatures()
    only = extractor.execute(str(image), str(mask))
    assert all(k.startswith("diagnostics_") for k in only) and only
    from radx.pyradiomics import RadiomicsFeatureExtractor

    assert RadiomicsFeatureExtractor is featureextractor.RadiomicsFeatureExtractor


def test_errors_as_pyradiomics(tmp_path):
    with pytest.raises(IOError, match="does not exist"):
        featureextractor.RadiomicsFeatureExtractor(str(tmp_path / "missing.yaml"))
    with pytest.raises(ValueError, match="Contrsat"):
        featureextractor.RadiomicsFeatureExtractor({"featureClass": {"glcm": ["Contrsat"]}})
    extractor = featureextractor.RadiomicsFeatureExtractor()
    image, mask = CASES["brain2"]
    with pytest.raises(NotImplementedError, match="voxel-based"):
        extractor.execute(str(image), str(mask), voxelBased=True)
    with pytest.raises(FileNotFoundError):
        extractor.execute(str(tmp_path / "missing.nrrd"), str(mask))
