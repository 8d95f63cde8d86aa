"""Regenerate the PyRadiomics 3.0.1 fixtures of ``test_pyradiomics.py``: for every scenario of
``pyradiomics_scenarios.py`` and case, the keys ``RadiomicsFeatureExtractor.execute``
returns, in order, with each value's type and ``repr``.

Run with PyRadiomics 3.0.1 installed (not needed by the tests):
``python python/tests/data/pyradiomics/generate.py``. Written: ``execute_<scenario>_<case>.json``.
"""

import json
import logging
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

import numpy  # noqa: E402
import radiomics  # noqa: E402
import SimpleITK  # noqa: E402
from radiomics import featureextractor  # noqa: E402

from pyradiomics_scenarios import CASES, SCENARIOS  # noqa: E402

radiomics.setVerbosity(logging.ERROR)

for name, make in SCENARIOS.items():
    for case, (image, mask) in CASES.items():
        extractor = make(featureextractor.RadiomicsFeatureExtractor)
        result = extractor.execute(str(image), str(mask))
        fixture = {
            "scenario": name,
            "case": case,
            "pyradiomics": radiomics.__version__,
            "numpy": numpy.__version__,
            "SimpleITK": SimpleITK.Version_VersionString(),
            "keys": list(result),
            "types": [type(v).__name__ for v in result.values()],
            # Full precision: repr of a 0-d array rounds to 8 digits.
            "values": [
                repr(float(v)) if type(v).__name__ in ("ndarray", "float64") else repr(v) for v in result.values()
            ],
        }
        out = HERE / f"execute_{name}_{case}.json"
        out.write_text(json.dumps(fixture, indent=1) + "\n")
        print(out.name, len(result))
