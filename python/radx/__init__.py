"""radx: IBSI-exact radiomics. An image and a region-of-interest mask in (file paths,
SimpleITK or nibabel images, numpy arrays), features out (pandas tables).

    import radx
    table = radx.extract("image.nii.gz", "mask.nii.gz", settings="settings.toml")

* ``radx.extract`` / ``radx.Extractor``: one case, a long table (as ``radx extract``);
  an ``Extractor`` is compiled once and used from any number of threads.
* ``radx.batch``: a cohort, one wide table (as ``radx batch``).
* ``radx.pyradiomics.RadiomicsFeatureExtractor``: PyRadiomics' extractor, computed by radx.
* ``radx.features``, ``radx.check``, ``radx.ibsi``: the feature library, a feature file's
  check, the IBSI compliance report.
* ``radx.Volume``: an array with its grid, converted once.

Conventions: arrays are indexed [x, y, z] unless ``axes="zyx"``; spacing, origin and
direction are in (x, y, z) order and LPS world coordinates (as ITK and SimpleITK).
See docs/python.md in radx's repository.
"""

from ._api import (
    Extractor,
    RadxNoteWarning,
    RadxWarning,
    batch,
    check,
    extract,
    features,
    ibsi,
    map,
)
from ._inputs import Volume
from ._radx import __version__


def __getattr__(name: str) -> object:
    # `radx.pyradiomics` is imported when first used.
    if name == "pyradiomics":
        import importlib

        return importlib.import_module(".pyradiomics", __name__)
    raise AttributeError(f"module 'radx' has no attribute {name!r}")


__all__ = [
    "Extractor",
    "RadxNoteWarning",
    "RadxWarning",
    "Volume",
    "__version__",
    "batch",
    "check",
    "extract",
    "features",
    "ibsi",
    "map",
    "pyradiomics",
]
