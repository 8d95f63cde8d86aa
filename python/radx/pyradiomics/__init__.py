"""PyRadiomics' extractor, computed by radx: switching is one import.

    # from radiomics import featureextractor
    from radx.pyradiomics import featureextractor

    extractor = featureextractor.RadiomicsFeatureExtractor("Params.yaml")
    result = extractor.execute("image.nrrd", "mask.nrrd", label=1)   # OrderedDict

``RadiomicsFeatureExtractor`` keeps PyRadiomics' state (``settings``,
``enabledImagetypes``, ``enabledFeatures``) and methods (``loadParams``,
``enableAllFeatures``, ``enableFeatureClassByName``, ``enableImageTypeByName``…); at
``execute`` it hands that state to radx's engine as a PyRadiomics parameter mapping, so
radx reads it exactly as it reads a parameter file (``radx extract --settings Params.yaml
--names pyradiomics``). The result has PyRadiomics' keys in PyRadiomics' order: the
``diagnostics_*`` entries (radx's values, as ``radx batch --names pyradiomics`` writes
them), then ``<imageType>_<class>_<Feature>`` features (``numpy.float64``).

Differences: voxel-based extraction (``voxelBased=True``) is not supported;
``diagnostics_Versions_*`` name radx. ``diagnostics_Image-original_Hash`` is SimpleITK's:
a file or an array is hashed in its own voxel type (a ``radx.Volume`` likewise).
Inputs may be anything ``radx.extract`` takes (file paths, SimpleITK and nibabel images,
``radx.Volume``s).
"""

from __future__ import annotations

import ast
import collections
import json
import os
import pathlib
import warnings
from typing import Any, Dict, List, Optional, Tuple

from .. import _api, _inputs, _radx

__all__ = ["RadiomicsFeatureExtractor", "featureextractor", "getFeatureClasses", "getImageTypes"]

# PyRadiomics 3.0.1's `getFeatureClasses()` and `getImageTypes()`, in its order.
_FEATURE_CLASSES = ["firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm", "shape", "shape2D"]
_IMAGE_TYPES = [
    "Exponential",
    "Gradient",
    "LBP2D",
    "LBP3D",
    "LoG",
    "Logarithm",
    "Original",
    "Square",
    "SquareRoot",
    "Wavelet",
]
# Settings PyRadiomics reads from `voxelSetting` (and merges into `settings`).
_VOXEL_SETTINGS = ("kernelRadius", "maskedKernel", "initValue", "voxelBatch")
# Diagnostics kept as text even when they would read as a Python literal.
_TEXT_DIAGNOSTICS = ("_Hash", "_Dimensionality")


def getFeatureClasses() -> List[str]:
    """The names of PyRadiomics' feature classes (PyRadiomics returns them with their
    classes; radx has no per-class Python classes)."""
    return list(_FEATURE_CLASSES)


def getImageTypes() -> List[str]:
    """PyRadiomics' image types."""
    return list(_IMAGE_TYPES)


def _python_value(name: str, text: str) -> Any:
    """A diagnostic as PyRadiomics gives it: a tuple, dict, int or float where its text is
    one (radx writes Python's ``str`` of the value), else the text."""
    if name.startswith("diagnostics_Versions_") or name.endswith(_TEXT_DIAGNOSTICS):
        return text
    if text in ("nan", "inf", "-inf"):
        return float(text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


class RadiomicsFeatureExtractor:
    """PyRadiomics' ``featureextractor.RadiomicsFeatureExtractor``, computed by radx.

    Args:
        *args: nothing (PyRadiomics' defaults: every class but ``shape2D``, the original
            image), a parameter file's path, or a parameter dict (``setting``,
            ``imageType``, ``featureClass``, ``voxelSetting``).
        **kwargs: settings that override the file's or dict's (``binWidth=10``).

    Raises:
        IOError: the parameter file does not exist.
        ValueError: the parameters are invalid for PyRadiomics (radx's message names the key).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.settings: Dict[str, Any] = {}
        self.enabledImagetypes: Dict[str, Any] = {}
        self.enabledFeatures: Dict[str, Any] = {}
        self.featureClassNames: List[str] = list(_FEATURE_CLASSES)
        self._file: Optional[Tuple[str, str]] = None  # (path, state it loaded)
        self._compiled: Optional[Tuple[str, _api.Extractor]] = None

        if len(args) == 1 and isinstance(args[0], dict):
            self._applyParams(paramsDict=args[0])
        elif len(args) == 1 and isinstance(args[0], (str, pathlib.PurePath)):
            if not os.path.isfile(args[0]):
                raise IOError("Parameter file %s does not exist." % args[0])
            self._applyParams(paramsFile=args[0])
        else:
            self.settings = self._getDefaultSettings()
            self.enabledImagetypes = {"Original": {}}
            for name in self.featureClassNames:
                if name == "shape2D":  # not enabled by default, as in PyRadiomics
                    continue
                self.enabledFeatures[name] = []
        if kwargs:
            self.settings.update(kwargs)

    @staticmethod
    def _getDefaultSettings() -> Dict[str, Any]:
        """PyRadiomics' default settings."""
        return {
            "minimumROIDimensions": 2,
            "minimumROISize": None,
            "normalize": False,
            "normalizeScale": 1,
            "removeOutliers": None,
            "resampledPixelSpacing": None,
            "interpolator": "sitkBSpline",
            "preCrop": False,
            "padDistance": 5,
            "distances": [1],
            "force2D": False,
            "force2Ddimension": 0,
            "resegmentRange": None,
            "label": 1,
            "additionalInfo": True,
        }

    # Parameters --------------------------------------------------------------------------

    def addProvenance(self, provenance_on: bool = True) -> None:
        """Report (or not) the ``diagnostics_*`` entries."""
        self.settings["additionalInfo"] = provenance_on

    def loadParams(self, paramsFile: Any) -> None:
        """Replace settings, image types and feature classes by a parameter file's (YAML or JSON)."""
        self._applyParams(paramsFile=paramsFile)

    def loadJSONParams(self, JSON_configuration: str) -> None:
        """Replace settings, image types and feature classes by a JSON text's."""
        self._applyParams(paramsDict=json.loads(JSON_configuration))

    def _applyParams(self, paramsFile: Any = None, paramsDict: Optional[Dict[str, Any]] = None) -> None:
        if paramsFile is not None:
            path = os.fspath(paramsFile)
            with open(path, encoding="utf-8") as handle:
                params = json.loads(_radx.yaml_to_json(handle.read()))
        else:
            path = None
            params = paramsDict
        params = params or {}
        if not isinstance(params, dict):
            raise ValueError(f"{path or 'parameters'}: expected a mapping of setting, imageType, featureClass")
        image_types = params.get("imageType") or {}
        feature_classes = params.get("featureClass") or {}
        self.enabledImagetypes = dict(image_types) if image_types else {"Original": {}}
        if feature_classes:
            self.enabledFeatures = dict(feature_classes)
        else:
            self.enabledFeatures = {name: [] for name in self.featureClassNames}
        self.settings = self._getDefaultSettings()
        self.settings.update(params.get("setting") or {})
        self.settings.update(params.get("voxelSetting") or {})
        self._file = (path, self._state()) if path is not None else None
        # Refuse invalid parameters now, as PyRadiomics' validation does.
        self._extractor()

    def enableAllImageTypes(self) -> None:
        """Enable every image type, without custom settings."""
        for name in _IMAGE_TYPES:
            self.enabledImagetypes[name] = {}

    def disableAllImageTypes(self) -> None:
        """Disable every image type (only shape features remain)."""
        self.enabledImagetypes = {}

    def enableImageTypeByName(self, imageType: str, enabled: bool = True, customArgs: Optional[Dict] = None) -> None:
        """Enable (with optional custom settings) or disable one image type."""
        if imageType not in _IMAGE_TYPES:
            warnings.warn(f"Image type {imageType} is not recognized", _api.RadxWarning, stacklevel=2)
            return
        if enabled:
            self.enabledImagetypes[imageType] = {} if customArgs is None else customArgs
        elif imageType in self.enabledImagetypes:
            del self.enabledImagetypes[imageType]

    def enableImageTypes(self, **enabledImagetypes: Any) -> None:
        """Enable image types with their custom settings."""
        self.enabledImagetypes.update(enabledImagetypes)

    def enableAllFeatures(self) -> None:
        """Enable every feature class (deprecated features stay off, as in PyRadiomics)."""
        for name in self.featureClassNames:
            self.enabledFeatures[name] = []

    def disableAllFeatures(self) -> None:
        """Disable every feature class."""
        self.enabledFeatures = {}

    def enableFeatureClassByName(self, featureClass: str, enabled: bool = True) -> None:
        """Enable (all its features) or disable one feature class."""
        if featureClass not in self.featureClassNames:
            warnings.warn(f"Feature class {featureClass} is not recognized", _api.RadxWarning, stacklevel=2)
            return
        if enabled:
            self.enabledFeatures[featureClass] = []
        elif featureClass in self.enabledFeatures:
            del self.enabledFeatures[featureClass]

    def enableFeaturesByName(self, **enabledFeatures: Any) -> None:
        """Set the features of classes: ``enableFeaturesByName(glcm=["Contrast"], firstorder=[])``."""
        self.enabledFeatures.update(enabledFeatures)

    # Extraction --------------------------------------------------------------------------

    def _params(self) -> Dict[str, Any]:
        """The state as a PyRadiomics parameter mapping, for radx's engine."""
        setting = {k: v for k, v in self.settings.items() if k not in _VOXEL_SETTINGS}
        params: Dict[str, Any] = {
            "setting": setting,
            # No image type: PyRadiomics still computes shape, on the original image.
            "imageType": dict(self.enabledImagetypes) or {"Original": {}},
        }
        if self.enabledFeatures:
            params["featureClass"] = dict(self.enabledFeatures)
        voxel = {k: v for k, v in self.settings.items() if k in _VOXEL_SETTINGS}
        if voxel:
            params["voxelSetting"] = voxel
        return params

    def _state(self) -> str:
        return json.dumps(self._params(), sort_keys=False, default=_api._json_default)

    def _extractor(self) -> _api.Extractor:
        """radx's extractor for the current state, compiled once per state."""
        state = self._state()
        if self._compiled is not None and self._compiled[0] == state:
            return self._compiled[1]
        if self._file is not None and self._file[1] == state:
            settings: Any = self._file[0]  # unchanged since loaded: messages name the file
        else:
            settings = self._params()
        extractor = _api.Extractor(settings, names="pyradiomics")
        self._compiled = (state, extractor)
        return extractor

    def _kept(self, name: str) -> bool:
        """Whether PyRadiomics would output feature `name` with these image types: shape is
        always the original image's; other original-image classes need ``Original``."""
        if name.startswith("original_") and not name.startswith("original_shape"):
            return "Original" in self.enabledImagetypes
        return True

    def execute(
        self,
        imageFilepath: Any,
        maskFilepath: Any,
        label: Optional[int] = None,
        label_channel: Optional[int] = None,
        voxelBased: bool = False,
    ) -> "collections.OrderedDict[str, Any]":
        """The features of one case, with PyRadiomics' keys.

        Args:
            imageFilepath, maskFilepath: file paths or SimpleITK images (or anything
                ``radx.extract`` takes).
            label: the ROI's label (default: the settings' ``label``, 1).
            label_channel: for vector masks in PyRadiomics; radx reads scalar masks (only
                ``None`` or 0).
            voxelBased: not supported (raises ``NotImplementedError``).

        Returns:
            collections.OrderedDict: ``diagnostics_*`` entries (unless ``additionalInfo`` is
            off), then the features as ``numpy.float64``.

        Raises:
            FileNotFoundError, ValueError: as ``radx.extract``.
        """
        if voxelBased:
            raise NotImplementedError(
                "radx.pyradiomics computes segment-based features only; voxel-based feature maps "
                "(voxelBased=True) are not supported"
            )
        if label_channel not in (None, 0):
            raise NotImplementedError("radx reads scalar label maps: label_channel must be None or 0")
        extractor = self._extractor()
        if label is None:
            label = int(self.settings.get("label", 1) or 1)
        image, mask = _inputs.case(imageFilepath, maskFilepath)
        result: "collections.OrderedDict[str, Any]" = collections.OrderedDict()
        if self.settings.get("additionalInfo", False):
            for name, text in extractor._native.pyradiomics_diagnostics(image, mask, label):
                result[name] = _python_value(name, text)
        if self.enabledFeatures:
            _, names, values = extractor._native.extract_row(image, mask, label)
            keep_shape_only = not self.enabledImagetypes
            for name, value in zip(names, values):
                if keep_shape_only and not name.startswith("original_shape"):
                    continue
                if self._kept(name):
                    result[name] = value
        return result


from . import featureextractor  # noqa: E402  (PyRadiomics' module name, for `from ... import featureextractor`)
