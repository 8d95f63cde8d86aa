"""Ways PyRadiomics users configure ``RadiomicsFeatureExtractor``, run on PyRadiomics 3.0.1
by ``data/pyradiomics/generate.py`` (fixtures) and on ``radx.pyradiomics`` by
``test_pyradiomics.py``: the same calls through either class must give the same keys."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PARAMS = REPO / "tests" / "data" / "pyradiomics" / "params" / "examples"
DATA = REPO / "tests" / "data" / "pyradiomics" / "data"
CASES = {
    "brain2": (DATA / "brain2_image.nrrd", DATA / "brain2_label.nrrd"),
    "breast1": (DATA / "breast1_image.nrrd", DATA / "breast1_label.nrrd"),
}


def params_file(cls):
    return cls(str(PARAMS / "Params.yaml"))


def defaults(cls):
    return cls()


def kwargs_and_classes(cls):
    extractor = cls(binWidth=10)
    extractor.disableAllFeatures()
    extractor.enableFeatureClassByName("firstorder")
    extractor.enableFeatureClassByName("glszm")
    extractor.enableFeatureClassByName("shape")
    return extractor


def params_dict(cls):
    return cls(
        {
            "setting": {"binWidth": 20, "label": 1},
            "featureClass": {"glcm": ["Contrast", "Idmn"], "shape": ["VoxelVolume", "Compactness1"], "ngtdm": None},
        }
    )


def enable_all(cls):
    extractor = cls(str(PARAMS / "Params.yaml"))
    extractor.enableAllFeatures()
    return extractor


def by_name(cls):
    extractor = cls()
    extractor.loadParams(str(PARAMS / "Params.yaml"))
    extractor.enableFeaturesByName(firstorder=["Mean", "Energy"], glrlm=[])
    extractor.enableFeatureClassByName("glcm", enabled=False)
    extractor.addProvenance(False)
    return extractor


def log_sigmas(cls):
    extractor = cls()
    extractor.disableAllFeatures()
    extractor.enableFeatureClassByName("firstorder")
    extractor.enableImageTypeByName("LoG", customArgs={"sigma": [1.0, 3.0]})
    return extractor


def wavelet(cls):
    extractor = cls(binWidth=25)
    extractor.disableAllFeatures()
    extractor.enableFeaturesByName(firstorder=["Mean", "Variance"], glcm=["Contrast"])
    extractor.enableImageTypeByName("Wavelet")
    return extractor


def example_ct(cls):
    return cls(str(PARAMS / "exampleCT.yaml"))


SCENARIOS = {
    "params_file": params_file,
    "defaults": defaults,
    "kwargs_and_classes": kwargs_and_classes,
    "params_dict": params_dict,
    "enable_all": enable_all,
    "by_name": by_name,
    "log_sigmas": log_sigmas,
    "wavelet": wavelet,
    "example_ct": example_ct,
}

# Scenarios that filter the image (PyRadiomics' image types other than Original).
FILTERED = {"log_sigmas", "wavelet", "example_ct"}
