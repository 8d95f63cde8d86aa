"""``radx.pyradiomics.featureextractor``: PyRadiomics' module name, so that
``from radiomics import featureextractor`` becomes ``from radx.pyradiomics import
featureextractor``."""

from . import RadiomicsFeatureExtractor

__all__ = ["RadiomicsFeatureExtractor"]
